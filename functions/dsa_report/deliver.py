"""Send report e-mails through SES v2 (`Content.Raw`) behind a DynamoDB delivery ledger.

The ledger makes delivery idempotent: a retried Lambda invocation claims the same key, finds it SENT (or
freshly PENDING in another invocation) and does not send again. A claim left PENDING by a crashed
invocation becomes claimable again after `STALE_AFTER`, so a crash never blocks delivery for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from botocore.exceptions import ClientError

STALE_AFTER = timedelta(minutes=15)
RETENTION = timedelta(days=400)  # DynamoDB TTL: the ledger forgets a delivery after about 13 months
PENDING, SENT = "PENDING", "SENT"


def _epoch(now: datetime) -> int:
    return int((now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp())


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DeliveryLedger:
    """One item per delivery key: PENDING while a send is in flight, SENT with the SES message id after."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self.client = client

    def claim(self, key: str, now: datetime) -> bool:
        """True when this caller may send; False when already SENT or claimed by someone else < 15 min ago."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "delivery_key": {"S": key},
                    "status": {"S": PENDING},
                    "claimed_at": {"N": str(_epoch(now))},
                    "expires_at": {"N": str(_epoch(now + RETENTION))},
                },
                ConditionExpression=(
                    "attribute_not_exists(delivery_key) OR (#status = :pending AND claimed_at < :stale)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":pending": {"S": PENDING},
                    ":stale": {"N": str(_epoch(now - STALE_AFTER))},
                },
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        return True

    def mark_sent(self, key: str, message_id: str, now: datetime) -> None:
        self.client.update_item(
            TableName=self.table_name,
            Key={"delivery_key": {"S": key}},
            UpdateExpression="SET #status = :sent, message_id = :id, sent_at = :now, expires_at = :exp",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":sent": {"S": SENT},
                ":id": {"S": message_id},
                ":now": {"N": str(_epoch(now))},
                ":exp": {"N": str(_epoch(now + RETENTION))},
            },
        )

    def release(self, key: str) -> None:
        """Drop a PENDING claim after a failed send so a retry may send; a SENT record is never dropped."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key={"delivery_key": {"S": key}},
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": PENDING}},
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise

    def get(self, key: str) -> dict[str, str] | None:
        """The ledger record of a key as plain strings, or None."""
        item = self.client.get_item(
            TableName=self.table_name, Key={"delivery_key": {"S": key}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return {name: next(iter(value.values())) for name, value in item.items()}


@dataclass
class DeliveryResult:
    key: str
    status: str  # "sent" | "duplicate" | "failed"
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
    ses_client: Any, ledger: DeliveryLedger | None, message: EmailMessage, key: str, now: datetime
) -> DeliveryResult:
    """Send once per key. A failed send releases the claim and is reported, not raised."""
    if ledger is not None and not ledger.claim(key, now):
        record = ledger.get(key) or {}
        return DeliveryResult(key, "duplicate", record.get("message_id"), None)
    try:
        message_id = send_raw(ses_client, message)
    except Exception as exc:  # any send failure: claim released, reported to the caller
        if ledger is not None:
            ledger.release(key)
        return DeliveryResult(key, "failed", None, f"{type(exc).__name__}: {exc}")
    if ledger is not None:
        try:
            ledger.mark_sent(key, message_id, now)
        except ClientError as exc:  # sent, but a retry after STALE_AFTER could send again: say so
            return DeliveryResult(key, "sent", message_id, f"ledger not updated: {exc}")
    return DeliveryResult(key, "sent", message_id, None)
