"""delivery/ (e-mail, ledger, store) against moto: idempotent SES delivery, S3 archive with a manifest.

The delivery semantics under failure (crashes, ambiguous SES outcomes, payload changes) are pinned in
test_delivery_semantics.py; this file holds the plain paths and the archive."""

from __future__ import annotations

import email
import hashlib
import json
from datetime import UTC, datetime, timedelta
from email.policy import default

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from contract_files import FIXTURES
from dsa_report.delivery import email as deliver
from dsa_report.delivery import store as archive
from dsa_report.delivery.ledger import MemoryLedger
from dsa_report.outputs import report
from dsa_report.outputs.mime import Attachment, build_message

REGION = "eu-west-1"
NOW = datetime(2026, 1, 5, 6, 0, 41, tzinfo=UTC)
DOC = json.loads((FIXTURES / "findings_sample.json").read_text(encoding="utf-8"))


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
    second = deliver.deliver(ses, ledger, message(), KEY, NOW + timedelta(hours=1))  # built again: same content
    assert (first.status, first.error) == ("sent", None) and first.message_id
    assert (second.key, second.status, second.message_id, second.error) == (KEY, "duplicate", first.message_id, None)
    assert second.payload_sha256 == first.payload_sha256
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


@pytest.mark.parametrize("kind", ["dynamo", "memory"])
def test_a_claim_lasts_until_the_claimants_deadline_and_sent_is_final(request, kind):
    ledger = request.getfixturevalue("ledger") if kind == "dynamo" else MemoryLedger()
    deadline = NOW + timedelta(minutes=2)  # claimed late in an invocation: 2 minutes left, not 15
    assert ledger.claim(KEY, "h1", NOW, deadline, "a1") is None
    held = ledger.claim(KEY, "h1", NOW + timedelta(minutes=1), NOW + timedelta(minutes=16), "a2")
    assert (held["status"], held["attempt"]) == ("PENDING", "a1")  # the claimant may still be sending
    assert ledger.claim(KEY, "h2", NOW + timedelta(minutes=3), NOW + timedelta(minutes=18), "a2")["attempt"] == "a1"
    assert ledger.claim(KEY, "h1", NOW + timedelta(minutes=3), NOW + timedelta(minutes=18), "a2") is None
    ledger.release(KEY, "a1")  # not the claimant any more: nothing happens
    assert ledger.get(KEY)["attempt"] == "a2"
    ledger.mark_sent(KEY, "msg-1", NOW + timedelta(minutes=4))
    ledger.mark_unknown(KEY, "late time-out", NOW + timedelta(minutes=5))  # SENT stays SENT
    ledger.release(KEY, "a2")  # never drops a SENT record
    assert ledger.claim(KEY, "h1", NOW + timedelta(days=30), NOW + timedelta(days=31), "a3")["status"] == "SENT"
    record = ledger.get(KEY)
    assert (record["status"], record["message_id"], record["payload_sha256"]) == ("SENT", "msg-1", "h1")


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
    client.put_bucket_versioning(Bucket="reports", VersioningConfiguration={"Status": "Enabled"})  # as deployed
    return client


def trigger(s3, run_id: str = DOC["run"]["id"], period: str = "2025-H2") -> archive.TriggerArchive:
    prefix = archive.archive_prefix("ExampleMarket", period, run_id)
    return archive.TriggerArchive(archive.S3Store(s3, "reports"), prefix)


def test_archive_writes_artifacts_and_manifest(s3):
    prefix = archive.archive_prefix("ExampleMarket", "2025-H2", DOC["run"]["id"])
    assert prefix == f"ExampleMarket/2025-H2/{DOC['run']['id']}/"
    folder = trigger(s3)
    assert all(folder.put_once(name, data) == data for name, data in ARTIFACTS.items())
    manifest = folder.record(NOW, files=ARTIFACTS, run_id=DOC["run"]["id"])
    stored = json.loads(s3.get_object(Bucket="reports", Key=prefix + "manifest.json")["Body"].read())
    assert stored == manifest and manifest["created_at"].startswith("2026-01-05T06:00:41")
    assert manifest["prefix"] == prefix and manifest["run_id"] == DOC["run"]["id"] and manifest["deliveries"] == []
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


def test_an_archived_object_is_never_overwritten_the_later_writer_gets_the_stored_bytes(s3):
    folder = trigger(s3)
    assert folder.put_once("findings.json", b'{"first": true}') == b'{"first": true}'
    assert folder.put_once("findings.json", b'{"second": true}') == b'{"first": true}'
    versions = s3.list_object_versions(Bucket="reports", Prefix=folder.prefix).get("Versions", [])
    assert len(versions) == 1  # no second version either: the write was refused (If-None-Match)
    folder.record(NOW, files={"findings.json": b'{"first": true}'})
    with pytest.raises(archive.ArchiveConflict, match="differ from the manifest"):
        folder.record(NOW, files={"findings.json": b'{"tampered": true}'})


def test_manifest_keeps_every_attempts_record_and_the_first_sent(s3):
    folder = trigger(s3)
    sent = {"audience": "board", "state": "sent", "message_id": "m-1", "attempt": "a1"}
    folder.record(NOW, delivery=sent)
    folder.record(NOW, delivery={"audience": "compliance", "state": "failed", "attempt": "a1"})
    folder.record(NOW, delivery={"audience": "board", "state": "sent", "message_id": "m-1", "attempt": "a2"})
    folder.record(NOW, delivery={"audience": "compliance", "state": "sent", "message_id": "m-2", "attempt": "a2"})
    deliveries = {d["audience"]: d for d in folder.manifest()["deliveries"]}
    assert deliveries["board"] == sent and deliveries["compliance"]["message_id"] == "m-2"


def test_a_stale_manifest_version_is_never_written_over_a_newer_one(s3):
    folder = trigger(s3)
    folder.record(NOW, delivery={"audience": "board", "state": "sent", "message_id": "m-1"})
    raced = []

    def change(current):  # someone records another delivery between this read and this write
        if not raced:
            raced.append(folder.record(NOW, delivery={"audience": "compliance", "state": "sent", "message_id": "m-2"}))
        return {**current, "deliveries": [*current["deliveries"], {"audience": "trust_and_safety", "state": "sent"}]}

    folder.store.update_json(folder.prefix + "manifest.json", change)
    assert [d["audience"] for d in folder.manifest()["deliveries"]] == ["board", "compliance", "trust_and_safety"]


def put_run(s3, doc: dict, when: datetime, period: str = "2025-H2") -> None:
    folder = trigger(s3, doc["run"]["id"], period)
    data = json.dumps(doc).encode()
    folder.put_once("findings.json", data)
    folder.record(when, files={"findings.json": data})


def test_latest_findings_picks_the_newest_run(s3):
    assert archive.S3Store(s3, "reports").latest_findings("ExampleMarket", "2025-H2") is None
    newer = dict(DOC, run={**DOC["run"], "id": "a-newer"})
    older = dict(DOC, run={**DOC["run"], "id": "z-older"})
    for doc, when in ((newer, NOW), (older, NOW - timedelta(days=1))):  # newer written first on purpose
        put_run(s3, doc, when)
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
