"""The EU transparency report's figures (obligations/transparency.py) on small tables: each sheet's query, the
tier's Applicability, missing data left empty with a note (never a zero), the answers file, the comparison."""

from __future__ import annotations

from datetime import date

import pytest

from dsa_report.engine.periods import parse_period
from dsa_report.obligations import transparency as t
from dsa_report.obligations.config import ConfigError, parse_config
from tables import H2, action, dispute, make_data, notice, order, sor, ts

UNSAFE = t.CAT + "UNSAFE_AND_PROHIBITED_PRODUCTS"
IP = t.CAT + "INTELLECTUAL_PROPERTY_INFRINGEMENTS"


def build(tables, tier="VLOP", registers=None, answers=None, **absent):
    return t.build(make_data(tables, registers, absent or None), H2, tier=tier, service="ExampleMarket",
                   answers=answers, issued=date(2026, 1, 20))


def row(report, sheet, **match):
    rows = [r for r in report.sheet(sheet).rows if all(r.get(k) == v for k, v in match.items())]
    assert len(rows) == 1, (match, len(rows))
    return rows[0]


def value(report, section, indicator, scope, sheet=None):
    sheets = [sheet] if sheet else [t.S7, t.S8, t.S9, t.S10]
    for name in sheets:
        for r in report.sheet(name).rows:
            if (r["Section"], r["Indicator"], r["Scope"]) == (section, indicator, scope):
                return r
    raise KeyError((section, indicator, scope))


def test_due_for_a_vlops_half_year_and_another_tiers_year():
    assert t.due("VLOP", parse_period("2025-H2")) and not t.due("VLOP", parse_period("2025"))
    assert t.due("PLATFORM", parse_period("2025")) and not t.due("PLATFORM", parse_period("2025-H2"))
    assert not t.due("VLOP", parse_period("2025-07"))


def test_every_sheet_of_the_template_in_order_with_its_headers():
    report = build({})
    assert [s.name for s in report.sheets] == list(t.SHEET_NAMES)
    assert all(s.headers == t.HEADERS[s.name] for s in report.sheets)


# ---- 1.3 notices


def test_notices_by_category_trusted_flaggers_actions_and_censored_median():
    period_end = ts("2026-01-01")
    rows = [
        notice("N1", "2025-08-01", decided_after_hours=10, category=UNSAFE, outcome="ACTION_TAKEN",
               action_basis="ILLEGAL_CONTENT"),
        notice("N2", "2025-08-02", decided_after_hours=30, category=UNSAFE, source_type="SOURCE_TRUSTED_FLAGGER",
               outcome="ACTION_TAKEN", action_basis="INCOMPATIBLE_CONTENT"),
        notice("N3", "2025-12-31", category=IP, outcome="PENDING"),  # undecided: censored at period end
        notice("N4", "2025-09-01", decided_after_hours=5, category=None, outcome="NO_ACTION"),
        notice("N5", "2025-09-01", decided_after_hours=5, category=t.OTHER_TC, outcome="NO_ACTION"),
        notice("N6", "2025-06-30", decided_after_hours=1, category=UNSAFE),  # before the period
    ]
    report = build({"notices": rows})
    total = row(report, t.S4, **{t.ILLEGAL_COLUMN: t.TOTAL})
    hours_n3 = (period_end - ts("2025-12-31")).total_seconds() / 3600
    assert total[t.NOTICE_VALUES[0]] == 5 and total[t.NOTICE_VALUES[1]] == 1
    assert total[t.NOTICE_VALUES[4]] == pytest.approx(sorted([10, 30, hours_n3, 5, 5])[2])
    assert total[t.NOTICE_VALUES[5]] == 30
    assert (total[t.NOTICE_VALUES[6]], total[t.NOTICE_VALUES[7]], total[t.NOTICE_VALUES[8]],
            total[t.NOTICE_VALUES[9]]) == (1, 0, 1, 1)
    unsafe = row(report, t.S4, **{t.ILLEGAL_COLUMN: UNSAFE})
    assert unsafe[t.NOTICE_VALUES[0]] == 2 and unsafe[t.NOTICE_VALUES[4]] == 20
    assert row(report, t.S4, **{t.ILLEGAL_COLUMN: t.NOT_SPECIFIED_NOTICE})[t.NOTICE_VALUES[0]] == 1
    assert row(report, t.S4, **{t.ILLEGAL_COLUMN: t.CAT + "VIOLENCE"})[t.NOTICE_VALUES[0]] == 0
    assert "OTHER_VIOLATION_TC: 1" in total["Contextual information on Number of notices received"]
    # the items per notice are not in the data: empty, with a note
    assert t.NOTICE_VALUES[2] not in total and "items" in total["Contextual information on " + t.NOTICE_VALUES[2]]


def test_missing_notices_leave_the_sheet_empty_with_a_note_never_zeros():
    report = build({})
    sheet = report.sheet(t.S4)
    assert sheet.filled == 0
    assert all(row.get(h) in (None, "") for row in sheet.rows for h in t.NOTICE_VALUES)
    assert "dataset notices not in the data" in sheet.rows[0]["Contextual information on Number of notices received"]


def test_a_missing_action_basis_column_leaves_only_the_action_counts_empty():
    report = build({"notices": [notice("N1", "2025-08-01", decided_after_hours=2, category=UNSAFE,
                                       outcome="ACTION_TAKEN")]}, notices={"action_basis"})
    total = report.sheet(t.S4).rows[0]
    assert total[t.NOTICE_VALUES[0]] == 1 and t.NOTICE_VALUES[6] not in total
    assert "column notices.action_basis" in total["Contextual information on " + t.NOTICE_VALUES[6]]


# ---- 1.2 orders


def test_orders_by_category_and_member_state_with_censored_medians_refusals_left_out_of_effect():
    rows = [
        order("O1", "ACT", "2025-08-01", category=UNSAFE, member_state="FR", acknowledged_at="2025-08-01 02:00",
              effect_given_at="2025-08-01 10:00", outcome="GIVEN_EFFECT"),
        order("O2", "ACT", "2025-08-02", category=UNSAFE, member_state="DE", acknowledged_at="2025-08-02 04:00",
              outcome="REFUSED"),
        order("O3", "INFO", "2025-09-01", category=None, member_state="DE", acknowledged_at="2025-09-01 01:00",
              effect_given_at="2025-09-03", outcome="GIVEN_EFFECT"),
    ]
    report = build({"orders": rows})
    total = row(report, t.S3, **{t.ILLEGAL_COLUMN: t.TOTAL, "Scope": t.TOTAL})
    assert total[t.ORDER_VALUES[0]] == 2 and total[t.ORDER_VALUES[4]] == 1
    assert total[t.ORDER_VALUES[2]] == 3  # median of 2 h and 4 h
    assert total[t.ORDER_VALUES[3]] == 10  # the refused order is left out
    assert total[t.ORDER_VALUES[6]] == 48
    fr = row(report, t.S3, **{t.ILLEGAL_COLUMN: UNSAFE, "Scope": "FR"})
    assert fr[t.ORDER_VALUES[0]] == 1 and fr[t.ORDER_VALUES[3]] == 10
    assert row(report, t.S3, **{t.ILLEGAL_COLUMN: t.NOT_SPECIFIED_ORDER, "Scope": "DE"})[t.ORDER_VALUES[4]] == 1
    assert row(report, t.S3, **{t.ILLEGAL_COLUMN: t.TOTAL, "Scope": "AT"})[t.ORDER_VALUES[0]] == 0
    assert t.ORDER_VALUES[1] not in total  # items per order: not in the data
    scopes = [r["Scope"] for r in report.sheet(t.S3).rows if r[t.ILLEGAL_COLUMN] == t.TOTAL]
    assert scopes == [t.TOTAL, *t.MEMBER_STATES] and len(scopes) == 28


# ---- 1.4 own initiative


def test_own_initiative_counts_voluntary_sors_by_ground_category_and_restriction():
    rows = [
        sor("S1", "2025-08-01", category=UNSAFE, source_type="SOURCE_VOLUNTARY", automated_detection=True,
            decision_monetary="DECISION_MONETARY_SUSPENSION"),
        sor("S2", "2025-08-01", category=UNSAFE, source_type="SOURCE_VOLUNTARY", automated_detection=False,
            owes_decision_visibility_other=True),
        sor("S3", "2025-08-01", category=UNSAFE, source_type="SOURCE_ARTICLE_16"),  # after a notice
        sor("S4", "2025-08-01", ground="INCOMPATIBLE", category=t.OTHER_TC, source_type="SOURCE_VOLUNTARY",
            decision_monetary="DECISION_MONETARY_TERMINATION"),
    ]
    report = build({"statements_of_reasons": rows})
    illegal = row(report, t.S5, **{t.ILLEGAL_COLUMN: UNSAFE})
    assert (illegal[t.MEASURES], illegal[t.AUTOMATED_DETECTION]) == (2, 1)
    assert illegal["Visibility restriction Other"] == 1 and illegal["Monetary restriction Suspension"] == 1
    assert "Visibility restriction Removal" not in illegal  # not kept by the engine: empty, with a note
    terms = row(report, t.S6, **{t.TC_COLUMN: t.OTHER_TC})
    assert terms[t.MEASURES] == 1 and terms["Monetary restriction Termination"] == 1
    assert row(report, t.S6, **{t.TC_COLUMN: t.TOTAL})[t.MEASURES] == 1
    note = report.sheet(t.S5).rows[0]["Contextual Information on Visibility restriction Removal"]
    assert "decision_visibility" in note


# ---- 1.5 complaints, disputes, suspensions


def complaint(cid, received, decided=None, outcome="PENDING", puid=None):
    return {"complaint_id": cid, "received_at": ts(received), "decided_at": ts(decided) if decided else None,
            "outcome": outcome, "decision_puid": puid}


def test_complaints_outcomes_of_the_decided_omitted_the_undecided_median_days_censored():
    rows = [complaint("C1", "2025-08-01", "2025-08-03", "DECISION_UPHELD"),
            complaint("C2", "2025-08-01", "2025-08-05", "DECISION_REVERSED"),
            complaint("C3", "2025-12-30", "2026-01-05", "DECISION_UPHELD"),  # decided after period end: open
            complaint("C4", "2025-12-29")]
    report = build({"complaints": rows})
    scope = {s: value(report, t.COMPLAINTS_SECTION, t.COMPLAINTS, s, t.S7).get("Value")
             for s in (t.TOTAL_NUMBER, t.UPHELD, t.PARTIAL, t.REVERSED, t.MEDIAN, t.OMITTED)}
    assert scope == {t.TOTAL_NUMBER: 4, t.UPHELD: 1, t.PARTIAL: 0, t.REVERSED: 1, t.MEDIAN: pytest.approx(2.5),
                     t.OMITTED: 2}


def test_disputes_in_favour_of_provider_upheld_recipient_reversed_share_implemented():
    rows = [dispute("D1", "2025-09-01", "IN_FAVOUR_OF_RECIPIENT", implemented="2025-09-05"),
            dispute("D2", "2025-09-10", "IN_FAVOUR_OF_RECIPIENT"),
            dispute("D3", "2025-09-10", "IN_FAVOUR_OF_PROVIDER"),
            dispute("D4", "2025-09-10", "WITHDRAWN")]
    report = build({"odr_disputes": rows})
    got = {s: value(report, t.ODS_SECTION, t.DISPUTES, s, t.S7).get("Value")
           for s in (t.TOTAL_NUMBER, t.UPHELD, t.PARTIAL, t.REVERSED, t.MEDIAN, t.OMITTED, t.IMPLEMENTED)}
    assert got == {t.TOTAL_NUMBER: 4, t.UPHELD: 1, t.PARTIAL: None, t.REVERSED: 2, t.MEDIAN: 30, t.OMITTED: 1,
                   t.IMPLEMENTED: 0.5}


def test_suspensions_by_reason_count_only_suspensions_of_the_period():
    rows = [action("A1", "T1", "SUSPENSION", "2025-08-01", reason="ILLEGAL_CONTENT"),
            action("A2", "T2", "SUSPENSION", "2025-08-01", reason="HIDDEN_LINKS"),
            action("A3", "T3", "SUSPENSION", "2025-08-01", reason="UNFOUNDED_NOTICES"),
            action("A4", "T4", "TERMINATION", "2025-08-01", reason="ILLEGAL_CONTENT"),
            action("A5", "T5", "SUSPENSION", "2025-06-01", reason="ILLEGAL_CONTENT")]
    report = build({"enforcement_actions": rows})
    got = [value(report, t.SUSPENSIONS_SECTION, i, t.TOTAL_NUMBER, t.S7).get("Value") for i in t.SUSPENSIONS]
    assert got == [2, 1, 0]


def test_rows_for_online_platforms_are_not_filled_for_a_hosting_service():
    rows = [complaint("C1", "2025-08-01", "2025-08-03", "DECISION_UPHELD")]
    report = build({"complaints": rows, "enforcement_actions": [
        action("A1", "T1", "SUSPENSION", "2025-08-01", reason="ILLEGAL_CONTENT")]}, tier="HOSTING")
    assert value(report, t.COMPLAINTS_SECTION, t.COMPLAINTS, t.TOTAL_NUMBER)["Value"] == 1  # "All"
    upheld = value(report, t.COMPLAINTS_SECTION, t.COMPLAINTS, t.UPHELD)
    assert "Value" not in upheld and "Not filled" in upheld["Contextual Information"]
    assert "Value" not in value(report, t.SUSPENSIONS_SECTION, t.SUSPENSIONS[0], t.TOTAL_NUMBER)


# ---- 1.6 automated means


def test_automated_means_count_fully_and_not_automated_decisions_and_notices():
    rows = [sor("S1", "2025-08-01", automated_decision="AUTOMATED_DECISION_FULLY", source_type="SOURCE_VOLUNTARY"),
            sor("S2", "2025-08-01", automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
                source_type="SOURCE_ARTICLE_16"),
            sor("S3", "2025-08-01", automated_decision="AUTOMATED_DECISION_PARTIALLY",
                source_type="SOURCE_VOLUNTARY")]
    notices = [notice("N1", "2025-08-01", automated_decision="AUTOMATED_DECISION_FULLY",
                      source_type="SOURCE_TRUSTED_FLAGGER"),
               notice("N2", "2025-08-01", automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED")]
    complaints = [complaint("C1", "2025-08-02", "2025-08-03", "DECISION_REVERSED", puid="S1")]
    report = build({"statements_of_reasons": rows, "notices": notices, "complaints": complaints})
    get = lambda indicator, scope: value(report, t.AUTOMATED_SECTION, indicator, scope).get("Value")  # noqa: E731
    assert (get(t.SOLELY, t.TOTAL_NUMBER), get(t.NOT_AUTOMATED, t.TOTAL_NUMBER)) == (1, 1)
    assert (get(t.SOLELY, t.OWN_INITIATIVE), get(t.NOT_AUTOMATED, t.OWN_INITIATIVE)) == (1, 0)
    assert (get(t.NAM_SOLELY, t.NAM_TOTAL), get(t.NAM_NOT, t.NAM_TOTAL)) == (1, 1)
    assert (get(t.NAM_SOLELY, t.NAM_TF), get(t.NAM_NOT, t.NAM_TF)) == (1, 0)
    accuracy = value(report, t.AUTOMATED_SECTION, t.ACCURACY[0], t.TOTAL_NUMBER)
    assert "Value" not in accuracy and "1 of 1 complaints" in accuracy["Contextual Information"]


# ---- 1.7 and 1.8


def staff_rows(months, per_language):
    return [{"month": m, "language": lang, "staff": n} for m in months for lang, n in per_language.items()]


H2_MONTHS = [f"2025-{m:02d}" for m in range(7, 13)]


def test_human_resources_mean_fte_per_language_and_total():
    report = build({"moderation_staff": staff_rows(H2_MONTHS, {"de": 3.0, "fr": 1.5})})
    assert value(report, t.HR_SECTION, t.LINGUISTIC, t.TOTAL_NUMBER)["Value"] == 4.5
    assert value(report, t.HR_SECTION, t.LINGUISTIC, "de")["Value"] == 3.0
    assert value(report, t.HR_SECTION, t.LINGUISTIC, "sv")["Value"] == 0
    assert "Value" not in value(report, t.HR_SECTION, t.INTERNAL, t.TOTAL_NUMBER)


def test_a_month_without_staff_figures_leaves_human_resources_empty():
    report = build({"moderation_staff": staff_rows(H2_MONTHS[:5], {"de": 3.0})})
    total = value(report, t.HR_SECTION, t.LINGUISTIC, t.TOTAL_NUMBER)
    assert "Value" not in total and "2025-12" in total["Contextual information"]
    assert report.sheet(t.S9).filled == 0


def test_amar_means_over_the_months_total_and_per_member_state():
    rows = [{"month": m, "member_state": ms, "active_recipients": n} for m in H2_MONTHS
            for ms, n in (("DE", 100), ("FR", 50))]
    rows.append({"month": "2025-12", "member_state": "AT", "active_recipients": 6})
    report = build({"active_recipients": rows})
    assert value(report, t.AMAR_SECTION, t.AMAR, t.TOTAL)["Value"] == 151
    assert value(report, t.AMAR_SECTION, t.AMAR, "DE")["Value"] == 100
    at = value(report, t.AMAR_SECTION, t.AMAR, "AT")
    assert "Value" not in at and "2025-07" in at["Contextual information"]  # a figure missing, never a zero


def test_vlop_rows_are_not_filled_for_an_online_platform():
    rows = [{"month": m, "member_state": "DE", "active_recipients": 100} for m in H2_MONTHS]
    report = build({"active_recipients": rows, "moderation_staff": staff_rows(H2_MONTHS, {"de": 1.0})},
                   tier="PLATFORM")
    assert report.sheet(t.S9).filled == 0 and report.sheet(t.S10).filled == 0
    assert "Not filled" in value(report, t.AMAR_SECTION, t.AMAR, t.TOTAL)["Contextual information"]
    assert row(report, t.S11, Indicator=t.QUALITATIVE[6][1])["Value"].startswith("Not filled")


# ---- sheets 1 and 11: what the data cannot say


def test_identification_marks_period_version_and_the_previous_publication():
    registers = {"publications": [{"kind": "TRANSPARENCY_REPORT", "period": "2025-H1", "published_at": "2025-08-29"},
                                  {"kind": "ACTIVE_RECIPIENTS", "period": "2025-H2", "published_at": "2025-12-01"}]}
    report = build({}, registers=registers)
    values = {r["Indicator"]: r["Value"] for r in report.sheet(t.S1).rows}
    assert values["Starting date of reporting period"] == "2025-07-01"
    assert values["Ending date of reporting period"] == "2025-12-31"
    assert values["Date of the publication of the latest previous report"] == "2025-08-29"
    assert values["Version of the report"] == "v1" and values["Date of this version"] == "2026-01-20"
    assert values["Name of the service provider"] == t.TO_BE_COMPLETED


def test_qualitative_answers_come_from_the_file_and_are_never_invented():
    answers = t.parse_answers("Qualitative description of the automated means: Image matching.\n"
                              "summary of the content moderation engaged in at the providers' own initiative: "
                              "Reviews.\nName of the service provider: Example Market B.V.\n")
    report = build({}, answers=answers)
    values = {r["Indicator"]: r["Value"] for r in report.sheet(t.S11).rows}
    assert values["Qualitative description of the automated means"] == "Image matching."
    assert values[t.QUALITATIVE[0][1]] == "Reviews."  # matched whatever the apostrophe and case
    assert values["Safeguards applied to the use of automated means"].startswith(t.TO_BE_COMPLETED)
    assert row(report, t.S1, Indicator="Name of the service provider")["Value"] == "Example Market B.V."


@pytest.mark.parametrize("text, needle", [("Summary of everything: x", "Summary of everything"),
                                          ("Qualitative description of the automated means: ''", "non-empty"),
                                          ("- a list", "mapping"), ("a: [", "YAML")])
def test_an_unusable_answers_file_names_the_entry(text, needle):
    with pytest.raises(t.AnswersError, match=needle):
        t.parse_answers(text)


def test_config_key_transparency_qualitative_is_taken_from_the_configs_folder():
    doc = {"platform": "P", "tier": "VLOP", "transparency_qualitative": "answers.yaml"}
    assert parse_config(doc, origin="/etc/dsa/p.yaml").transparency_qualitative == "/etc/dsa/answers.yaml"
    assert parse_config(doc, origin="s3://b/config/p.yaml").transparency_qualitative == "s3://b/config/answers.yaml"
    assert parse_config({**doc, "transparency_qualitative": "s3://x/a.yaml"},
                        origin="/etc/p.yaml").transparency_qualitative == "s3://x/a.yaml"
    assert parse_config({"platform": "P", "tier": "VLOP"}).transparency_qualitative is None
    with pytest.raises(ConfigError, match="transparency_qualitative"):
        parse_config({**doc, "transparency_qualitative": 3})


# ---- comparison with a published report


def test_compare_lists_differing_and_missing_figures_but_not_the_published_rounding():
    rows = [notice(f"N{i}", "2025-08-01", decided_after_hours=h, category=UNSAFE)
            for i, h in enumerate((1.0, 2.0, 2.2))]
    report = build({"notices": rows})
    published = t.figures(report)
    key = (t.S4, (t.TOTAL,), t.NOTICE_VALUES[4])
    assert published[key] == pytest.approx(2.0)
    published[key] = "2.0"  # written with one decimal: equal
    assert t.compare(report, published) == []
    published[(t.S4, (t.TOTAL,), t.NOTICE_VALUES[0])] = "4"
    del published[(t.S4, (UNSAFE,), t.NOTICE_VALUES[0])]
    found = {(d.key[1], d.key[2]): d.kind for d in t.compare(report, published)}
    assert found == {((t.TOTAL,), t.NOTICE_VALUES[0]): "differs",
                     ((UNSAFE,), t.NOTICE_VALUES[0]): "missing in the published report"}
    assert t.compare(report, {**published, (t.S4, (t.TOTAL,), t.NOTICE_VALUES[0]): 3.1}, tolerance=0.05)[0].key[1] \
        == (UNSAFE,)


def test_keyword_rows_are_keyed_by_their_category():
    keys = [k for _, k, _ in t.cells(t.S4, build({}).sheet(t.S4).rows)]
    others = {k[1][0] for k in keys if k[1][0].endswith("KEYWORD_OTHER")}
    assert len(others) == 14 and f"{UNSAFE}/KEYWORD_OTHER" in others


def test_reconcile_compares_the_figures_with_the_findings_metrics():
    report = build({"notices": [notice("N1", "2025-08-01", decided_after_hours=3)]})
    metrics = {"notice_count": {"value": 1}, "notice_median_decision_hours": {"value": 4.0}}
    found = {r.figure: r.equal for r in t.reconcile(t.figures(report), metrics, H2)}
    assert found == {"notice_count": True, "notice_median_decision_hours": False}
    findings = [{"obligation_id": t.PRIOR_WARNING, "status": "FAIL",
                 "message": "Suspensions ... in the 365 days before (internal threshold): 1 of 12."}]
    last = t.reconcile(t.figures(report), metrics, H2, findings)[-1]
    assert last.findings == 12 and last.report is None and not last.equal


def test_half_year_months_of_a_range_period():
    assert len(t._months(parse_period("2025-07-01..2025-12-31"))) == 6
    assert t._months(H2) == [f"2025-{m:02d}" for m in range(7, 13)]


def test_reconciled_floats_are_equal_to_the_digits_a_spreadsheet_keeps():
    """openpyxl writes 16 significant digits: a median read back from the workbook is still the findings' one."""
    assert t.Reconciled("median", 110.5347222222222, 110.53472222222223).equal
    assert not t.Reconciled("median", 110.5347, 110.53472222222223).equal
    assert not t.Reconciled("count", None, 3).equal and t.Reconciled("count", 3, 3).equal
