"""The small path end to end: an upload with auto-validation starts the state machine through
EventBridge; one Lambda validates; the result, report and job record are complete."""

from __future__ import annotations

import hashlib
import json

import pyarrow.parquet as pq

from synthos.aws.keys import report_key, result_key
from synthos.aws.tables import DatasetModel, JobModel
from synthos.engine import ValidateOptions, validate
from tests.pipeline.conftest import DATA, FAST_OPTIONS, Pipeline, seed_dataset

TENANT = "acme"


def _upload_pair(pipeline: Pipeline) -> str:
    """Reference ready, synthetic uploaded with auto_validation; returns the upload's version."""
    s = pipeline.settings
    ref = seed_dataset(s, TENANT, "ref1", "reference.parquet", role="reference", status="ready")
    pipeline.put(ref.s3_key, (DATA / "breast_cancer_reference.parquet").read_bytes())
    ds = seed_dataset(s, TENANT, "ds1", "synthetic.parquet",
                      auto_validation={"reference_id": "ref1", "options": FAST_OPTIONS})
    return pipeline.put(ds.s3_key,
                        (DATA / "breast_cancer_synthetic_collapsed.parquet").read_bytes())


def test_upload_runs_small_path_to_completed(pipeline: Pipeline) -> None:
    # GIVEN a reference and an upload that asked for a validation
    _upload_pair(pipeline)
    # WHEN the upload's Object Created event has run the state machine
    runs = pipeline.wait_all()
    # THEN the reference upload was skipped by ClaimJob and the dataset one succeeded
    assert sorted(r["status"] for r in runs) == ["SUCCEEDED", "SUCCEEDED"], runs
    jobs = list(JobModel.query(TENANT))
    assert len(jobs) == 1
    job = jobs[0]
    assert (job.status, job.trigger, job.dataset_id, job.reference_id) == (
        "completed", "upload", "ds1", "ref1")
    assert job.result_key == result_key(TENANT, job.job_id)
    assert pipeline.keys(f"results/{TENANT}/") == sorted(
        [result_key(TENANT, job.job_id), report_key(TENANT, job.job_id)])
    # AND the result is the engine's on the same files and options
    expected = validate(DATA / "breast_cancer_synthetic_collapsed.parquet",
                        DATA / "breast_cancer_reference.parquet",
                        ValidateOptions(replicates=4, sample_rows=2000))
    assert job.collapse_risk == expected.collapse_risk
    assert job.risk_level == expected.risk_level
    # AND both datasets show what their files are (the reference inspected by its own event)
    for dataset_id, name in (("ds1", "breast_cancer_synthetic_collapsed.parquet"),
                             ("ref1", "breast_cancer_reference.parquet")):
        ds = DatasetModel.get(TENANT, dataset_id, consistent_read=True)
        meta = pq.ParquetFile(DATA / name).metadata
        assert (ds.status, int(ds.rows), int(ds.columns)) == ("ready", meta.num_rows,
                                                              meta.num_columns)
        assert ds.sha256 == hashlib.sha256((DATA / name).read_bytes()).hexdigest()
    # AND the small path ran exactly these Lambdas
    assert pipeline.glue.invocations.count("RunValidation") == 1
    assert "ReduceShards" not in pipeline.glue.invocations
    # AND progress went out as events, through every state, ending completed
    statuses = [e["detail"]["status"] for e in pipeline.events()
                if e["detail-type"] == "Synthos Job Progress"]
    assert statuses[0] == "inspecting" and statuses[-1] == "completed"
    assert {"validating", "reducing", "reporting"} <= set(statuses)
    body = pipeline.s3().get_object(Bucket=pipeline.settings.bucket,
                                    Key=result_key(TENANT, job.job_id))["Body"].read()
    assert json.loads(body)["risk_level"] == expected.risk_level
