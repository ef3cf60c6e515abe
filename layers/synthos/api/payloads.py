"""Request and response bodies of the dataset, validation and warranty routes (pydantic).

Requests forbid unknown fields; the routes register these models with the OpenAPI document.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from synthos.aws.uploads import MAX_UPLOAD_BYTES
from synthos.engine import ValidateOptions
from synthos.result import ColumnDetail, Recommendation, SignalResult

DatasetFormat = Literal["parquet", "csv", "tsv", "jsonl", "arrow", "feather"]
DatasetRole = Literal["synthetic", "reference"]
_DEFAULTS = ValidateOptions()
_ID = r"^[A-Za-z0-9_-]{1,64}$"
_ID_RE = re.compile(_ID)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests --------------------------------------------------------------------------------
class ValidationOptions(Request):
    """The engine options a client may set (``synthos.engine.ValidateOptions``)."""

    sample_rows: int = Field(default=_DEFAULTS.sample_rows, ge=20, le=10_000_000)
    seed: int = Field(default=_DEFAULTS.seed, ge=0, le=2**32 - 1)
    replicates: int = Field(default=_DEFAULTS.replicates, ge=4, le=1000)
    embedding_columns: list[str] = Field(default_factory=list, max_length=64)
    recommendations: bool = _DEFAULTS.recommendations

    def to_engine(self) -> ValidateOptions:
        return ValidateOptions(sample_rows=self.sample_rows, seed=self.seed,
                               replicates=self.replicates,
                               embedding_columns=tuple(self.embedding_columns),
                               recommendations=self.recommendations)


class AutoValidation(Request):
    reference_id: str | None = Field(default=None, pattern=_ID)
    options: ValidationOptions = Field(default_factory=lambda: ValidationOptions())


class UploadRequest(Request):
    name: str = Field(min_length=1, max_length=200)
    size_bytes: int = Field(gt=0, le=MAX_UPLOAD_BYTES, description="exact size of the file")
    format: DatasetFormat
    role: DatasetRole = "synthetic"
    validate_: AutoValidation | None = Field(
        default=None, alias="validate", description="start a validation once the file is inspected")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CompletedPart(Request):
    part_number: int = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1, max_length=200)


class CompleteRequest(Request):
    parts: list[CompletedPart] = Field(min_length=1, max_length=10_000)


class CreateValidationRequest(Request):
    dataset_id: str = Field(pattern=_ID)
    reference_id: str | None = Field(default=None, pattern=_ID)
    options: ValidationOptions = Field(default_factory=lambda: ValidationOptions())


class UpdateDatasetRequest(Request):
    monitored: bool = Field(description="re-validate nightly against the reference and options "
                            "of its latest completed validation; alert when the risk level rises")


class IssueWarrantyRequest(Request):
    validation_id: str = Field(pattern=_ID)


class RevokeWarrantyRequest(Request):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=500)] = Field(
        description="why it is revoked (1 to 500 characters, blanks alone refused)")


class ClaimDecisionRequest(Request):
    decision: Literal["approve", "reject"]
    note: str = Field(default="", max_length=2000)


# --- responses -------------------------------------------------------------------------------
class DatasetOut(Response):
    dataset_id: str
    name: str
    role: str
    format: str
    size_bytes: int
    status: str
    source: str
    upload: Literal["single", "multipart"]
    sha256: str | None = None
    rows: int | None = None
    columns: int | None = None
    reason: str | None = None
    auto_validation: dict[str, Any] | None = None
    monitored: bool = False
    last_risk_level: str | None = None
    created_at: datetime
    updated_at: datetime


class PartUrlOut(Response):
    part_number: int
    url: str


class UploadOut(Response):
    dataset: DatasetOut
    method: Literal["PUT"] = "PUT"
    url: str | None = Field(default=None, description="single upload: PUT the whole file here")
    headers: dict[str, str] = Field(default_factory=dict)
    upload_id: str | None = Field(default=None, description="multipart: the S3 upload id")
    part_size: int | None = None
    part_count: int | None = None
    parts: list[PartUrlOut] = Field(default_factory=list)
    expires_in: int


class DatasetPage(Response):
    items: list[DatasetOut]
    next_token: str | None = None


class ValidationOut(Response):
    validation_id: str
    dataset_id: str
    reference_id: str | None = None
    status: str
    stage: str
    progress: float
    shards_done: int
    shards_total: int
    trigger: str
    options: dict[str, Any]
    reason: str | None = None
    collapse_risk: float | None = None
    risk_level: str | None = None
    drift_score: float | None = None
    created_at: datetime
    updated_at: datetime


class ValidationPage(Response):
    items: list[ValidationOut]
    next_token: str | None = None


class CollapseDetailsOut(Response):
    validation_id: str
    collapse_risk: float
    risk_level: str
    drift_score: float
    confidence_interval: tuple[float, float]
    columns: list[ColumnDetail]
    signals: list[SignalResult]


class RecommendationsOut(Response):
    validation_id: str
    collapse_risk: float
    recommendations: list[Recommendation]


class ReportOut(Response):
    validation_id: str
    url: str
    expires_in: int


class WarrantyOut(Response):
    warranty_id: str
    validation_id: str
    dataset_id: str
    status: str
    issued_at: datetime
    expires_at: datetime
    verification_code: str
    certificate: dict[str, Any] = Field(description="the signed document (cert.json)")
    pdf_url: str | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, description="user id of the revoking admin")
    revocation_reason: str | None = None


class WarrantyPage(Response):
    items: list[WarrantyOut]
    next_token: str | None = None


class VerifyOut(Response):
    warranty_id: str
    valid: bool
    status: str
    reasons: list[str] = Field(description="every failed check; empty when valid")
    checks: dict[str, bool] = Field(description="signature, window, status, dataset")
    verification_code: str | None = None
    key_id: str | None = None
    expires_at: datetime | None = None
    collapse_risk: float | None = None


class PublicKeyOut(Response):
    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: str = Field(description="first 16 hex of sha256 of the raw public key; every "
                                    "certificate names the key that signed it by this id")
    fingerprint_sha256: str = Field(description="sha256 of the raw 32-byte public key, 64 hex")
    public_key_pem: str = Field(description="the key as PEM (SubjectPublicKeyInfo)")
    public_key_raw_b64: str = Field(description="the raw 32-byte key, base64")


class ClaimOut(Response):
    claim_id: str
    warranty_id: str
    status: str
    reason: str | None = None
    deviation: float | None = None
    evidence: dict[str, Any]
    decided_by: str | None = None
    created_at: datetime
    updated_at: datetime


class ClaimPage(Response):
    items: list[ClaimOut]


def new_id(prefix: str) -> str:
    """``prefix_`` + 32 hex: 12 of milliseconds (ids sort by creation) and 20 random."""
    return f"{prefix}_{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def is_id(value: str) -> bool:
    """Whether a path id can name a record at all (anything else is simply not found)."""
    return bool(_ID_RE.match(value))
