"""The OpenAPI 3.1 document of the whole API, built from the app's routes.

Route modules describe each view with :func:`document` (summary, request and response models,
status, scope, query parameters); :func:`build` walks ``app.routes`` and turns every route into
an operation, taking schemas from the pydantic models. A route without a description still
appears (marked ``x-undocumented``), so the document can never silently miss a route; a test
checks there are none.

    @bp.route("/datasets", methods=["GET"])
    @document("List datasets", response=DatasetOut, scope="read", paginated=True,
              query=(Query("status", "filter by status"),))
    def list_datasets(): ...
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])

VERSION = "1.0.0"
_ATTR = "__openapi__"
_SKIPPED_METHODS = {"OPTIONS", "HEAD"}  # CORS preflight answers; not part of the contract
_REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class RouteDoc:
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    scope: str | None = "read"   # None: no authentication (register, login, health, ...)
    query: tuple[Query, ...] = ()
    paginated: bool = False      # the answer is {"items": [response...], "next_token"}
    tags: tuple[str, ...] = ()
    description: str = ""
    errors: tuple[int, ...] = ()  # statuses beyond the common ones (402, 409, 503, ...)


def document(summary: str, **kwargs: Any) -> Callable[[F], F]:
    """Attach a :class:`RouteDoc` to a view (put it *under* ``@bp.route``). ``errors``: the
    statuses the view raises beyond the common ones (every authenticated route documents
    400, 401, 403, 404 (with a path id), 429 and 500; a public one 400, 429 and 500)."""
    doc = RouteDoc(summary=summary, **kwargs)
    unknown = [code for code in doc.errors if str(code) not in _ERRORS]
    if unknown:
        raise ValueError(f"no error response for {unknown}; add it to openapi._ERRORS")

    def attach(view: F) -> F:
        setattr(view, _ATTR, doc)
        return view

    return attach


def doc_of(view: Callable[..., Any]) -> RouteDoc | None:
    found = getattr(view, _ATTR, None)
    return found if isinstance(found, RouteDoc) else None


def operations(app: Any) -> set[tuple[str, str]]:
    """Every (METHOD, path) of the app that belongs in the document."""
    return {(method, path) for path, methods in app.routes.items() for method in methods
            if method not in _SKIPPED_METHODS}


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "details": {"type": "object"}}}},
}
_ERRORS = {"400": "Invalid request", "401": "Missing or invalid credentials",
           "402": "The plan's monthly quota is used up",
           "403": "The credential lacks the scope", "404": "Not found (or another tenant's)",
           "409": "The resource's state forbids the action",
           "429": "Rate limited (see Retry-After)", "500": "Internal error (request id only)",
           "503": "A dependency is unavailable; try again later (safe message, request id)"}
_AUTHENTICATED = ("400", "401", "403", "404", "429", "500")  # every route with a scope
_PUBLIC = ("400", "429", "500")


class _Schemas:
    """Collects model schemas into ``components.schemas``."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
        for name, sub in schema.pop("$defs", {}).items():
            self.components.setdefault(name, sub)
        self.components.setdefault(model.__name__, schema)
        return {"$ref": _REF.format(model=model.__name__)}


def _path_params(path: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in re.findall(r"{(\w+)}", path)]


def _success(doc: RouteDoc, schemas: _Schemas) -> dict[str, Any]:
    if doc.status == 204 or doc.response is None:
        return {"description": "Done"}
    body = schemas.ref(doc.response, "serialization")
    if doc.paginated:
        body = {"type": "object", "required": ["items", "next_token"],
                "properties": {"items": {"type": "array", "items": body},
                               "next_token": {"type": ["string", "null"]}}}
    return {"description": doc.summary, "content": {"application/json": {"schema": body}}}


def _operation(method: str, path: str, view: Callable[..., Any], schemas: _Schemas
               ) -> dict[str, Any]:
    doc = doc_of(view)
    if doc is None:
        return {"summary": getattr(view, "__name__", "?"), "x-undocumented": True,
                "responses": {"default": {"description": "undocumented"}}}
    params = _path_params(path) + [
        {"name": q.name, "in": "query", "required": q.required, "description": q.description,
         "schema": q.schema} for q in doc.query]
    if doc.paginated:
        params += [{"name": "limit", "in": "query", "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                   {"name": "next_token", "in": "query", "required": False,
                    "schema": {"type": "string"}}]
    op: dict[str, Any] = {
        "operationId": f"{method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
        "summary": doc.summary, "tags": list(doc.tags) or [path.split("/")[2]],
        "responses": {str(doc.status): _success(doc, schemas)},
    }
    if doc.description:
        op["description"] = doc.description
    if params:
        op["parameters"] = params
    if doc.request is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": schemas.ref(doc.request, "validation")}}}
    codes = set(_PUBLIC if doc.scope is None else _AUTHENTICATED)
    if "{" not in path and doc.scope is not None:
        codes.remove("404")
    codes |= {str(code) for code in doc.errors}
    for code in sorted(codes):
        op["responses"][code] = {"$ref": f"#/components/responses/E{code}"}
    op["security"] = [] if doc.scope is None else [{"bearer": []}, {"apiKey": []}]
    if doc.scope is not None:
        op["x-scope"] = doc.scope
    return op


def build(app: Any, title: str = "Synthos API") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of ``app``."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for path in sorted(app.routes):
        for method, entry in sorted(app.routes[path].items()):
            if method in _SKIPPED_METHODS:
                continue
            paths.setdefault(path, {})[method.lower()] = _operation(
                method, path, entry.view_function, schemas)
    error_ref = {"$ref": "#/components/schemas/Error"}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": VERSION,
                 "description": "Model-collapse risk of synthetic datasets. See docs/api.md."},
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "responses": {f"E{code}": {"description": text, "content": {
                "application/json": {"schema": error_ref}}} for code, text in _ERRORS.items()},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }
