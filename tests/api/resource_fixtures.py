"""Helpers of the dataset / validation / warranty suites: a stand-in for the pipeline that moves
records and writes result objects the way the pipeline does (so these suites do not depend on
the pipeline's code), and request shortcuts (upload, ready dataset, completed validation).

The fixtures that go with them (``settings`` with a warranty key and a state machine, the moto
``state_machine``, ``pipeline``, ``low_result``, ``key_dir``) are in ``tests/api/conftest.py``,
so pytest finds them for ``tests/api`` only; test modules import just these plain helpers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.api.conftest import MACHINE_ARN, User, post_json

__all__ = ["MACHINE_ARN", "FakePipeline", "body", "completed_validation", "ready_dataset",
           "start_validation", "upload"]


@dataclass
class FakePipeline:
    """Does to the records and the bucket what the pipeline would."""

    settings: Any

    def dataset_ready(self, tenant: str, dataset_id: str, sha256: str = "a" * 64,
                      rows: int = 600, columns: int = 4) -> None:
        from synthos.aws.tables import DatasetModel

        item = DatasetModel.get(tenant, dataset_id)
        item.update(actions=[DatasetModel.status.set("ready"), DatasetModel.sha256.set(sha256),
                             DatasetModel.rows.set(rows), DatasetModel.columns.set(columns)])

    def run_to(self, tenant: str, job_id: str, last: str) -> None:
        """Advance the job from where it is, stage by stage, up to ``last``."""
        from synthos.aws.job_store import advance, get_job
        from synthos.jobs import JobStatus

        stages = ["queued", "inspecting", "validating", "reducing", "reporting"]
        current = stages.index(get_job(tenant, job_id).status)
        for status in stages[current + 1:stages.index(last) + 1]:
            advance(tenant, job_id, JobStatus(status), progress=0.5, shards_total=4,
                    shards_done=2)

    def complete(self, tenant: str, job_id: str, result: Any) -> None:
        """Run the job to completed with ``result`` stored as the pipeline stores it."""
        import boto3

        from synthos.aws import keys
        from synthos.aws.job_store import advance
        from synthos.jobs import JobStatus

        self.run_to(tenant, job_id, "reporting")
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.put_object(Bucket=self.settings.bucket, Key=keys.result_key(tenant, job_id),
                      Body=result.model_dump_json().encode())
        s3.put_object(Bucket=self.settings.bucket, Key=keys.report_key(tenant, job_id),
                      Body=b"%PDF-1.4 report of " + job_id.encode())
        advance(tenant, job_id, JobStatus.COMPLETED, progress=1.0, shards_done=4,
                result_key=keys.result_key(tenant, job_id),
                report_key=keys.report_key(tenant, job_id),
                collapse_risk=result.collapse_risk, risk_level=result.risk_level,
                drift_score=result.drift_score)


def body(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def upload(client: Any, user: User, *, name: str = "data.parquet", size: int = 1000,
           fmt: str = "parquet", role: str = "synthetic", **extra: Any) -> Any:
    return post_json(client, "/v1/datasets/upload",
                     {"name": name, "size_bytes": size, "format": fmt, "role": role, **extra},
                     headers=user.headers)


def ready_dataset(client: Any, user: User, pipeline: FakePipeline, *, role: str = "synthetic",
                  sha256: str = "a" * 64) -> str:
    """A dataset the pipeline has inspected (status ready)."""
    response = upload(client, user, role=role)
    assert response.status_code == 201, response.body
    dataset_id = str(body(response)["dataset"]["dataset_id"])
    pipeline.dataset_ready(user.tenant_id, dataset_id, sha256=sha256)
    return dataset_id


def start_validation(client: Any, user: User, dataset_id: str, **extra: Any) -> Any:
    return post_json(client, "/v1/validations", {"dataset_id": dataset_id, **extra},
                     headers=user.headers)


def completed_validation(client: Any, user: User, pipeline: FakePipeline, result: Any) -> str:
    """A validation completed with ``result``; its dataset carries the result's sha256."""
    dataset_id = ready_dataset(client, user, pipeline, sha256=result.dataset.sha256)
    response = start_validation(client, user, dataset_id)
    assert response.status_code == 202, response.body
    job_id = str(body(response)["validation_id"])
    pipeline.complete(user.tenant_id, job_id, result)
    return job_id
