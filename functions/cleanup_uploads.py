"""Scheduled: abort and delete uploads never completed, and mark their datasets."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.schedules.cleanup import cleanup


@pipeline_step("UploadCleanupRuns", idempotency_key="id")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return cleanup(settings, event)
