"""Traders: repeat infringers and the penalty policy (Art. 23(1)), traceability / KYBC (Art. 30)."""

from __future__ import annotations

from datetime import timedelta

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, metric, not_applicable
from ...engine.registry import rule
from ..facts import KYBC_ELEMENTS, STATES, kybc_gaps, kybc_scope, repeat_infringer_states
from ..wording import num, pct, plural


@rule("repeat_infringer_suspension")
def repeat_infringer_suspension(ctx: Context, p: dict) -> Outcome:
    states = repeat_infringer_states(ctx.q, p)
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
        pending=[x for x in states if x["state"] == "pending"],
        **{state: n for state, n in counts.items() if state != "pending"},
    )


@rule("prior_warning")
def prior_warning(ctx: Context, p: dict) -> Outcome:
    start, end = ctx.bounds
    rows = ctx.query(
        """
        SELECT s.action_id, s.trader_id, s.occurred_at, s.reason, NOT EXISTS (
                   SELECT 1 FROM enforcement_actions w
                   WHERE w.trader_id = s.trader_id AND w.action = $warning AND w.occurred_at < s.occurred_at
                     AND CAST(w.occurred_at AS DATE) >= CAST(s.occurred_at AS DATE) - $lookback) AS unwarned
        FROM enforcement_actions s
        WHERE s.action = $suspension AND s.reason IN ($illegal, $hidden)
          AND s.occurred_at >= $start AND s.occurred_at < $end
        ORDER BY s.action_id
        """,
        {"start": start, "end": end, "warning": "WARNING", "suspension": "SUSPENSION",
         "illegal": "ILLEGAL_CONTENT", "hidden": "HIDDEN_LINKS", "lookback": p["lookback_days"]},
    )
    if not rows:
        return not_applicable("No suspension for illegal content or hidden links took place in the period.")
    items = [{"action_id": a, "trader_id": t, "occurred_at": o, "reason": r} for a, t, o, r, unwarned in rows
             if unwarned]
    return finish(
        "FAIL" if items else "PASS",
        f"Suspensions for illegal content or hidden links in the period without a warning to the trader "
        f"in the {p['lookback_days']} days before: {num(len(items))} of {num(len(rows))}.",
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
        WHERE action = $suspension AND occurred_at >= $start AND occurred_at < $end
        ORDER BY action_id
        """,
        {"start": start, "end": end, "suspension": "SUSPENSION"},
    )
    if not rows:
        return not_applicable("No suspension took place in the period.")
    items = [{"action_id": a, "trader_id": t, "occurred_at": o, "ends_at": e, "days": d}
             for a, t, o, e, d in rows if d is not None and d < p["min_days"]]
    return finish(
        "WARN" if items else "PASS",
        f"Suspensions in the period shorter than {p['min_days']} days (a reasonable period under "
        f"Art. 23(1)): {num(len(items))} of {num(len(rows))}.",
        metric=metric("short_suspensions", len(items), "count", "==", 0),
        items=items,
    )


@rule("kybc_completeness")
def kybc_completeness(ctx: Context, p: dict) -> Outcome:
    """Scope: ACTIVE traders with live listings, live_listings null counting as live. Evidence: the missing
    Art. 30(1) elements, most live listings first (unknown last)."""
    scope, unknown = kybc_scope(ctx.q)
    if not scope:
        return not_applicable("No ACTIVE trader has live listings.")
    items = [{"trader_id": t, "live_listings": n,
              "missing": [name for name, gone in zip(KYBC_ELEMENTS, missing, strict=True) if gone]}
             for t, n, *missing in kybc_gaps(ctx.q)]
    value = ctx.metrics.value("kybc_complete_share")
    note = f"; {plural(unknown, 'trader')} with unknown live listings counted as live" if unknown else ""
    return finish(
        "FAIL" if items else "PASS",
        f"ACTIVE traders with live listings lacking Art. 30(1) traceability information: "
        f"{num(len(items))} of {num(scope)} ({pct(value)} complete){note}.",
        metric=metric("kybc_complete_share", value, "share", "==", 1),
        items=items,
        live_listings_unknown=unknown,
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
