"""WebSocket $connect REQUEST authorizer: Allow (tenant in the context) or Deny."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.runtime import lambda_handler, logger, metrics, settings
from synthos.pipeline.websocket import authorize


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> Any:
    out = authorize(settings(), event)
    metrics.add_metric(name="WsAuthorizations", unit=MetricUnit.Count, value=1)
    logger.info("ws_authorize done", extra={"job_id": event.get("job_id")})
    return out
