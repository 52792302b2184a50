"""Load every dataset once into DuckDB: read, normalise, quarantine bad rows, dedupe SoRs.

Files of one dataset are grouped by format and header, and each group is read by one DuckDB scan
(parallel across files) whose SELECT normalises every column and names the first rule a row breaks
(`_reason`). Clean rows stay in the dataset's table; quarantined rows are counted per reason, with up to
20 examples (file, row, reason, value), and removed. A file DuckDB cannot read at all is retried alone,
so one corrupt gzip or non-UTF-8 file is named and the rest still loads.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from . import registers as registers_mod
from .loaded import DatasetInfo, LoadedData
from .sources import Collected, DataFile
from .spec import CATEGORY_V1_TO_V2, DATASETS, SQL_TYPES, TABLES, Column, Dataset

MAX_EXAMPLES = 20
EARLIEST = datetime(2000, 1, 1)  # the TDB refuses content dates before 2000: earlier ones are typos
FUTURE_ALLOWED = {"ends_at"}  # a suspension may end after the run; no other event can be in the future
_READERS = {
    "csv": "read_csv($files, all_varchar=true, header=true, filename='_src', "
           "store_rejects=true, ignore_errors=true, rejects_limit=0)",
    "jsonl": "read_json($files, format='newline_delimited', union_by_name=true, filename='_src')",
    "parquet": "read_parquet($files, union_by_name=true, filename='_src')",
}


class UnreadableFile(Exception):
    """A file no reader can open (bad compression, encoding, structure); the run goes on without it."""


@dataclass
class _Group:
    fmt: str
    files: list[DataFile]
    types: dict[str, str]  # input column -> DuckDB type


@dataclass
class _Quality:
    files: int = 0
    rows: int = 0
    quarantined_rows: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)
    unreadable_files: list[dict] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files, "rows": self.rows, "quarantined_rows": self.quarantined_rows,
            "reasons": dict(sorted(self.reasons.items())), "examples": self.examples[:MAX_EXAMPLES],
            "unreadable_files": self.unreadable_files, **self.extra,
        }


def connect(*, memory_limit: str | None = None, temp_directory: str | None = None,
            threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set for the run: UTC, bounded memory, spilling to local temp storage."""
    settings: dict[str, str | int] = {}
    if memory_limit:
        settings["memory_limit"] = memory_limit
    if temp_directory:
        settings["temp_directory"] = temp_directory
    if threads:
        settings["threads"] = threads
    con = duckdb.connect(config=settings)
    con.execute("SET TimeZone = 'UTC'")  # bundled icu; timestamps without offset are UTC
    return con


def load(collected: Collected, con: duckdb.DuckDBPyConnection, *, platform_names: Iterable[str] | None,
         progress=None, now: datetime | None = None) -> LoadedData:
    """Load every dataset of the contract (a missing one becomes an empty table with files=0).

    `platform_names`: the SoR platform_name values to keep (None keeps every platform). A timestamp more
    than a day after `now` (the run time) is quarantined as a future timestamp.
    """
    latest = (now or datetime.now(UTC)).replace(tzinfo=None) + timedelta(days=1)
    infos: dict[str, DatasetInfo] = {}
    quality: dict[str, dict] = {}
    for name, dataset in DATASETS.items():
        q = _Quality()
        for bad in collected.unreadable.get(name, []):
            q.unreadable_files.append({"file": bad.origin, "reason": bad.reason})
        if collected.ignored.get(name):
            q.extra["ignored_files"] = collected.ignored[name]
        names = None if platform_names is None else list(platform_names)
        info = _load_dataset(con, dataset, collected.files.get(name, []), q, names, latest)
        infos[name] = info
        quality[name] = q.to_json()
        if progress:
            progress(name, info, q)
    registers, register_quality = registers_mod.load_registers(collected.registers, collected.register_errors)
    quality["registers"] = register_quality
    return LoadedData(con=con, datasets=infos, registers=registers, quality=quality)


def _load_dataset(con, dataset: Dataset, files: list[DataFile], q: _Quality,
                  platform_names: list[str] | None, latest: datetime) -> DatasetInfo:
    table = TABLES[dataset.name]
    stage = f"stage_{table}"
    cols = ", ".join(f"{c.name} {_sql_type(c)}" for c in dataset.columns)
    con.execute(f"CREATE OR REPLACE TABLE {stage} ({cols}, _reason VARCHAR, _value VARCHAR, "
                "_src VARCHAR, _ord BIGINT)")
    present: set[str] = set()
    readable = 0
    for group in _groups(con, dataset, files, q):
        loaded = _insert_group(con, dataset, stage, group, q, latest)
        readable += len(loaded)
        if loaded:
            present |= {c.name for c in dataset.columns if c.input_name in group.types}
    q.files = readable
    _collect_quarantine(con, stage, q, {str(f.path): f.origin for f in files})
    con.execute(f"DELETE FROM {stage} WHERE _reason IS NOT NULL")
    if dataset.name == "statements_of_reasons":
        if platform_names is not None:
            _keep_platform(con, stage, platform_names, q)
        _dedupe(con, stage, q)
    keep = ", ".join(c.name for c in dataset.columns)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {keep} FROM {stage}")
    con.execute(f"DROP TABLE {stage}")
    q.rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    missing = sorted(c.name for c in dataset.columns if c.name not in present) if readable else []
    if missing:
        q.extra["columns_missing"] = missing
    return DatasetInfo(files=readable, rows=q.rows, columns=frozenset(present))


def _sql_type(column: Column) -> str:
    return SQL_TYPES[column.kind]


# ---------------------------------------------------------------- grouping by format and header

def _groups(con, dataset: Dataset, files: list[DataFile], q: _Quality) -> list[_Group]:
    """Files with the same format and columns, read together; files lacking a column others have are named."""
    by_key: dict[tuple, _Group] = {}
    for f in files:
        try:
            types = _columns_of(con, f)
        except UnreadableFile as exc:
            q.unreadable_files.append({"file": f.origin, "reason": str(exc)})
            continue
        if not types:
            q.unreadable_files.append({"file": f.origin, "reason": "no header row"})
            continue
        key = (f.fmt, tuple(sorted(types.items())))
        by_key.setdefault(key, _Group(f.fmt, [], types)).files.append(f)
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
        raise UnreadableFile(_first_line(exc)) from None
    return {row[0]: row[1] for row in rel if row[0] != "_src"}


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            line = raw.readline(1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableFile(f"cannot decompress: {exc}") from None
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("header is not UTF-8") from None
    row = next(csv.reader(io.StringIO(text)), [])
    return [name.strip() for name in row if name.strip()]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


# ---------------------------------------------------------------- normalising SELECT

def _insert_group(con, dataset: Dataset, stage: str, group: _Group, q: _Quality,
                  latest: datetime) -> list[DataFile]:
    """Insert a group with one scan; on failure, file by file so only the broken file is lost."""
    select, params = _normalise_sql(dataset, group, latest)
    try:
        _insert(con, stage, select, params, group.fmt, group.files, q)
        return group.files
    except duckdb.Error:
        pass
    loaded = []
    for f in group.files:
        try:
            _insert(con, stage, select, params, group.fmt, [f], q)
            loaded.append(f)
        except duckdb.Error as exc:
            q.unreadable_files.append({"file": f.origin, "reason": _first_line(exc)})
    return loaded


def _insert(con, stage, select, params, fmt, files: list[DataFile], q: _Quality) -> None:
    """One scan into the stage table; all or nothing, so a failed group can be retried file by file."""
    con.execute("BEGIN")
    try:
        con.execute(f"INSERT INTO {stage} BY NAME {select.replace('{reader}', _READERS[fmt])}",
                    {**params, "files": [str(f.path) for f in files]})
        if fmt == "csv":
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


def _normalise_sql(dataset: Dataset, group: _Group, latest: datetime) -> tuple[str, dict[str, Any]]:
    """SELECT ... FROM {reader}: typed engine columns plus `_reason`/`_value` of the first broken rule."""
    params: dict[str, Any] = {}
    raw, typed, checks = [], [], []
    exprs: dict[str, str] = {}
    for col in dataset.columns:
        source_type = group.types.get(col.input_name)
        if source_type is None:
            typed.append(f"NULL::{_sql_type(col)} AS {col.name}")
            continue
        ident = '"' + col.input_name.replace('"', '""') + '"'
        r = f"r_{col.name}"
        if col.kind == "list" and source_type.endswith("[]"):
            raw.append(f"CAST({ident} AS VARCHAR[]) AS {r}")
        else:
            raw.append(f"NULLIF(trim(CAST({ident} AS VARCHAR)), '') AS {r}")
        value, bad = _typed(col, r, source_type, params)
        exprs[col.name] = value
        typed.append(f"{value} AS {col.name}")
        shown = f"CAST({r} AS VARCHAR)"
        if col.required:
            checks.append((f"{r} IS NULL", f"missing {col.name}", "NULL"))
        if bad:
            checks.append((bad, _bad_reason(col), shown))
        if col.kind == "timestamp":
            params.update(latest=latest, earliest=EARLIEST)  # DuckDB refuses unused parameters
            if col.name not in FUTURE_ALLOWED:
                checks.append((f"{value} > $latest", f"future timestamp {col.name}", shown))
            checks.append((f"{value} < $earliest", f"implausible timestamp {col.name}", shown))
    if dataset.name == "statements_of_reasons" and {"created_at", "application_date"} <= exprs.keys():
        created, applied = exprs["created_at"], exprs["application_date"]
        checks.append((f"CAST({created} AS DATE) < CAST({applied} AS DATE)", "negative submission delay",
                       f"CAST({applied} AS VARCHAR) || ' > ' || CAST({created} AS VARCHAR)"))
    reason = "CASE " + " ".join(f"WHEN {cond} THEN '{label}'" for cond, label, _ in checks) + " END" \
        if checks else "NULL"
    value = "CASE " + " ".join(f"WHEN {cond} THEN {val}" for cond, _, val in checks) + " END" \
        if checks else "NULL"
    sql = (
        f"SELECT {', '.join(typed)}, {reason} AS _reason, left({value}, 120) AS _value, _src, _ord "
        f"FROM (SELECT {', '.join(raw + ['_src', 'ordinality AS _ord'])} FROM {{reader}} WITH ORDINALITY)"
    )
    return sql, params


def _bad_reason(col: Column) -> str:
    kind = {"timestamp": "bad timestamp", "bool": "bad boolean", "int": "bad integer", "list": "bad list",
            "month": "bad month"}.get(col.kind, "unknown value")
    return f"{kind} {col.name}"


def _typed(col: Column, r: str, source_type: str, params: dict[str, Any]) -> tuple[str, str | None]:
    """(typed expression, condition that marks the raw value bad or None)."""
    if col.kind == "timestamp":
        value = f"TRY_CAST({r} AS TIMESTAMPTZ)::TIMESTAMP"
        return value, f"({r} IS NOT NULL AND {value} IS NULL)"
    if col.kind == "bool":
        value = (f"CASE lower({r}) WHEN 'true' THEN TRUE WHEN '1' THEN TRUE WHEN 'yes' THEN TRUE "
                 f"WHEN 'false' THEN FALSE WHEN '0' THEN FALSE WHEN 'no' THEN FALSE END")
        return value, f"({r} IS NOT NULL AND ({value}) IS NULL)"
    if col.kind == "int":
        value = f"TRY_CAST({r} AS BIGINT)"
        return value, f"({r} IS NOT NULL AND {value} IS NULL)"
    if col.kind == "month":
        value = f"CASE WHEN regexp_full_match({r}, '\\d{{4}}-(0[1-9]|1[0-2])(-\\d{{2}})?') THEN left({r}, 7) END"
        return value, f"({r} IS NOT NULL AND ({value}) IS NULL)"
    if col.kind == "list":
        if source_type.endswith("[]"):
            return r, None
        ok = f"(CASE WHEN json_valid({r}) THEN json_type({r}) = 'ARRAY' ELSE FALSE END)"
        return f"CASE WHEN {ok} THEN from_json({r}, '[\"VARCHAR\"]') END", f"({r} IS NOT NULL AND NOT {ok})"
    if col.kind == "presence":
        return f"({r} IS NOT NULL)", None
    value = r
    if col.name == "category":
        params["v1"] = list(CATEGORY_V1_TO_V2)
        params["v2"] = list(CATEGORY_V1_TO_V2.values())
        value = f"coalesce(list_extract($v2, list_position($v1, {r})), {r})"
    if col.allowed is not None:
        key = f"allowed_{col.name}"
        params[key] = sorted(col.allowed)
        return value, f"({r} IS NOT NULL AND NOT list_contains(${key}, {r}))"
    return value, None


# ---------------------------------------------------------------- quarantine, platform, dedupe

def _collect_quarantine(con, stage: str, q: _Quality, origins: dict[str, str]) -> None:
    """Counts per reason, and the first examples with the user's file name and 1-based data row."""
    for reason, count in con.execute(
        f"SELECT _reason, count(*) FROM {stage} WHERE _reason IS NOT NULL GROUP BY ALL ORDER BY 1"
    ).fetchall():
        q.reasons[reason] = q.reasons.get(reason, 0) + count
        q.quarantined_rows += count
    room = MAX_EXAMPLES - len(q.examples)
    if room <= 0 or not q.quarantined_rows:
        return
    examples = con.execute(
        f"WITH firsts AS (SELECT _src, min(_ord) AS first FROM {stage} GROUP BY _src) "
        f"SELECT s._src, s._ord - f.first + 1, s._reason, s._value FROM {stage} s JOIN firsts f USING (_src) "
        f"WHERE s._reason IS NOT NULL ORDER BY s._src, s._ord LIMIT $n", {"n": room}
    ).fetchall()
    for src, row, reason, value in examples:
        example = {"file": origins.get(src, src), "row": int(row), "reason": reason}
        if value is not None:
            example["value"] = value
        q.examples.append(example)


def _keep_platform(con, stage: str, names: list[str], q: _Quality) -> None:
    """A public dump holds every platform: rows of others are left out and counted, not quarantined."""
    others = con.execute(
        f"SELECT count(*) FROM {stage} WHERE NOT list_contains($names, platform_name)", {"names": names}
    ).fetchone()[0]
    if others:
        con.execute(f"DELETE FROM {stage} WHERE NOT list_contains($names, platform_name)", {"names": names})
    q.extra["other_platform"] = int(others)


def _dedupe(con, stage: str, q: _Quality) -> None:
    """One SoR per (platform_name, platform_uid): the earliest created_at is kept."""
    total, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT (platform_name, platform_uid)) FROM {stage}"
    ).fetchone()
    q.extra["duplicates_removed"] = int(total - distinct)
    if total == distinct:
        return
    con.execute(
        f"DELETE FROM {stage} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER ("
        f"PARTITION BY platform_name, platform_uid ORDER BY created_at NULLS LAST, _src, _ord) AS n "
        f"FROM {stage}) WHERE n > 1)"
    )


def summarise(quality: dict[str, dict]) -> dict[str, int]:
    """Totals for a progress line or log record."""
    totals: dict[str, int] = defaultdict(int)
    for entry in quality.values():
        for key in ("files", "rows", "quarantined_rows"):
            totals[key] += int(entry.get(key, 0))
    return dict(totals)
