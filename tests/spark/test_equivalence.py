"""DuckDB and Spark give the same report: the whole pipeline run twice on the same files, once per engine
(DSA_ENGINE), on the synthetic marketplace and on the real Transparency Database samples. Everything in
findings.json but the run id must be equal (statuses, messages, metrics, evidence samples, data quality),
and every evidence file byte for byte."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from dsa_report.app import pipeline, spark_job
from dsa_report.app.settings import Settings
from dsa_report.engine import spark as engine_spark
from dsa_report.engine.periods import parse_period
from dsa_report.ingest import curated
from dsa_report.ingest.errors import ResourceError
from dsa_report.tools.synthetic import generate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
TDB_PLATFORMS = ["Google Shopping", "TikTok", "Hotel Hideaway", "Pinterest", "AliExpress",
                 "Discord Netherlands B.V.", "Idealo", "Snapchat", "Kleinanzeigen", "Wallapop", "Habbo"]


def _config(tmp: Path, **doc):
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump({"tier": "VLOP", "marketplace": True, **doc}, sort_keys=False))
    return pipeline.read_config(str(path), pipeline.Clients())


def _run(source: Path, config, period: str, engine: str, monkeypatch) -> pipeline.RunResult:
    calls = []
    if engine == "spark":
        execute = engine_spark.SparkConnection.execute
        monkeypatch.setattr(engine_spark.SparkConnection, "execute",
                            lambda self, sql, params=None: calls.append(sql) or execute(self, sql, params))
    request = pipeline.RunRequest(config=config, period=parse_period(period), source=str(source), now=NOW,
                                  run_id=f"equivalence-{engine}")
    result = pipeline.run(request, settings=Settings(engine=engine))
    monkeypatch.undo()
    assert bool(calls) == (engine == "spark")  # the Spark run really queried Spark
    return result


def _same_report(duck: pipeline.RunResult, spark: pipeline.RunResult) -> None:
    documents = [json.loads(r.artifacts["findings.json"]) for r in (duck, spark)]
    for document in documents:
        document["run"].pop("id", None)
    assert [f["status"] for f in documents[1]["findings"]] == [f["status"] for f in documents[0]["findings"]]
    for left, right in zip(documents[0]["findings"], documents[1]["findings"], strict=True):
        assert right == left, left["id"]
    assert documents[1] == documents[0]
    evidence = [{k: v for k, v in r.artifacts.items() if k.startswith("evidence/")} for r in (duck, spark)]
    assert evidence[1].keys() == evidence[0].keys()
    for name, content in evidence[0].items():
        assert evidence[1][name] == content, name


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    """The synthetic marketplace (20k SoRs in 2025-10) and its report by DuckDB, as the Lambda makes it."""
    tmp = tmp_path_factory.mktemp("market")
    generate(tmp / "data", scale=20_000, seed=7, period_start=date(2025, 10, 1), period_end=date(2025, 10, 31))
    config = _config(tmp, platform="ExampleMarket")
    with pytest.MonkeyPatch.context() as monkeypatch:
        duck = _run(tmp / "data", config, "2025-10", "duckdb", monkeypatch)
    assert {f["status"] for f in json.loads(duck.artifacts["findings.json"])["findings"]} >= {"FAIL", "WARN", "PASS"}
    return tmp, config, duck


def test_spark_gives_the_duckdb_report_on_the_synthetic_marketplace(spark, market, monkeypatch):
    tmp, config, duck = market
    _same_report(duck, _run(tmp / "data", config, "2025-10", "spark", monkeypatch))


def test_the_spark_job_on_the_curated_store_writes_the_duckdb_report(spark, market, tmp_path):
    """The EMR job's path: every object curated as the arrival function does, then app/spark_job.py plans the
    period's months from the store's records and Spark reads the parts, writing the archive the Lambda would.
    The SoRs land in two objects sharing rows, so the dedupe across objects runs on Spark."""
    tmp, config, duck = market
    data = tmp_path / "data"
    shutil.copytree(tmp / "data", data)
    sor = sorted((data / "statements_of_reasons").rglob("*.*"))[0]
    shutil.copy(sor, sor.with_name("again-" + sor.name))  # the same rows delivered twice, in two objects
    store = curated.Store(str(tmp_path / "store"))
    curated.curate(str(data), store, tmp_path / "work", platform_names=config.names_in_data, now=NOW)
    args = spark_job.parse_args(["--curated", str(tmp_path / "store"), "--config", str(tmp / "config.yaml"),
                                 "--period", "2025-10", "--out", str(tmp_path / "out"), "--run-id", "job"])
    job = spark_job.run(args, spark, now=NOW)
    assert (tmp_path / "out" / "findings.json").read_bytes() == job.artifacts["findings.json"]
    quality = json.loads(job.artifacts["findings.json"])["data_quality"]["statements_of_reasons"]
    expected = json.loads(duck.artifacts["findings.json"])["data_quality"]["statements_of_reasons"]
    assert quality["duplicates_removed"] == 2 * expected["duplicates_removed"] + expected["rows"]  # all twice
    assert quality["files"] == 2 and quality["rows"] == expected["rows"]
    for result in (duck, job):
        document = json.loads(result.artifacts["findings.json"])
        document["data_quality"]["statements_of_reasons"] = {}  # two objects here, one file there
        result.artifacts["findings.json"] = json.dumps({**document, "run": {}}).encode()  # run id and source
    _same_report(duck, job)

    part = sorted((tmp_path / "store" / "notices").rglob("*.parquet"))[0]  # cut short: the job refuses the store
    part.write_bytes(part.read_bytes()[:-8])
    key = part.relative_to(tmp_path / "store").as_posix()
    with pytest.raises(ResourceError, match=re.escape(key) + r" \(from notices/.*\) holds [\d,]+ bytes, its record"):
        spark_job.run(args, spark, now=NOW)


@pytest.mark.parametrize("period", ["2024-Q1", "2025-Q3"])
def test_spark_gives_the_duckdb_report_on_the_transparency_database_samples(spark, tmp_path, monkeypatch, period):
    folder = tmp_path / "data" / "statements_of_reasons"
    folder.mkdir(parents=True)
    for sample in (FIXTURES / "tdb-samples").glob("*.csv"):
        shutil.copy(sample, folder / sample.name)
    config = _config(tmp_path, platform="TDB samples", platform_names=TDB_PLATFORMS)
    duck = _run(tmp_path / "data", config, period, "duckdb", monkeypatch)
    assert json.loads(duck.artifacts["findings.json"])["metrics"]["sor_count"]["value"] > 0
    _same_report(duck, _run(tmp_path / "data", config, period, "spark", monkeypatch))
