"""One trigger, several attempts (moto): every audience gets one e-mail, all with the same findings, and the
archive is exactly what was sent.

The pipeline runs on a small synthetic marketplace with a reports bucket, a ledger and SES; failures are
made with botocore event hooks, as they would arise. The last tests go through the Lambda handler: what it
returns, what it raises (so Lambda retries) and the metrics it emits.
"""

from __future__ import annotations

import email
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import policy
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.botocore_stubber import BotocoreStubber
from moto.ses.models import ses_backends

from dsa_report.app import pipeline
from dsa_report.app.settings import Settings
from dsa_report.delivery import email as deliver
from dsa_report.delivery.store import ArchiveConflict
from dsa_report.engine.periods import parse_period
from dsa_report.tools.synthetic import generate

REGION = "eu-west-1"
BUCKET, TABLE = "reports", "ledger"
PERIOD = "2025-07"
TRIGGER = "2025-08-02T06:00:00Z"
PREFIX = f"ExampleMarket/{PERIOD}/sched-20250802T060000Z/"
NOW = datetime(2025, 8, 2, 6, 0, 5, tzinfo=UTC)
AUDIENCES = {"compliance": "compliance@example.com", "board": "board@example.com"}


class Crash(BaseException):
    """The process dies here (out of memory, killed): nothing in the product catches it."""


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("market")
    generate(folder, scale=1000, seed=1, period_start=date(2025, 7, 1), period_end=date(2025, 7, 31))
    return folder


@pytest.fixture(scope="module")
def config_file(data, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "config.yaml"
    path.write_text(yaml.safe_dump({
        "platform": "ExampleMarket", "tier": "VLOP", "marketplace": True, "source": str(data),
        "sender": "dsa-reports@example.com",
        "audiences": [{"name": name, "recipients": [address]} for name, address in AUDIENCES.items()]}))
    return path


@pytest.fixture
def aws(aws_env):
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "delivery_key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "delivery_key", "AttributeType": "S"}])
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
        yield s3


@pytest.fixture
def hooks(aws):
    """Event hooks on every client the product creates from now on (boto3's default session)."""
    boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION._session
    yield lambda event, hook: session.register(event, hook)
    boto3.DEFAULT_SESSION = None


def request(config_file: Path, *, now: datetime = NOW, minutes: int = 15, **extra) -> pipeline.RunRequest:
    config = pipeline.read_config(str(config_file), pipeline.Clients())
    fields = {"config": config, "period": parse_period(PERIOD), "source": config.source, "trigger": "schedule",
              "trigger_time": TRIGGER, "send": True, "reports_bucket": BUCKET, "ledger_table": TABLE, "now": now,
              "deadline": now + timedelta(minutes=minutes), **extra}
    return pipeline.RunRequest(**fields)


def run(req: pipeline.RunRequest, events: list | None = None) -> pipeline.RunResult:
    return pipeline.run(req, clients=pipeline.Clients(), settings=Settings(),
                        progress=lambda step, fields: events.append(step) if events is not None else None)


def states(result: pipeline.RunResult) -> dict[str, str]:
    return {d.key.split("|")[2]: d.status for d in result.deliveries}


def received() -> dict[str, list[bytes]]:
    """Every raw e-mail SES accepted, by audience."""
    by_audience: dict[str, list[bytes]] = {}
    for sent in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages:
        audience = email.message_from_string(sent.raw_data)["X-DSA-Report-Audience"]
        by_audience.setdefault(audience, []).append(sent.raw_data.encode())
    return by_audience


def attached_findings(raw: bytes) -> bytes:
    message = email.message_from_bytes(raw, policy=policy.default)
    return next(p.get_content() for p in message.iter_attachments() if p.get_filename() == "findings.json")


def stored(s3, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def verified_manifest(s3, prefix: str = PREFIX) -> dict:
    """The trigger's manifest, after checking that it lists every stored object with the SHA-256 of its bytes."""
    manifest = json.loads(stored(s3, prefix + "manifest.json"))
    keys = {o["Key"][len(prefix):] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]}
    assert {f["name"] for f in manifest["files"]} == keys - {"manifest.json"}
    for entry in manifest["files"]:
        body = stored(s3, prefix + entry["name"])
        assert (entry["sha256"], entry["bytes"]) == (hashlib.sha256(body).hexdigest(), len(body)), entry["name"]
    return manifest


def each_audience_got_one_e_mail_the_archive_holds(s3, manifest: dict) -> None:
    findings = stored(s3, PREFIX + "findings.json")
    sha = {f["name"]: f["sha256"] for f in manifest["files"]}
    deliveries = {d["audience"]: d for d in manifest["deliveries"]}
    for audience, mails in received().items():
        assert len(mails) == 1, audience
        assert mails[0] == stored(s3, f"{PREFIX}emails/{audience}.eml")  # the archive is what was sent
        assert attached_findings(mails[0]) == findings  # ...with the trigger's one findings.json
        assert hashlib.sha256(findings).hexdigest() == sha["findings.json"]
        assert deliveries[audience]["state"] == "sent" and deliveries[audience]["message_id"]
    assert set(received()) == set(AUDIENCES)


def refuse_sends_to(hooks, address: str, error: Exception) -> None:
    def hook(params, **_):
        if address in params["Destination"]["ToAddresses"]:
            raise error
    hooks("provide-client-params.sesv2.SendEmail", hook)


THROTTLED = ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"},
                         "ResponseMetadata": {"HTTPStatusCode": 429}}, "SendEmail")


def test_a_retry_after_a_partial_ses_failure_mails_the_rest_with_the_first_attempts_findings(
        aws, hooks, config_file):
    failing = {"on": True}

    def hook(params, **_):
        if failing["on"] and AUDIENCES["board"] in params["Destination"]["ToAddresses"]:
            raise THROTTLED
    hooks("provide-client-params.sesv2.SendEmail", hook)
    first = run(request(config_file))
    assert states(first) == {"compliance": "sent", "board": "failed"}
    failing["on"] = False
    events: list[str] = []
    retry = run(request(config_file, now=NOW + timedelta(minutes=2)), events)
    assert states(retry) == {"compliance": "duplicate", "board": "sent"}
    assert "reused" in events and "evaluated" not in events  # no second evaluation, the first one's findings
    assert retry.document == first.document and retry.archive_uri == f"s3://{BUCKET}/{PREFIX}"
    assert json.loads(stored(aws, PREFIX + "findings.json"))["run"]["generated_at"] == "2025-08-02T06:00:05Z"
    manifest = verified_manifest(aws)
    each_audience_got_one_e_mail_the_archive_holds(aws, manifest)
    versions = aws.list_object_versions(Bucket=BUCKET, Prefix=PREFIX + "findings.json")["Versions"]
    assert len(versions) == 1  # written once, never overwritten


def test_a_crash_with_a_pending_claim_fails_retries_until_its_deadline_then_the_audience_is_mailed(
        aws, hooks, config_file):
    crashing = {"on": True}

    def hook(params, **_):
        if crashing["on"]:
            raise Crash
    hooks("provide-client-params.sesv2.SendEmail", hook)
    with pytest.raises(Crash):
        run(request(config_file, minutes=10))  # dies with compliance claimed, board not reached
    crashing["on"] = False
    early = run(request(config_file, now=NOW + timedelta(minutes=3)))
    assert states(early) == {"compliance": "in_progress", "board": "sent"}  # the handler raises: retried later
    assert "compliance" not in received()
    late = run(request(config_file, now=NOW + timedelta(minutes=10, seconds=1)))
    assert states(late) == {"compliance": "sent", "board": "duplicate"}
    each_audience_got_one_e_mail_the_archive_holds(aws, verified_manifest(aws))


def test_an_ambiguous_ses_outcome_is_unknown_in_ledger_and_archive_and_a_retry_does_not_resend(
        aws, hooks, config_file):
    lost, to = {"on": True}, {}
    hooks("provide-client-params.sesv2.SendEmail", lambda params, **_: to.update(now=params["Destination"]))

    def hook(**_):  # SES has the e-mail (moto recorded it), the response is lost
        if lost["on"] and AUDIENCES["board"] in to["now"]["ToAddresses"]:
            raise ReadTimeoutError(endpoint_url="https://email.eu-west-1.amazonaws.com")
    hooks("after-call.sesv2.SendEmail", hook)
    first = run(request(config_file))
    assert states(first) == {"compliance": "sent", "board": "unknown"}
    lost["on"] = False
    retry = run(request(config_file, now=NOW + timedelta(hours=1)))
    assert states(retry) == {"compliance": "duplicate", "board": "unknown"}
    assert len(received()["board"]) == 1  # SES had it; nobody sent it again
    deliveries = {d["audience"]: d for d in verified_manifest(aws)["deliveries"]}
    assert deliveries["board"]["state"] == "unknown" and "ReadTimeoutError" in deliveries["board"]["error"]
    key = deliver.delivery_key("ExampleMarket", PERIOD, "board", TRIGGER)
    ledger = boto3.client("dynamodb", region_name=REGION).get_item(TableName=TABLE, Key={"delivery_key": {"S": key}})
    assert ledger["Item"]["status"]["S"] == "UNKNOWN"


def test_a_send_the_ledger_could_not_record_is_archived_and_not_resent_after_the_claim_lapsed(
        aws, hooks, config_file):
    down = {"on": True}

    def hook(**_):
        if down["on"]:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"},
                               "ResponseMetadata": {"HTTPStatusCode": 500}}, "UpdateItem")
    hooks("before-call.dynamodb.UpdateItem", hook)
    first = run(request(config_file, minutes=5))
    assert {d.status for d in first.deliveries} == {"sent"} and not any(d.recorded for d in first.deliveries)
    down["on"] = False
    retry = run(request(config_file, now=NOW + timedelta(minutes=20)))  # both claims have lapsed
    assert states(retry) == {"compliance": "duplicate", "board": "duplicate"}
    each_audience_got_one_e_mail_the_archive_holds(aws, verified_manifest(aws))


def test_two_concurrent_invocations_of_one_trigger_mail_each_audience_once_with_one_findings(
        aws, config_file, monkeypatch):
    lock = threading.Lock()  # AWS applies each conditional write atomically; moto does not: serialise requests
    process = BotocoreStubber.process_request

    def atomic(self, request):
        with lock:
            return process(self, request)
    monkeypatch.setattr(BotocoreStubber, "process_request", atomic)
    together = threading.Barrier(2)

    def invocation(offset: int) -> pipeline.RunResult:
        req = request(config_file, now=NOW + timedelta(seconds=offset))
        return pipeline.run(req, clients=pipeline.Clients(), settings=Settings(),
                            progress=lambda step, _: together.wait(timeout=60) if step == "evaluated" else None)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(invocation, [0, 1]))
    assert results[0].document == results[1].document  # the later writer took the first findings
    for audience in AUDIENCES:
        seen = sorted(states(r)[audience] for r in results)
        assert seen in (["duplicate", "sent"], ["in_progress", "sent"]), (audience, seen)
    if any("in_progress" in states(r).values() for r in results):  # that invocation failed: its retry
        assert set(states(run(request(config_file, now=NOW + timedelta(minutes=1)))).values()) == {"duplicate"}
    runs = {o["Key"].split("/")[2] for o in aws.list_objects_v2(Bucket=BUCKET, Prefix=f"ExampleMarket/{PERIOD}/")
            ["Contents"]}
    assert runs == {"sched-20250802T060000Z"}
    assert len(aws.list_object_versions(Bucket=BUCKET, Prefix=PREFIX + "findings.json")["Versions"]) == 1
    each_audience_got_one_e_mail_the_archive_holds(aws, verified_manifest(aws))


def test_without_the_archive_a_retry_with_other_findings_is_refused_before_anything_is_sent(aws, config_file):
    first = run(request(config_file, reports_bucket=None))
    assert set(states(first).values()) == {"sent"}
    with pytest.raises(deliver.PayloadMismatch, match="^compliance: refusing to send"):
        run(request(config_file, reports_bucket=None, now=NOW + timedelta(minutes=1)))  # generated_at differs
    assert {a: len(m) for a, m in received().items()} == {"compliance": 1, "board": 1}


def test_archived_evidence_of_another_evaluation_stops_the_attempt_before_findings_or_e_mail(aws, config_file):
    aws.put_object(Bucket=BUCKET, Key=PREFIX + "evidence/DSA-16-NOTICE-TIMELINESS.jsonl", Body=b'{"other": 1}\n')
    with pytest.raises(ArchiveConflict, match="archived other evidence"):
        run(request(config_file))
    assert "Contents" not in aws.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + "findings.json")
    assert received() == {}


def test_a_manual_trigger_keeps_its_archive_folder_across_retries():
    def run_id(trigger_time: str) -> str:
        return pipeline.new_run_id(pipeline.RunRequest(config=None, period=None, source="", trigger="manual",
                                                       trigger_time=trigger_time))
    assert run_id("manual:0b1c2d3e-aaaa-bbbb-cccc-0123456789ab") == "manual-0b1c2d3e-aaaa-bbbb-cccc-0123456789ab"
    assert run_id("manual:x/y") == run_id("manual:x/y") != run_id("manual:xy")
    assert "/" not in run_id("manual:x/y")


# ---------------------------------------------------------------- the Lambda handler


@dataclass
class Context:
    aws_request_id: str = "req-1"
    remaining_ms: int = 120_000
    function_name: str = "dsa-report"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 10240
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:dsa-report"
    log_group_name: str = "/aws/lambda/dsa-report"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def handler(aws, monkeypatch):
    for name, value in {"REPORTS_BUCKET": BUCKET, "LEDGER_TABLE": TABLE, "SES_CONFIGURATION_SET": "reports-tls",
                        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    from handlers.scheduled import handler
    return handler


def emitted(capsys) -> dict[str, float]:
    """The metrics the handler's Powertools Metrics object printed (CloudWatch EMF), summed by name."""
    found: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and "_aws" in (doc := json.loads(line)):
            for metric in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                values = doc[metric["Name"]]
                found[metric["Name"]] = found.get(metric["Name"], 0) + sum(values if isinstance(values, list)
                                                                           else [values])
    return found


def event(config_file: Path, **extra) -> dict:
    return {"config": str(config_file), "period": PERIOD, "send": True, **extra}


@pytest.mark.parametrize("case", ["event", "config", "catalogue"])
def test_a_deterministic_error_returns_a_failure_summary_and_emits_run_failed(
        handler, config_file, tmp_path, monkeypatch, capsys, case):
    from dsa_report.engine.catalogue import CatalogueError

    sent = event(config_file)
    if case == "event":
        sent["perod"] = PERIOD
    elif case == "config":
        bad = tmp_path / "bad.yaml"
        bad.write_text(config_file.read_text() + "colour: blue\n")
        sent["config"] = str(bad)
    else:
        def broken():
            raise CatalogueError("obligations.yaml: broken")
        monkeypatch.setattr(pipeline, "default_catalogue", broken)
    summary = handler(sent, Context())
    assert summary["status"] == "failed" and summary["error_type"] == {
        "event": "EventError", "config": "ConfigError", "catalogue": "CatalogueError"}[case]
    assert emitted(capsys)["RunFailed"] == 1


def test_a_transient_error_raises_so_that_lambda_retries(handler, config_file, tmp_path, capsys):
    with pytest.raises(Exception, match="missing"):
        handler(event(config_file, source=str(tmp_path / "missing")), Context())
    assert "RunFailed" not in emitted(capsys)


def test_an_invocation_that_meets_a_live_claim_fails_so_that_lambda_retries_it(
        handler, hooks, config_file, capsys):
    crashing = {"on": True}

    def hook(params, **_):
        if crashing["on"]:
            raise Crash
    hooks("provide-client-params.sesv2.SendEmail", hook)
    with pytest.raises(Crash):
        handler(event(config_file), Context(remaining_ms=90_000))
    crashing["on"] = False
    with pytest.raises(RuntimeError, match="compliance.*in_progress"):  # the crashed claim holds for 90 s
        handler(event(config_file), Context())  # Lambda's retry: the same request id
    assert received().keys() == {"board"}
    assert emitted(capsys)["EmailsSent"] == 1


def test_an_unknown_delivery_emits_delivery_unknown_and_is_not_retried_or_resent(handler, hooks, config_file,
                                                                                 capsys):
    seen = []
    hooks("provide-client-params.sesv2.SendEmail", lambda params, **_: seen.append(params))

    def lost(**_):
        if len(seen) == 1:
            raise ReadTimeoutError(endpoint_url="https://email.eu-west-1.amazonaws.com")
    hooks("after-call.sesv2.SendEmail", lost)
    first = handler(event(config_file), Context())
    assert [d["status"] for d in first["deliveries"]] == ["unknown", "sent"] and first["status"] == "ok"
    assert emitted(capsys)["DeliveryUnknown"] == 1
    again = handler(event(config_file), Context())
    assert [d["status"] for d in again["deliveries"]] == ["unknown", "duplicate"]
    assert emitted(capsys)["DeliveryUnknown"] == 1 and len(seen) == 2  # reported again, sent by nobody
    assert {p.get("ConfigurationSetName") for p in seen} == {"reports-tls"}  # SES_CONFIGURATION_SET
