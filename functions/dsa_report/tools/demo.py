"""`dsa-report demo`: the scheduled path end to end on this machine, with no AWS account.

A moto server gives a real local S3/SES/DynamoDB HTTP endpoint; a synthetic marketplace with planted
findings is uploaded to it, and the arrival function takes each object into the curated store with the event
S3 sends EventBridge; the scheduled handler is invoked with the event EventBridge Scheduler sends, then
again (a retry, which must send nothing new); the archived artifacts and every e-mail SES accepted are copied
into the output folder.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import boto3

from ..engine.periods import last_complete, previous

REGION = "eu-west-1"
DATA_BUCKET = "dsa-demo-transparency-data"
REPORTS_BUCKET = "dsa-demo-reports"
CURATED_BUCKET = "dsa-demo-curated"  # the arrival function's store: Parquet by dataset and month
LEDGER_TABLE = "dsa-demo-delivery-ledger"
PLATFORM = "ExampleMarket"
SENDER = "dsa-reports@examplemarket.example"
CONFIG_KEY = "config/examplemarket.yaml"
DATA_PREFIX = "examplemarket/"
HALF_YEAR_PREFIX = "examplemarket-half-year/"  # the data of the last complete half-year (EU transparency report)
HALF_YEAR_SHARE = 5  # the half-year's SoRs: a fifth of the month's scale (at least the generator's minimum)
ANSWERS_KEY = "config/examplemarket-transparency-answers.yaml"  # beside the config: transparency_qualitative
DEMO_ANSWERS = """\
# Answers to the questions of the EU transparency-report template that the data cannot give (one per question);
# the questions left out are marked "to be completed" in the report.
Name of the service provider: ExampleMarket Europe (synthetic demonstration provider)
Summary of the content moderation engaged in at the providers' own initiative: >-
  Synthetic demonstration text: listings are screened by automated product-safety and brand-protection checks,
  and flagged listings are reviewed by the trust and safety team.
"""

def demo_config(today: date) -> str:
    """The platform's config: a VLOP marketplace, three audiences, one live waiver and one expired."""
    live, expired = today + timedelta(days=90), today - timedelta(days=30)
    return f"""\
platform: {PLATFORM}
platform_names: [{PLATFORM}]
tier: VLOP
marketplace: true
source: s3://{DATA_BUCKET}/{DATA_PREFIX}
turnover_eur: 12000000000
waivers:
  - obligation: DSA-30-KYBC-VERIFICATION
    justification: "Re-verification of all active traders against VIES runs until the end of the quarter"
    approved_by: Chief Compliance Officer
    expires: {live.isoformat()}
  - obligation: DSA-24.5-SOR-SUBMISSION-DELAY
    justification: "TDB API outage, ticket closed"
    approved_by: Chief Compliance Officer
    expires: {expired.isoformat()}
sender: {SENDER}
transparency_qualitative: {ANSWERS_KEY.rpartition("/")[2]}
audiences:
  - {{name: board, recipients: [board@examplemarket.example]}}
  - {{name: compliance, recipients: [compliance@examplemarket.example]}}
  - {{name: trust_and_safety, recipients: [trust-safety@examplemarket.example]}}
"""


@dataclass
class LambdaContext:
    """What the Lambda runtime passes; Powertools reads these attributes."""

    aws_request_id: str
    function_name: str = "dsa-report-demo"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 10240
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:dsa-report-demo"
    log_group_name: str = "/aws/lambda/dsa-report-demo"
    log_stream_name: str = "demo"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@contextmanager
def local_aws() -> Iterator[str]:
    """A moto server on a free loopback port, with this process's AWS settings pointed at it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = dict(os.environ)
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "REPORTS_BUCKET": REPORTS_BUCKET,
        "DSA_CONFIG": f"s3://{DATA_BUCKET}/{CONFIG_KEY}", "DSA_CURATED": f"s3://{CURATED_BUCKET}/",
        "DSA_ARRIVAL_AUDIENCE": "compliance",
        "LEDGER_TABLE": LEDGER_TABLE, "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "DSAReport", "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",  # CloudWatch EMF lines are for Lambda, not this terminal
    })
    try:
        yield endpoint
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()


def provision(endpoint: str) -> None:
    """What template.yaml creates in AWS, on the local endpoint."""
    s3 = boto3.client("s3", endpoint_url=endpoint)
    for bucket in (DATA_BUCKET, REPORTS_BUCKET, CURATED_BUCKET):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    boto3.client("dynamodb", endpoint_url=endpoint).create_table(
        TableName=LEDGER_TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "delivery_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "delivery_key", "KeyType": "HASH"}],
    )
    boto3.client("sesv2", endpoint_url=endpoint).create_email_identity(EmailIdentity=SENDER.split("@")[1])


def upload_folder(endpoint: str, folder: Path, bucket: str, prefix: str) -> int:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda p: s3.upload_file(str(p), bucket, prefix + p.relative_to(folder).as_posix()), files))
    return len(files)


def sent_messages() -> list[str]:
    """Every raw message SES accepted, read from the server's backend (ThreadedMotoServer shares this process;
    its /moto-api/data.json dump cannot serialise multipart S3 uploads)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages if hasattr(m, "raw_data")]


def download_prefix(endpoint: str, bucket: str, prefix: str, out: Path) -> list[Path]:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    written = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            target = out / obj["Key"][len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(target))
            written.append(target)
    return written


# ---------------------------------------------------------------- headless Chromium (demo screenshots, tests)

MEASURE = """(function (w) {
  var out = [], charts = document.querySelectorAll("svg.chart, img");
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (r.width && (r.right > w + 1 || r.left < -1)) {
      out.push(el.tagName + "." + el.className + " " + Math.round(r.right)); }
    if (el.clientWidth && el.scrollWidth > el.clientWidth + 1 && s.overflowX !== "auto" && s.overflowX !== "scroll") {
      out.push("clipped or overflowing " + el.tagName + "." + el.className + " " + el.scrollWidth + ">"
               + el.clientWidth); }
  });
  var shown = Array.prototype.filter.call(charts, function (c) {
    return c.tagName.toLowerCase() === "svg" ? c.getBoundingClientRect().width > 0
                                             : c.complete && c.naturalWidth > 0; });
  return JSON.stringify({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    width: w, outside: out.slice(0, 20), charts: charts.length, chartsShown: shown.length,
    height: document.documentElement.scrollHeight});
})(%d)"""


def chromium() -> str | None:
    """Debian's `chromium` (or a `chromium-browser`) on PATH; None when there is none."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: fd 3 in, fd 4
    out, NUL-separated JSON): the window is exactly as wide as asked (a headless window is never narrower than
    500 px, an emulated viewport is), and the page measures itself."""

    def __init__(self, timeout: float = 60.0):
        binary = chromium()
        if binary is None:
            raise FileNotFoundError("chromium is not installed: run `make browser`")
        to_browser, self._out = os.pipe()
        self._in, from_browser = os.pipe()

        def fds() -> None:  # in the child: the pipes on the descriptors Chromium reads and writes
            reading, writing = os.dup(to_browser), os.dup(from_browser)  # above 4, whatever the numbers were
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        self.process = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--disable-dev-shm-usage", "--remote-debugging-pipe", "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL,  # close_fds would close 3 and 4
            stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self.timeout, self._buffer, self._id = timeout, b"", 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)

    def call(self, method: str, params: dict | None = None, *, session: bool = False, wait: str | None = None):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline, result, event = time.monotonic() + self.timeout, None, wait is None
        while result is None or not event:
            if time.monotonic() > deadline:
                raise TimeoutError(f"chromium did not answer {method}")
            while b"\0" not in self._buffer:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self._buffer += chunk
            raw, _, self._buffer = self._buffer.partition(b"\0")
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result = reply.get("result", {})
            elif wait and reply.get("method") == wait:
                event = True
        return result

    def open(self, page: Path, width: int, height: int = 900) -> dict:
        """Load a page in a `width` px viewport; returns its measurements (MEASURE)."""
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                         "mobile": width < 600}, session=True)
        self.call("Page.navigate", {"url": page.resolve().as_uri()}, session=True, wait="Page.loadEventFired")
        value = self.call("Runtime.evaluate", {"expression": MEASURE % width, "returnByValue": True}, session=True)
        return json.loads(value["result"]["value"])

    def screenshot(self, page: Path, png: Path, width: int, max_height: int = 6000) -> dict:
        """A full-page PNG at `width` px (at most `max_height` tall); returns the page's measurements."""
        facts = self.open(page, width)
        height = min(max(facts["height"], 200), max_height)
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                         "mobile": width < 600}, session=True)
        shot = self.call("Page.captureScreenshot", {"format": "png"}, session=True)
        png.write_bytes(base64.b64decode(shot["data"]))
        return facts

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        for fd in (self._in, self._out):
            os.close(fd)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def render_eml(eml: Path, stem: Path) -> Path:
    """An e-mail's HTML part as a page a browser opens, its `cid:` images saved beside it (as a mail client
    shows it); returns the page's path."""
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    stem.parent.mkdir(parents=True, exist_ok=True)
    for part in message.walk():
        cid = (part.get("Content-ID") or "").strip("<>")
        if cid and part.get_content_maintype() == "image":
            image = stem.parent / f"{stem.name}-{part.get_filename() or cid}"
            image.write_bytes(part.get_payload(decode=True))
            html = html.replace(f"cid:{cid}", image.name)
    page = stem.with_suffix(".html")
    page.write_text(html, encoding="utf-8")
    return page


class _Progress(logging.Handler):
    """The handler's progress log lines (Powertools, JSON on stdout at INFO) as short human lines, plus a line
    every `every` seconds while nothing else is said (the evaluation is one long silent step)."""

    STEPS = {"sources": "found {objects} objects in {source}",
             "dataset": "loaded {dataset}: {rows:,} rows from {files} files, {quarantined:,} quarantined",
             "evaluated": "evaluated {obligations} obligations", "archived": "archived {files} files to {uri}",
             "delivery": "e-mail {key}: {status}"}

    def __init__(self, say, every: float = 10.0):
        super().__init__(logging.INFO)
        self.say, self.every, self.last, self.step = say, every, time.monotonic(), "reading the data"
        self.started, self.done = time.monotonic(), threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        template = self.STEPS.get(record.getMessage())
        if template is None:
            return
        try:
            line = template.format(**record.__dict__)
        except (KeyError, ValueError, TypeError):
            line = record.getMessage()
        self.step = "evaluating the obligations" if record.getMessage() == "dataset" else "writing the reports"
        self.last = time.monotonic()
        self.say(f"  {line}")

    def _beat(self) -> None:
        while not self.done.wait(1.0):
            if time.monotonic() - self.last >= self.every:
                self.last = time.monotonic()
                self.say(f"  ... {self.step} ({time.monotonic() - self.started:.0f} s)")

    @contextmanager
    def attached(self) -> Iterator[None]:
        logger = logging.getLogger("dsa-report")  # the Powertools logger of handlers.scheduled
        quiet = [(h, h.level) for h in logger.handlers]
        for handler, _ in quiet:
            handler.setLevel(max(handler.level, logging.WARNING))  # its JSON lines stay off the terminal
        level = logger.level
        logger.setLevel(logging.INFO)
        logger.addHandler(self)
        beat = threading.Thread(target=self._beat, daemon=True)
        beat.start()
        try:
            yield
        finally:
            self.done.set()
            beat.join()
            logger.removeHandler(self)
            logger.setLevel(level)
            for handler, old in quiet:
                handler.setLevel(old)


def screenshots(out: Path, say=print) -> list[Path]:
    """The report and each sent e-mail in headless Chromium at 1280 and 400 px, as PNG under out/screenshots/,
    for a person to look at; nothing when Chromium is not installed (`make browser` installs it)."""
    if chromium() is None:
        say("screenshots skipped: no chromium on PATH (make browser)")
        return []
    folder = out / "screenshots"
    folder.mkdir(exist_ok=True)
    pages = {"report": out / "report.html"}
    for eml in sorted((out / "sent").glob("*.eml")):
        pages[f"email-{eml.stem}"] = render_eml(eml, folder / f"email-{eml.stem}")
    shots = []
    with Browser() as browser:
        for name, page in pages.items():
            for width in (1280, 400):
                png = folder / f"{name}-{width}.png"
                facts = browser.screenshot(page, png, width)
                if facts["scrollWidth"] > facts["innerWidth"] or facts["outside"]:
                    say(f"  {png.name}: wider than the window: {facts}")
                shots.append(png)
    return shots


LATE_NOTICE = b'{"notice_id": "N-LATE-0001", "received_at": "last Tuesday", "source_type": "SOURCE_ARTICLE_16"}\n'


def arrive(endpoint: str, bucket: str, prefix: str, say=print) -> list[dict]:
    """The arrival function invoked for every object under `prefix`, with the event S3 sends EventBridge."""
    from handlers.arrival import handler

    logging.getLogger("dsa-report-arrival").setLevel(logging.ERROR)  # its JSON lines stay off the terminal
    s3 = boto3.client("s3", endpoint_url=endpoint)
    results = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            head = s3.head_object(Bucket=bucket, Key=obj["Key"])
            event = {"version": "0", "detail-type": "Object Created", "source": "aws.s3", "region": REGION,
                     "detail": {"version": "0", "bucket": {"name": bucket}, "reason": "PutObject", "object": {
                         "key": obj["Key"], "size": obj["Size"], "etag": head["ETag"].strip('"'),
                         "version-id": head.get("VersionId"), "sequencer": f"{len(results):018X}"}}}
            results.append(handler(event, LambdaContext(aws_request_id=f"demo-arrival-{len(results)}")))
    flagged = [r for r in results if r.get("quarantined_rows") or r.get("unreadable_files")]
    written = sum(r["status"] == "written" for r in results)
    say(f"ingest on arrival: {written} objects curated into s3://{CURATED_BUCKET}/ (Parquet by dataset and "
        f"month); {len(flagged)} reported the day they landed for quarantined or unreadable rows")
    for r in flagged[:3]:
        say(f"  {r['source']}: {r['quarantined_rows']} rows quarantined ({', '.join(r['reasons'])}); notice to "
            f"{os.environ.get('DSA_ARRIVAL_AUDIENCE') or 'nobody'}: {r['notice'] or 'none owed'}")
    return results


def run_demo(out: Path, *, scale: int = 300_000, seed: int = 7, say=print, shots: bool = True) -> int:
    from ..app.cli import status_table
    from .synthetic import MIN_SCALE, generate

    started = time.monotonic()
    now = datetime.now(UTC).replace(microsecond=0)
    period = last_complete("month", now)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with local_aws() as endpoint, tempfile.TemporaryDirectory(prefix="dsa-demo-") as work:
        say(f"local S3/SES/DynamoDB endpoint (moto server): {endpoint}")
        provision(endpoint)
        say(f"generating a synthetic marketplace ({scale:,} statements of reasons for {period.label})")
        plan = generate(Path(work) / "data", scale=scale, seed=seed, period_start=period.start,
                        period_end=period.end, platform=PLATFORM, now=now.replace(tzinfo=None))
        count = upload_folder(endpoint, Path(work) / "data", DATA_BUCKET, DATA_PREFIX)
        boto3.client("s3", endpoint_url=endpoint).put_object(Bucket=DATA_BUCKET, Key=CONFIG_KEY,
                                                             Body=demo_config(now.date()).encode())
        boto3.client("s3", endpoint_url=endpoint).put_object(Bucket=DATA_BUCKET, Key=ANSWERS_KEY,
                                                             Body=DEMO_ANSWERS.encode())
        say(f"synthetic marketplace: {plan.sor_rows:,} statements of reasons for {period.label} and "
            f"the other datasets, {count} files in s3://{DATA_BUCKET}/{DATA_PREFIX}")
        late = f"{DATA_PREFIX}notices/late-export/notices-fix.jsonl"  # one row with a broken timestamp
        boto3.client("s3", endpoint_url=endpoint).put_object(Bucket=DATA_BUCKET, Key=late, Body=LATE_NOTICE)
        arrive(endpoint, DATA_BUCKET, DATA_PREFIX, say)

        from handlers.scheduled import handler

        config_uri = f"s3://{DATA_BUCKET}/{CONFIG_KEY}"
        before = previous(period)
        say(f"archiving last month's report first ({before.label}, a console run without e-mail) for the trend")
        with _Progress(say).attached():
            handler({"config": config_uri, "period": before.label, "send": False},
                    LambdaContext(aws_request_id="demo-previous-period"))
        event = {"config": config_uri, "period": None, "period_kind": "month",
                 "scheduled_time": now.isoformat().replace("+00:00", "Z")}
        (out / "scheduler-event.json").write_text(json.dumps(event, indent=2) + "\n")
        say(f"invoking the scheduled Lambda handler with {json.dumps(event)}")
        with _Progress(say).attached():
            first = handler(event, LambdaContext(aws_request_id="demo-invocation-1"))
        say("invoking it again with the same event (a retry): the delivery ledger must stop a second send")
        second = handler(event, LambdaContext(aws_request_id="demo-invocation-2"))

        archive_prefix = first["archive"].removeprefix(f"s3://{REPORTS_BUCKET}/")
        download_prefix(endpoint, REPORTS_BUCKET, archive_prefix, out)
        half_year = half_year_export(endpoint, Path(work), out / "half-year", config_uri, now,
                                     max(MIN_SCALE, scale // HALF_YEAR_SHARE), seed, say)
        sent = out / "sent"
        sent.mkdir(exist_ok=True)
        messages = sent_messages()
        for i, raw in enumerate(messages, 1):
            message = email.message_from_string(raw)
            name = message.get("X-DSA-Report-Audience") or (
                "arrival-notice" if message.get("X-DSA-Report-Arrival") else f"message-{i}")
            (sent / f"{name}.eml").write_text(raw, encoding="utf-8")

    document = json.loads((out / "findings.json").read_text())
    say("")
    say(status_table(document))
    say("")
    resent = [d for d in second["deliveries"] if d["status"] == "sent"]
    say(f"e-mails accepted by SES: {len(messages)} (the arrival notice of the late export; first invocation: "
        f"{sum(d['status'] == 'sent' for d in first['deliveries'])} sent; retry: {len(resent)} sent, "
        f"{sum(d['status'] == 'duplicate' for d in second['deliveries'])} recognised as already sent)")
    for name in ("findings.json", "findings.csv", "report.html", "manifest.json"):
        say(f"  {out / name}")
    for path in sorted(sent.glob("*.eml")):
        say(f"  {path}")
    if shots:
        taken = screenshots(out, say)
        if taken:
            say(f"screenshots (headless Chromium, 1280 and 400 px): {taken[0].parent}/ ({len(taken)} files)")
    say(f"archive: {first['archive']}  ({time.monotonic() - started:.0f} s)")
    return 0 if messages and not resent and half_year else 1


def half_year_export(endpoint: str, work: Path, out: Path, config_uri: str, now: datetime, scale: int, seed: int,
                     say=print) -> bool:
    """The EU transparency report of the last complete half-year: a synthetic half-year uploaded beside the
    month's data, the handler invoked for that period as the half-yearly schedule of a VLOP would (a console
    run without e-mail: the rendered e-mails are archived), its archive downloaded into `out`, the workbook's
    figures reconciled with findings.json, then `dsa-report transparency-report --published` run on the archived
    workbook (the comparison a regulator would run). True when everything agrees."""
    from handlers.scheduled import handler

    from ..app.cli import main as cli
    from ..app.cli import reconciliation_table
    from ..obligations import transparency
    from ..outputs import transparency as files
    from .synthetic import generate

    half = last_complete("half-year", now)
    generate(work / "half-year", scale=scale, seed=seed, period_start=half.start, period_end=half.end,
             platform=PLATFORM)
    upload_folder(endpoint, work / "half-year", DATA_BUCKET, HALF_YEAR_PREFIX)
    source = f"s3://{DATA_BUCKET}/{HALF_YEAR_PREFIX}"
    say("")
    say(f"the half-yearly run of a VLOP ({half.label}): the handler for that period on {source}")
    result = handler({"config": config_uri, "period": half.label, "send": False, "source": source},
                     LambdaContext(aws_request_id="demo-half-year"))
    download_prefix(endpoint, REPORTS_BUCKET, result["archive"].removeprefix(f"s3://{REPORTS_BUCKET}/"), out)
    workbook = next(out.glob(f"transparency-report-*-{half.label}-v*.xlsx"))
    document = json.loads((out / "findings.json").read_text())
    figures = files.published_figures(files.read_path(workbook))
    checked = transparency.reconcile(figures, document["metrics"], half, document["findings"])
    attached = any(workbook.name in (part.get_filename() or "") for part in
                   email.message_from_bytes((out / "emails" / "compliance.eml").read_bytes()).walk())
    say(f"  {workbook} (attached to emails/compliance.eml: {'yes' if attached else 'NO'}), its CSV parts and "
        f"{out / 'manifest.json'}")
    say(reconciliation_table(checked))
    say("")
    say(f"dsa-report transparency-report --period {half.label} --published {workbook.name}:")
    code = cli(["transparency-report", "--config", config_uri, "--period", half.label, "--source", source,
                "--out", str(out.parent / "transparency"), "--published", str(workbook)])
    return attached and bool(checked) and all(r.equal for r in checked) and code == 0
