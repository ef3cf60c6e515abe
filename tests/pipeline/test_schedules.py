"""Each scheduled rule's handler, run on its sample event against the moto pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from synthos.aws.tables import DatasetModel, JobModel, WarrantyModel
from synthos.local.moto_glue import LambdaContext
from tests.pipeline.conftest import DATA, FAST_OPTIONS, Pipeline, load_event, seed_dataset

TENANT = "acme"
COLLAPSED = DATA / "breast_cancer_synthetic_collapsed.parquet"


def _ready_pair(pipeline: Pipeline, **dataset_fields: Any) -> None:
    """ds1 (collapsed synthetic) and ref1 (reference), both uploaded and ready."""
    s = pipeline.settings
    ref = seed_dataset(s, TENANT, "ref1", "reference.parquet", role="reference", status="ready")
    ds = seed_dataset(s, TENANT, "ds1", "synthetic.parquet", status="ready", **dataset_fields)
    pipeline.put(ref.s3_key, (DATA / "breast_cancer_reference.parquet").read_bytes())
    pipeline.put(ds.s3_key, COLLAPSED.read_bytes())
    pipeline.wait_all()  # the uploads' executions skip: no auto_validation


def _job(job_id: str, status: str, attempts: int, updated: datetime) -> JobModel:
    job = JobModel(TENANT, job_id, dataset_id="ds1", reference_id="ref1", options=FAST_OPTIONS,
                   status=status, stage=status, attempts=attempts, updated_at=updated)
    job.save()
    return job


def _invoke(module: str, event: dict[str, Any]) -> Any:
    import importlib

    handler = importlib.import_module(f"functions.{module}").handler
    return handler(event, LambdaContext(function_name=module))


def test_sweeper_retries_once_then_fails_with_reason(pipeline: Pipeline) -> None:
    # GIVEN a job stuck for 2 h (no retry yet), one stuck after its retry, and a fresh one
    _ready_pair(pipeline)
    old, now = datetime.now(UTC) - timedelta(hours=2), datetime.now(UTC)
    _job("stuck-first", "validating", 0, old)
    _job("stuck-again", "reducing", 1, old)
    _job("fresh", "validating", 0, now)
    # WHEN the sweeper runs
    out = _invoke("sweep_stuck_jobs", load_event("schedule_sweep_stuck_jobs"))
    # THEN the first is retried (and its new execution completes), the second failed
    assert out == {"retried": ["stuck-first"], "failed": ["stuck-again"]}
    runs = pipeline.wait_all(timeout_s=90)
    assert {r["status"] for r in runs} == {"SUCCEEDED"}
    first = JobModel.get(TENANT, "stuck-first")
    assert (first.status, first.attempts) == ("completed", 1)
    again = JobModel.get(TENANT, "stuck-again")
    assert again.status == "failed" and "stopped making progress while reducing" in again.reason
    assert JobModel.get(TENANT, "fresh").status == "validating"


def test_warranty_expiry_moves_only_past_due(pipeline: Pipeline) -> None:
    # GIVEN one active warranty past its expiry and one still valid
    now = datetime.now(UTC)
    for wid, expires in (("w-old", now - timedelta(days=1)), ("w-new", now + timedelta(days=30))):
        WarrantyModel(TENANT, wid, validation_id="v1", dataset_id="ds1", certificate={},
                      status="active", expires_at=expires).save()
    # WHEN the expiry schedule runs
    out = _invoke("expire_warranties", load_event("schedule_expire_warranties"))
    # THEN exactly the past-due one is expired
    assert out == {"expired": 1}
    assert WarrantyModel.get(TENANT, "w-old").status == "expired"
    assert WarrantyModel.get(TENANT, "w-new").status == "active"


def test_revalidation_alerts_when_risk_level_rises(pipeline: Pipeline) -> None:
    # GIVEN a monitored dataset last seen at "low" risk, with a completed validation
    _ready_pair(pipeline, monitored=True, last_risk_level="low")
    JobModel(TENANT, "earlier", dataset_id="ds1", reference_id="ref1", options=FAST_OPTIONS,
             status="completed", stage="completed", risk_level="low").save()
    event = load_event("schedule_revalidate_monitored")
    # WHEN the nightly rule runs (twice: a redelivered event returns the first answer)
    out = _invoke("revalidate_monitored", event)
    assert _invoke("revalidate_monitored", event) == out
    runs = pipeline.wait_all(timeout_s=90)
    # THEN one re-validation ran with the earlier reference and options, and rose to critical
    assert len(out["started"]) == 1 and {r["status"] for r in runs} == {"SUCCEEDED"}
    job = JobModel.get(TENANT, out["started"][0])
    assert (job.status, job.trigger, job.reference_id) == ("completed", "schedule", "ref1")
    assert job.options == FAST_OPTIONS
    alerts = [e["detail"] for e in pipeline.events()
              if e["detail-type"] == "Synthos Risk Increased"]
    assert alerts == [{"tenant_id": TENANT, "dataset_id": "ds1", "job_id": job.job_id,
                       "previous_risk_level": "low", "risk_level": job.risk_level,
                       "collapse_risk": job.collapse_risk}]
    assert DatasetModel.get(TENANT, "ds1").last_risk_level == job.risk_level
    # AND a second run the same day (another event) starts nothing new
    event["id"] = "another-delivery"
    assert _invoke("revalidate_monitored", event) == {"started": []}


def test_cleanup_abandons_stale_pending_uploads(pipeline: Pipeline) -> None:
    # GIVEN a multipart upload opened two days ago and never completed, and a fresh one
    s3, s = pipeline.s3(), pipeline.settings
    old_key = "uploads/acme/old1/big.parquet"
    upload_id = s3.create_multipart_upload(Bucket=s.bucket, Key=old_key)["UploadId"]
    seed_dataset(s, TENANT, "old1", "big.parquet", upload_id=upload_id,
                 created_at=datetime.now(UTC) - timedelta(days=2))
    seed_dataset(s, TENANT, "new1", "small.parquet")
    # WHEN the clean-up runs
    out = _invoke("cleanup_uploads", load_event("schedule_cleanup_uploads"))
    # THEN the stale one is aborted and marked, the fresh one untouched
    assert out == {"cleaned": ["old1"]}
    old = DatasetModel.get(TENANT, "old1")
    assert old.status == "failed" and "not completed within 24 hours" in old.reason
    assert s3.list_multipart_uploads(Bucket=s.bucket).get("Uploads", []) == []
    assert DatasetModel.get(TENANT, "new1").status == "pending_upload"
