"""The metrics layer: every contract name, values on tiny tables, null-with-reason when data is missing."""

from datetime import date, timedelta

import pytest

from dsa_report.obligations.evaluation import compute_metric, compute_metrics, metric_book
from dsa_report.obligations.metrics import METRICS, UnknownMetric, last_months, quantile_cont
from tables import H2, Q3, action, event, make_data, notice, sor, trader, ts

CONTRACT_METRICS = [
    "sor_count",
    "sor_submission_delay_p50_days",
    "sor_submission_delay_p95_days",
    "sor_automated_detection_share",
    "sor_fully_automated_share",
    "sor_illegal_ground_share",
    "notice_count",
    "notice_median_decision_hours",
    "trusted_flagger_median_decision_hours",
    "article16_median_decision_hours",
    "notice_ack_within_24h_share",
    "notice_backlog_count",
    "complaint_count",
    "complaint_median_resolution_days",
    "complaint_reversal_rate",
    "complaint_solely_automated_count",
    "repeat_infringers_unsuspended",
    "recidivism_rate",
    "kybc_complete_share",
    "kybc_verified_share",
    "reappearance_rate",
    "hidden_link_median_survival_days",
    "proactive_control_rate",
    "pre_listing_interception_rate",
    "avg_monthly_active_recipients_6m",
]
UNITS = {"count", "share", "hours", "days", "recipients"}


def test_every_contract_metric_is_computed_with_a_unit():
    assert [m.name for m in METRICS] == CONTRACT_METRICS
    metrics = compute_metrics(make_data({}), H2)
    assert list(metrics) == CONTRACT_METRICS
    assert {m["unit"] for m in metrics.values()} <= UNITS


def test_missing_data_gives_null_with_a_reason_never_zero():
    metrics = compute_metrics(make_data({}), H2)
    assert all(m["value"] is None for m in metrics.values())
    assert metrics["complaint_count"]["reason"] == "missing dataset complaints"
    assert "dataset statements_of_reasons" in metrics["repeat_infringers_unsuspended"]["reason"]
    data = make_data(
        {"notices": [notice("N1", "2025-08-01", decided_after_hours=3)]},
        columns_absent={"notices": {"acknowledged_at"}},
    )
    metrics = compute_metrics(data, H2)
    assert metrics["notice_ack_within_24h_share"] == {
        "value": None,
        "unit": "share",
        "reason": "missing column notices.acknowledged_at",
    }
    assert metrics["notice_count"] == {"value": 1, "unit": "count"}


def test_sor_metrics():
    rows = [
        sor(
            "S1",
            "2025-07-01 23:00",
            created_at=ts("2025-07-02 01:00"),
            automated_detection=True,
            automated_decision="AUTOMATED_DECISION_FULLY",
        ),
        sor(
            "S2",
            "2025-07-02",
            created_at=ts("2025-07-02"),
            automated_detection=False,
            automated_decision="AUTOMATED_DECISION_PARTIALLY",
        ),
        sor("S3", "2025-07-03", ground="INCOMPATIBLE", created_at=ts("2025-07-08"), automated_detection=True),
        sor("S4", "2025-07-04", created_at=ts("2025-07-14")),
        sor("S0", "2025-06-30", created_at=ts("2025-09-01")),  # before the period
    ]
    metrics = compute_metrics(make_data({"statements_of_reasons": rows}), H2)
    values = {k: v["value"] for k, v in metrics.items()}
    assert values["sor_count"] == 4
    # calendar-day delays 1, 0, 5, 10: p50 = 3, p95 = 5 + 0.85 * 5
    assert values["sor_submission_delay_p50_days"] == 3
    assert values["sor_submission_delay_p95_days"] == pytest.approx(9.25)
    assert values["sor_automated_detection_share"] == pytest.approx(2 / 3)  # over the 3 that say
    assert values["sor_fully_automated_share"] == 0.5
    assert values["sor_illegal_ground_share"] == 0.75


def test_sor_delay_metrics_count_unsubmitted_at_the_cut_off_and_one_day_skew_as_zero():
    rows = [
        sor("S1", "2025-07-02", created_at=ts("2025-07-01 23:00")),  # -1 day: time-zone skew, counted as 0
        sor("S2", "2025-07-02", created_at=ts("2025-07-04")),  # 2 days
        sor("U1", "2025-12-29 10:00"),  # not submitted: 3 days reached at period end (2026-01-01)
    ]
    values = {k: v["value"] for k, v in compute_metrics(make_data({"statements_of_reasons": rows}), H2).items()}
    assert values["sor_submission_delay_p50_days"] == 2
    assert values["sor_submission_delay_p95_days"] == pytest.approx(2 + 0.9 * (3 - 2))
    rows.append(sor("L1", "2026-01-03", created_at=ts("2026-01-09 08:00")))  # the data's latest submission
    values = {k: v["value"] for k, v in compute_metrics(make_data({"statements_of_reasons": rows}), H2).items()}
    assert values["sor_submission_delay_p95_days"] == pytest.approx(2 + 0.9 * (11 - 2))  # U1: 2026-01-09
    only_unsubmitted = make_data({"statements_of_reasons": [sor("U1", "2025-12-29")]})
    assert compute_metric(only_unsubmitted, H2, "sor_submission_delay_p50_days")["value"] == 3


def test_zero_denominators_are_null_with_reason_but_counts_are_zero():
    data = make_data({"statements_of_reasons": [sor("S0", "2025-01-01", created_at=ts("2025-01-01"))]})
    metrics = compute_metrics(data, H2)
    assert metrics["sor_count"] == {"value": 0, "unit": "count"}
    assert metrics["sor_illegal_ground_share"]["value"] is None
    assert "no statement of reasons in the period" in metrics["sor_illegal_ground_share"]["reason"]
    assert metrics["sor_submission_delay_p95_days"]["value"] is None


def test_notice_metrics():
    tf = {"source_type": "SOURCE_TRUSTED_FLAGGER"}
    rows = [
        notice(
            "N1", "2025-07-01 00:00", decided_after_hours=10, acknowledged_at=ts("2025-07-02 00:00"), **tf
        ),
        notice("N2", "2025-07-01 00:00", decided_after_hours=20, acknowledged_at=ts("2025-07-02 00:00:01")),
        notice("N3", "2025-07-01 00:00", decided_after_hours=40),
        notice("N4", "2025-12-01 00:00"),  # undecided, older than 7 days at period end: 744 hours then
        notice("N5", "2025-12-30 00:00"),  # undecided, too recent for the backlog: 48 hours then
    ]
    values = {k: v["value"] for k, v in compute_metrics(make_data({"notices": rows}), H2).items()}
    assert values["notice_count"] == 5
    assert values["notice_median_decision_hours"] == 40  # censored: median of 10, 20, 40, 744, 48
    assert values["trusted_flagger_median_decision_hours"] == 10
    assert values["article16_median_decision_hours"] == 44  # median of 20, 40, 744, 48
    assert values["notice_ack_within_24h_share"] == pytest.approx(1 / 5)
    assert values["notice_backlog_count"] == 1  # N4; N5 is only a day old


def test_notice_medians_are_censored_at_period_end_and_exist_with_nothing_decided():
    tf = {"source_type": "SOURCE_TRUSTED_FLAGGER"}
    rows = [
        notice("T1", "2025-12-31 12:00", decided_after_hours=100, **tf),  # decided after period end: 12 hours
        notice("A1", "2025-12-31 00:00"),  # undecided: 24 hours
    ]
    values = {k: v["value"] for k, v in compute_metrics(make_data({"notices": rows}), H2).items()}
    assert values["notice_median_decision_hours"] == 18
    assert values["trusted_flagger_median_decision_hours"] == 12
    assert values["article16_median_decision_hours"] == 24
    empty = compute_metrics(make_data({"notices": [notice("N0", "2025-01-01", decided_after_hours=1)]}), H2)
    assert empty["trusted_flagger_median_decision_hours"] == {
        "value": None, "unit": "hours", "reason": "no trusted-flagger notice received in the period"}


def test_ack_metric_counts_only_notices_owed_a_confirmation():
    acked = {"acknowledged_at": ts("2025-07-01 01:00")}
    rows = [
        notice("N1", "2025-07-01 00:00", notifier_contact_provided=True, **acked),
        notice("N2", "2025-07-01 00:00", notifier_contact_provided=None),  # unknown: owed, not acknowledged
        notice("N3", "2025-07-01 00:00", notifier_contact_provided=False),  # no contact details: not owed
    ]
    assert compute_metric(make_data({"notices": rows}), H2, "notice_ack_within_24h_share")["value"] == 0.5
    nobody = make_data({"notices": rows[2:]})
    assert compute_metric(nobody, H2, "notice_ack_within_24h_share") == {
        "value": None, "unit": "share", "reason": "no notice owed a confirmation of receipt in the period"}


def test_backlog_metric_follows_the_timeliness_parameter():
    data = make_data({"notices": [notice("N1", "2025-12-20")]})
    assert compute_metric(data, H2, "notice_backlog_count")["value"] == 1
    params = {"DSA-16-NOTICE-TIMELINESS": {"backlog_days": 14}}
    assert compute_metric(data, H2, "notice_backlog_count", params)["value"] == 0


def test_complaint_metrics():
    def complaint(cid, received, days, outcome, automated=False):
        decided = ts(received) + timedelta(days=days) if days is not None else None
        return {
            "complaint_id": cid,
            "received_at": ts(received),
            "decided_at": decided,
            "outcome": outcome,
            "decided_solely_automated": automated,
        }

    rows = [
        complaint("C1", "2025-08-01", 2, "DECISION_UPHELD"),
        complaint("C2", "2025-08-01", 4.5, "DECISION_REVERSED", automated=True),
        complaint("C3", "2025-08-01", 10, "DECISION_PARTIALLY_REVERSED"),
        complaint("C4", "2025-08-01", None, "PENDING"),
        complaint("C0", "2025-01-01", 1, "DECISION_REVERSED", automated=True),
    ]  # before the period
    values = {k: v["value"] for k, v in compute_metrics(make_data({"complaints": rows}), H2).items()}
    assert values["complaint_count"] == 4
    assert values["complaint_median_resolution_days"] == 7.25  # 2, 4.5, 10 and C4's 153 days at period end
    assert values["complaint_reversal_rate"] == pytest.approx(2 / 3)
    assert values["complaint_solely_automated_count"] == 1


def test_recidivism_rate():
    actions = [
        action("R1", "T1", "REINSTATEMENT", "2025-08-01 10:00"),
        action("R2", "T2", "REINSTATEMENT", "2025-08-01 10:00"),
        action("R3", "T3", "REINSTATEMENT", "2025-01-01"),
    ]  # before the period
    sors = [
        sor("S1", "2025-10-30", trader_id="T1"),  # 90 days after: relapse
        sor("S2", "2025-10-31", trader_id="T2"),  # 91 days after: not counted
        sor("S3", "2025-08-02", trader_id="T3"),
    ]
    data = make_data({"enforcement_actions": actions, "statements_of_reasons": sors})
    assert compute_metric(data, H2, "recidivism_rate")["value"] == 0.5
    nobody = make_data({"enforcement_actions": actions[2:], "statements_of_reasons": sors})
    assert compute_metric(nobody, H2, "recidivism_rate") == {
        "value": None,
        "unit": "share",
        "reason": "no trader reinstated in the period",
    }


def test_trader_metrics():
    traders = [
        trader("T1"),
        trader("T2", kyc_payment_account=False, kyc_verified_at=ts("2025-01-01")),
        trader("T3", live_listings=0, kyc_contact=False),
        trader("T4", status="TERMINATED"),
        trader("T5", live_listings=None, kyc_trade_register=False),  # unknown listings count as live
    ]
    values = {k: v["value"] for k, v in compute_metrics(make_data({"traders": traders}), H2).items()}
    assert values["kybc_complete_share"] == pytest.approx(1 / 3)  # in scope: T1 complete, T2 and T5 not
    assert values["kybc_verified_share"] == pytest.approx(1 / 4)  # ACTIVE: T1, T2, T3, T5


def test_listing_metrics():
    rows = [
        event("E1", "I1", "LISTED", "2025-07-01 00:00", hidden_link=True),
        event("E2", "I1", "REMOVED", "2025-07-03 12:00", detection="PROACTIVE"),
        event("E3", "I2", "LISTED", "2025-07-01"),
        event("E4", "I2", "REMOVED", "2025-07-02", detection="NOTICE"),
        event("E5", "I3", "BLOCKED_PRE_LISTING", "2025-07-05", detection="PROACTIVE"),
        event("E6", "I4", "REAPPEARED", "2025-07-10", reappearance_of="I2"),
        event("E7", "I5", "REMOVED", "2025-06-01", detection="NOTICE"),  # before the period
    ]
    values = {k: v["value"] for k, v in compute_metrics(make_data({"listing_events": rows}), H2).items()}
    assert values["reappearance_rate"] == 0.5
    assert values["hidden_link_median_survival_days"] == 2.5
    assert values["proactive_control_rate"] == pytest.approx(2 / 3)
    assert values["pre_listing_interception_rate"] == pytest.approx(1 / 3)


def test_hidden_link_survival_is_censored_at_period_end_and_runs_from_the_latest_listing():
    rows = [
        event("E1", "I1", "LISTED", "2025-07-01", hidden_link=True),
        event("E2", "I1", "REAPPEARED", "2025-07-09"),  # back online: the latest listing before the removal
        event("E3", "I1", "REMOVED", "2025-07-10"),  # 1 day (v1: 9 days from the first LISTED)
        event("E4", "I2", "LISTED", "2025-12-29", hidden_link=True),  # still online: 3 days at period end
        event("E5", "I3", "LISTED", "2025-06-01", hidden_link=True),  # still online since before the period
        event("E6", "I3", "REMOVED", "2026-01-05"),  # removed after the period: 214 days at period end
    ]
    metric = compute_metrics(make_data({"listing_events": rows}), H2)["hidden_link_median_survival_days"]
    assert metric == {"value": 3.0, "unit": "days"}
    listed_only = make_data({"listing_events": rows[:1]})  # listed 1 July, still online at the end of Q3
    assert compute_metrics(listed_only, Q3)["hidden_link_median_survival_days"]["value"] == 92


def test_average_monthly_active_recipients_over_six_months():
    assert last_months(date(2025, 9, 30)) == [
        "2025-04",
        "2025-05",
        "2025-06",
        "2025-07",
        "2025-08",
        "2025-09",
    ]
    rows = [
        {"month": f"2025-{m:02d}", "member_state": s, "active_recipients": m * 1000}
        for m in range(1, 13)
        for s in ("DE", "FR")
    ]
    data = make_data({"active_recipients": rows})
    assert compute_metric(data, Q3, "avg_monthly_active_recipients_6m")["value"] == pytest.approx(13_000)
    outside = [{"month": r["month"], "member_state": s, "active_recipients": 10**6} for r in rows[::2]
               for s in ("GB", "EL", "NO")]  # not EU Member States (Greece is GR)
    data = make_data({"active_recipients": rows + outside})
    assert compute_metric(data, Q3, "avg_monthly_active_recipients_6m")["value"] == pytest.approx(13_000)
    gap = make_data({"active_recipients": [r for r in rows if r["month"] != "2025-05"]})
    result = compute_metric(gap, Q3, "avg_monthly_active_recipients_6m")
    assert result["value"] is None and "2025-05" in result["reason"]


def test_repeat_infringer_metric_uses_the_obligation_parameters():
    sors = [sor(f"S{n}", f"2025-08-0{n + 1}", trader_id="T1", item_id=f"I{n}") for n in range(2)]
    data = make_data(
        {"statements_of_reasons": sors, "enforcement_actions": [action("W1", "T9", "WARNING", "2025-01-01")]}
    )
    assert compute_metric(data, H2, "repeat_infringers_unsuspended")["value"] == 0
    params = {"DSA-23.1-REPEAT-INFRINGER-SUSPENSION": {"min_items": 2}}
    assert compute_metric(data, H2, "repeat_infringers_unsuspended", params)["value"] == 1


def test_one_metric_computes_only_its_scan():
    book = metric_book(make_data({"notices": [notice("N1", "2025-08-01", decided_after_hours=1)]}), H2)
    assert book.get("notice_median_decision_hours")["value"] == 1
    assert set(book._facts) == {"notices"}
    with pytest.raises(UnknownMetric):
        book.get("no_such_metric")


@pytest.mark.parametrize("values", [[3.0], [1.0, 4.0], [5.0, 1.0, 2.5], [0.5, 9.0, 2.0, 7.25, 3.0, 3.0]])
def test_python_quantile_matches_sql_quantile_cont(values):
    con = make_data({}).con
    for q in (0.5, 0.95):
        ((expected,),) = con.execute(
            "SELECT quantile_cont(v, $q) FROM (SELECT unnest($values) AS v)", {"q": q, "values": values}
        ).fetchall()
        assert quantile_cont(values, q) == pytest.approx(expected, rel=1e-12)
