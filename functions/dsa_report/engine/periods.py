"""Reporting periods: `2025-H1`, `2025-Q3`, `2025-07`, `2025`, `2025-07-01..2025-07-31` (bounds in UTC).

A scheduled run with no period reports on the last *complete* period of the schedule's kind; the previous
period of the same kind is what a trend compares against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

KINDS = ("month", "quarter", "half-year", "year", "range")
_MONTHS_PER_KIND = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}


class PeriodError(ValueError):
    """A period label that is not one of the grammar's forms."""


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # inclusive
    kind: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def to_json(self) -> dict[str, str]:
        return {"label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat()}


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def _block(kind: str, year: int, index: int) -> Period:
    """The index-th (1-based) block of `kind` in `year`."""
    months = _MONTHS_PER_KIND[kind]
    first_month = (index - 1) * months + 1
    start = date(year, first_month, 1)
    end = _month_end(year, first_month + months - 1)
    label = {
        "month": f"{year}-{index:02d}",
        "quarter": f"{year}-Q{index}",
        "half-year": f"{year}-H{index}",
        "year": f"{year}",
    }[kind]
    return Period(label, start, end, kind)


_PATTERNS = (
    (re.compile(r"^(\d{4})-H([12])$"), "half-year"),
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), "month"),
    (re.compile(r"^(\d{4})$"), "year"),
)


def parse_period(text: str) -> Period:
    """Parse a period label of the data contract's grammar."""
    text = str(text).strip()
    for pattern, kind in _PATTERNS:
        match = pattern.match(text)
        if match:
            year = int(match.group(1))
            index = int(match.group(2)) if kind != "year" else 1
            return _block(kind, year, index)
    if ".." in text:
        first, _, last = text.partition("..")
        try:
            start, end = date.fromisoformat(first), date.fromisoformat(last)
        except ValueError as exc:
            raise PeriodError(f"period {text!r}: bounds must be YYYY-MM-DD dates ({exc})") from None
        if end < start:
            raise PeriodError(f"period {text!r}: end is before start")
        return Period(f"{start.isoformat()}..{end.isoformat()}", start, end, "range")
    raise PeriodError(
        f"period {text!r} is not one of YYYY-H1, YYYY-Q3, YYYY-MM, YYYY or YYYY-MM-DD..YYYY-MM-DD"
    )


def containing(kind: str, day: date) -> Period:
    """The period of `kind` that contains `day`."""
    if kind not in _MONTHS_PER_KIND:
        raise PeriodError(f"period_kind {kind!r} is not one of {', '.join(_MONTHS_PER_KIND)}")
    months = _MONTHS_PER_KIND[kind]
    return _block(kind, day.year, (day.month - 1) // months + 1)


def last_complete(kind: str, now: datetime | date) -> Period:
    """The latest period of `kind` that ended before `now` (a schedule firing on 2 July gives H1)."""
    today = now.date() if isinstance(now, datetime) else now
    current = containing(kind, today)
    return containing(kind, current.start - timedelta(days=1))


def previous(period: Period) -> Period | None:
    """The period of the same kind just before `period` (None for free date ranges)."""
    if period.kind == "range":
        return None
    return containing(period.kind, period.start - timedelta(days=1))
