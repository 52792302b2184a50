"""Evidence lists as JSON lines: the archived `evidence/<obligation>.jsonl`, worst first as the rule built it."""

from __future__ import annotations

import json

from ..engine.outcome import encodable, jsonable

_ENCODER = json.JSONEncoder(ensure_ascii=False, default=encodable)


def evidence_jsonl(rows: list[dict]) -> bytes:
    """An evidence list as JSON lines, equal to `jsonable(item)` line by line. The large lists (hundreds of
    thousands of SoRs or items) hold no floats, so the C encoder writes them straight, converting timestamps
    as it meets them; a list with a float (rounded to 4 decimals) is walked by `jsonable` first."""
    if any(type(v) is float for row in rows for v in row.values()):
        rows = [jsonable(row) for row in rows]
    return ("\n".join(map(_ENCODER.encode, rows)) + "\n").encode()
