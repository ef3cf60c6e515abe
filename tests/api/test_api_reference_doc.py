"""docs/openapi.json and docs/api-reference.md are generated from the routes and never stale."""

from __future__ import annotations

from pathlib import Path

from synthos.api.reference_doc import render_json, render_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _doc() -> dict:  # type: ignore[type-arg]
    import app

    from synthos.api.openapi import build

    return build(app.app)


def test_published_openapi_document_is_current() -> None:
    assert (DOCS / "openapi.json").read_text() == render_json(_doc()), "run `make docs`"


def test_published_reference_is_current_and_lists_every_operation() -> None:
    doc = _doc()
    text = (DOCS / "api-reference.md").read_text()
    assert text == render_markdown(doc), "run `make docs`"
    for path, item in doc["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                assert f"`{method.upper()} {path}`" in text


def test_markdown_renders_a_hand_made_document() -> None:
    doc = {"info": {"title": "T"}, "paths": {"/v1/x": {"post": {
        "summary": "Make an x", "tags": ["xs"], "security": [],
        "requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/XIn"}}}},
        "responses": {"201": {}, "400": {}}}}},
        "components": {"schemas": {"XIn": {"properties": {
            "name": {"type": "string", "description": "a | name"},
            "kind": {"enum": ["a", "b"]}}, "required": ["name"]}}}}
    md = render_markdown(doc)
    assert "### `POST /v1/x`" in md and "Auth: public." in md and "Body: `XIn`." in md
    assert "Responses: 201, 400." in md
    assert "| `name` | string | yes | a \\| name |" in md
    assert "| `kind` | `a` or `b` |  |  |" in md
