"""Notice and action: Art. 16 acknowledgement and timeliness, Art. 22 trusted flaggers, Art. 23(2)."""

from datetime import timedelta

import pytest

from dsa_report.obligations.evaluation import compute_metrics
from tables import H2, items, make_data, notice, outcome, ts

TIMELINESS = "DSA-16-NOTICE-TIMELINESS"
PRIORITY = "DSA-22-TRUSTED-FLAGGER-PRIORITY"


def run(obligation: str, rows: list[dict], **kw):
    columns_absent = kw.pop("columns_absent", None)
    return outcome(obligation, make_data({"notices": rows}, columns_absent=columns_absent), **kw)


@pytest.mark.parametrize(("hours", "status"), [(24, "PASS"), (24.5, "WARN"), (72, "WARN"), (73, "FAIL")])
def test_median_thresholds(hours, status):
    result = run(TIMELINESS, [notice("N1", "2025-08-01 08:00", decided_after_hours=hours)])
    assert result.status == status
    assert result.metric["name"] == "notice_median_decision_hours" and result.metric["value"] == hours


def test_median_counts_undecided_notices_with_their_age_at_period_end():
    rows = [
        notice("N1", "2025-07-01 00:00", decided_after_hours=10),
        notice("N2", "2025-12-31 20:00", decided_after_hours=30),  # decided after period end: 4 hours by then
        notice("N3", "2025-12-01 00:00"),  # undecided: 744 hours at period end
        notice("N4", "2025-06-30 23:59", decided_after_hours=500),  # received before the period
        notice("N5", "2026-01-01 00:00", decided_after_hours=500),  # received after the period
    ]
    result = run(TIMELINESS, rows)
    assert result.metric["value"] == 10  # median of 10, 4 and 744
    assert result.status == "PASS"
    assert "of the 3 notices received in the period is 10 hours, a lower bound: the 2 undecided at period end" \
        in result.message


def test_a_backlog_of_undecided_notices_never_makes_the_median_look_better():
    decided = [notice("N1", "2025-08-01", decided_after_hours=10), notice("N2", "2025-08-01", decided_after_hours=20)]
    assert run(TIMELINESS, decided).status == "PASS"
    backlog = [notice("B1", "2025-12-01 00:00"), notice("B2", "2025-12-01 00:00")]  # 744 hours at period end
    result = run(TIMELINESS, decided + backlog)
    assert result.status == "FAIL" and result.metric["value"] == 382  # median of 10, 20, 744, 744


def test_notices_none_of_which_is_decided_are_judged_by_their_age():
    result = run(TIMELINESS, [notice("N1", "2025-12-30 00:00"), notice("N2", "2025-12-31 00:00")])
    assert result.status == "WARN" and result.metric["value"] == 36  # 48 and 24 hours old at period end


def test_backlog_is_undecided_at_period_end_and_older_than_backlog_days():
    rows = [
        notice("N1", "2025-08-01", decided_after_hours=5),
        notice("B1", "2025-12-23 23:00"),  # 8 calendar days old on 31 Dec: backlog
        notice("B2", "2025-12-24 00:00"),  # 7 days: not yet
        notice("B3", "2025-12-01", decided_at=ts("2026-01-05")),  # decided only after period end: backlog
        notice("B0", "2025-05-01"),  # received before the period, still open: backlog
    ]
    result = run(TIMELINESS, rows)
    assert [(i["notice_id"], i["age_days"]) for i in items(result)] == [("B0", 244), ("B3", 30), ("B1", 8)]
    assert result.evidence["count"] == 3
    assert "3 notices undecided at period end and older than 7 days (internal threshold)" in (
        result.message)


def test_backlog_ties_are_broken_by_notice_id():
    rows = [notice(n, "2025-11-01 10:00") for n in ("B2", "B1", "B3")]
    assert [i["notice_id"] for i in items(run(TIMELINESS, rows))] == ["B1", "B2", "B3"]


def test_evidence_names_the_slowest_categories_with_censored_medians():
    cat = "STATEMENT_CATEGORY_"
    rows = [
        notice("N1", "2025-08-01", decided_after_hours=100, category=cat + "SCAMS_AND_FRAUD"),
        notice("N2", "2025-08-01", decided_after_hours=120, category=cat + "SCAMS_AND_FRAUD"),
        notice("N3", "2025-08-01", decided_after_hours=2, category=cat + "ANIMAL_WELFARE"),
        notice("N4", "2025-12-30", category=cat + "ANIMAL_WELFARE"),  # undecided: 48 hours at period end
        notice("N5", "2025-12-31", category=cat + "VIOLENCE"),  # undecided: 24 hours, nothing decided
    ]
    result = run(TIMELINESS, rows)
    assert result.status == "WARN" and result.metric["value"] == 48  # median of 100, 120, 2, 48, 24
    assert result.evidence["slowest_categories"] == [
        {"category": cat + "SCAMS_AND_FRAUD", "notices": 2, "undecided": 0, "median_hours": 110.0},
        {"category": cat + "ANIMAL_WELFARE", "notices": 2, "undecided": 1, "median_hours": 25.0},
        {"category": cat + "VIOLENCE", "notices": 1, "undecided": 1, "median_hours": 24.0},
    ]
    assert "slowest category STATEMENT_CATEGORY_SCAMS_AND_FRAUD" in result.message


def test_timeliness_not_applicable_and_insufficient():
    assert run(TIMELINESS, [notice("N1", "2025-01-01", decided_after_hours=1)]).status == "NOT_APPLICABLE"
    result = run(
        TIMELINESS,
        [notice("N1", "2025-08-01", decided_after_hours=1)],
        columns_absent={"notices": {"decided_at"}},
    )
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["column notices.decided_at"]


def test_backlog_days_is_a_parameter():
    rows = [notice("N1", "2025-08-01", decided_after_hours=1), notice("B1", "2025-12-20")]
    assert run(TIMELINESS, rows).evidence["count"] == 1
    assert run(TIMELINESS, rows, backlog_days=14).evidence["count"] == 0


# ---- Art. 22 -------------------------------------------------------------------------------------------

CAT = "STATEMENT_CATEGORY_"
SCAMS, PRODUCTS = CAT + "SCAMS_AND_FRAUD", CAT + "UNSAFE_AND_PROHIBITED_PRODUCTS"


def flagged(hours_tf: list[float | None], hours_a16: list[float | None], category: str | None = SCAMS,
            prefix: str = "") -> list[dict]:
    """Trusted-flagger and Art. 16 notices of one category received on 1 Sep (None: still undecided)."""
    def one(nid: str, hours: float | None, **columns) -> dict:
        return notice(nid, "2025-09-01 09:00", decided_after_hours=hours, category=category, **columns)

    return ([one(f"{prefix}TF{n:02d}", h, source_type="SOURCE_TRUSTED_FLAGGER") for n, h in enumerate(hours_tf)]
            + [one(f"{prefix}A{n:02d}", h) for n, h in enumerate(hours_a16)])


@pytest.mark.parametrize(
    ("tf", "status"),
    [(10, "PASS"), (20, "PASS"), (21, "WARN"), (40, "WARN"), (41, "FAIL")],  # against 40 hours for Art. 16
)
def test_trusted_flagger_priority_thresholds_on_the_ratio(tf, status):
    result = run(PRIORITY, flagged([tf] * 10, [40] * 10))
    assert result.status == status
    assert result.metric["name"] == "trusted_flagger_weighted_ratio"
    assert result.metric["value"] == pytest.approx(tf / 40)
    assert result.metric["threshold"] == (1 if status == "FAIL" else 0.5)


def test_trusted_flaggers_are_compared_within_each_category():
    """Trusted flaggers flag mostly easy cases: overall their median is far below the Art. 16 one, yet in
    each category they wait longer than others for the same kind of content."""
    rows = (flagged([6] * 30, [5] * 10, category=SCAMS, prefix="E")
            + flagged([120] * 10, [100] * 30, category=PRODUCTS, prefix="H"))
    data = make_data({"notices": rows})
    result = outcome(PRIORITY, data)
    assert result.status == "FAIL" and result.metric["value"] == pytest.approx(1.2)
    metrics = compute_metrics(data, H2)
    assert metrics["trusted_flagger_median_decision_hours"]["value"] == 6
    assert metrics["article16_median_decision_hours"]["value"] == 100


def test_the_ratio_is_weighted_by_trusted_flagger_notices_and_categories_are_listed_worst_first():
    rows = (flagged([80] * 10, [40] * 10, category=PRODUCTS, prefix="P")  # ratio 2
            + flagged([8] * 30, [40] * 10, category=SCAMS, prefix="S"))  # ratio 0.2
    result = run(PRIORITY, rows)
    assert result.metric["value"] == pytest.approx((10 * 2 + 30 * 0.2) / 40)  # 0.65
    assert result.status == "WARN"
    assert items(result) == [{"category": PRODUCTS, "trusted_flagger_notices": 10, "article16_notices": 10,
                              "trusted_flagger_median_hours": 80.0, "article16_median_hours": 40.0, "ratio": 2.0}]
    assert result.evidence["count"] == 1
    assert [c["category"] for c in result.evidence["pending"]["sample"]] == [SCAMS]
    assert f"worst {PRODUCTS} (80 hours against 40 hours)" in result.message


def test_undecided_trusted_flagger_notices_count_with_their_age_at_period_end():
    result = run(PRIORITY, flagged([None] * 10, [40] * 10))  # 2,919 hours old at period end
    assert result.status == "FAIL" and result.metric["value"] == pytest.approx(2919 / 40)


def test_trusted_flagger_insufficient_data_when_no_category_has_enough_of_both():
    rows = flagged([10] * 9, [40] * 10) + flagged([10] * 10, [40] * 9, category=PRODUCTS, prefix="P")
    rows += flagged([10] * 12, [40] * 12, category=None, prefix="X")  # no category: never compared
    result = run(PRIORITY, rows)
    assert result.status == "INSUFFICIENT_DATA"
    assert result.message.startswith("No category has at least 10 trusted-flagger and 10 Article 16 notices")
    assert "31 trusted-flagger notices in 3 categories not compared" in result.message
    assert result.missing == ["a notice category with at least 10 trusted-flagger and 10 Article 16 notices"]
    assert result.evidence["not_compared"] == [
        {"category": None, "trusted_flagger_notices": 12, "article16_notices": 12},
        {"category": PRODUCTS, "trusted_flagger_notices": 10, "article16_notices": 9},
        {"category": SCAMS, "trusted_flagger_notices": 9, "article16_notices": 10},
    ]
    decided = run(PRIORITY, rows, min_notices=9)
    assert decided.status == "PASS" and len(decided.evidence["pending"]["sample"]) == 2
    assert "12 trusted-flagger notices in 1 category with fewer notices not compared" in decided.message


def test_an_instant_article_16_median_makes_any_trusted_flagger_wait_a_fail():
    result = run(PRIORITY, flagged([1] * 10, [0] * 10))
    assert result.status == "FAIL" and result.metric["value"] is None
    assert run(PRIORITY, flagged([0] * 10, [0] * 10)).status == "PASS"


def test_trusted_flagger_not_applicable_without_their_notices():
    result = run(PRIORITY, flagged([], [40] * 10))
    assert result.status == "NOT_APPLICABLE"
    assert "trusted-flagger" in result.message


def test_trusted_flagger_needs_source_type_and_category():
    for column in ("source_type", "category"):
        result = run(PRIORITY, flagged([1] * 10, [40] * 10), columns_absent={"notices": {column}})
        assert result.status == "INSUFFICIENT_DATA" and result.missing == [f"column notices.{column}"]


# ---- Art. 16(4) acknowledgement, Art. 23(2) -------------------------------------------------------------


def test_acknowledgement_within_24_hours():
    start = ts("2025-07-15 10:00")
    rows = [
        notice("N1", "2025-07-15 10:00", acknowledged_at=start + timedelta(hours=24)),
        notice("N2", "2025-07-15 10:00", acknowledged_at=start + timedelta(hours=24, seconds=1)),
        notice("N3", "2025-07-15 10:00"),
    ]
    result = run("DSA-16-NOTICE-ACKNOWLEDGEMENT", rows)
    assert result.status == "FAIL" and result.metric["value"] == pytest.approx(1 / 3)
    assert result.metric["name"] == "notice_ack_within_24h_share"
    assert [i["notice_id"] for i in items(result)] == ["N3", "N2"]  # never acknowledged first
    assert run("DSA-16-NOTICE-ACKNOWLEDGEMENT", rows, ack_hours=48, min_share=0.6).status == "PASS"


def test_late_acknowledgements_are_listed_never_acknowledged_oldest_first_then_longest_delay():
    rows = [
        notice("L1", "2025-07-15 10:00", acknowledged_at=ts("2025-07-17 10:00")),  # 48 hours
        notice("L2", "2025-07-10 10:00", acknowledged_at=ts("2025-07-13 10:00")),  # 72 hours
        notice("L3", "2025-07-20 10:00", acknowledged_at=ts("2025-07-22 10:00")),  # 48 hours: tie, by id
        notice("U1", "2025-08-01"),
        notice("U2", "2025-07-01"),
    ]
    result = run("DSA-16-NOTICE-ACKNOWLEDGEMENT", rows)
    assert [i["notice_id"] for i in items(result)] == ["U2", "U1", "L2", "L1", "L3"]


def test_acknowledgement_is_owed_only_to_notifiers_who_gave_contact_details():
    acked = {"acknowledged_at": ts("2025-07-15 11:00")}
    rows = [
        notice("N1", "2025-07-15 10:00", notifier_contact_provided=True, **acked),
        notice("N2", "2025-07-15 10:00", notifier_contact_provided=None, **acked),  # unknown: owed
        notice("N3", "2025-07-15 10:00", notifier_contact_provided=False),  # no contact: nothing owed
        notice("N4", "2025-07-15 10:00", notifier_contact_provided=False),
    ]
    result = run("DSA-16-NOTICE-ACKNOWLEDGEMENT", rows)
    assert result.status == "PASS" and result.metric["value"] == 1
    assert items(result) == [] and result.evidence["without_contact_details"] == 2
    assert result.message.startswith("100% of 2 notices received in the period whose notifier gave electronic "
                                     "contact details were acknowledged")
    assert "2 notices without contact details owed no confirmation" in result.message
    unknown = [notice("N5", "2025-07-15 10:00", notifier_contact_provided=None)]
    assert [i["notice_id"] for i in items(run("DSA-16-NOTICE-ACKNOWLEDGEMENT", rows + unknown))] == ["N5"]


def test_without_the_contact_column_every_notice_is_owed_and_the_message_says_so():
    rows = [notice("N1", "2025-07-15 10:00", acknowledged_at=ts("2025-07-15 11:00")), notice("N2", "2025-07-15")]
    result = run("DSA-16-NOTICE-ACKNOWLEDGEMENT", rows, columns_absent={"notices": {"notifier_contact_provided"}})
    assert result.status == "FAIL" and result.metric["value"] == 0.5
    assert "notifier_contact_provided is absent from the input, so every notice counts as owed" in result.message
    assert "without_contact_details" not in result.evidence


def test_acknowledgement_not_applicable_when_no_notifier_gave_contact_details():
    rows = [notice("N1", "2025-07-15 10:00", notifier_contact_provided=False)]
    result = run("DSA-16-NOTICE-ACKNOWLEDGEMENT", rows)
    assert result.status == "NOT_APPLICABLE" and "no notifier gave electronic contact details" in result.message


def test_unfounded_notifiers():
    unfounded = [
        notice(f"U{n}", f"2025-0{7 + n // 3}-{10 + n}", notifier_id="X", outcome="MANIFESTLY_UNFOUNDED")
        for n in range(5)
    ]
    result = run("DSA-23.2-UNFOUNDED-NOTIFIERS", unfounded)
    assert result.status == "WARN"
    assert items(result) == [
        {"notifier_id": "X", "threshold_date": "2025-08-14", "max_unfounded_in_window": 5}
    ]
    assert run("DSA-23.2-UNFOUNDED-NOTIFIERS", unfounded[:4]).status == "PASS"
    assert "internal thresholds" in result.message


def test_acknowledgement_share_exactly_at_min_share_and_period_edges():
    acked = {"acknowledged_at": ts("2025-07-01 01:00")}
    rows = [notice(f"N{n:02d}", "2025-07-01 00:00", **acked) for n in range(99)]
    rows.append(notice("LATE", "2025-12-31 23:59:59"))  # last second of the period, never acknowledged
    rows.append(notice("OUT1", "2025-06-30 23:59:59"))  # outside the period: not counted
    rows.append(notice("OUT2", "2026-01-01 00:00:00"))
    result = run("DSA-16-NOTICE-ACKNOWLEDGEMENT", rows)
    assert result.status == "PASS" and result.metric["value"] == 0.99  # 99 of 100: exactly the minimum
    assert [i["notice_id"] for i in items(result)] == ["LATE"]
    rows[0] = notice("N00", "2025-07-01 00:00")
    assert run("DSA-16-NOTICE-ACKNOWLEDGEMENT", rows).status == "FAIL"  # 98 of 100


def unfounded(notifier: str, days: list[str]) -> list[dict]:
    return [
        notice(f"{notifier}-{n}", day, notifier_id=notifier, outcome="MANIFESTLY_UNFOUNDED")
        for n, day in enumerate(days)
    ]


def test_unfounded_notifiers_window_edge():
    inside = ["2025-08-01", "2025-08-10", "2025-08-20", "2025-09-01", "2025-10-29"]  # first to last: 89 days
    outside = ["2025-08-01", "2025-08-10", "2025-08-20", "2025-09-01", "2025-10-30"]  # 90 days: not in one window
    result = run("DSA-23.2-UNFOUNDED-NOTIFIERS", unfounded("X", inside) + unfounded("Y", outside))
    assert result.status == "WARN"
    assert items(result) == [{"notifier_id": "X", "threshold_date": "2025-10-29", "max_unfounded_in_window": 5}]
    assert run("DSA-23.2-UNFOUNDED-NOTIFIERS", unfounded("Y", outside), window_days=91).status == "WARN"


def test_unfounded_notifiers_are_listed_most_unfounded_first():
    result = run("DSA-23.2-UNFOUNDED-NOTIFIERS", unfounded("A", [f"2025-08-{d:02d}" for d in range(1, 6)])
                 + unfounded("B", [f"2025-08-{d:02d}" for d in range(1, 8)])
                 + unfounded("C", [f"2025-08-{d:02d}" for d in range(1, 8)]))
    assert [(i["notifier_id"], i["max_unfounded_in_window"]) for i in items(result)] == [
        ("B", 7), ("C", 7), ("A", 5)]


def test_unfounded_notifiers_history_counts_but_the_window_must_end_in_the_period():
    ordinary = [notice("N1", "2025-08-01", decided_after_hours=1)]
    before = ["2025-05-01", "2025-05-10", "2025-06-01", "2025-06-20", "2025-06-30 23:59"]
    result = run("DSA-23.2-UNFOUNDED-NOTIFIERS", ordinary + unfounded("X", before))
    assert result.status == "PASS"  # reached in the previous period: judged there
    straddling = [*before[1:], "2025-07-01 00:00"]
    result = run("DSA-23.2-UNFOUNDED-NOTIFIERS", ordinary + unfounded("X", straddling))
    assert result.status == "WARN" and items(result)[0]["threshold_date"] == "2025-07-01"


# ---- Art. 20 complaints (redress against notice-and-action decisions) ------------------------------------


def complaint(cid: str, received: str, *, decided_after_days: float | None = None, **columns) -> dict:
    row = {"complaint_id": cid, "received_at": ts(received)}
    if decided_after_days is not None:
        row["decided_at"] = ts(received) + timedelta(days=decided_after_days)
    return row | columns


def complaints(obligation: str, rows: list[dict], **kw):
    return outcome(obligation, make_data({"complaints": rows}), **kw)


@pytest.mark.parametrize(("days", "status"), [(7, "PASS"), (7.01, "WARN"), (14, "WARN"), (14.01, "FAIL")])
def test_complaint_median_thresholds(days, status):
    result = complaints("DSA-20-COMPLAINT-TIMELINESS", [complaint("C1", "2025-09-01", decided_after_days=days)])
    assert result.status == status
    assert result.metric["name"] == "complaint_median_resolution_days"
    assert result.metric["value"] == pytest.approx(days)


def test_complaint_timeliness_counts_undecided_complaints_with_their_age_at_period_end():
    rows = [
        complaint("C0", "2025-06-30 23:59:59", decided_after_days=100),  # before the period, decided
        complaint("C1", "2025-07-01 00:00:00", decided_after_days=2),
        complaint("C2", "2025-12-30 00:00:00", decided_after_days=20),  # decided after period end: 2 days then
        complaint("C3", "2026-01-01 00:00:00", decided_after_days=100),  # after the period
        complaint("C4", "2025-12-01"),  # undecided: 31 days at period end
        complaint("C5", "2025-12-01", decided_after_days=40),  # decided after period end: 31 days then
    ]
    result = complaints("DSA-20-COMPLAINT-TIMELINESS", rows)
    assert result.metric["value"] == pytest.approx(16.5) and result.status == "FAIL"  # median of 2, 2, 31, 31
    assert "a lower bound: the 3 undecided at period end count with their age then" in result.message


def test_complaint_evidence_is_the_oldest_undecided_complaints():
    rows = [
        complaint("C1", "2025-08-01", decided_after_days=1),
        complaint("OLD", "2025-03-01"),  # received before the period, still undecided: listed first
        complaint("U2", "2025-11-01"),
        complaint("U1", "2025-11-01"),  # same age: by id
        complaint("NEW", "2025-12-28"),  # 4 days old at period end: pending, not offending
        complaint("DONE", "2025-03-01", decided_after_days=30),
    ]
    result = complaints("DSA-20-COMPLAINT-TIMELINESS", rows)
    assert [(i["complaint_id"], round(i["age_days"])) for i in items(result)] == [
        ("OLD", 306), ("U1", 61), ("U2", 61)]
    assert result.evidence["pending"]["count"] == 1
    assert result.evidence["pending"]["sample"][0]["complaint_id"] == "NEW"
    assert "3 complaints undecided at period end and older than 7 days" in result.message


def test_complaints_decided_solely_by_automated_means_fail():
    rows = [
        complaint("C1", "2025-07-01 00:00:00", decided_after_days=1, decided_solely_automated=True),
        complaint("C2", "2025-08-01", decided_after_days=1, decided_solely_automated=False),
        complaint("C3", "2025-06-30 23:59:59", decided_after_days=1, decided_solely_automated=True),  # before
    ]
    result = complaints("DSA-20.6-HUMAN-REVIEW", rows)
    assert result.status == "FAIL" and [i["complaint_id"] for i in items(result)] == ["C1"]
    assert result.metric["value"] == 1
    assert complaints("DSA-20.6-HUMAN-REVIEW", rows[1:]).status == "PASS"


def test_a_decided_complaint_without_automation_flag_is_unknown_never_human():
    rows = [
        complaint("C1", "2025-08-01", decided_after_days=1, decided_solely_automated=False),
        complaint("C2", "2025-08-01", decided_after_days=1),  # decided, flag null: unknown
        complaint("C3", "2025-08-02", decided_after_days=1),
        complaint("C4", "2025-08-03"),  # not decided yet: nothing to know
    ]
    result = complaints("DSA-20.6-HUMAN-REVIEW", rows)
    assert result.status == "WARN" and [i["complaint_id"] for i in items(result)] == ["C2", "C3"]
    assert "2 decided without saying whether a person took part" in result.message
    automated = [complaint("C5", "2025-08-01", decided_after_days=1, decided_solely_automated=True)]
    result = complaints("DSA-20.6-HUMAN-REVIEW", rows + automated)
    assert result.status == "FAIL" and [i["complaint_id"] for i in items(result)] == ["C5"]
    assert result.evidence["unknown_automation"] == 2
    assert complaints("DSA-20.6-HUMAN-REVIEW", [rows[0], rows[3]]).status == "PASS"


def test_reversal_rate_exactly_at_warn_rate_passes():
    outcomes = ["DECISION_REVERSED", "DECISION_UPHELD", "DECISION_UPHELD", "DECISION_UPHELD"]
    rows = [complaint(f"C{n}", "2025-08-01", decided_after_days=1, outcome=o) for n, o in enumerate(outcomes)]
    result = complaints("DSA-20-REVERSAL-RATE", rows)
    assert result.status == "PASS" and result.metric["value"] == 0.25
    rows[1]["outcome"] = "DECISION_PARTIALLY_REVERSED"  # partial reversals count too
    assert complaints("DSA-20-REVERSAL-RATE", rows).status == "WARN"
    pending = [complaint("C9", "2025-08-01", outcome="PENDING")]
    assert complaints("DSA-20-REVERSAL-RATE", pending).status == "NOT_APPLICABLE"
