"""Numbers and words for people: one formatting module (obligations/wording.py), one label table (labels.py)."""

import pytest

from dsa_report.obligations.wording import figure, limit, measure
from dsa_report.outputs import labels


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (0.9921751, "share", "99.218%"), (100.5665, "hours", "100.6 hours (4.2 days)"), (29.52, "hours", "29.5 hours"),
    (9.299, "days", "9.3 days"), (1, "days", "1 day"), (454, "count", "454"),
    (81678120.17, "recipients", "81,678,120 recipients"), (0.7412, "ratio", "0.74"),
    (1643835.62, "eur", "EUR 1,643,836"),
    (None, "share", "n/a"),
])
def test_measure_rounds_by_unit_with_thousands_separators(value, unit, shown):
    assert measure(value, unit) == shown


@pytest.mark.parametrize(("comparator", "threshold", "unit", "words"), [
    (">=", 0.999, "share", "at least 99.9%"), ("<=", 72, "hours", "at most 72 hours (3 days)"),
    ("==", 0, "count", "none allowed"), ("<=", 0, "traders", "none allowed"),
    ("<", 45000000, "recipients", "below 45,000,000 recipients"),
])
def test_limits_read_as_words(comparator, threshold, unit, words):
    assert limit(comparator, threshold, unit) == words


def test_figure_keeps_three_significant_digits_and_separators():
    assert [figure(v) for v in (27.1405, 0.08334, 1234.56, 12345, 9.299)] == ["27.1", "0.0833", "1,234.6", "12,345",
                                                                              "9.3"]


def test_enum_keys_have_words_and_unknown_keys_are_humanised():
    assert labels.label("STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS") == "Unsafe and prohibited products"
    assert labels.label("STATEMENT_CATEGORY_SOMETHING_NEW") == "Something new"
    assert labels.label("T-000311") == "T-000311"
    assert labels.words("slowest category STATEMENT_CATEGORY_SCAMS_AND_FRAUD (DSA-16-NOTICE-TIMELINESS)") == (
        "slowest category Scams and fraud (DSA-16-NOTICE-TIMELINESS)")


def test_every_metric_of_the_contract_has_a_label_and_a_meaning():
    for name in ("sor_count", "notice_median_decision_hours", "hidden_link_median_survival_days",
                 "repeat_infringers_unsuspended", "avg_monthly_active_recipients_6m", "reappearance_rate"):
        assert labels.metric_label(name) and labels.meaning(name)


def test_a_fail_reads_rule_not_met_or_indicator_breached():
    assert labels.status_words({"status": "FAIL", "kind": "DUTY"}) == "rule not met"
    assert labels.status_words({"status": "FAIL", "kind": "INDICATOR"}) == "indicator breached"
    assert labels.status_words({"status": "WAIVED", "waived_status": "WARN"}) == "waived (warning)"
