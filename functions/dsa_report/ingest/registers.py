"""The compliance team's registers (YAML or JSON, one top-level key each): risk assessments, launches..."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .contract import REGISTERS
from .errors import fatal

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A register is kept by hand: 1 MiB is thousands of entries, and the YAML parser (pure Python) reads it in
# seconds and tens of MB; a larger file is refused unread.
MAX_REGISTER_BYTES = 1 << 20


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader refusing anchors and aliases (`&a`, `*a`, `<<: *a`) when the parser meets the first,
    before any object is built: a "billion laughs" document is refused in the time of reading its start."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ValueError(f"YAML anchors and aliases (&name, *name) are not accepted: "
                             f"line {event.start_mark.line + 1}")
        return super().compose_node(parent, index)


# Registers whose top-level value is one mapping, not a list (data contract: listing_interface holds
# `{fields: [...]}`): the mapping becomes the register's single entry, so every register reads as a list.
MAPPING_REGISTERS = frozenset({"listing_interface"})


def _dates(value: Any) -> Any:
    """JSON has no date type: ISO date strings become dates, as YAML already gives them."""
    if isinstance(value, dict):
        return {k: _dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def parse_register(name: str, path: Path) -> list[dict]:
    """The entries of one register file (a mapping register: its mapping as the one entry, none when
    empty); ValueError names the problem."""
    size = path.stat().st_size
    if size > MAX_REGISTER_BYTES:
        raise ValueError(f"register file too large: {size} bytes (limit {MAX_REGISTER_BYTES})")
    text = path.read_text(encoding="utf-8-sig")
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_NoAliasLoader)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: "
                         f"{str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    key = REGISTERS[name]
    if not isinstance(doc, dict) or key not in doc:
        raise ValueError(f"top-level key '{key}' is missing")
    if name in MAPPING_REGISTERS:
        if doc[key] is not None and not isinstance(doc[key], dict):
            raise ValueError(f"'{key}' must be a mapping")
        return _dates([doc[key]] if doc[key] else [])
    entries = doc[key] or []
    if not isinstance(entries, list):
        raise ValueError(f"'{key}' must be a list")
    try:
        return _dates(entries)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def load_registers(files: dict[str, Path], errors: list) -> tuple[dict[str, list[dict]], dict[str, Any]]:
    """(register name -> entries, data-quality entry). A broken file is named; the register is then absent.
    A disk failing or access denied while reading it is no fault of the file: raised."""
    registers: dict[str, list[dict]] = {}
    quality: dict[str, Any] = {"files": 0, "rows": 0, "quarantined_rows": 0, "reasons": {}, "examples": [],
                               "unreadable_files": [{"file": e.origin, "reason": e.reason} for e in errors]}
    for name, path in sorted(files.items()):
        try:
            entries = parse_register(name, path)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            if fatal(exc):
                raise
            quality["unreadable_files"].append({"file": f"registers/{path.name}", "reason": str(exc)})
            continue
        good = [e for e in entries if isinstance(e, dict)]
        bad = len(entries) - len(good)
        if bad:
            quality["quarantined_rows"] += bad
            quality["reasons"]["entry is not a mapping"] = quality["reasons"].get("entry is not a mapping", 0) + bad
        registers[name] = good
        quality["files"] += 1
        quality["rows"] += len(good)
    quality["found"] = sorted(registers)
    return registers, quality
