"""A validation started by the API (``workflow.start_job``) and a retried CompleteJob."""

from __future__ import annotations

from synthos.aws.tables import JobModel
from synthos.aws.workflow import start_job
from synthos.local.moto_glue import LambdaContext
from synthos.local.pipeline_stack import wait_for
from tests.pipeline.conftest import DATA, FAST_OPTIONS, Pipeline, seed_dataset

TENANT = "acme"


def test_api_started_job_completes_and_complete_is_idempotent(pipeline: Pipeline) -> None:
    # GIVEN a ready dataset and a queued job, as POST /validations leaves them
    ds = seed_dataset(pipeline.settings, TENANT, "ds1", "synthetic.parquet", status="ready")
    pipeline.put(ds.s3_key, (DATA / "breast_cancer_synthetic_healthy.parquet").read_bytes())
    pipeline.wait_all()  # the upload itself starts nothing (no auto_validation)
    JobModel(TENANT, "val_1", dataset_id="ds1", options=FAST_OPTIONS, trigger="api").save()
    # WHEN the API starts the workflow
    arn = start_job(pipeline.settings, TENANT, "val_1")
    run = wait_for(pipeline.settings, arn)
    # THEN it completes reference-free, with the execution recorded on the job
    assert run["status"] == "SUCCEEDED"
    job = JobModel.get(TENANT, "val_1")
    assert (job.status, job.execution_arn, job.reference_id) == ("completed", arn, None)
    completed = [e for e in pipeline.events() if e["detail-type"] == "Synthos Job Completed"]
    assert len(completed) == 1
    # AND a retried CompleteJob (same input) answers as the first did and emits nothing new
    from functions.complete_job import handler

    again = handler({"tenant_id": TENANT, "job_id": "val_1"},
                    LambdaContext(function_name="CompleteJob"))
    assert again == {"tenant_id": TENANT, "job_id": "val_1", "status": "completed",
                     "risk_level": job.risk_level}
    assert pipeline.events() == []
