"""Fixtures shared by the integration suites (API, pipeline, local stack): a fresh moto world
with every table and the data bucket, and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials so nothing can ever reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def settings(aws_env: None):  # type: ignore[no-untyped-def]
    from synthos.aws.settings import Settings

    return Settings(stage="test", table_prefix="synthos-test", bucket="synthos-test-data",
                    jwt_secret="test-secret-" + "x" * 32)


@pytest.fixture
def aws(settings) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """moto with the tables and the versioned, EventBridge-enabled bucket of ``settings``."""
    import boto3
    from moto import mock_aws

    from synthos.aws.clients import reset_clients
    from synthos.aws.tables import create_tables

    with mock_aws():
        reset_clients()
        create_tables(settings)
        s3 = boto3.client("s3", region_name=settings.region)
        s3.create_bucket(Bucket=settings.bucket)
        s3.put_bucket_versioning(Bucket=settings.bucket,
                                 VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_notification_configuration(
            Bucket=settings.bucket,
            NotificationConfiguration={"EventBridgeConfiguration": {}})
        yield settings
        reset_clients()
