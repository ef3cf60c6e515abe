"""Lazily created, cached boto3 clients (so moto intercepts them and warm Lambdas reuse them)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from synthos.aws.settings import Settings

_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, signature_version="s3v4")


@lru_cache(maxsize=64)
def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=_CONFIG)


def client(service: str, settings: Settings) -> Any:
    """The boto3 client for ``service`` in the settings' region (and endpoint, locally)."""
    return _client(service, settings.region, settings.endpoint_url)


def client_at(service: str, settings: Settings, endpoint_url: str) -> Any:
    """The client for ``service`` at an explicit endpoint (e.g. a WebSocket API's management
    endpoint), cached and configured like every other client."""
    return _client(service, settings.region, endpoint_url)


def reset_clients() -> None:
    """Forget cached clients (tests start a fresh moto per test)."""
    _client.cache_clear()
