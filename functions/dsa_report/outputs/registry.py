"""Every artifact a run renders: name -> Output(renderer, attached?, applies?, audiences).

Adding an output is one entry here (and its renderer); the pipeline renders every entry that `applies` to the
findings document, archives it, writes it to the local folder, and attaches the `attached` ones to the
e-mails of their `audiences` (every audience when None). A renderer takes the findings document and the run's
extra figures (e.g. the transparency report, under `outputs.transparency.FIGURES_KEY`) and returns the bytes
of the artifact named by its entry, or {file name: bytes} when it names its files itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..engine.periods import parse_period
from ..obligations.transparency import due
from ..vocabulary import FINDINGS_CSV, FINDINGS_JSON, REPORT_HTML, content_type
from . import report, transparency

Renderer = Callable[[dict, dict], bytes | dict[str, bytes]]
TRANSPARENCY_XLSX = "transparency-report.xlsx"  # entries; the files are named by platform, period and version
TRANSPARENCY_CSV = "transparency-report.csv"
MEDIA_TYPES = {".xlsx": transparency.XLSX_TYPE}


def always(document: dict) -> bool:
    return True


@dataclass(frozen=True)
class Output:
    render: Renderer
    attached: bool  # sent with the e-mails of `audiences` (else only archived and written locally)
    applies: Callable[[dict], bool] = always  # rendered for this findings document?
    audiences: tuple[str, ...] | None = None  # attached for these audiences only; None: every audience

    def files(self, name: str, document: dict, figures: dict) -> dict[str, bytes]:
        made = self.render(document, figures)
        return made if isinstance(made, dict) else {name: made}

    def attached_for(self, audience: str) -> bool:
        return self.attached and (self.audiences is None or audience in self.audiences)

    def content_type(self, name: str) -> str:
        dot = name.rfind(".")
        return MEDIA_TYPES.get(name[dot:].lower()) or content_type(name)


def document_only(render: Callable[[dict], bytes]) -> Renderer:
    return lambda document, figures: render(document)


def findings_json(document: dict) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str).encode()


def transparency_due(document: dict) -> bool:
    """The run is the one that produces the EU transparency report: a VLOP's half-year, another tier's year."""
    run = document["run"]
    return due(run["tier"], parse_period(run["period"]["label"]))


OUTPUTS: dict[str, Output] = {
    FINDINGS_JSON: Output(document_only(findings_json), attached=True),
    FINDINGS_CSV: Output(document_only(report.findings_csv), attached=True),
    REPORT_HTML: Output(document_only(lambda document: report.render_report_html(document).encode()),
                        attached=False),
    TRANSPARENCY_XLSX: Output(transparency.render_xlsx, attached=True, applies=transparency_due,
                              audiences=("compliance",)),
    TRANSPARENCY_CSV: Output(transparency.render_csv, attached=False, applies=transparency_due),
}
