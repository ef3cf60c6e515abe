"""What every handler in ``functions/`` shares: Powertools Logger/Metrics/Tracer, settings read
once per invocation at the edge, and Powertools idempotency on the idempotency table.

    from synthos.pipeline.runtime import lambda_handler, settings

    @lambda_handler
    def handler(event, context):
        return claim.claim_job(settings(), event)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent,
)

from synthos.aws.clients import client
from synthos.aws.settings import Settings
from synthos.aws.tables import bind
from synthos.aws.telemetry import emf_metrics

SERVICE = "synthos-pipeline"
logger = Logger(service=SERVICE)
metrics = emf_metrics("Synthos", SERVICE)  # cleared on flush when metrics are disabled
tracer = Tracer(service=SERVICE)

Handler = Callable[[dict[str, Any], Any], Any]


def settings() -> Settings:
    """Settings from the environment, with every table model bound to them."""
    current = Settings.from_env()
    bind(current)
    return current


def lambda_handler(fn: Handler) -> Handler:
    """Logger context, X-Ray capture and metrics flush around a handler (every invocation
    counts one ``Invocations``, so a failing one still publishes a metric)."""

    @functools.wraps(fn)
    def counted(event: dict[str, Any], context: Any) -> Any:
        metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
        return fn(event, context)

    wrapped = logger.inject_lambda_context(log_event=False)(
        tracer.capture_lambda_handler(metrics.log_metrics(counted)))
    return functools.wraps(fn)(wrapped)


def idempotent_on(key_jmespath: str, expires_s: int = 3600) -> Callable[[Handler], Handler]:
    """Powertools idempotency keyed on ``key_jmespath`` of the event (a redelivered event gets
    the first invocation's result instead of running again)."""

    def decorate(fn: Handler) -> Handler:
        @functools.wraps(fn)
        def run(event: dict[str, Any], context: Any) -> Any:
            current = settings()
            store = DynamoDBPersistenceLayer(
                table_name=current.table_name("idempotency"),
                boto3_client=client("dynamodb", current))
            config = IdempotencyConfig(event_key_jmespath=key_jmespath,
                                       expires_after_seconds=expires_s,
                                       raise_on_no_idempotency_key=True)
            return idempotent(persistence_store=store, config=config)(fn)(event, context)

        return run

    return decorate
