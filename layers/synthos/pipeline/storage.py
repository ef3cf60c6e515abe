"""S3 access of the pipeline steps: object metadata, scratch downloads, JSON documents."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from synthos.aws.clients import client
from synthos.aws.keys import safe_filename
from synthos.aws.settings import Settings
from synthos.errors import DatasetNotFound
from synthos.pipeline.errors import TransientError

_MISSING = ("NoSuchKey", "404", "NotFound", "NoSuchVersion")
_THROTTLED = ("SlowDown", "503", "500", "InternalError", "RequestTimeout", "ServiceUnavailable")


def translate(exc: ClientError, key: str) -> Exception:
    """A storage ClientError as a named error: missing -> DatasetNotFound, throttling ->
    TransientError (retried by the state machine); anything else unchanged."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    if code in _MISSING:
        return DatasetNotFound(f"{key} is no longer in the bucket")
    if code in _THROTTLED:
        return TransientError(f"storage was busy reading {key} ({code}); will retry")
    return exc


def head(settings: Settings, key: str, *, checksum: bool = False) -> dict[str, Any]:
    """HeadObject of ``key``; ``checksum``: with the object's stored checksums
    (``ChecksumMode=ENABLED``, e.g. ``ChecksumSHA256`` when the upload supplied one)."""
    extra: dict[str, Any] = {"ChecksumMode": "ENABLED"} if checksum else {}
    try:
        return dict(client("s3", settings).head_object(Bucket=settings.bucket, Key=key, **extra))
    except ClientError as exc:
        raise translate(exc, key) from exc


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A fresh directory under the (Lambda: /tmp) temporary directory, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"synthos-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def download(settings: Settings, key: str, directory: Path) -> Path:
    """Copy ``key`` into ``directory`` keeping its file name (formats are told by name)."""
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / safe_filename(key.rsplit("/", 1)[-1])
    try:
        client("s3", settings).download_file(settings.bucket, key, str(dest))
    except ClientError as exc:
        raise translate(exc, key) from exc
    return dest


def put_json(settings: Settings, key: str, document: Any) -> None:
    body = document if isinstance(document, str) else json.dumps(document, default=str)
    client("s3", settings).put_object(Bucket=settings.bucket, Key=key, Body=body.encode(),
                                      ContentType="application/json")


def get_bytes(settings: Settings, key: str, byte_range: str | None = None) -> bytes:
    """The object's bytes (``byte_range``: an HTTP range such as ``bytes=0-1048575``)."""
    extra: dict[str, Any] = {"Range": byte_range} if byte_range else {}
    try:
        body = client("s3", settings).get_object(Bucket=settings.bucket, Key=key,
                                                 **extra)["Body"]
        return bytes(body.read())
    except ClientError as exc:
        raise translate(exc, key) from exc


def copy(settings: Settings, source: str, dest: str) -> None:
    client("s3", settings).copy_object(Bucket=settings.bucket, Key=dest,
                                       CopySource={"Bucket": settings.bucket, "Key": source})


def latest_under(settings: Settings, prefix: str) -> dict[str, Any] | None:
    """The most recently modified object directly under ``prefix`` (None when empty)."""
    newest: dict[str, Any] | None = None
    for page in client("s3", settings).get_paginator("list_objects_v2").paginate(
            Bucket=settings.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if "/" in obj["Key"][len(prefix):] or obj["Key"].endswith("/"):
                continue
            if newest is None or obj["LastModified"] > newest["LastModified"]:
                newest = obj
    return newest
