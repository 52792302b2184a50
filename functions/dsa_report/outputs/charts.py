"""Charts for people, drawn here as SVG (inline in report.html) and rasterised to PNG for e-mails.

Why no plotting library: matplotlib with its dependencies adds about 167 MB to the Lambda bundle (measured with
`pip install --target` for the Lambda platform: 129 MB -> 296 MB, over the 250 MB limit). Four simple charts
(bars, stacked bars, a histogram) are a page of SVG; resvg (the `resvg-py` binding, 3 MB, no system
libraries) rasterises that same SVG for the e-mails, with the bundled DejaVu Sans subset (fonts/), since a
Lambda has no system fonts. One drawing, two forms: what the report shows is what the e-mail shows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from ..obligations.wording import figure, limit, measure
from ..vocabulary import FAIL, SEVERITIES, STATUSES
from . import labels

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu Sans, Helvetica, Arial, sans-serif"
WIDTH = 520  # scales down to a phone's 360-400 px with text still legible
COLOURS = {
    "FAIL": "#b42318", "WARN": "#dc6803", "ERROR": "#6941c6", "INSUFFICIENT_DATA": "#475467",
    "WAIVED": "#175cd3", "PASS": "#079455", "NOT_APPLICABLE": "#d0d5dd",
}
INK, MUTED, GRID, PREVIOUS = "#1d2939", "#667085", "#eaecf0", "#98a2b3"
CHAR = 6.6  # average advance of a 12 px DejaVu Sans character, for fitting labels


@dataclass(frozen=True)
class Chart:
    key: str  # a file-name-safe id: the PNG's Content-ID and file name, the SVG's id
    title: str
    alt: str  # what the chart shows, in one sentence (screen readers, clients that hide images)
    svg: str

    def png(self) -> bytes:
        return rasterise(self.svg)


@cache
def _font_files() -> tuple[str, ...]:
    return tuple(str(p) for p in sorted(FONTS.glob("*.ttf")))


def rasterise(svg: str, zoom: float = 2.0) -> bytes:
    """PNG of an SVG at twice its size (sharp on high-density screens), white background."""
    import resvg_py  # imported here: rendering the HTML report needs no rasteriser

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True, font_files=list(_font_files()),
                                       zoom=zoom, background="#ffffff"))


def _fit(text: str, width: float, size: float = 12) -> str:
    room = int(width / (CHAR * size / 12))
    return text if len(text) <= room else text[: max(room - 1, 1)].rstrip() + "\u2026"


def _text(x: float, y: float, text: str, *, size: float = 12, anchor: str = "start", fill: str = INK,
          bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{weight}>'
            f"{escape(text)}</text>")


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{fill}"/>'


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, dash: bool = False) -> str:
    pattern = ' stroke-dasharray="4 3"' if dash else ""
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
            f'stroke-width="1.5"{pattern}/>')


def _svg(key: str, alt: str, height: float, body: Iterable[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-{key}" class="chart" role="img" '
            f'aria-label="{escape(alt)}" width="{WIDTH}" height="{height:.0f}" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'font-family="{FAMILY}"><title>{escape(alt)}</title>'
            f'{_rect(0, 0, WIDTH, height, "#ffffff")}{"".join(body)}</svg>')


def overview(findings: Sequence[dict]) -> Chart | None:
    """Findings by severity (rows) and status (stacked segments): how bad, at a glance."""
    if not findings:
        return None
    grid = {sev: {st: 0 for st in STATUSES} for sev in SEVERITIES}
    for f in findings:
        if f.get("severity") in grid and f.get("status") in STATUSES:
            grid[f["severity"]][f["status"]] += 1
    rows = [sev for sev in SEVERITIES if sum(grid[sev].values())]
    present = [st for st in STATUSES if any(grid[sev][st] for sev in rows)]
    left, right, bar, gap = 76, 34, 24, 12
    scale = (WIDTH - left - right) / max(sum(grid[sev].values()) for sev in rows)
    body, x, y = [], 0.0, 8.0
    for st in present:  # legend, wrapped
        words = f"{labels.STATUS_WORDS[st]} {sum(grid[sev][st] for sev in rows)}"
        if x + 16 + len(words) * CHAR > WIDTH:
            x, y = 0.0, y + 20
        body += [_rect(x, y, 12, 12, COLOURS[st]), _text(x + 16, y + 11, words, size=12)]
        x += 16 + len(words) * CHAR + 16
    y += 32
    for sev in rows:
        body.append(_text(left - 8, y + bar * 0.7, sev.title(), anchor="end", bold=sev in ("CRITICAL", "HIGH")))
        x = float(left)
        for st in present:
            n = grid[sev][st]
            if not n:
                continue
            body.append(_rect(x, y, n * scale, bar, COLOURS[st]))
            if n * scale >= 16:
                colour = INK if st == "NOT_APPLICABLE" else "#ffffff"
                body.append(_text(x + n * scale / 2, y + bar * 0.7, str(n), anchor="middle", fill=colour, bold=True))
            x += n * scale
        body.append(_text(x + 6, y + bar * 0.7, str(sum(grid[sev].values())), fill=MUTED))
        y += bar + gap
    fails = {sev: grid[sev][FAIL] for sev in rows if grid[sev][FAIL]}
    alt = ("Findings by severity and status: " + "; ".join(
        f"{sev.title()}: " + ", ".join(f"{grid[sev][st]} {labels.STATUS_WORDS[st]}" for st in present if grid[sev][st])
        for sev in rows) + ("." if fails else "; no rule failed."))
    return Chart("overview", "Findings by severity and status", alt, _svg("overview", alt, y + 4, body))


@dataclass(frozen=True)
class Indicator:
    name: str
    unit: str | None
    previous: float
    current: float
    threshold: float | None
    status: str
    comparator: str | None = None


def trend(indicators: Sequence[Indicator], previous_label: str, current_label: str) -> Chart | None:
    """Each indicator this period against the previous one, with its limit: small multiples, own scales."""
    if not indicators:
        return None
    left, right, bar, block = 64, 120, 14, 62
    width = WIDTH - left - right
    body, y = [], 8.0
    for ind in indicators:
        top = max(ind.previous, ind.current, ind.threshold or 0) * 1.1 or 1
        body.append(_text(0, y + 12, _fit(labels.metric_label(ind.name), WIDTH - 10), bold=True))
        for n, (period, value, colour) in enumerate(((previous_label, ind.previous, PREVIOUS),
                                                     (current_label, ind.current, COLOURS.get(ind.status, INK)))):
            by = y + 20 + n * (bar + 4)
            body.append(_text(left - 8, by + bar - 3, period, anchor="end", fill=MUTED, size=11))
            body.append(_rect(left, by, width * value / top, bar, colour))
            body.append(_text(left + width * value / top + 6, by + bar - 3, measure(value, ind.unit), size=11,
                              fill=INK if n else MUTED))
        if ind.threshold is not None:
            tx = left + width * ind.threshold / top
            body.append(_line(tx, y + 17, tx, y + 20 + 2 * bar + 8, INK, dash=True))
            body.append(_text(tx + 3, y + 20 + 2 * bar + 16, "limit: " + limit(ind.comparator, ind.threshold,
                                                                                ind.unit).split(" (")[0],
                              size=10, fill=MUTED))
        y += block + 10
    alt = "Main indicators against the previous period: " + "; ".join(
        f"{labels.metric_label(i.name)} {measure(i.previous, i.unit)} in {previous_label}, "
        f"{measure(i.current, i.unit)} in {current_label}" for i in indicators) + "."
    return Chart("trend", f"Main indicators, {previous_label} and {current_label}", alt, _svg("trend", alt, y, body))


def categories(rows: Sequence[tuple[str, float, int]], *, warn: float | None, fail: float | None,
               key: str = "notice-times", title: str = "Notice decision time by category (median)",
               unit: str = "hours") -> Chart | None:
    """Horizontal bars, one per category (label, value, count), longest first, with the limits drawn."""
    rows = sorted((r for r in rows if r[1] is not None), key=lambda r: -r[1])[:12]
    if not rows:
        return None
    left, right, bar, gap, top = 170, 118, 16, 8, 26
    width = WIDTH - left - right
    high = max([r[1] for r in rows] + [fail or 0, warn or 0]) * 1.08 or 1
    body = []
    for bound, name in ((warn, "warn"), (fail, "fail")):
        if bound:
            x = left + width * bound / high
            body.append(_line(x, top - 6, x, top + len(rows) * (bar + gap), INK if name == "fail" else MUTED,
                              dash=True))
            body.append(_text(x, top - 10, f"{name} {measure(bound, unit).split(' (')[0]}", size=10,
                              anchor="middle", fill=MUTED))
    y = float(top)
    for name, value, count in rows:
        colour = COLOURS[FAIL] if fail and value > fail else COLOURS["WARN"] if warn and value > warn else PREVIOUS
        body.append(_text(left - 8, y + bar - 4, _fit(str(labels.label(name)), left - 12), anchor="end", size=11))
        body.append(_rect(left, y, width * value / high, bar, colour))
        body.append(_text(left + width * value / high + 6, y + bar - 4,
                          f"{measure(value, unit).split(' (')[0]} ({figure(count)})", size=11, fill=MUTED))
        y += bar + gap
    alt = f"{title}: " + "; ".join(f"{labels.label(n)} {measure(v, unit).split(' (')[0]}" for n, v, _ in rows) + "."
    return Chart(key, title, alt, _svg(key, alt, y + 6, body))


def histogram(values: Sequence[float], *, unit: str, marks: Sequence[tuple[float, str]], key: str,
              title: str) -> Chart | None:
    """How long items took: counts per bin of `unit`, with the limits marked."""
    values = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not values:
        return None
    high = max(values + [m for m, _ in marks])
    step = max(1, math.ceil(high / 14))
    bins = [0] * (int(high // step) + 1)
    for v in values:
        bins[min(int(v // step), len(bins) - 1)] += 1
    left, right = 44, 16
    top = 20 + 14 * len(marks)
    base = top + 140
    width = (WIDTH - left - right) / len(bins)
    peak = max(bins)
    body = [_line(left, base, WIDTH - right, base, MUTED)]
    for tick in range(0, 5):
        y = base - (base - top) * tick / 4
        body += [_line(left - 4, y, left, y, MUTED), _text(left - 8, y + 4, figure(round(peak * tick / 4)),
                                                            anchor="end", size=10, fill=MUTED)]
    for n, count in enumerate(bins):
        h = (base - top) * count / peak
        body.append(_rect(left + n * width + 1, base - h, width - 2, h, COLOURS["WARN"]))
        if n % max(1, len(bins) // 8) == 0:
            body.append(_text(left + n * width, base + 14, figure(n * step), size=10, anchor="middle", fill=MUTED))
    body.append(_text(WIDTH - right, base + 30, f"{unit} online", size=10, anchor="end", fill=MUTED))
    for n, (mark, words) in enumerate(marks):
        x = left + width * mark / step
        anchor, dx = ("end", -4) if x > WIDTH / 2 else ("start", 4)
        body += [_line(x, 12 + 14 * n, x, base, INK, dash=True),
                 _text(x + dx, 20 + 14 * n, words, size=10, fill=INK, anchor=anchor)]
    alt = (f"{title}: {figure(len(values))} items, from {measure(min(values), unit)} to "
           f"{measure(max(values), unit)}; " + "; ".join(w for _, w in marks) + ".")
    return Chart(key, title, alt, _svg(key, alt, base + 36, body))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def main_indicators(findings: Sequence[dict], limit: int = 6) -> list[Indicator]:
    """The indicators worth a trend line: measured both periods, worst status and severity first."""
    chosen = []
    for f in findings:
        metric = f.get("metric") or {}
        current, before = _number(metric.get("value")), _number(metric.get("previous_value"))
        if current is None or before is None or metric.get("unit") == "count" and not (current or before):
            continue
        chosen.append((STATUSES.index(f["status"]) if f["status"] in STATUSES else 99,
                       SEVERITIES.index(f["severity"]) if f.get("severity") in SEVERITIES else 9,
                       Indicator(metric.get("name", ""), metric.get("unit"), before, current,
                                 _number(metric.get("threshold")), f["status"], metric.get("comparator"))))
    chosen.sort(key=lambda c: c[:2])
    return [c[2] for c in chosen[:limit]]


def previous_label(doc: dict) -> str:
    """The previous period's label ("2026-10"), or "previous" when the period has no predecessor of its kind."""
    from ..engine.periods import PeriodError, parse_period, previous

    try:
        before = previous(parse_period(doc["run"]["period"]["label"]))
    except (PeriodError, KeyError, TypeError):
        before = None
    return before.label if before else "previous"


def _finding(findings: Sequence[dict], obligation_id: str) -> dict | None:
    return next((f for f in findings if f.get("obligation_id") == obligation_id), None)


def for_run(doc: dict, evidence: dict[str, list[dict]] | None = None) -> list[Chart]:
    """The charts of one run, in reading order: overview, trend, notice times by category, hidden-link survival.

    `evidence` (obligation id -> the full offending list) gives the survival histogram every item; without it
    the chart is left out rather than drawn from a 20-item sample.
    """
    findings = doc["findings"]
    charts = [overview(findings),
              trend(main_indicators(findings), previous_label(doc), doc["run"]["period"]["label"])]
    notices = _finding(findings, "DSA-16-NOTICE-TIMELINESS")
    if notices:
        params = notices.get("parameters") or {}
        rows = [(r.get("category"), _number(r.get("median_hours")), r.get("notices") or 0)
                for r in (notices.get("evidence") or {}).get("slowest_categories") or [] if isinstance(r, dict)]
        charts.append(categories(rows, warn=_number(params.get("warn_median_hours")),
                                 fail=_number(params.get("fail_median_hours"))))
    survival = _finding(findings, "DSA-35-HIDDEN-LINK-SURVIVAL")
    items = (evidence or {}).get("DSA-35-HIDDEN-LINK-SURVIVAL")
    if survival and items:
        params, metric = survival.get("parameters") or {}, survival.get("metric") or {}
        marks = []
        if _number(params.get("fail_days")) is not None:
            marks.append((float(params["fail_days"]), f"fail above {measure(params['fail_days'], 'days')} "
                                                      "(internal threshold)"))
        if _number(metric.get("value")) is not None:
            marks.append((float(metric["value"]), f"median of all: {measure(metric['value'], 'days')}"))
        warn = measure(params.get("warn_days"), "days") if params.get("warn_days") is not None else "the warning"
        charts.append(histogram([_number(i.get("survival_days")) for i in items if isinstance(i, dict)],
                                unit="days", marks=marks, key="hidden-link-survival",
                                title=f"Hidden-link listings online longer than {warn}: how long"))
    return [c for c in charts if c is not None]
