"""WebSocket $connect REQUEST authorizer: Allow (tenant in the context) or Deny."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.websocket import authorize


@pipeline_step("WsAuthorizations")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return authorize(settings, event)
