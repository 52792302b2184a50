"""evaluate_all: the order of decision, ERROR isolation, parameters, JSON-safe evidence."""

import json
from datetime import date

from dsa_report.engine import registry as rules
from dsa_report.obligations.evaluation import evaluate as evaluate_all
from dsa_report.obligations.evaluation import load_catalogue
from dsa_report.obligations.metrics import METRICS
from tables import H2, action, items, make_data, notice, outcome, sor, trader

STATUSES = {"PASS", "WARN", "FAIL", "NOT_APPLICABLE", "INSUFFICIENT_DATA", "ERROR"}


def rich_data():
    return make_data(
        {
            "statements_of_reasons": [
                sor("S1", "2025-08-01", trader_id="T1", item_id="I1", created_at=date(2025, 8, 2))
            ],
            "notices": [notice("N1", "2025-08-01", decided_after_hours=30, acknowledged_at=date(2025, 8, 1))],
            "traders": [trader("T1", kyc_id_document=False)],
            "enforcement_actions": [action("A1", "T1", "WARNING", "2025-08-01")],
        },
        registers={"risk_assessments": []},
    )


def by_id(results):
    return {ob.id: (outcome, params) for ob, outcome, params in results}


def test_every_obligation_gets_one_status_and_every_metric_a_value_or_reason():
    catalogue = load_catalogue()
    results, metrics = evaluate_all(catalogue, rich_data(), H2, tier="VLOP", marketplace=True)
    assert [ob.id for ob, _, _ in results] == catalogue.ids
    assert {o.status for _, o, _ in results} <= STATUSES
    assert list(metrics) == [m.name for m in METRICS]
    assert all(m["value"] is not None or m["reason"] for m in metrics.values())
    for _, o, _ in results:  # what findings.json will carry must serialise
        json.dumps({"metric": o.metric, "evidence": o.evidence, "items": items(o), "missing": o.missing})
        assert o.evidence["count"] >= len(o.evidence["sample"]) and len(o.evidence["sample"]) <= 20


def test_tier_is_decided_before_missing_data():
    results, _ = evaluate_all(load_catalogue(), make_data({}), H2, tier="HOSTING", marketplace=False)
    found = by_id(results)
    assert found["DSA-30-KYBC-COMPLETENESS"][0].status == "NOT_APPLICABLE"  # no traders data, but not owed
    assert found["DSA-34-RA-FRESHNESS"][0].status == "NOT_APPLICABLE"
    assert found["DSA-17-SOR-COMPLETENESS"][0].status == "INSUFFICIENT_DATA"


def test_empty_dataset_and_missing_register_are_insufficient_data():
    data = rich_data()
    data.datasets["notices"].rows = 0  # the files were there but held no clean row
    results, _ = evaluate_all(load_catalogue(), data, H2, tier="VLOP", marketplace=True)
    found = by_id(results)
    outcome = found["DSA-16-NOTICE-TIMELINESS"][0]
    assert outcome.status == "INSUFFICIENT_DATA" and outcome.missing == ["dataset notices"]
    assert "dataset notices" in outcome.message
    audit = found["DSA-37-AUDIT-FRESHNESS"][0]
    assert audit.status == "INSUFFICIENT_DATA" and audit.missing == ["register audits"]
    # a register that exists but lists nothing is data: the rule decides
    assert found["DSA-34-RA-FRESHNESS"][0].status == "FAIL"


def test_a_rule_that_raises_is_an_error_for_that_obligation_only(monkeypatch):
    def broken(ctx, p):
        raise RuntimeError("boom")

    monkeypatch.setitem(rules.RULES, "notice_timeliness", broken)
    results, metrics = evaluate_all(load_catalogue(), rich_data(), H2, tier="VLOP", marketplace=True)
    found = by_id(results)
    error = found["DSA-16-NOTICE-TIMELINESS"][0]
    assert error.status == "ERROR" and error.message == "RuntimeError: boom"
    assert found["DSA-16-NOTICE-ACKNOWLEDGEMENT"][0].status == "PASS"
    assert found["DSA-30-KYBC-COMPLETENESS"][0].status == "FAIL"
    assert metrics["notice_median_decision_hours"]["value"] == 30


def test_a_failing_query_is_an_error_never_a_pass():
    data = rich_data()
    data.con.execute("DROP TABLE traders")
    data.con.execute("CREATE TABLE traders (trader_id VARCHAR)")  # a table that lost its columns
    results, metrics = evaluate_all(load_catalogue(), data, H2, tier="VLOP", marketplace=True)
    found = by_id(results)
    assert found["DSA-30-KYBC-COMPLETENESS"][0].status == "ERROR"
    assert found["DSA-30-KYBC-VERIFICATION"][0].status == "ERROR"
    assert found["DSA-16-NOTICE-TIMELINESS"][0].status == "WARN"
    assert metrics["kybc_verified_share"]["value"] is None
    assert metrics["kybc_verified_share"]["reason"].startswith("could not be computed")


def test_overrides_merge_with_defaults_and_reach_the_rule_and_metrics():
    overrides = {"DSA-16-NOTICE-TIMELINESS": {"warn_median_hours": 48}}
    results, _ = evaluate_all(
        load_catalogue(), rich_data(), H2, tier="VLOP", marketplace=True, overrides=overrides
    )
    outcome, params = by_id(results)["DSA-16-NOTICE-TIMELINESS"]
    assert params == {"warn_median_hours": 48, "fail_median_hours": 72, "backlog_days": 7}
    assert outcome.status == "PASS"
    assert outcome.metric["threshold"] == 48


def test_the_archived_evidence_lines_are_the_items_as_json():
    from datetime import datetime
    from decimal import Decimal

    from dsa_report.engine.outcome import Outcome
    from dsa_report.outputs.evidence import evidence_jsonl

    plain = [{"uid": "S1", "at": datetime(2025, 7, 1, 10, 30), "day": date(2025, 7, 1), "ids": ["A", "B"],
              "tags": {"x"}, "n": 3, "big": Decimal("1.234567"), "none": None, "text": "Zoë <b>"}] * 2
    with_float = [{"uid": "S2", "hours": 1 / 3}, {"uid": "S3", "hours": float("inf")}]
    for rows in (plain, with_float):
        outcome = Outcome("FAIL", "m", items=rows)
        lines = evidence_jsonl(rows).decode().splitlines()
        assert [json.loads(line) for line in lines] == items(outcome)
    assert json.loads(evidence_jsonl(with_float).decode().splitlines()[0]) == {"uid": "S2", "hours": 0.3333}


def test_running_out_of_memory_in_a_rule_fails_the_run_not_the_obligation(monkeypatch):
    """An engine out of memory (or a full disk) while evaluating is the run's failure: it raises, so the run
    is retried and alarmed, instead of one ERROR finding in a report that still goes out."""
    import pytest

    from dsa_report.engine import registry

    class OutOfMemoryException(Exception):  # the name DuckDB gives it
        pass

    def exhausted(ctx, p):
        raise OutOfMemoryException("could not allocate block of size 256 KiB")

    monkeypatch.setitem(registry.RULES, "notice_timeliness", exhausted)
    data = make_data({"notices": [notice("N1", "2025-08-01", decided_after_hours=1)]})
    with pytest.raises(OutOfMemoryException):
        outcome("DSA-16-NOTICE-TIMELINESS", data)
    monkeypatch.setitem(registry.RULES, "notice_timeliness", lambda ctx, p: 1 / 0)
    assert outcome("DSA-16-NOTICE-TIMELINESS", data).status == "ERROR"  # a broken check stays one ERROR
