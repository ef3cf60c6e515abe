"""The REST API (the Chalice app ``app.py`` behind an API Gateway REST API, Lambda proxy) with
stage throttling, a usage plan, JSON access logs and gateway responses (what API Gateway
answers itself, in the API's one error shape with its security headers); and the WebSocket API
whose connect and
disconnect routes go to the pipeline's ``ws_*`` functions (a client subscribes to one job's
progress by connecting with ``?job_id=...&token=...``; a Lambda REQUEST authorizer on
``$connect`` puts the caller's ``tenant_id`` into the request context when FUNCTIONS has
``WsAuthorize``; progress is pushed through the management API).

``chalice.cdk`` is not used: it runs ``chalice package`` at synth time, which resolves and
downloads the app's dependencies (network). As ``chalice package`` does, the REST API declares
one resource and method per Chalice route (taken from the published OpenAPI document,
``docs/openapi.json``, which a test keeps equal to the app's routes), plus the CORS preflight
``OPTIONS`` the app answers on every path: Chalice dispatches on the request's
``resourcePath``, so a catch-all ``{proxy+}`` resource would reach no route (405 for all).
Unknown paths are answered by API Gateway itself (MISSING_AUTHENTICATION_TOKEN, mapped to our
404 below). Plus throttling, a usage plan, logs and gateway responses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra_cdk.config import StageConfig
from synthos.api.headers import SECURITY_HEADERS

REST_STAGE = "api"
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def chalice_routes(document: Path = OPENAPI) -> dict[str, list[str]]:
    """Path -> methods of every route of the app (OpenAPI document), ``OPTIONS`` included:
    the app answers CORS preflights on every path."""
    paths = json.loads(document.read_text())["paths"]
    return {path: [m for m in HTTP_METHODS if m.lower() in ops] + ["OPTIONS"]
            for path, ops in sorted(paths.items())}
WS_STAGE = "ws"
TOKEN_SOURCE = "route.request.querystring.token"  # wss://.../ws?job_id=...&token=...
GATEWAY_MESSAGE = "$context.error.messageString"  # already a quoted, escaped JSON string
GATEWAY_REQUEST_ID = "$context.requestId"
THROTTLE_RETRY_AFTER = "1"  # seconds; the stage refills at least this fast


@dataclass(frozen=True)
class GatewayAnswer:
    """One gateway response: ``status`` None keeps API Gateway's own status (the DEFAULT_
    types cover several); ``message`` None passes API Gateway's message (safe: it names only
    the refusal); ``response_type`` adds ``details.response_type`` (which refusal it was)."""

    type: apigw.ResponseType
    status: str | None
    code: str
    message: str | None
    headers: tuple[tuple[str, str], ...] = ()
    response_type: bool = False


GATEWAY_ANSWERS = (
    GatewayAnswer(apigw.ResponseType.DEFAULT_4_XX, None, "bad_request", None,
                  response_type=True),
    GatewayAnswer(apigw.ResponseType.DEFAULT_5_XX, None, "internal_error",
                  "an internal error occurred"),
    GatewayAnswer(apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, "404", "not_found",
                  "no such route"),
    GatewayAnswer(apigw.ResponseType.THROTTLED, "429", "rate_limited",
                  f"too many requests; retry in {THROTTLE_RETRY_AFTER} s",
                  headers=(("Retry-After", THROTTLE_RETRY_AFTER),)),
    GatewayAnswer(apigw.ResponseType.REQUEST_TOO_LARGE, "413", "request_too_large", None),
    GatewayAnswer(apigw.ResponseType.INTEGRATION_TIMEOUT, "504", "gateway_timeout",
                  "the request took too long; retry later"),
)


def gateway_template(answer: GatewayAnswer) -> str:
    """The ``application/json`` body: ``{"error": {"code", "message", "details"}}`` with the
    request id (a gateway template is plain ``$context`` substitution, not VTL)."""
    marker = "@@gateway-message@@"  # stands for the message until it is swapped in below
    details = {"request_id": GATEWAY_REQUEST_ID}
    if answer.response_type:
        details["response_type"] = "$context.error.responseType"
    body = json.dumps({"error": {"code": answer.code, "message": answer.message or marker,
                                 "details": details}})
    return body.replace(json.dumps(marker), GATEWAY_MESSAGE) if answer.message is None else body


def gateway_headers(answer: GatewayAnswer) -> dict[str, str]:
    """Static header values, each enclosed in single quotes as API Gateway requires (the
    value between them is taken literally, inner quotes included)."""
    return {name: f"'{value}'" for name, value in (*SECURITY_HEADERS.items(), *answer.headers)}


class RestApi(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig,
                 handler: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        access_logs = logs.LogGroup(self, "AccessLogs", retention=config.log_retention,
                                    removal_policy=config.removal_policy)
        self.api = apigw.LambdaRestApi(
            self, "Rest", handler=handler, proxy=False, rest_api_name=f"{config.prefix}-api",
            integration_options=apigw.LambdaIntegrationOptions(allow_test_invoke=False),
            endpoint_types=[apigw.EndpointType.REGIONAL], cloud_watch_role=True,
            binary_media_types=["application/pdf", "application/octet-stream"],
            deploy_options=apigw.StageOptions(
                stage_name=REST_STAGE, tracing_enabled=True, metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR, data_trace_enabled=False,
                throttling_rate_limit=config.api_rate_limit,
                throttling_burst_limit=config.api_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True,
                    request_time=True, resource_path=True, response_length=True,
                    status=True, user=False)))
        for path, methods in chalice_routes().items():
            resource = self.api.root.resource_for_path(path)
            for method in methods:
                resource.add_method(method)
        self.usage_plan = self.api.add_usage_plan(
            "UsagePlan", name=f"{config.prefix}-default",
            description="stage-wide throttle and daily quota; per-tenant rate limits and "
                        "monthly quotas are enforced by the app (rate_limits table)",
            throttle=apigw.ThrottleSettings(rate_limit=config.api_rate_limit,
                                            burst_limit=config.api_burst_limit),
            quota=apigw.QuotaSettings(limit=config.api_quota_per_day,
                                      period=apigw.Period.DAY),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api,
                                                   stage=self.api.deployment_stage)])
        for answer in GATEWAY_ANSWERS:
            self.api.add_gateway_response(
                f"Gateway{answer.type.response_type}", type=answer.type,
                status_code=answer.status, response_headers=gateway_headers(answer),
                templates={"application/json": gateway_template(answer)})


class WebSocketApi(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig,
                 connect: lambda_.IFunction, disconnect: lambda_.IFunction,
                 authorize: lambda_.IFunction | None = None) -> None:
        super().__init__(scope, id)
        authorizer = None if authorize is None else authorizers.WebSocketLambdaAuthorizer(
            "Authorizer", authorize, identity_source=[TOKEN_SOURCE])
        self.api = apigwv2.WebSocketApi(
            self, "Ws", api_name=f"{config.prefix}-progress",
            connect_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("Connect", connect),
                authorizer=authorizer),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("Disconnect", disconnect)))
        self.stage = apigwv2.WebSocketStage(
            self, "Stage", web_socket_api=self.api, stage_name=WS_STAGE, auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=config.api_rate_limit,
                                              burst_limit=config.api_burst_limit))
        access_logs = logs.LogGroup(self, "AccessLogs", retention=config.log_retention,
                                    removal_policy=config.removal_policy)
        cfn_stage = self.stage.node.default_child
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(  # type: ignore[union-attr]
            destination_arn=access_logs.log_group_arn,
            format='{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
                   '"route":"$context.routeKey","status":"$context.status",'
                   '"connectionId":"$context.connectionId"}')

    @property
    def callback_url(self) -> str:
        """``https://{id}.execute-api.{region}.amazonaws.com/ws``: the management endpoint."""
        return self.stage.callback_url

    def connections_arn(self) -> str:
        """What ``execute-api:ManageConnections`` is granted on: this stage's connections."""
        return Stack.of(self).format_arn(
            service="execute-api", resource=self.api.api_id,
            resource_name=f"{WS_STAGE}/POST/@connections/*")
