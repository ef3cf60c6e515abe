"""``/v1/warranties``: issue, list, get, revoke (admin), public verify, claims and their admin
decision."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from synthos.api import claims, context, warranties
from synthos.api.errors import BadRequest
from synthos.api.http import json_response, page_body, page_params, parse_body, query_params
from synthos.api.openapi import Query, document
from synthos.api.payloads import (
    ClaimDecisionRequest,
    ClaimOut,
    ClaimPage,
    IssueWarrantyRequest,
    PublicKeyOut,
    RevokeWarrantyRequest,
    VerifyOut,
    WarrantyOut,
)
from synthos.warranty import ClaimEvidence

bp = Blueprint(__name__)
_TAGS = ("warranties",)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DATASET = Query("dataset_sha256", "sha256 of your copy of the dataset, to compare",
                 {"type": "string", "pattern": "^[0-9a-f]{64}$"})


@bp.route("/warranties", methods=["POST"])
@document("Issue a signed warranty certificate for an eligible completed validation",
          request=IssueWarrantyRequest, response=WarrantyOut, status=201, scope="write",
          tags=_TAGS,
          errors=(404, 409))
def issue_warranty() -> Any:
    request = bp.current_request
    principal = context.require(request, "write")
    body = parse_body(request, IssueWarrantyRequest)
    out = warranties.issue(context.current_settings(), principal, body.validation_id)
    context.logger.info("warranty issued", extra={"tenant_id": principal.tenant_id,
                                                  "warranty_id": out.warranty_id})
    return json_response(out.model_dump(mode="json"), status=201)


@bp.route("/warranties", methods=["GET"])
@document("List the tenant's warranties", response=WarrantyOut, scope="read",
          paginated=True, tags=_TAGS)
def list_warranties() -> Any:
    request = bp.current_request
    principal = context.require(request, "read")
    limit, start = page_params(request, principal.tenant_id)
    items, last = warranties.list_warranties(context.current_settings(), principal, limit,
                                             start)
    return json_response(page_body([i.model_dump(mode="json") for i in items], last,
                                   principal.tenant_id))


@bp.route("/warranties/public-key", methods=["GET"])
@document("Public: the Ed25519 key that verifies warranty certificates offline (PEM, raw, "
          "key id and sha256 fingerprint)", response=PublicKeyOut, scope=None, tags=_TAGS)
def warranty_public_key() -> Any:
    context.limit_anonymous(bp.current_request)
    out = warranties.public_key_out(context.current_settings())
    return json_response(out.model_dump(mode="json"))


@bp.route("/warranties/{warranty_id}", methods=["GET"])
@document("A warranty: its certificate and a presigned GET of the PDF", response=WarrantyOut,
          scope="read", tags=_TAGS)
def get_warranty(warranty_id: str) -> Any:
    principal = context.require(bp.current_request, "read")
    out = warranties.get(context.current_settings(), principal, warranty_id)
    return json_response(out.model_dump(mode="json"))


@bp.route("/warranties/{warranty_id}/revoke", methods=["POST"])
@document("Revoke an active warranty (admin): it answers revoked to verify and claims from now "
          "on; the reason, who and when are recorded", request=RevokeWarrantyRequest,
          response=WarrantyOut, scope="admin", tags=_TAGS,
          errors=(404, 409))
def revoke_warranty(warranty_id: str) -> Any:
    request = bp.current_request
    principal = context.require(request, "admin")
    body = parse_body(request, RevokeWarrantyRequest)
    out = warranties.revoke(context.current_settings(), principal, warranty_id, body.reason)
    context.logger.info("warranty revoked", extra={"tenant_id": principal.tenant_id,
                                                   "warranty_id": warranty_id})
    return json_response(out.model_dump(mode="json"))


@bp.route("/warranties/{warranty_id}/verify", methods=["GET"])
@document("Public verification: signature, validity window, status, dataset hash",
          response=VerifyOut, scope=None, query=(_DATASET,), tags=_TAGS,
          errors=(404,))
def verify_warranty(warranty_id: str) -> Any:
    request = bp.current_request
    context.limit_anonymous(request)
    sha = query_params(request).get("dataset_sha256")
    if sha is not None and not _SHA256.match(sha):
        raise BadRequest("dataset_sha256 must be 64 lower-case hex characters",
                         details={"fields": [{"field": "dataset_sha256",
                                              "message": "not a sha256", "type": "pattern"}]})
    out = warranties.verify(context.current_settings(), warranty_id, dataset_sha256=sha)
    return json_response(out.model_dump(mode="json"))


@bp.route("/warranties/{warranty_id}/claims", methods=["POST"])
@document("File a claim with evidence; the automatic pre-check answers under_review or "
          "rejected with the reason", request=ClaimEvidence, response=ClaimOut, status=201,
          scope="write", tags=_TAGS)
def submit_claim(warranty_id: str) -> Any:
    request = bp.current_request
    principal = context.require(request, "write")
    evidence = parse_body(request, ClaimEvidence)
    out = claims.submit(context.current_settings(), principal, warranty_id, evidence)
    return json_response(out.model_dump(mode="json"), status=201)


@bp.route("/warranties/{warranty_id}/claims", methods=["GET"])
@document("The claims filed on a warranty", response=ClaimPage, scope="read", tags=_TAGS)
def list_claims(warranty_id: str) -> Any:
    principal = context.require(bp.current_request, "read")
    items = claims.list_claims(principal, warranty_id)
    return json_response({"items": [c.model_dump(mode="json") for c in items]})


@bp.route("/warranties/{warranty_id}/claims/{claim_id}/decision", methods=["POST"])
@document("Approve or reject a claim under review (admin)", request=ClaimDecisionRequest,
          response=ClaimOut, scope="admin", tags=_TAGS,
          errors=(409,))
def decide_claim(warranty_id: str, claim_id: str) -> Any:
    request = bp.current_request
    principal = context.require(request, "admin")
    body = parse_body(request, ClaimDecisionRequest)
    out = claims.decide(principal, warranty_id, claim_id, body)
    return json_response(out.model_dump(mode="json"))
