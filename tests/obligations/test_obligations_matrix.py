"""Every obligation of the shipped catalogue through the contract's order of decision (obligations.md,
"Statuses"): (a) a tier outside applies_to gives NOT_APPLICABLE saying why; (b) a dataset or register it
needs that is missing or empty gives INSUFFICIENT_DATA naming it; (c) so does a required column absent from
the input; (d) a rule that raises gives ERROR for its obligation only. The cases are generated from the
catalogue, so an obligation added later is covered without writing a test for it."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from dsa_report.engine import registry as rules
from dsa_report.ingest.loaded import DatasetInfo, LoadedData
from dsa_report.obligations.evaluation import evaluate as evaluate_all
from dsa_report.obligations.evaluation import load_catalogue
from tables import (
    H2,
    action,
    ad,
    buyers,
    dispute,
    event,
    items,
    listing,
    make_data,
    notice,
    order,
    outcome,
    sor,
    trader,
    ts,
)

CATALOGUE = load_catalogue()

# The contract's table: id -> tiers as the contract writes them ("VLOP (marketplace)": tier VLOP with
# marketplace: true).
CONTRACT_TIERS = {
    "DSA-17-SOR-COVERAGE": "HOSTING+",
    "DSA-17-SOR-COMPLETENESS": "HOSTING+",
    "DSA-24.5-SOR-SUBMISSION-DELAY": "PLATFORM+",
    "DSA-16-NOTICE-ACKNOWLEDGEMENT": "HOSTING+",
    "DSA-16-NOTICE-TIMELINESS": "HOSTING+",
    "DSA-22-TRUSTED-FLAGGER-PRIORITY": "PLATFORM+",
    "DSA-20-COMPLAINT-TIMELINESS": "PLATFORM+",
    "DSA-20.6-HUMAN-REVIEW": "PLATFORM+",
    "DSA-20-REVERSAL-RATE": "PLATFORM+",
    "DSA-23.1-REPEAT-INFRINGER-SUSPENSION": "PLATFORM+",
    "DSA-23.1-PRIOR-WARNING": "PLATFORM+",
    "DSA-23.1-SUSPENSION-DURATION": "PLATFORM+",
    "DSA-23.2-UNFOUNDED-NOTIFIERS": "PLATFORM+",
    "DSA-30-KYBC-COMPLETENESS": "MARKETPLACE+",
    "DSA-30-KYBC-VERIFICATION": "MARKETPLACE+",
    "DSA-35-REAPPEARANCE-RATE": "VLOP (marketplace)",
    "DSA-35-HIDDEN-LINK-SURVIVAL": "VLOP (marketplace)",
    "DSA-35-HIDDEN-LINK-PENALTIES": "VLOP (marketplace)",
    "DSA-35-PROACTIVE-DETECTION": "VLOP (marketplace)",
    "DSA-24.2-ACTIVE-RECIPIENTS-PUBLICATION": "PLATFORM+",
    "DSA-33-VLOP-THRESHOLD": "PLATFORM+",
    "DSA-34-RA-FRESHNESS": "VLOP",
    "DSA-34-RA-COVERAGE": "VLOP",
    "DSA-34-RA-BEFORE-LAUNCH": "VLOP",
    "DSA-34-RA-OWN-DATA": "VLOP",
    "DSA-35-MITIGATION-COVERAGE": "VLOP",
    "DSA-35-MITIGATION-EFFECTIVENESS": "VLOP",
    "DSA-37-AUDIT-FRESHNESS": "VLOP",
    "DSA-42.4-AUDIT-PUBLICATION": "VLOP",
    "DSA-42-TRANSPARENCY-REPORT": "VLOP",
    "DSA-71-COMMITMENTS": "VLOP",
    "DSA-30.7-TRADER-INFO-SHOWN": "MARKETPLACE+",
    "DSA-31-INTERFACE-FIELDS": "MARKETPLACE+",
    "DSA-31.3-PRE-LISTING": "MARKETPLACE+",
    "DSA-27-RECOMMENDER-PARAMETERS": "PLATFORM+",
    "DSA-38-NON-PROFILING-OPTION": "VLOP",
    "DSA-40-DATA-ACCESS": "VLOP",
    "DSA-9-EFFECT-REPORTED": "HOSTING+",
    "DSA-10-ORDER-RECEIPT": "HOSTING+",
    "DSA-10-INFORMATION-ORDERS": "HOSTING+",
    "DSA-21-ODS-IMPLEMENTATION": "PLATFORM+",
    "DSA-32-BUYERS-INFORMED": "MARKETPLACE+",
    "DSA-39-ADS-IN-REPOSITORY": "VLOP",
    "DSA-39-ADS-REPOSITORY-FIELDS": "VLOP",
    "DSA-39-ADS-RETENTION": "VLOP",
}
ORDER = ("HOSTING", "PLATFORM", "MARKETPLACE", "VLOP")
PLATFORMS = (("HOSTING", False), ("PLATFORM", False), ("MARKETPLACE", True), ("VLOP", False), ("VLOP", True))
IDS = [ob.id for ob in CATALOGUE]


def test_the_shipped_catalogue_covers_exactly_the_contract_table():
    assert len(CONTRACT_TIERS) == 31 + 6 + 8
    assert sorted(IDS) == sorted(CONTRACT_TIERS)
    assert len(set(IDS)) == len(IDS)


# ---- (a) tier outside applies_to ----------------------------------------------------------------------


def owed(tiers: str, tier: str, marketplace: bool) -> bool:
    """The contract's reading of a tiers label: cumulative from the lowest tier named; MARKETPLACE+ and
    "VLOP (marketplace)" reach a VLOP only when it is a marketplace ("a VLOP marketplace sets tier: VLOP and
    marketplace: true")."""
    if tiers == "VLOP (marketplace)":
        return tier == "VLOP" and marketplace
    if not tiers.endswith("+"):
        return tier == tiers
    lowest = tiers[:-1]
    if ORDER.index(tier) < ORDER.index(lowest):
        return False
    return not (lowest == "MARKETPLACE" and tier == "VLOP" and not marketplace)


def scope_words(tiers: str) -> str:
    return f"{tiers[:-1]} and above" if tiers.endswith("+") else f"{tiers} only"


@pytest.fixture(scope="module")
def empty() -> LoadedData:
    return make_data({})  # no data at all


@pytest.mark.parametrize("obligation_id", IDS)
def test_a_tier_outside_applies_to_is_not_applicable_and_says_why(empty, obligation_id):
    """With no data at all: the tier is decided before anything is found missing."""
    tiers = CONTRACT_TIERS[obligation_id]
    assert CATALOGUE.get(obligation_id).applies_to == tiers
    for tier, marketplace in PLATFORMS:
        result = outcome(obligation_id, empty, tier=tier, marketplace=marketplace)
        if owed(tiers, tier, marketplace):
            assert not result.message.startswith("This obligation applies to"), (tier, marketplace)
            assert result.status in ("INSUFFICIENT_DATA", "NOT_APPLICABLE")  # NOT_APPLICABLE: DSA-71, see (b)
        else:
            kind = f"{tier}, not a marketplace" if tier == "VLOP" else tier  # the only VLOP left out
            assert result.status == "NOT_APPLICABLE", (tier, marketplace)
            assert result.message == f"This obligation applies to {scope_words(tiers)}; platform tier is {kind}."
            assert result.missing == [] and result.evidence == {"count": 0, "sample": []}


# ---- a platform whose data gives every obligation what it needs ---------------------------------------


def rich_tables() -> dict[str, list[dict]]:
    tf = {"source_type": "SOURCE_TRUSTED_FLAGGER"}
    return {
        "statements_of_reasons": [
            sor("S1", "2025-08-01 10:00", trader_id="T1", item_id="I1", notice_id="N1", has_decision_facts=True,
                created_at=ts("2025-08-02"), automated_detection=True,
                automated_decision="AUTOMATED_DECISION_PARTIALLY"),
            sor("S2", "2025-08-03 10:00", ground="INCOMPATIBLE", trader_id="T2", item_id="I2", has_decision_facts=True,
                created_at=ts("2025-08-03 12:00"), automated_detection=False,
                automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED"),
            *(sor(f"R{n}", f"2025-09-0{n + 1} 09:00", trader_id="T3", item_id=f"RI{n}", has_decision_facts=True,
                  created_at=ts(f"2025-09-0{n + 1} 10:00")) for n in range(3)),
        ],
        "notices": [
            notice("N1", "2025-07-30 08:00", decided_after_hours=20, outcome="ACTION_TAKEN",
                   acknowledged_at=ts("2025-07-30 09:00"), notifier_id="X1"),
            notice("N2", "2025-08-10 08:00", decided_after_hours=30, outcome="NO_ACTION",
                   acknowledged_at=ts("2025-08-10 08:30"), notifier_id="X2"),
            notice("N3", "2025-08-11 08:00", decided_after_hours=5, outcome="MANIFESTLY_UNFOUNDED",
                   acknowledged_at=ts("2025-08-11 08:01"), notifier_id="X2", **tf),
            # Art. 22 compares trusted flaggers with others within a category holding at least 10 of each
            *(notice(f"P{n:02d}", "2025-09-01 08:00", decided_after_hours=4 + 4 * (n % 2), outcome="NO_ACTION",
                     acknowledged_at=ts("2025-09-01 09:00"), category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
                     **(tf if n % 2 == 0 else {})) for n in range(20)),
        ],
        "complaints": [
            {"complaint_id": "C1", "received_at": ts("2025-08-01"), "decided_at": ts("2025-08-03"),
             "outcome": "DECISION_UPHELD", "decided_solely_automated": False},
            {"complaint_id": "C2", "received_at": ts("2025-09-01"), "decided_at": ts("2025-09-02"),
             "outcome": "DECISION_REVERSED", "decided_solely_automated": False},
        ],
        "traders": [trader("T1", kyc_verified_at=ts("2025-01-05")), trader("T2", kyc_verified_at=ts("2025-02-01")),
                    trader("T3", status="SUSPENDED", kyc_verified_at=ts("2025-02-01"))],
        "enforcement_actions": [
            action("A1", "T3", "WARNING", "2025-06-01", reason="ILLEGAL_CONTENT"),
            action("A2", "T3", "SUSPENSION", "2025-09-05", reason="ILLEGAL_CONTENT", ends_at=ts("2025-10-05")),
            action("A3", "T3", "REINSTATEMENT", "2025-10-05", reason="ILLEGAL_CONTENT"),
            action("A4", "T1", "PENALTY_POINTS", "2025-08-12", reason="HIDDEN_LINKS", points=3),
        ],
        "listing_events": [
            event("L1", "I1", "LISTED", "2025-08-09", trader_id="T1", hidden_link=False),
            event("L2", "I1", "REMOVED", "2025-08-10", trader_id="T1", hidden_link=True, detection="PROACTIVE"),
            event("L3", "I2", "LISTED", "2025-08-01", trader_id="T2", hidden_link=False),
            event("L4", "I2", "REMOVED", "2025-08-20", trader_id="T2", detection="NOTICE"),
            event("L5", "I9", "BLOCKED_PRE_LISTING", "2025-08-21", trader_id="T2", detection="PROACTIVE"),
            event("L6", "I7", "REAPPEARED", "2025-08-25", trader_id="T2", reappearance_of="I2"),
        ],
        "active_recipients": [
            {"month": f"2025-{m:02d}", "member_state": state, "active_recipients": 1_000_000}
            for m in range(7, 13) for state in ("DE", "FR")
        ],
        "listings": [
            listing("I1", "T1"), listing("I2", "T2", shows_trader_info=False, has_product_identification=None),
        ],
        "orders": [
            order("O1", "ACT", "2025-08-01", outcome="GIVEN_EFFECT", effect_given_at="2025-08-02",
                  effect_reported_at="2025-08-02 10:00", deadline_at="2025-08-05"),
            order("O2", "INFO", "2025-08-01", acknowledged_at="2025-08-01 12:00", deadline_at="2025-08-20",
                  outcome="GIVEN_EFFECT", effect_given_at="2025-08-10", effect_reported_at="2025-08-10"),
        ],
        "odr_disputes": [dispute("D1", "2025-09-01", implemented="2025-09-05")],
        "buyer_notifications": [buyers("P1", "2025-08-01", 100, 80, 80, "2025-08-03", "2025-08-04")],
        "ads": [ad("AD1", "2025-08-01", "2025-08-31")],
        "moderation_staff": [{"month": "2025-08", "language": "de", "staff": 12.5}],
    }


def rich_registers() -> dict[str, list[dict]]:
    kri = {"metric": "hidden_link_median_survival_days", "comparator": "<=", "target": 2}
    categories = ("ILLEGAL_CONTENT", "FUNDAMENTAL_RIGHTS", "CIVIC_DISCOURSE_ELECTIONS_PUBLIC_SECURITY",
                  "PUBLIC_HEALTH_MINORS_WELLBEING")
    return {
        "risk_assessments": [{
            "id": "RA-2025", "completed_at": date(2025, 8, 28),
            "data_period": {"start": date(2024, 7, 1), "end": date(2025, 6, 30)},
            "risks": [
                {"id": f"R-{n}", "category": c, "residual_severity": "HIGH",
                 "mitigations": [{"id": f"M-{n}", "measure": "a measure", "status": "IMPLEMENTED", "kri": kri}]}
                for n, c in enumerate(categories)
            ],
        }],
        "launches": [{"feature": "Live shopping", "launched_at": date(2025, 9, 1), "critical_impact": True,
                      "risk_assessment": "RA-2025"}],
        "commitments": [{"id": "C-1", "title": "Remove hidden links quickly", "kri": kri, "due": date(2025, 12, 31)}],
        "publications": [
            {"kind": "ACTIVE_RECIPIENTS", "period": "2025-H1", "published_at": date(2025, 8, 1)},
            {"kind": "AUDIT_REPORT", "period": "2024", "published_at": date(2025, 3, 1)},
            {"kind": "TRANSPARENCY_REPORT", "period": "2024-H2", "published_at": date(2025, 2, 20)},
            {"kind": "TRANSPARENCY_REPORT", "period": "2025-H1", "published_at": date(2025, 8, 20)},
        ],
        "audits": [{"id": "AUD-2024", "report_received_at": date(2025, 1, 15), "opinion": "POSITIVE"}],
        "listing_interface": [{"fields": ["economic_operator_contact", "product_identification", "trader_sign"]}],
        "recommender_systems": [{"id": "SEARCH", "parameters_in_terms": True, "options_in_terms": True,
                                 "options": 2, "selector_available": True, "non_profiling_option": True,
                                 "non_profiling_option_since": date(2024, 6, 1),
                                 "setting_reachable_from_interface": True}],
        "data_access_requests": [
            {"id": "DAR-1", "kind": "VETTED_RESEARCHER", "received_at": date(2025, 7, 3),
             "deadline_at": date(2025, 10, 1), "amendment_requested_at": None, "access_provided_at": date(2025, 9, 30)},
            {"id": "DAR-2", "kind": "PUBLIC_DATA", "received_at": date(2025, 8, 1), "access_provided_at": None},
        ],
    }


@pytest.fixture(scope="module")
def rich() -> LoadedData:
    data = make_data(rich_tables(), registers=rich_registers())
    data.con.execute("SET threads = 1")  # a few rows a table: threads only add start-up time
    return data


@pytest.fixture(scope="module")
def baseline(rich):
    results, metrics = evaluate_all(CATALOGUE, rich, H2, tier="VLOP", marketplace=True)
    return {ob.id: o for ob, o, _ in results}, metrics


def test_the_rich_platform_gives_every_obligation_its_inputs(baseline):
    """What (b), (c) and (d) change is the only cause of what they see: here every rule decides."""
    outcomes, metrics = baseline
    assert {i: o.status for i, o in outcomes.items() if o.status in ("ERROR", "INSUFFICIENT_DATA")} == {}
    assert all(o.missing == [] for o in outcomes.values())
    assert {o.status for o in outcomes.values()} >= {"PASS", "FAIL"}
    assert {"PASS", "WARN", "FAIL"} <= {o.status for o in outcomes.values()}
    assert all(m["value"] is not None for m in metrics.values())


def without(data: LoadedData, *, dataset: str | None = None, empty: bool = False, register: str | None = None,
            columns: tuple[str, str] | None = None) -> LoadedData:
    """The same tables, as the loader would describe them had a dataset not been found (files=0) or held no
    clean row (rows=0), a column been absent from every file, or a register file not existed."""
    datasets = dict(data.datasets)
    if dataset is not None:
        info = datasets[dataset]
        datasets[dataset] = dataclasses.replace(info, rows=0) if empty else DatasetInfo(0, 0, info.columns)
    if columns is not None:
        name, column = columns
        datasets[name] = dataclasses.replace(datasets[name], columns=datasets[name].columns - {column})
    registers = {k: v for k, v in data.registers.items() if k != register}
    return dataclasses.replace(data, datasets=datasets, registers=registers)


# ---- (b) a dataset or register it needs is missing or empty -------------------------------------------

NEEDS = [
    pytest.param(ob.id, kind, name, id=f"{ob.id}-{kind}-{name}")
    for ob in CATALOGUE
    for kind, name in [*(("dataset", d) for d in ob.datasets), *(("register", r) for r in ob.registers)]
    or [("nothing", None)]
]


@pytest.mark.parametrize(("obligation_id", "kind", "name"), NEEDS)
def test_a_missing_input_is_insufficient_data_naming_it(rich, obligation_id, kind, name):
    if kind == "dataset":
        for empty in (False, True):  # not found at all, or found with no clean row: the same for the rule
            result = outcome(obligation_id, without(rich, dataset=name, empty=empty))
            assert result.status == "INSUFFICIENT_DATA", empty
            assert result.missing == [f"dataset {name}"]
            assert result.message == f"Cannot be evaluated: dataset {name} missing, empty or unreadable."
    elif kind == "register":
        result = outcome(obligation_id, without(rich, register=name))
        assert result.status == "INSUFFICIENT_DATA"
        assert result.missing == [f"register {name}"]
        assert f"register {name}" in result.message
    else:  # DSA-71: the commitments register is optional by design (catalogue: no registers, rule decides)
        assert obligation_id == "DSA-71-COMMITMENTS"
        result = outcome(obligation_id, without(rich, register="commitments"), tier="VLOP", marketplace=False)
        assert result.status == "NOT_APPLICABLE"
        assert result.message == "The platform has no registered binding commitments."
        assert result.missing == []
        empty_register = dataclasses.replace(rich, registers={**rich.registers, "commitments": []})
        assert outcome(obligation_id, empty_register).status == "NOT_APPLICABLE"


def test_every_input_of_every_obligation_is_named_when_all_are_missing(empty):
    result_by_id = {ob.id: outcome(ob.id, empty) for ob in CATALOGUE}
    for ob in CATALOGUE:
        expected = [f"dataset {d}" for d in ob.datasets] + [f"register {r}" for r in ob.registers]
        if expected:
            assert result_by_id[ob.id].status == "INSUFFICIENT_DATA", ob.id
            assert result_by_id[ob.id].missing == expected, ob.id


# ---- (c) a required column is absent from the input ---------------------------------------------------

COLUMNS = [
    pytest.param(ob.id, dataset, column, id=f"{ob.id}-{dataset}.{column}")
    for ob in CATALOGUE for dataset, columns in ob.columns.items() for column in columns
]


def test_every_obligation_reading_a_dataset_declares_the_columns_it_needs():
    for ob in CATALOGUE:
        assert set(ob.columns) == set(ob.datasets), ob.id
        assert all(ob.columns[d] for d in ob.datasets), ob.id
    assert {p.values[0] for p in COLUMNS} == {ob.id for ob in CATALOGUE if ob.datasets}


@pytest.mark.parametrize(("obligation_id", "dataset", "column"), COLUMNS)
def test_an_absent_required_column_is_insufficient_data_naming_it(rich, obligation_id, dataset, column):
    result = outcome(obligation_id, without(rich, columns=(dataset, column)))
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == [f"column {dataset}.{column}"]
    assert f"column {dataset}.{column}" in result.message


def test_all_absent_columns_are_named_together(rich):
    ob = CATALOGUE.get("DSA-35-HIDDEN-LINK-PENALTIES")
    data = rich
    for dataset, columns in ob.columns.items():
        for column in columns:
            data = without(data, columns=(dataset, column))
    result = outcome(ob.id, data)
    assert result.missing == [f"column {d}.{c}" for d, cs in ob.columns.items() for c in cs]


# ---- (d) a rule that raises ----------------------------------------------------------------------------


@pytest.mark.parametrize("obligation_id", IDS)
def test_a_rule_that_raises_is_an_error_for_that_obligation_only(rich, baseline, monkeypatch, obligation_id):
    broken_rule = CATALOGUE.get(obligation_id).rule

    def broken(ctx, p):
        raise RuntimeError(f"{broken_rule} broke")

    monkeypatch.setitem(rules.RULES, broken_rule, broken)
    results, metrics = evaluate_all(CATALOGUE, rich, H2, tier="VLOP", marketplace=True)
    before, metrics_before = baseline
    for ob, result, _ in results:
        if ob.rule == broken_rule:
            assert (result.status, result.message) == ("ERROR", f"RuntimeError: {broken_rule} broke"), ob.id
            assert result.evidence == {"count": 0, "sample": []} and result.metric is None
        else:
            assert (result.status, result.message, result.metric) == (
                before[ob.id].status, before[ob.id].message, before[ob.id].metric), ob.id
            assert items(result) == items(before[ob.id]), ob.id
    assert metrics == metrics_before  # the metrics layer does not go through the rule registry


def test_an_error_is_never_turned_into_a_pass_by_the_order_of_decision(rich, monkeypatch):
    """A rule that raises on a tier it does not apply to is never run; with a missing input neither."""
    calls = []

    def broken(ctx, p):
        calls.append(p)
        raise RuntimeError("boom")

    monkeypatch.setitem(rules.RULES, "ra_freshness", broken)
    assert outcome("DSA-34-RA-FRESHNESS", rich, tier="PLATFORM", marketplace=False).status == "NOT_APPLICABLE"
    assert outcome("DSA-34-RA-FRESHNESS", without(rich, register="risk_assessments")).status == "INSUFFICIENT_DATA"
    assert calls == []
    assert outcome("DSA-34-RA-FRESHNESS", rich).status == "ERROR" and len(calls) == 1
