"""Every artifact a run renders from its findings document: name -> (renderer, content type, attached?).

Adding an output is one entry here (and its renderer); the pipeline archives every entry, writes it to the
local folder, and attaches the ones marked `attached` to the e-mails of `audiences` (default: every audience).
A renderer marked `evidence` also gets the run's full evidence lists (obligation id -> offending items, worst
first: what `evidence/*.jsonl` archives), not only the document's 20-item samples.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..vocabulary import AUDIENCES, FINDINGS_CSV, FINDINGS_JSON, REPORT_HTML, content_type
from . import report

ITEMS_CSV = "offending_items.csv"  # every offending item of every finding, for trust and safety
# An artifact larger than this is not attached (SES takes 10 MB encoded, base64 adds a third): the e-mail names
# it and the link to the archived run reaches it.
ATTACH_MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class Output:
    render: Callable[..., bytes]  # (document) -> bytes, or (document, evidence) -> bytes when `evidence`
    attached: bool  # sent with the e-mails of `audiences` (else only archived and written locally)
    audiences: tuple[str, ...] = AUDIENCES
    evidence: bool = False

    def content_type(self, name: str) -> str:
        return content_type(name)

    def rendered(self, document: dict, evidence: dict[str, list[dict]]) -> bytes:
        return self.render(document, evidence) if self.evidence else self.render(document)

    def attached_to(self, audience: str) -> bool:
        return self.attached and audience in self.audiences


def findings_json(document: dict) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str).encode()


OUTPUTS: dict[str, Output] = {
    FINDINGS_JSON: Output(findings_json, attached=True),
    FINDINGS_CSV: Output(report.findings_csv, attached=True),
    REPORT_HTML: Output(lambda document, evidence: report.render_report_html(document, evidence).encode(),
                        attached=False, evidence=True),
    ITEMS_CSV: Output(report.items_csv, attached=True, audiences=("trust_and_safety",), evidence=True),
}
