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


# ---- every status a route can answer is documented -------------------------------------------

def _raised_statuses(fn, depth: int = 5, seen=None) -> set[int]:  # type: ignore[no-untyped-def]
    """Statuses of the ApiErrors ``fn`` raises, itself or through the synthos.api functions it
    calls (by name or ``module.name``), read from the source (an over-approximation)."""
    import ast
    import inspect
    import textwrap
    import types

    from synthos.api.errors import ApiError

    seen = set() if seen is None else seen
    fn = inspect.unwrap(fn)
    if fn in seen or depth == 0 or not getattr(fn, "__module__", "").startswith("synthos.api"):
        return set()
    seen.add(fn)
    names, found = fn.__globals__, set()

    def resolve(node):  # type: ignore[no-untyped-def]
        if isinstance(node, ast.Name):
            return names.get(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return getattr(names.get(node.value.id), node.attr, None)
        return None

    def status_of(obj):  # type: ignore[no-untyped-def]
        if isinstance(obj, type) and issubclass(obj, ApiError):
            return obj.status
        if isinstance(obj, types.FunctionType):  # a factory: ``raise _exhausted(...)``
            returned = obj.__globals__.get(str(inspect.signature(obj).return_annotation))
            return status_of(returned) if returned is not None else None
        return None

    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(fn)))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            status = status_of(resolve(target))
            if status is not None:
                found.add(status)
        elif isinstance(node, ast.Call):
            callee = resolve(node.func)
            if isinstance(callee, types.FunctionType):
                found |= _raised_statuses(callee, depth - 1, seen)
    return found


def _documented_statuses(document, method: str, path: str) -> set[int]:  # type: ignore[no-untyped-def]
    responses = document["paths"][path][method.lower()]["responses"]
    return {int(code) for code in responses if code.isdigit()}


def test_every_status_a_route_raises_is_documented(document):
    # GIVEN each route's view and what it calls
    missing = {}
    for path, methods in app_module.app.routes.items():
        for method, entry in methods.items():
            if method == "OPTIONS":
                continue
            raised = _raised_statuses(entry.view_function)
            undocumented = raised - _documented_statuses(document, method, path)
            if undocumented:
                missing[f"{method} {path}"] = sorted(undocumented)
    # THEN every status it can raise appears among its documented responses
    assert missing == {}


@pytest.mark.parametrize(("method", "path", "statuses"), [
    ("POST", "/v1/datasets/upload", {402, 409}),
    ("POST", "/v1/validations", {402, 404, 409, 503}),
    ("DELETE", "/v1/validations/{validation_id}", {409}),
    ("POST", "/v1/warranties", {404, 409}),
    ("POST", "/v1/auth/register", {409}),
    ("POST", "/v1/auth/login", {401}),
])
def test_routes_document_their_specific_statuses(document, method, path, statuses):
    # the raising code above is an over-approximation; these are known to be raised
    assert statuses <= _raised_statuses(app_module.app.routes[path][method].view_function)
    assert statuses <= _documented_statuses(document, method, path)


def test_every_authenticated_route_documents_401_and_429(document):
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            codes = _documented_statuses(document, method, path)
            assert 429 in codes and 400 in codes and 500 in codes, (method, path)
            if op.get("x-scope") is not None:
                assert {401, 403} <= codes, (method, path)
            assert set(op["responses"]) - {"default"} <= {
                str(c) for c in (200, 201, 202, 204)} | {
                r.removeprefix("E") for r in document["components"]["responses"]}
