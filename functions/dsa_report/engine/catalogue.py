"""Load a catalogue: YAML data validated against its JSON schema, then cross-checked against the data
contract (dataset and column names) and the rule names the caller knows (the registry).

A catalogue is one YAML file or a folder of them (read in name order); every file carries the same
`version`. Any problem raises CatalogueError naming the file and the key path, e.g.
`obligations.yaml: obligations[3].severity: 'HUGE' is not one of [...]`.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from ..ingest import contract
from ..vocabulary import TIERS


class CatalogueError(ValueError):
    """The catalogue breaks its schema or names something the engine does not know."""


@dataclass(frozen=True)
class Obligation:
    id: str
    article: str
    title: str
    applies_to: str  # as written: "PLATFORM+", or "VLOP" / "HOSTING, VLOP" / "VLOP (marketplace)" for a list
    tiers: tuple[str, ...]  # the platform tiers it applies to
    severity: str
    kind: str  # DUTY | INDICATOR | ADVISORY
    datasets: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    registers: tuple[str, ...]
    parameters: dict[str, Any]
    basis: dict[str, str]  # parameter -> LAW | POLICY
    rule: str
    remediation: str
    description: str
    marketplace_only: bool = False  # MARKETPLACE+ or marketplace_only: a VLOP only when it is a marketplace
    source: str = field(default="", compare=False)  # file it came from

    def applies(self, tier: str, marketplace: bool) -> bool:
        if tier not in self.tiers:
            return False
        return not (self.marketplace_only and tier == "VLOP" and not marketplace)

    @property
    def applies_label(self) -> str:
        """The tiers as the catalogue writes them ("PLATFORM+", "VLOP"), for listings."""
        return self.applies_to

    def scope_text(self) -> str:
        """Plain words for the tiers: 'MARKETPLACE and above', 'VLOP only', 'HOSTING, VLOP'."""
        if self.applies_to.endswith("+"):
            return f"{self.applies_to[:-1]} and above"
        return f"{self.applies_to} only" if len(self.tiers) == 1 else self.applies_to


@dataclass(frozen=True)
class Catalogue:
    version: str
    obligations: tuple[Obligation, ...]

    def __iter__(self) -> Iterator[Obligation]:
        return iter(self.obligations)

    def __len__(self) -> int:
        return len(self.obligations)

    def get(self, obligation_id: str) -> Obligation:
        for ob in self.obligations:
            if ob.id == obligation_id:
                return ob
        raise KeyError(obligation_id)

    @property
    def ids(self) -> list[str]:
        return [ob.id for ob in self.obligations]


def _key_path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@cache
def _validator(schema: Path) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema.read_text(encoding="utf-8")))


def _validate(name: str, document: Any, schema: Path) -> None:
    errors = sorted(_validator(schema).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        first = errors[0]
        where = _key_path(first.absolute_path)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CatalogueError(f"{name}: {where + ': ' if where else ''}{first.message}{more}")


def _tiers(applies_to: str | list[str], vlop_marketplace: bool = False) -> tuple[str, tuple[str, ...], bool]:
    """(label, tiers, marketplace_only) of an applies_to value (already schema-valid). `vlop_marketplace`
    (the entry's `marketplace_only: true`, only with an explicit list naming VLOP) narrows VLOP to VLOPs that
    are marketplaces; the label then reads "VLOP (marketplace)", as the contract writes it."""
    if isinstance(applies_to, str):
        lowest = applies_to[:-1]
        return applies_to, TIERS[TIERS.index(lowest):], lowest == "MARKETPLACE"
    tiers = tuple(t for t in TIERS if t in applies_to)
    if vlop_marketplace:
        return ", ".join(f"{t} (marketplace)" if t == "VLOP" else t for t in tiers), tiers, True
    marketplace_only = "MARKETPLACE" in tiers and not {"HOSTING", "PLATFORM"} & set(tiers)
    return ", ".join(tiers), tiers, marketplace_only


def _obligation(name: str, index: int, raw: dict, rules: Container[str]) -> Obligation:
    where = f"{name}: obligations[{index}]"
    datasets = tuple(raw["datasets"])
    columns = {ds: tuple(cols) for ds, cols in (raw.get("columns") or {}).items()}
    for ds, cols in columns.items():
        if ds not in datasets:
            raise CatalogueError(f"{where}.columns.{ds}: dataset {ds!r} is not in datasets {list(datasets)}")
        known = {c.name for c in contract.DATASETS[ds].columns}
        for i, col in enumerate(cols):
            if col not in known:
                raise CatalogueError(f"{where}.columns.{ds}[{i}]: {col!r} is not a column of {ds}")
    parameters, basis = dict(raw.get("parameters") or {}), dict(raw.get("basis") or {})
    if set(basis) != set(parameters):
        lacking = sorted(set(parameters) - set(basis)) or sorted(set(basis) - set(parameters))
        raise CatalogueError(f"{where}.basis: must name every parameter, and only those ({', '.join(lacking)})")
    if raw["rule"] not in rules:
        raise CatalogueError(f"{where}.rule: {raw['rule']!r} is not a known rule")
    vlop_marketplace = raw.get("marketplace_only", False)
    if vlop_marketplace and (isinstance(raw["applies_to"], str) or "VLOP" not in raw["applies_to"]):
        raise CatalogueError(f"{where}.marketplace_only: narrows VLOP to marketplaces, so it needs an explicit "
                             "applies_to list naming VLOP (MARKETPLACE+ already reaches a VLOP only when it is "
                             "a marketplace)")
    label, tiers, marketplace_only = _tiers(raw["applies_to"], vlop_marketplace)
    return Obligation(
        id=raw["id"], article=raw["article"], title=raw["title"], applies_to=label, tiers=tiers,
        severity=raw["severity"], kind=raw["kind"], datasets=datasets, columns=columns,
        registers=tuple(raw.get("registers") or ()), parameters=parameters, basis=basis,
        rule=raw["rule"], remediation=raw["remediation"].strip(), description=raw["description"].strip(),
        marketplace_only=marketplace_only, source=name,
    )


def load_catalogue(path: Path | str, *, schema: Path, rules: Container[str]) -> Catalogue:
    """The catalogue in `path` (a YAML file or a folder of them), valid against `schema`, whose every
    `rule` is one of `rules`."""
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
    if not files:
        raise CatalogueError(f"{path}: no catalogue file (*.yaml)")
    versions: dict[str, str] = {}
    obligations: list[Obligation] = []
    seen: dict[str, str] = {}
    for file in files:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogueError(f"{file.name}: cannot be read as YAML: {exc}") from None
        _validate(file.name, document, schema)
        versions[file.name] = document["version"]
        for index, raw in enumerate(document["obligations"]):
            ob = _obligation(file.name, index, raw, rules)
            if ob.id in seen:
                raise CatalogueError(f"{file.name}: obligations[{index}].id: duplicate id {ob.id!r} "
                                     f"(first in {seen[ob.id]})")
            seen[ob.id] = file.name
            obligations.append(ob)
    if len(set(versions.values())) > 1:
        raise CatalogueError("catalogue files disagree on version: "
                             + ", ".join(f"{f}: {v}" for f, v in versions.items()))
    return Catalogue(version=next(iter(versions.values())), obligations=tuple(obligations))
