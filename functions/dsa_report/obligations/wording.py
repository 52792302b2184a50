"""Numbers and words for people, defined once: rule messages, reports and e-mails all format with these."""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ARTICLE_WORDS = Path(__file__).parent / "article_words.yaml"


@cache
def _article_words() -> dict[str, str]:
    return yaml.safe_load(ARTICLE_WORDS.read_text(encoding="utf-8"))


def article_words(obligation_id: str) -> str | None:
    """The Regulation's own words for an obligation whose legal test is qualitative (INDICATOR, ADVISORY)."""
    return _article_words().get(obligation_id)


def as_date(value: Any) -> date | None:
    """Register dates arrive as `date` from YAML; JSON registers give ISO strings."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def pct(share: float | None) -> str:
    """99.9%, 99.95%, 99.949%: up to three decimals, so 99.85% does not read as the 99.9% it misses."""
    if share is None:
        return "n/a"
    text = f"{share * 100:.3f}".rstrip("0").rstrip(".")
    return f"{text}%"


def num(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def qty(value: float | int, unit: str) -> str:
    """'1 day', '2.5 days', '34 hours'."""
    return f"{num(value, 2)} {unit if value == 1 else unit + 's'}"


def plural(n: int, word: str) -> str:
    """'1 notice', '1,200 notices'."""
    return f"{n:,} {word if n == 1 else word + 's'}"


def figure(value: Any) -> str:
    """A number in a table cell: integers exact with thousands separators, others to three significant digits
    (whole units kept: 1,234.6), so 27.1405 reads 27.1 and 0.08334 reads 0.0833."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{float(f'{value:.3g}'):,}".removesuffix(".0")


def _tenths(value: float, word: str) -> str:
    """'9.3 days', '1 day', '100.6 hours': one decimal at most."""
    text = f"{value:,.1f}".removesuffix(".0")
    return f"{text} {word if text == '1' else word + 's'}"


def hours(value: float) -> str:
    """A duration given in hours: '29.5 hours'; from two days on also in days, '100.6 hours (4.2 days)'."""
    text = _tenths(value, "hour")
    return f"{text} ({_tenths(value / 24, 'day')})" if value >= 48 else text


def measure(value: Any, unit: str | None = None) -> str:
    """A metric's value for people, rounded by its unit: shares as percentages, durations in hours or days,
    counts and people with thousands separators, euros as EUR."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a" if value is None else str(value)
    if unit in ("share", "rate"):
        return pct(value)
    if unit == "hours":
        return hours(value)
    if unit == "days":
        return _tenths(value, "day")
    if unit == "ratio":
        return f"{value:.2f}"
    if unit in ("eur", "EUR"):
        return eur(value)
    text = figure(round(value) if abs(value) >= 1000 else value)
    return text if unit in (None, "", "count") else f"{text} {unit}"


COMPARATOR_WORDS = {">=": "at least", "<=": "at most", ">": "above", "<": "below", "==": "exactly", "!=": "not"}


def limit(comparator: str | None, threshold: Any, unit: str | None = None) -> str:
    """A limit in words: 'at least 99.9%', 'at most 72 hours', 'none allowed' (== 0)."""
    if comparator in ("==", "<=") and threshold == 0:
        return "none allowed"
    words = COMPARATOR_WORDS.get(comparator or "", comparator or "")
    return f"{words} {measure(threshold, unit)}".strip()


def eur(value: Any) -> str:
    return "n/a" if value is None else f"EUR {value:,.0f}"
