"""Writing query results to files, byte-identical for a given seed whatever DuckDB's thread count.

Every COPY has a total order. Gzip is not left to DuckDB: its writer compresses about ten times slower than
zlib, so DuckDB writes plain text into a named pipe (a staging file where there are no pipes) and zlib, which
releases the GIL, compresses it in a worker thread at the same time. zlib's gzip header has no name, mtime 0.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import duckdb

GZIP_LEVEL = 1  # fast; the files are test data, not an archive
_CHUNK = 4 << 20


def sql_path(path: Path) -> str:
    """A file path as an SQL string literal (COPY takes no parameter for it)."""
    return "'" + str(path).replace("'", "''") + "'"


def _compress(fin: BinaryIO, dst: Path, level: int) -> None:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    with fin, open(dst, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            fout.write(compressor.compress(chunk))
        fout.write(compressor.flush())


def gzip_file(src: Path, dst: Path, level: int = GZIP_LEVEL) -> None:
    """Compress `src` into `dst` (gzip, deterministic header) and remove `src`."""
    _compress(open(src, "rb"), dst, level)
    src.unlink()


class Writer:
    """COPY query results into the output tree: `.csv`, `.csv.gz`, `.jsonl`, `.jsonl.gz`, `.parquet`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, root: Path) -> None:
        self.con = con
        self.root = root
        self.files: list[Path] = []
        self._staging = tempfile.TemporaryDirectory(prefix="dsa-synthetic-")
        self._pool = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1))
        self._pending: list[Future[None]] = []

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            for future in self._pending:
                if exc is None:
                    future.result()
                else:
                    future.cancel()
        finally:
            self._pool.shutdown(wait=True)
            self._staging.cleanup()

    def copy(self, query: str, params: dict[str, object] | None, relpath: str) -> Path:
        """Write the result of `query` to `root/relpath`; its rows must come in a total order (ORDER BY a
        unique key, or a filtered scan of a table stored in order)."""
        target = self.root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        name = target.name
        compress = name.endswith(".gz")
        if name.endswith(".parquet"):
            options = "FORMAT parquet"
        elif ".jsonl" in name:
            options = "FORMAT json"
        else:
            options = "FORMAT csv, HEADER"
        if not compress:
            self.con.execute(f"COPY ({query}) TO {sql_path(target)} ({options})", params)
        elif hasattr(os, "mkfifo"):
            pipe = Path(self._staging.name) / f"{len(self.files)}.pipe"
            os.mkfifo(pipe)
            # Both ends are opened here, so nothing blocks on open(); our write end keeps the reader from
            # seeing the end of the input until DuckDB's COPY is over, whether it succeeds or fails.
            read_end = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
            os.set_blocking(read_end, True)
            write_end = os.open(pipe, os.O_WRONLY)
            self._pending.append(self._pool.submit(_compress, os.fdopen(read_end, "rb"), target, GZIP_LEVEL))
            try:
                self.con.execute(f"COPY ({query}) TO {sql_path(pipe)} ({options})", params)
            finally:
                os.close(write_end)
        else:
            staged = Path(self._staging.name) / f"{len(self.files)}-{name[:-3]}"
            self.con.execute(f"COPY ({query}) TO {sql_path(staged)} ({options})", params)
            self._pending.append(self._pool.submit(gzip_file, staged, target))
        self.files.append(target)
        return target

