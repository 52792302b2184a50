"""Statements of reasons: Art. 17(3) completeness, Art. 17 coverage, Art. 24(5) submission delay."""

from datetime import datetime, timedelta

import pytest

from tables import items, make_data, notice, outcome, ts
from tables import sor as bare_sor

COMPLETENESS = "DSA-17-SOR-COMPLETENESS"
COVERAGE = "DSA-17-SOR-COVERAGE"
DELAY = "DSA-24.5-SOR-SUBMISSION-DELAY"
LIGHT = {"statements_of_reasons": {"has_illegal_content_explanation", "has_incompatible_content_explanation",
                                   "has_decision_facts"}}  # what a light TDB dump lacks (and territorial_scope)


def sor(uid: str, applied: str, **columns) -> dict:
    """A SoR with every Art. 17(3) field it owes filled, decision_facts (17(3)(c)) included."""
    return bare_sor(uid, applied, **({"has_decision_facts": True} | columns))


def completeness(rows: list[dict], columns_absent: dict | None = None, **params):
    return outcome(
        COMPLETENESS, make_data({"statements_of_reasons": rows}, columns_absent=columns_absent), **params
    )


def test_complete_statements_pass():
    rows = [sor("S1", "2025-07-01"), sor("S2", "2025-08-01", ground="INCOMPATIBLE")]
    result = completeness(rows)
    assert result.status == "PASS"
    assert result.metric["value"] == 1.0 and result.metric["threshold"] == 0.999
    assert result.evidence == {"count": 0, "sample": [], "unverifiable": []}


def test_each_conditional_field_is_checked():
    rows = [
        sor("S01", "2025-07-02", has_illegal_content_legal_ground=False),
        sor("S02", "2025-07-02", has_illegal_content_explanation=False),
        sor("S03", "2025-07-02", ground="INCOMPATIBLE", has_incompatible_content_ground=False),
        sor("S04", "2025-07-02", ground="INCOMPATIBLE", has_incompatible_content_explanation=False),
        sor(
            "S05",
            "2025-07-02",
            owes_decision_visibility_other=True,
            has_decision_visibility_other=False,
        ),
        sor(
            "S06",
            "2025-07-02",
            decision_monetary="DECISION_MONETARY_OTHER",
            has_decision_monetary_other=False,
        ),
        sor(
            "S07",
            "2025-07-02",
            owes_content_type_other=True,
            has_content_type_other=False,
        ),
        sor(
            "S08",
            "2025-07-02",
            owes_category_specification_other=True,
            has_category_specification_other=False,
        ),
        # fields that are not owed may be empty
        sor(
            "S09",
            "2025-07-02",
            has_incompatible_content_ground=False,
            has_content_type_other=False,
            owes_content_type_other=False,
            owes_decision_visibility_other=False,
            has_decision_visibility_other=False,
        ),
        sor(
            "S10",
            "2025-07-02",
            owes_decision_visibility_other=True,
            has_decision_visibility_other=True,
        ),
    ]
    result = completeness(rows)
    assert result.status == "FAIL"
    assert result.metric["value"] == pytest.approx(2 / 10)
    assert [(i["platform_uid"], i["empty_fields"]) for i in items(result)] == [
        ("S01", ["illegal_content_legal_ground"]),
        ("S02", ["illegal_content_explanation"]),
        ("S03", ["incompatible_content_ground"]),
        ("S04", ["incompatible_content_explanation"]),
        ("S05", ["decision_visibility_other"]),
        ("S06", ["decision_monetary_other"]),
        ("S07", ["content_type_other"]),
        ("S08", ["category_specification_other"]),
    ]
    assert items(result)[0]["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert items(result)[0]["application_date"] == "2025-07-02T00:00:00"


def test_share_exactly_at_threshold_passes_below_fails():
    rows = [sor(f"S{n}", "2025-09-01") for n in range(9)]
    rows.append(sor("S9", "2025-09-01", has_illegal_content_explanation=False))
    assert completeness(rows, min_share=0.9).status == "PASS"  # 9/10 = 0.9
    rows[0]["has_illegal_content_legal_ground"] = False
    result = completeness(rows, min_share=0.9)
    assert result.status == "FAIL" and result.evidence["count"] == 2


def test_decision_facts_are_owed_by_every_statement():
    rows = [sor("S1", "2025-07-05", has_decision_facts=False),
            sor("S2", "2025-07-05", ground="INCOMPATIBLE", has_decision_facts=False), sor("S3", "2025-07-05")]
    result = completeness(rows)
    assert result.status == "FAIL" and result.metric["value"] == pytest.approx(1 / 3)
    assert [(i["platform_uid"], i["empty_fields"]) for i in items(result)] == [
        ("S1", ["decision_facts"]), ("S2", ["decision_facts"])]


def test_light_dump_is_insufficient_data_naming_the_unverifiable_owed_fields_never_pass():
    # a light TDB dump has no explanations and no decision_facts: the flags are NULL, the columns absent
    rows = [
        sor("S1", "2025-07-05", has_illegal_content_explanation=None, has_decision_facts=None),
        sor("S2", "2025-07-05", ground="INCOMPATIBLE", has_incompatible_content_explanation=None,
            has_decision_facts=None),
    ]
    result = completeness(rows, columns_absent=LIGHT)
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == [
        "column statements_of_reasons.decision_facts",
        "column statements_of_reasons.illegal_content_explanation",
        "column statements_of_reasons.incompatible_content_explanation",
    ]
    assert result.evidence["unverifiable"] == [
        "decision_facts", "illegal_content_explanation", "incompatible_content_explanation"]
    assert result.evidence["unverifiable_statements"] == 2 and result.evidence["count"] == 0
    assert result.metric is None
    assert "cannot be verified" in result.message and "decision_facts" in result.message
    assert "are owed by 2 of the 2 statements of reasons in the period" in result.message


def test_an_absent_field_nobody_owed_is_not_unverifiable():
    rows = [sor("S1", "2025-07-05", ground="INCOMPATIBLE", has_illegal_content_explanation=None)]
    absent = {"statements_of_reasons": {"has_illegal_content_explanation"}}
    result = completeness(rows, columns_absent=absent)
    assert result.status == "PASS" and result.evidence["unverifiable"] == []


def test_unverifiable_fields_do_not_hide_empty_ones():
    rows = [
        sor("S1", "2025-07-05", has_illegal_content_explanation=None, has_illegal_content_legal_ground=False)
    ]
    result = completeness(rows)
    assert result.status == "FAIL"
    assert items(result)[0]["empty_fields"] == ["illegal_content_legal_ground"]
    assert result.evidence["unverifiable"] == ["illegal_content_explanation"]
    assert "not verifiable (absent from the input): illegal_content_explanation" in result.message


def test_light_dump_that_already_fails_on_the_visible_fields_is_fail():
    rows = [sor(f"S{n}", "2025-07-05", has_decision_facts=None) for n in range(9)]
    rows.append(sor("S9", "2025-07-05", has_decision_facts=None, has_illegal_content_legal_ground=False))
    result = completeness(rows, columns_absent=LIGHT, min_share=0.95)
    assert result.status == "FAIL" and result.missing == []
    assert result.evidence["unverifiable"] == ["decision_facts"]
    assert completeness(rows, columns_absent=LIGHT, min_share=0.9).status == "INSUFFICIENT_DATA"  # 9/10 visible


def test_period_edges():
    bad = {"has_illegal_content_explanation": False}
    rows = [
        sor("S1", "2025-06-30 23:59:59", **bad),  # before the period
        sor("S2", "2025-07-01 00:00:00"),
        sor("S3", "2025-12-31 23:59:59"),
        sor("S4", "2026-01-01 00:00:00", **bad),  # after the period
    ]
    result = completeness(rows)
    assert result.status == "PASS" and "of 2 statements" in result.message
    rows[1].update(bad)
    assert completeness(rows).items[0]["platform_uid"] == "S2"


def test_sample_is_first_20_by_platform_uid():
    rows = [sor(f"S{n:03d}", "2025-07-01", has_illegal_content_explanation=False) for n in range(30, 0, -1)]
    result = completeness(rows)
    assert result.evidence["count"] == 30 and len(items(result)) == 30
    assert [i["platform_uid"] for i in result.evidence["sample"]] == [f"S{n:03d}" for n in range(1, 21)]


def test_no_statement_in_period_is_not_applicable():
    assert completeness([sor("S1", "2025-01-01")]).status == "NOT_APPLICABLE"


def test_missing_dataset_and_column():
    assert completeness([]).missing == ["dataset statements_of_reasons"]
    result = completeness(
        [sor("S1", "2025-07-01")], columns_absent={"statements_of_reasons": {"decision_ground"}}
    )
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == ["column statements_of_reasons.decision_ground"]


# ---- Art. 24(5) submission delay -----------------------------------------------------------------------


def submitted(uid: str, applied: str, created: datetime) -> dict:
    return sor(uid, applied, created_at=created)


def delay(rows: list[dict], **kw):
    return outcome(DELAY, make_data({"statements_of_reasons": rows}, **kw))


@pytest.mark.parametrize(
    ("days", "status"), [(0, "PASS"), (2, "PASS"), (3, "WARN"), (7, "WARN"), (8, "FAIL")]
)
def test_p95_thresholds(days, status):
    result = delay([submitted("S1", "2025-08-01 10:00", ts("2025-08-01 10:00") + timedelta(days=days))])
    assert result.status == status
    assert result.metric["name"] == "sor_submission_delay_p95_days" and result.metric["value"] == days


def test_delay_is_in_calendar_days():
    # 24 h 2 min, but two calendar days apart
    result = delay([submitted("S1", "2025-08-01 23:59", ts("2025-08-03 00:01"))])
    assert result.metric["value"] == 2 and result.status == "PASS"


def test_p95_interpolates_and_evidence_lists_statements_over_fail_days():
    rows = [submitted(f"S{n:02d}", "2025-08-01", ts("2025-08-01") + timedelta(days=n % 5)) for n in range(20)]
    rows.append(submitted("S99", "2025-08-01", ts("2025-08-21")))  # 20 days late
    rows.append(submitted("S98", "2025-08-01", ts("2025-08-09")))  # 8 days late
    result = delay(rows)
    # 22 delays; quantile_cont(0.95): position 0.95 * 21 = 19.95 between the 4 at [19] and the 8 at [20]
    assert sorted(n % 5 for n in range(20))[19] == 4
    assert result.metric["value"] == pytest.approx(4 + 0.95 * (8 - 4))
    assert result.status == "FAIL" and result.metric["threshold"] == 7
    assert [(i["platform_uid"], i["delay_days"]) for i in items(result)] == [("S99", 20), ("S98", 8)]  # longest first


def test_created_at_absent_is_insufficient_data():
    result = delay([sor("S1", "2025-08-01")], columns_absent={"statements_of_reasons": {"created_at"}})
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == ["column statements_of_reasons.created_at"]


def test_delay_not_applicable_without_statements_and_by_tier():
    assert delay([sor("S1", "2025-01-01", created_at=ts("2025-01-02"))]).status == "NOT_APPLICABLE"
    result = outcome(DELAY, make_data({}), tier="HOSTING", marketplace=False)
    assert result.status == "NOT_APPLICABLE" and "platform tier is HOSTING" in result.message


# ---- Art. 17 coverage ------------------------------------------------------------------------------------


def test_sor_coverage():
    notices = [notice(f"N{n}", "2025-07-10", outcome="ACTION_TAKEN") for n in range(3)]
    notices.append(notice("N9", "2025-07-10", outcome="NO_ACTION"))
    sors = [sor("S0", "2025-07-11", notice_id="N0"), sor("S1", "2025-07-11", notice_id="N1")]
    data = make_data({"notices": notices, "statements_of_reasons": sors})
    result = outcome(COVERAGE, data)
    assert result.status == "FAIL" and [i["notice_id"] for i in items(result)] == ["N2"]
    assert result.metric["value"] == pytest.approx(2 / 3)
    assert "internal threshold" in result.message
    assert outcome(COVERAGE, data, min_share=0.6).status == "PASS"


def test_sor_coverage_period_edges_and_share_exactly_at_min_share():
    notices = [
        notice("N0", "2025-06-30 23:59:59", outcome="ACTION_TAKEN"),  # before the period: not counted
        notice("N1", "2025-07-01 00:00:00", outcome="ACTION_TAKEN"),
        notice("N2", "2025-12-31 23:59:59", outcome="ACTION_TAKEN"),
        notice("N3", "2026-01-01 00:00:00", outcome="ACTION_TAKEN"),  # after the period: not counted
    ]
    sors = [sor("S1", "2026-01-05", notice_id="N1")]  # any SoR carrying the notice_id, whenever it is dated
    data = make_data({"notices": notices, "statements_of_reasons": sors})
    result = outcome(COVERAGE, data)
    assert result.status == "FAIL" and result.metric["value"] == 0.5
    assert [i["notice_id"] for i in items(result)] == ["N2"]
    assert outcome(COVERAGE, data, min_share=0.5).status == "PASS"  # exactly at the minimum


def taken(nid: str, item: str | None, received: str, decided: str | None) -> dict:
    return notice(nid, received, outcome="ACTION_TAKEN", item_id=item, decided_at=decided and ts(decided))


def test_sor_coverage_per_decision_a_sor_on_the_same_item_covers_its_notices():
    notices = [
        taken("N1", "I1", "2025-07-10 09:00", "2025-07-12 18:00"),  # one decision on two notices of I1 ...
        taken("N2", "I1", "2025-07-11 09:00", "2025-07-12 18:00"),  # ... is one SoR dated the day after
        taken("N3", "I2", "2025-07-10 09:00", "2025-07-12 18:00"),  # SoR two days after the decision: not his
        taken("N4", "I3", "2025-07-10 09:00", "2025-07-12 18:00"),  # SoR before the notice: not his
        taken("N5", "I4", "2025-07-10 09:00", "2025-07-10 10:00"),  # SoR on the day of receipt: covers
        taken("N6", "I5", "2025-07-10 09:00", None),  # no decision date: only its notice_id could match
    ]
    sors = [sor("S1", "2025-07-13 23:00", item_id="I1"), sor("S2", "2025-07-14 00:30", item_id="I2"),
            sor("S3", "2025-07-09 12:00", item_id="I3"), sor("S4", "2025-07-10 00:00", item_id="I4"),
            sor("S5", "2025-07-10 12:00", item_id="I5")]
    result = outcome(COVERAGE, make_data({"notices": notices, "statements_of_reasons": sors}))
    assert result.status == "FAIL" and result.metric["value"] == pytest.approx(3 / 6)
    assert [i["notice_id"] for i in items(result)] == ["N3", "N4", "N6"]
    assert items(result)[0] == {"notice_id": "N3", "received_at": "2025-07-10T09:00:00",
                                "decided_at": "2025-07-12T18:00:00", "item_id": "I2", "category": None}
    assert result.evidence["matched_by"] == ["notice_id", "item_id"]
    assert "same item" in result.message


def test_sor_coverage_without_item_id_matches_notice_id_only_and_says_so():
    notices = [taken("N1", "I1", "2025-07-10", "2025-07-11"), taken("N2", "I2", "2025-07-10", "2025-07-11")]
    sors = [sor("S1", "2025-07-11", item_id="I1"), sor("S2", "2025-07-11", notice_id="N2")]
    data = make_data({"notices": notices, "statements_of_reasons": sors},
                     columns_absent={"statements_of_reasons": {"item_id"}})
    result = outcome(COVERAGE, data)
    assert result.status == "FAIL" and [i["notice_id"] for i in items(result)] == ["N1"]
    assert result.evidence["matched_by"] == ["notice_id"]
    assert "column statements_of_reasons.item_id absent" in result.message
    assert "notice_id only" in result.message
    assert outcome(COVERAGE, make_data({"notices": notices, "statements_of_reasons": sors})).status == "PASS"


def test_sor_coverage_evidence_is_oldest_first():
    notices = [taken("A9", None, "2025-07-01", "2025-07-02"), taken("B1", None, "2025-09-01", "2025-09-02"),
               taken("A1", None, "2025-08-01", "2025-08-02"), taken("A0", None, "2025-08-01", "2025-08-02")]
    result = outcome(COVERAGE, make_data({"notices": notices, "statements_of_reasons": [sor("S", "2025-07-01")]}))
    assert [i["notice_id"] for i in items(result)] == ["A9", "A0", "A1", "B1"]


def test_sor_coverage_binds_every_hosting_service():
    notices = [taken("N1", None, "2025-07-10", "2025-07-11")]
    data = make_data({"notices": notices, "statements_of_reasons": [sor("S1", "2025-07-11")]})
    assert outcome(COVERAGE, data, tier="HOSTING", marketplace=False).status == "FAIL"


def test_submission_delay_counts_only_statements_dated_in_the_period():
    rows = [
        submitted("S0", "2025-06-30 23:59:59", ts("2025-07-30")),  # 30 days late, but before the period
        submitted("S1", "2025-07-01 00:00:00", ts("2025-07-01 08:00")),
        submitted("S2", "2025-12-31 23:59:59", ts("2026-01-01 00:30")),  # 1 calendar day
        submitted("S3", "2026-01-01 00:00:00", ts("2026-01-31")),  # after the period
    ]
    result = delay(rows)
    assert result.status == "PASS" and result.metric["value"] == pytest.approx(0.95)  # p95 of 0 and 1
    assert items(result) == []


def test_unsubmitted_statements_count_with_the_delay_reached_at_period_end():
    rows = [submitted(f"S{n}", "2025-12-01", ts("2025-12-01 10:00")) for n in range(9)]
    rows.append(sor("U1", "2025-12-20 08:00"))  # never submitted: 2026-01-01 - 2025-12-20 = 12 days at the cut-off
    result = delay(rows)
    # delays 0 x 9 and 12: p95 at position 0.95 * 9 = 8.55, between 0 and 12
    assert result.metric["value"] == pytest.approx(0.55 * 12)
    assert result.status == "WARN"
    assert result.evidence["unsubmitted"] == 1 and result.evidence["cutoff"] == "2026-01-01T00:00:00"
    assert items(result) == [{"platform_uid": "U1", "application_date": "2025-12-20T08:00:00", "created_at": None,
                              "submitted": False, "delay_days": 12}]
    assert "1 statement not submitted counted with the delay reached on 2026-01-01" in result.message
    assert "internal thresholds" in result.message


def test_nothing_submitted_is_a_fail_not_insufficient_data():
    result = delay([sor("U1", "2025-07-01"), sor("U2", "2025-08-01")])
    assert result.status == "FAIL" and result.metric["value"] == pytest.approx(153 + 0.95 * (184 - 153))
    assert [i["platform_uid"] for i in items(result)] == ["U1", "U2"]  # longest wait first


def test_the_cut_off_is_the_latest_created_at_when_later_than_period_end():
    rows = [sor("U1", "2025-12-30"), submitted("L1", "2026-01-20", ts("2026-01-25 13:00"))]  # a later SoR
    result = delay(rows)
    assert result.metric["value"] == 26  # 2026-01-25 - 2025-12-30
    assert result.evidence["cutoff"] == "2026-01-25T13:00:00"


def test_evidence_lists_unsubmitted_first_then_late_longest_first():
    rows = [
        submitted("L1", "2025-08-01", ts("2025-08-09")),  # 8 days
        submitted("L2", "2025-08-01", ts("2025-09-01")),  # 31 days
        submitted("OK", "2025-08-01", ts("2025-08-02")),  # 1 day: not listed
        sor("U2", "2025-12-29"),  # 3 days at the cut-off, still listed: not submitted
        sor("U1", "2025-12-01"),  # 31 days at the cut-off
        sor("U0", "2025-12-01"),  # tie: by platform_uid
    ]
    result = delay(rows)
    assert [(i["platform_uid"], i["delay_days"], i["submitted"]) for i in items(result)] == [
        ("U0", 31, False), ("U1", 31, False), ("U2", 3, False), ("L2", 31, True), ("L1", 8, True)]
    assert result.evidence["count"] == 5 and result.evidence["unsubmitted"] == 3
    assert "2 submitted more than 7 days after the decision" in result.message


def test_one_day_negative_delay_is_time_zone_skew_counted_as_zero():
    rows = [submitted("S1", "2025-08-02", ts("2025-08-01 23:30")), submitted("S2", "2025-08-02", ts("2025-08-02"))]
    result = delay(rows)
    assert result.metric["value"] == 0 and result.status == "PASS" and items(result) == []
