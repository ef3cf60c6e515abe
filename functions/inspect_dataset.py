"""Step Functions task: inspect the dataset (format, rows, SHA-256) and choose small or large."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.inspect import inspect_dataset
from synthos.pipeline.runtime import pipeline_step


@pipeline_step("DatasetsInspected")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return inspect_dataset(settings, event)
