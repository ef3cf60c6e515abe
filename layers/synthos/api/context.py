"""The API's edge: settings read once, telemetry, and the one call every route makes.

    settings = current_settings()
    principal = require(app.current_request, "write")   # authenticate + rate limit + scope

Route modules import :data:`logger` and :data:`metrics` from here (the app flushes the metrics
once per request), e.g. ``metrics.add_metric(name="ValidationsStarted", unit="Count", value=1)``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from synthos.api import auth, ratelimit
from synthos.api.principal import Principal, Scope
from synthos.aws import tables
from synthos.aws.settings import Settings
from synthos.aws.telemetry import emf_metrics

SERVICE = "synthos-api"
NAMESPACE = "Synthos"

logger = Logger(service=SERVICE)
metrics = emf_metrics(NAMESPACE, SERVICE)  # cleared on flush when metrics are disabled

_settings: Settings | None = None


def current_settings() -> Settings:
    """The settings of this process, read from ``SYNTHOS_*`` once; binds the tables."""
    global _settings
    if _settings is None:
        settings = Settings.from_env()
        tables.bind(settings)
        _settings = settings
    return _settings


def reset_settings() -> None:
    """Forget the settings (tests change the environment between cases)."""
    global _settings
    _settings = None


def rate_key(principal: Principal) -> str:
    """Users are limited per user (their access tokens change every 15 minutes), keys per key."""
    if principal.kind == "user":
        return f"user#{principal.user_id}"
    return f"key#{principal.credential_id}"


def authenticate(request: Any) -> Principal:
    """The caller's principal, rate limited, with no scope check."""
    principal = auth.authenticate(current_settings(), request.headers)
    ratelimit.consume(rate_key(principal), ratelimit.PRINCIPAL)
    return principal


def require(request: Any, scope: Scope) -> Principal:
    """Authenticate the request (Bearer access token or ``X-API-Key``), take one token from the
    principal's rate-limit bucket and check ``scope``. Raises Unauthorized (401),
    TooManyRequests (429) or Forbidden (403)."""
    principal = authenticate(request)
    principal.require(scope)
    return principal


def source_ip(request: Any) -> str:
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def limit_anonymous(request: Any) -> None:
    """Rate limit an unauthenticated call (register, login, refresh) by source IP."""
    ratelimit.consume(f"ip#{source_ip(request)}", ratelimit.ANONYMOUS)
