"""Authentication: who is calling, from a Bearer access token or an ``X-API-Key``; and the
account use cases behind ``/v1/auth`` (register, login, logout, me)."""

from __future__ import annotations

import uuid
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from synthos.api import api_keys, passwords, quotas, tokens
from synthos.api.errors import Conflict, Unauthorized
from synthos.api.principal import Principal
from synthos.aws.settings import Settings
from synthos.aws.tables import UserModel, lost_condition

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


def register(settings: Settings, email: str, password: str) -> dict[str, Any]:
    """A new tenant and its admin user, signed in: the token pair plus ``user_id`` and
    ``tenant_id``. Conflict when an account with this email exists."""
    user = UserModel(email=email, user_id=uuid.uuid4().hex, tenant_id=uuid.uuid4().hex,
                     password_hash=passwords.hash_password(password))
    try:
        user.save(condition=UserModel.email.does_not_exist())
    except PutError as exc:
        if not lost_condition(exc):
            raise
        raise Conflict("an account with this email already exists") from exc
    quotas.set_plan(user.tenant_id, user.plan)
    return {**_sign_in(settings, user).to_dict(), "user_id": user.user_id,
            "tenant_id": user.tenant_id}


def login(settings: Settings, email: str, password: str) -> tokens.TokenPair:
    """Tokens for a matching email and password; Unauthorized otherwise, taking the same time
    for an unknown email. A hash made with older parameters is upgraded on the way."""
    try:
        user = UserModel.get(email, consistent_read=True)
    except DoesNotExist:
        passwords.verify_absent(password)
        raise Unauthorized("invalid email or password") from None
    if not passwords.verify(user.password_hash, password):
        raise Unauthorized("invalid email or password")
    if passwords.needs_rehash(user.password_hash):
        user.update(actions=[UserModel.password_hash.set(passwords.hash_password(password))])
    return _sign_in(settings, user)


def _sign_in(settings: Settings, user: UserModel) -> tokens.TokenPair:
    return tokens.issue_pair(settings, user_id=user.user_id, tenant_id=user.tenant_id,
                             scopes=[str(s) for s in user.scopes])


def logout(settings: Settings, headers: Any) -> None:
    """Revoke the session of the Bearer access token in ``headers``: that token and its
    refresh family. Unauthorized without one (an API key has no session)."""
    token = bearer_token(headers)
    if token is None:
        raise Unauthorized("logout needs the session's Bearer access token")
    claims = access_claims(settings, token)
    tokens.revoke_family(claims.get("fam"))
    tokens.revoke_access(claims)


def me(principal: Principal) -> dict[str, Any]:
    """Who the credential belongs to, its scopes, plan and this month's usage."""
    return {
        "user_id": principal.user_id, "tenant_id": principal.tenant_id,
        "plan": quotas.plan_of(principal.tenant_id), "scopes": sorted(principal.scopes),
        "credential": {"kind": principal.kind, "id": principal.credential_id},
        "usage": quotas.usage(principal.tenant_id)}
