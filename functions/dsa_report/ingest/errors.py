"""What the source adapters raise: the location itself is unusable, or one file could not be fetched."""


class SourceError(Exception):
    """The data location itself cannot be used (missing folder or bucket, access denied)."""


class FetchError(Exception):
    """One object could not be fetched (a network or service error); the file is named unreadable."""
