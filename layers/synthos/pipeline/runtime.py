"""What every handler in ``functions/`` shares: Powertools Logger/Metrics/Tracer, settings read
once per invocation at the edge, a count metric and a log line per step, and Powertools
idempotency on the idempotency table where an event may be delivered twice.

    from synthos.pipeline.runtime import pipeline_step

    @pipeline_step("JobsClaimed")
    def handler(settings, event):
        return claim.claim_job(settings, event)
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


Step = Callable[[Settings, dict[str, Any]], Any]


def pipeline_step(metric: str, *, idempotency_key: str | None = None,
                  expires_s: int = 3600) -> Callable[[Step], Handler]:
    """A Lambda handler around ``step(settings, event)``: settings read once, ``metric`` counted
    and ``<module> done`` logged after it returns; with ``idempotency_key`` (a JMESPath of the
    event) a redelivered event gets the first invocation's result instead of running again."""

    def decorate(step: Step) -> Handler:
        name = step.__module__.rsplit(".", 1)[-1]

        @functools.wraps(step)
        def run(event: dict[str, Any], context: Any) -> Any:
            current = settings()

            @functools.wraps(step)  # the idempotency records are keyed on its module.qualname
            def once(event: dict[str, Any], context: Any) -> Any:
                out = step(current, event)
                metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
                logger.info(f"{name} done", extra={"job_id": event.get("job_id")})
                return out

            if idempotency_key is None:
                return once(event, context)
            return _idempotent(current, idempotency_key, expires_s)(once)(event, context)

        return lambda_handler(run)

    return decorate


def _idempotent(current: Settings, key_jmespath: str, expires_s: int) -> Callable[[Handler], Any]:
    store = DynamoDBPersistenceLayer(table_name=current.table_name("idempotency"),
                                     boto3_client=client("dynamodb", current))
    config = IdempotencyConfig(event_key_jmespath=key_jmespath, expires_after_seconds=expires_s,
                               raise_on_no_idempotency_key=True)
    return idempotent(persistence_store=store, config=config)
