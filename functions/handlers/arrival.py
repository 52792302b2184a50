"""Lambda entry point: an object landed in (or left) the data bucket -> the curated store, and its data
quality reported the day it lands (metrics QuarantinedRowsOnArrival and UnreadableOnArrival, whose alarm
e-mails the alarm topic; and a notice to the audience DSA_ARRIVAL_AUDIENCE names, whose failure is the metric
ArrivalNoticeFailed).

A malformed event or config returns a failure (no retry would help) and emits `ArrivalFailed`; anything the
run could not get (S3 access, throttling, the disk) raises, so Lambda retries and then keeps the event in the
dead-letter queue. A config that cannot be read (its object missing, no access) is such a failure too, as in
the scheduled function: it may be a deployment in progress, and the errors alarm fires if it lasts.
Logs carry counts and reasons, never a row's values.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dsa_report.app import pipeline
from dsa_report.app.arrival import ArrivalError, on_arrival
from dsa_report.app.settings import Settings
from dsa_report.obligations.config import ConfigError

logger = Logger(service="dsa-report-arrival")
metrics = Metrics(namespace="DSAReport", service="dsa-report-arrival")


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env(os.environ)
    if settings.workdir:
        Path(settings.workdir).mkdir(parents=True, exist_ok=True)
    try:
        arrival = on_arrival(event, settings, pipeline.Clients(), datetime.now(UTC))
    except (ArrivalError, ConfigError) as exc:
        logger.error("arrival failed; not retried", extra={"error": str(exc), "error_type": type(exc).__name__})
        metrics.add_metric(name="ArrivalFailed", unit=MetricUnit.Count, value=1)
        return {"status": "failed", "error": str(exc)}
    result = arrival.ingested
    record = result.record or {}
    quality = record.get("quality", {})
    summary = {"status": result.outcome, "source": record.get("source"), "dataset": record.get("dataset"),
               "rows": quality.get("rows"), "quarantined_rows": result.quarantined_rows,
               "reasons": quality.get("reasons", {}), "unreadable_files": result.unreadable_files,
               "months": sorted(record.get("parts", {})), "notice": arrival.notice}
    if result.outcome == "written":
        metrics.add_metric(name="QuarantinedRowsOnArrival", unit=MetricUnit.Count, value=result.quarantined_rows)
        metrics.add_metric(name="UnreadableOnArrival", unit=MetricUnit.Count, value=result.unreadable_files)
        if result.quarantined_rows or result.unreadable_files:
            logger.warning("the object landed with rows quarantined or unreadable", extra=summary)
    if arrival.notice and arrival.notice != "sent":
        logger.error("the arrival notice was not sent", extra={"notice": arrival.notice})
        metrics.add_metric(name="ArrivalNoticeFailed", unit=MetricUnit.Count, value=1)
    logger.info("arrival", extra=summary)
    return summary
