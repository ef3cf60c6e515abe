"""Who is calling: the one object every service receives. Built by
:func:`synthos.api.auth.authenticate` from a Bearer access token or an ``X-API-Key``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from synthos.api.errors import Forbidden

Scope = Literal["read", "write", "admin"]


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    user_id: str
    scopes: frozenset[str]
    kind: Literal["user", "api_key"]
    credential_id: str  # the access token's jti or the API key id (rate limits key on it)

    def require(self, scope: Scope) -> None:
        """Raise Forbidden unless this principal holds ``scope`` (admin implies all)."""
        if scope not in self.scopes and "admin" not in self.scopes:
            raise Forbidden(f"this credential lacks the '{scope}' scope")
