"""API Gateway declares exactly the Chalice app's routes, so that the request's resourcePath is
one Chalice dispatches on (a catch-all {proxy+} resource would reach no route)."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import of_type


def _paths(resources: dict[str, Any]) -> dict[str, str]:
    """Logical id of each AWS::ApiGateway::Resource -> its full path."""
    items = of_type(resources, "AWS::ApiGateway::Resource")

    def path_of(logical: str) -> str:
        props = items[logical]["Properties"]
        parent = props["ParentId"]
        prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{props['PathPart']}"

    return {logical: path_of(logical) for logical in items}


def test_every_chalice_route_has_its_own_method_and_nothing_else(resources) -> None:
    import app

    # GIVEN the methods of the synthesized REST API, as (method, path) pairs
    paths = _paths(resources)
    declared = set()
    for method in of_type(resources, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        declared.add((props["HttpMethod"], path))
        # THEN each one is a Lambda proxy integration (Chalice reads the raw event)
        assert props["Integration"]["Type"] == "AWS_PROXY"
    # AND they are exactly the app's routes, CORS preflights included, with no catch-all
    routes = {(m, p) for p, entries in app.app.routes.items() for m in entries}
    assert declared == routes
    assert not any("{proxy+}" in p for _, p in declared)
