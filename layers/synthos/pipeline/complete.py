"""Complete: the job becomes ``completed`` with its result and report keys (only now are they
served), drop-folder results are published, the dataset's last risk level is recorded, and a
re-validation whose risk level rose raises an alert event. A job whose dataset or reference
was deleted while it ran is not completed: DatasetNotFound sends it to FailJob, which removes
its outputs (the DELETE's check for running jobs reads an index and can miss a job that has
just started)."""

from __future__ import annotations

from typing import Any

from synthos.aws.job_store import get_job
from synthos.aws.settings import Settings
from synthos.aws.tables import DatasetModel, JobModel, utcnow
from synthos.jobs import JobStatus
from synthos.pipeline import datasets, dropbox
from synthos.pipeline.progress import emit, job_summary, move
from synthos.pipeline.results import output_keys

RISK_ORDER = ("low", "medium", "high", "critical")
COMPLETED = "Synthos Job Completed"
RISK_INCREASED = "Synthos Risk Increased"


def risk_rose(previous: str | None, current: str | None) -> bool:
    """Whether ``current`` is a higher risk level than ``previous`` (unknown: no)."""
    if previous not in RISK_ORDER or current not in RISK_ORDER:
        return False
    return RISK_ORDER.index(current) > RISK_ORDER.index(previous)


def complete(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    tenant, job_id = state["tenant_id"], state["job_id"]
    pending = get_job(tenant, job_id)
    datasets.load(tenant, pending.dataset_id)  # consistent reads: deleted meanwhile -> fail
    if pending.reference_id:
        datasets.load(tenant, pending.reference_id, role="reference")
    result_key, report_key = output_keys(tenant, job_id)
    job = move(settings, tenant, job_id, JobStatus.COMPLETED, result_key=result_key,
               report_key=report_key, progress=1.0)
    dropbox.publish(settings, job, result_key, report_key)
    _record_risk(settings, job)
    emit(settings, COMPLETED, job_summary(job))
    return {"tenant_id": tenant, "job_id": job_id, "status": job.status,
            "risk_level": job.risk_level}


def _record_risk(settings: Settings, job: JobModel) -> None:
    dataset = DatasetModel.get(job.tenant_id, job.dataset_id)
    previous = dataset.last_risk_level
    dataset.update(actions=[DatasetModel.last_risk_level.set(job.risk_level),
                            DatasetModel.updated_at.set(utcnow())])
    if job.trigger == "schedule" and risk_rose(previous, job.risk_level):
        emit(settings, RISK_INCREASED, {
            "tenant_id": job.tenant_id, "dataset_id": job.dataset_id, "job_id": job.job_id,
            "previous_risk_level": previous, "risk_level": job.risk_level,
            "collapse_risk": job.collapse_risk})
