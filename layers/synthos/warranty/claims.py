"""Warranty claims: the automatic pre-check and the status machine, both pure.

Statuses and who may move them::

    submitted --(pre-check, system)--> under_review | rejected
    under_review --(admin)--> approved | rejected

``approved`` and ``rejected`` are final. Pre-check clauses, in order (the first failure is the
reason): the claim is inside the validity window; the certificate verifies against the public
key; the dataset is unchanged (same sha256); the observed collapse risk exceeds the upper end of
the certified interval by at least ``thresholds.claim_deviation`` points (default 10).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from synthos.errors import IllegalClaimTransition
from synthos.warranty.certificate import SignedCertificate
from synthos.warranty.signing import verify_certificate

ClaimStatus = Literal["submitted", "under_review", "approved", "rejected"]
Actor = Literal["system", "admin"]

TRANSITIONS: dict[tuple[str, str], Actor] = {
    ("submitted", "under_review"): "system",
    ("submitted", "rejected"): "system",
    ("under_review", "approved"): "admin",
    ("under_review", "rejected"): "admin",
}


class ClaimEvidence(BaseModel):
    """What the customer observed, against what the certificate predicted."""

    model_config = ConfigDict(extra="forbid")

    dataset_sha256: str = Field(description="sha256 of the dataset the claim is about")
    observed_collapse_risk: float = Field(ge=0, le=100,
                                          description="collapse risk measured on re-validation")
    observed_metrics: dict[str, float] = Field(
        default_factory=dict, description="other metrics observed (kept for the reviewer)")
    description: str = ""


@dataclass(frozen=True)
class PreCheck:
    status: Literal["under_review", "rejected"]
    reason: str
    deviation: float | None  # observed risk minus certified interval upper end, when reached


def precheck_claim(signed: SignedCertificate, public_key: Ed25519PublicKey,
                   evidence: ClaimEvidence, *, submitted_at: datetime) -> PreCheck:
    """Decide where a submitted claim goes next; the reason says why."""
    cert = signed.certificate
    at = submitted_at.astimezone(UTC)
    if not cert.issued_at <= at < cert.expires_at:
        return PreCheck("rejected", f"submitted outside the warranty window "
                        f"({cert.issued_at:%Y-%m-%d} to {cert.expires_at:%Y-%m-%d})", None)
    check = verify_certificate(signed, public_key, now=at)
    if not check.valid:
        return PreCheck("rejected", f"certificate invalid: {check.reason}", None)
    if evidence.dataset_sha256 != cert.dataset_sha256:
        return PreCheck("rejected", "the dataset changed since certification (sha256 differs)",
                        None)
    deviation = evidence.observed_collapse_risk - cert.collapse_risk_interval[1]
    needed = cert.thresholds.claim_deviation
    if deviation < needed:
        return PreCheck("rejected", f"observed risk {evidence.observed_collapse_risk:.1f} is "
                        f"{deviation:+.1f} from the certified upper bound "
                        f"{cert.collapse_risk_interval[1]:.1f}; needs +{needed:g}", deviation)
    return PreCheck("under_review", f"observed risk {evidence.observed_collapse_risk:.1f} exceeds "
                    f"the certified upper bound by {deviation:.1f} (>= {needed:g})", deviation)


def transition(current: ClaimStatus, target: ClaimStatus, actor: Actor) -> ClaimStatus:
    """The next status, or ``IllegalClaimTransition`` naming what is allowed."""
    allowed_actor = TRANSITIONS.get((current, target))
    if allowed_actor is None:
        options = sorted(t for (s, t) in TRANSITIONS if s == current)
        raise IllegalClaimTransition(
            f"a claim cannot go from {current} to {target}"
            + (f" (allowed: {', '.join(options)})" if options else f" ({current} is final)"),
            details={"from": current, "to": target})
    if allowed_actor != actor:
        raise IllegalClaimTransition(
            f"only {allowed_actor} may move a claim from {current} to {target}",
            details={"from": current, "to": target, "actor": actor})
    return target
