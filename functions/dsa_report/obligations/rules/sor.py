"""Statements of reasons: coverage and completeness (Art. 17), submission to the database (Art. 24(5))."""

from __future__ import annotations

from ...engine.context import Context
from ...engine.outcome import Outcome, above, finish, insufficient, metric, not_applicable
from ...engine.registry import rule
from ..wording import num, pct, plural, qty

# Art. 17(3) conditional fields: (presence flag, when the field is owed). Conditions read bound parameters
# or the loader's `owes_*` flags (the list column names the "other" value).
CONDITIONAL_FIELDS = (
    ("illegal_content_legal_ground", "decision_ground = $illegal"),
    ("illegal_content_explanation", "decision_ground = $illegal"),
    ("incompatible_content_ground", "decision_ground = $incompatible"),
    ("incompatible_content_explanation", "decision_ground = $incompatible"),
    ("decision_visibility_other", "owes_decision_visibility_other"),
    ("decision_monetary_other", "decision_monetary = $monetary_other"),
    ("content_type_other", "owes_content_type_other"),
    ("category_specification_other", "owes_category_specification_other"),
)
_CONSTANTS = {
    "illegal": "DECISION_GROUND_ILLEGAL_CONTENT", "incompatible": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "monetary_other": "DECISION_MONETARY_OTHER",
}
_IN_PERIOD = "application_date >= $start AND application_date < $end"
# The completeness queries are assembled from the constants above (one condition per field); every value
# they compare with is a bound parameter, hence the `noqa: S608` below.
_EMPTY = [f"(has_{f} = FALSE AND {c})" for f, c in CONDITIONAL_FIELDS]  # owed and known to be empty
_NULL = [f"count(*) FILTER (WHERE has_{f} IS NULL)" for f, _ in CONDITIONAL_FIELDS]
_UNKNOWN = [f"count(*) FILTER (WHERE has_{f} IS NULL AND {c})" for f, c in CONDITIONAL_FIELDS]


@rule("sor_completeness")
def sor_completeness(ctx: Context, p: dict) -> Outcome:
    n = ctx.metrics.value("sor_count")
    if not n:
        return not_applicable("No statement of reasons is dated in the period.")
    start, end = ctx.bounds
    bounds = {"start": start, "end": end}
    params = {**bounds, **_CONSTANTS}
    # a NULL flag means the column was absent from the input (a light dump): unverifiable, not empty;
    # the cheap test first, the owed-field test only when some flag is NULL
    unknown = ctx.query(f"SELECT {', '.join(_NULL)} FROM sor WHERE {_IN_PERIOD}", bounds)[0]  # noqa: S608
    if any(unknown):
        unknown = ctx.query(f"SELECT {', '.join(_UNKNOWN)} FROM sor WHERE {_IN_PERIOD}", params)[0]  # noqa: S608
    unverifiable = [f for (f, _), k in zip(CONDITIONAL_FIELDS, unknown, strict=True) if k]
    rows = ctx.query(
        f"SELECT platform_uid, application_date, decision_ground, {', '.join(_EMPTY)} FROM sor "  # noqa: S608
        f"WHERE {_IN_PERIOD} AND ({' OR '.join(_EMPTY)}) ORDER BY platform_uid, platform_name",
        params,
    )
    items = [
        {"platform_uid": uid, "application_date": day, "decision_ground": ground,
         "empty_fields": [f for (f, _), empty in zip(CONDITIONAL_FIELDS, empties, strict=True) if empty]}
        for uid, day, ground, *empties in rows
    ]
    value = (n - len(items)) / n
    status = "FAIL" if value < p["min_share"] else "PASS"
    note = f"; not verifiable (absent from the input): {', '.join(unverifiable)}" if unverifiable else ""
    return finish(
        status,
        f"{pct(value)} of {plural(n, 'statement')} of reasons in the period have their conditional "
        f"Art. 17(3) fields filled ({num(len(items))} incomplete; minimum {pct(p['min_share'])}){note}.",
        metric=metric("sor_complete_share", value, "share", ">=", p["min_share"]),
        items=items,
        unverifiable=unverifiable,
    )


@rule("sor_coverage")
def sor_coverage(ctx: Context, p: dict) -> Outcome:
    start, end = ctx.bounds
    params = {"start": start, "end": end, "taken": "ACTION_TAKEN"}
    (n,), = ctx.query("SELECT count(*) FROM notices WHERE outcome = $taken AND received_at >= $start "
                      "AND received_at < $end", params)
    if not n:
        return not_applicable("No notice received in the period led to action (ACTION_TAKEN).")
    rows = ctx.query(
        """
        SELECT notice_id, received_at, category FROM notices n
        WHERE outcome = $taken AND received_at >= $start AND received_at < $end
          AND NOT EXISTS (SELECT 1 FROM sor s WHERE s.notice_id = n.notice_id)
        ORDER BY notice_id
        """,
        params,
    )
    items = [{"notice_id": i, "received_at": r, "category": c} for i, r, c in rows]
    value = (n - len(items)) / n
    return finish(
        "FAIL" if value < p["min_share"] else "PASS",
        f"{pct(value)} of {plural(n, 'notice')} acted upon in the period have a statement of reasons "
        f"carrying their notice_id ({num(len(items))} without; minimum {pct(p['min_share'])}).",
        metric=metric("sor_coverage_share", value, "share", ">=", p["min_share"]),
        items=items,
    )


@rule("sor_submission_delay")
def sor_submission_delay(ctx: Context, p: dict) -> Outcome:
    n = ctx.metrics.value("sor_count")
    if not n:
        return not_applicable("No statement of reasons is dated in the period.")
    p95 = ctx.metrics.value("sor_submission_delay_p95_days")
    if p95 is None:
        return insufficient(f"None of the {plural(n, 'statement')} of reasons in the period has created_at, "
                            "so the submission delay cannot be measured.",
                            ["column statements_of_reasons.created_at"])
    status, threshold = above(p95, p["warn_p95_days"], p["fail_p95_days"])
    start, end = ctx.bounds
    rows = ctx.query(
        """
        SELECT platform_uid, application_date, created_at, delay FROM (
            SELECT platform_uid, platform_name, application_date, created_at,
                   date_diff('day', CAST(application_date AS DATE), CAST(created_at AS DATE)) AS delay
            FROM sor WHERE application_date >= $start AND application_date < $end)
        WHERE delay > $limit ORDER BY platform_uid, platform_name
        """,
        {"start": start, "end": end, "limit": p["fail_p95_days"]},
    )
    items = [{"platform_uid": u, "application_date": a, "created_at": c, "delay_days": d}
             for u, a, c, d in rows]
    return finish(
        status,
        f"The 95th percentile of the delay before statements of reasons reached the Transparency Database is "
        f"{qty(p95, 'day')} over {plural(n, 'statement')} of the period (warn above "
        f"{num(p['warn_p95_days'])}, fail above {num(p['fail_p95_days'])}); {num(len(items))} took more than "
        f"{qty(p['fail_p95_days'], 'day')}.",
        metric=metric("sor_submission_delay_p95_days", p95, "days", "<=", threshold),
        items=items,
    )
