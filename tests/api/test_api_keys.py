"""API keys: shown once, stored as a SHA-256, scoped, revocable, tenant-bound."""

from __future__ import annotations

import hashlib
import json

import boto3

from synthos.api import api_keys
from tests.api.conftest import post_json


def body_of(response):  # type: ignore[no-untyped-def]
    return json.loads(response.body)


def test_a_key_is_shown_once_and_only_its_hash_is_stored(api_client, api_settings_env,
                                                         register_user):
    # GIVEN a user WHEN creating a key
    alice = register_user(api_client)
    created = post_json(api_client, "/v1/api-keys", {"name": "ci", "scopes": ["read", "write"]},
                        headers=alice.headers)
    assert created.status_code == 201
    doc = body_of(created)
    key = doc["key"]
    assert key.startswith("syn_") and doc["prefix"] == key[:12]
    assert doc["scopes"] == ["read", "write"]
    # THEN the listing never shows the key, and the table holds only its SHA-256
    listed = body_of(api_client.http.get("/v1/api-keys", headers=alice.headers))
    assert [k["id"] for k in listed["items"]] == [doc["id"]]
    assert "key" not in listed["items"][0] and key not in json.dumps(listed)
    table = api_settings_env.table_name("api_keys")
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    assert key not in json.dumps(items)
    assert items[0]["key_hash"]["S"] == hashlib.sha256(key.encode()).hexdigest()


def test_a_key_authenticates_with_its_scopes(api_client, register_user, api_key_headers):
    bob = register_user(api_client)
    read_only = api_key_headers(api_client, bob, scopes=["read"])
    me = api_client.http.get("/v1/auth/me", headers=read_only)
    assert me.status_code == 200
    doc = body_of(me)
    assert doc["credential"]["kind"] == "api_key" and doc["scopes"] == ["read"]
    assert doc["tenant_id"] == bob.tenant_id
    # a read key cannot manage keys (admin scope)
    denied = post_json(api_client, "/v1/api-keys", {"name": "x", "scopes": ["read"]},
                       headers=read_only)
    assert denied.status_code == 403
    assert body_of(denied)["error"]["code"] == "forbidden"


def test_an_admin_key_can_manage_keys(api_client, register_user, api_key_headers):
    carol = register_user(api_client)
    admin = api_key_headers(api_client, carol, scopes=["admin"])
    created = post_json(api_client, "/v1/api-keys", {"name": "w", "scopes": ["write"]},
                        headers=admin)
    assert created.status_code == 201


def test_revoked_key_stops_working_and_disappears(api_client, register_user):
    dave = register_user(api_client)
    created = body_of(post_json(api_client, "/v1/api-keys", {"name": "k", "scopes": ["read"]},
                                headers=dave.headers))
    headers = {"X-API-Key": created["key"]}
    assert api_client.http.get("/v1/auth/me", headers=headers).status_code == 200
    deleted = api_client.http.delete(f"/v1/api-keys/{created['id']}", headers=dave.headers)
    assert deleted.status_code == 204 and deleted.body in (b"", "")
    assert api_client.http.get("/v1/auth/me", headers=headers).status_code == 401
    assert body_of(api_client.http.get("/v1/api-keys", headers=dave.headers))["items"] == []
    again = api_client.http.delete(f"/v1/api-keys/{created['id']}", headers=dave.headers)
    assert again.status_code == 404


def test_another_tenants_key_is_not_found(api_client, register_user):
    # GIVEN eve's key WHEN mallory (another tenant) lists or deletes it THEN 404 / not listed
    eve = register_user(api_client)
    mallory = register_user(api_client)
    created = body_of(post_json(api_client, "/v1/api-keys", {"name": "k", "scopes": ["read"]},
                                headers=eve.headers))
    theft = api_client.http.delete(f"/v1/api-keys/{created['id']}", headers=mallory.headers)
    assert theft.status_code == 404
    assert body_of(theft)["error"]["code"] == "not_found"
    assert body_of(api_client.http.get("/v1/api-keys", headers=mallory.headers))["items"] == []
    assert api_client.http.get("/v1/auth/me",
                               headers={"X-API-Key": created["key"]}).status_code == 200


def test_unknown_and_malformed_keys_are_unauthorized(api_client):
    for key in ("syn_" + "a" * 43, "not-a-key", "syn_" + "b" * 200):
        response = api_client.http.get("/v1/auth/me", headers={"X-API-Key": key})
        assert response.status_code == 401, key


def test_key_bodies_are_validated(api_client, register_user):
    frank = register_user(api_client)
    for body in ({"name": "k", "scopes": ["root"]}, {"name": "", "scopes": ["read"]},
                 {"name": "k", "scopes": []}, {"name": "k", "scopes": ["read"], "x": 1}):
        response = post_json(api_client, "/v1/api-keys", body, headers=frank.headers)
        assert response.status_code == 400, body


def test_a_tenant_holds_a_bounded_number_of_keys(api_client, register_user, monkeypatch):
    monkeypatch.setattr(api_keys, "MAX_ACTIVE_KEYS", 2)
    grace = register_user(api_client)
    codes = [post_json(api_client, "/v1/api-keys", {"name": f"k{i}", "scopes": ["read"]},
                       headers=grace.headers).status_code for i in range(3)]
    assert codes == [201, 201, 409]


def test_malformed_key_ids_are_not_found(api_client, register_user):
    # a key id DynamoDB would refuse (too long, odd characters) is simply absent
    ivan = register_user(api_client)
    for key_id in ("x" * 2000, "..", "%00"):
        response = api_client.http.delete(f"/v1/api-keys/{key_id}", headers=ivan.headers)
        assert response.status_code == 404, key_id
