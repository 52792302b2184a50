"""What the catalogue does not check for a platform (obligations.md, "Coverage"): the articles binding its
tier that no obligation checks (coverage.yaml), and those whose obligations could not decide in this run
for want of data. Listed in the report as "Not checked", so a count of PASS never reads as "compliant"."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from ..vocabulary import ERROR, INSUFFICIENT_DATA, MARKETPLACE, TIERS, VLOP

COVERAGE = Path(__file__).parent / "coverage.yaml"


@cache
def _unchecked_by_tier() -> dict[str, list[dict]]:
    return yaml.safe_load(COVERAGE.read_text(encoding="utf-8"))["not_checked"]


def binding_tiers(tier: str, marketplace: bool) -> list[str]:
    """The tiers whose articles bind the platform: its own and every lower one (a VLOP is bound by the
    marketplace articles only when it is a marketplace)."""
    tiers = list(TIERS[: TIERS.index(tier) + 1])
    if tier == VLOP and not marketplace:
        tiers.remove(MARKETPLACE)
    return tiers


def not_checked(tier: str, marketplace: bool, findings: list[dict]) -> list[dict]:
    """{article, title, why} of every article binding the platform that this run did not check."""
    static = [dict(entry) for t in binding_tiers(tier, marketplace) for entry in _unchecked_by_tier().get(t, [])]
    for entry in static:
        entry.setdefault("why", "no obligation of the catalogue checks it")
    undecided = [
        {"article": f["article"], "title": f["title"],
         "why": (f"{f['obligation_id']} could not decide: "
                 + (f"missing {', '.join(f['missing'])}" if f.get("missing") else f["message"]))}
        for f in findings if f["status"] in (INSUFFICIENT_DATA, ERROR)
    ]
    return static + undecided
