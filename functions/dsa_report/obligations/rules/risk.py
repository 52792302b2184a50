"""Systemic risks of VLOPs: assessment (Art. 34) and mitigation (Art. 35), from the risk_assessments and
launches registers; KRIs are evaluated on the metrics layer."""

from __future__ import annotations

import operator
from datetime import date
from typing import TYPE_CHECKING, Any

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, metric, not_applicable
from ...engine.registry import rule
from ..wording import as_date, num, plural

if TYPE_CHECKING:
    from ..metrics import MetricBook

CATEGORIES = ("ILLEGAL_CONTENT", "FUNDAMENTAL_RIGHTS", "CIVIC_DISCOURSE_ELECTIONS_PUBLIC_SECURITY",
              "PUBLIC_HEALTH_MINORS_WELLBEING")
COMPARATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


def evaluate_kri(book: MetricBook, kri: Any) -> dict:
    """{metric, comparator, target, value, unit, met (True/False/None), reason}: a KRI the data cannot give is
    `met: None` with the reason, never met."""
    kri = kri if isinstance(kri, dict) else {}
    name, comparator, target = kri.get("metric"), kri.get("comparator"), kri.get("target")
    result = {"metric": name, "comparator": comparator, "target": target, "value": None, "unit": None,
              "met": None, "reason": None}
    if comparator not in COMPARATORS:
        return {**result, "reason": f"comparator {comparator!r} is not one of {', '.join(COMPARATORS)}"}
    if isinstance(target, bool) or not isinstance(target, (int, float)):
        return {**result, "reason": f"target {target!r} is not a number"}
    try:
        value = book.get(name)
    except KeyError:  # metrics.UnknownMetric
        return {**result, "reason": f"{name!r} is not a metric of the metrics layer"}
    result.update(value=value["value"], unit=value["unit"])
    if value["value"] is None:
        return {**result, "reason": value["reason"]}
    return {**result, "met": COMPARATORS[comparator](value["value"], target)}


def kri_text(k: dict) -> str:
    shown = "n/a" if k["value"] is None else num(k["value"], 3)
    return f"{k['metric']} = {shown} (target {k['comparator']} {k['target']})"


def latest_assessment(ctx: Context) -> dict | None:
    """The assessment with the latest completed_at on or before period end."""
    done = [(as_date(a.get("completed_at")), str(a.get("id")), a)
            for a in ctx.data.registers.get("risk_assessments", []) if isinstance(a, dict)]
    done = [d for d in done if d[0] is not None and d[0] <= ctx.period.end]
    return max(done, key=lambda d: d[:2])[2] if done else None


def _no_assessment(ctx: Context, status: str = "FAIL") -> Outcome:
    return finish(status, f"The risk_assessments register holds no assessment completed on or before "
                          f"{ctx.period.end}.")


def _risks(assessment: dict) -> list[dict]:
    return [r for r in assessment.get("risks") or [] if isinstance(r, dict)]


@rule("ra_freshness")
def ra_freshness(ctx: Context, p: dict) -> Outcome:
    latest = latest_assessment(ctx)
    if latest is None:
        return _no_assessment(ctx)
    completed = as_date(latest["completed_at"])
    age = (ctx.period.end - completed).days
    fresh = age <= p["max_age_days"]
    items = [] if fresh else [{"assessment_id": latest.get("id"), "completed_at": completed, "age_days": age}]
    return finish(
        "PASS" if fresh else "FAIL",
        f"The latest risk assessment {latest.get('id')} was completed on {completed}, "
        f"{plural(age, 'day')} before period end (at most {p['max_age_days']}).",
        metric=metric("risk_assessment_age_days", age, "days", "<=", p["max_age_days"]),
        items=items,
    )


@rule("ra_coverage")
def ra_coverage(ctx: Context, p: dict) -> Outcome:
    latest = latest_assessment(ctx)
    if latest is None:
        return _no_assessment(ctx)
    covered = {r.get("category") for r in _risks(latest)}
    missing = [c for c in CATEGORIES if c not in covered]
    return finish(
        "FAIL" if missing else "PASS",
        f"Risk assessment {latest.get('id')} covers {len(CATEGORIES) - len(missing)} of the 4 systemic risk "
        f"categories of Art. 34(1)" + (f"; missing: {', '.join(missing)}." if missing else "."),
        metric=metric("risk_categories_missing", len(missing), "count", "==", 0),
        items=[{"category": c} for c in missing],
    )


@rule("ra_before_launch")
def ra_before_launch(ctx: Context, p: dict) -> Outcome:
    assessments = {str(a.get("id")): as_date(a.get("completed_at"))
                   for a in ctx.data.registers.get("risk_assessments", []) if isinstance(a, dict)}
    launches = [
        (str(x.get("feature")), as_date(x.get("launched_at")), x.get("risk_assessment"))
        for x in ctx.data.registers.get("launches", [])
        if isinstance(x, dict) and x.get("critical_impact") is True
    ]
    launches = [x for x in launches if x[1] is not None and ctx.period.start <= x[1] <= ctx.period.end]
    if not launches:
        return not_applicable("No functionality with a critical impact was launched in the period.")
    items = []
    for feature, launched, ra_id in sorted(launches, key=lambda x: (x[0], x[1])):
        completed = assessments.get(str(ra_id)) if ra_id else None
        problem = _launch_problem(ra_id, str(ra_id) in assessments, completed, launched)
        if problem:
            items.append({"feature": feature, "launched_at": launched, "risk_assessment": ra_id,
                          "completed_at": completed, "problem": problem})
    return finish(
        "FAIL" if items else "PASS",
        f"Critical-impact launches in the period without a risk assessment completed before launch "
        f"(Art. 34(1)): {num(len(items))} of {num(len(launches))}.",
        metric=metric("launches_without_prior_assessment", len(items), "count", "==", 0),
        items=items,
    )


def _launch_problem(ra_id: Any, known: bool, completed: date | None, launched: date) -> str | None:
    if not ra_id:
        return "no risk assessment named"
    if not known:
        return f"assessment {ra_id} is not in the register"
    if completed is None:
        return f"assessment {ra_id} has no completed_at"
    return "assessment completed after launch" if completed > launched else None


@rule("ra_own_data")
def ra_own_data(ctx: Context, p: dict) -> Outcome:
    latest = latest_assessment(ctx)
    if latest is None:
        return _no_assessment(ctx, "WARN")
    completed = as_date(latest["completed_at"])
    data_period = latest.get("data_period") if isinstance(latest.get("data_period"), dict) else {}
    data_end: date | None = as_date(data_period.get("end"))
    if data_end is None:
        return finish("WARN", f"Risk assessment {latest.get('id')} does not state the period of the "
                              "platform's own data it used (data_period.end).",
                      items=[{"assessment_id": latest.get("id")}])
    gap = (completed - data_end).days
    ok = gap <= p["max_gap_days"]
    return finish(
        "PASS" if ok else "WARN",
        f"Risk assessment {latest.get('id')} used the platform's own data up to {data_end}, "
        f"{plural(gap, 'day')} before its completion (at most {p['max_gap_days']}).",
        metric=metric("risk_assessment_data_gap_days", gap, "days", "<=", p["max_gap_days"]),
        items=[] if ok else [{"assessment_id": latest.get("id"), "data_end": data_end,
                              "completed_at": completed, "gap_days": gap}],
    )


@rule("mitigation_coverage")
def mitigation_coverage(ctx: Context, p: dict) -> Outcome:
    latest = latest_assessment(ctx)
    if latest is None:
        return _no_assessment(ctx)
    severe = [r for r in _risks(latest) if r.get("residual_severity") in ("HIGH", "CRITICAL")]
    items = []
    for risk in sorted(severe, key=lambda r: str(r.get("id"))):
        mitigations = [m for m in risk.get("mitigations") or [] if isinstance(m, dict)]
        if not any(m.get("status") == "IMPLEMENTED" for m in mitigations):
            items.append({
                "risk_id": risk.get("id"), "category": risk.get("category"),
                "residual_severity": risk.get("residual_severity"),
                "mitigations": [{"id": m.get("id"), "status": m.get("status")} for m in mitigations],
            })
    return finish(
        "FAIL" if items else "PASS",
        f"HIGH or CRITICAL residual risks of risk assessment {latest.get('id')} without an IMPLEMENTED "
        f"mitigation (Art. 35(1)): {num(len(items))} of {num(len(severe))}.",
        metric=metric("severe_risks_unmitigated", len(items), "count", "==", 0),
        items=items,
    )


@rule("mitigation_effectiveness")
def mitigation_effectiveness(ctx: Context, p: dict) -> Outcome:
    latest = latest_assessment(ctx)
    if latest is None:
        return _no_assessment(ctx)
    results, without_kri = [], []
    for risk in _risks(latest):
        for m in risk.get("mitigations") or []:
            if not isinstance(m, dict) or m.get("status") != "IMPLEMENTED":
                continue
            if m.get("kri") is None:
                without_kri.append(m.get("id"))
                continue
            k = evaluate_kri(ctx.metrics, m.get("kri"))
            results.append({"mitigation_id": m.get("id"), "risk_id": risk.get("id"), **k,
                            "state": kri_state(k)})
    note = f"; {plural(len(without_kri), 'implemented mitigation')} without a KRI" if without_kri else ""
    if not results:
        return not_applicable(
            f"No IMPLEMENTED mitigation of risk assessment {latest.get('id')} has a KRI{note}.")
    if any(r["state"] == "missed" for r in results):
        note += ("; a missed internal KRI is a signal to review whether the mitigation is reasonable, "
                 "proportionate and effective (Art. 35(1)), not by itself a finding that it is not")
    return kri_outcome(
        results, "mitigation_id", f"of {plural(len(results), 'IMPLEMENTED mitigation')}", note,
        missed_status="WARN", without_kri=sorted(map(str, without_kri)),
    )


def kri_state(k: dict) -> str:
    return "met" if k["met"] else "not computable" if k["met"] is None else "missed"


def kri_outcome(results: list[dict], key: str, scope: str, note: str = "", *, all_items: bool = False,
                missed_status: str = "FAIL", **extra: Any) -> Outcome:
    """`missed_status` (FAIL, or WARN where a missed KRI is a signal, not by itself a finding) if a KRI is
    missed; else INSUFFICIENT_DATA if one cannot be computed; else WARN if one is missed before its due date;
    else PASS. Evidence: the KRIs not met (all of them with `all_items`), by `key`."""
    states = ("missed", "not computable", "missed before due")
    by_state = {s: [r for r in results if r["state"] == s] for s in states}
    missed, unknown, early = by_state.values()
    shown = results if all_items else [r for r in results if r["state"] != "met"]
    rank = {s: n for n, s in enumerate((*states, "met"))}  # worst first, then by id
    items = sorted(shown, key=lambda r: (rank[r["state"]], str(r[key])))
    status = missed_status if missed else "INSUFFICIENT_DATA" if unknown else "WARN" if early else "PASS"
    detail = "; ".join(f"{r[key]}: {kri_text(r)}" for r in (missed or unknown or early)[:3])
    counts = ", ".join(f"{num(len(v))} {s}" for s, v in by_state.items() if v) or "none missed"
    outcome = finish(
        status,
        f"KRIs {scope}: {counts}" + (f" ({detail})" if detail else "") + f"{note}.",
        metric=metric("kris_missed", len(missed), "count", "==", 0),
        items=items,
        **extra,
    )
    if status == "INSUFFICIENT_DATA":
        outcome.missing = sorted({f"metric {r['metric']}: {r['reason']}" for r in unknown})
    return outcome
