"""Waivers, trend against the previous period, exposure ceilings and the order of findings."""

import json
from datetime import date

from dsa_report.obligations.config import Config, Waiver
from dsa_report.outputs.findings import apply_trend, apply_waivers, build_document, exposure

TODAY = date(2026, 11, 28)


def finding(oid: str, status: str, value: float | None = None) -> dict:
    f = {"obligation_id": oid, "article": "x", "title": "t", "severity": "HIGH", "status": status,
         "evidence": {"count": 0, "sample": []}}
    if value is not None:
        f["metric"] = {"name": "m", "value": value}
    return f


def waiver(pattern: str, expires: date) -> Waiver:
    return Waiver(pattern, "because", "CCO", expires)


def test_waiver_applies_through_its_expiry_date_and_keeps_the_status():
    findings = [finding("DSA-30-KYBC-VERIFICATION", "WARN"), finding("DSA-30-KYBC-COMPLETENESS", "PASS")]
    report = apply_waivers(findings, (waiver("DSA-30-*", TODAY),), TODAY)
    assert findings[0]["status"] == "WAIVED" and findings[0]["waived_status"] == "WARN"
    assert findings[0]["waiver"]["expires"] == "2026-11-28"
    assert findings[1]["status"] == "PASS" and "waived_status" not in findings[1]  # PASS is never waived
    assert report["applied"][0]["obligations"] == ["DSA-30-KYBC-VERIFICATION"]


def test_expired_and_unmatched_waivers_are_listed_not_applied():
    findings = [finding("DSA-16-NOTICE-TIMELINESS", "FAIL"), finding("DSA-22-TRUSTED-FLAGGER-PRIORITY", "PASS")]
    report = apply_waivers(findings, (waiver("DSA-16-NOTICE-TIMELINESS", date(2026, 11, 27)),
                                      waiver("DSA-22-TRUSTED-FLAGGER-PRIORITY", date(2027, 1, 1))), TODAY)
    assert findings[0]["status"] == "FAIL"
    assert [w["obligation"] for w in report["expired"]] == ["DSA-16-NOTICE-TIMELINESS"]
    assert [w["obligation"] for w in report["unmatched"]] == ["DSA-22-TRUSTED-FLAGGER-PRIORITY"]


def test_trend_marks_new_persisting_and_improved():
    previous = {"run": {"id": "r0"}, "findings": [finding("A", "FAIL", 9.0), finding("B", "PASS"),
                                                  finding("C", "WARN")]}
    findings = [finding("A", "FAIL", 8.0), finding("B", "FAIL"), finding("C", "PASS"), finding("D", "WARN")]
    apply_trend(findings, previous)
    trend = {f["obligation_id"]: (f.get("trend"), f["previous_status"]) for f in findings}
    assert trend == {"A": ("persisting", "FAIL"), "B": ("new", "PASS"), "C": ("improved", "WARN"),
                     "D": ("new", None)}
    assert findings[0]["metric"]["previous_value"] == 9.0


def test_no_previous_run_means_no_trend_words():
    findings = [finding("A", "FAIL")]
    apply_trend(findings, None)
    assert findings[0]["previous_status"] is None and "trend" not in findings[0]


def test_document_orders_new_failures_first_and_counts_every_status():
    previous = {"run": {"id": "r0"}, "findings": [finding("A", "FAIL"), finding("C", "WARN")]}
    config = Config(platform="P", tier="VLOP", turnover_eur=1_000_000.0)
    doc = build_document(run={"id": "r1"}, config=config, quality={}, metrics={},
                         findings=[finding("A", "FAIL"), finding("B", "FAIL"), finding("C", "PASS")],
                         today=TODAY, previous=previous)
    assert [f["obligation_id"] for f in doc["findings"]] == ["B", "A", "C"]  # new FAIL, persisting FAIL, PASS
    assert doc["summary"]["counts"]["FAIL"] == 2 and doc["summary"]["counts"]["ERROR"] == 0
    assert doc["summary"]["trend"] == {"previous_run": "r0",
                                       "resolved": [{"obligation_id": "C", "previous_status": "WARN"}]}
    assert doc["summary"]["exposure"]["max_fine_eur"] == 60_000.0


def test_exposure_is_the_tiers_ceilings_whatever_the_findings():
    assert exposure("VLOP", None) is None
    vlop = exposure("VLOP", 365_000_000.0)
    assert vlop["max_fine_eur"] == 21_900_000.0 and vlop["max_periodic_penalty_per_day_eur"] == 50_000.0
    assert vlop["max_information_fine_eur"] == 3_650_000.0
    assert "Art. 74(1)" in vlop["legal_basis"] and "76" in vlop["legal_basis"] and "56(4)" in vlop["legal_basis"]
    other = exposure("MARKETPLACE", 365_000_000.0)
    assert "Art. 52(3)" in other["legal_basis"] and "74" not in other["legal_basis"]
    assert other["max_fine_eur"] == vlop["max_fine_eur"]  # the same maxima, set by another article
    for ceilings in (vlop, other):  # worded as ceilings after a decision, never tied to this report's FAILs
        assert "only after a decision" in ceilings["note"] and "not a consequence" in ceilings["note"]
        assert "fail" not in json.dumps(ceilings).lower()
