"""Load every dataset once into DuckDB: read, normalise, quarantine bad rows, dedupe SoRs.

Files of one dataset are grouped by format and header, and each group is read by one DuckDB scan
(parallel across files) whose SELECT normalises every column and names the first rule a row breaks
(`_reason`). Clean rows stay in the dataset's table; quarantined rows are counted per reason, with up to
20 examples (file, row, reason, value), and removed. A file DuckDB cannot read at all is retried alone,
so one corrupt gzip or non-UTF-8 file is named and the rest still loads; a JSONL file is then read once
more as text line by line, so a malformed line or a value unlike the type DuckDB sampled is quarantined
instead of losing the file. A file lacking a required column has every row quarantined.

Only the file's own faults make it unreadable. Running out of memory (DuckDB's OutOfMemoryException, which
also says the spill folder is full), a disk full or failing, permission denied, an interrupted or broken
database: these are the run's, not the file's, and are raised (`_raise_if_not_the_file`); naming the file
unreadable would report on part of the data as if it were the input's fault.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from . import registers as registers_mod
from .contract import (
    ACTIVE_RECIPIENTS,
    CATEGORY_V1_TO_V2,
    DATASETS,
    SQL_TYPES,
    STATEMENTS_OF_REASONS,
    TABLES,
    Column,
    Dataset,
    column_type,
    create_table_sql,
    create_types_sql,
)
from .errors import FATAL_ERRNOS, fatal
from .loaded import DatasetInfo, LoadedData
from .sources import Collected, DataFile

MAX_EXAMPLES = 20
EARLIEST = datetime(2000, 1, 1)  # the TDB refuses content dates before 2000: earlier ones are typos
FUTURE_ALLOWED = {"ends_at"}  # a suspension may end after the run; no other event can be in the future
FUTURE_ALLOWED |= {"deadline_at", "removed_from_repository_at"}  # an order's time limit, a scheduled purge
# v2 `negative duration`: per dataset, (earlier, later) timestamps of one row; a later one before the
# earlier one quarantines the row (the value shown names the pair)
ORDERED = {
    "orders": (("received_at", "acknowledged_at"), ("received_at", "effect_given_at")),
    "odr_disputes": (("submitted_at", "closed_at"),),
}
NEGATIVE_DURATION = "negative duration"
_READERS = {
    "csv": "read_csv($files, all_varchar=true, header=true, filename='_src', hive_partitioning=false, "
           "store_rejects=true, ignore_errors=true, rejects_limit=0)",
    "jsonl": "read_json($files, format='newline_delimited', union_by_name=true, filename='_src', "
             "hive_partitioning=false)",
    "parquet": "read_parquet($files, union_by_name=true, filename='_src', hive_partitioning=false)",
    # a JSONL file the typed reader refused (a malformed line, a value unlike the sampled type): every
    # field read as text, a line that is no JSON object becomes a row of NULLs (quarantined, counted)
    "jsonl_lenient": "read_json($files, format='newline_delimited', union_by_name=true, filename='_src', "
                     "hive_partitioning=false, ignore_errors=true, columns=$columns)",
}
MALFORMED_JSON = "malformed row: invalid or empty JSON"
# The 27 Member States (ISO 3166-1 alpha-2: Greece is GR). Active-recipient figures count the Union only
# (Art. 24(2), 33(1)): rows of other countries are left out and counted as non_eu_rows.
EU_MEMBER_STATES = frozenset((
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
))
# DuckDB errors that are never a file's fault; an IOException is the file's (a corrupt gzip) unless it carries
# the text of a machine error (DuckDB words a failed write or open with strerror: "No space left on device")
_NOT_THE_FILE = (duckdb.OutOfMemoryException, duckdb.InterruptException, duckdb.FatalException,
                 duckdb.InternalException)
_MACHINE_TEXTS = tuple(sorted(os.strerror(code) for code in FATAL_ERRNOS))


class UnreadableFile(Exception):
    """A file no reader can open (bad compression, encoding, structure); the run goes on without it."""


def _raise_if_not_the_file(exc: BaseException) -> None:
    """Re-raise `exc` when it is the run's failure (memory, disk, access, the database), not the file's."""
    if isinstance(exc, _NOT_THE_FILE) or fatal(exc):
        raise exc
    if isinstance(exc, duckdb.IOException) and any(text in str(exc) for text in _MACHINE_TEXTS):
        raise exc


@dataclass
class _Group:
    fmt: str
    files: list[DataFile]
    types: dict[str, str]  # input column -> DuckDB type
    lenient: bool = False  # JSONL read by the lenient reader (every column VARCHAR)

    @property
    def reader(self) -> str:
        return _READERS["jsonl_lenient" if self.lenient else self.fmt]


@dataclass
class _Quality:
    files: int = 0
    rows: int = 0
    quarantined_rows: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)
    unreadable_files: list[dict] = field(default_factory=list)  # file, reason, bytes
    bytes: int = 0  # bytes of the files read
    extra: dict[str, Any] = field(default_factory=dict)

    def unreadable(self, f: DataFile, reason: str) -> None:
        self.unreadable_files.append({"file": f.origin, "reason": reason, "bytes": f.size})

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files, "rows": self.rows, "quarantined_rows": self.quarantined_rows,
            "reasons": dict(sorted(self.reasons.items())), "examples": self.examples[:MAX_EXAMPLES],
            "unreadable_files": self.unreadable_files, "bytes": self.bytes, **self.extra,
        }


def connect(database: str | Path = ":memory:", *, memory_limit: str | None = None,
            temp_directory: str | None = None, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set for the run: UTC, bounded memory, spilling to local temp storage.

    In memory by default: a database file would keep the tables compressed (a quarter of the memory) but
    costs about twice the load time; under `memory_limit` DuckDB moves in-memory tables to
    `temp_directory` instead of failing, which is what keeps a large run inside its budget.
    """
    # rows need no insertion order (every query orders what it returns): parallel inserts go faster
    settings: dict[str, str | int | bool] = {"preserve_insertion_order": False}
    if memory_limit:
        settings["memory_limit"] = memory_limit
    if temp_directory:
        settings["temp_directory"] = temp_directory
    if threads:
        settings["threads"] = threads
    con = duckdb.connect(str(database), config=settings)
    con.execute("SET TimeZone = 'UTC'")  # bundled icu; timestamps without offset are UTC
    for ddl in create_types_sql():
        con.execute(ddl)
    return con


def load(collected: Collected, con: duckdb.DuckDBPyConnection, *, platform_names: Iterable[str] | None,
         progress=None, now: datetime | None = None,
         release: Callable[[list[DataFile]], object] | None = None,
         unreadable_tolerance: float = 0.0) -> LoadedData:
    """Load every dataset of the contract (a missing one becomes an empty table with files=0).

    `platform_names`: the SoR platform_name values to keep (None keeps every platform). A timestamp more
    than a day after `now` (the run time) is quarantined as a future timestamp. `release` is called with a
    dataset's files once they are loaded (the pipeline deletes its local copies: /tmp is finite).
    `unreadable_tolerance`: the share of a dataset's bytes that may be unreadable before the obligations
    needing it are INSUFFICIENT_DATA (`LoadedData.missing`).
    """
    latest = (now or datetime.now(UTC)).replace(tzinfo=None) + timedelta(days=1)
    keep = None if platform_names is None else list(platform_names)
    infos: dict[str, DatasetInfo] = {}
    quality: dict[str, dict] = {}
    for name, dataset in DATASETS.items():
        collected.wait(name)  # the next datasets may still be downloading meanwhile
        q = _Quality()
        for bad in collected.unreadable.get(name, []):
            q.unreadable_files.append({"file": bad.origin, "reason": bad.reason, "bytes": bad.size})
        if collected.ignored.get(name):
            q.extra["ignored_files"] = collected.ignored[name]
        info = _load_dataset(con, dataset, collected.files.get(name, []), q,
                             keep if dataset is STATEMENTS_OF_REASONS else None, latest)
        if release:
            release(collected.files.get(name, []))
        info.unreadable_files = len(q.unreadable_files)
        info.unreadable_bytes = sum(u["bytes"] for u in q.unreadable_files)
        infos[name] = info
        quality[name] = q.to_json()
        if progress:
            progress(name, info, q)
    collected.wait_registers()
    registers, register_quality = registers_mod.load_registers(collected.registers, collected.register_errors)
    quality["registers"] = register_quality
    return LoadedData(con=con, datasets=infos, registers=registers, quality=quality,
                      unreadable_tolerance=unreadable_tolerance)


def _load_dataset(con, dataset: Dataset, files: list[DataFile], q: _Quality,
                  platform_names: list[str] | None, latest: datetime) -> DatasetInfo:
    """Scan into the dataset's table, then take out other-platform (`platform_names`: SoRs only, None keeps
    every platform), quarantined and duplicate rows in place (no second copy of the table: at millions of
    rows a copy would double the peak memory)."""
    table = TABLES[dataset.name]
    con.execute(create_table_sql(dataset, extra=", _reason VARCHAR, _src VARCHAR"))
    present: set[str] = set()
    loaded: dict[str, tuple[DataFile, _Group]] = {}
    for group in _groups(con, dataset, files, q):
        for f, read_as in _insert_group(con, dataset, table, group, q, latest):
            loaded[str(f.path)] = (f, read_as)
            present |= {c.name for c in dataset.columns if c.input_name in read_as.types}
    q.files = len(loaded)
    q.bytes = sum(f.size for f, _ in loaded.values())
    if platform_names is not None:  # first: another platform's broken row is theirs, not one of ours
        _keep_platform(con, table, platform_names, q)
    if _collect_quarantine(con, dataset, table, q, loaded, latest, platform_names):
        con.execute(f"DELETE FROM {table} WHERE _reason IS NOT NULL")
    if dataset is ACTIVE_RECIPIENTS:
        _keep_eu(con, table, q)
    if dataset.dedupe_by:
        _dedupe(con, table, dataset, q)
    for bookkeeping in ("_reason", "_src"):  # NULL on every row left, yet 16 bytes a row in memory
        con.execute(f"ALTER TABLE {table} DROP COLUMN {bookkeeping}")
    q.rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    missing = sorted(c.name for c in dataset.columns if c.name not in present) if loaded else []
    if missing:
        q.extra["columns_missing"] = missing
    return DatasetInfo(files=len(loaded), rows=q.rows, columns=frozenset(present), bytes=q.bytes)


# ---------------------------------------------------------------- grouping by format and header

def _groups(con, dataset: Dataset, files: list[DataFile], q: _Quality) -> list[_Group]:
    """Files with the same format and columns, read together; files lacking a column others have are named.

    JSONL and Parquet files are first described together (one schema sniff instead of one per file, which
    cost a second at 14 files); only when that fails is each file described alone.
    """
    by_key: dict[tuple, _Group] = {}
    typed = [f for f in files if f.fmt != "csv"]
    for fmt in sorted({f.fmt for f in typed}):
        same = [f for f in typed if f.fmt == fmt]
        try:
            rel = con.execute(f"DESCRIBE SELECT * FROM {_READERS[fmt]}", {"files": [str(f.path) for f in same]})
            types = {row[0]: row[1] for row in rel.fetchall() if row[0] != "_src"}
        except duckdb.Error as exc:
            _raise_if_not_the_file(exc)
            continue
        if types:
            by_key[(fmt, False, tuple(sorted(types.items())))] = _Group(fmt, same, types)
    described = {id(f) for g in by_key.values() for f in g.files}
    for f in files:
        if id(f) in described:
            continue
        lenient = False
        try:
            types = _columns_of(con, f)
        except UnreadableFile as exc:
            types = _lenient_columns(con, f) if f.fmt == "jsonl" else None
            if types is None:
                q.unreadable(f, str(exc))
                continue
            lenient = True
        if not types:
            q.unreadable(f, "no header row" if f.fmt == "csv" else "no JSON object in the file" if lenient
                         else "no columns")
            continue
        key = (f.fmt, lenient, tuple(sorted(types.items())))
        by_key.setdefault(key, _Group(f.fmt, [], types, lenient)).files.append(f)
    groups = list(by_key.values())
    wanted = {c.input_name for c in dataset.columns}
    seen = set().union(*(g.types.keys() & wanted for g in groups)) if groups else set()
    lacking = [{"file": f.origin, "columns": sorted(seen - g.types.keys())}
               for g in groups if seen - g.types.keys() for f in g.files]
    if lacking:
        q.extra["files_missing_columns"] = lacking[:MAX_EXAMPLES]
        q.extra["files_missing_columns_count"] = len(lacking)
    return groups


def _columns_of(con, f: DataFile) -> dict[str, str]:
    """Input columns of one file (CSV header read directly: cheap even for large gzip files)."""
    if f.fmt == "csv":
        return {name: "VARCHAR" for name in _csv_header(f.path)}
    try:
        rel = con.execute(f"DESCRIBE SELECT * FROM {_READERS[f.fmt]}", {"files": [str(f.path)]}).fetchall()
    except duckdb.Error as exc:
        _raise_if_not_the_file(exc)
        raise UnreadableFile(_first_line(exc, f)) from None
    return {row[0]: row[1] for row in rel if row[0] != "_src"}


def _lenient_columns(con, f: DataFile) -> dict[str, str] | None:
    """The keys of every JSON object of a JSONL file the typed reader refused, all as VARCHAR (one more
    scan, only of that file); None when even a line-by-line read fails (e.g. a corrupt gzip)."""
    try:
        keys = con.execute(
            "SELECT DISTINCT unnest(json_keys(j)) AS k FROM read_json($files, format='newline_delimited', "
            "records=false, ignore_errors=true, columns={'j': 'JSON'}) ORDER BY k", {"files": [str(f.path)]}
        ).fetchall()
    except duckdb.Error as exc:
        _raise_if_not_the_file(exc)
        return None
    return {key: "VARCHAR" for (key,) in keys if key != "_src"}


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            line = raw.readline(1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        _raise_if_not_the_file(exc)
        raise UnreadableFile(f"cannot decompress: {exc}") from None
    head = line.splitlines()[0] if line.strip() else b""  # CR-only (old Mac) files are one long "line"
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("header is not UTF-8") from None
    try:
        row = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:
        raise UnreadableFile(f"header is not CSV: {exc}") from None
    return [name.strip() for name in row if name.strip()]


def _first_line(exc: BaseException, f: DataFile | None = None) -> str:
    """One line of a DuckDB error, naming the file by its origin rather than its local temporary copy."""
    text = str(exc).strip()
    if f is not None:
        text = text.replace(str(f.path), f.origin)
    lines = text.splitlines()
    return lines[0][:300] if lines else type(exc).__name__


# ---------------------------------------------------------------- normalising SELECT

def _insert_group(con, dataset: Dataset, stage: str, group: _Group, q: _Quality,
                  latest: datetime) -> list[tuple[DataFile, _Group]]:
    """Insert a group with one scan; on failure, file by file so only the broken file is lost.

    A JSONL file the typed reader refuses (a malformed line, a value unlike the type DuckDB sampled) is
    read again leniently, so its bad lines are quarantined and the rest of it still loads.
    Returns each loaded file with the group it was read as."""
    select, params = _normalise_sql(dataset, group, latest)
    try:
        _insert(con, stage, select, params, group, group.files, q)
        return [(f, group) for f in group.files]
    except duckdb.Error as exc:
        _raise_if_not_the_file(exc)
    loaded = []
    for f in group.files:
        try:
            _insert(con, stage, select, params, group, [f], q)
            loaded.append((f, group))
            continue
        except duckdb.Error as exc:
            _raise_if_not_the_file(exc)
            reason = _first_line(exc, f)
        types = _lenient_columns(con, f) if f.fmt == "jsonl" and not group.lenient else None
        if types:
            lenient = _Group(f.fmt, [f], types, lenient=True)
            try:
                _insert(con, stage, *_normalise_sql(dataset, lenient, latest), lenient, [f], q)
                loaded.append((f, lenient))
                continue
            except duckdb.Error as exc:
                _raise_if_not_the_file(exc)
        q.unreadable(f, reason)
    return loaded


def _insert(con, stage, select, params, group: _Group, files: list[DataFile], q: _Quality) -> None:
    """One scan into the stage table; all or nothing, so a failed group can be retried file by file."""
    con.execute("BEGIN")
    try:
        con.execute(f"INSERT INTO {stage} BY NAME {select.replace('{reader}', group.reader)}",
                    {**params, "files": [str(f.path) for f in files]})
        if group.fmt == "csv":
            _count_rejects(con, {str(f.path): f.origin for f in files}, q)
        con.execute("COMMIT")
    except duckdb.Error:
        con.execute("ROLLBACK")
        raise


def _count_rejects(con, origins: dict[str, str], q: _Quality) -> None:
    """Rows DuckDB's CSV reader could not parse (bad encoding, wrong column count) are quarantined too."""
    rows = con.execute(
        "SELECT s.file_path, e.line, min(e.error_type) FROM reject_errors e "
        "JOIN reject_scans s USING (scan_id, file_id) GROUP BY ALL ORDER BY s.file_path, e.line"
    ).fetchall()  # one row may raise several errors (one per extra column): count it once
    for path, line, error_type in rows:
        reason = f"malformed row: {str(error_type).lower()}"
        q.quarantined_rows += 1
        q.reasons[reason] = q.reasons.get(reason, 0) + 1
        if len(q.examples) < MAX_EXAMPLES:
            q.examples.append({"file": origins.get(path, path), "line": int(line), "reason": reason})
    con.execute("DELETE FROM reject_errors")
    con.execute("DELETE FROM reject_scans")


def _normalise_sql(dataset: Dataset, group: _Group, latest: datetime, numbered: bool = False,
                   platform_names: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """SELECT ... FROM {reader}: typed engine columns plus `_reason`/`_value` of the first broken rule.

    Four nested levels so each value is parsed once: raw text (`r_x`) -> typed (`t_x`) -> the first
    broken rule (`_reason`) -> the offending raw value, looked up only for quarantined rows. The load scan
    is not `numbered`: row numbers (WITH ORDINALITY) would make DuckDB read serially, so they are only
    computed when a file with quarantined rows is read again for examples (of `platform_names` only, when
    given: the loader has left other platforms' rows out before counting).
    """
    params: dict[str, Any] = {}
    raw, typed, out = [], [], []
    checks: list[tuple[str, str, str]] = []  # (condition, reason, offending value)
    if group.lenient:  # the lenient reader gives a line that is no JSON object as a row of NULLs
        params["columns"] = dict(group.types)
        every = ", ".join('"' + name.replace('"', '""') + '"' for name in group.types)
        raw.append(f"coalesce({every}) IS NULL AS r_malformed")
        checks.append(("r_malformed", MALFORMED_JSON, "NULL"))
    for col in dataset.columns:
        source_type = group.types.get(col.input_name)
        if source_type is None:
            if col.kept:
                out.append(f"NULL::{column_type(dataset, col)} AS {col.name}")
            if col.required:  # a file without a key column: every row of it lacks the key
                checks.append(("TRUE", f"missing {col.name}", "NULL"))
            continue
        ident = '"' + col.input_name.replace('"', '""') + '"'
        r, t = f"r_{col.name}", f"t_{col.name}"
        native = _native(col, source_type)
        if col.kind == "presence":  # long free text: test the first character before trimming a copy
            text = f"CAST({ident} AS VARCHAR)"
            raw.append(f"CASE WHEN {text} IS NULL THEN FALSE WHEN ascii({text}) > 32 THEN TRUE "
                       f"ELSE trim({text}) <> '' END AS {r}")
            value, bad = r, None
        elif native:  # Parquet/JSON already typed: no round trip through text
            raw.append(f"CAST({ident} AS {native}) AS {r}")
            value, bad = r, None
            if col.kind == "lists":
                params[f"value_{col.name}"] = col.value
                value = f"list_contains({r}, $value_{col.name})"
        else:
            text = f"CAST({ident} AS VARCHAR)"  # trimmed; a copy is made only when there is space to trim
            raw.append(f"CASE WHEN ascii({text}) > 32 AND NOT suffix({text}, ' ') THEN {text} "
                       f"ELSE NULLIF(trim({text}), '') END AS {r}")
            value, bad = _typed(col, r, t, params)
        if col.allowed is not None:  # closed vocabulary: a value the ENUM does not know is quarantined
            value = f"TRY_CAST({value} AS {column_type(dataset, col)})"
            bad = f"({r} IS NOT NULL AND {t} IS NULL)"
        typed.append(f"{value} AS {t}")
        if col.kept:
            out.append(f"{t} AS {col.name}")
        shown = f"CAST({r} AS VARCHAR)"
        if col.required:
            checks.append((f"{r} IS NULL", f"missing {col.name}", "NULL"))
        if bad:
            checks.append((bad, _bad_reason(col), shown))
        if col.kind == "timestamp":
            params.update(latest=latest, earliest=EARLIEST)  # DuckDB refuses unused parameters
            if col.name not in FUTURE_ALLOWED:
                checks.append((f"{t} > $latest", f"future timestamp {col.name}", shown))
            checks.append((f"{t} < $earliest", f"implausible timestamp {col.name}", shown))
    names = {c.name for c in dataset.columns if c.input_name in group.types}
    if dataset.name == "statements_of_reasons" and {"created_at", "application_date"} <= names:
        # -1 day is time-zone skew (a local decision date, a UTC created_at): kept, counted as 0 by the metrics
        checks.append(("CAST(t_created_at AS DATE) < CAST(t_application_date AS DATE) - 1",
                       "negative submission delay", "r_application_date || ' > ' || r_created_at"))
    pairs = [(a, b) for a, b in ORDERED.get(dataset.name, ()) if {a, b} <= names]
    if pairs:  # one reason, so one condition: the value names the first pair out of order
        broken = [f"t_{b} < t_{a}" for a, b in pairs]
        shown = " ".join(f"WHEN {cond} THEN CAST(r_{a} AS VARCHAR) || ' > ' || CAST(r_{b} AS VARCHAR)"
                         for cond, (a, b) in zip(broken, pairs, strict=True))
        checks.append((" OR ".join(broken), NEGATIVE_DURATION, f"CASE {shown} END"))
    reason = ("CASE " + " ".join(f"WHEN {cond} THEN '{label}'" for cond, label, _ in checks) + " END"
              if checks else "NULL::VARCHAR")
    value = ("CASE WHEN _reason IS NULL THEN NULL ELSE CASE _reason "
             + " ".join(f"WHEN '{label}' THEN {val}" for _, label, val in checks) + " END END"
             if checks else "NULL::VARCHAR")
    extra = ["_src", "ordinality AS _ord"] if numbered else ["_src"]
    level1 = f"SELECT {', '.join(raw + extra)} FROM {{reader}}{' WITH ORDINALITY' if numbered else ''}"
    level2 = f"SELECT *, {', '.join(typed)} FROM ({level1})" if typed else level1
    level3 = f"SELECT *, {reason} AS _reason FROM ({level2})"
    if numbered:
        ours = ""
        if platform_names is not None and "platform_name" in names:
            params["platform_names"] = platform_names
            ours = " AND (r_platform_name IS NULL OR list_contains($platform_names, r_platform_name))"
        return (f"SELECT _ord, _reason, left({value}, 120) AS _value FROM ({level3}) "
                f"WHERE _reason IS NOT NULL{ours} ORDER BY _ord LIMIT $room"), params
    # the file name is kept only for quarantined rows: a path on every row would cost more than the data
    sql = (f"SELECT {', '.join(out)}, _reason, CASE WHEN _reason IS NOT NULL THEN _src END AS _src "
           f"FROM ({level3})")
    return sql, params


def _bad_reason(col: Column) -> str:
    kind = {"timestamp": "bad timestamp", "bool": "bad boolean", "int": "bad integer", "lists": "bad list",
            "month": "bad month", "number": "bad number"}.get(col.kind, "unknown value")
    return f"{kind} {col.input_name}"


_NATIVE = {  # engine kind -> DuckDB source types that need no parsing
    "timestamp": ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"),
    "bool": ("BOOLEAN",),
    "int": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "HUGEINT"),
    "number": ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT",
               "UTINYINT", "HUGEINT"),
}


def _native(col: Column, source_type: str) -> str | None:
    """The cast for a source column already of the engine's type (None: parse it from text)."""
    if col.kind == "lists" and source_type.endswith("[]"):
        return "VARCHAR[]"
    if source_type in _NATIVE.get(col.kind, ()):
        return SQL_TYPES[col.kind]  # a TIMESTAMPTZ becomes UTC wall time: the session is in UTC
    return None


def _typed(col: Column, r: str, t: str, params: dict[str, Any]) -> tuple[str, str | None]:
    """(typed expression over the raw column `r`, condition over `r`/typed `t` that marks the row bad)."""
    parsed_bad = f"({r} IS NOT NULL AND {t} IS NULL)"
    if col.kind == "timestamp":
        # the plain cast is three times cheaper but would drop an offset: only `YYYY-MM-DD` and
        # `YYYY-MM-DD HH:MM:SS` (no room for an offset) take it; anything else gets the time-zone parser
        plain = f"length({r}) = 10 OR (length({r}) = 19 AND {r}[17] = ':')"
        return (f"CASE WHEN {plain} THEN TRY_CAST({r} AS TIMESTAMP) "
                f"ELSE TRY_CAST({r} AS TIMESTAMPTZ)::TIMESTAMP END"), parsed_bad
    if col.kind == "bool":
        return (f"CASE lower({r}) WHEN 'true' THEN TRUE WHEN '1' THEN TRUE WHEN 'yes' THEN TRUE "
                f"WHEN 'false' THEN FALSE WHEN '0' THEN FALSE WHEN 'no' THEN FALSE END"), parsed_bad
    if col.kind == "int":
        return f"TRY_CAST({r} AS BIGINT)", parsed_bad
    if col.kind == "number":  # a decimal, e.g. a full-time equivalent (12.5)
        return f"TRY_CAST({r} AS DOUBLE)", parsed_bad
    if col.kind == "month":
        return f"CASE WHEN regexp_full_match({r}, '\\d{{4}}-(0[1-9]|1[0-2])(-\\d{{2}})?') THEN left({r}, 7) END", \
            parsed_bad
    if col.kind == "lists":
        # JSON text of strings (TDB CSV): the value is looked for in the text (parsing three lists a row cost
        # 10 s of a 47 s SoR load at 12 M rows); the values looked for are no part of another key
        params[f"value_{col.name}"] = col.value
        return (f"contains({r}, $value_{col.name})",
                f"({r} IS NOT NULL AND NOT (starts_with({r}, '[') AND suffix({r}, ']')))")
    if col.name == "category":  # v1 keys with a v2 successor are mapped
        whens = []
        for i, (v1, v2) in enumerate(CATEGORY_V1_TO_V2.items()):
            params[f"v1_{i}"], params[f"v2_{i}"] = v1, v2
            whens.append(f"WHEN {r} = $v1_{i} THEN $v2_{i}")
        return f"CASE {' '.join(whens)} ELSE {r} END", None
    return r, None


# ---------------------------------------------------------------- quarantine, platform, dedupe

def _collect_quarantine(con, dataset: Dataset, table: str, q: _Quality,
                        loaded: dict[str, tuple[DataFile, _Group]], latest: datetime,
                        platform_names: list[str] | None = None) -> int:
    """Counts per reason; then the first examples (file, 1-based data row, reason, value), found by reading
    again, with row numbers, only the files that had quarantined rows."""
    found, dirty = 0, []
    for reason, path, count in con.execute(  # one pass: counts per reason and the files they came from
        f"SELECT _reason, _src, count(*) FROM {table} WHERE _reason IS NOT NULL GROUP BY ALL ORDER BY 2, 1"
    ).fetchall():
        q.reasons[reason] = q.reasons.get(reason, 0) + count
        q.quarantined_rows += count
        found += count
        if path not in dirty:
            dirty.append(path)
    for path in dirty:
        room = MAX_EXAMPLES - len(q.examples)
        if room <= 0:
            break
        if path not in loaded:
            continue
        f, group = loaded[path]
        sql, params = _normalise_sql(dataset, group, latest, numbered=True, platform_names=platform_names)
        rows = con.execute(sql.replace("{reader}", group.reader),
                           {**params, "files": [path], "room": room}).fetchall()
        for row, reason, value in rows:
            example = {"file": f.origin, "row": int(row), "reason": reason}
            if value is not None:
                example["value"] = value
            q.examples.append(example)
    return found


def _keep_platform(con, table: str, names: list[str], q: _Quality) -> None:
    """A public dump holds every platform: rows of others are left out and counted, not quarantined (a row
    without platform_name stays, to be quarantined as such)."""
    others = con.execute(  # DELETE returns how many rows it removed: no separate count
        f"DELETE FROM {table} WHERE NOT list_contains($names, platform_name)", {"names": names}
    ).fetchone()[0]
    q.extra["other_platform"] = int(others)


def _keep_eu(con, table: str, q: _Quality) -> None:
    """Active recipients of countries outside the EU-27 are left out and counted (with the codes seen, so a
    mistyped code such as EL for Greece shows in the data-quality section), not quarantined."""
    others = con.execute(
        f"SELECT member_state, count(*) FROM {table} WHERE NOT list_contains($eu, member_state) "
        "GROUP BY member_state ORDER BY member_state", {"eu": sorted(EU_MEMBER_STATES)}).fetchall()
    if others:
        con.execute(f"DELETE FROM {table} WHERE NOT list_contains($eu, member_state)",
                    {"eu": sorted(EU_MEMBER_STATES)})
    q.extra["non_eu_rows"] = sum(n for _, n in others)
    if others:
        q.extra["non_eu_member_states"] = [code for code, _ in others]


def _dedupe(con, table: str, dataset: Dataset, q: _Quality) -> None:
    """One row per `dataset.key` (SoRs: platform_name, platform_uid): the earliest `dataset.dedupe_by` is kept.

    One aggregate over a hash of the key finds the keys that may be duplicated (one 8-byte group key instead
    of two strings); only their rows are ranked, by the key itself, so a hash collision costs nothing but a
    few more rows ranked, and a clean load pays one pass. Rows with the same key and `created_at` are told
    apart by a hash of their content, so the row kept does not depend on the order the parallel load stored
    them in.
    """
    key, s_key = ", ".join(dataset.key), ", ".join(f"s.{c}" for c in dataset.key)
    suspects = con.execute(  # CREATE TABLE AS returns how many rows it wrote: no separate count
        f"CREATE OR REPLACE TEMP TABLE dup_keys AS SELECT hash({key}) AS h "
        f"FROM {table} GROUP BY h HAVING count(*) > 1").fetchone()[0]
    removed = 0
    if suspects:
        removed = con.execute(
            f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM (SELECT s.rowid, row_number() OVER ("
            f"PARTITION BY {s_key} ORDER BY s.{dataset.dedupe_by} NULLS LAST, hash(s), s.rowid) AS n "
            f"FROM {table} s WHERE hash({s_key}) IN (SELECT h FROM dup_keys)) WHERE n > 1)"
        ).fetchone()[0]
    con.execute("DROP TABLE dup_keys")
    q.extra["duplicates_removed"] = int(removed)


# ---- export for another engine (engine/spark.py) --------------------------------------------------------

def export_parquet(data: LoadedData, folder: Path) -> dict[str, Path]:
    """The loaded tables as files another engine reads: each as `<table>.parquet` (columns and types as in
    DuckDB; ENUMs become text, timestamps stay without time zone). Returns table -> Parquet file."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {}
    for table in TABLES.values():
        path = folder / f"{table}.parquet"
        quoted = "'" + str(path).replace("'", "''") + "'"  # COPY takes no parameter for its target
        data.con.execute(f"COPY {table} TO {quoted} (FORMAT parquet)")
        tables[table] = path
    return tables
