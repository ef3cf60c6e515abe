"""Writing a validation's result: JSON to ``results/{tenant}/{job}/result.json`` and the summary
to the job record (while it is ``reducing``). The job's ``result_key`` is only set when it
completes, and a failed job's objects are deleted, so a partial result is never served as final.
"""

from __future__ import annotations

from synthos.aws.keys import report_key, result_key
from synthos.aws.settings import Settings
from synthos.aws.tables import JobModel
from synthos.jobs import JobStatus
from synthos.pipeline import storage
from synthos.pipeline.progress import announce, update_while
from synthos.result import ValidationResult


def write_result(settings: Settings, tenant_id: str, job_id: str,
                 result: ValidationResult) -> JobModel:
    """Store the result JSON and put its summary on the (reducing) job."""
    storage.put_json(settings, result_key(tenant_id, job_id), result.model_dump_json())
    job = update_while(tenant_id, job_id, JobStatus.REDUCING, [
        JobModel.collapse_risk.set(float(result.collapse_risk)),
        JobModel.risk_level.set(result.risk_level),
        JobModel.drift_score.set(float(result.drift_score)), JobModel.progress.set(0.8)])
    announce(settings, job)
    return job


def read_result(settings: Settings, tenant_id: str, job_id: str) -> ValidationResult:
    data = storage.get_bytes(settings, result_key(tenant_id, job_id))
    return ValidationResult.model_validate_json(data)


def output_keys(tenant_id: str, job_id: str) -> tuple[str, str]:
    return result_key(tenant_id, job_id), report_key(tenant_id, job_id)
