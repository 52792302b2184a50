"""The planted traders: repeat infringers (DSA-23.1) and incomplete trader records (DSA-30).

Trader indices 0..13 are reserved for these roles, so no background row can change their story. Each repeat
infringer has illegal items dated t*-250 (outside the 90-day window), t*-60, t*-25 and t*: the third item in
the window is reached exactly on t*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from . import vocab
from .world import PLANTED_TRADERS, World

GRACE_DAYS = 14
ITEM_OFFSETS = (-250, -60, -25, 0)
REPEAT_INFRINGERS = (  # role, where t* falls in the span allowed for the role (0 = period start)
    ("compliant", 0.2), ("compliant", 0.5), ("compliant", 0.8),
    ("late", 0.0), ("late", 0.15), ("late", 0.3),
    ("unsuspended", 0.1), ("unsuspended", 0.45), ("unsuspended", 0.9),
    ("pending", 0.0),
)
KYBC_MISSING = (("kyc_id_document",), ("kyc_payment_account",), ("kyc_id_document", "kyc_payment_account"),
                ("kyc_trade_register",))
if len(REPEAT_INFRINGERS) + len(KYBC_MISSING) != PLANTED_TRADERS:
    raise ImportError("roles and world.PLANTED_TRADERS disagree")


@dataclass(frozen=True)
class Action:
    trader_id: str
    action: str
    reason: str
    occurred_at: datetime
    ends_at: datetime | None = None
    points: int | None = None


@dataclass
class Cast:
    compliant: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    unsuspended: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    no_prior_warning: list[str] = field(default_factory=list)
    t_star: dict[str, date] = field(default_factory=dict)
    kybc_missing: dict[str, list[str]] = field(default_factory=dict)
    items: list[tuple[str, datetime, str]] = field(default_factory=list)  # trader, application time, category
    actions: list[Action] = field(default_factory=list)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour))


def _t_star(world: World, last_allowed: date, fraction: float) -> date:
    span = (last_allowed - world.period_start).days
    return world.period_start + timedelta(days=int(span * fraction))


def cast(world: World) -> Cast:
    c = Cast()
    pe, end = world.period_end, world.end
    in_scope_last = pe - timedelta(days=GRACE_DAYS)
    for idx, (role, fraction) in enumerate(REPEAT_INFRINGERS):
        trader = world.trader_id(idx)
        k = len(getattr(c, role))  # rank within the role
        getattr(c, role).append(trader)
        if role == "pending":
            t = pe - timedelta(days=5)
        elif role == "late":
            t = _t_star(world, pe - timedelta(days=GRACE_DAYS + 1), fraction)
        else:
            t = _t_star(world, in_scope_last, fraction)
        c.t_star[trader] = t
        offsets = ITEM_OFFSETS if role != "pending" else (-40, -12, 0)
        extra = (3, 9) if role == "unsuspended" else ()
        for n, offset in enumerate((*offsets, *extra)):
            day = t + timedelta(days=offset)
            if day <= pe:
                category = vocab.UNSAFE if (idx + n) % 2 else vocab.IP
                c.items.append((trader, _at(day, 9 + idx), category))
        if role == "late" and k == 0:
            c.no_prior_warning.append(trader)  # suspended without the warning Art. 23(1) asks for first
        elif role != "pending":
            c.actions.append(Action(trader, "WARNING", "ILLEGAL_CONTENT", _at(t - timedelta(days=20), 11)))
        if role == "compliant" and k == 0:
            c.actions.append(Action(trader, "TERMINATION", "ILLEGAL_CONTENT", _at(t + timedelta(days=3), 15)))
        elif role in ("compliant", "late"):
            delay = (7, 10)[k - 1] if role == "compliant" else max(15, min(21 + 8 * k, (pe - t).days))
            start = _at(t + timedelta(days=delay), 15)
            ends = start + timedelta(days=30 if role == "compliant" else 60)
            c.actions.append(Action(trader, "SUSPENSION", "ILLEGAL_CONTENT", start, ends))
            if ends < end:
                c.actions.append(Action(trader, "REINSTATEMENT", "ILLEGAL_CONTENT", ends))
        elif role == "unsuspended":
            c.actions.append(Action(trader, "PENALTY_POINTS", "ILLEGAL_CONTENT", _at(t + timedelta(days=2), 16),
                                    points=3))
    for n, missing in enumerate(KYBC_MISSING):
        c.kybc_missing[world.trader_id(len(REPEAT_INFRINGERS) + n)] = list(missing)
    return c
