"""Validations: create (a queued job + a workflow execution), list, get, results, cancel.

Every status move goes through :func:`synthos.aws.job_store.advance` (conditional writes), so a
cancel racing a finishing worker has exactly one winner.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PutError

from synthos.api import datasets, quotas
from synthos.api.errors import ApiError, BadRequest, Conflict, NotFound
from synthos.api.payloads import (
    CollapseDetailsOut,
    CreateValidationRequest,
    RecommendationsOut,
    ReportOut,
    ValidationOut,
    is_id,
    new_id,
)
from synthos.api.principal import Principal
from synthos.aws import keys, results
from synthos.aws.job_store import JobNotFound, StaleJobTransition, advance, get_job
from synthos.aws.settings import Settings
from synthos.aws.tables import JobModel
from synthos.aws.workflow import start_job, stop_job
from synthos.jobs import TERMINAL, JobStatus
from synthos.result import ValidationResult


class WorkflowUnavailable(ApiError):
    """The workflow could not be started; the job is marked failed with the reason."""

    status, code = 503, "workflow_unavailable"


def validation_out(job: JobModel) -> ValidationOut:
    def num(value: Any) -> float | None:
        return None if value is None else float(value)

    return ValidationOut(
        validation_id=job.job_id, dataset_id=job.dataset_id, reference_id=job.reference_id,
        status=job.status, stage=job.stage, progress=float(job.progress or 0),
        shards_done=int(job.shards_done or 0), shards_total=int(job.shards_total or 0),
        trigger=job.trigger, options=dict(job.options or {}), reason=job.reason,
        collapse_risk=num(job.collapse_risk), risk_level=job.risk_level,
        drift_score=num(job.drift_score), created_at=job.created_at, updated_at=job.updated_at)


def load(tenant_id: str, job_id: str) -> JobModel:
    if not is_id(job_id):
        raise NotFound(f"no validation {job_id[:64]}")
    try:
        return get_job(tenant_id, job_id)
    except JobNotFound as exc:
        raise NotFound(f"no validation {job_id}") from exc


def create_validation(settings: Settings, principal: Principal,
                      req: CreateValidationRequest) -> ValidationOut:
    """Check the inputs, count the quota, record the queued job and start its workflow."""
    tenant = principal.tenant_id
    dataset = datasets.load(tenant, req.dataset_id)
    if dataset.status != "ready":
        raise Conflict(f"dataset {req.dataset_id} is {dataset.status}; a validation starts "
                       "once it is ready", details={"status": dataset.status})
    if req.reference_id == req.dataset_id:
        raise BadRequest("a dataset cannot be its own reference",
                         details={"reference_id": "must differ from dataset_id"})
    if req.reference_id:
        datasets.usable_reference(tenant, req.reference_id)
    req.options.to_engine().check()
    quotas.consume(tenant, "validations")
    job = JobModel(tenant, new_id("val"), dataset_id=req.dataset_id,
                   reference_id=req.reference_id, options=req.options.model_dump(mode="json"),
                   trigger="api", object_key=dataset.s3_key, object_version=dataset.version_id,
                   status=JobStatus.QUEUED.value, stage=JobStatus.QUEUED.value)
    try:
        job.save(condition=JobModel.job_id.does_not_exist())
    except PutError as exc:
        quotas.release(tenant, "validations")
        raise Conflict("validation id collision; retry the request") from exc
    _start(settings, job)
    return validation_out(job)


def _start(settings: Settings, job: JobModel) -> None:
    try:
        arn = start_job(settings, job.tenant_id, job.job_id)
    except (ClientError, BotoCoreError, RuntimeError) as exc:
        advance(job.tenant_id, job.job_id, JobStatus.FAILED,
                reason="the validation workflow could not be started")
        quotas.release(job.tenant_id, "validations")
        raise WorkflowUnavailable("the validation could not be started; try again later",
                                  details={"validation_id": job.job_id}) from exc
    job.update(actions=[JobModel.execution_arn.set(arn)])


def list_validations(principal: Principal, limit: int, start: dict[str, Any] | None,
                     status: str | None = None
                     ) -> tuple[list[ValidationOut], dict[str, Any] | None]:
    """A page of the tenant's validations, newest first, optionally of one status."""
    cond = None
    if status is not None:
        if status not in {s.value for s in JobStatus}:
            raise BadRequest(f"unknown status {status!r}",
                             details={"status": f"one of {', '.join(s.value for s in JobStatus)}"})
        cond = JobModel.status == status
    query = JobModel.query(principal.tenant_id, scan_index_forward=False, limit=limit,
                           filter_condition=cond, last_evaluated_key=start)
    items = [validation_out(j) for j in query]
    return items, query.last_evaluated_key


def _completed(principal: Principal, job_id: str) -> JobModel:
    job = load(principal.tenant_id, job_id)
    if job.status != JobStatus.COMPLETED.value:
        raise Conflict(f"validation {job_id} is {job.status}; results exist once it completes",
                       details={"status": job.status})
    return job


def read_result(settings: Settings, job: JobModel) -> ValidationResult:
    key = job.result_key or keys.result_key(job.tenant_id, job.job_id)
    try:
        return results.read_result(settings, key)
    except results.ResultMissing as exc:
        raise NotFound(f"the result of {job.job_id} is gone (its dataset was deleted)") from exc


def collapse_details(settings: Settings, principal: Principal, job_id: str
                     ) -> CollapseDetailsOut:
    result = read_result(settings, _completed(principal, job_id))
    return CollapseDetailsOut(validation_id=job_id, collapse_risk=result.collapse_risk,
                              risk_level=result.risk_level, drift_score=result.drift_score,
                              confidence_interval=result.confidence.interval,
                              columns=result.columns, signals=result.signals)


def recommendations(settings: Settings, principal: Principal, job_id: str
                    ) -> RecommendationsOut:
    result = read_result(settings, _completed(principal, job_id))
    return RecommendationsOut(validation_id=job_id, collapse_risk=result.collapse_risk,
                              recommendations=result.recommendations)


def report(settings: Settings, principal: Principal, job_id: str) -> ReportOut:
    job = _completed(principal, job_id)
    key = job.report_key or keys.report_key(job.tenant_id, job.job_id)
    try:
        url = results.presign_get(settings, key, filename=f"{job_id}.pdf")
    except results.ResultMissing as exc:
        raise NotFound(f"the report of {job_id} is gone (its dataset was deleted)") from exc
    return ReportOut(validation_id=job_id, url=url, expires_in=results.REPORT_URL_EXPIRES_S)


def cancel(settings: Settings, principal: Principal, job_id: str) -> ValidationOut:
    """Move a running validation to cancelled and stop its execution; 409 once finished."""
    job = load(principal.tenant_id, job_id)
    if JobStatus(job.status) in TERMINAL:
        raise Conflict(f"validation {job_id} is already {job.status}",
                       details={"status": job.status})
    try:
        advance(job.tenant_id, job_id, JobStatus.CANCELLED, reason="cancelled by the user")
    except StaleJobTransition as exc:
        raise Conflict(f"validation {job_id} finished before it could be cancelled",
                       details=exc.details) from exc
    if job.execution_arn:
        stop_job(settings, job.execution_arn, "cancelled by the user")
    return validation_out(load(principal.tenant_id, job_id))
