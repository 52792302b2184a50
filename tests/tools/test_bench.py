"""`make bench` compares the run with floors and a baseline: each must read the same data and, for the
baseline, compute the same metrics, or its ratios mean nothing."""

import pytest

from dsa_report.engine.periods import parse_period
from dsa_report.tools import bench
from dsa_report.tools.synthetic import generate


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-data")
    period = parse_period(bench.PERIOD)
    generate(out, scale=2000, seed=5, period_start=period.start, period_end=period.end)
    return out


@pytest.fixture(scope="module")
def run(data):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DSA_MEMORY_LIMIT", bench.MEMORY_LIMIT)  # the phase sets it when unset: keep it to this test
        return bench.phase_run(str(data))


def test_the_floors_read_every_row_the_run_reads(data, run):
    scanned = bench.phase_scan(data)["rows"]
    assert scanned > 2000
    assert bench.phase_store(data)["rows"] == scanned
    assert run["rows"] >= scanned  # the run also counts the entries of the registers


def test_the_pandas_baseline_computes_the_runs_three_metrics(data, run):
    baseline = bench.phase_pandas(data)["check"]
    assert set(baseline) == set(run["check"]) == set(bench.PANDAS_METRICS)
    for name, value in baseline.items():
        assert value == pytest.approx(run["check"][name], rel=1e-9), name


@pytest.fixture(scope="module")
def store(data, tmp_path_factory):
    """The tiny data curated into a folder store, as `make bench` does before the curated run."""
    root = str(tmp_path_factory.mktemp("bench-store") / "store")
    return root, bench.phase_curate(data, root)


def test_the_ingest_phase_writes_the_parts_of_one_object_of_each_large_dataset(data):
    result = bench.phase_ingest(data, repeats=1)
    assert set(result["objects"]) == {"statements_of_reasons", "notices", "listing_events"}
    for dataset, found in result["objects"].items():
        assert found["file"].startswith(dataset + "/")
        assert found["parts"] >= 1 and found["part_bytes"] > 0
        assert 0 < found["part_rows"] <= found["rows"]  # what the bare scan counted, less the quarantine
        assert found["scan"] > 0 and found["ingest"] > 0
    assert result["objects"]["listing_events"]["decode"] > 0  # Parquet: a scan that reads the values too


def test_the_curated_store_holds_every_row_the_run_reads(data, store, run):
    _, curated = store
    registers = len(list((data / "registers").iterdir()))  # copied as they came: no record
    assert curated["written"] == curated["objects"] - registers > 0
    assert curated["rows"] == run["rows"] - run["register_rows"] > 0
    assert curated["datasets"]["statements_of_reasons"]["part_bytes"] > 0


def test_the_curated_run_gives_the_runs_metrics_and_findings(store, run):
    root, _ = store
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DSA_MEMORY_LIMIT", bench.MEMORY_LIMIT)
        curated_run = bench.phase_curated(root)
    assert curated_run["rows"] == run["rows"] and curated_run["sor_rows"] == run["sor_rows"]
    assert curated_run["metrics"] == run["metrics"]
    assert curated_run["counts"] == run["counts"]
    assert curated_run["bytes"] > 0  # the parts it read
    assert {"sources", "dataset", "evaluated", "outputs"} <= set(curated_run["steps"])


def test_a_live_process_peak_rss_is_read_from_proc():
    import os

    assert bench._peak_rss(os.getpid()) > 10 * 2**20
    assert bench._peak_rss(2**22 + 1) == 0  # no such process
