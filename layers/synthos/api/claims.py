"""Warranty claims: submit with evidence (automatic pre-check by :mod:`synthos.warranty`),
list, and the admin decision. Claims live under their warranty, which is tenant-scoped.

    submitted --(pre-check, system)--> under_review | rejected
    under_review --(admin)--> approved | rejected
"""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from synthos.api import warranties
from synthos.api.errors import Conflict, NotFound
from synthos.api.payloads import ClaimDecisionRequest, ClaimOut, is_id, new_id
from synthos.api.principal import Principal
from synthos.aws.settings import Settings
from synthos.aws.signing_key import public_key
from synthos.aws.tables import ClaimModel, lost_condition, utcnow
from synthos.errors import IllegalClaimTransition
from synthos.warranty import ClaimEvidence, PreCheck, precheck_claim, transition


def claim_out(item: ClaimModel) -> ClaimOut:
    return ClaimOut(claim_id=item.claim_id, warranty_id=item.warranty_id, status=item.status,
                    reason=item.reason,
                    deviation=None if item.deviation is None else float(item.deviation),
                    evidence=dict(item.evidence), decided_by=item.decided_by,
                    created_at=item.created_at, updated_at=item.updated_at)


def _precheck(settings: Settings, item: warranties.WarrantyModel, evidence: ClaimEvidence,
              at: datetime) -> PreCheck:
    """The library's pre-check, after the checks only the store knows (status, parse)."""
    signed = warranties.signed_of(item)
    if signed is None or signed.certificate.certificate_id != item.warranty_id:
        return PreCheck("rejected", "certificate invalid: the stored certificate is malformed",
                        None)
    if item.status == "revoked":
        return PreCheck("rejected", "the warranty was revoked", None)
    return precheck_claim(signed, public_key(settings), evidence, submitted_at=at)


def submit(settings: Settings, principal: Principal, warranty_id: str,
           evidence: ClaimEvidence, now: datetime | None = None) -> ClaimOut:
    """Record the claim with the pre-check's outcome (under_review or rejected, with why)."""
    item = warranties.load(principal.tenant_id, warranty_id)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    check = _precheck(settings, item, evidence, at)
    status = transition("submitted", check.status, "system")
    claim = ClaimModel(warranty_id, new_id("clm"), tenant_id=principal.tenant_id, status=status,
                       evidence=evidence.model_dump(mode="json"), reason=check.reason,
                       deviation=check.deviation, created_at=at, updated_at=at)
    claim.save(condition=ClaimModel.claim_id.does_not_exist())
    return claim_out(claim)


def list_claims(principal: Principal, warranty_id: str) -> list[ClaimOut]:
    warranties.load(principal.tenant_id, warranty_id)
    query = ClaimModel.query(warranty_id,
                             filter_condition=ClaimModel.tenant_id == principal.tenant_id)
    return [claim_out(c) for c in query]


def _load(principal: Principal, warranty_id: str, claim_id: str) -> ClaimModel:
    warranties.load(principal.tenant_id, warranty_id)
    if not is_id(claim_id):
        raise NotFound(f"no claim {claim_id[:64]}")
    try:
        claim = ClaimModel.get(warranty_id, claim_id)
    except DoesNotExist as exc:
        raise NotFound(f"no claim {claim_id}") from exc
    if claim.tenant_id != principal.tenant_id:
        raise NotFound(f"no claim {claim_id}")
    return claim


def decide(principal: Principal, warranty_id: str, claim_id: str,
           req: ClaimDecisionRequest) -> ClaimOut:
    """An admin approves or rejects a claim under review (conditional on its status)."""
    principal.require("admin")
    claim = _load(principal, warranty_id, claim_id)
    target = "approved" if req.decision == "approve" else "rejected"
    try:
        transition(claim.status, target, "admin")  # type: ignore[arg-type]
    except IllegalClaimTransition as exc:
        raise Conflict(exc.message, details=exc.details) from exc
    reason = req.note or f"{target} by an administrator"
    try:
        claim.update(actions=[ClaimModel.status.set(target), ClaimModel.reason.set(reason),
                              ClaimModel.decided_by.set(principal.user_id),
                              ClaimModel.updated_at.set(utcnow())],
                     condition=ClaimModel.status == claim.status)
    except UpdateError as exc:
        if not lost_condition(exc):
            raise
        raise Conflict("the claim was decided by someone else meanwhile") from exc
    return claim_out(claim)
