"""Presigned uploads against (moto) S3: a single PUT accepted; URLs only for the caller's own
tenant key, with key and size inside the signature; the multipart flow end to end."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
import pytest
import requests

from synthos.aws import uploads
from tests.api.resource_fixtures import (
    body,
    upload,
)


def sigv4_query_valid(url: str, method: str, headers: dict[str, str]) -> bool:
    """Recompute the SigV4 query signature as S3 does (moto does not check signatures), with
    the secret key of the credentials in force (moto's fake ones)."""
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = dict(query)["X-Amz-Signature"]
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(query) if k != "X-Amz-Signature")
    all_headers = {"host": parts.netloc, **{k.lower(): v for k, v in headers.items()}}
    signed = dict(query)["X-Amz-SignedHeaders"].split(";")
    canonical_headers = "".join(f"{h}:{all_headers.get(h, '')}\n" for h in signed)
    request = "\n".join([method, parts.path, canonical_query, canonical_headers,
                         ";".join(signed), "UNSIGNED-PAYLOAD"])
    amz_date = dict(query)["X-Amz-Date"]
    scope = dict(query)["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(request.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), given)


def test_presigned_put_is_accepted_by_s3(api_client, register_user, pipeline) -> None:
    # GIVEN a declared 11-byte CSV
    alice = register_user(api_client)
    data = b"a,b\n1,2\n3,4"
    out = body(upload(api_client, alice, name="tiny.csv", size=len(data), fmt="csv"))
    # WHEN the client PUTs the bytes to the URL (moto intercepts the request)
    response = requests.put(out["url"], data=data, headers=out["headers"], timeout=10)
    # THEN S3 holds the file under the tenant's key
    assert response.status_code == 200, response.text
    key = f"uploads/{alice.tenant_id}/{out['dataset']['dataset_id']}/tiny.csv"
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.get_object(Bucket=pipeline.settings.bucket, Key=key)["Body"].read() == data


def test_url_signature_binds_tenant_key_and_size(api_client, register_user) -> None:
    # GIVEN a URL issued to alice
    alice, bob = register_user(api_client), register_user(api_client)
    out = body(upload(api_client, alice, name="x.parquet", size=1000))
    url, headers = out["url"], out["headers"]
    # THEN it verifies as issued ...
    assert sigv4_query_valid(url, "PUT", headers)
    # ... and not once pointed at bob's prefix, another key, or another size
    assert not sigv4_query_valid(url.replace(alice.tenant_id, bob.tenant_id), "PUT", headers)
    assert not sigv4_query_valid(url.replace("x.parquet", "y.parquet"), "PUT", headers)
    assert not sigv4_query_valid(url, "PUT", {"Content-Length": "1001"})
    assert not sigv4_query_valid(url, "GET", headers)


@pytest.mark.parametrize("name", [
    "../../{bob}/ds_x/evil.parquet", "/uploads/{bob}/evil.parquet", "..\\{bob}\\e.parquet",
])
def test_no_request_can_obtain_a_url_for_another_tenant(api_client, register_user,
                                                        name) -> None:
    # GIVEN alice naming her file after a path into bob's prefix
    alice, bob = register_user(api_client), register_user(api_client)
    out = body(upload(api_client, alice, name=name.format(bob=bob.tenant_id), size=10))
    # THEN the URL's key is still under alice's tenant, one segment for the file
    path = urlsplit(out["url"]).path
    assert path.startswith(f"/uploads/{alice.tenant_id}/{out['dataset']['dataset_id']}/")
    assert path.count("/") == 4 and ".." not in path


def test_part_sizes_stay_within_s3_limits() -> None:
    # 100 MB + 1 byte: 16 MiB parts; 5 TiB: 5 GiB parts, 1,024 of them
    assert uploads.part_size_for(100_000_001) == 16 * uploads.MiB
    assert uploads.part_size_for(5 * 1024**4) == 5 * uploads.GiB
    assert math.ceil(5 * 1024**4 / uploads.part_size_for(5 * 1024**4)) == 1024
    for size in (10**8 + 1, 10**9, 10**11, 10**12, 4 * 10**12, 5 * 1024**4):
        part = uploads.part_size_for(size)
        assert 5 * uploads.MiB <= part <= uploads.MAX_PART_BYTES
        assert math.ceil(size / part) <= 10_000


def test_large_upload_answers_part_urls(api_client, register_user) -> None:
    # GIVEN a declared 1 GB file: multipart with presigned part URLs
    alice = register_user(api_client)
    out = body(upload(api_client, alice, size=10**9))
    assert out["url"] is None and out["upload_id"]
    assert out["part_size"] == 16 * uploads.MiB and out["part_count"] == 60
    assert [p["part_number"] for p in out["parts"]] == list(range(1, 61))
    assert out["dataset"]["upload"] == "multipart"
    assert all(f"/uploads/{alice.tenant_id}/" in p["url"] and "partNumber=" in p["url"]
               for p in out["parts"])


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> int:
    """Multipart from 1,000 bytes with 256-byte parts (moto's minimum lowered to match)."""
    import moto.s3.models

    monkeypatch.setattr(uploads, "SINGLE_PUT_MAX_BYTES", 500)
    monkeypatch.setattr(uploads, "MIN_PART_BYTES", 256)
    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 256)
    return 256


def _put_parts(out: dict, data: bytes) -> list[dict]:
    size = out["part_size"]
    parts = []
    for part in out["parts"]:
        chunk = data[(part["part_number"] - 1) * size:part["part_number"] * size]
        response = requests.put(part["url"], data=chunk, timeout=10)
        assert response.status_code == 200, response.text
        parts.append({"part_number": part["part_number"], "etag": response.headers["ETag"]})
    return parts


def test_multipart_flow_end_to_end(api_client, register_user, pipeline, small_parts) -> None:
    # GIVEN a 1,000-byte file declared, split into four parts by the API
    alice, bob = register_user(api_client), register_user(api_client)
    data = bytes(range(256)) * 3 + b"x" * 232
    out = body(upload(api_client, alice, size=len(data)))
    assert (out["part_size"], out["part_count"]) == (256, 4)
    dataset_id = out["dataset"]["dataset_id"]
    parts = _put_parts(out, data)
    complete = f"/v1/datasets/{dataset_id}/complete"
    # WHEN bob tries to complete it: 404; alice leaves a part out or alters an ETag: 400
    assert api_client.http.post(complete, headers=bob.headers,
                                body=json.dumps({"parts": parts})).status_code == 404
    for bad in (parts[:3], [*parts[:3], {**parts[3], "etag": '"0000"'}],
                [parts[1], parts[0], *parts[2:]]):
        response = api_client.http.post(complete, headers=alice.headers,
                                        body=json.dumps({"parts": bad}))
        assert response.status_code == 400, response.body
    # AND completes it properly
    response = api_client.http.post(complete, headers=alice.headers,
                                    body=json.dumps({"parts": parts}))
    # THEN S3 holds exactly the file, and a second complete is a conflict
    assert response.status_code == 200, response.body
    key = f"uploads/{alice.tenant_id}/{dataset_id}/data.parquet"
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.get_object(Bucket=pipeline.settings.bucket, Key=key)["Body"].read() == data
    again = api_client.http.post(complete, headers=alice.headers,
                                 body=json.dumps({"parts": parts}))
    assert again.status_code == 409


def test_complete_is_refused_for_single_uploads_and_bad_bodies(api_client,
                                                                register_user) -> None:
    alice = register_user(api_client)
    dataset_id = body(upload(api_client, alice, size=10))["dataset"]["dataset_id"]
    complete = f"/v1/datasets/{dataset_id}/complete"
    parts = {"parts": [{"part_number": 1, "etag": "x"}]}
    assert api_client.http.post(complete, headers=alice.headers,
                                body=json.dumps(parts)).status_code == 409
    for bad in ({"parts": []}, {"parts": [{"part_number": 0, "etag": "x"}]},
                {**parts, "extra": 1}):
        assert api_client.http.post(complete, headers=alice.headers,
                                    body=json.dumps(bad)).status_code == 400


def test_deleting_a_pending_multipart_upload_aborts_it(api_client, register_user, pipeline,
                                                       small_parts) -> None:
    alice = register_user(api_client)
    out = body(upload(api_client, alice, size=1000))
    _put_parts(out, b"y" * 1000)
    dataset_id = out["dataset"]["dataset_id"]
    assert api_client.http.delete(f"/v1/datasets/{dataset_id}",
                                  headers=alice.headers).status_code == 204
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.list_multipart_uploads(Bucket=pipeline.settings.bucket).get("Uploads", []) == []
