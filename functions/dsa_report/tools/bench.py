"""`make bench`: the full run against DuckDB's bare scan of the same files, measured in one run.

Each phase runs in its own child process so that its peak RSS (from wait4's rusage) is its own:
- bare scan: DuckDB parses every column of every local file once (`count(COLUMNS(*))`), nothing else;
- store floor: DuckDB stores the columns the rules read as tables, in their cheapest form, with no check,
  no quarantine and no dedupe, under the run's memory limit: what any engine keeping the data pays first;
- full run: the product's pipeline on the same data, from the folder or (`--s3`) from a moto server
  running as a separate process, so objects are fetched over HTTP as in a Lambda;
- pandas (`--pandas`): a plain pandas implementation of the three heaviest metrics, a naive baseline;
- ingest: one object of each large dataset (a SoR csv.gz part, a notices jsonl.gz, a listing-events Parquet)
  read into a fresh curated store (`curated.ingest`: normalise, check, write its Parquet parts), against the
  bare scan of that same file; both repeated in one process, the medians compared;
- curate: every object of the data into a folder store, one by one as the arrival function takes them;
- curated run: the product's pipeline reading that store instead of the raw files (`RunRequest.curated`);
- spark (`--spark`): the EMR job (`app/spark_job.py`) over the same store, Spark in local mode on 2 cores.
Prints rows/s, seconds, peak RSS and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
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
PLATFORM = "ExampleMarket"  # the synthetic data's platform_name
REPEATS = 5  # timed repetitions of the one-object ingest and its scan (after one untimed warm-up each)
SPARK_CORES = 2
SPARK_MEMORY = "6g"  # the local driver's heap: local mode runs the executors in it
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
    """The column names the files have, together (one file at a time: describing 120 csv.gz parts by name
    together exhausts the 1 GB memory limit)."""
    options = ", all_varchar=true" if fmt == "csv" else ""
    return {row[0] for f in files
            for row in con.execute(f"DESCRIBE SELECT * FROM {READERS[fmt]}($f{options})", {"f": f}).fetchall()}


def _cheapest(fmt: str, column: Column, value: str) -> str:
    name = '"' + column.input_name + '"'
    if column.kind == "presence":
        return f"{name} IS NOT NULL"
    if column.kind == "lists":
        return f"{'contains' if fmt == 'csv' else 'list_contains'}({name}, {value})"
    return name


def _config():
    from ..obligations.config import Config

    return Config(platform=PLATFORM, tier="VLOP", marketplace=True)


def phase_run(source: str, store: str | None = None) -> dict:
    """The pipeline over the raw files at `source`, or (`store`) over the curated store instead."""
    os.environ.setdefault("DSA_MEMORY_LIMIT", MEMORY_LIMIT)
    from ..app import pipeline

    started, steps, read = time.perf_counter(), {}, {}

    def progress(event: str, fields: dict) -> None:
        steps[event] = round(time.perf_counter() - started, 2)  # the last of each kind: when it was done
        if event == "sources":
            read.update(fields)

    with tempfile.TemporaryDirectory(prefix="dsa-bench-out-") as out:
        request = pipeline.RunRequest(config=_config(), period=parse_period(PERIOD), source=store or source,
                                      curated=store, out_dir=Path(out))
        result = pipeline.run(request, progress=progress)
    steps["outputs"] = round(time.perf_counter() - started, 2)
    return _summary(result.document, result.counts) | {"steps": steps, "bytes": read.get("bytes")}


def phase_curated(store: str) -> dict:
    """The curated run: the same pipeline, its tables DuckDB views over the store's Parquet parts."""
    return phase_run(store, store=store)


def _summary(document: dict, counts: dict) -> dict:
    quality, metrics = document["data_quality"], document["metrics"]
    return {"rows": sum(q["rows"] + q["quarantined_rows"] for q in quality.values()),  # registers' entries too
            "register_rows": quality["registers"]["rows"] + quality["registers"]["quarantined_rows"],
            "sor_rows": quality["statements_of_reasons"]["rows"], "counts": counts,
            "check": {name: metrics[name]["value"] for name in PANDAS_METRICS},
            "metrics": {name: m["value"] for name, m in metrics.items()}}


def _objects(data: Path) -> dict[str, Path]:
    """The largest object of each large dataset that lands in the period, as a daily delivery would: a SoR
    csv.gz part, a notices jsonl.gz, a listing-events Parquet (the SoR history part spans 12 months)."""
    found = _tabular(data)
    return {folder: max((Path(f) for f in found[fmt][folder]), key=lambda f: (PERIOD in str(f), f.stat().st_size))
            for fmt, folder in (("csv", "statements_of_reasons"), ("jsonl", "notices"),
                                ("parquet", "listing_events"))}


def phase_ingest(data: Path, repeats: int = REPEATS) -> dict:
    """One object at a time: its bare scan (the statement of `phase_scan`, on that file) and its ingest into a
    fresh folder store, alternated `repeats` times after one untimed warm-up of each; the medians."""
    import duckdb

    from ..ingest import curated

    con = duckdb.connect()
    names = _config().names_in_data
    found = {}
    with tempfile.TemporaryDirectory(prefix="dsa-bench-ingest-") as tmp:
        for dataset, path in _objects(data).items():
            fmt = next(fmt for fmt, folders in _tabular(data).items() if str(path) in folders.get(dataset, []))
            arrived = path.relative_to(data).as_posix()
            scans, ingests, decodes = [], [], []
            for i in range(repeats + 1):
                started = time.perf_counter()
                rows = _count(con, fmt, "SELECT count(*), count(COLUMNS(*)) FROM {source}", {"f": [str(path)]})
                scans.append(time.perf_counter() - started)
                if fmt == "parquet":  # its bare scan counts from the footer's statistics: this reads the values
                    started = time.perf_counter()
                    _count(con, fmt, "SELECT count(*), max(hash(COLUMNS(*))) FROM {source}", {"f": [str(path)]})
                    decodes.append(time.perf_counter() - started)
                store = curated.Store(f"{tmp}/store-{i}")
                started = time.perf_counter()
                done = curated.ingest(str(data), curated.Arrived(arrived, etag=f"bench-{i}"), store,
                                      Path(tmp) / f"work-{i}", platform_names=names)
                ingests.append(time.perf_counter() - started)
                if done.outcome != "written" or not done.record or not done.record["parts"]:
                    raise RuntimeError(f"{arrived}: ingest gave {done.outcome} and no part")
                parts = done.record["parts"]
                shutil.rmtree(f"{tmp}/store-{i}")
                shutil.rmtree(Path(tmp) / f"work-{i}", ignore_errors=True)
            scans, ingests = scans[1:] or scans, ingests[1:] or ingests
            found[dataset] = {"file": arrived, "bytes": path.stat().st_size, "rows": rows,
                              "parts": len(parts), "part_rows": sum(p["rows"] for p in parts.values()),
                              "part_bytes": sum(p["bytes"] for p in parts.values()),
                              "scan": statistics.median(scans), "ingest": statistics.median(ingests),
                              "scans": [round(t, 3) for t in scans], "ingests": [round(t, 3) for t in ingests],
                              "decode": statistics.median(decodes[1:]) if decodes else None}
    return {"rows": sum(o["rows"] for o in found.values()), "objects": found}


def phase_curate(data: Path, store: str) -> dict:
    """Every object of the data into the folder store `store`, one by one (`curated.curate`, the backfill the
    arrival function's events amount to)."""
    from ..ingest import curated

    with tempfile.TemporaryDirectory(prefix="dsa-bench-curate-") as work:
        done = curated.curate(str(data), curated.Store(store), Path(work), platform_names=_config().names_in_data)
    records = [d.record for d in done if d.outcome == "written" and d.record]
    by_dataset: dict[str, dict[str, int]] = {}
    for record in records:
        entry = by_dataset.setdefault(record["dataset"], {"objects": 0, "rows": 0, "bytes": 0, "part_bytes": 0})
        entry["objects"] += 1
        entry["rows"] += record["quality"]["rows"] + record["quality"]["quarantined_rows"]
        entry["bytes"] += record["quality"]["bytes"]
        entry["part_bytes"] += sum(p["bytes"] for p in record["parts"].values())
    return {"rows": sum(e["rows"] for e in by_dataset.values()), "objects": len(done),
            "written": len(records), "datasets": by_dataset}


def phase_spark(store: str) -> dict:
    """The EMR job over the curated store, Spark in local mode (`SPARK_CORES`), session start-up included."""
    from ..app import spark_job
    from ..engine import spark

    started = time.perf_counter()
    session = spark.local_session(cores=SPARK_CORES, shuffle_partitions=SPARK_CORES, driver_memory=SPARK_MEMORY)
    session_s = time.perf_counter() - started
    jvm = session.sparkContext._gateway.proc.pid  # spark-submit execs the JVM: this is its pid
    with tempfile.TemporaryDirectory(prefix="dsa-bench-spark-") as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(f"platform: {PLATFORM}\ntier: VLOP\nmarketplace: true\n")
        args = spark_job.parse_args(["--curated", store, "--config", str(config), "--period", PERIOD,
                                     "--out", str(Path(tmp) / "out"), "--run-id", "bench-spark"])
        result = spark_job.run(args, session)
    jvm_rss = _peak_rss(jvm)
    session.stop()
    return _summary(result.document, result.counts) | {"session_seconds": session_s, "jvm_rss": jvm_rss,
                                                       "cores": SPARK_CORES}


def _peak_rss(pid: int) -> int:
    """A live process's peak RSS in bytes (VmHWM), 0 when it cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0)


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


def _child(phase: str, target: str, env: dict[str, str] | None = None,
           store: str | None = None) -> tuple[dict, float, int]:
    """(result, seconds, peak RSS bytes) of one phase in a fresh interpreter (its start-up not timed)."""
    command = [sys.executable, "-m", "dsa_report.tools.bench", "--phase", phase, "--data", target]
    proc = subprocess.Popen(command + (["--store", store] if store else []), stdout=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
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
    return f"{name:<13} {rows:>12,} {seconds:>8.2f} {rows / seconds:>12,.0f} {rss / 2**20:>7.0f} MB"


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dsa_report.tools.bench")
    p.add_argument("--rows", type=int, default=2_000_000, help="statements of reasons in the period")
    p.add_argument("--data", help="reuse this data folder instead of generating one")
    p.add_argument("--s3", action="store_true", help="the full run reads the data from S3 (moto server)")
    p.add_argument("--pandas", action="store_true", help="also time a plain pandas baseline")
    p.add_argument("--spark", action="store_true", help="also time the Spark job over the curated store")
    p.add_argument("--phase", choices=("scan", "store", "run", "pandas", "ingest", "curate", "curated", "spark"),
                   help=argparse.SUPPRESS)
    p.add_argument("--store", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phase:
        started = time.perf_counter()  # imports included: the run pays for jinja2, boto3... too
        data = Path(args.data)
        phases = {"scan": lambda: phase_scan(data), "store": lambda: phase_store(data),
                  "run": lambda: phase_run(args.data), "pandas": lambda: phase_pandas(data),
                  "ingest": lambda: phase_ingest(data), "curate": lambda: phase_curate(data, args.store),
                  "curated": lambda: phase_curated(args.store), "spark": lambda: phase_spark(args.store)}
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
          f"CPUs: {os.cpu_count()}; DuckDB memory limit in the run: {os.environ.get('DSA_MEMORY_LIMIT', MEMORY_LIMIT)}",
          flush=True)
    _child("scan", str(data))  # warm the page cache so every phase reads from memory
    scan, scan_s, scan_rss = _child("scan", str(data))
    store, store_s, store_rss = _child("store", str(data))
    if args.s3:
        with moto_server() as endpoint:
            print(f"uploaded {upload(endpoint, data)} objects to s3://{BUCKET}/data/ on {endpoint} (moto server)")
            run, run_s, run_rss = _child("run", f"s3://{BUCKET}/data/", {**S3_ENV, "AWS_ENDPOINT_URL": endpoint})
    else:
        run, run_s, run_rss = _child("run", str(data))
    header = f"{'phase':<13} {'rows':>12} {'seconds':>8} {'rows/s':>12} {'peak RSS':>10}"
    print(header)
    print(_line("bare scan", scan["rows"], scan_s, scan_rss))
    print(_line("store", store["rows"], store_s, store_rss) + "  (floor: the rules' columns kept, no check)")
    print(_line("full run", run["rows"], run_s, run_rss) + f"  (steps: {run['steps']})")
    print(f"ratio full-run / bare-scan: {run_s / scan_s:.2f}; peak RSS of the full run: {run_rss / 2**30:.2f} GB"
          f"{' (read from S3 through moto server)' if args.s3 else ''}")
    print(f"store floor / bare-scan: {store_s / scan_s:.2f}; full-run / store floor: {run_s / store_s:.2f}", flush=True)

    ingest, _, ingest_rss = _child("ingest", str(data))
    print(f"ingest of one object into a fresh folder store vs the bare scan of that file (median of {REPEATS}, "
          f"peak RSS {ingest_rss / 2**20:.0f} MB):")
    for dataset, o in ingest["objects"].items():
        ratio = o["ingest"] / o["scan"]
        print(f"  {dataset:<22} {o['file'].rsplit('/', 1)[-1]:<48} {o['bytes'] / 1e6:6.1f} MB {o['rows']:>9,} rows: "
              f"scan {o['scan']:.3f} s, ingest {o['ingest']:.3f} s ({o['parts']} part(s), "
              f"{o['part_bytes'] / 1e6:.1f} MB); ratio {ratio:.2f} (target <= 1.3: {_met(ratio <= 1.3)})")
        print(f"    scans {o['scans']}, ingests {o['ingests']}" + (
            f"; a scan decoding every value (max(hash(COLUMNS(*)))) {o['decode']:.3f} s, ingest / that "
            f"{o['ingest'] / o['decode']:.2f}" if o["decode"] else ""))
    with tempfile.TemporaryDirectory(prefix="dsa-bench-store-") as folder:
        store_root = str(Path(folder) / "store")
        cur, cur_s, cur_rss = _child("curate", str(data), store=store_root)
        part_bytes = sum(d["part_bytes"] for d in cur["datasets"].values())
        raw_bytes = sum(d["bytes"] for d in cur["datasets"].values())
        print(header)
        print(_line("ingest all", cur["rows"], cur_s, cur_rss) + f"  (ingest of everything: {cur['objects']} objects "
              f"one by one, {raw_bytes / 1e6:.0f} MB raw -> {part_bytes / 1e6:.0f} MB of Parquet parts)")
        for name, d in sorted(cur["datasets"].items(), key=lambda item: -item[1]["part_bytes"])[:4]:
            print(f"  {name}: {d['objects']} objects, {d['rows']:,} rows, {d['bytes'] / 1e6:.0f} MB -> "
                  f"{d['part_bytes'] / 1e6:.0f} MB")
        curated_run, crun_s, crun_rss = _child("curated", str(data), store=store_root)
        print(_line("curated run", curated_run["rows"], crun_s, crun_rss) + f"  (steps: {curated_run['steps']}; "
              f"{(curated_run['bytes'] or 0) / 1e6:.0f} MB of parts read)")
        ratio = crun_s / scan_s
        sor = curated_run["sor_rows"]
        print(f"ratio curated-run / bare-scan: {ratio:.2f} (target <= 0.5: {_met(ratio <= 0.5)}); peak RSS "
              f"{crun_rss / 2**30:.2f} GB (target <= 2 GB: {_met(crun_rss <= 2 * 2**30)}); curated-run / full-run "
              f"{crun_s / run_s:.2f}; {sor:,} SoRs, {sor / crun_s:,.0f} SoRs/s, "
              f"{(curated_run['bytes'] or 0) / (sor / 1e6) / 1e6:.0f} MB of parts per million SoRs")
        same = curated_run["metrics"] == run["metrics"] and curated_run["counts"] == run["counts"]
        print(f"curated run's metrics and findings counts equal the full run's: {same}", flush=True)
        if args.spark:
            spark, spark_s, spark_rss = _child("spark", str(data), store=store_root)
            cores = spark["cores"]
            print(_line("spark job", spark["rows"], spark_s, spark_rss) +
                  f"  (local[{cores}], session start {spark['session_seconds']:.1f} s, JVM peak RSS "
                  f"{spark['jvm_rss'] / 2**20:.0f} MB)")
            print(f"ratio spark / duckdb-curated-run: {spark_s / crun_s:.2f}; "
                  f"Spark: {spark['sor_rows'] / spark_s:,.0f} SoRs/s, "
                  f"{spark['sor_rows'] / spark_s / cores:,.0f} SoRs/s per core "
                  f"({spark['sor_rows'] / (spark_s - spark['session_seconds']) / cores:,.0f} without the session "
                  f"start); DuckDB curated run: {sor / crun_s / 2:,.0f} SoRs/s per core")
            same = spark["metrics"] == curated_run["metrics"] and spark["counts"] == curated_run["counts"]
            print(f"spark's metrics and findings counts equal the curated run's: {same}", flush=True)
    if args.pandas:
        base, base_s, base_rss = _child("pandas", str(data))
        print(_line("pandas", base["rows"], base_s, base_rss) + "  (3 metrics only)")
        speed = base_s / crun_s
        print(f"speed-up over the pandas baseline: curated run {speed:.1f}x (target >= 5x: {_met(speed >= 5)}), "
              f"full run {base_s / run_s:.1f}x (both do all 31 obligations)")
        for name, value in base["check"].items():
            print(f"  {name}: pandas {value:.4g}, dsa-report {run['check'][name]:.4g}, "
                  f"curated {curated_run['check'][name]:.4g}")
    print(f"findings: {run['counts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
