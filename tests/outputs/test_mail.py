"""mail.py: the MIME message parses back into text, HTML and the two attachments."""

from __future__ import annotations

import email
import json
from email.policy import default

import pytest

from contract_files import FIXTURES
from dsa_report.outputs import report
from dsa_report.outputs.mime import Attachment, MessageTooLarge, build_message

DOC = json.loads((FIXTURES / "findings_sample.json").read_text(encoding="utf-8"))


def make(**overrides):
    subject, text, html = report.render_email(DOC, "compliance")
    kwargs = dict(
        sender="DSA Reports <dsa-reports@example.com>",
        recipients=["compliance@example.com", "cco@example.org"],
        subject=subject, text=text, html=html,
        attachments=[
            Attachment("findings.json", json.dumps(DOC, ensure_ascii=False).encode(), "application/json"),
            Attachment("findings.csv", report.findings_csv(DOC), "text/csv"),
        ],
        headers={"X-DSA-Report-Run": DOC["run"]["id"]},
    )
    kwargs.update(overrides)
    return build_message(**kwargs)


def test_message_structure_round_trips():
    msg = make()
    parsed = email.message_from_bytes(msg.as_bytes(), policy=default)
    assert parsed.get_content_type() == "multipart/mixed"
    types = [part.get_content_type() for part in parsed.walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html",
                     "application/json", "text/csv"]
    attachments = {part.get_filename(): part for part in parsed.iter_attachments()}
    assert set(attachments) == {"findings.json", "findings.csv"}
    assert json.loads(attachments["findings.json"].get_content()) == DOC
    assert attachments["findings.csv"].get_payload(decode=True) == report.findings_csv(DOC)
    body = parsed.get_body(preferencelist=("plain",)).get_content()
    assert "DSA-23.1-REPEAT-INFRINGER-SUSPENSION" in body
    assert 'style="' in parsed.get_body(preferencelist=("html",)).get_content()


def test_headers():
    parsed = email.message_from_bytes(make().as_bytes(), policy=default)
    assert parsed["Subject"] == "[DSA] ExampleMarket 2025-H2: 3 FAIL, 2 WARN, 1 ERROR"
    assert parsed["From"].addresses[0].addr_spec == "dsa-reports@example.com"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["compliance@example.com", "cco@example.org"]
    assert parsed["X-DSA-Report-Run"] == DOC["run"]["id"]
    assert parsed["Date"].datetime is not None
    assert parsed["Message-ID"].endswith("@example.com>")
    assert b"\r\n" in make().as_bytes()  # SMTP policy: CRLF line endings


def test_given_header_replaces_ours():
    parsed = email.message_from_bytes(make(headers={"Subject": "custom"}).as_bytes(), policy=default)
    assert parsed.get_all("Subject") == ["custom"]


def test_non_ascii_text_survives():
    msg = make(text="Zusammenfassung: Prüfung fällig – 3 FAIL", subject="[DSA] Ünï")
    parsed = email.message_from_bytes(msg.as_bytes(), policy=default)
    plain = parsed.get_body(preferencelist=("plain",)).get_content()
    assert plain.startswith("Zusammenfassung: Prüfung fällig")
    assert msg.as_bytes().isascii()


def test_too_large_message_is_refused():
    big = Attachment("evidence.csv", b"x" * 200_000, "text/csv")
    with pytest.raises(MessageTooLarge, match="evidence.csv"):
        make(attachments=[big], max_bytes=100_000)
    assert make(attachments=[big], max_bytes=1_000_000)  # the same message fits a larger limit


def test_needs_a_recipient():
    with pytest.raises(ValueError):
        make(recipients=[])


def test_inline_charts_travel_in_multipart_related_by_content_id():
    mail = report.compose_email(DOC, "compliance")
    assert mail.images
    msg = make(html=mail.html, inline=mail.images)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=default)
    types = [part.get_content_type() for part in parsed.walk()]
    assert types[:5] == ["multipart/mixed", "multipart/alternative", "text/plain", "multipart/related", "text/html"]
    images = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert len(images) == len(mail.images)
    html = parsed.get_body(preferencelist=("html",)).get_content()
    for part, image in zip(images, mail.images, strict=True):
        assert part["Content-ID"] == f"<{image.cid}>" and f"cid:{image.cid}" in html
        assert part.get_payload(decode=True) == image.content
    assert {a.get_filename() for a in parsed.iter_attachments()} == {"findings.json", "findings.csv"}
