"""``/v1/auth``: register, login, refresh, logout, me."""

from __future__ import annotations

import uuid
from typing import Any

from chalice import Blueprint
from pynamodb.exceptions import DoesNotExist, PutError

from synthos.api import context, passwords, quotas, tokens
from synthos.api.auth import access_claims, bearer_token
from synthos.api.errors import Conflict, Unauthorized
from synthos.api.http import json_response, parse_body
from synthos.api.openapi import document
from synthos.api.payloads_auth import (
    LoginIn,
    MeOut,
    RefreshIn,
    RegisteredOut,
    RegisterIn,
    TokensOut,
)
from synthos.aws.tables import UserModel, lost_condition

bp = Blueprint(__name__)
_TAGS = ("auth",)


@bp.route("/auth/register", methods=["POST"])
@document("Create an account (a new tenant and its admin user)", request=RegisterIn,
          response=RegisteredOut, status=201, scope=None, tags=_TAGS,
          errors=(409,))
def register() -> Any:
    request = bp.current_request
    context.limit_anonymous(request)
    body = parse_body(request, RegisterIn)
    settings = context.current_settings()
    user = UserModel(email=body.email, user_id=uuid.uuid4().hex, tenant_id=uuid.uuid4().hex,
                     password_hash=passwords.hash_password(body.password))
    try:
        user.save(condition=UserModel.email.does_not_exist())
    except PutError as exc:
        if not lost_condition(exc):
            raise
        raise Conflict("an account with this email already exists") from exc
    quotas.set_plan(user.tenant_id, user.plan)
    pair = tokens.issue_pair(settings, user_id=user.user_id, tenant_id=user.tenant_id,
                             scopes=[str(s) for s in user.scopes])
    context.logger.info("account registered", extra={"tenant_id": user.tenant_id})
    return json_response({**pair.to_dict(), "user_id": user.user_id,
                          "tenant_id": user.tenant_id}, status=201)


@bp.route("/auth/login", methods=["POST"])
@document("Trade email and password for tokens", request=LoginIn, response=TokensOut,
          scope=None, tags=_TAGS,
          errors=(401,))
def login() -> Any:
    request = bp.current_request
    context.limit_anonymous(request)
    body = parse_body(request, LoginIn)
    try:
        user = UserModel.get(body.email, consistent_read=True)
    except DoesNotExist:
        passwords.verify_absent(body.password)
        raise Unauthorized("invalid email or password") from None
    if not passwords.verify(user.password_hash, body.password):
        raise Unauthorized("invalid email or password")
    if passwords.needs_rehash(user.password_hash):
        user.update(actions=[UserModel.password_hash.set(passwords.hash_password(body.password))])
    pair = tokens.issue_pair(context.current_settings(), user_id=user.user_id,
                             tenant_id=user.tenant_id, scopes=[str(s) for s in user.scopes])
    return json_response(pair.to_dict())


@bp.route("/auth/refresh", methods=["POST"])
@document("Rotate a refresh token (reusing a rotated one revokes the session)",
          request=RefreshIn, response=TokensOut, scope=None, tags=_TAGS,
          errors=(401,))
def refresh() -> Any:
    request = bp.current_request
    context.limit_anonymous(request)
    body = parse_body(request, RefreshIn)
    return json_response(tokens.rotate(context.current_settings(), body.refresh_token).to_dict())


@bp.route("/auth/logout", methods=["POST"])
@document("Revoke this session: the access token and its refresh family", status=204,
          scope="read", tags=_TAGS)
def logout() -> Any:
    request = bp.current_request
    token = bearer_token(request.headers)
    if token is None:
        raise Unauthorized("logout needs the session's Bearer access token")
    claims = access_claims(context.current_settings(), token)
    tokens.revoke_family(claims.get("fam"))
    tokens.revoke_access(claims)
    return json_response(None, status=204)


@bp.route("/auth/me", methods=["GET"])
@document("Who the credential belongs to, its scopes and this month's usage",
          response=MeOut, scope="read", tags=_TAGS)
def me() -> Any:
    principal = context.authenticate(bp.current_request)
    return json_response({
        "user_id": principal.user_id, "tenant_id": principal.tenant_id,
        "plan": quotas.plan_of(principal.tenant_id), "scopes": sorted(principal.scopes),
        "credential": {"kind": principal.kind, "id": principal.credential_id},
        "usage": quotas.usage(principal.tenant_id)})
