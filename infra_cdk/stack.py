"""The Synthos stack of one stage: storage, secrets, functions, APIs, GPU Batch, the validation
pipeline, schedules and operations, wired with least-privilege grants (``access.py``)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, CfnOutput, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.access import ACCESS, Targets, grant, object_statement
from infra_cdk.components.api import RestApi, WebSocketApi
from infra_cdk.components.batch import GpuBatch
from infra_cdk.components.compute import LambdaFactory, dead_letter_queue
from infra_cdk.components.operations import Operations
from infra_cdk.components.pipeline import ValidationPipeline, state_machine_name
from infra_cdk.components.schedules import Schedules
from infra_cdk.components.secrets import Secrets
from infra_cdk.components.storage import Storage
from infra_cdk.config import StageConfig
from infra_cdk.definition import FUNCTIONS, SCHEDULES
from infra_cdk.nag import suppress
from infra_cdk.packaging import AssetPaths
from synthos.aws.settings import Settings

WS_FUNCTIONS = ("WsConnect", "WsDisconnect", "WsAuthorize")  # before the WebSocket API
API_HANDLER = "app.app"
API_SIZING = (1024, 29)  # MiB, seconds (API Gateway's integration timeout is 29 s)


class SynthosStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig,
                 assets: AssetPaths, **kwargs: object) -> None:
        super().__init__(scope, id, description=f"Synthos ({config.stage})",
                         **kwargs)  # type: ignore[arg-type]
        Tags.of(self).add("project", "synthos")
        Tags.of(self).add("stage", config.stage)
        self.config = config
        self.storage = Storage(self, "Storage", config=config)
        self.secrets = Secrets(self, "Secrets", config=config)
        self.factory = LambdaFactory(self, "Functions", config=config, assets=assets)
        self.rule_dlq = dead_letter_queue(self, "RuleDlq")
        api_fn = self._functions()
        fns = self.factory.functions
        self.gpu = GpuBatch(self, "Gpu", config=config, assets=assets,
                            environment=self._settings(websocket_endpoint=None).to_env())
        self.pipeline = ValidationPipeline(
            self, "Pipeline", config=config, functions=fns, gpu=self.gpu,
            bucket=self.storage.bucket, rule_dlq=self.rule_dlq)
        self.schedules = Schedules(self, "Schedules", config=config, functions=fns,
                                   dlq=self.rule_dlq)
        self.rest = RestApi(self, "Api", config=config, handler=api_fn)
        self._grants()
        self.operations = Operations(
            self, "Operations", config=config, api=self.rest.api,
            state_machine=self.pipeline.state_machine, functions=fns,
            queues={"AsyncDlq": self.factory.async_dlq, "RuleDlq": self.rule_dlq})
        self._outputs()
        suppress(self)

    def _functions(self) -> lambda_.Function:
        """The WebSocket functions and API first (the other functions' settings name its
        endpoint), then every other function of FUNCTIONS, then the REST API's; returns it."""
        settings = self._settings(websocket_endpoint=None)
        for name in WS_FUNCTIONS:
            if name in FUNCTIONS:
                self.factory.function(name, FUNCTIONS[name], settings.to_env())
        fns = self.factory.functions
        self.websocket = WebSocketApi(self, "Progress", config=self.config,
                                      connect=fns["WsConnect"], disconnect=fns["WsDisconnect"],
                                      authorize=fns.get("WsAuthorize"))
        env = self._settings(websocket_endpoint=self.websocket.callback_url).to_env()
        scheduled = {spec["function"] for spec in SCHEDULES.values()}
        for name, handler in FUNCTIONS.items():
            if name not in fns:
                self.factory.function(name, handler, env, asynchronous=name in scheduled)
        return self.factory.function("Api", API_HANDLER, env, sizing=API_SIZING)

    def state_machine_arn(self) -> str:
        """Built from the fixed name, so functions the definition references can hold it
        without a dependency cycle."""
        return self.format_arn(service="states", resource="stateMachine",
                               resource_name=state_machine_name(self.config),
                               arn_format=ArnFormat.COLON_RESOURCE_NAME)

    def _settings(self, websocket_endpoint: str | None) -> Settings:
        return Settings(
            stage=self.config.stage, region=Aws.REGION, bucket=self.storage.bucket.bucket_name,
            table_prefix=self.config.prefix, state_machine_arn=self.state_machine_arn(),
            jwt_secret_id=self.secrets.jwt.secret_name,
            signing_key_secret_id=self.secrets.signing_key.secret_name,
            cors_origins=self.config.cors_origins, websocket_endpoint=websocket_endpoint)

    def _grants(self) -> None:
        targets = Targets(
            storage=self.storage, state_machine_arn=self.state_machine_arn(),
            execution_arn_pattern=self.format_arn(
                service="states", resource="execution", arn_format=ArnFormat.COLON_RESOURCE_NAME,
                resource_name=f"{state_machine_name(self.config)}:*"),
            websocket_arn=self.websocket.connections_arn(),
            event_bus_arn=self.format_arn(service="events", resource="event-bus",
                                          resource_name="default"),
            jwt_secret=self.secrets.jwt, signing_key=self.secrets.signing_key)
        for name, fn in self.factory.functions.items():
            grant(fn, ACCESS[name], targets)
        self._gpu_grants()

    def _gpu_grants(self) -> None:
        bucket, role = self.storage.bucket, self.gpu.job_role
        role.add_to_principal_policy(object_statement(
            bucket, ("s3:GetObject", "s3:GetObjectVersion"),
            ("uploads/*", "dropbox/*", "shards/*")))
        role.add_to_principal_policy(object_statement(bucket, ("s3:PutObject",), ("shards/*",)))

    def _outputs(self) -> None:
        CfnOutput(self, "ApiUrl", value=self.rest.api.url)
        CfnOutput(self, "WebSocketUrl", value=self.websocket.stage.url)
        CfnOutput(self, "DataBucketName", value=self.storage.bucket.bucket_name)
        CfnOutput(self, "StateMachineArn", value=self.pipeline.state_machine.state_machine_arn)
        CfnOutput(self, "SigningKeySecret", value=self.secrets.signing_key.secret_name)
