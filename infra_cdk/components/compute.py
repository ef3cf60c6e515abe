"""Lambda functions, made one way: zip functions on Python 3.12 and x86_64 with one code asset
and the two layers ``infra_cdk.packaging.layers_of`` names (synthos + base, or synthos +
numeric), X-Ray tracing, a log group with the stage's retention, Powertools settings."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra_cdk.config import StageConfig
from infra_cdk.definition import FUNCTION_SIZING
from infra_cdk.packaging import AssetPaths, layers_of

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64
DEFAULT_SIZING = (512, 60)  # MiB, seconds


def dead_letter_queue(scope: Construct, id: str) -> sqs.Queue:
    """An encrypted, TLS-only queue that keeps failed events 14 days."""
    return sqs.Queue(scope, id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                     retention_period=Duration.days(14))


class LambdaFactory(Construct):
    """The three layers, the code asset, and :meth:`function`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig,
                 assets: AssetPaths) -> None:
        super().__init__(scope, id)
        self._config = config
        self.layers = {
            "synthos": self._layer("SynthosLayer", assets.synthos_layer, "the synthos library"),
            "base": self._layer("BaseLayer", assets.base_layer,
                                "pydantic, pynamodb, pyjwt, argon2, powertools, cryptography"),
            "numeric": self._layer("NumericLayer", assets.numeric_layer,
                                   "numpy, scipy.special, pyarrow, datasketches, reportlab "
                                   "and the base layer's packages"),
        }
        self._zip_code = lambda_.Code.from_asset(str(assets.functions_code))
        self.async_dlq = dead_letter_queue(self, "AsyncDlq")
        self.functions: dict[str, lambda_.Function] = {}

    def _layer(self, id: str, path: Path, description: str) -> lambda_.LayerVersion:
        return lambda_.LayerVersion(
            self, id, code=lambda_.Code.from_asset(str(path)), compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE], description=description)

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
        fn = lambda_.Function(self, name, runtime=RUNTIME, handler=handler, code=self._zip_code,
                              layers=[self.layers[layer] for layer in layers_of(name)],
                              **common)
        self.functions[name] = fn
        return fn
