"""Fetch a data location (`s3://bucket/prefix/` or a local folder) into local files DuckDB can read.

The layout is the data contract's: one folder per dataset (any nesting below it) and `registers/`.
S3 objects are copied to `workdir` in parallel, one streamed GET each (ranged parallel GETs only for very
large objects), in the background and dataset by dataset (`fetching`); folder files are used where they
are. Zips (the TDB dumps nest `.csv.zip` inside `.zip`) are expanded member by member into `workdir`.
Whatever cannot be fetched or unzipped becomes an `Unreadable` with a one-line reason and the rest goes
on; only an unreachable source raises `SourceError`, and a failing machine (disk full, I/O error, out of
memory) raises its own error: that is no fault of the input.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .registers import MAX_REGISTER_BYTES
from .spec import DATASETS, REGISTERS

_MIB = 1 << 20
_GIB = 1 << 30
_BUFFER = _MIB  # copy buffer for S3 bodies and zip members: large reads, bounded memory
# One streamed GET is fastest below ~128 MB (ranged GETs each cost a request, and moto server re-reads the
# whole object per range). Above it, 64 MB parts fetched 4 at a time raise the per-object throughput on
# real S3; 1 MB socket reads keep Python overhead negligible while s3transfer's IO queue stays small.
_MULTIPART_THRESHOLD = 128 * _MIB
_TRANSFER = TransferConfig(multipart_threshold=_MULTIPART_THRESHOLD, multipart_chunksize=64 * _MIB,
                           max_concurrency=4, io_chunksize=_MIB)
_MAX_ZIP_DEPTH = 5  # the TDB dumps nest 2 levels; a zip quine must not recurse forever
_RATIO_FLOOR = _MIB  # members below this are never suspected, however well they compress
_SUFFIXES = ((".csv", "csv"), (".csv.gz", "csv"), (".jsonl", "jsonl"), (".jsonl.gz", "jsonl"),
             (".parquet", "parquet"), (".zip", "zip"))
_REGISTER_EXTS = ("yaml", "yml", "json")
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)
# The machine failing, not the input: these OSErrors (and MemoryError, never caught) propagate and fail the
# run loudly instead of naming a file unreadable.
_FATAL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOMEM, errno.EMFILE,
                           errno.ENFILE})


def _fatal(err: BaseException) -> bool:
    return isinstance(err, OSError) and err.errno in _FATAL_ERRNOS


class SourceError(Exception):
    """The data location itself cannot be used (missing folder or bucket, access denied)."""


@dataclass(frozen=True)
class DataFile:
    dataset: str
    path: Path  # local file; keeps its .gz suffix (DuckDB decompresses by suffix)
    origin: str  # "s3://b/p/notices/x.jsonl.gz", "notices/x.jsonl.gz", "sor/a.zip!b.csv.zip!c.csv"
    fmt: str  # csv | jsonl | parquet
    size: int  # bytes on local disk


@dataclass(frozen=True)
class Unreadable:
    dataset: str
    origin: str
    reason: str  # one line


@dataclass
class Collected:
    """What a source holds once fetched. From `fetching()`, a dataset's entries are complete only after
    `wait(dataset)` (and the registers after `wait_registers()`); from `collect()`, at once."""

    files: dict[str, list[DataFile]]  # every dataset of spec.DATASETS (maybe [])
    unreadable: dict[str, list[Unreadable]]  # same keys
    ignored: dict[str, int]  # same keys: files that are no data format (README.txt, _SUCCESS, .sha1)
    registers: dict[str, Path]  # register name -> local file (only those found)
    register_errors: list[Unreadable]
    source: str  # normalised: "s3://bucket/prefix/" or an absolute folder path
    objects: int = 0  # data files and registers listed in the source
    _pending: dict[str, list[Future]] = field(default_factory=dict, repr=False)  # dataset -> its fetches
    _pending_registers: dict[str, Future] = field(default_factory=dict, repr=False)

    def wait(self, dataset: str) -> None:
        """Block until every file of `dataset` is fetched and unzipped."""
        for future in self._pending.pop(dataset, []):
            part = future.result()
            self.files[dataset] += part.files
            self.unreadable[dataset] += part.unreadable
            self.ignored[dataset] += part.ignored
        self.files[dataset].sort(key=lambda f: f.origin)
        self.unreadable[dataset].sort(key=lambda u: u.origin)

    def wait_registers(self) -> None:
        """Block until every register file is fetched."""
        for name, future in self._pending_registers.items():
            got = future.result()
            if isinstance(got, Unreadable):
                self.register_errors.append(got)
            else:
                self.registers[name] = got
        self._pending_registers = {}
        self.register_errors.sort(key=lambda u: u.origin)


@dataclass(frozen=True)
class _Item:
    parts: tuple[str, ...]  # path below the source root, sanitised
    origin: str
    size: int
    local: Path | None = None  # folder source: the file itself
    key: str | None = None  # S3 source: the object key
    safe: bool = True  # False for an S3 key with ".." (never written anywhere)


@dataclass
class _Part:
    files: list[DataFile] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    ignored: int = 0


@dataclass
class _Budget:
    """Zip-bomb guard for one outer archive and everything nested in it (sizes from the zip headers,
    which bound what `zipfile` will ever write)."""

    max_bytes: int
    max_ratio: int
    used: int = 0

    def problem(self, info: zipfile.ZipInfo) -> str | None:
        if info.file_size == 0:
            return "empty file"
        if info.file_size > _RATIO_FLOOR and info.file_size > self.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            return f"zip bomb suspected: member expands {ratio}x (limit {self.max_ratio}x)"
        if self.used + info.file_size > self.max_bytes:
            return f"zip bomb suspected: archive expands beyond {self.max_bytes} bytes"
        return None


class _Run:
    """Fetch (S3 only) and unzip one file or register; called from the worker threads."""

    def __init__(self, workdir: Path, limits: tuple[int, int], client: BaseClient | None = None,
                 bucket: str | None = None) -> None:
        self.workdir, self.limits, self.client, self.bucket = workdir, limits, client, bucket

    def fetch(self, item: _Item) -> Path:
        if item.local is not None:
            item.local.stat()  # a dangling link or an unreadable folder fails here, with its reason
            return item.local
        target = self.workdir.joinpath(*item.parts)
        _download(self.client, self.bucket, item.key, item.size, target)
        return target

    def take(self, job: tuple[str, _Item]) -> _Part:
        dataset, item = job
        part = _Part()
        try:
            path = self.fetch(item)
        except (ClientError, BotoCoreError, OSError) as err:
            if _fatal(err):
                raise
            part.unreadable.append(Unreadable(dataset, item.origin, _reason("cannot fetch", err)))
            return part
        kind = _kind(item.parts[-1])
        if kind != "zip":
            part.files.append(DataFile(dataset, path, item.origin, kind, path.stat().st_size))
            return part
        dest = self.workdir.joinpath(*item.parts[:-1], item.parts[-1] + ".d")
        _unzip(path, dest, dataset, item.origin, part, _Budget(*self.limits), 1)  # a budget per outer zip
        if item.local is None:
            path.unlink(missing_ok=True)
        return part

    def take_register(self, items: list[_Item]) -> Path | Unreadable:
        if len(items) > 1:
            names = ", ".join(sorted(i.parts[1] for i in items))
            return Unreadable("registers", items[0].origin, f"several files for one register: {names}")
        if items[0].size == 0:
            return Unreadable("registers", items[0].origin, "empty file")
        if items[0].size > MAX_REGISTER_BYTES:
            return Unreadable("registers", items[0].origin, f"register file too large: {items[0].size} bytes "
                                                            f"(limit {MAX_REGISTER_BYTES})")
        try:
            return self.fetch(items[0])
        except (ClientError, BotoCoreError, OSError) as err:
            if _fatal(err):
                raise
            return Unreadable("registers", items[0].origin, _reason("cannot fetch", err))


def collect(source: str, workdir: Path, *, s3_client: BaseClient | None = None, max_workers: int = 8,
            max_unzipped_bytes: int = 50 * _GIB, max_ratio: int = 500) -> Collected:
    """List the source, fetch its data files into `workdir` (S3) and expand zips there; return when all
    is fetched. `fetching()` does the same but lets the first dataset load while the others arrive."""
    with fetching(source, workdir, s3_client=s3_client, max_workers=max_workers,
                  max_unzipped_bytes=max_unzipped_bytes, max_ratio=max_ratio) as collected:
        for name in DATASETS:
            collected.wait(name)
        collected.wait_registers()
    return collected


@contextmanager
def fetching(source: str, workdir: Path, *, s3_client: BaseClient | None = None, max_workers: int = 8,
             max_unzipped_bytes: int = 50 * _GIB, max_ratio: int = 500) -> Iterator[Collected]:
    """List the source and start fetching its files in the background, dataset by dataset in the order of
    spec.DATASETS, so the loader can read one dataset while the next ones download (`Collected.wait`).

    `max_unzipped_bytes` bounds what one outer zip may expand to (nested zips included); a member that
    expands more than `max_ratio` times its compressed size is refused as a likely zip bomb (deflate tops
    out near 1030x; real CSVs stay far below: 62x measured for wide, sparse SoR rows, 343x for identical
    rows). On leaving, downloads not started yet are cancelled.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if source.startswith("s3://"):
        bucket, prefix = _split_s3(source)
        client = s3_client or _default_client(max_workers)
        run = _Run(workdir, (max_unzipped_bytes, max_ratio), client, bucket)
        normalised, items = f"s3://{bucket}/{prefix}", _list_s3(client, bucket, prefix)
    else:
        root = Path(source).expanduser().resolve()
        run = _Run(workdir, (max_unzipped_bytes, max_ratio))
        normalised, items = str(root), _list_folder(root)

    out = Collected(files={n: [] for n in DATASETS}, unreadable={n: [] for n in DATASETS},
                    ignored=dict.fromkeys(DATASETS, 0), registers={}, register_errors=[], source=normalised)
    jobs: dict[str, list[_Item]] = {n: [] for n in DATASETS}
    candidates: dict[str, list[_Item]] = {}
    for item in items:
        head = item.parts[0]
        kind = None if _junk(item.parts) else _kind(item.parts[-1])
        if head == "registers" and len(item.parts) == 2 and item.safe:
            _register_candidate(item, candidates, out.register_errors)
        elif head not in DATASETS or len(item.parts) < 2:
            continue
        elif not item.safe:
            out.unreadable[head].append(Unreadable(head, item.origin, "unsafe object key: contains '..'"))
        elif kind and item.size == 0:
            out.unreadable[head].append(Unreadable(head, item.origin, "empty file"))
        elif kind:
            jobs[head].append(item)
        else:
            out.ignored[head] += 1
    out.objects = sum(len(v) for v in jobs.values()) + len(candidates)
    pool = ThreadPoolExecutor(max_workers=max(1, max_workers))
    try:  # the pool takes jobs in the order submitted: the first dataset's files come first
        for name, todo in jobs.items():
            out._pending[name] = [pool.submit(run.take, (name, item)) for item in todo]
        out._pending_registers = {name: pool.submit(run.take_register, found) for name, found in candidates.items()}
        yield out
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def read_text(source: str, *, s3_client: BaseClient | None = None) -> str:
    """The text of one file (e.g. the config YAML) from a local path or an `s3://bucket/key` URI."""
    if source.startswith("s3://"):
        bucket, key = _split_s3(source, folder=False)
        if not key:
            raise SourceError(f"{source} names a bucket, not a file")
        try:
            data = (s3_client or _default_client(1)).get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            raise _s3_error(err, bucket, source) from None
        except BotoCoreError as err:
            raise SourceError(f"cannot read {source}: {_one_line(err)}") from None
    else:
        try:
            data = Path(source).expanduser().read_bytes()
        except FileNotFoundError:
            raise SourceError(f"file not found: {source}") from None
        except OSError as err:
            raise SourceError(f"cannot read {source}: {err.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{source} is not UTF-8 text") from None


def cleanup(files: Iterable[DataFile | Path], workdir: Path) -> int:
    """Delete the local copies under `workdir` once loaded (and directories left empty); a file outside
    it, such as a folder source's own file, is never touched. Returns the number of files deleted."""
    root = Path(workdir).resolve()
    deleted = 0
    for f in files:
        path = (f.path if isinstance(f, DataFile) else Path(f)).resolve()
        if not path.is_relative_to(root) or path == root or not path.is_file():
            continue
        path.unlink()
        deleted += 1
        parent = path.parent
        while parent != root and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return deleted


# ---------------------------------------------------------------- listing


def _split_s3(uri: str, *, folder: bool = True) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise SourceError(f"no bucket in {uri!r} (expected s3://bucket/prefix/)")
    if folder and key and not key.endswith("/"):
        key += "/"
    return bucket, key


def _default_client(max_workers: int) -> BaseClient:
    """`boto3.client("s3")` (honours AWS_ENDPOINT_URL) with a connection per concurrent request."""
    pool = max(10, max_workers * _TRANSFER.max_request_concurrency)
    return boto3.client("s3", config=Config(max_pool_connections=pool))


def _s3_error(err: ClientError, bucket: str, what: str) -> SourceError:
    code = str(err.response.get("Error", {}).get("Code", ""))
    if code == "NoSuchBucket":
        return SourceError(f"S3 bucket {bucket!r} does not exist")
    if code in ("AccessDenied", "403", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return SourceError(f"access denied to S3 bucket {bucket!r} ({code}) reading {what}")
    if code in ("NoSuchKey", "404"):
        return SourceError(f"{what} does not exist")
    return SourceError(f"cannot read {what}: {_one_line(err)}")


def _list_s3(client: BaseClient, bucket: str, prefix: str) -> list[_Item]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    items = []
    try:
        for page in pages:
            for obj in page.get("Contents", []):
                key, rel = obj["Key"], obj["Key"][len(prefix):]
                if key.endswith("/"):  # a "folder" made in the console
                    continue
                parts = _safe_parts(rel)
                safe = parts is not None
                parts = parts if safe else tuple(p for p in rel.split("/") if p)
                if parts:
                    items.append(_Item(parts, f"s3://{bucket}/{key}", obj["Size"], key=key, safe=safe))
    except ClientError as err:
        raise _s3_error(err, bucket, f"s3://{bucket}/{prefix}") from None
    except BotoCoreError as err:
        raise SourceError(f"cannot list s3://{bucket}/{prefix}: {_one_line(err)}") from None
    if not items:
        raise SourceError(f"nothing found under s3://{bucket}/{prefix} (check the bucket and prefix)")
    return items


def _list_folder(root: Path) -> list[_Item]:
    if not root.is_dir():
        raise SourceError(f"data folder not found: {root}")
    items = []
    for name in (*DATASETS, "registers"):
        for dirpath, dirnames, filenames in os.walk(root / name):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(dirpath, filename)
                rel = path.relative_to(root)
                try:
                    size = path.stat().st_size
                except OSError:  # a dangling link: `_Run.fetch` names it
                    size = -1
                items.append(_Item(rel.parts, rel.as_posix(), size, local=path))
    return items


def _safe_parts(name: str) -> tuple[str, ...] | None:
    """The path components of a key or member name, or None when it would escape its folder."""
    name = name.replace("\\", "/")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in parts:
        return None
    return parts


def _kind(name: str) -> str | None:
    low = name.lower()
    return next((kind for suffix, kind in _SUFFIXES if low.endswith(suffix)), None)


def _junk(parts: Iterable[str]) -> bool:
    """macOS archive debris (`__MACOSX/`, `._x.csv`): looks like data, is not."""
    parts = tuple(parts)
    return "__MACOSX" in parts or parts[-1].startswith("._")


def _register_candidate(item: _Item, candidates: dict[str, list[_Item]], errors: list[Unreadable]) -> None:
    stem, _, ext = item.parts[1].rpartition(".")
    if ext.lower() not in _REGISTER_EXTS:
        return
    if stem.lower() in REGISTERS:
        candidates.setdefault(stem.lower(), []).append(item)
    else:
        errors.append(Unreadable("registers", item.origin,
                                 f"unknown register {stem!r} (expected one of {', '.join(REGISTERS)})"))


# ---------------------------------------------------------------- fetching and unzipping


def _download(client: BaseClient, bucket: str, key: str, size: int, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if size >= _MULTIPART_THRESHOLD:
        client.download_file(bucket, key, str(target), Config=_TRANSFER)
        return
    partial = target.with_name(target.name + ".part")
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            with open(partial, "wb") as out:
                shutil.copyfileobj(body, out, _BUFFER)
        finally:
            body.close()
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _unzip(path: Path, dest: Path, dataset: str, origin: str, part: _Part, budget: _Budget,
           depth: int) -> None:
    """Expand `path` into `dest` member by member (sorted by name), recursing into nested zips."""
    if depth > _MAX_ZIP_DEPTH:
        part.unreadable.append(Unreadable(dataset, origin, f"zip nested deeper than {_MAX_ZIP_DEPTH} levels"))
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        if _fatal(err):
            raise
        part.unreadable.append(Unreadable(dataset, origin, _reason("corrupt zip", err)))
        return
    seen: set[str] = set()
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            member = f"{origin}!{info.filename}"
            parts = _safe_parts(info.filename)
            kind = _kind(info.filename)
            if parts is None:
                problem = "unsafe member path (zip-slip): leaves the archive's folder"
            elif not kind or _junk(parts):
                part.ignored += 1
                continue
            else:
                problem = "duplicate member name" if info.filename in seen else budget.problem(info)
            seen.add(info.filename)
            if problem:
                part.unreadable.append(Unreadable(dataset, member, problem))
                continue
            target = dest.joinpath(*parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, _BUFFER)
            except _ZIP_ERRORS as err:
                with suppress(OSError):  # e.g. the name too long to create is too long to delete
                    target.unlink(missing_ok=True)
                if _fatal(err):  # the disk is full or failing: not this file's fault
                    raise
                part.unreadable.append(Unreadable(dataset, member, _reason("unreadable zip member", err)))
                continue
            budget.used += info.file_size
            if kind == "zip":
                _unzip(target, target.with_name(target.name + ".d"), dataset, member, part, budget, depth + 1)
                target.unlink(missing_ok=True)
            else:
                part.files.append(DataFile(dataset, target, member, kind, info.file_size))


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:300] or type(err).__name__


def _reason(what: str, err: BaseException) -> str:
    return f"{what}: {_one_line(err)}"
