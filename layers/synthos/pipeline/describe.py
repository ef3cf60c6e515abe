"""What an uploaded file is: format, columns, rows and SHA-256 recorded on its dataset, which
becomes ``ready``; a file that cannot be read makes it ``failed`` with the reason (the upload
itself is never touched).

Two callers: ``InspectDataset`` (every validation, :mod:`synthos.pipeline.inspect`) and the
upload's own *Object Created* event when no validation was asked for (:func:`describe_upload`,
from ``ClaimJob``), so ``GET /v1/datasets/{id}`` shows what the file is either way.

How much is read:

- at or below ``settings.small_max_bytes``: the whole file, in scratch space: every reader check,
  exact rows, SHA-256 of the content;
- above: metadata only. Parquet / Arrow: schema and exact row count from the footer through
  ranged reads (``S3File``); text formats: the columns from the first MiB (rows unknown: null).
  The SHA-256 is never computed by reading a multi-GB object in a Lambda: it is S3's own
  full-object ``ChecksumSHA256`` when the upload supplied one (``x-amz-checksum-sha256``, a
  single PUT or a copy with ``--checksum-algorithm SHA256``), otherwise it stays null (the
  composite checksum of a multipart upload is not the file's hash).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

from pynamodb.expressions.update import Action

from synthos.aws.clients import client
from synthos.aws.s3_file import S3File
from synthos.aws.settings import Settings
from synthos.aws.tables import DatasetModel, utcnow
from synthos.errors import InputError
from synthos.io.detect import format_from_name
from synthos.pipeline import datasets, storage

RANGED = ("parquet", "arrow", "feather")
HEADER_BYTES = 1 << 20  # a large text file's columns are read from its first MiB


def s3_sha256(head: dict[str, Any]) -> str | None:
    """The hex SHA-256 of the whole object when S3 holds one (a full-object checksum)."""
    value = head.get("ChecksumSHA256")
    if not value or "-" in str(value) or head.get("ChecksumType", "FULL_OBJECT") != "FULL_OBJECT":
        return None
    try:
        digest = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest.hex() if len(digest) == 32 else None


def record(dataset: DatasetModel, fmt: str, columns: int | None, rows: int | None,
           sha256: str | None) -> None:
    """What the file is, on the dataset, which becomes ``ready`` (a former reason removed);
    DatasetNotFound when the dataset was deleted meanwhile (it stays deleted)."""
    actions: list[Action] = [DatasetModel.format.set(fmt), DatasetModel.status.set("ready"),
                             DatasetModel.reason.remove(), DatasetModel.updated_at.set(utcnow())]
    if columns is not None:
        actions.append(DatasetModel.columns.set(columns))
    if rows is not None:
        actions.append(DatasetModel.rows.set(rows))
    if sha256:
        actions.append(DatasetModel.sha256.set(sha256))
    datasets.update_unless_deleted(dataset, actions)


def inspect_small(settings: Settings, dataset: DatasetModel, scratch: str) -> None:
    """Open the whole file (the reader's named error when it cannot be read) and record it.
    The readers (pyarrow) are imported here: ClaimJob imports this module for every event."""
    from synthos.io.readers import open_table, sha256_file

    with storage.scratch(scratch) as work:
        path = storage.download(settings, dataset.s3_key, work)
        source = open_table(path)
        record(dataset, source.format, len(source.schema), source.num_rows_hint,
               sha256_file(path))


def describe_upload(settings: Settings, dataset: DatasetModel) -> str:
    """Inspect an upload nobody asked to validate: ``"ready"`` or ``"failed"`` (with the reason
    on the dataset; an object gone since its event fails it too). Only a storage fault raises
    (``TransientError`` is retried by the state machine)."""
    try:
        head = storage.head(settings, dataset.s3_key, checksum=True)
        size = int(head["ContentLength"])
        if size <= settings.small_max_bytes:
            inspect_small(settings, dataset, f"upload-{dataset.dataset_id}")
        else:
            _describe_large(settings, dataset, size, s3_sha256(head))
    except InputError as exc:
        datasets.mark_failed(dataset, exc.message)
        return "failed"
    return "ready"


def _describe_large(settings: Settings, dataset: DatasetModel, size: int,
                    sha256: str | None) -> None:
    from synthos.shard import plan_shards

    named, compressed = format_from_name(Path(dataset.s3_key))
    fmt = named or dataset.format
    if fmt in RANGED and not compressed:
        with S3File(client("s3", settings), settings.bucket, dataset.s3_key) as f:
            plan = plan_shards(f, fmt=fmt, size_bytes=size,
                               target_bytes=settings.shard_target_bytes,
                               source_uri=f"s3://{settings.bucket}/{dataset.s3_key}")
        record(dataset, plan.format, len(plan.schema), plan.rows_estimate, sha256)
        return
    columns = None if compressed else _text_columns(settings, dataset, fmt)
    record(dataset, fmt, columns, None, sha256)


def _text_columns(settings: Settings, dataset: DatasetModel, fmt: str) -> int:
    """The columns of a large text file, from its first complete lines."""
    from synthos.io.readers import open_table

    head = storage.get_bytes(settings, dataset.s3_key, f"bytes=0-{HEADER_BYTES - 1}")
    lines = head[: head.rfind(b"\n") + 1] or head
    with storage.scratch(f"header-{dataset.dataset_id}") as work:
        path = work / Path(dataset.s3_key).name
        path.write_bytes(lines)
        return len(open_table(path, fmt).schema)
