"""Attacks on the access and refresh tokens, and where the signing secret comes from."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from synthos.api import tokens
from tests.api.conftest import post_json


def _claims(user, **overrides):  # type: ignore[no-untyped-def]
    now = int(time.time())
    claims = {"sub": user.user_id, "tid": user.tenant_id, "scp": ["admin", "read", "write"],
              "fam": uuid.uuid4().hex, "typ": "access", "iss": tokens.ISSUER,
              "aud": tokens.AUDIENCE, "iat": now, "nbf": now, "exp": now + 600,
              "jti": uuid.uuid4().hex}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _me(client, token):  # type: ignore[no-untyped-def]
    return client.http.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_token_signed_with_the_real_secret_is_accepted(api_client, api_settings_env,
                                                         register_user):
    # Control case: the forging helper itself produces valid tokens
    user = register_user(api_client)
    token = jwt.encode(_claims(user), api_settings_env.jwt_secret, algorithm="HS256")
    assert _me(api_client, token).status_code == 200


def test_alg_none_is_rejected(api_client, register_user):
    user = register_user(api_client)
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims(user)).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        assert _me(api_client, token).status_code == 401


def test_a_token_signed_with_another_key_is_rejected(api_client, register_user):
    user = register_user(api_client)
    token = jwt.encode(_claims(user), "attacker-secret-" + "y" * 32, algorithm="HS256")
    assert _me(api_client, token).status_code == 401


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_another_algorithm_is_rejected_even_with_the_right_secret(api_client, api_settings_env,
                                                                 register_user):
    user = register_user(api_client)
    token = jwt.encode(_claims(user), api_settings_env.jwt_secret, algorithm="HS512")
    assert _me(api_client, token).status_code == 401


def test_expired_token_is_rejected_with_its_reason(api_client, api_settings_env, register_user):
    user = register_user(api_client)
    past = int(time.time()) - 3600
    token = jwt.encode(_claims(user, iat=past - 900, nbf=past - 900, exp=past),
                       api_settings_env.jwt_secret, algorithm="HS256")
    response = _me(api_client, token)
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["message"] == "the token has expired"


def test_tampered_claims_break_the_signature(api_client, register_user):
    # GIVEN alice's real token WHEN its tenant claim is swapped for bob's, signature kept
    alice = register_user(api_client)
    bob = register_user(api_client)
    header, payload, signature = alice.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["tid"] = bob.tenant_id
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    # THEN the token is refused
    assert _me(api_client, forged).status_code == 401


@pytest.mark.parametrize("override", [
    {"iss": "someone-else"}, {"aud": "another-api"}, {"jti": None}, {"exp": None},
    {"sub": None}, {"typ": "refresh"}, {"typ": None}, {"tid": None}, {"scp": "admin"},
])
def test_wrong_or_missing_claims_are_rejected(api_client, api_settings_env, register_user,
                                              override):
    user = register_user(api_client)
    token = jwt.encode(_claims(user, **override), api_settings_env.jwt_secret, algorithm="HS256")
    assert _me(api_client, token).status_code == 401


def test_a_refresh_token_is_not_an_access_token_and_vice_versa(api_client, register_user):
    user = register_user(api_client)
    assert _me(api_client, user.refresh_token).status_code == 401
    swapped = post_json(api_client, "/v1/auth/refresh", {"refresh_token": user.access_token})
    assert swapped.status_code == 401


def test_a_refresh_token_forged_for_an_unknown_jti_is_rejected(api_client, api_settings_env,
                                                              register_user):
    user = register_user(api_client)
    forged = jwt.encode(_claims(user, typ="refresh"), api_settings_env.jwt_secret,
                        algorithm="HS256")
    response = post_json(api_client, "/v1/auth/refresh", {"refresh_token": forged})
    assert response.status_code == 401
