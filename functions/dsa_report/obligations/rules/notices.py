"""Notice and action (Art. 16), trusted flaggers (Art. 22), unfounded notifiers (Art. 23(2))."""

from __future__ import annotations

from datetime import timedelta

from ...engine.context import Context
from ...engine.outcome import Outcome, above, finish, metric, not_applicable
from ...engine.registry import rule
from ..facts import ack_counts, backlog
from ..wording import num, pct, plural, qty


@rule("notice_acknowledgement")
def notice_acknowledgement(ctx: Context, p: dict) -> Outcome:
    n, acked = ack_counts(ctx.q, p["ack_hours"])
    if not n:
        return not_applicable("No notice was received in the period.")
    value = acked / n
    start, end = ctx.bounds
    late = ctx.query(
        """
        SELECT notice_id, received_at, acknowledged_at, (epoch(acknowledged_at) - epoch(received_at)) / 3600
        FROM notices
        WHERE received_at >= $start AND received_at < $end AND (acknowledged_at IS NULL
              OR epoch(acknowledged_at) - epoch(received_at) > $seconds)
        ORDER BY notice_id
        """,
        {"start": start, "end": end, "seconds": float(p["ack_hours"]) * 3600},
    )
    items = [{"notice_id": i, "received_at": r, "acknowledged_at": a, "ack_hours": h} for i, r, a, h in late]
    return finish(
        "FAIL" if value < p["min_share"] else "PASS",
        f"{pct(value)} of {plural(n, 'notice')} received in the period were acknowledged within "
        f"{num(p['ack_hours'])} hours (minimum {pct(p['min_share'])}).",
        metric=metric("notice_ack_share", value, "share", ">=", p["min_share"]),
        items=items,
    )


@rule("notice_timeliness")
def notice_timeliness(ctx: Context, p: dict) -> Outcome:
    start, end = ctx.bounds
    facts = ctx.metrics.facts("notices")
    n, decided = facts["notice_count"], facts["decided"]
    if not n:
        return not_applicable("No notice was received in the period.")
    median = ctx.metrics.value("notice_median_decision_hours")
    backlogged = backlog(ctx.q, p["backlog_days"])
    items = [
        {"notice_id": i, "received_at": r, "category": c, "age_days": (ctx.period.end - r.date()).days}
        for i, r, c in backlogged
    ]
    backlog_text = (f"{plural(len(items), 'notice')} older than {p['backlog_days']} days undecided at "
                    "period end")
    if not decided:
        status = "FAIL" if items else "NOT_APPLICABLE"
        return finish(status, f"None of the {plural(n, 'notice')} received in the period has been decided; "
                              f"{backlog_text}.", items=items)
    status, threshold = above(median, p["warn_median_hours"], p["fail_median_hours"])
    slowest = [
        {"category": c, "decided": k, "median_hours": h}
        for c, k, h in ctx.query(
            """
            SELECT category, count(*), quantile_cont(hours, 0.5) AS h FROM (
                SELECT category, (epoch(decided_at) - epoch(received_at)) / 3600 AS hours FROM notices
                WHERE received_at >= $start AND received_at < $end AND decided_at IS NOT NULL)
            GROUP BY category ORDER BY h DESC, category NULLS LAST LIMIT 5
            """,
            {"start": start, "end": end},
        )
    ]
    worst = ""
    if slowest:
        worst = (f"; slowest category {slowest[0]['category'] or 'without a category'} "
                 f"({qty(slowest[0]['median_hours'], 'hour')})")
    return finish(
        status,
        f"The median decision time of {plural(decided, 'decided notice')} received in the period is "
        f"{qty(median, 'hour')} (warn above {num(p['warn_median_hours'])}, fail above "
        f"{num(p['fail_median_hours'])}){worst}; {backlog_text}.",
        metric=metric("notice_median_decision_hours", median, "hours", "<=", threshold),
        items=items,
        slowest_categories=slowest,
    )


@rule("trusted_flagger_priority")
def trusted_flagger_priority(ctx: Context, p: dict) -> Outcome:
    facts = ctx.metrics.facts("notices")
    if not facts["trusted_flagger_notices"]:
        return not_applicable("No trusted-flagger notice was received in the period.")
    tf = ctx.metrics.value("trusted_flagger_median_decision_hours")
    a16 = ctx.metrics.value("article16_median_decision_hours")
    if tf is None:
        waiting = plural(facts["trusted_flagger_notices"], "trusted-flagger notice")
        return finish("WARN", f"None of the {waiting} received in the period has been decided yet.")
    if a16 is None:
        return not_applicable("No decided Article 16 notice in the period to compare trusted flaggers with.")
    limit = p["max_ratio"] * a16
    status, threshold = ("FAIL", a16) if tf > a16 else ("WARN", limit) if tf > limit else ("PASS", limit)
    items = []
    if status != "PASS":  # evidence: trusted-flagger notices that waited longer than a typical Art. 16 one
        start, end = ctx.bounds
        rows = ctx.query(
            """
            SELECT notice_id, received_at, decided_at, (epoch(decided_at) - epoch(received_at)) / 3600
            FROM notices
            WHERE received_at >= $start AND received_at < $end AND source_type = $tf
              AND (epoch(decided_at) - epoch(received_at)) / 3600 > $limit
            ORDER BY notice_id
            """,
            {"start": start, "end": end, "tf": "SOURCE_TRUSTED_FLAGGER", "limit": a16},
        )
        items = [{"notice_id": i, "received_at": r, "decided_at": d, "decision_hours": h}
                 for i, r, d, h in rows]
    slower = f"; {num(len(items))} waited longer than the Article 16 median" if items else ""
    return finish(
        status,
        f"Trusted-flagger notices were decided in a median {qty(tf, 'hour')} against {qty(a16, 'hour')} for "
        f"Article 16 notices (expected at most {num(p['max_ratio'])} times as long: {qty(limit, 'hour')})"
        f"{slower}.",
        metric=metric("trusted_flagger_median_decision_hours", tf, "hours", "<=", threshold),
        items=items,
    )


@rule("unfounded_notifiers")
def unfounded_notifiers(ctx: Context, p: dict) -> Outcome:
    """Notifiers reaching `min_unfounded` manifestly unfounded notices within a rolling window that ends in
    the period (history before the period counts)."""
    start, end = ctx.bounds
    rows = ctx.query(
        """
        WITH u AS (
            SELECT notifier_id, CAST(received_at AS DATE) AS d,
                   count(*) OVER (PARTITION BY notifier_id ORDER BY CAST(received_at AS DATE)
                                  RANGE BETWEEN $span PRECEDING AND CURRENT ROW) AS n
            FROM notices WHERE outcome = $unfounded AND notifier_id IS NOT NULL AND received_at < $end)
        SELECT notifier_id, min(d) FILTER (WHERE n >= $min), max(n)
        FROM u WHERE d >= $start_day
        GROUP BY notifier_id HAVING max(n) >= $min ORDER BY notifier_id
        """,
        {"unfounded": "MANIFESTLY_UNFOUNDED", "end": end, "start_day": start.date(),
         "min": p["min_unfounded"], "span": timedelta(days=p["window_days"] - 1)},
    )
    if not ctx.metrics.facts("notices")["notice_count"]:
        return not_applicable("No notice was received in the period.")
    items = [{"notifier_id": i, "threshold_date": d, "max_unfounded_in_window": n} for i, d, n in rows]
    return finish(
        "WARN" if items else "PASS",
        f"Notifiers with at least {p['min_unfounded']} manifestly unfounded notices within "
        f"{p['window_days']} days (a window ending in the period; Art. 23(2) suspension to consider): "
        f"{num(len(items))}.",
        metric=metric("unfounded_notifiers", len(items), "count", "==", 0),
        items=items,
    )
