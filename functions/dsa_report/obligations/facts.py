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


# Art. 16(4) owes a confirmation of receipt only to a notifier who gave electronic contact details. The column
# is optional: absent from the input it is NULL on every row, and null counts as given, so every notice is owed.
ACK_OWED = "notifier_contact_provided IS NOT FALSE"


def ack_counts(q: Query, hours: float) -> tuple[int, int, int]:
    """(notices received in the period that are owed a confirmation, of which acknowledged within `hours`,
    notices whose notifier gave no contact details); shared with the metric notice_ack_within_24h_share."""
    start, end = q.bounds

    def compute() -> tuple[int, int, int]:
        return q.query(
            f"""
            SELECT count(*) FILTER (WHERE {ACK_OWED}),
                   count(*) FILTER (WHERE {ACK_OWED} AND acknowledged_at IS NOT NULL
                                    AND epoch(acknowledged_at) - epoch(received_at) <= $seconds),
                   count(*) FILTER (WHERE NOT ({ACK_OWED}))
            FROM notices WHERE received_at >= $start AND received_at < $end
            """,  # noqa: S608 - fragments from code
            {"start": start, "end": end, "seconds": float(hours) * 3600},
        )[0]

    return q.memo(("notice_ack", float(hours)), compute)


def backlog(q: Query, backlog_days: int) -> list[tuple]:
    """(notice_id, received_at, category) of the notices undecided at period end and more than
    `backlog_days` calendar days old on the period's last day, oldest first (ties by id); shared with the
    metric notice_backlog_count."""
    cutoff = datetime.combine(q.period.end - timedelta(days=backlog_days), time.min)
    _, end = q.bounds

    def compute() -> list[tuple]:
        return q.query(
            f"""
            SELECT notice_id, received_at, category FROM notices
            WHERE received_at < $cutoff AND {still_open("decided_at")}
            ORDER BY received_at, notice_id
            """,  # noqa: S608 - fragment from code
            {"cutoff": cutoff, "period_end": end},
        )

    return q.memo(("notice_backlog", backlog_days), compute)


class RemovedItem(NamedTuple):
    item_id: str
    trader_id: str | None
    hidden: bool  # any event of the item flags a hidden link
    listed_at: datetime | None  # first LISTED
    removed_at: datetime  # first REMOVED in the period
    survival_days: float | None  # removed_at - listed_at
    reappeared_as: list[str] | None  # items whose REAPPEARED event of the period points at this one


def removed_items(q: Query) -> list[RemovedItem]:
    """The items removed in the period that matter here: hidden-link items and items that came back, in
    item order. One join of the events with those few items; shared with the metrics reappearance_rate and
    hidden_link_median_survival_days."""
    start, end = q.bounds

    def compute() -> list[RemovedItem]:
        rows = q.query(
            """
            WITH back AS (
                SELECT reappearance_of AS item_id, list(DISTINCT item_id ORDER BY item_id) AS reappeared_as
                FROM listing_events
                WHERE event = $reappeared AND occurred_at >= $start AND occurred_at < $end
                GROUP BY reappearance_of),
            wanted AS (SELECT item_id FROM back UNION SELECT item_id FROM listing_events WHERE hidden_link),
            per_item AS (
                SELECT e.item_id, min(e.trader_id) AS trader_id,
                       coalesce(bool_or(e.hidden_link), FALSE) AS hidden,
                       min(e.occurred_at) FILTER (WHERE e.event = $listed) AS listed_at,
                       min(e.occurred_at) FILTER (WHERE e.event = $removed AND e.occurred_at >= $start
                                                  AND e.occurred_at < $end) AS removed_at
                FROM listing_events e JOIN wanted w ON w.item_id = e.item_id
                GROUP BY e.item_id)
            SELECT p.item_id, p.trader_id, p.hidden, p.listed_at, p.removed_at,
                   (epoch(p.removed_at) - epoch(p.listed_at)) / 86400, b.reappeared_as
            FROM per_item p LEFT JOIN back b ON b.item_id = p.item_id
            WHERE p.removed_at IS NOT NULL ORDER BY p.item_id
            """,
            {"start": start, "end": end, "listed": "LISTED", "removed": "REMOVED",
             "reappeared": "REAPPEARED"},
        )
        return [RemovedItem._make(row) for row in rows]

    return q.memo(("removed_items",), compute)


def hidden_link_items(q: Query) -> list[RemovedItem]:
    return [i for i in removed_items(q) if i.hidden]


def reappeared_items(q: Query) -> list[RemovedItem]:
    return [i for i in removed_items(q) if i.reappeared_as]


def kybc_gaps(q: Query) -> list[tuple]:
    """(trader_id, live_listings, one 'missing' flag per KYBC_ELEMENTS) of ACTIVE traders with live listings
    and incomplete Art. 30(1) information; shared with the metric kybc_complete_share. Art. 30(1)(a), (b),
    (c), (e) must be TRUE; (d) kyc_trade_register NULL means not in a trade register (nothing owed)."""

    def compute() -> list[tuple]:
        return q.query(
            """
            SELECT * FROM (
                SELECT trader_id, live_listings, kyc_contact IS NOT TRUE AS contact,
                       kyc_id_document IS NOT TRUE AS id_document, kyc_payment_account IS NOT TRUE AS payment,
                       kyc_self_certification IS NOT TRUE AS self_certification,
                       coalesce(kyc_trade_register = FALSE, FALSE) AS trade_register
                FROM traders WHERE status = $active AND live_listings > 0)
            WHERE contact OR id_document OR payment OR self_certification OR trade_register
            ORDER BY trader_id
            """,
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
