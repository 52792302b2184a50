"""Lambda entry point: EventBridge Scheduler (or a console test) -> one DSA compliance run.

Parse the event, run the pipeline, log and return a summary. Everything else lives in dsa_report.

What raises (Lambda retries it once, then the event goes to the dead-letter queue) and what does not:
- a deterministic failure (the event, the config or the catalogue is wrong) returns a failure summary and
  emits `RunFailed`: a retry would fail the same way at full cost.
- a transient failure raises: S3, DynamoDB or SES unreachable, an e-mail SES refused, an e-mail another
  invocation is still sending (its claim lasts until that invocation's deadline), an archive conflict, or a
  retry that would mail an audience different content than its first e-mail (refused loudly).
- an e-mail whose fate is unknown (SES may have accepted it) does not raise: a retry would not send it
  either. It emits `DeliveryUnknown`, whose alarm asks a person to check SES and the ledger.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dsa_report.app import pipeline
from dsa_report.app.events import EventError, parse_event
from dsa_report.app.settings import Settings
from dsa_report.engine.catalogue import CatalogueError
from dsa_report.obligations.config import ConfigError
from dsa_report.vocabulary import FAILED, IN_PROGRESS, SENT, UNKNOWN

logger = Logger(service="dsa-report")
tracer = Tracer(service="dsa-report")
metrics = Metrics(namespace="DSAReport", service="dsa-report")

DETERMINISTIC = (EventError, ConfigError, CatalogueError)  # the same input fails the same way: no retry


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = datetime.now(UTC)
    deadline = now + timedelta(milliseconds=context.get_remaining_time_in_millis())
    try:
        return _run(event, context, now, deadline)
    except DETERMINISTIC as exc:
        logger.error("run failed; not retried: the same input would fail the same way",
                     extra={"error": str(exc), "error_type": type(exc).__name__})
        metrics.add_metric(name="RunFailed", unit=MetricUnit.Count, value=1)
        return {"status": "failed", "error": str(exc), "error_type": type(exc).__name__}


def _run(event: dict[str, Any], context: LambdaContext, now: datetime, deadline: datetime) -> dict[str, Any]:
    settings = Settings.from_env(os.environ)  # read once, then passed down
    invocation = parse_event(event, settings, request_id=context.aws_request_id, now=now)
    clients = pipeline.Clients()
    config = pipeline.read_config(invocation.config_uri, clients)
    source = invocation.source or config.source
    if not source:
        raise ConfigError("source", "the config names no data location", origin=invocation.config_uri)
    logger.append_keys(platform=config.platform, period=invocation.period.label, trigger=invocation.trigger)
    request = pipeline.RunRequest(
        config=config, period=invocation.period, source=source, trigger=invocation.trigger,
        trigger_time=invocation.trigger_time, send=invocation.send, now=now, deadline=deadline,
        reports_bucket=settings.reports_bucket, ledger_table=settings.ledger_table,
        curated=None if invocation.source else settings.curated_uri,  # an event's own source is read raw
    )
    result = pipeline.run(request, clients=clients, settings=settings,
                          progress=lambda step, fields: logger.info(step, extra=fields))
    for status, count in result.counts.items():
        metrics.add_metric(name=f"Findings{status.title().replace('_', '')}", unit=MetricUnit.Count, value=count)
    unreadable = sum(len(q.get("unreadable_files", [])) for q in result.document["data_quality"].values())
    metrics.add_metric(name="UnreadableFiles", unit=MetricUnit.Count, value=unreadable)  # UnreadableFilesAlarm
    sent = sum(1 for d in result.deliveries if d.status == SENT)
    metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=sent)
    # unknown: SES may have it; or sent, but the ledger could not record it (the archive did)
    unknown = [d for d in result.deliveries if d.status == UNKNOWN or not d.recorded]
    metrics.add_metric(name="DeliveryUnknown", unit=MetricUnit.Count, value=len(unknown))
    retry = [d for d in result.deliveries if d.status in (FAILED, IN_PROGRESS)]
    summary = {
        "status": "incomplete" if retry else "ok",
        "run_id": result.document["run"]["id"],
        "platform": config.platform,
        "period": invocation.period.label,
        "trigger": invocation.trigger,
        "counts": result.counts,
        "archive": result.archive_uri,
        "deliveries": [{"key": d.key, "status": d.status, "message_id": d.message_id,
                        **({"error": d.error} if d.error else {})} for d in result.deliveries],
    }
    if unknown:
        logger.error("delivery unknown: check SES and the ledger before any replay",
                     extra={"keys": [d.key for d in unknown]})
    logger.info("run complete", extra=summary)
    if retry:
        # fail so that Lambda retries: the ledger keeps sent audiences from a second send, and a claim still
        # held by another invocation will have lapsed or been settled by then
        raise RuntimeError(f"{len(retry)} e-mail(s) not sent yet: "
                           + "; ".join(f"{d.key}: {d.status}: {d.error}" for d in retry))
    return summary
