"""The edge: error shape, no stack traces, security headers, CORS, page tokens, logs, metrics."""

from __future__ import annotations

import io
import json
import logging
from types import SimpleNamespace

import pytest
from pydantic import BaseModel, ConfigDict

from synthos.api import http, quotas
from synthos.api.errors import BadRequest
from synthos.errors import EngineError, InvalidOption
from tests.api.conftest import post_json

ORIGIN = "https://app.synthos.example"


def body_of(response):  # type: ignore[no-untyped-def]
    return json.loads(response.body)


class _Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    size: int


def _request(raw: bytes = b"", query: dict[str, str] | None = None) -> SimpleNamespace:
    return SimpleNamespace(raw_body=raw, query_params=query)


# --- parsing ---------------------------------------------------------------------------------
def test_parse_body_validates_and_rejects_unknown_fields():
    assert http.parse_body(_request(b'{"name": "a", "size": 3}'), _Thing) == _Thing(name="a",
                                                                                   size=3)
    with pytest.raises(BadRequest) as caught:
        http.parse_body(_request(b'{"name": "a", "size": "big", "extra": 1}'), _Thing)
    fields = {f["field"]: f["type"] for f in caught.value.details["fields"]}
    assert fields == {"size": "int_parsing", "extra": "extra_forbidden"}


def test_parse_body_refuses_oversized_bodies():
    raw = json.dumps({"name": "x" * (http.MAX_BODY_BYTES + 1), "size": 1}).encode()
    with pytest.raises(BadRequest):
        http.parse_body(_request(raw), _Thing)


# --- page tokens -----------------------------------------------------------------------------
def test_page_tokens_round_trip_for_their_tenant_only(api_settings_env):
    key = {"tenant_id": {"S": "t1"}, "dataset_id": {"S": "d9"}}
    token = http.encode_page_token(key, "t1")
    assert token is not None
    assert http.decode_page_token(token, "t1") == key
    assert http.encode_page_token(None, "t1") is None
    with pytest.raises(BadRequest):
        http.decode_page_token(token, "t2")


def test_tampered_page_tokens_are_refused(api_settings_env):
    token = http.encode_page_token({"tenant_id": {"S": "t1"}}, "t1")
    assert token is not None
    body, mac = token.split(".")
    forged_body = http._b64(json.dumps({"t": "t1", "k": {"tenant_id": {"S": "t2"}}}).encode())
    for bad in (f"{forged_body}.{mac}", body + ".AAAA", "no-dot", "!!.!!", f"{body}.{mac}x"):
        with pytest.raises(BadRequest):
            http.decode_page_token(bad, "t1")


def test_page_params_reads_limit_and_token(api_settings_env):
    token = http.encode_page_token({"k": {"S": "v"}}, "t1")
    assert http.page_params(_request(query=None), "t1") == (20, None)
    assert http.page_params(_request(query={"limit": "5", "next_token": token}), "t1") == (
        5, {"k": {"S": "v"}})
    for bad in ("0", "101", "-1", "abc", "2.5"):
        with pytest.raises(BadRequest):
            http.page_params(_request(query={"limit": bad}), "t1")


# --- errors and headers ------------------------------------------------------------------------
def test_every_response_carries_the_security_headers(api_client):
    for response in (api_client.http.get("/v1/health"), api_client.http.get("/v1/auth/me"),
                     api_client.http.post("/v1/auth/login", body=b"{")):
        headers = response.headers
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Request-Id"]


@pytest.fixture
def json_logs():  # type: ignore[no-untyped-def]
    """The API's structured log lines, formatted as in production, captured in a buffer."""
    from synthos.api.context import logger

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield buffer
    logger.removeHandler(handler)


def test_an_unexpected_error_is_a_500_with_a_request_id_only(api_client, register_user,
                                                             monkeypatch, json_logs):
    # GIVEN a fault deep inside a view, carrying sensitive text
    user = register_user(api_client)

    def explode(tenant_id):  # type: ignore[no-untyped-def]
        raise RuntimeError("db password is hunter2")

    monkeypatch.setattr(quotas, "usage", explode)
    response = api_client.http.get("/v1/auth/me", headers=user.headers)
    # THEN the client sees only a code, a generic message and the request id
    assert response.status_code == 500
    error = body_of(response)["error"]
    assert error == {"code": "internal_error", "message": "an internal error occurred",
                     "details": {"request_id": response.headers["X-Request-Id"]}}
    assert b"hunter2" not in response.body and b"Traceback" not in response.body
    # and the log has the stack trace, tied to the same request id
    logged = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    failure = next(rec for rec in logged if rec["message"] == "unhandled error")
    assert failure["request_id"] == response.headers["X-Request-Id"]
    assert "RuntimeError" in failure["exception"]


@pytest.mark.parametrize(("raised", "status", "code"), [
    (InvalidOption("k must be at least 1"), 400, "invalid_option"),
    (EngineError("nan in signal"), 500, "internal_error"),
])
def test_library_errors_map_through_status_for(api_client, register_user, monkeypatch,
                                               raised, status, code):
    user = register_user(api_client)

    def fail(tenant_id):  # type: ignore[no-untyped-def]
        raise raised

    monkeypatch.setattr(quotas, "usage", fail)
    response = api_client.http.get("/v1/auth/me", headers=user.headers)
    assert response.status_code == status
    assert body_of(response)["error"]["code"] == code
    if status == 500:
        assert b"nan in signal" not in response.body


def test_a_deliberate_5xx_api_error_answers_its_own_status(api_client, register_user,
                                                          monkeypatch):
    # GIVEN a view raising an ApiError of status 503 on purpose (a dependency is down)
    from synthos.api.errors import ApiError

    class Unavailable(ApiError):
        status, code = 503, "workflow_unavailable"

    user = register_user(api_client)

    def down(tenant_id):  # type: ignore[no-untyped-def]
        raise Unavailable("try again later", details={"validation_id": "val_x"},
                          headers={"Retry-After": "30"})

    monkeypatch.setattr(quotas, "usage", down)
    # WHEN it is called
    response = api_client.http.get("/v1/auth/me", headers=user.headers)
    # THEN the client gets that status, code, message, details and headers, plus the request id
    assert response.status_code == 503
    assert body_of(response)["error"] == {
        "code": "workflow_unavailable", "message": "try again later",
        "details": {"validation_id": "val_x", "request_id": response.headers["X-Request-Id"]}}
    assert response.headers["Retry-After"] == "30"


def test_chalices_own_refusals_share_the_error_shape(api_client):
    # GIVEN requests refused by Chalice itself, before any view runs
    wrong_method = api_client.http.delete("/v1/health")
    wrong_type = api_client.http.post("/v1/auth/login", body=b"x",
                                      headers={"Content-Type": "text/plain"})
    # THEN they answer in the API's one shape, with the headers
    assert wrong_method.status_code == 405
    assert body_of(wrong_method)["error"]["code"] == "method_not_allowed"
    assert wrong_method.headers["Allow"]
    assert wrong_type.status_code == 415
    assert body_of(wrong_type)["error"]["code"] == "unsupported_media_type"
    for response in (wrong_method, wrong_type):
        assert response.headers["X-Frame-Options"] == "DENY"


def test_the_app_never_runs_in_debug_mode():
    import app as app_module

    assert app_module.app.debug is False


# --- CORS ------------------------------------------------------------------------------------
@pytest.fixture
def cors_client(api_settings_env, monkeypatch):  # type: ignore[no-untyped-def]
    import app as app_module
    from chalice.test import Client

    from synthos.api import context

    monkeypatch.setenv("SYNTHOS_CORS_ORIGINS", ORIGIN)
    context.reset_settings()
    with Client(app_module.app) as client:
        yield client


def test_cors_headers_only_for_configured_origins(cors_client):
    allowed = cors_client.http.get("/v1/health", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert allowed.headers["Vary"] == "Origin"
    foreign = cors_client.http.get("/v1/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in foreign.headers
    bare = cors_client.http.get("/v1/health")
    assert "Access-Control-Allow-Origin" not in bare.headers


def test_preflight_lists_the_routes_methods_for_allowed_origins(cors_client):
    ok = cors_client.http.options("/v1/api-keys", headers={"Origin": ORIGIN})
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Methods"] == "GET, OPTIONS, POST"
    assert "X-API-Key" in ok.headers["Access-Control-Allow-Headers"]
    denied = cors_client.http.options("/v1/api-keys", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in denied.headers


def test_no_cors_when_no_origin_is_configured(api_client):
    response = api_client.http.get("/v1/health", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers


# --- logs and metrics ------------------------------------------------------------------------
def test_logs_never_contain_passwords_or_tokens(api_client, json_logs):
    registered = post_json(api_client, "/v1/auth/register",
                           {"email": "log@example.com", "password": "a very secret pw"})
    tokens = body_of(registered)
    api_client.http.get("/v1/auth/me",
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    out = json_logs.getvalue()
    assert '"message":"request"' in out
    for secret in ("a very secret pw", tokens["access_token"], tokens["refresh_token"]):
        assert secret not in out


def test_metrics_are_emitted_as_emf(api_client, capsys):
    capsys.readouterr()
    api_client.http.get("/v1/health")
    api_client.http.get("/v1/auth/me")
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines()
             if line.startswith('{"_aws"')]
    assert len(blobs) == 2
    assert blobs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Synthos"
    assert blobs[0]["Requests"] == [1.0] and "ClientErrors" not in blobs[0]
    assert blobs[1]["ClientErrors"] == [1.0]
    assert blobs[1]["Latency"][0] > 0.0
