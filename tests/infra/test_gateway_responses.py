"""API Gateway's own answers (no route, throttling, too large, timeouts, any other 4xx/5xx)
are mapped to the API's one error shape and carry the app's security headers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from synthos.api.headers import SECURITY_HEADERS
from tests.infra.conftest import of_type

# Samples of what API Gateway substitutes; messageString arrives already JSON-quoted
SAMPLES = {
    "$context.error.messageString": json.dumps('Gateway "says" no\\'),
    "$context.error.responseType": "REQUEST_TOO_LARGE",
    "$context.requestId": "c0ffee-1234",
}
EXPECTED = {  # type: (status, code); None keeps API Gateway's own status
    "DEFAULT_4XX": (None, "bad_request"),
    "DEFAULT_5XX": (None, "internal_error"),
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found"),
    "THROTTLED": ("429", "rate_limited"),
    "REQUEST_TOO_LARGE": ("413", "request_too_large"),
    "INTEGRATION_TIMEOUT": ("504", "gateway_timeout"),
}


def substitute(template: str) -> str:
    for variable, value in SAMPLES.items():
        template = template.replace(variable, value)
    assert "$context" not in template, template
    return template


@pytest.fixture(scope="module")
def gateway_responses(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    responses = of_type(resources, "AWS::ApiGateway::GatewayResponse").values()
    return {r["Properties"]["ResponseType"]: r["Properties"] for r in responses}


def test_gateway_responses_have_the_right_types_and_statuses(
        resources: dict[str, Any], gateway_responses: dict[str, dict[str, Any]]) -> None:
    (rest_api,) = of_type(resources, "AWS::ApiGateway::RestApi")
    # Setup/Run: the template's gateway responses by type. Assert: exactly the mapped ones
    assert set(gateway_responses) == set(EXPECTED)
    for kind, (status, _) in EXPECTED.items():
        assert gateway_responses[kind].get("StatusCode") == status, kind
        assert gateway_responses[kind]["RestApiId"] == {"Ref": rest_api}, kind


def test_gateway_templates_render_the_error_shape(
        gateway_responses: dict[str, dict[str, Any]]) -> None:
    for kind, (_, code) in EXPECTED.items():
        # GIVEN the JSON template, WHEN API Gateway substitutes its variables
        templates = gateway_responses[kind]["ResponseTemplates"]
        assert set(templates) == {"application/json"}
        body = json.loads(substitute(templates["application/json"]))
        # THEN it parses, in exactly the API's shape, with the request id
        assert set(body) == {"error"}, kind
        assert set(body["error"]) == {"code", "message", "details"}, kind
        assert body["error"]["code"] == code, kind
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], kind
        assert body["error"]["details"]["request_id"] == "c0ffee-1234", kind


def test_gateway_messages_pass_only_where_safe(
        gateway_responses: dict[str, dict[str, Any]]) -> None:
    # GIVEN the rendered bodies
    bodies = {kind: json.loads(substitute(p["ResponseTemplates"]["application/json"]))["error"]
              for kind, p in gateway_responses.items()}
    # THEN API Gateway's own message (quotes and backslashes escaped) passes for the refusals
    for kind in ("DEFAULT_4XX", "REQUEST_TOO_LARGE"):
        assert bodies[kind]["message"] == 'Gateway "says" no\\', kind
    assert bodies["DEFAULT_4XX"]["details"]["response_type"] == "REQUEST_TOO_LARGE"
    # AND no 5xx shows anything but its fixed message and the request id
    for kind in ("DEFAULT_5XX", "INTEGRATION_TIMEOUT"):
        assert "Gateway" not in bodies[kind]["message"], kind
        assert bodies[kind]["details"] == {"request_id": "c0ffee-1234"}, kind
    # AND an unknown route reads like the app's 404
    assert bodies["MISSING_AUTHENTICATION_TOKEN"]["code"] == "not_found"


def test_gateway_responses_carry_the_security_headers(
        gateway_responses: dict[str, dict[str, Any]]) -> None:
    for kind, props in gateway_responses.items():
        # GIVEN the header mappings, each a static value in single quotes
        params = props["ResponseParameters"]
        headers = {k.removeprefix("gatewayresponse.header."): v for k, v in params.items()}
        assert all(k.startswith("gatewayresponse.header.") for k in params), kind
        # THEN every security header of the app is there with the app's value
        for name, value in SECURITY_HEADERS.items():
            assert headers[name] == f"'{value}'", (kind, name)
    # AND throttling says when to retry
    retry = gateway_responses["THROTTLED"]["ResponseParameters"][
        "gatewayresponse.header.Retry-After"]
    assert retry.startswith("'") and retry.endswith("'") and int(retry.strip("'")) >= 1


def test_app_and_gateway_share_one_header_source() -> None:
    import app

    # Assert: the app sets the very same mapping the construct reads
    assert app.SECURITY_HEADERS is SECURITY_HEADERS
    assert SECURITY_HEADERS["X-Frame-Options"] == "DENY"
