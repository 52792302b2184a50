"""Orders from Member State authorities: acting against illegal content (Art. 9) and providing information
(Art. 10). An order belongs to the period that contains its `received_at`; everything is judged as it stood at
period end (a report, a confirmation or an effect dated later counts as not yet there)."""

from __future__ import annotations

from datetime import datetime
from statistics import median

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, metric, not_applicable
from ...engine.registry import rule
from ..facts import censored_duration, censored_hours, still_open
from ..wording import num, plural, qty

ACT, INFO = "ACT_AGAINST_ILLEGAL_CONTENT", "PROVIDE_INFORMATION"
GIVEN_EFFECT, REFUSED = "GIVEN_EFFECT", "REFUSED"
_OF_KIND = "kind = $kind AND received_at >= $start AND received_at < $end"


def _hours_past(deadline: datetime | None, effect: datetime | None, period_end: datetime) -> float | None:
    """Hours by which the effect came after the order's own deadline (negative: in time). An order still
    without effect at period end counts as given effect then (censored), so one never acted on cannot look
    better than one acted on late. None: the order sets no deadline."""
    return None if deadline is None else censored_duration(deadline, effect, period_end)


@rule("order_effect_reported")
def order_effect_reported(ctx: Context, p: dict) -> Outcome:
    """Art. 9(1): inform the authority of the effect given to an order, or of its refusal, without undue delay.

    A report is owed from `effect_given_at`; a REFUSED order (or one GIVEN_EFFECT without a time) has no time
    of its own, so the lateness of its report cannot be measured: it is only checked that a report exists,
    counting from receipt. An order still without effect past the deadline it set, with nothing reported by
    period end, leaves the authority uninformed whether effect was given: it is not reported too."""
    start, end = ctx.bounds
    rows = ctx.query(
        "SELECT order_id, received_at, outcome, effect_given_at, effect_reported_at, deadline_at FROM orders "  # noqa: S608
        f"WHERE {_OF_KIND} ORDER BY received_at, order_id",  # (SQL from constants)
        {"kind": ACT, "start": start, "end": end},
    )
    if not rows:
        return not_applicable("No order to act against illegal content was received in the period.")
    deadlines = "deadline_at" in ctx.data.datasets["orders"].columns
    limit = p["report_hours"]
    items, pending, counts = [], [], {"not_reported": 0, "reported_late": 0, "effect_after_deadline": 0}
    for order_id, received, outcome, given, reported, deadline in rows:
        if given is not None:  # a report is owed from the effect, once it was given by period end
            since = given if given < end else None
        else:  # acted at a time the data does not give: only whether a report exists is checked
            since = received if outcome in (GIVEN_EFFECT, REFUSED) else None
        hours = None if since is None else censored_duration(since, reported, end)
        unreported = reported is None or reported >= end
        past = None if outcome == REFUSED else _hours_past(deadline, given, end)
        overdue = past is not None and past > 0
        problems = []
        if hours is not None and hours > limit and (unreported or given is not None):
            problems.append("not_reported" if unreported else "reported_late")
        elif since is None and unreported and overdue:  # its own time to act is over, the authority told nothing
            problems.append("not_reported")
        if overdue:
            problems.append("effect_after_deadline")
        item = {"order_id": order_id, "received_at": received, "outcome": outcome, "effect_given_at": given,
                "effect_reported_at": reported, "deadline_at": deadline, "report_hours": hours,
                "hours_past_deadline": past, "problems": problems}
        for problem in problems:
            counts[problem] += 1
        if problems:
            items.append(item)
        elif (since is None and outcome != REFUSED) or (hours is not None and unreported):
            pending.append(item)  # no effect yet, or a report not yet due at period end
    status = "FAIL" if counts["not_reported"] else "WARN" if items else "PASS"
    unchecked = "" if deadlines else "; the deadlines the orders set were not checked (column deadline_at absent)"
    return finish(
        status,
        f"Of {plural(len(rows), 'order')} to act against illegal content received in the period: authority "
        f"not informed by period end of the effect given or of the refusal: {num(counts['not_reported'])}; "
        f"informed more than {qty(limit, 'hour')} (internal threshold) after the effect: "
        f"{num(counts['reported_late'])}; given effect after the deadline the order set, or still without "
        f"effect past it: {num(counts['effect_after_deadline'])}{unchecked}.",
        metric=metric("orders_effect_unreported", counts["not_reported"], "count", "==", 0),
        items=items,
        pending=pending,
        **counts,
    )


@rule("order_receipt")
def order_receipt(ctx: Context, p: dict) -> Outcome:
    """Art. 10(1): confirm the receipt of an order to provide information without undue delay (Art. 9(1) asks
    for no such confirmation). Hours to confirmation are censored at period end."""
    start, end = ctx.bounds
    rows = ctx.query(
        "SELECT order_id, received_at, acknowledged_at, "  # noqa: S608 (SQL from constants)
        f"{censored_hours('received_at', 'acknowledged_at')} AS h, {still_open('acknowledged_at')} "
        f"FROM orders WHERE {_OF_KIND} ORDER BY h DESC, order_id",
        {"kind": INFO, "start": start, "end": end, "period_end": end},
    )
    if not rows:
        return not_applicable("No order to provide information was received in the period.")
    limit = p["ack_hours"]
    items, pending = [], []
    for order_id, received, acknowledged, hours, unconfirmed in rows:
        item = {"order_id": order_id, "received_at": received, "acknowledged_at": acknowledged,
                "ack_hours": hours, "unconfirmed": unconfirmed}
        if hours > limit:
            items.append(item)
        elif unconfirmed:
            pending.append(item)  # its confirmation is not yet due at period end
    open_ = sum(1 for i in items if i["unconfirmed"])
    return finish(
        "FAIL" if open_ else "WARN" if items else "PASS",
        f"Of {plural(len(rows), 'order')} to provide information received in the period: receipt confirmed "
        f"to the authority more than {qty(limit, 'hour')} (internal threshold) after receipt: "
        f"{num(len(items) - open_)}; still unconfirmed at period end, more than {qty(limit, 'hour')} after "
        f"receipt: {num(open_)}.",
        metric=metric("information_orders_unconfirmed", open_, "count", "==", 0),
        items=items,
        pending=pending,
    )


@rule("information_orders")
def information_orders(ctx: Context, p: dict) -> Outcome:
    """Art. 10(1): give effect to an order to provide information. An order that sets a deadline is judged by
    it; without one, the censored median hours to effect is an indicator of "without undue delay". A REFUSED
    order has no effect to time: it is left out (Art. 10(1) lets the provider refuse, stating why)."""
    start, end = ctx.bounds
    rows = ctx.query(
        "SELECT order_id, received_at, deadline_at, effect_given_at, outcome, "  # noqa: S608 (SQL from constants)
        f"{censored_hours('received_at', 'effect_given_at')} AS h, {still_open('effect_given_at')} "
        f"FROM orders WHERE {_OF_KIND} AND outcome IS DISTINCT FROM $refused ORDER BY order_id",
        {"kind": INFO, "start": start, "end": end, "period_end": end, "refused": REFUSED},
    )
    if not rows:
        return not_applicable("No order to provide information received in the period is awaiting or was given "
                              "effect (none, or every one refused).")
    warn = p["warn_median_hours"]
    past, slow, pending, undated_hours = [], [], [], []
    for order_id, received, deadline, given, outcome, hours, open_ in rows:
        item = {"order_id": order_id, "received_at": received, "deadline_at": deadline, "effect_given_at": given,
                "outcome": outcome, "hours_to_effect": hours, "without_effect": open_,
                "hours_past_deadline": _hours_past(deadline, given, end)}
        if deadline is None:
            undated_hours.append(hours)
            if hours > warn:
                slow.append(item)
            elif open_:
                pending.append(item)
        elif item["hours_past_deadline"] > 0:
            past.append(item)
        elif open_:
            pending.append(item)  # its deadline is after period end
    middle = median(undated_hours) if undated_hours else None  # exact: the mean of the two middle values
    past.sort(key=lambda i: (-i["hours_past_deadline"], i["order_id"]))
    slow.sort(key=lambda i: (-i["hours_to_effect"], i["order_id"]))
    late_median = middle is not None and middle > warn
    status = "FAIL" if past else "WARN" if late_median else "PASS"
    without = (f"orders without a deadline ({num(len(undated_hours))}): median {qty(middle, 'hour')} from "
               f"receipt to effect (open ones counted at their age at period end; warn above "
               f"{qty(warn, 'hour')}, internal threshold)" if undated_hours else "every order set a deadline")
    if past or middle is None:
        shown = metric("information_orders_past_deadline", len(past), "count", "==", 0)
    else:
        shown = metric("information_order_median_hours_to_effect", middle, "hours", "<=", warn)
    return finish(
        status,
        f"Of {plural(len(rows), 'order')} to provide information received in the period (refused ones left "
        f"out): given effect after the deadline the order set, or still without effect past it: "
        f"{num(len(past))}; {without}.",
        metric=shown,
        items=past + (slow if late_median else []),
        pending=pending,
        past_deadline=len(past),
    )

