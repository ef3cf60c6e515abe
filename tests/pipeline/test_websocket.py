"""Progress over the WebSocket API: $connect subscribes (own tenant only), pushes arrive, a gone
connection is forgotten, $disconnect unsubscribes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from synthos.aws.tables import ConnectionModel, JobModel
from synthos.local.moto_glue import LambdaContext
from tests.pipeline.conftest import load_event

ENDPOINT = "https://ws1example.execute-api.us-east-1.amazonaws.com/prod"


@pytest.fixture
def ws(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    settings = aws.model_copy(update={"websocket_endpoint": ENDPOINT})
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    JobModel("acme", "val_8k2m4n6p8r0t2v4x", dataset_id="ds1").save()
    JobModel("other", "val_theirs", dataset_id="ds9").save()
    yield settings


def _call(module: str, event: dict[str, Any]) -> Any:
    import importlib

    return importlib.import_module(f"functions.{module}").handler(
        event, LambdaContext(function_name=module))


def _posted(connection_id: str) -> list[dict[str, Any]]:
    from urllib.parse import unquote

    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    connections = apigatewaymanagementapi_backends["123456789012"]["us-east-1"].connections
    data = b"".join(c.data for key, c in connections.items() if unquote(key) == connection_id)
    return [json.loads(chunk) for chunk in data.decode().replace("}{", "}\n{").splitlines()]


def test_connect_push_disconnect(ws: Any) -> None:
    from synthos.jobs import JobStatus
    from synthos.pipeline import progress

    # GIVEN a client connected for its own job
    assert _call("ws_connect", load_event("ws_connect")) == {"statusCode": 200}
    (conn,) = ConnectionModel.query("val_8k2m4n6p8r0t2v4x")
    assert conn.tenant_id == "acme"
    # WHEN the job moves
    progress.move(ws, "acme", "val_8k2m4n6p8r0t2v4x", JobStatus.INSPECTING, progress=0.05)
    # THEN the client got the progress message
    (message,) = _posted(conn.connection_id)
    assert (message["type"], message["status"], message["job_id"]) == (
        "progress", "inspecting", "val_8k2m4n6p8r0t2v4x")
    # AND after $disconnect nothing is subscribed
    assert _call("ws_disconnect", load_event("ws_disconnect")) == {"statusCode": 200}
    assert list(ConnectionModel.query("val_8k2m4n6p8r0t2v4x")) == []


def test_connect_to_another_tenants_job_is_refused(ws: Any) -> None:
    event = load_event("ws_connect")
    event["queryStringParameters"] = {"job_id": "val_theirs"}
    assert _call("ws_connect", event)["statusCode"] == 403
    event["requestContext"]["authorizer"] = {}
    assert _call("ws_connect", load_event("ws_connect") | {
        "requestContext": event["requestContext"]})["statusCode"] == 403
    assert list(ConnectionModel.scan()) == []


def test_authorizer_allows_a_valid_token_with_its_tenant(ws: Any) -> None:
    from synthos.api.tokens import issue_pair

    # GIVEN a user's access token, and a forged one
    pair = issue_pair(ws, user_id="usr_1", tenant_id="acme", scopes=["read"])
    event = load_event("ws_authorize")
    event["queryStringParameters"]["token"] = pair.access_token
    forged = load_event("ws_authorize")
    forged["queryStringParameters"]["token"] = pair.access_token[:-4] + "AAAA"
    # WHEN the $connect authorizer sees them
    allowed, denied = _call("ws_authorize", event), _call("ws_authorize", forged)
    # THEN the valid one is allowed with its tenant in the context, the forged one denied
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert allowed["context"] == {"tenant_id": "acme"}
    assert allowed["policyDocument"]["Statement"][0]["Resource"] == event["methodArn"]
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert denied["context"] == {}
