"""What goes wrong, and what the owner sees: a malformed file, a re-delivered event."""

from __future__ import annotations

import pytest

from synthos.aws.tables import DatasetModel, JobModel
from synthos.local.pipeline_stack import wait_for
from tests.pipeline.conftest import (
    DATA,
    FAST_OPTIONS,
    Pipeline,
    load_event,
    object_created,
    seed_dataset,
    start,
)

TENANT = "acme"


def test_malformed_file_fails_job_with_reason_and_keeps_upload(pipeline: Pipeline) -> None:
    # GIVEN an upload (auto-validation, no reference) whose bytes are not Parquet at all
    ds = seed_dataset(pipeline.settings, TENANT, "bad1", "broken.parquet",
                      auto_validation={"reference_id": None, "options": FAST_OPTIONS})
    garbage = b"PAR1" + b"\x00\x13not really parquet" * 50
    version = pipeline.put(ds.s3_key, garbage)
    # WHEN the state machine has run on it
    (run,) = pipeline.wait_all()
    # THEN the execution ends in the Fail state, the job failed with a readable reason
    assert run["status"] == "FAILED"
    (job,) = JobModel.query(TENANT)
    assert job.status == "failed"
    assert "broken.parquet" in job.reason and "Traceback" not in job.reason
    # AND the dataset is marked failed with the same reason; the upload is untouched
    dataset = DatasetModel.get(TENANT, "bad1")
    assert dataset.status == "failed" and dataset.reason == job.reason
    obj = pipeline.s3().get_object(Bucket=pipeline.settings.bucket, Key=ds.s3_key)
    assert obj["Body"].read() == garbage and obj["VersionId"] == version
    # AND nothing was published as a result
    assert pipeline.keys(f"results/{TENANT}/") == []
    failed = [e for e in pipeline.events() if e["detail-type"] == "Synthos Job Failed"]
    assert [e["detail"]["reason"] for e in failed] == [job.reason]


def test_redelivered_event_creates_no_second_job(pipeline: Pipeline) -> None:
    # GIVEN an upload that ran to completion
    seed_dataset(pipeline.settings, TENANT, "ds1", "synthetic.parquet",
                 auto_validation={"reference_id": None, "options": FAST_OPTIONS})
    key = "uploads/acme/ds1/synthetic.parquet"
    version = pipeline.put(key, (DATA / "breast_cancer_synthetic_collapsed.parquet").read_bytes())
    (first,) = pipeline.wait_all()
    assert first["status"] == "SUCCEEDED"
    # WHEN EventBridge delivers the same object version's event again (a new execution)
    arn = start(pipeline, "redelivery-1", object_created(pipeline, key, version))
    again = wait_for(pipeline.settings, arn)
    # THEN the execution succeeds by skipping: still one job, inspected once
    assert again["status"] == "SUCCEEDED"
    assert '"claimed": false' in again["output"] and "duplicate event" in again["output"]
    assert [j.status for j in JobModel.query(TENANT)] == ["completed"]
    assert pipeline.glue.invocations.count("InspectDataset") == 1


def test_unknown_start_event_fails_without_a_job(pipeline: Pipeline) -> None:
    # GIVEN an input that is neither an API start nor an S3 event
    event = load_event("batch_job_state_change")
    # WHEN it starts the state machine
    run = wait_for(pipeline.settings, start(pipeline, "stray-1", event))
    # THEN the claim fails, FailJob finds no job to fail, and no job exists
    assert run["status"] == "FAILED"
    assert list(JobModel.query(TENANT)) == []
    assert pipeline.glue.invocations == ["ClaimJob", "FailJob"]


@pytest.mark.parametrize("flaky_handler", ["render_report_flaky_once",
                                           "render_report_flaky_after_move"])
def test_transient_error_is_retried_and_the_job_completes(pipeline: Pipeline,
                                                          flaky_handler: str) -> None:
    from tests.pipeline import flaky

    # GIVEN a RenderReport that fails once with TransientError, before it moved the job or
    # after it moved the job to reporting (so the retry re-enters the job's current state)
    flaky.CALLS.clear()
    pipeline.glue.functions["RenderReport"] = f"tests.pipeline.flaky.{flaky_handler}"
    seed_dataset(pipeline.settings, TENANT, "ds1", "synthetic.parquet",
                 auto_validation={"reference_id": None, "options": FAST_OPTIONS})
    pipeline.put("uploads/acme/ds1/synthetic.parquet",
                 (DATA / "breast_cancer_synthetic_collapsed.parquet").read_bytes())
    # WHEN the pipeline runs
    (run,) = pipeline.wait_all()
    # THEN the state machine retried it and the job completed
    assert run["status"] == "SUCCEEDED"
    assert len(flaky.CALLS) == 2
    assert [j.status for j in JobModel.query(TENANT)] == ["completed"]


def test_fail_job_on_a_cancelled_job_removes_partial_outputs(pipeline: Pipeline) -> None:
    from synthos.aws.keys import result_key, shard_state_key
    from synthos.local.moto_glue import LambdaContext

    # GIVEN a job cancelled while its partial result and a shard state were in S3
    JobModel(TENANT, "val_c", dataset_id="ds1", status="cancelled", stage="cancelled").save()
    pipeline.put(result_key(TENANT, "val_c"), b"{}")
    pipeline.put(shard_state_key(TENANT, "val_c", 0), b"state")
    event = load_event("sfn_task_fail_job_lambda_error") | {"job_id": "val_c"}
    # WHEN the late step's Catch runs FailJob
    from functions.fail_job import handler

    out = handler(event, LambdaContext(function_name="FailJob"))
    # THEN the job stays cancelled and nothing partial is left
    assert out["failed"] is False
    assert JobModel.get(TENANT, "val_c").status == "cancelled"
    assert pipeline.keys(f"results/{TENANT}/") == [] and pipeline.keys(f"shards/{TENANT}/") == []


def test_a_dataset_deleted_mid_run_fails_the_job_and_leaves_no_result(
        pipeline: Pipeline) -> None:
    from tests.pipeline import flaky

    # GIVEN a run whose dataset is deleted after validation, just before CompleteJob
    flaky.CALLS.clear()
    pipeline.glue.functions["CompleteJob"] = "tests.pipeline.flaky.complete_after_dataset_deleted"
    seed_dataset(pipeline.settings, TENANT, "ds1", "synthetic.parquet",
                 auto_validation={"reference_id": None, "options": FAST_OPTIONS})
    pipeline.put("uploads/acme/ds1/synthetic.parquet",
                 (DATA / "breast_cancer_synthetic_collapsed.parquet").read_bytes())
    # WHEN the pipeline runs
    (run,) = pipeline.wait_all()
    # THEN the job is failed with the reason, and nothing derived from the dataset is kept
    (job,) = JobModel.query(TENANT)
    assert run["status"] == "FAILED" and [job.job_id] == flaky.CALLS
    assert job.status == "failed" and "deleted" in job.reason
    assert job.result_key is None
    assert pipeline.keys(f"results/{TENANT}/") == []
