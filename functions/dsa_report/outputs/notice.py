"""The short e-mail of an object that landed with rows quarantined or content unreadable, sent by the arrival
function the day it lands (DSA_ARRIVAL_AUDIENCE): where, how many and why, never a row's values."""

from __future__ import annotations

from typing import Any

from .report import Email, environment, inline_css

MAX_LISTED = 5  # examples and unreadable files listed; the counts cover the rest


def needs_notice(record: dict | None) -> bool:
    """The object's record says rows were quarantined or content was unreadable (a register has no record)."""
    quality = (record or {}).get("quality") or {}
    return bool(quality.get("quarantined_rows") or quality.get("unreadable_files"))


def arrival_notice(platform: str, record: dict) -> Email:
    """Subject, text and HTML of the notice for one object's record (ingest/curated.py)."""
    quality = record["quality"]
    unreadable = quality.get("unreadable_files") or []
    context: dict[str, Any] = {
        "platform": platform, "source": record["source"], "dataset_words": record["dataset"].replace("_", " "),
        "landed": record["ingested_at"].replace("T", " ").replace("Z", " UTC"), "kept": quality.get("rows", 0),
        "quarantined": quality.get("quarantined_rows", 0), "reasons": quality.get("reasons") or {},
        "examples": [{"where": _where(e, record["source"]), "reason": e["reason"]}
                     for e in (quality.get("examples") or [])[:MAX_LISTED]],
        "unreadable": [{"file": u["file"], "reason": u["reason"]} for u in unreadable[:MAX_LISTED]],
        "unreadable_count": len(unreadable), "months": sorted(record.get("parts") or {}),
    }
    what = [f"{context['quarantined']:,} row{'s' if context['quarantined'] != 1 else ''} quarantined"] \
        if context["quarantined"] else []
    what += [f"{len(unreadable)} file{'s' if len(unreadable) != 1 else ''} unreadable"] if unreadable else []
    subject = f"[DSA] {platform}: {context['dataset_words']} file landed with {', '.join(what)}"
    env = environment()
    text = env.get_template("arrival.txt.j2").render(context)
    html = inline_css(env.get_template("arrival.html.j2").render(context))
    return Email(subject, text, html, ())


def _where(example: dict, source: str) -> str:
    """`row n` (or `line n`), after the file when it is another (a zip's member): an example names its place
    and reason; its value stays out of e-mail."""
    place = f"row {example['row']}" if "row" in example else f"line {example['line']}" if "line" in example else ""
    return place if example["file"] == source and place else ", ".join(filter(None, (example["file"], place)))
