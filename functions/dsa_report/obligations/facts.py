"""Computations that rules and metrics share, defined once: each takes the query handle, runs one query
per run (memoised) and returns plain rows. Rules decide on them; metrics summarise them. Nothing here knows
an obligation id: parameters arrive as values.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import NamedTuple

from ..engine.query import Query

STATES = ("compliant", "late", "unsuspended", "pending")  # of a trader whose threshold date is in the period
KYBC_REQUIRED = ("kyc_contact", "kyc_id_document", "kyc_payment_account", "kyc_self_certification")
KYBC_ELEMENTS = (*KYBC_REQUIRED, "kyc_trade_register")


def ack_counts(q: Query, hours: float) -> tuple[int, int]:
    """(notices received in the period, of which acknowledged within `hours`); shared with the metric
    notice_ack_within_24h_share."""
    start, end = q.bounds

    def compute() -> tuple[int, int]:
        return q.query(
            """
            SELECT count(*), count(*) FILTER (WHERE acknowledged_at IS NOT NULL
                                              AND epoch(acknowledged_at) - epoch(received_at) <= $seconds)
            FROM notices WHERE received_at >= $start AND received_at < $end
            """,
            {"start": start, "end": end, "seconds": float(hours) * 3600},
        )[0]

    return q.memo(("notice_ack", float(hours)), compute)


def backlog(q: Query, backlog_days: int) -> list[tuple]:
    """(notice_id, received_at, category) of the notices undecided at period end and more than
    `backlog_days` calendar days old on the period's last day; shared with the metric notice_backlog_count."""
    cutoff = datetime.combine(q.period.end - timedelta(days=backlog_days), time.min)
    _, end = q.bounds

    def compute() -> list[tuple]:
        return q.query(
            """
            SELECT notice_id, received_at, category FROM notices
            WHERE received_at < $cutoff AND (decided_at IS NULL OR decided_at >= $end)
            ORDER BY notice_id
            """,
            {"cutoff": cutoff, "end": end},
        )

    return q.memo(("notice_backlog", backlog_days), compute)


class ReappearedItem(NamedTuple):
    item_id: str
    trader_id: str | None
    removed_at: datetime  # first REMOVED in the period
    reappeared_as: list[str]  # items whose REAPPEARED event of the period points at this one


def reappeared_items(q: Query) -> list[ReappearedItem]:
    """Items REMOVED in the period that a REAPPEARED event of the period points at, in item order; shared
    with the metric reappearance_rate."""
    start, end = q.bounds

    def compute() -> list[ReappearedItem]:
        rows = q.query(
            """
            WITH back AS (
                SELECT reappearance_of AS item_id, list(DISTINCT item_id ORDER BY item_id) AS reappeared_as
                FROM listing_events
                WHERE event = $reappeared AND occurred_at >= $start AND occurred_at < $end
                  AND reappearance_of IS NOT NULL
                GROUP BY reappearance_of)
            SELECT b.item_id, min(e.trader_id), min(e.occurred_at), any_value(b.reappeared_as)
            FROM back b JOIN listing_events e
              ON e.item_id = b.item_id AND e.event = $removed AND e.occurred_at >= $start AND e.occurred_at < $end
            GROUP BY b.item_id ORDER BY b.item_id
            """,
            {"start": start, "end": end, "removed": "REMOVED", "reappeared": "REAPPEARED"},
        )
        return [ReappearedItem._make(row) for row in rows]

    return q.memo(("reappeared_items",), compute)


class HiddenLinkStay(NamedTuple):
    """One time a hidden-link item was online: ended by a removal in the period, or still open at period end."""

    item_id: str
    trader_id: str | None
    listed_at: datetime | None  # the latest LISTED or REAPPEARED event of the item before removed_at
    removed_at: datetime | None  # None: still online at period end
    survival_days: float | None  # (removed_at, or period end) - listed_at, in hours / 24; None: never listed

    @property
    def still_online(self) -> bool:
        return self.removed_at is None


def hidden_link_items(q: Query) -> list[HiddenLinkStay]:
    """Hidden-link items (an event of the item flags hidden_link) REMOVED in the period, and those still
    online at period end, in item order: each removal in the period that took the item offline (a repeated
    REMOVED with no listing in between is the same removal), and the item's open stay at period end (listed
    after its last removal, or never removed), whenever it was listed. Its survival runs from the latest
    LISTED or REAPPEARED event of the item before the removal, censored at period end (obligations.md,
    "Censored durations"). Shared with the metric hidden_link_median_survival_days and the penalty rule."""
    start, end = q.bounds

    def compute() -> list[HiddenLinkStay]:
        survival = censored_hours("listed_at", "removed_at")
        rows = q.query(
            f"""
            WITH ev AS (
                SELECT e.item_id, e.event = $removed AS removal, e.occurred_at,
                       min(e.trader_id) OVER (PARTITION BY e.item_id) AS trader_id
                FROM listing_events e
                WHERE e.item_id IN (SELECT item_id FROM listing_events WHERE hidden_link)
                  AND e.event IN ($listed, $reappeared, $removed) AND e.occurred_at < $period_end),
            walked AS (  -- at each event: the latest listing and the latest removal before it
                SELECT *, max(occurred_at) FILTER (WHERE NOT removal) OVER w AS listed_at,
                          max(occurred_at) FILTER (WHERE removal) OVER w AS removed_before
                FROM ev
                WINDOW w AS (PARTITION BY item_id ORDER BY occurred_at, removal
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
            stays AS (
                SELECT item_id, trader_id, listed_at, occurred_at AS removed_at FROM walked
                WHERE removal AND occurred_at >= $start AND (removed_before IS NULL OR listed_at > removed_before)
                UNION ALL
                SELECT item_id, min(trader_id), max(occurred_at) FILTER (WHERE NOT removal), NULL FROM ev
                GROUP BY item_id
                HAVING max(occurred_at) FILTER (WHERE NOT removal)
                       > coalesce(max(occurred_at) FILTER (WHERE removal), '-infinity'::TIMESTAMP))
            SELECT item_id, trader_id, listed_at, removed_at, {survival} / 24 FROM stays
            ORDER BY item_id, removed_at NULLS LAST
            """,  # noqa: S608 - the fragment is built from column names in code
            {"start": start, "period_end": end, "listed": "LISTED", "reappeared": "REAPPEARED",
             "removed": "REMOVED"},
        )
        return [HiddenLinkStay._make(row) for row in rows]

    return q.memo(("hidden_link_items",), compute)


KYBC_SCOPE = "status = $active AND (live_listings > 0 OR live_listings IS NULL)"  # unknown listings count as live


def kybc_scope(q: Query) -> tuple[int, int]:
    """(ACTIVE traders with live listings, of which live_listings is unknown): the scope of Art. 30(1) here,
    where a trader whose live_listings is null counts as live (unknown is never a reason to look away)."""

    def compute() -> tuple[int, int]:
        return q.query(
            f"""
            SELECT count(*), count(*) FILTER (WHERE live_listings IS NULL) FROM traders WHERE {KYBC_SCOPE}
            """,  # noqa: S608 - the fragment is code, not data
            {"active": "ACTIVE"},
        )[0]

    return q.memo(("kybc_scope",), compute)


def kybc_gaps(q: Query) -> list[tuple]:
    """(trader_id, live_listings, one 'missing' flag per KYBC_ELEMENTS) of the traders in `kybc_scope` with
    incomplete Art. 30(1) information, most live listings first (unknown last, ties by trader_id); shared with
    the metric kybc_complete_share. Art. 30(1)(a), (b), (c), (e) must be TRUE; (d) kyc_trade_register FALSE
    is missing, NULL means not in a trade register (nothing owed)."""

    def compute() -> list[tuple]:
        return q.query(
            f"""
            SELECT * FROM (
                SELECT trader_id, live_listings, kyc_contact IS NOT TRUE AS contact,
                       kyc_id_document IS NOT TRUE AS id_document, kyc_payment_account IS NOT TRUE AS payment,
                       kyc_self_certification IS NOT TRUE AS self_certification,
                       coalesce(kyc_trade_register = FALSE, FALSE) AS trade_register
                FROM traders WHERE {KYBC_SCOPE})
            WHERE contact OR id_document OR payment OR self_certification OR trade_register
            ORDER BY live_listings DESC NULLS LAST, trader_id
            """,  # noqa: S608 - fragment from code
            {"active": "ACTIVE"},
        )

    return q.memo(("kybc_gaps",), compute)


_REPEAT_SQL = """
WITH items AS (  -- a trader's distinct illegal items, each dated by its first illegal SoR (all history)
    SELECT trader_id, min(CAST(application_date AS DATE)) AS d
    FROM sor WHERE decision_ground = $illegal AND trader_id IS NOT NULL AND application_date < $end_ts
    GROUP BY trader_id, coalesce(item_id, platform_uid)),
crossed AS (     -- t*: the first day d with min_items items dated in (d - window_days, d]
    SELECT trader_id, min(d) AS t FROM (
        SELECT trader_id, d, lag(d, $lag) OVER (PARTITION BY trader_id ORDER BY d) AS earlier FROM items)
    WHERE earlier > d - $window_days GROUP BY trader_id HAVING min(d) >= $start),
counted AS (     -- the items in the window ending at t*
    SELECT c.trader_id, c.t, count(*) AS n
    FROM crossed c JOIN items i ON i.trader_id = c.trader_id AND i.d > c.t - $window_days AND i.d <= c.t
    GROUP BY c.trader_id, c.t)
SELECT c.trader_id, c.t, c.n, min(CAST(a.occurred_at AS DATE)) AS first_action
FROM counted c LEFT JOIN enforcement_actions a
  ON a.trader_id = c.trader_id AND a.action IN ($suspension, $termination)
 AND CAST(a.occurred_at AS DATE) >= c.t
GROUP BY c.trader_id, c.t, c.n ORDER BY c.trader_id
"""


def repeat_infringer_states(q: Query, p: dict) -> list[dict]:
    """Every trader whose threshold date t* falls in the period, with its state: pending when t* is later
    than period end - `grace_days` (not in scope, even if already suspended: the contract's scope is
    period_start <= t* <= period_end - grace_days), else compliant, late or unsuspended. Computed once per
    run and shared by the obligation and the metric `repeat_infringers_unsuspended`."""
    if p["min_items"] < 1 or p["window_days"] < 1:
        raise ValueError("min_items and window_days must be at least 1")
    grace = timedelta(days=p["grace_days"])
    period = q.period

    def compute() -> list[dict]:
        rows = q.query(_REPEAT_SQL, {
            "illegal": "DECISION_GROUND_ILLEGAL_CONTENT", "suspension": "SUSPENSION",
            "termination": "TERMINATION", "lag": p["min_items"] - 1, "window_days": p["window_days"],
            "start": period.start, "end_ts": q.bounds[1],
        })
        states = []
        for trader_id, t, n, first in rows:
            if t > period.end - grace:  # out of scope whatever happened since: judged in the next period
                state = "pending"
            elif first is not None and first <= t + grace:
                state = "compliant"
            else:
                state = "unsuspended" if first is None else "late"
            states.append({"trader_id": trader_id, "illegal_items": n, "threshold_date": t,
                           "first_suspension": first, "state": state})
        return states

    return q.memo(("repeat_infringers", p["min_items"], p["window_days"], p["grace_days"]), compute)


# ---- censored durations (obligations.md, "Censored durations") -------------------------------------------


def censored_hours(start: str, stop: str) -> str:
    """SQL for the hours from column `start` to column `stop` of a case, where a case still open at period end
    (`stop` null, or later than period end) counts with its age at period end, `$period_end` (bind it to
    `q.bounds[1]`, the first instant after the period). A median of these is a lower bound of the real
    median, so a backlog can never make it look better than closing the cases would. Column names come from
    code, never from data."""
    return f"(epoch(least(coalesce({stop}, $period_end), $period_end)) - epoch({start})) / 3600"


def still_open(stop: str) -> str:
    """SQL: the case was still open at period end (its duration above is censored)."""
    return f"({stop} IS NULL OR {stop} >= $period_end)"


def censored_duration(start: datetime, stop: datetime | None, period_end: datetime) -> float:
    """The same in Python, in hours: the reference the SQL is tested against, and for register rows."""
    until = period_end if stop is None or stop > period_end else stop
    return (until - start).total_seconds() / 3600
