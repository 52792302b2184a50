"""The platform's YAML config (contracts/interfaces.md), validated before any data is read."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ..vocabulary import AUDIENCES, TIERS

_KEYS = {
    "platform", "platform_names", "tier", "marketplace", "source", "turnover_eur", "parameters",
    "waivers", "sender", "audiences", "binding_commitments", "sme_status", "sme_lost_on", "unreadable_tolerance",
    "report_link_days", "transparency_qualitative",
}
MAX_LINK_DAYS = 7  # an S3 presigned URL (SigV4) is valid at most seven days
SME_STATUSES = ("none", "micro", "small")
_WAIVER_KEYS = {"obligation", "justification", "approved_by", "expires"}
_AUDIENCE_KEYS = {"name", "recipients"}
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


class ConfigError(ValueError):
    """A config problem, worded as one line naming the key."""

    def __init__(self, key: str, reason: str, origin: str = "config"):
        super().__init__(f"{origin}: {key}: {reason}")
        self.key = key


@dataclass(frozen=True)
class Waiver:
    obligation: str  # id or glob
    justification: str
    approved_by: str
    expires: date

    def matches(self, obligation_id: str) -> bool:
        return fnmatchcase(obligation_id, self.obligation)

    def to_json(self) -> dict[str, str]:
        return {"obligation": self.obligation, "justification": self.justification,
                "approved_by": self.approved_by, "expires": self.expires.isoformat()}


@dataclass(frozen=True)
class Audience:
    name: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    platform: str
    tier: str
    marketplace: bool = False
    platform_names: tuple[str, ...] = ()
    source: str | None = None
    turnover_eur: float | None = None
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    sender: str | None = None
    audiences: tuple[Audience, ...] = ()
    binding_commitments: bool = False  # under Art. 71 commitments made binding by the Commission
    sme_status: str = "none"  # none | micro | small (Arts 19, 29)
    sme_lost_on: date | None = None  # the micro/small status was lost on this date (exempt 12 more months)
    # share of a dataset's bytes that may be unreadable before the obligations needing it are INSUFFICIENT_DATA
    unreadable_tolerance: float = 0.0
    report_link_days: int = MAX_LINK_DAYS  # how long the e-mails' link to the archived report works
    # the answers the data cannot give to the EU transparency-report template (obligations.transparency):
    # a local path or s3:// URI, a relative one taken from the config file's own folder
    transparency_qualitative: str | None = None

    @property
    def names_in_data(self) -> tuple[str, ...]:
        """The TDB platform_name values that are this platform's."""
        return self.platform_names or (self.platform,)


def _text(value: Any, key: str, origin: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key, "must be a non-empty text", origin)
    return value.strip()


def _email(value: Any, key: str, origin: str) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        raise ConfigError(key, f"{value!r} is not an e-mail address", origin)
    return value.strip()


def _date(value: Any, key: str, origin: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(key, f"{value!r} is not a YYYY-MM-DD date", origin) from None


def _mapping(value: Any, key: str, origin: str, allowed: Iterable[str] | None = None) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(key, "must be a mapping", origin)
    if allowed is not None:
        unknown = sorted(set(map(str, value)) - set(allowed))
        if unknown:
            raise ConfigError(f"{key}.{unknown[0]}" if key else unknown[0], "unknown key", origin)
    return value


def _list(value: Any, key: str, origin: str) -> list:
    if not isinstance(value, list):
        raise ConfigError(key, "must be a list", origin)
    return value


def parse_config(
    raw: Any,
    *,
    origin: str = "config",
    obligation_parameters: dict[str, dict[str, Any]] | None = None,
) -> Config:
    """Validate a parsed YAML document. `obligation_parameters` (id -> defaults) checks overrides and waivers."""
    doc = _mapping(raw, "", origin, _KEYS)
    for required in ("platform", "tier"):
        if required not in doc:
            raise ConfigError(required, "is required", origin)
    tier = doc["tier"]
    if tier not in TIERS:
        raise ConfigError("tier", f"{tier!r} is not one of {', '.join(TIERS)}", origin)
    marketplace = doc.get("marketplace", tier == "MARKETPLACE")
    if not isinstance(marketplace, bool):
        raise ConfigError("marketplace", "must be true or false", origin)
    names = tuple(_text(n, f"platform_names[{i}]", origin)
                  for i, n in enumerate(_list(doc.get("platform_names", []), "platform_names", origin)))
    source = doc.get("source")
    if source is not None:
        source = _text(source, "source", origin)
    turnover = doc.get("turnover_eur")
    if turnover is not None and (isinstance(turnover, bool) or not isinstance(turnover, int | float)
                                 or turnover < 0):
        raise ConfigError("turnover_eur", "must be a non-negative number of euros", origin)
    known = obligation_parameters
    parameters = _parse_parameters(doc.get("parameters") or {}, known, origin)
    waivers = tuple(
        _parse_waiver(w, f"waivers[{i}]", known, origin)
        for i, w in enumerate(_list(doc.get("waivers") or [], "waivers", origin))
    )
    sender = _email(doc["sender"], "sender", origin) if doc.get("sender") is not None else None
    audiences = tuple(
        _parse_audience(a, f"audiences[{i}]", origin)
        for i, a in enumerate(_list(doc.get("audiences") or [], "audiences", origin))
    )
    if len({a.name for a in audiences}) != len(audiences):
        raise ConfigError("audiences", "audience names must be unique", origin)
    if audiences and sender is None:
        raise ConfigError("sender", "is required when audiences are given", origin)
    binding = doc.get("binding_commitments", False)
    if not isinstance(binding, bool):
        raise ConfigError("binding_commitments", "must be true or false", origin)
    sme = doc.get("sme_status") or "none"
    if sme not in SME_STATUSES:
        raise ConfigError("sme_status", f"{sme!r} is not one of {', '.join(SME_STATUSES)}", origin)
    lost = _date(doc["sme_lost_on"], "sme_lost_on", origin) if doc.get("sme_lost_on") is not None else None
    tolerance = doc.get("unreadable_tolerance")
    tolerance = 0.0 if tolerance is None else tolerance
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not 0 <= tolerance < 1:
        raise ConfigError("unreadable_tolerance", f"{tolerance!r} is not a share from 0 up to (not including) 1, "
                          "e.g. 0.01 for 1%", origin)
    link_days = doc.get("report_link_days", MAX_LINK_DAYS)
    if isinstance(link_days, bool) or not isinstance(link_days, int) or not 1 <= link_days <= MAX_LINK_DAYS:
        raise ConfigError("report_link_days", f"must be a whole number of days from 1 to {MAX_LINK_DAYS} "
                                              "(an S3 presigned link lasts at most seven days)", origin)
    answers = doc.get("transparency_qualitative")
    if answers is not None:
        answers = beside(origin, _text(answers, "transparency_qualitative", origin))
    return Config(
        platform=_text(doc["platform"], "platform", origin), tier=tier, marketplace=marketplace,
        platform_names=names, source=source, turnover_eur=float(turnover) if turnover is not None else None,
        parameters=parameters, waivers=waivers, sender=sender, audiences=audiences,
        binding_commitments=binding, sme_status=sme, sme_lost_on=lost, unreadable_tolerance=float(tolerance),
        report_link_days=link_days, transparency_qualitative=answers,
    )


def beside(origin: str, path: str) -> str:
    """`path` as given when absolute or an s3:// URI, else in the folder of the config file `origin` (a local
    path or an s3:// URI; the default origin "config" names no folder)."""
    if path.startswith("s3://") or PurePosixPath(path).is_absolute() or origin == "config":
        return path
    if origin.startswith("s3://"):
        return origin.rpartition("/")[0] + "/" + path
    return str(Path(origin).parent / path)


def _parse_parameters(value: Any, known: dict[str, dict] | None, origin: str) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for obligation_id, overrides in _mapping(value, "parameters", origin).items():
        key = f"parameters.{obligation_id}"
        if known is not None and obligation_id not in known:
            raise ConfigError(key, "unknown obligation id", origin)
        overrides = _mapping(overrides, key, origin, None if known is None else known[obligation_id])
        for name, val in overrides.items():
            if isinstance(val, bool) or not isinstance(val, int | float):
                raise ConfigError(f"{key}.{name}", f"{val!r} is not a number", origin)
        result[str(obligation_id)] = dict(overrides)
    return result


def _parse_waiver(value: Any, key: str, known: dict[str, dict] | None, origin: str) -> Waiver:
    doc = _mapping(value, key, origin, _WAIVER_KEYS)
    for required in sorted(_WAIVER_KEYS):
        if doc.get(required) in (None, ""):
            raise ConfigError(f"{key}.{required}", "is required", origin)
    pattern = _text(doc["obligation"], f"{key}.obligation", origin)
    is_glob = any(ch in pattern for ch in "*?[")
    if known is not None and not is_glob and pattern not in known:
        raise ConfigError(f"{key}.obligation", f"{pattern!r} is not an obligation id", origin)
    return Waiver(
        obligation=pattern,
        justification=_text(doc["justification"], f"{key}.justification", origin),
        approved_by=_text(doc["approved_by"], f"{key}.approved_by", origin),
        expires=_date(doc["expires"], f"{key}.expires", origin),
    )


def _parse_audience(value: Any, key: str, origin: str) -> Audience:
    doc = _mapping(value, key, origin, _AUDIENCE_KEYS)
    name = _text(doc.get("name"), f"{key}.name", origin)
    if name not in AUDIENCES:  # a typo must never silently change what a board receives
        raise ConfigError(f"{key}.name", f"{name!r} is not one of {', '.join(AUDIENCES)}", origin)
    recipients = _list(doc.get("recipients"), f"{key}.recipients", origin)
    if not recipients:
        raise ConfigError(f"{key}.recipients", "needs at least one address", origin)
    if len(recipients) > 50:
        raise ConfigError(f"{key}.recipients", "SES accepts at most 50 recipients a message", origin)
    return Audience(name, tuple(_email(r, f"{key}.recipients[{i}]", origin) for i, r in enumerate(recipients)))


def load_config(
    text: str,
    *,
    origin: str = "config",
    obligation_parameters: dict[str, dict[str, Any]] | None = None,
    loader: Callable[[str], Any] = yaml.safe_load,
) -> Config:
    """Parse and validate config text (YAML); every problem is a ConfigError naming the key."""
    try:
        raw = loader(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise ConfigError(where, f"not valid YAML ({getattr(exc, 'problem', exc)})", origin) from None
    return parse_config(raw, origin=origin, obligation_parameters=obligation_parameters)
