"""Publications and reporting duties (Art. 24(2), 33, 37, 42) and binding commitments (Art. 71), from the
publications, audits and commitments registers and the active_recipients dataset."""

from __future__ import annotations

from datetime import date, timedelta

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, insufficient, metric, not_applicable
from ...engine.periods import containing, previous
from ...engine.registry import rule
from ..wording import as_date, num, plural
from .risk import evaluate_kri, kri_outcome, kri_state


def _publications(ctx: Context, kind: str) -> list[tuple[date, dict]]:
    """(published_at, entry) of one kind, published on or before period end, oldest first."""
    found = [(as_date(x.get("published_at")), x) for x in ctx.data.registers.get("publications", [])
             if isinstance(x, dict) and x.get("kind") == kind]
    return sorted(((d, x) for d, x in found if d is not None and d <= ctx.period.end), key=lambda dx: dx[0])


@rule("active_recipients_publication")
def active_recipients_publication(ctx: Context, p: dict) -> Outcome:
    found = _publications(ctx, "ACTIVE_RECIPIENTS")
    if not found:
        return finish("FAIL", f"No ACTIVE_RECIPIENTS publication on or before {ctx.period.end} is registered "
                              "(Art. 24(2): at least every six months).")
    published, entry = found[-1]
    age = (ctx.period.end - published).days
    ok = age <= p["max_days"]
    return finish(
        "PASS" if ok else "FAIL",
        f"Average monthly active recipients were last published on {published}, {plural(age, 'day')} before "
        f"period end (at most {p['max_days']}).",
        metric=metric("days_since_active_recipients_publication", age, "days", "<=", p["max_days"]),
        items=[] if ok else [{"period": entry.get("period"), "published_at": published, "age_days": age}],
    )


@rule("vlop_threshold")
def vlop_threshold(ctx: Context, p: dict) -> Outcome:
    value = ctx.metrics.value("avg_monthly_active_recipients_6m")
    if value is None:
        reason = ctx.metrics.reason("avg_monthly_active_recipients_6m")
        return insufficient(f"The six-month average of active recipients cannot be computed: {reason}.",
                            [f"metric avg_monthly_active_recipients_6m: {reason}"])
    crossed = value >= p["threshold"] and ctx.tier != "VLOP"
    left_out = (ctx.data.quality.get("active_recipients") or {}).get("non_eu_rows") or 0
    return finish(
        "WARN" if crossed else "PASS",
        f"The platform averaged {num(value, 0)} monthly active recipients in the EU-27 over the six months "
        f"to {ctx.period.end} (VLOP threshold {num(p['threshold'])}, Art. 33(1); tier {ctx.tier})"
        + (f"; {plural(left_out, 'row')} of countries outside the EU left out" if left_out else "")
        + ("; notify the Commission (Art. 24(2), 33)." if crossed else "."),
        metric=metric("avg_monthly_active_recipients_6m", value, "recipients", "<", p["threshold"]),
    )


def _latest_audit(ctx: Context) -> dict | None:
    audits = [(as_date(a.get("report_received_at")), str(a.get("id")), a)
              for a in ctx.data.registers.get("audits", []) if isinstance(a, dict)]
    audits = [a for a in audits if a[0] is not None and a[0] <= ctx.period.end]
    return max(audits, key=lambda a: a[:2])[2] if audits else None


@rule("audit_freshness")
def audit_freshness(ctx: Context, p: dict) -> Outcome:
    audit = _latest_audit(ctx)
    if audit is None:
        return finish("FAIL", f"No independent audit report received on or before {ctx.period.end} is "
                              "registered (Art. 37: at least once a year).")
    received = as_date(audit["report_received_at"])
    age = (ctx.period.end - received).days
    negative = audit.get("opinion") == "NEGATIVE"
    status = "FAIL" if age > p["max_age_days"] else "WARN" if negative else "PASS"
    return finish(
        status,
        f"The latest audit report {audit.get('id')} was received on {received}, {plural(age, 'day')} before "
        f"period end (at most {p['max_age_days']}), with opinion {audit.get('opinion')}.",
        metric=metric("audit_report_age_days", age, "days", "<=", p["max_age_days"]),
        items=[] if status == "PASS" else [{"audit_id": audit.get("id"), "report_received_at": received,
                                            "age_days": age, "opinion": audit.get("opinion")}],
    )


@rule("audit_publication")
def audit_publication(ctx: Context, p: dict) -> Outcome:
    audit = _latest_audit(ctx)
    if audit is None:
        return not_applicable(f"No audit report received on or before {ctx.period.end} is registered.")
    received = as_date(audit["report_received_at"])
    deadline = received + timedelta(days=p["max_days"])
    on_time = [d for d, _ in _publications(ctx, "AUDIT_REPORT") if received <= d <= deadline]
    if on_time:
        return finish("PASS", f"The audit report {audit.get('id')} received on {received} was published on "
                              f"{on_time[0]}, by the deadline {deadline} (Art. 42(4)).")
    if deadline > ctx.period.end:
        return not_applicable(f"The audit report {audit.get('id')} received on {received} is due for "
                              f"publication by {deadline}, after period end.")
    return finish(
        "FAIL",
        f"The audit report {audit.get('id')} received on {received} was not published by {deadline} "
        "(Art. 42(4): within three months).",
        items=[{"audit_id": audit.get("id"), "report_received_at": received, "deadline": deadline}],
    )


@rule("transparency_report")
def transparency_report(ctx: Context, p: dict) -> Outcome:
    """The two latest half-years whose deadline (half-year end + deadline_days) is not after period end."""
    due, half = [], containing("half-year", ctx.period.end)
    while len(due) < 2:
        deadline = half.end + timedelta(days=p["deadline_days"])
        if deadline <= ctx.period.end:
            due.append((half, deadline))
        half = previous(half)
    published = {}
    for d, x in _publications(ctx, "TRANSPARENCY_REPORT"):
        published.setdefault(str(x.get("period")), d)
    items = []
    for half, deadline in sorted(due, key=lambda hd: hd[0].start):
        day = published.get(half.label)
        if day is None or day > deadline:
            items.append({"half_year": half.label, "deadline": deadline, "published_at": day,
                          "state": "missing" if day is None else "late"})
    names = ", ".join(f"{i['half_year']} ({i['state']})" for i in items)
    return finish(
        "FAIL" if items else "PASS",
        f"Of the transparency reports due for {' and '.join(h.label for h, _ in due[::-1])}, "
        + (f"{names} {'was' if len(items) == 1 else 'were'} not published on time (Art. 42(1))."
           if items else "all were published by their deadline."),
        metric=metric("transparency_reports_missing_or_late", len(items), "count", "==", 0),
        items=items,
    )


@rule("commitments")
def commitments(ctx: Context, p: dict) -> Outcome:
    """Art. 71 commitments: a missed KRI FAILs once the commitment is due (on or before period end, or no due
    date); before that it WARNs. Evidence lists every commitment."""
    entries = [c for c in ctx.data.registers.get("commitments") or [] if isinstance(c, dict)]
    if not entries:
        return not_applicable("The platform has no registered binding commitments.")
    results = []
    for c in entries:
        due = as_date(c.get("due"))
        k = evaluate_kri(ctx.metrics, c.get("kri"))
        state = kri_state(k)
        if state == "missed" and due is not None and due > ctx.period.end:
            state = "missed before due"
        results.append({"commitment_id": c.get("id"), "title": c.get("title"), "due": due, **k,
                        "state": state})
    return kri_outcome(results, "commitment_id", f"of {plural(len(results), 'commitment')}", all_items=True)
