"""Data access for researchers (Art. 40), from the data_access_requests register.

A request is judged in every period it is open in (received by period end, access not given before period
start), so an unanswered one is seen again each period. Vetted-researcher requests (40(4), sent by the Digital
Services Coordinator): access must come by the request's own `deadline_at`, and an amendment (40(5)) may be
asked only within 15 days of receipt. Public-data requests (40(12), "without undue delay"): the censored median
days from receipt to access, a request still open at period end counting with its age then.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, time
from typing import Any

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, metric, not_applicable
from ...engine.registry import rule
from ..facts import censored_duration
from ..wording import as_date, num, plural, qty

VETTED, PUBLIC = "VETTED_RESEARCHER", "PUBLIC_DATA"
_DATES = ("received_at", "deadline_at", "amendment_requested_at", "access_provided_at")


def _dates(entry: dict) -> dict[str, date | None] | None:
    """The request's dates, None when one is not a date."""
    try:
        return {k: as_date(entry.get(k)) for k in _DATES}
    except ValueError:
        return None


def _vetted(entry: dict, d: dict, end: date, p: dict) -> dict[str, Any] | None:
    """The request with its problems and how late it is (days), or None when it is compliant or not yet due.
    Access given after period end is unknown at period end: the request counts as still open then."""
    provided = d["access_provided_at"] if d["access_provided_at"] and d["access_provided_at"] <= end else None
    problems, late = [], 0
    if provided is None and d["deadline_at"] <= end:
        late = (end - d["deadline_at"]).days
        problems.append(f"no access by period end, {plural(late, 'day')} after the deadline")
    elif provided is not None and provided > d["deadline_at"]:
        late = (provided - d["deadline_at"]).days
        problems.append(f"access provided {plural(late, 'day')} after the deadline")
    amended = d["amendment_requested_at"]
    if amended is not None and amended <= end and (amended - d["received_at"]).days > p["amendment_days"]:
        over = (amended - d["received_at"]).days - p["amendment_days"]
        problems.append(f"amendment asked {plural((amended - d['received_at']).days, 'day')} after receipt")
        late = max(late, over)
    if not problems:
        return None
    return {"id": entry.get("id"), "kind": VETTED, **d, "problems": problems, "days_late": late,
            "open": provided is None}


@rule("data_access")
def data_access(ctx: Context, p: dict) -> Outcome:
    start, end = ctx.period.start, ctx.period.end
    period_end = ctx.bounds[1]
    offending, pending, unchecked, public = [], [], [], []
    vetted_in_scope = 0
    for entry in (e for e in ctx.data.registers.get("data_access_requests", []) if isinstance(e, dict)):
        d, kind = _dates(entry), entry.get("kind")
        if d is None or d["received_at"] is None:
            unchecked.append({"id": entry.get("id"), "reason": "received_at missing or not a date"})
            continue
        received, provided = d["received_at"], d["access_provided_at"]
        if received > end or (provided is not None and provided < start):
            continue  # not open in the period: received after it, or answered before it
        if kind == PUBLIC:
            stop = datetime.combine(provided, time.min) if provided else None
            days = censored_duration(datetime.combine(received, time.min), stop, period_end) / 24
            public.append({"id": entry.get("id"), "kind": PUBLIC, "received_at": received,
                           "access_provided_at": provided, "days_to_access": days,
                           "open": provided is None or provided > end})
        elif kind != VETTED:
            unchecked.append({"id": entry.get("id"), "reason": f"kind {kind!r} is not {VETTED} or {PUBLIC}"})
        elif d["deadline_at"] is None:
            unchecked.append({"id": entry.get("id"), "reason": "deadline_at missing"})
        else:
            vetted_in_scope += 1
            judged = _vetted(entry, d, end, p)
            if judged is not None:
                offending.append(judged)
            elif provided is None or provided > end:
                pending.append({"id": entry.get("id"), "kind": VETTED, **d})
    offending.sort(key=lambda i: (not i["open"], -i["days_late"], str(i["id"])))
    median = statistics.median(r["days_to_access"] for r in public) if public else None
    slow = sorted((r for r in public if r["days_to_access"] > p["warn_median_days"]),
                  key=lambda r: (-r["days_to_access"], str(r["id"])))
    if not (vetted_in_scope or public or unchecked):
        return not_applicable("No data access request was open in the period.")
    status = "FAIL" if offending else ("WARN" if median is not None and median > p["warn_median_days"] else "PASS")
    message = (f"Vetted-researcher requests open in the period: {num(vetted_in_scope)}; access late or still "
               f"missing past the request's deadline, or an amendment asked more than {p['amendment_days']} days "
               f"after receipt (Art. 40(4)-(5)): {num(len(offending))}")
    if public:
        message += (f"; public-data requests open in the period: {num(len(public))}, median "
                    f"{qty(median, 'day')} to access, open ones counted to period end (internal threshold "
                    f"{qty(p['warn_median_days'], 'day')})")
    if unchecked and status != "FAIL":
        status = "INSUFFICIENT_DATA"
        message += f"; {plural(len(unchecked), 'request')} cannot be checked: {unchecked[0]['reason']}"
    evidence = {"vetted_in_scope": vetted_in_scope, "public_requests": len(public),
                "public_median_days": median, "unchecked": unchecked}
    outcome = finish(
        status,
        message + ".",
        metric=(metric("vetted_requests_late", len(offending), "count", "==", 0) if vetted_in_scope or not public
                else metric("public_data_access_median_days", median, "days", "<=", p["warn_median_days"])),
        items=offending + slow,
        pending=pending,
        **evidence,
    )
    if status == "INSUFFICIENT_DATA":
        outcome.missing = [f"register data_access_requests: request {u['id']} ({u['reason']})" for u in unchecked]
    return outcome
