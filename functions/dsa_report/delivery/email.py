"""Send report e-mails through SES v2 (`Content.Raw`), once per delivery key (see `ledger`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from botocore.exceptions import ClientError

from ..vocabulary import DUPLICATE, FAILED, SENT
from .ledger import Ledger


@dataclass
class DeliveryResult:
    key: str
    status: str  # vocabulary.DELIVERY_STATES
    message_id: str | None
    error: str | None


def delivery_key(platform: str, period_label: str, audience: str, trigger_time: str) -> str:
    """The identity of one e-mail: the same scheduled trigger never mails the same audience twice."""
    return "|".join(part.strip() for part in (platform, period_label, audience, trigger_time))


def _addresses(message: EmailMessage, *headers: str) -> list[str]:
    values = [str(v) for h in headers for v in (message.get_all(h) or [])]
    return [addr for _, addr in getaddresses(values) if addr]


def send_raw(ses_client: Any, message: EmailMessage) -> str:
    """Send the MIME message as it is (SES v2 `Content.Raw`); returns the SES MessageId."""
    senders = _addresses(message, "From")
    recipients = _addresses(message, "To", "Cc")
    if not senders or not recipients:
        raise ValueError("the message needs a From and at least one To address")
    response = ses_client.send_email(
        FromEmailAddress=senders[0],
        Destination={"ToAddresses": recipients},
        Content={"Raw": {"Data": message.as_bytes()}},
    )
    return response["MessageId"]


def deliver(
    ses_client: Any, ledger: Ledger | None, message: EmailMessage, key: str, now: datetime
) -> DeliveryResult:
    """Send once per key. A failed send releases the claim and is reported, not raised."""
    if ledger is not None and not ledger.claim(key, now):
        record = ledger.get(key) or {}
        return DeliveryResult(key, DUPLICATE, record.get("message_id"), None)
    try:
        message_id = send_raw(ses_client, message)
    except Exception as exc:  # any send failure: claim released, reported to the caller
        if ledger is not None:
            ledger.release(key)
        return DeliveryResult(key, FAILED, None, f"{type(exc).__name__}: {exc}")
    if ledger is not None:
        try:
            ledger.mark_sent(key, message_id, now)
        except ClientError as exc:  # sent, but a retry after the claim goes stale could send again: say so
            return DeliveryResult(key, SENT, message_id, f"ledger not updated: {exc}")
    return DeliveryResult(key, SENT, message_id, None)
