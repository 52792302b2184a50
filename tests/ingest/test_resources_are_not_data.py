"""Resources are not data (issue 11, item 1): running out of memory or disk, access denied and S3 throttling
are the run's failures, never a property of one file. Each case here was, before, a file named unreadable
while the run went on with the rest; now it raises. A file's own fault (corrupt gzip, an object gone since it
was listed) is still named unreadable, with its size, which the completeness gate weighs."""

from __future__ import annotations

import errno
import gzip
import os
from pathlib import Path

import boto3
import duckdb
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto import mock_aws

from dsa_report.ingest import loader, sources
from dsa_report.ingest.errors import ResourceError
from dsa_report.ingest.registers import load_registers

REGION = "eu-west-1"
BUCKET = "dsa-resources"
NOTICES = "notice_id,received_at,source_type,outcome\nN1,2025-07-01,SOURCE_ARTICLE_16,ACTION_TAKEN\n"


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def load(src: Path, tmp_path: Path, con=None):
    collected = sources.collect(str(src), tmp_path / "work")
    return loader.load(collected, con or loader.connect(), platform_names=None)


# ---------------------------------------------------------------- DuckDB: memory, disk, the database


def test_duckdb_out_of_memory_fails_the_load_instead_of_naming_every_file_unreadable(tmp_path):
    write(tmp_path / "src/notices/a.csv", NOTICES)
    write(tmp_path / "src/notices/b.jsonl", '{"notice_id": "N2", "received_at": "2025-07-01"}\n')
    with pytest.raises(duckdb.OutOfMemoryException):  # before: both files "unreadable: Out of Memory Error"
        load(tmp_path / "src", tmp_path, loader.connect(memory_limit="1MB"))


class _FailingInsert:
    """A connection whose INSERTs fail as DuckDB words a machine error; everything else is the real one."""

    def __init__(self, con, error: duckdb.Error) -> None:
        self.con, self.error = con, error

    def execute(self, sql, *args):
        if sql.startswith("INSERT"):
            raise self.error
        return self.con.execute(sql, *args)


@pytest.mark.parametrize("text", [os.strerror(errno.ENOSPC), os.strerror(errno.EIO), os.strerror(errno.EACCES)])
def test_duckdb_io_error_of_the_machine_fails_the_load(tmp_path, text):
    write(tmp_path / "src/notices/a.csv", NOTICES)
    error = duckdb.IOException(f'IO Error: Could not write file "{tmp_path}/spill/x.block": {text}')
    with pytest.raises(duckdb.IOException, match=text):
        load(tmp_path / "src", tmp_path, _FailingInsert(loader.connect(), error))


def test_duckdb_io_error_of_the_file_still_names_the_file_with_its_bytes(tmp_path):
    write(tmp_path / "src/notices/a.csv", NOTICES)
    corrupt = write(tmp_path / "src/notices/b.jsonl.gz", gzip.compress(b'{"notice_id": "N3"}\n')[:12] + b"garbage")
    data = load(tmp_path / "src", tmp_path)
    q = data.quality["notices"]
    assert [(u["file"], u["bytes"]) for u in q["unreadable_files"]] == [("notices/b.jsonl.gz", corrupt.stat().st_size)]
    assert q["unreadable_files"][0]["reason"].startswith("IO Error")
    assert q["bytes"] == len(NOTICES)
    info = data.datasets["notices"]
    assert (info.files, info.unreadable_files, info.bytes, info.unreadable_bytes) == (
        1, 1, len(NOTICES), corrupt.stat().st_size)


def test_disk_error_reading_a_csv_header_fails_the_load(tmp_path, monkeypatch):
    write(tmp_path / "src/notices/a.csv.gz", gzip.compress(NOTICES.encode()))

    def failing(path, mode="r", *args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(loader.gzip, "open", failing)
    with pytest.raises(OSError) as raised:  # before: "cannot decompress: [Errno 5] ..." and the run went on
        load(tmp_path / "src", tmp_path)
    assert raised.value.errno == errno.EIO


def test_disk_error_reading_a_register_fails_the_load(tmp_path, monkeypatch):
    path = write(tmp_path / "launches.yaml", "launches: []\n")
    real = Path.read_text

    def read_text(self, *args, **kwargs):
        if self == path:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    with pytest.raises(OSError):  # before: the register named unreadable, then missing
        load_registers({"launches": path}, [])


def test_permission_denied_on_a_folder_file_fails_the_run(tmp_path, monkeypatch):
    write(tmp_path / "src/notices/a.csv", NOTICES)
    write(tmp_path / "src/notices/secret.csv", NOTICES)
    real = sources._Run.fetch

    def fetch(self, item):
        if item.parts[-1] == "secret.csv":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(item.local))
        return real(self, item)

    monkeypatch.setattr(sources._Run, "fetch", fetch)
    with pytest.raises(PermissionError):  # before: "cannot fetch: [Errno 13] Permission denied"
        sources.collect(str(tmp_path / "src"), tmp_path / "work")


def test_a_dangling_link_is_still_the_file_s_own_fault(tmp_path):
    write(tmp_path / "src/notices/a.csv", NOTICES)
    (tmp_path / "src/notices/gone.csv").symlink_to(tmp_path / "nowhere.csv")
    c = sources.collect(str(tmp_path / "src"), tmp_path / "work")
    [gone] = c.unreadable["notices"]
    assert gone.origin == "notices/gone.csv" and gone.reason.startswith("cannot fetch: [Errno 2]")


def test_unreadable_zip_and_members_carry_their_size(tmp_path):
    corrupt = write(tmp_path / "src/notices/corrupt.zip", b"PK\x03\x04 not a zip at all")
    c = sources.collect(str(tmp_path / "src"), tmp_path / "work")
    [bad] = c.unreadable["notices"]
    assert bad.origin == "notices/corrupt.zip" and bad.size == corrupt.stat().st_size


# ---------------------------------------------------------------- S3: access denied, throttling, gone


@pytest.fixture
def s3(aws_env):
    with mock_aws():
        client = boto3.client("s3", region_name=REGION, config=Config(retries={"mode": "standard", "max_attempts": 2}))
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        for key in ("notices/a.csv", "notices/b.csv", "complaints/c.csv"):
            client.put_object(Bucket=BUCKET, Key=f"p/{key}", Body=NOTICES.encode())
        yield client


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs):
        yield self.data


def _answer(client, key: str, status: int, code: str) -> list[str]:
    """Every GET of `key` answered with `status`/`code` before it reaches S3; returns the URLs it answered."""
    answered: list[str] = []
    body = f"<Error><Code>{code}</Code><Message>{code}</Message></Error>".encode()

    def hook(request, **kwargs):
        if request.method == "GET" and request.url.split("?")[0].endswith(key):
            answered.append(request.url)
            return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, _Body(body))
        return None

    client.meta.events.register("before-send.s3.GetObject", hook)
    return answered


def test_access_denied_on_one_object_fails_the_run(s3, tmp_path):
    _answer(s3, "p/notices/b.csv", 403, "AccessDenied")
    with pytest.raises(ResourceError, match=r"s3://dsa-resources/p/notices/b.csv: .*AccessDenied"):
        sources.collect(f"s3://{BUCKET}/p/", tmp_path / "w", s3_client=s3, max_workers=1)


def test_throttling_that_outlasts_the_retries_fails_the_run(s3, tmp_path):
    answered = _answer(s3, "p/complaints/c.csv", 503, "SlowDown")
    with pytest.raises(ResourceError, match="SlowDown"):
        sources.collect(f"s3://{BUCKET}/p/", tmp_path / "w", s3_client=s3, max_workers=1)
    assert len(answered) >= 2, "the client retried before giving up"


def test_an_object_gone_since_listing_is_named_unreadable_with_its_size(s3, tmp_path):
    _answer(s3, "p/notices/b.csv", 404, "NoSuchKey")
    c = sources.collect(f"s3://{BUCKET}/p/", tmp_path / "w", s3_client=s3, max_workers=1)
    [gone] = c.unreadable["notices"]
    assert gone.origin == f"s3://{BUCKET}/p/notices/b.csv" and "NoSuchKey" in gone.reason
    assert gone.size == len(NOTICES) and [f.origin for f in c.files["notices"]] == [f"s3://{BUCKET}/p/notices/a.csv"]
