"""The findings document (contracts/findings.schema.json): outcomes + waivers + trend + exposure + summary."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..obligations.config import Config, Waiver
from ..obligations.coverage import not_checked
from ..obligations.wording import article_words
from ..vocabulary import DUTY, LAW, POLICY, STATUSES, VLOP
from ..vocabulary import WAIVABLE as BAD

SCHEMA_VERSION = "2"
FINE_SHARE = 0.06  # Art. 74(1) / 52(3): up to 6 % of worldwide annual turnover in the preceding financial year
INFORMATION_FINE_SHARE = 0.01  # Art. 74(2) / 52(3): incorrect information, refused inspection
PERIODIC_PENALTY_SHARE = 0.05  # Art. 76 / 52(4): up to 5 % of average daily worldwide turnover, per day
CEILINGS_APPLY = ("Legal ceilings that apply only after a decision of the competent authority; context, not "
                  "a prediction, and not a consequence of this report's findings.")
LEGAL_BASIS = {
    VLOP: ("Art. 74(1), 74(2) and 76 DSA: fines and periodic penalties the Commission may impose on a very large "
           "online platform; for duties outside Chapter III Section 5 the Member State of establishment may act "
           "under Art. 52 while the Commission has not opened proceedings (Art. 56(4))."),
    "other": ("Art. 52(3) and 52(4) DSA: penalties laid down by the law of the competent Member State (Art. 52(1)), "
              "within the maxima the DSA sets."),
}


def finding(obligation, outcome, parameters: dict[str, Any]) -> dict[str, Any]:
    """One finding of the document from an obligation of the catalogue and the outcome of its rule."""
    result: dict[str, Any] = {
        "obligation_id": obligation.id,
        "article": obligation.article,
        "title": obligation.title,
        "severity": obligation.severity,
        "kind": obligation.kind,
        "status": outcome.status,
        "message": outcome.message,
        "parameters": parameters,
        "basis": dict(obligation.basis),
        "evidence": {**outcome.evidence, "count": int(outcome.evidence.get("count", 0)),
                     "sample": list(outcome.evidence.get("sample", []))},
        "remediation": obligation.remediation.strip(),
    }
    words = article_words(obligation.id)
    if words:
        result["article_words"] = words
    if outcome.metric:
        basis = threshold_basis(obligation, outcome.metric, parameters)
        result["metric"] = {**outcome.metric, "threshold_basis": basis}
    if outcome.missing:
        result["missing"] = list(outcome.missing)
    return result


def threshold_basis(obligation, metric: dict, parameters: dict[str, Any]) -> str:
    """LAW or POLICY: the basis of the parameter the metric is compared with (reports call a POLICY figure
    an "internal threshold"); a limit that is no parameter is the rule's own (LAW for a duty)."""
    threshold = metric.get("threshold")
    for name, value in parameters.items():
        if value == threshold and not isinstance(value, bool) and name in obligation.basis:
            return obligation.basis[name]
    return LAW if obligation.kind == DUTY else POLICY


def apply_waivers(findings: list[dict], waivers: tuple[Waiver, ...], today: date) -> dict[str, list[dict]]:
    """A covered WARN/FAIL becomes WAIVED (the underlying status kept); expired and unmatched are listed.

    A waiver applies up to and including its `expires` date.
    """
    report: dict[str, list[dict]] = {"applied": [], "expired": [], "unmatched": []}
    for waiver in waivers:
        matched = [f for f in findings if waiver.matches(f["obligation_id"])]
        if waiver.expires < today:
            report["expired"].append({**waiver.to_json(), "obligations": [f["obligation_id"] for f in matched]})
            continue
        covered = [f for f in matched if f["status"] in ("WARN", "FAIL")]
        if not covered:
            report["unmatched"].append(waiver.to_json())
            continue
        for f in covered:
            f["waived_status"] = f["status"]
            f["status"] = "WAIVED"
            f["waiver"] = waiver.to_json()
        report["applied"].append({**waiver.to_json(), "obligations": [f["obligation_id"] for f in covered]})
    return report


def apply_trend(findings: list[dict], previous: dict | None) -> None:
    """previous_status / previous metric value from the archived findings of the previous period, and a
    `trend` word a reader can sort by: new, persisting (a FAIL or WARN both times) or improved."""
    before = {f["obligation_id"]: f for f in (previous or {}).get("findings", [])}
    for f in findings:
        old = before.get(f["obligation_id"])
        f["previous_status"] = old["status"] if old else None
        if old and old.get("metric") and f.get("metric"):
            f["metric"]["previous_value"] = old["metric"].get("value")
        if previous is None:
            continue
        now_bad, was_bad = f["status"] in BAD, bool(old) and old["status"] in BAD
        if now_bad:
            f["trend"] = "persisting" if was_bad and old["status"] == f["status"] else "new"
        elif was_bad and f["status"] == "PASS":
            f["trend"] = "improved"


def exposure(tier: str, turnover_eur: float | None) -> dict[str, Any] | None:
    """The legal ceilings for the platform's tier (obligations.md, "Exposure"), whatever the findings: context
    for the board, never tied to the number of FAILs."""
    if turnover_eur is None:
        return None
    return {
        "turnover_eur": turnover_eur,
        "max_fine_eur": round(turnover_eur * FINE_SHARE, 2),
        "max_information_fine_eur": round(turnover_eur * INFORMATION_FINE_SHARE, 2),
        "max_periodic_penalty_per_day_eur": round(turnover_eur * PERIODIC_PENALTY_SHARE / 365, 2),
        "legal_basis": LEGAL_BASIS[VLOP if tier == VLOP else "other"],
        "note": CEILINGS_APPLY,
    }


def order_key(f: dict) -> tuple:
    """FAIL first; within a status, new failures before persisting ones, then by id."""
    return (STATUSES.index(f["status"]), f.get("trend") == "persisting", f["obligation_id"])


def build_document(*, run: dict, config: Config, quality: dict, metrics: dict, findings: list[dict],
                   today: date, previous: dict | None) -> dict[str, Any]:
    """Assemble findings.json; `findings` are mutated in place (waivers, trend)."""
    waivers = apply_waivers(findings, config.waivers, today)
    apply_trend(findings, previous)
    findings.sort(key=order_key)
    counts = {status: 0 for status in STATUSES}
    for f in findings:
        counts[f["status"]] += 1
    summary: dict[str, Any] = {"counts": counts, "waivers": waivers}
    resolved = [{"obligation_id": f["obligation_id"], "previous_status": f["previous_status"]}
                for f in findings if f.get("trend") == "improved"]
    summary["trend"] = {"previous_run": (previous or {}).get("run", {}).get("id"), "resolved": resolved}
    ceilings = exposure(config.tier, config.turnover_eur)
    if ceilings:
        summary["exposure"] = ceilings
    return {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "data_quality": quality,
        "metrics": metrics,
        "findings": findings,
        "summary": summary,
        "coverage": {"not_checked": not_checked(config.tier, config.marketplace, findings)},
    }
