"""API keys: created for a tenant, shown once, stored only as a SHA-256.

A key looks like ``syn_<43 url-safe characters>`` (256 random bits); its first 12 characters are
kept as a display prefix. Keys carry scopes (read, write, admin), never more than the creating
principal holds, and are accepted in ``X-API-Key`` wherever a Bearer token is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from synthos.api.errors import Conflict, Forbidden, NotFound, Unauthorized
from synthos.api.principal import Principal
from synthos.aws.tables import ApiKeyModel

KEY_PREFIX = "syn_"
MAX_ACTIVE_KEYS = 20
_TOUCH_EVERY = timedelta(minutes=5)
_KEY_ID = re.compile(r"[0-9a-f]{32}")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def to_public(item: ApiKeyModel) -> dict[str, Any]:
    """What a client may see of a stored key (never the hash)."""
    return {"id": item.key_id, "name": item.name, "prefix": item.prefix,
            "scopes": sorted(item.scopes), "created_at": item.created_at.isoformat(),
            "last_used_at": item.last_used_at.isoformat() if item.last_used_at else None}


def _active(tenant_id: str) -> list[ApiKeyModel]:
    return [k for k in ApiKeyModel.query(tenant_id) if k.revoked_at is None]


def create(principal: Principal, name: str, scopes: list[str]) -> dict[str, Any]:
    """Create a key for the principal's tenant; the answer is the only place the key appears."""
    wanted = set(scopes)
    if "admin" not in principal.scopes and not wanted <= principal.scopes:
        raise Forbidden("a key cannot have scopes its creator lacks",
                        details={"scopes": sorted(wanted - principal.scopes)})
    if len(_active(principal.tenant_id)) >= MAX_ACTIVE_KEYS:
        raise Conflict(f"a tenant may hold at most {MAX_ACTIVE_KEYS} active API keys")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    item = ApiKeyModel(tenant_id=principal.tenant_id, key_id=uuid.uuid4().hex,
                       key_hash=hash_key(key), user_id=principal.user_id, name=name,
                       prefix=key[:12], scopes=sorted(wanted))
    item.save(condition=ApiKeyModel.key_id.does_not_exist())
    return {**to_public(item), "key": key}


def list_keys(principal: Principal) -> list[dict[str, Any]]:
    keys = sorted(_active(principal.tenant_id), key=lambda k: k.created_at)
    return [to_public(k) for k in keys]


def revoke(principal: Principal, key_id: str) -> None:
    """Revoke one of the tenant's keys; another tenant's (or an unknown) id is NotFound."""
    if not _KEY_ID.fullmatch(key_id):
        raise NotFound("no such API key")
    try:
        item = ApiKeyModel.get(principal.tenant_id, key_id)
    except DoesNotExist as exc:
        raise NotFound("no such API key") from exc
    if item.revoked_at is not None:
        raise NotFound("no such API key")
    item.update(actions=[ApiKeyModel.revoked_at.set(datetime.now(UTC))])


def principal_for(key: str) -> Principal:
    """The principal of a presented key; Unauthorized if unknown or revoked."""
    if not key.startswith(KEY_PREFIX) or len(key) > 128:
        raise Unauthorized("the API key is invalid")
    matches = list(ApiKeyModel.by_hash.query(hash_key(key), limit=1))
    if not matches or matches[0].revoked_at is not None:
        raise Unauthorized("the API key is invalid")
    item = matches[0]
    _touch(item)
    return Principal(tenant_id=item.tenant_id, user_id=item.user_id,
                     scopes=frozenset(item.scopes), kind="api_key", credential_id=item.key_id)


def _touch(item: ApiKeyModel) -> None:
    """Record last use, at most every few minutes (one write, not one per request)."""
    now = datetime.now(UTC)
    if item.last_used_at is None or now - item.last_used_at > _TOUCH_EVERY:
        fresh = ApiKeyModel(tenant_id=item.tenant_id, key_id=item.key_id)
        fresh.update(actions=[ApiKeyModel.last_used_at.set(now)])
