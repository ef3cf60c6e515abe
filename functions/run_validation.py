"""Step Functions task: the small path, the whole validation in this Lambda."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.runtime import lambda_handler, logger, metrics, settings
from synthos.pipeline.validate_small import run_validation


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> Any:
    out = run_validation(settings(), event)
    metrics.add_metric(name="SmallValidations", unit=MetricUnit.Count, value=1)
    logger.info("run_validation done", extra={"job_id": event.get("job_id")})
    return out
