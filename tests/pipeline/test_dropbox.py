"""The drop folder: a file dropped in ``dropbox/{tenant}/`` is validated against the tenant's
drop-folder reference, and its result JSON and PDF appear under ``dropbox/{tenant}/results/``."""

from __future__ import annotations

import json

from synthos.aws.tables import DatasetModel, JobModel
from tests.pipeline.conftest import DATA, Pipeline

TENANT = "acme"


def test_dropped_file_becomes_dataset_validation_and_results(pipeline: Pipeline) -> None:
    # GIVEN a reference in the tenant's drop-folder reference area (which starts nothing)
    pipeline.put(f"dropbox/{TENANT}/reference/real.parquet",
                 (DATA / "breast_cancer_reference.parquet").read_bytes())
    (ref_run,) = pipeline.wait_all()
    assert ref_run["status"] == "SUCCEEDED" and list(JobModel.query(TENANT)) == []
    # WHEN a synthetic file is dropped in the folder
    pipeline.put(f"dropbox/{TENANT}/synthetic.parquet",
                 (DATA / "breast_cancer_synthetic_collapsed.parquet").read_bytes())
    runs = pipeline.wait_all(timeout_s=90)
    # THEN every execution succeeded (the result copies under results/ start nothing)
    assert {r["status"] for r in runs} == {"SUCCEEDED"}
    (job,) = JobModel.query(TENANT)
    assert (job.status, job.trigger) == ("completed", "dropbox")
    # AND a dataset and a reference dataset were registered from the two files
    roles = {d.role: d for d in DatasetModel.query(TENANT)}
    assert roles["synthetic"].s3_key == f"dropbox/{TENANT}/synthetic.parquet"
    assert roles["synthetic"].source == "dropbox"
    assert job.dataset_id == roles["synthetic"].dataset_id
    assert job.reference_id == roles["reference"].dataset_id
    # AND the result JSON and the PDF are next to the dropped file
    results = pipeline.keys(f"dropbox/{TENANT}/results/")
    assert results == [f"dropbox/{TENANT}/results/synthetic.json",
                       f"dropbox/{TENANT}/results/synthetic.pdf"]
    s3 = pipeline.s3()
    doc = json.loads(s3.get_object(Bucket=pipeline.settings.bucket, Key=results[0])["Body"].read())
    assert doc["risk_level"] == job.risk_level and doc["reference"] is not None
    pdf = s3.get_object(Bucket=pipeline.settings.bucket, Key=results[1])["Body"].read()
    assert pdf.startswith(b"%PDF")
