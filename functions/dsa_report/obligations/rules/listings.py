"""Listings of illegal products (Art. 34/35 mitigation of a VLOP marketplace, as in the AliExpress
commitments): hidden links, re-appearance of removed items, proactive detection.

Listing events are the largest table (several per item), so each question is one query over the few items
that matter (hidden-link items, items that came back), run once per period and shared with the metrics.
"""

from __future__ import annotations

from datetime import date, timedelta

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
    back = sorted(reappeared_items(ctx.q), key=lambda i: (-len(i.reappeared_as), i.item_id))
    return finish(
        status,
        f"{pct(value)} of {plural(removed, 'item')} removed in the period reappeared in the period "
        f"(internal thresholds: warn above {pct(p['warn_rate'])}, fail above {pct(p['fail_rate'])}).",
        metric=metric("reappearance_rate", value, "share", "<=", threshold),
        items=[{"item_id": i.item_id, "trader_id": i.trader_id, "removed_at": i.removed_at,
                "reappeared_as": i.reappeared_as} for i in back],
    )


@rule("hidden_link_survival")
def hidden_link_survival(ctx: Context, p: dict) -> Outcome:
    """Censored median: an item still online at period end counts with its age then, so the median is a lower
    bound and a hidden link left online can never make it look better than removing it would."""
    stays = hidden_link_items(ctx.q)
    if not stays:
        return not_applicable("No hidden-link item was removed in the period or online at its end.")
    value = ctx.metrics.value("hidden_link_median_survival_days")
    unmeasured = sum(1 for s in stays if s.survival_days is None)
    if value is None:
        return insufficient(f"None of the {plural(len(stays), 'hidden-link removal')} of the period has a "
                            "LISTED or REAPPEARED event before it, so how long the items stayed online is unknown.",
                            ["LISTED events of listing_events"])
    status, threshold = above(value, p["warn_days"], p["fail_days"])
    online = sum(1 for s in stays if s.still_online)
    long = sorted((s for s in stays if s.survival_days is not None and s.survival_days > p["warn_days"]),
                  key=lambda s: (-s.survival_days, s.item_id, s.removed_at is None, s.removed_at))
    return finish(
        status,
        f"Hidden-link listings removed in the period or still online at its end stayed online a median "
        f"{qty(value, 'day')}"
        + (f" ({plural(online, 'item')} still online counted at period end: a lower bound)" if online else "")
        + f"; internal thresholds: warn above {qty(p['warn_days'], 'day')}, fail above "
        f"{qty(p['fail_days'], 'day')}; {num(len(long))} of {num(len(stays) - unmeasured)} stayed longer than "
        f"{qty(p['warn_days'], 'day')}"
        + (f"; {num(unmeasured)} removed without a listing event, not measured" if unmeasured else "") + ".",
        metric=metric("hidden_link_median_survival_days", value, "days", "<=", threshold),
        items=[{"item_id": s.item_id, "trader_id": s.trader_id, "listed_at": s.listed_at,
                "removed_at": s.removed_at, "still_online": s.still_online, "survival_days": s.survival_days}
               for s in long],
        still_online=online, unmeasured=unmeasured,
    )


_PENALTIES_SQL = """
WITH r AS (SELECT unnest($traders) AS trader_id, unnest($days) AS d),
p AS (SELECT trader_id, CAST(occurred_at AS DATE) AS day FROM enforcement_actions
      WHERE reason = $reason AND action IN ($points, $suspension, $termination)
        AND trader_id IN (SELECT trader_id FROM r))
SELECT r.trader_id, r.d, count(p.day) FILTER (WHERE p.day BETWEEN r.d - $grace AND r.d + $grace) > 0,
       min(p.day) FILTER (WHERE p.day > r.d + $grace)
FROM r LEFT JOIN p ON p.trader_id = r.trader_id
GROUP BY r.trader_id, r.d
"""


@rule("hidden_link_penalties")
def hidden_link_penalties(ctx: Context, p: dict) -> Outcome:
    """Each hidden-link removal of the period must meet a penalty for hidden links (PENALTY_POINTS, SUSPENSION
    or TERMINATION) dated from `grace_days` before to `grace_days` after it (calendar dates); a removal whose
    window ends after period end and has no penalty yet is pending. A trader offends when one of its removals
    has none."""
    removals: dict[tuple[str, date], int] = {}
    unattributed = 0
    for stay in hidden_link_items(ctx.q):
        if stay.removed_at is None:
            continue
        if stay.trader_id is None:
            unattributed += 1
            continue
        key = (stay.trader_id, stay.removed_at.date())
        removals[key] = removals.get(key, 0) + 1
    if not removals:
        if unattributed:
            return insufficient(f"{plural(unattributed, 'hidden-link removal')} of the period name no trader, so "
                                "penalties cannot be checked.", ["trader_id of listing_events"])
        return not_applicable("No trader had a hidden-link item removed in the period.")
    keys = sorted(removals)
    rows = ctx.query(_PENALTIES_SQL, {
        "traders": [t for t, _ in keys], "days": [d for _, d in keys], "grace": p["grace_days"],
        "reason": "HIDDEN_LINKS", "points": "PENALTY_POINTS", "suspension": "SUSPENSION",
        "termination": "TERMINATION"})
    grace, end = timedelta(days=p["grace_days"]), ctx.period.end
    traders: dict[str, dict] = {}
    for trader_id, day, penalised, later in sorted(rows):
        t = traders.setdefault(trader_id, {"trader_id": trader_id, "hidden_link_items": 0,
                                           "unpenalised_removals": 0, "first_unpenalised_removal": None,
                                           "first_penalty_after": None, "first_pending_removal": None})
        t["hidden_link_items"] += removals[(trader_id, day)]
        if penalised:
            continue
        if day + grace > end:
            t["first_pending_removal"] = t["first_pending_removal"] or day
        else:
            t["unpenalised_removals"] += removals[(trader_id, day)]
            if t["first_unpenalised_removal"] is None:
                t["first_unpenalised_removal"], t["first_penalty_after"] = day, later
    offending = [dict(_without(t, "first_pending_removal"),
                      state="unpenalised" if t["first_penalty_after"] is None else "late")
                 for t in traders.values() if t["unpenalised_removals"]]
    offending.sort(key=lambda t: (t["state"] != "unpenalised", t["first_unpenalised_removal"], t["trader_id"]))
    pending = [{"trader_id": t["trader_id"], "hidden_link_items": t["hidden_link_items"],
                "first_pending_removal": t["first_pending_removal"],
                "deadline": t["first_pending_removal"] + grace}
               for t in traders.values() if not t["unpenalised_removals"] and t["first_pending_removal"]]
    status = "FAIL" if offending else "WARN" if unattributed else "PASS"
    return finish(
        status,
        f"Traders with a hidden-link item removed in the period and no penalty for hidden links from "
        f"{p['grace_days']} days before to {p['grace_days']} days after the removal (internal threshold): "
        f"{num(len(offending))} of {num(len(traders))}"
        + (f" ({num(len(pending))} pending)" if pending else "")
        + (f"; {plural(unattributed, 'removal')} naming no trader not checked" if unattributed else "") + ".",
        metric=metric("traders_unpenalised_for_hidden_links", len(offending), "count", "==", 0),
        items=offending,
        pending=pending,
        unattributed_removals=unattributed,
    )


def _without(d: dict, key: str) -> dict:
    return {k: v for k, v in d.items() if k != key}


@rule("proactive_detection")
def proactive_detection(ctx: Context, p: dict) -> Outcome:
    events = ctx.metrics.facts("listings")["removal_events"]
    if not events:
        return not_applicable("No listing was removed or blocked before listing in the period.")
    value = ctx.metrics.value("proactive_control_rate")
    return finish(
        "WARN" if value < p["min_rate"] else "PASS",
        f"Removals and pre-listing blocks in the period found by the platform's own proactive detection: "
        f"{pct(value)} of {num(events)} (advisory; internal minimum {pct(p['min_rate'])}).",
        metric=metric("proactive_control_rate", value, "share", ">=", p["min_rate"]),
    )
