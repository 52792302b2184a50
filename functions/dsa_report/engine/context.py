"""What a rule reads: the loaded data's inventory, the period, the platform's tier, the query handle and the
metrics of the period. A rule is `fn(ctx, p) -> Outcome`; `p` holds the obligation's effective parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..ingest.loaded import LoadedData
from .periods import Period
from .query import Query


@dataclass
class Context:
    data: LoadedData  # what was found (datasets, columns, registers); tables are reached through `q`
    period: Period
    tier: str
    marketplace: bool
    q: Query
    metrics: Any  # the period's metric book (obligations.metrics.MetricBook)
    binding_commitments: bool = False  # the platform is under Art. 71 commitments (config)

    def query(self, sql: str, params: list | dict | None = None) -> list[tuple]:
        return self.q.query(sql, params)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """Timestamps of the period: `ts >= start AND ts < end_exclusive`."""
        return self.q.bounds


def query_handle(data: LoadedData, period: Period) -> Query:
    """The query handle over the loaded tables for one period: the one place that holds the connection."""
    return Query(data.con, period)
