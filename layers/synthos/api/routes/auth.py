"""``/v1/auth``: register, login, refresh, logout, me."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from synthos.api import auth, context, tokens
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
    registered = auth.register(context.current_settings(), body.email, body.password)
    context.logger.info("account registered", extra={"tenant_id": registered["tenant_id"]})
    return json_response(registered, status=201)


@bp.route("/auth/login", methods=["POST"])
@document("Trade email and password for tokens", request=LoginIn, response=TokensOut,
          scope=None, tags=_TAGS,
          errors=(401,))
def login() -> Any:
    request = bp.current_request
    context.limit_anonymous(request)
    body = parse_body(request, LoginIn)
    return json_response(
        auth.login(context.current_settings(), body.email, body.password).to_dict())


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
    auth.logout(context.current_settings(), bp.current_request.headers)
    return json_response(None, status=204)


@bp.route("/auth/me", methods=["GET"])
@document("Who the credential belongs to, its scopes and this month's usage",
          response=MeOut, scope="read", tags=_TAGS)
def me() -> Any:
    return json_response(auth.me(context.authenticate(bp.current_request)))
