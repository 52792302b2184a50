"""The advertisement repository (Art. 39): ads in it, its fields, its retention (obligations.md, "Obligations
added in v2"). VLOP only. Period H2 2025: 2025-07-01 to period end 2026-01-01 00:00."""

from __future__ import annotations

import pytest

from tables import AD_FIELDS, ad, items, make_data, outcome

IN_REPOSITORY = "DSA-39-ADS-IN-REPOSITORY"
FIELDS = "DSA-39-ADS-REPOSITORY-FIELDS"
RETENTION = "DSA-39-ADS-RETENTION"


def run(obligation_id: str, *ads: dict, **params):
    return outcome(obligation_id, make_data({"ads": list(ads)}), **params)


@pytest.mark.parametrize("obligation_id", [IN_REPOSITORY, FIELDS, RETENTION])
def test_the_repository_is_a_vlop_duty(obligation_id):
    data = make_data({"ads": [ad("A1", "2025-08-01", "2025-08-31")]})
    assert outcome(obligation_id, data, tier="MARKETPLACE").status == "NOT_APPLICABLE"
    assert outcome(obligation_id, data, tier="VLOP", marketplace=False).status == "PASS"  # any VLOP


# ---- DSA-39-ADS-IN-REPOSITORY -----------------------------------------------------------------------------


def test_in_repository_not_applicable_without_an_ad_shown_in_the_period():
    result = run(IN_REPOSITORY, ad("A1", "2025-03-01", "2025-06-30 23:59", added=None),
                 ad("A2", "2026-01-01", "2026-01-02", added=None))
    assert result.status == "NOT_APPLICABLE"
    assert result.message == "No advertisement was shown in the period."


def test_ads_in_the_repository_from_first_shown_pass():
    result = run(IN_REPOSITORY, ad("A1", "2025-05-01", "2025-07-15"),  # shown before and into the period
                 ad("A2", "2025-08-01 10:00", "2025-08-31", added="2025-08-02 10:00"))  # exactly 24 hours
    assert result.status == "PASS" and result.evidence["count"] == 0
    assert "24 hours (internal threshold)" in result.message


def test_ads_not_in_the_repository_or_removed_while_shown_fail_worst_first():
    result = run(IN_REPOSITORY,
                 ad("A1", "2025-09-01", "2025-09-30", added="2025-09-03"),  # late: 48 hours
                 ad("A2", "2025-12-01", "2025-12-20", added="2026-01-10"),  # not there at period end
                 ad("A3", "2025-08-01", "2025-08-31", removed_from_repository_at="2025-08-15"),
                 ad("A4", "2025-10-01", "2025-10-31", added=None),
                 ad("A5", "2025-12-31 12:00", "2025-12-31 20:00", added=None))  # 12 hours before period end
    assert result.status == "FAIL"
    assert [(i["ad_id"], i["problem"], i["hours_to_repository"]) for i in items(result)] == [
        ("A4", "not_in_repository", 92 * 24), ("A2", "not_in_repository", 31 * 24),
        ("A3", "removed_while_shown", 0), ("A1", "added_late", 48)]
    assert (result.evidence["not_in_repository"], result.evidence["removed_while_shown"],
            result.evidence["added_late"]) == (2, 1, 1)
    assert result.metric == {"name": "ads_not_in_repository", "value": 2, "unit": "count", "comparator": "==",
                             "threshold": 0}
    assert [i["ad_id"] for i in result.evidence["pending"]["sample"]] == ["A5"]


def test_an_ad_added_late_but_there_warns_and_the_limit_is_a_parameter():
    late = ad("A1", "2025-09-01 00:00", "2025-09-30", added="2025-09-02 06:00")  # 30 hours
    assert run(IN_REPOSITORY, late).status == "WARN"
    assert run(IN_REPOSITORY, late, max_delay_hours=48).status == "PASS"


# ---- DSA-39-ADS-REPOSITORY-FIELDS -------------------------------------------------------------------------


def test_fields_not_applicable_without_an_ad_in_the_repository_during_the_period():
    result = run(FIELDS, ad("A1", "2025-08-01", "2025-08-31", added=None),
                 ad("A2", "2024-03-01", "2024-06-01"),  # last shown more than 12 months before the period
                 ad("A3", "2025-01-01", "2025-02-01", removed_from_repository_at="2025-06-01"))
    assert result.status == "NOT_APPLICABLE"


def test_complete_entries_pass_and_conditional_fields_are_owed_only_when_their_condition_holds():
    result = run(FIELDS,
                 ad("A1", "2025-08-01", "2025-08-31", has_payer=False, has_targeting_parameters=False,
                    has_reach_per_member_state=False),  # untargeted, paid by the advertiser
                 ad("A2", "2025-08-01", "2025-08-31", removed_under_39_3=True, has_content=False,
                    has_advertiser=False, has_payer=False, has_sor_information=True))
    assert result.status == "PASS"
    assert result.metric == {"name": "ads_incomplete_in_repository", "value": 0, "unit": "count",
                             "comparator": "==", "threshold": 0}


def test_missing_fields_fail_named_most_missing_first():
    result = run(FIELDS,
                 ad("A1", "2025-08-01", "2025-08-31", targeted=True, has_targeting_parameters=False,
                    has_reach_per_member_state=False),
                 ad("A2", "2025-08-01", "2025-08-31", payer_differs=True, has_payer=False),
                 ad("A3", "2025-08-01", "2025-08-31", removed_under_39_3=True),  # no Art. 17(3) information
                 ad("A4", "2025-02-01", "2025-03-01", has_period=None),  # shown before the period, still held
                 ad("A5", "2025-08-01", "2025-08-31", targeted=None, has_targeting_parameters=False))
    assert result.status == "FAIL"
    assert [(i["ad_id"], i["missing"]) for i in items(result)] == [
        ("A1", ["targeting parameters (39(2)(e))", "reach per Member State (39(2)(g))"]),
        ("A2", ["payer (39(2)(c))"]), ("A3", ["Art. 17(3) information (39(3))"]),
        ("A4", ["period of presentation (39(2)(d))"]), ("A5", ["targeting parameters (39(2)(e))"])]
    assert result.evidence["missing_fields"]["targeting parameters (39(2)(e))"] == 2
    assert "targeting parameters (39(2)(e)): 2" in result.message


def test_every_repository_field_is_checked():
    for flag in AD_FIELDS:
        row = ad("A1", "2025-08-01", "2025-08-31", targeted=True, payer_differs=True,
                 removed_under_39_3=flag == "has_sor_information", **{flag: False})
        assert run(FIELDS, row).status == "FAIL", flag


# ---- DSA-39-ADS-RETENTION ---------------------------------------------------------------------------------


def test_retention_not_applicable_without_an_ad_shown_in_the_period_or_the_year_before():
    result = run(RETENTION, ad("A1", "2024-01-01", "2024-06-30", removed_from_repository_at="2024-07-01"))
    assert result.status == "NOT_APPLICABLE"


def test_ads_kept_a_year_after_last_shown_pass_and_later_removals_are_not_judged_yet():
    result = run(RETENTION,
                 ad("A1", "2024-06-01", "2024-07-01", removed_from_repository_at="2025-07-01"),  # exactly a year
                 ad("A2", "2025-08-01", "2025-08-31", removed_from_repository_at="2026-03-01"),  # after period end
                 ad("A3", "2025-08-01", "2025-12-31"))
    assert result.status == "PASS" and result.evidence["count"] == 0


def test_ads_removed_before_a_year_fail_shortest_kept_first_also_when_removed_before_the_period():
    result = run(RETENTION,
                 ad("A1", "2025-01-01", "2025-03-01", removed_from_repository_at="2025-06-01"),  # before the period
                 ad("A2", "2025-08-01", "2025-09-01", removed_from_repository_at="2025-09-11"),
                 ad("A3", "2025-08-01", "2025-09-01", removed_from_repository_at="2025-12-31"))
    assert result.status == "FAIL"
    assert [(i["ad_id"], i["days_kept"]) for i in items(result)] == [("A2", 10), ("A1", 92), ("A3", 121)]
    assert result.metric["value"] == 3
    assert "before one year after they were last shown (Art. 39(1))" in result.message
