"""Notice and action: Art. 16 acknowledgement and timeliness, Art. 22 trusted flaggers, Art. 23(2)."""

from datetime import timedelta

import pytest

from tables import items, make_data, notice, outcome, ts

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


def test_median_of_decided_notices_received_in_the_period():
    rows = [
        notice("N1", "2025-07-01 00:00", decided_after_hours=10),
        notice("N2", "2025-12-31 23:59", decided_after_hours=30),  # decided after period end: counts
        notice("N3", "2025-08-01", decided_after_hours=None),  # pending: not in the median
        notice("N4", "2025-06-30 23:59", decided_after_hours=500),  # received before the period
        notice("N5", "2026-01-01 00:00", decided_after_hours=500),  # received after the period
    ]
    result = run(TIMELINESS, rows)
    assert result.metric["value"] == 20  # median of 10 and 30
    assert result.status == "PASS"
    assert "of 2 decided notices" in result.message


def test_backlog_is_undecided_at_period_end_and_older_than_backlog_days():
    rows = [
        notice("N1", "2025-08-01", decided_after_hours=5),
        notice("B1", "2025-12-23 23:00"),  # 8 calendar days old on 31 Dec: backlog
        notice("B2", "2025-12-24 00:00"),  # 7 days: not yet
        notice("B3", "2025-12-01", decided_at=ts("2026-01-05")),  # decided only after period end: backlog
        notice("B0", "2025-05-01"),  # received before the period, still open: backlog
    ]
    result = run(TIMELINESS, rows)
    assert [(i["notice_id"], i["age_days"]) for i in items(result)] == [("B0", 244), ("B1", 8), ("B3", 30)]
    assert result.evidence["count"] == 3 and "3 notices older than 7 days" in result.message


def test_evidence_names_the_slowest_categories():
    cat = "STATEMENT_CATEGORY_"
    rows = [
        notice("N1", "2025-08-01", decided_after_hours=100, category=cat + "SCAMS_AND_FRAUD"),
        notice("N2", "2025-08-01", decided_after_hours=120, category=cat + "SCAMS_AND_FRAUD"),
        notice("N3", "2025-08-01", decided_after_hours=2, category=cat + "ANIMAL_WELFARE"),
    ]
    result = run(TIMELINESS, rows)
    assert result.status == "FAIL"
    assert result.evidence["slowest_categories"] == [
        {"category": cat + "SCAMS_AND_FRAUD", "decided": 2, "median_hours": 110.0},
        {"category": cat + "ANIMAL_WELFARE", "decided": 1, "median_hours": 2.0},
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


def flagged(hours_tf: list[float], hours_a16: list[float]) -> list[dict]:
    rows = [
        notice(f"TF{n}", "2025-09-01 09:00", decided_after_hours=h, source_type="SOURCE_TRUSTED_FLAGGER")
        for n, h in enumerate(hours_tf)
    ]
    return rows + [
        notice(f"A{n}", "2025-09-01 09:00", decided_after_hours=h) for n, h in enumerate(hours_a16)
    ]


@pytest.mark.parametrize(
    ("tf", "a16", "status"),
    [
        ([10], [40], "PASS"),
        ([20], [40], "PASS"),  # exactly max_ratio times
        ([21], [40], "WARN"),
        ([40], [40], "WARN"),  # same wait: no priority, but not longer
        ([41], [40], "FAIL"),
    ],
)
def test_trusted_flagger_priority(tf, a16, status):
    result = run(PRIORITY, flagged(tf, a16))
    assert result.status == status
    assert result.metric["value"] == tf[0]


def test_trusted_flagger_evidence_lists_those_slower_than_article_16():
    result = run(PRIORITY, flagged([5, 30, 60, 45, 40], [40, 40]))
    assert result.status == "WARN"  # median 40, not longer than 40 but above 0.5 * 40
    assert [i["notice_id"] for i in items(result)] == ["TF2", "TF3"]  # 60 and 45 hours
    assert result.evidence["count"] == 2 and "2 waited longer" in result.message
    assert items(run(PRIORITY, flagged([5, 10], [40]))) == []


def test_trusted_flagger_not_applicable_without_their_notices():
    result = run(PRIORITY, flagged([], [40]))
    assert result.status == "NOT_APPLICABLE"
    assert "trusted-flagger" in result.message


def test_trusted_flagger_needs_source_type():
    result = run(PRIORITY, flagged([1], [40]), columns_absent={"notices": {"source_type"}})
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["column notices.source_type"]


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
    assert [i["notice_id"] for i in items(result)] == ["N2", "N3"]
    assert run("DSA-16-NOTICE-ACKNOWLEDGEMENT", rows, ack_hours=48, min_share=0.6).status == "PASS"


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


def test_complaint_timeliness_counts_complaints_received_in_the_period():
    rows = [
        complaint("C0", "2025-06-30 23:59:59", decided_after_days=100),  # before the period
        complaint("C1", "2025-07-01 00:00:00", decided_after_days=2),
        complaint("C2", "2025-12-31 23:59:59", decided_after_days=20),  # decided after period end: counts
        complaint("C3", "2026-01-01 00:00:00", decided_after_days=100),  # after the period
        complaint("C4", "2025-08-01"),  # undecided: not in the median
    ]
    result = complaints("DSA-20-COMPLAINT-TIMELINESS", rows)
    assert result.metric["value"] == pytest.approx(11) and result.status == "WARN"  # median of 2 and 20
    assert [i["complaint_id"] for i in items(result)] == ["C2"]  # longer than fail_median_days


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


def test_reversal_rate_exactly_at_warn_rate_passes():
    outcomes = ["DECISION_REVERSED", "DECISION_UPHELD", "DECISION_UPHELD", "DECISION_UPHELD"]
    rows = [complaint(f"C{n}", "2025-08-01", decided_after_days=1, outcome=o) for n, o in enumerate(outcomes)]
    result = complaints("DSA-20-REVERSAL-RATE", rows)
    assert result.status == "PASS" and result.metric["value"] == 0.25
    rows[1]["outcome"] = "DECISION_PARTIALLY_REVERSED"  # partial reversals count too
    assert complaints("DSA-20-REVERSAL-RATE", rows).status == "WARN"
    pending = [complaint("C9", "2025-08-01", outcome="PENDING")]
    assert complaints("DSA-20-REVERSAL-RATE", pending).status == "NOT_APPLICABLE"
