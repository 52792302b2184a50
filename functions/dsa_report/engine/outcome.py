"""What a rule returns: an `Outcome` (status, message, metric, evidence), and the helpers that build one.

Evidence values are made JSON-ready here (ISO dates, finite numbers rounded to 4 decimals), once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..vocabulary import FAIL, INSUFFICIENT_DATA, NOT_APPLICABLE, PASS, WARN

SAMPLE_SIZE = 20


@dataclass
class Outcome:
    status: str  # PASS WARN FAIL NOT_APPLICABLE INSUFFICIENT_DATA ERROR (WAIVED is applied later)
    message: str  # one sentence a compliance officer understands, with the numbers
    metric: dict | None = None  # {name, value, unit, comparator, threshold}
    evidence: dict = field(default_factory=lambda: {"count": 0, "sample": []})
    # The full evidence list as the rule built it, worst first (sample = its first 20 as JSON values). Kept
    # raw: the archive encodes it with the C JSON encoder (outputs.evidence), since walking hundreds of
    # thousands of items in Python here cost seconds a run.
    items: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # ["dataset notices", "column traders.x", "register y"]




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


def encodable(value: Any) -> Any:
    """`default` of a JSON encoder: converts what `jsonable` converts, refuses the rest."""
    convert = _CONVERT.get(type(value))
    if convert is None:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return convert(value)


def jsonable(value: Any) -> Any:
    """Evidence values as JSON: ISO dates, finite numbers rounded to 4 decimals, lists and dicts walked."""
    convert = _CONVERT.get(type(value))
    return convert(value) if convert else value


def metric(name: str, value: float | int | None, unit: str, comparator: str, threshold: float | None) -> dict:
    return {"name": name, "value": value, "unit": unit, "comparator": comparator, "threshold": threshold}


def finish(
    status: str,
    message: str,
    *,
    metric: dict | None = None,
    items: Iterable[dict] = (),
    count: int | None = None,
    pending: Iterable[dict] | None = None,
    **evidence: Any,
) -> Outcome:
    """An Outcome whose evidence is `count` (default: number of items) + the first 20 items + extras.

    `items` are the offending items only, worst first (the order the archive keeps); `pending` are the items
    in scope that do not offend (pending, not yet due), given as `evidence.pending` {count, sample}."""
    rows = list(items)
    ev = {"count": len(rows) if count is None else count, "sample": [jsonable(i) for i in rows[:SAMPLE_SIZE]]}
    if pending is not None:
        waiting = list(pending)
        ev["pending"] = {"count": len(waiting), "sample": [jsonable(i) for i in waiting[:SAMPLE_SIZE]]}
    ev.update(jsonable(evidence))
    return Outcome(status, message, metric=metric, evidence=ev, items=rows)


def not_applicable(message: str) -> Outcome:
    return Outcome(NOT_APPLICABLE, message)


def insufficient(message: str, missing: list[str]) -> Outcome:
    return Outcome(INSUFFICIENT_DATA, message, missing=list(missing))


def above(value: float, warn: float | None, fail: float) -> tuple[str, float]:
    """Status of a value that must stay at or below its thresholds, and the threshold that decided."""
    if value > fail:
        return FAIL, fail
    if warn is not None and value > warn:
        return WARN, warn
    return PASS, fail if warn is None else warn
