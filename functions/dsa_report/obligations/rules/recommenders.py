"""Recommender systems (search ranking included, Art. 3(s)): main parameters and options in the terms and
conditions with a selector (Art. 27), and for VLOPs an option not based on profiling (Art. 38), from the
recommender_systems register. A flag the register does not state is unknown, never compliant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, insufficient, metric
from ...engine.registry import rule
from ..wording import as_date, num, plural


def _systems(ctx: Context) -> list[dict]:
    return [s for s in ctx.data.registers.get("recommender_systems", []) if isinstance(s, dict)]


def _none_listed() -> Outcome:
    """An empty register is not "no recommender system": every platform that ranks search results has one."""
    return insufficient("The recommender_systems register lists no system, yet search ranking is a recommender "
                        "system too (Art. 3(s)): list every system to have it checked.",
                        ["register recommender_systems (lists no system)"])


def _unless(system: dict, key: str, problem: str) -> list[str]:
    """[problem] unless the register says `key: true`; an absent or null value is named as not stated."""
    value = system.get(key)
    if value is True:
        return []
    return [f"{problem} ({key} not stated)" if value is None else problem]


def _options(system: dict) -> int | None:
    n = system.get("options")
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None


def parameter_problems(system: dict) -> list[str]:
    """Art. 27(1)-(3): main parameters set out; options set out when there are any; a selector when there
    are several. An unknown number of options owes both."""
    n = _options(system)
    problems = _unless(system, "parameters_in_terms", "main parameters not set out in the terms and conditions")
    if n is None or n > 0:
        problems += _unless(system, "options_in_terms", "options to modify or influence the main parameters not "
                                                        "set out in the terms and conditions")
    if n is None or n > 1:
        problems += _unless(system, "selector_available", "no easily accessible selector between the options"
                                                          + (", whose number is not stated" if n is None else ""))
    return problems


def profiling_problems(system: dict, start: date, end: date) -> list[str]:
    """Art. 38: an option not based on profiling, reachable from the interface, throughout the period."""
    problems = _unless(system, "non_profiling_option", "no option not based on profiling")
    if problems:
        return problems
    try:
        since = as_date(system.get("non_profiling_option_since"))
    except ValueError:
        return [f"non_profiling_option_since {system.get('non_profiling_option_since')!r} is not a date"]
    if since is not None and since > start:
        where = "after period end" if since > end else "after period start"
        problems.append(f"option not based on profiling offered only since {since}, {where}")
    return problems + _unless(system, "setting_reachable_from_interface",
                              "the non-profiling option is not reachable from the online interface")


def _judge(ctx: Context, problems_of: Callable[[dict], list[str]], keys: tuple[str, ...]) -> tuple[list, int]:
    systems = _systems(ctx)
    items: list[dict[str, Any]] = []
    for s in systems:
        problems = problems_of(s)
        if problems:
            items.append({"id": s.get("id"), "problems": problems, **{k: s.get(k) for k in keys}})
    items.sort(key=lambda i: (-len(i["problems"]), i["id"] is None, str(i["id"])))
    return items, len(systems)


@rule("recommender_parameters")
def recommender_parameters(ctx: Context, p: dict) -> Outcome:
    if not _systems(ctx):
        return _none_listed()
    items, n = _judge(ctx, parameter_problems,
                      ("parameters_in_terms", "options_in_terms", "options", "selector_available"))
    return finish(
        "FAIL" if items else "PASS",
        f"Recommender systems whose main parameters and options are not set out in the terms and conditions, "
        f"or that lack an easily accessible selector between several options (Art. 27): {num(len(items))} of "
        f"{plural(n, 'system')}" + (f": {', '.join(str(i['id']) for i in items)}." if items else "."),
        metric=metric("recommender_systems_without_parameters", len(items), "count", "==", 0),
        items=items,
    )


@rule("non_profiling_option")
def non_profiling_option(ctx: Context, p: dict) -> Outcome:
    if not _systems(ctx):
        return _none_listed()
    period = ctx.period
    items, n = _judge(ctx, lambda s: profiling_problems(s, period.start, period.end),
                      ("non_profiling_option", "non_profiling_option_since", "setting_reachable_from_interface"))
    return finish(
        "FAIL" if items else "PASS",
        f"Recommender systems without an option not based on profiling reachable from the online interface "
        f"throughout the period (Art. 38): {num(len(items))} of {plural(n, 'system')}"
        + (f": {', '.join(str(i['id']) for i in items)}." if items else "."),
        metric=metric("recommender_systems_without_non_profiling_option", len(items), "count", "==", 0),
        items=items,
    )
