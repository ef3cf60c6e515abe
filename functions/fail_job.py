"""Step Functions task (the Catch of every state): the job fails with a readable reason."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.fail import fail_job
from synthos.pipeline.runtime import lambda_handler, logger, metrics, settings


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> Any:
    out = fail_job(settings(), event)
    metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=1)
    logger.info("fail_job done", extra={"job_id": event.get("job_id")})
    return out
