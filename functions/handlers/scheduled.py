"""Lambda entry point: EventBridge Scheduler (or a console test) -> one DSA compliance run.

Parse the event, run the pipeline, log and return a summary. Everything else lives in dsa_report.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dsa_report.app import pipeline
from dsa_report.app.events import parse_event
from dsa_report.app.settings import Settings
from dsa_report.vocabulary import FAILED, SENT

logger = Logger(service="dsa-report")
tracer = Tracer(service="dsa-report")
metrics = Metrics(namespace="DSAReport", service="dsa-report")


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = datetime.now(UTC)
    settings = Settings.from_env(os.environ)  # read once, then passed down
    invocation = parse_event(event, settings, request_id=context.aws_request_id, now=now)
    clients = pipeline.Clients()
    config = pipeline.read_config(invocation.config_uri, clients)
    source = invocation.source or config.source
    if not source:
        raise ValueError("source: the config names no data location")
    logger.append_keys(platform=config.platform, period=invocation.period.label, trigger=invocation.trigger)
    request = pipeline.RunRequest(
        config=config, period=invocation.period, source=source, trigger=invocation.trigger,
        trigger_time=invocation.trigger_time, send=invocation.send, now=now,
        reports_bucket=settings.reports_bucket, ledger_table=settings.ledger_table,
    )
    result = pipeline.run(request, clients=clients, settings=settings,
                          progress=lambda step, fields: logger.info(step, extra=fields))
    for status, count in result.counts.items():
        metrics.add_metric(name=f"Findings{status.title().replace('_', '')}", unit=MetricUnit.Count, value=count)
    unreadable = sum(len(q.get("unreadable_files", [])) for q in result.document["data_quality"].values())
    metrics.add_metric(name="UnreadableFiles", unit=MetricUnit.Count, value=unreadable)  # UnreadableFilesAlarm
    sent = sum(1 for d in result.deliveries if d.status == SENT)
    metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=sent)
    failed = [d for d in result.deliveries if d.status == FAILED]
    summary = {
        "run_id": result.document["run"]["id"],
        "platform": config.platform,
        "period": invocation.period.label,
        "trigger": invocation.trigger,
        "counts": result.counts,
        "archive": result.archive_uri,
        "deliveries": [{"key": d.key, "status": d.status, "message_id": d.message_id} for d in result.deliveries],
    }
    logger.info("run complete", extra=summary)
    if failed:
        # surface the failure so Lambda retries (the ledger keeps already-sent audiences from a second send)
        raise RuntimeError(f"{len(failed)} e-mail(s) not sent: " + "; ".join(f"{d.key}: {d.error}" for d in failed))
    return summary
