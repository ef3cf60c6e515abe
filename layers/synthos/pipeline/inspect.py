"""Inspect: what the dataset is (format, columns, rows, SHA-256) and how to run it.

At or below ``settings.small_max_bytes`` the file is opened in the Lambda's scratch space and
the job runs in one Lambda (``mode: small``). Above, it is planned into shards
(``synthos.shard.plan_shards``): Parquet and Arrow files straight from S3 with ranged reads
(``S3File``: only footers travel), text formats from a scratch copy (their byte ranges need a
scan). The manifest and its bare item array go under ``shards/{tenant}/{job}/`` and the state
names them for the Distributed Map (``mode: large``). What is learnt is recorded on the dataset,
which becomes ``ready`` (:mod:`synthos.pipeline.describe`; a large file's SHA-256 is S3's
full-object checksum when it has one, else the planner's: a text file's scratch copy is hashed).
An unreadable file fails the job and marks the dataset failed with the reason; the upload itself
is never touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthos.aws.clients import client
from synthos.aws.keys import manifest_key
from synthos.aws.s3_file import S3File
from synthos.aws.settings import Settings
from synthos.aws.tables import DatasetModel
from synthos.engine import ValidateOptions
from synthos.errors import InputError
from synthos.io.detect import format_from_name
from synthos.jobs import JobStatus
from synthos.pipeline import datasets, storage
from synthos.pipeline.describe import RANGED, inspect_small, record, s3_sha256
from synthos.pipeline.options import engine_options
from synthos.pipeline.progress import move


def items_key(tenant_id: str, job_id: str) -> str:
    return manifest_key(tenant_id, job_id).replace("manifest.json", "items.json")


def inspect_dataset(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    tenant, job_id = state["tenant_id"], state["job_id"]
    job = move(settings, tenant, job_id, JobStatus.INSPECTING, progress=0.05)
    opts = engine_options(job.options)
    dataset = datasets.load(tenant, job.dataset_id)
    if job.reference_id:
        datasets.load(tenant, job.reference_id, role="reference")
    head = storage.head(settings, dataset.s3_key, checksum=True)
    size = int(head["ContentLength"])
    try:
        if size <= settings.small_max_bytes:
            inspect_small(settings, dataset, job_id)
            move(settings, tenant, job_id, JobStatus.VALIDATING, shards_total=1, shards_done=0,
                 progress=0.1)
            return {"tenant_id": tenant, "job_id": job_id, "mode": "small"}
        plan = _plan(settings, dataset, size, job_id, opts, s3_sha256(head))
    except InputError as exc:
        datasets.mark_failed(dataset, exc.message)
        raise
    record(dataset, plan.format, len(plan.schema), plan.rows_estimate, plan.sha256 or None)
    storage.put_json(settings, manifest_key(tenant, job_id), plan.to_json())
    storage.put_json(settings, items_key(tenant, job_id), plan.items_json())
    total = len(plan.items)
    move(settings, tenant, job_id, JobStatus.VALIDATING, shards_total=total, shards_done=0,
         progress=0.1)
    return {"tenant_id": tenant, "job_id": job_id, "mode": "large", "shards_total": total,
            "items_key": items_key(tenant, job_id),
            "manifest_uri": f"s3://{settings.bucket}/{manifest_key(tenant, job_id)}"}


def _plan(settings: Settings, dataset: DatasetModel, size: int, job_id: str,
          opts: ValidateOptions, sha256: str | None) -> Any:
    from synthos.shard import plan_shards

    uri = f"s3://{settings.bucket}/{dataset.s3_key}"
    common: dict[str, Any] = dict(
        source_uri=uri, tenant=dataset.tenant_id, job_id=job_id,
        target_bytes=settings.shard_target_bytes, embedding_columns=opts.embedding_columns,
        sample_rows=opts.sample_rows, seed=opts.seed, sha256=sha256)
    fmt, compressed = format_from_name(Path(dataset.s3_key))
    if fmt in RANGED and not compressed:
        with S3File(client("s3", settings), settings.bucket, dataset.s3_key) as f:
            return plan_shards(f, fmt=fmt, size_bytes=size, **common)
    with storage.scratch(job_id) as work:
        return plan_shards(storage.download(settings, dataset.s3_key, work), **common)
