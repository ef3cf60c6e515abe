"""``/v1/validations``: start, list, status, collapse details, recommendations, report, cancel."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from synthos.api import context, validations
from synthos.api.http import json_response, page_body, page_params, parse_body, query_params
from synthos.api.openapi import Query, document
from synthos.api.payloads import (
    CollapseDetailsOut,
    CreateValidationRequest,
    RecommendationsOut,
    ReportOut,
    ValidationOut,
)
from synthos.jobs import JobStatus

bp = Blueprint(__name__)
_TAGS = ("validations",)
_STATUS = Query("status", "only validations in this status",
                {"type": "string", "enum": [s.value for s in JobStatus]})


@bp.route("/validations", methods=["POST"])
@document("Start a validation of a ready dataset (optionally against a reference)",
          request=CreateValidationRequest, response=ValidationOut, status=202, scope="write",
          tags=_TAGS,
          errors=(402, 404, 409, 503))
def create_validation() -> Any:
    request = bp.current_request
    principal = context.require(request, "write")
    body = parse_body(request, CreateValidationRequest)
    out = validations.create_validation(context.current_settings(), principal, body)
    context.metrics.add_metric(name="ValidationsStarted", unit="Count", value=1)
    context.logger.info("validation started", extra={
        "tenant_id": principal.tenant_id, "validation_id": out.validation_id})
    return json_response(out.model_dump(mode="json"), status=202)


@bp.route("/validations", methods=["GET"])
@document("List the tenant's validations, newest first", response=ValidationOut,
          scope="read", paginated=True, query=(_STATUS,), tags=_TAGS)
def list_validations() -> Any:
    request = bp.current_request
    principal = context.require(request, "read")
    limit, start = page_params(request, principal.tenant_id)
    items, last = validations.list_validations(principal, limit, start,
                                               query_params(request).get("status"))
    return json_response(page_body([i.model_dump(mode="json") for i in items], last,
                                   principal.tenant_id))


@bp.route("/validations/{validation_id}", methods=["GET"])
@document("A validation: status, stage, progress, shards, reason, scores once done",
          response=ValidationOut, scope="read", tags=_TAGS)
def get_validation(validation_id: str) -> Any:
    principal = context.require(bp.current_request, "read")
    job = validations.load(principal.tenant_id, validation_id)
    return json_response(validations.validation_out(job).model_dump(mode="json"))


@bp.route("/validations/{validation_id}/collapse-details", methods=["GET"])
@document("What collapsed: per-column details and the calibrated signals (409 until done)",
          response=CollapseDetailsOut, scope="read", tags=_TAGS,
          errors=(409,))
def collapse_details(validation_id: str) -> Any:
    principal = context.require(bp.current_request, "read")
    out = validations.collapse_details(context.current_settings(), principal, validation_id)
    return json_response(out.model_dump(mode="json"))


@bp.route("/validations/{validation_id}/recommendations", methods=["GET"])
@document("Fixes and the risk each would leave (409 until done)",
          response=RecommendationsOut, scope="read", tags=_TAGS,
          errors=(409,))
def recommendations(validation_id: str) -> Any:
    principal = context.require(bp.current_request, "read")
    out = validations.recommendations(context.current_settings(), principal, validation_id)
    return json_response(out.model_dump(mode="json"))


@bp.route("/validations/{validation_id}/report", methods=["GET"])
@document("A presigned GET of the PDF report (409 until done)", response=ReportOut,
          scope="read", tags=_TAGS,
          errors=(409,))
def report(validation_id: str) -> Any:
    principal = context.require(bp.current_request, "read")
    out = validations.report(context.current_settings(), principal, validation_id)
    return json_response(out.model_dump(mode="json"))


@bp.route("/validations/{validation_id}", methods=["DELETE"])
@document("Cancel a running validation (409 once finished)", response=ValidationOut,
          scope="write", tags=_TAGS,
          errors=(409,))
def cancel_validation(validation_id: str) -> Any:
    principal = context.require(bp.current_request, "write")
    out = validations.cancel(context.current_settings(), principal, validation_id)
    return json_response(out.model_dump(mode="json"))
