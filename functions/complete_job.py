"""Step Functions task: complete the job, publish its results, notify (idempotent per job:
a retried invocation returns the first one's answer)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.complete import complete
from synthos.pipeline.runtime import idempotent_on, lambda_handler, logger, metrics, settings


@lambda_handler
@idempotent_on("[tenant_id, job_id]")
def handler(event: dict[str, Any], context: Any) -> Any:
    out = complete(settings(), event)
    metrics.add_metric(name="JobsCompleted", unit=MetricUnit.Count, value=1)
    logger.info("complete_job done", extra={"job_id": event.get("job_id")})
    return out
