"""The v2 datasets orders, odr_disputes, buyer_notifications, ads and moderation_staff through the loader:
typed columns, closed vocabularies, and the v2 quarantine reason `negative duration` (data contract, "Files
and formats": an order acknowledged or given effect before it was received, a dispute closed before it was
submitted)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dsa_report.ingest import loader as datasets
from dsa_report.ingest import sources

NOW = datetime(2026, 1, 2, 6, 0, tzinfo=UTC)  # the run time: anything after 2026-01-03 is in the future
ORDER_HEADER = ("order_id,kind,member_state,category,received_at,acknowledged_at,deadline_at,outcome,"
                "effect_given_at,effect_reported_at")
DISPUTE_HEADER = "dispute_id,decision_puid,body,submitted_at,closed_at,outcome,implemented_at"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def load(src: Path, tmp_path: Path):
    return datasets.load(sources.collect(str(src), tmp_path / "work"), datasets.connect(), platform_names=None,
                         now=NOW)


def rows(data, sql: str) -> list[tuple]:
    return data.con.execute(sql).fetchall()


def test_orders_acknowledged_or_given_effect_before_receipt_are_quarantined_as_negative_duration(tmp_path):
    src = tmp_path / "src"
    write(src / "orders" / "orders.csv", "\n".join([
        ORDER_HEADER,
        "O1,ACT_AGAINST_ILLEGAL_CONTENT,DE,STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS,2025-09-01 10:00:00,"
        "2025-09-01 11:00:00,2026-02-01 00:00:00,GIVEN_EFFECT,2025-09-02 10:00:00,2025-09-02 12:00:00",
        "O2,PROVIDE_INFORMATION,FR,,2025-09-01 10:00:00,2025-09-01 09:00:00,,PENDING,,",
        "O3,PROVIDE_INFORMATION,FR,,2025-09-01 10:00:00,2025-09-01 11:00:00,,GIVEN_EFFECT,2025-08-30 10:00:00,",
        "O4,REMOVE_EVERYTHING,IT,,2025-09-01 10:00:00,,,PENDING,,",
        "O5,PROVIDE_INFORMATION,IT,,2025-09-01 10:00:00,2025-09-01 10:00:00,,GIVEN_EFFECT,2025-09-01 10:00:00,",
    ]) + "\n")
    data = load(src, tmp_path)
    q = data.quality["orders"]
    assert q["reasons"] == {"negative duration": 2, "unknown value kind": 1}
    assert [(e["row"], e["reason"], e.get("value")) for e in q["examples"]] == [
        (2, "negative duration", "2025-09-01 10:00:00 > 2025-09-01 09:00:00"),
        (3, "negative duration", "2025-09-01 10:00:00 > 2025-08-30 10:00:00"),
        (4, "unknown value kind", "REMOVE_EVERYTHING"),
    ]
    # a deadline after the run is the order's own time limit, not a future event; equal times are no negative
    assert rows(data, "SELECT order_id, category, CAST(deadline_at AS VARCHAR) FROM orders ORDER BY 1") == [
        ("O1", "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "2026-02-01 00:00:00"), ("O5", None, None)]


def test_disputes_closed_before_submission_are_quarantined_and_jsonl_timestamps_are_compared_typed(tmp_path):
    src = tmp_path / "src"
    write(src / "odr_disputes" / "a.csv", "\n".join([
        DISPUTE_HEADER,
        "D1,P1,ODS Body A,2025-08-01,2025-09-01,IN_FAVOUR_OF_RECIPIENT,2025-09-03",
        "D2,P2,ODS Body A,2025-08-01,2025-07-01,IN_FAVOUR_OF_PROVIDER,",
        "D3,P3,ODS Body A,2025-08-01,,PENDING,",
        "D4,P4,ODS Body A,2025-08-01,2025-09-01,,",
    ]) + "\n")
    write(src / "odr_disputes" / "b.jsonl",
          '{"dispute_id": "D5", "submitted_at": "2025-08-01T00:00:00Z", "closed_at": "2025-07-31T23:00:00Z",'
          ' "outcome": "SETTLED"}\n')
    data = load(src, tmp_path)
    q = data.quality["odr_disputes"]
    assert q["reasons"] == {"negative duration": 2, "missing outcome": 1}
    assert rows(data, "SELECT dispute_id FROM odr_disputes ORDER BY 1") == [("D1",), ("D3",)]


def test_notifications_ads_and_staff_are_typed_as_the_contract_says(tmp_path):
    src = tmp_path / "src"
    write(src / "buyer_notifications" / "b.csv",
          "item_id,aware_at,consumers_6m,consumers_6m_with_contact,notified,notified_at,public_notice_at\n"
          "I1,2025-09-01,120,100,100,2025-09-03,2025-09-04\nI2,2025-09-01,many,0,0,,\n")
    write(src / "ads" / "a.csv",
          "ad_id,first_shown_at,last_shown_at,in_repository_at,removed_from_repository_at,targeted,payer_differs,"
          "removed_under_39_3,has_content,has_advertiser,has_payer,has_period,has_targeting_parameters,"
          "has_total_reach,has_reach_per_member_state,has_sor_information\n"
          "A1,2025-09-01,2025-09-30,2025-09-01 02:00:00,2027-01-01,Yes,No,false,1,1,0,1,1,1,1,0\n")
    con = duckdb.connect()
    (src / "moderation_staff").mkdir(parents=True)
    staff = con.sql("SELECT * FROM (VALUES ('2025-09', 'de', 12.5::DOUBLE, 'law degree'), "
                    "('2025-09', 'en', 40::DOUBLE, NULL)) t(month, language, staff, qualification)")
    staff.write_parquet(str(src / "moderation_staff" / "staff.parquet"))
    write(src / "moderation_staff" / "more.csv", "month,language,staff\n2025-10,fr,3.25\n2025-10,EN,4\n"
                                                 "2025-10,it,four\n")
    data = load(src, tmp_path)
    assert rows(data, "SELECT item_id, consumers_6m, notified FROM buyer_notifications") == [("I1", 120, 100)]
    assert data.quality["buyer_notifications"]["reasons"] == {"bad integer consumers_6m": 1}
    assert rows(data, "SELECT targeted, payer_differs, has_payer, has_sor_information, "
                      "CAST(removed_from_repository_at AS VARCHAR) FROM ads") == [
        (True, False, False, False, "2027-01-01 00:00:00")]  # a scheduled purge may lie after the run
    assert rows(data, "SELECT month, language, staff FROM moderation_staff ORDER BY 1, 2") == [
        ("2025-09", "de", 12.5), ("2025-09", "en", 40.0), ("2025-10", "fr", 3.25)]
    assert data.quality["moderation_staff"]["reasons"] == {"bad number staff": 1, "unknown value language": 1}
