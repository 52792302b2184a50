"""What `deliver` does when things go wrong (moto): nothing wrong is sent, nothing is lost, nothing twice.

- a claim left by a crashed invocation holds until that invocation's deadline: a retry before it reports
  in_progress (its caller fails and is retried), a retry after it sends;
- no send starts so close to the deadline that it could be cut off after SES accepted it;
- SES may have accepted it (time-out after the request, broken connection, 5xx): unknown, recorded, never
  resent; a refusal or an unreachable endpoint: failed, released, resent by the retry;
- the ledger could not record a send: reported (recorded=False) and the archive's record stops a resend;
- a retry with another e-mail for the same key is refused, naming the audience.
Ambiguous outcomes are made with botocore event hooks on the client, as the real failures would arise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from dsa_report.app.pipeline import Clients
from dsa_report.delivery import email as deliver
from dsa_report.outputs.mime import build_message

REGION = "eu-west-1"
NOW = datetime(2026, 1, 5, 6, 0, 41, tzinfo=UTC)
KEY = deliver.delivery_key("ExampleMarket", "2025-H2", "board", "2026-01-05T06:00:00Z")


@pytest.fixture
def ses(aws):
    client = boto3.client("sesv2", region_name=REGION, config=deliver.SES_CLIENT_CONFIG)
    client.create_email_identity(EmailIdentity="example.com")
    return client


def sent() -> list:
    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


def message(subject: str = "DSA report", to: str = "board@example.org") -> bytes:
    return build_message(sender="dsa-reports@example.com", recipients=[to], subject=subject, text="Findings",
                         html="<p>Findings</p>", attachments=[]).as_bytes()


def fail_after_the_call(client, exc: Exception) -> None:
    """SES has the request (moto recorded it); the caller sees `exc`, as after a lost response."""
    def hook(**_):
        raise exc
    client.meta.events.register("after-call.sesv2.SendEmail", hook, unique_id="fail-after-call")


def fail_before_the_call(client, exc: Exception) -> None:
    def hook(**_):
        raise exc
    client.meta.events.register("before-call.sesv2.SendEmail", hook, unique_id="fail-before-call")


def heal(client) -> None:
    client.meta.events.unregister("after-call.sesv2.SendEmail", unique_id="fail-after-call")
    client.meta.events.unregister("before-call.sesv2.SendEmail", unique_id="fail-before-call")


def test_a_crashed_claim_fails_the_retry_until_the_crashed_invocations_deadline_then_sends(ses, ledger):
    raw = message()
    deadline = NOW + timedelta(minutes=10)
    assert ledger.claim(KEY, deliver.payload_digest(raw), NOW, deadline, "attempt-1") is None  # ...then it crashed
    retry = deliver.deliver(ses, ledger, raw, KEY, NOW + timedelta(minutes=2), attempt="attempt-2",
                            lease_until=NOW + timedelta(minutes=17))
    assert retry.status == "in_progress" and "attempt-1" in retry.error and retry.message_id is None
    assert sent() == [] and ledger.get(KEY)["status"] == "PENDING"
    late = deliver.deliver(ses, ledger, raw, KEY, deadline + timedelta(seconds=1), attempt="attempt-3",
                           lease_until=deadline + timedelta(minutes=15))
    assert late.status == "sent" and len(sent()) == 1
    assert ledger.get(KEY)["status"] == "SENT" and ledger.get(KEY)["message_id"] == late.message_id


def test_the_claim_lasts_until_the_deadline_not_a_fixed_age_from_the_start(ses, ledger):
    """A claim made 14 minutes into a 15-minute invocation lapses at 15, not at 14 + 15."""
    raw = message()
    started = NOW
    claimed = started + timedelta(minutes=13)
    assert ledger.claim(KEY, deliver.payload_digest(raw), claimed, started + timedelta(minutes=15), "a1") is None
    retry = deliver.deliver(ses, ledger, raw, KEY, started + timedelta(minutes=16), attempt="a2",
                            lease_until=started + timedelta(minutes=31))
    assert retry.status == "sent"


def test_no_send_starts_too_close_to_the_deadline(ses, ledger):
    """A send cut off by the Lambda time-out after SES accepted it would leave a claim a retry takes over."""
    result = deliver.deliver(ses, ledger, message(), KEY, NOW, lease_until=NOW + timedelta(seconds=30))
    assert result.status == "failed" and "too little time" in result.error
    assert sent() == [] and ledger.get(KEY) is None  # not claimed: the retry sends it


@pytest.mark.parametrize("exc", [
    ReadTimeoutError(endpoint_url="https://email.eu-west-1.amazonaws.com"),
    ConnectionClosedError(endpoint_url="https://email.eu-west-1.amazonaws.com"),
    ClientError({"Error": {"Code": "InternalFailure", "Message": "internal"},
                 "ResponseMetadata": {"HTTPStatusCode": 500}}, "SendEmail"),
], ids=["read-timeout", "connection-closed", "5xx"])
def test_an_ambiguous_ses_outcome_is_unknown_recorded_and_never_resent(ses, ledger, exc):
    raw = message()
    fail_after_the_call(ses, exc)
    first = deliver.deliver(ses, ledger, raw, KEY, NOW, attempt="a1")
    assert first.status == "unknown" and first.recorded and "SES may have accepted it" in first.error
    assert len(sent()) == 1  # SES did take it
    record = ledger.get(KEY)
    assert record["status"] == "UNKNOWN" and type(exc).__name__ in record["error"]
    heal(ses)
    for later in (timedelta(minutes=1), timedelta(days=1)):  # before and long after the deadline
        retry = deliver.deliver(ses, ledger, raw, KEY, NOW + later, attempt="a2")
        assert retry.status == "unknown" and "recorded as unknown" in retry.error
    assert len(sent()) == 1


@pytest.mark.parametrize("exc", [
    ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"},
                 "ResponseMetadata": {"HTTPStatusCode": 429}}, "SendEmail"),
    EndpointConnectionError(endpoint_url="https://email.eu-west-1.amazonaws.com"),
], ids=["refused", "unreachable"])
def test_a_send_that_certainly_did_not_happen_is_failed_released_and_resent_by_the_retry(ses, ledger, exc):
    raw = message()
    fail_before_the_call(ses, exc)
    first = deliver.deliver(ses, ledger, raw, KEY, NOW, attempt="a1")
    assert first.status == "failed" and type(exc).__name__ in first.error
    assert ledger.get(KEY) is None and sent() == []
    heal(ses)
    assert deliver.deliver(ses, ledger, raw, KEY, NOW + timedelta(minutes=1), attempt="a2").status == "sent"
    assert len(sent()) == 1


def test_the_ses_client_never_retries_a_send_that_may_have_gone_out(aws):
    """botocore retries a read time-out by default, which sends the e-mail twice; the product's client not."""
    def send_with(client) -> int:
        client.create_email_identity(EmailIdentity="example.com")
        before = len(sent())

        def lost_response(**_):  # moto answered in an earlier before-send handler: SES has it
            raise ReadTimeoutError(endpoint_url="https://email.eu-west-1.amazonaws.com")
        client.meta.events.register_last("before-send", lost_response)  # after moto's handler, at its level
        with pytest.raises(ReadTimeoutError):
            deliver.send_raw(client, message())
        return len(sent()) - before

    retrying = Config(retries={"mode": "standard", "total_max_attempts": 2})  # botocore's default retries too
    assert send_with(boto3.client("sesv2", region_name=REGION, config=retrying)) == 2
    assert send_with(Clients()("sesv2")) == 1


def test_a_ledger_that_cannot_record_the_send_is_reported_and_the_archive_stops_a_resend(ses, ledger):
    raw = message()

    def ledger_down(**_):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"},
                           "ResponseMetadata": {"HTTPStatusCode": 500}}, "UpdateItem")
    ledger.client.meta.events.register("before-call.dynamodb.UpdateItem", ledger_down, unique_id="down")
    first = deliver.deliver(ses, ledger, raw, KEY, NOW, attempt="a1", lease_until=NOW + timedelta(minutes=5))
    assert first.status == "sent" and first.message_id and not first.recorded
    assert "ledger did not record it" in first.error
    assert ledger.get(KEY)["status"] == "PENDING"
    ledger.client.meta.events.unregister("before-call.dynamodb.UpdateItem", unique_id="down")
    # the pipeline recorded the send in the trigger's archive; a retry, even after the claim lapsed, sends nothing
    archived = {"state": "sent", "message_id": first.message_id, "payload_sha256": first.payload_sha256}
    for later in (timedelta(minutes=1), timedelta(minutes=6)):
        retry = deliver.deliver(ses, ledger, raw, KEY, NOW + later, attempt="a2", archived=archived)
        assert (retry.status, retry.message_id) == ("duplicate", first.message_id)
    assert len(sent()) == 1
    assert ledger.get(KEY)["status"] == "SENT" and ledger.get(KEY)["message_id"] == first.message_id  # repaired


def test_a_ledger_record_deleted_by_a_person_lets_the_retry_send_despite_the_archive(ses, ledger):
    """Resolving an unknown delivery: a person checks SES and deletes the ledger record to have it resent."""
    raw = message()
    archived = {"state": "unknown", "payload_sha256": deliver.payload_digest(raw)}
    assert deliver.deliver(ses, ledger, raw, KEY, NOW, archived=archived).status == "sent"


@pytest.mark.parametrize("other", [message(subject="DSA report (corrected)"), message(to="someone@example.org")],
                         ids=["content", "recipients"])
def test_a_retry_with_a_different_e_mail_is_refused_naming_the_audience(ses, ledger, other):
    first = deliver.deliver(ses, ledger, message(), KEY, NOW)
    assert first.status == "sent"
    with pytest.raises(deliver.PayloadMismatch, match=r"\|board\|.*differs from the one already recorded"):
        deliver.deliver(ses, ledger, other, KEY, NOW + timedelta(minutes=1))
    assert len(sent()) == 1


def test_a_different_e_mail_cannot_take_over_a_lapsed_claim(ses, ledger):
    ledger.claim(KEY, deliver.payload_digest(message()), NOW, NOW + timedelta(minutes=1), "a1")
    with pytest.raises(deliver.PayloadMismatch, match="board"):
        deliver.deliver(ses, ledger, message(subject="other"), KEY, NOW + timedelta(minutes=5))
    assert sent() == []


def test_the_payload_digest_ignores_what_changes_with_every_build():
    first, second = message(), message()
    assert first != second  # Date, Message-ID and the MIME boundaries differ
    assert deliver.payload_digest(first) == deliver.payload_digest(second)
    assert deliver.payload_digest(first) != deliver.payload_digest(message(subject="DSA report!"))


def test_the_configuration_set_is_sent_with_every_e_mail(ses, ledger):
    seen = []
    ses.meta.events.register("provide-client-params.sesv2.SendEmail", lambda params, **_: seen.append(params))
    deliver.deliver(ses, ledger, message(), KEY, NOW, configuration_set="dsa-report-reports")
    deliver.deliver(ses, None, message(), KEY, NOW)
    assert seen[0]["ConfigurationSetName"] == "dsa-report-reports" and "ConfigurationSetName" not in seen[1]
