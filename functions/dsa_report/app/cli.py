"""`dsa-report`: run, validate-data, obligations (contracts/interfaces.md); `tools.commands` adds demo and
generate-data, which need the development tools, and is the installed entry point.

Exit codes: 0 the report was produced (whatever it found); 2 a usage or config error (one line naming the
key); 3 a finding at or above `--fail-on`; 1 `validate-data` found unreadable files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..engine.catalogue import CatalogueError
from ..engine.periods import PeriodError, parse_period
from ..ingest import loader, sources
from ..obligations.config import ConfigError
from ..obligations.evaluation import load_catalogue
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


def cmd_run(args) -> int:
    clients = pipeline.Clients()
    config = _read_config(args.config, clients)
    period = period_arg(args.period)
    source = args.source or config.source
    if not source:
        raise UsageError("source: no data location (give --source or set `source` in the config)")
    if args.send and not config.audiences:
        raise UsageError("audiences: --send needs at least one audience in the config")
    out = out_folder(Path(args.out) if args.out else Path("out") / config.platform / period.label)
    request = pipeline.RunRequest(config=config, period=period, source=source, trigger="cli", send=args.send,
                                  out_dir=out, reports_bucket=args.archive_bucket, ledger_table=args.ledger_table)
    try:
        result = pipeline.run(request, clients=clients, progress=_progress())
    except sources.SourceError as exc:  # the data location itself: named by where it came from
        raise UsageError(f"{'--source' if args.source else 'source'}: {exc}") from None
    print(status_table(result.document))
    for path in result.written:
        if path.suffix in (".json", ".csv", ".html", ".eml"):
            print(f"wrote {path}")
    for d in result.deliveries:
        print(f"e-mail {d.key}: {d.status}{' (' + d.error + ')' if d.error else ''}")
    failing = FAIL_ON.get(args.fail_on or "", ())
    if any(f["status"] in failing for f in result.document["findings"]):
        return 3
    return 0


def cmd_validate_data(args) -> int:
    with tempfile.TemporaryDirectory(prefix="dsa-validate-") as work:
        s3 = pipeline.Clients()("s3") if args.source.startswith("s3://") else None
        try:
            with sources.fetching(args.source, Path(work), s3_client=s3) as collected:
                con = pipeline.open_engine(Path(work), Settings.from_env(os.environ))  # as a run: memory limit, spill
                data = loader.load(collected, con, platform_names=args.platform_name, progress=_progress())
                con.close()
        except sources.SourceError as exc:
            raise UsageError(f"--source: {exc}") from None
    if args.json:
        print(json.dumps(data.quality, indent=2, default=str))
    else:
        print(quality_table(data.quality))
    unreadable = sum(len(q.get("unreadable_files", [])) for q in data.quality.values())
    return 1 if unreadable else 0


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
