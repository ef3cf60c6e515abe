"""The drop folder: ``dropbox/{tenant}/{file}`` becomes a dataset and a validation; the newest
``dropbox/{tenant}/reference/*`` is its reference; results land in ``dropbox/{tenant}/results/``
(``{stem}.json`` and ``{stem}.pdf``) once the job completes, never before.

Quotas: a dropped file counts one dataset and one validation against its tenant's plan, as an
API upload with ``validate`` does (:func:`count_usage`, once per object version: only the claim
that created the job counts). Over quota, the units are given back and the job and the dataset
are marked failed with the plan's message. Files of the reference folder are not counted: they
are only read as the reference of the dropped files' (counted) validations.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pynamodb.exceptions import PutError

from synthos.api import quotas
from synthos.api.errors import PaymentRequired
from synthos.aws.keys import ObjectKey, dropbox_results_prefix
from synthos.aws.settings import Settings
from synthos.aws.tables import DatasetModel, JobModel, lost_condition, utcnow
from synthos.jobs import JobStatus
from synthos.pipeline import progress, storage

_COUNTED: tuple[quotas.Kind, ...] = ("datasets", "validations")


def _dataset_id(prefix: str, key: str, version: str | None) -> str:
    return prefix + hashlib.sha256(f"{key}/{version}".encode()).hexdigest()[:24]


def _format_of(filename: str) -> str:
    parts = filename.lower().split(".")
    return parts[-2] if parts[-1] == "gz" and len(parts) > 2 else parts[-1]


def _ensure(tenant: str, dataset_id: str, key: str, role: str, size: int,
            version: str | None) -> DatasetModel:
    name = key.rsplit("/", 1)[-1]
    item = DatasetModel(tenant, dataset_id, name=name, role=role, format=_format_of(name),
                        size_bytes=size, s3_key=key, source="dropbox", status="ready",
                        version_id=version)
    try:
        item.save(condition=DatasetModel.dataset_id.does_not_exist())
    except PutError as exc:
        if not lost_condition(exc):
            raise
        return DatasetModel.get(tenant, dataset_id)
    return item


def register(settings: Settings, parsed: ObjectKey, key: str, version: str | None,
             obj: dict[str, Any]) -> tuple[DatasetModel, str | None]:
    """The dataset of a dropped file (created once per object version) and the id of the
    reference dataset (the newest file under the tenant's reference folder), if any."""
    dataset = _ensure(parsed.tenant, _dataset_id("drop", key, version), key, "synthetic",
                      int(obj.get("size") or 0), version)
    newest = storage.latest_under(settings, f"dropbox/{parsed.tenant}/reference/")
    if newest is None:
        return dataset, None
    ref_key, etag = str(newest["Key"]), str(newest.get("ETag", "")).strip('"')
    reference = _ensure(parsed.tenant, _dataset_id("dref", ref_key, etag), ref_key, "reference",
                        int(newest.get("Size") or 0), None)
    return dataset, reference.dataset_id


def count_usage(settings: Settings, job: JobModel) -> bool:
    """Count a dropped file's dataset and validation for its tenant (call once, after the
    job's conditional put). False when the plan is used up: nothing stays counted, and the
    job and its dataset are failed with the plan's message."""
    counted: list[quotas.Kind] = []
    try:
        for kind in _COUNTED:
            quotas.consume(job.tenant_id, kind)
            counted.append(kind)
    except PaymentRequired as exc:
        for kind in counted:
            quotas.release(job.tenant_id, kind)
        reason = f"not validated: {exc.message}"
        progress.move(settings, job.tenant_id, job.job_id, JobStatus.FAILED, reason=reason)
        DatasetModel(job.tenant_id, job.dataset_id).update(actions=[
            DatasetModel.status.set("failed"), DatasetModel.reason.set(reason),
            DatasetModel.updated_at.set(utcnow())])
        return False
    return True


def result_keys(tenant: str, object_key: str) -> tuple[str, str]:
    """Where a dropped file's result JSON and PDF are published."""
    filename = object_key.rsplit("/", 1)[-1]
    stem = filename.split(".")[0] or "data"
    prefix = dropbox_results_prefix(tenant)
    return f"{prefix}{stem}.json", f"{prefix}{stem}.pdf"


def publish(settings: Settings, job: JobModel, result_key: str, report_key: str) -> None:
    """Copy a completed drop-folder job's result and report next to the dropped file."""
    if job.trigger != "dropbox" or not job.object_key:
        return
    json_key, pdf_key = result_keys(job.tenant_id, job.object_key)
    storage.copy(settings, result_key, json_key)
    storage.copy(settings, report_key, pdf_key)
