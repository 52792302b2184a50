"""Apache Spark behind the query seam: the same rules and metrics, for periods one Lambda cannot hold.

The rules' SQL is written once, in DuckDB's dialect. `SparkConnection` is the seam's `Connection`
(engine/query.py) over a SparkSession: each statement is translated by sqlglot (read "duckdb", write "spark")
plus the transforms below, every value is bound by Spark as a named parameter (`spark.sql(text, args)`,
never formatted into the text), and rows come back as tuples of the Python types DuckDB returns (datetime
without time zone, date, int, float, bool, str, list).

Translated here, because sqlglot's translation differs from DuckDB's meaning or Spark 3.5 lacks it:
- `epoch(ts)` -> `unix_micros(CAST(ts AS TIMESTAMP)) / 1000000` (sqlglot's unix_timestamp drops the
  microseconds; the session time zone is UTC, so the cast does not shift the value);
- `epoch_us(ts)` -> `unix_micros(CAST(ts AS TIMESTAMP))`;
- `quantile_cont(x, q)` -> `percentile(x, q)`: exact, interpolated like DuckDB; `q` a number or a list;
- `list([DISTINCT] x [ORDER BY x]) [FILTER (WHERE c)]` -> `array_sort(collect_list([DISTINCT] x) [FILTER ...])`,
  NULL when no row is aggregated like DuckDB (Spark gives an empty array); ordered only by the value
  itself, and the values are never null (collect_list drops nulls): what the rules aggregate;
- `list_slice(l, a, b)` -> `slice(l, a, b - a + 1)`;
- `SELECT unnest(a) AS x, unnest(b) AS y` -> `SELECT inline(arrays_zip(a, b)) AS (x, y)`: DuckDB unnests
  lists side by side, Spark allows one generator per SELECT;
- a list parameter `$p` -> `array($p__0, ..., $p__n)`: Spark 3.5 binds only scalar literals.
The other DuckDB constructs the rules used were rewritten in the rules into SQL both engines run alike
(docs/performance.md, "Spark").

Tables reach Spark as Parquet (`ingest.loader.export_parquet` locally, the curated store's parts on EMR), registered as
temporary views of a session of their own. pyspark is imported only when a session is made: the Lambda
bundle does not ship it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from ..ingest import curated, loader
from ..ingest.contract import DATASETS, SQL_TYPES, STATEMENTS_OF_REASONS, TABLES
from ..ingest.loaded import LoadedData

# what every session running the rules needs: timestamps without time zone (the engine tables' type) read,
# bound and returned as such, UTC wherever a conversion happens, and DuckDB's non-ANSI arithmetic (x / 0 is
# NULL)
SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.ansi.enabled": "false",
}


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing: Spark cannot run here."""


def java_missing() -> str | None:
    """Why Spark cannot start here (no Java, no pyspark), or None."""
    home = os.environ.get("JAVA_HOME")
    if not (home and Path(home, "bin", "java").exists()) and shutil.which("java") is None:
        return "no Java runtime (java not on PATH, JAVA_HOME unset; `make java` installs one)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (requirements-dev.txt)"
    return None


def local_session(cores: int = 2, shuffle_partitions: int = 2, driver_memory: str = "2g") -> Any:
    """A SparkSession in local mode (tests, the CLI with DSA_ENGINE=spark, the benchmark)."""
    reason = java_missing()
    if reason:
        raise SparkUnavailable(reason)
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(f"local[{cores}]").appName("dsa-report")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.driver.memory", driver_memory)
               .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
               .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC"))
    for key, value in SQL_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class _Rows:
    def __init__(self, rows: list[tuple]):
        self._rows = rows

    def fetchall(self) -> list[tuple]:
        return self._rows


class SparkConnection:
    """The query seam's Connection over Spark: `execute(duckdb_sql, params).fetchall()`.

    `tables`: engine table name -> Parquet file or folder (local path or URI). They are registered as
    temporary views of a session of their own, so two periods on one SparkContext never see each other."""

    def __init__(self, session: Any, tables: Mapping[str, str | Path]):
        self.session = session.newSession()
        for key, value in SQL_CONF.items():
            self.session.conf.set(key, value)
        for table, path in tables.items():
            paths = [str(p) for p in path] if isinstance(path, list) else [str(path)]
            frame = self.session.read.parquet(*paths) if paths else self.session.sql(_empty(table))
            frame.createOrReplaceTempView(table)

    def execute(self, sql: str, parameters: list | dict | None = None) -> _Rows:
        text, args = bind(sql, parameters)
        return _Rows([tuple(row) for row in self.session.sql(text, args=args).collect()])

    def close(self) -> None:
        for table in self.session.catalog.listTables():
            if table.isTemporary:
                self.session.catalog.dropTempView(table.name)


@contextmanager
def on_spark(data: LoadedData, session: Any, folder: Path) -> Iterator[LoadedData]:
    """The same loaded period with its tables in Spark: exported to Parquet in `folder`, and a SparkConnection
    in place of the DuckDB connection (the query handle then runs every rule and metric on Spark)."""
    con = SparkConnection(session, loader.export_parquet(data, folder))
    try:
        yield replace(data, con=con)
    finally:
        con.close()


def from_curated(store: curated.Store, plan: curated.Plan, session: Any, workdir: Path,
                 unreadable_tolerance: float = 0.0) -> LoadedData:
    """A period of the curated store on Spark: its parts read where they are (s3:// on EMR), SoRs deduplicated
    across objects as `curated.open_plan` does on DuckDB (the earliest `dedupe_by`, ties by part name). Each part
    is checked against its record by its size in the store's listing (DuckDB also checks its footer's rows)."""
    sizes = {key: n for dataset in {key.split("/", 1)[0] for key in plan.expected}
             for key, n in store.sizes(f"{dataset}/").items()}
    curated.check_parts(plan, {key: (sizes.get(key), None) for key in plan.expected}, store.root)
    dataset = STATEMENTS_OF_REASONS
    sor = TABLES[dataset.name]
    tables = {table: [store.uri(key) for key in keys] for table, keys in plan.parts.items()}
    parts = tables.pop(sor)
    several = len(parts) > 1  # one object is deduplicated already
    con = SparkConnection(session, {**tables, (f"{sor}_parts" if several else sor): parts})
    if several:
        columns = ", ".join(c.name for c in dataset.columns if c.kept)
        con.session.sql(  # identifiers from the contract, no value: nothing to bind
            f"SELECT {columns} FROM (SELECT *, row_number() OVER (PARTITION BY {', '.join(dataset.key)} ORDER BY "
            f"{dataset.dedupe_by} ASC NULLS LAST, regexp_extract(input_file_name(), '[^/]+$', 0)) AS _n "
            f"FROM {sor}_parts) WHERE _n = 1").createOrReplaceTempView(sor)
        removed = plan.datasets[dataset.name].rows - con.execute(f"SELECT count(*) FROM {sor}").fetchall()[0][0]
        if removed:
            q = plan.quality[dataset.name]
            q["duplicates_removed"] = q.get("duplicates_removed", 0) + removed
            q["rows"] -= removed
            plan.datasets[dataset.name].rows -= removed
    registers, register_quality = curated.read_registers(store, workdir)
    return LoadedData(con=con, datasets=plan.datasets, registers=registers,  # type: ignore[arg-type]
                      quality={**plan.quality, "registers": register_quality},
                      unreadable_tolerance=unreadable_tolerance)


_SPARK_TYPES = {"VARCHAR": "STRING", "TIMESTAMP": "TIMESTAMP_NTZ", "BOOLEAN": "BOOLEAN", "BIGINT": "BIGINT",
                "DOUBLE": "DOUBLE"}


def _empty(table: str) -> str:
    """A query of no rows with the columns and types of an engine table (a dataset nothing was found of)."""
    dataset = next(DATASETS[name] for name, t in TABLES.items() if t == table)
    columns = ", ".join(f"CAST(NULL AS {_SPARK_TYPES[SQL_TYPES[c.kind]]}) AS {c.name}"
                        for c in dataset.columns if c.kept)
    return f"SELECT {columns} WHERE FALSE"


# ---- translation --------------------------------------------------------------------------------------


class NotPortable(ValueError):
    """A DuckDB construct this adapter does not translate: rewrite the statement in the portable subset."""


def bind(sql: str, parameters: list | dict | None) -> tuple[str, dict | list]:
    """(Spark SQL text, args for spark.sql): list parameters become arrays of scalar parameters."""
    if not parameters:
        return spark_sql(sql), {}
    if not isinstance(parameters, dict):
        if any(isinstance(v, (list, tuple)) for v in parameters):
            raise NotPortable("a list bound by position: name it ($name)")
        return spark_sql(sql), list(parameters)
    lists = {k: list(v) for k, v in parameters.items() if isinstance(v, (list, tuple))}
    args = {k: v for k, v in parameters.items() if k not in lists}
    if not lists:
        return spark_sql(sql), args
    for name, values in lists.items():
        if not values:
            raise NotPortable(f"the list parameter ${name} is empty (Spark cannot type an empty array)")
        args.update({f"{name}__{i}": v for i, v in enumerate(values)})

    def expand(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name in lists:
            return exp.Array(expressions=[exp.Placeholder(this=f"{node.name}__{i}")
                                          for i in range(len(lists[node.name]))])
        return node

    return translate(sql).copy().transform(expand).sql(dialect="spark"), args


@lru_cache(maxsize=1024)
def spark_sql(sql: str) -> str:
    return translate(sql).sql(dialect="spark")


@lru_cache(maxsize=1024)
def translate(sql: str) -> exp.Expression:
    """The statement parsed as DuckDB SQL, with the constructs listed in the module docstring rewritten."""
    return _bottom_up(sqlglot.parse_one(sql, read="duckdb"))


def _bottom_up(node: exp.Expression) -> exp.Expression:
    """Rewrite the children first, then the node: a rewritten node keeps its rewritten arguments."""
    for child in list(node.iter_expressions()):
        new = _bottom_up(child)
        if new is not child:
            child.replace(new)
    return _zip_unnests(_function(node))


def _timestamp(node: exp.Expression) -> exp.Expression:
    # TIMESTAMP_LTZ: with spark.sql.timestampType=TIMESTAMP_NTZ a bare TIMESTAMP is NTZ; UTC, so no shift
    return exp.Cast(this=node, to=exp.DataType.build("timestampltz"))


def _micros(node: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="unix_micros", expressions=[_timestamp(node)])


def _function(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.TimeToUnix):
        return exp.Paren(this=exp.Div(this=_micros(node.this), expression=exp.Literal.number(1_000_000)))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch_us":
        return _micros(node.expressions[0])
    if isinstance(node, exp.PercentileCont):
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
        return _list(node.this, node.expression)
    if isinstance(node, exp.ArrayAgg) and not isinstance(node.parent, exp.Filter):
        return _list(node, None)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "list_slice":
        lst, begin, end = node.expressions
        length = exp.Add(this=exp.Sub(this=end.copy(), expression=begin.copy()), expression=exp.Literal.number(1))
        return exp.Anonymous(this="slice", expressions=[lst, begin, length])
    return node


def _list(agg: exp.ArrayAgg, where: exp.Where | None) -> exp.Expression:
    """DuckDB's list([DISTINCT] x [ORDER BY x]) [FILTER (WHERE c)]: collect_list sorted by array_sort, and NULL
    (not Spark's empty array) when no row is aggregated."""
    value, keys = agg.this, []
    if isinstance(value, exp.Order):
        value, keys = value.this, value.expressions
    inner = value.expressions[0] if isinstance(value, exp.Distinct) else value
    if keys and (len(keys) != 1 or keys[0].this != inner or keys[0].args.get("desc")):
        raise NotPortable(f"list() ordered by anything but its own value, ascending: {agg.sql('duckdb')}")
    collected: exp.Expression = exp.ArrayAgg(this=value.copy())
    if where is not None:
        collected = exp.Filter(this=collected, expression=where.copy())
    result = exp.ArraySort(this=collected.copy()) if keys else collected.copy()
    empty = exp.EQ(this=exp.Anonymous(this="size", expressions=[collected]), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=empty, true=exp.Null())], default=result)


def _zip_unnests(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.Select):
        return node
    unnests = [e for e in node.expressions if isinstance(e, exp.Alias) and isinstance(e.this, exp.Explode)]
    if len(unnests) < 2:
        return node
    if len(unnests) != len(node.expressions):
        raise NotPortable("a SELECT of several unnest() and other columns")
    zipped = exp.Anonymous(this="arrays_zip", expressions=[u.this.this for u in unnests])
    generator = exp.Alias(this=exp.Anonymous(this="inline", expressions=[zipped]),
                          alias=exp.Tuple(expressions=[exp.to_identifier(u.alias) for u in unnests]))
    return node.select(generator, append=False)
