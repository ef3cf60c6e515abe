"""``GET /v1/health`` and ``GET /v1/openapi.json`` (both public)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

import synthos
from synthos.api import openapi
from synthos.api.http import json_response
from synthos.api.openapi import document
from synthos.api.payloads_auth import HealthOut

bp = Blueprint(__name__)
_cache: dict[str, Any] = {}


@bp.route("/health", methods=["GET"])
@document("Liveness of the API", response=HealthOut, scope=None, tags=("meta",))
def health() -> Any:
    return json_response({"status": "ok", "version": synthos.__version__})


@bp.route("/openapi.json", methods=["GET"])
@document("This OpenAPI 3.1 document", scope=None, tags=("meta",))
def openapi_document() -> Any:
    if "doc" not in _cache:
        _cache["doc"] = openapi.build(bp.current_app)
    return json_response(_cache["doc"])
