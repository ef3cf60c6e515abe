"""Step Functions task: the small path, the whole validation in this Lambda."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.validate_small import run_validation


@pipeline_step("SmallValidations")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return run_validation(settings, event)
