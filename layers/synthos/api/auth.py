"""Authentication: who is calling, from a Bearer access token or an ``X-API-Key``."""

from __future__ import annotations

from typing import Any

from synthos.api import api_keys, tokens
from synthos.api.errors import Unauthorized
from synthos.api.principal import Principal
from synthos.aws.settings import Settings

_SCHEME = "bearer "


def bearer_token(headers: Any) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    value = headers.get("authorization")
    if not value:
        return None
    if not value.lower().startswith(_SCHEME) or not value[len(_SCHEME):].strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return str(value[len(_SCHEME):].strip())


def access_claims(settings: Settings, token: str) -> dict[str, Any]:
    """Verified, unrevoked claims of an access token."""
    claims = tokens.decode(settings, token, "access")
    if not isinstance(claims.get("tid"), str) or not isinstance(claims.get("scp"), list):
        raise Unauthorized("the token is invalid")
    if tokens.is_access_revoked(claims):
        raise Unauthorized("the token has been revoked")
    return claims


def authenticate(settings: Settings, headers: Any) -> Principal:
    """The caller's principal; Unauthorized when no valid credential is presented."""
    token = bearer_token(headers)
    if token is not None:
        claims = access_claims(settings, token)
        return Principal(tenant_id=claims["tid"], user_id=claims["sub"],
                         scopes=frozenset(str(s) for s in claims["scp"]), kind="user",
                         credential_id=claims["jti"])
    key = headers.get("x-api-key")
    if key:
        return api_keys.principal_for(str(key))
    raise Unauthorized("authentication required: a Bearer token or an X-API-Key")
