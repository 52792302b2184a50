"""Recommender systems (obligations.md, "Obligations added in v2"): parameters and options in the terms and
conditions with a selector (Art. 27), an option not based on profiling for VLOPs (Art. 38)."""

from datetime import date

import pytest

from tables import items, make_data, outcome

PARAMETERS = "DSA-27-RECOMMENDER-PARAMETERS"
PROFILING = "DSA-38-NON-PROFILING-OPTION"


def system(sid: str, **fields) -> dict:
    """A recommender system in order on both counts (the data contract's example row)."""
    return {"id": sid, "parameters_in_terms": True, "options_in_terms": True, "options": 2,
            "selector_available": True, "non_profiling_option": True, "non_profiling_option_since": date(2024, 6, 1),
            "setting_reachable_from_interface": True} | fields


def register(*systems: dict):
    return make_data({}, registers={"recommender_systems": list(systems)})


# ---- Art. 27 ------------------------------------------------------------------------------------------


def test_systems_explained_with_a_selector_pass():
    result = outcome(PARAMETERS, register(system("HOME-FEED"), system("SEARCH", options=1, selector_available=False)),
                     tier="PLATFORM", marketplace=False)
    assert result.status == "PASS"  # one option: no selector owed
    assert result.message.endswith(": 0 of 2 systems.")


def test_parameters_or_options_missing_from_the_terms_fail_naming_the_systems():
    data = register(
        system("HOME-FEED"),
        system("SEARCH", parameters_in_terms=False),
        system("SIMILAR", parameters_in_terms=False, options_in_terms=False, selector_available=False),
        system("DEALS", options_in_terms=False),
    )
    result = outcome(PARAMETERS, data)
    assert result.status == "FAIL"
    assert [i["id"] for i in items(result)] == ["SIMILAR", "DEALS", "SEARCH"]  # most problems first, then id
    assert items(result)[0]["problems"] == [
        "main parameters not set out in the terms and conditions",
        "options to modify or influence the main parameters not set out in the terms and conditions",
        "no easily accessible selector between the options",
    ]
    assert result.message.endswith("(Art. 27): 3 of 4 systems: SIMILAR, DEALS, SEARCH.")
    assert result.metric["value"] == 3


@pytest.mark.parametrize(("fields", "problems"), [
    ({"options": 0, "options_in_terms": False, "selector_available": False}, []),  # no option: nothing to set out
    ({"options": 1, "options_in_terms": False}, ["options to modify or influence the main parameters not set out "
                                                 "in the terms and conditions"]),
    ({"options": 3, "selector_available": False}, ["no easily accessible selector between the options"]),
    ({"options": None, "selector_available": None},
     ["no easily accessible selector between the options, whose number is not stated (selector_available "
      "not stated)"]),
])
def test_options_and_selector_are_owed_by_the_number_of_options(fields, problems):
    result = outcome(PARAMETERS, register(system("S", **fields)))
    assert (items(result)[0]["problems"] if items(result) else []) == problems
    assert result.status == ("FAIL" if problems else "PASS")


def test_a_flag_the_register_does_not_state_is_unknown_never_met():
    entry = system("S")
    del entry["parameters_in_terms"]
    result = outcome(PARAMETERS, register(entry))
    assert result.status == "FAIL"
    assert items(result)[0]["problems"] == [
        "main parameters not set out in the terms and conditions (parameters_in_terms not stated)"]


def test_an_empty_register_or_none_is_insufficient_data():
    result = outcome(PARAMETERS, register())
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == ["register recommender_systems (lists no system)"]
    assert "search ranking is a recommender system too (Art. 3(s))" in result.message
    result = outcome(PARAMETERS, make_data({}))
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["register recommender_systems"]
    assert outcome(PARAMETERS, register(system("S")), tier="HOSTING", marketplace=False).status == "NOT_APPLICABLE"


# ---- Art. 38 ------------------------------------------------------------------------------------------


def test_every_system_with_a_reachable_non_profiling_option_passes():
    result = outcome(PROFILING, register(system("HOME-FEED"), system("SEARCH", non_profiling_option_since=None)))
    assert result.status == "PASS"
    assert result.metric == {"name": "recommender_systems_without_non_profiling_option", "value": 0,
                             "unit": "count", "comparator": "==", "threshold": 0}


def test_a_system_without_option_or_not_reachable_fails():
    data = register(system("HOME-FEED"), system("SEARCH", non_profiling_option=False),
                    system("SIMILAR", setting_reachable_from_interface=False),
                    system("DEALS", setting_reachable_from_interface=None))
    result = outcome(PROFILING, data)
    assert result.status == "FAIL"
    assert [(i["id"], i["problems"]) for i in items(result)] == [
        ("DEALS", ["the non-profiling option is not reachable from the online interface "
                   "(setting_reachable_from_interface not stated)"]),
        ("SEARCH", ["no option not based on profiling"]),
        ("SIMILAR", ["the non-profiling option is not reachable from the online interface"]),
    ]
    assert "(Art. 38): 3 of 4 systems" in result.message


def test_an_option_offered_only_after_period_start_is_not_there_throughout_the_period():
    on_time = register(system("S", non_profiling_option_since=date(2025, 7, 1)))
    assert outcome(PROFILING, on_time).status == "PASS"
    for since, where in ((date(2025, 7, 2), "after period start"), (date(2026, 2, 1), "after period end")):
        result = outcome(PROFILING, register(system("S", non_profiling_option_since=since)))
        assert result.status == "FAIL"
        assert items(result)[0]["problems"] == [f"option not based on profiling offered only since {since}, {where}"]
    junk = outcome(PROFILING, register(system("S", non_profiling_option_since="soon")))
    assert junk.status == "FAIL" and items(junk)[0]["problems"] == ["non_profiling_option_since 'soon' is not a date"]


def test_non_profiling_is_vlop_only_and_needs_the_register():
    data = register(system("S", non_profiling_option=False))
    assert outcome(PROFILING, data, tier="MARKETPLACE", marketplace=True).status == "NOT_APPLICABLE"
    assert outcome(PROFILING, data, tier="VLOP", marketplace=False).status == "FAIL"  # binds every VLOP
    assert outcome(PROFILING, register()).status == "INSUFFICIENT_DATA"
    assert outcome(PROFILING, make_data({})).missing == ["register recommender_systems"]
