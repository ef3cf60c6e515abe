"""Request parsing and response shaping shared by every route.

Pagination: list routes take ``?limit=`` (1..100, default 20) and ``?next_token=``, and answer
``{"items": [...], "next_token": str | null}``. A page token is opaque: the DynamoDB key to
resume from, bound to the tenant and signed (HMAC-SHA256 keyed from the JWT secret), so a
client can neither forge one nor replay another tenant's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any, TypeVar

from chalice import Response
from pydantic import BaseModel, ValidationError

from synthos.api.context import current_settings
from synthos.api.errors import BadRequest
from synthos.aws.secrets import jwt_secret

M = TypeVar("M", bound=BaseModel)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_BODY_BYTES = 64 * 1024


def _field_errors(exc: ValidationError) -> dict[str, Any]:
    errors = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"],
               "type": e["type"]} for e in exc.errors(include_url=False, include_input=False)]
    return {"fields": errors}


def parse_body(request: Any, model: type[M]) -> M:
    """The JSON body validated against ``model`` (whose config forbids unknown fields)."""
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest("the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    try:  # lone surrogates ("\\ud800") decode as JSON but are not text anything can store
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest("the body contains invalid Unicode") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest("the body is invalid", details=_field_errors(exc)) from exc


def query_params(request: Any) -> dict[str, str]:
    return dict(request.query_params or {})


def _page_key() -> bytes:
    return hmac.new(jwt_secret(current_settings()), b"synthos-page-token", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_page_token(last_evaluated_key: dict[str, Any] | None, tenant_id: str) -> str | None:
    """An opaque, signed token resuming after ``last_evaluated_key`` (None at the end)."""
    if not last_evaluated_key:
        return None
    payload = json.dumps({"t": tenant_id, "k": last_evaluated_key}, sort_keys=True,
                         separators=(",", ":")).encode()
    mac = hmac.new(_page_key(), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def decode_page_token(token: str, tenant_id: str) -> dict[str, Any]:
    """The DynamoDB key a token resumes from; BadRequest if forged, altered or foreign."""
    try:
        body, mac = token.split(".", 1)
        payload, given = _unb64(body), _unb64(mac)
    except (ValueError, binascii.Error) as exc:
        raise BadRequest("the page token is invalid") from exc
    expected = hmac.new(_page_key(), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise BadRequest("the page token is invalid")
    doc = json.loads(payload)
    if doc.get("t") != tenant_id or not isinstance(doc.get("k"), dict):
        raise BadRequest("the page token is invalid")
    key: dict[str, Any] = doc["k"]
    return key


def page_params(request: Any, tenant_id: str) -> tuple[int, dict[str, Any] | None]:
    """``(limit, start_key)`` from ``?limit=`` and ``?next_token=`` for the tenant's listing."""
    params = query_params(request)
    raw = params.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}",
                         details={"fields": [{"field": "limit", "message": "out of range",
                                              "type": "limit"}]})
    token = params.get("next_token")
    start = decode_page_token(token, tenant_id) if token else None
    return int(raw), start


def page_body(items: list[Any], last_evaluated_key: dict[str, Any] | None,
              tenant_id: str) -> dict[str, Any]:
    """The list answer: the items and the token of the next page (null at the end)."""
    return {"items": items, "next_token": encode_page_token(last_evaluated_key, tenant_id)}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (``body`` None gives an empty body, e.g. for 204)."""
    out: dict[str, str | list[str]] = {"Content-Type": "application/json", **(headers or {})}
    if body is None:
        return Response(body="", status_code=status, headers=out)
    return Response(body=json.dumps(body, default=str), status_code=status, headers=out)
