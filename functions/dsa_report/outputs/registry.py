"""Every artifact a run renders: name -> Output(renderer, attached?, applies?, audiences).

Adding an output is one entry here (and its renderer); the pipeline renders every entry that `applies` to the
findings document, archives it, writes it to the local folder, and attaches the `attached` ones to the e-mails
of `audiences` (default: every audience). A renderer takes the findings document; one marked `evidence` also
gets the run's full evidence lists (obligation id -> offending items, worst first: what `evidence/*.jsonl`
archives), one marked `figures` the run's extra figures (the EU transparency report, under
`outputs.transparency.FIGURES_KEY`). It returns the bytes of the artifact named by its entry, or
{file name: bytes} when it names its files itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..engine.periods import parse_period
from ..obligations.transparency import due
from ..vocabulary import AUDIENCES, FINDINGS_CSV, FINDINGS_JSON, REPORT_HTML, content_type
from . import report, transparency

TRANSPARENCY_XLSX = "transparency-report.xlsx"  # entries; the files are named by platform, period and version
TRANSPARENCY_CSV = "transparency-report.csv"
MEDIA_TYPES = {".xlsx": transparency.XLSX_TYPE}


def always(document: dict) -> bool:
    return True


ITEMS_CSV = "offending_items.csv"  # every offending item of every finding, for trust and safety
# An artifact larger than this is not attached (SES takes 10 MB encoded, base64 adds a third): the e-mail names
# it and the link to the archived run reaches it.
ATTACH_MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class Output:
    render: Callable[..., bytes | dict[str, bytes]]  # (document[, evidence | figures])
    attached: bool  # sent with the e-mails of `audiences` (else only archived and written locally)
    audiences: tuple[str, ...] = AUDIENCES
    evidence: bool = False  # the renderer takes the run's full evidence lists
    figures: bool = False  # the renderer takes the run's extra figures
    applies: Callable[[dict], bool] = always  # rendered for this findings document?

    def files(self, name: str, document: dict, evidence: dict, figures: dict) -> dict[str, bytes]:
        made = (self.render(document, evidence) if self.evidence else self.render(document, figures)
                if self.figures else self.render(document))
        return made if isinstance(made, dict) else {name: made}

    def content_type(self, name: str) -> str:
        dot = name.rfind(".")
        return MEDIA_TYPES.get(name[dot:].lower()) or content_type(name)

    def attached_to(self, audience: str) -> bool:
        return self.attached and audience in self.audiences


def findings_json(document: dict) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str).encode()


def transparency_due(document: dict) -> bool:
    """The run is the one that produces the EU transparency report: a VLOP's half-year, another tier's year."""
    run = document["run"]
    return due(run["tier"], parse_period(run["period"]["label"]))


OUTPUTS: dict[str, Output] = {
    FINDINGS_JSON: Output(findings_json, attached=True),
    FINDINGS_CSV: Output(report.findings_csv, attached=True),
    REPORT_HTML: Output(lambda document, evidence: report.render_report_html(document, evidence).encode(),
                        attached=False, evidence=True),
    ITEMS_CSV: Output(report.items_csv, attached=True, audiences=("trust_and_safety",), evidence=True),
    TRANSPARENCY_XLSX: Output(transparency.render_xlsx, attached=True, audiences=("compliance",), figures=True,
                              applies=transparency_due),
    TRANSPARENCY_CSV: Output(transparency.render_csv, attached=False, figures=True, applies=transparency_due),
}
