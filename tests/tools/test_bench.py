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
