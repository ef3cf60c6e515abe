"""Fixtures of the API suites: the Chalice test client over moto, and helpers that register a
user and mint API keys.

    def test_x(api_client, register_user, api_key_headers):
        alice = register_user(api_client, email="alice@example.com")
        api_client.http.get("/v1/auth/me", headers=alice.headers)
        key_headers = api_key_headers(api_client, alice, scopes=["read"])

For the dataset / validation / warranty suites: ``settings`` (overriding the root one, for
``tests/api`` only) adds a local warranty signing key and the state machine's ARN;
``state_machine`` creates that machine in moto; ``pipeline`` is a stand-in for the pipeline
(``tests.api.resource_fixtures.FakePipeline``); ``low_result`` is a real low-risk engine result.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow.parquet as pq
import pytest

if TYPE_CHECKING:
    from tests.api.resource_fixtures import FakePipeline

PASSWORD = "correct horse battery staple"
ACCOUNT = "123456789012"
MACHINE = "synthos-test-validate"
MACHINE_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{MACHINE}"


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


# --- the dataset / validation / warranty suites ----------------------------------------------
@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synthos.warranty import generate_keypair

    folder = tmp_path_factory.mktemp("warranty-key")
    generate_keypair(folder)
    return folder


@pytest.fixture
def settings(aws_env: None, key_dir: Path) -> Any:
    """The suite settings plus a local signing key and the state machine's ARN."""
    from synthos.aws.settings import Settings
    from synthos.aws.signing_key import reset_signing_key
    from synthos.warranty.signing import PRIVATE_KEY_FILE

    reset_signing_key()
    return Settings(stage="test", table_prefix="synthos-test", bucket="synthos-test-data",
                    jwt_secret="test-secret-" + "x" * 32, state_machine_arn=MACHINE_ARN,
                    signing_key_file=str(key_dir / PRIVATE_KEY_FILE))


@pytest.fixture
def state_machine(aws: Any) -> str:
    """A state machine in moto (executions are recorded, not run)."""
    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    out = sfn.create_state_machine(name=MACHINE, definition=json.dumps(definition),
                                   roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn")
    assert out["stateMachineArn"] == MACHINE_ARN
    return MACHINE_ARN


@pytest.fixture(scope="session")
def low_result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real engine result with a reference and a low risk (eligible for a warranty)."""
    from synthos import groundtruth as gt
    from synthos.engine import ValidateOptions, validate

    folder = tmp_path_factory.mktemp("api-result")
    x = gt.synthetic_gaussian(1200, 4, np.random.default_rng(3))
    pq.write_table(gt.to_table(x[:600]), folder / "ref.parquet")
    pq.write_table(gt.to_table(x[600:]), folder / "ds.parquet")
    result = validate(folder / "ds.parquet", folder / "ref.parquet",
                      ValidateOptions(replicates=8))
    assert result.risk_level == "low" and result.reference is not None
    return result


@pytest.fixture
def pipeline(api_client: Any, state_machine: str) -> Iterator[FakePipeline]:
    from synthos.api.context import current_settings
    from tests.api.resource_fixtures import FakePipeline  # it imports this module

    yield FakePipeline(current_settings())
