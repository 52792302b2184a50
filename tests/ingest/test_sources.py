"""sources: list and fetch a folder or an S3 prefix, expand nested zips, name what cannot be read."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import boto3
import duckdb
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.stub import Stubber
from moto import mock_aws

from dsa_report.ingest import s3 as s3_adapter
from dsa_report.ingest import sources
from dsa_report.ingest.contract import DATASETS, REGISTERS
from dsa_report.ingest.sources import Collected, DataFile, SourceError, cleanup, collect, read_text

REGION = "eu-west-1"
BUCKET = "dsa-transparency"
TDB = "sor-shop-2025-07-01-light"


def _csv(header: str, rows: int, first: int = 0) -> bytes:
    return (header + "\n" + "".join(f"shop,{first + i},DECISION_GROUND_ILLEGAL_CONTENT,2025-07-01\n"
                                    for i in range(rows))).encode()


SOR = "platform_name,platform_uid,decision_ground,application_date"


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)  # deterministic bytes


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _jsonl(rows: int) -> bytes:
    return "".join(json.dumps({"notice_id": f"N{i}", "received_at": "2025-07-01"}) + "\n"
                   for i in range(rows)).encode()


def _parquet(tmp: Path, rows: int) -> bytes:
    path = tmp / "t.parquet"
    duckdb.execute("CREATE OR REPLACE TEMP TABLE t AS SELECT 'T' || range AS trader_id, 'ACTIVE' AS status "
                   "FROM range(?)", [rows])
    duckdb.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    return path.read_bytes()


def _tree(tmp: Path) -> dict[str, bytes]:
    """A data location with every format, Hive partitions, a TDB dump and broken files."""
    tdb = _zip({
        f"{TDB}-00001.csv.zip": _zip({f"{TDB}-00001-00000.csv": _csv(SOR, 2, 100)}),
        f"{TDB}-00000.csv.zip": _zip({f"{TDB}-00000-00001.csv": _csv(SOR, 3, 10),
                                      f"{TDB}-00000-00000.csv": _csv(SOR, 4, 0)}),
        "README.txt": b"TDB daily dump",
    }, zipfile.ZIP_STORED)
    good = _zip({"a.csv": b"action_id\nA1\n"})
    return {
        "statements_of_reasons/date=2025-07-01/part-0.csv": _csv(SOR, 2, 1000),
        "statements_of_reasons/date=2025-07-02/part-0.CSV.GZ": _gz(_csv(SOR, 1, 2000)),
        f"statements_of_reasons/tdb/{TDB}.zip": tdb,
        "notices/notices.jsonl": _jsonl(2),
        "notices/more/notices.jsonl.gz": _gz(_jsonl(3)),
        "complaints/complaints.csv.gz": _gz(b"complaint_id,received_at\nC1,2025-07-01\n"),
        "traders/traders.parquet": _parquet(tmp, 5),
        "enforcement_actions/actions.csv": b"action_id\nA1\nA2\n",
        "enforcement_actions/corrupt.zip": b"PK\x03\x04 this is not really a zip",
        "enforcement_actions/truncated.zip": good[: len(good) // 2],
        "listing_events/events.csv": b"event_id\nE1\n",
        "listing_events/empty.csv": b"",
        "listing_events/_SUCCESS": b"",
        "listing_events/README.txt": b"about",
        "listing_events/events.csv.sha1": b"0" * 40,
        "listing_events/slip.zip": _zip({"../../evil.csv": b"event_id\nX\n", "ok.csv": b"event_id\nE2\n"}),
        "active_recipients/ar.zip": _zip({"ar.csv.gz": _gz(b"month,member_state,active_recipients\n"
                                                                     b"2025-07,DE,10\n"),
                                          "more/ar.jsonl": b'{"month": "2025-07", "member_state": "FR"}\n',
                                          "__MACOSX/more/._ar.jsonl": b"\x00\x05\x16\x07"}),
        "registers/risk_assessments.yaml": b"assessments: []\n",
        "registers/launches.json": b'{"launches": []}',
        "registers/notes.txt": b"not a register",
        "README.md": b"outside every dataset",
        "other/x.csv": b"a\n1\n",
    }


def _write(root: Path, tree: dict[str, bytes]) -> Path:
    for rel, data in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _rows(f: DataFile) -> int:
    reader = {"csv": "read_csv", "jsonl": "read_json", "parquet": "read_parquet"}[f.fmt]
    return duckdb.execute(f"SELECT count(*) FROM {reader}(?)", [str(f.path)]).fetchone()[0]  # noqa: S608


def _check(c: Collected, at: str) -> None:
    """What every source holding `_tree` must give; `at` is the origin prefix."""
    assert set(c.files) == set(c.unreadable) == set(c.ignored) == set(DATASETS)
    sor = [f.origin for f in c.files["statements_of_reasons"]]
    chain = f"{at}statements_of_reasons/tdb/{TDB}.zip!{TDB}"
    assert sor == [f"{at}statements_of_reasons/date=2025-07-01/part-0.csv",
                   f"{at}statements_of_reasons/date=2025-07-02/part-0.CSV.GZ",
                   f"{chain}-00000.csv.zip!{TDB}-00000-00000.csv",
                   f"{chain}-00000.csv.zip!{TDB}-00000-00001.csv",
                   f"{chain}-00001.csv.zip!{TDB}-00001-00000.csv"]
    rows = {name: sum(_rows(f) for f in files) for name, files in c.files.items()}
    assert rows == {**dict.fromkeys(DATASETS, 0),  # every dataset of the contract, the absent ones empty
                    "statements_of_reasons": 12, "notices": 5, "complaints": 1, "traders": 5,
                    "enforcement_actions": 2, "listing_events": 2, "active_recipients": 2}
    fmts = {f.origin.removeprefix(at): f.fmt for files in c.files.values() for f in files}
    assert fmts["notices/more/notices.jsonl.gz"] == "jsonl" and fmts["traders/traders.parquet"] == "parquet"
    assert fmts["active_recipients/ar.zip!ar.csv.gz"] == "csv"
    assert fmts["active_recipients/ar.zip!more/ar.jsonl"] == "jsonl"
    for f in (f for files in c.files.values() for f in files):
        assert f.size == f.path.stat().st_size > 0
        assert f.path.name.lower().endswith(f.origin.rsplit("/", 1)[-1].rsplit("!", 1)[-1].lower())
    bad = {u.origin.removeprefix(at): u.reason for files in c.unreadable.values() for u in files}
    assert bad.pop("enforcement_actions/corrupt.zip") == "corrupt zip: File is not a zip file"
    assert bad.pop("enforcement_actions/truncated.zip").startswith("corrupt zip:")
    assert bad.pop("listing_events/empty.csv") == "empty file"
    assert "zip-slip" in bad.pop("listing_events/slip.zip!../../evil.csv")
    assert bad == {}
    assert c.ignored == {**dict.fromkeys(DATASETS, 0), "statements_of_reasons": 1, "listing_events": 3,
                         "active_recipients": 1}
    assert sorted(c.registers) == ["launches", "risk_assessments"]
    assert c.registers["launches"].read_bytes() == b'{"launches": []}'
    assert c.register_errors == []


def test_folder_source_every_format_nested_zips_and_broken_files(tmp_path):
    root = _write(tmp_path / "data", _tree(tmp_path))
    work = tmp_path / "work"
    c = collect(str(root), work, max_workers=3)
    _check(c, "")
    assert c.source == str(root.resolve())
    plain = c.files["notices"][0]
    assert plain.path == root / "notices/more/notices.jsonl.gz"  # used where it is, not copied
    members = [f for f in c.files["statements_of_reasons"] if "!" in f.origin]
    assert all(f.path.is_relative_to(work) for f in members)
    assert members[0].path.read_bytes() == _csv(SOR, 4, 0)
    assert not list(work.rglob("*.csv.zip")), "inner zips are deleted once expanded"
    assert not list(tmp_path.rglob("evil.csv"))
    assert (root / f"statements_of_reasons/tdb/{TDB}.zip").exists(), "a user's zip is never deleted"

    every = [f for files in c.files.values() for f in files]
    assert cleanup(every, work) == 6  # the unzipped members only
    assert all((root / rel).exists() for rel in _tree(tmp_path))
    assert not [p for p in work.rglob("*") if p.is_file()]


def test_fetching_hands_over_each_dataset_when_it_is_complete(tmp_path):
    root = _write(tmp_path / "data", _tree(tmp_path))
    whole = collect(str(root), tmp_path / "w1")
    with sources.fetching(str(root), tmp_path / "w2", max_workers=2) as c:
        assert c.files["notices"] == [] and c.registers == {}  # nothing is handed over before wait()
        c.wait("statements_of_reasons")
        assert [f.origin for f in c.files["statements_of_reasons"]] == \
               [f.origin for f in whole.files["statements_of_reasons"]]
        assert c.files["notices"] == []
        for name in DATASETS:
            c.wait(name)
        c.wait_registers()
    assert c.files.keys() == whole.files.keys()
    assert [[f.origin for f in v] for v in c.files.values()] == [[f.origin for f in v] for v in whole.files.values()]
    assert c.unreadable == whole.unreadable and c.registers.keys() == whole.registers.keys()


def test_folder_source_is_deterministic(tmp_path):
    root = _write(tmp_path / "data", _tree(tmp_path))
    first = collect(str(root), tmp_path / "w1", max_workers=1)
    second = collect(str(root), tmp_path / "w2", max_workers=8)
    assert [[f.origin for f in v] for v in first.files.values()] == \
           [[f.origin for f in v] for v in second.files.values()]
    assert first.unreadable == second.unreadable


def test_missing_folder_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        collect(str(tmp_path / "nope"), tmp_path / "work")


def test_member_failing_crc_is_unreadable_and_the_rest_continues(tmp_path):
    data = _zip({"bad.csv": b"a,b\n1,2\n", "good.csv": b"a,b\n3,4\n"}, zipfile.ZIP_STORED)
    data = data.replace(b"a,b\n1,2\n", b"a,b\n1,3\n", 1)
    _write(tmp_path / "d", {"notices/n.zip": data})
    (tmp_path / "d/notices/gone.csv").symlink_to(tmp_path / "nowhere.csv")
    c = collect(str(tmp_path / "d"), tmp_path / "w")
    assert [f.origin for f in c.files["notices"]] == ["notices/n.zip!good.csv"]
    gone, bad = c.unreadable["notices"]
    assert gone.origin == "notices/gone.csv" and gone.reason.startswith("cannot fetch: [Errno 2]")
    assert bad.origin == "notices/n.zip!bad.csv" and "Bad CRC-32" in bad.reason
    assert not (tmp_path / "w/notices/n.zip.d/bad.csv").exists(), "a partial member is removed"


def test_zip_bombs_are_refused(tmp_path):
    _write(tmp_path / "d", {
        "notices/ratio.zip": _zip({"bomb.csv": b"0" * (4 << 20), "fine.csv": b"notice_id\nN1\n"}),
        "complaints/deep.zip": _nest(8),
    })
    c = collect(str(tmp_path / "d"), tmp_path / "w")
    assert [f.origin for f in c.files["notices"]] == ["notices/ratio.zip!fine.csv"]
    [ratio] = c.unreadable["notices"]
    assert ratio.origin == "notices/ratio.zip!bomb.csv" and "expands 1" in ratio.reason
    assert "(limit 500x)" in ratio.reason
    [deep] = c.unreadable["complaints"]
    assert deep.origin.endswith("!level3.zip!level2.zip") and "zip nested deeper than 5 levels" == deep.reason

    inner = _zip({"c.csv": b"y" * 60})
    _write(tmp_path / "d2", {
        "traders/total.zip": _zip({"a.csv": b"x" * 60, "b.zip": inner}),
        "traders/other.zip": _zip({"d.csv": b"x" * 60}),  # each outer zip has its own budget
    })
    limit = 60 + len(inner) + 59  # a.csv and b.zip fit, b.zip's c.csv does not
    c = collect(str(tmp_path / "d2"), tmp_path / "w2", max_unzipped_bytes=limit)
    assert [f.origin for f in c.files["traders"]] == ["traders/other.zip!d.csv", "traders/total.zip!a.csv"]
    [total] = c.unreadable["traders"]
    assert total.origin == "traders/total.zip!b.zip!c.csv" and f"beyond {limit} bytes" in total.reason


def _nest(levels: int) -> bytes:
    data = b"complaint_id\nC1\n"
    name = "c.csv"
    for i in range(levels):
        data, name = _zip({name: data}), f"level{i}.zip"
    return data


def test_register_errors(tmp_path):
    _write(tmp_path / "d", {"registers/launches.yaml": b"launches: []\n", "registers/launches.JSON": b"{}",
                            "registers/risk_assesment.yaml": b"assessments: []\n",
                            "registers/audits.yml": b"", "registers/commitments.YML": b"commitments: []\n"})
    c = collect(str(tmp_path / "d"), tmp_path / "w")
    assert list(c.registers) == ["commitments"]
    reasons = {u.origin: u.reason for u in c.register_errors}
    assert reasons == {
        "registers/audits.yml": "empty file",
        "registers/launches.JSON": "several files for one register: launches.JSON, launches.yaml",
        "registers/risk_assesment.yaml": "unknown register 'risk_assesment' (expected one of "
                                         f"{', '.join(REGISTERS)})",
    }


# ---------------------------------------------------------------- S3


@pytest.fixture
def s3(aws_env):
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


def _put(client, prefix: str, tree: dict[str, bytes]) -> None:
    for rel, data in tree.items():
        client.put_object(Bucket=BUCKET, Key=prefix + rel, Body=data)


def test_s3_source_downloads_and_expands_into_workdir(s3, tmp_path):
    _put(s3, "exports/shop/", {**_tree(tmp_path), "notices/../../escape.csv": b"notice_id\nX\n",
                               "listing_events/date=2025-07-01/": b""})  # a console "folder": not a file
    _put(s3, "exports/shop2/", {"notices/other.csv": b"notice_id\nN9\n"})  # shares the prefix's start
    work = tmp_path / "work"
    c = collect(f"s3://{BUCKET}/exports/shop", work, s3_client=s3, max_workers=4)
    assert c.source == f"s3://{BUCKET}/exports/shop/"
    escape = c.unreadable["notices"].pop()
    assert escape.origin.endswith("notices/../../escape.csv") and "unsafe object key" in escape.reason
    _check(c, f"s3://{BUCKET}/exports/shop/")
    every = [f for files in c.files.values() for f in files]
    assert all(f.path.is_relative_to(work) for f in every)
    assert (work / "notices/more/notices.jsonl.gz").read_bytes() == _gz(_jsonl(3))
    assert not list(work.rglob("*.zip")), "downloaded and inner zips are deleted once expanded"
    assert not list(work.rglob("*.part")) and not list(tmp_path.rglob("escape.csv"))

    assert cleanup([*every, *c.registers.values()], work) == 16
    assert list(work.iterdir()) == []


def test_s3_errors_name_the_bucket(s3, tmp_path):
    with pytest.raises(SourceError, match="'no-such-bucket' does not exist"):
        collect("s3://no-such-bucket/x/", tmp_path, s3_client=s3)
    with pytest.raises(SourceError, match=f"nothing found under s3://{BUCKET}/empty/"):
        collect(f"s3://{BUCKET}/empty", tmp_path, s3_client=s3)
    denied = boto3.client("s3", region_name=REGION)
    with Stubber(denied) as stub:
        stub.add_client_error("list_objects_v2", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(SourceError, match=f"access denied to S3 bucket '{BUCKET}'"):
            collect(f"s3://{BUCKET}/p/", tmp_path, s3_client=denied)


def test_read_text_from_folder_and_s3(s3, tmp_path):
    (tmp_path / "shop.yaml").write_bytes(b"\xef\xbb\xbfplatform: Shop\n")
    assert read_text(str(tmp_path / "shop.yaml")) == "platform: Shop\n"
    s3.put_object(Bucket=BUCKET, Key="config/shop.yaml", Body=b"platform: Shop\n")
    assert read_text(f"s3://{BUCKET}/config/shop.yaml", s3_client=s3) == "platform: Shop\n"
    with pytest.raises(SourceError, match="file not found"):
        read_text(str(tmp_path / "missing.yaml"))
    with pytest.raises(SourceError, match=f"s3://{BUCKET}/config/missing.yaml does not exist"):
        read_text(f"s3://{BUCKET}/config/missing.yaml", s3_client=s3)
    with pytest.raises(SourceError, match="'nobucket' does not exist"):
        read_text("s3://nobucket/shop.yaml", s3_client=s3)


def test_through_a_real_http_endpoint(aws_env, monkeypatch, tmp_path):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")  # the default client honours it
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        big = _csv(SOR, 300)  # > the patched threshold: several ranged GETs, reassembled
        tdb = _tree(tmp_path)[f"statements_of_reasons/tdb/{TDB}.zip"]
        _put(client, "p/", {"statements_of_reasons/big.csv": big, f"statements_of_reasons/{TDB}.zip": tdb,
                            "registers/audits.yaml": b"audits: []\n", "config.yaml": b"platform: Shop\n"})
        monkeypatch.setattr(s3_adapter, "MULTIPART_THRESHOLD", 4096)
        monkeypatch.setattr(s3_adapter, "_TRANSFER", TransferConfig(multipart_threshold=4096, multipart_chunksize=4096))
        c = collect(f"s3://{BUCKET}/p/", tmp_path / "w")
        assert read_text(f"s3://{BUCKET}/p/config.yaml") == "platform: Shop\n"
    finally:
        server.stop()
    files = c.files["statements_of_reasons"]
    assert files[0].origin == f"s3://{BUCKET}/p/statements_of_reasons/big.csv"
    assert len(big) > 3 * 4096 and files[0].path.read_bytes() == big
    assert [_rows(f) for f in files] == [300, 4, 3, 2]
    assert list(c.registers) == ["audits"]
