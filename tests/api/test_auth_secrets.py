"""The JWT secret comes from Secrets Manager in the cloud and from settings locally."""

from __future__ import annotations

import json

import boto3
import pytest

from synthos.aws import secrets


@pytest.fixture
def fresh_cache():  # type: ignore[no-untyped-def]
    secrets.reset_secret_cache()
    yield
    secrets.reset_secret_cache()


def test_local_secret_comes_from_settings(settings, fresh_cache):
    assert secrets.jwt_secret(settings) == settings.jwt_secret.encode()


def test_cloud_secret_comes_from_secrets_manager_and_is_cached(aws, fresh_cache):
    # GIVEN a secret in Secrets Manager and settings naming it (no local value)
    sm = boto3.client("secretsmanager", region_name=aws.region)
    sm.create_secret(Name="synthos/jwt", SecretString="s" * 40)
    cloud = aws.model_copy(update={"jwt_secret_id": "synthos/jwt", "jwt_secret": None})
    # WHEN read twice around a rotation
    first = secrets.jwt_secret(cloud)
    sm.put_secret_value(SecretId="synthos/jwt", SecretString="t" * 40)
    second = secrets.jwt_secret(cloud)
    # THEN the value comes from AWS and the cached one serves until the cache is reset
    assert first == second == b"s" * 40
    secrets.reset_secret_cache()
    assert secrets.jwt_secret(cloud) == b"t" * 40


def test_a_json_secret_is_unwrapped(aws, fresh_cache):
    sm = boto3.client("secretsmanager", region_name=aws.region)
    sm.create_secret(Name="synthos/jwt-json", SecretString=json.dumps({"secret": "u" * 40}))
    cloud = aws.model_copy(update={"jwt_secret_id": "synthos/jwt-json", "jwt_secret": None})
    assert secrets.jwt_secret(cloud) == b"u" * 40


@pytest.mark.parametrize("update", [
    {"jwt_secret": None, "jwt_secret_id": None}, {"jwt_secret": "too-short"},
])
def test_missing_or_short_secret_is_a_named_error(settings, fresh_cache, update):
    with pytest.raises(secrets.SecretUnavailable):
        secrets.jwt_secret(settings.model_copy(update=update))


def test_malformed_json_secret_is_a_named_error(aws, fresh_cache):
    sm = boto3.client("secretsmanager", region_name=aws.region)
    sm.create_secret(Name="synthos/bad", SecretString='{"other": 1}')
    cloud = aws.model_copy(update={"jwt_secret_id": "synthos/bad", "jwt_secret": None})
    with pytest.raises(secrets.SecretUnavailable):
        secrets.jwt_secret(cloud)
