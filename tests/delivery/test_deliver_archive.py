"""delivery/ (e-mail, ledger, store) against moto: idempotent SES delivery, S3 archive with a manifest."""

from __future__ import annotations

import email
import hashlib
import json
from datetime import UTC, datetime, timedelta
from email.policy import default

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from contract_files import FIXTURES
from dsa_report.delivery import email as deliver
from dsa_report.delivery import store as archive
from dsa_report.delivery.ledger import DynamoLedger
from dsa_report.outputs import report
from dsa_report.outputs.mime import Attachment, build_message

REGION = "eu-west-1"
TABLE = "dsa-deliveries"
NOW = datetime(2026, 1, 5, 6, 0, 41, tzinfo=UTC)
DOC = json.loads((FIXTURES / "findings_sample.json").read_text(encoding="utf-8"))


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


@pytest.fixture
def ledger(aws):
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "delivery_key", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "delivery_key", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    return DynamoLedger(TABLE, ddb)


@pytest.fixture
def ses(aws):
    return boto3.client("sesv2", region_name=REGION)


def sent_messages() -> list:
    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


def message():
    subject, text, html = report.render_email(DOC, "board")
    return build_message(
        sender="dsa-reports@example.com", recipients=["board@example.org"], subject=subject, text=text,
        html=html, attachments=[Attachment("findings.csv", report.findings_csv(DOC), "text/csv")],
        headers={"X-DSA-Report-Run": DOC["run"]["id"]},
    )


KEY = deliver.delivery_key("ExampleMarket", "2025-H2", "board", "2026-01-05T06:00:00Z")


def test_delivery_key_is_stable_and_distinct():
    assert KEY == deliver.delivery_key("ExampleMarket", "2025-H2", "board", "2026-01-05T06:00:00Z")
    assert KEY != deliver.delivery_key("ExampleMarket", "2025-H2", "compliance", "2026-01-05T06:00:00Z")
    assert KEY != deliver.delivery_key("ExampleMarket", "2025-H2", "board", "2026-01-06T06:00:00Z")


def test_second_delivery_with_the_same_key_is_a_duplicate(ses, ledger):
    ses.create_email_identity(EmailIdentity="example.com")
    before = len(sent_messages())
    first = deliver.deliver(ses, ledger, message(), KEY, NOW)
    second = deliver.deliver(ses, ledger, message(), KEY, NOW + timedelta(hours=1))
    assert (first.status, first.error) == ("sent", None) and first.message_id
    assert second == deliver.DeliveryResult(KEY, "duplicate", first.message_id, None)
    assert len(sent_messages()) - before == 1
    raw = email.message_from_string(sent_messages()[-1].raw_data, policy=default)
    assert raw["X-DSA-Report-Run"] == DOC["run"]["id"]
    assert "text/csv" in [part.get_content_type() for part in raw.walk()]
    record = ledger.get(KEY)
    assert record["status"] == "SENT" and record["message_id"] == first.message_id
    assert int(record["expires_at"]) == int((NOW + timedelta(days=400)).timestamp())


def test_failed_send_releases_the_claim(ses, ledger):
    failed = deliver.deliver(ses, ledger, message(), KEY, NOW)  # sender identity not verified yet
    assert failed.status == "failed" and "MessageRejected" in failed.error and failed.message_id is None
    assert ledger.get(KEY) is None
    ses.create_email_identity(EmailIdentity="example.com")
    retried = deliver.deliver(ses, ledger, message(), KEY, NOW + timedelta(minutes=1))
    assert retried.status == "sent"
    assert ledger.get(KEY)["status"] == "SENT"


def test_pending_claim_blocks_until_stale_and_sent_is_final(ledger):
    assert ledger.claim(KEY, NOW)
    assert not ledger.claim(KEY, NOW + timedelta(minutes=5))  # another invocation is sending
    assert ledger.claim(KEY, NOW + timedelta(minutes=16))  # the first one crashed: claim again
    ledger.mark_sent(KEY, "msg-1", NOW + timedelta(minutes=17))
    ledger.release(KEY)  # never drops a SENT record
    assert not ledger.claim(KEY, NOW + timedelta(days=30))
    assert ledger.get(KEY)["message_id"] == "msg-1"


def test_without_a_ledger_every_call_sends(ses):
    ses.create_email_identity(EmailIdentity="example.com")
    before = len(sent_messages())
    results = [deliver.deliver(ses, None, message(), KEY, NOW) for _ in range(2)]
    assert [r.status for r in results] == ["sent", "sent"]
    assert len(sent_messages()) - before == 2


ARTIFACTS = {
    "findings.json": json.dumps(DOC).encode(),
    "findings.csv": report.findings_csv(DOC),
    "report.html": report.render_report_html(DOC).encode(),
    "evidence/DSA-23.1-REPEAT-INFRINGER-SUSPENSION.jsonl": b'{"trader_id": "T-004217"}\n',
}


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket="reports", CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


def test_archive_writes_artifacts_and_manifest(s3):
    prefix = archive.archive_prefix("ExampleMarket", "2025-H2", DOC["run"]["id"])
    assert prefix == f"ExampleMarket/2025-H2/{DOC['run']['id']}/"
    manifest = archive.S3Store(s3, "reports").put(prefix, ARTIFACTS, now=NOW)
    stored = json.loads(s3.get_object(Bucket="reports", Key=prefix + "manifest.json")["Body"].read())
    assert stored == manifest and manifest["created_at"].startswith("2026-01-05T06:00:41")
    assert [f["name"] for f in manifest["files"]] == list(ARTIFACTS)
    for entry in manifest["files"]:
        obj = s3.get_object(Bucket="reports", Key=prefix + entry["name"])
        body = obj["Body"].read()
        assert body == ARTIFACTS[entry["name"]]
        assert entry["sha256"] == hashlib.sha256(body).hexdigest() and entry["bytes"] == len(body)
        assert obj["ServerSideEncryption"] == "AES256"
        assert obj["ContentType"] == entry["content_type"]
    types = {f["name"]: f["content_type"] for f in manifest["files"]}
    assert types["findings.json"] == "application/json" and types["findings.csv"].startswith("text/csv")
    assert types["report.html"].startswith("text/html")


def test_latest_findings_picks_the_newest_run(s3):
    assert archive.S3Store(s3, "reports").latest_findings("ExampleMarket", "2025-H2") is None
    newer = dict(DOC, run={**DOC["run"], "id": "a-newer"})
    older = dict(DOC, run={**DOC["run"], "id": "z-older"})
    for doc, when in ((newer, NOW), (older, NOW - timedelta(days=1))):  # newer written first on purpose
        prefix = archive.archive_prefix("ExampleMarket", "2025-H2", doc["run"]["id"])
        archive.S3Store(s3, "reports").put(prefix, {"findings.json": json.dumps(doc).encode()}, now=when)
    assert archive.S3Store(s3, "reports").latest_findings("ExampleMarket", "2025-H2")["run"]["id"] == "a-newer"
    assert archive.S3Store(s3, "reports").latest_findings("ExampleMarket", "2025-H1") is None
    assert archive.S3Store(s3, "reports").latest_findings("OtherMarket", "2025-H2") is None


def test_latest_findings_without_manifest_uses_last_modified(s3):
    s3.put_object(Bucket="reports", Key="ExampleMarket/2025-H1/manual-1/findings.json",
                  Body=json.dumps({"run": {"id": "manual-1"}}).encode())
    s3.put_object(Bucket="reports", Key="ExampleMarket/2025-H1/manual-1/report.html", Body=b"<html>")
    assert archive.S3Store(s3, "reports").latest_findings("ExampleMarket", "2025-H1") == {"run": {"id": "manual-1"}}


def test_write_local(tmp_path):
    paths = archive.FolderStore(tmp_path / "out").write(ARTIFACTS)
    assert [p.relative_to(tmp_path / "out").as_posix() for p in paths] == list(ARTIFACTS)
    assert all(p.read_bytes() == ARTIFACTS[p.relative_to(tmp_path / "out").as_posix()] for p in paths)


@pytest.mark.parametrize("name", ["../escape.json", "/abs.json", "a//b.json", ""])
def test_artifact_names_cannot_escape(tmp_path, name):
    with pytest.raises(ValueError):
        archive.FolderStore(tmp_path).write({name: b"x"})


def test_archive_prefix_rejects_path_segments():
    with pytest.raises(ValueError):
        archive.archive_prefix("Example/Market", "2025-H2", "run")
