"""Step Functions task: render the PDF report of the stored result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.report import render
from synthos.pipeline.runtime import lambda_handler, logger, metrics, settings


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> Any:
    out = render(settings(), event)
    metrics.add_metric(name="ReportsRendered", unit=MetricUnit.Count, value=1)
    logger.info("render_report done", extra={"job_id": event.get("job_id")})
    return out
