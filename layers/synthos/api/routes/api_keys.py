"""``/v1/api-keys``: create (shown once), list, revoke. Managing keys needs the admin scope."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from synthos.api import api_keys, context
from synthos.api.http import json_response, parse_body
from synthos.api.openapi import document
from synthos.api.payloads_auth import ApiKeyCreatedOut, ApiKeyIn, ApiKeyListOut

bp = Blueprint(__name__)
_TAGS = ("api-keys",)


@bp.route("/api-keys", methods=["POST"])
@document("Create an API key; the key is in this answer only", request=ApiKeyIn,
          response=ApiKeyCreatedOut, status=201, scope="admin", tags=_TAGS,
          errors=(409,))
def create_api_key() -> Any:
    request = bp.current_request
    principal = context.require(request, "admin")
    body = parse_body(request, ApiKeyIn)
    created = api_keys.create(principal, body.name, list(body.scopes))
    context.logger.info("api key created", extra={"key_id": created["id"],
                                                  "tenant_id": principal.tenant_id})
    return json_response(created, status=201)


@bp.route("/api-keys", methods=["GET"])
@document("List the tenant's active API keys (never the keys themselves)",
          response=ApiKeyListOut, scope="admin", tags=_TAGS)
def list_api_keys() -> Any:
    principal = context.require(bp.current_request, "admin")
    return json_response({"items": api_keys.list_keys(principal), "next_token": None})


@bp.route("/api-keys/{key_id}", methods=["DELETE"])
@document("Revoke an API key", status=204, scope="admin", tags=_TAGS)
def delete_api_key(key_id: str) -> Any:
    principal = context.require(bp.current_request, "admin")
    api_keys.revoke(principal, key_id)
    return json_response(None, status=204)
