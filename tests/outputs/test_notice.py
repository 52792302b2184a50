"""The arrival notice: the short e-mail of an object that landed with rows quarantined or content unreadable."""

from __future__ import annotations

import pytest

from dsa_report.app.settings import Settings
from dsa_report.outputs.notice import arrival_notice, needs_notice

SOURCE = "s3://raw/shop/notices/2025/10/export.zip"
RECORD = {
    "source": SOURCE, "dataset": "notices", "ingested_at": "2025-11-02T06:00:00Z", "object": "o", "version": "v",
    "parts": {"2025-10": {}, "2025-11": {}},
    "quality": {
        "rows": 1200, "quarantined_rows": 3,
        "reasons": {"bad timestamp received_at": 2, "missing notice_id": 1},
        "examples": [{"file": SOURCE, "row": 4, "reason": "missing notice_id", "value": "jane.doe@example.com"},
                     {"file": SOURCE + "/inner.csv", "line": 9, "reason": "bad timestamp received_at"}],
        "unreadable_files": [{"file": SOURCE + "/broken.csv.gz", "reason": "gzip: truncated <b>", "bytes": 12}],
    },
}


def test_the_notice_says_where_how_many_and_why_never_a_value():
    mail = arrival_notice("Shop & Co", RECORD)
    assert mail.subject == "[DSA] Shop & Co: notices file landed with 3 rows quarantined, 1 file unreadable"
    for text in (mail.text, mail.html):
        assert "jane.doe" not in text  # an example's value stays in the store's record, out of e-mail
        assert "1,200" in text and "2025-10, 2025-11" in text and "2025-11-02 06:00:00 UTC" in text
    assert "- bad timestamp received_at: 2\n- missing notice_id: 1\n" in mail.text
    assert "- row 4: missing notice_id\n" in mail.text
    assert f"- {SOURCE}/inner.csv, line 9: bad timestamp received_at\n" in mail.text
    assert f"- {SOURCE}/broken.csv.gz: gzip: truncated <b>\n" in mail.text
    assert "truncated &lt;b&gt;" in mail.html and "<b>" not in mail.html  # autoescaped
    assert "Shop &amp; Co" in mail.html


def test_a_notice_is_owed_only_for_quarantined_rows_or_unreadable_content():
    assert needs_notice(RECORD)
    assert not needs_notice({"quality": {"rows": 5, "quarantined_rows": 0, "unreadable_files": []}})
    assert not needs_notice(None)  # a register copied into the store has no record


@pytest.mark.parametrize(("value", "audience"), [(None, None), ("", None), ("compliance", "compliance"),
                                                 (" trust_and_safety ", "trust_and_safety")])
def test_dsa_arrival_audience_names_an_audience_or_nothing(value, audience):
    env = {} if value is None else {"DSA_ARRIVAL_AUDIENCE": value}
    assert Settings.from_env(env).arrival_audience == audience


def test_a_mistyped_arrival_audience_is_refused_never_silently_unsent():
    with pytest.raises(ValueError, match="DSA_ARRIVAL_AUDIENCE must be one of board, compliance, trust_and_safety"):
        Settings.from_env({"DSA_ARRIVAL_AUDIENCE": "complaince"})
