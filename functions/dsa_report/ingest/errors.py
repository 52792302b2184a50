"""What the source adapters raise: the location itself is unusable, one file could not be fetched, or the run
lacks a resource it needs (which is no property of any file)."""

import errno


class SourceError(Exception):
    """The data location itself cannot be used (missing folder or bucket, access denied)."""


class FetchError(Exception):
    """One object could not be fetched for a reason of its own (gone since it was listed, archived); the file
    is named unreadable."""


class ResourceError(Exception):
    """The run cannot get at its input: access denied to an object, S3 throttling or a server error after the
    client's retries, the network. Not the input's fault: the run fails (raises) instead of naming a file
    unreadable, and the Lambda retries."""


# The machine failing or the run denied access, not the input: these OSErrors (and MemoryError) propagate and
# fail the run loudly instead of naming a file unreadable.
FATAL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOMEM, errno.EMFILE,
                          errno.ENFILE, errno.EACCES, errno.EPERM})


def fatal(err: BaseException) -> bool:
    """True for an error of the machine or of access (disk full or failing, out of memory or file handles,
    permission denied)."""
    return isinstance(err, MemoryError) or (isinstance(err, OSError) and err.errno in FATAL_ERRNOS)


# Engine exceptions that say the run, not the data, failed (DuckDB's names; a Spark engine's Java OutOfMemoryError
# surfaces with the same words): matched by name, so no layer above needs the engine's package.
_RUN_FAILURES = ("OutOfMemoryException", "InterruptException", "FatalException", "OutOfMemoryError")


def run_failure(err: BaseException) -> bool:
    """True when an error while evaluating is the run's (memory, disk, access, an interrupted engine): it must
    fail the run, never become one obligation's ERROR or a metric's null while the report goes out."""
    return fatal(err) or any(name in type(err).__name__ or name in str(err)[:200] for name in _RUN_FAILURES)
