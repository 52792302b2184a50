"""The delivery ledger: one record per delivery key, so a retried invocation never sends the same e-mail twice.

A claim is PENDING while a send is in flight and SENT with the SES message id after. A claim left PENDING by
a crashed invocation becomes claimable again after `STALE_AFTER`. `DynamoLedger` keeps the records in
DynamoDB (the deployed product); `MemoryLedger` keeps them in a dict (tests, local runs).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import ClientError


class Ledger(Protocol):
    def claim(self, key: str, now: datetime) -> bool: ...
    def mark_sent(self, key: str, message_id: str, now: datetime) -> None: ...
    def release(self, key: str) -> None: ...
    def get(self, key: str) -> dict[str, str] | None: ...


STALE_AFTER = timedelta(minutes=15)
RETENTION = timedelta(days=400)  # DynamoDB TTL: the ledger forgets a delivery after about 13 months
PENDING, SENT = "PENDING", "SENT"


def _epoch(now: datetime) -> int:
    return int((now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp())


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoLedger:
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


class MemoryLedger:
    """The same claims in a dict, for one process."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, str]] = {}

    def claim(self, key: str, now: datetime) -> bool:
        record = self.records.get(key)
        if record is not None and not (record["status"] == PENDING
                                       and int(record["claimed_at"]) < _epoch(now - STALE_AFTER)):
            return False
        self.records[key] = {"delivery_key": key, "status": PENDING, "claimed_at": str(_epoch(now))}
        return True

    def mark_sent(self, key: str, message_id: str, now: datetime) -> None:
        self.records[key] = {**self.records.get(key, {"delivery_key": key}), "status": SENT,
                             "message_id": message_id, "sent_at": str(_epoch(now))}

    def release(self, key: str) -> None:
        if self.records.get(key, {}).get("status") == PENDING:
            del self.records[key]

    def get(self, key: str) -> dict[str, str] | None:
        return self.records.get(key)
