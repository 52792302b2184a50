"""Listings of illegal products (Art. 34/35 mitigation, as in the AliExpress commitments): hidden links,
re-appearance of removed items, proactive detection.

Listing events are the largest table (several per item), so each question is one query over the few items
that matter (hidden-link items, items that came back), run once per period and shared with the metrics.
"""

from __future__ import annotations

from datetime import timedelta

from ...engine.context import Context
from ...engine.outcome import Outcome, above, finish, insufficient, metric, not_applicable
from ...engine.registry import rule
from ..facts import hidden_link_items, reappeared_items
from ..wording import num, pct, plural, qty


@rule("reappearance_rate")
def reappearance_rate(ctx: Context, p: dict) -> Outcome:
    removed = ctx.metrics.facts("listings")["removed_items"]
    if not removed:
        return not_applicable("No item was removed in the period.")
    value = ctx.metrics.value("reappearance_rate")
    status, threshold = above(value, p["warn_rate"], p["fail_rate"])
    items = [{"item_id": i.item_id, "trader_id": i.trader_id, "removed_at": i.removed_at,
              "reappeared_as": i.reappeared_as} for i in reappeared_items(ctx.q)]
    return finish(
        status,
        f"{pct(value)} of {plural(removed, 'item')} removed in the period reappeared in the period "
        f"(warn above {pct(p['warn_rate'])}, fail above {pct(p['fail_rate'])}).",
        metric=metric("reappearance_rate", value, "share", "<=", threshold),
        items=items,
    )


@rule("hidden_link_survival")
def hidden_link_survival(ctx: Context, p: dict) -> Outcome:
    removed = hidden_link_items(ctx.q)
    if not removed:
        return not_applicable("No hidden-link item was removed in the period.")
    value = ctx.metrics.value("hidden_link_median_survival_days")
    if value is None:
        return insufficient(f"None of the {plural(len(removed), 'hidden-link item')} removed in the period "
                            "has a LISTED event, so how long it stayed online is unknown.",
                            ["LISTED events of listing_events"])
    status, threshold = above(value, p["warn_days"], p["fail_days"])
    items = [{"item_id": i.item_id, "trader_id": i.trader_id, "listed_at": i.listed_at,
              "removed_at": i.removed_at, "survival_days": i.survival_days}
             for i in removed if i.survival_days is not None and i.survival_days > p["warn_days"]]
    return finish(
        status,
        f"Hidden-link listings removed in the period stayed online a median {qty(value, 'day')} "
        f"(warn above {num(p['warn_days'])}, fail above {num(p['fail_days'])}); {num(len(items))} of "
        f"{plural(len(removed), 'item')} stayed longer than {qty(p['warn_days'], 'day')}.",
        metric=metric("hidden_link_median_survival_days", value, "days", "<=", threshold),
        items=items,
    )


@rule("hidden_link_penalties")
def hidden_link_penalties(ctx: Context, p: dict) -> Outcome:
    """Per trader, the first hidden-link removal of the period must be followed by a penalty for hidden links
    within `grace_days`; removals in the last `grace_days` of the period without one yet are pending."""
    first_removal: dict[str, tuple] = {}
    for item in hidden_link_items(ctx.q):
        if item.trader_id is not None:
            day, n = first_removal.get(item.trader_id, (item.removed_at.date(), 0))
            first_removal[item.trader_id] = (min(day, item.removed_at.date()), n + 1)
    if not first_removal:
        return not_applicable("No trader had a hidden-link item removed in the period.")
    traders = sorted(first_removal)
    penalties = dict(ctx.query(
        """
        WITH t AS (SELECT unnest($traders) AS trader_id, unnest($days) AS d0)
        SELECT t.trader_id, min(CAST(a.occurred_at AS DATE))
        FROM t JOIN enforcement_actions a
          ON a.trader_id = t.trader_id AND a.reason = $reason
         AND a.action IN ($points, $suspension, $termination) AND CAST(a.occurred_at AS DATE) >= t.d0
        GROUP BY t.trader_id
        """,
        {"traders": traders, "days": [first_removal[t][0] for t in traders], "reason": "HIDDEN_LINKS",
         "points": "PENALTY_POINTS", "suspension": "SUSPENSION", "termination": "TERMINATION"},
    ))
    grace = timedelta(days=p["grace_days"])
    items = []
    for trader_id in traders:
        (d0, n), first = first_removal[trader_id], penalties.get(trader_id)
        if first is not None and first <= d0 + grace:
            continue
        state = "pending" if d0 > ctx.period.end - grace else "unpenalised" if first is None else "late"
        items.append({"trader_id": trader_id, "hidden_link_items": n, "first_removal": d0,
                      "first_penalty": first, "state": state})
    failing = sum(1 for i in items if i["state"] != "pending")
    return finish(
        "FAIL" if failing else "PASS",
        f"Traders with hidden-link items removed in the period and no penalty for hidden links within "
        f"{p['grace_days']} days: {num(failing)} of {num(len(traders))}"
        f"{f' ({num(len(items) - failing)} pending)' if len(items) > failing else ''}.",
        metric=metric("traders_unpenalised_for_hidden_links", failing, "count", "==", 0),
        items=items,
    )


@rule("proactive_detection")
def proactive_detection(ctx: Context, p: dict) -> Outcome:
    events = ctx.metrics.facts("listings")["removal_events"]
    if not events:
        return not_applicable("No listing was removed or blocked before listing in the period.")
    value = ctx.metrics.value("proactive_control_rate")
    return finish(
        "WARN" if value < p["min_rate"] else "PASS",
        f"Removals and pre-listing blocks in the period found by the platform's own proactive detection: "
        f"{pct(value)} of {num(events)} (advisory minimum {pct(p['min_rate'])}).",
        metric=metric("proactive_control_rate", value, "share", ">=", p["min_rate"]),
    )
