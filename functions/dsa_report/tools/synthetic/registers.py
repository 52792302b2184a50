"""The compliance team's registers (YAML, the data contract's shapes) and the monthly active recipients.

Dates are placed relative to the period end, so every period gets the same story: the latest risk assessment
is more than a year old, a HIGH risk has only a PLANNED mitigation, the hidden-link KRI is missed, the latest
due transparency report came late; the audit and the active-recipients publication are in order.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

import yaml

from . import vocab
from .world import World

RA_AGE_DAYS = 400  # > 365: DSA-34-RA-FRESHNESS fails
AUDIT_AGE_DAYS = 120
TRANSPARENCY_DEADLINE_DAYS = 61


def _half_years_before(day: date, count: int) -> list[tuple[str, date]]:
    """The `count` latest half-years ending before `day`: (label, last day), newest first."""
    out = []
    year, half = (day.year, 1) if day.month > 6 else (day.year - 1, 2)
    while len(out) < count:
        end = date(year, 6, 30) if half == 1 else date(year, 12, 31)
        if end < day:
            out.append((f"{year}-H{half}", end))
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return out


def _kri(metric: str, comparator: str, target: float) -> dict[str, object]:
    return {"metric": metric, "comparator": comparator, "target": target}


def _mitigation(mid: str, measure: str, status: str, owner: str, kri: dict | None = None) -> dict[str, object]:
    return {"id": mid, "measure": measure, "status": status, "owner": owner, **({"kri": kri} if kri else {})}


def _risk_assessments(completed: date) -> dict[str, object]:
    older = date(completed.year - 1, completed.month, min(completed.day, 28))

    def assessment(day: date, risks: list[dict]) -> dict[str, object]:
        data_end = day - timedelta(days=58)
        return {"id": f"RA-{day.year}", "completed_at": day, "approved_by": "Management Board",
                "data_period": {"start": data_end - timedelta(days=364), "end": data_end}, "risks": risks}

    risks = [
        {"id": "R-ILLEGAL-PRODUCTS", "category": "ILLEGAL_CONTENT",
         "title": "Counterfeit medicines and unsafe products sold through hidden links", "residual_severity": "HIGH",
         "mitigations": [
             _mitigation("M-HIDDEN-LINK-DETECTION", "Image and price anomaly detection for hidden links",
                         "IMPLEMENTED", "Trust and Safety", _kri("hidden_link_median_survival_days", "<=", 2)),
             _mitigation("M-NOTICE-HANDLING", "Notice intake with acknowledgement within a day", "IMPLEMENTED",
                         "Trust and Safety", _kri("notice_ack_within_24h_share", ">=", 0.9))]},
        {"id": "R-MINORS-AND-HEALTH", "category": "PUBLIC_HEALTH_MINORS_WELLBEING",
         "title": "Toys and supplements that harm minors' health", "residual_severity": "HIGH",
         "mitigations": [_mitigation("M-TOY-LAB-TESTS", "Laboratory test purchases of toys", "PLANNED",
                                     "Product Safety")]},
        {"id": "R-CONSUMER-RIGHTS", "category": "FUNDAMENTAL_RIGHTS",
         "title": "Wrongful removal of lawful listings", "residual_severity": "MEDIUM",
         "mitigations": [_mitigation("M-COMPLAINT-REVIEW", "Human review of every complaint", "IMPLEMENTED",
                                     "Legal", _kri("complaint_reversal_rate", "<=", 0.25))]},
        {"id": "R-PUBLIC-SECURITY", "category": "CIVIC_DISCOURSE_ELECTIONS_PUBLIC_SECURITY",
         "title": "Sale of items that endanger public security", "residual_severity": "LOW",
         "mitigations": [_mitigation("M-AUTHORITY-ORDERS", "Fast lane for authority orders", "IN_PROGRESS",
                                     "Legal")]},
    ]
    return {"assessments": [assessment(older, risks[:2]), assessment(completed, risks)]}


def registers(world: World) -> tuple[dict[str, dict], dict[str, object]]:
    """The registers (file stem -> document) and what they plant."""
    ps, pe = world.period_start, world.period_end
    completed = pe - timedelta(days=RA_AGE_DAYS)
    latest_ra = f"RA-{completed.year}"
    audit_received = pe - timedelta(days=AUDIT_AGE_DAYS)
    published = [{"kind": "ACTIVE_RECIPIENTS", "period": label, "published_at": end + timedelta(days=20)}
                 for label, end in reversed(_half_years_before(pe - timedelta(days=19), 2))]
    due = [(label, end + timedelta(days=TRANSPARENCY_DEADLINE_DAYS))
           for label, end in _half_years_before(pe, 4) if end + timedelta(days=TRANSPARENCY_DEADLINE_DAYS) <= pe][:2]
    (late_label, late_deadline), (prev_label, prev_deadline) = due
    published.append({"kind": "TRANSPARENCY_REPORT", "period": prev_label,
                      "published_at": prev_deadline - timedelta(days=10)})
    if late_deadline + timedelta(days=15) <= pe:  # otherwise it is still missing at period end
        published.append({"kind": "TRANSPARENCY_REPORT", "period": late_label,
                          "published_at": late_deadline + timedelta(days=15)})
    for kind in ("AUDIT_REPORT", "RISK_ASSESSMENT_REPORT", "AUDIT_IMPLEMENTATION_REPORT"):
        published.append({"kind": kind, "period": str(audit_received.year),
                          "published_at": audit_received + timedelta(days=80)})
    documents = {
        "risk_assessments": _risk_assessments(completed),
        "launches": {"launches": [
            {"feature": "Live shopping", "launched_at": completed - timedelta(days=90), "critical_impact": True,
             "risk_assessment": f"RA-{completed.year - 1}"},
            {"feature": "Seller affiliate programme", "launched_at": ps + timedelta(days=world.days // 3),
             "critical_impact": True, "risk_assessment": latest_ra},
            {"feature": "Wish lists", "launched_at": ps + timedelta(days=world.days // 2), "critical_impact": False,
             "risk_assessment": None},
        ]},
        "commitments": {"commitments": [
            {"id": "C-HIDDEN-LINKS-1", "title": "Remove hidden-link listings quickly",
             "source": "Commission decision making commitments binding (Art. 71)",
             "kri": _kri("hidden_link_median_survival_days", "<=", 3), "due": ps},
            {"id": "C-REPEAT-INFRINGERS-1", "title": "Suspend every repeat infringer",
             "source": "Commission decision making commitments binding (Art. 71)",
             "kri": _kri("repeat_infringers_unsuspended", "<=", 0), "due": ps},
            {"id": "C-NOTICE-ACK-1", "title": "Acknowledge notices within a day",
             "source": "Commission decision making commitments binding (Art. 71)",
             "kri": _kri("notice_ack_within_24h_share", ">=", 0.95), "due": ps},
        ]},
        "publications": {"publications": published},
        "audits": {"audits": [
            {"id": f"AUD-{audit_received.year}", "auditor": "Example Audit LLP",
             "period": {"start": audit_received - timedelta(days=410), "end": audit_received - timedelta(days=45)},
             "report_received_at": audit_received, "opinion": "POSITIVE_WITH_COMMENTS"}]},
    }
    planted = {"risk_assessment_latest": {"id": latest_ra, "completed_at": completed},
               "risk_without_implemented_mitigation": ["R-MINORS-AND-HEALTH"],
               "transparency_reports_late_or_missing": [late_label]}
    v2_documents, v2_planted = registers_v2(world)
    return documents | v2_documents, planted | v2_planted


def _recommender(rid: str, since: date, reachable: bool = True) -> dict[str, object]:
    return {"id": rid, "parameters_in_terms": True, "options_in_terms": True, "options": 2,
            "selector_available": True, "non_profiling_option": True, "non_profiling_option_since": since,
            "setting_reachable_from_interface": reachable}


def registers_v2(world: World) -> tuple[dict[str, dict], dict[str, object]]:
    """The v2 registers (listing form, recommender systems, data access requests) and what they plant: the
    listing form has every Art. 31 field; the similar-items recommender's non-profiling option cannot be reached
    from the interface (Art. 38); a vetted researcher got access 4 days after the deadline (Art. 40(4)). Dates
    are relative to the period: every request below is open in it, whatever its length (at least 28 days)."""
    ps, pe = world.period_start, world.period_end
    late = {"id": f"DAR-{ps.year}-01", "kind": "VETTED_RESEARCHER", "received_at": ps - timedelta(days=60),
            "deadline_at": ps + timedelta(days=5), "amendment_requested_at": None,
            "access_provided_at": ps + timedelta(days=9)}
    requests = [
        late,
        {"id": f"DAR-{ps.year}-02", "kind": "VETTED_RESEARCHER", "received_at": ps - timedelta(days=30),
         "deadline_at": ps + timedelta(days=20), "amendment_requested_at": ps - timedelta(days=20),
         "access_provided_at": ps + timedelta(days=15)},
        {"id": f"DAR-{ps.year}-03", "kind": "VETTED_RESEARCHER", "received_at": pe - timedelta(days=10),
         "deadline_at": pe + timedelta(days=60), "amendment_requested_at": None, "access_provided_at": None},
        {"id": f"DAR-{ps.year}-04", "kind": "PUBLIC_DATA", "received_at": ps + timedelta(days=2),
         "deadline_at": None, "amendment_requested_at": None, "access_provided_at": ps + timedelta(days=9)},
        {"id": f"DAR-{ps.year}-05", "kind": "PUBLIC_DATA", "received_at": pe - timedelta(days=5),
         "deadline_at": None, "amendment_requested_at": None, "access_provided_at": None},
    ]
    documents = {
        "listing_interface": {"listing_interface": {
            "fields": ["economic_operator_contact", "product_identification", "trader_sign", "safety_labelling"]}},
        "recommender_systems": {"recommender_systems": [
            _recommender("HOME-FEED", date(2024, 6, 1)), _recommender("SEARCH", date(2024, 2, 17)),
            _recommender("SIMILAR-ITEMS", date(2024, 9, 1), reachable=False)]},
        "data_access_requests": {"data_access_requests": requests},
    }
    planted = {"recommender_without_reachable_non_profiling_option": ["SIMILAR-ITEMS"],
               "data_access_requests_late": [late["id"]]}
    return documents, planted


class _Dumper(yaml.SafeDumper):
    """Writes repeated objects out in full: no YAML anchors or aliases in a hand-kept register."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def write_registers(root: Path, world: World) -> tuple[list[Path], dict[str, object]]:
    folder = root / "registers"
    folder.mkdir(parents=True, exist_ok=True)
    documents, planted = registers(world)
    paths = []
    for stem, document in documents.items():
        path = folder / f"{stem}.yaml"
        text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=None, allow_unicode=True,
                         width=110)
        path.write_text(f"# {stem} register of {world.platform} (synthetic)\n{text}", encoding="utf-8")
        paths.append(path)
    return paths, planted


def write_active_recipients(root: Path, world: World) -> tuple[Path, float]:
    """12 months ending with the period's last month; returns the file and the 6-month average."""
    rng = random.Random(world.seed)
    last = world.period_end.replace(day=1)
    months = sorted({date(last.year + (last.month - 1 - k) // 12, (last.month - 1 - k) % 12 + 1, 1)
                     for k in range(12)})
    rows, totals = [], []
    for n, month in enumerate(months):
        growth = 1 + 0.008 * n
        counts = [round(vocab.POPULATION[ms] * 1e6 * 0.17 * growth * rng.uniform(0.97, 1.03)) for ms in vocab.EU27]
        totals.append(sum(counts))
        rows += [(month.strftime("%Y-%m"), ms, count) for ms, count in zip(vocab.EU27, counts, strict=True)]
    path = root / "active_recipients" / "active_recipients.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("month", "member_state", "active_recipients"))
        writer.writerows(rows)
    return path, sum(totals[-6:]) / 6
