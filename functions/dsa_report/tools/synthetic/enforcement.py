"""Enforcement actions and the trader snapshot at period end.

The background is a platform that applies its penalty policy: penalty points for illegal items, and every
background trader that reaches 3 illegal items within 90 days (threshold date t*, as in DSA-23.1) is warned
at its previous item and suspended 1 to 11 days after t*; a trader that reaches the threshold again with
items dated after that suspension (a new episode, as DSA-23.1 v2 counts them) is warned and suspended again. Only the
planted traders of `roles` break the rules, plus three hidden-link traders that get no HIDDEN_LINKS penalty.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby
from operator import itemgetter

import duckdb

from .files import Writer
from .roles import Cast
from .world import World

UNPENALISED_HIDDEN_LINK_TRADERS = 3

_T_STAR = """
CREATE TABLE t_star AS
WITH items AS (
  SELECT trader_id, item_id, min(app_ts)::DATE AS d FROM sor_base WHERE ground_illegal AND copy_no = 0 GROUP BY ALL
), counted AS (
  SELECT trader_id, d, count(*) OVER (PARTITION BY trader_id ORDER BY (d - DATE '1970-01-01')
                                      RANGE BETWEEN 89 PRECEDING AND CURRENT ROW) AS n
  FROM items
), first_hit AS (SELECT trader_id, min(d) AS t_star FROM counted WHERE n >= 3 GROUP BY trader_id)
SELECT f.trader_id, f.t_star, max(i.d) FILTER (WHERE i.d < f.t_star) AS previous_item
FROM first_hit f JOIN items i USING (trader_id) GROUP BY ALL
"""

_UNPENALISED = """
SELECT trader_id FROM (SELECT trader_id, min(hash(seq, seed(), 'unpenalised')) AS h FROM sor_base
                       WHERE kind = 'hl' GROUP BY trader_id)
ORDER BY h, trader_id LIMIT $n
"""

_BACKGROUND_ITEMS = """
SELECT trader_id, min(app_ts)::DATE AS d FROM sor_base
WHERE ground_illegal AND copy_no = 0 AND trader_id IN (SELECT trader_id FROM t_star)
  AND NOT list_contains($planted, trader_id)
GROUP BY trader_id, item_id ORDER BY trader_id, d
"""

_BACKGROUND = """
INSERT INTO actions BY NAME
WITH suspended AS (
  SELECT m.trader_id, m.episode, m.t_star, t.previous_item,
    m.t_star + to_days(1 + (hash(m.trader_id, m.episode::INTEGER, seed(), 'grace') % 11)::INTEGER) + INTERVAL 10 HOUR
      AS starts,
    to_days(30 * (1 + (hash(m.trader_id, m.episode::INTEGER, seed(), 'length') % 3)::INTEGER)) AS span
  FROM background_episodes m JOIN t_star t USING (trader_id)
)
SELECT trader_id, 'WARNING' AS action, 'ILLEGAL_CONTENT' AS reason, NULL::BIGINT AS points,
  CASE WHEN episode = 0 THEN coalesce(previous_item + INTERVAL 6 HOUR, t_star + INTERVAL 2 HOUR)
       ELSE t_star + INTERVAL 2 HOUR END AS occurred_at, NULL::TIMESTAMP AS ends_at
FROM suspended
UNION ALL
SELECT trader_id, 'SUSPENSION', 'ILLEGAL_CONTENT', NULL, starts, starts + span FROM suspended WHERE starts < pe_end()
UNION ALL
SELECT trader_id, 'REINSTATEMENT', 'ILLEGAL_CONTENT', NULL, starts + span, NULL FROM suspended
WHERE starts + span < pe_end()
UNION ALL
SELECT trader_id, 'PENALTY_POINTS', 'ILLEGAL_CONTENT', 1 + hash(seq, seed(), 'points') % 6,
  app_ts + secs(3600 * (1 + rnd(seq, 'points-at') * 47)), NULL
FROM sor_base WHERE kind = 'bg' AND copy_no = 0 AND ground_illegal AND rnd(seq, 'points') < 0.25
  AND app_ts + secs(3600 * (1 + rnd(seq, 'points-at') * 47)) < pe_end()
UNION ALL
SELECT trader_id, 'PENALTY_POINTS', 'HIDDEN_LINKS', 12, app_ts + secs(86400 * (1 + rnd(seq, 'hl-points') * 6)), NULL
FROM sor_base WHERE kind = 'hl' AND NOT list_contains($unpenalised, trader_id)
"""

_NUMBERED = """
CREATE TABLE enforcement_actions AS
SELECT 'EA-' || lpad(row_number() OVER (ORDER BY occurred_at, trader_id, action, reason, points)::VARCHAR, 9, '0')
  AS action_id, trader_id, action, reason, points, occurred_at, ends_at
FROM actions ORDER BY action_id
"""

_TRADERS = """
CREATE TABLE traders AS
WITH state AS (
  SELECT trader_id, arg_max(action, occurred_at) AS last_action FROM enforcement_actions
  WHERE action IN ('SUSPENSION', 'TERMINATION', 'REINSTATEMENT') GROUP BY trader_id
), base AS (
  SELECT i AS idx, tid(i) AS trader_id,
    hist_start()::TIMESTAMP - secs(86400 * (30 + rnd(i, 'onboarded') * 1500)) AS onboarded_at,
    CASE last_action WHEN 'TERMINATION' THEN 'TERMINATED' WHEN 'SUSPENSION' THEN 'SUSPENDED' ELSE 'ACTIVE' END
      AS status
  FROM range(getvariable('n_traders')) t(i) LEFT JOIN state ON state.trader_id = tid(i)
), listed AS (
  SELECT *, CASE WHEN status <> 'ACTIVE' THEN 0
                 WHEN idx < getvariable('planted_traders') THEN 5 + floor(rnd(idx, 'listings') * 200)::BIGINT
                 WHEN rnd(idx, 'dormant') < 0.05 THEN 0
                 ELSE 1 + floor(pow(rnd(idx, 'listings'), 3) * 3000)::BIGINT END AS live_listings,
    -- incomplete records outside the rule's scope: suspended, terminated or without listings
    idx >= getvariable('planted_traders') AND (status <> 'ACTIVE' OR rnd(idx, 'dormant') < 0.05)
      AND rnd(idx, 'kyc-gap') < 0.1 AS out_of_scope_gap
  FROM base
)
SELECT trader_id, onboarded_at, status, live_listings,
  true AS kyc_contact,
  NOT (list_contains($no_id, trader_id) OR (out_of_scope_gap AND rnd(idx, 'gap') < 0.5)) AS kyc_id_document,
  NOT (list_contains($no_payment, trader_id) OR (out_of_scope_gap AND rnd(idx, 'gap') >= 0.5))
    AS kyc_payment_account,
  true AS kyc_self_certification,
  CASE WHEN list_contains($no_register, trader_id) THEN false WHEN rnd(idx, 'register') < 0.35 THEN NULL
       ELSE true END AS kyc_trade_register,
  CASE WHEN list_contains($unverified, trader_id) OR (idx >= getvariable('planted_traders') AND idx % 12 = 5)
       THEN NULL ELSE onboarded_at + secs(86400 * (1 + rnd(idx, 'verified') * 20)) END AS kyc_verified_at,
  country_of(rnd(idx, 'country')) AS country
FROM listed ORDER BY trader_id
"""


_ACTIONS_OUT = """
SELECT action_id, trader_id, action, reason, points, strftime(occurred_at, '%Y-%m-%dT%H:%M:%S') AS occurred_at,
  strftime(ends_at, '%Y-%m-%dT%H:%M:%S') AS ends_at
FROM enforcement_actions WHERE year(occurred_at) = $year ORDER BY action_id
"""


def build(con: duckdb.DuckDBPyConnection, world: World, planted: Cast) -> dict[str, object]:
    """Create `t_star`, `enforcement_actions` and `traders`; returns what was planted in them."""
    con.execute(_T_STAR)
    unpenalised = sorted(r[0] for r in con.execute(_UNPENALISED, {"n": UNPENALISED_HIDDEN_LINK_TRADERS}).fetchall())
    con.execute("CREATE TABLE actions (trader_id VARCHAR, action VARCHAR, reason VARCHAR, points BIGINT,"
                " occurred_at TIMESTAMP, ends_at TIMESTAMP)")
    repeat = [*planted.compliant, *planted.late, *planted.unsuspended, *planted.pending]
    _background_episodes(con, repeat)
    con.execute(_BACKGROUND, {"unpenalised": unpenalised})
    con.executemany("INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?)",
                    [[a.trader_id, a.action, a.reason, a.points, a.occurred_at, a.ends_at] for a in planted.actions])
    con.execute(_NUMBERED)
    missing = planted.kybc_missing
    con.execute(_TRADERS, {
        "no_id": [t for t, m in missing.items() if "kyc_id_document" in m],
        "no_payment": [t for t, m in missing.items() if "kyc_payment_account" in m],
        "no_register": [t for t, m in missing.items() if "kyc_trade_register" in m],
        "unverified": list(missing),
    })
    return {"hidden_link_unpenalised_traders": unpenalised, **_repeat_infringers(con, world)}


def _background_episodes(con: duckdb.DuckDBPyConnection, planted: list[str]) -> None:
    """`background_episodes(trader_id, episode, t_star)`: every threshold date of a background trader, each
    counted over its items dated after the suspension that closed the previous episode (the grace and the
    suspension's start are the same hash as in `_BACKGROUND`, so both agree on when it closed)."""
    rows = con.execute(_BACKGROUND_ITEMS, {"planted": planted}).fetchall()
    episodes = []
    for trader_id, group in groupby(rows, key=itemgetter(0)):
        days = [d for _, d in group]
        after, episode = None, 0
        while True:
            dated = [d for d in days if after is None or d > after]
            t_star = next((d for i, d in enumerate(dated) if i >= 2 and (d - dated[i - 2]).days < 90), None)
            if t_star is None:
                break
            episodes.append((trader_id, episode, t_star))
            (grace,) = con.execute("SELECT 1 + hash(?, ?::INTEGER, seed(), 'grace') % 11",
                                   [trader_id, episode]).fetchone()
            after, episode = t_star + timedelta(days=int(grace)), episode + 1
    con.execute("CREATE TABLE background_episodes (trader_id VARCHAR, episode INTEGER, t_star DATE)")
    con.executemany("INSERT INTO background_episodes VALUES (?, ?, ?)", episodes)


def _repeat_infringers(con: duckdb.DuckDBPyConnection, world: World) -> dict[str, object]:
    """Every trader's state under DSA-23.1 (planted and background), read back from the generated tables."""
    rows = con.execute("""
        SELECT t.trader_id, t.t_star, min(a.occurred_at)::DATE AS first_action
        FROM t_star t LEFT JOIN enforcement_actions a ON a.trader_id = t.trader_id
          AND a.action IN ('SUSPENSION', 'TERMINATION') AND a.occurred_at::DATE >= t.t_star
        WHERE t.t_star >= ps() AND t.t_star <= pe()
        GROUP BY ALL ORDER BY t.trader_id""").fetchall()
    state: dict[str, list[str]] = {"compliant": [], "late": [], "unsuspended": [], "pending": []}
    for trader, t_star, first_action in rows:
        if (world.period_end - t_star).days < 14:
            state["pending"].append(trader)
        elif first_action is None:
            state["unsuspended"].append(trader)
        else:
            state["late" if (first_action - t_star).days > 14 else "compliant"].append(trader)
    return {f"repeat_infringers_{k}": v for k, v in state.items()}


def write(con: duckdb.DuckDBPyConnection, world: World, writer: Writer) -> None:
    """Enforcement actions: one csv.gz per year; traders: one parquet snapshot at period end."""
    years = [r[0] for r in con.execute("SELECT DISTINCT year(occurred_at) AS y FROM enforcement_actions ORDER BY y")
             .fetchall()]
    for year in years:
        writer.copy(_ACTIONS_OUT, {"year": year}, f"enforcement_actions/year={year}/enforcement-actions-{year}.csv.gz")
    writer.copy("SELECT * FROM traders ORDER BY trader_id", None,
                f"traders/snapshot={world.period_end.isoformat()}/traders.parquet")
