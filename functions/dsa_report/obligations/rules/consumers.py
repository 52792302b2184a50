"""Recipients and consumers: out-of-court dispute decisions (Arts 21(2) and 24(1)(a)) and informing the
consumers who bought an illegal product (Art. 32)."""

from __future__ import annotations

from datetime import datetime

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, metric, not_applicable
from ...engine.registry import rule
from ..facts import censored_hours, still_open
from ..wording import num, pct, plural, qty


@rule("ods_implementation")
def ods_implementation(ctx: Context, p: dict) -> Outcome:
    """Advisory: an out-of-court decision is not binding (Art. 21(2)); the share implemented is what
    Art. 24(1)(a) asks to report. Days to implementation are censored at period end."""
    start, end = ctx.bounds
    rows = ctx.query(
        f"SELECT dispute_id, decision_puid, closed_at, implemented_at, "  # noqa: S608 (SQL from constants)
        f"{censored_hours('closed_at', 'implemented_at')} / 24 AS days, {still_open('implemented_at')} "
        "FROM odr_disputes WHERE outcome = $recipient AND closed_at >= $start AND closed_at < $end "
        "ORDER BY days DESC, dispute_id",
        {"recipient": "IN_FAVOUR_OF_RECIPIENT", "start": start, "end": end, "period_end": end},
    )
    if not rows:
        return not_applicable("No out-of-court dispute was closed in the recipient's favour in the period.")
    grace = p["grace_days"]
    items, pending = [], []
    for dispute_id, puid, closed, implemented, days, open_ in rows:
        item = {"dispute_id": dispute_id, "decision_puid": puid, "closed_at": closed,
                "implemented_at": implemented, "days_to_implement": days, "not_implemented": open_}
        if days > grace:
            items.append(item)
        elif open_:
            pending.append(item)  # still within the grace period at period end
    share = sum(1 for *_, open_ in rows if not open_) / len(rows)
    return finish(
        "WARN" if items else "PASS",
        f"{pct(share)} of the {plural(len(rows), 'out-of-court decision')} in the recipient's favour closed in "
        f"the period were implemented by period end (the share Art. 24(1)(a) asks to report); not implemented "
        f"within {qty(grace, 'day')} (internal threshold): {num(len(items))}. Advisory: such decisions are not "
        "binding (Art. 21(2)).",
        metric=metric("odr_decisions_implemented_share", share, "share", ">=", None),
        items=items,
        pending=pending,
    )


def _buyers(aware: datetime, bought: int | None, reachable: int | None, notified: int | None,
            notified_at: datetime | None, notice_at: datetime | None,
            end: datetime) -> tuple[datetime | None, int | None]:
    """(when the buyers of an illegal product were all informed as Art. 32 asks, or None if they were not by
    period end; how many of them were still uninformed at period end, or None when the counts are unknown).

    Owed: each buyer with contact details individually (`notified` >= `consumers_6m_with_contact`) and, when
    some buyers have none, a public notice. An unknown count or time owes what it could hide."""
    told = notified_at is not None and notified_at < end
    noticed = notice_at is not None and notice_at < end
    individual = reachable is None or reachable > 0
    public = bought is None or reachable is None or reachable < bought
    done = [notified_at if told and notified is not None and reachable is not None and notified >= reachable
            else None] if individual else []
    done += [notice_at if noticed else None] if public else []
    handled = aware if not done else None if None in done else max(done)
    if None in (bought, reachable, notified):
        return handled, None
    missing = max(reachable - (notified if told else 0), 0) if individual else 0
    return handled, missing + (max(bought - reachable, 0) if public and not noticed else 0)


@rule("buyers_informed")
def buyers_informed(ctx: Context, p: dict) -> Outcome:
    """Art. 32: illegal products the platform became aware of in the period, and earlier ones still unhandled
    at its start. The law sets no deadline: `grace_days` is the platform's own."""
    start, end = ctx.bounds
    rows = ctx.query(
        "SELECT item_id, aware_at, consumers_6m, consumers_6m_with_contact, notified, notified_at, "
        "public_notice_at FROM buyer_notifications WHERE aware_at < $end ORDER BY item_id, aware_at",
        {"end": end},
    )
    grace_days = p["grace_days"]
    items, pending, in_scope, carried = [], [], 0, 0
    for item_id, aware, bought, reachable, notified, notified_at, notice_at in rows:
        handled, uninformed = _buyers(aware, bought, reachable, notified, notified_at, notice_at, end)
        earlier = aware < start
        if earlier and handled is not None and handled < start:
            continue  # handled before the period
        in_scope += 1
        carried += earlier
        item = {"item_id": item_id, "aware_at": aware, "consumers_6m": bought, "consumers_6m_with_contact": reachable,
                "notified": notified, "notified_at": notified_at, "public_notice_at": notice_at,
                "handled_at": handled, "uninformed": uninformed,
                "days": ((handled or end) - aware).total_seconds() / 86400,
                "state": "unhandled" if handled is None else "late", "carried_over": earlier}
        if item["days"] > grace_days:
            items.append(item)
        elif handled is None:
            pending.append(item)  # aware less than grace_days before period end
    if not in_scope:
        return not_applicable("The platform became aware of no illegal product in the period, and none from "
                              "before is still unhandled.")
    items.sort(key=lambda i: (i["uninformed"] is None, -(i["uninformed"] or 0), -i["days"], i["item_id"]))
    unhandled = sum(1 for i in items if i["state"] == "unhandled")
    earlier = f" ({num(carried)} from before the period)" if carried else ""
    return finish(
        "FAIL" if unhandled else "WARN" if items else "PASS",
        f"Of {plural(in_scope, 'illegal product')} in scope{earlier}: buyers still not all informed at period "
        f"end (individually, or by a public notice for buyers without contact details) more than "
        f"{qty(p['grace_days'], 'day')} (internal threshold; the law sets no deadline) after the platform became "
        f"aware: {num(unhandled)}; buyers informed later than that: {num(len(items) - unhandled)}.",
        metric=metric("illegal_products_buyers_uninformed", unhandled, "count", "==", 0),
        items=items,
        pending=pending,
    )
