"""Each DuckDB construct the rules use, run on tiny tables by DuckDB and by Spark through the adapter: the
same rows, with the Python types DuckDB returns. The constructs engine/spark.py translates are pinned here,
so a sqlglot upgrade that changes one fails a named case."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest

from dsa_report.engine import spark as engine_spark

T0 = datetime(2025, 10, 1, 0, 0, 0, 250_000)
ROWS = [  # (k, grp, x, ts, d, flag)
    ("a", "g1", 1, T0, date(2025, 10, 1), True),
    ("b", "g1", 2, T0 + timedelta(seconds=1.25), date(2025, 10, 3), None),
    ("c", "g1", 4, None, None, False),
    ("d", "g2", 10, T0 + timedelta(days=2, microseconds=1), date(2025, 9, 30), True),
    ("e", None, None, T0 + timedelta(hours=1), date(2025, 10, 2), False),
]


@pytest.fixture(scope="module")
def engines(spark, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TYPE grp_enum AS ENUM ('g1', 'g2')")  # the loader stores closed vocabularies as ENUMs
    con.execute("CREATE TABLE t (k VARCHAR, grp grp_enum, x BIGINT, ts TIMESTAMP, d DATE, flag BOOLEAN)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", ROWS)
    con.execute("CREATE TABLE u (k VARCHAR, y BIGINT)")
    con.executemany("INSERT INTO u VALUES (?, ?)", [("a", 1), ("b", 5), ("zz", 7)])
    for table in ("t", "u"):
        con.execute(f"COPY {table} TO '{folder / table}.parquet' (FORMAT parquet)")
    spark_con = engine_spark.SparkConnection(spark, {t: folder / f"{t}.parquet" for t in ("t", "u")})
    yield con, spark_con
    spark_con.close()


CASES = {
    "epoch keeps microseconds": (
        "SELECT k, epoch(ts) - epoch($t0), epoch_us(ts) FROM t WHERE ts IS NOT NULL ORDER BY k", {"t0": T0},
        [("a", 0.0, 1759276800250000), ("b", 1.25, 1759276801500000), ("d", 172800.00000095367, 1759449600250001),
         ("e", 3600.0, 1759280400250000)]),
    "quantile_cont of a number and of a list, filtered, and over no row": (
        "SELECT quantile_cont(x, 0.5), quantile_cont(x, [0.5, 0.95]), quantile_cont(x, 0.5) FILTER (WHERE flag), "
        "quantile_cont(x, 0.5) FILTER (WHERE x > 100) FROM t", None, [(3.0, [3.0, 9.099999999999998], 5.5, None)]),
    "list ordered by its value, distinct, filtered, NULL when no row": (
        "SELECT grp, list(DISTINCT k ORDER BY k), list(k ORDER BY k) FILTER (WHERE flag IS NOT TRUE), "
        "list_slice(list(k ORDER BY k), 1, 2) FROM t GROUP BY grp ORDER BY grp",
        None, [("g1", ["a", "b", "c"], ["b", "c"], ["a", "b"]), ("g2", ["d"], None, ["d"]),
               (None, ["e"], ["e"], ["e"])]),
    "lists bound as parameters, unnested side by side": (
        "WITH r AS (SELECT unnest($keys) AS k, unnest($days) AS day) "
        "SELECT r.k, r.day, t.x FROM r LEFT JOIN t ON t.k = r.k ORDER BY r.k",
        {"keys": ["b", "q"], "days": [date(2025, 1, 2), date(2025, 1, 3)]},
        [("b", date(2025, 1, 2), 2), ("q", date(2025, 1, 3), None)]),
    "list parameter in list_contains": (
        "SELECT k FROM t WHERE list_contains($ks, k) ORDER BY k", {"ks": ["c", "a", "nope"]}, [("a",), ("c",)]),
    "date_diff, date plus and minus days": (
        "SELECT k, date_diff('day', DATE '2025-10-01', d), d + 1, d - $n FROM t WHERE d IS NOT NULL ORDER BY k",
        {"n": 3}, [("a", 0, date(2025, 10, 2), date(2025, 9, 28)), ("b", 2, date(2025, 10, 4), date(2025, 9, 30)),
                   ("d", -1, date(2025, 10, 1), date(2025, 9, 27)), ("e", 1, date(2025, 10, 3), date(2025, 9, 29))]),
    "NULLs sort last ascending, as in DuckDB (Spark sorts them first)": (
        "SELECT k FROM t ORDER BY x", None, [("a",), ("b",), ("c",), ("d",), ("e",)]),
    "NULLs sort last descending": (
        "SELECT k FROM t ORDER BY grp DESC, k", None, [("d",), ("a",), ("b",), ("c",), ("e",)]),
    "ENUM compared with text and grouped": (
        "SELECT grp, count(*) FILTER (WHERE flag IS DISTINCT FROM TRUE) FROM t WHERE grp = $g GROUP BY grp",
        {"g": "g1"}, [("g1", 2)]),
    "types DuckDB returns": (
        "SELECT ts, d, flag, x, x / 4, CAST(ts AS DATE) FROM t WHERE k = $k", {"k": "b"},
        [(T0 + timedelta(seconds=1.25), date(2025, 10, 3), None, 2, 0.5, date(2025, 10, 1))]),
    "timestamp parameters compare as timestamps without time zone": (
        "SELECT count(*) FROM t WHERE ts >= $start AND ts < $end",
        {"start": T0, "end": T0 + timedelta(seconds=1.25)}, [(1,)]),
    "semi join, correlated NOT EXISTS in the select list, NOT IN a subquery": (
        "SELECT t.k, NOT EXISTS (SELECT 1 FROM u WHERE u.k = t.k AND u.y > t.x) FROM t SEMI JOIN u ON u.k = t.k "
        "WHERE t.k NOT IN (SELECT k FROM u WHERE y > 6) ORDER BY t.k", None, [("a", True), ("b", False)]),
    "a value is bound, never part of the text": (
        "SELECT $v, count(*) FROM t WHERE k = $v", {"v": "a' OR '1'='1"}, [("a' OR '1'='1", 0)]),
}


@pytest.mark.parametrize("name", CASES)
def test_duckdb_and_spark_agree(engines, name):
    sql, params, expected = CASES[name]
    duck, spark_con = engines
    assert duck.execute(sql, params or []).fetchall() == expected
    got = spark_con.execute(sql, params).fetchall()
    assert got == expected
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]


def test_a_value_never_reaches_the_spark_text():
    text, args = engine_spark.bind("SELECT * FROM t WHERE k = $v AND list_contains($ks, k)",
                                   {"v": "secret'value", "ks": ["x1", "x2"]})
    assert "secret" not in text and "x1" not in text
    assert ":v" in text and ":ks__0" in text and ":ks__1" in text
    assert args == {"v": "secret'value", "ks__0": "x1", "ks__1": "x2"}


@pytest.mark.parametrize("sql, params, needle", [
    ("SELECT list(k ORDER BY x) FROM t", None, "ordered by anything but its own value"),
    ("SELECT k FROM t WHERE list_contains($ks, k)", {"ks": []}, "is empty"),
    ("SELECT unnest($a) AS a, unnest($b) AS b, k FROM t", {"a": [1], "b": [2]}, "several unnest"),
])
def test_what_the_adapter_cannot_translate_is_refused_by_name(sql, params, needle):
    with pytest.raises(engine_spark.NotPortable, match=needle):
        engine_spark.bind(sql, params)
