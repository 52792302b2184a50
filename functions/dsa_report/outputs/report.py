"""Render a findings document: the full HTML report, one e-mail per audience, and findings.csv.

Pure: no AWS. Templates live in `templates/` (copied next to this module in the Lambda bundle). HTML
templates are autoescaped; the text e-mail (`*.txt.j2`) is not. `StrictUndefined` makes a document that
lacks a required key fail loudly instead of rendering blanks.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, UndefinedError, select_autoescape

from ..obligations.wording import eur, figure
from ..vocabulary import AUDIENCES, FAIL, LAW, QUIET, STATUSES, WARN
from ..vocabulary import ERROR as ERROR_STATUS

CSV_COLUMNS = (
    "obligation_id", "article", "title", "severity", "status", "waived_status", "previous_status",
    "metric_name", "metric_value", "unit", "comparator", "threshold", "threshold_basis", "evidence_count", "message",
    "missing", "remediation",
)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def templates_dir() -> Path:
    """The templates folder: next to the package in the Lambda bundle, else the repository's."""
    package = Path(__file__).parents[1]
    bundled = package / "templates"
    return bundled if bundled.is_dir() else package.parents[1] / "templates"


def _field(mapping: Any, key: str) -> Any:
    """`mapping[key]`, raising the same error as a template would for a missing required key."""
    try:
        return mapping[key]
    except (KeyError, TypeError, IndexError):
        raise UndefinedError(f"findings document lacks required key {key!r}") from None


def fmt_cell(value: Any) -> str:
    """One evidence-sample cell as text: lists joined, objects as `key: value; ...`, null as a dash."""
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(fmt_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fmt_cell(v)}" for k, v in value.items())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return figure(value)
    return str(value)


def limit_label(metric: Mapping[str, Any]) -> str:
    """What a limit is, in words: the law's, or the platform's own internal threshold (obligations.md v2)."""
    return "legal limit" if metric.get("threshold_basis") == LAW else "internal threshold"


def ordered(findings: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """FAIL first, then WARN, ERROR, INSUFFICIENT_DATA, WAIVED, PASS, NOT_APPLICABLE.

    Stable: within a status the document's own order (new failures before persisting ones) is kept.
    """
    def rank(finding: Mapping[str, Any]) -> int:
        status = _field(finding, "status")
        return STATUSES.index(status) if status in STATUSES else len(STATUSES)
    return sorted(findings, key=rank)


def sample_columns(sample: Iterable[Mapping[str, Any]]) -> list[str]:
    """Union of the sample rows' keys, in first-seen order."""
    columns: dict[str, None] = {}
    for row in sample:
        columns.update(dict.fromkeys(row))
    return list(columns)


# HTML (`*.html.j2`) is escaped, plain text (`*.txt.j2`) is not; any other name is escaped to be safe.
# (A bare "j2" extension would also match `email.txt.j2`, since enabled extensions are checked first.)
_AUTOESCAPE = select_autoescape(
    enabled_extensions=("html", "htm", "html.j2", "htm.j2"),
    disabled_extensions=("txt", "txt.j2"),
    default_for_string=True,
    default=True,
)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=_AUTOESCAPE,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=figure, eur=eur, limit_label=limit_label, cell=fmt_cell, ordered=ordered,
                       columns=sample_columns)
    env.globals.update(
        STATUS_ORDER=STATUSES, QUIET=QUIET, field=_field,
    )
    return env


def _context(doc: Mapping[str, Any], audience: str | None = None) -> dict[str, Any]:
    findings = ordered(_field(doc, "findings"))
    counts = _field(_field(doc, "summary"), "counts")
    return {
        "doc": doc,
        "run": _field(doc, "run"),
        "findings": findings,
        "failing": [f for f in findings if f["status"] == FAIL],
        "operational": [f for f in findings if f["status"] in (FAIL, WARN, ERROR_STATUS)],
        "counts": {status: int(counts.get(status, 0)) for status in STATUSES},
        "exposure": _field(doc, "summary").get("exposure") or {},
        "audience": audience,
    }


def render_report_html(doc: dict) -> str:
    """The full self-contained HTML report of one run."""
    return environment().get_template("report.html.j2").render(_context(doc))


def _ascii(text: str) -> str:
    """ASCII-only, single-line text for the Subject header."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(folded.split())


def subject(doc: Mapping[str, Any]) -> str:
    """`[DSA] ExampleMarket 2025-H2: 3 FAIL, 2 WARN` (plus ERROR when a check itself failed)."""
    run = _field(doc, "run")
    counts = _field(_field(doc, "summary"), "counts")
    headline = f"{counts.get('FAIL', 0)} FAIL, {counts.get('WARN', 0)} WARN"
    if counts.get("ERROR", 0):
        headline += f", {counts['ERROR']} ERROR"
    label = _field(_field(run, "period"), "label")
    return _ascii(f"[DSA] {_field(run, 'platform')} {label}: {headline}")


def render_email(doc: dict, audience: str) -> tuple[str, str, str]:
    """(subject, text, html) for one audience; unknown audiences get the compliance content.

    The HTML has its <style> block inlined into style attributes, as mail clients drop <style>.
    """
    view = audience if audience in AUDIENCES else "compliance"
    context = _context(doc, view)
    env = environment()
    text = env.get_template("email.txt.j2").render(context)
    html = css_inline.inline(env.get_template("email.html.j2").render(context))
    return subject(doc), text, html


def _safe_text(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text cells; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def findings_csv(doc: dict) -> bytes:
    """findings.csv: one row per finding, UTF-8, RFC 4180 quoting, formula-injection safe."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for finding in _field(doc, "findings"):
        metric = finding.get("metric") or {}
        evidence = finding.get("evidence") or {}
        row = {
            "obligation_id": _field(finding, "obligation_id"),
            "article": finding.get("article"),
            "title": finding.get("title"),
            "severity": finding.get("severity"),
            "status": _field(finding, "status"),
            "waived_status": finding.get("waived_status"),
            "previous_status": finding.get("previous_status"),
            "metric_name": metric.get("name"),
            "metric_value": metric.get("value"),
            "unit": metric.get("unit"),
            "comparator": metric.get("comparator"),
            "threshold": metric.get("threshold"),
            "threshold_basis": metric.get("threshold_basis"),
            "evidence_count": evidence.get("count"),
            "message": finding.get("message"),
            "missing": "; ".join(finding.get("missing") or []),
            "remediation": finding.get("remediation"),
        }
        writer.writerow([_safe_text(row[column]) for column in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8")
