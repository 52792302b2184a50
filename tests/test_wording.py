"""A FAIL is a finding to act on, not a legal determination (obligations.md v2, Statuses): what people read
(templates, docs, the catalogue's texts, rule and output messages) says "rule not met" or "indicator breached",
never that the platform breached the DSA or committed an infringement."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "functions" / "dsa_report"
READ_BY_PEOPLE = sorted([
    *ROOT.glob("templates/*.j2"), *ROOT.glob("docs/*.md"), ROOT / "README.md",
    *PACKAGE.glob("obligations/**/*.yaml"), *PACKAGE.glob("obligations/**/*.py"), *PACKAGE.glob("outputs/*.py"),
])
# "indicator breached" is the contract's own wording; ids and the DSA's term "repeat infringer" are names
FORBIDDEN = re.compile(r"\bbreach(es)?\b|\binfringements?\b|\bviolat(ion|es|ed) of the (dsa|law)", re.IGNORECASE)


@pytest.mark.parametrize("path", READ_BY_PEOPLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_finding_is_worded_as_a_legal_determination(path):
    offending = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if FORBIDDEN.search(line.replace("indicator breached", "")) and "INFRINGEMENTS" not in line]
    assert offending == []


def test_the_check_catches_the_v1_wording():
    assert FORBIDDEN.search("a breach is a breach of the DSA")
    assert FORBIDDEN.search("This is an infringement.")
    assert not FORBIDDEN.search("3 traders: indicator breached".replace("indicator breached", ""))
