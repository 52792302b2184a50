"""The S3 source adapter: list a prefix, download an object, read a small file; the only ingest module that
speaks boto3. Errors become `SourceError` (the location is unusable), `FetchError` (one object failed for a
reason of its own: gone since it was listed, archived) or `ResourceError` (the run could not get an object it
may need: access denied, throttling or a server error after the client's retries, the network).

One streamed GET is fastest below ~128 MB (ranged GETs each cost a request, and moto server re-reads the
whole object per range). Above it, 64 MB parts fetched 4 at a time raise the per-object throughput on
real S3; 1 MB socket reads keep Python overhead negligible while s3transfer's IO queue stays small.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import RetriesExceededError, S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import FetchError, ResourceError, SourceError

_MIB = 1 << 20
BUFFER = _MIB  # copy buffer for S3 bodies: large reads, bounded memory
MULTIPART_THRESHOLD = 128 * _MIB
# An object's own state: named unreadable, the run goes on. Any other answer (AccessDenied, SlowDown, 503, 500,
# an expired token...) says nothing about the file: the run fails rather than report on what it could get.
_OBJECT_STATE = frozenset({"NoSuchKey", "404", "InvalidObjectState"})
_TRANSFER = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=64 * _MIB,
                           max_concurrency=4, io_chunksize=_MIB)


def split(uri: str, *, folder: bool = True) -> tuple[str, str]:
    """(bucket, key or prefix) of an `s3://` URI; a folder's prefix ends with '/'."""
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise SourceError(f"no bucket in {uri!r} (expected s3://bucket/prefix/)")
    if folder and key and not key.endswith("/"):
        key += "/"
    return bucket, key


def default_client(max_workers: int) -> BaseClient:
    """`boto3.client("s3")` (honours AWS_ENDPOINT_URL) with a connection per concurrent request."""
    pool = max(10, max_workers * _TRANSFER.max_request_concurrency)
    return boto3.client("s3", config=Config(max_pool_connections=pool))


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:300] or type(err).__name__


def _error(err: ClientError, bucket: str, what: str) -> SourceError:
    code = str(err.response.get("Error", {}).get("Code", ""))
    if code == "NoSuchBucket":
        return SourceError(f"S3 bucket {bucket!r} does not exist")
    if code in ("AccessDenied", "403", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return SourceError(f"access denied to S3 bucket {bucket!r} ({code}) reading {what}")
    if code in ("NoSuchKey", "404"):
        return SourceError(f"{what} does not exist")
    return SourceError(f"cannot read {what}: {_one_line(err)}")


def list_objects(client: BaseClient, bucket: str, prefix: str, *, etags: bool = False) -> list[tuple[str, Any]]:
    """(key, size) of every object under `prefix`, console "folders" left out; (key, ETag) with `etags`."""
    found = []
    field = "ETag" if etags else "Size"
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found += [(obj["Key"], obj[field]) for obj in page.get("Contents", []) if not obj["Key"].endswith("/")]
    except ClientError as err:
        raise _error(err, bucket, f"s3://{bucket}/{prefix}") from None
    except BotoCoreError as err:
        raise SourceError(f"cannot list s3://{bucket}/{prefix}: {_one_line(err)}") from None
    return found


def download(client: BaseClient, bucket: str, key: str, size: int, target: Path) -> None:
    """Copy one object to `target` (a partial copy never keeps the final name)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if size >= MULTIPART_THRESHOLD:
            client.download_file(bucket, key, str(target), Config=_TRANSFER)
            return
        partial = target.with_name(target.name + ".part")
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            try:
                with open(partial, "wb") as out:
                    shutil.copyfileobj(body, out, BUFFER)
            finally:
                body.close()
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    except ClientError as err:
        if str(err.response.get("Error", {}).get("Code", "")) in _OBJECT_STATE:
            raise FetchError(_one_line(err)) from err
        raise ResourceError(f"s3://{bucket}/{key}: {_one_line(err)}") from err
    except (BotoCoreError, RetriesExceededError) as err:
        raise ResourceError(f"s3://{bucket}/{key}: {_one_line(err)}") from err


def read(client: BaseClient | None, uri: str) -> bytes:
    """The bytes of one small object (a config file)."""
    bucket, key = split(uri, folder=False)
    if not key:
        raise SourceError(f"{uri} names a bucket, not a file")
    try:
        return (client or default_client(1)).get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        raise _error(err, bucket, uri) from None
    except BotoCoreError as err:
        raise SourceError(f"cannot read {uri}: {_one_line(err)}") from None


def put(client: BaseClient, bucket: str, key: str, data: bytes | Path) -> None:
    """Write one object (bytes, or a local file streamed); any failure is the run's (ResourceError)."""
    try:
        if isinstance(data, Path):
            client.upload_file(str(data), bucket, key, Config=_TRANSFER)
        else:
            client.put_object(Bucket=bucket, Key=key, Body=data)
    except (ClientError, BotoCoreError, RetriesExceededError, S3UploadFailedError) as err:
        raise ResourceError(f"s3://{bucket}/{key}: {_one_line(err)}") from err


def delete(client: BaseClient, bucket: str, key: str) -> None:
    try:
        client.delete_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as err:
        raise ResourceError(f"s3://{bucket}/{key}: {_one_line(err)}") from err


def get(client: BaseClient, bucket: str, key: str) -> bytes | None:
    """The bytes of one object, None when there is none; any other failure is the run's (ResourceError)."""
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        if str(err.response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "404"):
            return None
        raise ResourceError(f"s3://{bucket}/{key}: {_one_line(err)}") from err
    except BotoCoreError as err:
        raise ResourceError(f"s3://{bucket}/{key}: {_one_line(err)}") from err
