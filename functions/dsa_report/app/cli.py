"""`dsa-report`: run, validate-data, obligations (contracts/interfaces.md), transparency-report (the EU
harmonised template); `tools.commands` adds demo and generate-data, which need the development tools, and is
the installed entry point.

Exit codes: 0 the report was produced (whatever it found); 2 a usage or config error (one line naming the
key); 3 a finding at or above `--fail-on`, or a published transparency report that differs from the data;
1 `validate-data` found unreadable files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ..engine.catalogue import CatalogueError
from ..engine.periods import Period, PeriodError, parse_period
from ..ingest import curated, sources
from ..obligations import transparency
from ..obligations.config import Config, ConfigError
from ..obligations.evaluation import load_catalogue, metric_book
from ..outputs import transparency as transparency_files
from ..vocabulary import ERROR, FAIL, INSUFFICIENT_DATA, TIERS, WARN
from . import pipeline
from .settings import Settings

FAIL_ON = {FAIL: (FAIL,), WARN: (FAIL, WARN), ERROR: (FAIL, ERROR), INSUFFICIENT_DATA: (FAIL, INSUFFICIENT_DATA)}


class UsageError(Exception):
    """Exit 2 with a one-line reason."""


class _Parser(argparse.ArgumentParser):
    """argparse with the contract's one-line usage errors (exit 2), not the usage block plus the error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _read_config(uri: str, clients: pipeline.Clients):
    """The validated config; a missing or unreadable file names --config."""
    try:
        return pipeline.read_config(uri, clients)
    except sources.SourceError as exc:
        raise UsageError(f"--config: {exc}") from None
    except (ConfigError, CatalogueError):
        raise
    except ValueError as exc:  # PyYAML raises a bare ValueError for a date that does not exist: 2026-13-01
        raise UsageError(f"{uri}: not valid YAML ({exc})") from None


def period_arg(text: str):
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise UsageError(f"--period: {exc}") from None


def out_folder(path: Path, option: str = "--out") -> Path:
    """Checked before any data is read (nothing is created): a run must not fail at its very end for want
    of a folder to write in."""
    existing = next(p for p in (path.absolute(), *path.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(f"{option}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{option}: {existing} is not writable")
    return path


def _progress(stream=sys.stderr):
    """Human progress lines on a terminal; nothing when piped (the summary still prints)."""
    if not stream.isatty():
        return None

    def show(step: str, fields: dict) -> None:
        if step == "dataset":
            line = (f"  {fields['dataset']:<22} {fields['files']:>4} files {fields['rows']:>12,} rows"
                    f"{'  ' + format(fields['quarantined'], ',') + ' quarantined' if fields['quarantined'] else ''}")
        else:
            line = f"- {step}: " + ", ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        print(line, file=stream, flush=True)

    return show


def _say():
    """The progress lines when on a terminal, else nothing."""
    return _progress() or (lambda step, fields: None)


def _shown(metric: dict) -> str:
    value = metric.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    unit = metric.get("unit", "")
    if unit == "share":
        return f"{value * 100:.2f} %"
    return f"{value:,.2f}".rstrip("0").rstrip(".") + (f" {unit}" if unit else "")


def status_table(document: dict) -> str:
    rows = [f"{'STATUS':<18} {'OBLIGATION':<40} {'ART.':<8} VALUE"]
    for f in document["findings"]:
        status = f["status"] if f["status"] != "WAIVED" else f"WAIVED ({f.get('waived_status')})"
        rows.append(f"{status:<18} {f['obligation_id']:<40} {f['article']:<8} {_shown(f.get('metric') or {})}")
    counts = ", ".join(f"{k} {v}" for k, v in document["summary"]["counts"].items() if v)
    run = document["run"]
    rows.append(f"{run['platform']} {run['period']['label']}: {counts}")
    return "\n".join(rows)


def _inputs(args) -> tuple[pipeline.Clients, Config, Period, str]:
    """What a command that reads a period's data needs, checked before any data: config, period, source."""
    clients = pipeline.Clients()
    config = _read_config(args.config, clients)
    period = period_arg(args.period)
    source = args.source or config.source or getattr(args, "curated", None)
    if not source:
        raise UsageError("source: no data location (give --source or set `source` in the config)")
    return clients, config, period, source


def cmd_run(args) -> int:
    clients, config, period, source = _inputs(args)
    if args.send and not config.audiences:
        raise UsageError("audiences: --send needs at least one audience in the config")
    out = out_folder(Path(args.out) if args.out else Path("out") / config.platform / period.label)
    request = pipeline.RunRequest(config=config, period=period, source=source, trigger="cli", send=args.send,
                                  out_dir=out, reports_bucket=args.archive_bucket, ledger_table=args.ledger_table,
                                  curated=args.curated)
    try:
        result = pipeline.run(request, clients=clients, progress=_progress())
    except sources.SourceError as exc:  # the data location itself: named by where it came from
        raise UsageError(f"{'--curated' if args.curated else '--source' if args.source else 'source'}: {exc}") \
            from None
    print(status_table(result.document))
    for path in result.written:
        if path.suffix in (".json", ".csv", ".html", ".eml", ".xlsx"):
            print(f"wrote {path}")
    for d in result.deliveries:
        print(f"e-mail {d.key}: {d.status}{' (' + d.error + ')' if d.error else ''}")
    failing = FAIL_ON.get(args.fail_on or "", ())
    if any(f["status"] in failing for f in result.document["findings"]):
        return 3
    return 0


def cmd_validate_data(args) -> int:
    with tempfile.TemporaryDirectory(prefix="dsa-validate-") as work:
        try:  # loaded as a run loads: memory limit, spill folder
            data, con = pipeline.load_source(args.source, Path(work), pipeline.Clients(), Settings.from_env(os.environ),
                                             platform_names=args.platform_name, say=_say())
            con.close()
        except sources.SourceError as exc:
            raise UsageError(f"--source: {exc}") from None
    if args.json:
        print(json.dumps(data.quality, indent=2, default=str))
    else:
        print(quality_table(data.quality))
    unreadable = sum(len(q.get("unreadable_files", [])) for q in data.quality.values())
    return 1 if unreadable else 0


def cmd_curate(args) -> int:
    """Build or refresh a curated store from a raw location, object by object as the arrival function does."""
    clients = pipeline.Clients()
    names = _read_config(args.config, clients).names_in_data if args.config else None
    s3 = clients("s3") if args.source.startswith("s3://") or args.store.startswith("s3://") else None
    store = curated.Store(args.store, s3)
    counts: dict[str, int] = {}

    def said(path: str, result: curated.Ingested) -> None:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
        if result.quarantined_rows or result.unreadable_files:
            print(f"{path}: {result.quarantined_rows} quarantined rows, {result.unreadable_files} unreadable",
                  file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="dsa-curate-") as work:
        try:
            curated.curate(args.source, store, Path(work), s3_client=s3, platform_names=names, progress=said)
        except sources.SourceError as exc:
            raise UsageError(f"--source: {exc}") from None
    print(f"{store.root}: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
    return 0


def quality_table(quality: dict) -> str:
    lines = [f"{'DATASET':<22} {'FILES':>6} {'ROWS':>12} {'QUARANTINED':>12}  REASONS"]
    for name, q in quality.items():
        reasons = ", ".join(f"{r}: {n}" for r, n in q.get("reasons", {}).items())
        lines.append(f"{name:<22} {q['files']:>6} {q['rows']:>12,} {q['quarantined_rows']:>12,}  {reasons}")
        for bad in q.get("unreadable_files", []):
            lines.append(f"  unreadable: {bad['file']}: {bad['reason']}")
        for key, label in (("duplicates_removed", "duplicates removed"), ("other_platform", "other platforms' rows")):
            if q.get(key):
                lines.append(f"  {label}: {q[key]:,}")
        for lacking in q.get("files_missing_columns", [])[:5]:
            lines.append(f"  columns missing in {lacking['file']}: {', '.join(lacking['columns'])}")
        for example in q.get("examples", [])[:5]:
            where = f"row {example['row']}" if "row" in example else f"line {example.get('line')}"
            lines.append(f"  e.g. {example['file']} {where}: {example['reason']}")
    return "\n".join(lines)


def cmd_transparency_report(args) -> int:
    """The EU harmonised transparency report of one period from the data; with --published, the figures of a
    report already filed that differ from the data (exit 3 when any does)."""
    clients, config, period, source = _inputs(args)
    if args.tolerance < 0:
        raise UsageError("--tolerance: must be 0 or more (a fraction: 0.01 is 1 %)")
    out = out_folder(Path(args.out))
    published = None
    if args.published:
        path = Path(args.published)
        if not path.exists():
            raise UsageError(f"--published: {path} does not exist")
        try:
            published = transparency_files.published_figures(transparency_files.read_path(path))
        except (transparency_files.PublishedError, OSError) as exc:
            raise UsageError(f"--published: {exc}") from None
    answers = pipeline.read_answers(config, clients)  # before any data: a bad file is a config error
    version = transparency_files.next_version((p.name for p in out.iterdir()) if out.is_dir() else (),
                                              config.platform, period.label)
    with tempfile.TemporaryDirectory(prefix="dsa-transparency-") as work:
        try:
            data, con = pipeline.load_source(source, Path(work), clients, Settings.from_env(os.environ),
                                             platform_names=config.names_in_data, say=_say(),
                                             unreadable_tolerance=config.unreadable_tolerance)
            report = transparency.build(data, period, tier=config.tier, service=config.platform, answers=answers,
                                        version=version, issued=datetime.now(UTC).date())
            book = metric_book(data, period, config.parameters)
            metrics = {name: book.get(name) for name in transparency.RECONCILED}
            con.close()
        except sources.SourceError as exc:
            raise UsageError(f"{'--source' if args.source else 'source'}: {exc}") from None
    out.mkdir(parents=True, exist_ok=True)
    files = {transparency_files.xlsx_name(report): transparency_files.xlsx(report),
             **transparency_files.csv_parts(report)}
    for name, content in files.items():
        (out / name).write_bytes(content)
    print(sheet_table(report))
    print(reconciliation_table(transparency.reconcile(transparency.figures(report), metrics, period)))
    for name in files:
        print(f"wrote {out / name}")
    if published is None:
        return 0
    differences = transparency.compare(report, published, args.tolerance)
    print(differences_table(differences, args.published, args.tolerance))
    return 3 if differences else 0


def _figure(value) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.4f}".rstrip("0")
    if isinstance(value, int | float):
        return f"{int(value):,}"
    return str(value)


def sheet_table(report: transparency.Report) -> str:
    lines = [f"{'SHEET':<28} {'ROWS':>6} {'FROM DATA':>10}"]
    lines += [f"{s.name:<28} {len(s.rows):>6,} {s.filled:>10,}" for s in report.sheets]
    lines.append(f"{report.service} {report.period_text} v{report.version} ({report.issued.isoformat()}): "
                 f"{sum(s.filled for s in report.sheets):,} figures from the data")
    return "\n".join(lines)


def reconciliation_table(rows: list[transparency.Reconciled]) -> str:
    lines = [f"{'FIGURE ALSO IN findings.json':<48} {'REPORT':>16} {'FINDINGS':>16}  CHECK"]
    lines += [f"{r.figure:<48} {_figure(r.report):>16} {_figure(r.findings):>16}  "
              f"{'equal' if r.equal else 'DIFFERENT'}" for r in rows]
    return "\n".join(lines)


def differences_table(differences: list[transparency.Difference], published: str, tolerance: float) -> str:
    if not differences:
        return f"{published}: every figure from the data agrees (tolerance {tolerance:g})."
    lines = [f"{'FIGURE':<100} {'PUBLISHED':>16} {'DATA':>16}  WHAT"]
    lines += [f"{transparency.label(d.key)[:100]:<100} {_figure(d.published):>16} {_figure(d.data):>16}  {d.kind}"
              for d in differences]
    lines.append(f"{published}: {len(differences):,} figures differ from the data (tolerance {tolerance:g}).")
    return "\n".join(lines)


def cmd_obligations(args) -> int:
    catalogue = load_catalogue()
    print(f"catalogue {catalogue.version}")
    for ob in catalogue.obligations:
        if args.tier and not ob.applies(args.tier, marketplace=args.tier in ("MARKETPLACE", "VLOP")):
            continue
        params = ", ".join(f"{k}={v}" for k, v in ob.parameters.items()) or "-"
        print(f"{ob.id:<42} art. {ob.article:<7} {ob.applies_label:<13} {ob.severity:<9} {params}")
        print(f"{'':<42} {ob.title}")
    return 0


def parser(extend: Callable[[argparse._SubParsersAction], None] | None = None) -> argparse.ArgumentParser:
    """The commands of the product; `extend` adds more (the development tools' demo and generate-data)."""
    p = _Parser(prog="dsa-report", description="DSA compliance reports from transparency data")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="evaluate the obligation catalogue on one period")
    run.add_argument("--config", required=True, help="config YAML: local path or s3://bucket/key")
    run.add_argument("--period", required=True, help="2025-H1, 2025-Q3, 2025-07, 2025 or 2025-07-01..2025-07-31")
    run.add_argument("--source", help="data location (folder or s3://bucket/prefix/); overrides the config")
    run.add_argument("--curated", help="read this curated store (dsa-report curate) instead of the raw files")
    run.add_argument("--out", help="output folder (default ./out/<platform>/<period>/)")
    run.add_argument("--send", action="store_true", help="send the e-mails through SES")
    run.add_argument("--fail-on", choices=sorted(FAIL_ON),
                     help="exit 3 when a finding is at or above this status: FAIL (FAIL only), WARN (FAIL or WARN), "
                          "ERROR (FAIL or ERROR), INSUFFICIENT_DATA (FAIL or INSUFFICIENT_DATA)")
    run.add_argument("--archive-bucket", help="also archive every artifact in this S3 bucket")
    run.add_argument("--ledger-table", help="DynamoDB delivery ledger (no e-mail is sent twice)")
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate-data", help="read every dataset and report rows and quarantine counts")
    val.add_argument("--source", required=True)
    val.add_argument("--platform-name", action="append", help="keep only these platform_name values")
    val.add_argument("--json", action="store_true", help="print the data-quality section as JSON")
    val.set_defaults(func=cmd_validate_data)

    rep = sub.add_parser("transparency-report", help="the EU harmonised transparency report (Implementing "
                         "Regulation (EU) 2024/2835) of one period, filled from the data")
    rep.add_argument("--config", required=True, help="config YAML: local path or s3://bucket/key")
    rep.add_argument("--period", required=True, help="2025-H1 (a VLOP's half-year), 2025 or any other period")
    rep.add_argument("--source", help="data location (folder or s3://bucket/prefix/); overrides the config")
    rep.add_argument("--out", required=True, help="output folder: the XLSX (next version) and its CSV parts")
    rep.add_argument("--published", help="a report already filed (.xlsx, .csv part, .zip or folder of CSV "
                                         "parts): list its figures that differ from the data, exit 3 if any")
    rep.add_argument("--tolerance", type=float, default=0.0,
                     help="relative difference allowed with --published (default 0: equal once rounded as "
                          "the published figure is)")
    rep.set_defaults(func=cmd_transparency_report)

    cur = sub.add_parser("curate", help="read every object of a data location into a curated store (Parquet by "
                         "dataset and month), as the arrival function does one object at a time")
    cur.add_argument("--source", required=True, help="raw data location (folder or s3://bucket/prefix/)")
    cur.add_argument("--store", required=True, help="the curated store (folder or s3://bucket/prefix/)")
    cur.add_argument("--config", help="config YAML whose platform_names are kept (default: every platform)")
    cur.set_defaults(func=cmd_curate)

    obl = sub.add_parser("obligations", help="list the obligation catalogue")
    obl.add_argument("--tier", choices=TIERS)
    obl.set_defaults(func=cmd_obligations)

    if extend is not None:
        extend(sub)
    return p


def main(argv: list[str] | None = None,
         extend: Callable[[argparse._SubParsersAction], None] | None = None) -> int:
    args = parser(extend).parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, ConfigError, PeriodError, CatalogueError, sources.SourceError) as exc:
        print(f"dsa-report: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
