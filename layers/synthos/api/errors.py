"""API errors and their one HTTP mapping.

    ApiError (status, code)            rendered as {"error": {"code", "message", "details"}}
    +-- BadRequest        400 bad_request         body or query invalid (details: field errors)
    +-- Unauthorized      401 unauthorized        missing/invalid/expired/revoked credentials
    +-- Forbidden         403 forbidden           authenticated, but the scope does not allow it
    +-- NotFound          404 not_found           absent, or another tenant's (never 403)
    +-- Conflict          409 conflict            the resource's state forbids the action
    +-- PaymentRequired   402 quota_exceeded      the plan's monthly quota is used up
    +-- TooManyRequests   429 rate_limited        the principal's token bucket is empty

Library errors (:class:`synthos.errors.InputError`) map to 400 in :func:`status_for`.
Nothing else ever reaches a client: unexpected exceptions become a 500 with a request id only.
"""

from __future__ import annotations

from typing import Any

from synthos.errors import InputError, SynthosError


class ApiError(SynthosError):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message, details=details)
        self.headers = headers or {}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PaymentRequired(ApiError):
    status, code = 402, "quota_exceeded"


class TooManyRequests(ApiError):
    status, code = 429, "rate_limited"


def status_for(exc: SynthosError) -> int:
    """The HTTP status of any Synthos error (the one place this mapping lives)."""
    if isinstance(exc, ApiError):
        return exc.status
    if isinstance(exc, InputError):
        return 400
    return 500


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}
