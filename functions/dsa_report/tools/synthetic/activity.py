"""Notices, complaints and listing events, derived from `sor_base` so that ids agree across datasets.

Notices: every SoR from a notice has its ACTION_TAKEN notice (decided when the SoR applies); other notices
end in NO_ACTION, MANIFESTLY_UNFOUNDED or are still PENDING. Decision hours are log-uniform around a median
per category (intellectual property is slow), trusted flaggers at 0.7 times the others.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta

import duckdb

from .files import Writer
from .world import World, month_bounds

MISSING_SOR_EVERY = 300  # 1 ACTION_TAKEN notice in 300 has no SoR: coverage ~0.9967 < 0.999
UNFOUNDED_NOTICES = (6, 8)  # MANIFESTLY_UNFOUNDED notices of the two planted abusive notifiers

_MACROS = (
    "CREATE MACRO decision_hours(base, source, k) AS base * CASE source WHEN 'SOURCE_TRUSTED_FLAGGER' THEN 0.7"
    " WHEN 'SOURCE_TYPE_OTHER_NOTIFICATION' THEN 0.9 ELSE 1.0 END * pow(2, 2 * rnd(k, 'hours') - 1)",
    # 1 notice in 250 (of those slower than 40 h) is acknowledged after more than 24 h
    "CREATE MACRO ack_hours(k, hours) AS CASE WHEN k % 250 = 17 AND hours >= 40"
    " THEN 25 + (hours - 25) * 0.5 * rnd(k, 'ack') ELSE rnd(k, 'ack') * 6 END",
)

_NOTICES = """
CREATE TABLE notices AS
WITH actioned AS (
  SELECT s.seq AS k, s.notice_id, s.app_ts - secs(3600 * s.hours) AS received_at, s.hours, s.app_ts AS decided_at,
    s.source_type, s.notifier_id, s.category, s.item_id, s.trader_id, 'ACTION_TAKEN' AS outcome,
    CASE WHEN s.ground_illegal THEN 'ILLEGAL_CONTENT' ELSE 'INCOMPATIBLE_CONTENT' END AS action_basis,
    s.automated_decision
  FROM (SELECT *, decision_hours(getvariable('cat_hours')[cat_no], source_type, seq) AS hours FROM sor_base
        WHERE notice_id IS NOT NULL AND copy_no = 0) s
), other AS (
  SELECT k, nid(5000000000 + i) AS notice_id, received_at, hours,
    CASE WHEN received_at + secs(3600 * hours) < pe_end() THEN received_at + secs(3600 * hours)
         WHEN received_at >= pe_end() - INTERVAL 5 DAY THEN NULL
         ELSE received_at + secs(epoch(pe_end() - received_at) * (0.5 + 0.4 * rnd(k, 'clamp'))) END AS decided_at,
    source_type, notifier_of(source_type, k) AS notifier_id, category, iid(5000000000 + i) AS item_id,
    bg_trader(k, 'trader', 1) AS trader_id,
    CASE WHEN source_type = 'SOURCE_ARTICLE_16' AND rnd(k, 'unfounded') < 0.12 THEN 'MANIFESTLY_UNFOUNDED'
         ELSE 'NO_ACTION' END AS outcome,
    NULL AS action_basis, notice_automation_of(rnd(k, 'auto')) AS automated_decision
  FROM (
    SELECT i, k, received_at, source_type, category,
      decision_hours(getvariable('cat_hours')[cat_no(category)], source_type, k) AS hours
    FROM (
      SELECT i, 1000000000 + i AS k, other_source_of(rnd(1000000000 + i, 'src')) AS source_type,
        CASE WHEN i < $n_history THEN hist_start()::TIMESTAMP + secs(rnd(1000000000 + i, 'ts') * 365 * 86400)
             ELSE ps()::TIMESTAMP + secs(rnd(1000000000 + i, 'ts') * days() * 86400) END AS received_at,
        CASE WHEN rnd(1000000000 + i, 'ground') < 0.5 THEN illegal_category_of(rnd(1000000000 + i, 'cat'))
             ELSE tc_category_of(rnd(1000000000 + i, 'cat')) END AS category
      FROM ids WHERE i < $n_other
    )
  )
), backlog AS (
  SELECT 2000000000 + i AS k, nid(6000000000 + i) AS notice_id,
    ps()::TIMESTAMP + secs(rnd(2000000000 + i, 'ts') * (days() - 10) * 86400) AS received_at, 1.0 AS hours,
    NULL::TIMESTAMP AS decided_at, 'SOURCE_ARTICLE_16' AS source_type,
    notifier_of('SOURCE_ARTICLE_16', 2000000000 + i) AS notifier_id,
    illegal_category_of(rnd(2000000000 + i, 'cat')) AS category, iid(6000000000 + i) AS item_id,
    bg_trader(2000000000 + i, 'trader', 1) AS trader_id, 'PENDING' AS outcome, NULL AS action_basis,
    'AUTOMATED_DECISION_NOT_AUTOMATED' AS automated_decision, 'backlog' AS planted
  FROM ids WHERE i < $n_backlog
)
SELECT k, notice_id, received_at,
  least(received_at + secs(3600 * ack_hours(k, hours)), coalesce(decided_at, received_at + INTERVAL 30 DAY))
    AS acknowledged_at,
  decided_at, source_type, notifier_id, category, item_id, trader_id,
  CASE WHEN decided_at IS NULL THEN 'PENDING' ELSE outcome END AS outcome, action_basis, automated_decision, planted
FROM (SELECT * FROM actioned UNION ALL BY NAME SELECT * FROM other UNION ALL BY NAME SELECT * FROM backlog)
"""

_MISSING_SOR = """
INSERT INTO notices BY NAME
SELECT 3000000000 + i AS k, nid(7000000000 + i) AS notice_id, received_at,
  received_at + secs(3600 * rnd(3000000000 + i, 'ack') * 6) AS acknowledged_at,
  received_at + secs(3600 * (48 + rnd(3000000000 + i, 'hours') * 48)) AS decided_at,
  'SOURCE_ARTICLE_16' AS source_type, notifier_of('SOURCE_ARTICLE_16', 3000000000 + i) AS notifier_id,
  'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS' AS category, iid(7000000000 + i) AS item_id,
  bg_trader(3000000000 + i, 'trader', 1) AS trader_id, 'ACTION_TAKEN' AS outcome, 'ILLEGAL_CONTENT' AS action_basis,
  'AUTOMATED_DECISION_NOT_AUTOMATED' AS automated_decision, 'without_sor' AS planted
FROM (SELECT i, ps()::TIMESTAMP + secs(rnd(3000000000 + i, 'ts') * (days() - 10) * 86400) AS received_at
      FROM ids WHERE i < $n)
"""

_COMPLAINTS = """
CREATE TABLE complaints AS
SELECT 'C-' || lpad(n::VARCHAR, 9, '0') AS complaint_id, puid(seq) AS decision_puid, received_at, decided_at,
  -- 3 in 20 reversed in full or in part, spread evenly over time
  CASE WHEN decided_at IS NULL THEN 'PENDING' WHEN n % 20 IN (3, 11) THEN 'DECISION_REVERSED'
       WHEN n % 20 = 7 THEN 'DECISION_PARTIALLY_REVERSED' ELSE 'DECISION_UPHELD' END AS outcome,
  false AS decided_solely_automated, seq
FROM (
  SELECT seq, received_at, row_number() OVER (ORDER BY received_at, seq) AS n,
    CASE WHEN received_at + secs(3600 * hours) < pe_end() THEN received_at + secs(3600 * hours) END AS decided_at
  FROM (
    SELECT seq, app_ts + secs(3600 * (2 + rnd(seq, 'c-delay') * 160)) AS received_at,
      96 * pow(2, 2 * rnd(seq, 'c-hours') - 1) AS hours
    FROM sor_base WHERE copy_no = 0 AND app_ts >= ps()::TIMESTAMP AND rnd(seq, 'complaint') < 0.05
  ) WHERE received_at < pe_end()
)
"""

_SOLELY_AUTOMATED = """
UPDATE complaints SET decided_solely_automated = true WHERE complaint_id IN (
  SELECT complaint_id FROM complaints WHERE decided_at IS NOT NULL
  ORDER BY hash(seq, seed(), 'solely-automated'), complaint_id LIMIT 3)
"""

_LISTING_EVENTS = """
CREATE TABLE listing_events AS
WITH removed AS (
  SELECT * FROM sor_base WHERE copy_no = 0
    AND visibility IN ('DECISION_VISIBILITY_CONTENT_REMOVED', 'DECISION_VISIBILITY_CONTENT_DISABLED')
), events AS (
  SELECT seq * 4 AS eid, item_id, trader_id, 'LISTED' AS event, listed_ts AS occurred_at, NULL AS detection,
    hidden_link, category, NULL AS reappearance_of
  FROM sor_base WHERE copy_no = 0
  UNION ALL
  SELECT seq * 4 + 1, item_id, trader_id, 'REMOVED', app_ts,
    CASE source_type WHEN 'SOURCE_VOLUNTARY' THEN (CASE WHEN rnd(seq, 'test-purchase') < 0.07 THEN 'TEST_PURCHASE'
                                                   ELSE 'PROACTIVE' END)
      WHEN 'SOURCE_TYPE_OTHER_NOTIFICATION' THEN 'AUTHORITY_ORDER' ELSE 'NOTICE' END,
    hidden_link, category, NULL
  FROM removed
  UNION ALL  -- a removed item comes back under a new id: 1 in 5 hidden links, 1 in 29 other items
  SELECT seq * 4 + 2, iid(4000000000 + seq),
    CASE WHEN rnd(seq, 'relister') < 0.6 THEN trader_id ELSE bg_trader(seq, 'relister', 1) END, 'REAPPEARED',
    app_ts + secs(rnd(seq, 'reappear') * least(20 * 86400, epoch(pe_end() - app_ts) - 1)), NULL, hidden_link,
    category, item_id
  FROM removed WHERE (hidden_link AND seq % 5 = 0) OR (NOT hidden_link AND seq % 29 = 3)
  UNION ALL
  SELECT ($first + i) * 4 + 3, iid(3000000000 + i), bg_trader($first + i, 'trader', 2), 'BLOCKED_PRE_LISTING',
    CASE WHEN i < $n_history THEN hist_start()::TIMESTAMP + secs(rnd($first + i, 'ts') * 365 * 86400)
         ELSE ps()::TIMESTAMP + secs(rnd($first + i, 'ts') * days() * 86400) END,
    CASE WHEN rnd($first + i, 'detection') < 0.95 THEN 'PROACTIVE' ELSE 'TEST_PURCHASE' END,
    rnd($first + i, 'hidden') < 0.02, illegal_category_of(rnd($first + i, 'cat')), NULL
  FROM ids WHERE i < $n_blocked
)
SELECT eid, 'E-' || lpad(eid::VARCHAR, 11, '0') AS event_id, item_id, trader_id, event, occurred_at, detection,
  hidden_link, category, reappearance_of
FROM events ORDER BY occurred_at, eid
"""


_NOTICES_OUT = """
SELECT notice_id, iso_ts(received_at) AS received_at, iso_ts(by_now(acknowledged_at)) AS acknowledged_at,
  iso_ts(decided_at) AS decided_at, source_type, notifier_id, category, item_id, trader_id, outcome,
  TRUE AS notifier_contact_provided,
  (['DE', 'FR', 'IT', 'ES', 'NL', 'PL'])[1 + CAST(hash(notice_id) % 6 AS INTEGER)] AS member_state,
  action_basis, automated_decision
FROM notices WHERE received_at >= $start AND received_at < $stop ORDER BY received_at, notice_id
"""

_COMPLAINTS_OUT = """
SELECT complaint_id, decision_puid, fmt_ts(received_at) AS received_at, fmt_ts(decided_at) AS decided_at, outcome,
  decided_solely_automated
FROM complaints ORDER BY complaint_id
"""

# No ORDER BY: the table is stored in (occurred_at, eid) order and a scan with a filter keeps that order.
_EVENTS_OUT = """
SELECT * EXCLUDE (eid) FROM listing_events WHERE occurred_at >= $start AND occurred_at < $stop
"""


def build(con: duckdb.DuckDBPyConnection, world: World) -> dict[str, object]:
    """Create `notices`, `complaints` and `listing_events`; returns what was planted in them."""
    for sql in _MACROS:
        con.execute(sql)
    n_other = (world.scale + world.n_history) // 10
    con.execute(_NOTICES, {"n_other": n_other, "n_history": world.n_history // 10,
                           "n_backlog": max(5, world.scale // 1000)})
    actioned = con.execute("SELECT count(*) FROM notices WHERE outcome = 'ACTION_TAKEN' AND received_at >= ps()"
                           " AND received_at < pe_end()").fetchall()[0][0]
    con.execute(_MISSING_SOR, {"n": max(3, math.ceil(actioned / MISSING_SOR_EVERY))})
    unfounded = _plant_unfounded_notifiers(con, world)
    con.execute(_COMPLAINTS)
    con.execute(_SOLELY_AUTOMATED)
    first = con.execute("SELECT max(seq) + 1 FROM sor_base").fetchall()[0][0]
    con.execute(_LISTING_EVENTS, {"first": first, "n_blocked": (world.scale + world.n_history) // 10,
                                  "n_history": world.n_history // 10})
    return {
        "notices_without_sor": _ids(con, "SELECT notice_id FROM notices WHERE planted = 'without_sor'"
                                    " ORDER BY notice_id"),
        "notice_backlog_count": len(_ids(con, "SELECT notice_id FROM notices WHERE planted = 'backlog'")),
        "unfounded_notifiers": unfounded,
        "complaints_solely_automated": _ids(con, "SELECT complaint_id FROM complaints"
                                            " WHERE decided_solely_automated ORDER BY complaint_id"),
    }


def _plant_unfounded_notifiers(con: duckdb.DuckDBPyConnection, world: World) -> list[str]:
    """Two notifiers sending MANIFESTLY_UNFOUNDED notices every 3 days (Art. 23(2))."""
    rows, notifiers = [], []
    for n, count in enumerate(UNFOUNDED_NOTICES):
        notifier = f"NTF-{world.n_notifiers + n:07d}"
        notifiers.append(notifier)
        for j in range(count):
            received = datetime.combine(world.period_start + timedelta(days=2 + 3 * j), time(10 + n))
            k = 4_000_000_000 + 100 * n + j
            rows.append([k, f"N-{8_000_000_000 + 100 * n + j:010d}", received, received + timedelta(hours=2),
                         received + timedelta(hours=20), notifier, f"I-{8_000_000_000 + 100 * n + j:010d}",
                         world.trader_id(20 + 7 * j + n)])
    con.executemany(
        "INSERT INTO notices (k, notice_id, received_at, acknowledged_at, decided_at, source_type, notifier_id,"
        " category, item_id, trader_id, outcome, action_basis, automated_decision, planted) VALUES (?, ?, ?, ?, ?,"
        " 'SOURCE_ARTICLE_16', ?, 'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS', ?, ?,"
        " 'MANIFESTLY_UNFOUNDED', NULL, 'AUTOMATED_DECISION_NOT_AUTOMATED', 'unfounded')", rows)
    return notifiers


def _ids(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [row[0] for row in con.execute(sql).fetchall()]


def write(con: duckdb.DuckDBPyConnection, writer: Writer) -> None:
    """notices: monthly jsonl.gz (ISO 8601 'Z' times); complaints: one csv; listing events: monthly parquet."""
    for label in _ids(con, "SELECT DISTINCT strftime(received_at, '%Y-%m') AS m FROM notices ORDER BY m"):
        start, stop = month_bounds(label)
        writer.copy(_NOTICES_OUT, {"start": start, "stop": stop}, f"notices/month={label}/notices-{label}.jsonl.gz")
    writer.copy(_COMPLAINTS_OUT, None, "complaints/complaints.csv")
    for label in _ids(con, "SELECT DISTINCT strftime(occurred_at, '%Y-%m') AS m FROM listing_events ORDER BY m"):
        start, stop = month_bounds(label)
        writer.copy(_EVENTS_OUT, {"start": start, "stop": stop},
                    f"listing_events/month={label}/listing-events-{label}.parquet")
