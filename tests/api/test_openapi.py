"""The OpenAPI document matches the app's routes exactly and is a valid OpenAPI 3.1 document."""

from __future__ import annotations

import json

import app as app_module
import pytest
from openapi_spec_validator import validate

from synthos.api import openapi


@pytest.fixture(scope="module")
def document():  # type: ignore[no-untyped-def]
    return openapi.build(app_module.app)


def _documented(doc):  # type: ignore[no-untyped-def]
    return {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}


def test_every_route_is_documented_and_every_operation_is_a_route(document):
    routes = {(method, path) for path, methods in app_module.app.routes.items()
              for method in methods if method != "OPTIONS"}
    assert routes  # the app has routes at all
    assert _documented(document) == routes
    undocumented = [(m, p) for p, ops in document["paths"].items() for m, op in ops.items()
                    if op.get("x-undocumented")]
    assert undocumented == [], "add @document(...) to these views"


def test_every_route_has_a_cors_preflight_outside_the_document(document):
    for path, methods in app_module.app.routes.items():
        assert "OPTIONS" in methods, path
        assert "options" not in document["paths"][path]


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_bodies_reject_unknown_fields_and_operations_are_secured(document):
    schemas = document["components"]["schemas"]
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            body = op.get("requestBody")
            if body is not None:
                ref = body["content"]["application/json"]["schema"]["$ref"]
                assert schemas[ref.rsplit("/", 1)[1]]["additionalProperties"] is False
            public = op["security"] == []
            assert public == (op.get("x-scope") is None), (method, path)
    assert document["paths"]["/v1/auth/register"]["post"]["security"] == []
    assert document["paths"]["/v1/api-keys"]["post"]["x-scope"] == "admin"


def test_the_document_is_served(api_client, document):
    response = api_client.http.get("/v1/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body) == json.loads(json.dumps(document))
