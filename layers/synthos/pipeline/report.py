"""Report: the PDF of the stored result (``synthos.report``) next to it in S3."""

from __future__ import annotations

import io
from typing import Any

from synthos.aws.clients import client
from synthos.aws.keys import report_key
from synthos.aws.settings import Settings
from synthos.jobs import JobStatus
from synthos.pipeline.progress import move
from synthos.pipeline.results import read_result
from synthos.report import render_report


def render(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    tenant, job_id = state["tenant_id"], state["job_id"]
    move(settings, tenant, job_id, JobStatus.REPORTING, progress=0.9)
    result = read_result(settings, tenant, job_id)
    buffer = io.BytesIO()
    render_report(result, buffer)
    client("s3", settings).put_object(Bucket=settings.bucket, Key=report_key(tenant, job_id),
                                      Body=buffer.getvalue(), ContentType="application/pdf")
    return {"tenant_id": tenant, "job_id": job_id}
