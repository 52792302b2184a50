"""The loader on every input format, dirty rows and the real Transparency Database samples."""

import gzip
import io
import json
import zipfile
from pathlib import Path

import duckdb

from contract_files import TDB_SAMPLES
from dsa_report.ingest import loader as datasets
from dsa_report.ingest import sources

SAMPLES = TDB_SAMPLES  # 200 real rows
NOTICE_HEADER = "notice_id,received_at,acknowledged_at,decided_at,source_type,notifier_id,category,outcome"


def load(folder: Path, tmp_path: Path, names=None):
    collected = sources.collect(str(folder), tmp_path / "work")
    return datasets.load(collected, datasets.connect(), platform_names=names)


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def rows(data, sql):
    return data.con.execute(sql).fetchall()


def test_every_format_normalised(tmp_path):
    src = tmp_path / "src"
    csv_text = (NOTICE_HEADER + "\nN1,2025-07-01 10:00:00,2025-07-01T11:00:00Z,2025-07-02,SOURCE_ARTICLE_16,"
                "P1,STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS,ACTION_TAKEN\n")
    write(src / "notices" / "date=2025-07-01" / "a.csv", "\ufeff" + csv_text)  # BOM + Hive partition
    write(src / "notices" / "b.csv.gz", gzip.compress(csv_text.replace("N1", "N2").encode()))
    line = {"notice_id": "N3", "received_at": "2025-07-03T00:00:00+02:00", "source_type": "SOURCE_TRUSTED_FLAGGER",
            "outcome": "PENDING", "decided_at": None}
    write(src / "notices" / "c.jsonl", json.dumps(line) + "\n")
    write(src / "notices" / "d.jsonl.gz", gzip.compress((json.dumps({**line, "notice_id": "N4"}) + "\n").encode()))
    con = duckdb.connect()
    (src / "traders").mkdir(parents=True)
    con.execute("COPY (SELECT 'T1' AS trader_id, 'ACTIVE' AS status, 3 AS live_listings, true AS kyc_contact, "
                "'Yes' AS kyc_id_document, TIMESTAMP '2025-01-01 00:00:00' AS kyc_verified_at) "
                f"TO '{src / 'traders' / 't.parquet'}' (FORMAT parquet)")
    data = load(src, tmp_path)
    assert data.datasets["notices"].files == 4 and data.datasets["notices"].rows == 4
    got = rows(data, "SELECT notice_id, received_at, acknowledged_at, category FROM notices ORDER BY 1")
    assert str(got[0][1]) == "2025-07-01 10:00:00" and str(got[0][2]) == "2025-07-01 11:00:00"
    assert got[0][3] == "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"  # v1 key mapped to v2
    assert str(got[2][1]) == "2025-07-02 22:00:00"  # offset converted to UTC
    assert rows(data, "SELECT trader_id, kyc_contact, kyc_id_document, live_listings FROM traders") == [
        ("T1", True, True, 3)]
    assert "kyc_id_document" in data.datasets["traders"].columns
    assert data.datasets["complaints"].files == 0  # missing dataset: an empty table, files=0
    assert rows(data, "SELECT count(*) FROM complaints") == [(0,)]


def test_tdb_nested_zip_lists_and_presence(tmp_path):
    header = ("uuid,decision_visibility,decision_ground,illegal_content_legal_ground,category,content_type,"
              "application_date,created_at,automated_detection,platform_name,platform_uid,source_type")
    body = ('u1,"[""DECISION_VISIBILITY_CONTENT_REMOVED""]",DECISION_GROUND_ILLEGAL_CONTENT,Law X,'
            'STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE,"[""CONTENT_TYPE_PRODUCT""]",2025-07-01 00:00:00,'
            '2025-07-03 00:00:00,Yes,ExampleMarket,000123,SOURCE_VOLUNTARY\n')
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("sor-examplemarket-2025-07-03-light-00000-00000.csv", header + "\n" + body)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr("sor-examplemarket-2025-07-03-light-00000.csv.zip", inner.getvalue())
    write(tmp_path / "src" / "statements_of_reasons" / "sor-examplemarket-2025-07-03-light.zip", outer.getvalue())
    data = load(tmp_path / "src", tmp_path, ["ExampleMarket"])
    got = rows(data, "SELECT platform_uid, owes_decision_visibility_other, owes_content_type_other, "
                     "owes_category_specification_other, category, automated_detection, "
                     "has_illegal_content_legal_ground, has_illegal_content_explanation FROM sor")
    assert got == [("000123", False, False, None,  # lists without the "other" value; no category_specification
                    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", True, True, None)]  # explanation absent: NULL
    assert "has_illegal_content_explanation" not in data.datasets["statements_of_reasons"].columns


def test_list_columns_become_owes_flags_from_csv_text_and_native_lists(tmp_path):
    src = tmp_path / "src"
    base = {"platform_name": "ExampleMarket", "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "application_date": "2025-07-01"}
    header = "platform_name,platform_uid,decision_ground,application_date,decision_visibility,content_type"
    write(src / "statements_of_reasons" / "a.csv", header + "\n"
          'ExampleMarket,C1,DECISION_GROUND_ILLEGAL_CONTENT,2025-07-01,"[""DECISION_VISIBILITY_OTHER""]",[]\n'
          "ExampleMarket,C2,DECISION_GROUND_ILLEGAL_CONTENT,2025-07-01,not a list,\n")
    lines = [{**base, "platform_uid": "J1", "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
              "content_type": ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_OTHER"]}]
    write(src / "statements_of_reasons" / "b.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    data = load(src, tmp_path)
    assert rows(data, "SELECT platform_uid, owes_decision_visibility_other, owes_content_type_other FROM sor "
                      "ORDER BY 1") == [("C1", True, False), ("J1", False, True)]
    q = data.quality["statements_of_reasons"]
    assert q["reasons"] == {"bad list decision_visibility": 1}
    assert q["examples"][0]["value"] == "not a list"


def test_bad_rows_are_quarantined_and_bad_files_named(tmp_path):
    src = tmp_path / "src"
    write(src / "notices" / "good.csv", NOTICE_HEADER + "\n"
          "N1,2025-07-01,,,SOURCE_ARTICLE_16,,,NO_ACTION\n"
          "N2,not-a-date,,,SOURCE_ARTICLE_16,,,NO_ACTION\n"
          "N3,2025-07-01,,,SOURCE_MAGIC,,,NO_ACTION\n"
          ",2025-07-01,,,SOURCE_ARTICLE_16,,,NO_ACTION\n"
          "N5,2025-07-01,,,SOURCE_ARTICLE_16,,,NO_ACTION,extra,columns\n")
    write(src / "notices" / "latin1.csv", (NOTICE_HEADER + "\nN6,2025-07-01,,,SOURCE_ARTICLE_16,Zo\xe9,,NO_ACTION\n"
                                           ).encode("latin-1"))
    write(src / "notices" / "corrupt.csv.gz", gzip.compress((NOTICE_HEADER + "\n").encode())[:12] + b"garbage")
    write(src / "notices" / "empty.csv", b"")
    write(src / "notices" / "header-only.csv", NOTICE_HEADER + "\n")
    data = load(src, tmp_path)
    q = data.quality["notices"]
    assert rows(data, "SELECT notice_id FROM notices") == [("N1",)]
    assert q["reasons"]["bad timestamp received_at"] == 1
    assert q["reasons"]["unknown value source_type"] == 1
    assert q["reasons"]["missing notice_id"] == 1
    assert q["reasons"]["malformed row: too many columns"] == 1
    assert q["reasons"]["malformed row: invalid encoding"] == 1
    assert q["quarantined_rows"] == 5
    example = next(e for e in q["examples"] if e["reason"] == "bad timestamp received_at")
    assert example == {"file": "notices/good.csv", "row": 2, "reason": "bad timestamp received_at",
                       "value": "not-a-date"}
    unreadable = {u["file"]: u["reason"] for u in q["unreadable_files"]}
    assert set(unreadable) == {"notices/corrupt.csv.gz", "notices/empty.csv"}
    assert q["files"] == 3  # good, latin1 (one bad row), header-only


def test_real_transparency_database_rows(tmp_path):
    src = tmp_path / "src" / "statements_of_reasons"
    src.mkdir(parents=True)
    for f in SAMPLES.glob("*.csv"):
        (src / f.name).write_bytes(f.read_bytes())
    everything = load(tmp_path / "src", tmp_path / "a")
    q = everything.quality["statements_of_reasons"]
    assert q["quarantined_rows"] == 0 and q["unreadable_files"] == []
    assert q["duplicates_removed"] == 1  # TikTok repeats one platform_uid in the 2024 dump
    assert everything.datasets["statements_of_reasons"].rows == 200 - 1
    platforms = dict(rows(everything, "SELECT platform_name, count(*) FROM sor GROUP BY 1"))
    assert platforms["Google Shopping"] == 80 and platforms["TikTok"] == 48
    assert rows(everything, "SELECT count(*) FROM sor WHERE platform_uid = '08329314168'") == [(1,)]
    kept = rows(everything, "SELECT DISTINCT category FROM sor WHERE category LIKE '%PORNOGRAPHY%'")
    assert kept == [("STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",)]  # v1 key with no successor
    assert rows(everything, "SELECT count(*) FROM sor WHERE category LIKE '%SCOPE_OF_PLATFORM%'") == [(0,)]
    one = load(tmp_path / "src", tmp_path / "b", ["AliExpress"])
    assert one.datasets["statements_of_reasons"].rows == 6
    assert one.quality["statements_of_reasons"]["other_platform"] == 200 - 6


def test_sor_manifestly_illegal_optional_bool_and_decision_facts_presence(tmp_path):
    src = tmp_path / "src" / "statements_of_reasons"
    header = "platform_name,platform_uid,decision_ground,application_date,decision_facts,manifestly_illegal"
    write(src / "a.csv", header + "\n"
          "ExampleMarket,M1,DECISION_GROUND_ILLEGAL_CONTENT,2025-07-01,Sold a counterfeit,Yes\n"
          "ExampleMarket,M2,DECISION_GROUND_ILLEGAL_CONTENT,2025-07-01,  ,false\n"
          "ExampleMarket,M3,DECISION_GROUND_ILLEGAL_CONTENT,2025-07-01,Facts,\n")
    write(src / "b.jsonl", json.dumps({"platform_name": "ExampleMarket", "platform_uid": "M4",
                                       "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
                                       "application_date": "2025-07-01", "manifestly_illegal": True}) + "\n")
    data = load(tmp_path / "src", tmp_path)
    assert rows(data, "SELECT platform_uid, manifestly_illegal, has_decision_facts FROM sor ORDER BY 1") == [
        ("M1", True, True), ("M2", False, False), ("M3", None, True), ("M4", True, None)]  # M4: no such column
    columns = data.datasets["statements_of_reasons"].columns
    assert {"manifestly_illegal", "has_decision_facts"} <= columns
    without = tmp_path / "light" / "statements_of_reasons"
    write(without / "a.csv", "platform_name,platform_uid,decision_ground,application_date\n"
          "ExampleMarket,L1,DECISION_GROUND_ILLEGAL_CONTENT,2025-07-01\n")
    light = load(tmp_path / "light", tmp_path / "l")
    assert not {"manifestly_illegal", "has_decision_facts"} & light.datasets["statements_of_reasons"].columns
    assert rows(light, "SELECT manifestly_illegal, has_decision_facts FROM sor") == [(None, None)]
