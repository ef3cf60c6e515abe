"""Progress pushed over the API Gateway WebSocket API.

A client connects with ``?job_id=...&token=...``; the REQUEST authorizer (:func:`authorize`)
checks the token (an access token or an API key, as the REST API does) and puts the caller's
tenant in the request context. ``$connect`` stores (job_id, connection_id, tenant_id) when the
job is the tenant's own; each progress move posts to every connection of that job and tenant; a
gone connection is deleted.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from synthos.aws.clients import client_at
from synthos.aws.settings import Settings
from synthos.aws.tables import ConnectionModel, JobModel
from synthos.errors import SynthosError

CONNECTION_TTL_S = 2 * 3600


def _context(event: dict[str, Any]) -> tuple[str, str | None]:
    ctx = event.get("requestContext") or {}
    tenant = (ctx.get("authorizer") or {}).get("tenant_id")
    return str(ctx.get("connectionId") or ""), tenant


def _policy(principal_id: str, effect: str, resource: str,
            context: dict[str, str]) -> dict[str, Any]:
    return {"principalId": principal_id, "context": context, "policyDocument": {
        "Version": "2012-10-17", "Statement": [{
            "Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}}


def authorize(settings: Settings, event: dict[str, Any]) -> dict[str, Any]:
    """``$connect`` REQUEST authorizer: Allow with ``{"tenant_id"}`` in the context for a valid
    access token or API key in ``?token=``, Deny otherwise (never an exception)."""
    from synthos.api.api_keys import KEY_PREFIX
    from synthos.api.auth import authenticate

    token = str((event.get("queryStringParameters") or {}).get("token") or "")
    resource = str(event.get("methodArn", "*"))
    headers = {"x-api-key": token} if token.startswith(KEY_PREFIX) else \
        {"authorization": f"Bearer {token}"}
    try:
        principal = authenticate(settings, headers)
    except SynthosError:
        return _policy("anonymous", "Deny", resource, {})
    return _policy(principal.user_id, "Allow", resource, {"tenant_id": principal.tenant_id})


def connect(settings: Settings, event: dict[str, Any]) -> dict[str, Any]:
    """``$connect``: subscribe the connection to one of its tenant's jobs (403 otherwise:
    another tenant's job looks exactly like a missing one)."""
    del settings  # the tables are bound at the edge
    connection_id, tenant = _context(event)
    job_id = (event.get("queryStringParameters") or {}).get("job_id")
    if not (connection_id and tenant and job_id):
        return {"statusCode": 403, "body": "connect with ?job_id= and an authorized tenant"}
    try:
        JobModel.get(tenant, job_id)
    except DoesNotExist:
        return {"statusCode": 403, "body": f"no job {job_id}"}
    ConnectionModel(job_id, connection_id, tenant_id=tenant,
                    expires=timedelta(seconds=CONNECTION_TTL_S)).save()
    return {"statusCode": 200}


def disconnect(settings: Settings, event: dict[str, Any]) -> dict[str, Any]:
    """``$disconnect``: forget the connection wherever it was subscribed (its items, found
    through the ``by_connection`` index; TTL removes any the index had not caught up with)."""
    del settings
    connection_id, _ = _context(event)
    if not connection_id:
        return {"statusCode": 200}
    for conn in ConnectionModel.by_connection.query(connection_id):
        conn.delete()
    return {"statusCode": 200}


def push(settings: Settings, tenant_id: str, job_id: str, message: dict[str, Any]) -> int:
    """Post ``message`` to the job's subscribers of this tenant; returns how many got it."""
    if not settings.websocket_endpoint:
        return 0
    api = client_at("apigatewaymanagementapi", settings, settings.websocket_endpoint)
    sent = 0
    for conn in ConnectionModel.query(job_id, filter_condition=ConnectionModel.tenant_id
                                      == tenant_id):
        try:
            api.post_to_connection(ConnectionId=conn.connection_id,
                                   Data=json.dumps(message, default=str).encode())
            sent += 1
        except api.exceptions.GoneException:
            conn.delete()
    return sent
