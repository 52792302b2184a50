"""Ingest on arrival: an S3 event of the data bucket (EventBridge "Object Created" / "Object Deleted") -> the
object read into the curated store (ingest/curated.py), and what it held reported the day it lands.

The raw location and the platform names come from the config (DSA_CONFIG: its `source` and
`platform_names`), the store from DSA_CURATED. An object outside the location (the config itself, the
store) or outside the data contract's folders is ignored. A new object version with rows quarantined or
content unreadable is mailed to the config's audience named by DSA_ARRIVAL_AUDIENCE (outputs/notice.py), once:
a repeated event finds the version curated and sends nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..delivery.email import send_raw
from ..ingest import curated, s3
from ..obligations.config import Config, ConfigError
from ..outputs import mime, notice
from .pipeline import Clients, read_config
from .settings import Settings

CREATED, DELETED = "Object Created", "Object Deleted"


class ArrivalError(ValueError):
    """The event is no S3 object event this function can take; the message names the key."""


@dataclass(frozen=True)
class Landed:
    kind: str  # Object Created | Object Deleted
    bucket: str
    key: str
    version_id: str | None
    etag: str | None
    sequencer: str | None


def parse(event: Mapping[str, Any]) -> Landed:
    kind = event.get("detail-type")
    if kind not in (CREATED, DELETED) or event.get("source") != "aws.s3":
        raise ArrivalError(f"detail-type: {kind!r} from {event.get('source')!r} is no S3 object event")
    detail = event.get("detail") or {}
    obj, bucket = detail.get("object") or {}, (detail.get("bucket") or {}).get("name")
    if not bucket or not obj.get("key"):
        raise ArrivalError("detail.bucket.name and detail.object.key are required")
    return Landed(kind, bucket, obj["key"], obj.get("version-id"), obj.get("etag"), obj.get("sequencer"))


@dataclass(frozen=True)
class Arrival:
    ingested: curated.Ingested
    notice: str | None = None  # sent | not sent: <why> | failed: <error>; None: none was owed


def on_arrival(event: Mapping[str, Any], settings: Settings, clients: Clients, now: datetime) -> Arrival:
    landed = parse(event)
    if not settings.config_uri or not settings.curated_uri:
        raise ConfigError("DSA_CONFIG/DSA_CURATED", "the arrival function needs both the config and the store")
    config = read_config(settings.config_uri, clients)
    if not config.source or not config.source.startswith("s3://"):
        raise ConfigError("source", "the arrival function needs an s3:// data location", origin=settings.config_uri)
    bucket, prefix = s3.split(config.source)
    if landed.bucket != bucket or not landed.key.startswith(prefix):
        return Arrival(curated.Ingested("ignored"))
    path = landed.key[len(prefix):]
    store = curated.Store(settings.curated_uri, clients("s3"))
    if landed.kind == DELETED:
        return Arrival(curated.remove(config.source, path, store, landed.sequencer))
    arrived = curated.Arrived(path, landed.version_id, landed.etag, landed.sequencer)
    with tempfile.TemporaryDirectory(prefix="dsa-arrival-", dir=settings.workdir) as work:
        ingested = curated.ingest(config.source, arrived, store, Path(work), s3_client=clients("s3"),
                                  platform_names=config.names_in_data, now=now)
    owed = ingested.outcome == "written" and settings.arrival_audience and notice.needs_notice(ingested.record)
    return Arrival(ingested, _notify(ingested.record, config, settings, clients) if owed else None)


def _notify(record: dict, config: Config, settings: Settings, clients: Clients) -> str:
    """Mail the arrival notice to the audience DSA_ARRIVAL_AUDIENCE names. Best effort: the object is curated
    whatever happens here, and the alarm on QuarantinedRowsOnArrival / UnreadableOnArrival fires regardless."""
    audience = next((a for a in config.audiences if a.name == settings.arrival_audience), None)
    if audience is None:
        return f"not sent: the config has no {settings.arrival_audience} audience"
    mail = notice.arrival_notice(config.platform, record)
    message = mime.build_message(sender=config.sender, recipients=list(audience.recipients), subject=mail.subject,
                                 text=mail.text, html=mail.html, attachments=[],
                                 headers={"X-DSA-Report-Arrival": f"{record['object']}-{record['version']}"})
    try:
        send_raw(clients("sesv2"), message, settings.ses_configuration_set)
    except Exception as exc:  # noqa: BLE001 - reported as the notice's outcome (metric ArrivalNoticeFailed)
        return f"failed: {type(exc).__name__}: {exc}"
    return "sent"
