"""Data access for researchers (obligations.md, "Obligations added in v2", DSA-40-DATA-ACCESS): vetted-researcher
requests by their own deadline and the 15-day amendment window (Art. 40(4)-(5)); public-data requests by their
censored median days to access (Art. 40(12))."""

from datetime import date

from dsa_report.obligations.evaluation import default_catalogue
from tables import H2, Q3, items, make_data, outcome

ID = "DSA-40-DATA-ACCESS"


def vetted(rid: str, received: date, deadline: date | None, provided: date | None = None,
           amended: date | None = None) -> dict:
    return {"id": rid, "kind": "VETTED_RESEARCHER", "received_at": received, "deadline_at": deadline,
            "amendment_requested_at": amended, "access_provided_at": provided}


def public(rid: str, received: date, provided: date | None = None) -> dict:
    return {"id": rid, "kind": "PUBLIC_DATA", "received_at": received, "deadline_at": None,
            "amendment_requested_at": None, "access_provided_at": provided}


def requests(*entries: dict):
    return make_data({}, registers={"data_access_requests": list(entries)})


def test_the_catalogue_reads_15_days_as_the_law_and_30_as_an_internal_threshold():
    ob = default_catalogue().get(ID)
    assert ob.parameters == {"amendment_days": 15, "warn_median_days": 30}
    assert ob.basis == {"amendment_days": "LAW", "warn_median_days": "POLICY"}
    assert (ob.kind, ob.tiers) == ("INDICATOR", ("VLOP",))


def test_access_by_the_deadline_passes_a_day_later_fails():
    on_time = requests(vetted("DAR-1", date(2025, 7, 3), date(2025, 10, 1), provided=date(2025, 10, 1)))
    result = outcome(ID, on_time)
    assert result.status == "PASS" and result.evidence["count"] == 0
    assert result.metric == {"name": "vetted_requests_late", "value": 0, "unit": "count", "comparator": "==",
                             "threshold": 0}
    late = requests(vetted("DAR-1", date(2025, 7, 3), date(2025, 10, 1), provided=date(2025, 10, 2)))
    result = outcome(ID, late)
    assert result.status == "FAIL"
    assert items(result) == [{"id": "DAR-1", "kind": "VETTED_RESEARCHER", "received_at": "2025-07-03",
                              "deadline_at": "2025-10-01", "amendment_requested_at": None,
                              "access_provided_at": "2025-10-02", "problems": ["access provided 1 day after the "
                                                                               "deadline"],
                              "days_late": 1, "open": False}]
    assert "breach" not in result.message.lower()


def test_no_access_past_the_deadline_fails_first_and_not_yet_due_is_pending():
    data = requests(
        vetted("DAR-LATE", date(2025, 7, 3), date(2025, 9, 1), provided=date(2025, 9, 20)),  # 19 days late
        vetted("DAR-OPEN", date(2025, 8, 1), date(2025, 12, 1)),  # 30 days past it at period end, still open
        vetted("DAR-NEXT", date(2025, 11, 1), date(2026, 2, 1)),  # not yet due
        vetted("DAR-AFTER", date(2025, 8, 1), date(2025, 12, 30), provided=date(2026, 1, 5)),  # open at period end
    )
    result = outcome(ID, data)
    assert result.status == "FAIL"
    assert [(i["id"], i["days_late"], i["open"]) for i in items(result)] == [
        ("DAR-OPEN", 30, True), ("DAR-AFTER", 1, True), ("DAR-LATE", 19, False)]
    assert items(result)[0]["problems"] == ["no access by period end, 30 days after the deadline"]
    assert result.evidence["pending"]["count"] == 1
    assert result.evidence["pending"]["sample"][0]["id"] == "DAR-NEXT"
    assert result.evidence["vetted_in_scope"] == 4


def test_an_amendment_may_be_asked_within_15_days_of_receipt():
    in_time = requests(vetted("DAR-1", date(2025, 7, 1), date(2025, 10, 1), date(2025, 9, 1), date(2025, 7, 16)))
    assert outcome(ID, in_time).status == "PASS"
    late = requests(vetted("DAR-1", date(2025, 7, 1), date(2025, 10, 1), date(2025, 9, 1), date(2025, 7, 17)))
    result = outcome(ID, late)
    assert result.status == "FAIL"
    assert items(result)[0]["problems"] == ["amendment asked 16 days after receipt"]
    assert items(result)[0]["days_late"] == 1


def test_public_data_median_counts_open_requests_with_their_age_at_period_end():
    """10 and 40 days answered, one open since 1 Dec (31 days at 2026-01-01): censored median 31 > 30. Leaving the
    open request out would give 25 days and a PASS."""
    data = requests(public("P1", date(2025, 8, 1), date(2025, 8, 11)),
                    public("P2", date(2025, 9, 1), date(2025, 10, 11)), public("P3", date(2025, 12, 1)))
    result = outcome(ID, data)
    assert result.status == "WARN"
    assert result.evidence["public_median_days"] == 31
    assert result.metric == {"name": "public_data_access_median_days", "value": 31, "unit": "days",
                             "comparator": "<=", "threshold": 30}
    assert [(i["id"], i["days_to_access"], i["open"]) for i in items(result)] == [("P2", 40, False),
                                                                                 ("P3", 31, True)]
    assert "internal threshold 30 days" in result.message
    quick = requests(public("P1", date(2025, 8, 1), date(2025, 8, 11)), public("P2", date(2025, 12, 20)))
    assert outcome(ID, quick).status == "PASS"  # 10 and 12 days


def test_requests_are_judged_in_every_period_they_are_open_in():
    answered_before = requests(vetted("DAR-0", date(2025, 1, 3), date(2025, 3, 1), provided=date(2025, 6, 30)),
                               public("P0", date(2025, 5, 1), date(2025, 6, 30)))
    result = outcome(ID, answered_before)
    assert result.status == "NOT_APPLICABLE"
    assert result.message == "No data access request was open in the period."
    assert outcome(ID, requests()).status == "NOT_APPLICABLE"  # an empty register is data: none received
    future = requests(vetted("DAR-9", date(2026, 1, 3), date(2026, 3, 1)))
    assert outcome(ID, future, H2).status == "NOT_APPLICABLE"
    carried = requests(vetted("DAR-0", date(2025, 1, 3), date(2025, 3, 1)))  # still unanswered: every period
    assert outcome(ID, carried, Q3).status == "FAIL"
    assert items(outcome(ID, carried, H2))[0]["days_late"] == 305  # 1 Mar to 31 Dec
    backlog = requests(public("P0", date(2025, 5, 1)))  # open since May: 153 days at 1 Oct
    result = outcome(ID, backlog, Q3)
    assert result.status == "WARN" and result.evidence["public_median_days"] == 153


def test_a_request_that_cannot_be_checked_is_insufficient_data_unless_another_fails():
    unknown = requests(vetted("DAR-1", date(2025, 7, 3), date(2025, 10, 1), provided=date(2025, 9, 1)),
                       vetted("DAR-2", date(2025, 7, 3), None),
                       {"id": "DAR-3", "kind": "RESEARCH", "received_at": date(2025, 8, 1)},
                       {"id": "DAR-4", "kind": "PUBLIC_DATA", "received_at": "last week"})
    result = outcome(ID, unknown)
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == [
        "register data_access_requests: request DAR-2 (deadline_at missing)",
        "register data_access_requests: request DAR-3 (kind 'RESEARCH' is not VETTED_RESEARCHER or PUBLIC_DATA)",
        "register data_access_requests: request DAR-4 (received_at missing or not a date)",
    ]
    assert "3 requests cannot be checked" in result.message
    failing = requests(vetted("DAR-1", date(2025, 7, 3), date(2025, 10, 1)), vetted("DAR-2", date(2025, 7, 3), None))
    result = outcome(ID, failing)
    assert result.status == "FAIL"
    assert result.evidence["unchecked"] == [{"id": "DAR-2", "reason": "deadline_at missing"}]


def test_data_access_is_vlop_only_and_needs_the_register():
    data = requests(vetted("DAR-1", date(2025, 7, 3), date(2025, 10, 1)))
    assert outcome(ID, data, H2, tier="MARKETPLACE", marketplace=True).status == "NOT_APPLICABLE"
    result = outcome(ID, make_data({}))
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["register data_access_requests"]
