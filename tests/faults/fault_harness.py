"""The fault-injection harness: the real Lambda handler against a local AWS endpoint (moto server), driven
from outside, and what each invocation left behind (raised or summary, e-mails SES accepted per audience,
the archive checked against its manifest, the UnreadableFiles metric the handler emitted).

Faults are injected only where an operator could meet them: the environment (a full work folder, a DuckDB memory
limit, the client's retry settings), botocore event hooks on the default session every client of the handler is
made from (an S3 answer replaced by 403 or 503), the data itself (a corrupt file), the curated store's parts
(deleted or overwritten in the bucket), and the process (killed right after SES accepted an e-mail). Nothing in
the product is patched, except to simulate a full disk where this machine refuses to mount a small tmpfs (said
so in the results).
"""

from __future__ import annotations

import builtins
import contextlib
import email
import errno
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote
from urllib.request import Request, urlopen

import boto3
from botocore.awsrequest import AWSResponse

from dsa_report.app.pipeline import new_run_id
from dsa_report.obligations.evaluation import default_catalogue
from dsa_report.tools import demo
from dsa_report.tools.synthetic import generate

PERIOD = "2025-10"
PERIOD_START, PERIOD_END = date(2025, 10, 1), date(2025, 10, 31)
AUDIENCES = ("board", "compliance", "trust_and_safety")
FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
SCALE = 1000  # the generator's smallest: 1,234 SoRs, 42 files, about half a megabyte


def config_text(prefix: str, extra: str = "") -> str:
    return (f"platform: {demo.PLATFORM}\nplatform_names: [{demo.PLATFORM}]\ntier: VLOP\nmarketplace: true\n"
            f"source: s3://{demo.DATA_BUCKET}/{prefix}\nsender: {demo.SENDER}\naudiences:\n"
            + "".join(f"  - {{name: {a}, recipients: [{a.replace('_', '-')}@examplemarket.example]}}\n"
                      for a in AUDIENCES) + extra)


@dataclass
class Invocation:
    outcome: str  # "summary", "raised <ExceptionType>" or "killed (SIGKILL) ..."
    summary: dict | None = None
    unreadable_metric: float | None = None  # the UnreadableFiles value the handler emitted, when it did


@dataclass
class Record:
    """What one case did, measured from outside."""

    case: str
    fault: str
    injected_by: str
    invocations: list[Invocation] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)  # audience -> e-mails SES accepted for this run
    archive: str = "nothing archived"  # "verifies" | "nothing archived" | "MISMATCH: ..."
    findings: dict | None = None  # the archived findings.json
    silent: int = 0  # 1 when the run succeeded on partial data without saying so

    @property
    def delivered_once(self) -> int:
        return sum(1 for a in AUDIENCES if self.sent.get(a) == 1)

    @property
    def duplicates(self) -> int:
        return sum(max(0, n - 1) for n in self.sent.values())

    @property
    def insufficient(self) -> list[dict]:
        """The archived report's INSUFFICIENT_DATA findings (id and what they name as missing)."""
        return [{"id": f["obligation_id"], "missing": f.get("missing", [])} for f in (self.findings or {}).get(
            "findings", []) if f["status"] == "INSUFFICIENT_DATA"]

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "fault": self.fault, "injected_by": self.injected_by,
                "outcomes": [i.outcome for i in self.invocations],
                "unreadable_metric": [i.unreadable_metric for i in self.invocations],
                "deliveries": [[d["status"] for d in i.summary["deliveries"]] if i.summary else None
                               for i in self.invocations],
                "insufficient_data": self.insufficient if self.findings else None,
                "audiences_delivered_once": self.delivered_once, "audiences": len(AUDIENCES),
                "duplicates": self.duplicates, "silent_successes": self.silent, "archive": self.archive}


class Environment:
    """One moto server, the stack's resources on it, one synthetic marketplace uploaded once."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.data = work / "data"
        self._stack = contextlib.ExitStack()
        self.endpoint = self._stack.enter_context(demo.local_aws())
        self._reset()  # moto's backends are per process, shared with any server started before this one
        os.environ.update({"POWERTOOLS_METRICS_DISABLED": "false", "POWERTOOLS_LOG_LEVEL": "ERROR",
                           "AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "3"})
        # a run reads the raw location, unless a case reads the curated store (`reading_curated`)
        os.environ.pop("DSA_CURATED", None)
        self._curated: set[str] = set()
        demo.provision(self.endpoint)
        generate(self.data, scale=SCALE, seed=3, period_start=PERIOD_START, period_end=PERIOD_END,
                 platform=demo.PLATFORM)
        self.upload("base/")
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint)
        self.cases = 0
        from handlers.scheduled import handler

        self.handler = handler

    def close(self) -> None:
        boto3.DEFAULT_SESSION = None  # its clients' hooks and the server's credentials go with the server
        self._reset()
        self._stack.close()

    def _reset(self) -> None:
        urlopen(Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=30).close()  # noqa: S310

    def upload(self, prefix: str, extra: dict[str, bytes] | None = None) -> None:
        demo.upload_folder(self.endpoint, self.data, demo.DATA_BUCKET, prefix)
        s3 = boto3.client("s3", endpoint_url=self.endpoint)
        for rel, body in (extra or {}).items():
            s3.put_object(Bucket=demo.DATA_BUCKET, Key=prefix + rel, Body=body)

    def event(self, case: str, prefix: str = "base/", config_extra: str = "") -> dict:
        """A scheduler event of its own (its own trigger time, so its own run id and delivery keys)."""
        self.cases += 1
        key = f"config/{case}.yaml"
        self.s3.put_object(Bucket=demo.DATA_BUCKET, Key=key, Body=config_text(prefix, config_extra).encode())
        return {"config": f"s3://{demo.DATA_BUCKET}/{key}", "period": PERIOD, "period_kind": "month",
                "scheduled_time": f"2025-11-02T06:{self.cases:02d}:00Z"}

    @contextlib.contextmanager
    def reading_curated(self, prefix: str = "base/"):
        """The scheduled function reads the curated store of the raw objects under `prefix` (DSA_CURATED), which
        the arrival function built the first time, invoked for each object with the event S3 sends."""
        store = f"s3://{demo.CURATED_BUCKET}/{prefix}"
        if prefix not in self._curated:
            config = f"config/arrival-{prefix.strip('/')}.yaml"
            self.s3.put_object(Bucket=demo.DATA_BUCKET, Key=config, Body=config_text(prefix).encode())
            saved = os.environ.get("DSA_CONFIG")
            os.environ.update({"DSA_CONFIG": f"s3://{demo.DATA_BUCKET}/{config}", "DSA_CURATED": store})
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # its metric lines
                    done = demo.arrive(self.endpoint, demo.DATA_BUCKET, prefix, say=lambda *_: None)
            finally:
                os.environ.pop("DSA_CURATED")
                os.environ.update({"DSA_CONFIG": saved} if saved else {})
            assert done and {d["status"] for d in done} == {"written"}, done
            self._curated.add(prefix)
        os.environ["DSA_CURATED"] = store
        try:
            yield store
        finally:
            os.environ.pop("DSA_CURATED")

    def curated_part(self, dataset: str, prefix: str = "base/") -> str:
        """The key of the first Parquet part of `dataset` in the period's month of the curated store."""
        listed = self.s3.list_objects_v2(Bucket=demo.CURATED_BUCKET, Prefix=f"{prefix}{dataset}/month=2025-10/")
        return sorted(o["Key"] for o in listed["Contents"])[0]

    # ---------------------------------------------------------------- invoking

    @staticmethod
    def fresh_session() -> Any:
        """A new default boto3 session: the handler's clients are made from it, hooks and all."""
        boto3.setup_default_session()
        return boto3.DEFAULT_SESSION

    def invoke(self, event: dict, request_id: str) -> Invocation:
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                summary = self.handler(event, demo.LambdaContext(aws_request_id=request_id))
            result = Invocation("summary", summary)
        except Exception as exc:  # the outcome being measured
            code = errno.errorcode.get(exc.errno, exc.errno) if isinstance(exc, OSError) and exc.errno else None
            result = Invocation(f"raised {type(exc).__name__}" + (f" ({code})" if code else ""))
        result.unreadable_metric = _emitted(out.getvalue(), "UnreadableFiles")
        return result

    def invoke_killed_after_first_send(self, event: dict) -> Invocation:
        """The handler in a child process, killed (SIGKILL) as soon as SES accepted its first e-mail."""
        script = (
            "import json, os, signal, sys, boto3\n"
            "boto3.setup_default_session()\n"
            "def die(**kwargs):\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            "boto3.DEFAULT_SESSION.events.register('after-call.sesv2.SendEmail', die)\n"
            "from handlers.scheduled import handler\n"
            "from dsa_report.tools.demo import LambdaContext\n"
            "handler(json.loads(sys.argv[1]), LambdaContext(aws_request_id='killed'))\n"
        )
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FUNCTIONS), os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run([sys.executable, "-c", script, json.dumps(event)], env=env, capture_output=True,
                              timeout=120, check=False)
        if done.returncode == -9:
            return Invocation("killed (SIGKILL) after SES accepted an e-mail")
        return Invocation(f"child exited {done.returncode}: {done.stderr.decode()[-300:]}")

    # ---------------------------------------------------------------- measuring

    def measure(self, record: Record, event: dict) -> Record:
        run_id = new_run_id(SimpleNamespace(run_id=None, trigger="schedule",  # the product's rule for a run id
                                            trigger_time=event["scheduled_time"]))
        counts = dict.fromkeys(AUDIENCES, 0)
        for raw in demo.sent_messages():
            message = email.message_from_string(raw)
            if message.get("X-DSA-Report-Run") == run_id:
                audience = message.get("X-DSA-Report-Audience")
                counts[audience] = counts.get(audience, 0) + 1
        record.sent = counts
        record.archive, record.findings = self._archive(f"{demo.PLATFORM}/{PERIOD}/{run_id}/")
        return record

    def _archive(self, prefix: str) -> tuple[str, dict | None]:
        """"verifies" when every object under the run's prefix is in its manifest with the same SHA-256."""
        stored = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=demo.REPORTS_BUCKET, Prefix=prefix):
            for obj in page.get("Contents", []):
                stored[obj["Key"][len(prefix):]] = self.s3.get_object(
                    Bucket=demo.REPORTS_BUCKET, Key=obj["Key"])["Body"].read()
        if not stored:
            return "nothing archived", None
        if "manifest.json" not in stored:
            return "MISMATCH: no manifest.json", None
        listed = {f["name"]: f["sha256"] for f in json.loads(stored.pop("manifest.json"))["files"]}
        actual = {name: hashlib.sha256(data).hexdigest() for name, data in stored.items()}
        if listed != actual:
            wrong = sorted(set(listed.items()) ^ set(actual.items()))[:3]
            return f"MISMATCH: {wrong}", None
        return "verifies", json.loads(stored["findings.json"])


def _emitted(stdout: str, name: str) -> float | None:
    """The value of metric `name` in the CloudWatch EMF lines Powertools printed, counted only when it is where
    UnreadableFilesAlarm looks: namespace DSAReport, the one dimension service=dsa-report."""
    for line in stdout.splitlines():
        with contextlib.suppress(ValueError):
            doc = json.loads(line)
            if not (isinstance(doc, dict) and "_aws" in doc and name in doc):
                continue
            [directive] = doc["_aws"]["CloudWatchMetrics"]
            if (directive["Namespace"], directive["Dimensions"], doc.get("service")) != (
                    "DSAReport", [["service"]], "dsa-report"):
                return None
            value = doc[name]
            return float(value[0] if isinstance(value, list) else value)
    return None


# ---------------------------------------------------------------- silent successes


def silent_success(record: Record, baseline: Record, tolerance: float = 0.0) -> int:
    """1 when an invocation returned a summary on partial data without saying so.

    Partial: a dataset read fewer files or rows than the no-fault baseline, or named a file unreadable.
    Saying so: the UnreadableFiles metric counts every unreadable file, and every finding of an obligation
    needing a partial dataset is INSUFFICIENT_DATA naming it, unless the config tolerates the share lost
    (then the data-quality section names the files and the metric alarms).
    """
    if record.findings is None or not any(i.outcome == "summary" for i in record.invocations):
        return 0
    quality, base = record.findings["data_quality"], baseline.findings["data_quality"]
    unreadable = sum(len(q.get("unreadable_files", [])) for q in quality.values())
    partial = {name for name, q in quality.items() if name != "registers" and (
        q.get("unreadable_files") or q["files"] < base[name]["files"] or q["rows"] < base[name]["rows"])}
    if not partial and not unreadable:
        return 0
    metric = next(i.unreadable_metric for i in record.invocations if i.outcome == "summary")
    if not unreadable or metric != unreadable:
        return 1
    if tolerance:
        return 0
    catalogue = default_catalogue()
    for finding in record.findings["findings"]:
        needs = set(catalogue.get(finding["obligation_id"]).datasets) & partial
        if needs and finding["status"] != "NOT_APPLICABLE" and not (
                finding["status"] == "INSUFFICIENT_DATA"
                and all(any(name in m for m in finding.get("missing", [])) for name in needs)):
            return 1
    return 0


# ---------------------------------------------------------------- S3 answers replaced


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs):
        yield self.data


def answer_gets(session: Any, key: str, status: int, code: str, times: int | None = None) -> list[str]:
    """Answer the GETs of S3 object `key` with `status`/`code` before they reach S3 (the first `times` of
    them, or all); returns the requests answered, so retries can be counted."""
    answered: list[str] = []
    body = f"<Error><Code>{code}</Code><Message>{code} injected</Message></Error>".encode()

    def hook(request, **kwargs):
        if request.method == "GET" and unquote(request.url.split("?")[0]).endswith("/" + key) and (
                times is None or len(answered) < times):
            answered.append(request.url)
            return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, _Body(body))
        return None

    session.events.register("before-send.s3.GetObject", hook)
    return answered


# ---------------------------------------------------------------- a full work folder


@contextlib.contextmanager
def full_work_folder(size: str = "256k"):
    """DSA_WORKDIR on a tmpfs of `size`, smaller than the data: writes fail with ENOSPC. Where mounting is
    refused (not root, no CAP_SYS_ADMIN), the source adapters' writes under the folder fail with ENOSPC
    instead (the same error at the same place). Yields how the fault was injected."""
    folder = Path(tempfile.mkdtemp(prefix="dsa-full-"))
    mounted = os.environ.get("DSA_FAULTS_NO_MOUNT") != "1" and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True,
        check=False).returncode == 0
    saved = os.environ.get("DSA_WORKDIR")
    os.environ["DSA_WORKDIR"] = str(folder)
    try:
        if mounted:
            yield f"a {size} tmpfs mounted as DSA_WORKDIR"
        else:
            with _writes_fail_under(folder):
                yield "simulated (mount refused): the source adapters' writes under DSA_WORKDIR raise ENOSPC"
    finally:
        if saved is None:
            os.environ.pop("DSA_WORKDIR", None)
        else:
            os.environ["DSA_WORKDIR"] = saved
        if mounted:
            subprocess.run(["umount", str(folder)], check=False)
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def _writes_fail_under(folder: Path):
    from dsa_report.ingest import s3 as s3_adapter
    from dsa_report.ingest import sources

    class Full(io.RawIOBase):
        def __init__(self, real) -> None:
            self.real = real

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __exit__(self, *exc):
            self.real.close()

        def close(self):
            self.real.close()

    def failing_open(file, mode="r", *args, **kwargs):
        real = builtins.open(file, mode, *args, **kwargs)
        return Full(real) if "w" in mode and Path(file).resolve().is_relative_to(folder.resolve()) else real

    saved = [(m, m.__dict__.get("open")) for m in (sources, s3_adapter)]
    for module, _ in saved:
        module.open = failing_open
    try:
        yield
    finally:
        for module, before in saved:
            if before is None:
                del module.open
            else:
                module.open = before
