"""The EMR Serverless job: the catalogue evaluated by Spark over a period kept as Parquet, for what one
Lambda cannot hold (the Step Functions state machine of template.yaml picks it above a size limit).

    spark-submit spark_job.py --curated s3://dsa-curated/ --config s3://data/config.yaml \\
        --period 2025-H2 --reports-bucket dsa-reports [--send --ledger-table dsa-ledger]

`--curated` is the curated store the arrival function keeps (ingest/curated.py): the job plans the period's
months from the object records as a Lambda run does, and Spark reads the planned Parquet parts where they
are (s3:// on EMR). The rules, metrics and outputs are the Lambda's own code: the job writes the same archive
(findings.json, CSV, report, evidence, e-mails, manifest) under `--reports-bucket` or `--out`, and with
`--send` delivers through the same ledger, so a retried job sends nothing twice.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ..engine import spark
from ..engine.periods import parse_period
from ..ingest import curated
from ..obligations.evaluation import default_catalogue, evaluate
from ..obligations.exemptions import sme_exemption
from ..outputs import findings
from ..outputs.registry import OUTPUTS
from ..vocabulary import FINDINGS_JSON
from . import pipeline
from .settings import Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="spark_job", description=__doc__.splitlines()[0])
    parser.add_argument("--curated", required=True, help="the curated store (folder or s3:// prefix)")
    parser.add_argument("--config", required=True, help="the platform's config (path or s3:// URI)")
    parser.add_argument("--period", required=True, help="e.g. 2025-H2")
    parser.add_argument("--reports-bucket", help="archive the run there, as the Lambda does")
    parser.add_argument("--out", type=Path, help="write the artifacts into this folder")
    parser.add_argument("--send", action="store_true", help="e-mail every audience (needs --ledger-table)")
    parser.add_argument("--ledger-table")
    parser.add_argument("--trigger-time", help="the scheduled time that started the run (the ledger's key)")
    parser.add_argument("--run-id")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, session, clients: pipeline.Clients | None = None,
        now: datetime | None = None) -> pipeline.RunResult:
    clients = clients or pipeline.Clients()
    config = pipeline.read_config(args.config, clients)
    request = pipeline.RunRequest(
        config=config, period=parse_period(args.period), source=args.curated, curated=args.curated,
        trigger="schedule" if args.trigger_time else "manual", trigger_time=args.trigger_time, send=args.send,
        out_dir=args.out, reports_bucket=args.reports_bucket, ledger_table=args.ledger_table,
        now=now or datetime.now(UTC), run_id=args.run_id)
    catalogue, period = default_catalogue(), request.period
    exempt, sme_note = sme_exemption(config.sme_status, config.sme_lost_on, config.tier, period)
    store = curated.Store(args.curated, clients("s3") if args.curated.startswith("s3://") else None)
    plan = curated.plan(curated.records(store), period.end, config.names_in_data)
    with tempfile.TemporaryDirectory(prefix="dsa-") as work:
        data = spark.from_curated(store, plan, session, Path(work), config.unreadable_tolerance)
        outcomes, metrics = evaluate(catalogue, data, period, tier=config.tier, marketplace=config.marketplace,
                                     overrides=config.parameters, binding_commitments=config.binding_commitments,
                                     exempt=exempt)
    run_id = pipeline.new_run_id(request)
    document = findings.build_document(
        run=pipeline._run_section(request, run_id, catalogue.version, data.quality, sme_note),
        config=config, quality=data.quality, metrics=metrics,
        findings=[findings.finding(ob, outcome, params) for ob, outcome, params in outcomes],
        today=request.now.date(), previous=pipeline._previous_findings(request, clients))
    # archived and delivered exactly as a Lambda run: written once per trigger, each audience mailed once
    evidence = {ob.id: o.items for ob, o, _ in outcomes if o.items}
    settings = Settings.from_env(os.environ)
    archive = pipeline._trigger_archive(request, run_id, clients)
    return pipeline._publish(request, OUTPUTS[FINDINGS_JSON].render(document), evidence, archive, clients,
                             settings, lambda step, fields: None, pipeline._clock(request))


def main(argv: list[str] | None = None) -> int:
    from pyspark.sql import SparkSession  # on EMR, spark-submit has configured the session

    args = parse_args(argv)
    if args.send and not args.ledger_table:
        print("--send needs --ledger-table: a retried job must not send twice", file=sys.stderr)
        return 2
    session = SparkSession.builder.appName("dsa-report").getOrCreate()
    result = run(args, session)
    print(json.dumps({"run": result.document["run"]["id"], "counts": result.counts, "archive": result.archive_uri,
                      "sent": [d.status for d in result.deliveries]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
