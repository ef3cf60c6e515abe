"""``/v1/datasets``: upload (presigned PUT or multipart), complete, list, get, delete."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from synthos.api import context, datasets
from synthos.api.http import json_response, page_body, page_params, parse_body
from synthos.api.openapi import document
from synthos.api.payloads import (
    CompleteRequest,
    DatasetOut,
    UpdateDatasetRequest,
    UploadOut,
    UploadRequest,
)

bp = Blueprint(__name__)
_TAGS = ("datasets",)


@bp.route("/datasets/upload", methods=["POST"])
@document("Register a dataset and get where to upload it (one PUT up to 100 MB, parts beyond)",
          request=UploadRequest, response=UploadOut, status=201, scope="write", tags=_TAGS,
          errors=(402, 404, 409))
def upload_dataset() -> Any:
    request = bp.current_request
    principal = context.require(request, "write")
    body = parse_body(request, UploadRequest)
    out = datasets.create_upload(context.current_settings(), principal, body)
    context.logger.info("dataset upload issued", extra={
        "tenant_id": principal.tenant_id, "dataset_id": out.dataset.dataset_id,
        "multipart": out.upload_id is not None})
    return json_response(out.model_dump(mode="json"), status=201)


@bp.route("/datasets/{dataset_id}/complete", methods=["POST"])
@document("Finish a multipart upload with every part's ETag", request=CompleteRequest,
          response=DatasetOut, scope="write", tags=_TAGS,
          errors=(409,))
def complete_dataset(dataset_id: str) -> Any:
    request = bp.current_request
    principal = context.require(request, "write")
    body = parse_body(request, CompleteRequest)
    out = datasets.complete_upload(context.current_settings(), principal, dataset_id,
                                   [(p.part_number, p.etag) for p in body.parts])
    return json_response(out.model_dump(mode="json"))


@bp.route("/datasets", methods=["GET"])
@document("List the tenant's datasets, newest first", response=DatasetOut, scope="read",
          paginated=True, tags=_TAGS)
def list_datasets() -> Any:
    request = bp.current_request
    principal = context.require(request, "read")
    limit, start = page_params(request, principal.tenant_id)
    items, last = datasets.list_datasets(principal, limit, start)
    return json_response(page_body([i.model_dump(mode="json") for i in items], last,
                                   principal.tenant_id))


@bp.route("/datasets/{dataset_id}", methods=["GET"])
@document("A dataset: status, size, and rows, columns and sha256 once inspected",
          response=DatasetOut, scope="read", tags=_TAGS)
def get_dataset(dataset_id: str) -> Any:
    principal = context.require(bp.current_request, "read")
    return json_response(datasets.dataset_out(
        datasets.load(principal.tenant_id, dataset_id)).model_dump(mode="json"))


@bp.route("/datasets/{dataset_id}", methods=["PATCH"])
@document("Mark a synthetic dataset monitored (re-validated nightly) or not",
          request=UpdateDatasetRequest, response=DatasetOut, scope="write", tags=_TAGS,
          errors=(409,))
def update_dataset(dataset_id: str) -> Any:
    request = bp.current_request
    principal = context.require(request, "write")
    body = parse_body(request, UpdateDatasetRequest)
    out = datasets.set_monitored(principal, dataset_id, body.monitored)
    return json_response(out.model_dump(mode="json"))


@bp.route("/datasets/{dataset_id}", methods=["DELETE"])
@document("Delete a dataset, its objects and its derived results (409 while a validation "
          "on it runs)", status=204, scope="write", tags=_TAGS,
          errors=(409,))
def delete_dataset(dataset_id: str) -> Any:
    principal = context.require(bp.current_request, "write")
    datasets.delete_dataset(context.current_settings(), principal, dataset_id)
    return json_response(None, status=204)
