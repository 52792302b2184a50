"""Publications and reporting duties (Art. 24(2), 33, 37, 42) and binding commitments (Art. 71), from the
publications, audits and commitments registers and the active_recipients dataset."""

from __future__ import annotations

import calendar
from datetime import date

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, insufficient, metric, not_applicable
from ...engine.periods import containing, previous
from ...engine.registry import rule
from ..wording import as_date, num, plural
from .risk import evaluate_kri, kri_outcome, kri_state

NOT_CHECKED_42_4 = "42(4)(e): information on the consultations that supported the risk assessment and mitigation"


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, or that month's last day when it has no such day
    (Regulation 1182/71, Art. 3(2)(c)): 1 Jan + 6 = 1 Jul, 31 Aug + 6 = 28 (or 29) Feb."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_end_after(day: date, months: int) -> date:
    """The last day of the month `months` calendar months after `day`'s month: 30 Jun + 2 = 31 Aug,
    31 Dec + 2 = 28 (or 29) Feb (the transparency-report deadline of Implementing Regulation 2024/2835)."""
    first = add_months(day.replace(day=1), months)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _publications(ctx: Context, kind: str) -> list[tuple[date, dict]]:
    """(published_at, entry) of one kind, published on or before period end, oldest first."""
    found = [(as_date(x.get("published_at")), x) for x in ctx.data.registers.get("publications", [])
             if isinstance(x, dict) and x.get("kind") == kind]
    return sorted(((d, x) for d, x in found if d is not None and d <= ctx.period.end), key=lambda dx: dx[0])


@rule("active_recipients_publication")
def active_recipients_publication(ctx: Context, p: dict) -> Outcome:
    """Art. 24(2): "at least once every six months". The gaps checked run from the last publication before
    the period (or period start when none precedes it) through each publication of the period to period end;
    a gap is too long when its end is after the same day `max_gap_months` calendar months after its start."""
    months = p["max_gap_months"]
    found = _publications(ctx, "ACTIVE_RECIPIENTS")
    if not found:
        return finish("FAIL", f"No ACTIVE_RECIPIENTS publication on or before {ctx.period.end} is registered "
                              f"(Art. 24(2): at least once every {months} months).",
                      metric=metric("active_recipients_publication_gaps_too_long", 1, "count", "==", 0),
                      items=[{"from": None, "from_kind": "none registered", "to": ctx.period.end,
                              "to_kind": "period end", "due_by": None, "days": None}])
    before = [d for d, _ in found if d < ctx.period.start]
    points = ([(before[-1], "publication")] if before else [(ctx.period.start, "period start")])
    points += [(d, "publication") for d, _ in found if d >= ctx.period.start] + [(ctx.period.end, "period end")]
    gaps = [{"from": a, "from_kind": ka, "to": b, "to_kind": kb, "due_by": add_months(a, months),
             "days": (b - a).days} for (a, ka), (b, kb) in zip(points, points[1:], strict=False)]
    too_long = sorted((g for g in gaps if g["to"] > g["due_by"]), key=lambda g: (-g["days"], g["from"]))
    longest = max(gaps, key=lambda g: g["days"])
    if too_long:
        worst = too_long[0]
        upto = "period end" if worst["to_kind"] == "period end" else "the next publication"
        message = (f"Average monthly active recipients were not published for {plural(worst['days'], 'day')}, "
                   f"from {worst['from']} ({worst['from_kind']}) to {worst['to']} ({upto}): more than "
                   f"{months} calendar months (Art. 24(2)), the next was due by {worst['due_by']}"
                   + (f"; {plural(len(too_long), 'gap')} too long in all." if len(too_long) > 1 else "."))
    else:
        message = (f"Average monthly active recipients were published at least every {months} calendar months "
                   f"(Art. 24(2)): the longest gap, {plural(longest['days'], 'day')} from {longest['from']} to "
                   f"{longest['to']}, was within it; last published on {found[-1][0]}.")
    return finish(
        "FAIL" if too_long else "PASS",
        message,
        metric=metric("active_recipients_publication_gaps_too_long", len(too_long), "count", "==", 0),
        items=too_long,
        longest_gap_days=longest["days"],
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


AUDIT_PUBLICATIONS = (  # Art. 42(4): (a) and (b) are usually one document
    ("RISK_ASSESSMENT_REPORT", "42(4)(a)-(b)"), ("AUDIT_REPORT", "42(4)(c)"),
    ("AUDIT_IMPLEMENTATION_REPORT", "42(4)(d)"),
)


@rule("audit_publication")
def audit_publication(ctx: Context, p: dict) -> Outcome:
    """Within `deadline_months` calendar months of the latest audit report's receipt, the risk assessment
    report, the audit report and the audit implementation report are published; (e) is not checked."""
    audit = _latest_audit(ctx)
    if audit is None:
        return not_applicable(f"No audit report received on or before {ctx.period.end} is registered.")
    received = as_date(audit["report_received_at"])
    deadline = add_months(received, p["deadline_months"])
    state = {}
    for kind, _ in AUDIT_PUBLICATIONS:
        days = [d for d, _ in _publications(ctx, kind) if d >= received]
        on_time = [d for d in days if d <= deadline]
        state[kind] = (on_time[0], "published") if on_time else (days[0], "late") if days else (None, "missing")
    owed = [(kind, ref) for kind, ref in AUDIT_PUBLICATIONS if state[kind][1] != "published"]
    what = f"audit report {audit.get('id')} received on {received}"
    extra = {"not_checked": [NOT_CHECKED_42_4], "deadline": deadline}
    if not owed:
        return finish("PASS", f"The publications owed for the {what} (Art. 42(4)(a)-(d)) were all made by "
                              f"{deadline}; (e) consultations not checked.", **extra)
    if deadline > ctx.period.end:
        return not_applicable(f"The publications owed for the {what} are due by {deadline}, after period end; "
                              f"not yet published: {', '.join(kind for kind, _ in owed)}.")
    items = sorted(({"kind": kind, "article": ref, "state": state[kind][1], "published_at": state[kind][0],
                     "deadline": deadline} for kind, ref in owed),
                   key=lambda i: (i["state"] != "missing", i["kind"]))
    return finish(
        "FAIL",
        f"Not published within {p['deadline_months']} calendar months (by {deadline}) of the {what} "
        f"(Art. 42(4)): " + ", ".join(f"{i['kind']} ({i['state']})" for i in items)
        + "; (e) consultations not checked.",
        metric=metric("audit_publications_missing_or_late", len(items), "count", "==", 0),
        items=items,
        **extra,
    )


@rule("transparency_report")
def transparency_report(ctx: Context, p: dict) -> Outcome:
    """The two latest half-years whose deadline (the last day of the month `deadline_months` calendar months
    after the half-year's last month) is not after period end."""
    due, half = [], containing("half-year", ctx.period.end)
    while len(due) < 2:
        deadline = month_end_after(half.end, p["deadline_months"])
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
    items.sort(key=lambda i: (i["state"] != "missing", i["deadline"]))
    names = ", ".join(f"{i['half_year']} ({i['state']}, due by {i['deadline']})" for i in items)
    return finish(
        "FAIL" if items else "PASS",
        f"Of the transparency reports due for {' and '.join(h.label for h, _ in due[::-1])} (each within "
        f"{p['deadline_months']} calendar months of its half-year, Art. 42(1)), "
        + (f"{names} {'was' if len(items) == 1 else 'were'} not published on time."
           if items else "all were published by their deadline."),
        metric=metric("transparency_reports_missing_or_late", len(items), "count", "==", 0),
        items=items,
    )


@rule("commitments")
def commitments(ctx: Context, p: dict) -> Outcome:
    """Art. 71 commitments: a missed KRI FAILs once the commitment is due (on or before period end, or no due
    date); before that it WARNs. Evidence lists every commitment. The register is optional (the catalogue
    does not require it): without one the platform has no commitments to keep, unless the config says it is
    under binding commitments, when the missing register is missing data."""
    if "commitments" not in ctx.data.registers:
        if ctx.binding_commitments:
            return insufficient("The config says the platform is under binding commitments "
                                "(binding_commitments: true), but no commitments register was found.",
                                ["register commitments"])
        return not_applicable("The platform has no registered binding commitments.")
    entries = [c for c in ctx.data.registers["commitments"] or [] if isinstance(c, dict)]
    if not entries:
        if ctx.binding_commitments:
            return insufficient("The config says the platform is under binding commitments "
                                "(binding_commitments: true), but the commitments register lists none.",
                                ["register commitments (empty)"])
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
