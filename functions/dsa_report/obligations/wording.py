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
    """A metric value in a table: integers exact, other numbers to six significant digits."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}" if abs(value) >= 1e5 else f"{value:.6g}"


def eur(value: Any) -> str:
    return "n/a" if value is None else f"EUR {value:,.0f}"
