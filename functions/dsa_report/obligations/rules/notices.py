"""Notice and action (Art. 16), trusted flaggers (Art. 22), unfounded notifiers (Art. 23(2)).

Decision times are censored at period end (obligations.md, "Censored durations"): a notice still undecided
then counts with its age, so a backlog never makes a median look better than deciding the notices would.
"""

from __future__ import annotations

import math

from ...engine.context import Context
from ...engine.outcome import Outcome, above, finish, metric, not_applicable
from ...engine.registry import rule
from ..facts import ACK_OWED, ack_counts, backlog, censored_hours, still_open
from ..wording import num, pct, plural, qty

TF, A16 = "SOURCE_TRUSTED_FLAGGER", "SOURCE_ARTICLE_16"


def _categories(n: int) -> str:
    return f"{n:,} {'category' if n == 1 else 'categories'}"


@rule("notice_acknowledgement")
def notice_acknowledgement(ctx: Context, p: dict) -> Outcome:
    """Art. 16(4) owes the confirmation only to a notifier who gave electronic contact details: with the
    optional column notifier_contact_provided, notices whose notifier gave none are left out (null: owed)."""
    owed, acked, without_contact = ack_counts(ctx.q, p["ack_hours"])
    contact_known = not ctx.data.missing("notices", ["notifier_contact_provided"])
    if not owed:
        if without_contact:
            return not_applicable(f"None of the {plural(without_contact, 'notice')} received in the period is "
                                  "owed a confirmation of receipt: no notifier gave electronic contact details.")
        return not_applicable("No notice was received in the period.")
    value = acked / owed
    start, end = ctx.bounds
    late = ctx.query(
        f"""
        SELECT notice_id, received_at, acknowledged_at, (epoch(acknowledged_at) - epoch(received_at)) / 3600 AS h
        FROM notices
        WHERE received_at >= $start AND received_at < $end AND {ACK_OWED}
          AND (acknowledged_at IS NULL OR epoch(acknowledged_at) - epoch(received_at) > $seconds)
        ORDER BY acknowledged_at IS NOT NULL, h DESC, received_at, notice_id
        """,  # noqa: S608 - fragment from code
        {"start": start, "end": end, "seconds": float(p["ack_hours"]) * 3600},
    )
    items = [{"notice_id": i, "received_at": r, "acknowledged_at": a, "ack_hours": h} for i, r, a, h in late]
    if contact_known:
        scope = "whose notifier gave electronic contact details"
        note = (f"; {plural(without_contact, 'notice')} without contact details owed no confirmation"
                if without_contact else "")
    else:
        scope, note = "", "; notifier_contact_provided is absent from the input, so every notice counts as owed"
    return finish(
        "FAIL" if value < p["min_share"] else "PASS",
        f"{pct(value)} of {plural(owed, 'notice')} received in the period{' ' + scope if scope else ''} were "
        f"acknowledged within {num(p['ack_hours'])} hours (minimum {pct(p['min_share'])}, internal threshold); "
        f"{num(len(items))} late or never acknowledged{note}.",
        metric=metric("notice_ack_within_24h_share", value, "share", ">=", p["min_share"]),
        items=items,
        owed=owed,
        **({"without_contact_details": without_contact} if contact_known else {}),
    )


@rule("notice_timeliness")
def notice_timeliness(ctx: Context, p: dict) -> Outcome:
    facts = ctx.metrics.facts("notices")
    n, undecided = facts["notice_count"], facts["undecided"]
    if not n:
        return not_applicable("No notice was received in the period.")
    median = ctx.metrics.value("notice_median_decision_hours")
    status, threshold = above(median, p["warn_median_hours"], p["fail_median_hours"])
    items = [
        {"notice_id": i, "received_at": r, "category": c, "age_days": (ctx.period.end - r.date()).days}
        for i, r, c in backlog(ctx.q, p["backlog_days"])
    ]
    start, end = ctx.bounds
    slowest = [
        {"category": c, "notices": k, "undecided": u, "median_hours": h}
        for c, k, u, h in ctx.query(
            f"""
            SELECT category, count(*), count(*) FILTER (WHERE {still_open("decided_at")}),
                   quantile_cont({censored_hours("received_at", "decided_at")}, 0.5) AS h
            FROM notices WHERE received_at >= $start AND received_at < $end
            GROUP BY category ORDER BY h DESC, category NULLS LAST LIMIT 5
            """,  # noqa: S608 - fragment from code
            {"start": start, "end": end, "period_end": end},
        )
    ]
    open_text = (f", a lower bound: the {num(undecided)} undecided at period end count with their age then"
                 if undecided else "")
    worst = (f"; slowest category {slowest[0]['category'] or 'without a category'} "
             f"({qty(slowest[0]['median_hours'], 'hour')})")
    return finish(
        status,
        f"The median decision time of the {plural(n, 'notice')} received in the period is "
        f"{qty(median, 'hour')}{open_text} (warn above {num(p['warn_median_hours'])}, fail above "
        f"{num(p['fail_median_hours'])}: internal thresholds){worst}; {plural(len(items), 'notice')} undecided "
        f"at period end and older than {p['backlog_days']} days (internal threshold).",
        metric=metric("notice_median_decision_hours", median, "hours", "<=", threshold),
        items=items,
        slowest_categories=slowest,
    )


def _ratio(tf_hours: float, a16_hours: float) -> float:
    """Trusted-flagger median / Art. 16 median; a trusted-flagger wait against an instant Art. 16 decision is
    unbounded (worse than any finite ratio), and an instant trusted-flagger decision is the best there is."""
    if tf_hours == 0:
        return 0.0
    return tf_hours / a16_hours if a16_hours > 0 else math.inf


@rule("trusted_flagger_priority")
def trusted_flagger_priority(ctx: Context, p: dict) -> Outcome:
    """Art. 22(1): trusted flaggers' notices are decided with priority, compared with Art. 16 notices on the
    same kind of content (per category, so a mix of easy and hard categories cannot fake or hide priority)."""
    if not ctx.metrics.facts("notices")["trusted_flagger_notices"]:
        return not_applicable("No trusted-flagger notice was received in the period.")
    start, end = ctx.bounds
    tf_where, a16_where = "WHERE source_type = $tf", "WHERE source_type = $a16"
    rows = ctx.query(
        f"""
        WITH n AS (
            SELECT category, source_type, {censored_hours("received_at", "decided_at")} AS hours FROM notices
            WHERE received_at >= $start AND received_at < $end AND source_type IN ($tf, $a16))
        SELECT category, count(*) FILTER ({tf_where}), count(*) FILTER ({a16_where}),
               quantile_cont(hours, 0.5) FILTER ({tf_where}), quantile_cont(hours, 0.5) FILTER ({a16_where})
        FROM n GROUP BY category
        """,  # noqa: S608 - fragments from code
        {"start": start, "end": end, "period_end": end, "tf": TF, "a16": A16},
    )
    least = p["min_notices"]
    compared, not_compared = [], []
    for category, tf_n, a16_n, tf_h, a16_h in rows:
        if category is not None and tf_n >= least and a16_n >= least:
            compared.append({"category": category, "trusted_flagger_notices": tf_n, "article16_notices": a16_n,
                             "trusted_flagger_median_hours": tf_h, "article16_median_hours": a16_h,
                             "ratio": _ratio(tf_h, a16_h)})
        elif tf_n:
            not_compared.append({"category": category, "trusted_flagger_notices": tf_n, "article16_notices": a16_n})
    compared.sort(key=lambda c: (-c["ratio"], c["category"]))
    not_compared.sort(key=lambda c: (-c["trusted_flagger_notices"], c["category"] is None, c["category"] or ""))
    left_out = sum(c["trusted_flagger_notices"] for c in not_compared)
    if not compared:
        result = finish(
            "INSUFFICIENT_DATA",
            f"No category has at least {least} trusted-flagger and {least} Article 16 notices received in the "
            f"period (internal threshold), so trusted flaggers' decision times cannot be compared with others' "
            f"on the same kind of content: {plural(left_out, 'trusted-flagger notice')} in "
            f"{_categories(len(not_compared))} not compared.",
            not_compared=not_compared,
        )
        result.missing = [f"a notice category with at least {least} trusted-flagger and {least} Article 16 notices"]
        return result
    weighted = (sum(c["trusted_flagger_notices"] * c["ratio"] for c in compared)
                / sum(c["trusted_flagger_notices"] for c in compared))
    status, threshold = ("FAIL", 1) if weighted > 1 else ("WARN", p["max_ratio"]) if weighted > p["max_ratio"] \
        else ("PASS", p["max_ratio"])
    items = [c for c in compared if c["ratio"] > p["max_ratio"]]
    worst = compared[0]
    times = (f"{num(weighted)} times as long as" if math.isfinite(weighted)
             else "longer than (some category's Article 16 notices were decided at once)")
    skipped = (f"; {plural(left_out, 'trusted-flagger notice')} in {_categories(len(not_compared))} with fewer "
               "notices not compared" if not_compared else "")
    return finish(
        status,
        f"Within the {_categories(len(compared))} with at least {least} trusted-flagger and {least} Article 16 "
        f"notices (internal threshold), trusted-flagger notices waited {times} Article 16 notices (median "
        f"decision hours censored at period end, weighted by trusted-flagger notices; warn above "
        f"{num(p['max_ratio'])}, internal threshold; fail above 1: longer than others); worst "
        f"{worst['category']} ({qty(worst['trusted_flagger_median_hours'], 'hour')} against "
        f"{qty(worst['article16_median_hours'], 'hour')}); {_categories(len(items))} above "
        f"{num(p['max_ratio'])}{skipped}.",
        metric=metric("trusted_flagger_weighted_ratio", weighted if math.isfinite(weighted) else None, "ratio",
                      "<=", threshold),
        items=items,
        pending=[c for c in compared if c["ratio"] <= p["max_ratio"]],
        not_compared=not_compared,
    )


@rule("unfounded_notifiers")
def unfounded_notifiers(ctx: Context, p: dict) -> Outcome:
    """Notifiers reaching `min_unfounded` manifestly unfounded notices within a rolling window that ends in
    the period (history before the period counts); most unfounded notices in a window first."""
    start, end = ctx.bounds
    rows = ctx.query(
        """
        WITH days AS (
            SELECT notifier_id, CAST(received_at AS DATE) AS d, count(*) AS k
            FROM notices WHERE outcome = $unfounded AND notifier_id IS NOT NULL AND received_at < $end
            GROUP BY notifier_id, CAST(received_at AS DATE)),
        u AS (  -- on each day of the period with one: the notifier's unfounded notices in the window ending then
            SELECT a.notifier_id, a.d, sum(b.k) AS n
            FROM days a JOIN days b ON b.notifier_id = a.notifier_id AND b.d <= a.d AND b.d >= a.d - $span
            WHERE a.d >= $start_day
            GROUP BY a.notifier_id, a.d)
        SELECT notifier_id, min(d) FILTER (WHERE n >= $min), max(n) AS most
        FROM u GROUP BY notifier_id HAVING max(n) >= $min ORDER BY most DESC, notifier_id
        """,
        {"unfounded": "MANIFESTLY_UNFOUNDED", "end": end, "start_day": start.date(),
         "min": p["min_unfounded"], "span": p["window_days"] - 1},
    )
    if not ctx.metrics.facts("notices")["notice_count"]:
        return not_applicable("No notice was received in the period.")
    items = [{"notifier_id": i, "threshold_date": d, "max_unfounded_in_window": n} for i, d, n in rows]
    return finish(
        "WARN" if items else "PASS",
        f"Notifiers with at least {p['min_unfounded']} manifestly unfounded notices within "
        f"{p['window_days']} days (internal thresholds; a window ending in the period; Art. 23(2) suspension "
        f"to consider): {num(len(items))}.",
        metric=metric("unfounded_notifiers", len(items), "count", "==", 0),
        items=items,
    )
