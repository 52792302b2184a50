"""The DSA catalogue evaluated on one period: the shipped catalogue, its parameters, the metric book, the
rules. The engine decides the order (tier, then missing inputs, then the rule); this module supplies the
DSA knowledge it runs on."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from ..engine import catalogue as engine_catalogue
from ..engine.catalogue import Catalogue, Obligation
from ..engine.context import Context, query_handle
from ..engine.evaluate import Exemption, effective_parameters, evaluate_all
from ..engine.outcome import Outcome
from ..engine.periods import Period
from ..engine.registry import RULES
from ..ingest.loaded import LoadedData
from . import rules  # noqa: F401  (registers every rule)
from .metrics import MetricBook, Settings

FOLDER = Path(__file__).parent / "catalogue"
SCHEMA = FOLDER / "schema.json"
NOTICE_TIMELINESS = "DSA-16-NOTICE-TIMELINESS"
REPEAT_INFRINGERS = "DSA-23.1-REPEAT-INFRINGER-SUSPENSION"


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """The catalogue in `path` (a YAML file or a folder of them; default: the shipped catalogue)."""
    return engine_catalogue.load_catalogue(FOLDER if path is None else path, schema=SCHEMA, rules=RULES)


@cache
def default_catalogue() -> Catalogue:
    return load_catalogue()


def default_parameters(obligation_id: str) -> dict[str, Any]:
    """The shipped default parameters of an obligation ({} for an unknown id)."""
    try:
        return dict(default_catalogue().get(obligation_id).parameters)
    except KeyError:
        return {}


def metric_settings(params: dict[str, dict] | None = None) -> Settings:
    """The metrics' settings from the obligations' effective parameters (default: the shipped ones)."""
    params = params or {}

    def of(obligation_id: str) -> dict:
        return {**default_parameters(obligation_id), **params.get(obligation_id, {})}

    return Settings(backlog_days=of(NOTICE_TIMELINESS)["backlog_days"], repeat_infringers=of(REPEAT_INFRINGERS))


def metric_book(data: LoadedData, period: Period, params: dict[str, dict] | None = None) -> MetricBook:
    return MetricBook(data, query_handle(data, period), metric_settings(params))


def compute_metrics(data: LoadedData, period: Period, params: dict[str, dict] | None = None) -> dict[str, dict]:
    """Every metric of the contract -> {"value", "unit"[, "reason"]}."""
    return metric_book(data, period, params).all()


def compute_metric(data: LoadedData, period: Period, name: str, params: dict[str, dict] | None = None) -> dict:
    """One metric, computing only the scan it needs."""
    return metric_book(data, period, params).get(name)


def context(data: LoadedData, period: Period, *, tier: str, marketplace: bool,
            params: dict[str, dict] | None = None, binding_commitments: bool = False) -> Context:
    book = metric_book(data, period, params)
    return Context(data=data, period=period, tier=tier, marketplace=marketplace, q=book.q, metrics=book,
                   binding_commitments=binding_commitments)


def evaluate(
    catalogue: Catalogue,
    data: LoadedData,
    period: Period,
    *,
    tier: str,
    marketplace: bool,
    overrides: dict[str, dict] | None = None,
    binding_commitments: bool = False,
    exempt: Exemption | None = None,
) -> tuple[list[tuple[Obligation, Outcome, dict]], dict[str, dict]]:
    """[(obligation, outcome, effective parameters)] in catalogue order, and every metric of the period."""
    params = effective_parameters(catalogue, overrides)
    ctx = context(data, period, tier=tier, marketplace=marketplace, params=params,
                  binding_commitments=binding_commitments)
    return evaluate_all(catalogue, ctx, params, exempt), ctx.metrics.all()
