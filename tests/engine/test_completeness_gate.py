"""The completeness gate (issue 11, item 2): an obligation is never decided on part of a dataset without saying
so. A dataset with unreadable files makes the obligations needing it INSUFFICIENT_DATA, naming the count and
the share of bytes, unless that share is below the config's `unreadable_tolerance` (default 0.0: none)."""

from __future__ import annotations

import pytest

from dsa_report.engine.evaluate import missing_inputs
from dsa_report.obligations.config import ConfigError, load_config
from dsa_report.obligations.evaluation import default_catalogue
from tables import make_data, notice, outcome

TIMELINESS = "DSA-16-NOTICE-TIMELINESS"  # needs notices only


def _notices(unreadable_files: int = 1, unreadable_bytes: int = 250, read: int = 750, tolerance: float = 0.0):
    data = make_data({"notices": [notice("N1", "2025-07-01", decided_after_hours=20)]})
    info = data.datasets["notices"]
    info.bytes, info.unreadable_files, info.unreadable_bytes = read, unreadable_files, unreadable_bytes
    data.unreadable_tolerance = tolerance
    return data


def test_an_unreadable_file_makes_the_obligations_needing_the_dataset_insufficient_data():
    result = outcome(TIMELINESS, _notices())
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == ["part of dataset notices (1 unreadable file, 25% of its bytes)"]
    assert "part of dataset notices (1 unreadable file, 25% of its bytes)" in result.message


def test_obligations_not_needing_the_dataset_are_decided_as_before():
    data = _notices()
    catalogue = default_catalogue()
    for ob in catalogue:
        needs = "notices" in ob.datasets
        assert any("notices" in m for m in missing_inputs(ob, data)) == needs, ob.id


def test_the_share_below_the_tolerance_lets_the_rule_decide_and_at_it_does_not():
    assert outcome(TIMELINESS, _notices(tolerance=0.26)).status != "INSUFFICIENT_DATA"
    assert outcome(TIMELINESS, _notices(tolerance=0.25)).status == "INSUFFICIENT_DATA"  # "below", not "at"


def test_the_default_tolerance_refuses_even_an_empty_unreadable_file():
    result = outcome(TIMELINESS, _notices(unreadable_files=2, unreadable_bytes=0))
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == ["part of dataset notices (2 unreadable files, 0% of its bytes)"]
    assert outcome(TIMELINESS, _notices(unreadable_bytes=0, tolerance=0.01)).status != "INSUFFICIENT_DATA"


def test_tiny_and_near_total_shares_are_not_rounded_to_zero_or_all():
    assert outcome(TIMELINESS, _notices(unreadable_bytes=1, read=99_999)).missing == [
        "part of dataset notices (1 unreadable file, <0.1% of its bytes)"]
    assert outcome(TIMELINESS, _notices(unreadable_bytes=99_999, read=1)).missing == [
        "part of dataset notices (1 unreadable file, >99.9% of its bytes)"]


def test_a_dataset_nothing_of_which_was_read_names_its_unreadable_files():
    data = make_data({})
    info = data.datasets["notices"]
    info.unreadable_files, info.unreadable_bytes = 3, 900
    result = outcome(TIMELINESS, data)
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == ["dataset notices (3 unreadable files, 100% of its bytes)"]


def test_missing_columns_are_still_named_next_to_the_unreadable_part():
    data = _notices()
    data.datasets["notices"].columns -= {"decided_at"}
    assert outcome(TIMELINESS, data).missing == [
        "part of dataset notices (1 unreadable file, 25% of its bytes)", "column notices.decided_at"]


# ---------------------------------------------------------------- the config key

CONFIG = "platform: Shop\ntier: VLOP\n"


def test_unreadable_tolerance_defaults_to_zero_and_takes_a_share():
    assert load_config(CONFIG).unreadable_tolerance == 0.0
    assert load_config(CONFIG + "unreadable_tolerance: 0.01\n").unreadable_tolerance == 0.01
    assert load_config(CONFIG + "unreadable_tolerance: 0\n").unreadable_tolerance == 0.0
    assert load_config(CONFIG + "unreadable_tolerance: null\n").unreadable_tolerance == 0.0


@pytest.mark.parametrize("value", ["-0.1", "1", "5", "true", "'1%'", ".nan"])
def test_unreadable_tolerance_outside_0_to_1_is_a_config_error_naming_the_key(value):
    with pytest.raises(ConfigError, match="unreadable_tolerance"):
        load_config(CONFIG + f"unreadable_tolerance: {value}\n")
