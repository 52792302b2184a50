"""Internal complaint handling (Art. 20)."""

from __future__ import annotations

from ...engine.context import Context
from ...engine.outcome import Outcome, above, finish, metric, not_applicable
from ...engine.registry import rule
from ..facts import censored_hours, still_open
from ..wording import num, pct, plural, qty


@rule("complaint_timeliness")
def complaint_timeliness(ctx: Context, p: dict) -> Outcome:
    """Median resolution days (hours/24) of the period's complaints, censored at period end; the evidence
    is the complaints still undecided at period end (whenever received) older than warn_median_days, oldest
    first; the younger ones are pending."""
    facts = ctx.metrics.facts("complaints")
    n, undecided = facts["complaint_count"], facts["undecided"]
    if not n:
        return not_applicable("No complaint was received in the period.")
    value = ctx.metrics.value("complaint_median_resolution_days")
    status, threshold = above(value, p["warn_median_days"], p["fail_median_days"])
    _, end = ctx.bounds
    rows = ctx.query(
        f"""
        SELECT complaint_id, received_at, {censored_hours("received_at", "decided_at")} / 24 AS age_days
        FROM complaints WHERE received_at < $period_end AND {still_open("decided_at")}
        ORDER BY received_at, complaint_id
        """,  # noqa: S608 - fragments from code
        {"period_end": end},
    )
    waiting = [{"complaint_id": c, "received_at": r, "age_days": d} for c, r, d in rows]
    items = [w for w in waiting if w["age_days"] > p["warn_median_days"]]
    open_text = (f", a lower bound: the {num(undecided)} undecided at period end count with their age then"
                 if undecided else "")
    return finish(
        status,
        f"The median resolution time of the {plural(n, 'complaint')} received in the period is "
        f"{qty(value, 'day')}{open_text} (warn above {num(p['warn_median_days'])}, fail above "
        f"{num(p['fail_median_days'])}: internal thresholds); {plural(len(items), 'complaint')} undecided at "
        f"period end and older than {qty(p['warn_median_days'], 'day')}.",
        metric=metric("complaint_median_resolution_days", value, "days", "<=", threshold),
        items=items,
        pending=[w for w in waiting if w["age_days"] <= p["warn_median_days"]],
    )


@rule("complaint_human_review")
def complaint_human_review(ctx: Context, p: dict) -> Outcome:
    """Art. 20(6): FAIL for any complaint decided solely by automated means; a decided complaint whose
    decided_solely_automated is null is unknown, never taken as human review: WARN naming how many."""
    n = ctx.metrics.value("complaint_count")
    if not n:
        return not_applicable("No complaint was received in the period.")
    start, end = ctx.bounds
    rows = ctx.query(
        """
        SELECT complaint_id, received_at, decided_at, outcome, decided_solely_automated FROM complaints
        WHERE received_at >= $start AND received_at < $end
          AND (decided_solely_automated OR (decided_solely_automated IS NULL AND decided_at IS NOT NULL))
        ORDER BY complaint_id
        """,
        {"start": start, "end": end},
    )
    automated = [{"complaint_id": c, "received_at": r, "decided_at": d, "outcome": o}
                 for c, r, d, o, flag in rows if flag]
    unknown = [{"complaint_id": c, "received_at": r, "decided_at": d, "outcome": o}
               for c, r, d, o, flag in rows if flag is None]
    unknown_text = (f"; {num(len(unknown))} decided without saying whether a person took part (unknown, not "
                    "counted as human review)" if unknown else "")
    status = "FAIL" if automated else "WARN" if unknown else "PASS"
    return finish(
        status,
        f"Complaints received in the period decided solely by automated means (Art. 20(6) requires qualified "
        f"staff): {num(len(automated))} of {num(n)}{unknown_text}.",
        metric=metric("complaint_solely_automated_count", len(automated), "count", "==", 0),
        items=automated if automated else unknown,
        unknown_automation=len(unknown),
    )


@rule("complaint_reversal_rate")
def complaint_reversal_rate(ctx: Context, p: dict) -> Outcome:
    value = ctx.metrics.value("complaint_reversal_rate")
    if value is None:
        return not_applicable("No complaint received in the period has been decided.")
    return finish(
        "WARN" if value > p["warn_rate"] else "PASS",
        f"{pct(value)} of the complaints decided were reversed in full or in part (advisory: above "
        f"{pct(p['warn_rate'])}, internal threshold, suggests the first decisions need review).",
        metric=metric("complaint_reversal_rate", value, "share", "<=", p["warn_rate"]),
    )
