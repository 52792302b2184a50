"""docs/obligations.md, generated from the obligation catalogue: what each obligation checks, on which data,
with which parameters, and what to do when it fails.

    python -m dsa_report.tools.catalogue_docs            # (re)write docs/obligations.md
    python -m dsa_report.tools.catalogue_docs --check    # exit 1 when docs/obligations.md is out of date

The catalogue YAML holds the texts (title, description, remediation); this module adds what the schema has
no field for: the meaning of each parameter (`PARAMETER_MEANINGS`) and the names of the articles.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..engine.catalogue import Catalogue, Obligation
from ..obligations.evaluation import load_catalogue
from ..obligations.wording import article_words
from ..vocabulary import STATUS_MEANINGS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "obligations.md"
COMMAND = "python -m dsa_report.tools.catalogue_docs"

ARTICLES = {  # DSA article numbers -> their titles in Regulation (EU) 2022/2065
    "9": "Orders to act against illegal content",
    "10": "Orders to provide information",
    "16": "Notice and action mechanisms",
    "17": "Statement of reasons",
    "20": "Internal complaint-handling system",
    "21": "Out-of-court dispute settlement",
    "22": "Trusted flaggers",
    "23": "Measures and protection against misuse",
    "24": "Transparency reporting obligations for providers of online platforms",
    "27": "Recommender system transparency",
    "30": "Traceability of traders",
    "31": "Compliance by design",
    "32": "Right to information",
    "33": "Very large online platforms and very large online search engines",
    "34": "Risk assessment",
    "34/35": "Risk assessment and mitigation of illegal products on the marketplace",
    "35": "Mitigation of risks",
    "37": "Independent audit",
    "38": "Recommender systems",
    "39": "Additional online advertising transparency",
    "40": "Data access and scrutiny",
    "42": "Transparency reporting obligations (very large online platforms)",
    "71": "Commitments",
}

PARAMETER_MEANINGS: dict[tuple[str, str], str] = {
    ("DSA-31.3-PRE-LISTING", "max_share"):
        "Highest acceptable share (0 to 1) of live listings lacking the Art. 31(1)-(2) data (unknown counted "
        "as lacking). Above it: WARN.",
    ("DSA-31.3-PRE-LISTING", "min_checked_share"):
        "Lowest acceptable share (0 to 1) of live listings randomly checked against official databases in the "
        "365 days before period end. Below it: WARN.",
    ("DSA-40-DATA-ACCESS", "amendment_days"):
        "Days after receipt within which a vetted-researcher request may be asked to be amended (Art. 40(5): "
        "15 days).",
    ("DSA-40-DATA-ACCESS", "warn_median_days"):
        "Median days to give access to public data (censored: open requests count with their age at period "
        "end) above which the finding is WARN.",
    ("DSA-17-SOR-COVERAGE", "min_share"):
        "Lowest acceptable share (0 to 1) of the ACTION_TAKEN notices received in the period that have a "
        "statement of reasons carrying their notice_id. Below it: FAIL.",
    ("DSA-17-SOR-COMPLETENESS", "min_share"):
        "Lowest acceptable share (0 to 1) of the period's statements of reasons that have every conditional "
        "Art. 17(3) field they owe filled. Below it: FAIL.",
    ("DSA-24.5-SOR-SUBMISSION-DELAY", "warn_p95_days"):
        "95th percentile of the submission delay (calendar days from application_date to created_at) above "
        "which the finding is WARN.",
    ("DSA-24.5-SOR-SUBMISSION-DELAY", "fail_p95_days"):
        "95th percentile of the submission delay above which the finding is FAIL; the evidence lists the "
        "statements submitted later than this.",
    ("DSA-16-NOTICE-ACKNOWLEDGEMENT", "ack_hours"):
        "Hours after receipt within which a notice must be acknowledged (exactly at the limit is in time).",
    ("DSA-16-NOTICE-ACKNOWLEDGEMENT", "min_share"):
        "Lowest acceptable share (0 to 1) of the notices received in the period acknowledged within ack_hours. "
        "Below it: FAIL.",
    ("DSA-16-NOTICE-TIMELINESS", "warn_median_hours"):
        "Median decision time (hours from received_at to decided_at) above which the finding is WARN.",
    ("DSA-16-NOTICE-TIMELINESS", "fail_median_hours"):
        "Median decision time (hours) above which the finding is FAIL.",
    ("DSA-16-NOTICE-TIMELINESS", "backlog_days"):
        "A notice still undecided at period end and received more than this many calendar days before it is "
        "backlog, listed in the evidence.",
    ("DSA-22-TRUSTED-FLAGGER-PRIORITY", "max_ratio"):
        "Highest acceptable ratio of the trusted flaggers' median decision hours to those of Article 16 notices "
        "(censored at period end), per category, weighted by the category's trusted-flagger notices. Above it: "
        "WARN; above 1 (trusted flaggers wait longer than the others): FAIL.",
    ("DSA-22-TRUSTED-FLAGGER-PRIORITY", "min_notices"):
        "Trusted-flagger notices and Article 16 notices a category needs, at least this many of each, to be "
        "compared; when no category has enough: INSUFFICIENT_DATA.",
    ("DSA-20-COMPLAINT-TIMELINESS", "warn_median_days"):
        "Median resolution time (days, hours/24, from received_at to decided_at) above which the finding is WARN.",
    ("DSA-20-COMPLAINT-TIMELINESS", "fail_median_days"):
        "Median resolution time (days) above which the finding is FAIL; the evidence lists the complaints that "
        "took longer than this.",
    ("DSA-20-REVERSAL-RATE", "warn_rate"):
        "Share (0 to 1) of decided complaints whose decision was reversed in full or in part above which the "
        "advisory WARN is given.",
    ("DSA-23.1-REPEAT-INFRINGER-SUSPENSION", "min_items"):
        "Number of distinct illegal items (SoRs on illegal-content grounds, not reversed on complaint; an item "
        "without item_id is its statement's platform_uid) that opens an episode (internal threshold).",
    ("DSA-23.1-REPEAT-INFRINGER-SUSPENSION", "window_days"):
        "Length in days of the rolling window in which min_items items must fall: on day d, the items dated "
        "after d - window_days and up to d. Only items dated after the trader's last qualifying action count, "
        "each dated by its first illegal SoR after it (internal threshold).",
    ("DSA-23.1-REPEAT-INFRINGER-SUSPENSION", "grace_days"):
        "Days after the threshold date t* within which a SUSPENSION or TERMINATION for ILLEGAL_CONTENT or "
        "HIDDEN_LINKS (or a first WARNING for those reasons) must follow: the episode's deadline. Episodes whose "
        "deadline falls after period end are pending (internal threshold).",
    ("DSA-23.1-REPEAT-INFRINGER-SUSPENSION", "lookback_days"):
        "A WARNING closes an episode only when the trader had no WARNING for ILLEGAL_CONTENT or HIDDEN_LINKS in "
        "the lookback_days before t* (exactly lookback_days before counts as within; internal threshold).",
    ("DSA-23.1-PRIOR-WARNING", "lookback_days"):
        "Days before a suspension in which a WARNING for ILLEGAL_CONTENT or HIDDEN_LINKS to the same trader must "
        "have been given (exactly lookback_days before is in time; internal threshold).",
    ("DSA-23.1-SUSPENSION-DURATION", "min_days"):
        "Shortest reasonable suspension for ILLEGAL_CONTENT or HIDDEN_LINKS, in calendar days from its start to "
        "ends_at (internal threshold: Art. 23(1) sets no figure). Shorter ones give WARN.",
    ("DSA-23.2-UNFOUNDED-NOTIFIERS", "min_unfounded"):
        "Number of MANIFESTLY_UNFOUNDED notices from one notifier within window_days that gets it listed.",
    ("DSA-23.2-UNFOUNDED-NOTIFIERS", "window_days"):
        "Length in days of the rolling window (ending on a day of the period) in which min_unfounded notices "
        "must fall.",
    ("DSA-30-KYBC-VERIFICATION", "min_share"):
        "Lowest acceptable share (0 to 1) of ACTIVE traders whose information was verified (kyc_verified_at "
        "set). Below it: WARN.",
    ("DSA-35-REAPPEARANCE-RATE", "warn_rate"):
        "Share (0 to 1) of items removed in the period that reappeared in the period, above which WARN.",
    ("DSA-35-REAPPEARANCE-RATE", "fail_rate"):
        "Share (0 to 1) of removed items that reappeared, above which FAIL.",
    ("DSA-35-HIDDEN-LINK-SURVIVAL", "warn_days"):
        "Median days a hidden-link item stayed online (first LISTED to REMOVED) above which the finding is "
        "WARN; the evidence lists the items online longer than this.",
    ("DSA-35-HIDDEN-LINK-SURVIVAL", "fail_days"):
        "Median days a hidden-link item stayed online above which the finding is FAIL.",
    ("DSA-35-HIDDEN-LINK-PENALTIES", "grace_days"):
        "Days after a trader's first hidden-link removal of the period within which PENALTY_POINTS, a "
        "SUSPENSION or a TERMINATION for HIDDEN_LINKS must follow. Removals in the last grace_days of the "
        "period are pending.",
    ("DSA-35-PROACTIVE-DETECTION", "min_rate"):
        "Share (0 to 1) of the period's removals and pre-listing blocks found by proactive detection below "
        "which the advisory WARN is given.",
    ("DSA-24.2-ACTIVE-RECIPIENTS-PUBLICATION", "max_gap_months"):
        "Most calendar months allowed between consecutive ACTIVE_RECIPIENTS publications, and from the last one "
        "to period end (Art. 24(2): six; 1 Jan -> 1 Jul is within six months).",
    ("DSA-33-VLOP-THRESHOLD", "threshold"):
        "Average monthly active recipients in the Union at or above which a platform that is not yet a VLOP "
        "gets WARN (Art. 33(1): 45 million).",
    ("DSA-34-RA-FRESHNESS", "max_age_days"):
        "Most days allowed between the latest risk assessment's completed_at and period end.",
    ("DSA-34-RA-OWN-DATA", "max_gap_days"):
        "Most days allowed between the end of the data period the assessment used and its completed_at.",
    ("DSA-37-AUDIT-FRESHNESS", "max_age_days"):
        "Most days allowed between the latest audit report's report_received_at and period end.",
    ("DSA-42.4-AUDIT-PUBLICATION", "deadline_months"):
        "Calendar months after report_received_at by which the risk assessment, audit and audit implementation "
        "reports must be published (Art. 42(4): three; the same day of the month, or the month's last day).",
    ("DSA-42-TRANSPARENCY-REPORT", "deadline_months"):
        "Calendar months after the end of a half-year by which its transparency report must be published, to "
        "the month's last day (two: 30 Jun -> 31 Aug, 31 Dec -> the last day of February).",
    ("DSA-9-EFFECT-REPORTED", "report_hours"):
        "Internal threshold: hours after an order was given effect within which the authority is informed. "
        "Later: WARN; still not informed at period end, this long after the effect: FAIL.",
    ("DSA-10-ORDER-RECEIPT", "ack_hours"):
        "Internal threshold: hours after receipt within which the receipt of an order to provide information "
        "is confirmed. Later: WARN; still unconfirmed at period end, this long after receipt: FAIL.",
    ("DSA-10-INFORMATION-ORDERS", "warn_median_hours"):
        "Internal threshold: median hours from receipt to effect of the orders to provide information that "
        "set no deadline (open ones counted at their age at period end), above which WARN.",
    ("DSA-21-ODS-IMPLEMENTATION", "grace_days"):
        "Internal threshold: days after an out-of-court decision in the recipient's favour within which it is "
        "implemented. Later or not at all: the advisory WARN.",
    ("DSA-32-BUYERS-INFORMED", "grace_days"):
        "Internal threshold (the law sets no deadline): days after the platform became aware of an illegal "
        "product within which its buyers are informed. Later: WARN; still not done at period end, this long "
        "after: FAIL.",
    ("DSA-39-ADS-IN-REPOSITORY", "max_delay_hours"):
        "Internal threshold: hours after an ad was first shown within which it is in the repository. Later: "
        "WARN; still not there at period end, this long after: FAIL.",
}
UNDOCUMENTED = f"(no description yet: add one to PARAMETER_MEANINGS in {__name__.replace('.', '/')}.py)"

TIER_WORDS = {  # the lowest tier of "X+": who is in scope
    "HOSTING": "every provider: hosting services, online platforms, marketplaces and VLOPs",
    "PLATFORM": "online platforms, marketplaces and VLOPs",
    "MARKETPLACE": "online marketplaces, and VLOPs that are marketplaces (`marketplace: true`)",
    "VLOP": "very large online platforms",
}

STATUSES = tuple(STATUS_MEANINGS.items())
KIND_WORDS = {
    "DUTY": "the rule reads the article directly",
    "INDICATOR": "a measurable sign of a duty whose legal test is qualitative; its limits are the platform's policy",
    "ADVISORY": "advice, never worse than WARN",
}


# ---- ordering ------------------------------------------------------------------------------------------


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text))


def article_group(article: str) -> str:
    """The article an obligation is listed under: "16(4)" -> "16", "34/35" -> "34/35", "38, 27(3)" -> "38"."""
    return article.split(",")[0].split("(")[0].strip()


def _article_key(article: str) -> tuple:
    numbers = _numbers(article)
    return (0, numbers, article) if numbers else (1, (), article)


def grouped(catalogue: Catalogue) -> list[tuple[str, list[Obligation]]]:
    """Obligations by article, articles in numeric order (34 < 34/35 < 35), then by paragraph, then in
    catalogue order."""
    order = {ob.id: n for n, ob in enumerate(catalogue)}
    groups: dict[str, list[Obligation]] = {}
    for ob in sorted(catalogue, key=lambda o: (_article_key(article_group(o.article)), _article_key(o.article),
                                                order[o.id])):
        groups.setdefault(article_group(ob.article), []).append(ob)
    return list(groups.items())


# ---- words ---------------------------------------------------------------------------------------------


def tier_words(ob: Obligation) -> str:
    """Who the obligation applies to, in words, with the catalogue's label."""
    if ob.applies_to.endswith("+"):
        lowest = ob.applies_to[:-1]
        return f"{TIER_WORDS[lowest]} (`{ob.applies_to}`: {lowest} and above)"
    if ob.tiers == ("VLOP",):
        if ob.marketplace_only:
            return "very large online platforms that are marketplaces only (`VLOP (marketplace)`)"
        return "very large online platforms only (`VLOP`)"
    note = "; a VLOP only when it is a marketplace" if ob.marketplace_only and "VLOP" in ob.tiers else ""
    return f"these tiers only: {', '.join(ob.tiers)}{note}"


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _anchor(obligation_id: str) -> str:
    return obligation_id.lower().replace(".", "-")


def _article_heading(group: str) -> str:
    name = ARTICLES.get(group)
    label = f"Articles {group.replace('/', ' and ')}" if "/" in group else f"Article {group}"
    return f"{label}: {name}" if name else label


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# ---- the page ------------------------------------------------------------------------------------------


def _header(catalogue: Catalogue) -> list[str]:
    counts = [
        (label, sum(1 for ob in catalogue if ob.applies(tier, marketplace)))
        for label, tier, marketplace in (
            ("HOSTING", "HOSTING", False), ("PLATFORM", "PLATFORM", False), ("MARKETPLACE", "MARKETPLACE", True),
            ("VLOP, not a marketplace", "VLOP", False), ("VLOP with `marketplace: true`", "VLOP", True),
        )
    ]
    example = next((ob for ob in catalogue if ob.id == "DSA-23.1-REPEAT-INFRINGER-SUSPENSION"), None)
    example = example or next((ob for ob in catalogue if ob.parameters), None)
    lines = [
        "# Obligation catalogue",
        "",
        f"<!-- Generated from functions/dsa_report/obligations/catalogue/ by `{COMMAND}`: do not edit by hand. -->",
        "",
        f"Catalogue version `{catalogue.version}`: {len(catalogue)} obligations of the EU Digital Services Act "
        "(Regulation (EU) 2022/2065), each checked on the platform's own transparency data for one reporting "
        "period. Every run evaluates all of them and gives each exactly one status. The catalogue is data "
        "(`functions/dsa_report/obligations/catalogue/obligations.yaml`, validated against `schema.json` when it is "
        "loaded); to add an obligation see [adding-an-obligation.md](adding-an-obligation.md).",
        "",
        "## Statuses",
        "",
        "| status | meaning |",
        "|---|---|",
        *(f"| {status} | {meaning} |" for status, meaning in STATUSES),
        "",
        "Order of decision: a tier outside the obligation's tiers gives NOT_APPLICABLE; else a missing or empty "
        "dataset, a missing column or a missing register file gives INSUFFICIENT_DATA (the finding's `missing` "
        "names them, e.g. `dataset notices`, `column statements_of_reasons.trader_id`, `register audits`); "
        "else the rule decides, and may give NOT_APPLICABLE when nothing in the period is in scope. A register "
        "file that exists but lists nothing is data: the rule decides (no risk assessment at all is a FAIL).",
        "",
        "Evidence: `count` is the number of offending items (traders, statements, notices, risks...) and "
        "`sample` the first 20 of them in a stable order, each with its id and the values that break the rule. "
        "The archive keeps the full list.",
        "",
        "## Tiers",
        "",
        "The config's `tier` says what the platform is; tiers are cumulative: HOSTING < PLATFORM < MARKETPLACE "
        "< VLOP. An obligation written `PLATFORM+` applies to that tier and every tier above it. A very large "
        "online platform that is also a marketplace sets `tier: VLOP` and `marketplace: true`: only then do the "
        "`MARKETPLACE+` obligations apply to it. An obligation may instead name its tiers one by one "
        "(`VLOP` alone: very large online platforms only).",
        "",
        "| tier | who | obligations that apply |",
        "|---|---|---|",
        f"| HOSTING | hosting services: store information provided by their users | {counts[0][1]} |",
        f"| PLATFORM | online platforms: hosting services that also disseminate that information to the public "
        f"| {counts[1][1]} |",
        f"| MARKETPLACE | online platforms on which consumers conclude distance contracts with traders "
        f"| {counts[2][1]} |",
        f"| VLOP | very large online platforms: 45 million or more average monthly active recipients in the "
        f"Union, designated by the Commission | {counts[3][1]}; with `marketplace: true`: {counts[4][1]} |",
        "",
        "## Parameters and per-platform overrides",
        "",
        "Each obligation's parameters are listed below with their defaults. The config file may override any "
        "of them for one platform, under `parameters`, by obligation id:",
        "",
        "```yaml",
        "parameters:",
    ]
    if example is not None:
        values = ", ".join(f"{k}: {value_text(v)}" for k, v in example.parameters.items())
        lines.append(f"  {example.id}: {{{values}}}")
    lines += [
        "```",
        "",
        "Only the parameter names an obligation lists are accepted, and values must be numbers; an unknown "
        "obligation id or parameter name is a config error naming the key (exit code 2), before any data is "
        "read. The values in force (defaults merged with the overrides) are part of every finding "
        "(`parameters` in findings.json), so a report always says which thresholds it applied.",
        "",
        "## Waivers",
        "",
        "A waiver in the config accepts a known finding for a time:",
        "",
        "```yaml",
        "waivers:",
        "  - obligation: DSA-30-KYBC-VERIFICATION     # an id, or a glob such as DSA-34-*",
        "    justification: Verification provider migration, backlog cleared by March",
        "    approved_by: Head of Compliance",
        "    expires: 2026-03-31                     # required; the waiver applies up to and including it",
        "```",
        "",
        "A finding that would be FAIL or WARN becomes WAIVED and keeps its underlying status (`waived_status`) "
        "and all its evidence: waived findings stay visible. PASS, NOT_APPLICABLE, INSUFFICIENT_DATA and ERROR "
        "are never waived. An expired waiver no longer applies and is listed as expired in the report; a "
        "waiver that covers no WARN or FAIL is listed as unmatched.",
        "",
        "## All obligations",
        "",
        "| id | article | tiers | severity | kind | title |",
        "|---|---|---|---|---|---|",
    ]
    for _, obligations in grouped(catalogue):
        lines += [f"| [{ob.id}](#{_anchor(ob.id)}) | {ob.article} | `{ob.applies_to}` | {ob.severity} | {ob.kind} | "
                  f"{_cell(ob.title)} |" for ob in obligations]
    return lines


def _needs(ob: Obligation) -> list[str]:
    lines = []
    for dataset in ob.datasets:
        columns = ob.columns.get(dataset, ())
        shown = ", ".join(f"`{c}`" for c in columns) if columns else "any"
        lines.append(f"- dataset `{dataset}`, columns {shown}")
    lines += [f"- register `{r}`" for r in ob.registers]
    if not lines:
        lines.append("- no dataset or register is required: the rule works from the optional inputs it finds "
                     "(see above)")
    return lines


def _obligation(ob: Obligation) -> list[str]:
    lines = [
        f'<a id="{_anchor(ob.id)}"></a>',
        f"### {ob.id}",
        "",
        f"**{_cell(ob.title)}**",
        "",
        "| | |",
        "|---|---|",
        f"| article | {ob.article} |",
        f"| applies to | {_cell(tier_words(ob))} |",
        f"| severity | {ob.severity} |",
        f"| kind | {ob.kind}: {KIND_WORDS[ob.kind]} |",
        f"| rule | `{ob.rule}` |",
        "",
        *([f"**The article's words.** {_cell(words)}", ""] if (words := article_words(ob.id)) else []),
        f"**What the data must show.** {_cell(ob.description)}",
        "",
        "**Data it needs** (without it: INSUFFICIENT_DATA naming what is missing):",
        "",
        *_needs(ob),
        "",
    ]
    if ob.parameters:
        lines += ["**Parameters** (LAW: the Regulation's figure; POLICY: an internal threshold the platform sets):",
                  "", "| name | default | basis | meaning |", "|---|---|---|---|"]
        lines += [
            f"| `{name}` | `{value_text(value)}` | {ob.basis[name]} | "
            f"{_cell(PARAMETER_MEANINGS.get((ob.id, name), UNDOCUMENTED))} |"
            for name, value in ob.parameters.items()
        ]
    else:
        lines.append("**Parameters:** none.")
    lines += ["", f"**Remediation.** {_cell(ob.remediation)}", ""]
    return lines


def render_markdown(catalogue: Catalogue) -> str:
    """docs/obligations.md for `catalogue`: a header on statuses, tiers, parameter overrides and waivers, an
    index, then every obligation grouped by article in article order."""
    lines = _header(catalogue)
    for group, obligations in grouped(catalogue):
        lines += ["", f"## {_article_heading(group)}", ""]
        for ob in obligations:
            lines += _obligation(ob)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Write docs/obligations.md from the catalogue.")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is out of date, write nothing")
    parser.add_argument("--out", type=Path, default=DOCS, help=f"the file to write (default: {DOCS})")
    parser.add_argument("--catalogue", type=Path, default=None, help="a catalogue file or folder (default: shipped)")
    args = parser.parse_args(argv)
    text = render_markdown(load_catalogue(args.catalogue))
    current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
    if args.check:
        if current != text:
            print(f"{args.out} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    if current != text:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {args.out}" if current != text else f"{args.out} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
