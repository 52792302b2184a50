"""The curated store: each object read once into Parquet by dataset and month, idempotent per object version;
the run that reads it gives the report the raw files give."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from dsa_report.app import pipeline
from dsa_report.app.settings import Settings
from dsa_report.engine.periods import parse_period
from dsa_report.ingest import curated
from dsa_report.ingest.errors import ResourceError, SourceError
from dsa_report.tools.synthetic import generate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
SOR = "platform_name,platform_uid,decision_ground,application_date,created_at\n"
TDB_PLATFORMS = ["Google Shopping", "TikTok", "Hotel Hideaway", "Pinterest", "AliExpress",
                 "Discord Netherlands B.V.", "Idealo", "Snapchat", "Kleinanzeigen", "Wallapop", "Habbo"]


def _config(tmp: Path, **doc):
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump({"tier": "VLOP", "marketplace": True, **doc}, sort_keys=False))
    return pipeline.read_config(str(path), pipeline.Clients())


def _report(config, period: str, source: Path, store: Path | None = None) -> dict:
    request = pipeline.RunRequest(config=config, period=parse_period(period), source=str(source), now=NOW,
                                  run_id="same", curated=str(store) if store else None)
    document = json.loads(pipeline.run(request, settings=Settings()).artifacts["findings.json"])
    assert document["run"].pop("source") == str(store or source)
    return document


def _files(store: Path) -> dict[str, bytes]:
    return {p.relative_to(store).as_posix(): p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("curated-market")
    generate(tmp / "data", scale=6000, seed=11, period_start=date(2025, 10, 1), period_end=date(2025, 10, 31))
    config = _config(tmp, platform="ExampleMarket")
    store = curated.Store(str(tmp / "store"))
    done = curated.curate(str(tmp / "data"), store, tmp / "work", platform_names=config.names_in_data, now=NOW)
    assert {d.outcome for d in done} == {"written"}
    return tmp, config


def test_the_curated_store_gives_the_report_of_the_raw_files(market):
    tmp, config = market
    raw, cur = _report(config, "2025-10", tmp / "data"), _report(config, "2025-10", tmp / "data", tmp / "store")
    assert {f["status"] for f in raw["findings"]} >= {"FAIL", "WARN", "PASS"}
    assert cur == raw  # statuses, messages, evidence, metrics and the data-quality section alike


def test_the_store_is_partitioned_by_dataset_and_month_with_a_record_per_object(market):
    tmp, _ = market
    keys = _files(tmp / "store")
    assert any(k.startswith("statements_of_reasons/month=2025-10/") for k in keys)
    assert any(k.startswith("traders/month=all/") for k in keys)  # a snapshot has no month
    records = [json.loads(v) for k, v in keys.items() if "/_objects/" in k]
    assert records and all(r["parts"] or r["quality"]["unreadable_files"] for r in records)
    assert all(p["key"] in keys for r in records for p in r["parts"].values())


def _cut_short(part: Path) -> None:
    part.write_bytes(part.read_bytes()[:-8])


def _swapped(part: Path) -> None:
    other = next(p for p in sorted(part.parent.parent.rglob("*.parquet")) if p != part)
    shutil.copyfile(other, part)


def _record_miscounted(part: Path) -> None:  # the part's own bytes, but the record says another row count
    record_file = next(part.parents[1].glob(f"_objects/{part.name.rsplit('-', 1)[0]}.json"))
    record = json.loads(record_file.read_text())
    for entry in record["parts"].values():
        entry["rows"] += 1 if entry["key"].endswith(part.name) else 0
    record_file.write_text(json.dumps(record))


@pytest.mark.parametrize(("dataset", "damage", "says"), [
    ("statements_of_reasons", _cut_short, r"holds [\d,]+ bytes, its record"),
    ("notices", Path.unlink, "is missing"),
    ("listing_events", _swapped, r"holds [\d,]+ bytes, its record"),
    ("notices", _record_miscounted, r"holds [\d,]+ bytes, ([\d,]+) rows, its record [\d,]+ bytes, (?!\1 )"),
])
def test_a_part_missing_cut_short_or_swapped_fails_the_run_and_curate_writes_it_again(market, tmp_path, dataset,
                                                                                      damage, says):
    """A store that does not hold what its records say would change the report without a word: the run raises
    (the Lambda retries, then dead-letters and alarms), naming the part; curating again repairs exactly it."""
    tmp, config = market
    store = tmp_path / "store"
    shutil.copytree(tmp / "store", store)
    part = sorted((store / dataset).glob("month=2025-10/*.parquet"))[0]
    damage(part)
    key = part.relative_to(store).as_posix()
    with pytest.raises(ResourceError, match=re.escape(key) + r" \(from " + dataset + r"/.*\) " + says):
        _report(config, "2025-10", tmp / "data", store)
    if damage is _record_miscounted:  # the part is whole, its record alone wrong: curate rewrites it once deleted
        next((store / dataset / "_objects").glob(part.name.rsplit("-", 1)[0] + ".json")).unlink()
    done = curated.curate(str(tmp / "data"), curated.Store(str(store)), tmp_path / "w",
                          platform_names=config.names_in_data, now=NOW)
    rewritten = [d for d in done if d.outcome != "unchanged"]
    assert len(rewritten) == 1 and rewritten[0].record["source"].startswith(f"{dataset}/")
    assert rewritten[0].outcome == ("written" if damage is _record_miscounted else "repaired")  # a record deleted
    assert _report(config, "2025-10", tmp / "data", store) == _report(config, "2025-10", tmp / "data", tmp / "store")


def test_a_repeated_event_changes_nothing_and_a_new_version_replaces_the_parts(tmp_path):
    raw = tmp_path / "raw" / "statements_of_reasons"
    raw.mkdir(parents=True)
    (raw / "a.csv").write_text(SOR + "shop,1,DECISION_GROUND_ILLEGAL_CONTENT,2025-09-03,2025-09-03\n"
                               "shop,2,DECISION_GROUND_ILLEGAL_CONTENT,2025-10-03,2025-10-03\n")
    store = curated.Store(str(tmp_path / "store"))
    first = curated.ingest(str(tmp_path / "raw"), curated.Arrived("statements_of_reasons/a.csv", "v1", "e1", "01"),
                           store, tmp_path / "w", now=NOW)
    assert first.outcome == "written" and set(first.record["parts"]) == {"2025-09", "2025-10"}
    before = _files(tmp_path / "store")
    again = curated.ingest(str(tmp_path / "raw"), curated.Arrived("statements_of_reasons/a.csv", "v1", "e1", "01"),
                           store, tmp_path / "w", now=NOW)
    assert again.outcome == "unchanged" and _files(tmp_path / "store") == before

    (raw / "a.csv").write_text(SOR + "shop,2,DECISION_GROUND_ILLEGAL_CONTENT,2025-10-03,2025-10-03\n")
    second = curated.ingest(str(tmp_path / "raw"), curated.Arrived("statements_of_reasons/a.csv", "v2", "e2", "02"),
                            store, tmp_path / "w", now=NOW)
    assert second.outcome == "written" and set(second.record["parts"]) == {"2025-10"}
    after = _files(tmp_path / "store")
    assert not any("month=2025-09" in k for k in after)  # the month the new version no longer has is gone
    assert [k for k in after if k.endswith(".parquet")] == [second.record["parts"]["2025-10"]["key"]]

    late = curated.ingest(str(tmp_path / "raw"), curated.Arrived("statements_of_reasons/a.csv", "v1", "e1", "01"),
                          store, tmp_path / "w", now=NOW)  # the first version's event, delivered late
    assert late.outcome == "stale" and _files(tmp_path / "store") == after

    gone = curated.remove(str(tmp_path / "raw"), "statements_of_reasons/a.csv", store, "03")
    assert gone.outcome == "deleted" and _files(tmp_path / "store") == {}


def test_quarantined_and_unreadable_objects_are_recorded_and_reach_the_runs_data_quality(tmp_path):
    raw = tmp_path / "raw" / "statements_of_reasons"
    raw.mkdir(parents=True)
    (raw / "good.csv").write_text(SOR + "shop,1,DECISION_GROUND_ILLEGAL_CONTENT,2025-10-03,2025-10-03\n"
                                  "shop,2,DECISION_GROUND_ILLEGAL_CONTENT,not a date,2025-10-03\n")
    (raw / "broken.csv.gz").write_bytes(gzip.compress(b"platform_name\n")[:12])  # cut short
    config = _config(tmp_path, platform="shop")
    store = curated.Store(str(tmp_path / "store"))
    done = {d.record["source"]: d for d in curated.curate(str(tmp_path / "raw"), store, tmp_path / "w",
                                                          platform_names=config.names_in_data, now=NOW)}
    good, broken = done["statements_of_reasons/good.csv"], done["statements_of_reasons/broken.csv.gz"]
    assert good.quarantined_rows == 1 and good.unreadable_files == 0
    assert broken.unreadable_files == 1 and broken.record["parts"] == {}
    raw_report = _report(config, "2025-10", tmp_path / "raw")
    cur_report = _report(config, "2025-10", tmp_path / "raw", tmp_path / "store")
    assert cur_report["data_quality"] == raw_report["data_quality"]
    quality = cur_report["data_quality"]["statements_of_reasons"]
    assert quality["reasons"] == {"bad timestamp application_date": 1}
    assert quality["examples"][0]["file"] == "statements_of_reasons/good.csv"
    assert quality["unreadable_files"][0]["file"] == "statements_of_reasons/broken.csv.gz"
    assert [f["status"] for f in cur_report["findings"]] == [f["status"] for f in raw_report["findings"]]


def test_duplicates_across_objects_are_dropped_when_read_the_earliest_kept(tmp_path):
    raw = tmp_path / "raw" / "statements_of_reasons"
    raw.mkdir(parents=True)
    (raw / "a.csv").write_text(SOR + "shop,1,DECISION_GROUND_ILLEGAL_CONTENT,2025-10-03,2025-10-05\n"
                               "shop,2,DECISION_GROUND_ILLEGAL_CONTENT,2025-10-03,2025-10-03\n")
    (raw / "b.csv").write_text(SOR + "shop,1,DECISION_GROUND_ILLEGAL_CONTENT,2025-10-03,2025-10-04\n")
    config = _config(tmp_path, platform="shop")
    store = curated.Store(str(tmp_path / "store"))
    curated.curate(str(tmp_path / "raw"), store, tmp_path / "w", platform_names=config.names_in_data, now=NOW)
    data, con = pipeline.load_curated(str(tmp_path / "store"), parse_period("2025-10"), tmp_path / "run",
                                      pipeline.Clients(), Settings(), platform_names=config.names_in_data,
                                      say=lambda *_: None)
    kept = con.execute("SELECT platform_uid, created_at FROM sor ORDER BY 1").fetchall()
    assert [(uid, str(at)) for uid, at in kept] == [("1", "2025-10-04 00:00:00"), ("2", "2025-10-03 00:00:00")]
    assert data.quality["statements_of_reasons"]["duplicates_removed"] == 1
    assert data.datasets["statements_of_reasons"].rows == data.quality["statements_of_reasons"]["rows"] == 2


def test_a_period_reads_its_months_the_earlier_ones_and_the_next_but_none_later(tmp_path):
    raw = tmp_path / "raw" / "statements_of_reasons"
    raw.mkdir(parents=True)
    rows = "".join(f"shop,{m},DECISION_GROUND_ILLEGAL_CONTENT,2025-{m:02d}-10,2025-{m:02d}-10\n" for m in range(1, 13))
    (raw / "year.csv").write_text(SOR + rows)
    config = _config(tmp_path, platform="shop")
    store = curated.Store(str(tmp_path / "store"))
    curated.curate(str(tmp_path / "raw"), store, tmp_path / "w", platform_names=config.names_in_data, now=NOW)
    plan = curated.plan(curated.records(store), parse_period("2025-Q2").end, config.names_in_data)
    assert plan.months == [f"2025-{m:02d}" for m in range(1, 8)]
    assert plan.datasets["statements_of_reasons"].rows == 7
    with pytest.raises(SourceError, match="curated for platform_name"):
        curated.plan(curated.records(store), parse_period("2025-Q2").end, ["another shop"])


@pytest.mark.parametrize("period", ["2024-Q1", "2025-Q3"])
def test_the_curated_store_gives_the_report_of_the_transparency_database_samples(tmp_path, period):
    """The store holds every sample dump (2024-03-14 and 2025-07-01); the raw folder holds what the period's
    scheduled run had: the dumps up to the month after it. A later dump is no input of an earlier period
    (its created_at would move the censoring cutoff of unsubmitted statements)."""
    everything, then = tmp_path / "all" / "statements_of_reasons", tmp_path / "then" / "statements_of_reasons"
    everything.mkdir(parents=True)
    then.mkdir(parents=True)
    for sample in (FIXTURES / "tdb-samples").glob("*.csv"):
        shutil.copy(sample, everything / sample.name)
        if sample.name[11:15] <= period[:4]:
            shutil.copy(sample, then / sample.name)
    config = _config(tmp_path, platform="TDB samples", platform_names=TDB_PLATFORMS)
    curated.curate(str(tmp_path / "all"), curated.Store(str(tmp_path / "store")), tmp_path / "w",
                   platform_names=config.names_in_data, now=NOW)
    raw = _report(config, period, tmp_path / "then")
    assert raw["metrics"]["sor_count"]["value"] > 0
    assert _report(config, period, tmp_path / "then", tmp_path / "store") == raw


def test_an_object_deleted_before_its_event_is_read_is_gone_and_a_new_config_rewrites_the_parts(tmp_path):
    raw = tmp_path / "raw" / "statements_of_reasons"
    raw.mkdir(parents=True)
    store = curated.Store(str(tmp_path / "store"))
    missing = curated.Arrived("statements_of_reasons/deleted.csv", etag="e1")
    assert curated.ingest(str(tmp_path / "raw"), missing, store, tmp_path / "w").outcome == "gone"
    (raw / "a.csv").write_text(SOR + "shop,1,DECISION_GROUND_ILLEGAL_CONTENT,2025-10-03,2025-10-03\n"
                               "other,1,DECISION_GROUND_ILLEGAL_CONTENT,2025-10-03,2025-10-03\n")
    arrived = curated.Arrived("statements_of_reasons/a.csv", etag="e1")
    every = curated.ingest(str(tmp_path / "raw"), arrived, store, tmp_path / "w", now=NOW)
    assert every.record["quality"]["rows"] == 2 and every.record["platform_names"] is None
    ours = curated.ingest(str(tmp_path / "raw"), arrived, store, tmp_path / "w", platform_names=["shop"], now=NOW)
    assert ours.outcome == "written" and ours.record["quality"]["rows"] == 1
    assert ours.record["quality"]["other_platform"] == 1
