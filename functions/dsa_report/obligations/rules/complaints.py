"""Internal complaint handling (Art. 20)."""

from __future__ import annotations

from ...engine.context import Context
from ...engine.outcome import Outcome, above, finish, metric, not_applicable
from ...engine.registry import rule
from ..wording import num, pct, plural, qty


@rule("complaint_timeliness")
def complaint_timeliness(ctx: Context, p: dict) -> Outcome:
    facts = ctx.metrics.facts("complaints")
    if not facts["complaint_count"]:
        return not_applicable("No complaint was received in the period.")
    if not facts["decided"]:
        return not_applicable(f"None of the {plural(facts['complaint_count'], 'complaint')} received in the "
                              "period has been decided yet.")
    value = ctx.metrics.value("complaint_median_resolution_days")
    status, threshold = above(value, p["warn_median_days"], p["fail_median_days"])
    start, end = ctx.bounds
    rows = ctx.query(
        """
        SELECT complaint_id, received_at, decided_at, days FROM (
            SELECT *, (epoch(decided_at) - epoch(received_at)) / 86400 AS days FROM complaints
            WHERE received_at >= $start AND received_at < $end)
        WHERE days > $limit ORDER BY complaint_id
        """,
        {"start": start, "end": end, "limit": p["fail_median_days"]},
    )
    items = [{"complaint_id": c, "received_at": r, "decided_at": d, "days": x} for c, r, d, x in rows]
    return finish(
        status,
        f"Complaints received in the period were decided in a median {qty(value, 'day')} (warn above "
        f"{num(p['warn_median_days'])}, fail above {num(p['fail_median_days'])}); {num(len(items))} of "
        f"{plural(facts['decided'], 'decided complaint')} took more than "
        f"{qty(p['fail_median_days'], 'day')}.",
        metric=metric("complaint_median_resolution_days", value, "days", "<=", threshold),
        items=items,
    )


@rule("complaint_human_review")
def complaint_human_review(ctx: Context, p: dict) -> Outcome:
    n = ctx.metrics.value("complaint_count")
    if not n:
        return not_applicable("No complaint was received in the period.")
    start, end = ctx.bounds
    rows = ctx.query(
        "SELECT complaint_id, received_at, decided_at, outcome FROM complaints "
        "WHERE received_at >= $start AND received_at < $end AND decided_solely_automated "
        "ORDER BY complaint_id",
        {"start": start, "end": end},
    )
    items = [{"complaint_id": c, "received_at": r, "decided_at": d, "outcome": o} for c, r, d, o in rows]
    return finish(
        "FAIL" if items else "PASS",
        f"Complaints received in the period decided solely by automated means (Art. 20(6) requires qualified "
        f"staff): {num(len(items))} of {num(n)}.",
        metric=metric("complaint_solely_automated_count", len(items), "count", "==", 0),
        items=items,
    )


@rule("complaint_reversal_rate")
def complaint_reversal_rate(ctx: Context, p: dict) -> Outcome:
    value = ctx.metrics.value("complaint_reversal_rate")
    if value is None:
        return not_applicable("No complaint received in the period has been decided.")
    return finish(
        "WARN" if value > p["warn_rate"] else "PASS",
        f"{pct(value)} of the complaints decided were reversed in full or in part (advisory: above "
        f"{pct(p['warn_rate'])} suggests the first decisions need review).",
        metric=metric("complaint_reversal_rate", value, "share", "<=", p["warn_rate"]),
    )
