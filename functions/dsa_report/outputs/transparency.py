"""The EU transparency report as files: the XLSX workbook (openpyxl) and its CSV parts, one per sheet; and a
published report read back (XLSX, a CSV part, a folder or a .zip of parts) for the comparison with the data.

File names carry the version and the CSV parts the sheet: `transparency-report-<platform>-<period>-v<N>.xlsx`,
`transparency-report-<platform>-<period>-v<N>-<sheet>.csv`; sheet 1 carries the version and its date (Art. 3 of
Implementing Regulation (EU) 2024/2835: versions explicitly marked, with their date).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from datetime import datetime, time
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from ..obligations import transparency as template
from ..obligations.transparency import Report

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIGURES_KEY = "transparency"  # the run's figures (a `Report`) under this key of the renderers' `figures`


def safe(text: str) -> str:
    """A platform name as a file-name segment."""
    return re.sub(r"[^A-Za-z0-9._]+", "-", text).strip("-") or "platform"


def stem(service: str, period_label: str, version: int) -> str:
    return f"transparency-report-{safe(service)}-{period_label}-v{version}"


def xlsx_name(report: Report) -> str:
    return stem(report.service, report.period.label, report.version) + ".xlsx"


def csv_name(report: Report, sheet: str) -> str:
    return f"{stem(report.service, report.period.label, report.version)}-{sheet}.csv"


def next_version(names: Iterable[str], service: str, period_label: str) -> int:
    """1 + the highest version of this platform's and period's workbook among `names` (file names)."""
    pattern = re.compile(re.escape(f"transparency-report-{safe(service)}-{period_label}-v") + r"(\d+)\.xlsx$")
    found = [int(m.group(1)) for m in map(pattern.match, names) if m]
    return max(found, default=0) + 1


def _value(value: Any) -> Any:
    return "" if value is None else value


def xlsx(report: Report) -> bytes:
    """The workbook: the template's sheets in order, a header row, then the rows (numbers as numbers)."""
    book = Workbook(write_only=True)
    when = datetime.combine(report.issued, time.min)
    book.properties.title = f"DSA transparency report {report.service} {report.period_text}"
    book.properties.version = f"v{report.version}"
    book.properties.created = book.properties.modified = when
    for sheet in report.sheets:
        ws = book.create_sheet(sheet.name)
        ws.append(list(sheet.headers))
        for row in sheet.rows:
            ws.append([row.get(h) for h in sheet.headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_part(sheet: template.Sheet) -> bytes:
    """One sheet as RFC 4180 CSV in UTF-8."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(sheet.headers)
    for row in sheet.rows:
        writer.writerow([_value(row.get(h)) for h in sheet.headers])
    return text.getvalue().encode("utf-8")


def csv_parts(report: Report) -> dict[str, bytes]:
    return {csv_name(report, sheet.name): csv_part(sheet) for sheet in report.sheets}


def render_xlsx(document: dict, figures: dict) -> dict[str, bytes]:
    """Output renderer (outputs.registry): the run's report as its workbook."""
    report = figures[FIGURES_KEY]
    return {xlsx_name(report): xlsx(report)}


def render_csv(document: dict, figures: dict) -> dict[str, bytes]:
    """Output renderer (outputs.registry): the run's report as its CSV parts."""
    return csv_parts(figures[FIGURES_KEY])


# ---- reading a report back -------------------------------------------------------------------------------


class PublishedError(ValueError):
    """A published report that cannot be read as the template; the message says why."""


def _sheet_of(name: str, headers: list[Any]) -> str | None:
    """The template sheet of a CSV part: by its header row, else by the number its file name starts with."""
    found = template.identify(str(h) for h in headers if h is not None)
    if found:
        return found
    match = re.match(r"0?(\d{1,2})_", Path(name).name)
    return template.SHEET_NAMES[int(match.group(1)) - 1] if match and 1 <= int(match.group(1)) <= 11 else None


def _rows(header: list[Any], body: Iterable[Iterable[Any]]) -> list[dict[str, Any]]:
    names = [str(h).strip() if h is not None else "" for h in header]
    return [dict(zip(names, row, strict=False)) for row in body if any(v not in (None, "") for v in row)]


def _csv(name: str, data: bytes) -> dict[str, list[dict]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PublishedError(f"{name} is not UTF-8 text") from None
    table = list(csv.reader(io.StringIO(text)))
    if not table:
        return {}
    sheet = _sheet_of(name, table[0])
    if sheet is None:
        raise PublishedError(f"{name}: its header row is none of the template's sheets")
    return {sheet: _rows(table[0], table[1:])}


def _xlsx(name: str, data: bytes) -> dict[str, list[dict]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is no workbook
        raise PublishedError(f"{name}: not a readable XLSX workbook ({type(exc).__name__})") from None
    parts: dict[str, list[dict]] = {}
    for ws in book.worksheets:
        table = [list(row) for row in ws.iter_rows(values_only=True)]
        if not table:
            continue
        title = ws.title.strip()
        sheet = title if title in template.SHEET_NAMES else _sheet_of(title, table[0])
        if sheet:
            parts.setdefault(sheet, []).extend(_rows(table[0], table[1:]))
    book.close()
    return parts


def read_published(name: str, data: bytes) -> dict[str, list[dict]]:
    """Sheet -> rows of a published report given as an XLSX workbook, one CSV part or a .zip of CSV parts."""
    lower = name.lower()
    if lower.endswith(".xlsx"):
        return _xlsx(name, data)
    if lower.endswith(".csv"):
        return _csv(name, data)
    if lower.endswith(".zip"):
        parts: dict[str, list[dict]] = {}
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in sorted(archive.namelist()):
                if member.lower().endswith(".csv"):
                    for sheet, rows in _csv(member, archive.read(member)).items():
                        parts.setdefault(sheet, []).extend(rows)
        return parts
    raise PublishedError(f"{name}: give an .xlsx, a .csv, a .zip of CSV parts or a folder of them")


def read_path(path: Path) -> dict[str, list[dict]]:
    """A published report from a file or a folder of CSV parts."""
    if path.is_dir():
        parts: dict[str, list[dict]] = {}
        for file in sorted(path.glob("*.csv")):
            for sheet, rows in _csv(file.name, file.read_bytes()).items():
                parts.setdefault(sheet, []).extend(rows)
        return parts
    return read_published(path.name, path.read_bytes())


def published_figures(parts: dict[str, list[dict]]) -> dict[tuple, Any]:
    """Every value cell of a published report by key (obligations.transparency.cells)."""
    out: dict[tuple, Any] = {}
    for sheet, rows in parts.items():
        out.update(template.keyed(sheet, rows))
    return out
