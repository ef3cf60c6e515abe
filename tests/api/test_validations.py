"""Validations through the API: start (checks, quota, workflow execution), list with status
filter and pages, status and scores, result views, report URL, cancel."""

from __future__ import annotations

import json

import boto3
import pytest
import requests

from synthos.aws.tables import JobModel
from synthos.engine import ValidateOptions
from tests.api.conftest import post_json
from tests.api.resource_fixtures import (
    MACHINE_ARN,
    body,
    completed_validation,
    ready_dataset,
    start_validation,
    upload,
)


def _executions() -> list[dict]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    return sfn.list_executions(stateMachineArn=MACHINE_ARN)["executions"]


def test_start_queues_the_job_and_starts_the_workflow(api_client, register_user,
                                                      pipeline) -> None:
    # GIVEN a ready synthetic dataset and a ready reference
    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    ref_id = ready_dataset(api_client, alice, pipeline, role="reference")
    # WHEN a validation is requested with options
    response = start_validation(api_client, alice, dataset_id, reference_id=ref_id,
                                options={"replicates": 8, "seed": 7,
                                         "embedding_columns": ["emb"]})
    # THEN 202 with the queued job, the options complete, and one execution named after it
    assert response.status_code == 202, response.body
    out = body(response)
    assert (out["status"], out["stage"], out["progress"]) == ("queued", "queued", 0.0)
    assert out["options"] == {"sample_rows": 20_000, "seed": 7, "replicates": 8,
                              "embedding_columns": ["emb"], "recommendations": True}
    assert out["reference_id"] == ref_id and out["trigger"] == "api"
    execution = _executions()
    assert len(execution) == 1 and out["validation_id"] in execution[0]["name"]
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    started = json.loads(sfn.describe_execution(
        executionArn=execution[0]["executionArn"])["input"])
    assert started == {"source": "api", "tenant_id": alice.tenant_id,
                       "job_id": out["validation_id"]}
    job = JobModel.get(alice.tenant_id, out["validation_id"])
    assert job.execution_arn == execution[0]["executionArn"]
    assert job.object_key.startswith(f"uploads/{alice.tenant_id}/{dataset_id}/")


def test_option_model_mirrors_the_engine_defaults() -> None:
    from synthos.api.payloads import ValidationOptions

    engine = ValidationOptions().to_engine()
    assert engine == ValidateOptions()
    engine.check()


def test_bad_options_are_refused(api_client, register_user, pipeline) -> None:
    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    for options in ({"replicates": 3}, {"replicates": 1001}, {"sample_rows": 19},
                    {"seed": -1}, {"backend": "cuda"}, {"embedding_columns": "emb"}):
        response = start_validation(api_client, alice, dataset_id, options=options)
        assert response.status_code == 400, (options, response.body)
    assert _executions() == []


def test_inputs_must_exist_be_ready_and_of_the_right_role(api_client, register_user,
                                                          pipeline) -> None:
    alice = register_user(api_client)
    ready = ready_dataset(api_client, alice, pipeline)
    other_synthetic = ready_dataset(api_client, alice, pipeline)
    pending = body(upload(api_client, alice))["dataset"]["dataset_id"]
    pending_ref = body(upload(api_client, alice, role="reference"))["dataset"]["dataset_id"]
    cases = [({"dataset_id": "ds_missing"}, 404), ({"dataset_id": pending}, 409),
             ({"dataset_id": ready, "reference_id": "ds_missing"}, 404),
             ({"dataset_id": ready, "reference_id": other_synthetic}, 400),
             ({"dataset_id": ready, "reference_id": pending_ref}, 409),
             ({"dataset_id": ready, "reference_id": ready}, 400),
             ({"dataset_id": "../x"}, 400), ({"dataset_id": ready, "priority": 1}, 400)]
    for request, status in cases:
        response = post_json(api_client, "/v1/validations", request, headers=alice.headers)
        assert response.status_code == status, (request, response.body)
    assert _executions() == []


def test_workflow_failure_marks_the_job_failed(api_client, register_user, pipeline) -> None:
    # GIVEN Step Functions refusing the start (here: no such state machine)
    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    sfn.delete_state_machine(stateMachineArn=MACHINE_ARN)
    # WHEN a validation is requested
    response = start_validation(api_client, alice, dataset_id)
    # THEN 503 with its own code and safe message (no internals shown), the job recorded
    # failed with the reason, and the quota unit given back
    assert response.status_code == 503, response.body
    assert "Traceback" not in response.body.decode()
    error = body(response)["error"]
    assert error["code"] == "workflow_unavailable" and "try again later" in error["message"]
    assert error["details"]["request_id"] == response.headers["X-Request-Id"]
    items = body(api_client.http.get("/v1/validations", headers=alice.headers))["items"]
    assert len(items) == 1
    assert error["details"]["validation_id"] == items[0]["validation_id"]
    assert items[0]["status"] == "failed" and "could not be started" in items[0]["reason"]
    from synthos.api import quotas
    assert quotas.usage(alice.tenant_id)["validations"]["used"] == 0


def test_list_filters_by_status_and_pages(api_client, register_user, pipeline) -> None:
    # GIVEN three validations: one running, two completed
    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    ids = [body(start_validation(api_client, alice, dataset_id))["validation_id"]
           for _ in range(3)]
    pipeline.run_to(alice.tenant_id, ids[0], "validating")
    for job_id in ids[1:]:
        pipeline.run_to(alice.tenant_id, job_id, "reporting")
        from synthos.aws.job_store import advance
        from synthos.jobs import JobStatus
        advance(alice.tenant_id, job_id, JobStatus.COMPLETED)
    # WHEN listed by status, one per page
    seen, url = [], "/v1/validations?status=completed&limit=1"
    for _ in range(5):
        page = body(api_client.http.get(url, headers=alice.headers))
        seen += [v["validation_id"] for v in page["items"]]
        if not page["next_token"]:
            break
        url = f"/v1/validations?status=completed&limit=1&next_token={page['next_token']}"
    # THEN only the completed ones, newest first
    assert seen == ids[1:][::-1]
    running = body(api_client.http.get("/v1/validations?status=validating",
                                       headers=alice.headers))["items"]
    assert [v["validation_id"] for v in running] == [ids[0]]
    assert running[0]["shards_total"] == 4 and running[0]["progress"] == 0.5
    bad = api_client.http.get("/v1/validations?status=done", headers=alice.headers)
    assert bad.status_code == 400


def test_results_are_409_until_completed_then_served(api_client, register_user, pipeline,
                                                     low_result) -> None:
    # GIVEN a running validation
    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    job_id = body(start_validation(api_client, alice, dataset_id))["validation_id"]
    for view in ("collapse-details", "recommendations", "report"):
        response = api_client.http.get(f"/v1/validations/{job_id}/{view}",
                                       headers=alice.headers)
        assert response.status_code == 409, view
    # WHEN it completes
    pipeline.complete(alice.tenant_id, job_id, low_result)
    # THEN the status carries the scores and the views read the result JSON
    out = body(api_client.http.get(f"/v1/validations/{job_id}", headers=alice.headers))
    assert out["status"] == "completed" and out["progress"] == 1.0
    assert out["collapse_risk"] == pytest.approx(low_result.collapse_risk)
    assert out["risk_level"] == "low"
    details = body(api_client.http.get(f"/v1/validations/{job_id}/collapse-details",
                                       headers=alice.headers))
    assert [c["name"] for c in details["columns"]] == [c.name for c in low_result.columns]
    assert len(details["signals"]) == len(low_result.signals)
    assert details["confidence_interval"] == list(low_result.confidence.interval)
    recs = body(api_client.http.get(f"/v1/validations/{job_id}/recommendations",
                                    headers=alice.headers))
    assert [r["action"] for r in recs["recommendations"]] == [
        r.action for r in low_result.recommendations]
    report = body(api_client.http.get(f"/v1/validations/{job_id}/report",
                                      headers=alice.headers))
    fetched = requests.get(report["url"], timeout=10)
    assert fetched.status_code == 200 and fetched.content.startswith(b"%PDF")


def test_cancel_moves_to_cancelled_and_stops_the_execution(api_client, register_user,
                                                           pipeline, low_result) -> None:
    # GIVEN a validation that is validating
    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    job_id = body(start_validation(api_client, alice, dataset_id))["validation_id"]
    pipeline.run_to(alice.tenant_id, job_id, "validating")
    # WHEN it is cancelled
    response = api_client.http.delete(f"/v1/validations/{job_id}", headers=alice.headers)
    # THEN it is cancelled with a reason and its execution is aborted
    assert response.status_code == 200, response.body
    assert body(response)["status"] == "cancelled"
    assert _executions()[0]["status"] == "ABORTED"
    # AND a second cancel, or one of a completed validation, is a conflict
    again = api_client.http.delete(f"/v1/validations/{job_id}", headers=alice.headers)
    assert again.status_code == 409
    done = completed_validation(api_client, alice, pipeline, low_result)
    assert api_client.http.delete(f"/v1/validations/{done}",
                                  headers=alice.headers).status_code == 409
    # AND a late worker cannot revive the cancelled job
    from synthos.aws.job_store import StaleJobTransition, advance
    from synthos.jobs import JobStatus
    with pytest.raises(StaleJobTransition):
        advance(alice.tenant_id, job_id, JobStatus.REDUCING)


def test_validation_quota_answers_402(api_client, register_user, pipeline,
                                      monkeypatch) -> None:
    from synthos.api import quotas

    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    monkeypatch.setitem(quotas.PLANS, "free", {"datasets": 100, "validations": 1})
    assert start_validation(api_client, alice, dataset_id).status_code == 202
    response = start_validation(api_client, alice, dataset_id)
    assert response.status_code == 402
    assert len(_executions()) == 1


def test_reads_need_credentials_and_writes_need_write(api_client, register_user,
                                                      api_key_headers, pipeline) -> None:
    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    reader = api_key_headers(api_client, alice, scopes=["read"])
    assert start_validation(api_client, alice, dataset_id).status_code == 202
    response = api_client.http.post("/v1/validations", headers=reader,
                                    body=json.dumps({"dataset_id": dataset_id}))
    assert response.status_code == 403
    assert api_client.http.get("/v1/validations", headers=reader).status_code == 200
    assert api_client.http.get("/v1/validations").status_code == 401


def test_cancel_losing_the_race_to_completion_is_409(api_client, register_user, pipeline,
                                                     low_result, monkeypatch) -> None:
    # GIVEN a validation read as still reporting, that completes before the cancel's write
    from synthos.api import validations

    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    job_id = body(start_validation(api_client, alice, dataset_id))["validation_id"]
    pipeline.run_to(alice.tenant_id, job_id, "reporting")
    stale = JobModel.get(alice.tenant_id, job_id)
    pipeline.complete(alice.tenant_id, job_id, low_result)
    monkeypatch.setattr(validations, "load", lambda tenant, job: stale)
    # WHEN the cancel is sent
    response = api_client.http.delete(f"/v1/validations/{job_id}", headers=alice.headers)
    # THEN the conditional write refuses it and the completion stands
    assert response.status_code == 409, response.body
    assert JobModel.get(alice.tenant_id, job_id).status == "completed"
    assert _executions()[0]["status"] == "RUNNING"
