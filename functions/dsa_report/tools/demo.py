"""`dsa-report demo`: the scheduled path end to end on this machine, with no AWS account.

A moto server gives a real local S3/SES/DynamoDB HTTP endpoint; a synthetic marketplace with planted
findings is uploaded to it; the Lambda handler is invoked with the event EventBridge Scheduler sends, then
again (a retry, which must send nothing new); the archived artifacts and every e-mail SES accepted are copied
into the output folder.
"""

from __future__ import annotations

import email
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import boto3

from ..engine.periods import last_complete, previous

REGION = "eu-west-1"
DATA_BUCKET = "dsa-demo-transparency-data"
REPORTS_BUCKET = "dsa-demo-reports"
LEDGER_TABLE = "dsa-demo-delivery-ledger"
PLATFORM = "ExampleMarket"
SENDER = "dsa-reports@examplemarket.example"
CONFIG_KEY = "config/examplemarket.yaml"
DATA_PREFIX = "examplemarket/"
HALF_YEAR_PREFIX = "examplemarket-half-year/"  # the data of the last complete half-year (EU transparency report)
HALF_YEAR_SHARE = 5  # the half-year's SoRs: a fifth of the month's scale (at least the generator's minimum)
ANSWERS_KEY = "config/examplemarket-transparency-answers.yaml"  # beside the config: transparency_qualitative
DEMO_ANSWERS = """\
# Answers to the questions of the EU transparency-report template that the data cannot give (one per question);
# the questions left out are marked "to be completed" in the report.
Name of the service provider: ExampleMarket Europe (synthetic demonstration provider)
Summary of the content moderation engaged in at the providers' own initiative: >-
  Synthetic demonstration text: listings are screened by automated product-safety and brand-protection checks,
  and flagged listings are reviewed by the trust and safety team.
"""

def demo_config(today: date) -> str:
    """The platform's config: a VLOP marketplace, three audiences, one live waiver and one expired."""
    live, expired = today + timedelta(days=90), today - timedelta(days=30)
    return f"""\
platform: {PLATFORM}
platform_names: [{PLATFORM}]
tier: VLOP
marketplace: true
source: s3://{DATA_BUCKET}/{DATA_PREFIX}
turnover_eur: 12000000000
waivers:
  - obligation: DSA-30-KYBC-VERIFICATION
    justification: "Re-verification of all active traders against VIES runs until the end of the quarter"
    approved_by: Chief Compliance Officer
    expires: {live.isoformat()}
  - obligation: DSA-24.5-SOR-SUBMISSION-DELAY
    justification: "TDB API outage, ticket closed"
    approved_by: Chief Compliance Officer
    expires: {expired.isoformat()}
sender: {SENDER}
transparency_qualitative: {ANSWERS_KEY.rpartition("/")[2]}
audiences:
  - {{name: board, recipients: [board@examplemarket.example]}}
  - {{name: compliance, recipients: [compliance@examplemarket.example]}}
  - {{name: trust_and_safety, recipients: [trust-safety@examplemarket.example]}}
"""


@dataclass
class LambdaContext:
    """What the Lambda runtime passes; Powertools reads these attributes."""

    aws_request_id: str
    function_name: str = "dsa-report-demo"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 10240
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:dsa-report-demo"
    log_group_name: str = "/aws/lambda/dsa-report-demo"
    log_stream_name: str = "demo"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@contextmanager
def local_aws() -> Iterator[str]:
    """A moto server on a free loopback port, with this process's AWS settings pointed at it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = dict(os.environ)
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "REPORTS_BUCKET": REPORTS_BUCKET,
        "LEDGER_TABLE": LEDGER_TABLE, "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "DSAReport", "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",  # CloudWatch EMF lines are for Lambda, not this terminal
    })
    try:
        yield endpoint
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()


def provision(endpoint: str) -> None:
    """What template.yaml creates in AWS, on the local endpoint."""
    s3 = boto3.client("s3", endpoint_url=endpoint)
    for bucket in (DATA_BUCKET, REPORTS_BUCKET):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    boto3.client("dynamodb", endpoint_url=endpoint).create_table(
        TableName=LEDGER_TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "delivery_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "delivery_key", "KeyType": "HASH"}],
    )
    boto3.client("sesv2", endpoint_url=endpoint).create_email_identity(EmailIdentity=SENDER.split("@")[1])


def upload_folder(endpoint: str, folder: Path, bucket: str, prefix: str) -> int:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda p: s3.upload_file(str(p), bucket, prefix + p.relative_to(folder).as_posix()), files))
    return len(files)


def sent_messages() -> list[str]:
    """Every raw message SES accepted, read from the server's backend (ThreadedMotoServer shares this process;
    its /moto-api/data.json dump cannot serialise multipart S3 uploads)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages if hasattr(m, "raw_data")]


def download_prefix(endpoint: str, bucket: str, prefix: str, out: Path) -> list[Path]:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    written = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            target = out / obj["Key"][len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(target))
            written.append(target)
    return written


def run_demo(out: Path, *, scale: int = 300_000, seed: int = 7, say=print) -> int:
    from ..app.cli import status_table
    from .synthetic import MIN_SCALE, generate

    started = time.monotonic()
    now = datetime.now(UTC).replace(microsecond=0)
    period = last_complete("month", now)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with local_aws() as endpoint, tempfile.TemporaryDirectory(prefix="dsa-demo-") as work:
        say(f"local S3/SES/DynamoDB endpoint (moto server): {endpoint}")
        provision(endpoint)
        plan = generate(Path(work) / "data", scale=scale, seed=seed, period_start=period.start,
                        period_end=period.end, platform=PLATFORM)
        count = upload_folder(endpoint, Path(work) / "data", DATA_BUCKET, DATA_PREFIX)
        boto3.client("s3", endpoint_url=endpoint).put_object(Bucket=DATA_BUCKET, Key=CONFIG_KEY,
                                                             Body=demo_config(now.date()).encode())
        boto3.client("s3", endpoint_url=endpoint).put_object(Bucket=DATA_BUCKET, Key=ANSWERS_KEY,
                                                             Body=DEMO_ANSWERS.encode())
        say(f"synthetic marketplace: {plan.sor_rows:,} statements of reasons for {period.label} and "
            f"the other datasets, {count} files in s3://{DATA_BUCKET}/{DATA_PREFIX}")

        from handlers.scheduled import handler

        config_uri = f"s3://{DATA_BUCKET}/{CONFIG_KEY}"
        before = previous(period)
        say(f"archiving last month's report first ({before.label}, a console run without e-mail) for the trend")
        handler({"config": config_uri, "period": before.label, "send": False},
                LambdaContext(aws_request_id="demo-previous-period"))
        event = {"config": config_uri, "period": None, "period_kind": "month",
                 "scheduled_time": now.isoformat().replace("+00:00", "Z")}
        (out / "scheduler-event.json").write_text(json.dumps(event, indent=2) + "\n")
        say(f"invoking the scheduled Lambda handler with {json.dumps(event)}")
        first = handler(event, LambdaContext(aws_request_id="demo-invocation-1"))
        say("invoking it again with the same event (a retry): the delivery ledger must stop a second send")
        second = handler(event, LambdaContext(aws_request_id="demo-invocation-2"))

        archive_prefix = first["archive"].removeprefix(f"s3://{REPORTS_BUCKET}/")
        download_prefix(endpoint, REPORTS_BUCKET, archive_prefix, out)
        half_year = half_year_export(endpoint, Path(work), out / "half-year", config_uri, now,
                                     max(MIN_SCALE, scale // HALF_YEAR_SHARE), seed, say)
        sent = out / "sent"
        sent.mkdir(exist_ok=True)
        messages = sent_messages()
        for i, raw in enumerate(messages, 1):
            audience = email.message_from_string(raw).get("X-DSA-Report-Audience", f"message-{i}")
            (sent / f"{audience}.eml").write_text(raw, encoding="utf-8")

    document = json.loads((out / "findings.json").read_text())
    say("")
    say(status_table(document))
    say("")
    resent = [d for d in second["deliveries"] if d["status"] == "sent"]
    say(f"e-mails accepted by SES: {len(messages)} (first invocation: "
        f"{sum(d['status'] == 'sent' for d in first['deliveries'])} sent; retry: {len(resent)} sent, "
        f"{sum(d['status'] == 'duplicate' for d in second['deliveries'])} recognised as already sent)")
    for name in ("findings.json", "findings.csv", "report.html", "manifest.json"):
        say(f"  {out / name}")
    for path in sorted(sent.glob("*.eml")):
        say(f"  {path}")
    say(f"archive: {first['archive']}  ({time.monotonic() - started:.0f} s)")
    return 0 if messages and not resent and half_year else 1


def half_year_export(endpoint: str, work: Path, out: Path, config_uri: str, now: datetime, scale: int, seed: int,
                     say=print) -> bool:
    """The EU transparency report of the last complete half-year: a synthetic half-year uploaded beside the
    month's data, the handler invoked for that period as the half-yearly schedule of a VLOP would (a console
    run without e-mail: the rendered e-mails are archived), its archive downloaded into `out`, the workbook's
    figures reconciled with findings.json, then `dsa-report transparency-report --published` run on the archived
    workbook (the comparison a regulator would run). True when everything agrees."""
    from handlers.scheduled import handler

    from ..app.cli import main as cli
    from ..app.cli import reconciliation_table
    from ..obligations import transparency
    from ..outputs import transparency as files
    from .synthetic import generate

    half = last_complete("half-year", now)
    generate(work / "half-year", scale=scale, seed=seed, period_start=half.start, period_end=half.end,
             platform=PLATFORM)
    upload_folder(endpoint, work / "half-year", DATA_BUCKET, HALF_YEAR_PREFIX)
    source = f"s3://{DATA_BUCKET}/{HALF_YEAR_PREFIX}"
    say("")
    say(f"the half-yearly run of a VLOP ({half.label}): the handler for that period on {source}")
    result = handler({"config": config_uri, "period": half.label, "send": False, "source": source},
                     LambdaContext(aws_request_id="demo-half-year"))
    download_prefix(endpoint, REPORTS_BUCKET, result["archive"].removeprefix(f"s3://{REPORTS_BUCKET}/"), out)
    workbook = next(out.glob(f"transparency-report-*-{half.label}-v*.xlsx"))
    document = json.loads((out / "findings.json").read_text())
    figures = files.published_figures(files.read_path(workbook))
    checked = transparency.reconcile(figures, document["metrics"], half, document["findings"])
    attached = any(workbook.name in (part.get_filename() or "") for part in
                   email.message_from_bytes((out / "emails" / "compliance.eml").read_bytes()).walk())
    say(f"  {workbook} (attached to emails/compliance.eml: {'yes' if attached else 'NO'}), its CSV parts and "
        f"{out / 'manifest.json'}")
    say(reconciliation_table(checked))
    say("")
    say(f"dsa-report transparency-report --period {half.label} --published {workbook.name}:")
    code = cli(["transparency-report", "--config", config_uri, "--period", half.label, "--source", source,
                "--out", str(out.parent / "transparency"), "--published", str(workbook)])
    return attached and bool(checked) and all(r.equal for r in checked) and code == 0
