"""The micro and small enterprise exemption (Arts 19 and 29; obligations.md "Micro and small enterprises"):
Chapter III Section 3 (Arts 20-28) except Art. 24(3), and Section 4 (Arts 29-32), do not apply to a micro or
small enterprise, nor for 12 months after it lost that status. Never to a VLOP: the run goes on without it."""

from __future__ import annotations

import re
from datetime import date

from ..engine.catalogue import Obligation
from ..engine.evaluate import Exemption
from ..engine.periods import Period
from ..vocabulary import VLOP


def _months_before(day: date, months: int) -> date:
    month = day.month - 1 - months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, 28))


def sme_exemption(sme_status: str, sme_lost_on: date | None, tier: str,
                  period: Period) -> tuple[Exemption | None, str | None]:
    """(the exemption to apply, or None; a note for the report, or None)."""
    recently_lost = sme_lost_on is not None and sme_lost_on > _months_before(period.end, 12)
    size = sme_status if sme_status in ("micro", "small") else ("formerly micro or small" if recently_lost else None)
    if size is None:
        return None, None
    if tier == VLOP:
        return None, (f"The config gives sme_status {sme_status!r}, but the micro/small exemption of Arts 19 "
                      "and 29 never applies to a very large online platform: every obligation was evaluated.")
    reason = f"sme_status {sme_status!r}" if sme_status in ("micro", "small") else f"status lost on {sme_lost_on}"

    def exempt(ob: Obligation) -> str | None:
        number = int(re.match(r"\d+", ob.article).group())
        if 20 <= number <= 28 and not ob.article.startswith("24(3)"):
            article = "19"
        elif 29 <= number <= 32:
            article = "29"
        else:
            return None
        return (f"Not applicable: the platform is a micro or small enterprise ({reason}), exempt from "
                f"Art. {ob.article} under Art. {article} DSA.")

    return exempt, f"Micro/small enterprise exemption applied (Arts 19 and 29; {reason})."
