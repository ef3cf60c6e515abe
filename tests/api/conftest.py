"""Fixtures of the API suites: the Chalice test client over moto, and helpers that register a
user and mint API keys.

    def test_x(api_client, register_user, api_key_headers):
        alice = register_user(api_client, email="alice@example.com")
        api_client.http.get("/v1/auth/me", headers=alice.headers)
        key_headers = api_key_headers(api_client, alice, scopes=["read"])
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class User:
    email: str
    password: str
    user_id: str
    tenant_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}",
                "Content-Type": "application/json"}


def post_json(client: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.http.post(path, headers={"Content-Type": "application/json", **(headers or {})},
                            body=json.dumps(body))


def register(client: Any, email: str | None = None, password: str = PASSWORD) -> User:
    """Register a fresh account (a new tenant) and return its tokens."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = post_json(client, "/v1/auth/register", {"email": email, "password": password})
    assert response.status_code == 201, response.body
    body = json.loads(response.body)
    return User(email=email.lower(), password=password, user_id=body["user_id"],
                tenant_id=body["tenant_id"], access_token=body["access_token"],
                refresh_token=body["refresh_token"])


def mint_api_key(client: Any, user: User, scopes: list[str] | None = None,
                 name: str = "test key") -> dict[str, str]:
    """Create an API key for ``user`` and return the headers that present it."""
    response = post_json(client, "/v1/api-keys", {"name": name, "scopes": scopes or ["read"]},
                         headers=user.headers)
    assert response.status_code == 201, response.body
    return {"X-API-Key": json.loads(response.body)["key"], "Content-Type": "application/json"}


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with test-sized cost (same algorithm; the default costs ~0.1 s per hash)."""
    from argon2 import PasswordHasher

    from synthos.api import passwords

    monkeypatch.setattr(passwords, "hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(passwords, "_dummy", None)


@pytest.fixture
def api_settings_env(aws: Any, monkeypatch: pytest.MonkeyPatch,
                     cheap_hashing: None) -> Iterator[Any]:
    """The moto world of ``aws`` with its settings in the environment, read afresh."""
    from synthos.api import context
    from synthos.aws.secrets import reset_secret_cache

    for name, value in aws.to_env().items():
        monkeypatch.setenv(name, value)
    context.reset_settings()
    reset_secret_cache()
    yield aws
    context.reset_settings()
    reset_secret_cache()


@pytest.fixture
def api_client(api_settings_env: Any) -> Iterator[Any]:
    """``chalice.test.Client`` over the app, inside moto."""
    import app as app_module
    from chalice.test import Client

    with Client(app_module.app) as client:
        yield client


@pytest.fixture
def register_user() -> Callable[..., User]:
    """``register_user(api_client, email=None, password=PASSWORD) -> User``."""
    return register


@pytest.fixture
def api_key_headers() -> Callable[..., dict[str, str]]:
    """``api_key_headers(api_client, user, scopes=["read"], name="test key") -> headers``."""
    return mint_api_key
