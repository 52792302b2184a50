"""One run, start to end: config + period -> sources -> datasets -> obligations -> findings -> outputs.

The CLI and the Lambda handler are thin adapters over `run()`. AWS clients are passed in (created lazily
by the caller), so the same code runs against AWS, moto server or nothing at all (local folder, no send).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..delivery import email as deliver
from ..delivery.ledger import DynamoLedger
from ..delivery.store import ArchiveConflict, FolderStore, S3Store, TriggerArchive, archive_prefix, timestamp
from ..engine.periods import Period, previous
from ..ingest import curated, loader, sources
from ..obligations import transparency
from ..obligations.config import Config, ConfigError, load_config
from ..obligations.evaluation import default_catalogue, evaluate
from ..obligations.exemptions import sme_exemption
from ..outputs import charts, findings, mime, report
from ..outputs.evidence import evidence_jsonl
from ..outputs.registry import ATTACH_MAX_BYTES, OUTPUTS
from ..outputs.transparency import FIGURES_KEY, next_version
from ..vocabulary import (
    DUPLICATE,
    EMAIL_FOLDER,
    EVIDENCE_FOLDER,
    FINDINGS_JSON,
    IN_PROGRESS,
    MANIFEST,
    REPORT_HTML,
    SENT,
)
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
    deadline: datetime | None = None  # the invocation's own deadline (Lambda); delivery claims lapse then
    curated: str | None = None  # read this curated store (ingest/curated.py) instead of the raw `source`


@dataclass
class RunResult:
    document: dict[str, Any]
    artifacts: dict[str, bytes]
    deliveries: list[deliver.DeliveryResult]
    archive_uri: str | None
    written: list[Path]
    figures: dict[str, Any] = field(default_factory=dict)  # extra figures the renderers took (the EU report)

    @property
    def counts(self) -> dict[str, int]:
        return self.document["summary"]["counts"]


CLIENT_CONFIGS = {"sesv2": deliver.SES_CLIENT_CONFIG}  # SES: no automatic retry, bounded time-outs


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
            config = CLIENT_CONFIGS.get(service)
            self._made[service] = self.factory(service, config=config) if config else self.factory(service)
        return self._made[service]


def read_config(uri: str, clients: Clients) -> Config:
    """Load and validate the config (local path or s3:// URI) against the catalogue, before any data."""
    text = sources.read_text(uri, s3_client=clients("s3") if uri.startswith("s3://") else None)
    known = {ob.id: dict(ob.parameters) for ob in default_catalogue().obligations}
    return load_config(text, origin=uri, obligation_parameters=known)


def read_answers(config: Config, clients: Clients) -> dict[str, str]:
    """The answers file of the EU transparency report (config key transparency_qualitative); {} without one.
    A file that cannot be read or used is a config error naming the key, before any data is read."""
    uri = config.transparency_qualitative
    if not uri:
        return {}
    try:
        text = sources.read_text(uri, s3_client=clients("s3") if uri.startswith("s3://") else None)
        return transparency.parse_answers(text)
    except (sources.SourceError, transparency.AnswersError) as exc:
        raise ConfigError("transparency_qualitative", str(exc)) from None


def new_run_id(request: RunRequest) -> str:
    """Stable for a trigger that a retry repeats (a scheduled time, a Lambda request id): every attempt of the
    trigger shares one archive folder. Unique otherwise."""
    if request.run_id:
        return request.run_id
    if request.trigger == "schedule" and request.trigger_time:
        digits = "".join(ch for ch in request.trigger_time if ch.isalnum())
        return f"sched-{digits}"
    if request.trigger == "manual" and request.trigger_time:
        text = request.trigger_time.removeprefix("manual:")
        safe = re.sub(r"[^A-Za-z0-9-]", "", text)[:64]
        tail = "" if safe == text else "-" + hashlib.sha256(request.trigger_time.encode()).hexdigest()[:8]
        return f"manual-{safe}{tail}"
    return f"{request.now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"


def open_engine(workdir: Path, settings: Settings):
    """The run's DuckDB connection under the settings' memory limit, spilling into `workdir`.

    DSA_DATABASE=file keeps the tables compressed in a file (a quarter of the memory, about twice the load
    time): the switch for a period too large for memory plus the spill room of /tmp.
    """
    return loader.connect(workdir / "engine.duckdb" if settings.database_on_disk else ":memory:",
                          memory_limit=settings.memory_limit, temp_directory=str(workdir / "spill"))


def load_source(source: str, workdir: Path, clients: Clients, settings: Settings, *,
                platform_names: Iterable[str] | None, say: Progress, now: datetime | None = None,
                unreadable_tolerance: float = 0.0):
    """Fetch a data location into `workdir` and load it once into the run's engine: (data, connection), the
    connection for the caller to close. Local copies are deleted as each dataset is loaded."""
    s3 = clients("s3") if source.startswith("s3://") else None
    with sources.fetching(source, workdir, s3_client=s3) as collected:
        say("sources", {"source": collected.source, "objects": collected.objects})
        con = open_engine(workdir, settings)
        data = loader.load(collected, con, platform_names=platform_names, now=now,
                           release=lambda files: sources.cleanup(files, workdir),
                           unreadable_tolerance=unreadable_tolerance,
                           progress=lambda name, info, q: say("dataset", {
                               "dataset": name, "files": info.files, "rows": info.rows,
                               "quarantined": q.quarantined_rows}))
    return data, con


def load_curated(store_uri: str, period: Period, workdir: Path, clients: Clients, settings: Settings, *,
                 platform_names: Iterable[str] | None, say: Progress, unreadable_tolerance: float = 0.0):
    """The period's months of a curated store (what landed was read, checked and quarantined on arrival) as
    the run's engine tables: (data, connection), as `load_source`."""
    store = curated.Store(store_uri, clients("s3") if store_uri.startswith("s3://") else None)
    found = curated.records(store)
    if not found:
        raise sources.SourceError(f"no curated object under {store.root} (nothing has landed, or a wrong store)")
    plan = curated.plan(found, period.end, platform_names)
    say("sources", {"source": store.root, "objects": plan.records, "months": len(plan.months),
                    "bytes": plan.bytes})
    con = open_engine(workdir, settings)
    data = curated.open_plan(con, store, plan, workdir, unreadable_tolerance=unreadable_tolerance,
                             progress=lambda name, fields: say("dataset", {"dataset": name, **fields}))
    return data, con


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
    clock = _clock(request)
    archive = _trigger_archive(request, run_id, clients)
    first = archive.get(FINDINGS_JSON) if archive is not None else None
    if first is not None:  # a retry of this trigger: the first attempt's findings, no second evaluation
        say("reused", {"uri": archive.uri + FINDINGS_JSON})
        return _publish(request, first, None, archive, clients, settings, say, clock)
    base = settings.workdir
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)  # /tmp/dsa does not exist in a fresh Lambda
    report_due = transparency.due(config.tier, period)  # the run that produces the EU transparency report
    answers = read_answers(config, clients) if report_due else None
    workdir = Path(tempfile.mkdtemp(prefix="dsa-", dir=base or None))
    try:
        if request.curated:
            data, con = load_curated(request.curated, period, workdir, clients, settings,
                                     platform_names=config.names_in_data, say=say,
                                     unreadable_tolerance=config.unreadable_tolerance)
        else:
            data, con = load_source(request.source, workdir, clients, settings,
                                    platform_names=config.names_in_data, say=say, now=request.now,
                                    unreadable_tolerance=config.unreadable_tolerance)
        exempt, sme_note = sme_exemption(config.sme_status, config.sme_lost_on, config.tier, period)
        with on_engine(settings, data, workdir) as evaluated:
            outcomes, metrics = evaluate(catalogue, evaluated, period, tier=config.tier,
                                         marketplace=config.marketplace, overrides=config.parameters,
                                         binding_commitments=config.binding_commitments, exempt=exempt)
        say("evaluated", {"obligations": len(outcomes), "engine": settings.engine})
        figures = {FIGURES_KEY: transparency.build(
            data, period, tier=config.tier, service=config.platform, answers=answers,
            version=_version(request), issued=request.now.date())} if report_due else {}
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
    return _publish(request, OUTPUTS[FINDINGS_JSON].render(document), evidence, archive, clients, settings, say,
                    clock, figures)


def _clock(request: RunRequest) -> Callable[[], datetime]:
    """The run's time: `request.now` at the start, then the real time elapsed (claims and records need the
    moment of each send; a test gives `now`)."""
    started = time.monotonic()
    return lambda: request.now + timedelta(seconds=time.monotonic() - started)


def _trigger_archive(request: RunRequest, run_id: str, clients: Clients) -> TriggerArchive | None:
    if not request.reports_bucket:
        return None
    prefix = archive_prefix(request.config.platform, request.period.label, run_id)
    return TriggerArchive(S3Store(clients("s3"), request.reports_bucket), prefix)


def _publish(request: RunRequest, document_bytes: bytes, evidence: dict[str, list[dict]] | None,
             archive: TriggerArchive | None, clients: Clients, settings: Settings, say: Progress,
             clock: Callable[[], datetime], figures: dict[str, Any] | None = None) -> RunResult:
    """Archive what the trigger's audiences are to receive, then send exactly that.

    Every object of the trigger's folder is written once, and an attempt that finds one there uses it instead
    of its own: the first findings.json decides the findings, and the reports and e-mails are rendered from
    those bytes, so every audience of a trigger gets the same findings whichever attempt mails it, and each
    .eml in the archive is the exact bytes sent. An attempt that evaluated (`evidence` given) writes its
    evidence first, so archived findings always have their evidence beside them."""
    stored: dict[str, bytes] = {}

    def keep(name: str, make: Callable[[], bytes]) -> bytes:
        data = archive.get(name) if archive is not None and evidence is None else None
        if data is None:
            data = make() if archive is None else archive.put_once(name, make())
        stored[name] = data
        return data

    for name, data in _evidence(evidence or {}).items():
        if keep(name, lambda data=data: data) != data:
            raise ArchiveConflict(f"{archive.uri}{name}: an earlier attempt of this trigger archived other evidence "
                                  "(the data changed in between); it is kept and this attempt stops")
    mine = document_bytes
    document_bytes = keep(FINDINGS_JSON, lambda: mine)
    document = json.loads(document_bytes)
    produced: dict[str, list[str]] = {FINDINGS_JSON: [FINDINGS_JSON]}
    for name, output in OUTPUTS.items():
        # an output of the run's figures (the EU report) is made by the attempt that evaluated; a retry that
        # lacks them and finds no archived copy mails without it, and the payload check then refuses loudly
        if name == FINDINGS_JSON or not output.applies(document) or (output.figures and not figures):
            continue
        if not output.figures:  # one file, named by its entry: rendered only when the archive lacks it
            keep(name, lambda output=output, name=name: output.files(name, document, evidence or {}, {})[name])
            produced[name] = [name]
            continue
        files = output.files(name, document, evidence or {}, figures)  # the EU report names its own files
        produced[name] = list(files)
        for file, data in files.items():
            keep(file, lambda data=data: data)
    link = _report_link(request, clients, document["run"]["id"])
    messages = _messages(request, document, stored, produced, evidence, link)
    emails = {audience: keep(f"{EMAIL_FOLDER}/{audience}.eml", message.as_bytes)
              for audience, message in messages.items()}
    rank = {name: i for i, name in enumerate(OUTPUTS)}  # listed as before: outputs, evidence, e-mails
    stored = dict(sorted(stored.items(), key=lambda item: (rank.get(item[0], len(rank)),
                                                           item[0].startswith(EMAIL_FOLDER), item[0])))

    written = FolderStore(request.out_dir).write(stored) if request.out_dir else []
    if archive is not None:
        manifest = archive.record(clock(), files=stored, run_id=document["run"]["id"],
                                  inventory=evidence is None or document_bytes != mine)
        say("archived", {"uri": archive.uri, "files": len(manifest["files"]) + 1, "manifest": MANIFEST})
    deliveries = _send(request, archive, emails, clients, settings, clock) if request.send else []
    for result in deliveries:
        say("delivery", {"key": result.key, "status": result.status, "error": result.error})
    return RunResult(document, stored, deliveries, archive.uri if archive is not None else None, written, figures)


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
        "source": request.curated or request.source,
        "data_fingerprint": f"sha256:{fingerprint}",
        **({"sme_exemption": sme_note} if sme_note else {}),
    }


def _previous_findings(request: RunRequest, clients: Clients) -> dict | None:
    """Archived findings of the previous period of the same kind (for the trend), when there is an archive."""
    before = previous(request.period)
    if not request.reports_bucket or before is None:
        return None
    return S3Store(clients("s3"), request.reports_bucket).latest_findings(request.config.platform, before.label)


def _version(request: RunRequest) -> int:
    """The EU report's version: 1 + the highest already in the local output folder (1 in a run's archive)."""
    folder = request.out_dir
    names = [p.name for p in folder.iterdir()] if folder and folder.is_dir() else []
    return next_version(names, request.config.platform, request.period.label)


def _evidence(evidence: dict[str, list[dict]]) -> dict[str, bytes]:
    return {f"{EVIDENCE_FOLDER}/{obligation_id}.jsonl": evidence_jsonl(rows)
            for obligation_id, rows in sorted(evidence.items())}


def _report_link(request: RunRequest, clients: Clients, run_id: str) -> tuple[str, int] | None:
    """A time-limited link to the archived report.html (an S3 presigned URL, signed before the upload: signing
    needs no object), valid `report_link_days`; None without an archive bucket."""
    if not request.reports_bucket:
        return None
    days = request.config.report_link_days
    key = archive_prefix(request.config.platform, request.period.label, run_id) + REPORT_HTML
    url = clients("s3").generate_presigned_url("get_object", Params={"Bucket": request.reports_bucket, "Key": key},
                                               ExpiresIn=days * 86400)
    return url, days


def _messages(request: RunRequest, document: dict, artifacts: dict[str, bytes], produced: dict[str, list[str]],
              evidence: dict[str, list[dict]] | None = None, link: tuple[str, int] | None = None) -> dict:
    config, run_id = request.config, document["run"]["id"]
    drawn = tuple(charts.for_run(document, evidence))  # drawn once, shown in every e-mail that wants them
    messages = {}
    for audience in config.audiences:
        attached = [(file, OUTPUTS[name]) for name, files in produced.items() for file in files
                    if OUTPUTS[name].attached_to(audience.name)]
        too_large = tuple(file for file, _ in attached if len(artifacts[file]) > ATTACH_MAX_BYTES)
        attachments = [mime.Attachment(file, artifacts[file], output.content_type(file).split(";")[0])
                       for file, output in attached if file not in too_large]
        extras = report.MailExtras(link=link[0] if link else None, link_days=link[1] if link else None,
                                   attachments=tuple(a.filename for a in attachments), not_attached=too_large,
                                   charts=drawn)
        mail = report.compose_email(document, audience.name, extras)
        messages[audience.name] = mime.build_message(
            sender=config.sender or "", recipients=list(audience.recipients), subject=mail.subject,
            text=mail.text, html=mail.html, attachments=attachments, inline=mail.images,
            headers={"X-DSA-Report-Run": run_id, "X-DSA-Report-Audience": audience.name},
        )
    return messages


def _send(request: RunRequest, archive: TriggerArchive | None, emails: dict[str, bytes], clients: Clients,
          settings: Settings, clock: Callable[[], datetime]) -> list[deliver.DeliveryResult]:
    """Deliver each audience's archived e-mail once per trigger, recording each outcome in the manifest."""
    ledger = DynamoLedger(request.ledger_table, clients("dynamodb")) if request.ledger_table else None
    trigger_time = request.trigger_time or request.now.isoformat()
    attempt = f"{request.now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"
    keys = {audience: deliver.delivery_key(request.config.platform, request.period.label, audience, trigger_time)
            for audience in emails}
    archived = {d["audience"]: d for d in ((archive.manifest() or {}).get("deliveries", []) if archive else [])}
    for audience, raw in emails.items():  # before any e-mail goes out: a retry never mails different content
        digest = deliver.payload_digest(raw)
        held = ledger.get(keys[audience]) if ledger is not None else None
        for where, record in (("ledger", held), ("archive", archived.get(audience))):
            if (record or {}).get("payload_sha256") not in (None, digest):
                raise deliver.PayloadMismatch(
                    f"{audience}: refusing to send; the {where} records another e-mail for this audience and "
                    f"trigger ({keys[audience]}), and a retry must send the same one")
    results = []
    for audience, raw in emails.items():
        result = deliver.deliver(clients("sesv2"), ledger, raw, keys[audience], clock(),
                                 lease_until=request.deadline, attempt=attempt,
                                 configuration_set=settings.ses_configuration_set, archived=archived.get(audience))
        results.append(result)
        if archive is not None and result.status != IN_PROGRESS:  # the claimant records its own outcome
            archive.record(clock(), delivery={
                "audience": audience, "key": result.key, "state": SENT if result.status == DUPLICATE else result.status,
                "message_id": result.message_id, "payload_sha256": result.payload_sha256, "attempt": attempt,
                "at": timestamp(clock()), **({"error": result.error} if result.error else {})})
    return results
