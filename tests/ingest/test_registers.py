"""registers: the v2 registers are found and parsed; listing_interface holds one mapping, not a list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dsa_report.ingest.registers import load_registers, parse_register
from dsa_report.ingest.sources import collect


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_listing_interface_mapping_is_the_registers_single_entry(tmp_path):
    path = _file(tmp_path, "listing_interface.yaml",
                 "listing_interface:\n  fields: [economic_operator_contact, product_identification]\n")
    assert parse_register("listing_interface", path) == [
        {"fields": ["economic_operator_contact", "product_identification"]}]
    json_path = _file(tmp_path, "listing_interface.json", '{"listing_interface": {"fields": []}}')
    assert parse_register("listing_interface", json_path) == [{"fields": []}]


def test_an_empty_listing_interface_lists_nothing_and_a_list_is_refused(tmp_path):
    """An empty register is data (the rule decides); a list where the contract has a mapping is named."""
    for text in ("listing_interface:\n", "listing_interface: {}\n"):
        assert parse_register("listing_interface", _file(tmp_path, "li.yaml", text)) == []
    for text in ("listing_interface: [economic_operator_contact]\n", "listing_interface: fields\n"):
        with pytest.raises(ValueError, match="'listing_interface' must be a mapping"):
            parse_register("listing_interface", _file(tmp_path, "li.yaml", text))


def test_the_list_registers_of_v2_parse_as_lists_with_dates(tmp_path):
    recommenders = _file(tmp_path, "recommender_systems.yaml",
                         "recommender_systems:\n  - {id: HOME-FEED, non_profiling_option_since: 2024-06-01}\n")
    assert parse_register("recommender_systems", recommenders) == [
        {"id": "HOME-FEED", "non_profiling_option_since": date(2024, 6, 1)}]
    requests = _file(tmp_path, "data_access_requests.json",
                     '{"data_access_requests": [{"id": "DAR-1", "received_at": "2025-07-03", '
                     '"amendment_requested_at": null}]}')
    assert parse_register("data_access_requests", requests) == [
        {"id": "DAR-1", "received_at": date(2025, 7, 3), "amendment_requested_at": None}]
    with pytest.raises(ValueError, match="'recommender_systems' must be a list"):
        parse_register("recommender_systems", _file(tmp_path, "r.yaml", "recommender_systems: {id: X}\n"))


def test_the_v2_registers_are_collected_and_loaded(tmp_path):
    folder = tmp_path / "data" / "registers"
    folder.mkdir(parents=True)
    _file(folder, "listing_interface.yaml", "listing_interface:\n  fields: [trader_sign]\n")
    _file(folder, "recommender_systems.yaml", "recommender_systems: []\n")
    _file(folder, "data_access_requests.yml", "data_access_requests:\n  - {id: DAR-1, kind: PUBLIC_DATA}\n")
    collected = collect(str(tmp_path / "data"), tmp_path / "work")
    assert collected.register_errors == []
    registers, quality = load_registers(collected.registers, collected.register_errors)
    assert registers == {"listing_interface": [{"fields": ["trader_sign"]}], "recommender_systems": [],
                         "data_access_requests": [{"id": "DAR-1", "kind": "PUBLIC_DATA"}]}
    assert quality["found"] == ["data_access_requests", "listing_interface", "recommender_systems"]
    assert (quality["files"], quality["rows"], quality["unreadable_files"]) == (3, 2, [])


def test_a_malformed_listing_interface_is_named_and_left_absent(tmp_path):
    path = _file(tmp_path, "listing_interface.yaml", "listing_interface: [trader_sign]\n")
    registers, quality = load_registers({"listing_interface": path}, [])
    assert registers == {}
    assert quality["unreadable_files"] == [{"file": "registers/listing_interface.yaml",
                                            "reason": "'listing_interface' must be a mapping"}]
