"""report.py: the HTML report, the e-mails per audience and findings.csv, from the sample document."""

from __future__ import annotations

import copy
import csv
import io
import json
from html import escape

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import UndefinedError

from contract_files import FINDINGS_SCHEMA, FIXTURES
from dsa_report.outputs import labels, report
from dsa_report.vocabulary import AUDIENCES, STATUSES

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


def test_report_shows_every_failure_with_its_figure_limit_and_evidence(doc):
    html = report.render_report_html(doc)
    assert html.startswith("<!DOCTYPE html>") and "<style" in html
    for finding in by_status(doc, "FAIL"):
        assert f'id="{finding["obligation_id"]}"' in html  # the anchor e-mails link to
        assert f"Art. {finding['article']}" in html
        metric = finding["metric"]
        assert labels.metric_label(metric["name"]) in html
        assert escape(report.limit_text(metric)) in html  # "internal threshold: none allowed" (v2 basis)
        assert finding["remediation"] in html
        first_row = finding["evidence"]["sample"][0]
        assert f'<td data-label="Trader">{first_row["trader_id"]}</td>' in html
    assert "<th>Over threshold on</th>" in html and "<th>First suspension</th>" in html
    for header in ("ExampleMarket", "VLOP", "2025-H2", "2025-07-01", "2025-12-31", "schedule",
                   doc["run"]["id"], doc["run"]["generated_at"], doc["run"]["catalogue_version"]):
        assert header in html


def test_a_policy_figure_is_an_internal_threshold_and_a_law_figure_a_legal_limit(doc):
    html = report.render_report_html(doc)
    assert "internal threshold: none allowed" in html  # DSA-23.1 (POLICY)
    assert "legal limit: at least 100%" in html  # DSA-30 KYBC (LAW)
    assert "Traders with complete KYBC: 99.52%" in html


def test_findings_table_lists_worst_status_first_with_filters_and_sorting(doc):
    html = report.render_report_html(doc)
    table = html[html.index('<table id="findings"'):html.index("</table>", html.index('<table id="findings"'))]
    statuses = [row.split('data-status="')[1].split('"')[0] for row in table.split("<tr ")[1:]]
    assert statuses == sorted(statuses, key=STATUSES.index) and set(statuses) == set(STATUSES)
    for control in ('id="f-status"', 'id="f-severity"', 'id="f-article"', 'data-sort="severity"'):
        assert control in html
    assert "<script>" in html and "src=" not in html.split("<script>")[1]  # inline, no CDN
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_report_groups_findings_by_article_with_the_articles_words(doc):
    doc["findings"][0]["article_words"] = 'Art. 23(1): providers "shall suspend, for a reasonable period"'
    html = report.render_report_html(doc)
    assert html.index('id="art-17"') < html.index('id="art-23"') < html.index('id="art-34"')
    assert "<blockquote>Art. 23(1): providers &#34;shall suspend" in html


def test_report_shows_waiver_missing_error_quality_and_metrics(doc):
    html = report.render_report_html(doc)
    waived = by_status(doc, "WAIVED")[0]
    for value in (waived["waiver"]["justification"], waived["waiver"]["approved_by"],
                  waived["waiver"]["expires"], 'badge-WARN">warning'):
        assert value in html
    assert "registers/publications" in html
    assert by_status(doc, "ERROR")[0]["message"].replace("'", "&#39;") in html
    assert "apply only after a decision" in html and "Art. 74(1), 74(2) and 76 DSA" in html
    assert "EUR 720,000,000" in html
    assert "corrupt gzip stream" in html and "unparseable_timestamp: 41" in html
    assert "no reinstatements in the period" in html
    assert "previous period: met" in html
    assert "What it means" in html and labels.meaning("notice_median_decision_hours") in html


def test_waivers_table_names_each_waiver_once(doc):
    doc["summary"]["waivers"] = {"applied": [{"obligation": "DSA-30-KYBC-VERIFICATION", "justification": "VIES",
                                              "approved_by": "CCO", "expires": "2026-03-31",
                                              "obligations": ["DSA-30-KYBC-VERIFICATION"]}],
                                 "expired": [], "unmatched": []}
    html = report.render_report_html(doc)
    section = html[html.index("<h2>Waivers</h2>"):]
    section = section[:section.index("</table>")]
    assert section.count("DSA-30-KYBC-VERIFICATION") == 1 and "<th>Obligation</th>" not in section


def test_report_lists_expired_waivers_and_hides_absent_exposure(doc):
    doc["summary"]["waivers"] = {"applied": [], "unmatched": [], "expired": [
        {"obligation": "DSA-35-*", "justification": "migration", "approved_by": "CCO",
         "expires": "2025-06-30"}
    ]}
    del doc["summary"]["exposure"]
    html = report.render_report_html(doc)
    assert "expired (no longer applies)" in html and "2025-06-30" in html
    assert "Legal ceilings" not in html and "Fine up to" not in html


def test_an_empty_evidence_list_prints_no_bare_label(doc):
    finding = by_status(doc, "WARN")[0]
    finding["evidence"]["without_kri"] = []
    finding["evidence"]["unverifiable"] = None
    html = report.render_report_html(doc)
    _, text, mail = report.render_email(doc, "compliance")
    for out in (html, mail, text):
        assert "Without kri" not in out and "without kri" not in out and "Unverifiable" not in out


def test_enum_keys_and_raw_metric_names_are_shown_in_words(doc):
    finding = by_status(doc, "FAIL")[0]
    finding["evidence"]["sample"][0]["category"] = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"
    html = report.render_report_html(doc)
    _, text, mail = report.render_email(doc, "compliance")
    for out in (html, mail, text):
        assert "Unsafe and prohibited products" in out
        assert "STATEMENT_CATEGORY_" not in out
    assert "repeat_infringers_unsuspended =" not in text and "Repeat infringers not suspended: 3 traders" in text


def test_html_outputs_escape_and_text_does_not(doc):
    doc["findings"][0]["message"] = '<script>alert("x")</script>'
    doc["findings"][0]["evidence"]["sample"][0]["trader_id"] = "<img src=x onerror=alert(1)>"
    html = report.render_report_html(doc)
    _, text, mail_html = report.render_email(doc, "compliance")
    _, _, ts_html = report.render_email(doc, "trust_and_safety")
    for out in (html, mail_html, ts_html):
        assert '<script>alert' not in out and "<img src=x" not in out
        assert "&lt;img src=x" in out
    assert "&lt;script&gt;" in html and "&lt;script&gt;" in mail_html
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


def test_email_html_keeps_head_styles_and_inlines_only_colours(doc):
    subject, text, html = report.render_email(doc, "compliance")
    assert subject == "[DSA] ExampleMarket 2025-H2: 3 FAIL, 2 WARN, 1 ERROR"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<style data-css-inline="ignore">' in html and "@media (max-width: 560px)" in html
    assert 'class="badge badge-FAIL" style="' in html  # colours survive clients that drop <style>
    assert '<td style=' not in html  # cell styles stay in the head: no 165 KB bodies
    for finding in by_status(doc, "FAIL"):
        assert finding["title"] in text and finding["title"] in html
    assert "Traders with complete KYBC: 99.52% (legal limit: at least 100%)" in text
    assert "internal threshold: at most 2 days" in text  # a POLICY figure is never presented as the law's
    assert "findings.json" in text and "findings.csv" in text
    assert "&lt;" not in text


def test_subjects_say_each_audiences_verdict(doc):
    assert report.render_email(doc, "board")[0] == ("[DSA] ExampleMarket 2025-H2: action needed, 3 not met "
                                                    "(1 critical), 2 warnings")
    acting = [f for f in doc["findings"] if f["status"] in ("FAIL", "WARN") and f["evidence"]["count"]]
    items = sum(f["evidence"]["count"] for f in acting)
    assert report.render_email(doc, "trust_and_safety")[0] == (f"[DSA] ExampleMarket 2025-H2: "
                                                               f"{len(acting)} lists to act on, {items} items")
    for finding in doc["findings"]:
        finding["status"] = "PASS"
    doc["summary"]["counts"] = {"PASS": len(doc["findings"])}
    assert report.render_email(doc, "board")[0].endswith("2025-H2: no rule failed")
    assert report.render_email(doc, "trust_and_safety")[0].endswith("nothing to act on")


def test_subject_is_ascii_for_any_platform_name(doc):
    doc["run"]["platform"] = "Bazar Ünïcødé\u2013Ω"
    subject, _, _ = report.render_email(doc, "compliance")
    assert subject.isascii() and "\n" not in subject
    assert subject.startswith("[DSA] Bazar Unicd") and subject.endswith("2025-H2: 3 FAIL, 2 WARN, 1 ERROR")


def test_board_reads_a_verdict_and_the_worst_findings_first(doc):
    _, text, html = report.render_email(doc, "board")
    body = html[html.index("<body>"):]
    assert body.index("Action needed: 3 findings not met (1 critical, 2 high)") < body.index("<h2>")
    first = body.index("Repeat infringers suspended within the grace period")
    assert first < body.index("Hidden-link sellers penalised") < body.index("Legal ceilings")
    assert "Repeat infringers not suspended: 3 traders (internal threshold: none allowed)." in text
    assert "T-004217" not in html and "T-004217" not in text  # no evidence lists for the board
    assert "EUR 720,000,000" in html


def test_trust_and_safety_gets_the_lists_to_act_on_worst_first(doc):
    _, text, html = report.render_email(doc, "trust_and_safety")
    assert "Traders to suspend (repeat infringers): 5" in html
    sample = by_status(doc, "FAIL")[0]["evidence"]["sample"]
    positions = [html.index(f">{row['trader_id']}<") for row in sample]
    assert positions == sorted(positions)  # worst first, as the rule ordered them
    assert "offending_items.csv" in html and "offending_items.csv" in text
    pass_id = by_status(doc, "PASS")[0]["title"]
    assert pass_id not in html and "EUR 720,000,000" not in html


def test_compliance_gets_everything_by_article(doc):
    _, text, html = report.render_email(doc, "compliance")
    for finding in doc["findings"]:
        assert finding["title"] in html
    assert "<h2>Not checked</h2>" in html and "Codes of conduct" in html
    assert "Not checked" in text and "EUR 720,000,000" in html


def test_an_unknown_audience_is_refused_not_sent_the_compliance_mail(doc):
    with pytest.raises(ValueError, match="boardroom"):
        report.render_email(doc, "boardroom")


def test_every_email_html_body_stays_under_100_kb_however_large_the_evidence(doc):
    row = {"trader_id": "T-" + "9" * 40, "note": "x" * 400, "category": "STATEMENT_CATEGORY_VIOLENCE"}
    for n in range(60):
        doc["findings"].append({**copy.deepcopy(by_status(doc, "FAIL")[0]), "obligation_id": f"DSA-99-X{n}",
                                "evidence": {"count": 20, "sample": [dict(row) for _ in range(20)]}})
    doc["summary"]["counts"]["FAIL"] += 60
    for audience in AUDIENCES:
        mail = report.compose_email(doc, audience)
        assert len(mail.html.encode()) <= report.EMAIL_HTML_LIMIT, audience


def test_emails_carry_their_charts_as_png_by_content_id(doc):
    board = report.compose_email(doc, "board")
    assert [i.filename for i in board.images] == ["overview.png"]  # no previous period: no trend chart
    for image in board.images:
        assert image.content.startswith(b"\x89PNG") and f'src="cid:{image.cid}"' in board.html
    assert "<svg" not in board.html
    html = report.render_report_html(doc)
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="chart-overview"' in html and "cid:" not in html


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


def test_findings_csv_writes_comparators_as_words_not_guarded_formulas(doc):
    rows = parse_csv(report.findings_csv(doc))
    comparators = {r["comparator"] for r in rows if r["comparator"]}
    assert comparators <= {"at least", "at most", "exactly", "above", "below"} and "at most" in comparators
    assert not any(r["comparator"].startswith("'") for r in rows)


def test_items_csv_has_every_offending_item_of_every_finding_worst_first(doc):
    full = [{"trader_id": f"T-{n:03d}", "illegal_items": 30 - n} for n in range(25)]
    full[3]["note"] = "=HYPERLINK(\"http://x\")"
    rows = parse_csv(report.items_csv(doc, {"DSA-23.1-REPEAT-INFRINGER-SUSPENSION": full}))
    assert tuple(rows[0]) == report.ITEMS_CSV_COLUMNS
    repeat = [r for r in rows if r["obligation_id"] == "DSA-23.1-REPEAT-INFRINGER-SUSPENSION"]
    assert [r["trader_id"] for r in repeat] == [f"T-{n:03d}" for n in range(25)]  # the full list, not the sample
    assert [r["rank"] for r in repeat] == [str(n) for n in range(1, 26)]
    assert repeat[3]["details"].startswith("illegal_items: 27; note: =HYPERLINK")  # mid-cell: not a formula
    penalties = [r for r in rows if r["obligation_id"] == "DSA-35-HIDDEN-LINK-PENALTIES"]
    assert [r["item_id"] for r in penalties] == ["I-55120", "I-61877"]  # no full list given: the sample
    assert all(r["id_column"] == "trader_id" for r in repeat + penalties)


def test_items_csv_neutralises_a_formula_in_an_id(doc):
    rows = parse_csv(report.items_csv(doc, {"DSA-23.1-REPEAT-INFRINGER-SUSPENSION": [{"trader_id": "=1+1"}]}))
    assert next(r for r in rows if r["obligation_id"].startswith("DSA-23.1"))["trader_id"] == "'=1+1"


def test_offending_items_csv_goes_to_trust_and_safety_only():
    from dsa_report.outputs.registry import ITEMS_CSV, OUTPUTS

    output = OUTPUTS[ITEMS_CSV]
    assert output.evidence and [a for a in AUDIENCES if output.attached_to(a)] == ["trust_and_safety"]
    assert all(OUTPUTS[name].attached_to(a) for name in ("findings.json", "findings.csv") for a in AUDIENCES)
