"""Send report e-mails through SES v2 (`Content.Raw`), at most once per delivery key (see `ledger`).

What `deliver` reports for one key, and what a retry does then:
- sent: SES accepted it now (message id). A retry reports it as a duplicate.
- duplicate: the ledger (or the trigger's archive) says it was sent.
- failed: SES refused it, was never reached, or there was no time left to send it safely: the claim is
  released and a retry sends it.
- unknown: SES may have accepted it (time-out or broken connection after the request went out, a 5xx);
  recorded as UNKNOWN, and no retry sends it. A person decides (the handler emits `DeliveryUnknown`).
- in_progress: another invocation holds the claim until its deadline: the caller must fail, to be retried.
A different e-mail for a key that has a record raises `PayloadMismatch`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.policy import default as default_policy
from email.utils import getaddresses
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProxyConnectionError,
)

from ..vocabulary import DUPLICATE, FAILED, IN_PROGRESS, SENT, UNKNOWN
from .ledger import PENDING, Ledger, epoch_ms, lease_live
from .ledger import SENT as RECORD_SENT
from .ledger import UNKNOWN as RECORD_UNKNOWN

# The SES client never retries by itself: SendEmail has no idempotency token, so botocore's retry after a
# read time-out could send the e-mail twice. Its time-outs bound a send well inside SEND_MARGIN.
SES_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=30)
SEND_MARGIN = timedelta(seconds=60)  # no send starts closer than this to the invocation's deadline
DEFAULT_LEASE = timedelta(minutes=15)  # a claim's lease when the caller has no deadline (CLI), from the claim

# Raised before any byte reached SES: the e-mail was certainly not sent.
_NOT_SENT = (EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError, ParamValidationError,
             NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, NoRegionError)


class PayloadMismatch(RuntimeError):
    """A key already stands for another e-mail: sending this one would give an audience different content."""


@dataclass
class DeliveryResult:
    key: str
    status: str  # vocabulary.DELIVERY_STATES
    message_id: str | None
    error: str | None
    payload_sha256: str | None = None
    recorded: bool = True  # False: the ledger could not record the outcome (counted as DeliveryUnknown)


def delivery_key(platform: str, period_label: str, audience: str, trigger_time: str) -> str:
    """The identity of one e-mail: the same scheduled trigger never mails the same audience twice."""
    return "|".join(part.strip() for part in (platform, period_label, audience, trigger_time))


def _addresses(message: Any, *headers: str) -> list[str]:
    values = [str(v) for h in headers for v in (message.get_all(h) or [])]
    return [addr for _, addr in getaddresses(values) if addr]


def _envelope(raw: bytes) -> tuple[str, list[str]]:
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
    senders, recipients = _addresses(headers, "From"), _addresses(headers, "To", "Cc")
    if not senders or not recipients:
        raise ValueError("the message needs a From and at least one To address")
    return senders[0], recipients


def payload_digest(raw: bytes) -> str:
    """SHA-256 of what the audience receives, whichever build of the same e-mail: the envelope, the headers
    but those that change with every build (Date, Message-ID, the MIME boundaries), and each part's type,
    file name and decoded content."""
    message = BytesParser(policy=default_policy).parsebytes(raw)
    sender, recipients = _envelope(raw)
    digest = hashlib.sha256(f"{sender}\n{','.join(sorted(recipients))}\n".encode())
    for name, value in message.items():
        if name.lower() not in ("date", "message-id", "content-type"):
            digest.update(f"{name.lower()}: {value}\n".encode())
    for part in message.walk():
        digest.update(f"--{part.get_content_type()};{part.get_filename() or ''}\n".encode())
        if not part.is_multipart():
            digest.update(part.get_payload(decode=True) or b"")
    return digest.hexdigest()


def send_raw(ses_client: Any, message: EmailMessage | bytes, configuration_set: str | None = None) -> str:
    """Send the MIME bytes as they are (SES v2 `Content.Raw`); returns the SES MessageId."""
    raw = message if isinstance(message, bytes) else message.as_bytes()
    sender, recipients = _envelope(raw)
    response = ses_client.send_email(
        FromEmailAddress=sender, Destination={"ToAddresses": recipients}, Content={"Raw": {"Data": raw}},
        **({"ConfigurationSetName": configuration_set} if configuration_set else {}),
    )
    return response["MessageId"]


def ambiguous(exc: Exception) -> bool:
    """True when SES may have accepted the request: anything after the request may have gone out, but a
    4xx answer (a refusal) and the errors raised before a connection was made."""
    if isinstance(exc, ClientError):
        return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500) >= 500
    return not isinstance(exc, _NOT_SENT)


def deliver(
    ses_client: Any, ledger: Ledger | None, message: EmailMessage | bytes, key: str, now: datetime, *,
    lease_until: datetime | None = None, attempt: str = "", configuration_set: str | None = None,
    archived: dict[str, Any] | None = None,
) -> DeliveryResult:
    """Send the e-mail of `key` unless its ledger record says it is sent, unknown or being sent.

    `archived` is the trigger's archive record of the key: when it says sent or unknown and the ledger has
    only a claim (its final write failed) or there is no ledger, that is the answer, and nothing is sent.
    `lease_until` is the caller's deadline: its claim lasts until then, and no send starts within SEND_MARGIN
    of it. Without a ledger every call sends."""
    raw = message if isinstance(message, bytes) else message.as_bytes()
    digest = payload_digest(raw)
    lease_until = lease_until or now + DEFAULT_LEASE
    held = ledger.get(key) if ledger is not None else None
    if (archived or {}).get("state") in (SENT, UNKNOWN) and (held is None if ledger is None
                                                              else held is not None and held["status"] == PENDING):
        return _from_archive(ledger, key, digest, archived, now)
    if held is not None and not (held["status"] == PENDING and not lease_live(held, now)
                                 and held.get("payload_sha256") == digest):
        return _held(key, held, digest, now)
    if ledger is not None:
        if lease_until - now < SEND_MARGIN:  # a send started now might not end before the deadline
            return DeliveryResult(key, FAILED, None, "not sent: too little time left before the deadline", digest)
        held = ledger.claim(key, digest, now, lease_until, attempt)
        if held is not None:
            return _held(key, held, digest, now)
    try:
        message_id = send_raw(ses_client, raw, configuration_set)
    except Exception as exc:  # every outcome of the call is classified below, none is lost
        reason = f"{type(exc).__name__}: {exc}"
        if ambiguous(exc):
            recorded = _record(lambda: ledger.mark_unknown(key, reason, now)) if ledger else True
            return DeliveryResult(key, UNKNOWN, None, f"SES may have accepted it: {reason}", digest, recorded)
        if ledger is not None:
            _record(lambda: ledger.release(key, attempt))  # if this fails too, the claim lapses at the deadline
        return DeliveryResult(key, FAILED, None, reason, digest)
    recorded = _record(lambda: ledger.mark_sent(key, message_id, now)) if ledger else True
    return DeliveryResult(key, SENT, message_id, None if recorded else "sent, but the ledger did not record it",
                          digest, recorded)


def _record(write) -> bool:
    try:
        write()
    except Exception:  # the caller reports it (DeliveryUnknown) and the archive keeps the outcome
        return False
    return True


def _check_payload(key: str, recorded: str | None, digest: str) -> None:
    if recorded and recorded != digest:
        raise PayloadMismatch(f"{key}: refusing to send an e-mail that differs from the one already recorded "
                              f"for this audience and trigger (sha256 {recorded[:12]}…, now {digest[:12]}…)")


def _held(key: str, held: dict[str, str], digest: str, now: datetime) -> DeliveryResult:
    """What a ledger record that stood in the way of a claim means for this call."""
    _check_payload(key, held.get("payload_sha256"), digest)
    status = held.get("status")
    if status == RECORD_SENT:
        return DeliveryResult(key, DUPLICATE, held.get("message_id"), None, digest)
    if status == RECORD_UNKNOWN:
        return DeliveryResult(key, UNKNOWN, None, f"recorded as unknown: {held.get('error', '')}", digest)
    until = int(held.get("lease_until", "0"))
    left = max(0, until - epoch_ms(now)) // 1000
    return DeliveryResult(key, IN_PROGRESS, None,
                          f"claimed by attempt {held.get('attempt', '?')} for another {left} s", digest)


def _from_archive(ledger: Ledger | None, key: str, digest: str, archived: dict[str, Any],
                  now: datetime) -> DeliveryResult:
    """The trigger's archive recorded this key as sent or unknown (its ledger write may have failed): report
    that, never send, and bring the ledger in line."""
    _check_payload(key, archived.get("payload_sha256"), digest)
    if archived["state"] == SENT:
        if ledger is not None:
            _record(lambda: ledger.mark_sent(key, archived["message_id"], now, digest))
        return DeliveryResult(key, DUPLICATE, archived.get("message_id"), None, digest)
    error = archived.get("error") or "recorded as unknown in the archive"
    if ledger is not None:
        _record(lambda: ledger.mark_unknown(key, error, now, digest))
    return DeliveryResult(key, UNKNOWN, None, error, digest)
