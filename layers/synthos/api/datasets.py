"""Datasets: upload (presigned PUT or multipart), complete, list, get, delete.

A dataset is created ``pending_upload`` with its S3 key under the caller's tenant; the upload's
Object Created event lets the pipeline mark it ``uploaded`` and then ``ready`` (rows, columns,
sha256). Deletion is refused (409) while a validation on the dataset is running: cancel it first
(``DELETE /v1/validations/{id}``); nothing is lost by a refused delete.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from synthos.api import quotas
from synthos.api.errors import BadRequest, Conflict, NotFound
from synthos.api.payloads import (
    DatasetOut,
    PartUrlOut,
    UploadOut,
    UploadRequest,
    is_id,
    new_id,
)
from synthos.api.principal import Principal
from synthos.aws import keys, uploads
from synthos.aws.settings import Settings
from synthos.aws.tables import MONITORED, DatasetModel, JobModel, lost_condition, utcnow
from synthos.jobs import RUNNING

DELETED = "deleted"


def dataset_out(item: DatasetModel) -> DatasetOut:
    return DatasetOut(
        dataset_id=item.dataset_id, name=item.name, role=item.role, format=item.format,
        size_bytes=int(item.size_bytes), status=item.status, source=item.source,
        upload="multipart" if item.upload_id else "single", sha256=item.sha256,
        rows=None if item.rows is None else int(item.rows),
        columns=None if item.columns is None else int(item.columns), reason=item.reason,
        auto_validation=item.auto_validation, monitored=bool(item.monitored),
        last_risk_level=item.last_risk_level, created_at=item.created_at,
        updated_at=item.updated_at)


def load(tenant_id: str, dataset_id: str) -> DatasetModel:
    """The tenant's dataset; NotFound when absent, deleted, or another tenant's."""
    if not is_id(dataset_id):
        raise NotFound(f"no dataset {dataset_id[:64]}")
    try:
        item = DatasetModel.get(tenant_id, dataset_id)
    except DoesNotExist as exc:
        raise NotFound(f"no dataset {dataset_id}") from exc
    if item.status == DELETED:
        raise NotFound(f"no dataset {dataset_id}")
    return item


def usable_reference(tenant_id: str, reference_id: str) -> DatasetModel:
    """A reference dataset a validation may use: role reference and ready."""
    ref = load(tenant_id, reference_id)
    if ref.role != "reference":
        raise BadRequest(f"dataset {reference_id} is a {ref.role} dataset, not a reference",
                         details={"reference_id": "must be a dataset uploaded with role "
                                                  "'reference'"})
    if ref.status != "ready":
        raise Conflict(f"reference {reference_id} is {ref.status}; it must be ready",
                       details={"status": ref.status})
    return ref


def _filename(req: UploadRequest) -> str:
    name = keys.safe_filename(req.name)
    return name if name.lower().endswith(f".{req.format}") else f"{name}.{req.format}"


def create_upload(settings: Settings, principal: Principal, req: UploadRequest) -> UploadOut:
    """Record the dataset and hand out where to PUT it (checked before any URL is signed)."""
    tenant = principal.tenant_id
    auto = req.validate_
    if auto is not None:
        if req.role != "synthetic":
            raise BadRequest("only a synthetic dataset can be validated on upload",
                             details={"validate": "remove it, or upload with role synthetic"})
        if auto.reference_id:
            usable_reference(tenant, auto.reference_id)
    kinds: list[quotas.Kind] = ["datasets"] if auto is None else ["datasets", "validations"]
    counted: list[quotas.Kind] = []
    issued = False
    try:
        for kind in kinds:  # the auto-validation's unit is counted now, not by the pipeline
            quotas.consume(tenant, kind)
            counted.append(kind)
        out = _issue(settings, tenant, req)
        issued = True
    finally:
        if not issued:
            for kind in counted:
                quotas.release(tenant, kind)
    return out


def _issue(settings: Settings, tenant: str, req: UploadRequest) -> UploadOut:
    auto = req.validate_
    dataset_id = new_id("ds")
    key = keys.upload_key(tenant, dataset_id, _filename(req))
    item = DatasetModel(tenant, dataset_id, name=req.name, role=req.role, format=req.format,
                        size_bytes=req.size_bytes, s3_key=key, source="api",
                        status="pending_upload",
                        auto_validation=None if auto is None else auto.model_dump(mode="json"))
    expires = uploads.URL_EXPIRES_S
    if req.size_bytes <= uploads.SINGLE_PUT_MAX_BYTES:
        url = uploads.presign_put(settings, key, req.size_bytes)
        _save_new(item)
        return UploadOut(dataset=dataset_out(item), url=url, expires_in=expires,
                         headers={"Content-Length": str(req.size_bytes)})
    plan = uploads.start_multipart(settings, key, req.size_bytes,
                                   min_part=uploads.MIN_PART_BYTES)
    item.upload_id = plan.upload_id
    _save_new(item)
    return UploadOut(dataset=dataset_out(item), upload_id=plan.upload_id,
                     part_size=plan.part_size, part_count=plan.part_count, expires_in=expires,
                     parts=[PartUrlOut(part_number=p.part_number, url=p.url) for p in plan.parts])


def _save_new(item: DatasetModel) -> None:
    try:
        item.save(condition=DatasetModel.dataset_id.does_not_exist())
    except PutError as exc:  # a 80-bit random collision: refuse rather than overwrite
        raise Conflict("dataset id collision; retry the request") from exc


def complete_upload(settings: Settings, principal: Principal, dataset_id: str,
                    parts: list[tuple[int, str]]) -> DatasetOut:
    """Finish a multipart upload with every part's ETag, in order 1..part_count."""
    item = load(principal.tenant_id, dataset_id)
    if not item.upload_id:
        raise Conflict("this dataset was not uploaded in parts; nothing to complete")
    if item.status != "pending_upload":
        raise Conflict(f"the upload is already complete (dataset is {item.status})",
                       details={"status": item.status})
    _check_parts(settings, item, parts)
    try:
        version = uploads.complete_multipart(settings, item.s3_key, item.upload_id, parts)
    except uploads.UploadFailed as exc:
        if exc.details.get("s3_code") == "NoSuchUpload":
            raise Conflict("the multipart upload is no longer open") from exc
        raise BadRequest(exc.message, details=exc.details) from exc
    version_action = (DatasetModel.version_id.remove() if version is None
                      else DatasetModel.version_id.set(version))
    item.update(actions=[version_action, DatasetModel.updated_at.set(utcnow())])
    return dataset_out(item)


def _check_parts(settings: Settings, item: DatasetModel, parts: list[tuple[int, str]]) -> None:
    """Parts 1..n in order, each as S3 holds it, adding up to the declared size: a client cannot
    finish a truncated (or padded) file."""
    numbers = [n for n, _ in parts]
    if numbers != list(range(1, len(parts) + 1)):
        raise BadRequest("parts must be numbered 1..n, in order, each once",
                         details={"parts": "not numbered 1..n in order"})
    try:
        held = uploads.uploaded_parts(settings, item.s3_key, str(item.upload_id))
    except uploads.UploadFailed as exc:
        raise Conflict("the multipart upload is no longer open") from exc
    wrong = [n for n, etag in parts if held.get(n, ("", 0))[0] != etag.strip('"')]
    if wrong:
        raise BadRequest("some parts are missing in S3 or their ETag differs",
                         details={"parts": wrong[:20]})
    total = sum(held[n][1] for n in numbers)
    if total != int(item.size_bytes):
        raise BadRequest(f"the parts add up to {total} bytes, not the declared "
                         f"{int(item.size_bytes)}", details={"size_bytes": total})


def list_datasets(principal: Principal, limit: int, start: dict[str, Any] | None
                  ) -> tuple[list[DatasetOut], dict[str, Any] | None]:
    """A page of the tenant's datasets, newest first (deleted ones left out)."""
    query = DatasetModel.query(principal.tenant_id, scan_index_forward=False, limit=limit,
                               filter_condition=DatasetModel.status != DELETED,
                               last_evaluated_key=start)
    items = [dataset_out(i) for i in query]
    return items, query.last_evaluated_key


def jobs_on(tenant_id: str, dataset_id: str) -> list[JobModel]:
    """Every job of the tenant that reads the dataset (as dataset or reference), from the
    ``by_dataset`` and ``by_reference`` indexes with the tenant in the key condition."""
    found = {j.job_id: j for j in JobModel.by_dataset.query(
        dataset_id, JobModel.tenant_id == tenant_id)}
    found.update((j.job_id, j) for j in JobModel.by_reference.query(
        dataset_id, JobModel.tenant_id == tenant_id))
    return list(found.values())


def delete_dataset(settings: Settings, principal: Principal, dataset_id: str) -> None:
    """Remove the dataset's objects and every result derived from it; mark it deleted."""
    tenant = principal.tenant_id
    item = load(tenant, dataset_id)
    jobs = jobs_on(tenant, dataset_id)
    running = sorted(j.job_id for j in jobs if j.status in RUNNING)
    if running:
        raise Conflict("a validation on this dataset is running; cancel it first",
                       details={"running_validations": running})
    if item.upload_id and item.status == "pending_upload":
        uploads.abort_multipart(settings, item.s3_key, item.upload_id)
    uploads.delete_prefix(settings, keys.upload_prefix(tenant, dataset_id))
    for job in jobs:
        for prefix in keys.job_prefixes(tenant, job.job_id):
            uploads.delete_prefix(settings, prefix)
    try:
        item.update(actions=[DatasetModel.status.set(DELETED),
                             DatasetModel.upload_pending.remove(),
                             DatasetModel.monitor.remove(),
                             DatasetModel.updated_at.set(utcnow())],
                    condition=DatasetModel.status != DELETED)
    except UpdateError as exc:
        if not lost_condition(exc):
            raise
        raise NotFound(f"no dataset {dataset_id}") from exc


def set_monitored(principal: Principal, dataset_id: str, monitored: bool) -> DatasetOut:
    """Mark a dataset for (or take it off) the nightly re-validation. Only a synthetic dataset
    can be monitored: a reference is what others are measured against."""
    item = load(principal.tenant_id, dataset_id)
    if monitored and item.role != "synthetic":
        raise Conflict("only a synthetic dataset can be monitored",
                       details={"role": item.role})
    index_key = (DatasetModel.monitor.set(MONITORED) if monitored
                 else DatasetModel.monitor.remove())  # the nightly re-validation's index
    try:
        item.update(actions=[DatasetModel.monitored.set(monitored), index_key,
                             DatasetModel.updated_at.set(utcnow())],
                    condition=DatasetModel.status != DELETED)
    except UpdateError as exc:
        if lost_condition(exc):
            raise NotFound(f"no dataset {dataset_id}") from exc
        raise
    return dataset_out(item)
