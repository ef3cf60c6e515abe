"""Tenant isolation of datasets, validations, warranties and claims: another tenant's id answers
404 (never 403) on every route, lists never show it, and nothing of the owner's changes."""

from __future__ import annotations

import json

from tests.api.conftest import post_json
from tests.api.resource_fixtures import (
    body,
    completed_validation,
    ready_dataset,
    start_validation,
    upload,
)


def _alice_world(client, alice, pipeline, result):  # type: ignore[no-untyped-def]
    """A ready dataset + reference, a running and a completed validation, a warranty with a
    claim under review: one of everything."""
    ref = ready_dataset(client, alice, pipeline, role="reference")
    dataset_id = ready_dataset(client, alice, pipeline)
    running = body(start_validation(client, alice, dataset_id))["validation_id"]
    done = completed_validation(client, alice, pipeline, result)
    warranty = body(post_json(client, "/v1/warranties", {"validation_id": done},
                              headers=alice.headers))
    cert = warranty["certificate"]["certificate"]
    claim = body(post_json(client, f"/v1/warranties/{warranty['warranty_id']}/claims",
                           {"dataset_sha256": cert["dataset_sha256"],
                            "observed_collapse_risk": 95.0}, headers=alice.headers))
    assert claim["status"] == "under_review"
    return {"ref": ref, "dataset": dataset_id, "running": running, "done": done,
            "warranty": warranty["warranty_id"], "claim": claim["claim_id"],
            "sha": cert["dataset_sha256"]}


def test_every_route_answers_404_for_another_tenants_ids(api_client, register_user, pipeline,
                                                         low_result) -> None:
    # GIVEN alice's resources, and bob (an admin of his own tenant)
    alice, bob = register_user(api_client), register_user(api_client)
    a = _alice_world(api_client, alice, pipeline, low_result)
    h = bob.headers
    w = f"/v1/warranties/{a['warranty']}"
    key = post_json(api_client, "/v1/api-keys", {"name": "ci", "scopes": ["read"]},
                    headers=alice.headers)
    key_id = body(key)["id"]
    # WHEN bob uses alice's ids anywhere
    calls = [
        ("DELETE", f"/v1/api-keys/{key_id}", None),
        ("GET", f"/v1/datasets/{a['dataset']}", None),
        ("PATCH", f"/v1/datasets/{a['dataset']}", {"monitored": True}),
        ("DELETE", f"/v1/datasets/{a['dataset']}", None),
        ("POST", f"/v1/datasets/{a['dataset']}/complete",
         {"parts": [{"part_number": 1, "etag": "x"}]}),
        ("POST", "/v1/datasets/upload", {"name": "x.csv", "size_bytes": 5, "format": "csv",
                                         "validate": {"reference_id": a["ref"]}}),
        ("POST", "/v1/validations", {"dataset_id": a["dataset"]}),
        ("GET", f"/v1/validations/{a['running']}", None),
        ("DELETE", f"/v1/validations/{a['running']}", None),
        ("GET", f"/v1/validations/{a['done']}/collapse-details", None),
        ("GET", f"/v1/validations/{a['done']}/recommendations", None),
        ("GET", f"/v1/validations/{a['done']}/report", None),
        ("POST", "/v1/warranties", {"validation_id": a["done"]}),
        ("GET", w, None),
        ("POST", f"{w}/revoke", {"reason": "not yours"}),
        ("GET", f"{w}/claims", None),
        ("POST", f"{w}/claims", {"dataset_sha256": a["sha"], "observed_collapse_risk": 99.0}),
        ("POST", f"{w}/claims/{a['claim']}/decision", {"decision": "approve"}),
    ]
    _covers_every_tenant_route(calls)
    for method, path, payload in calls:
        response = api_client.http.request(method, path, headers=h,
                                           body=json.dumps(payload) if payload else b"")
        # THEN 404 not_found, the same answer as for an id that never existed
        assert response.status_code == 404, (method, path, response.body)
        assert body(response)["error"]["code"] == "not_found"
    # AND bob's own reference of bob's dataset against alice's reference is also 404
    mine = ready_dataset(api_client, bob, pipeline)
    response = start_validation(api_client, bob, mine, reference_id=a["ref"])
    assert response.status_code == 404
    # AND bob's lists show none of alice's items
    alice_ids = {a["dataset"], a["ref"], a["running"], a["done"], a["warranty"]}
    for listing in ("/v1/datasets", "/v1/validations", "/v1/warranties"):
        items = body(api_client.http.get(listing, headers=h))["items"]
        seen = {v for i in items for v in i.values() if isinstance(v, str)}
        assert not seen & alice_ids, listing
    # AND nothing of alice's moved
    assert body(api_client.http.get(f"/v1/validations/{a['running']}",
                                    headers=alice.headers))["status"] == "queued"
    assert body(api_client.http.get(f"/v1/datasets/{a['dataset']}",
                                    headers=alice.headers))["status"] == "ready"
    claims = body(api_client.http.get(f"{w}/claims", headers=alice.headers))["items"]
    assert [c["status"] for c in claims] == ["under_review"]


PUBLIC = {("GET", "/v1/warranties/{warranty_id}/verify")}


def _covers_every_tenant_route(calls: list) -> None:  # type: ignore[type-arg]
    """Every route that takes a resource id in its path is among ``calls`` (a new route cannot
    be forgotten here)."""
    import re

    import app

    for path, entries in app.app.routes.items():
        for method in entries:
            if "{" not in path or method == "OPTIONS" or (method, path) in PUBLIC:
                continue
            pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")
            assert any(m == method and pattern.match(p) for m, p, _ in calls), (method, path)


def test_a_page_token_does_not_cross_tenants(api_client, register_user) -> None:
    alice, bob = register_user(api_client), register_user(api_client)
    for _ in range(2):
        upload(api_client, alice)
    page = body(api_client.http.get("/v1/datasets?limit=1", headers=alice.headers))
    assert page["next_token"]
    response = api_client.http.get(f"/v1/datasets?limit=1&next_token={page['next_token']}",
                                   headers=bob.headers)
    assert response.status_code == 400


def test_public_verify_reveals_no_tenant_data(api_client, register_user, pipeline,
                                              low_result) -> None:
    alice = register_user(api_client)
    a = _alice_world(api_client, alice, pipeline, low_result)
    response = api_client.http.get(f"/v1/warranties/{a['warranty']}/verify")
    assert response.status_code == 200
    text = response.body.decode()
    assert alice.tenant_id not in text and a["dataset"] not in text
