"""The curated store: each object of the data location read once, when it lands, into Parquet by dataset and month.

Layout under the store's root (an s3:// prefix or a folder), Hive style:

    <dataset>/month=YYYY-MM/<object>-<version>.parquet  the object's clean rows dated in that month (`month_by`)
    <dataset>/month=all/<object>-<version>.parquet      a snapshot dataset (traders, listings): no month
    <dataset>/_objects/<object>.json                    the object's record: source, version, parts, data quality
    registers/<file>                                    a register, as it came

`<object>` is a hash of the source object's location and `<version>` one of its content (its ETag),
so the same object version always gives the same keys. A record is written after its parts and is what a
reader trusts, after checking each part it names against it (`check_parts`: a part missing, cut short or
swapped fails the run): a repeated event finds the record of its version and changes nothing (unless its parts
are missing or of another size: then they are written again); a new version writes its
parts, then its record, then deletes the parts of the version it replaced; an event older than the recorded
one (S3's sequencer) is ignored. Rows are read, normalised, checked, quarantined and deduplicated by the
loader, exactly as a run over raw files does; only the engine columns the rules read are kept.

The scheduled run reads only the parts of the months it needs: the period's and every earlier month (the open
notice backlog, undecided complaints and the repeat-infringer walk read history without a bound), the month
after it (a statement of reasons may follow a notice's decision by a day, and the decision may fall on the
period's last day), and the snapshots whole; none later. At the scheduled time that is all there is, so the
report is the one the raw files give; a period re-run later reads what its scheduled run could have read.
Duplicates across objects are dropped at read time (the earliest `dedupe_by` wins, as in one load), and the
data-quality section is the sum of the records.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from . import loader, s3, sources
from . import registers as registers_mod
from .contract import ACTIVE_RECIPIENTS, DATASETS, STATEMENTS_OF_REASONS, TABLES, Dataset, create_table_sql
from .errors import FetchError, ResourceError, SourceError
from .loaded import DatasetInfo, LoadedData

RECORDS = "_objects"
REGISTERS = "registers"
SNAPSHOT = "all"  # the month partition of a dataset without `month_by`
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


# ---- where things are ------------------------------------------------------------------------------------


class Store:
    """The store's root: a folder or an s3:// prefix. Keys are '/'-separated paths below it."""

    def __init__(self, root: str, s3_client: Any | None = None):
        self.is_s3 = root.startswith("s3://")
        if self.is_s3:
            self.bucket, self.prefix = s3.split(root)
            self.client = s3_client or s3.default_client(8)
            self.root = f"s3://{self.bucket}/{self.prefix}"
        else:
            self.folder = Path(root).expanduser().resolve()
            self.root = str(self.folder) + "/"

    def uri(self, key: str) -> str:
        return self.root + key

    def get(self, key: str) -> bytes | None:
        if self.is_s3:
            return s3.get(self.client, self.bucket, self.prefix + key)
        path = self.folder / key
        return path.read_bytes() if path.is_file() else None

    def put(self, key: str, data: bytes | Path) -> None:
        if self.is_s3:
            s3.put(self.client, self.bucket, self.prefix + key, data)
            return
        path = self.folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        if isinstance(data, bytes):
            partial.write_bytes(data)
        else:
            shutil.copyfile(data, partial)
        partial.replace(path)  # a reader never sees half a file

    def delete(self, key: str) -> None:
        if self.is_s3:
            s3.delete(self.client, self.bucket, self.prefix + key)
        else:
            (self.folder / key).unlink(missing_ok=True)

    def keys(self, below: str) -> list[str]:
        return sorted(self.sizes(below))

    def sizes(self, below: str) -> dict[str, int]:
        """{key: bytes} of the objects whose key starts with `below` (a folder store: the file, or below the folder)."""
        if self.is_s3:
            return {k[len(self.prefix):]: n for k, n in s3.list_objects(self.client, self.bucket, self.prefix + below)}
        base = self.folder / below
        found = [base] if base.is_file() else base.rglob("*") if base.is_dir() else []
        return {p.relative_to(self.folder).as_posix(): p.stat().st_size for p in found if p.is_file()}

    def fetch(self, key: str, target: Path) -> Path:
        """A local copy of one part (a folder store's own file is read where it is)."""
        if not self.is_s3:
            return self.folder / key
        s3.download(self.client, self.bucket, self.prefix + key, 0, target)
        return target


def object_id(origin: str) -> str:
    return hashlib.sha256(origin.encode()).hexdigest()[:24]


def record_key(dataset: str, object_name: str) -> str:
    return f"{dataset}/{RECORDS}/{object_name}.json"


def part_key(dataset: str, month: str, object_name: str, version: str) -> str:
    return f"{dataset}/month={month}/{object_name}-{version}.parquet"


# ---- ingest on arrival -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrived:
    """One object of the data location: its path below the location's root and what identifies its version."""

    path: str  # e.g. "notices/2026/10/part-1.jsonl.gz" or "registers/audits.yaml"
    version_id: str | None = None  # S3 version id (None in an unversioned bucket or a folder)
    etag: str | None = None
    sequencer: str | None = None  # S3's order of events on one key (hex, compared as a number)

    @property
    def dataset(self) -> str:
        return self.path.split("/", 1)[0]

    def version(self) -> str:
        """The ETag when there is one (the content: an event and a listing of the same upload agree, so
        `dsa-report curate` over a store the arrival function keeps rewrites nothing), else the version id."""
        return hashlib.sha256((self.etag or self.version_id or "").strip('"').encode()).hexdigest()[:12]


@dataclass
class Ingested:
    outcome: str  # written | repaired (its parts written again) | unchanged | stale | gone | deleted | ignored
    record: dict[str, Any] | None = None

    @property
    def quarantined_rows(self) -> int:
        return (self.record or {}).get("quality", {}).get("quarantined_rows", 0)

    @property
    def unreadable_files(self) -> int:
        return len((self.record or {}).get("quality", {}).get("unreadable_files", []))


def ingest(raw_root: str, arrived: Arrived, store: Store, workdir: Path, *, s3_client: Any | None = None,
           platform_names: Iterable[str] | None = None, now: datetime | None = None) -> Ingested:
    """Read one arrived object into the store (idempotent per object version)."""
    dataset = arrived.dataset
    if dataset == REGISTERS:
        return _copy_register(raw_root, arrived, store, s3_client)
    if dataset not in DATASETS or "/" not in arrived.path:
        return Ingested("ignored")
    origin = _origin(raw_root, arrived.path)
    name, version = object_id(origin), arrived.version()
    keep = None if platform_names is None else sorted(platform_names)
    earlier = _json(store.get(record_key(dataset, name)))
    same = bool(earlier) and earlier["version"] == version and earlier["platform_names"] == keep
    if same and _intact(earlier, store):
        return Ingested("unchanged", earlier)
    if earlier and _older(arrived.sequencer, earlier.get("sequencer")):
        return Ingested("stale", earlier)
    now = now or datetime.now(UTC)
    try:
        with sources.fetching(raw_root, workdir, s3_client=s3_client, only=arrived.path) as collected:
            con = loader.connect(temp_directory=str(workdir / "spill"))
            try:
                data = loader.load(collected, con, platform_names=keep, now=now,
                                   release=lambda files: sources.cleanup(files, workdir))
                parts = _write_parts(con, DATASETS[dataset], name, version, store, workdir)
            finally:
                con.close()
    except FetchError:  # deleted since its event: the "Object Deleted" event takes it out of the store
        return Ingested("gone", earlier)
    info = data.datasets[dataset]
    record = {
        "object": name, "source": origin, "dataset": dataset, "version": version,
        "version_id": arrived.version_id, "etag": arrived.etag, "sequencer": arrived.sequencer,
        "ingested_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"), "platform_names": keep,
        "parts": parts, "columns": sorted(info.columns), "quality": data.quality[dataset],
    }
    store.put(record_key(dataset, name), json.dumps(record, indent=1, sort_keys=True, default=str).encode())
    for old in (earlier or {}).get("parts", {}).values():
        if old["key"] not in {p["key"] for p in parts.values()}:
            store.delete(old["key"])
    return Ingested("repaired" if same else "written", record)


def _intact(record: dict, store: Store) -> bool:
    """Its parts are in the store at the sizes it gives (else ingesting the same version writes them again)."""
    return all(store.sizes(part["key"]).get(part["key"]) == part["bytes"] for part in record["parts"].values())


def curate(raw_root: str, store: Store, workdir: Path, *, s3_client: Any | None = None,
           platform_names: Iterable[str] | None = None, now: datetime | None = None,
           progress: Callable[[str, Ingested], None] | None = None) -> list[Ingested]:
    """Every object of a raw location through `ingest`, as the arrival function takes them one by one (an ad-hoc
    store, or one rebuilt after a change of config); objects no longer in the location leave the store."""
    listed = _listing(raw_root, s3_client)
    done = []
    for path, etag in listed:
        result = ingest(raw_root, Arrived(path, etag=etag), store, workdir, s3_client=s3_client,
                        platform_names=platform_names, now=now)
        done.append(result)
        if progress:
            progress(path, result)
    origins = {_origin(raw_root, path) for path, _ in listed}
    for record in records(store):
        if record["source"] not in origins:
            done.append(remove(raw_root, record["source"].removeprefix(raw_root.rstrip("/") + "/"), store))
    return done


def _listing(raw_root: str, s3_client: Any | None) -> list[tuple[str, str]]:
    """(path below the root, ETag or size and modification time) of every object of a raw location."""
    if raw_root.startswith("s3://"):
        bucket, prefix = s3.split(raw_root)
        return [(key[len(prefix):], etag) for key, etag in
                s3.list_objects(s3_client or s3.default_client(8), bucket, prefix, etags=True)]
    root = Path(raw_root).expanduser().resolve()
    if not root.is_dir():
        raise SourceError(f"data folder not found: {root}")
    return [(p.relative_to(root).as_posix(), f"{p.stat().st_size}-{p.stat().st_mtime_ns}")
            for name in (*DATASETS, REGISTERS) for p in sorted((root / name).rglob("*")) if p.is_file()]


def remove(raw_root: str, path: str, store: Store, sequencer: str | None = None) -> Ingested:
    """An object deleted from the data location: its parts and record go too (unless a later event wrote it)."""
    dataset = path.split("/", 1)[0]
    if dataset == REGISTERS:
        store.delete(f"{REGISTERS}/{path.split('/', 1)[1]}")
        return Ingested("deleted")
    if dataset not in DATASETS:
        return Ingested("ignored")
    key = record_key(dataset, object_id(_origin(raw_root, path)))
    earlier = _json(store.get(key))
    if earlier is None:
        return Ingested("unchanged")
    if _older(sequencer, earlier.get("sequencer")):
        return Ingested("stale", earlier)
    store.delete(key)  # the record first: a reader never meets a record whose parts are gone
    for part in earlier["parts"].values():
        store.delete(part["key"])
    return Ingested("deleted", earlier)


def _origin(raw_root: str, path: str) -> str:
    """How the loader names the object's rows: the S3 URI, or the path below a folder."""
    return (raw_root.rstrip("/") + "/" if raw_root.startswith("s3://") else "") + path


def _copy_register(raw_root: str, arrived: Arrived, store: Store, s3_client: Any | None) -> Ingested:
    name = arrived.path.split("/", 1)[1]
    if "/" in name:
        return Ingested("ignored")
    uri = raw_root.rstrip("/") + "/" + arrived.path
    data = s3.read(s3_client, uri) if raw_root.startswith("s3://") else Path(uri).read_bytes()
    if store.get(f"{REGISTERS}/{name}") == data:
        return Ingested("unchanged")
    store.put(f"{REGISTERS}/{name}", data)
    return Ingested("written")


def _write_parts(con, dataset: Dataset, name: str, version: str, store: Store, workdir: Path) -> dict[str, dict]:
    """The dataset's clean rows, one Parquet file per month: {month: {key, rows, bytes}}."""
    table = TABLES[dataset.name]
    if dataset.month_by is None:
        months = [(SNAPSHOT, con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])]
        where = "TRUE"
    else:
        expr = dataset.month_by if dataset.column(dataset.month_by).kind == "month" \
            else f"strftime({dataset.month_by}, '%Y-%m')"
        months = con.execute(f"SELECT {expr} AS m, count(*) FROM {table} GROUP BY m ORDER BY m").fetchall()
        where = f"{expr} = $month"
    parts = {}
    for month, rows in months:
        if not rows:
            continue
        if month != SNAPSHOT and not _MONTH.fullmatch(month or ""):
            raise ValueError(f"{dataset.name}: a clean row has no month ({month!r})")  # quarantine let it through
        key = part_key(dataset.name, month, name, version)
        local = workdir / "parts" / key
        local.parent.mkdir(parents=True, exist_ok=True)
        target = "'" + str(local).replace("'", "''") + "'"  # COPY takes no parameter for its target
        con.execute(f"COPY (SELECT * FROM {table} WHERE {where}) TO {target} (FORMAT parquet, COMPRESSION zstd)",
                    {"month": month} if month != SNAPSHOT else {})
        store.put(key, local)
        parts[month] = {"key": key, "rows": int(rows), "bytes": local.stat().st_size}
        local.unlink()
    return parts


def _older(sequencer: str | None, recorded: str | None) -> bool:
    """S3 sequencers of one key compare as hexadecimal numbers of any length (shorter: padded with zeros)."""
    if not sequencer or not recorded:
        return False
    width = max(len(sequencer), len(recorded))
    return sequencer.ljust(width, "0").upper() < recorded.ljust(width, "0").upper()


def _json(data: bytes | None) -> dict | None:
    return json.loads(data) if data else None


# ---- the scheduled run's read ------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a period reads from the store: the parts by table, and what the records say was found."""

    parts: dict[str, list[str]]  # engine table -> part keys
    datasets: dict[str, DatasetInfo]
    quality: dict[str, dict]
    records: int = 0
    bytes: int = 0  # of the parts read
    months: list[str] = field(default_factory=list)
    expected: dict[str, dict] = field(default_factory=dict)  # part key -> its record's rows, bytes and source


def records(store: Store, *, workers: int = 16) -> list[dict]:
    """Every object record of the store (read in parallel)."""
    keys = [k for name in DATASETS for k in store.keys(f"{name}/{RECORDS}/") if k.endswith(".json")]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = list(pool.map(lambda k: (k, store.get(k)), keys))
    return [json.loads(data) for _, data in found if data]  # a record deleted since listed: the object is gone


def plan(found: list[dict], period_end: date, platform_names: Iterable[str] | None) -> Plan:
    """The parts of the months the period needs (its own, every earlier one, and the month after it), and the
    data quality summed
    over the records that have rows in them or no rows at all (an unreadable or wholly quarantined object is
    reported by every run until it is replaced or deleted)."""
    following = period_end.replace(day=28) + timedelta(days=4)  # a day of the month after the period
    last = following.strftime("%Y-%m")
    wanted = None if platform_names is None else sorted(platform_names)
    by_dataset: dict[str, list[dict]] = {name: [] for name in DATASETS}
    for record in sorted(found, key=lambda r: r["source"]):
        if record["dataset"] in by_dataset:
            by_dataset[record["dataset"]].append(record)
    parts, infos, quality, months, total, expected = {}, {}, {}, set(), 0, {}
    for name, recs in by_dataset.items():
        table = TABLES[name]
        parts[table], used = [], []
        for record in recs:
            if name == "statements_of_reasons" and record["platform_names"] != wanted:
                raise SourceError(
                    f"{record['source']} was curated for platform_name {record['platform_names'] or 'any'}, the "
                    f"config names {wanted or 'any'}: curate the store again (dsa-report curate)")
            kept = {m: p for m, p in record["parts"].items() if m == SNAPSHOT or m <= last}
            if kept or not record["parts"]:
                used.append((record, kept))
            for month, part in kept.items():
                parts[table].append(part["key"])
                expected[part["key"]] = {"rows": part["rows"], "bytes": part["bytes"], "source": record["source"]}
                months.add(month)
                total += part["bytes"]
        infos[name], quality[name] = _summed(DATASETS[name], used, wanted is not None)
    return Plan(parts, infos, quality, len(found), total, sorted(months), expected)


def _summed(dataset: Dataset, used: list[tuple[dict, dict]], platforms: bool) -> tuple[DatasetInfo, dict]:
    """One dataset's inventory and data-quality entry from its objects' records (rows: before the dedupe
    across objects, which `open_plan` subtracts); the counts a load reports even of nothing start at 0."""
    q: dict[str, Any] = {"files": 0, "rows": 0, "quarantined_rows": 0, "reasons": {}, "examples": [],
                         "unreadable_files": [], "bytes": 0}
    if dataset is STATEMENTS_OF_REASONS and platforms:
        q["other_platform"] = 0
    if dataset is ACTIVE_RECIPIENTS:
        q["non_eu_rows"] = 0
    if dataset.dedupe_by:
        q["duplicates_removed"] = 0
    columns: set[str] = set()
    counted = ("other_platform", "duplicates_removed", "non_eu_rows", "ignored_files")
    for record, kept in used:
        r = record["quality"]
        q["files"] += r["files"]
        q["rows"] += sum(p["rows"] for p in kept.values())
        q["quarantined_rows"] += r["quarantined_rows"]
        for reason, n in r["reasons"].items():
            q["reasons"][reason] = q["reasons"].get(reason, 0) + n
        q["examples"] += r["examples"]
        q["unreadable_files"] += r["unreadable_files"]
        q["bytes"] += r["bytes"]
        for key in counted:
            if key in r:
                q[key] = q.get(key, 0) + r[key]
        if r.get("non_eu_member_states"):
            q["non_eu_member_states"] = sorted(set(q.get("non_eu_member_states", [])) | set(r["non_eu_member_states"]))
        if r["files"]:
            columns |= set(record["columns"])
    lacking = [{"file": rec["source"], "columns": sorted(columns - set(rec["columns"]))}
               for rec, _ in used if rec["quality"]["files"] and columns - set(rec["columns"])]
    if lacking:
        q["files_missing_columns"] = lacking[:loader.MAX_EXAMPLES]
        q["files_missing_columns_count"] = len(lacking)
    missing = sorted(c.name for c in dataset.columns if c.kept and c.name not in columns) if q["files"] else []
    if missing:
        q["columns_missing"] = missing
    q["reasons"] = dict(sorted(q["reasons"].items()))
    q["examples"] = q["examples"][:loader.MAX_EXAMPLES]
    info = DatasetInfo(files=q["files"], rows=q["rows"], columns=frozenset(columns), bytes=q["bytes"],
                       unreadable_files=len(q["unreadable_files"]),
                       unreadable_bytes=sum(u.get("bytes", 0) for u in q["unreadable_files"]))
    return info, q


def open_plan(con, store: Store, the_plan: Plan, workdir: Path, *, s3_client: Any | None = None,
              unreadable_tolerance: float = 0.0, progress: Callable[[str, dict], None] | None = None,
              workers: int = 16) -> LoadedData:
    """The planned parts as the engine's tables: DuckDB views over the Parquet files (fetched to `workdir`
    from S3), SoRs deduplicated across objects; and the store's registers."""
    jobs = [(table, key) for table, keys in the_plan.parts.items() for key in keys]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        local = list(pool.map(lambda job: (*job, _fetched(store, job[1], workdir / "curated" / job[1])), jobs))
    _verify(con, store, the_plan, {key: path for _, key, path in local})
    files: dict[str, list[str]] = {table: [] for table in TABLES.values()}
    for table, _, path in local:
        files[table].append(str(path))
    for name, dataset in DATASETS.items():
        table = TABLES[name]
        if not files[table]:
            con.execute(create_table_sql(dataset))  # every table exists, with every column, when nothing was found
            continue
        view = f"SELECT {_columns(dataset)} FROM read_parquet($files, union_by_name=true)"
        removed = _duplicates(con, dataset, table, files[table]) if dataset.dedupe_by else 0
        if removed:
            view = (f"SELECT {_columns(dataset)} FROM read_parquet($files, union_by_name=true, filename=true, "
                    f"file_row_number=true) p ANTI JOIN {table}_duplicates d "
                    "ON d.f = p.filename AND d.n = p.file_row_number")
            the_plan.quality[name]["duplicates_removed"] = the_plan.quality[name].get("duplicates_removed", 0) + removed
            the_plan.quality[name]["rows"] -= removed
            the_plan.datasets[name].rows -= removed
        # a view takes no parameter: the file list is bound into the view's text as a quoted literal list
        con.execute(f"CREATE OR REPLACE VIEW {table} AS " + view.replace("$files", _literal_list(files[table])))
        if progress:
            progress(name, {"files": the_plan.datasets[name].files, "rows": the_plan.datasets[name].rows,
                            "quarantined": the_plan.quality[name]["quarantined_rows"]})
    registers, register_quality = read_registers(store, workdir / "registers")
    the_plan.quality["registers"] = register_quality
    return LoadedData(con=con, datasets=the_plan.datasets, registers=registers, quality=the_plan.quality,
                      unreadable_tolerance=unreadable_tolerance)


def _fetched(store: Store, key: str, target: Path) -> Path | None:
    try:
        return store.fetch(key, target)
    except FetchError:  # gone since its record was read: `check_parts` says so
        return None


def _verify(con, store: Store, the_plan: Plan, local: dict[str, Path | None]) -> None:
    """`check_parts` on the local copies: their sizes, and the row counts in their Parquet footers."""
    sizes = {key: path.stat().st_size if path is not None and path.is_file() else None for key, path in local.items()}
    whole = [str(local[key]) for key, size in sizes.items() if size == the_plan.expected[key]["bytes"]]
    try:
        rows = dict(con.execute("SELECT file_name, num_rows FROM parquet_file_metadata($files)",
                                {"files": whole}).fetchall()) if whole else {}
    except duckdb.Error as exc:  # a part of the right size that is no Parquet file
        raise ResourceError(f"the curated store {store.root} holds a part that is not Parquet: {exc}") from exc
    check_parts(the_plan, {key: (sizes[key], rows.get(str(path))) for key, path in local.items()}, store.root)


def check_parts(the_plan: Plan, found: dict[str, tuple[int | None, int | None]], root: str) -> None:
    """Every part the period reads is the one its record describes: `found` gives each part's (bytes, rows),
    None where it is missing or not counted. A part missing, cut short or swapped would change the report
    without a word, so the run fails instead (ResourceError: retried, then the dead-letter queue and its
    alarm); `dsa-report curate` over the raw location writes such parts again (`_intact`)."""
    damaged = []
    for key, want in the_plan.expected.items():
        size, rows = found.get(key, (None, None))
        if size is None:
            damaged.append(f"{key} (from {want['source']}) is missing")
        elif size != want["bytes"] or rows not in (None, want["rows"]):
            held = f"{size:,} bytes" + ("" if rows is None else f", {rows:,} rows")
            damaged.append(f"{key} (from {want['source']}) holds {held}, its record {want['bytes']:,} bytes, "
                           f"{want['rows']:,} rows")
    if damaged:
        raise ResourceError(
            f"the curated store {root} does not hold what its records say: {'; '.join(damaged[:3])}"
            f"{f' (and {len(damaged) - 3} more)' if len(damaged) > 3 else ''}. A part replaced by a newer version "
            "while the run read the store is read again by a retry; `dsa-report curate` over the raw location "
            "writes a missing or damaged part again (one of the right size whose record gives other rows: delete "
            "that record first)")


def _columns(dataset: Dataset) -> str:
    return ", ".join(c.name for c in dataset.columns if c.kept)


def _literal_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def _duplicates(con, dataset: Dataset, table: str, files: list[str]) -> int:
    """Rows of a key already kept from another object (each object is deduplicated when it lands): the
    earliest `dedupe_by` is kept, ties by part name. One aggregate over a hash of the key finds the suspects;
    only their rows are ranked. Their (file, row) land in the table `<table>_duplicates`."""
    key = ", ".join(dataset.key)
    con.execute(
        f"CREATE OR REPLACE TABLE {table}_duplicates AS WITH p AS (SELECT {key}, {dataset.dedupe_by}, filename AS f, "
        f"file_row_number AS n FROM read_parquet($files, union_by_name=true, filename=true, file_row_number=true)), "
        f"s AS (SELECT hash({key}) AS h FROM p GROUP BY h HAVING count(*) > 1) "
        f"SELECT f, n FROM (SELECT f, n, row_number() OVER (PARTITION BY {key} ORDER BY {dataset.dedupe_by} "
        f"NULLS LAST, parse_filename(f)) AS r FROM p WHERE hash({key}) IN (SELECT h FROM s)) WHERE r > 1",
        {"files": files})
    return con.execute(f"SELECT count(*) FROM {table}_duplicates").fetchone()[0]


def read_registers(store: Store, workdir: Path) -> tuple[dict[str, list[dict]], dict]:
    """The store's registers, read and checked as a raw location's are."""
    if not store.keys(f"{REGISTERS}/"):
        return registers_mod.load_registers({}, [])
    source = store.root if store.is_s3 else str(store.folder)
    with sources.fetching(source, workdir, s3_client=store.client if store.is_s3 else None,
                          only=f"{REGISTERS}/") as collected:
        collected.wait_registers()
        return registers_mod.load_registers(collected.registers, collected.register_errors)
