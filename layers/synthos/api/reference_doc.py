"""The API reference in Markdown, generated from the OpenAPI document (never written by hand).

``make docs`` writes ``docs/openapi.json`` and ``docs/api-reference.md``; a test fails when
either is stale, so the reference always matches the routes.
"""

from __future__ import annotations

import json
from typing import Any

_METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    for combo in ("anyOf", "oneOf"):
        if combo in schema:
            return " or ".join(_type_of(s) for s in schema[combo])
    if schema.get("type") == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if "enum" in schema:
        return " or ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    return str(schema.get("type", "any"))


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fields(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, prop in schema.get("properties", {}).items():
        rows.append(f"| `{name}` | {_cell(_type_of(prop))} | {'yes' if name in required else ''}"
                    f" | {_cell(prop.get('description', ''))} |")
    return rows if len(rows) > 2 else []


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", "", op.get("summary", ""), ""]
    auth = "public" if op.get("security") == [] else "Bearer access token or `X-API-Key`"
    lines += [f"Auth: {auth}.", ""]
    params = [p for p in op.get("parameters", []) if p.get("in") == "query"]
    if params:
        lines += ["Query: " + ", ".join(f"`{p['name']}`" for p in params) + ".", ""]
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if body:
        lines += [f"Body: `{_type_of(body['schema'])}`.", ""]
    codes = ", ".join(sorted(op.get("responses", {})))
    lines += [f"Responses: {codes}.", ""]
    return lines


def render_markdown(doc: dict[str, Any]) -> str:
    """The reference: operations grouped by tag, then every schema with its fields."""
    lines = [f"# {doc['info']['title']} reference", "",
             "Generated from `GET /v1/openapi.json` by `make docs`; do not edit by hand. "
             "Errors always have the shape `{\"error\": {\"code\", \"message\", \"details\"}}` "
             "(see [api.md](api.md)).", ""]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in sorted(doc["paths"].items()):
        for method in _METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append((method, path, item[method]))
    for tag in sorted(by_tag):
        lines += [f"## {tag}", ""]
        for method, path, op in by_tag[tag]:
            lines += _operation(method, path, op)
    lines += ["## Schemas", ""]
    for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items()):
        rows = _fields(schema)
        if rows:
            lines += [f"### {name}", "", *rows, ""]
    return "\n".join(lines).rstrip() + "\n"


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main() -> None:  # pragma: no cover - exercised by `make docs`
    import sys
    from pathlib import Path

    import app  # the Chalice app at the repository root

    from synthos.api.openapi import build

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    doc = build(app.app)
    (out / "openapi.json").write_text(render_json(doc))
    (out / "api-reference.md").write_text(render_markdown(doc))


if __name__ == "__main__":  # pragma: no cover
    main()
