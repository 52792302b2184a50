"""The query seam: the only way rules and metrics reach data.

A `Query` answers SQL with bound parameters over the period's tables, knows the period's bounds, and
memoises a computation shared by several rules or metrics. DuckDB backs it today; another engine can back
it by implementing the same three things, and no rule would change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from .periods import Period


class Connection(Protocol):
    """What a query handle needs of an engine connection (DuckDB's DuckDBPyConnection has it)."""

    def execute(self, sql: str, parameters: Any = ...) -> Any: ...


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """Timestamps of the period: `ts >= start AND ts < end_exclusive` (the first instant after it)."""
    start = datetime.combine(period.start, time.min)
    return start, datetime.combine(period.end + timedelta(days=1), time.min)


class Query:
    """SQL over one period's tables: `query(sql, params)`, `bounds`, `memo(key, compute)`."""

    def __init__(self, connection: Connection, period: Period):
        self._connection = connection
        self.period = period
        self.bounds = period_bounds(period)
        self._memo: dict[tuple, Any] = {}

    def query(self, sql: str, params: list | dict | None = None) -> list[tuple]:
        """Rows of `sql`; every value reaches the engine as a bound parameter, never formatted in."""
        return self._connection.execute(sql, params or []).fetchall()

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """Compute once per run: lets rules and metrics share one expensive query."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]
