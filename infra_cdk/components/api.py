"""The REST API (the Chalice app ``app.py`` behind an API Gateway REST API, Lambda proxy) with
stage throttling, a usage plan and JSON access logs; and the WebSocket API whose connect and
disconnect routes go to the pipeline's ``ws_*`` functions (a client subscribes to one job's
progress by connecting with ``?job_id=...&token=...``; a Lambda REQUEST authorizer on
``$connect`` puts the caller's ``tenant_id`` into the request context when FUNCTIONS has
``WsAuthorize``; progress is pushed through the management API).

``chalice.cdk`` is not used: it runs ``chalice package`` at synth time, which resolves and
downloads the app's dependencies (network) and cannot express the container-image packaging
the API needs (docs/deploy.md). The resources here are what it would create, plus throttling,
a usage plan and logs.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra_cdk.config import StageConfig

REST_STAGE = "api"
WS_STAGE = "ws"
TOKEN_SOURCE = "route.request.querystring.token"  # wss://.../ws?job_id=...&token=...


class RestApi(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig,
                 handler: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        access_logs = logs.LogGroup(self, "AccessLogs", retention=config.log_retention,
                                    removal_policy=config.removal_policy)
        self.api = apigw.LambdaRestApi(
            self, "Rest", handler=handler, proxy=True, rest_api_name=f"{config.prefix}-api",
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
