"""Illegal products on a VLOP marketplace (Art. 34/35): hidden links, re-appearance, proactive detection."""

from datetime import timedelta

import pytest

from tables import action, event, items, make_data, outcome, ts

SURVIVAL = "DSA-35-HIDDEN-LINK-SURVIVAL"
LISTING_INDICATORS = ("DSA-35-REAPPEARANCE-RATE", SURVIVAL, "DSA-35-HIDDEN-LINK-PENALTIES",
                      "DSA-35-PROACTIVE-DETECTION")


def hidden_item(item: str, listed: str, survived_days: float, *, trader_id: str = "T1", hidden: bool = True):
    removed = ts(listed) + timedelta(days=survived_days)
    return [
        event(f"{item}-L", item, "LISTED", listed, trader_id=trader_id, hidden_link=False),
        event(
            f"{item}-R",
            item,
            "REMOVED",
            removed.isoformat(" "),
            trader_id=trader_id,
            hidden_link=hidden,
            detection="NOTICE",
        ),
    ]


def survival(rows: list[dict], **kw):
    columns_absent = kw.pop("columns_absent", None)
    return outcome(SURVIVAL, make_data({"listing_events": rows}, columns_absent=columns_absent), **kw)


@pytest.mark.parametrize(
    ("days", "status"), [(0.5, "PASS"), (2, "PASS"), (2.5, "WARN"), (7, "WARN"), (7.5, "FAIL")]
)
def test_survival_thresholds(days, status):
    result = survival(hidden_item("I1", "2025-08-01 06:00", days))
    assert result.status == status
    assert result.metric["name"] == "hidden_link_median_survival_days"
    assert result.metric["value"] == pytest.approx(days)


def test_median_over_hidden_items_removed_in_the_period():
    rows = (
        hidden_item("I1", "2025-08-01", 1)
        + hidden_item("I2", "2025-08-01", 9)
        + hidden_item("I3", "2025-08-01", 100, hidden=False)  # not a hidden link
        + hidden_item("I4", "2025-06-01", 10)  # removed 2025-06-11, before the period
        + hidden_item("I5", "2025-06-29", 3)
    )  # listed before, removed 2 July: in
    rows.append(event("I1-L0", "I1", "LISTED", "2025-07-31"))  # the first LISTED counts
    result = survival(rows)
    assert result.metric["value"] == pytest.approx(3)  # median of 2, 3, 9
    assert result.status == "WARN"
    assert [(i["item_id"], i["survival_days"]) for i in items(result)] == [("I2", 9.0), ("I5", 3.0)]


def test_survival_not_applicable_and_insufficient():
    assert survival(hidden_item("I1", "2025-08-01", 1, hidden=False)).status == "NOT_APPLICABLE"
    result = survival(hidden_item("I1", "2025-08-01", 1), columns_absent={"listing_events": {"hidden_link"}})
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["column listing_events.hidden_link"]
    no_listing = [r for r in hidden_item("I1", "2025-08-01", 1) if r["event"] == "REMOVED"]
    assert survival(no_listing).status == "INSUFFICIENT_DATA"


@pytest.mark.parametrize("obligation_id", LISTING_INDICATORS)
def test_listing_indicators_apply_to_vlop_marketplaces_only(obligation_id):
    data = make_data({"listing_events": hidden_item("I1", "2025-08-01", 1)})
    for tier, marketplace in (("HOSTING", False), ("PLATFORM", False), ("MARKETPLACE", True)):
        result = outcome(obligation_id, data, tier=tier, marketplace=marketplace)
        assert result.status == "NOT_APPLICABLE"
        assert result.message == f"This obligation applies to VLOP (marketplace) only; platform tier is {tier}."
    result = outcome(obligation_id, data, tier="VLOP", marketplace=False)
    assert result.message == ("This obligation applies to VLOP (marketplace) only; platform tier is VLOP, "
                              "not a marketplace.")
    assert not outcome(obligation_id, data, tier="VLOP", marketplace=True).message.startswith("This obligation")


def test_reappearance_rate():
    rows = [event(f"R{n}", f"I{n}", "REMOVED", "2025-08-01") for n in range(40)]
    rows += [
        event("B1", "J1", "REAPPEARED", "2025-08-05", reappearance_of="I3"),
        event("B2", "J2", "REAPPEARED", "2025-08-06", reappearance_of="I3"),
        event("B3", "J3", "REAPPEARED", "2026-02-01", reappearance_of="I4"),
    ]  # after the period
    data = make_data({"listing_events": rows})
    result = outcome("DSA-35-REAPPEARANCE-RATE", data)
    assert result.metric["value"] == pytest.approx(1 / 40) and result.status == "WARN"
    assert items(result) == [
        {
            "item_id": "I3",
            "trader_id": None,
            "removed_at": "2025-08-01T00:00:00",
            "reappeared_as": ["J1", "J2"],
        }
    ]
    assert outcome("DSA-35-REAPPEARANCE-RATE", data, warn_rate=0.025).status == "PASS"  # exactly at the limit


def test_hidden_link_penalties():
    rows = (
        hidden_item("I1", "2025-08-01", 1, trader_id="T1")
        + hidden_item("I2", "2025-08-01", 1, trader_id="T2")
        + hidden_item("I3", "2025-08-01", 1, trader_id="T3")
        + hidden_item("I4", "2025-12-20", 1, trader_id="T4")
    )
    actions = [
        action("P1", "T1", "PENALTY_POINTS", "2025-08-16", reason="HIDDEN_LINKS"),  # removal + 14 days
        action("P2", "T2", "SUSPENSION", "2025-08-17", reason="HIDDEN_LINKS"),  # one day late
        action("P3", "T3", "SUSPENSION", "2025-08-05", reason="ILLEGAL_CONTENT"),
    ]  # other reason
    data = make_data({"listing_events": rows, "enforcement_actions": actions})
    result = outcome("DSA-35-HIDDEN-LINK-PENALTIES", data)
    assert result.status == "FAIL"
    assert [(i["trader_id"], i["state"]) for i in items(result)] == [
        ("T2", "late"),
        ("T3", "unpenalised"),
        ("T4", "pending"),
    ]


def test_proactive_detection_is_advisory():
    rows = [
        event("E1", "I1", "REMOVED", "2025-08-01", detection="PROACTIVE"),
        event("E2", "I2", "BLOCKED_PRE_LISTING", "2025-08-01", detection="PROACTIVE"),
        event("E3", "I3", "REMOVED", "2025-08-01", detection="NOTICE"),
        event("E4", "I4", "REMOVED", "2025-08-01", detection="AUTHORITY_ORDER"),
    ]
    data = make_data({"listing_events": rows})
    assert outcome("DSA-35-PROACTIVE-DETECTION", data).status == "PASS"  # 2/4 = 0.5
    assert outcome("DSA-35-PROACTIVE-DETECTION", data, min_rate=0.6).status == "WARN"


def test_reappearance_rate_exactly_at_fail_rate_is_a_warning_and_period_edges():
    removed = [event(f"R{n}", f"I{n}", "REMOVED", "2025-08-01") for n in range(40)]
    back = [
        event("B1", "J1", "REAPPEARED", "2025-07-01 00:00:00", reappearance_of="I1"),
        event("B2", "J2", "REAPPEARED", "2025-12-31 23:59:59", reappearance_of="I2"),
        event("B3", "J3", "REAPPEARED", "2026-01-01 00:00:00", reappearance_of="I3"),  # after the period
    ]
    result = outcome("DSA-35-REAPPEARANCE-RATE", make_data({"listing_events": removed + back}))
    assert result.metric["value"] == pytest.approx(2 / 40) and result.status == "WARN"  # 0.05 is not above
    assert [i["item_id"] for i in items(result)] == ["I1", "I2"]
    back.append(event("B4", "J4", "REAPPEARED", "2025-09-01", reappearance_of="I4"))
    result = outcome("DSA-35-REAPPEARANCE-RATE", make_data({"listing_events": removed + back}))
    assert result.status == "FAIL" and result.metric["threshold"] == 0.05


def test_hidden_link_penalty_pending_edge():
    # removals on period end - grace_days (17 Dec) are judged; one day later they are pending
    rows = hidden_item("I1", "2025-12-16 08:00", 1, trader_id="T1")  # removed 17 Dec
    rows += hidden_item("I2", "2025-12-17 08:00", 1, trader_id="T2")  # removed 18 Dec
    data = make_data({"listing_events": rows, "enforcement_actions": [action("W1", "T9", "WARNING", "2025-01-01")]})
    result = outcome("DSA-35-HIDDEN-LINK-PENALTIES", data)
    assert result.status == "FAIL"
    assert [(i["trader_id"], i["first_removal"], i["state"]) for i in items(result)] == [
        ("T1", "2025-12-17", "unpenalised"),
        ("T2", "2025-12-18", "pending"),
    ]
