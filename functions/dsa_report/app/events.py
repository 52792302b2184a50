"""What a Lambda invocation asks for: the scheduler's input, EventBridge's "Scheduled Event", or a manual test.

- EventBridge Scheduler (SAM ScheduleV2) sends its `Input`:
  `{"config": "s3://...", "period": null, "period_kind": "month", "scheduled_time": "2026-12-02T06:00:00Z"}`
- the classic EventBridge rule sends `{"detail-type": "Scheduled Event", "time": "...", ...}`; config and
  period kind then come from the function's environment (DSA_CONFIG, DSA_PERIOD_KIND).
- a console test sends `{"config": "s3://...", "period": "2025-H1", "send": true}`.
A scheduled run with no period reports on the last complete period of its kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..engine.periods import Period, PeriodError, last_complete, parse_period
from .settings import Settings


class EventError(ValueError):
    """The event cannot be turned into a run; the message names the key."""


@dataclass(frozen=True)
class Invocation:
    config_uri: str
    period: Period
    trigger: str  # schedule | manual
    trigger_time: str
    send: bool
    source: str | None = None


def _when(text: Any, key: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise EventError(f"{key}: {text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_event(event: Mapping[str, Any], env: Settings | Mapping[str, str], *, request_id: str,
                now: datetime) -> Invocation:
    settings = env if isinstance(env, Settings) else Settings.from_env(env)
    if not isinstance(event, Mapping):
        raise EventError("event: must be a JSON object")
    scheduled_event = event.get("detail-type") == "Scheduled Event"
    if scheduled_event:
        detail = event.get("detail") or {}
        fields: dict[str, Any] = {"config": detail.get("config"), "period": detail.get("period"),
                                  "period_kind": detail.get("period_kind"), "scheduled_time": event.get("time")}
    else:
        fields = dict(event)
    unknown = sorted(set(fields) - {"config", "period", "period_kind", "scheduled_time", "send", "source",
                                    "trigger_time"})
    if unknown and not scheduled_event:
        raise EventError(f"{unknown[0]}: unknown key")
    config_uri = fields.get("config") or settings.config_uri
    if not config_uri:
        raise EventError("config: no config URI in the event and DSA_CONFIG is not set")
    scheduled = fields.get("scheduled_time") is not None
    kind = fields.get("period_kind") or settings.period_kind
    try:
        if fields.get("period"):
            period = parse_period(fields["period"])
        else:
            moment = _when(fields["scheduled_time"], "scheduled_time") if scheduled else now
            period = last_complete(kind, moment)
    except PeriodError as exc:
        raise EventError(str(exc)) from None
    send = fields.get("send", scheduled)
    if not isinstance(send, bool):
        raise EventError("send: must be true or false")
    if scheduled:
        trigger_time = _when(fields["scheduled_time"], "scheduled_time").isoformat().replace("+00:00", "Z")
    else:
        # a console test retried by Lambda keeps its request id: the same e-mail is not sent twice
        trigger_time = str(fields.get("trigger_time") or f"manual:{request_id}")
    return Invocation(config_uri=str(config_uri), period=period, trigger="schedule" if scheduled else "manual",
                      trigger_time=trigger_time, send=send, source=fields.get("source"))
