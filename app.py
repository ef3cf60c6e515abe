"""The Synthos REST API (Chalice, behind API Gateway). Routes live in blueprints under
``synthos.api.routes`` and are all served under ``/v1``; this module only wires the edge:

* every view is guarded: a Synthos error becomes ``{"error": {"code", "message", "details"}}``
  with its status (:func:`synthos.api.errors.status_for`), an ApiError of status >= 500 raised
  on purpose (503 ``workflow_unavailable``) included, with the request id in its details;
  anything unexpected (and a library error of no 4xx meaning) is logged with its stack trace
  and answers a bare 500 with a request id only;
* one HTTP middleware adds the security headers, the request id and CORS (configured origins
  only), answers CORS preflights, logs one structured line per request and emits the EMF
  metrics (Requests, ClientErrors, Errors, Latency).
"""

from __future__ import annotations

import functools
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response

from synthos.api.context import current_settings, logger, metrics
from synthos.api.errors import ApiError, error_body, status_for
from synthos.api.headers import SECURITY_HEADERS
from synthos.api.http import json_response
from synthos.api.routes import BLUEPRINTS
from synthos.errors import SynthosError

app = Chalice(app_name="synthos")
API_PREFIX = "/v1"

CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key"
CORS_EXPOSE_HEADERS = "Retry-After, X-Request-Id"
CORS_MAX_AGE = "600"

_local = threading.local()  # the local dev server answers requests in threads


def request_id() -> str:
    return str(getattr(_local, "request_id", "unknown"))


def error_response(exc: SynthosError) -> Response:
    """The one rendering of an error. An ApiError answers its own status, code and safe
    message, even a 5xx raised on purpose (503 ``workflow_unavailable``; those also carry the
    request id); any other 5xx (a library fault) shows nothing but the request id."""
    status = status_for(exc)
    if status >= 500 and not isinstance(exc, ApiError):
        logger.exception("server error", extra={"error_code": exc.code})
        return _internal_error()
    details = dict(exc.details)
    if status >= 500:
        logger.exception("service unavailable", extra={"error_code": exc.code})
        details["request_id"] = request_id()
    headers = getattr(exc, "headers", None) or {}
    return json_response(error_body(exc.code, exc.message, details), status, headers)


def _internal_error() -> Response:
    return json_response(error_body("internal_error", "an internal error occurred",
                                    {"request_id": request_id()}), 500)


def guarded(view: Callable[..., Any]) -> Callable[..., Any]:
    """Render a view's errors in the API's one error shape."""

    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except SynthosError as exc:
            return error_response(exc)
        except Exception:
            logger.exception("unhandled error")
            return _internal_error()

    return run


def preflight(**_: str) -> Response:
    """CORS preflight: the middleware adds the allow headers for configured origins only."""
    return Response(body="", status_code=204)


def _wire(chalice_app: Chalice) -> None:
    for blueprint in BLUEPRINTS:
        chalice_app.register_blueprint(blueprint, url_prefix=API_PREFIX)
    for path, methods in list(chalice_app.routes.items()):
        for entry in methods.values():
            entry.view_function = guarded(entry.view_function)
        if "OPTIONS" not in methods:
            name = "preflight_" + re.sub(r"[^a-zA-Z0-9]+", "_", path).strip("_")
            chalice_app.route(path, methods=["OPTIONS"], name=name)(preflight)


_wire(app)


def _cors_headers(request: Any) -> dict[str, str]:
    origin = (request.headers or {}).get("origin") if request is not None else None
    if not origin or origin not in current_settings().cors_origins:
        return {}
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
               "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS}
    if request.method == "OPTIONS":
        allowed = ", ".join(sorted(app.routes.get(_resource(request), {})))
        headers.update({"Access-Control-Allow-Methods": allowed,
                        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
                        "Access-Control-Max-Age": CORS_MAX_AGE})
    return headers


_CHALICE_CODES = {"MethodNotAllowedError": "method_not_allowed",
                  "UnsupportedMediaType": "unsupported_media_type", "BadRequest": "bad_request"}


def _uniform(response: Response) -> Response:
    """Chalice's own refusals (405, 415, ...) in the API's one error shape."""
    body = response.body
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    if response.status_code >= 500:
        return _internal_error()
    code = _CHALICE_CODES.get(str(body["Code"]), "bad_request")
    return json_response(error_body(code, str(body["Message"])), response.status_code,
                         {k: str(v) for k, v in response.headers.items()})


def _resource(request: Any) -> str:
    return str((request.context or {}).get("resourcePath") or "unknown")


def _observe(request: Any, response: Response, started: float) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    status = response.status_code
    logger.info("request", extra={
        "method": getattr(request, "method", "?"), "route": _resource(request) if request else "?",
        "status": status, "latency_ms": round(elapsed_ms, 2)})
    metrics.add_metric(name="Requests", unit="Count", value=1)
    metrics.add_metric(name="Latency", unit="Milliseconds", value=elapsed_ms)
    if 400 <= status < 500:
        metrics.add_metric(name="ClientErrors", unit="Count", value=1)
    elif status >= 500:
        metrics.add_metric(name="Errors", unit="Count", value=1)
    metrics.flush_metrics()


@app.middleware("http")
def edge(request: Any, get_response: Callable[[Any], Response]) -> Response:
    """Request id, security headers, CORS, one log line and the metrics of every request."""
    started = time.perf_counter()
    context = (request.context or {}) if request is not None else {}
    _local.request_id = str(context.get("requestId") or uuid.uuid4())
    logger.append_keys(request_id=_local.request_id)
    try:
        response = get_response(request)
    except Exception:  # a fault outside any view (the views themselves are guarded)
        logger.exception("unhandled error outside a view")
        response = _internal_error()
    response = _uniform(response)
    try:
        response.headers.update(_cors_headers(request))
    except Exception:  # settings unreadable: a deployment fault, never shown to the client
        logger.exception("cannot read the CORS settings")
        response = _internal_error()
    response.headers.update(SECURITY_HEADERS)
    response.headers["X-Request-Id"] = _local.request_id
    _observe(request, response, started)
    logger.remove_keys(["request_id"])
    return response
