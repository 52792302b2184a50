"""The EU transparency report as files (outputs/transparency.py) and as an output of the scheduled run
(outputs/registry.py, app/pipeline.py): the template's sheet names and headers held against the reference,
a second reader (pandas) giving the same figures, versions, the e-mail it is attached to, and the figures
that findings.json also carries being equal."""

from __future__ import annotations

import email
import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from dsa_report.app import pipeline
from dsa_report.delivery.store import file_entry
from dsa_report.engine.periods import parse_period
from dsa_report.obligations import transparency as t
from dsa_report.obligations.config import Audience, Config
from dsa_report.outputs import transparency as files
from dsa_report.outputs.registry import OUTPUTS, TRANSPARENCY_XLSX
from dsa_report.tools.synthetic import generate
from tables import H2, make_data, notice

# shared/reference/transparency-template.md, section 4 (headers verbatim, compared trimmed); the contextual
# columns of the wide sheets as the filed templates write them.
ORDERS = ["Number of orders to act against illegal content received",
          "Number of specific items of information included in the total number of orders to act against "
          "illegal content",
          "Median time to inform the authority of the receipt of the order to act against illegal content",
          "Median time to give effect to the order to act against illegal content",
          "Number of orders to provide information",
          "Median time to inform the authority of the receipt of the order to provide information",
          "Median time to give effect to the order to provide information"]
NOTICES = ["Number of notices received ", "Number of notices received from Trusted flaggers",
           "Number of specific items of information included in the total number of notices",
           "Number of specific items of information included in the total number of notices by Trusted Flaggers "
           "(Trusted Flagger notices)",
           "Median time to take action", "Median time to take action (Trusted Flagger notices)",
           "Number of actions taken on the basis of the law",
           "Number of actions taken on the basis of the law (Trusted Flagger notices)",
           "Number of actions taken on the basis of the terms and conditions of the service",
           "Number of actions taken on the basis of the terms and conditions of the service (Trusted Flagger "
           "notices)"]
OWN = ["Number of measures taken at the provider's own initiative",
       "Number of measures taken after detection with solely automated means",
       "Visibility restriction Removal", "Visibility restriction Disable", "Visibility restriction Demoted",
       "Visibility restriction Age restricted", "Visibility restriction Interaction restricted",
       "Visibility restriction Labelled ", "Visibility restriction Other", "Monetary restriction Suspension",
       "Monetary restriction Termination", "Monetary restriction Other", "Provision of the service Suspension",
       "Provision of the service Termination", "Account restriction Suspension", "Account restriction Termination"]
HEAD = ["Applicability", "Service", "Reporting period"]
LONG = [*HEAD, "Section", "Indicator", "Scope", "Value"]
OTHER = 'Description of the sub-category "Other"'
REFERENCE = {
    "1_report_identification": ["Applicability", "Service", "Indicator", "Value"],
    "2_categories_names": ["Category label", "Category description",
                           "Category of illegal content / incompatible with the terms and conditions",
                           "Contextual information"],
    "3_member_states_orders": [*HEAD, "Category of illegal content", OTHER, "Scope", *ORDERS,
                               "Contextual information on number of orders to act against illegal content received",
                               "Contextual information on number of specific items of information included in the "
                               "total number of orders to act against illegal content",
                               *("Contextual information on " + h for h in ORDERS[2:])],
    "4_notices": [*HEAD, "Category of illegal content", OTHER, *NOTICES,
                  *("Contextual information on " + h for h in NOTICES)],
    "5_own_initiative_illegal": [*HEAD, "Category of illegal content", OTHER, *OWN,
                                 *("Contextual Information on " + h for h in OWN)],
    "6_own_initiative_TC": [*HEAD, "Category of incompatibility with the provider's terms and conditions", OTHER,
                            *OWN, *("Contextual Information on " + h for h in OWN)],
    "7_appeals_and_recidivism": [*LONG, "Contextual Information"],
    "8_automated_means": [*LONG, "Contextual Information"],
    "9_human_resources": [*LONG, "Contextual information"],
    "10_AMAR": [*LONG, "Contextual information"],
    "11_qualitative": [*HEAD, "Indicator", "Value"],
}
APPLICABILITY = {"All", "Only for providers of hosting services, including online platforms",
                 "Only for providers of online platforms", "Only for VLOPs", "Only for VLOPs and VLOSEs"}


def trimmed(values):
    return [" ".join(str(v).split()) for v in values]


@pytest.fixture(scope="module")
def small_report():
    rows = [notice(f"N{i}", "2025-08-01", decided_after_hours=h, category=t.CAT + "SCAMS_AND_FRAUD",
                   outcome="ACTION_TAKEN", action_basis="ILLEGAL_CONTENT") for i, h in enumerate((1.5, 2.25, 7))]
    return t.build(make_data({"notices": rows}), H2, tier="VLOP", service="Example Market", issued=date(2026, 2, 1))


def test_the_workbook_holds_the_templates_sheet_names_and_headers(small_report):
    book = pd.read_excel(io.BytesIO(files.xlsx(small_report)), sheet_name=None, header=None)
    assert list(book) == list(REFERENCE)
    for name, frame in book.items():
        assert trimmed(frame.iloc[0].tolist()) == trimmed(REFERENCE[name]), name


def test_every_csv_part_holds_its_sheets_headers(small_report):
    parts = files.csv_parts(small_report)
    assert len(parts) == 11
    for name, data in parts.items():
        sheet = next(s for s in REFERENCE if name.endswith(f"-{s}.csv"))
        header = pd.read_csv(io.BytesIO(data), nrows=0).columns.tolist()
        assert trimmed(header) == trimmed(REFERENCE[sheet])


def test_applicability_values_are_the_templates(small_report):
    for sheet in small_report.sheets:
        if "Applicability" in sheet.headers:
            assert {r["Applicability"] for r in sheet.rows} <= APPLICABILITY, sheet.name


def test_a_second_reader_gives_the_same_figures(small_report):
    """pandas reads the XLSX and the CSV parts back: every figure filled from the data is there, equal."""
    book = pd.read_excel(io.BytesIO(files.xlsx(small_report)), sheet_name=None, dtype=object)
    parts = {name: frame.where(frame.notna(), None).to_dict("records") for name, frame in book.items()}
    read = files.published_figures(parts)
    ours = t.figures(small_report)
    assert ours and {k: read[k] for k in ours} == ours
    for name, data in files.csv_parts(small_report).items():
        sheet = next(s for s in REFERENCE if name.endswith(f"-{s}.csv"))
        frame = pd.read_csv(io.BytesIO(data), dtype=object, keep_default_na=False)
        back = files.published_figures({sheet: frame.to_dict("records")})
        for key, value in ours.items():
            if key in back and key[0] in (sheet, "long"):
                assert float(back[key]) == value, key


def test_names_carry_platform_period_and_the_next_version(small_report):
    assert files.xlsx_name(small_report) == "transparency-report-Example-Market-2025-H2-v1.xlsx"
    names = [f"transparency-report-Example-Market-{tail}"
             for tail in ("2025-H2-v1.xlsx", "2025-H2-v3.xlsx", "2025-H1-v7.xlsx", "2025-H2-v9-4_notices.csv")]
    assert files.next_version(names, "Example Market", "2025-H2") == 4
    assert files.next_version([], "Example Market", "2025-H2") == 1


def test_a_published_zip_of_csv_parts_reads_like_the_workbook(small_report):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in files.csv_parts(small_report).items():
            z.writestr(name.split("-v1-")[1], data)  # as filed: 4_notices.csv, ...
    parts = files.read_published("report.zip", archive.getvalue())
    assert t.compare(small_report, files.published_figures(parts)) == []
    with pytest.raises(files.PublishedError):
        files.read_published("report.pdf", b"%PDF")
    with pytest.raises(files.PublishedError, match="not a readable XLSX"):
        files.read_published("report.xlsx", b"not a zip")


# ---- the scheduled run (outputs registry + pipeline) ---------------------------------------------------------


@pytest.fixture(scope="module")
def half_year(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("half-year")
    generate(folder, scale=1500, seed=5, period_start=date(2025, 7, 1), period_end=date(2025, 12, 31))
    return folder


def run(source: Path, period: str, out: Path | None = None) -> pipeline.RunResult:
    config = Config(platform="ExampleMarket", tier="VLOP", marketplace=True, sender="dsa@example.com",
                    audiences=(Audience("compliance", ("c@example.com",)), Audience("board", ("b@example.com",))))
    request = pipeline.RunRequest(config=config, period=parse_period(period), source=str(source), out_dir=out,
                                  now=datetime(2026, 1, 15, tzinfo=UTC))
    return pipeline.run(request)


@pytest.fixture(scope="module")
def h2_run(half_year, tmp_path_factory) -> pipeline.RunResult:
    return run(half_year, "2025-H2", tmp_path_factory.mktemp("out"))


def attachments(raw: bytes) -> list[str]:
    return [part.get_filename() for part in email.message_from_bytes(raw).walk() if part.get_filename()]


def test_a_vlops_half_year_run_archives_the_report_and_mails_it_to_compliance_only(h2_run):
    name = "transparency-report-ExampleMarket-2025-H2-v1.xlsx"
    assert name in h2_run.artifacts
    assert sum(n.endswith(".csv") and n.startswith("transparency-report-") for n in h2_run.artifacts) == 11
    assert name in attachments(h2_run.artifacts["emails/compliance.eml"])
    assert name not in attachments(h2_run.artifacts["emails/board.eml"])
    assert name in {file_entry(n, data)["name"] for n, data in h2_run.artifacts.items()}  # each stored, listed
    assert any(p.name == name for p in h2_run.written)
    assert OUTPUTS[TRANSPARENCY_XLSX].content_type(name) == files.XLSX_TYPE


def test_a_monthly_run_produces_no_transparency_report(half_year):
    result = run(half_year, "2025-12")
    assert not any(n.startswith("transparency-report-") for n in result.artifacts)
    assert not any(a.endswith(".xlsx") for a in attachments(result.artifacts["emails/compliance.eml"]))


def test_every_figure_also_in_findings_json_is_equal(h2_run):
    report = h2_run.figures[files.FIGURES_KEY]
    document = h2_run.document
    checked = t.reconcile(t.figures(report), document["metrics"], parse_period("2025-H2"), document["findings"])
    assert {r.figure for r in checked} == {*t.RECONCILED, "Art. 23(1) suspensions (DSA-23.1-PRIOR-WARNING)"}
    assert [r for r in checked if not r.equal] == []
    assert all(r.report is not None for r in checked)


def test_the_archived_workbook_read_back_reconciles_too(h2_run):
    data = h2_run.artifacts["transparency-report-ExampleMarket-2025-H2-v1.xlsx"]
    read = files.published_figures(files.read_published("x.xlsx", data))
    document = h2_run.document
    checked = t.reconcile(read, document["metrics"], parse_period("2025-H2"), document["findings"])
    assert checked and all(r.equal for r in checked)


def test_a_second_run_into_the_same_folder_is_the_next_version(half_year, tmp_path):
    run(half_year, "2025-H2", tmp_path)
    again = run(half_year, "2025-H2", tmp_path)
    assert "transparency-report-ExampleMarket-2025-H2-v2.xlsx" in again.artifacts
    sheet = again.figures[files.FIGURES_KEY].sheet(t.S1)
    assert {r["Indicator"]: r["Value"] for r in sheet.rows}["Version of the report"] == "v2"
