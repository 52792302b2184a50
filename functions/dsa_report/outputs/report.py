"""Render a findings document: the full HTML report, one e-mail per audience, and the CSVs.

Pure: no AWS. Templates live in `templates/` (copied next to this module in the Lambda bundle). HTML
templates are autoescaped; the text e-mail (`*.txt.j2`) is not. `StrictUndefined` makes a document that
lacks a required key fail loudly instead of rendering blanks.

Each audience reads a different e-mail (docs/reading-a-report.md): the board a verdict and the worst
findings in plain sentences, compliance everything by article, trust and safety the lists to act on.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, UndefinedError, select_autoescape
from markupsafe import Markup

from ..obligations.wording import COMPARATOR_WORDS, eur, figure, limit, measure
from ..vocabulary import (
    AUDIENCES,
    FAIL,
    INSUFFICIENT_DATA,
    LAW,
    QUIET,
    SEVERITIES,
    STATUSES,
    WARN,
)
from ..vocabulary import ERROR as ERROR_STATUS
from . import charts as charting
from . import labels
from .charts import Chart
from .mime import InlineImage

CSV_COLUMNS = (
    "obligation_id", "article", "title", "severity", "status", "waived_status", "previous_status",
    "metric_name", "metric_value", "unit", "comparator", "threshold", "threshold_basis", "evidence_count", "message",
    "missing", "remediation",
)
ITEMS_CSV_COLUMNS = ("obligation_id", "article", "status", "severity", "rank", "id_column", "id", "trader_id",
                     "item_id", "details")
# A text cell starting with one of these is read as a formula by spreadsheets (OWASP CSV injection). A lone
# comparator such as "==" or ">=" is text to a spreadsheet only when quoted, so comparators are written as words.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EMAIL_HTML_LIMIT = 100_000  # bytes: Gmail clips an HTML body over about 102 KB
EMAIL_ROWS = {"board": 0, "compliance": 5, "trust_and_safety": 10}  # evidence rows per finding, shrunk to fit
EMAIL_CHARTS = {"board": ("overview", "trend"), "compliance": ("overview", "trend", "notice-times"),
                "trust_and_safety": ("hidden-link-survival", "notice-times")}
ID_COLUMNS = ("trader_id", "item_id", "notice_id", "complaint_id", "order_id", "action_id", "ad_id",
              "platform_uid", "risk_id", "commitment_id", "mitigation_id", "assessment_id", "notifier_id", "id",
              "category")
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)(:\d\d(\.\d+)?)?Z?$")


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
    """One evidence cell as text: enum values in words, timestamps to the minute, lists joined, objects as
    `key: value; ...`, booleans yes/no, null as a dash."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(fmt_cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return "; ".join(f"{labels.column(k).lower()}: {fmt_cell(v)}" for k, v in value.items())
    if isinstance(value, int | float):
        return figure(value)
    text = str(labels.label(value))
    stamp = _TIMESTAMP.match(text)
    if stamp:
        return stamp.group(1) if stamp.group(2) == "00:00" else f"{stamp.group(1)} {stamp.group(2)}"
    return text


def limit_label(metric: Mapping[str, Any]) -> str:
    """What a limit is, in words: the law's, or the platform's own internal threshold (obligations.md v2)."""
    return "legal limit" if metric.get("threshold_basis") == LAW else "internal threshold"


def limit_text(metric: Mapping[str, Any]) -> str:
    """'internal threshold: at most 72 hours (3 days)', 'legal limit: none allowed'; empty without a limit."""
    if not metric or metric.get("threshold") is None:
        return ""
    return f"{limit_label(metric)}: {limit(metric.get('comparator'), metric['threshold'], metric.get('unit'))}"


def figure_text(metric: Mapping[str, Any] | None) -> str:
    """A metric's value in words: 'Notice decision time, median: 100.6 hours (4.2 days)'."""
    if not metric or not metric.get("name"):
        return ""
    return f"{labels.metric_label(metric['name'])}: {measure(metric.get('value'), metric.get('unit'))}"


def sentence(finding: Mapping[str, Any]) -> str:
    """One plain sentence on a finding, for the board: the figure and its limit, or how many items."""
    metric = finding.get("metric") or {}
    if metric.get("name") and metric.get("value") is not None:
        bound = limit_text(metric)
        return f"{figure_text(metric)}" + (f" ({bound})." if bound else ".")
    count = int((finding.get("evidence") or {}).get("count") or 0)
    if finding.get("status") == INSUFFICIENT_DATA:
        return "Could not be checked: missing " + (", ".join(finding.get("missing") or []) or "data") + "."
    if finding.get("status") == ERROR_STATUS:
        return "The check itself failed; the team that runs the reports has the details."
    return f"{figure(count)} item{'s' if count != 1 else ''} to act on." if count else labels.words(
        str(finding.get("message", "")))


def ordered(findings: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """FAIL first, then WARN, ERROR, INSUFFICIENT_DATA, WAIVED, PASS, NOT_APPLICABLE; within a status the worst
    severity first, then the document's own order (new failures before persisting ones)."""
    def rank(finding: Mapping[str, Any]) -> tuple[int, int]:
        status = _field(finding, "status")
        severity = finding.get("severity")
        return (STATUSES.index(status) if status in STATUSES else len(STATUSES),
                SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES))
    return sorted(findings, key=rank)


def sample_columns(sample: Iterable[Mapping[str, Any]], limit_to: int | None = None) -> list[str]:
    """Union of the sample rows' keys, in first-seen order, ids first; at most `limit_to` of them."""
    columns: dict[str, None] = {}
    for row in sample:
        columns.update(dict.fromkeys(row))
    names = sorted(columns, key=lambda c: (c not in ID_COLUMNS, ID_COLUMNS.index(c) if c in ID_COLUMNS else 0))
    return names[:limit_to] if limit_to else names


def article_key(article: str) -> tuple[int, str]:
    """'17(1)' -> (17, '17(1)'), for grouping and ordering findings by article."""
    digits = re.match(r"\d+", str(article))
    return (int(digits.group()) if digits else 999, str(article))


@cache
def _datasets() -> dict[str, tuple[str, ...]]:
    """Obligation id -> the datasets and registers its rule reads (the shipped catalogue)."""
    from ..obligations.evaluation import default_catalogue

    return {ob.id: (*ob.datasets, *(("registers",) if ob.registers else ())) for ob in default_catalogue().obligations}


def quality_notes(doc: Mapping[str, Any], finding: Mapping[str, Any]) -> list[str]:
    """What the data-quality section says about the data this finding rests on: quarantined rows and
    unreadable files of the datasets its rule reads, next to the finding they may distort."""
    notes = []
    quality = doc.get("data_quality") or {}
    for name in _datasets().get(finding.get("obligation_id", ""), ()):
        q = quality.get(name) or {}
        bad, unreadable = int(q.get("quarantined_rows") or 0), len(q.get("unreadable_files") or [])
        if not bad and not unreadable:
            continue
        words = name.replace("_", " ")
        parts = []
        if bad:
            reasons = ", ".join(f"{r} {figure(n)}" for r, n in sorted((q.get("reasons") or {}).items(),
                                                                         key=lambda kv: -kv[1])[:3])
            parts.append(f"{figure(bad)} of {figure(q.get('rows') or 0)} rows quarantined ({reasons})")
        if unreadable:
            parts.append(f"{unreadable} file{'s' if unreadable != 1 else ''} unreadable")
        notes.append(f"{words.capitalize()}: {'; '.join(parts)}. They are left out of this finding, which may "
                     "read worse or better than the full data would.")
    return notes


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
                       columns=sample_columns, measure=measure, limit_text=limit_text, figure_text=figure_text,
                       label=labels.label, words=labels.words, column=labels.column, metric_label=labels.metric_label,
                       meaning=labels.meaning, status_words=labels.status_words, sentence=sentence)
    env.globals.update(STATUS_ORDER=STATUSES, QUIET=QUIET, SEVERITIES=SEVERITIES, field=_field,
                       STATUS_WORDS=labels.STATUS_WORDS)
    return env


@dataclass(frozen=True)
class MailExtras:
    """What the pipeline knows beyond the document: the link to the archived run, what is attached, the charts."""

    link: str | None = None  # time-limited (presigned) URL of the archived report.html
    link_days: int | None = None
    attachments: tuple[str, ...] = ()  # file names attached to this e-mail
    not_attached: tuple[str, ...] = ()  # archived files too large to attach
    charts: tuple[Chart, ...] | None = None  # the run's charts (drawn once); None: drawn from the document


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str
    images: tuple[InlineImage, ...] = field(default_factory=tuple)


def _counts(doc: Mapping[str, Any]) -> dict[str, int]:
    counts = _field(_field(doc, "summary"), "counts")
    return {status: int(counts.get(status, 0)) for status in STATUSES}


def severity_grid(findings: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    grid = {sev: {st: 0 for st in STATUSES} for sev in SEVERITIES}
    for f in findings:
        if f.get("severity") in grid and f["status"] in STATUSES:
            grid[f["severity"]][f["status"]] += 1
    return grid


def verdict(doc: Mapping[str, Any], audience: str | None = None) -> str:
    """The one-line verdict every audience reads first (trust and safety: how much there is to act on)."""
    findings = _field(doc, "findings")
    if audience == "trust_and_safety":
        lists = [f for _, fs in action_lists(findings) for f in fs]
        items = sum(int(f["evidence"].get("count") or 0) for f in lists)
        critical = sum(1 for f in lists if f.get("severity") == "CRITICAL")
        return (f"{len(lists)} list{'s' if len(lists) != 1 else ''} to act on, {items:,} items in all"
                + (f", {critical} of them critical" if critical else "") + "." if lists
                else "Nothing to act on in this period.")
    counts = _counts(doc)
    failing = [f for f in findings if f["status"] == FAIL]
    worst = {sev: sum(1 for f in failing if f.get("severity") == sev) for sev in SEVERITIES}
    new = sum(1 for f in failing if f.get("trend") == "new")
    if failing:
        grave = ", ".join(f"{n} {sev.lower()}" for sev, n in worst.items() if n and sev in ("CRITICAL", "HIGH"))
        since = f"; {new} new since {charting.previous_label(dict(doc))}" if "trend" in str(
            [f.get("trend") for f in findings]) else ""
        return (f"Action needed: {len(failing)} finding{'s' if len(failing) != 1 else ''} not met"
                + (f" ({grave})" if grave else "") + since + ".")
    unchecked = counts[ERROR_STATUS] + counts[INSUFFICIENT_DATA]
    if counts[WARN]:
        return f"No rule failed; {counts[WARN]} warning{'s' if counts[WARN] != 1 else ''} to watch."
    if unchecked:
        return f"No rule failed, but {unchecked} obligation{'s' if unchecked != 1 else ''} could not be checked."
    return "Every obligation checked was met."


def action_lists(findings: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Trust and safety's lists: failing and warning findings with offending items, by what to act on."""
    groups: dict[str, list[Mapping[str, Any]]] = {g: [] for g in labels.ACTION_GROUPS}
    for f in findings:
        if f["status"] in (FAIL, WARN) and int((f.get("evidence") or {}).get("count") or 0):
            groups[labels.action(f["obligation_id"])[0]].append(f)
    return [(g, fs) for g, fs in groups.items() if fs]


def _context(doc: Mapping[str, Any], audience: str | None = None, *, extras: MailExtras | None = None,
             rows: int | None = None, images: Mapping[str, str] | None = None,
             svgs: Sequence[Chart] = ()) -> dict[str, Any]:
    extras = extras or MailExtras()
    findings = ordered(_field(doc, "findings"))
    counts = _counts(doc)
    by_article: dict[tuple, list] = {}
    for f in findings:
        by_article.setdefault(article_key(f.get("article", ""))[0], []).append(f)
    bad = [f for f in findings if f["status"] not in QUIET]
    headline = [f for f in findings if f["status"] == FAIL and f.get("severity") in ("CRITICAL", "HIGH")]
    headline.sort(key=lambda f: (SEVERITIES.index(f["severity"]), f.get("trend") == "persisting"))
    trend = (_field(doc, "summary").get("trend") or {})
    return {
        "doc": doc,
        "run": _field(doc, "run"),
        "findings": findings,
        "failing": [f for f in findings if f["status"] == FAIL],
        "attention": bad,
        "headline": headline,
        "operational": [f for f in findings if f["status"] in (FAIL, WARN, ERROR_STATUS)],
        "actions": action_lists(findings),
        "action_title": lambda f: labels.action(f["obligation_id"])[1] or f.get("title", ""),
        "by_article": [(n, fs) for n, fs in sorted(by_article.items())],
        "counts": counts,
        "grid": severity_grid(findings),
        "verdict": verdict(doc, audience),
        "previous_label": charting.previous_label(dict(doc)),
        "has_previous": bool(trend.get("previous_run")),
        "resolved": trend.get("resolved") or [],
        "new_count": sum(1 for f in findings if f.get("trend") == "new"),
        "persisting_count": sum(1 for f in findings if f.get("trend") == "persisting"),
        "exposure": _field(doc, "summary").get("exposure") or {},
        "not_checked": (doc.get("coverage") or {}).get("not_checked") or [],
        "quality_notes": lambda f: quality_notes(doc, f),
        "audience": audience,
        "rows": rows,
        "compact": False,
        "images": images or {},
        "svgs": [(c, Markup(c.svg)) for c in svgs],  # noqa: S704 - drawn by charts.py, every text escaped there
        "link": extras.link,
        "link_days": extras.link_days,
        "attachments": extras.attachments or ("findings.json", "findings.csv"),
        "not_attached": extras.not_attached,
        "anchor": lambda f: (f"{extras.link}#{f['obligation_id']}" if extras.link else None),
    }


def _required(doc: Mapping[str, Any]) -> None:
    """Fail loudly (UndefinedError) on a document without the keys every output needs, before drawing."""
    _field(_field(_field(doc, "run"), "period"), "label")
    _field(_field(doc, "summary"), "counts")
    for finding in _field(doc, "findings"):
        _field(finding, "status")


def render_report_html(doc: dict, evidence: Mapping[str, list[dict]] | None = None) -> str:
    """The full self-contained HTML report of one run: charts inline as SVG, no external resource."""
    _required(doc)
    svgs = charting.for_run(doc, dict(evidence) if evidence else None)
    return environment().get_template("report.html.j2").render(_context(doc, svgs=svgs))


def _ascii(text: str) -> str:
    """ASCII-only, single-line text for the Subject header."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(folded.split())


def subject(doc: Mapping[str, Any], audience: str = "compliance") -> str:
    """Each audience's subject says the verdict: the board's in words, compliance the counts, trust and safety
    how much there is to act on; e.g. `[DSA] ExampleMarket 2025-H2: 3 FAIL, 2 WARN, 1 ERROR`."""
    run = _field(doc, "run")
    counts = _counts(doc)
    label = _field(_field(run, "period"), "label")
    prefix = f"[DSA] {_field(run, 'platform')} {label}"
    findings = _field(doc, "findings")
    if audience == "board":
        failing = [f for f in findings if f["status"] == FAIL]
        critical = sum(1 for f in failing if f.get("severity") == "CRITICAL")
        if failing:
            headline = (f"action needed, {len(failing)} not met" + (f" ({critical} critical)" if critical else "")
                        + (f", {counts[WARN]} warnings" if counts[WARN] else ""))
        else:
            headline = "no rule failed" + (f", {counts[WARN]} warnings" if counts[WARN] else "")
    elif audience == "trust_and_safety":
        lists = [f for _, fs in action_lists(findings) for f in fs]
        items = sum(int(f["evidence"].get("count") or 0) for f in lists)
        headline = (f"{len(lists)} list{'s' if len(lists) != 1 else ''} to act on, {items:,} items"
                    if lists else "nothing to act on")
    else:
        headline = f"{counts[FAIL]} FAIL, {counts[WARN]} WARN"
        if counts[ERROR_STATUS]:
            headline += f", {counts[ERROR_STATUS]} ERROR"
    return _ascii(f"{prefix}: {headline}")


def inline_css(html: str) -> str:
    """Inline only the small `<style>` block (what clients that drop head styles need: colours, borders); the
    head block marked `data-css-inline="ignore"` stays for the clients that read it (layout, media queries)."""
    return css_inline.CSSInliner(keep_style_tags=True, remove_inlined_selectors=True).inline(html)


def compose_email(doc: dict, audience: str, extras: MailExtras | None = None) -> Email:
    """Subject, text and HTML of one audience's e-mail, and the charts it shows as inline PNG (Content-ID).

    The HTML body stays under EMAIL_HTML_LIMIT: evidence rows are cut (5, 3, 1, 0 per finding), then findings
    shrink to one line each, until it fits; the report (linked, archived) always has everything.
    """
    if audience not in AUDIENCES:  # the config refuses other names: a typo must never change what is sent
        raise ValueError(f"unknown audience {audience!r}: one of {', '.join(AUDIENCES)}")
    _required(doc)
    extras = extras or MailExtras()
    drawn = extras.charts if extras.charts is not None else tuple(charting.for_run(doc))
    shown = [c for key in EMAIL_CHARTS[audience] for c in drawn if c.key == key]
    images = {c.key: f"{c.key}@dsa-report" for c in shown}
    env = environment()
    text = env.get_template("email.txt.j2").render(_context(doc, audience, extras=extras,
                                                            rows=EMAIL_ROWS[audience]))
    steps = [(rows, False) for rows in (EMAIL_ROWS[audience], 5, 3, 1, 0) if rows <= EMAIL_ROWS[audience]]
    for rows, compact in sorted(set(steps), reverse=True) + [(0, True)]:
        context = _context(doc, audience, extras=extras, rows=rows, images=images, svgs=shown) | {"compact": compact}
        html = inline_css(env.get_template("email.html.j2").render(context))
        if len(html.encode()) <= EMAIL_HTML_LIMIT:
            break
    inline = tuple(InlineImage(images[c.key], f"{c.key}.png", c.png()) for c in shown)
    return Email(subject(doc, audience), text, html, inline)


def render_email(doc: dict, audience: str) -> tuple[str, str, str]:
    """(subject, text, html) of one audience's e-mail; `compose_email` also gives its inline charts."""
    mail = compose_email(doc, audience)
    return mail.subject, mail.text, mail.html


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
            "comparator": COMPARATOR_WORDS.get(metric.get("comparator") or "", metric.get("comparator")),
            "threshold": metric.get("threshold"),
            "threshold_basis": metric.get("threshold_basis"),
            "evidence_count": evidence.get("count"),
            "message": finding.get("message"),
            "missing": "; ".join(finding.get("missing") or []),
            "remediation": finding.get("remediation"),
        }
        writer.writerow([_safe_text(row[column]) for column in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8")


def _plain(value: Any) -> str:
    """An evidence value in a CSV cell: raw ids and enum keys (searchable), lists joined, null empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)


def items_csv(doc: dict, evidence: Mapping[str, list[dict]] | None = None) -> bytes:
    """offending_items.csv: every offending item of every finding, one row per finding x item, worst first
    within a finding (the archived evidence lists; a finding without one gives its sample). Formula-safe.
    Hundreds of thousands of rows at scale: the cells are built with the common types first."""
    evidence = evidence or {}
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ITEMS_CSV_COLUMNS)
    for finding in ordered(_field(doc, "findings")):
        rows = evidence.get(finding["obligation_id"])
        if rows is None:
            rows = (finding.get("evidence") or {}).get("sample") or []
        head = [_safe_text(value) for value in (finding["obligation_id"], finding.get("article"), finding["status"],
                                                finding.get("severity"))]
        writer.writerows([*head, rank, *_item_cells(item)] for rank, item in enumerate(rows, 1))
    return buffer.getvalue().encode("utf-8")


_AS_STR = (str, int, float, datetime)  # types whose CSV cell is their str()


def _item_cells(item: Mapping[str, Any]) -> tuple[str, ...]:
    """id_column, id, trader_id, item_id, details of one offending item, each formula-safe."""
    id_column = next((c for c in ID_COLUMNS if item.get(c) is not None), "")
    details = "; ".join([key + ": " + (v if v.__class__ is str else str(v) if v.__class__ in _AS_STR else _plain(v))
                         for key, v in item.items() if key != id_column and key != "trader_id" and key != "item_id"])
    return (id_column, _safe_cell(item[id_column]) if id_column else "", _safe_cell(item.get("trader_id")),
            _safe_cell(item.get("item_id")), _safe_cell(details))


def _safe_cell(value: Any) -> str:
    """An evidence value as a formula-safe CSV cell (`_plain`, then `_safe_text`)."""
    text = value if value.__class__ is str else str(value) if value.__class__ in _AS_STR else _plain(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text
