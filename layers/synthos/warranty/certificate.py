"""The warranty certificate: the model, its canonical bytes, and issuing one.

What is signed is ``canonical_json(certificate)``: the certificate's JSON with sorted keys, no
whitespace, UTF-8; datetimes in UTC to the second (``2026-11-27T08:00:00Z``). Every field is in
it, so a change to any field breaks the signature.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from synthos.errors import NotEligible
from synthos.result import RiskLevel, ValidationResult
from synthos.warranty.eligibility import EligibilityRule, check_eligibility

CERTIFICATE_VERSION = 1
DEFAULT_VALIDITY_DAYS = 90
DEFAULT_CLAIM_DEVIATION = 10.0
DEFAULT_TERMS = (
    "Synthos warrants that, at issue, the dataset identified by its sha256 measured a low "
    "model-collapse risk against the stated reference under the stated engine version.",
    "A claim is admissible inside the validity window, for the same dataset (same sha256), "
    "when the collapse risk observed on re-validation exceeds the upper end of the certified "
    "interval by at least the claim deviation threshold.",
    "Not covered: any change to the dataset, data outside the reference's population, "
    "model failures unrelated to collapse (bugs, training choices), use after expiry.",
)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Frozen):
    max_collapse_risk: float = Field(description="eligibility: collapse_risk below this")
    max_interval_upper: float = Field(description="eligibility: 90% range upper end below this")
    min_rows: int = Field(description="eligibility: rows compared per side, at least")
    claim_deviation: float = Field(
        description="a claim passes pre-check when observed risk - interval upper >= this")


class Certificate(_Frozen):
    version: int = CERTIFICATE_VERSION
    certificate_id: str
    validation_id: str
    dataset_sha256: str
    dataset_rows: int
    dataset_columns: int
    reference_sha256: str
    collapse_risk: float
    collapse_risk_interval: tuple[float, float]
    risk_level: RiskLevel
    confidence_level: str
    thresholds: Thresholds
    engine_version: str
    coverage_terms: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    key_id: str = Field(description="sha256 of the raw Ed25519 public key, first 16 hex chars")

    @field_validator("issued_at", "expires_at")
    @classmethod
    def _utc_seconds(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("datetimes must carry a timezone")
        return value.astimezone(UTC).replace(microsecond=0)


class SignedCertificate(_Frozen):
    """What ``cert.json`` holds: the certificate and its detached Ed25519 signature."""

    certificate: Certificate
    algorithm: Literal["Ed25519"] = "Ed25519"
    signature: str = Field(description="base64 of the 64-byte signature of the canonical JSON")
    verification_code: str = Field(description="human check: sha256(signature), 12 hex, grouped")


def canonical_json(certificate: Certificate) -> bytes:
    """The exact bytes that are signed: sorted keys, no whitespace, UTF-8."""
    doc = certificate.model_dump(mode="json")
    return json.dumps(doc, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode("utf-8")


def build_certificate(result: ValidationResult, *, validation_id: str, key_id: str,
                      now: datetime, validity_days: int = DEFAULT_VALIDITY_DAYS,
                      rule: EligibilityRule | None = None,
                      claim_deviation: float = DEFAULT_CLAIM_DEVIATION,
                      certificate_id: str | None = None) -> Certificate:
    """The (unsigned) certificate for an eligible ``result``; raises ``NotEligible``."""
    rule = rule or EligibilityRule()
    verdict = check_eligibility(result, rule)
    if not verdict.eligible or result.reference is None:
        raise NotEligible("the validation is not eligible for a warranty: "
                          + "; ".join(verdict.reasons), details={"reasons": verdict.reasons})
    issued = now.astimezone(UTC).replace(microsecond=0)
    return Certificate(
        certificate_id=certificate_id or f"wty_{uuid.uuid4().hex}",
        validation_id=validation_id, dataset_sha256=result.dataset.sha256,
        dataset_rows=result.dataset.rows, dataset_columns=result.dataset.columns,
        reference_sha256=result.reference.sha256, collapse_risk=result.collapse_risk,
        collapse_risk_interval=result.confidence.interval, risk_level=result.risk_level,
        confidence_level=result.confidence.level,
        thresholds=Thresholds(max_collapse_risk=rule.max_collapse_risk,
                              max_interval_upper=rule.max_interval_upper,
                              min_rows=rule.min_rows, claim_deviation=claim_deviation),
        engine_version=result.engine.version, coverage_terms=DEFAULT_TERMS,
        issued_at=issued, expires_at=issued + timedelta(days=validity_days), key_id=key_id)
