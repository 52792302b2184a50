"""docs/obligations.md is generated from the catalogue and committed up to date; docs/adding-an-obligation.md
walks through a worked example that is run here as written (rule, YAML entry, tests, the errors it shows)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import tables
from dsa_report.engine import outcome, registry
from dsa_report.engine.catalogue import CatalogueError
from dsa_report.engine.context import Context
from dsa_report.engine.registry import RULES
from dsa_report.obligations import wording
from dsa_report.obligations.evaluation import FOLDER, load_catalogue
from dsa_report.tools import catalogue_docs
from dsa_report.tools.catalogue_docs import COMMAND, DOCS, PARAMETER_MEANINGS, UNDOCUMENTED, main, render_markdown

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "adding-an-obligation.md"
CONTRACT_IDS = (  # the table of contracts/obligations.md, in its order
    "DSA-17-SOR-COVERAGE", "DSA-17-SOR-COMPLETENESS", "DSA-24.5-SOR-SUBMISSION-DELAY",
    "DSA-16-NOTICE-ACKNOWLEDGEMENT", "DSA-16-NOTICE-TIMELINESS", "DSA-22-TRUSTED-FLAGGER-PRIORITY",
    "DSA-20-COMPLAINT-TIMELINESS", "DSA-20.6-HUMAN-REVIEW", "DSA-20-REVERSAL-RATE",
    "DSA-23.1-REPEAT-INFRINGER-SUSPENSION", "DSA-23.1-PRIOR-WARNING", "DSA-23.1-SUSPENSION-DURATION",
    "DSA-23.2-UNFOUNDED-NOTIFIERS", "DSA-30-KYBC-COMPLETENESS", "DSA-30-KYBC-VERIFICATION",
    "DSA-35-REAPPEARANCE-RATE", "DSA-35-HIDDEN-LINK-SURVIVAL", "DSA-35-HIDDEN-LINK-PENALTIES",
    "DSA-35-PROACTIVE-DETECTION", "DSA-24.2-ACTIVE-RECIPIENTS-PUBLICATION", "DSA-33-VLOP-THRESHOLD",
    "DSA-34-RA-FRESHNESS", "DSA-34-RA-COVERAGE", "DSA-34-RA-BEFORE-LAUNCH", "DSA-34-RA-OWN-DATA",
    "DSA-35-MITIGATION-COVERAGE", "DSA-35-MITIGATION-EFFECTIVENESS", "DSA-37-AUDIT-FRESHNESS",
    "DSA-42.4-AUDIT-PUBLICATION", "DSA-42-TRANSPARENCY-REPORT", "DSA-71-COMMITMENTS",
    # added in v2
    "DSA-9-EFFECT-REPORTED", "DSA-10-ORDER-RECEIPT", "DSA-10-INFORMATION-ORDERS", "DSA-21-ODS-IMPLEMENTATION",
    "DSA-30.7-TRADER-INFO-SHOWN", "DSA-31-INTERFACE-FIELDS", "DSA-31.3-PRE-LISTING", "DSA-32-BUYERS-INFORMED",
    "DSA-39-ADS-IN-REPOSITORY", "DSA-39-ADS-REPOSITORY-FIELDS", "DSA-39-ADS-RETENTION",
    "DSA-27-RECOMMENDER-PARAMETERS", "DSA-38-NON-PROFILING-OPTION", "DSA-40-DATA-ACCESS",
)


@pytest.fixture(scope="module")
def page() -> str:
    return render_markdown(load_catalogue())


# ---- docs/obligations.md -----------------------------------------------------------------------------


def test_committed_docs_are_up_to_date(page):
    assert DOCS == ROOT / "docs" / "obligations.md"
    committed = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert committed == page, f"docs/obligations.md is out of date: run `{COMMAND}` and commit the result"


def test_every_obligation_of_the_contract_has_its_section(page):
    headings = re.findall(r"^### (\S+)$", page, flags=re.MULTILINE)
    assert sorted(headings) == sorted(CONTRACT_IDS)
    for obligation_id in CONTRACT_IDS:
        assert f"| [{obligation_id}](#" in page  # and a line of the index


def test_each_section_says_tiers_severity_data_parameters_and_remediation(page):
    catalogue = load_catalogue()
    sections = dict(re.findall(r"^### (\S+)\n(.*?)(?=^<a id=|^## |\Z)", page, flags=re.MULTILINE | re.DOTALL))
    for ob in catalogue:
        text = sections[ob.id]
        assert f"| article | {ob.article} |" in text and f"| severity | {ob.severity} |" in text
        assert f"| kind | {ob.kind}: " in text
        assert f"`{ob.applies_to}`" in text
        assert " ".join(ob.description.split()) in text and " ".join(ob.remediation.split()) in text
        for dataset in ob.datasets:
            assert f"- dataset `{dataset}`, columns " + ", ".join(f"`{c}`" for c in ob.columns[dataset]) in text
        for register in ob.registers:
            assert f"- register `{register}`" in text
        for name, value in ob.parameters.items():
            assert f"| `{name}` | `{value}` | {ob.basis[name]} | {PARAMETER_MEANINGS[(ob.id, name)]} |" in text
        if ob.kind != "DUTY":  # the article's own words next to an indicator's internal thresholds
            assert "**The article's words.** Art. " in text
    repeat = sections["DSA-23.1-REPEAT-INFRINGER-SUSPENSION"]
    assert "online platforms, marketplaces and VLOPs (`PLATFORM+`: PLATFORM and above)" in repeat
    assert "very large online platforms only (`VLOP`)" in sections["DSA-34-RA-FRESHNESS"]
    assert "VLOPs that are marketplaces (`marketplace: true`)" in sections["DSA-30-KYBC-COMPLETENESS"]


def test_every_shipped_parameter_is_explained_and_no_meaning_is_stale(page):
    catalogue = load_catalogue()
    assert UNDOCUMENTED not in page
    shipped = {(ob.id, name) for ob in catalogue for name in ob.parameters}
    assert set(PARAMETER_MEANINGS) == shipped


def test_obligations_are_grouped_by_article_in_article_order(page):
    groups = re.findall(r"^## Articles? (\S+?)(?: and (\d+))?: ", page, flags=re.MULTILINE)
    labels = [f"{a}/{b}" if b else a for a, b in groups]
    assert labels == ["9", "10", "16", "17", "20", "21", "22", "23", "24", "27", "30", "31", "32", "33", "34",
                      "34/35", "35", "37", "38", "39", "40", "42", "71"]
    order = re.findall(r"^### (\S+)$", page, flags=re.MULTILINE)
    catalogue = load_catalogue()
    articles = [catalogue.get(i).article for i in order]
    assert articles.index("17") < articles.index("17(3)") and articles.index("42(1)") < articles.index("42(4)")
    assert order.index("DSA-23.1-REPEAT-INFRINGER-SUSPENSION") < order.index("DSA-23.1-PRIOR-WARNING")


def test_header_explains_statuses_tiers_overrides_and_waivers(page):
    for status in ("PASS", "WARN", "FAIL", "WAIVED", "NOT_APPLICABLE", "INSUFFICIENT_DATA", "ERROR"):
        assert f"\n| {status} | " in page
    assert "HOSTING < PLATFORM < MARKETPLACE < VLOP" in page and "`marketplace: true`" in page
    override = ("DSA-23.1-REPEAT-INFRINGER-SUSPENSION: "
                "{min_items: 3, window_days: 90, grace_days: 14, lookback_days: 365}")
    assert f"parameters:\n  {override}" in page
    assert "waivers:\n  - obligation: DSA-30-KYBC-VERIFICATION" in page and "expires:" in page
    # counts of the tier table come from the catalogue
    catalogue = load_catalogue()
    hosting = sum(1 for ob in catalogue if ob.applies("HOSTING", False))
    vlop, vlop_marketplace = (sum(1 for ob in catalogue if ob.applies("VLOP", m)) for m in (False, True))
    assert "| HOSTING | hosting services" in page and f"| {hosting} |" in page
    assert f"| {vlop}; with `marketplace: true`: {vlop_marketplace} |" in page


def test_check_and_write(tmp_path: Path, capsys):
    out = tmp_path / "docs" / "obligations.md"
    assert main(["--check", "--out", str(out)]) == 1  # not there yet
    assert f"run `{COMMAND}`" in capsys.readouterr().err
    assert main(["--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_markdown(load_catalogue())
    assert main(["--check", "--out", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("Hours after receipt", "Hours after"), encoding="utf-8")
    assert main(["--check", "--out", str(out)]) == 1
    assert "is out of date" in capsys.readouterr().err


def test_a_custom_catalogue_renders_with_its_own_articles_and_tiers(tmp_path: Path):
    folder = tmp_path / "catalogue"
    shutil.copytree(FOLDER, folder)
    (folder / "zz-own.yaml").write_text(
        'version: "2026.11-1"\nobligations:\n'
        '  - {id: DSA-99-OWN-CONTROL, article: "99", title: Own control, applies_to: [HOSTING, VLOP],\n'
        '     severity: LOW, kind: INDICATOR, datasets: [notices], columns: {notices: [received_at]},\n'
        '     parameters: {min_share: 0.5}, basis: {min_share: POLICY}, rule: notice_acknowledgement,\n'
        '     remediation: Fix it., description: Ours.}\n',
        encoding="utf-8",
    )
    page = render_markdown(load_catalogue(folder))
    assert page.index("## Article 71: Commitments") < page.index("## Article 99\n")
    assert "these tiers only: HOSTING, VLOP" in page
    assert f"| `min_share` | `0.5` | POLICY | {UNDOCUMENTED} |" in page  # what the docs test above catches


# ---- docs/adding-an-obligation.md: the worked example, run as written --------------------------------


def example(kind: str) -> str:
    """The fenced block after `<!-- example:<kind> -->` in the guide."""
    match = re.search(rf"<!-- example:{kind} -->\n```\w*\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    assert match, f"no example:{kind} block in {GUIDE.name}"
    return match.group(1)


@pytest.fixture
def extended(tmp_path: Path, monkeypatch):
    """The shipped catalogue with the guide's entry appended to obligations.yaml, and the guide's rule
    registered (for this test only)."""
    monkeypatch.setitem(RULES, "recidivism", None)  # undone after the test: the registry is left as it was
    del RULES["recidivism"]
    namespace = {**vars(outcome), **vars(wording), "rule": registry.rule, "Context": Context}
    exec(compile(example("rule"), "adding-an-obligation.md", "exec"), namespace)  # noqa: S102
    folder = tmp_path / "catalogue"
    shutil.copytree(FOLDER, folder)
    shipped = (folder / "obligations.yaml").read_text(encoding="utf-8")

    def with_entry(entry: str) -> Path:
        (folder / "obligations.yaml").write_text(shipped.rstrip("\n") + "\n\n" + entry, encoding="utf-8")
        return folder

    return with_entry


def test_the_guides_rule_and_entry_load_and_its_tests_pass(extended, monkeypatch):
    catalogue = load_catalogue(extended(example("yaml")))
    ob = catalogue.get("DSA-23.1-RECIDIVISM")
    assert catalogue.ids[-1] == ob.id and len(catalogue) == len(load_catalogue()) + 1
    assert (ob.article, ob.applies_to, ob.rule) == ("23(1)", "PLATFORM+", "recidivism")
    assert ob.parameters == {"max_rate": 0.1}
    assert ob.columns["enforcement_actions"] == ("trader_id", "action", "occurred_at")
    monkeypatch.setattr(tables, "default_catalogue", lambda: catalogue)  # as if the entry were shipped
    namespace: dict = {}
    exec(compile(example("test"), "adding-an-obligation.md", "exec"), namespace)  # noqa: S102
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert len(tests) == 3
    for test in tests:
        test()
    # the parameter meaning the guide shows is what makes the generated page complete
    page = render_markdown(catalogue)
    assert UNDOCUMENTED in page
    meaning = eval("{" + example("meaning") + "}")  # noqa: S307 - a dict literal of the guide
    monkeypatch.setattr(catalogue_docs, "PARAMETER_MEANINGS", {**PARAMETER_MEANINGS, **meaning})
    assert UNDOCUMENTED not in render_markdown(catalogue)


def test_the_errors_the_guide_shows_are_the_ones_you_get(extended):
    entry = example("yaml")
    lines = example("errors").rstrip("\n").split("\n")
    pairs = list(zip(lines[::2], lines[1::2], strict=True))
    assert len(pairs) == 4
    for mistake, shown in pairs:
        key, value = mistake.split("   (")[0].split(": ", 1)
        broken, n = re.subn(rf"^(\s*){key}: .*$", lambda m, k=key, v=value: f"{m.group(1)}{k}: {v}", entry,
                            flags=re.MULTILINE)
        assert n == 1, mistake
        with pytest.raises(CatalogueError) as error:
            load_catalogue(extended(broken))
        assert str(error.value) == shown.strip()
