"""Archive a run's artifacts in S3 (or a folder) with a manifest of SHA-256 digests, and find old runs.

Layout: `<platform>/<period>/<run-id>/<artifact>`, plus `manifest.json` in the same folder, so the latest
findings of a platform and period are one listing away (trends compare against the previous period).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST = "manifest.json"
FINDINGS = "findings.json"
_CONTENT_TYPES = {
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".csv": "text/csv; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".eml": "message/rfc822",
}


def content_type(name: str) -> str:
    return _CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def _check_name(name: str) -> str:
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


def archive_run(
    s3_client: Any, bucket: str, prefix: str, artifacts: dict[str, bytes], *, now: datetime | None = None
) -> dict:
    """Write every artifact under `prefix` (SSE-S3), then `manifest.json`; returns the manifest."""
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    files = []
    for name, data in artifacts.items():
        ctype = content_type(_check_name(name))
        s3_client.put_object(
            Bucket=bucket, Key=prefix + name, Body=data, ContentType=ctype, ServerSideEncryption="AES256"
        )
        files.append({"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                      "content_type": ctype})
    created = (now or datetime.now(UTC)).astimezone(UTC)
    manifest = {"created_at": created.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                "prefix": prefix, "files": files}
    s3_client.put_object(
        Bucket=bucket, Key=prefix + MANIFEST, Body=json.dumps(manifest, indent=2).encode(),
        ContentType=content_type(MANIFEST), ServerSideEncryption="AES256",
    )
    return manifest


def _parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def latest_findings(s3_client: Any, bucket: str, platform: str, period_label: str) -> dict | None:
    """The newest archived findings.json of a platform and period (by manifest created_at, else by the
    object's LastModified); None when nothing is archived."""
    base = f"{platform}/{period_label}/"
    runs: dict[str, dict[str, Any]] = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base):
        for obj in page.get("Contents", []):
            run, _, name = obj["Key"][len(base):].partition("/")
            if name in (FINDINGS, MANIFEST):
                runs.setdefault(run, {})[name] = obj
    candidates = []
    for run, objs in runs.items():
        if FINDINGS not in objs:
            continue
        when = objs[FINDINGS]["LastModified"]
        if MANIFEST in objs:
            body = s3_client.get_object(Bucket=bucket, Key=objs[MANIFEST]["Key"])["Body"].read()
            try:
                when = _parse_time(json.loads(body)["created_at"])
            except (ValueError, KeyError, TypeError):
                pass  # an unreadable manifest: fall back to LastModified
        candidates.append((when, run, objs[FINDINGS]["Key"]))
    if not candidates:
        return None
    _, _, key = max(candidates)
    return json.loads(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())


def write_local(out_dir: Path, artifacts: dict[str, bytes]) -> list[Path]:
    """The same artifacts as files under `out_dir` (sub-folders created as needed)."""
    out_dir = Path(out_dir)
    written = []
    for name, data in artifacts.items():
        path = out_dir / _check_name(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
