"""Dirty data never sinks a report: every case of real-world mess, one small data folder each.

Each case writes a dirty file next to clean ones, loads the folder through `sources.collect` + `datasets.load`
and checks three things: what the data-quality section says about the problem, that the clean rows of the
other files are all there, and that nothing was dropped silently (every row read is loaded, quarantined,
counted as another platform's or as a duplicate, or sits in a file named in `unreadable_files`).
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dsa_report.app import pipeline
from dsa_report.engine.periods import parse_period
from dsa_report.ingest import loader as datasets
from dsa_report.ingest import sources
from dsa_report.obligations.config import Config
from dsa_report.obligations.evaluation import default_catalogue

NOW = datetime(2025, 8, 5, 6, 0, tzinfo=UTC)  # the run time: anything after 2025-08-06 is in the future
PLATFORM = "ExampleMarket"
SOR_HEADER = "platform_name,platform_uid,uuid,decision_ground,category,source_type,application_date,created_at"
NOTICE_HEADER = "notice_id,received_at,decided_at,source_type,outcome"
GROUND = "DECISION_GROUND_ILLEGAL_CONTENT"
PRODUCTS = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def sor_row(uid: str, applied: str = "2025-07-02", created: str = "2025-07-03", *, uuid: str = "",
            platform: str = PLATFORM, category: str = PRODUCTS, source: str = "SOURCE_ARTICLE_16") -> str:
    return f"{platform},{uid},{uuid or 'u-' + uid},{GROUND},{category},{source},{applied},{created}"


def notice_row(nid: str, received: str = "2025-07-01 10:00:00", source: str = "SOURCE_ARTICLE_16") -> str:
    return f"{nid},{received},2025-07-02 09:00:00,{source},ACTION_TAKEN"


def csv_text(header: str, rows: list[str], newline: str = "\n") -> str:
    return newline.join([header, *rows]) + newline


def clean_folder(src: Path) -> Path:
    """Three clean SoRs and three clean notices: the rows every case must still find."""
    write(src / "statements_of_reasons" / "clean.csv",
          csv_text(SOR_HEADER, [sor_row("C1"), sor_row("C2"), sor_row("C3")]))
    write(src / "notices" / "clean.csv", csv_text(NOTICE_HEADER, [notice_row(f"CN{i}") for i in (1, 2, 3)]))
    return src


def load(src: Path, tmp_path: Path):
    collected = sources.collect(str(src), tmp_path / "work")
    return datasets.load(collected, datasets.connect(), platform_names=[PLATFORM], now=NOW)


def ids(data, table: str, column: str) -> list[str]:
    sql = f"SELECT {column} FROM {table} ORDER BY 1"  # noqa: S608 (identifiers from this file, no data)
    return [row[0] for row in data.con.execute(sql).fetchall()]


def unreadable(q: dict) -> dict[str, str]:
    return {u["file"]: u["reason"] for u in q["unreadable_files"]}


def accounted(q: dict) -> int:
    """Rows of the readable files the loader can account for."""
    return q["rows"] + q["quarantined_rows"] + q.get("other_platform", 0) + q.get("duplicates_removed", 0)


def assert_clean_rows_kept(data) -> None:
    assert {"C1", "C2", "C3"} <= set(ids(data, "sor", "platform_uid"))
    assert {"CN1", "CN2", "CN3"} <= set(ids(data, "notices", "notice_id"))


# ---------------------------------------------------------------- statements of reasons


def test_another_platforms_broken_rows_are_theirs_not_quarantined_rows_of_ours(tmp_path):
    src = clean_folder(tmp_path / "src")
    write(src / "statements_of_reasons" / "global.csv", csv_text(SOR_HEADER, [
        sor_row("O1", applied="yesterday", platform="OtherShop"),
        sor_row("O2", source="SOURCE_X", platform="OtherShop"),
        sor_row("B1", applied="yesterday"), sor_row("", platform=""),
    ]))
    q = load(src, tmp_path).quality["statements_of_reasons"]
    assert q["other_platform"] == 2
    assert q["reasons"] == {"bad timestamp application_date": 1, "missing platform_name": 1}
    assert [e["row"] for e in q["examples"]] == [3, 4]  # ours only, numbered in the file
    assert accounted(q) == 3 + 4


def test_duplicated_puids_across_files_keep_the_earliest(tmp_path):
    src = clean_folder(tmp_path / "src")
    write(src / "statements_of_reasons" / "day1.csv", csv_text(SOR_HEADER, [
        sor_row("007", created="2025-07-05", uuid="late"), sor_row("D2", created="2025-07-04", uuid="d2-first"),
    ]))
    write(src / "statements_of_reasons" / "day2.csv", csv_text(SOR_HEADER, [
        sor_row("007", created="2025-07-03", uuid="early"), sor_row("D2", created="2025-07-06", uuid="d2-late"),
        sor_row("007", created="2025-07-04", uuid="middle"),
        sor_row("007", created="2025-07-02", uuid="other-shop", platform="OtherShop"),  # not this platform
    ]))
    data = load(src, tmp_path)
    q = data.quality["statements_of_reasons"]
    assert q["duplicates_removed"] == 3 and q["other_platform"] == 1 and q["quarantined_rows"] == 0
    kept = dict(data.con.execute("SELECT platform_uid, CAST(created_at AS DATE)::VARCHAR FROM sor "
                                 "WHERE platform_uid IN ('007', 'D2')").fetchall())
    assert kept == {"007": "2025-07-03", "D2": "2025-07-04"}  # leading zeros kept: the PUID is text
    assert ids(data, "sor", "platform_uid") == ["007", "C1", "C2", "C3", "D2"]
    assert accounted(q) == 3 + 2 + 4
    assert_clean_rows_kept(data)


def test_unknown_enum_keys_are_quarantined_with_file_row_and_value(tmp_path):
    src = clean_folder(tmp_path / "src")
    write(src / "statements_of_reasons" / "enums.csv", csv_text(SOR_HEADER, [
        sor_row("E1"),
        sor_row("E2", source="SOURCE_TELEPATHY"),
        sor_row("E3", category="STATEMENT_CATEGORY_MADE_UP"),
        sor_row("E4", category="STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"),  # v1 key: kept, never quarantined
    ]))
    write(src / "notices" / "enums.csv", csv_text(NOTICE_HEADER, [notice_row("EN1", source="SOURCE_VOLUNTARY")]))
    data = load(src, tmp_path)
    q = data.quality["statements_of_reasons"]
    assert q["reasons"] == {"unknown value category": 1, "unknown value source_type": 1}
    assert q["examples"] == [
        {"file": "statements_of_reasons/enums.csv", "row": 2, "reason": "unknown value source_type",
         "value": "SOURCE_TELEPATHY"},
        {"file": "statements_of_reasons/enums.csv", "row": 3, "reason": "unknown value category",
         "value": "STATEMENT_CATEGORY_MADE_UP"},
    ]
    assert ids(data, "sor", "platform_uid") == ["C1", "C2", "C3", "E1", "E4"]
    notices = data.quality["notices"]  # SOURCE_VOLUNTARY is a SoR source, never a notice's
    assert notices["reasons"] == {"unknown value source_type": 1}
    assert notices["examples"][0]["value"] == "SOURCE_VOLUNTARY" and notices["examples"][0]["row"] == 1
    assert accounted(q) == 3 + 4 and accounted(notices) == 3 + 1
    assert_clean_rows_kept(data)


def test_future_impossible_and_implausible_dates(tmp_path):
    src = clean_folder(tmp_path / "src")
    write(src / "statements_of_reasons" / "dates.csv", csv_text(SOR_HEADER, [
        sor_row("T1", applied="2025-02-30", created="2025-03-01"),
        sor_row("T2", applied="2999-01-01", created="2999-01-02"),
        sor_row("T3", applied="1970-01-01", created="1970-01-01"),
        sor_row("T4", applied="2025-07-10", created="2025-09-01"),  # a month after the run
        sor_row("T5", applied="2025-07-10T23:30:00+02:00", created="2025-08-06 05:00:00"),  # within a day: fine
    ]))
    data = load(src, tmp_path)
    q = data.quality["statements_of_reasons"]
    assert q["reasons"] == {"bad timestamp application_date": 1, "future timestamp application_date": 1,
                            "implausible timestamp application_date": 1, "future timestamp created_at": 1}
    assert [(e["row"], e["reason"], e["value"]) for e in q["examples"]] == [
        (1, "bad timestamp application_date", "2025-02-30"),
        (2, "future timestamp application_date", "2999-01-01"),
        (3, "implausible timestamp application_date", "1970-01-01"),
        (4, "future timestamp created_at", "2025-09-01"),
    ]
    assert data.con.execute("SELECT application_date FROM sor WHERE platform_uid = 'T5'").fetchone() == (
        datetime(2025, 7, 10, 21, 30),)  # offset converted to UTC
    assert accounted(q) == 3 + 5
    assert_clean_rows_kept(data)


def test_negative_submission_delay_is_quarantined(tmp_path):
    src = clean_folder(tmp_path / "src")
    write(src / "statements_of_reasons" / "delay.csv", csv_text(SOR_HEADER, [
        sor_row("N1", applied="2025-07-05", created="2025-07-01"),
        sor_row("N2", applied="2025-07-05 23:00:00", created="2025-07-05 01:00:00"),  # same day: delay 0
    ]))
    data = load(src, tmp_path)
    q = data.quality["statements_of_reasons"]
    assert q["reasons"] == {"negative submission delay": 1}
    assert q["examples"] == [{"file": "statements_of_reasons/delay.csv", "row": 1,
                              "reason": "negative submission delay", "value": "2025-07-05 > 2025-07-01"}]
    assert "N2" in ids(data, "sor", "platform_uid") and "N1" not in ids(data, "sor", "platform_uid")
    assert accounted(q) == 3 + 2
    assert_clean_rows_kept(data)


def test_one_day_negative_submission_delay_is_time_zone_skew_not_quarantined(tmp_path):
    src = clean_folder(tmp_path / "src")
    write(src / "statements_of_reasons" / "skew.csv", csv_text(SOR_HEADER, [
        sor_row("K1", applied="2025-07-05", created="2025-07-04 22:30:00"),  # -1 day: a local date, a UTC time
        sor_row("K2", applied="2025-07-05 00:30:00", created="2025-07-03 23:59:59"),  # -2 days: quarantined
    ]))
    data = load(src, tmp_path)
    q = data.quality["statements_of_reasons"]
    assert q["reasons"] == {"negative submission delay": 1}
    assert q["examples"][0]["row"] == 2
    assert "K1" in ids(data, "sor", "platform_uid") and "K2" not in ids(data, "sor", "platform_uid")
    assert_clean_rows_kept(data)


# ---------------------------------------------------------------- encodings and CSV dialect


def test_non_utf8_bytes_quarantine_the_row_or_name_the_file(tmp_path):
    src = clean_folder(tmp_path / "src")
    body = csv_text(NOTICE_HEADER, [notice_row("L1"), notice_row("L2").replace("L2", "L\xe92"), notice_row("L3")])
    write(src / "notices" / "latin1-row.csv", body.encode("latin-1"))  # one row not UTF-8
    write(src / "notices" / "latin1-header.csv", ("notic\xe9_id,received_at\nH1,2025-07-01\n").encode("latin-1"))
    lines = [json.dumps({"notice_id": "J1", "received_at": "2025-07-01"}).encode(),
             b'{"notice_id": "J\xe92", "received_at": "2025-07-01"}',
             json.dumps({"notice_id": "J3", "received_at": "2025-07-02"}).encode()]
    write(src / "notices" / "latin1.jsonl", b"\n".join(lines) + b"\n")
    data = load(src, tmp_path)
    q = data.quality["notices"]
    assert unreadable(q) == {"notices/latin1-header.csv": "header is not UTF-8"}
    assert q["reasons"] == {"malformed row: invalid encoding": 1, "malformed row: invalid or empty JSON": 1}
    assert {"file": "notices/latin1-row.csv", "line": 3, "reason": "malformed row: invalid encoding"} in q["examples"]
    assert {"file": "notices/latin1.jsonl", "row": 2, "reason": "malformed row: invalid or empty JSON"} in q["examples"]
    assert ids(data, "notices", "notice_id") == ["CN1", "CN2", "CN3", "J1", "J3", "L1", "L3"]
    assert accounted(q) == 3 + 3 + 3  # the unreadable file's row is in a named file
    assert_clean_rows_kept(data)


def test_bom_crlf_and_quoted_fields_with_newlines_and_commas(tmp_path):
    src = clean_folder(tmp_path / "src")
    rows = [notice_row("B1"), '"B2, with a comma",2025-07-01,,"SOURCE_ARTICLE_16",ACTION_TAKEN',
            '"B3\r\nsecond line ""quoted""",2025-07-01,,SOURCE_ARTICLE_16,NO_ACTION']
    write(src / "notices" / "windows.csv", "\ufeff" + csv_text(NOTICE_HEADER, rows, newline="\r\n"))
    write(src / "notices" / "old-mac.csv", csv_text(NOTICE_HEADER, [notice_row("M1")], newline="\r"))
    write(src / "notices" / "bom.csv.gz", gzip.compress(("\ufeff" + csv_text(NOTICE_HEADER, [notice_row("G1")]))
                                                       .encode(), mtime=0))
    data = load(src, tmp_path)
    q = data.quality["notices"]
    assert q["quarantined_rows"] == 0 and q["unreadable_files"] == [] and q["files"] == 4
    assert ids(data, "notices", "notice_id") == [
        "B1", "B2, with a comma", 'B3\r\nsecond line "quoted"', "CN1", "CN2", "CN3", "G1", "M1"]
    outcome = data.con.execute("SELECT outcome FROM notices WHERE notice_id LIKE 'B3%'").fetchone()[0]
    assert outcome == "NO_ACTION"  # the embedded line break did not shift the columns
    assert accounted(q) == 3 + 3 + 1 + 1
    assert_clean_rows_kept(data)


# ---------------------------------------------------------------- unreadable, empty and partial files


def test_truncated_zip_and_corrupt_gzip_are_named_and_the_rest_loads(tmp_path):
    src = clean_folder(tmp_path / "src")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("lost.csv", csv_text(SOR_HEADER, [sor_row(f"Z{i}") for i in range(50)]))
    write(src / "statements_of_reasons" / "dump.zip", buf.getvalue()[: len(buf.getvalue()) // 2])
    body = csv_text(NOTICE_HEADER, [notice_row(f"GZ{i}") for i in range(2000)]).encode()
    packed = gzip.compress(body, mtime=0)
    write(src / "notices" / "cut.csv.gz", packed[: len(packed) // 2])  # header readable, body cut off
    write(src / "notices" / "garbage.jsonl.gz", packed[:10] + b"not deflate at all")
    write(src / "notices" / "ok.jsonl.gz", gzip.compress(b'{"notice_id": "OK1", "received_at": "2025-07-01"}\n'))
    data = load(src, tmp_path)
    sor = unreadable(data.quality["statements_of_reasons"])
    assert list(sor) == ["statements_of_reasons/dump.zip"] and sor["statements_of_reasons/dump.zip"].startswith(
        "corrupt zip")
    notices = unreadable(data.quality["notices"])
    assert set(notices) == {"notices/cut.csv.gz", "notices/garbage.jsonl.gz"}
    assert all("/tmp" not in reason and "\n" not in reason for reason in notices.values())
    assert "notices/cut.csv.gz" in notices["notices/cut.csv.gz"]  # named by its origin, not the local copy
    assert ids(data, "notices", "notice_id") == ["CN1", "CN2", "CN3", "OK1"]  # no part of the cut file
    assert accounted(data.quality["notices"]) == 4 and accounted(data.quality["statements_of_reasons"]) == 3
    assert_clean_rows_kept(data)


def test_empty_file_is_named_and_header_only_file_is_zero_rows(tmp_path):
    src = clean_folder(tmp_path / "src")
    write(src / "notices" / "empty.csv", b"")
    write(src / "notices" / "header-only.csv", NOTICE_HEADER + "\r\n")
    write(src / "notices" / "nothing.jsonl", b"")
    data = load(src, tmp_path)
    q = data.quality["notices"]
    assert unreadable(q) == {"notices/empty.csv": "empty file", "notices/nothing.jsonl": "empty file"}
    assert q["files"] == 2 and q["rows"] == 3 and q["quarantined_rows"] == 0  # clean + header-only
    assert data.datasets["notices"].files == 2
    assert_clean_rows_kept(data)


def test_column_missing_from_one_file_only(tmp_path):
    src = clean_folder(tmp_path / "src")
    write(src / "notices" / "no-source.csv", "notice_id,received_at,decided_at,outcome\nS1,2025-07-01,,PENDING\n")
    data = load(src, tmp_path)
    q = data.quality["notices"]
    assert q["files_missing_columns"] == [{"file": "notices/no-source.csv", "columns": ["source_type"]}]
    assert q["files_missing_columns_count"] == 1
    assert "source_type" in data.datasets["notices"].columns
    got = dict(data.con.execute("SELECT notice_id, source_type FROM notices").fetchall())
    assert got == {"CN1": "SOURCE_ARTICLE_16", "CN2": "SOURCE_ARTICLE_16", "CN3": "SOURCE_ARTICLE_16", "S1": None}
    assert accounted(q) == 4
    assert_clean_rows_kept(data)


def test_file_without_a_key_column_has_every_row_quarantined(tmp_path):
    """A semicolon-separated export reads as one unknown column: its rows lack the key, never load as NULL."""
    src = clean_folder(tmp_path / "src")
    write(src / "notices" / "semicolons.csv", "notice_id;received_at\nX1;2025-07-01\nX2;2025-07-01\n")
    data = load(src, tmp_path)
    q = data.quality["notices"]
    assert q["reasons"] == {"missing notice_id": 2}
    assert q["examples"][0] == {"file": "notices/semicolons.csv", "row": 1, "reason": "missing notice_id"}
    assert ids(data, "notices", "notice_id") == ["CN1", "CN2", "CN3"]
    assert accounted(q) == 5


# ---------------------------------------------------------------- JSONL and Parquet


def test_jsonl_with_a_malformed_line_loads_the_rest_of_the_file(tmp_path):
    src = clean_folder(tmp_path / "src")
    good = [json.dumps({"notice_id": f"J{i}", "received_at": "2025-07-01T10:00:00Z", "source_type":
                        "SOURCE_TRUSTED_FLAGGER", "outcome": "PENDING"}) for i in range(1, 5)]
    lines = [good[0], '{"notice_id": "J-broken", "received_at": ', good[1], "", "[1, 2]", good[2], "{}", good[3]]
    write(src / "notices" / "broken.jsonl", "\n".join(lines) + "\n")
    write(src / "notices" / "fine.jsonl", json.dumps({"notice_id": "F1", "received_at": "2025-07-02"}) + "\n")
    data = load(src, tmp_path)
    q = data.quality["notices"]
    assert q["unreadable_files"] == [] and q["files"] == 3
    assert q["reasons"] == {"malformed row: invalid or empty JSON": 3}  # the broken line, the array, {}
    assert [e["row"] for e in q["examples"]] == [2, 4, 6]  # records, blank lines skipped
    assert all(e["file"] == "notices/broken.jsonl" for e in q["examples"])
    assert ids(data, "notices", "notice_id") == ["CN1", "CN2", "CN3", "F1", "J1", "J2", "J3", "J4"]
    typed = data.con.execute("SELECT received_at, source_type, outcome FROM notices WHERE notice_id = 'J4'")
    assert typed.fetchone() == (datetime(2025, 7, 1, 10, 0), "SOURCE_TRUSTED_FLAGGER", "PENDING")
    assert accounted(q) == 3 + 7 + 1
    assert_clean_rows_kept(data)


def test_jsonl_value_unlike_the_sampled_type_is_quarantined_not_the_file(tmp_path):
    """DuckDB types JSONL columns from the first rows; a later value of another type must not lose the file."""
    src = clean_folder(tmp_path / "src")
    rows = [{"trader_id": f"T{i}", "status": "ACTIVE", "live_listings": i, "kyc_contact": True}
            for i in range(25_000)]  # beyond DuckDB's sample
    rows.append({"trader_id": "T-many", "status": "ACTIVE", "live_listings": "many", "kyc_contact": True})
    rows.append({"trader_id": "T-list", "status": "ACTIVE", "live_listings": [3], "kyc_contact": "Yes"})
    write(src / "traders" / "traders.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    data = load(src, tmp_path)
    q = data.quality["traders"]
    assert q["unreadable_files"] == [] and q["rows"] == 25_000
    assert q["reasons"] == {"bad integer live_listings": 2}
    assert q["examples"] == [
        {"file": "traders/traders.jsonl", "row": 25_001, "reason": "bad integer live_listings", "value": "many"},
        {"file": "traders/traders.jsonl", "row": 25_002, "reason": "bad integer live_listings", "value": "[3]"},
    ]
    assert data.con.execute("SELECT live_listings, kyc_contact FROM traders WHERE trader_id = 'T7'").fetchone() == (
        7, True)
    assert accounted(q) == len(rows)


def test_parquet_column_of_the_wrong_type(tmp_path):
    src = clean_folder(tmp_path / "src")
    folder = src / "traders"
    folder.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('P1', 'ACTIVE', 'many', 'true'), ('P2', 'ACTIVE', '12', "
                "'No'), ('P3', 'SUSPENDED', NULL, NULL)) v(trader_id, status, live_listings, kyc_contact)")
    con.execute(f"COPY t TO '{folder / 'text.parquet'}' (FORMAT parquet)")
    con.execute("CREATE TABLE u AS SELECT 'P4' AS trader_id, 'ACTIVE' AS status, 5::BIGINT AS live_listings, "
                "TRUE AS kyc_contact")
    con.execute(f"COPY u TO '{folder / 'typed.parquet'}' (FORMAT parquet)")
    write(folder / "cut.parquet", (folder / "typed.parquet").read_bytes()[:40])
    data = load(src, tmp_path)
    q = data.quality["traders"]
    assert list(unreadable(q)) == ["traders/cut.parquet"]
    assert q["reasons"] == {"bad integer live_listings": 1}
    assert q["examples"] == [{"file": "traders/text.parquet", "row": 1, "reason": "bad integer live_listings",
                              "value": "many"}]
    got = data.con.execute("SELECT trader_id, live_listings, kyc_contact FROM traders ORDER BY 1").fetchall()
    assert got == [("P2", 12, False), ("P3", None, None), ("P4", 5, True)]
    assert accounted(q) == 4
    assert_clean_rows_kept(data)


# ---------------------------------------------------------------- end to end


def test_a_dirty_folder_still_gives_a_report_that_names_the_problems(tmp_path):
    src = clean_folder(tmp_path / "data")
    write(src / "statements_of_reasons" / "more.csv", "\ufeff" + csv_text(SOR_HEADER, [
        sor_row("C1", created="2025-07-02", uuid="dup-earlier"), sor_row("Q1", source="SOURCE_TELEPATHY"),
        sor_row("Q2", applied="2025-02-30"), sor_row("Q3", applied="2025-07-05", created="2025-07-01"),
    ], newline="\r\n"))
    write(src / "notices" / "broken.jsonl", '{"notice_id": "J1", "received_at": "2025-07-01"}\n{"notice_id":\n')
    write(src / "notices" / "cut.csv.gz", gzip.compress(csv_text(NOTICE_HEADER, [notice_row("X")]).encode())[:-9])
    write(src / "notices" / "no-outcome.csv", "notice_id,received_at\nS1,2025-07-03\n")
    config = Config(platform=PLATFORM, tier="VLOP", marketplace=True)
    request = pipeline.RunRequest(config=config, period=parse_period("2025-07"), source=str(src),
                                  out_dir=tmp_path / "out", now=NOW)
    document = pipeline.run(request).document

    out = tmp_path / "out"
    assert json.loads((out / "findings.json").read_text()) == json.loads(json.dumps(document, default=str))
    assert (out / "findings.csv").stat().st_size > 0 and len(document["findings"]) == len(default_catalogue())
    quality = document["data_quality"]
    sor = quality["statements_of_reasons"]
    assert sor["duplicates_removed"] == 1 and sor["rows"] == 3
    assert sor["reasons"] == {"bad timestamp application_date": 1, "negative submission delay": 1,
                              "unknown value source_type": 1}
    notices = quality["notices"]
    assert unreadable(notices).keys() == {"notices/cut.csv.gz"}
    assert notices["reasons"] == {"malformed row: invalid or empty JSON": 1}
    lacking = {f["file"]: f["columns"] for f in notices["files_missing_columns"]}
    assert lacking["notices/no-outcome.csv"] == ["decided_at", "outcome", "source_type"]
    assert notices["rows"] == 3 + 1 + 1
    html = (out / "report.html").read_text()
    for named in ("notices/cut.csv.gz", "unknown value source_type", "negative submission delay",
                  "malformed row: invalid or empty JSON"):
        assert named in html
    findings = {f["obligation_id"]: f for f in document["findings"]}
    assert findings["DSA-17-SOR-COVERAGE"]["status"] != "ERROR"
    assert "ERROR" not in {f["status"] for f in document["findings"]}
