"""What every rule shares: the `Outcome` it returns, the `Context` it reads, the registry of rule names.

A rule is `fn(ctx, p) -> Outcome` registered under the name the catalogue's `rule` field uses; `p` holds
the obligation's effective parameters (catalogue defaults merged with the platform's overrides).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..loaded import LoadedData
from ..periods import Period

if TYPE_CHECKING:  # the metrics layer imports the rules, not the other way round
    from ..metrics import MetricBook

SAMPLE_SIZE = 20


@dataclass
class Outcome:
    status: str  # PASS WARN FAIL NOT_APPLICABLE INSUFFICIENT_DATA ERROR (WAIVED is applied later)
    message: str  # one sentence a compliance officer understands, with the numbers
    metric: dict | None = None  # {name, value, unit, comparator, threshold}
    evidence: dict = field(default_factory=lambda: {"count": 0, "sample": []})
    rows: list[dict] = field(default_factory=list)  # the full evidence list as the rule built it (archived)
    missing: list[str] = field(default_factory=list)  # ["dataset notices", "column traders.x", "register y"]

    @property
    def items(self) -> list[dict]:
        """The full evidence list as JSON values (sample = items[:20]). The archive writes `rows` with a JSON
        encoder instead: walking hundreds of thousands of rows in Python here cost seconds a run."""
        return [jsonable(row) for row in self.rows]


@dataclass
class Context:
    data: LoadedData
    period: Period
    tier: str
    marketplace: bool
    metrics: MetricBook  # the period's metrics, and the queries shared between rules and metrics

    def query(self, sql: str, params: list | dict | None = None) -> list[tuple]:
        return self.metrics.query(sql, params)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """Timestamps of the period: `ts >= start AND ts < end_exclusive`."""
        return period_bounds(self.period)


Rule = Callable[[Context, dict], Outcome]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    """Register an evaluator under the name the catalogue's `rule` field refers to."""

    def register(fn: Rule) -> Rule:
        if name in RULES:
            raise ValueError(f"rule {name!r} registered twice")
        RULES[name] = fn
        return fn

    return register


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    start = datetime.combine(period.start, time.min)
    return start, datetime.combine(period.end + timedelta(days=1), time.min)


def as_date(value: Any) -> date | None:
    """Register dates arrive as `date` from YAML; JSON registers give ISO strings."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _number(value: float | Decimal) -> float | None:
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None


def _iso(value: date) -> str:
    return value.isoformat()


def _sequence(values: Any) -> list:
    return [(c(v) if (c := _CONVERT.get(type(v))) else v) for v in values]


def _mapping(values: dict) -> dict:
    # Dispatch on the exact type: evidence lists can hold hundreds of thousands of values.
    return {k: (c(v) if (c := _CONVERT.get(type(v))) else v) for k, v in values.items()}


_CONVERT: dict[type, Callable[[Any], Any]] = {
    datetime: _iso, date: _iso, float: _number, Decimal: _number,
    dict: _mapping, list: _sequence, tuple: _sequence, set: _sequence, frozenset: _sequence,
}


def jsonable(value: Any) -> Any:
    """Evidence values as JSON: ISO dates, finite numbers rounded to 4 decimals, lists and dicts walked."""
    convert = _CONVERT.get(type(value))
    return convert(value) if convert else value


def _encodable(value: Any) -> Any:
    convert = _CONVERT.get(type(value))
    if convert is None:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return convert(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_encodable)


def evidence_jsonl(rows: list[dict]) -> bytes:
    """An evidence list as JSON lines, equal to `Outcome.items` line by line. The large lists (hundreds of
    thousands of SoRs or items) hold no floats, so the C encoder writes them straight, converting timestamps
    as it meets them; a list with a float (rounded to 4 decimals) is walked by `jsonable` first."""
    if any(type(v) is float for row in rows for v in row.values()):
        rows = [jsonable(row) for row in rows]
    return ("\n".join(map(_ENCODER.encode, rows)) + "\n").encode()


def metric(name: str, value: float | int | None, unit: str, comparator: str, threshold: float | None) -> dict:
    return {"name": name, "value": value, "unit": unit, "comparator": comparator, "threshold": threshold}


def finish(
    status: str,
    message: str,
    *,
    metric: dict | None = None,
    items: Iterable[dict] = (),
    count: int | None = None,
    **evidence: Any,
) -> Outcome:
    """An Outcome whose evidence is `count` (default: number of items) + the first 20 items + extras."""
    rows = list(items)
    ev = {"count": len(rows) if count is None else count, "sample": [jsonable(i) for i in rows[:SAMPLE_SIZE]]}
    ev.update(jsonable(evidence))
    return Outcome(status, message, metric=metric, evidence=ev, rows=rows)


def not_applicable(message: str) -> Outcome:
    return Outcome("NOT_APPLICABLE", message)


def insufficient(message: str, missing: list[str]) -> Outcome:
    return Outcome("INSUFFICIENT_DATA", message, missing=list(missing))


def above(value: float, warn: float | None, fail: float) -> tuple[str, float]:
    """Status of a value that must stay at or below its thresholds, and the threshold that decided."""
    if value > fail:
        return "FAIL", fail
    if warn is not None and value > warn:
        return "WARN", warn
    return "PASS", fail if warn is None else warn


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
