"""Statements of reasons: coverage and completeness (Art. 17), submission to the database (Art. 24(5))."""

from __future__ import annotations

from ...engine.context import Context
from ...engine.outcome import Outcome, above, finish, metric, not_applicable
from ...engine.registry import rule
from ...vocabulary import FAIL, INSUFFICIENT_DATA, PASS
from ..metrics import SOR_DELAY_DAYS
from ..wording import as_date, num, pct, plural, qty

_SOR = "statements_of_reasons"

# Art. 17(3) fields: (presence flag, when the field is owed). decision_facts (17(3)(c)) is owed by every SoR;
# the others are conditional. Conditions read bound parameters or the loader's `owes_*` flags (the list
# column names the "other" value).
FIELDS = (
    ("decision_facts", "TRUE"),
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
# they compare with is a bound parameter, hence the `noqa: S608` below. A NULL flag means the column was
# absent from the input (a light dump): unverifiable, not empty.
_EMPTY = [f"(has_{f} = FALSE AND {c})" for f, c in FIELDS]  # owed and known to be empty
_UNKNOWN = [f"(has_{f} IS NULL AND {c})" for f, c in FIELDS]  # owed and not in the input


@rule("sor_completeness")
def sor_completeness(ctx: Context, p: dict) -> Outcome:
    n = ctx.metrics.value("sor_count")
    if not n:
        return not_applicable("No statement of reasons is dated in the period.")
    start, end = ctx.bounds
    params = {"start": start, "end": end, **_CONSTANTS}
    unseen, *unknown = ctx.query(
        f"SELECT count(*) FILTER (WHERE {' OR '.join(_UNKNOWN)}), "  # noqa: S608
        f"{', '.join(f'count(*) FILTER (WHERE {u})' for u in _UNKNOWN)} FROM sor WHERE {_IN_PERIOD}",
        params,
    )[0]
    unverifiable = [f for (f, _), k in zip(FIELDS, unknown, strict=True) if k]
    rows = ctx.query(
        f"SELECT platform_uid, application_date, decision_ground, {', '.join(_EMPTY)} FROM sor "  # noqa: S608
        f"WHERE {_IN_PERIOD} AND ({' OR '.join(_EMPTY)}) ORDER BY platform_uid, platform_name",
        params,
    )
    items = [
        {"platform_uid": uid, "application_date": day, "decision_ground": ground,
         "empty_fields": [f for (f, _), empty in zip(FIELDS, empties, strict=True) if empty]}
        for uid, day, ground, *empties in rows
    ]
    value = (n - len(items)) / n
    minimum = f"minimum {pct(p['min_share'])}, internal threshold"
    absent = ", ".join(unverifiable)
    if value >= p["min_share"] and unverifiable:  # never a PASS on fields nobody could see
        outcome = finish(
            INSUFFICIENT_DATA,
            f"Art. 17(3) completeness cannot be verified: fields absent from the input ({absent}) are owed by "
            f"{num(unseen)} of the {plural(n, 'statement')} of reasons in the period; the fields present are "
            f"filled in {pct(value)} of them ({num(len(items))} incomplete; {minimum}).",
            items=items, unverifiable=unverifiable, unverifiable_statements=unseen,
        )
        outcome.missing = [f"column {_SOR}.{f}" for f in unverifiable]
        return outcome
    note = f"; not verifiable (absent from the input): {absent}" if unverifiable else ""
    return finish(
        FAIL if value < p["min_share"] else PASS,
        f"{pct(value)} of {plural(n, 'statement')} of reasons in the period have the Art. 17(3) fields they owe "
        f"filled ({num(len(items))} incomplete; {minimum}){note}.",
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
    # a SoR on the same item dated from the notice's receipt date to the day after its decision covers it
    # (one decision on several notices is one SoR); without item_id (or decided_at) only notice_id matches
    lacking = [m for ds, cols in ((_SOR, ["item_id"]), ("notices", ["item_id", "decided_at"]))
               for m in ctx.data.missing(ds, cols)]
    same_item = "" if lacking else """
          AND NOT EXISTS (SELECT 1 FROM sor s WHERE s.item_id = n.item_id
                          AND CAST(s.application_date AS DATE) >= CAST(n.received_at AS DATE)
                          AND CAST(s.application_date AS DATE) <= CAST(n.decided_at AS DATE) + 1)"""
    rows = ctx.query(
        f"""
        SELECT notice_id, received_at, decided_at, item_id, category FROM notices n
        WHERE outcome = $taken AND received_at >= $start AND received_at < $end
          AND NOT EXISTS (SELECT 1 FROM sor s WHERE s.notice_id = n.notice_id){same_item}
        ORDER BY received_at, notice_id
        """,  # noqa: S608 - the optional clause is this function's constant; every value is bound
        params,
    )
    items = [{"notice_id": i, "received_at": r, "decided_at": d, "item_id": it, "category": c}
             for i, r, d, it, c in rows]
    value = (n - len(items)) / n
    how = ("a statement carrying their notice_id, or one on the same item dated from their receipt to the day "
           "after their decision" if not lacking else
           f"a statement carrying their notice_id only: {', '.join(lacking)} absent, so statements on the same "
           "item could not be matched")
    return finish(
        FAIL if value < p["min_share"] else PASS,
        f"{pct(value)} of {plural(n, 'notice')} acted upon in the period are covered by a statement of reasons "
        f"({how}); {num(len(items))} without, oldest first (minimum {pct(p['min_share'])}, internal threshold).",
        metric=metric("sor_coverage_share", value, "share", ">=", p["min_share"]),
        items=items,
        matched_by=["notice_id"] if lacking else ["notice_id", "item_id"],
    )


@rule("sor_submission_delay")
def sor_submission_delay(ctx: Context, p: dict) -> Outcome:
    n = ctx.metrics.value("sor_count")
    if not n:
        return not_applicable("No statement of reasons is dated in the period.")
    p95 = ctx.metrics.value("sor_submission_delay_p95_days")
    facts = ctx.metrics.facts("sor")
    cutoff, unsubmitted = facts["sor_delay_cutoff"], facts["sor_unsubmitted"]
    status, threshold = above(p95, p["warn_p95_days"], p["fail_p95_days"])
    start, end = ctx.bounds
    rows = ctx.query(
        f"""
        SELECT platform_uid, application_date, created_at, delay FROM (
            SELECT platform_uid, platform_name, application_date, created_at, {SOR_DELAY_DAYS} AS delay
            FROM sor WHERE application_date >= $start AND application_date < $end)
        WHERE created_at IS NULL OR delay > $limit
        ORDER BY created_at IS NOT NULL, delay DESC, platform_uid, platform_name
        """,  # noqa: S608 - SOR_DELAY_DAYS is the metrics layer's constant; every value is bound
        {"start": start, "end": end, "cutoff": cutoff, "limit": p["fail_p95_days"]},
    )
    items = [{"platform_uid": u, "application_date": a, "created_at": c, "submitted": c is not None,
              "delay_days": d} for u, a, c, d in rows]
    late = len(items) - unsubmitted
    waiting = (f", {plural(unsubmitted, 'statement')} not submitted counted with the delay reached on "
               f"{as_date(cutoff).isoformat()}" if unsubmitted else "")
    return finish(
        status,
        f"The 95th percentile of the delay before statements of reasons reached the Transparency Database is "
        f"{qty(p95, 'day')} over {plural(n, 'statement')} of the period{waiting} (warn above "
        f"{num(p['warn_p95_days'])}, fail above {num(p['fail_p95_days'])}: internal thresholds); "
        f"{num(late)} submitted more than {qty(p['fail_p95_days'], 'day')} after the decision.",
        metric=metric("sor_submission_delay_p95_days", p95, "days", "<=", threshold),
        items=items,
        unsubmitted=unsubmitted,
        cutoff=cutoff,
    )
