"""Where a run's artifacts are kept: S3 in the deployed product, a folder locally.

S3 layout: `<platform>/<period>/<run-id>/<artifact>`, one folder per trigger (a scheduled trigger's run id is
fixed by its scheduled time, so its retries share the folder). Every object in it is written once
(`If-None-Match: *`): a concurrent or later attempt cannot overwrite it, and reads back what is there instead.
`manifest.json` (the SHA-256 of every stored object and the state of every delivery) is merged by each
attempt with `If-Match` on its ETag, so no attempt's record is lost. The latest findings of a platform and
period are one listing away (trends compare against the previous period).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from botocore.exceptions import ClientError

from ..vocabulary import FINDINGS_JSON, MANIFEST, SENT, content_type

_RACED = ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409")


class ArchiveConflict(RuntimeError):
    """The archive holds something other than what this attempt must rely on."""


def check_name(name: str) -> str:
    """Artifact names are relative POSIX paths (`findings.json`, `evidence/X.jsonl`), never escaping."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")):
        raise ValueError(f"invalid artifact name: {name!r}")
    return name


def archive_prefix(platform: str, period_label: str, run_id: str) -> str:
    """`<platform>/<period>/<run-id>/`; each part must be a single path segment."""
    for part in (platform, period_label, run_id):
        if not part or "/" in part or part in (".", ".."):
            raise ValueError(f"invalid archive path segment: {part!r}")
    return f"{platform}/{period_label}/{run_id}/"


def file_entry(name: str, data: bytes) -> dict:
    return {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "content_type": content_type(check_name(name))}


def timestamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store:
    """Artifacts as S3 objects (SSE-S3), the manifest written last."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def uri(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"

    def put_once(self, key: str, data: bytes) -> bytes:
        """Write `data` at `key` unless an object is there; returns the bytes stored at `key`: ours, or those
        of whoever wrote first."""
        for attempt in range(5):
            try:
                self._put(key, data, IfNoneMatch="*")
                return data
            except ClientError as exc:
                if _code(exc) not in _RACED:
                    raise
            stored = self.read(key)
            if stored is not None:
                return stored[0]
            time.sleep(0.1 * (attempt + 1))  # a concurrent conditional write was in flight (409): try again
        raise ArchiveConflict(f"s3://{self.bucket}/{key}: neither written nor readable")

    def update_json(self, key: str, change: Callable[[dict | None], dict]) -> dict:
        """Replace a JSON object by `change(current)`, never over a version this call has not seen: created
        with If-None-Match, replaced with If-Match on the ETag read, and tried again when someone was faster."""
        for attempt in range(20):
            current = self.read(key)
            new = change(json.loads(current[0]) if current else None)
            condition = {"IfMatch": current[1]} if current else {"IfNoneMatch": "*"}
            try:
                self._put(key, json.dumps(new, indent=2).encode(), **condition)
                return new
            except ClientError as exc:
                if _code(exc) not in _RACED:
                    raise
            time.sleep(0.05 * (attempt + 1))
        raise ArchiveConflict(f"s3://{self.bucket}/{key}: changed by others at every try")

    def _put(self, key: str, data: bytes, **condition: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type(key),
                               ServerSideEncryption="AES256", **condition)

    def read(self, key: str) -> tuple[bytes, str] | None:
        """(bytes, ETag) of the object at `key`, or None."""
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        return obj["Body"].read(), obj["ETag"]

    def keys(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def latest_findings(self, platform: str, period_label: str) -> dict | None:
        """The newest archived findings.json of a platform and period (by manifest created_at, else by the
        object's LastModified); None when nothing is archived."""
        base = f"{platform}/{period_label}/"
        runs: dict[str, dict[str, Any]] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base):
            for obj in page.get("Contents", []):
                run, _, name = obj["Key"][len(base):].partition("/")
                if name in (FINDINGS_JSON, MANIFEST):
                    runs.setdefault(run, {})[name] = obj
        candidates = []
        for run, objs in runs.items():
            if FINDINGS_JSON not in objs:
                continue
            when = objs[FINDINGS_JSON]["LastModified"]
            if MANIFEST in objs:
                try:
                    when = _parse_time(json.loads(self._read(objs[MANIFEST]["Key"]))["created_at"])
                except (ValueError, KeyError, TypeError):
                    pass  # an unreadable manifest: fall back to LastModified
            candidates.append((when, run, objs[FINDINGS_JSON]["Key"]))
        if not candidates:
            return None
        _, _, key = max(candidates)
        return json.loads(self._read(key))

    def _read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()


class TriggerArchive:
    """The folder of one trigger, `<platform>/<period>/<run-id>/`: objects written once, a merged manifest."""

    def __init__(self, store: S3Store, prefix: str) -> None:
        self.store = store
        self.prefix = prefix

    @property
    def uri(self) -> str:
        return self.store.uri(self.prefix)

    def get(self, name: str) -> bytes | None:
        stored = self.store.read(self.prefix + check_name(name))
        return stored[0] if stored else None

    def put_once(self, name: str, data: bytes) -> bytes:
        """The bytes stored under `name`: `data`, unless another attempt wrote them first."""
        return self.store.put_once(self.prefix + check_name(name), data)

    def manifest(self) -> dict | None:
        stored = self.get(MANIFEST)
        return json.loads(stored) if stored else None

    def record(self, now: datetime, *, files: dict[str, bytes] | None = None, delivery: dict | None = None,
               run_id: str | None = None, inventory: bool = False) -> dict:
        """Merge into the manifest the SHA-256 of `files` (the stored bytes) and one delivery's state (by
        audience; a later "sent" never replaces the first one). `inventory` also lists every stored object
        the manifest does not name yet (written by an attempt that stopped before its manifest)."""
        files = dict(files or {})
        if inventory:
            listed = {f["name"] for f in (self.manifest() or {}).get("files", [])} | set(files)
            for key in self.store.keys(self.prefix):
                name = key[len(self.prefix):]
                if name != MANIFEST and name not in listed:
                    files[name] = self.get(name) or b""
        entries = [file_entry(name, data) for name, data in files.items()]

        def change(current: dict | None) -> dict:
            manifest = current or {"created_at": timestamp(now), "prefix": self.prefix, "run_id": run_id,
                                   "files": [], "deliveries": []}
            known = {f["name"]: f for f in manifest["files"]}
            for entry in entries:
                if entry["name"] not in known:
                    manifest["files"].append(entry)
                elif known[entry["name"]]["sha256"] != entry["sha256"]:
                    raise ArchiveConflict(f"{self.uri}{entry['name']}: stored bytes differ from the manifest's")
            if delivery is not None:
                deliveries = manifest.setdefault("deliveries", [])
                old = next((d for d in deliveries if d["audience"] == delivery["audience"]), None)
                if old is None:
                    deliveries.append(delivery)
                elif not (old["state"] == delivery["state"] == SENT):
                    deliveries[deliveries.index(old)] = delivery
            manifest["updated_at"] = timestamp(now)
            return manifest

        return self.store.update_json(self.prefix + MANIFEST, change)


class FolderStore:
    """The same artifacts as files under a folder (sub-folders created as needed)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def write(self, artifacts: dict[str, bytes], folder: Path | None = None) -> list[Path]:
        folder = folder or self.root
        written = []
        for name, data in artifacts.items():
            path = folder / check_name(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written.append(path)
        return written


def _parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
