"""Where a run's artifacts are kept: an `ArtifactStore` (S3 in the deployed product, a folder locally).

S3 layout: `<platform>/<period>/<run-id>/<artifact>`, plus `manifest.json` (SHA-256 of every file) in the
same folder, so the latest findings of a platform and period are one listing away (trends compare against
the previous period).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from ..vocabulary import FINDINGS_JSON, MANIFEST, content_type


class ArtifactStore(Protocol):
    def put(self, prefix: str, artifacts: dict[str, bytes]) -> dict:
        """Write every artifact under `prefix`; returns the manifest."""
        ...


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


def manifest(prefix: str, artifacts: dict[str, bytes], now: datetime | None = None) -> dict:
    files = [{"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
              "content_type": content_type(check_name(name))} for name, data in artifacts.items()]
    created = (now or datetime.now(UTC)).astimezone(UTC)
    return {"created_at": created.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "prefix": prefix, "files": files}


class S3Store:
    """Artifacts as S3 objects (SSE-S3), the manifest written last."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def uri(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"

    def put(self, prefix: str, artifacts: dict[str, bytes], *, now: datetime | None = None) -> dict:
        prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        listed = manifest(prefix, artifacts, now)
        for name, data in artifacts.items():
            self._put(prefix + name, data)
        self._put(prefix + MANIFEST, json.dumps(listed, indent=2).encode())
        return listed

    def _put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type(key),
                               ServerSideEncryption="AES256")

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


class FolderStore:
    """The same artifacts as files under a folder (sub-folders created as needed)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, prefix: str, artifacts: dict[str, bytes], *, now: datetime | None = None) -> dict:
        self.write(artifacts, self.root / prefix)
        return manifest(prefix, artifacts, now)

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
