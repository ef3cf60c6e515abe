"""Datasets through the API: upload requests checked before any URL, listing with pages, get,
delete (objects and derived results removed; refused while a validation runs)."""

from __future__ import annotations

import json

import boto3

from tests.api.resource_fixtures import (
    body,
    completed_validation,
    ready_dataset,
    start_validation,
    upload,
)


def _objects(bucket: str, prefix: str) -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    out = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return [v["Key"] for v in out.get("Versions", []) + out.get("DeleteMarkers", [])]


def test_small_upload_answers_a_single_presigned_put(api_client, register_user) -> None:
    # GIVEN a user
    alice = register_user(api_client)
    # WHEN they declare a 1 kB parquet file
    response = upload(api_client, alice, name="my data.parquet", size=1000)
    # THEN a pending dataset and one PUT URL for their tenant's key come back
    assert response.status_code == 201, response.body
    out = body(response)
    dataset = out["dataset"]
    assert dataset["status"] == "pending_upload" and dataset["upload"] == "single"
    assert dataset["dataset_id"].startswith("ds_")
    assert out["url"] and out["upload_id"] is None and out["parts"] == []
    assert f"/uploads/{alice.tenant_id}/{dataset['dataset_id']}/my_data.parquet?" in out["url"]
    assert out["headers"] == {"Content-Length": "1000"}


BAD_UPLOADS = [
    ({"size_bytes": 0}, "size_bytes"),
    ({"size_bytes": 5 * 1024**4 + 1}, "size_bytes"),
    ({"format": "xlsx"}, "format"),
    ({"role": "real"}, "role"),
    ({"name": ""}, "name"),
    ({"colour": "red"}, "colour"),
    ({"validate": {"reference_id": "x", "when": "now"}}, "validate.when"),
    ({"validate": {"options": {"replicates": 2}}}, "validate.options.replicates"),
]


def test_bad_upload_requests_get_400_and_no_dataset(api_client, register_user) -> None:
    alice = register_user(api_client)
    for patch, field in BAD_UPLOADS:
        # GIVEN a request with one bad field
        request = {"name": "d.csv", "size_bytes": 10, "format": "csv", "role": "synthetic",
                   **patch}
        # WHEN it is sent
        response = api_client.http.post("/v1/datasets/upload", headers=alice.headers,
                                         body=json.dumps(request))
        # THEN 400 names the field, and no URL is issued
        assert response.status_code == 400, (patch, response.body)
        error = body(response)["error"]
        assert error["code"] == "bad_request" and "url" not in body(response)
        assert field in {f["field"] for f in error["details"]["fields"]}
    # AND nothing was recorded
    listed = body(api_client.http.get("/v1/datasets", headers=alice.headers))
    assert listed["items"] == []


def test_upload_needs_write_scope_and_credentials(api_client, register_user,
                                                  api_key_headers) -> None:
    alice = register_user(api_client)
    reader = api_key_headers(api_client, alice, scopes=["read"])
    request = json.dumps({"name": "d.csv", "size_bytes": 10, "format": "csv"})
    response = api_client.http.post("/v1/datasets/upload", headers=reader, body=request)
    assert response.status_code == 403
    response = api_client.http.post("/v1/datasets/upload",
                                    headers={"Content-Type": "application/json"}, body=request)
    assert response.status_code == 401


def test_validate_on_upload_is_recorded_and_checked(api_client, register_user,
                                                   pipeline) -> None:
    # GIVEN a ready reference and a synthetic one still uploading
    alice = register_user(api_client)
    ref = ready_dataset(api_client, alice, pipeline, role="reference")
    pending = body(upload(api_client, alice, role="reference"))["dataset"]["dataset_id"]
    synthetic = ready_dataset(api_client, alice, pipeline)
    # WHEN an upload asks to be validated against the reference
    request = {"reference_id": ref, "options": {"replicates": 8, "seed": 3}}
    out = body(upload(api_client, alice, validate=request))
    # THEN the request is stored on the dataset, with defaults filled in, for the pipeline
    auto = out["dataset"]["auto_validation"]
    assert auto["reference_id"] == ref and auto["options"]["replicates"] == 8
    assert auto["options"]["sample_rows"] == 20_000
    # AND a reference that is not a reference, not ready, or unknown is refused
    assert upload(api_client, alice, validate={"reference_id": synthetic}).status_code == 400
    assert upload(api_client, alice, validate={"reference_id": pending}).status_code == 409
    assert upload(api_client, alice, validate={"reference_id": "ds_nope"}).status_code == 404
    assert upload(api_client, alice, role="reference", validate={}).status_code == 400


def test_list_pages_through_datasets_newest_first(api_client, register_user) -> None:
    # GIVEN five datasets
    alice = register_user(api_client)
    made = [body(upload(api_client, alice, name=f"d{i}.csv", fmt="csv"))["dataset"]["dataset_id"]
            for i in range(5)]
    # WHEN listed two at a time
    seen: list[str] = []
    url = "/v1/datasets?limit=2"
    while True:
        page = body(api_client.http.get(url, headers=alice.headers))
        seen += [d["dataset_id"] for d in page["items"]]
        if not page["next_token"]:
            break
        url = f"/v1/datasets?limit=2&next_token={page['next_token']}"
    # THEN every dataset appears once, newest first
    assert seen == made[::-1]
    assert api_client.http.get("/v1/datasets?limit=0", headers=alice.headers).status_code == 400
    bad = api_client.http.get("/v1/datasets?next_token=forged.token", headers=alice.headers)
    assert bad.status_code == 400


def test_get_shows_inspection_results(api_client, register_user, pipeline) -> None:
    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline, sha256="b" * 64)
    out = body(api_client.http.get(f"/v1/datasets/{dataset_id}", headers=alice.headers))
    assert (out["status"], out["sha256"], out["rows"], out["columns"]) == (
        "ready", "b" * 64, 600, 4)
    missing = api_client.http.get("/v1/datasets/ds_missing", headers=alice.headers)
    assert missing.status_code == 404 and body(missing)["error"]["code"] == "not_found"


def test_delete_removes_objects_and_derived_results(api_client, register_user, pipeline,
                                                    low_result) -> None:
    # GIVEN a completed validation of an uploaded dataset
    alice = register_user(api_client)
    job_id = completed_validation(api_client, alice, pipeline, low_result)
    dataset_id = body(api_client.http.get(f"/v1/validations/{job_id}",
                                          headers=alice.headers))["dataset_id"]
    bucket = pipeline.settings.bucket
    s3 = boto3.client("s3", region_name="us-east-1")
    key = f"uploads/{alice.tenant_id}/{dataset_id}/data.parquet"
    s3.put_object(Bucket=bucket, Key=key, Body=b"v1")
    s3.put_object(Bucket=bucket, Key=key, Body=b"v2")  # a second version
    assert _objects(bucket, f"results/{alice.tenant_id}/{job_id}/")
    # WHEN the dataset is deleted
    response = api_client.http.delete(f"/v1/datasets/{dataset_id}", headers=alice.headers)
    # THEN every version of its file and its results are gone, and it is no longer listed
    assert response.status_code == 204, response.body
    assert _objects(bucket, f"uploads/{alice.tenant_id}/{dataset_id}/") == []
    assert _objects(bucket, f"results/{alice.tenant_id}/{job_id}/") == []
    assert api_client.http.get(f"/v1/datasets/{dataset_id}",
                               headers=alice.headers).status_code == 404
    assert body(api_client.http.get("/v1/datasets", headers=alice.headers))["items"] == []
    # AND the validation's details now say the result is gone (404), a second delete is 404
    details = api_client.http.get(f"/v1/validations/{job_id}/collapse-details",
                                  headers=alice.headers)
    assert details.status_code == 404
    assert api_client.http.get(f"/v1/validations/{job_id}/report",
                               headers=alice.headers).status_code == 404
    assert api_client.http.delete(f"/v1/datasets/{dataset_id}",
                                  headers=alice.headers).status_code == 404


def test_delete_is_refused_while_a_validation_runs(api_client, register_user,
                                                   pipeline) -> None:
    # GIVEN a running validation on a dataset
    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    job_id = body(start_validation(api_client, alice, dataset_id))["validation_id"]
    # WHEN the dataset is deleted
    response = api_client.http.delete(f"/v1/datasets/{dataset_id}", headers=alice.headers)
    # THEN 409 names the running validation and the dataset is intact
    assert response.status_code == 409
    assert body(response)["error"]["details"]["running_validations"] == [job_id]
    assert api_client.http.get(f"/v1/datasets/{dataset_id}",
                               headers=alice.headers).status_code == 200
    # AND once it is cancelled, the delete goes through
    assert api_client.http.delete(f"/v1/validations/{job_id}",
                                  headers=alice.headers).status_code == 200
    assert api_client.http.delete(f"/v1/datasets/{dataset_id}",
                                  headers=alice.headers).status_code == 204


def test_dataset_quota_answers_402(api_client, register_user, monkeypatch) -> None:
    from synthos.api import quotas

    monkeypatch.setitem(quotas.PLANS, "free", {"datasets": 1, "validations": 1})
    alice = register_user(api_client)
    assert upload(api_client, alice).status_code == 201
    response = upload(api_client, alice)
    assert response.status_code == 402 and "url" not in body(response)


def test_ids_that_cannot_exist_are_404(api_client, register_user) -> None:
    # GIVEN ids no record can have (too long, odd characters)
    alice = register_user(api_client)
    paths = ["/v1/datasets/{id}", "/v1/validations/{id}", "/v1/validations/{id}/report",
             "/v1/warranties/{id}", "/v1/warranties/{id}/verify", "/v1/warranties/{id}/claims"]
    for odd in ("x" * 300, "bad.id", "ds_%20x"):
        for path in paths:
            # THEN every route answers 404, never a 5xx from the store
            response = api_client.http.get(path.format(id=odd), headers=alice.headers)
            assert response.status_code == 404, (path, odd, response.body)


def test_validate_on_upload_counts_a_validation_up_front(api_client, register_user,
                                                         monkeypatch) -> None:
    # GIVEN a plan with no validations left
    from synthos.api import quotas

    monkeypatch.setitem(quotas.PLANS, "free", {"datasets": 5, "validations": 0})
    alice = register_user(api_client)
    # WHEN an upload asks to be validated: 402 before any URL, and no dataset unit spent
    response = upload(api_client, alice, validate={})
    assert response.status_code == 402 and "url" not in body(response)
    assert quotas.usage(alice.tenant_id)["datasets"]["used"] == 0
    # AND a plain upload still works
    assert upload(api_client, alice).status_code == 201


def _upload_and_claim(client, user, name, fmt, data):  # type: ignore[no-untyped-def]
    """Upload through the API's presigned PUT, then run the upload's Object Created event
    through ClaimJob's handler (what the state machine's first state does)."""
    import requests
    from functions.claim_job import handler

    from synthos.api.context import current_settings
    from synthos.local.moto_glue import LambdaContext

    out = body(upload(client, user, name=name, size=len(data), fmt=fmt))
    assert requests.put(out["url"], data=data, headers=out["headers"],
                        timeout=10).status_code == 200
    settings = current_settings()
    dataset_id = out["dataset"]["dataset_id"]
    key = f"uploads/{user.tenant_id}/{dataset_id}/{name}"
    head = boto3.client("s3", region_name=settings.region).head_object(
        Bucket=settings.bucket, Key=key)
    event = {"source": "aws.s3", "detail-type": "Object Created",
             "detail": {"bucket": {"name": settings.bucket},
                        "object": {"key": key, "size": len(data),
                                   "version-id": head.get("VersionId")}}}
    state = handler({"event": event}, LambdaContext(function_name="ClaimJob"))
    assert state["claimed"] is False
    return dataset_id, key


def test_an_upload_without_validation_shows_what_it_is(api_client, register_user,
                                                        pipeline) -> None:
    # GIVEN a 4-row, 3-column CSV uploaded with no validate{}
    import hashlib

    alice = register_user(api_client)
    data = b"a,b,c\n1,2,x\n3,4,y\n5,6,z\n7,8,w\n"
    dataset_id, _ = _upload_and_claim(api_client, alice, "four.csv", "csv", data)
    # WHEN its owner looks at it
    out = body(api_client.http.get(f"/v1/datasets/{dataset_id}", headers=alice.headers))
    # THEN the view shows it ready with the file's rows, columns and sha256
    assert (out["status"], out["format"], out["rows"], out["columns"], out["size_bytes"]) == (
        "ready", "csv", 4, 3, len(data))
    assert out["sha256"] == hashlib.sha256(data).hexdigest() and out["reason"] is None


def test_a_malformed_upload_shows_failed_with_the_reason(api_client, register_user,
                                                         pipeline) -> None:
    # GIVEN a "Parquet" upload whose bytes are not Parquet
    alice = register_user(api_client)
    garbage = b"PAR1" + b"\x00not parquet at all" * 20
    dataset_id, key = _upload_and_claim(api_client, alice, "junk.parquet", "parquet", garbage)
    # WHEN its owner looks at it
    out = body(api_client.http.get(f"/v1/datasets/{dataset_id}", headers=alice.headers))
    # THEN it is failed with a readable reason and nothing inspected
    assert out["status"] == "failed" and "junk.parquet" in out["reason"]
    assert (out["rows"], out["columns"], out["sha256"]) == (None, None, None)
    # AND the upload is kept
    settings_bucket = pipeline.settings.bucket
    obj = boto3.client("s3", region_name="us-east-1").get_object(Bucket=settings_bucket, Key=key)
    assert obj["Body"].read() == garbage


def test_patch_marks_a_synthetic_dataset_monitored(api_client, register_user, pipeline) -> None:
    # GIVEN alice's synthetic dataset and reference, and bob
    alice, bob = register_user(api_client), register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    ref_id = ready_dataset(api_client, alice, pipeline, role="reference")

    def patch(user, ds_id, payload):  # type: ignore[no-untyped-def]
        return api_client.http.patch(f"/v1/datasets/{ds_id}", headers=user.headers,
                                     body=json.dumps(payload))

    # WHEN she marks it monitored THEN the record the nightly re-validation scans says so
    answer = patch(alice, dataset_id, {"monitored": True})
    assert answer.status_code == 200, answer.body
    assert body(answer)["monitored"] is True
    from synthos.aws.tables import DatasetModel
    assert DatasetModel.get(alice.tenant_id, dataset_id).monitored is True
    assert body(api_client.http.get(f"/v1/datasets/{dataset_id}",
                                    headers=alice.headers))["monitored"] is True
    # AND she can take it off again
    assert body(patch(alice, dataset_id, {"monitored": False}))["monitored"] is False
    # THEN a reference cannot be monitored, bodies are checked, and bob sees nothing of hers
    assert patch(alice, ref_id, {"monitored": True}).status_code == 409
    assert patch(alice, dataset_id, {"monitored": "yes", "x": 1}).status_code == 400
    assert patch(bob, dataset_id, {"monitored": True}).status_code == 404
    assert DatasetModel.get(alice.tenant_id, dataset_id).monitored is False
