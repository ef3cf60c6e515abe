"""Inspect: what the dataset is (format, columns, rows, SHA-256) and how to run it.

At or below ``settings.small_max_bytes`` the file is opened in the Lambda's scratch space and
the job runs in one Lambda (``mode: small``). Above, it is planned into shards
(``synthos.shard.plan_shards``): Parquet and Arrow files straight from S3 with ranged reads
(``S3File``: only footers travel), text formats from a scratch copy (their byte ranges need a
scan). The manifest and its bare item array go under ``shards/{tenant}/{job}/`` and the state
names them for the Distributed Map (``mode: large``). An unreadable file fails the job and
marks the dataset failed with the reason; the upload itself is never touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pynamodb.expressions.update import Action

from synthos.aws.clients import client
from synthos.aws.keys import manifest_key
from synthos.aws.s3_file import S3File
from synthos.aws.settings import Settings
from synthos.aws.tables import DatasetModel, utcnow
from synthos.engine import ValidateOptions
from synthos.errors import InputError
from synthos.io.detect import format_from_name
from synthos.io.readers import open_table, sha256_file
from synthos.jobs import JobStatus
from synthos.pipeline import datasets, storage
from synthos.pipeline.options import engine_options
from synthos.pipeline.progress import move

_RANGED = ("parquet", "arrow", "feather")


def items_key(tenant_id: str, job_id: str) -> str:
    return manifest_key(tenant_id, job_id).replace("manifest.json", "items.json")


def inspect_dataset(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    tenant, job_id = state["tenant_id"], state["job_id"]
    job = move(settings, tenant, job_id, JobStatus.INSPECTING, progress=0.05)
    opts = engine_options(job.options)
    dataset = datasets.load(tenant, job.dataset_id)
    if job.reference_id:
        datasets.load(tenant, job.reference_id, role="reference")
    size = int(storage.head(settings, dataset.s3_key)["ContentLength"])
    try:
        if size <= settings.small_max_bytes:
            _inspect_small(settings, dataset, job_id)
            move(settings, tenant, job_id, JobStatus.VALIDATING, shards_total=1, shards_done=0,
                 progress=0.1)
            return {"tenant_id": tenant, "job_id": job_id, "mode": "small"}
        plan = _plan(settings, dataset, size, job_id, opts)
    except InputError as exc:
        datasets.mark_failed(dataset, exc.message)
        raise
    _record(dataset, plan.format, len(plan.schema), plan.rows_estimate, plan.sha256 or None)
    storage.put_json(settings, manifest_key(tenant, job_id), plan.to_json())
    storage.put_json(settings, items_key(tenant, job_id), plan.items_json())
    total = len(plan.items)
    move(settings, tenant, job_id, JobStatus.VALIDATING, shards_total=total, shards_done=0,
         progress=0.1)
    return {"tenant_id": tenant, "job_id": job_id, "mode": "large", "shards_total": total,
            "items_key": items_key(tenant, job_id),
            "manifest_uri": f"s3://{settings.bucket}/{manifest_key(tenant, job_id)}"}


def _inspect_small(settings: Settings, dataset: DatasetModel, job_id: str) -> None:
    """Open the file (the reader's named error when it cannot be read) and record it."""
    with storage.scratch(job_id) as work:
        path = storage.download(settings, dataset.s3_key, work)
        source = open_table(path)
        _record(dataset, source.format, len(source.schema), source.num_rows_hint,
                sha256_file(path))


def _plan(settings: Settings, dataset: DatasetModel, size: int, job_id: str,
          opts: ValidateOptions) -> Any:
    from synthos.shard import plan_shards

    uri = f"s3://{settings.bucket}/{dataset.s3_key}"
    common: dict[str, Any] = dict(
        source_uri=uri, tenant=dataset.tenant_id, job_id=job_id,
        target_bytes=settings.shard_target_bytes, embedding_columns=opts.embedding_columns,
        sample_rows=opts.sample_rows, seed=opts.seed)
    fmt, compressed = format_from_name(Path(dataset.s3_key))
    if fmt in _RANGED and not compressed:
        with S3File(client("s3", settings), settings.bucket, dataset.s3_key) as f:
            return plan_shards(f, fmt=fmt, size_bytes=size, **common)
    with storage.scratch(job_id) as work:
        return plan_shards(storage.download(settings, dataset.s3_key, work), **common)


def _record(dataset: DatasetModel, fmt: str, columns: int, rows: int | None,
            sha256: str | None) -> None:
    actions: list[Action] = [DatasetModel.format.set(fmt), DatasetModel.columns.set(columns),
                             DatasetModel.updated_at.set(utcnow())]
    if rows is not None:
        actions.append(DatasetModel.rows.set(rows))
    if sha256:
        actions.append(DatasetModel.sha256.set(sha256))
    dataset.update(actions=actions)
