"""Request and response bodies of the auth, API-key and health routes (pydantic)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ScopeName = Literal["read", "write", "admin"]
_EMAIL = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
Email = Annotated[str, AfterValidator(str.lower)]  # compared and stored in lower case


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RegisterIn(_In):
    email: Email = Field(max_length=254, pattern=_EMAIL)
    password: str = Field(min_length=12, max_length=256)


class LoginIn(_In):
    email: Email = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(_In):
    refresh_token: str = Field(min_length=1, max_length=4096)


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class RegisteredOut(TokensOut):
    user_id: str
    tenant_id: str


class Credential(BaseModel):
    kind: Literal["user", "api_key"]
    id: str


class Usage(BaseModel):
    used: int
    limit: int | None


class MeOut(BaseModel):
    user_id: str
    tenant_id: str
    plan: str
    scopes: list[ScopeName]
    credential: Credential
    usage: dict[str, Usage]


class ApiKeyIn(_In):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[ScopeName] = Field(min_length=1, max_length=3)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[ScopeName]
    created_at: str
    last_used_at: str | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="the key itself; shown only in this answer")


class ApiKeyListOut(BaseModel):
    items: list[ApiKeyOut]
    next_token: None = Field(default=None, description="always null: a tenant has few keys")


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
