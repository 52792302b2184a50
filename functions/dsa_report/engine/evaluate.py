"""Evaluate every obligation of the catalogue on one period: one Outcome each, in the contract's order of
decision: tier outside applies_to (or an exemption) -> NOT_APPLICABLE; a missing dataset, column or register file ->
INSUFFICIENT_DATA; else the rule decides. A rule that raises gives ERROR for its obligation only."""

from __future__ import annotations

from collections.abc import Callable

from ..ingest.errors import run_failure
from ..ingest.loaded import LoadedData
from ..vocabulary import ADVISORY, ERROR, FAIL, INSUFFICIENT_DATA, NOT_APPLICABLE, WARN
from .catalogue import Catalogue, Obligation
from .context import Context
from .outcome import Outcome
from .registry import RULES


def effective_parameters(catalogue: Catalogue, overrides: dict[str, dict] | None = None) -> dict[str, dict]:
    """Obligation id -> catalogue defaults merged with the platform's overrides."""
    overrides = overrides or {}
    return {ob.id: {**ob.parameters, **(overrides.get(ob.id) or {})} for ob in catalogue}


def missing_inputs(ob: Obligation, data: LoadedData) -> list[str]:
    """What the obligation needs and the data lacks: "dataset x", "column x.y", "register z"."""
    missing = [m for ds in ob.datasets for m in data.missing(ds, ob.columns.get(ds, ()))]
    return missing + [f"register {r}" for r in ob.registers if r not in data.registers]


Exemption = Callable[[Obligation], str | None]  # an exemption's message for an obligation, or None


def evaluate_one(ob: Obligation, ctx: Context, parameters: dict, exempt: Exemption | None = None) -> Outcome:
    if not ob.applies(ctx.tier, ctx.marketplace):
        kind = f"{ctx.tier}, not a marketplace" if ob.marketplace_only and ctx.tier == "VLOP" else ctx.tier
        return Outcome(NOT_APPLICABLE,
                       f"This obligation applies to {ob.scope_text()}; platform tier is {kind}.")
    exemption = exempt(ob) if exempt else None
    if exemption:
        return Outcome(NOT_APPLICABLE, exemption)
    missing = missing_inputs(ob, ctx.data)
    if missing:
        return Outcome(INSUFFICIENT_DATA,
                       f"Cannot be evaluated: {', '.join(missing)} missing, empty or unreadable.",
                       missing=missing)
    evaluator = RULES.get(ob.rule)
    if evaluator is None:
        return Outcome(ERROR, f"The catalogue names rule {ob.rule!r}, which no evaluator registered.")
    try:
        outcome = evaluator(ctx, parameters)
    except Exception as exc:  # one broken check must not stop the others, and is never a PASS
        if run_failure(exc):  # out of memory or disk is the run's failure, not this obligation's
            raise
        return Outcome(ERROR, f"{type(exc).__name__}: {exc}")
    if ob.kind == ADVISORY and outcome.status == FAIL:  # the contract: advisory is never worse than WARN
        outcome.status = WARN
    return outcome


def evaluate_all(catalogue: Catalogue, ctx: Context, params: dict[str, dict],
                 exempt: Exemption | None = None) -> list[tuple[Obligation, Outcome, dict]]:
    """[(obligation, outcome, effective parameters)] in catalogue order."""
    return [(ob, evaluate_one(ob, ctx, params[ob.id], exempt), params[ob.id]) for ob in catalogue]
