"""Reading a validation's outputs from S3: the result JSON and a presigned GET of the PDF."""

from __future__ import annotations

from botocore.exceptions import ClientError

from synthos.aws.clients import client
from synthos.aws.settings import Settings
from synthos.errors import SynthosError
from synthos.result import ValidationResult

REPORT_URL_EXPIRES_S = 900
_MISSING = ("NoSuchKey", "404", "NotFound", "NoSuchVersion")


class ResultMissing(SynthosError):
    """The object is not in the bucket (never written, or removed with its dataset)."""

    code = "result_missing"


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _MISSING


def read_result(settings: Settings, key: str) -> ValidationResult:
    """The ValidationResult stored at ``key``; ResultMissing when absent."""
    try:
        body = client("s3", settings).get_object(Bucket=settings.bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if _missing(exc):
            raise ResultMissing(f"no result at {key}") from exc
        raise
    return ValidationResult.model_validate_json(body)


def object_exists(settings: Settings, key: str) -> bool:
    try:
        client("s3", settings).head_object(Bucket=settings.bucket, Key=key)
    except ClientError as exc:
        if _missing(exc):
            return False
        raise
    return True


def presign_get(settings: Settings, key: str, *, filename: str | None = None,
                expires_s: int = REPORT_URL_EXPIRES_S) -> str:
    """A presigned GET of ``key`` (checked to exist first: ResultMissing otherwise)."""
    if not object_exists(settings, key):
        raise ResultMissing(f"no object at {key}")
    params = {"Bucket": settings.bucket, "Key": key}
    if filename:
        params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    return str(client("s3", settings).generate_presigned_url(
        "get_object", Params=params, ExpiresIn=expires_s))


def put_bytes(settings: Settings, key: str, data: bytes, content_type: str) -> None:
    client("s3", settings).put_object(Bucket=settings.bucket, Key=key, Body=data,
                                      ContentType=content_type)
