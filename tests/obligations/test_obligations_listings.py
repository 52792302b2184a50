"""Illegal products on a VLOP marketplace (Art. 34/35): hidden links, re-appearance, proactive detection."""

from datetime import timedelta

import pytest

from dsa_report.obligations.evaluation import metric_book
from dsa_report.obligations.facts import censored_duration, hidden_link_items
from tables import H2, action, event, items, make_data, outcome, ts

SURVIVAL = "DSA-35-HIDDEN-LINK-SURVIVAL"
PENALTIES = "DSA-35-HIDDEN-LINK-PENALTIES"
LISTING_INDICATORS = ("DSA-35-REAPPEARANCE-RATE", SURVIVAL, PENALTIES, "DSA-35-PROACTIVE-DETECTION")


def hidden_item(item: str, listed: str, survived_days: float, *, trader_id: str = "T1", hidden: bool = True):
    removed = ts(listed) + timedelta(days=survived_days)
    return [
        event(f"{item}-L", item, "LISTED", listed, trader_id=trader_id, hidden_link=False),
        event(f"{item}-R", item, "REMOVED", removed.isoformat(" "), trader_id=trader_id, hidden_link=hidden,
              detection="NOTICE"),
    ]


def online(item: str, listed: str, *, trader_id: str = "T1") -> list[dict]:
    """A hidden-link item listed and never removed."""
    return [event(f"{item}-L", item, "LISTED", listed, trader_id=trader_id, hidden_link=True)]


def survival(rows: list[dict], **kw):
    columns_absent = kw.pop("columns_absent", None)
    return outcome(SURVIVAL, make_data({"listing_events": rows}, columns_absent=columns_absent), **kw)


def penalties(rows: list[dict], actions: list[dict], **kw):
    return outcome(PENALTIES, make_data({"listing_events": rows, "enforcement_actions": actions}), **kw)


# ---- tiers: Arts 34/35 bind VLOPs only, these indicators VLOP marketplaces --------------------------------


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


# ---- hidden-link survival ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "status"), [(0.5, "PASS"), (2, "PASS"), (2.5, "WARN"), (7, "WARN"), (7.5, "FAIL")]
)
def test_survival_thresholds(days, status):
    result = survival(hidden_item("I1", "2025-08-01 06:00", days))
    assert result.status == status
    assert result.metric["name"] == "hidden_link_median_survival_days"
    assert result.metric["value"] == pytest.approx(days)
    assert "internal thresholds" in result.message


def test_median_over_hidden_items_removed_in_the_period():
    rows = (
        hidden_item("I1", "2025-08-01", 1)
        + hidden_item("I2", "2025-08-01", 9)
        + hidden_item("I3", "2025-08-01", 100, hidden=False)  # not a hidden link
        + hidden_item("I4", "2025-06-01", 10)  # removed 2025-06-11, before the period, never relisted
        + hidden_item("I5", "2025-06-29", 3)  # listed before, removed 2 July: in
    )
    result = survival(rows)
    assert result.metric["value"] == pytest.approx(3)  # median of 1, 3, 9
    assert result.status == "WARN"
    assert [(i["item_id"], i["survival_days"]) for i in items(result)] == [("I2", 9.0), ("I5", 3.0)]


def test_survival_runs_from_the_latest_listing_before_the_removal():
    rows = hidden_item("I1", "2025-08-01", 1)
    rows.append(event("I1-L0", "I1", "LISTED", "2025-07-01"))  # an earlier listing does not count (v1 did)
    rows.append(event("I1-L2", "I1", "REAPPEARED", "2025-08-01 12:00"))  # a later one (re-upload) does
    rows.append(event("I1-L3", "I1", "LISTED", "2025-08-03"))  # after the removal: a new stay, still online
    result = survival(rows)
    assert result.metric["value"] == pytest.approx((0.5 + 151) / 2)  # the removal: 0.5 days (v1: 32)
    assert [(i["listed_at"], i["removed_at"], i["survival_days"]) for i in items(result)] == [
        ("2025-08-03T00:00:00", None, 151.0)]  # online since 3 Aug at period end


def test_items_still_online_at_period_end_count_with_their_age_whenever_listed():
    rows = (
        hidden_item("I1", "2025-08-01", 1)
        + hidden_item("I2", "2025-09-01", 1.5)
        + online("I3", "2025-12-30 12:00")  # 1.5 days at period end: under warn_days
        + online("I4", "2025-12-20")  # 12 days at period end
        + online("I5", "2024-12-31")  # listed before the period: 366 days at period end
    )
    rows.append(event("I6-L", "I6", "LISTED", "2026-01-02", hidden_link=True))  # after the period: out
    result = survival(rows)
    assert result.metric["value"] == pytest.approx(1.5)  # median of 1, 1.5, 1.5, 12, 366
    assert result.status == "PASS"  # the median says PASS; the evidence still names the old ones
    assert [(i["item_id"], i["still_online"], i["survival_days"]) for i in items(result)] == [
        ("I5", True, 366.0), ("I4", True, 12.0)]
    assert result.evidence["still_online"] == 3 and "3 items still online counted at period end" in result.message
    # v1 measured removals only: 1 and 1.5 days; a backlog of hidden links online made it look better
    rows += online("I7", "2025-07-01") + online("I8", "2025-07-02")
    result = survival(rows)
    assert result.metric["value"] == pytest.approx(12) and result.status == "FAIL"


def test_a_repeated_removal_without_a_listing_between_is_one_removal():
    rows = hidden_item("I1", "2025-08-01", 3)
    rows.append(event("I1-R2", "I1", "REMOVED", "2025-08-20", hidden_link=True))  # no relisting: same removal
    rows += hidden_item("I2", "2025-05-01", 10)
    rows.append(event("I2-R2", "I2", "REMOVED", "2025-07-05", hidden_link=True))  # removed before the period
    result = survival(rows)
    assert result.metric["value"] == pytest.approx(3)
    stays = hidden_link_items(metric_book(make_data({"listing_events": rows}), H2).q)
    assert [(s.item_id, s.removed_at) for s in stays] == [("I1", ts("2025-08-04"))]


def test_survival_matches_the_censored_duration_reference():
    rows = (hidden_item("I1", "2025-08-01 06:30", 2.25) + online("I2", "2025-11-17 08:15")
            + online("I3", "2025-03-02 23:59"))
    book = metric_book(make_data({"listing_events": rows}), H2)
    end = book.q.bounds[1]
    for stay in hidden_link_items(book.q):
        assert stay.survival_days == pytest.approx(censored_duration(stay.listed_at, stay.removed_at, end) / 24)


def test_survival_not_applicable_and_insufficient():
    assert survival(hidden_item("I1", "2025-08-01", 1, hidden=False)).status == "NOT_APPLICABLE"
    result = survival(hidden_item("I1", "2025-08-01", 1), columns_absent={"listing_events": {"hidden_link"}})
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["column listing_events.hidden_link"]
    no_listing = [r for r in hidden_item("I1", "2025-08-01", 1) if r["event"] == "REMOVED"]
    assert survival(no_listing).status == "INSUFFICIENT_DATA"
    result = survival(no_listing + hidden_item("I2", "2025-08-01", 1))
    assert result.status == "PASS" and result.evidence["unmeasured"] == 1
    assert "1 removed without a listing event, not measured" in result.message


# ---- hidden-link penalties -------------------------------------------------------------------------------


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
        action("P3", "T3", "SUSPENSION", "2025-08-05", reason="ILLEGAL_CONTENT"),  # other reason
    ]
    result = penalties(rows, actions)
    assert result.status == "FAIL" and result.evidence["count"] == 2
    assert items(result) == [
        {"trader_id": "T3", "hidden_link_items": 1, "unpenalised_removals": 1,
         "first_unpenalised_removal": "2025-08-02", "first_penalty_after": None, "state": "unpenalised"},
        {"trader_id": "T2", "hidden_link_items": 1, "unpenalised_removals": 1,
         "first_unpenalised_removal": "2025-08-02", "first_penalty_after": "2025-08-17", "state": "late"},
    ]  # never penalised first, then late
    assert result.evidence["pending"] == {"count": 1, "sample": [
        {"trader_id": "T4", "hidden_link_items": 1, "first_pending_removal": "2025-12-21",
         "deadline": "2026-01-04"}]}  # pending traders are not offending items
    assert "2 of 4 (1 pending)" in result.message and "internal threshold" in result.message


def test_a_penalty_up_to_grace_days_before_the_removal_counts():
    rows = hidden_item("I1", "2025-09-01", 1, trader_id="T1") + hidden_item("I2", "2025-09-01", 1, trader_id="T2")
    actions = [
        action("P1", "T1", "PENALTY_POINTS", "2025-08-19", reason="HIDDEN_LINKS"),  # removal (2 Sep) - 14 days
        action("P2", "T2", "PENALTY_POINTS", "2025-08-18", reason="HIDDEN_LINKS"),  # - 15 days: too early
    ]
    result = penalties(rows, actions)
    assert [(i["trader_id"], i["state"]) for i in items(result)] == [("T2", "unpenalised")]


def test_every_removal_needs_its_penalty_not_only_the_first():
    rows = hidden_item("I1", "2025-08-01", 1, trader_id="T1") + hidden_item("I2", "2025-10-01", 1, trader_id="T1")
    rows += hidden_item("I3", "2025-10-01 05:00", 1, trader_id="T1")  # same day as I2: one penalty covers both
    actions = [action("P1", "T1", "PENALTY_POINTS", "2025-08-03", reason="HIDDEN_LINKS")]
    result = penalties(rows, actions)
    assert result.status == "FAIL"  # v1 looked at the first removal only and passed
    assert items(result)[0] == {"trader_id": "T1", "hidden_link_items": 3, "unpenalised_removals": 2,
                                     "first_unpenalised_removal": "2025-10-02", "first_penalty_after": None,
                                     "state": "unpenalised"}
    actions.append(action("P2", "T1", "SUSPENSION", "2025-10-10", reason="HIDDEN_LINKS"))
    assert penalties(rows, actions).status == "PASS"


def test_hidden_link_penalty_pending_edge():
    # removals on period end - grace_days (17 Dec) are judged; one day later they are pending
    rows = hidden_item("I1", "2025-12-16 08:00", 1, trader_id="T1")  # removed 17 Dec
    rows += hidden_item("I2", "2025-12-17 08:00", 1, trader_id="T2")  # removed 18 Dec
    result = penalties(rows, [action("W1", "T9", "WARNING", "2025-01-01")])
    assert result.status == "FAIL"
    assert [(i["trader_id"], i["first_unpenalised_removal"], i["state"]) for i in items(result)] == [
        ("T1", "2025-12-17", "unpenalised")]
    assert [p["trader_id"] for p in result.evidence["pending"]["sample"]] == ["T2"]
    only_pending = penalties(rows[2:], [action("W1", "T9", "WARNING", "2025-01-01")])
    assert only_pending.status == "PASS" and only_pending.evidence["count"] == 0


def test_removals_naming_no_trader_are_never_a_silent_pass():
    rows = hidden_item("I1", "2025-08-01", 1, trader_id=None)
    result = penalties(rows, [action("W1", "T9", "WARNING", "2025-01-01")])
    assert result.status == "INSUFFICIENT_DATA"
    rows += hidden_item("I2", "2025-08-01", 1, trader_id="T2")
    result = penalties(rows, [action("P1", "T2", "PENALTY_POINTS", "2025-08-02", reason="HIDDEN_LINKS")])
    assert result.status == "WARN" and "1 removal naming no trader not checked" in result.message


# ---- re-appearance and proactive detection -------------------------------------------------------------


def test_reappearance_rate():
    rows = [event(f"R{n}", f"I{n}", "REMOVED", "2025-08-01") for n in range(40)]
    rows += [
        event("B1", "J1", "REAPPEARED", "2025-08-05", reappearance_of="I3"),
        event("B2", "J2", "REAPPEARED", "2025-08-06", reappearance_of="I3"),
        event("B3", "J3", "REAPPEARED", "2026-02-01", reappearance_of="I4"),  # after the period
    ]
    data = make_data({"listing_events": rows})
    result = outcome("DSA-35-REAPPEARANCE-RATE", data)
    assert result.metric["value"] == pytest.approx(1 / 40) and result.status == "WARN"
    assert items(result) == [
        {"item_id": "I3", "trader_id": None, "removed_at": "2025-08-01T00:00:00", "reappeared_as": ["J1", "J2"]}
    ]
    assert outcome("DSA-35-REAPPEARANCE-RATE", data, warn_rate=0.025).status == "PASS"  # exactly at the limit


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


def test_reappeared_items_most_reappearances_first():
    rows = [event(f"R{n}", f"I{n}", "REMOVED", "2025-08-01") for n in range(4)]
    rows += [event("B1", "J1", "REAPPEARED", "2025-08-05", reappearance_of="I1"),
             event("B2", "J2", "REAPPEARED", "2025-08-05", reappearance_of="I2"),
             event("B3", "J3", "REAPPEARED", "2025-08-06", reappearance_of="I2")]
    result = outcome("DSA-35-REAPPEARANCE-RATE", make_data({"listing_events": rows}))
    assert [i["item_id"] for i in items(result)] == ["I2", "I1"]


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
