"""Scheduled: active warranties past their expiry become expired."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.runtime import idempotent_on, lambda_handler, logger, metrics, settings
from synthos.pipeline.schedules.warranties import expire


@lambda_handler
@idempotent_on("id")
def handler(event: dict[str, Any], context: Any) -> Any:
    out = expire(settings(), event)
    metrics.add_metric(name="WarrantyExpiryRuns", unit=MetricUnit.Count, value=1)
    logger.info("expire_warranties done", extra={"job_id": event.get("job_id")})
    return out
