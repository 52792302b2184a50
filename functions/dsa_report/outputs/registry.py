"""Every artifact a run renders from its findings document: name -> (renderer, content type, attached?).

Adding an output is one entry here (and its renderer); the pipeline archives every entry, writes it to the
local folder, and attaches the ones marked `attached` to every e-mail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..vocabulary import FINDINGS_CSV, FINDINGS_JSON, REPORT_HTML, content_type
from . import report


@dataclass(frozen=True)
class Output:
    render: Callable[[dict], bytes]
    attached: bool  # sent with every e-mail (else only archived and written locally)

    def content_type(self, name: str) -> str:
        return content_type(name)


def findings_json(document: dict) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str).encode()


OUTPUTS: dict[str, Output] = {
    FINDINGS_JSON: Output(findings_json, attached=True),
    FINDINGS_CSV: Output(report.findings_csv, attached=True),
    REPORT_HTML: Output(lambda document: report.render_report_html(document).encode(), attached=False),
}
