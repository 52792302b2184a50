"""report.py: the HTML report, the e-mails per audience and findings.csv, from the sample document."""

from __future__ import annotations

import copy
import csv
import io
import json

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import UndefinedError

from contract_files import FINDINGS_SCHEMA, FIXTURES
from dsa_report.obligations.wording import figure
from dsa_report.outputs import report
from dsa_report.vocabulary import STATUSES

FIXTURE = FIXTURES / "findings_sample.json"
SCHEMA = FINDINGS_SCHEMA
SAMPLE = json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def doc() -> dict:
    return copy.deepcopy(SAMPLE)


def by_status(doc: dict, status: str) -> list[dict]:
    return [f for f in doc["findings"] if f["status"] == status]


def test_fixture_is_a_valid_findings_document(doc):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    statuses = {f["status"] for f in doc["findings"]}
    assert statuses == set(STATUSES)
    assert sum(doc["summary"]["counts"].values()) == len(doc["findings"])


def test_report_shows_every_failure_with_its_evidence(doc):
    html = report.render_report_html(doc)
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    for finding in by_status(doc, "FAIL"):
        assert finding["obligation_id"] in html
        assert f"Art. {finding['article']}" in html
        assert finding["metric"]["name"] in html
        label = report.limit_label(finding["metric"])  # "legal limit" or "internal threshold" (v2)
        assert f"{label} &gt;= {figure(finding['metric']['threshold'])}" in html \
            or f"{label} &lt;= {figure(finding['metric']['threshold'])}" in html
        assert finding["remediation"] in html
        first_row = finding["evidence"]["sample"][0]
        assert f"<td>{first_row['trader_id']}</td>" in html
    assert "<th>threshold_date</th>" in html and "<th>first_suspension</th>" in html
    for header in ("ExampleMarket", "VLOP", "2025-H2", "2025-07-01", "2025-12-31", "schedule",
                   doc["run"]["id"], doc["run"]["generated_at"], doc["run"]["catalogue_version"]):
        assert header in html


def test_report_orders_findings_by_status(doc):
    html = report.render_report_html(doc)
    findings_part = html[html.index("<h2>Findings</h2>"):]
    positions = {
        status: findings_part.index(f'class="finding finding-{status}"') for status in STATUSES
    }
    assert sorted(positions, key=positions.get) == list(STATUSES)


def test_report_shows_waiver_missing_error_quality_and_metrics(doc):
    html = report.render_report_html(doc)
    waived = by_status(doc, "WAIVED")[0]
    for value in (waived["waiver"]["justification"], waived["waiver"]["approved_by"],
                  waived["waiver"]["expires"], 'badge-WARN">WARN'):
        assert value in html
    assert "registers/publications" in html
    assert by_status(doc, "ERROR")[0]["message"].replace("'", "&#39;") in html
    assert "apply only after a decision" in html and "Art. 74(1), 74(2) and 76 DSA" in html
    assert "EUR 720,000,000" in html
    assert "corrupt gzip stream" in html and "unparseable_timestamp: 41" in html
    assert "no reinstatements in the period" in html
    assert "previous period: PASS" in html


def test_report_lists_expired_waivers_and_hides_absent_exposure(doc):
    doc["summary"]["waivers"] = {"applied": [], "unmatched": [], "expired": [
        {"obligation": "DSA-35-*", "justification": "migration", "approved_by": "CCO",
         "expires": "2025-06-30"}
    ]}
    del doc["summary"]["exposure"]
    html = report.render_report_html(doc)
    assert "expired (no longer applies)" in html and "2025-06-30" in html
    assert "not a prediction</" not in html and "Maximum fine" not in html


def test_html_outputs_escape_and_text_does_not(doc):
    doc["findings"][0]["message"] = '<script>alert("x")</script>'
    doc["findings"][0]["evidence"]["sample"][0]["trader_id"] = "<img src=x onerror=alert(1)>"
    html = report.render_report_html(doc)
    _, text, mail_html = report.render_email(doc, "trust_and_safety")
    for out in (html, mail_html):
        assert "<script>" not in out and "<img" not in out
        assert "&lt;script&gt;" in out
    assert '<script>alert("x")</script>' in text  # plain text is not HTML-escaped


@pytest.mark.parametrize("path", [("run", "platform"), ("run", "period"), ("summary", "counts")])
def test_missing_required_key_raises(doc, path):
    del doc[path[0]][path[1]]
    with pytest.raises(UndefinedError):
        report.render_report_html(doc)
    with pytest.raises(UndefinedError):
        report.render_email(doc, "compliance")


def test_missing_finding_key_raises(doc):
    del doc["findings"][3]["status"]
    with pytest.raises(UndefinedError):
        report.render_report_html(doc)


def test_email_subject_html_inlined_and_text(doc):
    subject, text, html = report.render_email(doc, "compliance")
    assert subject == "[DSA] ExampleMarket 2025-H2: 3 FAIL, 2 WARN, 1 ERROR"
    assert subject.isascii()
    assert "<style" not in html and 'style="' in html
    assert 'class="badge badge-FAIL" style="' in html
    for finding in by_status(doc, "FAIL"):
        assert finding["obligation_id"] in text and finding["obligation_id"] in html
    assert "metric kybc_complete_share = 0.9952 share, legal limit >= 1" in text
    assert "internal threshold <= 2" in text  # a POLICY figure is never presented as the law's
    assert "findings.json" in text and "findings.csv" in text
    assert "&lt;" not in text


def test_subject_is_ascii_for_any_platform_name(doc):
    doc["run"]["platform"] = "Bazar Ünïcødé\u2013Ω"
    doc["summary"]["counts"] = {"PASS": 3}
    subject, _, _ = report.render_email(doc, "board")
    assert subject.isascii() and "\n" not in subject
    assert subject.startswith("[DSA] Bazar Unicd") and subject.endswith("2025-H2: 0 FAIL, 0 WARN")


def test_audiences_get_different_content(doc):
    fail_ids = [f["obligation_id"] for f in by_status(doc, "FAIL")]
    pass_id = by_status(doc, "PASS")[0]["obligation_id"]
    _, board_text, board_html = report.render_email(doc, "board")
    _, ts_text, ts_html = report.render_email(doc, "trust_and_safety")
    _, comp_text, comp_html = report.render_email(doc, "compliance")
    for fid in fail_ids:
        assert fid in board_text and fid in ts_text and fid in comp_text
    assert "EUR 720,000,000" in board_text and "EUR 720,000,000" not in ts_text
    assert "T-004217" not in board_html and "T-004217" in ts_html and "T-004217" in ts_text
    assert pass_id not in board_html and pass_id not in ts_html and pass_id in comp_html
    assert report.render_email(doc, "legal")[1:] == (comp_text, comp_html)


def parse_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_findings_csv_round_trips(doc):
    data = report.findings_csv(doc)
    rows = parse_csv(data)
    assert data.startswith(b"obligation_id,article,title,severity,status,waived_status,previous_status,")
    assert tuple(rows[0]) == report.CSV_COLUMNS
    assert [r["obligation_id"] for r in rows] == [f["obligation_id"] for f in doc["findings"]]
    waived = next(r for r in rows if r["status"] == "WAIVED")
    assert waived["waived_status"] == "WARN" and waived["threshold"] == "0.95"
    insufficient = next(r for r in rows if r["status"] == "INSUFFICIENT_DATA")
    assert insufficient["missing"] == "registers/publications" and insufficient["metric_value"] == ""
    assert next(r for r in rows if r["obligation_id"].startswith("DSA-23.1-REPEAT"))["evidence_count"] == "5"


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1:A2)", "\tx", "\r=1"])
def test_findings_csv_neutralises_formulas(doc, text):
    doc["findings"][0]["message"] = text
    doc["findings"][1]["title"] = text
    rows = parse_csv(report.findings_csv(doc))
    assert rows[0]["message"] == "'" + text
    assert rows[1]["title"] == "'" + text


def test_findings_csv_keeps_numbers_numeric(doc):
    doc["findings"][0]["metric"]["value"] = -1.5
    doc["findings"][0]["message"] = 'a "quoted", multi\nline message'
    rows = parse_csv(report.findings_csv(doc))
    assert rows[0]["metric_value"] == "-1.5"
    assert rows[0]["message"] == 'a "quoted", multi\nline message'


@given(st.text(max_size=40))
def test_no_csv_text_cell_can_start_a_formula(text):
    document = {"findings": [{"obligation_id": "DSA-X", "status": "PASS", "message": text}]}
    cell = parse_csv(report.findings_csv(document))[0]["message"]
    if text.startswith(("=", "+", "-", "@", "\t", "\r")):
        assert cell == "'" + text
    else:
        assert cell == text
