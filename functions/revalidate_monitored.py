"""Scheduled (nightly): re-validate every dataset marked as monitored."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.runtime import idempotent_on, lambda_handler, logger, metrics, settings
from synthos.pipeline.schedules.revalidate import revalidate


@lambda_handler
@idempotent_on("id")
def handler(event: dict[str, Any], context: Any) -> Any:
    out = revalidate(settings(), event)
    metrics.add_metric(name="RevalidationRuns", unit=MetricUnit.Count, value=1)
    logger.info("revalidate_monitored done", extra={"job_id": event.get("job_id")})
    return out
