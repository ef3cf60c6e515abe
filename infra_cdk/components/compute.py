"""Lambda functions, made one way: Python 3.12 on x86_64, X-Ray tracing, a log group with the
stage's retention, Powertools settings, and the code packaging of ``infra_cdk.packaging`` (zip
+ layers, or the engine image)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra_cdk.config import StageConfig
from infra_cdk.definition import FUNCTION_SIZING
from infra_cdk.packaging import (
    IMAGE_EXCLUDES,
    LAMBDA_DOCKERFILE,
    ZIP_FUNCTIONS,
    AssetPaths,
)

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64
DEFAULT_SIZING = (512, 60)  # MiB, seconds


def dead_letter_queue(scope: Construct, id: str) -> sqs.Queue:
    """An encrypted, TLS-only queue that keeps failed events 14 days."""
    return sqs.Queue(scope, id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                     retention_period=Duration.days(14))


class LambdaFactory(Construct):
    """The two layers, the zip code asset, the image asset, and :meth:`function`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig,
                 assets: AssetPaths) -> None:
        super().__init__(scope, id)
        self._config = config
        self._assets = assets
        self.synthos_layer = lambda_.LayerVersion(
            self, "SynthosLayer", code=lambda_.Code.from_asset(str(assets.synthos_layer)),
            compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
            description="the synthos library")
        self.base_layer = lambda_.LayerVersion(
            self, "BaseLayer", code=lambda_.Code.from_asset(str(assets.base_layer)),
            compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
            description="pydantic, pynamodb, pyjwt, argon2, powertools, cryptography")
        self._zip_code = lambda_.Code.from_asset(str(assets.functions_code))
        self.async_dlq = dead_letter_queue(self, "AsyncDlq")
        self.functions: dict[str, lambda_.Function] = {}

    def function(self, name: str, handler: str, environment: dict[str, str], *,
                 asynchronous: bool = False, sizing: tuple[int, int] | None = None
                 ) -> lambda_.Function:
        """One function; ``asynchronous`` ones (schedule targets) get the async DLQ."""
        memory, timeout = sizing or FUNCTION_SIZING.get(name, DEFAULT_SIZING)
        log_group = logs.LogGroup(self, f"{name}Logs", retention=self._config.log_retention,
                                  removal_policy=self._config.removal_policy)
        common = dict(
            function_name=f"{self._config.prefix}-{name}", memory_size=memory,
            timeout=Duration.seconds(timeout), architecture=ARCHITECTURE,
            tracing=lambda_.Tracing.ACTIVE, log_group=log_group,
            environment={**environment, "POWERTOOLS_SERVICE_NAME": name,
                         "POWERTOOLS_METRICS_NAMESPACE": "Synthos"},
            dead_letter_queue=self.async_dlq if asynchronous else None,
            retry_attempts=2 if asynchronous else None)
        fn: lambda_.Function
        if name in ZIP_FUNCTIONS:
            fn = lambda_.Function(self, name, runtime=RUNTIME, handler=handler,
                                  code=self._zip_code,
                                  layers=[self.synthos_layer, self.base_layer], **common)
        else:
            fn = lambda_.DockerImageFunction(
                self, name, code=lambda_.DockerImageCode.from_image_asset(
                    str(self._assets.docker_context), file=LAMBDA_DOCKERFILE, cmd=[handler],
                    exclude=list(IMAGE_EXCLUDES), platform=ecr_assets.Platform.LINUX_AMD64),
                **common)
        self.functions[name] = fn
        return fn
