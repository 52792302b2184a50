"""Obligations decided from the compliance team's registers: risk assessment and mitigation (Art. 34/35),
publications (Art. 24(2), 42), audits (Art. 37), commitments (Art. 71), and the VLOP threshold (Art. 33)."""

from datetime import date, timedelta

import pytest

from dsa_report.engine.evaluate import effective_parameters, evaluate_one
from dsa_report.engine.periods import Period
from dsa_report.ingest import loader, sources
from dsa_report.obligations.evaluation import context, default_catalogue
from dsa_report.obligations.rules.publications import add_months, month_end_after
from tables import H2, Q3, event, items, make_data, outcome

FRESHNESS = "DSA-34-RA-FRESHNESS"
COVERAGE = "DSA-35-MITIGATION-COVERAGE"
EFFECTIVENESS = "DSA-35-MITIGATION-EFFECTIVENESS"
CATEGORIES = [
    "ILLEGAL_CONTENT",
    "FUNDAMENTAL_RIGHTS",
    "CIVIC_DISCOURSE_ELECTIONS_PUBLIC_SECURITY",
    "PUBLIC_HEALTH_MINORS_WELLBEING",
]


def assessment(ra_id: str, completed: date, risks: list[dict] | None = None, **extra) -> dict:
    return {"id": ra_id, "completed_at": completed, "risks": risks or [], **extra}


def risk(risk_id: str, severity: str = "HIGH", *mitigations: dict, category: str = "ILLEGAL_CONTENT") -> dict:
    return {
        "id": risk_id,
        "category": category,
        "residual_severity": severity,
        "mitigations": list(mitigations),
    }


def mitigation(m_id: str, status: str = "IMPLEMENTED", kri: dict | None = None) -> dict:
    return {"id": m_id, "measure": "a measure", "status": status, **({"kri": kri} if kri else {})}


def with_registers(tables: dict | None = None, **registers):
    return make_data(tables or {}, registers=registers)


# ---- Art. 34(1) freshness -------------------------------------------------------------------------------


def test_assessment_exactly_365_days_old_passes_366_fails():
    fresh = with_registers(risk_assessments=[assessment("RA-1", H2.end - timedelta(days=365))])
    result = outcome(FRESHNESS, fresh)
    assert result.status == "PASS"
    assert result.metric == {
        "name": "risk_assessment_age_days",
        "value": 365,
        "unit": "days",
        "comparator": "<=",
        "threshold": 365,
    }
    stale = with_registers(risk_assessments=[assessment("RA-1", H2.end - timedelta(days=366))])
    result = outcome(FRESHNESS, stale)
    assert result.status == "FAIL"
    assert items(result) == [{"assessment_id": "RA-1", "completed_at": "2024-12-30", "age_days": 366}]


def test_latest_is_the_last_completed_on_or_before_period_end():
    registers = [
        assessment("RA-OLD", date(2024, 6, 1)),
        assessment("RA-NEXT", date(2026, 1, 1)),
        assessment("RA-END", H2.end),
    ]
    assert outcome(FRESHNESS, with_registers(risk_assessments=registers)).status == "PASS"
    result = outcome(FRESHNESS, with_registers(risk_assessments=registers[:2]))
    assert result.status == "FAIL" and "RA-OLD" in result.message  # RA-NEXT is after period end


def test_empty_register_fails_missing_register_is_insufficient():
    result = outcome(FRESHNESS, with_registers(risk_assessments=[]))
    assert result.status == "FAIL" and "no assessment" in result.message
    result = outcome(FRESHNESS, with_registers())
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["register risk_assessments"]


def test_json_registers_with_iso_strings_work_too():
    data = with_registers(risk_assessments=[{"id": "RA-1", "completed_at": "2025-06-30", "risks": []}])
    assert outcome(FRESHNESS, data).status == "PASS"


def test_risk_assessment_is_vlop_only():
    result = outcome(FRESHNESS, with_registers(), tier="MARKETPLACE", marketplace=True)
    assert result.status == "NOT_APPLICABLE"
    assert result.message == "This obligation applies to VLOP only; platform tier is MARKETPLACE."


# ---- Art. 35(1) mitigation coverage ---------------------------------------------------------------------


def test_high_risk_with_only_planned_mitigation_fails():
    risks = [
        risk("R-1", "HIGH", mitigation("M-1", "PLANNED"), mitigation("M-2", "IN_PROGRESS")),
        risk("R-2", "CRITICAL", mitigation("M-3", "PLANNED"), mitigation("M-4")),
        risk("R-3", "MEDIUM"),
        risk("R-0", "CRITICAL"),
    ]
    result = outcome(
        COVERAGE, with_registers(risk_assessments=[assessment("RA-1", date(2025, 8, 28), risks)])
    )
    assert result.status == "FAIL"
    assert [i["risk_id"] for i in items(result)] == ["R-0", "R-1"]
    assert items(result)[1]["mitigations"] == [
        {"id": "M-1", "status": "PLANNED"},
        {"id": "M-2", "status": "IN_PROGRESS"},
    ]


def test_only_the_latest_assessment_counts_for_mitigation():
    old = assessment("RA-1", date(2024, 8, 1), [risk("R-1", "HIGH")])
    new = assessment("RA-2", date(2025, 8, 1), [risk("R-1", "HIGH", mitigation("M-1"))])
    assert outcome(COVERAGE, with_registers(risk_assessments=[old, new])).status == "PASS"
    assert outcome(COVERAGE, with_registers(risk_assessments=[new, old]), period=Q3).status == "PASS"
    july = Period("2025-07", date(2025, 7, 1), date(2025, 7, 31), "month")  # RA-2 is not done yet
    assert outcome(COVERAGE, with_registers(risk_assessments=[old, new]), period=july).status == "FAIL"


def test_no_assessment_is_a_coverage_fail():
    assert outcome(COVERAGE, with_registers(risk_assessments=[])).status == "FAIL"


# ---- Art. 35(1) effectiveness: KRIs over the metrics layer ----------------------------------------------

HIDDEN_LINKS = [
    event("L1", "I1", "LISTED", "2025-08-01", hidden_link=True),
    event("R1", "I1", "REMOVED", "2025-08-04", hidden_link=True),
]  # survival 3 days


def effectiveness(*mitigations: dict, tables: dict | None = None):
    ra = assessment("RA-1", date(2025, 8, 28), [risk("R-1", "HIGH", *mitigations)])
    return outcome(EFFECTIVENESS, with_registers(tables, risk_assessments=[ra]))


def kri(metric: str, comparator: str, target: float) -> dict:
    return {"metric": metric, "comparator": comparator, "target": target}


@pytest.mark.parametrize(
    ("comparator", "target", "status"),
    [
        ("<=", 3, "PASS"),
        ("<", 3, "WARN"),
        (">=", 3, "PASS"),
        (">", 3, "WARN"),
        ("==", 3, "PASS"),
        ("<=", 2, "WARN"),
    ],
)
def test_kri_comparators(comparator, target, status):
    result = effectiveness(
        mitigation("M-1", kri=kri("hidden_link_median_survival_days", comparator, target)),
        tables={"listing_events": HIDDEN_LINKS},
    )
    assert result.status == status


def test_missed_kri_is_a_warning_with_evidence_not_a_fail():
    result = effectiveness(
        mitigation("M-1", kri=kri("hidden_link_median_survival_days", "<=", 2)),
        tables={"listing_events": HIDDEN_LINKS},
    )
    assert result.status == "WARN"  # v1: FAIL; a missed internal KRI is a signal, not by itself a breach
    assert "a signal to review whether the mitigation is reasonable, proportionate and effective" in result.message
    assert items(result) == [
        {
            "mitigation_id": "M-1",
            "risk_id": "R-1",
            "metric": "hidden_link_median_survival_days",
            "comparator": "<=",
            "target": 2,
            "value": 3.0,
            "unit": "days",
            "met": False,
            "reason": None,
            "state": "missed",
        }
    ]
    assert "hidden_link_median_survival_days = 3" in result.message


def test_uncomputable_kri_is_insufficient_data_unless_another_fails():
    on_missing_data = mitigation("M-2", kri=kri("complaint_reversal_rate", "<=", 0.2))
    result = effectiveness(on_missing_data, tables={"listing_events": HIDDEN_LINKS})
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == ["metric complaint_reversal_rate: missing dataset complaints"]
    missed = mitigation("M-9", kri=kri("hidden_link_median_survival_days", "<=", 2))
    result = effectiveness(missed, on_missing_data, tables={"listing_events": HIDDEN_LINKS})
    assert result.status == "WARN"  # another KRI already missed
    assert [(i["mitigation_id"], i["state"]) for i in items(result)] == [("M-9", "missed"), ("M-2", "not computable")]


def test_unknown_metric_is_never_met():
    result = effectiveness(mitigation("M-1", kri=kri("hidden_link_survival", "<=", 2)))
    assert result.status == "INSUFFICIENT_DATA"
    assert "not a metric of the metrics layer" in items(result)[0]["reason"]


def test_only_implemented_mitigations_with_a_kri_are_evaluated():
    result = effectiveness(
        mitigation("M-1", "PLANNED", kri=kri("hidden_link_median_survival_days", "<=", 1)),
        mitigation("M-2"),
        tables={"listing_events": HIDDEN_LINKS},
    )
    assert result.status == "NOT_APPLICABLE" and "without a KRI" in result.message


# ---- other register obligations ------------------------------------------------------------------------


def test_ra_coverage_names_missing_categories():
    risks = [risk(f"R-{n}", "LOW", category=c) for n, c in enumerate(CATEGORIES[:2])]
    result = outcome(
        "DSA-34-RA-COVERAGE", with_registers(risk_assessments=[assessment("RA-1", date(2025, 3, 1), risks)])
    )
    assert result.status == "FAIL" and [i["category"] for i in items(result)] == CATEGORIES[2:]
    risks = [risk(f"R-{n}", "LOW", category=c) for n, c in enumerate(CATEGORIES)]
    result = outcome(
        "DSA-34-RA-COVERAGE", with_registers(risk_assessments=[assessment("RA-1", date(2025, 3, 1), risks)])
    )
    assert result.status == "PASS"


def test_ra_before_launch():
    registers = {
        "risk_assessments": [assessment("RA-1", date(2025, 9, 1)), assessment("RA-2", date(2025, 10, 2))],
        "launches": [
            {
                "feature": "A same day",
                "launched_at": date(2025, 9, 1),
                "critical_impact": True,
                "risk_assessment": "RA-1",
            },
            {
                "feature": "B assessed late",
                "launched_at": date(2025, 10, 1),
                "critical_impact": True,
                "risk_assessment": "RA-2",
            },
            {"feature": "C none", "launched_at": date(2025, 11, 1), "critical_impact": True},
            {"feature": "D not critical", "launched_at": date(2025, 11, 1), "critical_impact": False},
            {"feature": "E before period", "launched_at": date(2025, 6, 1), "critical_impact": True},
        ],
    }
    result = outcome("DSA-34-RA-BEFORE-LAUNCH", with_registers(**registers))
    assert result.status == "FAIL"
    assert [(i["feature"], i["problem"]) for i in items(result)] == [
        ("B assessed late", "assessment completed after launch"),
        ("C none", "no risk assessment named"),
    ]


def test_ra_own_data():
    ra = assessment(
        "RA-1", date(2025, 8, 28), data_period={"start": date(2024, 7, 1), "end": date(2024, 8, 28)}
    )
    assert outcome("DSA-34-RA-OWN-DATA", with_registers(risk_assessments=[ra])).status == "PASS"  # 365 days
    ra["data_period"]["end"] = date(2024, 8, 27)
    assert outcome("DSA-34-RA-OWN-DATA", with_registers(risk_assessments=[ra])).status == "WARN"
    del ra["data_period"]
    assert outcome("DSA-34-RA-OWN-DATA", with_registers(risk_assessments=[ra])).status == "WARN"


PUBLICATION = "DSA-24.2-ACTIVE-RECIPIENTS-PUBLICATION"
YEAR = Period("2025", date(2025, 1, 1), date(2025, 12, 31), "year")


def recipients_published(*days: date, period: Period = H2):
    pubs = [{"kind": "ACTIVE_RECIPIENTS", "period": "x", "published_at": d} for d in days]
    return outcome(PUBLICATION, with_registers(publications=pubs), period=period)


def test_calendar_months_follow_the_day_of_the_month_clamped_to_the_month_end():
    assert add_months(date(2025, 1, 1), 6) == date(2025, 7, 1)
    assert add_months(date(2025, 7, 1), 6) == date(2026, 1, 1)
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)
    assert add_months(date(2025, 10, 15), 3) == date(2026, 1, 15)
    assert month_end_after(date(2025, 6, 30), 2) == date(2025, 8, 31)
    assert month_end_after(date(2024, 12, 31), 2) == date(2025, 2, 28)
    assert month_end_after(date(2023, 12, 31), 2) == date(2024, 2, 29)


def test_active_recipients_published_on_1_january_and_1_july_pass():
    result = recipients_published(date(2025, 1, 1), date(2025, 7, 1), date(2026, 1, 1), period=YEAR)
    assert result.status == "PASS" and result.evidence["longest_gap_days"] == 183  # 1 Jul -> 31 Dec
    assert recipients_published(date(2025, 1, 1), date(2025, 7, 1)).status == "PASS"  # 1 Jul + 6 = 1 Jan


def test_active_recipients_gap_to_period_end_longer_than_six_months_fails():
    result = recipients_published(date(2025, 6, 30))  # due again by 30 Dec
    assert result.status == "FAIL"
    assert items(result) == [{"from": "2025-06-30", "from_kind": "publication", "to": "2025-12-31",
                              "to_kind": "period end", "due_by": "2025-12-30", "days": 184}]
    assert "more than 6 calendar months (Art. 24(2))" in result.message


def test_a_gap_inside_the_period_fails_even_when_the_latest_publication_is_recent():
    """v1 looked only at the age of the latest publication: this platform passed."""
    result = recipients_published(date(2024, 12, 20), date(2025, 7, 5), date(2025, 12, 1), period=YEAR)
    assert result.status == "FAIL"
    assert [(i["from"], i["to"], i["days"]) for i in items(result)] == [("2024-12-20", "2025-07-05", 197)]
    assert "from 2024-12-20 (publication) to 2025-07-05 (the next publication)" in result.message
    assert result.metric == {"name": "active_recipients_publication_gaps_too_long", "value": 1, "unit": "count",
                             "comparator": "==", "threshold": 0}


def test_gaps_start_from_period_start_when_nothing_precedes_and_the_longest_is_named_first():
    result = recipients_published(date(2025, 8, 1), date(2026, 3, 1), period=YEAR)  # 2026: after period end
    assert result.status == "FAIL"  # 1 Jan -> 1 Aug: seven months from period start
    assert [(i["from_kind"], i["days"]) for i in items(result)] == [("period start", 212)]
    result = recipients_published(date(2024, 1, 10), date(2024, 12, 20), date(2025, 6, 1), date(2025, 12, 1),
                                  period=YEAR)
    assert result.status == "PASS"  # from 20 Dec 2024, the last before the period (not from 10 Jan 2024)
    result = recipients_published(date(2024, 11, 1), date(2025, 6, 10), period=YEAR)
    assert [(i["from"], i["to"], i["days"]) for i in items(result)] == [
        ("2024-11-01", "2025-06-10", 221), ("2025-06-10", "2025-12-31", 204)]  # longest first
    assert result.evidence["count"] == 2 and "221 days" in result.message and "2 gaps too long" in result.message


def test_no_active_recipients_publication_at_all_fails():
    result = recipients_published()
    assert result.status == "FAIL" and "No ACTIVE_RECIPIENTS publication" in result.message


def recipients(total_per_month: int, months: list[str]) -> list[dict]:
    return [
        {"month": m, "member_state": s, "active_recipients": total_per_month // 2}
        for m in months
        for s in ("DE", "GR")
    ]


def test_vlop_threshold():
    months = [f"2025-{m:02d}" for m in range(7, 13)]
    data = make_data({"active_recipients": recipients(46_000_000, months)})
    assert outcome("DSA-33-VLOP-THRESHOLD", data, tier="VLOP").status == "PASS"
    result = outcome("DSA-33-VLOP-THRESHOLD", data, tier="MARKETPLACE")
    assert result.status == "WARN" and result.metric["value"] == 46_000_000
    short = make_data({"active_recipients": recipients(46_000_000, months[1:])})
    result = outcome("DSA-33-VLOP-THRESHOLD", short, tier="PLATFORM")
    assert result.status == "INSUFFICIENT_DATA" and "2025-07" in result.message


AUDIT_PUBLICATION = "DSA-42.4-AUDIT-PUBLICATION"
AUDIT_KINDS = ("RISK_ASSESSMENT_REPORT", "AUDIT_REPORT", "AUDIT_IMPLEMENTATION_REPORT")


def audit_published(received: date, **published: date):
    audit = {"id": "AUD-1", "report_received_at": received, "opinion": "POSITIVE"}
    pubs = [{"kind": kind, "period": "2024", "published_at": day} for kind, day in published.items()]
    return outcome(AUDIT_PUBLICATION, with_registers(audits=[audit], publications=pubs))


def test_audit_freshness_and_publication():
    audit = {"id": "AUD-1", "report_received_at": date(2025, 1, 1), "opinion": "POSITIVE"}
    data = with_registers(
        audits=[audit],
        publications=[{"kind": kind, "period": "2024", "published_at": date(2025, 4, 1)} for kind in AUDIT_KINDS],
    )  # three calendar months after 1 January
    assert outcome("DSA-37-AUDIT-FRESHNESS", data).status == "PASS"  # 364 days old at period end
    result = outcome(AUDIT_PUBLICATION, data)
    assert result.status == "PASS" and result.evidence["not_checked"] == [
        "42(4)(e): information on the consultations that supported the risk assessment and mitigation"]
    audit["opinion"] = "NEGATIVE"
    assert outcome("DSA-37-AUDIT-FRESHNESS", data).status == "WARN"
    data.registers["publications"][1]["published_at"] = date(2025, 4, 2)
    result = outcome(AUDIT_PUBLICATION, data)
    assert result.status == "FAIL" and items(result) == [
        {"kind": "AUDIT_REPORT", "article": "42(4)(c)", "state": "late", "published_at": "2025-04-02",
         "deadline": "2025-04-01"}]
    audit["report_received_at"] = date(2025, 12, 1)  # publication due after period end
    assert outcome(AUDIT_PUBLICATION, data).status == "NOT_APPLICABLE"


def test_audit_publication_covers_the_risk_assessment_and_implementation_reports():
    """v1 checked the AUDIT_REPORT only."""
    result = audit_published(date(2025, 8, 31), AUDIT_REPORT=date(2025, 9, 15),
                             AUDIT_IMPLEMENTATION_REPORT=date(2025, 12, 1))
    assert result.status == "FAIL"
    assert [(i["kind"], i["state"], i["deadline"]) for i in items(result)] == [
        ("RISK_ASSESSMENT_REPORT", "missing", "2025-11-30"),  # 31 Aug + 3 months: the month's last day
        ("AUDIT_IMPLEMENTATION_REPORT", "late", "2025-11-30")]
    assert "RISK_ASSESSMENT_REPORT (missing), AUDIT_IMPLEMENTATION_REPORT (late)" in result.message
    assert "(e) consultations not checked" in result.message


def test_audit_publication_counts_calendar_months_not_92_days():
    # received 30 Nov 2024: three calendar months end on 28 Feb 2025 (v1: 92 days, 2 March)
    on_time = dict.fromkeys(AUDIT_KINDS, date(2025, 2, 28))
    assert audit_published(date(2024, 11, 30), **on_time).status == "PASS"
    late = dict.fromkeys(AUDIT_KINDS, date(2025, 3, 1))
    assert audit_published(date(2024, 11, 30), **late).status == "FAIL"


def test_transparency_reports_of_the_two_latest_due_half_years():
    pubs = [
        {"kind": "TRANSPARENCY_REPORT", "period": "2024-H2", "published_at": date(2025, 2, 28)},  # on deadline
        {"kind": "TRANSPARENCY_REPORT", "period": "2025-H1", "published_at": date(2025, 9, 1)},
    ]  # 1 day late
    result = outcome("DSA-42-TRANSPARENCY-REPORT", with_registers(publications=pubs))
    assert result.status == "FAIL"
    assert items(result) == [
        {"half_year": "2025-H1", "deadline": "2025-08-31", "published_at": "2025-09-01", "state": "late"}
    ]  # 30 June -> 31 August (v1: + 61 days = 30 August)
    pubs[1]["published_at"] = date(2025, 8, 31)
    assert outcome("DSA-42-TRANSPARENCY-REPORT", with_registers(publications=pubs)).status == "PASS"
    pubs[0]["published_at"] = date(2025, 3, 1)  # 31 Dec -> the last day of February (v1: 2 March)
    result = outcome("DSA-42-TRANSPARENCY-REPORT", with_registers(publications=pubs))
    assert [(i["half_year"], i["deadline"], i["state"]) for i in items(result)] == [
        ("2024-H2", "2025-02-28", "late")]
    assert "2024-H2 (late, due by 2025-02-28)" in result.message


def test_commitments():
    commitments = [
        {"id": "C-2", "kri": kri("hidden_link_median_survival_days", "<=", 3), "due": date(2025, 12, 31)},
        {"id": "C-1", "kri": kri("hidden_link_median_survival_days", "<=", 2), "due": date(2026, 6, 30)},
    ]
    data = with_registers({"listing_events": HIDDEN_LINKS}, commitments=commitments)
    result = outcome("DSA-71-COMMITMENTS", data, tier="VLOP", marketplace=False)
    assert result.status == "WARN"  # C-1 missed, but not due yet
    assert [(i["commitment_id"], i["state"]) for i in items(result)] == [
        ("C-1", "missed before due"),
        ("C-2", "met"),
    ]
    commitments[1]["due"] = date(2025, 12, 31)
    assert outcome("DSA-71-COMMITMENTS", data).status == "FAIL"
    assert outcome("DSA-71-COMMITMENTS", with_registers()).status == "NOT_APPLICABLE"


def commitments_outcome(data, *, binding: bool, tier: str = "VLOP"):
    catalogue = default_catalogue()
    params = effective_parameters(catalogue)
    ctx = context(data, H2, tier=tier, marketplace=False, params=params, binding_commitments=binding)
    return evaluate_one(catalogue.get("DSA-71-COMMITMENTS"), ctx, params["DSA-71-COMMITMENTS"])


def test_commitments_are_vlop_only():
    data = with_registers(commitments=[{"id": "C-1", "kri": kri("sor_count", ">=", 0)}])
    for tier in ("HOSTING", "PLATFORM", "MARKETPLACE"):  # v1: HOSTING+
        result = commitments_outcome(data, binding=True, tier=tier)
        assert result.status == "NOT_APPLICABLE" and "applies to VLOP only" in result.message


def test_binding_commitments_without_a_register_are_insufficient_data():
    result = commitments_outcome(with_registers(), binding=True)
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["register commitments"]
    assert "binding_commitments: true" in result.message
    result = commitments_outcome(with_registers(commitments=[]), binding=True)
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["register commitments (empty)"]
    for data in (with_registers(), with_registers(commitments=[])):
        result = commitments_outcome(data, binding=False)
        assert result.status == "NOT_APPLICABLE" and result.missing == []


def test_vlop_threshold_counts_the_eu_27_only():
    months = [f"2025-{m:02d}" for m in range(7, 13)]
    rows = recipients(44_000_000, months) + [
        {"month": m, "member_state": s, "active_recipients": 2_000_000} for m in months for s in ("CH", "NO")]
    result = outcome("DSA-33-VLOP-THRESHOLD", make_data({"active_recipients": rows}), tier="MARKETPLACE")
    assert result.status == "PASS" and result.metric["value"] == 44_000_000  # v1 summed 48,000,000: a WARN
    assert "EU-27" in result.message
    result = outcome("DSA-33-VLOP-THRESHOLD", make_data({"active_recipients": rows[:6]}), tier="MARKETPLACE")
    assert result.status == "INSUFFICIENT_DATA"  # months of non-EU figures only are missing EU figures
    data = make_data({"active_recipients": recipients(44_000_000, months)})
    data.quality["active_recipients"] = {"non_eu_rows": 12}  # what the loader left out
    assert "12 rows of countries outside the EU left out" in outcome("DSA-33-VLOP-THRESHOLD", data).message


def test_the_loader_leaves_non_eu_rows_out_and_counts_them(tmp_path):
    folder = tmp_path / "src" / "active_recipients"
    folder.mkdir(parents=True)
    rows = ["month,member_state,active_recipients"]
    rows += [f"2025-{m:02d},{s},{n}" for m in range(7, 13)
             for s, n in (("DE", 30_000_000), ("GR", 14_000_000), ("CH", 2_000_000), ("EL", 1_000_000))]
    (folder / "recipients.csv").write_text("\n".join(rows) + "\n")
    collected = sources.collect(str(tmp_path / "src"), tmp_path / "work")
    data = loader.load(collected, loader.connect(), platform_names=None)
    quality = data.quality["active_recipients"]
    assert quality["rows"] == 12 and quality["quarantined_rows"] == 0
    assert quality["non_eu_rows"] == 12 and quality["non_eu_member_states"] == ["CH", "EL"]  # Greece is GR
    result = outcome("DSA-33-VLOP-THRESHOLD", data, tier="MARKETPLACE")
    assert result.status == "PASS" and result.metric["value"] == 44_000_000
    assert "12 rows of countries outside the EU left out" in result.message


def test_vlop_threshold_is_reached_exactly_at_45_million():
    months = [f"2025-{m:02d}" for m in range(7, 13)]
    at_threshold = make_data({"active_recipients": recipients(45_000_000, months)})
    result = outcome("DSA-33-VLOP-THRESHOLD", at_threshold, tier="MARKETPLACE")
    assert result.status == "WARN" and result.metric["value"] == 45_000_000
    below = make_data({"active_recipients": recipients(44_999_998, months)})
    assert outcome("DSA-33-VLOP-THRESHOLD", below, tier="MARKETPLACE").status == "PASS"


def test_audit_report_exactly_max_age_days_old_passes():
    audit = {"id": "AUD-1", "report_received_at": H2.end - timedelta(days=365), "opinion": "POSITIVE"}
    assert outcome("DSA-37-AUDIT-FRESHNESS", with_registers(audits=[audit])).status == "PASS"
    audit["report_received_at"] -= timedelta(days=1)
    result = outcome("DSA-37-AUDIT-FRESHNESS", with_registers(audits=[audit]))
    assert result.status == "FAIL" and items(result)[0]["age_days"] == 366


def test_audit_publication_deadline_on_period_end_is_judged_one_day_later_is_not_yet():
    audit = {"id": "AUD-1", "report_received_at": date(2025, 9, 30), "opinion": "POSITIVE"}  # + 3 months = 30 Dec
    result = outcome(AUDIT_PUBLICATION, with_registers(audits=[audit], publications=[]))
    assert result.status == "FAIL" and items(result)[0]["deadline"] == "2025-12-30"
    assert [i["state"] for i in items(result)] == ["missing"] * 3
    audit["report_received_at"] = date(2025, 10, 1)  # due 1 January
    result = outcome(AUDIT_PUBLICATION, with_registers(audits=[audit], publications=[]))
    assert result.status == "NOT_APPLICABLE"


def test_transparency_report_due_when_its_deadline_is_the_period_end():
    on_time = [
        {"kind": "TRANSPARENCY_REPORT", "period": "2024-H2", "published_at": date(2025, 2, 1)},
        {"kind": "TRANSPARENCY_REPORT", "period": "2024-H1", "published_at": date(2024, 8, 1)},
    ]  # 2025-H1 is not published
    ends_on_deadline = Period("2025-08-01..2025-08-31", date(2025, 8, 1), date(2025, 8, 31), "range")
    result = outcome("DSA-42-TRANSPARENCY-REPORT", with_registers(publications=on_time), period=ends_on_deadline)
    assert result.status == "FAIL"  # 30 June -> 31 August: due
    assert items(result) == [{"half_year": "2025-H1", "deadline": "2025-08-31", "published_at": None,
                             "state": "missing"}]
    day_before = Period("2025-08-01..2025-08-30", date(2025, 8, 1), date(2025, 8, 30), "range")
    result = outcome("DSA-42-TRANSPARENCY-REPORT", with_registers(publications=on_time), period=day_before)
    assert result.status == "PASS"  # due: 2024-H2 and 2024-H1 only


def test_launches_on_the_period_end_count_the_day_after_does_not():
    registers = {
        "risk_assessments": [assessment("RA-1", date(2025, 1, 1))],
        "launches": [
            {"feature": "A last day", "launched_at": date(2025, 12, 31), "critical_impact": True},
            {"feature": "B next period", "launched_at": date(2026, 1, 1), "critical_impact": True},
            {"feature": "C first day", "launched_at": date(2025, 7, 1), "critical_impact": True,
             "risk_assessment": "RA-1"},
        ],
    }
    result = outcome("DSA-34-RA-BEFORE-LAUNCH", with_registers(**registers))
    assert result.status == "FAIL" and [i["feature"] for i in items(result)] == ["A last day"]
    assert "1 of 2" in result.message
