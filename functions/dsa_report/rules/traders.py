"""Traders: repeat infringers and the penalty policy (Art. 23(1)), traceability / KYBC (Art. 30)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, timedelta
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

from .base import SAMPLE_SIZE, Context, Outcome, finish, metric, not_applicable, num, pct, plural, rule

if TYPE_CHECKING:
    from ..loaded import LoadedData
    from ..metrics import MetricBook

REPEAT_INFRINGERS = "DSA-23.1-REPEAT-INFRINGER-SUSPENSION"
STATES = ("compliant", "warned", "late", "unsuspended", "pending")  # of an episode the period judges or lists
# Art. 23(1) measures: a suspension for incomplete KYBC (or any other reason) is not one of them.
MEASURE_REASONS = ("ILLEGAL_CONTENT", "HIDDEN_LINKS")
KYBC_REQUIRED = ("kyc_contact", "kyc_id_document", "kyc_payment_account", "kyc_self_certification")
KYBC_ELEMENTS = (*KYBC_REQUIRED, "kyc_trade_register")


def kybc_gaps(book: MetricBook) -> list[tuple]:
    """(trader_id, live_listings, one 'missing' flag per KYBC_ELEMENTS) of ACTIVE traders with live listings
    and incomplete Art. 30(1) information; shared with the metric kybc_complete_share. Art. 30(1)(a), (b),
    (c), (e) must be TRUE; (d) kyc_trade_register NULL means not in a trade register (nothing owed)."""

    def compute() -> list[tuple]:
        return book.query(
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

    return book.memo(("kybc_gaps",), compute)


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
           CAST(s.application_date AS DATE) - DATE '1970-01-01' AS d
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
                                TIMESTAMP '-infinity'), FALSE)
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


def repeat_infringer_states(book: MetricBook, p: dict) -> list[dict]:
    """The DSA-23.1 episodes the period judges or lists as pending, by trader and t*: an episode whose
    deadline (t* + grace_days) falls in the period gets its state (compliant, warned, late, unsuspended);
    one whose deadline fell before the period and that was still without a qualifying measure at period
    start is carried over (late or unsuspended) while the trader is still served; a deadline after period end
    is pending. Everything dated after period end is left out. Computed once per book and shared by the
    obligation and the metric `repeat_infringers_unsuspended`.

    Performance: SQL keeps, per trader, only the illegal items after its last qualifying measure dated before
    period start - grace_days and only the traders with min_items of them; the walk runs in Python on those."""
    if p["min_items"] < 1 or p["window_days"] < 1 or p["grace_days"] < 0 or p["lookback_days"] < 0:
        raise ValueError("min_items and window_days must be at least 1, grace_days and lookback_days at least 0")
    period = book.period
    start = period.start.toordinal() - _EPOCH
    end = period.end.toordinal() - _EPOCH
    cut_before = period.start - timedelta(days=p["grace_days"])
    cut = cut_before.toordinal() - _EPOCH

    def compute() -> list[dict]:
        info = book.data.datasets.get("enforcement_actions")
        manifest = "AND s.manifestly_illegal IS DISTINCT FROM FALSE" if _manifest_known(book.data) else ""
        rows = book.query(_REPEAT_SQL.format(manifest=manifest), {
            "illegal": "DECISION_GROUND_ILLEGAL_CONTENT", "reversed": "DECISION_REVERSED",
            "suspension": "SUSPENSION", "termination": "TERMINATION", "warning": "WARNING",
            "reinstatement": "REINSTATEMENT", "illegal_reason": MEASURE_REASONS[0], "hidden": MEASURE_REASONS[1],
            "min_items": p["min_items"], "cut_before": cut_before,
            "start_ts": book.bounds[0], "end_ts": book.bounds[1],
            "ends_known": info is not None and "ends_at" in info.columns,
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
    return book.memo(key, compute)


def _manifest_known(data: LoadedData) -> bool:
    """Whether the optional SoR column `manifestly_illegal` (contract v2) was in the data. The engine's
    dataset spec does not load it yet: until it does, every illegal SoR counts and the message says so."""
    info = data.datasets.get("statements_of_reasons")
    return info is not None and "manifestly_illegal" in info.columns


def _not_assessed(data: LoadedData) -> str:
    """What the data did not let the rule see, as sentences for the message ('' when it saw everything)."""
    notes = []
    if data.missing("complaints", ("decision_puid", "outcome")):
        notes.append("Reversals on complaint were not checked (no complaints with decision_puid and outcome).")
    if not _manifest_known(data):
        notes.append("Manifest illegality and the Art. 23(3) factors were not assessed (no manifestly_illegal "
                     "column): every illegal SoR counts.")
    if "ends_at" not in data.datasets["enforcement_actions"].columns:
        notes.append("Suspensions carry no ends_at: none was taken to cover period start.")
    return "".join(" " + n for n in notes)


@rule("repeat_infringer_suspension")
def repeat_infringer_suspension(ctx: Context, p: dict) -> Outcome:
    episodes = repeat_infringer_states(ctx.metrics, p)
    counts = dict.fromkeys(STATES, 0)
    for e in episodes:
        counts[e["state"]] += 1
    failing = sorted((e for e in episodes if e["state"] in ("late", "unsuspended")),
                     key=lambda e: (e["state"] != "unsuspended", e["deadline"], e["trader_id"]))
    pending = sorted((e for e in episodes if e["state"] == "pending"),
                     key=lambda e: (e["deadline"], e["trader_id"]))
    judged = len(episodes) - counts["pending"]
    reached = (f"at least {p['min_items']} items removed as illegal within {p['window_days']} days "
               f"(internal threshold)")
    acted = f"warned, suspended or terminated within {p['grace_days']} days (internal)"
    later = (f" {plural(counts['pending'], 'episode')} pending (deadline after period end)."
             if counts["pending"] else "")
    if failing:
        traders = len({e["trader_id"] for e in failing})
        carried = sum(1 for e in failing if e["carried_over"])
        status = "FAIL"
        message = (f"{plural(traders, 'trader')} had {reached} and {'was' if traders == 1 else 'were'} not "
                   f"{acted}; review each case. Of {plural(judged, 'episode')} judged: "
                   f"{num(counts['unsuspended'])} still without a suspension or termination at period end, "
                   f"{num(counts['late'])} suspended or terminated late"
                   f"{f'; {num(carried)} carried over from earlier periods' if carried else ''}.{later}")
    elif judged:
        status = "PASS"
        message = (f"Every trader that had {reached} with a deadline in the period was {acted}: "
                   f"{plural(judged, 'episode')} ({num(counts['compliant'])} suspended or terminated, "
                   f"{num(counts['warned'])} warned first).{later}")
    else:  # nothing judged: pending episodes are listed, not judged
        status = "NOT_APPLICABLE"
        message = (f"No trader had {reached} with a {p['grace_days']}-day deadline (internal) in the period, "
                   f"and none was carried over without a suspension or termination.{later}")
    return finish(
        status,
        message + _not_assessed(ctx.data),
        metric=metric("repeat_infringers_unsuspended", counts["unsuspended"], "count", "==", 0),
        items=failing,
        pending={"count": len(pending), "sample": pending[:SAMPLE_SIZE]},
        states=counts,
    )


@rule("prior_warning")
def prior_warning(ctx: Context, p: dict) -> Outcome:
    start, end = ctx.bounds
    rows = ctx.query(
        """
        SELECT s.action_id, s.trader_id, s.occurred_at, s.reason, NOT EXISTS (
                   SELECT 1 FROM enforcement_actions w
                   WHERE w.trader_id = s.trader_id AND w.action = $warning AND w.reason IN ($illegal, $hidden)
                     AND w.occurred_at < s.occurred_at
                     AND CAST(w.occurred_at AS DATE) >= CAST(s.occurred_at AS DATE) - $lookback) AS unwarned
        FROM enforcement_actions s
        WHERE s.action = $suspension AND s.reason IN ($illegal, $hidden)
          AND s.occurred_at >= $start AND s.occurred_at < $end
        ORDER BY s.action_id
        """,
        {"start": start, "end": end, "warning": "WARNING", "suspension": "SUSPENSION",
         "illegal": MEASURE_REASONS[0], "hidden": MEASURE_REASONS[1], "lookback": p["lookback_days"]},
    )
    if not rows:
        return not_applicable("No suspension for illegal content or hidden links took place in the period.")
    items = [{"action_id": a, "trader_id": t, "occurred_at": o, "reason": r} for a, t, o, r, unwarned in rows
             if unwarned]
    return finish(
        "FAIL" if items else "PASS",
        f"Suspensions for illegal content or hidden links in the period without a warning for illegal content "
        f"or hidden links to the same trader in the {p['lookback_days']} days before (internal threshold): "
        f"{num(len(items))} of {num(len(rows))}.",
        metric=metric("suspensions_without_prior_warning", len(items), "count", "==", 0),
        items=items,
    )


@rule("suspension_duration")
def suspension_duration(ctx: Context, p: dict) -> Outcome:
    start, end = ctx.bounds
    rows = ctx.query(
        """
        SELECT action_id, trader_id, occurred_at, ends_at,
               date_diff('day', CAST(occurred_at AS DATE), CAST(ends_at AS DATE)) AS days
        FROM enforcement_actions
        WHERE action = $suspension AND reason IN ($illegal, $hidden) AND occurred_at >= $start AND occurred_at < $end
        ORDER BY days NULLS LAST, action_id
        """,
        {"start": start, "end": end, "suspension": "SUSPENSION", "illegal": MEASURE_REASONS[0],
         "hidden": MEASURE_REASONS[1]},
    )
    if not rows:
        return not_applicable("No suspension for illegal content or hidden links took place in the period.")
    items = [{"action_id": a, "trader_id": t, "occurred_at": o, "ends_at": e, "days": d}
             for a, t, o, e, d in rows if d is not None and d < p["min_days"]]
    return finish(
        "WARN" if items else "PASS",
        f"Suspensions for illegal content or hidden links in the period shorter than {p['min_days']} days "
        f"(internal threshold for the \"reasonable period\" of Art. 23(1), which sets no figure): "
        f"{num(len(items))} of {num(len(rows))}, shortest first.",
        metric=metric("short_suspensions", len(items), "count", "==", 0),
        items=items,
    )


@rule("kybc_completeness")
def kybc_completeness(ctx: Context, p: dict) -> Outcome:
    scope = ctx.metrics.facts("traders")["traders_in_scope"]
    if not scope:
        return not_applicable("No ACTIVE trader has live listings.")
    items = [{"trader_id": t, "live_listings": n,
              "missing": [name for name, gone in zip(KYBC_ELEMENTS, missing, strict=True) if gone]}
             for t, n, *missing in kybc_gaps(ctx.metrics)]
    value = ctx.metrics.value("kybc_complete_share")
    return finish(
        "FAIL" if items else "PASS",
        f"ACTIVE traders with live listings lacking Art. 30(1) traceability information: "
        f"{num(len(items))} of {num(scope)} ({pct(value)} complete).",
        metric=metric("kybc_complete_share", value, "share", "==", 1),
        items=items,
    )


@rule("kybc_verification")
def kybc_verification(ctx: Context, p: dict) -> Outcome:
    active = ctx.metrics.facts("traders")["active_traders"]
    if not active:
        return not_applicable("No trader is ACTIVE.")
    value = ctx.metrics.value("kybc_verified_share")
    rows = ctx.query(
        "SELECT trader_id, live_listings, onboarded_at FROM traders "
        "WHERE status = $active AND kyc_verified_at IS NULL ORDER BY trader_id",
        {"active": "ACTIVE"},
    )
    items = [{"trader_id": t, "live_listings": n, "onboarded_at": o} for t, n, o in rows]
    return finish(
        "WARN" if value < p["min_share"] else "PASS",
        f"ACTIVE traders whose traceability information was verified (Art. 30(2)): {pct(value)} of "
        f"{num(active)} (expected at least {pct(p['min_share'])}).",
        metric=metric("kybc_verified_share", value, "share", ">=", p["min_share"]),
        items=items,
    )
