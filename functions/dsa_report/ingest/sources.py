"""Fetch a data location (`s3://bucket/prefix/` or a local folder) into local files DuckDB can read.

The layout is the data contract's: one folder per dataset (any nesting below it) and `registers/`.
S3 objects are copied to `workdir` in parallel, one streamed GET each (ranged parallel GETs only for very
large objects), in the background and dataset by dataset (`fetching`); folder files are used where they
are. Zips (the TDB dumps nest `.csv.zip` inside `.zip`) are expanded member by member into `workdir`.
A file that cannot be fetched for a reason of its own (gone since listed) or unzipped becomes an `Unreadable`
with a one-line reason and its size, and the rest goes on; an unreachable source raises `SourceError`, an
object the run may not read or cannot get (access denied, throttling or a server error after retries, the
network) `ResourceError`, and a failing machine (disk full, I/O error, out of memory) its own error: none of
these is a fault of the input.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import s3
from .contract import DATASETS, REGISTERS
from .errors import FetchError, SourceError, fatal
from .registers import MAX_REGISTER_BYTES

_MIB = 1 << 20
_GIB = 1 << 30
_BUFFER = _MIB  # copy buffer for zip members: large reads, bounded memory
_MAX_ZIP_DEPTH = 5  # the TDB dumps nest 2 levels; a zip quine must not recurse forever
_RATIO_FLOOR = _MIB  # members below this are never suspected, however well they compress
_SUFFIXES = ((".csv", "csv"), (".csv.gz", "csv"), (".jsonl", "jsonl"), (".jsonl.gz", "jsonl"),
             (".parquet", "parquet"), (".zip", "zip"))
_REGISTER_EXTS = ("yaml", "yml", "json")
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)
_fatal = fatal  # the machine failing (errors.FATAL_ERRNOS), not the input: raised, never named unreadable


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
    size: int = 0  # bytes as listed (a zip member: as declared expanded); the loader's share of bytes lost


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


class _Disk:
    """The run's byte budget for unzipping, shared by the worker threads: at most the work folder's free
    space when the run starts. Bytes count from when they are written; files unzipping deletes itself
    (nested zips once expanded, failed members) are given back, files handed to the loader are not."""

    def __init__(self, limit: int, free: int) -> None:
        self.free, self.limit = free, max(0, min(limit, free))
        self.left = self.limit
        self._lock = threading.Lock()

    def take(self, size: int, *, keep: bool = True) -> str | None:
        """Reserve `size` bytes (`keep=False`: only check); the reason when they are not left."""
        with self._lock:
            if size > self.left:
                return (f"unzip budget of the run exhausted: needs {size} bytes, {self.left} of {self.limit} left "
                        f"(the work folder had {self.free} bytes free)")
            if keep:
                self.left -= size
        return None

    def give(self, size: int) -> None:
        with self._lock:
            self.left += size


@dataclass
class _Budget:
    """Zip-bomb guard for one outer archive and everything nested in it (sizes from the zip headers,
    which bound what `zipfile` will ever write): a member's own ratio, and for the whole archive its
    expanded bytes (nested zips counted too) and their ratio to the outer file's compressed size `packed`,
    within the run's `disk`. Members under `_RATIO_FLOOR` escape only the first."""

    max_bytes: int
    max_ratio: int
    max_total_ratio: int
    disk: _Disk
    name: str  # the outer file's name, for the reasons
    packed: int  # the outer file's compressed size
    used: int = 0
    stopped: int | None = None  # once an archive-wide limit is hit: the index of that Unreadable in the part
    skipped: int = 0  # members left unexpanded after the stop
    skipped_bytes: int = 0  # their declared size
    targets: dict[Path, str] = field(default_factory=dict)  # local path -> the member written there

    def problem(self, info: zipfile.ZipInfo) -> str | None:
        if info.file_size == 0:
            return "empty file"
        if info.file_size > _RATIO_FLOOR and info.file_size > self.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            return f"zip bomb suspected: member expands {ratio}x (limit {self.max_ratio}x)"
        return None

    def over(self, size: int, *, keep: bool = True) -> str | None:
        """Why expanding `size` more bytes breaks a limit of the archive or the run; else reserve them."""
        total = self.used + size
        if total > self.max_bytes:
            return (f"zip bomb suspected: {self.name} expands beyond {self.max_bytes} bytes "
                    f"(limit per archive; {total} bytes)")
        if total > _RATIO_FLOOR and total > self.max_total_ratio * self.packed:
            return (f"zip bomb suspected: {self.name} expands {total // self.packed}x its compressed size "
                    f"({total} bytes from {self.packed}; limit {self.max_total_ratio}x per archive)")
        return self.disk.take(size, keep=keep)


class _Run:
    """Fetch (S3 only) and unzip one file or register; called from the worker threads."""

    def __init__(self, workdir: Path, limits: tuple[int, int, int], disk: _Disk, client: Any | None = None,
                 bucket: str | None = None) -> None:
        self.workdir, self.limits, self.disk, self.client, self.bucket = workdir, limits, disk, client, bucket

    def fetch(self, item: _Item) -> Path:
        if item.local is not None:
            item.local.stat()  # a dangling link or an unreadable folder fails here, with its reason
            return item.local
        target = self.workdir.joinpath(*item.parts)
        s3.download(self.client, self.bucket, item.key, item.size, target)
        return target

    def take(self, job: tuple[str, _Item]) -> _Part:
        dataset, item = job
        part = _Part()
        try:
            path = self.fetch(item)
        except (FetchError, OSError) as err:
            if _fatal(err):
                raise
            part.unreadable.append(Unreadable(dataset, item.origin, _reason("cannot fetch", err), item.size))
            return part
        kind = _kind(item.parts[-1])
        if kind != "zip":
            part.files.append(DataFile(dataset, path, item.origin, kind, path.stat().st_size))
            return part
        dest = self.workdir.joinpath(*item.parts[:-1], item.parts[-1] + ".d")
        budget = _Budget(*self.limits, self.disk, item.parts[-1], max(path.stat().st_size, 1))  # one per outer zip
        _unzip(path, dest, dataset, item.origin, part, budget, 1)
        if budget.skipped:
            hit = part.unreadable[budget.stopped]
            part.unreadable[budget.stopped] = Unreadable(dataset, hit.origin, f"{hit.reason}; "
                                                         f"{budget.skipped} more member(s) left unexpanded",
                                                         hit.size + budget.skipped_bytes)
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
        except (FetchError, OSError) as err:
            if _fatal(err):
                raise
            return Unreadable("registers", items[0].origin, _reason("cannot fetch", err))


def collect(source: str, workdir: Path, *, s3_client: Any | None = None, max_workers: int = 8,
            max_unzipped_bytes: int = 50 * _GIB, max_ratio: int = 500, max_total_ratio: int = 500,
            max_run_unzipped_bytes: int | None = None) -> Collected:
    """List the source, fetch its data files into `workdir` (S3) and expand zips there; return when all
    is fetched. `fetching()` does the same but lets the first dataset load while the others arrive."""
    with fetching(source, workdir, s3_client=s3_client, max_workers=max_workers,
                  max_unzipped_bytes=max_unzipped_bytes, max_ratio=max_ratio, max_total_ratio=max_total_ratio,
                  max_run_unzipped_bytes=max_run_unzipped_bytes) as collected:
        for name in DATASETS:
            collected.wait(name)
        collected.wait_registers()
    return collected


@contextmanager
def fetching(source: str, workdir: Path, *, s3_client: Any | None = None, max_workers: int = 8,
             max_unzipped_bytes: int = 50 * _GIB, max_ratio: int = 500, max_total_ratio: int = 500,
             max_run_unzipped_bytes: int | None = None, only: str = "") -> Iterator[Collected]:
    """List the source and start fetching its files in the background, dataset by dataset in the order of
    spec.DATASETS, so the loader can read one dataset while the next ones download (`Collected.wait`).

    `max_unzipped_bytes` bounds what one outer zip may expand to (nested zips included); a member that
    expands more than `max_ratio` times its compressed size is refused as a likely zip bomb (deflate tops
    out near 1030x; real CSVs stay far below: 62x measured for wide, sparse SoR rows, 343x for identical
    rows). Members below 1 MiB escape that test, not the archive's: all it holds, nested zips included,
    may expand to at most `max_total_ratio` times the outer file's size. All zips of the run together may
    expand to at most `max_run_unzipped_bytes`, never more than the free space of `workdir` at the start.
    A zip over a limit is named unreadable (an outer zip over one as declared is not expanded at all; one
    found over it while expanding stops there); a disk that fills anyway (ENOSPC) raises.
    `only`: one path below the source (`notices/2026/10/a.jsonl.gz`, or a folder ending in '/'): the rest of
    the source is not listed (ingest on arrival reads one object, the curated store's reader its registers);
    a file that is not there (deleted since its event) raises FetchError.
    On leaving, downloads not started yet are cancelled.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(workdir).free
    disk = _Disk(free if max_run_unzipped_bytes is None else max_run_unzipped_bytes, free)
    limits = (max_unzipped_bytes, max_ratio, max_total_ratio)
    if source.startswith("s3://"):
        bucket, prefix = s3.split(source)
        client = s3_client or s3.default_client(max_workers)
        run = _Run(workdir, limits, disk, client, bucket)
        normalised, items = f"s3://{bucket}/{prefix}", _list_s3(client, bucket, prefix, only)
    else:
        root = Path(source).expanduser().resolve()
        run = _Run(workdir, limits, disk)
        normalised, items = str(root), _list_folder(root, only)

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
            out.unreadable[head].append(Unreadable(head, item.origin, "unsafe object key: contains '..'",
                                                   item.size))
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


def read_text(source: str, *, s3_client: Any | None = None) -> str:
    """The text of one file (e.g. the config YAML) from a local path or an `s3://bucket/key` URI."""
    if source.startswith("s3://"):
        data = s3.read(s3_client, source)
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


def _list_s3(client: Any, bucket: str, prefix: str, only: str = "") -> list[_Item]:
    items = []
    for key, size in s3.list_objects(client, bucket, prefix + only):
        rel = key[len(prefix):]
        if only and not only.endswith("/") and rel != only:  # `a.csv` lists `a.csv.bak` too
            continue
        parts = _safe_parts(rel)
        safe = parts is not None
        parts = parts if safe else tuple(p for p in rel.split("/") if p)
        if parts:
            items.append(_Item(parts, f"s3://{bucket}/{key}", size, key=key, safe=safe))
    if not items and only and not only.endswith("/"):
        raise FetchError(f"s3://{bucket}/{prefix}{only} no longer exists")
    if not items:
        raise SourceError(f"nothing found under s3://{bucket}/{prefix}{only} (check the bucket and prefix)")
    return items


def _list_folder(root: Path, only: str = "") -> list[_Item]:
    if not root.is_dir():
        raise SourceError(f"data folder not found: {root}")
    items = []
    if only and _safe_parts(only) is None:
        raise SourceError(f"unsafe path below {root}: {only!r}")
    if only and not only.endswith("/"):
        path = root / only
        if not path.is_file():
            raise FetchError(f"{path} no longer exists")
        return [_Item(path.relative_to(root).parts, path.relative_to(root).as_posix(), path.stat().st_size,
                      local=path)]
    for name in (*DATASETS, "registers"):
        if only and name != only.strip("/").split("/")[0]:
            continue
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


def _unzip(path: Path, dest: Path, dataset: str, origin: str, part: _Part, budget: _Budget,
           depth: int) -> None:
    """Expand `path` into `dest` member by member (sorted by normalised name), recursing into nested zips."""
    if depth > _MAX_ZIP_DEPTH:
        part.unreadable.append(Unreadable(dataset, origin, f"zip nested deeper than {_MAX_ZIP_DEPTH} levels",
                                          _size(path)))
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        if _fatal(err):
            raise
        part.unreadable.append(Unreadable(dataset, origin, _reason("corrupt zip", err), _size(path)))
        return
    with archive:
        todo = []  # (member, info, local path, kind, problem known from the headers)
        for info in sorted(archive.infolist(), key=_member_order):
            if info.is_dir():
                continue
            member = f"{origin}!{info.filename}"
            parts = _safe_parts(info.filename)
            kind = _kind(info.filename)
            if parts is None:
                todo.append((member, info, None, kind, "unsafe member path (zip-slip): leaves the archive's folder"))
                continue
            if not kind or _junk(parts):
                part.ignored += 1
                continue
            target = dest.joinpath(*parts)  # `n/x.csv`, `./n/x.csv`, `n//x.csv`, `n\x.csv`: one path
            first = budget.targets.get(target)
            problem = (f"duplicate member: same path as {first} once names are normalised; read once"
                       if first else budget.problem(info))
            budget.targets.setdefault(target, member)
            todo.append((member, info, target, kind, problem))
        declared = sum(info.file_size for _, info, _, _, problem in todo if not problem)
        if depth == 1 and (problem := budget.over(declared, keep=False)):  # over as declared: not expanded
            part.unreadable.append(Unreadable(dataset, origin, problem, declared))
            return
        for member, info, target, kind, problem in todo:
            if budget.stopped is not None:
                budget.skipped += 1
                budget.skipped_bytes += info.file_size
                continue
            if not problem and (problem := budget.over(info.file_size)):
                budget.stopped = len(part.unreadable)  # the archive is over a limit: expanding stops here
            if problem:
                part.unreadable.append(Unreadable(dataset, member, problem, info.file_size))
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, _BUFFER)
            except _ZIP_ERRORS as err:
                with suppress(OSError):  # e.g. the name too long to create is too long to delete
                    target.unlink(missing_ok=True)
                if _fatal(err):  # the disk is full or failing: not this file's fault
                    raise
                budget.disk.give(info.file_size)
                part.unreadable.append(Unreadable(dataset, member, _reason("unreadable zip member", err),
                                                  info.file_size))
                continue
            budget.used += info.file_size
            if kind == "zip":
                _unzip(target, target.with_name(target.name + ".d"), dataset, member, part, budget, depth + 1)
                target.unlink(missing_ok=True)
                budget.disk.give(info.file_size)
            else:
                part.files.append(DataFile(dataset, target, member, kind, info.file_size))


def _member_order(info: zipfile.ZipInfo) -> tuple[str, bool, str]:
    """By normalised name; of names normalising alike, the one already normal first (the one read)."""
    norm = "/".join(_safe_parts(info.filename) or (info.filename,))
    return norm, info.filename != norm, info.filename


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:300] or type(err).__name__


def _reason(what: str, err: BaseException) -> str:
    return f"{what}: {_one_line(err)}"
