"""Step Functions task: render the PDF report of the stored result."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.report import render
from synthos.pipeline.runtime import pipeline_step


@pipeline_step("ReportsRendered")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return render(settings, event)
