"""Out-of-court dispute decisions implemented (Arts 21(2), 24(1)(a), advisory) and buyers of illegal products
informed (Art. 32) (obligations.md, "Obligations added in v2"). Period H2 2025: period end is 2026-01-01."""

from __future__ import annotations

from tables import buyers, dispute, items, make_data, outcome

ODS = "DSA-21-ODS-IMPLEMENTATION"
BUYERS = "DSA-32-BUYERS-INFORMED"
FORBIDDEN = ("breach", "infringement", "violation")


def ods(*disputes: dict, **params):
    return outcome(ODS, make_data({"odr_disputes": list(disputes)}), **params)


def informed(*rows: dict, **params):
    return outcome(BUYERS, make_data({"buyer_notifications": list(rows)}), **params)


# ---- DSA-21-ODS-IMPLEMENTATION ----------------------------------------------------------------------------


def test_ods_not_applicable_without_a_decision_in_the_recipients_favour_closed_in_the_period():
    result = ods(dispute("D1", "2025-08-01", "IN_FAVOUR_OF_PROVIDER"), dispute("D2", None, "PENDING"),
                 dispute("D3", "2025-06-30", implemented=None))
    assert result.status == "NOT_APPLICABLE"


def test_ods_decisions_implemented_within_the_internal_limit_pass_stating_the_share():
    result = ods(dispute("D1", "2025-08-01", implemented="2025-08-15"), dispute("D2", "2025-09-01",
                                                                                implemented="2025-09-02"))
    assert result.status == "PASS"
    assert result.metric == {"name": "odr_decisions_implemented_share", "value": 1.0, "unit": "share",
                             "comparator": ">=", "threshold": None}
    assert result.message.startswith("100% of the 2 out-of-court decisions in the recipient's favour")
    assert "14 days (internal threshold)" in result.message and "not binding (Art. 21(2))" in result.message


def test_ods_decisions_implemented_late_or_not_at_all_warn_and_never_fail():
    result = ods(dispute("D1", "2025-08-01", implemented="2025-08-21"),  # 20 days
                 dispute("D2", "2025-11-01"),  # never: 61 days at period end
                 dispute("D3", "2025-10-01", implemented="2026-01-10"),  # after period end: counted as not yet
                 dispute("D4", "2025-12-25"),  # 7 days at period end: still within the grace period
                 dispute("D5", "2025-09-01", implemented="2025-09-03"))
    assert result.status == "WARN"
    assert [(i["dispute_id"], i["days_to_implement"], i["not_implemented"]) for i in items(result)] == [
        ("D3", 92, True), ("D2", 61, True), ("D1", 20, False)]
    assert result.metric["value"] == 2 / 5  # D1 and D5 implemented by period end
    assert result.message.startswith("40% of the 5 out-of-court decisions")
    assert [i["dispute_id"] for i in result.evidence["pending"]["sample"]] == ["D4"]
    assert not any(word in result.message.lower() for word in FORBIDDEN)


def test_ods_grace_is_a_parameter():
    late = dispute("D1", "2025-08-01", implemented="2025-08-11")
    assert ods(late).status == "PASS"
    assert ods(late, grace_days=7).status == "WARN"


# ---- DSA-32-BUYERS-INFORMED -------------------------------------------------------------------------------


def test_buyers_not_applicable_when_nothing_is_in_scope():
    result = informed(buyers("P0", "2025-05-01", 10, 10, 10, notified_at="2025-05-05"))  # handled before
    assert result.status == "NOT_APPLICABLE"
    assert informed(buyers("P9", "2026-01-01", 10, 10, 0)).status == "NOT_APPLICABLE"  # after the period


def test_buyers_informed_individually_and_by_public_notice_in_time_pass():
    result = informed(buyers("P1", "2025-08-01", 120, 100, 100, "2025-08-03", "2025-08-04"),
                      buyers("P2", "2025-08-01", 50, 50, 50, "2025-08-02"),  # all reachable: no public notice owed
                      buyers("P3", "2025-08-01", 30, 0, 0, None, "2025-08-02"),  # nobody reachable: notice only
                      buyers("P4", "2025-08-01", 0, 0, 0))  # nobody bought it: nothing owed
    assert result.status == "PASS" and result.evidence["count"] == 0
    assert "14 days (internal threshold; the law sets no deadline)" in result.message


def test_buyers_still_uninformed_at_period_end_fail_most_uninformed_first():
    result = informed(buyers("P1", "2025-08-01", 120, 100, 60, "2025-08-03", "2025-08-04"),  # 40 not told
                      buyers("P2", "2025-08-01", 500, 100, 100, "2025-08-03"),  # no public notice: 400
                      buyers("P3", "2025-09-01", 80, 80, 80, "2026-01-04"),  # told after period end: 80
                      buyers("P4", "2025-09-01", None, 10, 10, "2025-09-02"))  # unknown buyers: notice owed
    assert result.status == "FAIL"
    assert [(i["item_id"], i["uninformed"], i["state"]) for i in items(result)] == [
        ("P2", 400, "unhandled"), ("P3", 80, "unhandled"), ("P1", 40, "unhandled"), ("P4", None, "unhandled")]
    assert result.metric == {"name": "illegal_products_buyers_uninformed", "value": 4, "unit": "count",
                             "comparator": "==", "threshold": 0}
    assert not any(word in result.message.lower() for word in FORBIDDEN)


def test_buyers_informed_later_than_the_internal_limit_warn():
    result = informed(buyers("P1", "2025-08-01", 100, 80, 80, "2025-08-03", "2025-08-21"))  # notice: 20 days
    assert result.status == "WARN"
    (item,) = items(result)
    assert (item["state"], item["handled_at"], item["days"], item["uninformed"]) == (
        "late", "2025-08-21T00:00:00", 20, 0)
    assert informed(buyers("P1", "2025-08-01", 100, 80, 80, "2025-08-03", "2025-08-21"),
                    grace_days=30).status == "PASS"


def test_buyers_of_earlier_products_still_unhandled_are_carried_over():
    result = informed(buyers("P1", "2025-05-01", 10, 10, 0),  # unhandled since May
                      buyers("P2", "2025-05-01", 10, 10, 10, "2025-07-10"),  # handled in the period, late
                      buyers("P3", "2025-05-01", 10, 10, 10, "2025-05-05"))  # handled before: out of scope
    assert result.status == "FAIL"
    assert [(i["item_id"], i["state"], i["carried_over"]) for i in items(result)] == [
        ("P1", "unhandled", True), ("P2", "late", True)]
    assert "Of 2 illegal products in scope (2 from before the period)" in result.message


def test_buyers_awareness_just_before_period_end_is_pending_and_unknown_counts_are_never_done():
    result = informed(buyers("P1", "2025-12-28", 10, 10, 0))
    assert result.status == "PASS"
    assert [i["item_id"] for i in result.evidence["pending"]["sample"]] == ["P1"]
    unknown = informed(buyers("P2", "2025-08-01", 10, None, None, "2025-08-02", "2025-08-02"))
    assert unknown.status == "FAIL" and items(unknown)[0]["uninformed"] is None
