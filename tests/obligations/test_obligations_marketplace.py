"""Marketplace design duties (obligations.md, "Obligations added in v2"): the trader's identity shown with live
listings (Art. 30(7)), the listing form's fields (Art. 31(1)-(2)) and the information in live listings with
random checks (Art. 31(3))."""

from tables import H2, items, listing, make_data, outcome, ts

SHOWN = "DSA-30.7-TRADER-INFO-SHOWN"
FIELDS = "DSA-31-INTERFACE-FIELDS"
PRE_LISTING = "DSA-31.3-PRE-LISTING"
ALL_FIELDS = ["economic_operator_contact", "product_identification", "trader_sign", "safety_labelling"]


def listings(*rows: dict):
    return make_data({"listings": list(rows)})


# ---- Art. 30(7) ---------------------------------------------------------------------------------------


def test_every_listing_showing_the_trader_passes():
    result = outcome(SHOWN, listings(listing("I1"), listing("I2", "T2")))
    assert result.status == "PASS"
    assert result.metric["value"] == 1 and result.evidence["count"] == 0
    assert result.message == ("Live listings at period end not showing the trader's name, address, telephone, "
                              "e-mail, self-certification and trade register details (Art. 30(7)): 0 of 2, from "
                              "0 traders.")


def test_listings_not_showing_the_trader_fail_by_trader_most_listings_first():
    data = listings(
        listing("I1", "T1", shows_trader_info=False),
        listing("I2", "T2", shows_trader_info=False), listing("I3", "T2", shows_trader_info=False),
        listing("I4", "T2"),
        listing("I5", "T0", shows_trader_info=False),  # ties with T1: by trader id
        listing("I6", None, shows_trader_info=False), listing("I7", None, shows_trader_info=False),
    )
    result = outcome(SHOWN, data)
    assert result.status == "FAIL"
    # most such listings first; ties by trader id, the unknown trader after the known one
    assert [i["trader_id"] for i in items(result)] == ["T2", None, "T0", "T1"]
    assert items(result)[0] == {"trader_id": "T2", "listings_not_showing": 2, "of_which_unknown": 0,
                                "live_listings": 3, "example_items": ["I2", "I3"]}
    assert result.evidence["listings"] == 6 and result.evidence["count"] == 4
    assert result.metric == {"name": "trader_info_shown_share", "value": 1 / 7, "unit": "share",
                             "comparator": "==", "threshold": 1}
    assert "6 of 7" in result.message and "4 traders" in result.message
    assert "breach" not in result.message.lower()


def test_an_unknown_trader_info_flag_is_never_shown():
    result = outcome(SHOWN, listings(listing("I1"), listing("I2", shows_trader_info=None)))
    assert result.status == "FAIL"
    assert items(result)[0]["of_which_unknown"] == 1 and result.evidence["unknown"] == 1
    assert "(1 of them with the flag unknown)" in result.message


def test_trader_info_needs_the_listings_snapshot_and_a_marketplace():
    result = outcome(SHOWN, make_data({}))
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["dataset listings"]
    absent = make_data({"listings": [listing("I1")]}, columns_absent={"listings": {"shows_trader_info"}})
    assert outcome(SHOWN, absent).missing == ["column listings.shows_trader_info"]
    assert outcome(SHOWN, listings(listing("I1")), tier="PLATFORM", marketplace=False).status == "NOT_APPLICABLE"
    assert outcome(SHOWN, listings(listing("I1")), tier="VLOP", marketplace=False).status == "NOT_APPLICABLE"


# ---- Art. 31(1)-(2) -----------------------------------------------------------------------------------


def interface(*fields: str, extra: dict | None = None):
    return make_data({}, registers={"listing_interface": [{"fields": list(fields), **(extra or {})}]})


def test_a_form_with_the_four_fields_passes():
    result = outcome(FIELDS, interface(*ALL_FIELDS, "price"))
    assert result.status == "PASS"
    assert result.message == "The listing form has all 4 fields Art. 31(1)-(2) asks for."
    assert result.evidence["other_fields"] == ["price"]


def test_missing_fields_fail_naming_them():
    result = outcome(FIELDS, interface("product_identification", "trader_sign"))
    assert result.status == "FAIL"
    assert result.message == ("The listing form lacks 2 of the 4 fields Art. 31(1)-(2) asks for; missing: "
                              "economic_operator_contact, safety_labelling.")
    assert [i["field"] for i in items(result)] == ["economic_operator_contact", "safety_labelling"]
    assert "31(1)" in items(result)[0]["requirement"] and "31(2)(c)" in items(result)[1]["requirement"]
    assert result.metric["value"] == 2


def test_a_register_listing_no_fields_fails_naming_all_four():
    """An empty register is data: the form is not shown to have any field (never a PASS)."""
    for registers in ({"listing_interface": []}, {"listing_interface": [{"fields": None}]},
                      {"listing_interface": [{"form": "v2"}]}):
        result = outcome(FIELDS, make_data({}, registers=registers))
        assert result.status == "FAIL", registers
        assert [i["field"] for i in items(result)] == ALL_FIELDS
        assert result.message.startswith("The listing_interface register lists no fields of the listing form")


def test_no_interface_register_is_insufficient_data():
    result = outcome(FIELDS, make_data({}))
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["register listing_interface"]
    assert outcome(FIELDS, interface(*ALL_FIELDS), tier="HOSTING", marketplace=False).status == "NOT_APPLICABLE"


# ---- Art. 31(3) ---------------------------------------------------------------------------------------


def many(n: int, prefix: str = "OK") -> list[dict]:
    return [listing(f"{prefix}{k:03d}") for k in range(n)]


def test_complete_and_checked_listings_pass():
    result = outcome(PRE_LISTING, listings(*many(100)))
    assert result.status == "PASS"
    assert result.evidence["count"] == 0 and result.evidence["checked_share"] == 1
    assert result.metric == {"name": "listings_lacking_information_share", "value": 0, "unit": "share",
                             "comparator": "<=", "threshold": 0.01}
    assert "internal threshold 1%" in result.message and "internal threshold 5%" in result.message


def test_one_lacking_listing_in_a_hundred_passes_two_warn_listing_them():
    one = listings(*many(99), listing("X1", has_product_identification=False))
    result = outcome(PRE_LISTING, one)
    assert result.status == "PASS" and items(result) == [
        {"item_id": "X1", "trader_id": "T1", "missing": ["product_identification"], "unknown": []}]
    two = listings(*many(98), listing("X1", has_product_identification=False),
                   listing("X2", has_economic_operator=False, has_required_labelling=False))
    result = outcome(PRE_LISTING, two)
    assert result.status == "WARN"
    assert [i["item_id"] for i in items(result)] == ["X2", "X1"]  # most missing elements first
    assert items(result)[0]["missing"] == ["economic_operator_contact", "required_labelling"]
    assert result.evidence["lacking"] == 2 and result.evidence["unknown"] == 0


def test_unknown_flags_are_counted_apart_named_and_never_help_reach_a_pass():
    data = listings(*many(98), listing("X1", has_product_identification=False),
                    listing("U1", has_economic_operator=None))
    result = outcome(PRE_LISTING, data)
    assert result.status == "WARN"  # 1 lacking + 1 unknown in 100: 2% > 1%
    assert (result.evidence["lacking"], result.evidence["unknown"]) == (1, 1)
    assert [(i["item_id"], i["missing"], i["unknown"]) for i in items(result)] == [
        ("X1", ["product_identification"], []), ("U1", [], ["economic_operator_contact"])]
    assert "1 of 100, unknown for 1 more: 2% together" in result.message


def test_labelling_is_owed_only_where_product_safety_law_requires_it():
    not_required = listing("N1", labelling_required=False, has_required_labelling=None)
    required_unknown = listing("R1", labelling_required=True, has_required_labelling=None)
    both_unknown = listing("R2", labelling_required=None, has_required_labelling=None)
    stated_missing = listing("R3", labelling_required=None, has_required_labelling=False)
    result = outcome(PRE_LISTING, listings(*many(20), not_required, required_unknown, both_unknown, stated_missing))
    assert [(i["item_id"], i["missing"], i["unknown"]) for i in items(result)] == [
        ("R3", ["required_labelling"], []), ("R1", [], ["required_labelling"]), ("R2", [], ["required_labelling"])]


def test_too_few_random_checks_warn_and_old_checks_do_not_count():
    """Checked within the 365 days before period end (2026-01-01): 2025-01-01 is in, 2024-12-31 is out."""
    rows = [listing(f"L{k:02d}", random_check_at=None) for k in range(20)]
    rows[0]["random_check_at"] = ts("2024-12-31 23:59")
    result = outcome(PRE_LISTING, listings(*rows))
    assert result.status == "WARN" and result.evidence["checked_share"] == 0
    assert result.evidence["count"] == 0  # complete listings: nothing offends, the checks are too few
    rows[0]["random_check_at"] = ts("2025-01-01")
    result = outcome(PRE_LISTING, listings(*rows))
    assert result.status == "PASS" and result.evidence["checked_share"] == 0.05


def test_without_random_check_column_it_is_insufficient_data_unless_the_listings_already_warn():
    absent = {"listings": {"random_check_at"}}
    complete = make_data({"listings": many(10)}, columns_absent=absent)
    result = outcome(PRE_LISTING, complete)
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["column listings.random_check_at"]
    assert "random checks cannot be verified" in result.message
    lacking = make_data({"listings": [*many(9), listing("X1", has_economic_operator=False)]}, columns_absent=absent)
    result = outcome(PRE_LISTING, lacking)
    assert result.status == "WARN" and result.evidence["checked_share"] is None


def test_pre_listing_needs_its_flags_and_the_snapshot():
    absent = make_data({"listings": many(3)}, columns_absent={"listings": {"has_product_identification"}})
    result = outcome(PRE_LISTING, absent)
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["column listings.has_product_identification"]
    assert outcome(PRE_LISTING, make_data({})).missing == ["dataset listings"]
    assert outcome(PRE_LISTING, listings(*many(3)), period=H2, tier="HOSTING", marketplace=False).status == (
        "NOT_APPLICABLE")
