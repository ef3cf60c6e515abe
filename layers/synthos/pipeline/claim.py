"""Claim: turn the start event into exactly one queued job (or nothing).

Inputs (the execution input, wrapped by the state machine as ``{"event", "execution_arn"}``):

- ``{"source": "api" | "schedule" | "sweeper", "tenant_id", "job_id"}``: the job exists (queued).
- an EventBridge ``Object Created`` event for ``uploads/{tenant}/{dataset}/{file}`` (the API's
  upload; a job only when the dataset asked for ``auto_validation``, whose InspectDataset records
  what the file is; without one, the file is inspected here,
  :func:`synthos.pipeline.describe.describe_upload`) or ``dropbox/{tenant}/{file}``
  (the drop folder: a dataset and a job, with the newest ``dropbox/{tenant}/reference/*``).

The job id of an object is derived from bucket/key/version and written with a conditional put, so
a re-delivered event (same object version) never creates a second job.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from synthos.aws.keys import ObjectKey, parse_object_key
from synthos.aws.settings import Settings
from synthos.aws.tables import DatasetModel, JobModel, lost_condition, utcnow
from synthos.jobs import JobStatus
from synthos.pipeline import dropbox
from synthos.pipeline.describe import describe_upload
from synthos.pipeline.errors import PipelineError

JOB_DEADLINE = timedelta(hours=6)
_EXISTING = ("api", "schedule", "sweeper")


def object_job_id(bucket: str, key: str, version: str | None) -> str:
    """The deterministic job id of one object version."""
    return "job" + hashlib.sha256(f"{bucket}/{key}/{version}".encode()).hexdigest()[:29]


def skipped(reason: str, **extra: Any) -> dict[str, Any]:
    return {"claimed": False, "reason": reason, **extra}


def claim_job(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """The state after claiming: ``{"claimed": True, "tenant_id", "job_id"}`` or a skip."""
    event = payload.get("event", payload)
    execution_arn = payload.get("execution_arn")
    if event.get("source") in _EXISTING:
        return _claim_existing(str(event["tenant_id"]), str(event["job_id"]), execution_arn)
    if event.get("source") == "aws.s3" and event.get("detail-type") == "Object Created":
        return _claim_object(settings, event["detail"], execution_arn)
    raise PipelineError(f"not a start event: source {event.get('source')!r}")


def _claim_existing(tenant_id: str, job_id: str, execution_arn: str | None) -> dict[str, Any]:
    job = JobModel.get(tenant_id, job_id, consistent_read=True)
    if job.status != JobStatus.QUEUED.value:
        return skipped(f"job is {job.status}", tenant_id=tenant_id, job_id=job_id)
    if execution_arn:
        job.update(actions=[JobModel.execution_arn.set(execution_arn),
                            JobModel.deadline_at.set(utcnow() + JOB_DEADLINE)])
    return {"claimed": True, "tenant_id": tenant_id, "job_id": job_id}


def _claim_object(settings: Settings, detail: dict[str, Any],
                  execution_arn: str | None) -> dict[str, Any]:
    bucket, obj = detail["bucket"]["name"], detail["object"]
    key, version = str(obj["key"]), obj.get("version-id") or obj.get("etag")
    parsed = parse_object_key(key)
    if bucket != settings.bucket or parsed is None:
        return skipped(f"{key} starts nothing")
    if parsed.area == "dropbox":
        if parsed.is_reference:
            return skipped("a drop-folder reference is used by the next dropped file")
        dataset, reference_id = dropbox.register(settings, parsed, key, version, obj)
        options: dict[str, Any] = {}
    else:
        found = _uploaded_dataset(parsed, key, version, int(obj.get("size") or 0))
        if found is None:
            return skipped(f"{key} is not an expected upload")
        dataset, fresh = found
        if not dataset.auto_validation:
            return _describe_only(settings, dataset, fresh)
        reference_id = dataset.auto_validation.get("reference_id")
        options = dict(dataset.auto_validation.get("options") or {})
    job_id = object_job_id(bucket, key, version)
    job = JobModel(parsed.tenant, job_id, dataset_id=dataset.dataset_id,
                   reference_id=reference_id, options=options, trigger=parsed.area
                   if parsed.area == "dropbox" else "upload", object_key=key,
                   object_version=version, status=JobStatus.QUEUED.value,
                   stage=JobStatus.QUEUED.value, execution_arn=execution_arn,
                   deadline_at=utcnow() + JOB_DEADLINE)
    return _create(settings, job)


def _create(settings: Settings, job: JobModel) -> dict[str, Any]:
    """Save the object's job once (conditional put). Quotas: an API upload's units were counted
    when it was registered (never again here); a dropped file counts its own, once."""
    try:
        job.save(condition=JobModel.job_id.does_not_exist())
    except PutError as exc:
        if lost_condition(exc):
            return skipped("duplicate event: this object version already has a job",
                           tenant_id=job.tenant_id, job_id=job.job_id)
        raise
    if job.trigger == "dropbox" and not dropbox.count_usage(settings, job):
        return skipped("the tenant's monthly quota is used up", tenant_id=job.tenant_id,
                       job_id=job.job_id)
    return {"claimed": True, "tenant_id": job.tenant_id, "job_id": job.job_id}


def _describe_only(settings: Settings, dataset: DatasetModel, fresh: bool) -> dict[str, Any]:
    """No validation asked for: inspect the upload here (ready with format, rows, columns and
    sha256, or failed with the reason); a re-delivered event inspects nothing again."""
    status = describe_upload(settings, dataset) if fresh else dataset.status
    return skipped(f"uploaded and inspected: {status}; no validation requested",
                   tenant_id=dataset.tenant_id, dataset_id=dataset.dataset_id, status=status)


def _uploaded_dataset(parsed: ObjectKey, key: str, version: str | None,
                      size: int) -> tuple[DatasetModel, bool] | None:
    """The API's dataset record for this upload (None: no such record, or deleted, also when
    the DELETE lands between this read and the write) and whether this object
    version is new to it. A new version is ``uploaded`` when ClaimJob inspects it next, and
    ``ready`` at once when a validation was asked for (its InspectDataset fills what the file is,
    or fails it; were it left ``uploaded``, a validation cancelled or failed before inspecting
    would strand it). A re-delivered event for a version already seen changes nothing."""
    try:
        dataset = DatasetModel.get(parsed.tenant, str(parsed.dataset_id), consistent_read=True)
    except DoesNotExist:
        return None
    if dataset.s3_key != key or dataset.status == "deleted":
        return None
    if version and dataset.version_id == version and dataset.status in ("ready", "failed"):
        return dataset, False
    status = "ready" if dataset.auto_validation else "uploaded"
    actions: list[Action] = [DatasetModel.status.set(status),
                             DatasetModel.upload_pending.remove(),  # no longer pending
                             DatasetModel.size_bytes.set(size),
                             DatasetModel.updated_at.set(utcnow())]
    if version:
        actions.append(DatasetModel.version_id.set(version))
    try:  # a DELETE that landed since the read wins: never revive a deleted dataset
        dataset.update(actions=actions, condition=DatasetModel.dataset_id.exists()
                       & (DatasetModel.status != "deleted"))
    except UpdateError as exc:
        if not lost_condition(exc):
            raise
        return None
    return dataset, True
