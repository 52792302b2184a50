"""One run, start to end: config + period -> sources -> datasets -> obligations -> findings -> outputs.

The CLI and the Lambda handler are thin adapters over `run()`. AWS clients are passed in (created lazily
by the caller), so the same code runs against AWS, moto server or nothing at all (local folder, no send).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..delivery import email as deliver
from ..delivery.ledger import DynamoLedger
from ..delivery.store import FolderStore, S3Store, archive_prefix
from ..engine.periods import Period, previous
from ..ingest import loader, sources
from ..obligations.config import Config, load_config
from ..obligations.evaluation import default_catalogue, evaluate
from ..obligations.exemptions import sme_exemption
from ..outputs import findings, mime, report
from ..outputs.evidence import evidence_jsonl
from ..outputs.registry import OUTPUTS
from ..vocabulary import EMAIL_FOLDER, EVIDENCE_FOLDER, MANIFEST
from .settings import Settings

Progress = Callable[[str, dict[str, Any]], None]


@dataclass
class RunRequest:
    config: Config
    period: Period
    source: str
    trigger: str = "cli"  # schedule | manual | cli (findings.schema.json)
    trigger_time: str | None = None  # scheduler's scheduled time; the delivery ledger keys on it
    send: bool = False
    out_dir: Path | None = None
    reports_bucket: str | None = None
    ledger_table: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    run_id: str | None = None


@dataclass
class RunResult:
    document: dict[str, Any]
    artifacts: dict[str, bytes]
    deliveries: list[deliver.DeliveryResult]
    archive_uri: str | None
    written: list[Path]

    @property
    def counts(self) -> dict[str, int]:
        return self.document["summary"]["counts"]


@dataclass
class Clients:
    """boto3 clients, created on first use (a local run without --send never needs one)."""

    factory: Callable[[str], Any] | None = None
    _made: dict[str, Any] = field(default_factory=dict)

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            if self.factory is None:
                import boto3

                self.factory = boto3.client
            self._made[service] = self.factory(service)
        return self._made[service]


def read_config(uri: str, clients: Clients) -> Config:
    """Load and validate the config (local path or s3:// URI) against the catalogue, before any data."""
    text = sources.read_text(uri, s3_client=clients("s3") if uri.startswith("s3://") else None)
    known = {ob.id: dict(ob.parameters) for ob in default_catalogue().obligations}
    return load_config(text, origin=uri, obligation_parameters=known)


def new_run_id(request: RunRequest) -> str:
    """Stable for a scheduled trigger (a retry overwrites its own archive), unique otherwise."""
    if request.run_id:
        return request.run_id
    if request.trigger == "schedule" and request.trigger_time:
        digits = "".join(ch for ch in request.trigger_time if ch.isalnum())
        return f"sched-{digits}"
    return f"{request.now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"


def open_engine(workdir: Path, settings: Settings):
    """The run's DuckDB connection under the settings' memory limit, spilling into `workdir`.

    DSA_DATABASE=file keeps the tables compressed in a file (a quarter of the memory, about twice the load
    time): the switch for a period too large for memory plus the spill room of /tmp.
    """
    return loader.connect(workdir / "engine.duckdb" if settings.database_on_disk else ":memory:",
                          memory_limit=settings.memory_limit, temp_directory=str(workdir / "spill"))


def on_engine(settings: Settings, data, workdir: Path):
    """The loaded period on the engine that evaluates it (DSA_ENGINE): DuckDB as loaded, or Spark, the tables
    exported to Parquet in the run's folder and read by a local Spark session (or the Spark job's own)."""
    if settings.engine != "spark":
        return contextlib.nullcontext(data)
    from ..engine import spark  # pyspark and sqlglot are not in the Lambda bundle

    return spark.on_spark(data, spark.local_session(), workdir / "parquet")


def run(request: RunRequest, *, clients: Clients | None = None, progress: Progress | None = None,
        settings: Settings | None = None) -> RunResult:
    clients = clients or Clients()
    settings = settings or Settings.from_env(os.environ)
    say = progress or (lambda event, fields: None)
    config, period = request.config, request.period
    catalogue = default_catalogue()  # parsed and schema-checked once per process
    run_id = new_run_id(request)
    base = settings.workdir
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)  # /tmp/dsa does not exist in a fresh Lambda
    workdir = Path(tempfile.mkdtemp(prefix="dsa-", dir=base or None))
    try:
        s3 = clients("s3") if request.source.startswith("s3://") else None
        with sources.fetching(request.source, workdir, s3_client=s3) as collected:
            say("sources", {"source": collected.source, "objects": collected.objects})
            con = open_engine(workdir, settings)
            data = loader.load(collected, con, platform_names=config.names_in_data, now=request.now,
                                 release=lambda files: sources.cleanup(files, workdir),
                                 progress=lambda name, info, q: say("dataset", {
                                     "dataset": name, "files": info.files, "rows": info.rows,
                                     "quarantined": q.quarantined_rows}))
        exempt, sme_note = sme_exemption(config.sme_status, config.sme_lost_on, config.tier, period)
        with on_engine(settings, data, workdir) as evaluated:
            outcomes, metrics = evaluate(catalogue, evaluated, period, tier=config.tier,
                                         marketplace=config.marketplace, overrides=config.parameters,
                                         binding_commitments=config.binding_commitments, exempt=exempt)
        say("evaluated", {"obligations": len(outcomes), "engine": settings.engine})
        con.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    evidence = {ob.id: outcome.items for ob, outcome, _ in outcomes if outcome.items}
    found = [findings.finding(ob, outcome, params) for ob, outcome, params in outcomes]
    prior = _previous_findings(request, clients)
    document = findings.build_document(
        run=_run_section(request, run_id, catalogue.version, data.quality, sme_note),
        config=config, quality=data.quality, metrics=metrics, findings=found,
        today=request.now.date(), previous=prior,
    )
    artifacts = _render(document, evidence)
    messages = _messages(request, document, artifacts)
    for audience, message in messages.items():
        artifacts[f"{EMAIL_FOLDER}/{audience}.eml"] = message.as_bytes()

    written = FolderStore(request.out_dir).write(artifacts) if request.out_dir else []
    archive_uri = None
    if request.reports_bucket:
        store = S3Store(clients("s3"), request.reports_bucket)
        prefix = archive_prefix(config.platform, period.label, run_id)
        store.put(prefix, artifacts)
        archive_uri = store.uri(prefix)
        say("archived", {"uri": archive_uri, "files": len(artifacts) + 1, "manifest": MANIFEST})
    deliveries = _send(request, messages, clients) if request.send else []
    for result in deliveries:
        say("delivery", {"key": result.key, "status": result.status, "error": result.error})
    return RunResult(document, artifacts, deliveries, archive_uri, written)


def _run_section(request: RunRequest, run_id: str, catalogue_version: str, quality: dict,
                 sme_note: str | None) -> dict[str, Any]:
    fingerprint = hashlib.sha256(json.dumps(quality, sort_keys=True, default=str).encode()).hexdigest()
    return {
        "id": run_id,
        "platform": request.config.platform,
        "tier": request.config.tier,
        "marketplace": request.config.marketplace,
        "period": request.period.to_json(),
        "generated_at": request.now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "trigger": request.trigger,
        "trigger_time": request.trigger_time,
        "catalogue_version": catalogue_version,
        "source": request.source,
        "data_fingerprint": f"sha256:{fingerprint}",
        **({"sme_exemption": sme_note} if sme_note else {}),
    }


def _previous_findings(request: RunRequest, clients: Clients) -> dict | None:
    """Archived findings of the previous period of the same kind (for the trend), when there is an archive."""
    before = previous(request.period)
    if not request.reports_bucket or before is None:
        return None
    return S3Store(clients("s3"), request.reports_bucket).latest_findings(request.config.platform, before.label)


def _render(document: dict, evidence: dict[str, list[dict]]) -> dict[str, bytes]:
    artifacts = {name: output.render(document) for name, output in OUTPUTS.items()}
    for obligation_id, rows in sorted(evidence.items()):
        artifacts[f"{EVIDENCE_FOLDER}/{obligation_id}.jsonl"] = evidence_jsonl(rows)
    return artifacts


def _messages(request: RunRequest, document: dict, artifacts: dict[str, bytes]) -> dict:
    config, run_id = request.config, document["run"]["id"]
    attachments = [mime.Attachment(name, artifacts[name], output.content_type(name).split(";")[0])
                   for name, output in OUTPUTS.items() if output.attached]
    messages = {}
    for audience in config.audiences:
        subject, text, html = report.render_email(document, audience.name)
        messages[audience.name] = mime.build_message(
            sender=config.sender or "", recipients=list(audience.recipients), subject=subject, text=text,
            html=html, attachments=attachments,
            headers={"X-DSA-Report-Run": run_id, "X-DSA-Report-Audience": audience.name},
        )
    return messages


def _send(request: RunRequest, messages: dict, clients: Clients) -> list[deliver.DeliveryResult]:
    ledger = DynamoLedger(request.ledger_table, clients("dynamodb")) if request.ledger_table else None
    trigger_time = request.trigger_time or request.now.isoformat()
    results = []
    for audience, message in messages.items():
        key = deliver.delivery_key(request.config.platform, request.period.label, audience, trigger_time)
        results.append(deliver.deliver(clients("sesv2"), ledger, message, key, request.now))
    return results
