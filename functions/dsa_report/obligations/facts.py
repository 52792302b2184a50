"""Computations that rules and metrics share, defined once: each takes the query handle, runs one query
per run (memoised) and returns plain rows. Rules decide on them; metrics summarise them. Nothing here knows
an obligation id: parameters arrive as values.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, time, timedelta
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from ..engine.query import Query
from ..ingest.loaded import LoadedData

STATES = ("compliant", "warned", "late", "unsuspended", "pending")  # of a DSA-23.1 episode judged or listed
MEASURE_REASONS = ("ILLEGAL_CONTENT", "HIDDEN_LINKS")  # the reasons of an Art. 23(1) warning or suspension
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
                SELECT *, max(CASE WHEN NOT removal THEN occurred_at END) OVER w AS listed_at,
                          max(CASE WHEN removal THEN occurred_at END) OVER w AS removed_before
                FROM ev
                WINDOW w AS (PARTITION BY item_id ORDER BY occurred_at, removal
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
            stays AS (
                SELECT item_id, trader_id, listed_at, occurred_at AS removed_at FROM walked
                WHERE removal AND occurred_at >= $start AND (removed_before IS NULL OR listed_at > removed_before)
                UNION ALL
                SELECT item_id, min(trader_id), max(occurred_at) FILTER (WHERE NOT removal), NULL FROM ev
                GROUP BY item_id
                HAVING max(occurred_at) FILTER (WHERE NOT removal) > max(occurred_at) FILTER (WHERE removal)
                    OR (max(occurred_at) FILTER (WHERE removal) IS NULL
                        AND max(occurred_at) FILTER (WHERE NOT removal) IS NOT NULL))
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


_DAY_US = 86_400_000_000  # microseconds in a day: epoch_us // _DAY_US is the UTC day number
_EPOCH = date(1970, 1, 1).toordinal()

_REPEAT_SQL = """
WITH cut AS (    -- the last qualifying suspension or termination dated before period start - grace_days: it
                 -- closed every earlier episode, all with a deadline before the period, so the walk starts there
    SELECT trader_id, max(CAST(occurred_at AS DATE)) AS c FROM enforcement_actions
    WHERE action IN ($suspension, $termination) AND reason IN ($illegal_reason, $hidden)
      AND CAST(occurred_at AS DATE) < $cut_before
    GROUP BY trader_id),
items AS (       -- a trader's illegal items after the cut, on every day one of their SoRs is dated; a SoR
                 -- reversed on complaint does not count, nor one not manifestly illegal (false, not null)
    SELECT DISTINCT s.trader_id, coalesce(s.item_id, s.platform_uid) AS item,
           date_diff('day', DATE '1970-01-01', CAST(s.application_date AS DATE)) AS d
    FROM sor s LEFT JOIN cut ON cut.trader_id = s.trader_id
    WHERE s.decision_ground = $illegal AND s.trader_id IS NOT NULL AND s.application_date < $end_ts
      AND (cut.c IS NULL OR CAST(s.application_date AS DATE) > cut.c) {manifest}
      AND s.platform_uid NOT IN (SELECT decision_puid FROM complaints
                                 WHERE outcome = $reversed AND decision_puid IS NOT NULL)),
candidates AS (  -- without min_items distinct items after the cut a trader has no episode to judge
    SELECT trader_id FROM items GROUP BY trader_id HAVING count(DISTINCT item) >= $min_items),
acts AS (
    SELECT a.trader_id, a.occurred_at, a.ends_at, a.action,
           a.reason IN ($illegal_reason, $hidden) AND a.action IN ($suspension, $termination, $warning) AS qualifying
    FROM enforcement_actions a SEMI JOIN candidates c ON c.trader_id = a.trader_id
    WHERE a.occurred_at < $end_ts),
served AS (      -- not served at period start: terminated before it and not reinstated since, or suspended then
    SELECT trader_id,
           coalesce(max(occurred_at) FILTER (WHERE action = $termination AND occurred_at < $start_ts)
                    >= coalesce(max(occurred_at) FILTER (WHERE action = $reinstatement AND occurred_at < $start_ts),
                                max(occurred_at) FILTER (WHERE action = $termination AND occurred_at < $start_ts)),
                    FALSE)  -- a termination before it and no reinstatement since (none at all, or an earlier one)
           OR coalesce($ends_known AND bool_or(action = $suspension AND occurred_at <= $start_ts
                                               AND (ends_at IS NULL OR ends_at > $start_ts)), FALSE) AS unserved
    FROM acts GROUP BY trader_id)
-- one row per item day (kind 0: day number, item), qualifying measure (1) or warning (2) (epoch
-- microseconds), and one row (3) for a trader not served at period start; by trader, kind, time
SELECT i.trader_id, 0 AS kind, i.d AS stamp, i.item FROM items i SEMI JOIN candidates c ON c.trader_id = i.trader_id
UNION ALL
SELECT trader_id, CASE WHEN action = $warning THEN 2 ELSE 1 END, epoch_us(occurred_at), NULL FROM acts WHERE qualifying
UNION ALL
SELECT trader_id, 3, NULL, NULL FROM served WHERE unserved
ORDER BY trader_id, kind, stamp, item
"""


def _walk(days: list[int], items: list[str], measures: list[int], warnings: list[int], prev: int | None,
          p: dict) -> list[tuple]:
    """One trader's episodes, oldest first, as (t*, items in the window, deadline, first action, state) with
    day numbers. `days`/`items`: the trader's illegal items on every day one of their SoRs is dated, sorted
    by day; `measures`/`warnings`: epoch microseconds, sorted, of its qualifying suspensions and
    terminations / warnings; `prev`: the day of the qualifying action the walk starts after (None: all).

    After each restart (prev) an item is dated by its first SoR after prev; t* is the first day with
    min_items such items in (d - window_days, d]. A suspension or termination before t* restarts the count;
    one on or after t* closes the episode (compliant by the deadline, else late). A warning closes it
    (warned) when it is the first warning on or after t*, dated by the deadline, earlier than the measure,
    and the trader had no such warning in the lookback_days before t*. No measure: the episode stays open
    (unsuspended) and is the trader's last."""
    m, window, grace, lookback = p["min_items"], p["window_days"], p["grace_days"], p["lookback_days"]
    measure_days = [u // _DAY_US for u in measures]
    warning_days = [u // _DAY_US for u in warnings]
    episodes: list[tuple] = []
    lo = k = 0
    while True:
        if prev is not None:
            lo = bisect_right(days, prev, lo)
            k = bisect_right(measure_days, prev, k)
        limit = measure_days[k] if k < len(measure_days) else None  # the next measure restarts the count
        seen: set[str] = set()
        dated: list[int] = []
        t = None
        j = lo
        while j < len(days) and (limit is None or days[j] <= limit):
            item = items[j]
            j += 1
            if item not in seen:
                seen.add(item)
                dated.append(days[j - 1])
                if len(dated) >= m and dated[-1] - dated[-m] < window:
                    t = dated[-1]
                    break
        if t is None:
            if limit is None:
                return episodes
            prev = limit  # a measure before any threshold: the count restarts after it
            continue
        while j < len(days) and days[j] == t:  # the other items first dated on t* are in its window too
            if items[j] not in seen:
                seen.add(items[j])
                dated.append(t)
            j += 1
        count = len(dated) - bisect_right(dated, t - window)
        deadline = t + grace
        w = bisect_left(warning_days, t)  # the first warning on or after t*
        first_warning = (w < len(warning_days) and warning_days[w] <= deadline
                         and bisect_left(warning_days, t - lookback) == w)  # none in the lookback before t*
        if first_warning and (limit is None or warnings[w] < measures[k]):
            episodes.append((t, count, deadline, warning_days[w], "warned"))
            prev = warning_days[w]
        elif limit is not None:  # the first measure on or after t* (limit >= t)
            episodes.append((t, count, deadline, limit, "compliant" if limit <= deadline else "late"))
            prev = limit
        else:
            episodes.append((t, count, deadline, None, "unsuspended"))  # open: at most one per trader
            return episodes


def _day(n: int | None) -> date | None:
    return None if n is None else date.fromordinal(n + _EPOCH)


def repeat_infringer_inputs(data: LoadedData) -> dict[str, bool]:
    """What the data lets the repeat-infringer walk see: the optional SoR column manifestly_illegal, and
    suspensions' ends_at (keyword arguments of `repeat_infringer_states`)."""
    sor, actions = data.datasets.get("statements_of_reasons"), data.datasets.get("enforcement_actions")
    return {"manifest_known": sor is not None and "manifestly_illegal" in sor.columns,
            "ends_known": actions is not None and "ends_at" in actions.columns}


def repeat_infringer_states(q: Query, p: dict, *, manifest_known: bool, ends_known: bool) -> list[dict]:
    """The DSA-23.1 episodes the period judges or lists as pending, by trader and t*: an episode whose
    deadline (t* + grace_days) falls in the period gets its state (compliant, warned, late, unsuspended);
    one whose deadline fell before the period and that was still without a qualifying measure at period
    start is carried over (late or unsuspended) while the trader is still served; a deadline after period end
    is pending. Everything dated after period end is left out. Computed once per run and shared by the
    obligation and the metric `repeat_infringers_unsuspended`. `manifest_known`: the optional SoR column
    manifestly_illegal is in the data (its false rows then do not count); `ends_known`: suspensions carry
    ends_at (else none is taken to cover period start).

    Performance: SQL keeps, per trader, only the illegal items after its last qualifying measure dated before
    period start - grace_days and only the traders with min_items of them; the walk runs in Python on those."""
    if p["min_items"] < 1 or p["window_days"] < 1 or p["grace_days"] < 0 or p["lookback_days"] < 0:
        raise ValueError("min_items and window_days must be at least 1, grace_days and lookback_days at least 0")
    period = q.period
    start = period.start.toordinal() - _EPOCH
    end = period.end.toordinal() - _EPOCH
    cut_before = period.start - timedelta(days=p["grace_days"])
    cut = cut_before.toordinal() - _EPOCH

    def compute() -> list[dict]:
        manifest = "AND s.manifestly_illegal IS DISTINCT FROM FALSE" if manifest_known else ""
        rows = q.query(_REPEAT_SQL.format(manifest=manifest), {
            "illegal": "DECISION_GROUND_ILLEGAL_CONTENT", "reversed": "DECISION_REVERSED",
            "suspension": "SUSPENSION", "termination": "TERMINATION", "warning": "WARNING",
            "reinstatement": "REINSTATEMENT", "illegal_reason": MEASURE_REASONS[0], "hidden": MEASURE_REASONS[1],
            "min_items": p["min_items"], "cut_before": cut_before,
            "start_ts": q.bounds[0], "end_ts": q.bounds[1], "ends_known": ends_known,
        })
        episodes = []
        for trader_id, group in groupby(rows, key=itemgetter(0)):
            found: tuple[list, list, list, list] = ([], [], [], [])
            for _, kind, at, item in group:
                found[kind].append((at, item))
            days, items = [d for d, _ in found[0]], [i for _, i in found[0]]
            measures, warnings = [u for u, _ in found[1]], [u for u, _ in found[2]]
            unserved = bool(found[3])
            before = [u // _DAY_US for u in measures if u // _DAY_US < cut]  # the SQL's cut, from the same rows
            for t, count, deadline, first, state in _walk(days, items, measures, warnings,
                                                          before[-1] if before else None, p):
                if deadline > end:
                    state, carried = "pending", False
                elif deadline >= start:
                    carried = False
                elif (first is None or first >= start) and not unserved:
                    carried = True  # late or unsuspended: still without a measure at period start
                else:
                    continue  # closed before the period, or the trader is no longer served
                episodes.append({"trader_id": trader_id, "illegal_items": count, "threshold_date": _day(t),
                                 "deadline": _day(deadline), "first_action": _day(first), "state": state,
                                 "carried_over": carried})
        return episodes

    key = ("repeat_infringers", p["min_items"], p["window_days"], p["grace_days"], p["lookback_days"])
    key = (*key, manifest_known, ends_known)
    return q.memo(key, compute)


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
