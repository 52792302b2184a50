"""Art. 23(1) repeat infringers and penalty policy, Art. 30 traceability (KYBC)."""

from datetime import date, timedelta

import pytest

from dsa_report.metrics import compute_metrics
from tables import H2, action, make_data, outcome, sor, trader

REPEAT = "DSA-23.1-REPEAT-INFRINGER-SUSPENSION"


def illegal_items(trader_id: str, days: list[date], prefix: str = "I") -> list[dict]:
    """One illegal SoR per item, dated at noon on each day."""
    return [
        sor(f"{trader_id}-{prefix}{n}", f"{d} 12:00", trader_id=trader_id, item_id=f"{trader_id}-{prefix}{n}")
        for n, d in enumerate(days)
    ]


def window_ending(t_star: date) -> list[date]:
    """Three items on t*-89, t*-40 and t*: exactly within 90 days, so the threshold is reached on t*."""
    return [t_star - timedelta(days=89), t_star - timedelta(days=40), t_star]


def measure(aid: str, trader_id: str, kind: str, at: str, reason: str = "ILLEGAL_CONTENT", **columns) -> dict:
    """An enforcement action with a reason (an Art. 23(1) one unless stated)."""
    return action(aid, trader_id, kind, at, reason=reason, **columns)


def repeat(sors: list[dict], actions: list[dict], **params):
    """The obligation on these rows; an unrelated warning keeps enforcement_actions present."""
    actions = [*actions, action("W0", "T-other", "WARNING", "2025-01-01")]
    return outcome(
        REPEAT, make_data({"statements_of_reasons": sors, "enforcement_actions": actions}), **params
    )


T_STAR = date(2025, 9, 10)


def test_suspension_on_the_last_day_of_grace_is_compliant():
    result = repeat(
        illegal_items("T1", window_ending(T_STAR)),
        [action("A1", "T1", "SUSPENSION", f"{T_STAR + timedelta(days=14)} 23:00")],
    )
    assert result.status == "PASS"
    assert result.metric["name"] == "repeat_infringers_unsuspended" and result.metric["value"] == 0
    assert result.evidence["count"] == 0 and result.evidence["compliant"] == 1


def test_suspension_one_day_after_grace_is_late():
    late = T_STAR + timedelta(days=15)
    result = repeat(
        illegal_items("T1", window_ending(T_STAR)), [action("A1", "T1", "SUSPENSION", f"{late} 08:00")]
    )
    assert result.status == "FAIL"
    assert result.metric["value"] == 0  # the metric counts the unsuspended only
    assert result.evidence["sample"] == [
        {
            "trader_id": "T1",
            "illegal_items": 3,
            "threshold_date": T_STAR.isoformat(),
            "first_suspension": late.isoformat(),
            "state": "late",
        }
    ]


def test_never_suspended_trader_fails_and_is_counted_by_the_metric():
    data = make_data(
        {
            "statements_of_reasons": illegal_items("T1", window_ending(T_STAR)),
            "enforcement_actions": [action("W1", "T1", "WARNING", "2025-09-11")],
        }
    )
    result = outcome(REPEAT, data)
    assert result.status == "FAIL"
    assert result.metric["value"] == 1
    assert result.evidence["sample"][0]["state"] == "unsuspended"
    assert result.evidence["sample"][0]["first_suspension"] is None
    assert compute_metrics(data, H2)["repeat_infringers_unsuspended"]["value"] == 1


def test_termination_counts_and_actions_before_t_star_do_not():
    items = illegal_items("T1", window_ending(T_STAR)) + illegal_items("T2", window_ending(T_STAR))
    actions = [
        action("A1", "T1", "TERMINATION", f"{T_STAR} 18:00"),
        action("A2", "T2", "SUSPENSION", f"{T_STAR - timedelta(days=1)} 10:00"),
    ]
    result = repeat(items, actions)
    assert result.status == "FAIL"
    assert [(s["trader_id"], s["state"]) for s in result.evidence["sample"]] == [("T2", "unsuspended")]


def test_items_exactly_90_days_apart_are_outside_the_window():
    days = [T_STAR - timedelta(days=90), T_STAR - timedelta(days=40), T_STAR]
    result = repeat(illegal_items("T1", days), [])
    assert result.status == "NOT_APPLICABLE"  # never three items within 90 days
    assert result.evidence["count"] == 0


def test_threshold_date_is_the_first_day_the_count_is_reached():
    # a fourth item later does not move t*; history before the period counts
    days = [date(2025, 6, 20), date(2025, 6, 25), date(2025, 7, 2), date(2025, 8, 1)]
    result = repeat(illegal_items("T1", days), [action("A1", "T1", "SUSPENSION", "2025-07-16")])
    assert result.status == "PASS"
    result = repeat(illegal_items("T1", days), [action("A1", "T1", "SUSPENSION", "2025-07-17")])
    assert result.evidence["sample"][0]["threshold_date"] == "2025-07-02"
    assert result.evidence["sample"][0]["state"] == "late"


def test_distinct_items_not_statements():
    # three SoRs about the same item are one item; without item_id the platform_uid is the item
    same_item = [sor(f"S{n}", f"2025-08-0{n + 1}", trader_id="T1", item_id="I1") for n in range(3)]
    assert repeat(same_item, []).status == "NOT_APPLICABLE"
    no_item_id = [sor(f"S{n}", f"2025-08-0{n + 1}", trader_id="T1") for n in range(3)]
    assert repeat(no_item_id, []).status == "FAIL"


def test_incompatible_ground_does_not_count():
    rows = [
        sor(f"S{n}", f"2025-08-0{n + 1}", ground="INCOMPATIBLE", trader_id="T1", item_id=f"I{n}")
        for n in range(3)
    ]
    assert repeat(rows, []).status == "NOT_APPLICABLE"


def test_t_star_at_period_end_minus_grace_is_in_scope_one_day_later_pending():
    edge = H2.end - timedelta(days=14)  # 2025-12-17
    in_scope = repeat(illegal_items("T1", window_ending(edge)), [])
    assert in_scope.status == "FAIL"
    assert in_scope.evidence["sample"][0]["state"] == "unsuspended"
    pending = repeat(illegal_items("T1", window_ending(edge + timedelta(days=1))), [])
    assert pending.status == "NOT_APPLICABLE"  # nothing in scope; the trader is listed, not failing
    assert pending.evidence["sample"][0]["state"] == "pending"
    assert pending.evidence["pending"] == 1 and pending.metric["value"] == 0


def test_a_trader_already_suspended_within_the_last_grace_days_is_still_pending_not_in_scope():
    # contract: in scope only when t* <= period end - grace_days; a later t* is pending, suspended or not
    t_star = H2.end - timedelta(days=5)
    result = repeat(illegal_items("T1", window_ending(t_star)), [action("A1", "T1", "SUSPENSION", f"{t_star} 18:00")])
    assert result.status == "NOT_APPLICABLE"
    assert result.evidence["compliant"] == 0 and result.evidence["pending"] == 1
    assert result.evidence["sample"] == [
        {
            "trader_id": "T1",
            "illegal_items": 3,
            "threshold_date": t_star.isoformat(),
            "first_suspension": t_star.isoformat(),
            "state": "pending",
        }
    ]


def test_pending_traders_do_not_turn_a_pass_into_a_fail():
    rows = illegal_items("T1", window_ending(T_STAR)) + illegal_items("T2", window_ending(date(2025, 12, 30)))
    result = repeat(rows, [action("A1", "T1", "SUSPENSION", f"{T_STAR} 12:00")])
    assert result.status == "PASS"
    assert [(s["trader_id"], s["state"]) for s in result.evidence["sample"]] == [("T2", "pending")]


def test_period_start_edge():
    on_start = repeat(illegal_items("T1", window_ending(H2.start)), [])
    assert on_start.status == "FAIL"
    before = repeat(illegal_items("T1", window_ending(H2.start - timedelta(days=1))), [])
    assert before.status == "NOT_APPLICABLE"  # reached in the previous period: judged there


def test_parameters_are_overridable():
    days = [T_STAR - timedelta(days=10), T_STAR]
    assert repeat(illegal_items("T1", days), []).status == "NOT_APPLICABLE"
    result = repeat(illegal_items("T1", days), [], min_items=2)
    assert result.status == "FAIL" and result.evidence["sample"][0]["illegal_items"] == 2


def test_evidence_sample_is_first_20_traders_in_id_order():
    rows = [r for n in range(25) for r in illegal_items(f"T{n:02d}", window_ending(T_STAR))]
    result = repeat(rows, [])
    assert result.evidence["count"] == 25 and len(result.items) == 25
    assert [s["trader_id"] for s in result.evidence["sample"]] == [f"T{n:02d}" for n in range(20)]
    assert result.metric["value"] == 25


def test_missing_trader_column_is_insufficient_data():
    data = make_data(
        {
            "statements_of_reasons": illegal_items("T1", window_ending(T_STAR)),
            "enforcement_actions": [action("A1", "T1", "WARNING", "2025-01-01")],
        },
        columns_absent={"statements_of_reasons": {"trader_id"}},
    )
    result = outcome(REPEAT, data)
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == ["column statements_of_reasons.trader_id"]
    assert "statements_of_reasons.trader_id" in result.message


def test_missing_enforcement_actions_is_insufficient_data():
    result = outcome(REPEAT, make_data({"statements_of_reasons": illegal_items("T1", window_ending(T_STAR))}))
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["dataset enforcement_actions"]


def test_hosting_tier_is_not_applicable():
    result = outcome(REPEAT, make_data({}), tier="HOSTING", marketplace=False)
    assert result.status == "NOT_APPLICABLE"
    assert result.message == "This obligation applies to PLATFORM and above; platform tier is HOSTING."


# ---- prior warning, suspension duration ---------------------------------------------------------------


def test_prior_warning_within_lookback():
    actions = [
        measure("S1", "T1", "SUSPENSION", "2025-08-01"),
        measure("W1", "T1", "WARNING", "2024-08-01"),  # exactly 365 days before: in time
        measure("S2", "T2", "SUSPENSION", "2025-08-01", "HIDDEN_LINKS"),
        measure("W2", "T2", "WARNING", "2024-07-31"),  # 366 days before: too old
        measure("S3", "T3", "SUSPENSION", "2025-08-01", "KYBC_INCOMPLETE"),  # out of scope
    ]
    result = outcome("DSA-23.1-PRIOR-WARNING", make_data({"enforcement_actions": actions}))
    assert result.status == "FAIL"
    assert [i["action_id"] for i in result.items] == ["S2"]


def test_v2_prior_warning_counts_only_warnings_for_illegal_content_or_hidden_links():
    actions = [
        measure("S1", "T1", "SUSPENSION", "2025-08-01"),
        measure("W1", "T1", "WARNING", "2025-07-01", "KYBC_INCOMPLETE"),  # not a warning for these reasons
        measure("S2", "T2", "SUSPENSION", "2025-08-01"),
        measure("W2", "T2", "WARNING", "2025-07-01", "HIDDEN_LINKS"),
        measure("S3", "T3", "SUSPENSION", "2025-08-01"),
        action("W3", "T3", "WARNING", "2025-07-01"),  # no reason
    ]
    result = outcome("DSA-23.1-PRIOR-WARNING", make_data({"enforcement_actions": actions}))
    assert result.status == "FAIL" and [i["action_id"] for i in result.items] == ["S1", "S3"]
    assert "internal threshold" in result.message


def test_suspension_duration_warns_below_min_days():
    actions = [
        measure("S1", "T1", "SUSPENSION", "2025-08-01 10:00", ends_at=date(2025, 8, 8)),  # 7 days
        measure("S2", "T2", "SUSPENSION", "2025-08-01", ends_at=date(2025, 8, 7)),  # 6 days
        measure("S3", "T3", "SUSPENSION", "2025-08-01"),  # open-ended
        measure("S4", "T4", "SUSPENSION", "2025-08-01", "HIDDEN_LINKS", ends_at=date(2025, 8, 3)),  # 2 days
    ]
    result = outcome("DSA-23.1-SUSPENSION-DURATION", make_data({"enforcement_actions": actions}))
    assert result.status == "WARN"
    assert [(i["action_id"], i["days"]) for i in result.items] == [("S4", 2), ("S2", 6)]  # shortest first


def test_v2_suspension_duration_reads_only_art_23_suspensions_and_7_days_as_internal():
    actions = [
        measure("S1", "T1", "SUSPENSION", "2025-08-01", "KYBC_INCOMPLETE", ends_at=date(2025, 8, 2)),
        measure("S2", "T2", "SUSPENSION", "2025-08-01", "OTHER", ends_at=date(2025, 8, 2)),
    ]
    result = outcome("DSA-23.1-SUSPENSION-DURATION", make_data({"enforcement_actions": actions}))
    assert result.status == "NOT_APPLICABLE"
    short = outcome("DSA-23.1-SUSPENSION-DURATION", make_data({"enforcement_actions": [
        *actions, measure("S3", "T3", "SUSPENSION", "2025-08-01", ends_at=date(2025, 8, 2))]}))
    assert short.status == "WARN" and [i["action_id"] for i in short.items] == ["S3"]
    assert "internal threshold" in short.message and "sets no figure" in short.message


# ---- Art. 30 ------------------------------------------------------------------------------------------

KYBC = "DSA-30-KYBC-COMPLETENESS"


def test_kybc_complete_passes_and_null_trade_register_owes_nothing():
    data = make_data({"traders": [trader("T1"), trader("T2", kyc_trade_register=True)]})
    result = outcome(KYBC, data)
    assert result.status == "PASS"
    assert result.metric == {
        "name": "kybc_complete_share",
        "value": 1.0,
        "unit": "share",
        "comparator": "==",
        "threshold": 1,
    }


def test_kybc_names_the_missing_elements():
    traders = [
        trader("T3", kyc_id_document=False, kyc_payment_account=None),
        trader("T1", kyc_trade_register=False),
        trader("T2"),
        trader("T4", kyc_contact=False, status="SUSPENDED"),  # not ACTIVE: out of scope
        trader("T5", kyc_contact=False, live_listings=0),  # no live listings: out of scope
    ]
    result = outcome(KYBC, make_data({"traders": traders}))
    assert result.status == "FAIL"
    assert result.evidence["sample"] == [
        {"trader_id": "T1", "live_listings": 5, "missing": ["kyc_trade_register"]},
        {"trader_id": "T3", "live_listings": 5, "missing": ["kyc_id_document", "kyc_payment_account"]},
    ]
    assert result.metric["value"] == pytest.approx(1 / 3)


def test_kybc_nothing_in_scope():
    result = outcome(KYBC, make_data({"traders": [trader("T1", live_listings=0)]}))
    assert result.status == "NOT_APPLICABLE"


def test_kybc_tier_scope():
    data = make_data({"traders": [trader("T1")]})
    platform = outcome(KYBC, data, tier="PLATFORM", marketplace=False)
    assert platform.status == "NOT_APPLICABLE"
    assert platform.message == "This obligation applies to MARKETPLACE and above; platform tier is PLATFORM."
    vlop = outcome(KYBC, data, tier="VLOP", marketplace=False)
    assert vlop.status == "NOT_APPLICABLE"
    assert vlop.message.endswith(
        "applies to MARKETPLACE and above; platform tier is VLOP, not a marketplace."
    )
    assert outcome(KYBC, data, tier="VLOP", marketplace=True).status == "PASS"
    assert outcome(KYBC, data, tier="MARKETPLACE", marketplace=True).status == "PASS"


def test_kybc_missing_column():
    data = make_data({"traders": [trader("T1")]}, columns_absent={"traders": {"kyc_id_document"}})
    result = outcome(KYBC, data)
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["column traders.kyc_id_document"]


def test_kybc_verification():
    traders = [trader(f"T{n}", kyc_verified_at=date(2025, 1, 1)) for n in range(19)] + [trader("T99")]
    data = make_data({"traders": traders})
    assert outcome("DSA-30-KYBC-VERIFICATION", data).status == "PASS"  # 19/20 = 0.95 exactly
    result = outcome("DSA-30-KYBC-VERIFICATION", data, min_share=0.96)
    assert result.status == "WARN" and [i["trader_id"] for i in result.items] == ["T99"]


def test_prior_warning_and_suspension_duration_period_edges():
    actions = [
        action("S0", "T0", "SUSPENSION", "2025-06-30 23:59:59", reason="ILLEGAL_CONTENT", ends_at=date(2025, 7, 1)),
        action("S1", "T1", "SUSPENSION", "2025-07-01 00:00:00", reason="ILLEGAL_CONTENT", ends_at=date(2025, 7, 2)),
        action("S2", "T2", "SUSPENSION", "2025-12-31 23:59:59", reason="HIDDEN_LINKS", ends_at=date(2026, 1, 1)),
        action("S3", "T3", "SUSPENSION", "2026-01-01 00:00:00", reason="ILLEGAL_CONTENT", ends_at=date(2026, 1, 2)),
        action("W2", "T2", "WARNING", "2025-12-31 23:59:58", reason="HIDDEN_LINKS"),  # a second before: in time
    ]
    data = make_data({"enforcement_actions": actions})
    result = outcome("DSA-23.1-PRIOR-WARNING", data)
    assert result.status == "FAIL" and [i["action_id"] for i in result.items] == ["S1"]
    assert "1 of 2" in result.message
    short = outcome("DSA-23.1-SUSPENSION-DURATION", data)
    assert short.status == "WARN" and [i["action_id"] for i in short.items] == ["S1", "S2"]
