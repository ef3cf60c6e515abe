"""Step Functions task: inspect the dataset (format, rows, SHA-256) and choose small or large."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.inspect import inspect_dataset
from synthos.pipeline.runtime import lambda_handler, logger, metrics, settings


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> Any:
    out = inspect_dataset(settings(), event)
    metrics.add_metric(name="DatasetsInspected", unit=MetricUnit.Count, value=1)
    logger.info("inspect_dataset done", extra={"job_id": event.get("job_id")})
    return out
