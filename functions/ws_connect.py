"""WebSocket $connect: subscribe the connection to one of its tenant's jobs."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.websocket import connect


@pipeline_step("WsConnects")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return connect(settings, event)
