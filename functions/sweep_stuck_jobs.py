"""Scheduled: retry once, or fail with a reason, the jobs stuck past their deadline."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.runtime import idempotent_on, lambda_handler, logger, metrics, settings
from synthos.pipeline.schedules.sweeper import sweep


@lambda_handler
@idempotent_on("id")
def handler(event: dict[str, Any], context: Any) -> Any:
    out = sweep(settings(), event)
    metrics.add_metric(name="SweeperRuns", unit=MetricUnit.Count, value=1)
    logger.info("sweep_stuck_jobs done", extra={"job_id": event.get("job_id")})
    return out
