"""S3 side of dataset uploads: presigned PUT, multipart create / part URLs / complete, and the
removal of a dataset's objects (every version: the bucket is versioned).

Every URL is presigned for one key that the caller built with :func:`synthos.aws.keys.upload_key`
from the *authenticated* tenant id, so a URL can only ever write into that tenant's prefix; the
key and the declared size are inside the signature (``content-length`` is a signed header of the
single PUT), so neither can be changed without S3 refusing the request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from synthos.aws.clients import client
from synthos.aws.settings import Settings
from synthos.errors import SynthosError

MiB = 1024 * 1024
GiB = 1024 * MiB
SINGLE_PUT_MAX_BYTES = 100 * 1000 * 1000  # up to 100 MB: one presigned PUT
MAX_UPLOAD_BYTES = 5 * 1024 * GiB  # S3's largest object, 5 TiB
MIN_PART_BYTES = 16 * MiB  # our smallest part (S3 allows 5 MiB)
MAX_PART_BYTES = 5 * GiB  # S3's largest part
TARGET_PARTS = 1000  # aim: <= ~1,000 part URLs per upload (S3 allows 10,000)
MAX_PARTS = 10_000
URL_EXPIRES_S = 6 * 3600


class UploadFailed(SynthosError):
    """S3 refused a multipart step (unknown upload, bad parts, ETags that do not match)."""

    code = "upload_failed"


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    url: str


@dataclass(frozen=True)
class MultipartPlan:
    upload_id: str
    part_size: int
    part_count: int
    parts: list[PartUrl]


def part_size_for(size_bytes: int, min_part: int | None = None) -> int:
    """Part size for a multipart upload of ``size_bytes``: at least ``min_part``, large enough
    for at most ~``TARGET_PARTS`` parts, a whole number of MiB, at most 5 GiB.

    A 5 TiB file gets 5 GiB parts (1,024 parts); any size gets well under 10,000 parts.
    """
    floor = MIN_PART_BYTES if min_part is None else min_part
    unit = MiB if floor >= MiB else 1  # tests use tiny parts
    size = min(max(floor, math.ceil(size_bytes / TARGET_PARTS / unit) * unit), MAX_PART_BYTES)
    if math.ceil(size_bytes / size) > MAX_PARTS:
        raise ValueError(f"{size_bytes} bytes cannot be split into {MAX_PARTS} parts")
    return size


def presign_put(settings: Settings, key: str, size_bytes: int,
                expires_s: int = URL_EXPIRES_S) -> str:
    """A presigned PUT for exactly ``key`` and exactly ``size_bytes`` bytes."""
    return str(client("s3", settings).generate_presigned_url(
        "put_object", ExpiresIn=expires_s,
        Params={"Bucket": settings.bucket, "Key": key, "ContentLength": size_bytes}))


def start_multipart(settings: Settings, key: str, size_bytes: int,
                    min_part: int | None = None, expires_s: int = URL_EXPIRES_S) -> MultipartPlan:
    """Create the multipart upload and presign one PUT per part."""
    s3 = client("s3", settings)
    part_size = part_size_for(size_bytes, min_part)
    count = math.ceil(size_bytes / part_size)
    upload_id = str(s3.create_multipart_upload(Bucket=settings.bucket, Key=key)["UploadId"])
    parts = [PartUrl(n, str(s3.generate_presigned_url(
        "upload_part", ExpiresIn=expires_s,
        Params={"Bucket": settings.bucket, "Key": key, "UploadId": upload_id,
                "PartNumber": n}))) for n in range(1, count + 1)]
    return MultipartPlan(upload_id, part_size, count, parts)


def complete_multipart(settings: Settings, key: str, upload_id: str,
                       parts: list[tuple[int, str]]) -> str | None:
    """CompleteMultipartUpload with ``(part_number, etag)`` pairs; returns the version id."""
    try:
        out = client("s3", settings).complete_multipart_upload(
            Bucket=settings.bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]})
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise UploadFailed(f"S3 refused to complete the upload ({code})",
                           details={"s3_code": code}) from exc
    version = out.get("VersionId")
    return str(version) if version else None


def abort_multipart(settings: Settings, key: str, upload_id: str) -> None:
    s3 = client("s3", settings)
    try:
        s3.abort_multipart_upload(Bucket=settings.bucket, Key=key, UploadId=upload_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
            raise


def delete_prefix(settings: Settings, prefix: str) -> int:
    """Delete every version and delete marker under ``prefix``; returns how many went."""
    s3 = client("s3", settings)
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=settings.bucket, Prefix=prefix):
        items: list[dict[str, Any]] = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(items), 1000):
            batch = items[start:start + 1000]
            s3.delete_objects(Bucket=settings.bucket, Delete={"Objects": batch, "Quiet": True})
            removed += len(batch)
    return removed


def uploaded_parts(settings: Settings, key: str, upload_id: str) -> dict[int, tuple[str, int]]:
    """The parts S3 holds for an open multipart upload: number -> (ETag, size)."""
    s3 = client("s3", settings)
    out: dict[int, tuple[str, int]] = {}
    try:
        for page in s3.get_paginator("list_parts").paginate(
                Bucket=settings.bucket, Key=key, UploadId=upload_id):
            for part in page.get("Parts", []):
                out[int(part["PartNumber"])] = (str(part["ETag"]).strip('"'), int(part["Size"]))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise UploadFailed(f"S3 cannot list the upload's parts ({code})",
                           details={"s3_code": code}) from exc
    return out
