"""The advertisement repository of a very large online platform (Art. 39): every ad shown is in it for the
whole period of presentation and one year after, with the fields Art. 39(2) and (3) list."""

from __future__ import annotations

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, metric, not_applicable
from ...engine.registry import rule
from ..facts import censored_hours, still_open
from ..wording import num, plural, qty

_SHOWN = "first_shown_at < $end AND last_shown_at >= $start"  # shown at some time in the period
_REMOVED = "removed_under_39_3 IS TRUE"  # removed for illegality or incompatibility: 39(3) replaces (a)-(c)
# (presence flag, what a compliance officer calls it, when it is owed); an empty flag is never taken as present,
# and an unknown targeting or payer flag owes the field it could hide
REPOSITORY_FIELDS = (
    ("has_content", "content (39(2)(a))", f"NOT ({_REMOVED})"),
    ("has_advertiser", "advertiser (39(2)(b))", f"NOT ({_REMOVED})"),
    ("has_payer", "payer (39(2)(c))", f"NOT ({_REMOVED}) AND payer_differs IS NOT FALSE"),
    ("has_period", "period of presentation (39(2)(d))", "TRUE"),
    ("has_targeting_parameters", "targeting parameters (39(2)(e))", "targeted IS NOT FALSE"),
    ("has_total_reach", "total reach (39(2)(g))", "TRUE"),
    ("has_reach_per_member_state", "reach per Member State (39(2)(g))", "targeted IS NOT FALSE"),
    ("has_sor_information", "Art. 17(3) information (39(3))", _REMOVED),
)
_MISSING = ", ".join(f"({owed}) AND {flag} IS NOT TRUE" for flag, _, owed in REPOSITORY_FIELDS)
_PROBLEMS = ("not_in_repository", "removed_while_shown", "added_late")  # worst first


@rule("ads_in_repository")
def ads_in_repository(ctx: Context, p: dict) -> Outcome:
    """Art. 39(1): an ad is in the repository for the entire period of its presentation. Hours from first shown
    to the repository are censored at period end (an ad not there yet counts with its age then)."""
    start, end = ctx.bounds
    rows = ctx.query(
        "SELECT ad_id, first_shown_at, last_shown_at, in_repository_at, removed_from_repository_at, "  # noqa: S608
        f"{censored_hours('first_shown_at', 'in_repository_at')} AS h, {still_open('in_repository_at')}, "
        "removed_from_repository_at < least(last_shown_at, $period_end) "
        f"FROM ads WHERE {_SHOWN} ORDER BY ad_id",  # (SQL from constants)
        {"start": start, "end": end, "period_end": end},
    )
    if not rows:
        return not_applicable("No advertisement was shown in the period.")
    limit = p["max_delay_hours"]
    items, pending = [], []
    for ad_id, first, last, added, removed, hours, absent, removed_early in rows:
        item = {"ad_id": ad_id, "first_shown_at": first, "last_shown_at": last, "in_repository_at": added,
                "removed_from_repository_at": removed, "hours_to_repository": hours}
        problem = ("not_in_repository" if absent and hours > limit else "removed_while_shown" if removed_early
                   else "added_late" if hours > limit else None)
        if problem:
            items.append(item | {"problem": problem})
        elif absent:
            pending.append(item)  # first shown less than max_delay_hours before period end
    items.sort(key=lambda i: (_PROBLEMS.index(i["problem"]), -i["hours_to_repository"], i["ad_id"]))
    counts = {k: sum(1 for i in items if i["problem"] == k) for k in _PROBLEMS}
    limit_text = f"{qty(limit, 'hour')} (internal threshold)"
    return finish(
        "FAIL" if counts["not_in_repository"] or counts["removed_while_shown"] else "WARN" if items else "PASS",
        f"Of {plural(len(rows), 'ad')} shown in the period: not in the repository at period end, more than "
        f"{limit_text} after first shown: {num(counts['not_in_repository'])}; removed from it while still "
        f"shown: {num(counts['removed_while_shown'])}; added to it more than {limit_text} after first shown: "
        f"{num(counts['added_late'])}.",
        metric=metric("ads_not_in_repository", counts["not_in_repository"], "count", "==", 0),
        items=items,
        pending=pending,
        **counts,
    )


@rule("ads_repository_fields")
def ads_repository_fields(ctx: Context, p: dict) -> Outcome:
    """Art. 39(2)-(3): ads in the repository during the period (shown in it or the 12 months before, added by
    period end, not removed before it began) carry every field owed; the flags are the repository's state."""
    start, end = ctx.bounds
    rows = ctx.query(
        f"SELECT ad_id, [{_MISSING}] FROM ads "  # noqa: S608 (SQL from constants)
        "WHERE first_shown_at < $end AND last_shown_at >= CAST($start AS TIMESTAMP) - INTERVAL 12 MONTH "
        "AND in_repository_at < $end AND (removed_from_repository_at IS NULL OR removed_from_repository_at >= $start) "
        "ORDER BY ad_id",
        {"start": start, "end": end},
    )
    if not rows:
        return not_applicable("No advertisement was in the repository during the period.")
    items = [{"ad_id": ad_id, "missing": [name for (_, name, _), gap in zip(REPOSITORY_FIELDS, gaps, strict=True)
                                          if gap]}
             for ad_id, gaps in rows if any(gaps)]
    items.sort(key=lambda i: (-len(i["missing"]), i["ad_id"]))
    by_field = {name: n for _, name, _ in REPOSITORY_FIELDS if (n := sum(name in i["missing"] for i in items))}
    named = "; ".join(f"{name}: {num(n)}" for name, n in by_field.items())
    return finish(
        "FAIL" if items else "PASS",
        f"Of {plural(len(rows), 'ad')} in the repository during the period, entries lacking a field Art. 39 "
        f"asks for: {num(len(items))}{' (' + named + ')' if named else ''}; an empty flag counts as missing.",
        metric=metric("ads_incomplete_in_repository", len(items), "count", "==", 0),
        items=items,
        missing_fields=by_field,
    )


@rule("ads_retention")
def ads_retention(ctx: Context, p: dict) -> Outcome:
    """Art. 39(1): an ad stays in the repository until one year after it was last shown. Removals after period
    end are judged in the period they fall in."""
    start, end = ctx.bounds
    params = {"start": start, "end": end}
    scope = "first_shown_at < $end AND last_shown_at >= CAST($start AS TIMESTAMP) - INTERVAL 12 MONTH"
    ((n,),) = ctx.query(f"SELECT count(*) FROM ads WHERE {scope}", params)  # noqa: S608 (SQL from constants)
    if not n:
        return not_applicable("No advertisement was shown in the period or the 12 months before it.")
    rows = ctx.query(
        "SELECT ad_id, last_shown_at, removed_from_repository_at, "  # noqa: S608 (SQL from constants)
        "(epoch(removed_from_repository_at) - epoch(last_shown_at)) / 86400 AS kept_days FROM ads "
        f"WHERE {scope} AND removed_from_repository_at < $end "
        "AND removed_from_repository_at < last_shown_at + INTERVAL 1 YEAR ORDER BY kept_days, ad_id",
        params,
    )
    items = [{"ad_id": a, "last_shown_at": last, "removed_from_repository_at": removed, "days_kept": days}
             for a, last, removed, days in rows]
    return finish(
        "FAIL" if items else "PASS",
        f"Of {plural(n, 'ad')} shown in the period or the 12 months before it, removed from the repository "
        f"before one year after they were last shown (Art. 39(1)): {num(len(items))}.",
        metric=metric("ads_removed_before_retention", len(items), "count", "==", 0),
        items=items,
    )
