"""Accounts and sessions: register, login, refresh rotation, logout, me."""

from __future__ import annotations

import json

from tests.api.conftest import PASSWORD, post_json


def body_of(response):  # type: ignore[no-untyped-def]
    return json.loads(response.body)


def test_register_creates_a_tenant_with_tokens(api_client, register_user):
    # GIVEN a new email WHEN registering
    alice = register_user(api_client, email="Alice@Example.com")
    # THEN the email is stored lower-cased and the access token works
    me = api_client.http.get("/v1/auth/me", headers=alice.headers)
    assert me.status_code == 200
    doc = body_of(me)
    assert doc["tenant_id"] == alice.tenant_id and doc["user_id"] == alice.user_id
    assert doc["plan"] == "free" and doc["scopes"] == ["admin", "read", "write"]
    assert doc["credential"]["kind"] == "user"
    assert doc["usage"]["datasets"] == {"used": 0, "limit": 20}


def test_register_twice_is_a_conflict(api_client, register_user):
    register_user(api_client, email="bob@example.com")
    again = post_json(api_client, "/v1/auth/register",
                      {"email": "BOB@example.com", "password": PASSWORD})
    assert again.status_code == 409
    assert body_of(again)["error"]["code"] == "conflict"


def test_register_rejects_weak_password_and_bad_email_with_field_errors(api_client):
    response = post_json(api_client, "/v1/auth/register",
                         {"email": "not-an-email", "password": "short"})
    assert response.status_code == 400
    error = body_of(response)["error"]
    assert error["code"] == "bad_request"
    assert {f["field"] for f in error["details"]["fields"]} == {"email", "password"}


def test_register_rejects_unknown_fields(api_client):
    response = post_json(api_client, "/v1/auth/register",
                         {"email": "c@example.com", "password": PASSWORD, "plan": "enterprise"})
    assert response.status_code == 400
    fields = body_of(response)["error"]["details"]["fields"]
    assert fields[0]["field"] == "plan" and fields[0]["type"] == "extra_forbidden"


def test_bodies_that_are_not_json_objects_are_bad_requests(api_client):
    for raw in (b"{not json", b"[1, 2]", b"", b'"text"', b'{"email": "\\ud800"}'):
        response = api_client.http.post("/v1/auth/login", body=raw,
                                         headers={"Content-Type": "application/json"})
        assert response.status_code == 400, raw
        assert body_of(response)["error"]["code"] == "bad_request"


def test_login_with_an_empty_email_is_a_bad_request(api_client):
    # found by schemathesis: an empty key used to reach DynamoDB and answer 500
    response = post_json(api_client, "/v1/auth/login", {"email": "", "password": "x"})
    assert response.status_code == 400


def test_login_answers_tokens_for_the_right_password_only(api_client, register_user):
    carol = register_user(api_client, email="carol@example.com")
    ok = post_json(api_client, "/v1/auth/login",
                   {"email": "CAROL@example.com", "password": carol.password})
    assert ok.status_code == 200
    tokens = body_of(ok)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    wrong = post_json(api_client, "/v1/auth/login",
                      {"email": carol.email, "password": "wrong password!!"})
    unknown = post_json(api_client, "/v1/auth/login",
                        {"email": "nobody@example.com", "password": carol.password})
    # THEN a wrong password and an unknown email are indistinguishable
    assert wrong.status_code == unknown.status_code == 401
    assert body_of(wrong)["error"] == body_of(unknown)["error"]


def test_refresh_rotates_and_the_new_pair_works(api_client, register_user):
    dave = register_user(api_client)
    rotated = post_json(api_client, "/v1/auth/refresh", {"refresh_token": dave.refresh_token})
    assert rotated.status_code == 200
    pair = body_of(rotated)
    assert pair["refresh_token"] != dave.refresh_token
    me = api_client.http.get("/v1/auth/me",
                             headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200


def test_refresh_reuse_revokes_the_whole_family(api_client, register_user):
    # GIVEN a refresh token that has been rotated once
    eve = register_user(api_client)
    pair = body_of(post_json(api_client, "/v1/auth/refresh",
                             {"refresh_token": eve.refresh_token}))
    # WHEN the old (rotated) one is presented again
    reuse = post_json(api_client, "/v1/auth/refresh", {"refresh_token": eve.refresh_token})
    # THEN it is refused and every token of the family dies with it
    assert reuse.status_code == 401
    assert "reuse" in body_of(reuse)["error"]["message"]
    newest = post_json(api_client, "/v1/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert newest.status_code == 401
    for token in (eve.access_token, pair["access_token"]):
        me = api_client.http.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401


def test_refresh_with_an_unknown_or_garbage_token_is_unauthorized(api_client):
    response = post_json(api_client, "/v1/auth/refresh", {"refresh_token": "garbage"})
    assert response.status_code == 401
    assert body_of(response)["error"]["code"] == "unauthorized"


def test_a_second_login_is_a_separate_session(api_client, register_user):
    # GIVEN two sessions of one user WHEN one logs out THEN the other still works
    frank = register_user(api_client)
    other = body_of(post_json(api_client, "/v1/auth/login",
                              {"email": frank.email, "password": frank.password}))
    out = api_client.http.post("/v1/auth/logout", headers=frank.headers)
    assert out.status_code == 204
    me = api_client.http.get("/v1/auth/me",
                             headers={"Authorization": f"Bearer {other['access_token']}"})
    assert me.status_code == 200


def test_logout_revokes_the_access_token_and_its_refresh_family(api_client, register_user):
    grace = register_user(api_client)
    assert api_client.http.post("/v1/auth/logout", headers=grace.headers).status_code == 204
    me = api_client.http.get("/v1/auth/me", headers=grace.headers)
    assert me.status_code == 401
    assert "revoked" in body_of(me)["error"]["message"]
    again = post_json(api_client, "/v1/auth/refresh", {"refresh_token": grace.refresh_token})
    assert again.status_code == 401


def test_logout_needs_a_bearer_token(api_client, register_user, api_key_headers):
    heidi = register_user(api_client)
    anonymous = api_client.http.post("/v1/auth/logout")
    with_key = api_client.http.post("/v1/auth/logout",
                                    headers=api_key_headers(api_client, heidi))
    assert anonymous.status_code == with_key.status_code == 401


def test_me_without_credentials_or_with_a_malformed_header_is_unauthorized(api_client):
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "},
                    {"Authorization": "Bearer not.a.jwt"}):
        response = api_client.http.get("/v1/auth/me", headers=headers)
        assert response.status_code == 401, headers
        assert body_of(response)["error"]["code"] == "unauthorized"


def test_health_is_public(api_client):
    response = api_client.http.get("/v1/health")
    assert response.status_code == 200
    assert body_of(response)["status"] == "ok"
