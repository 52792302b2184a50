"""Traders: repeat infringers and the penalty policy (Art. 23(1)), traceability / KYBC (Art. 30)."""

from __future__ import annotations

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, metric, not_applicable
from ...engine.registry import rule
from ...ingest.loaded import LoadedData
from ..facts import (
    KYBC_ELEMENTS,
    MEASURE_REASONS,
    STATES,
    kybc_gaps,
    kybc_scope,
    repeat_infringer_inputs,
    repeat_infringer_states,
)
from ..wording import num, pct, plural


def _not_assessed(data: LoadedData) -> str:
    """What the data did not let the rule see, as sentences for the message ('' when it saw everything)."""
    notes = []
    if data.missing("complaints", ("decision_puid", "outcome")):
        notes.append("Reversals on complaint were not checked (no complaints with decision_puid and outcome).")
    seen = repeat_infringer_inputs(data)
    if not seen["manifest_known"]:
        notes.append("Manifest illegality and the Art. 23(3) factors were not assessed (no manifestly_illegal "
                     "column): every illegal SoR counts.")
    if not seen["ends_known"]:
        notes.append("Suspensions carry no ends_at: none was taken to cover period start.")
    return "".join(" " + n for n in notes)


@rule("repeat_infringer_suspension")
def repeat_infringer_suspension(ctx: Context, p: dict) -> Outcome:
    episodes = repeat_infringer_states(ctx.q, p, **repeat_infringer_inputs(ctx.data))
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
        pending=pending,
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
