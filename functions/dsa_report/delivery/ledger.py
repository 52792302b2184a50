"""The delivery ledger: one record per delivery key, so no e-mail is sent twice and none is skipped unseen.

A record is
- PENDING while the invocation that claimed it may be sending. The claim lasts until `lease_until`, that
  invocation's own deadline (Lambda's remaining time): while it lasts, another invocation must fail and be
  retried, never report the audience as done; once it has passed, the claimant is gone and a retry may
  claim the key again.
- SENT with the SES message id. Final.
- UNKNOWN when SES may or may not have accepted the e-mail (a time-out or a broken connection after the
  request went out, a 5xx). Final for the product: nothing resends it; a person checks SES, then deletes the
  record (to send again) or leaves it.
Every record carries `payload_sha256`, the digest of the e-mail its key stands for; a claim for another
digest is refused, so a retry cannot send the same audience different content.
`DynamoLedger` keeps the records in DynamoDB (the deployed product); `MemoryLedger` in a dict (tests).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import ClientError

PENDING, SENT, UNKNOWN = "PENDING", "SENT", "UNKNOWN"
RETENTION = timedelta(days=400)  # DynamoDB TTL: the ledger forgets a delivery after about 13 months


class Ledger(Protocol):
    def claim(self, key: str, payload_sha256: str, now: datetime, lease_until: datetime,
              attempt: str) -> dict[str, str] | None:
        """None when this caller now holds the key and may send; else the record that holds it."""
        ...

    def mark_sent(self, key: str, message_id: str, now: datetime, payload_sha256: str | None = None) -> None: ...
    def mark_unknown(self, key: str, reason: str, now: datetime, payload_sha256: str | None = None) -> None: ...
    def release(self, key: str, attempt: str) -> None: ...
    def get(self, key: str) -> dict[str, str] | None: ...


def epoch(moment: datetime) -> int:
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def epoch_ms(moment: datetime) -> int:
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def lease_live(record: dict[str, str], now: datetime) -> bool:
    """A PENDING record whose claimant's deadline has not passed."""
    return record.get("status") == PENDING and int(record.get("lease_until", "0")) >= epoch_ms(now)


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _plain(item: dict[str, Any]) -> dict[str, str]:
    return {name: next(iter(value.values())) for name, value in item.items()}


class DynamoLedger:
    """One item per delivery key (hash key `delivery_key`), TTL attribute `expires_at`."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self.client = client

    def claim(self, key: str, payload_sha256: str, now: datetime, lease_until: datetime,
              attempt: str) -> dict[str, str] | None:
        """Take the key when it is free, or PENDING past its lease for the same payload; else its record."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "delivery_key": {"S": key},
                    "status": {"S": PENDING},
                    "payload_sha256": {"S": payload_sha256},
                    "attempt": {"S": attempt},
                    "claimed_at": {"N": str(epoch(now))},
                    "lease_until": {"N": str(epoch_ms(lease_until))},
                    "expires_at": {"N": str(epoch(now + RETENTION))},
                },
                ConditionExpression=("attribute_not_exists(delivery_key) OR (#status = :pending "
                                     "AND lease_until < :now AND payload_sha256 = :payload)"),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": PENDING}, ":now": {"N": str(epoch_ms(now))},
                                           ":payload": {"S": payload_sha256}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise
            item = exc.response.get("Item")  # type: ignore[typeddict-item]
            return _plain(item) if item else (self.get(key) or {"delivery_key": key, "status": PENDING})
        return None

    def _finish(self, key: str, status: str, attributes: dict[str, dict[str, str]], now: datetime,
                payload_sha256: str | None) -> None:
        """Set the status and attributes; the payload digest only where none is recorded. SENT is final."""
        values: dict[str, Any] = {":status": {"S": status}, ":sent": {"S": SENT},
                                  ":exp": {"N": str(epoch(now + RETENTION))}}
        names = {"#status": "status"}  # every name through a placeholder: none can be a reserved word
        sets = ["#status = :status", "expires_at = :exp"]
        for name, value in attributes.items():
            names[f"#{name}"], values[f":{name}"] = name, value
            sets.append(f"#{name} = :{name}")
        if payload_sha256:
            values[":payload"] = {"S": payload_sha256}
            sets.append("payload_sha256 = if_not_exists(payload_sha256, :payload)")
        try:
            self.client.update_item(
                TableName=self.table_name, Key={"delivery_key": {"S": key}},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_not_exists(#status) OR #status <> :sent OR :status = :sent",
                ExpressionAttributeNames=names, ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):  # an UNKNOWN that came after SENT: SENT stays
                raise

    def mark_sent(self, key: str, message_id: str, now: datetime, payload_sha256: str | None = None) -> None:
        self._finish(key, SENT, {"message_id": {"S": message_id}, "sent_at": {"N": str(epoch(now))}},
                     now, payload_sha256)

    def mark_unknown(self, key: str, reason: str, now: datetime, payload_sha256: str | None = None) -> None:
        self._finish(key, UNKNOWN, {"error": {"S": reason[:1000]}, "unknown_at": {"N": str(epoch(now))}},
                     now, payload_sha256)

    def release(self, key: str, attempt: str) -> None:
        """Drop this caller's PENDING claim after SES refused the e-mail, so a retry may send it."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key={"delivery_key": {"S": key}},
                ConditionExpression="#status = :pending AND attempt = :attempt",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": PENDING}, ":attempt": {"S": attempt}},
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise

    def get(self, key: str) -> dict[str, str] | None:
        """The ledger record of a key as plain strings, or None."""
        item = self.client.get_item(
            TableName=self.table_name, Key={"delivery_key": {"S": key}}, ConsistentRead=True
        ).get("Item")
        return _plain(item) if item is not None else None


class MemoryLedger:
    """The same records in a dict, for one process (thread-safe)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, payload_sha256: str, now: datetime, lease_until: datetime,
              attempt: str) -> dict[str, str] | None:
        with self._lock:
            held = self.records.get(key)
            if held is not None and (lease_live(held, now) or held["status"] != PENDING
                                     or held.get("payload_sha256") != payload_sha256):
                return dict(held)
            self.records[key] = {"delivery_key": key, "status": PENDING, "payload_sha256": payload_sha256,
                                 "attempt": attempt, "claimed_at": str(epoch(now)),
                                 "lease_until": str(epoch_ms(lease_until))}
            return None

    def _finish(self, key: str, status: str, now: datetime, payload_sha256: str | None, **fields: str) -> None:
        with self._lock:
            record = self.records.setdefault(key, {"delivery_key": key})
            if record.get("status") == SENT and status != SENT:
                return
            record.update(status=status, **{f"{status.lower()}_at": str(epoch(now))}, **fields)
            if payload_sha256:
                record.setdefault("payload_sha256", payload_sha256)

    def mark_sent(self, key: str, message_id: str, now: datetime, payload_sha256: str | None = None) -> None:
        self._finish(key, SENT, now, payload_sha256, message_id=message_id)

    def mark_unknown(self, key: str, reason: str, now: datetime, payload_sha256: str | None = None) -> None:
        self._finish(key, UNKNOWN, now, payload_sha256, error=reason)

    def release(self, key: str, attempt: str) -> None:
        with self._lock:
            held = self.records.get(key, {})
            if held.get("status") == PENDING and held.get("attempt") == attempt:
                del self.records[key]

    def get(self, key: str) -> dict[str, str] | None:
        with self._lock:
            held = self.records.get(key)
            return dict(held) if held is not None else None
