"""Scheduled: abort and delete uploads never completed, and mark their datasets."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.runtime import idempotent_on, lambda_handler, logger, metrics, settings
from synthos.pipeline.schedules.cleanup import cleanup


@lambda_handler
@idempotent_on("id")
def handler(event: dict[str, Any], context: Any) -> Any:
    out = cleanup(settings(), event)
    metrics.add_metric(name="UploadCleanupRuns", unit=MetricUnit.Count, value=1)
    logger.info("cleanup_uploads done", extra={"job_id": event.get("job_id")})
    return out
