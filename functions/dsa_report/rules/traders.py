"""Traders: repeat infringers and the penalty policy (Art. 23(1)), traceability / KYBC (Art. 30)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from .base import Context, Outcome, finish, metric, not_applicable, num, pct, plural, rule

if TYPE_CHECKING:
    from ..metrics import MetricBook

REPEAT_INFRINGERS = "DSA-23.1-REPEAT-INFRINGER-SUSPENSION"
STATES = ("compliant", "late", "unsuspended", "pending")  # of a trader whose threshold date is in the period
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


def repeat_infringer_states(book: MetricBook, p: dict) -> list[dict]:
    """Every trader whose threshold date t* falls in the period, with its state: pending when t* is later
    than period end - `grace_days` (not in scope, even if already suspended: the contract's scope is
    period_start <= t* <= period_end - grace_days), else compliant, late or unsuspended. Computed once per
    book and shared by the obligation and the metric `repeat_infringers_unsuspended`."""
    if p["min_items"] < 1 or p["window_days"] < 1:
        raise ValueError("min_items and window_days must be at least 1")
    grace = timedelta(days=p["grace_days"])
    period = book.period

    def compute() -> list[dict]:
        rows = book.query(_REPEAT_SQL, {
            "illegal": "DECISION_GROUND_ILLEGAL_CONTENT", "suspension": "SUSPENSION",
            "termination": "TERMINATION", "lag": p["min_items"] - 1, "window_days": p["window_days"],
            "start": period.start, "end_ts": book.bounds[1],
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

    return book.memo(("repeat_infringers", p["min_items"], p["window_days"], p["grace_days"]), compute)


@rule("repeat_infringer_suspension")
def repeat_infringer_suspension(ctx: Context, p: dict) -> Outcome:
    states = repeat_infringer_states(ctx.metrics, p)
    counts = {s: sum(1 for x in states if x["state"] == s) for s in STATES}
    in_scope = counts["compliant"] + counts["late"] + counts["unsuspended"]
    failing = counts["late"] + counts["unsuspended"]
    last = ctx.period.end - timedelta(days=p["grace_days"])
    scope = (f"reaching {p['min_items']} illegal items within {p['window_days']} days with a threshold date "
             f"between {ctx.period.start} and {last}")
    pending = f"; {plural(counts['pending'], 'trader')} pending" if counts["pending"] else ""
    if in_scope:
        status = "FAIL" if failing else "PASS"
        message = (f"Traders {scope}: {num(in_scope)}; suspended within {p['grace_days']} days: "
                   f"{num(counts['compliant'])}, late: {num(counts['late'])}, "
                   f"never: {num(counts['unsuspended'])}")
    else:  # nothing in scope: pending traders are listed, not judged
        status, message = "NOT_APPLICABLE", f"No trader {scope}"
    return finish(
        status,
        f"{message}{pending}.",
        metric=metric("repeat_infringers_unsuspended", counts["unsuspended"], "count", "==", 0),
        items=[x for x in states if x["state"] != "compliant"],
        **counts,
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
