"""Period grammar, last complete period, and the three shapes of Lambda event."""

from datetime import UTC, date, datetime

import pytest

from dsa_report.app.events import EventError, parse_event
from dsa_report.engine.periods import PeriodError, last_complete, parse_period, previous

NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize("label, start, end, kind", [
    ("2025-H1", date(2025, 1, 1), date(2025, 6, 30), "half-year"),
    ("2025-H2", date(2025, 7, 1), date(2025, 12, 31), "half-year"),
    ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30), "quarter"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month"),
    ("2025", date(2025, 1, 1), date(2025, 12, 31), "year"),
    ("2025-07-01..2025-07-31", date(2025, 7, 1), date(2025, 7, 31), "range"),
])
def test_grammar(label, start, end, kind):
    period = parse_period(label)
    assert (period.label, period.start, period.end, period.kind) == (label, start, end, kind)


@pytest.mark.parametrize("bad", ["2025-H3", "2025-13", "July", "2025-07-31..2025-07-01", "2025-02-30..2025-03-01"])
def test_bad_periods(bad):
    with pytest.raises(PeriodError):
        parse_period(bad)


def test_last_complete_and_previous():
    assert last_complete("month", datetime(2026, 12, 2, 6, tzinfo=UTC)).label == "2026-11"
    assert last_complete("half-year", datetime(2026, 7, 2, 6, tzinfo=UTC)).label == "2026-H1"
    assert last_complete("half-year", datetime(2026, 1, 2, tzinfo=UTC)).label == "2025-H2"
    assert previous(parse_period("2025-H1")).label == "2024-H2"
    assert previous(parse_period("2025-01")).label == "2024-12"
    assert previous(parse_period("2025-07-01..2025-07-31")) is None


def test_scheduler_event():
    event = {"config": "s3://b/c.yaml", "period": None, "period_kind": "half-year",
             "scheduled_time": "2026-07-02T06:00:00Z"}
    inv = parse_event(event, {}, request_id="r1", now=NOW)
    assert (inv.period.label, inv.trigger, inv.send) == ("2026-H1", "schedule", True)
    assert inv.trigger_time == "2026-07-02T06:00:00Z"


def test_eventbridge_scheduled_event_uses_environment():
    event = {"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
             "time": "2026-12-02T06:00:00Z", "region": "eu-west-1", "resources": [], "detail": {}}
    inv = parse_event(event, {"DSA_CONFIG": "s3://b/c.yaml"}, request_id="r1", now=NOW)
    assert (inv.config_uri, inv.period.label, inv.trigger) == ("s3://b/c.yaml", "2026-11", "schedule")


def test_manual_event_and_errors():
    inv = parse_event({"config": "s3://b/c.yaml", "period": "2025-H1", "send": True}, {}, request_id="req-9",
                      now=NOW)
    assert (inv.period.label, inv.trigger, inv.send, inv.trigger_time) == ("2025-H1", "manual", True,
                                                                           "manual:req-9")
    assert parse_event({"config": "c.yaml"}, {}, request_id="r", now=NOW).send is False
    with pytest.raises(EventError, match="config"):
        parse_event({"period": "2025-H1"}, {}, request_id="r", now=NOW)
    with pytest.raises(EventError, match="colour"):
        parse_event({"config": "c", "colour": 1}, {}, request_id="r", now=NOW)
    with pytest.raises(EventError, match="period"):
        parse_event({"config": "c", "period": "someday"}, {}, request_id="r", now=NOW)
