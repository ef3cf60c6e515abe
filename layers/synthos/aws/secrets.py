"""Secrets read at run time, never from code.

In the cloud the JWT signing secret lives in Secrets Manager (``settings.jwt_secret_id``); on one
machine the local stack generates one per run and passes it as ``settings.jwt_secret``. Values
are cached for a few minutes so a warm Lambda does not call Secrets Manager on every request,
yet a rotated secret is picked up.
"""

from __future__ import annotations

import json
import time

from synthos.aws.clients import client
from synthos.aws.settings import Settings
from synthos.errors import SynthosError

CACHE_SECONDS = 300.0
MIN_SECRET_BYTES = 32

_cache: dict[tuple[str, str | None], tuple[float, str]] = {}


class SecretUnavailable(SynthosError):
    """A secret the service needs is not configured or cannot be read (a deployment fault)."""

    code = "secret_unavailable"


def _from_secrets_manager(settings: Settings, secret_id: str) -> str:
    key = (secret_id, settings.endpoint_url)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    raw = client("secretsmanager", settings).get_secret_value(SecretId=secret_id)["SecretString"]
    value = _unwrap(raw)
    _cache[key] = (time.monotonic(), value)
    return value


def _unwrap(raw: str) -> str:
    """A secret is either the bare string or a JSON object with a ``secret`` field."""
    if raw.lstrip().startswith("{"):
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SecretUnavailable("the JWT secret is malformed JSON") from exc
        value = doc.get("secret") if isinstance(doc, dict) else None
        if not isinstance(value, str):
            raise SecretUnavailable("the JWT secret JSON has no 'secret' string")
        return value
    return raw


def jwt_secret(settings: Settings) -> bytes:
    """The HS256 signing secret: Secrets Manager in the cloud, the local setting locally."""
    if settings.jwt_secret_id:
        value = _from_secrets_manager(settings, settings.jwt_secret_id)
    elif settings.jwt_secret:
        value = settings.jwt_secret
    else:
        raise SecretUnavailable("no JWT secret configured (jwt_secret_id or jwt_secret)")
    secret = value.encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretUnavailable(f"the JWT secret is shorter than {MIN_SECRET_BYTES} bytes")
    return secret


def reset_secret_cache() -> None:
    """Forget cached secrets (tests, and after a rotation)."""
    _cache.clear()
