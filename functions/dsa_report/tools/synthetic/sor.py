"""Statements of reasons: the `sor_base` table (one row per SoR, its facts) and the TDB-layout csv.gz parts.

Rows: background SoRs over the 365 days of history and the period, hidden-link SoRs (removed in the period,
listed a log-uniform 4.5-18 days before, so their median survival is about 9 days), and the planted repeat
infringers' items. The TDB's text columns are derived from the facts only when a part is written.
"""

from __future__ import annotations

import math
import random

import duckdb

from .files import Writer
from .roles import Cast
from .world import World

DUPLICATES = 6
EANS = 997  # products: many listings sell the same product

_MACROS = (
    "CREATE MACRO puid(seq) AS lpad(((seq * 2654435761 + seed() * 7777 + 12345) % 1000000000000)::VARCHAR,"
    " 12, '0')",
    "CREATE MACRO uuid_of(h1, h2) AS printf('%08x-%04x-4%03x-%04x-%012x', h1 >> 32, (h1 >> 16) & 65535::UBIGINT,"
    " h1 & 4095::UBIGINT, ((h2 >> 48) & 16383::UBIGINT) | 32768::UBIGINT, h2 & 281474976710655::UBIGINT)",
    # submission delay in days: p95 = 4
    "CREATE MACRO delay_days(u, k) AS CASE WHEN u < 0.5 THEN 0 WHEN u < 0.75 THEN 1 WHEN u < 0.87 THEN 2"
    " WHEN u < 0.93 THEN 3 WHEN u < 0.97 THEN 4 ELSE 5 + (hash(k, seed(), 'delay-tail') % 8)::INTEGER END",
    "CREATE MACRO created_from(ts, d, u) AS CASE WHEN d = 0"
    " THEN ts + secs(u * (86399 - epoch(ts - date_trunc('day', ts))))"
    " ELSE date_trunc('day', ts) + to_days(d) + secs(u * 86400) END",
)

_BACKGROUND = """
CREATE TABLE core AS
SELECT seq, 'bg' AS kind, app_ts, ground_illegal, source_type,
  CASE WHEN ground_illegal THEN illegal_category_of(rnd(seq, 'cat')) ELSE tc_category_of(rnd(seq, 'cat')) END
    AS category,
  visibility_of(rnd(seq, 'vis')) AS visibility,
  CASE WHEN ground_illegal THEN bg_trader(seq, 'trader', 4) ELSE bg_trader(seq, 'trader', 2) END AS trader_id,
  app_ts - secs(86400 * (1 + rnd(seq, 'age') * 120)) AS listed_ts, false AS hidden_link
FROM (
  SELECT seq, source_type,
    rnd(seq, 'ground') < CASE WHEN source_type = 'SOURCE_VOLUNTARY' THEN 0.12 ELSE 0.55 END AS ground_illegal,
    CASE WHEN seq < $n_history THEN hist_start()::TIMESTAMP + secs(rnd(seq, 'ts') * 365 * 86400)
         ELSE ps()::TIMESTAMP + secs(rnd(seq, 'ts') * days() * 86400) END AS app_ts
  FROM (SELECT i AS seq, source_of(rnd(i, 'src')) AS source_type FROM ids WHERE i < $n)
)
"""

_HIDDEN_LINKS = """
INSERT INTO core BY NAME
SELECT seq, 'hl' AS kind, app_ts, true AS ground_illegal,
  CASE WHEN rnd(seq, 'src') < 0.3 THEN 'SOURCE_ARTICLE_16' ELSE 'SOURCE_VOLUNTARY' END AS source_type,
  CASE WHEN rnd(seq, 'cat') < 0.7 THEN 'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS'
       ELSE 'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS' END AS category,
  'DECISION_VISIBILITY_CONTENT_REMOVED' AS visibility, bg_trader(seq, 'hl-trader', 1) AS trader_id,
  app_ts - secs(86400 * survival_days) AS listed_ts, true AS hidden_link
FROM (
  SELECT $first + k AS seq,
    ps()::TIMESTAMP + secs(rnd($first + k, 'ts') * (days() - 15) * 86400) AS app_ts,
    -- low-discrepancy (golden ratio) sequence: the median is ~9 days even for a few dozen items
    9 * pow(2, 2 * ((k * 0.6180339887498949 + rnd(0, 'hl-phase')) % 1) - 1) AS survival_days
  FROM range($n) t(k)
)
"""

_FACTS = """
CREATE TABLE facts AS
SELECT *, by_now(created_from(app_ts, delay_days(rnd(seq, 'delay'), seq), rnd(seq, 'created'))) AS created_ts,
  NULL::VARCHAR AS missing, 0 AS copy_no
FROM core
"""

# Columns that follow from a row's seq and facts, added after the sort so that it moves narrow rows.
_DERIVED = """
CREATE TABLE sor_base AS
SELECT *,
  iid(seq) AS item_id, cat_no(category) AS cat_no,
  CASE WHEN source_type <> 'SOURCE_VOLUNTARY' THEN nid(seq) END AS notice_id,
  notifier_of(source_type, seq) AS notifier_id,
  CASE WHEN source_type = 'SOURCE_VOLUNTARY' THEN voluntary_automation_of(rnd(seq, 'auto'))
       ELSE notice_automation_of(rnd(seq, 'auto')) END AS automated_decision,
  rnd(seq, 'detect') < CASE WHEN source_type = 'SOURCE_VOLUNTARY' THEN 0.85 ELSE 0.1 END AS automated_detection
FROM sorted
"""

_MARK_MISSING = """
UPDATE facts SET missing = $field WHERE seq IN (
  SELECT seq FROM (
    SELECT seq, row_number() OVER (ORDER BY hash(seq, seed(), $field), seq) AS r FROM facts
    WHERE kind = 'bg' AND (CASE $field WHEN 'illegal_content_explanation' THEN ground_illegal
                           ELSE visibility = 'DECISION_VISIBILITY_OTHER' END)
  ) WHERE r % $every = 1)
"""

_DUPLICATE = """
INSERT INTO facts
SELECT * REPLACE (1 AS copy_no, by_now(created_ts + secs(3600 * (20 + rnd(seq, 'dup') * 50))) AS created_ts)
FROM facts WHERE kind = 'bg' AND app_ts >= ps()::TIMESTAMP
ORDER BY hash(seq, seed(), 'dup'), seq LIMIT $n
"""

_PARTS = """
SELECT min(rowid) AS first, max(rowid) AS last, strftime(coalesce(min(created_ts), max(app_ts)), '%Y-%m-%d') AS day
FROM sor_base GROUP BY rowid * $parts // $rows ORDER BY first
"""

# The TDB full dump's columns in the TDB's order, then the platform's internal columns. No ORDER BY: sorting the
# wide text rows would double the time; `sor_base` is stored in submission order and DuckDB keeps that order
# (preserve_insertion_order, on by default) through a scan, filter and projection.
_OUTPUT = """
SELECT
  uuid_of(hash(seq, seed(), 'uuid1'), hash(seq, seed(), 'uuid2')) AS uuid,
  '["' || visibility || '"]' AS decision_visibility,
  CASE WHEN visibility = 'DECISION_VISIBILITY_OTHER' AND missing IS DISTINCT FROM 'decision_visibility_other'
    THEN pick(getvariable('visibility_other'), 2, seq, 'vo') END AS decision_visibility_other,
  NULL AS end_date_visibility_restriction,
  CASE WHEN rnd(seq, 'monetary') < 0.03 THEN 'DECISION_MONETARY_SUSPENSION' END AS decision_monetary,
  NULL AS decision_monetary_other, NULL AS end_date_monetary_restriction, NULL AS decision_provision,
  NULL AS end_date_service_restriction, NULL AS decision_account, NULL AS end_date_account_restriction,
  'ACCOUNT_TYPE_BUSINESS' AS account_type,
  CASE WHEN ground_illegal THEN 'DECISION_GROUND_ILLEGAL_CONTENT' ELSE 'DECISION_GROUND_INCOMPATIBLE_CONTENT' END
    AS decision_ground,
  CASE WHEN NOT ground_illegal THEN getvariable('terms_url') END AS decision_ground_reference_url,
  CASE WHEN ground_illegal THEN cat_pick('legal', cat_no, seq, 'ground') END AS illegal_content_legal_ground,
  CASE WHEN ground_illegal AND missing IS DISTINCT FROM 'illegal_content_explanation'
    THEN cat_pick('explanation', cat_no, seq, 'ground') END AS illegal_content_explanation,
  CASE WHEN NOT ground_illegal THEN pick(getvariable('tc_grounds'), 4, seq, 'tcg') END
    AS incompatible_content_ground,
  CASE WHEN NOT ground_illegal THEN cat_pick('tc_explanation', cat_no, seq, 'tce') END
    AS incompatible_content_explanation,
  CASE WHEN NOT ground_illegal THEN (CASE WHEN rnd(seq, 'tci') < 0.1 THEN 'Yes' ELSE 'No' END) END
    AS incompatible_content_illegal,
  CASE WHEN created_ts < getvariable('v2_since') THEN coalesce(getvariable('v1_keys')[cat_no], category)
       ELSE category END
    AS category,
  NULL AS category_addition,
  '["' || cat_pick('keyword', cat_no, seq, 'ground') || '"]' AS category_specification,
  NULL AS category_specification_other,
  ctype AS content_type,
  CASE WHEN ctype = '["CONTENT_TYPE_OTHER"]' THEN getvariable('content_type_other') END AS content_type_other,
  language_of(rnd(seq, 'lang')) AS content_language,
  strftime(listed_ts, '%Y-%m-%d 00:00:00') AS content_date,
  CASE WHEN ctype LIKE '%PRODUCT%' AND rnd(seq, 'has-ean') < 0.45
    THEN pick(getvariable('eans'), $n_eans, seq, 'ean') END AS content_id_ean,
  CASE WHEN rnd(seq, 'scope') < 0.6 THEN getvariable('eu27_json')
       ELSE '["' || pick(getvariable('eu27'), 27, seq, 'ms') || '"]' END AS territorial_scope,
  fmt_ts(app_ts) AS application_date,
  CASE WHEN hidden_link THEN pick(getvariable('hidden_link_facts'), 2, seq, 'facts')
       WHEN source_type = 'SOURCE_VOLUNTARY' THEN cat_pick('facts', cat_no, seq, 'facts')
       ELSE getvariable('notice_facts')[list_position(getvariable('source_of_v'), source_type)] END
    AS decision_facts,
  source_type,
  CASE WHEN source_type = 'SOURCE_TRUSTED_FLAGGER' THEN 'Trusted flagger ' || notifier_id END AS source_identity,
  CASE WHEN automated_detection THEN 'Yes' ELSE 'No' END AS automated_detection,
  automated_decision,
  getvariable('platform') AS platform_name,
  puid(seq) AS platform_uid,
  fmt_ts(created_ts) AS created_at,
  trader_id, item_id, notice_id
FROM (SELECT *, content_type_of(rnd(seq, 'ctype')) AS ctype FROM sor_base WHERE rowid BETWEEN $first AND $last)
"""


def _ean13(rng: random.Random) -> str:
    digits = f"{rng.randrange(10**12):012d}"
    weighted = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - weighted % 10) % 10)


def build(con: duckdb.DuckDBPyConnection, world: World, planted: Cast) -> None:
    """Create `sor_base`: every SoR with its facts, stored in submission order."""
    for sql in _MACROS:
        con.execute(sql)
    rng = random.Random(world.seed)
    con.execute("SET VARIABLE eans = ?", [[_ean13(rng) for _ in range(EANS)]])
    n_planted = sum(1 for _, ts, _ in planted.items if ts.date() >= world.period_start)
    n_background = world.n_history + world.scale - world.n_hidden_links - n_planted
    # a table of row numbers: range() is read by one thread, a table scan by all
    con.execute("CREATE TABLE ids AS SELECT range AS i FROM range($n)", {"n": n_background})
    con.execute(_BACKGROUND, {"n": n_background, "n_history": world.n_history})
    con.execute(_HIDDEN_LINKS, {"first": n_background, "n": world.n_hidden_links})
    first = n_background + world.n_hidden_links
    con.executemany(
        "INSERT INTO core VALUES (?, 'ri', ?, true, 'SOURCE_VOLUNTARY', ?, 'DECISION_VISIBILITY_CONTENT_REMOVED', ?,"
        " ?::TIMESTAMP - INTERVAL 20 DAY, false)",
        [[first + n, ts, category, trader, ts] for n, (trader, ts, category) in enumerate(planted.items)],
    )
    con.execute(_FACTS)
    # Art. 17(3) gaps: 1 in 200 illegal-ground SoRs without explanation, 1 in 25 "OTHER" without its text
    con.execute(_MARK_MISSING, {"field": "illegal_content_explanation", "every": 200})
    con.execute(_MARK_MISSING, {"field": "decision_visibility_other", "every": 25})
    con.execute(_DUPLICATE, {"n": DUPLICATES})
    # submission order, as in the TDB's daily dumps; a table's rowid is then the position (scans keep it)
    con.execute("CREATE TABLE sorted AS SELECT * FROM facts ORDER BY created_ts, seq, copy_no")
    con.execute(_DERIVED)
    con.execute("DROP TABLE core; DROP TABLE facts; DROP TABLE sorted")


def write(con: duckdb.DuckDBPyConnection, world: World, writer: Writer, parts: int | None) -> int:
    """Write the TDB-layout csv.gz parts (sorted by created_at, like the daily dumps); returns the row count."""
    rows = con.execute("SELECT count(*) FROM sor_base").fetchall()[0][0]
    parts = max(1, parts if parts is not None else math.ceil(rows / 100_000))
    bounds = con.execute(_PARTS, {"parts": parts, "rows": rows}).fetchall()
    for n, (first, last, day) in enumerate(bounds):
        name = f"sor-{world.slug}-{day}-full-00000-{n:05d}.csv.gz"
        params = {"first": first, "last": last, "n_eans": EANS}
        writer.copy(_OUTPUT, params, f"statements_of_reasons/date={day[:7]}/{name}")
    return rows
