"""`make bench`: the full run against DuckDB's bare scan of the same files, measured in one run.

Each phase runs in its own child process so that its peak RSS (from wait4's rusage) is its own.
Prints rows/s, seconds, peak RSS and the ratio full-run / bare-scan.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .periods import parse_period

PERIOD = "2026-10"
MEMORY_LIMIT = "1GB"  # DuckDB's budget in the full run (the target is a peak RSS of 1.5 GB)
READERS = {"csv": "read_csv", "jsonl": "read_json", "parquet": "read_parquet"}


def _tabular(data: Path) -> dict[str, list[str]]:
    by_format: dict[str, list[str]] = {fmt: [] for fmt in READERS}
    for path in sorted(data.rglob("*")):
        name = path.name.lower()
        for fmt, suffixes in (("csv", (".csv", ".csv.gz")), ("jsonl", (".jsonl", ".jsonl.gz")),
                              ("parquet", (".parquet",))):
            if name.endswith(suffixes) and "registers" not in path.parts:
                by_format[fmt].append(str(path))
    return by_format


def phase_scan(data: Path) -> dict:
    """The floor: parse every column of every file once, nothing else."""
    import duckdb

    con = duckdb.connect()
    rows = 0
    for fmt, files in _tabular(data).items():
        if not files:
            continue
        groups: dict[str, list[str]] = {}
        for f in files:  # one scan per dataset folder, as the loader does
            groups.setdefault(Path(f).relative_to(data).parts[0], []).append(f)
        for group in groups.values():
            options = ", all_varchar=true" if fmt == "csv" else ""
            sql = f"SELECT count(*), count(COLUMNS(*)) FROM {READERS[fmt]}($f, union_by_name=true{options})"
            rows += con.execute(sql, {"f": group}).fetchone()[0]
    return {"rows": rows}


def phase_run(data: Path) -> dict:
    os.environ.setdefault("DSA_MEMORY_LIMIT", MEMORY_LIMIT)
    from . import pipeline
    from .config import Config

    config = Config(platform="ExampleMarket", tier="VLOP", marketplace=True)
    with tempfile.TemporaryDirectory(prefix="dsa-bench-out-") as out:
        request = pipeline.RunRequest(config=config, period=parse_period(PERIOD), source=str(data),
                                      out_dir=Path(out))
        result = pipeline.run(request)
    quality = result.document["data_quality"]
    return {"rows": sum(q["rows"] + q["quarantined_rows"] for q in quality.values()),
            "sor_rows": quality["statements_of_reasons"]["rows"], "counts": result.counts}


def _child(phase: str, data: Path) -> tuple[dict, float, int]:
    """(result, seconds, peak RSS bytes) of one phase in a fresh interpreter (its start-up not timed)."""
    proc = subprocess.Popen([sys.executable, "-m", "dsa_report.bench", "--phase", phase, "--data", str(data)],
                            stdout=subprocess.PIPE)
    output = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"bench phase {phase} failed ({status})")
    result = json.loads(output.decode().strip().splitlines()[-1])
    return result, result.pop("seconds"), usage.ru_maxrss * 1024


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dsa_report.bench")
    p.add_argument("--rows", type=int, default=2_000_000, help="statements of reasons in the period")
    p.add_argument("--data", type=Path, help="reuse this data folder instead of generating one")
    p.add_argument("--phase", choices=("scan", "run"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phase:
        started = time.perf_counter()  # imports included: the run pays for jinja2, boto3... too
        result = phase_scan(args.data) if args.phase == "scan" else phase_run(args.data)
        print(json.dumps({**result, "seconds": time.perf_counter() - started}))
        return 0

    data = args.data or Path("bench-data") / f"sor-{args.rows}"
    if not (data / "statements_of_reasons").exists():
        from .synthetic import generate

        period = parse_period(PERIOD)
        started = time.perf_counter()
        generate(data, scale=args.rows, seed=11, period_start=period.start, period_end=period.end)
        print(f"generated {args.rows:,} statements of reasons + proportional datasets in "
              f"{time.perf_counter() - started:.1f} s -> {data}")
    size = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
    print(f"data: {data} ({size / 1e6:.0f} MB on disk); CPUs: {os.cpu_count()}")
    _child("scan", data)  # warm the page cache so both phases read from memory
    scan, scan_s, scan_rss = _child("scan", data)
    run, run_s, run_rss = _child("run", data)
    ratio = run_s / scan_s
    print(f"{'phase':<10} {'rows':>12} {'seconds':>8} {'rows/s':>12} {'peak RSS':>10}")
    print(f"{'bare scan':<10} {scan['rows']:>12,} {scan_s:>8.2f} {scan['rows'] / scan_s:>12,.0f} "
          f"{scan_rss / 2**20:>7.0f} MB")
    print(f"{'full run':<10} {run['rows']:>12,} {run_s:>8.2f} {run['rows'] / run_s:>12,.0f} "
          f"{run_rss / 2**20:>7.0f} MB")
    print(f"ratio full-run / bare-scan: {ratio:.2f} (target <= 2.0); peak RSS full run: "
          f"{run_rss / 2**30:.2f} GB (target <= 1.5 GB)")
    print(f"findings: {run['counts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
