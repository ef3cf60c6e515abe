"""WebSocket $connect: subscribe the connection to one of its tenant's jobs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.runtime import lambda_handler, logger, metrics, settings
from synthos.pipeline.websocket import connect


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> Any:
    out = connect(settings(), event)
    metrics.add_metric(name="WsConnects", unit=MetricUnit.Count, value=1)
    logger.info("ws_connect done", extra={"job_id": event.get("job_id")})
    return out
