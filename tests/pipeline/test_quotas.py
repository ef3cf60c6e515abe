"""Plan quotas along the pipeline's start paths: an API upload's units are counted once, when
the API registers it (never again by the claim); a dropped file counts one dataset and one
validation for its tenant, once per object version, and over quota it is refused with a reason.
These call the claim step directly (no state machine needed)."""

from __future__ import annotations

from typing import Any

import boto3

from synthos.api import datasets, quotas
from synthos.api.payloads import UploadRequest
from synthos.api.principal import Principal
from synthos.aws.tables import DatasetModel, JobModel
from synthos.pipeline.claim import claim_job
from tests.pipeline.conftest import load_event

TENANT = "acme"
CSV = b"a,b\n1,2\n3,4\n"


def _drop(settings: Any, key: str) -> dict[str, Any]:
    """Put an object and return its S3 Object Created event (as EventBridge delivers it)."""
    s3 = boto3.client("s3", region_name=settings.region)
    version = s3.put_object(Bucket=settings.bucket, Key=key, Body=CSV)["VersionId"]
    event = load_event("s3_object_created_upload")
    event["detail"]["bucket"]["name"] = settings.bucket
    event["detail"]["object"].update({"key": key, "version-id": version, "size": len(CSV)})
    return {"event": event, "execution_arn": "arn:aws:states:us-east-1:1:execution:x:y"}


def _used(tenant: str) -> tuple[int | None, int | None]:
    usage = quotas.usage(tenant)
    return usage["datasets"]["used"], usage["validations"]["used"]


def test_an_api_upload_with_validate_is_counted_once(aws: Any) -> None:
    # GIVEN an upload registered through the API with validate{} (counts 1 dataset, 1 validation)
    principal = Principal(tenant_id=TENANT, user_id="u", scopes=frozenset({"write"}),
                          kind="user", credential_id="c")
    request = UploadRequest.model_validate({"name": "syn.csv", "format": "csv",
                                            "size_bytes": len(CSV), "validate": {}})
    out = datasets.create_upload(aws, principal, request)
    assert _used(TENANT) == (1, 1)
    # WHEN the file arrives and its event is delivered twice
    start = _drop(aws, DatasetModel.get(TENANT, out.dataset.dataset_id).s3_key)
    first, again = claim_job(aws, start), claim_job(aws, start)
    # THEN one auto-validation job, and nothing counted again
    assert first["claimed"] is True and again["claimed"] is False
    assert [j.trigger for j in JobModel.query(TENANT)] == ["upload"]
    assert _used(TENANT) == (1, 1)


def test_a_dropped_file_counts_one_dataset_and_one_validation_once(aws: Any) -> None:
    # GIVEN a file dropped in the tenant's folder
    start = _drop(aws, f"dropbox/{TENANT}/synthetic.csv")
    # WHEN its event is claimed, then delivered again
    first, again = claim_job(aws, start), claim_job(aws, start)
    # THEN one dataset and one validation are counted for its tenant, once
    assert first["claimed"] is True and again["claimed"] is False
    assert _used(TENANT) == (1, 1)
    # AND a reference file of the drop folder starts (and counts) nothing
    assert claim_job(aws, _drop(aws, f"dropbox/{TENANT}/reference/real.csv"))["claimed"] is False
    assert _used(TENANT) == (1, 1)


def test_a_dropped_file_over_quota_is_refused_with_a_reason(aws: Any) -> None:
    # GIVEN a tenant whose validations of the month are used up (free plan: 50)
    quotas.consume(TENANT, "validations", amount=50)
    # WHEN a file is dropped
    outcome = claim_job(aws, _drop(aws, f"dropbox/{TENANT}/synthetic.csv"))
    # THEN nothing runs, the job and the dataset are failed with the plan's message,
    # and the dataset unit is given back
    assert outcome["claimed"] is False and "quota" in outcome["reason"]
    (job,) = JobModel.query(TENANT)
    (dataset,) = DatasetModel.query(TENANT)
    assert job.status == "failed" and "used up" in str(job.reason)
    assert dataset.status == "failed" and dataset.reason == job.reason
    assert _used(TENANT) == (0, 50)
