"""The scheduled path through a real HTTP endpoint (moto server): S3 data -> Lambda handler -> SES -> archive.

`dsa-report demo` is exactly this path, so the test runs it on a small synthetic marketplace and then reads
back what SES accepted, what was archived, and what the retry did.
"""

import email
import json
from email import policy

import jsonschema
import pytest

from contract_files import FINDINGS_SCHEMA
from dsa_report.tools.demo import run_demo

SCHEMA = json.loads(FINDINGS_SCHEMA.read_text())


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    lines: list[str] = []
    assert run_demo(out, scale=4000, seed=3, say=lines.append) == 0
    return out, "\n".join(lines)


def test_findings_are_valid_and_find_the_planted_breaches(demo_out):
    out, _ = demo_out
    document = json.loads((out / "findings.json").read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["run"]["trigger"] == "schedule" and document["run"]["platform"] == "ExampleMarket"
    status = {f["obligation_id"]: f["status"] for f in document["findings"]}
    for obligation in ("DSA-23.1-REPEAT-INFRINGER-SUSPENSION", "DSA-35-HIDDEN-LINK-SURVIVAL",
                       "DSA-34-RA-FRESHNESS", "DSA-16-NOTICE-TIMELINESS", "DSA-30-KYBC-COMPLETENESS"):
        assert status[obligation] == "FAIL", obligation
    assert document["data_quality"]["statements_of_reasons"]["rows"] > 4000


def test_each_audience_got_one_mail_with_both_parts_and_attachments(demo_out):
    out, _ = demo_out
    document = json.loads((out / "findings.json").read_text())
    sent = sorted(p for p in (out / "sent").glob("*.eml") if p.name != "arrival-notice.eml")
    assert len(sent) == 3  # board, compliance, trust_and_safety: once each, the retry sent nothing
    recipients = set()
    for path in sent:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        period = document["run"]["period"]["label"]
        assert "ExampleMarket" in message["Subject"] and period in message["Subject"]
        recipients.add(message["To"])
        types = [part.get_content_type() for part in message.walk()]
        assert {"text/plain", "text/html", "application/json", "text/csv"} <= set(types)
        files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
        attached = json.loads(files["findings.json"])
        assert attached["run"]["id"] == document["run"]["id"]
        text = message.get_body(("plain",)).get_content()
        assert "DSA-23.1-REPEAT-INFRINGER-SUSPENSION" in text or "FAIL" in text
    assert len(recipients) == 3


def test_the_late_export_with_a_broken_row_was_mailed_to_compliance_the_day_it_landed(demo_out):
    out, said = demo_out
    notice = email.message_from_bytes((out / "sent" / "arrival-notice.eml").read_bytes(), policy=policy.default)
    assert notice["To"] == "compliance@examplemarket.example"
    assert notice["Subject"].strip() == "[DSA] ExampleMarket: notices file landed with 1 row quarantined"
    text = notice.get_body(("plain",)).get_content()
    assert "notices/late-export/notices-fix.jsonl" in text and "- bad timestamp received_at: 1" in text
    assert "last Tuesday" not in notice.as_string()  # the broken value stays out of e-mail
    assert "notice to compliance: sent" in said


def test_archive_has_manifest_with_checksums(demo_out):
    import hashlib

    out, printed = demo_out
    manifest = json.loads((out / "manifest.json").read_text())
    names = {entry["name"]: entry for entry in manifest["files"]}
    for name in ("findings.json", "findings.csv", "report.html"):
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == names[name]["sha256"]
    assert "retry: 0 sent, 3 recognised as already sent" in printed
    assert "DSA-35-HIDDEN-LINK-SURVIVAL" in (out / "report.html").read_text()


def test_waivers_trend_and_exposure_are_in_the_report(demo_out):
    out, _ = demo_out
    document = json.loads((out / "findings.json").read_text())
    findings = {f["obligation_id"]: f for f in document["findings"]}
    waived = findings["DSA-30-KYBC-VERIFICATION"]
    assert waived["status"] == "WAIVED" and waived["waived_status"] == "WARN"
    assert waived["waiver"]["approved_by"] == "Chief Compliance Officer"
    expired = document["summary"]["waivers"]["expired"]
    assert [w["obligation"] for w in expired] == ["DSA-24.5-SOR-SUBMISSION-DELAY"]
    assert findings["DSA-24.5-SOR-SUBMISSION-DELAY"]["status"] == "WARN"  # the expired waiver does not apply
    assert document["summary"]["trend"]["previous_run"]  # last month's archived run
    assert all("previous_status" in f for f in document["findings"])
    assert any(f.get("trend") == "new" for f in document["findings"])
    exposure = document["summary"]["exposure"]
    assert exposure["max_fine_eur"] == 720_000_000 and round(exposure["max_periodic_penalty_per_day_eur"]) == 1643836
    html = (out / "report.html").read_text()
    assert "Art. 74" in html and "Chief Compliance Officer" in html
