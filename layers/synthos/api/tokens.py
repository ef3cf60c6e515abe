"""Access and refresh tokens (pyjwt, HS256).

Access tokens live 15 minutes and carry ``sub`` (user), ``tid`` (tenant), ``scp`` (scopes),
``fam`` (the refresh family they came from) and a ``jti``. Decoding pins the algorithm to HS256
(no ``alg=none``, no RS/HS confusion) and checks issuer, audience, expiry and required claims.

Refresh tokens are JWTs too (``typ=refresh``) whose ``jti`` is a :class:`TokenModel` item. Each
refresh marks the presented one ``used`` (a conditional write) and issues the next one in the same
family; presenting a used one again is reuse, and revokes the whole family. Revocation writes
marker items (``revoked_access`` for one jti, ``revoked_family`` for a family) that expire with
DynamoDB TTL once no token they cover can still be valid.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from synthos.api.errors import Unauthorized
from synthos.aws.secrets import jwt_secret
from synthos.aws.settings import Settings
from synthos.aws.tables import TokenModel, lost_condition

ALGORITHM = "HS256"
ISSUER = "synthos"
AUDIENCE = "synthos-api"
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
_REQUIRED = ["exp", "iat", "nbf", "jti", "iss", "aud", "sub"]


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def to_dict(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "token_type": "Bearer", "expires_in": self.expires_in}


def _now() -> datetime:
    return datetime.now(UTC)


def _encode(settings: Settings, claims: dict[str, Any], ttl: timedelta) -> str:
    now = _now()
    body = {**claims, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now,
            "exp": now + ttl, "jti": claims.get("jti") or uuid.uuid4().hex}
    return jwt.encode(body, jwt_secret(settings), algorithm=ALGORITHM)


def decode(settings: Settings, token: str, typ: str) -> dict[str, Any]:
    """Verified claims of a token of type ``typ``; Unauthorized for anything wrong with it."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, jwt_secret(settings), algorithms=[ALGORITHM], audience=AUDIENCE,
            issuer=ISSUER, options={"require": _REQUIRED})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("the token is invalid") from exc
    if claims.get("typ") != typ:
        raise Unauthorized("the token is invalid")
    return claims


def issue_pair(settings: Settings, *, user_id: str, tenant_id: str, scopes: list[str],
               family_id: str | None = None) -> TokenPair:
    """A fresh access token and a refresh token (a new family unless ``family_id`` is given)."""
    family = family_id or uuid.uuid4().hex
    base = {"sub": user_id, "tid": tenant_id, "scp": sorted(scopes), "fam": family}
    access = _encode(settings, {**base, "typ": "access"}, ACCESS_TTL)
    refresh_id = uuid.uuid4().hex
    refresh = _encode(settings, {**base, "typ": "refresh", "jti": refresh_id}, REFRESH_TTL)
    TokenModel(token_id=refresh_id, kind="refresh", family_id=family, user_id=user_id,
               tenant_id=tenant_id, expires=_now() + REFRESH_TTL).save()
    return TokenPair(access, refresh, int(ACCESS_TTL.total_seconds()))


def rotate(settings: Settings, refresh_token: str) -> TokenPair:
    """Trade a refresh token for a new pair; reuse of a rotated token revokes its family."""
    claims = decode(settings, refresh_token, "refresh")
    try:
        item = TokenModel.get(claims["jti"], consistent_read=True)
    except DoesNotExist as exc:
        raise Unauthorized("the refresh token is invalid") from exc
    if item.kind != "refresh" or item.revoked or item.family_id != claims.get("fam"):
        raise Unauthorized("the refresh token has been revoked")
    if is_family_revoked(item.family_id):
        raise Unauthorized("the refresh token has been revoked")
    try:
        item.update(actions=[TokenModel.used.set(True)], condition=TokenModel.used == False)  # noqa: E712
    except UpdateError as exc:  # already used: someone replayed it
        revoke_family(item.family_id)
        raise Unauthorized("refresh token reuse detected; the session has been revoked") from exc
    return issue_pair(settings, user_id=claims["sub"], tenant_id=claims["tid"],
                      scopes=list(claims.get("scp", [])), family_id=item.family_id)


def revoke_family(family_id: str | None) -> None:
    """Revoke every refresh token of a family and every access token issued from it."""
    if not family_id:
        return
    TokenModel(token_id=f"family#{family_id}", kind="revoked_family", family_id=None,
               expires=_now() + REFRESH_TTL).save()
    for token in TokenModel.by_family.query(family_id):
        if not token.revoked:
            token.update(actions=[TokenModel.revoked.set(True)])


def revoke_access(claims: dict[str, Any]) -> None:
    """Revoke one access token by its jti until it would have expired anyway."""
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC) + timedelta(minutes=5)
    try:
        TokenModel(token_id=claims["jti"], kind="revoked_access",
                   expires=expires).save(condition=TokenModel.token_id.does_not_exist())
    except PutError as exc:
        if not lost_condition(exc):
            raise


def is_family_revoked(family_id: str | None) -> bool:
    if not family_id:
        return False
    return _exists(f"family#{family_id}")


def is_access_revoked(claims: dict[str, Any]) -> bool:
    """Whether this access token's jti or its family has been revoked (one batch read)."""
    keys = [claims["jti"]] + ([f"family#{claims['fam']}"] if claims.get("fam") else [])
    return any(True for _ in TokenModel.batch_get(keys))


def _exists(token_id: str) -> bool:
    try:
        TokenModel.get(token_id, consistent_read=True)
    except DoesNotExist:
        return False
    return True
