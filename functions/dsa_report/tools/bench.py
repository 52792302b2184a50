"""`make bench`: the full run against DuckDB's bare scan of the same files, measured in one run.

Each phase runs in its own child process so that its peak RSS (from wait4's rusage) is its own:
- bare scan: DuckDB parses every column of every local file once (`count(COLUMNS(*))`), nothing else;
- store floor: DuckDB stores the columns the rules read as tables, in their cheapest form, with no check,
  no quarantine and no dedupe, under the run's memory limit: what any engine keeping the data pays first;
- full run: the product's pipeline on the same data, from the folder or (`--s3`) from a moto server
  running as a separate process, so objects are fetched over HTTP as in a Lambda;
- pandas (`--pandas`): a plain pandas implementation of the three heaviest metrics, a naive baseline.
Prints rows/s, seconds, peak RSS and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from ..engine.periods import parse_period
from ..ingest.contract import DATASETS, TABLES, Column

PERIOD = "2026-10"
MEMORY_LIMIT = "1GB"  # DuckDB's budget in the full run (the 2M target is a peak RSS of 1.5 GB)
READERS = {"csv": "read_csv", "jsonl": "read_json", "parquet": "read_parquet"}
BUCKET = "bench-transparency-data"
S3_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-west-1"}


def _tabular(data: Path) -> dict[str, dict[str, list[str]]]:
    """format -> dataset folder -> files."""
    found: dict[str, dict[str, list[str]]] = {fmt: {} for fmt in READERS}
    for path in sorted(data.rglob("*")):
        name = path.name.lower()
        for fmt, suffixes in (("csv", (".csv", ".csv.gz")), ("jsonl", (".jsonl", ".jsonl.gz")),
                              ("parquet", (".parquet",))):
            if name.endswith(suffixes) and "registers" not in path.parts:
                found[fmt].setdefault(path.relative_to(data).parts[0], []).append(str(path))
    return found


def phase_scan(data: Path) -> dict:
    """The floor: parse every column of every file once (one scan per dataset and format)."""
    import duckdb

    con = duckdb.connect()
    rows = 0
    for fmt, folders in _tabular(data).items():
        for files in folders.values():
            rows += _count(con, fmt, "SELECT count(*), count(COLUMNS(*)) FROM {source}", {"f": files})
    return {"rows": rows}


def phase_store(data: Path) -> dict:
    """The floor of keeping the data: every engine column of spec.py (free text and lists as the flags the
    rules read), one CREATE TABLE AS per dataset and format, nothing checked (settings as in the run)."""
    from ..ingest.loader import connect

    with tempfile.TemporaryDirectory(prefix="dsa-bench-spill-") as spill:
        con = connect(memory_limit=os.environ.get("DSA_MEMORY_LIMIT", MEMORY_LIMIT), temp_directory=spill)
        rows = 0
        for fmt, folders in _tabular(data).items():
            for folder, files in folders.items():
                kept = [c for c in DATASETS[folder].columns if c.kept]
                present = _header(con, fmt, files)  # an optional column the files lack is NULL, as in the run
                params = {"f": files, **{f"v{i}": c.value for i, c in enumerate(kept)
                                         if c.kind == "lists" and c.input_name in present}}
                columns = ", ".join(
                    f"{_cheapest(fmt, c, f'$v{i}') if c.input_name in present else 'NULL'} AS {c.name}"
                    for i, c in enumerate(kept))
                rows += _count(con, fmt, f"CREATE TABLE {TABLES[folder]}_{fmt} AS SELECT {columns} FROM {{source}}",
                               params)
    return {"rows": rows}


def _count(con, fmt: str, statement: str, params: dict) -> int:
    """The count `statement` returns, its `{source}` reading the files `$f`: without union by name first
    (files with one header need none, and it costs CSV scans about 80 %), with it when that fails."""
    import duckdb

    options = ", all_varchar=true" if fmt == "csv" else ""

    def run(union: str) -> int:
        sql = statement.format(source=f"{READERS[fmt]}($f, union_by_name={union}{options})")
        return con.execute(sql, params).fetchone()[0]

    try:
        return run("false")
    except duckdb.Error:
        return run("true")


def _header(con, fmt: str, files: list[str]) -> set[str]:
    """The column names the files have, together."""
    options = ", all_varchar=true" if fmt == "csv" else ""
    described = con.execute(f"DESCRIBE SELECT * FROM {READERS[fmt]}($f, union_by_name=true{options})", {"f": files})
    return {row[0] for row in described.fetchall()}


def _cheapest(fmt: str, column: Column, value: str) -> str:
    name = '"' + column.input_name + '"'
    if column.kind == "presence":
        return f"{name} IS NOT NULL"
    if column.kind == "lists":
        return f"{'contains' if fmt == 'csv' else 'list_contains'}({name}, {value})"
    return name


def phase_run(source: str) -> dict:
    os.environ.setdefault("DSA_MEMORY_LIMIT", MEMORY_LIMIT)
    from ..app import pipeline
    from ..obligations.config import Config

    config = Config(platform="ExampleMarket", tier="VLOP", marketplace=True)
    with tempfile.TemporaryDirectory(prefix="dsa-bench-out-") as out:
        request = pipeline.RunRequest(config=config, period=parse_period(PERIOD), source=source,
                                      out_dir=Path(out))
        result = pipeline.run(request)
    quality = result.document["data_quality"]
    metrics = result.document["metrics"]
    return {"rows": sum(q["rows"] + q["quarantined_rows"] for q in quality.values()),
            "counts": result.counts,
            "check": {name: metrics[name]["value"] for name in PANDAS_METRICS}}


PANDAS_METRICS = ("sor_submission_delay_p95_days", "notice_median_decision_hours",
                  "hidden_link_median_survival_days")


def phase_pandas(data: Path) -> dict:
    """The same three heaviest metrics, the way one would write them in plain pandas."""
    import pandas as pd

    period = parse_period(PERIOD)
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end) + pd.Timedelta(days=1)
    found = _tabular(data)
    keys = ["platform_name", "platform_uid", "application_date", "created_at"]
    sor = pd.concat(pd.read_csv(f, dtype=str, usecols=keys) for f in found["csv"]["statements_of_reasons"])
    sor = sor.sort_values("created_at").drop_duplicates(["platform_name", "platform_uid"])
    applied = pd.to_datetime(sor["application_date"], format="mixed")
    created = pd.to_datetime(sor["created_at"], format="mixed")
    inside = (applied >= start) & (applied < end)
    delay = (created[inside].dt.normalize() - applied[inside].dt.normalize()).dt.days
    notices = pd.concat(pd.read_json(f, lines=True) for f in found["jsonl"]["notices"])
    received = pd.to_datetime(notices["received_at"], utc=True).dt.tz_localize(None)
    decided = pd.to_datetime(notices["decided_at"], utc=True).dt.tz_localize(None)
    # censored at period end, as the run: a notice undecided then counts with its age then
    took = (decided.where(decided < end, end) - received)[(received >= start) & (received < end)]
    events = pd.concat(pd.read_parquet(f, columns=["item_id", "event", "occurred_at", "hidden_link"])
                       for f in found["parquet"]["listing_events"])
    hidden = set(events.loc[events["hidden_link"].fillna(False).astype(bool), "item_id"])
    ev = events[events["item_id"].isin(hidden) & events["event"].isin(["LISTED", "REAPPEARED", "REMOVED"])
                & (events["occurred_at"] < end)]
    ev = ev.assign(removal=ev["event"] == "REMOVED").sort_values(["item_id", "occurred_at", "removal"])
    item, at = ev["item_id"], ev["occurred_at"]
    listed = at.where(~ev["removal"]).groupby(item).ffill().groupby(item).shift()  # latest listing before
    removed = at.where(ev["removal"]).groupby(item).ffill().groupby(item).shift()  # latest removal before
    gone = ev["removal"] & (at >= start) & (removed.isna() | (listed > removed))  # removals that took it down
    last_listed = at.where(~ev["removal"]).groupby(item).max()
    last_removed = at.where(ev["removal"]).groupby(item).max()
    online = last_listed[last_listed.notna() & (last_removed.isna() | (last_listed > last_removed))]
    survival = pd.concat([at[gone] - listed[gone], end - online]).dt.total_seconds() / 86400
    return {"rows": len(sor) + len(notices) + len(events),
            "check": {"sor_submission_delay_p95_days": float(delay.quantile(0.95)),
                      "notice_median_decision_hours": float(took.dt.total_seconds().median() / 3600),
                      "hidden_link_median_survival_days": float(survival.median())}}


def _child(phase: str, target: str, env: dict[str, str] | None = None) -> tuple[dict, float, int]:
    """(result, seconds, peak RSS bytes) of one phase in a fresh interpreter (its start-up not timed)."""
    proc = subprocess.Popen([sys.executable, "-m", "dsa_report.tools.bench", "--phase", phase, "--data", target],
                            stdout=subprocess.PIPE, env={**os.environ, **(env or {})})
    output = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"bench phase {phase} failed ({status})")
    result = json.loads(output.decode().strip().splitlines()[-1])
    return result, result.pop("seconds"), usage.ru_maxrss * 1024


@contextmanager
def moto_server():
    """A moto server in its own process (its memory is not the run's), with the data bucket."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1",
                               "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


def upload(endpoint: str, data: Path) -> int:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="bench",
                      aws_secret_access_key="bench")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    files = [p for p in sorted(data.rglob("*")) if p.is_file()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda p: s3.upload_file(str(p), BUCKET, "data/" + p.relative_to(data).as_posix()), files))
    return len(files)


def _line(name: str, rows: int, seconds: float, rss: int) -> str:
    return f"{name:<10} {rows:>12,} {seconds:>8.2f} {rows / seconds:>12,.0f} {rss / 2**20:>7.0f} MB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dsa_report.tools.bench")
    p.add_argument("--rows", type=int, default=2_000_000, help="statements of reasons in the period")
    p.add_argument("--data", help="reuse this data folder instead of generating one")
    p.add_argument("--s3", action="store_true", help="the full run reads the data from S3 (moto server)")
    p.add_argument("--pandas", action="store_true", help="also time a plain pandas baseline")
    p.add_argument("--phase", choices=("scan", "store", "run", "pandas"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phase:
        started = time.perf_counter()  # imports included: the run pays for jinja2, boto3... too
        phases = {"scan": lambda: phase_scan(Path(args.data)), "store": lambda: phase_store(Path(args.data)),
                  "run": lambda: phase_run(args.data), "pandas": lambda: phase_pandas(Path(args.data))}
        result = phases[args.phase]()
        print(json.dumps({**result, "seconds": time.perf_counter() - started}))
        return 0

    data = Path(args.data) if args.data else Path("bench-data") / f"sor-{args.rows}"
    if not (data / "statements_of_reasons").exists():
        from .synthetic import generate

        period = parse_period(PERIOD)
        started = time.perf_counter()
        generate(data, scale=args.rows, seed=11, period_start=period.start, period_end=period.end)
        print(f"generated {args.rows:,} statements of reasons + proportional datasets in "
              f"{time.perf_counter() - started:.1f} s -> {data}")
    files = [f for f in data.rglob("*") if f.is_file()]
    print(f"data: {data} ({len(files)} files, {sum(f.stat().st_size for f in files) / 1e6:.0f} MB); "
          f"CPUs: {os.cpu_count()}; DuckDB memory limit in the run: {os.environ.get('DSA_MEMORY_LIMIT', MEMORY_LIMIT)}")
    _child("scan", str(data))  # warm the page cache so every phase reads from memory
    scan, scan_s, scan_rss = _child("scan", str(data))
    store, store_s, store_rss = _child("store", str(data))
    if args.s3:
        with moto_server() as endpoint:
            print(f"uploaded {upload(endpoint, data)} objects to s3://{BUCKET}/data/ on {endpoint} (moto server)")
            run, run_s, run_rss = _child("run", f"s3://{BUCKET}/data/", {**S3_ENV, "AWS_ENDPOINT_URL": endpoint})
    else:
        run, run_s, run_rss = _child("run", str(data))
    print(f"{'phase':<10} {'rows':>12} {'seconds':>8} {'rows/s':>12} {'peak RSS':>10}")
    print(_line("bare scan", scan["rows"], scan_s, scan_rss))
    print(_line("store", store["rows"], store_s, store_rss) + "  (floor: the rules' columns kept, no check)")
    print(_line("full run", run["rows"], run_s, run_rss))
    print(f"ratio full-run / bare-scan: {run_s / scan_s:.2f}; peak RSS of the full run: {run_rss / 2**30:.2f} GB"
          f"{' (read from S3 through moto server)' if args.s3 else ''}")
    print(f"store floor / bare-scan: {store_s / scan_s:.2f}; full-run / store floor: {run_s / store_s:.2f}")
    if args.pandas:
        base, base_s, base_rss = _child("pandas", str(data))
        print(_line("pandas", base["rows"], base_s, base_rss) + "  (3 metrics only)")
        print(f"speed-up over the pandas baseline: {base_s / run_s:.1f}x (the full run does all 31 obligations)")
        for name, value in base["check"].items():
            print(f"  {name}: pandas {value:.4g}, dsa-report {run['check'][name]:.4g}")
    print(f"findings: {run['counts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
