"""The small path: the whole validation in one Lambda (``synthos.engine.validate`` on copies
of the dataset and reference in the Lambda's scratch space)."""

from __future__ import annotations

from typing import Any

from synthos.aws.job_store import get_job
from synthos.aws.settings import Settings
from synthos.engine import validate
from synthos.jobs import JobStatus
from synthos.pipeline import datasets, storage
from synthos.pipeline.options import engine_options
from synthos.pipeline.progress import move
from synthos.pipeline.results import write_result


def run_validation(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    tenant, job_id = state["tenant_id"], state["job_id"]
    job = get_job(tenant, job_id)
    opts = engine_options(job.options)
    dataset = datasets.load(tenant, job.dataset_id)
    reference = datasets.load(tenant, job.reference_id, "reference") if job.reference_id \
        else None
    with storage.scratch(job_id) as work:
        ds_path = storage.download(settings, dataset.s3_key, work / "dataset")
        ref_path = storage.download(settings, reference.s3_key, work / "reference") \
            if reference is not None else None
        result = validate(ds_path, ref_path, opts)
    move(settings, tenant, job_id, JobStatus.REDUCING, progress=0.7)
    write_result(settings, tenant, job_id, result)
    return {"tenant_id": tenant, "job_id": job_id, "mode": "small"}
