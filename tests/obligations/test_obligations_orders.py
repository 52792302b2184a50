"""Orders of Member State authorities: Art. 9(1) effect reported, Art. 10(1) receipt confirmed and information
given in time (obligations.md, "Obligations added in v2"). Period H2 2025: period end is 2026-01-01 00:00."""

from __future__ import annotations

import pytest

from tables import items, make_data, order, outcome

EFFECT = "DSA-9-EFFECT-REPORTED"
RECEIPT = "DSA-10-ORDER-RECEIPT"
INFORMATION = "DSA-10-INFORMATION-ORDERS"
FORBIDDEN = ("breach", "infringement", "violation")


def run(obligation_id: str, *orders: dict, columns_absent: set[str] | None = None, **params):
    data = make_data({"orders": list(orders)}, columns_absent={"orders": columns_absent or set()})
    return outcome(obligation_id, data, **params)


def worded_as_a_finding(result) -> None:
    assert not any(word in result.message.lower() for word in FORBIDDEN)


# ---- DSA-9-EFFECT-REPORTED --------------------------------------------------------------------------------


def given(oid: str, received: str, effect: str, reported: str | None, **columns) -> dict:
    return order(oid, "ACT", received, outcome="GIVEN_EFFECT", effect_given_at=effect, effect_reported_at=reported,
                 **columns)


def test_effect_reported_is_not_applicable_without_an_order_against_illegal_content_in_the_period():
    result = run(EFFECT, order("I1", "INFO", "2025-08-01"), given("A0", "2025-06-01", "2025-06-02", None))
    assert result.status == "NOT_APPLICABLE"
    assert result.message == "No order to act against illegal content was received in the period."


def test_effect_and_refusal_reported_within_the_internal_limit_pass():
    result = run(EFFECT,
                 given("A1", "2025-08-01 10:00", "2025-08-02 10:00", "2025-08-05 10:00"),  # exactly 72 hours
                 order("A2", "ACT", "2025-08-03", outcome="REFUSED", effect_reported_at="2025-08-20"))
    assert result.status == "PASS"
    assert result.evidence["count"] == 0 and result.metric["value"] == 0
    assert "72 hours (internal threshold)" in result.message
    worded_as_a_finding(result)


def test_effect_reported_after_the_internal_limit_warns():
    result = run(EFFECT, given("A1", "2025-08-01 10:00", "2025-08-02 10:00", "2025-08-05 11:00"))
    assert result.status == "WARN"
    (item,) = items(result)
    assert item["problems"] == ["reported_late"] and item["report_hours"] == 73
    assert result.evidence["reported_late"] == 1 and result.metric["value"] == 0


def test_effect_never_reported_by_period_end_fails_even_when_reported_after_it():
    result = run(EFFECT,
                 given("A1", "2025-08-01", "2025-08-02", None),
                 given("A2", "2025-12-01", "2025-12-02", "2026-01-05"))  # reported, but after period end
    assert result.status == "FAIL"
    assert [(i["order_id"], i["problems"]) for i in items(result)] == [
        ("A1", ["not_reported"]), ("A2", ["not_reported"])]
    assert items(result)[1]["report_hours"] == 30 * 24  # censored at period end
    assert result.metric == {"name": "orders_effect_unreported", "value": 2, "unit": "count", "comparator": "==",
                             "threshold": 0}
    worded_as_a_finding(result)


def test_a_refusal_without_a_time_is_checked_for_a_report_from_receipt_but_never_timed():
    unreported = run(EFFECT, order("A1", "ACT", "2025-08-01", outcome="REFUSED"))
    assert unreported.status == "FAIL" and items(unreported)[0]["problems"] == ["not_reported"]
    reported_weeks_later = run(EFFECT, order("A1", "ACT", "2025-08-01", outcome="REFUSED",
                                             effect_reported_at="2025-09-01"))
    assert reported_weeks_later.status == "PASS"


def test_a_report_not_yet_due_at_period_end_and_an_order_awaiting_effect_are_pending_not_offending():
    result = run(EFFECT,
                 given("A1", "2025-12-30", "2025-12-31 12:00", None),  # 12 hours before period end
                 order("A2", "ACT", "2025-12-20", outcome="PENDING"),
                 given("A3", "2025-12-01", "2026-01-02", None))  # effect given after the period
    assert result.status == "PASS"
    assert result.evidence["pending"]["count"] == 3
    assert [i["order_id"] for i in result.evidence["pending"]["sample"]] == ["A3", "A2", "A1"]


def test_an_effect_after_the_orders_own_deadline_or_none_past_it_is_listed_as_a_warning():
    result = run(EFFECT,
                 given("A1", "2025-08-01", "2025-08-05", "2025-08-05 01:00", deadline_at="2025-08-03"),
                 order("A2", "ACT", "2025-09-01", outcome="PENDING", deadline_at="2025-09-02",
                       effect_reported_at="2025-09-03"),  # the authority was told effect is not yet given
                 order("A3", "ACT", "2025-09-01", outcome="REFUSED", deadline_at="2025-09-02",
                       effect_reported_at="2025-09-02"),  # a refusal has no effect to be late with
                 given("A4", "2025-10-01", "2025-10-02", "2025-10-02", deadline_at="2025-10-03"))
    assert result.status == "WARN"
    assert [(i["order_id"], i["problems"], i["hours_past_deadline"]) for i in items(result)] == [
        ("A1", ["effect_after_deadline"], 48), ("A2", ["effect_after_deadline"], 121 * 24)]  # 2 Sep to period end
    assert result.evidence["effect_after_deadline"] == 2


def test_an_order_left_without_effect_past_its_deadline_and_unreported_fails():
    result = run(EFFECT, order("A1", "ACT", "2025-09-01", outcome="PENDING", deadline_at="2025-09-02"),
                 order("A2", "ACT", "2025-09-01", outcome="PENDING"))  # no deadline: nothing is due yet
    assert result.status == "FAIL"
    assert [(i["order_id"], i["problems"], i["report_hours"]) for i in items(result)] == [
        ("A1", ["not_reported", "effect_after_deadline"], None)]
    assert [i["order_id"] for i in result.evidence["pending"]["sample"]] == ["A2"]


def test_effect_reported_evidence_is_oldest_order_first_with_every_problem_named():
    result = run(EFFECT,
                 given("A9", "2025-07-02", "2025-07-10", "2025-07-20", deadline_at="2025-07-05"),
                 given("A1", "2025-09-01", "2025-09-02", None),
                 given("A5", "2025-07-02", "2025-07-03", None))
    assert result.status == "FAIL"
    assert [(i["order_id"], i["problems"]) for i in items(result)] == [
        ("A5", ["not_reported"]), ("A9", ["reported_late", "effect_after_deadline"]), ("A1", ["not_reported"])]
    assert (result.evidence["not_reported"], result.evidence["reported_late"]) == (2, 1)


def test_effect_reported_says_when_the_deadlines_could_not_be_checked():
    result = run(EFFECT, given("A1", "2025-08-01", "2025-08-02", "2025-08-02"), columns_absent={"deadline_at"})
    assert result.status == "PASS"
    assert "deadlines the orders set were not checked (column deadline_at absent)" in result.message


def test_effect_reported_limit_is_a_parameter():
    late = given("A1", "2025-08-01", "2025-08-02 00:00", "2025-08-03 01:00")  # 25 hours
    assert run(EFFECT, late).status == "PASS"
    assert run(EFFECT, late, report_hours=24).status == "WARN"


# ---- DSA-10-ORDER-RECEIPT ---------------------------------------------------------------------------------


def test_receipt_is_not_applicable_to_orders_against_illegal_content():
    result = run(RECEIPT, order("A1", "ACT", "2025-08-01"))  # Art. 9(1) asks for no receipt confirmation
    assert result.status == "NOT_APPLICABLE"
    assert result.message == "No order to provide information was received in the period."


def test_receipt_confirmed_within_the_internal_limit_passes():
    result = run(RECEIPT, order("I1", "INFO", "2025-08-01 10:00", acknowledged_at="2025-08-03 10:00"))
    assert result.status == "PASS" and result.evidence["count"] == 0
    assert "48 hours (internal threshold)" in result.message


def test_receipt_confirmed_late_warns():
    result = run(RECEIPT, order("I1", "INFO", "2025-08-01 10:00", acknowledged_at="2025-08-03 12:00"))
    assert result.status == "WARN"
    assert items(result) == [{"order_id": "I1", "received_at": "2025-08-01T10:00:00",
                              "acknowledged_at": "2025-08-03T12:00:00", "ack_hours": 50, "unconfirmed": False}]


def test_receipt_still_unconfirmed_at_period_end_fails_worst_first():
    result = run(RECEIPT,
                 order("I1", "INFO", "2025-12-01"),
                 order("I2", "INFO", "2025-11-01", acknowledged_at="2026-01-03"),  # after period end: open then
                 order("I3", "INFO", "2025-08-01", acknowledged_at="2025-08-04"),
                 order("I4", "INFO", "2025-12-31 12:00"))  # 12 hours old at period end: not yet due
    assert result.status == "FAIL"
    assert [(i["order_id"], i["ack_hours"], i["unconfirmed"]) for i in items(result)] == [
        ("I2", 61 * 24, True), ("I1", 31 * 24, True), ("I3", 72, False)]
    assert result.metric["value"] == 2
    assert [i["order_id"] for i in result.evidence["pending"]["sample"]] == ["I4"]
    worded_as_a_finding(result)


# ---- DSA-10-INFORMATION-ORDERS ----------------------------------------------------------------------------


def test_information_orders_not_applicable_without_one_or_when_all_were_refused():
    assert run(INFORMATION, order("A1", "ACT", "2025-08-01")).status == "NOT_APPLICABLE"
    refused = run(INFORMATION, order("I1", "INFO", "2025-08-01", outcome="REFUSED", deadline_at="2025-08-02"))
    assert refused.status == "NOT_APPLICABLE"


def test_information_given_by_the_deadline_passes_and_one_not_yet_due_is_pending():
    result = run(INFORMATION,
                 order("I1", "INFO", "2025-08-01", deadline_at="2025-08-10", outcome="GIVEN_EFFECT",
                       effect_given_at="2025-08-10"),
                 order("I2", "INFO", "2025-12-20", deadline_at="2026-01-15", outcome="PENDING"))
    assert result.status == "PASS"
    assert [i["order_id"] for i in result.evidence["pending"]["sample"]] == ["I2"]
    assert result.metric["name"] == "information_orders_past_deadline" and result.metric["value"] == 0


def test_information_given_after_the_deadline_or_still_missing_past_it_fails_longest_past_first():
    result = run(INFORMATION,
                 order("I1", "INFO", "2025-08-01", deadline_at="2025-08-10", outcome="GIVEN_EFFECT",
                       effect_given_at="2025-08-11"),
                 order("I2", "INFO", "2025-12-01", deadline_at="2025-12-21", outcome="PENDING"),
                 order("I3", "INFO", "2025-12-01", deadline_at="2025-12-21", outcome="GIVEN_EFFECT",
                       effect_given_at="2026-01-05"))  # given after period end: still missing at it
    assert result.status == "FAIL"
    assert [(i["order_id"], i["hours_past_deadline"]) for i in items(result)] == [
        ("I2", 11 * 24), ("I3", 11 * 24), ("I1", 24)]
    assert result.metric == {"name": "information_orders_past_deadline", "value": 3, "unit": "count",
                             "comparator": "==", "threshold": 0}
    worded_as_a_finding(result)


def test_information_orders_without_deadline_warn_on_a_censored_median_above_the_internal_limit():
    quick = order("I1", "INFO", "2025-12-01 00:00", outcome="GIVEN_EFFECT", effect_given_at="2025-12-01 10:00")
    waiting = order("I2", "INFO", "2025-12-20 00:00", outcome="PENDING")  # 12 days old at period end
    result = run(INFORMATION, quick, waiting)
    assert result.status == "WARN"  # the decided order alone has a median of 10 hours: the backlog counts
    assert result.metric == {"name": "information_order_median_hours_to_effect", "value": (10 + 288) / 2,
                             "unit": "hours", "comparator": "<=", "threshold": 72}
    assert [(i["order_id"], i["hours_to_effect"], i["without_effect"]) for i in items(result)] == [
        ("I2", 288, True)]
    assert "internal threshold" in result.message
    assert run(INFORMATION, quick).status == "PASS"


def test_information_median_limit_is_a_parameter():
    slow = order("I1", "INFO", "2025-08-01 00:00", outcome="GIVEN_EFFECT", effect_given_at="2025-08-03 00:00")
    assert run(INFORMATION, slow).status == "PASS"
    assert run(INFORMATION, slow, warn_median_hours=24).status == "WARN"


@pytest.mark.parametrize("obligation_id", [EFFECT, RECEIPT, INFORMATION])
def test_orders_of_another_period_are_not_judged(obligation_id):
    before = order("X1", "ACT" if obligation_id == EFFECT else "INFO", "2025-06-30 23:59")
    assert run(obligation_id, before).status == "NOT_APPLICABLE"
