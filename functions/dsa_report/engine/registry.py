"""Rule names -> evaluators. The catalogue names a rule; the evaluator checks the name is registered here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Context
    from .outcome import Outcome

Rule = Callable[["Context", dict], "Outcome"]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    """Register an evaluator under the name the catalogue's `rule` field refers to."""

    def register(fn: Rule) -> Rule:
        if name in RULES:
            raise ValueError(f"rule {name!r} registered twice")
        RULES[name] = fn
        return fn

    return register
