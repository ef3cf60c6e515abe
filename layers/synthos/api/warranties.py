"""Warranties: issue a signed certificate for an eligible completed validation, list/get them,
verify one publicly, revoke one (admin), and expire those past their date (the pipeline's
expiry schedule).

The certificate is built and signed by :mod:`synthos.warranty` (Ed25519); it is stored as issued
in the warranties table and as ``cert.json`` + PDF in S3 (``keys.warranty_key``).

One active warranty per validation: before signing, the validation's record is pointed at the
new warranty id with a conditional write (no pointer yet, or still the pointer read, which
names a warranty that is no longer active). Of two racing requests exactly one wins; the other
gets 409. A pointer to a warranty not yet stored means "being issued" for
:data:`RESERVATION_TTL` (the id carries its creation time), after which it may be replaced; a
failed issue gives its reservation back.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError
from pynamodb.exceptions import DoesNotExist, UpdateError

from synthos.api import datasets, validations
from synthos.api.errors import Conflict, NotFound
from synthos.api.payloads import PublicKeyOut, VerifyOut, WarrantyOut, is_id, new_id
from synthos.api.principal import Principal
from synthos.aws import keys, results
from synthos.aws.settings import Settings
from synthos.aws.signing_key import public_key, signing_key
from synthos.aws.tables import JobModel, WarrantyModel, lost_condition
from synthos.warranty import (
    SignedCertificate,
    issue_certificate,
    key_id,
    render_certificate_pdf,
    verify_certificate,
)

ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"
RESERVATION_TTL = timedelta(minutes=5)  # an issue takes seconds; a crashed one frees after this


def warranty_out(settings: Settings, item: WarrantyModel, *, with_pdf: bool = False
                 ) -> WarrantyOut:
    pdf_url = None
    if with_pdf and item.pdf_key:
        try:
            pdf_url = results.presign_get(settings, item.pdf_key,
                                          filename=f"{item.warranty_id}.pdf")
        except results.ResultMissing:
            pdf_url = None
    return WarrantyOut(
        warranty_id=item.warranty_id, validation_id=item.validation_id,
        dataset_id=item.dataset_id, status=item.status, issued_at=item.issued_at,
        expires_at=item.expires_at,
        verification_code=str(item.certificate.get("verification_code", "")),
        certificate=item.certificate, pdf_url=pdf_url, revoked_at=item.revoked_at,
        revoked_by=item.revoked_by, revocation_reason=item.revocation_reason)


def load(tenant_id: str, warranty_id: str) -> WarrantyModel:
    if not is_id(warranty_id):
        raise NotFound(f"no warranty {warranty_id[:64]}")
    try:
        return WarrantyModel.get(tenant_id, warranty_id)
    except DoesNotExist as exc:
        raise NotFound(f"no warranty {warranty_id}") from exc


def active_of(tenant_id: str, validation_id: str) -> list[str]:
    """Ids of the tenant's active warranties on one validation (``by_validation`` index, the
    tenant in the key condition: only that validation's warranties are read)."""
    return [w.warranty_id for w in WarrantyModel.by_validation.query(
        validation_id, WarrantyModel.tenant_id == tenant_id,
        filter_condition=WarrantyModel.status == ACTIVE)]


def issue(settings: Settings, principal: Principal, validation_id: str,
          now: datetime | None = None) -> WarrantyOut:
    """Sign and store the certificate of an eligible validation (NotEligible: 400)."""
    tenant = principal.tenant_id
    job = validations.load(tenant, validation_id)
    if job.status != "completed":
        raise Conflict(f"validation {validation_id} is {job.status}; a warranty needs a "
                       "completed validation", details={"status": job.status})
    existing = active_of(tenant, validation_id)
    if existing:
        raise Conflict("an active warranty already covers this validation",
                       details={"warranty_id": existing[0]})
    result = validations.read_result(settings, job)
    dataset = datasets.load(tenant, job.dataset_id)
    if dataset.sha256 and dataset.sha256 != result.dataset.sha256:
        raise Conflict("the dataset changed since it was validated; validate it again")
    warranty_id = new_id("wty")
    previous = _reserve(job, warranty_id)
    try:
        signed = issue_certificate(result, signing_key(settings), validation_id=validation_id,
                                   now=now or datetime.now(UTC), certificate_id=warranty_id)
        item = _store(settings, tenant, job.dataset_id, signed)
    except BaseException:
        _release(job, warranty_id, previous)
        raise
    return warranty_out(settings, item, with_pdf=True)


def _created_at(warranty_id: str) -> datetime:
    """The creation time ``new_id`` put in the id (12 hex digits of milliseconds)."""
    return datetime.fromtimestamp(int(warranty_id.split("_", 1)[1][:12], 16) / 1000, UTC)


def _blocks(tenant: str, warranty_id: str) -> bool:
    """Whether the warranty a validation points at still covers it: active, or not yet stored
    and reserved less than RESERVATION_TTL ago (another request is issuing it)."""
    try:
        return WarrantyModel.get(tenant, warranty_id).status == ACTIVE
    except DoesNotExist:
        return datetime.now(UTC) - _created_at(warranty_id) < RESERVATION_TTL


def _reserve(job: JobModel, warranty_id: str) -> str | None:
    """Point the validation at ``warranty_id`` (conditional: exactly one of two racing requests
    wins; Conflict for the other); returns the pointer it replaced."""
    previous = job.warranty_id
    if previous is not None and _blocks(job.tenant_id, previous):
        raise Conflict("an active warranty already covers this validation (or is being "
                       "issued)", details={"warranty_id": previous})
    condition = (JobModel.warranty_id.does_not_exist() if previous is None
                 else JobModel.warranty_id == previous)
    try:
        job.update(actions=[JobModel.warranty_id.set(warranty_id)], condition=condition)
    except UpdateError as exc:
        if not lost_condition(exc):
            raise
        raise Conflict("another warranty for this validation was issued meanwhile") from exc
    return previous


def _release(job: JobModel, warranty_id: str, previous: str | None) -> None:
    """Give a failed issue's reservation back (only if it is still ours)."""
    action = (JobModel.warranty_id.remove() if previous is None
              else JobModel.warranty_id.set(previous))
    try:
        job.update(actions=[action], condition=JobModel.warranty_id == warranty_id)
    except UpdateError as exc:
        if not lost_condition(exc):
            raise


def _store(settings: Settings, tenant: str, dataset_id: str,
           signed: SignedCertificate) -> WarrantyModel:
    """S3 first (JSON + PDF), then the record, so a record never points at nothing."""
    cert = signed.certificate
    doc = signed.model_dump(mode="json")
    pdf_key = keys.warranty_key(tenant, cert.certificate_id, "pdf")
    results.put_bytes(settings, keys.warranty_key(tenant, cert.certificate_id, "json"),
                      json.dumps(doc, indent=2).encode("utf-8"), "application/json")
    buffer = io.BytesIO()
    render_certificate_pdf(signed, buffer)
    results.put_bytes(settings, pdf_key, buffer.getvalue(), "application/pdf")
    item = WarrantyModel(tenant, cert.certificate_id, validation_id=cert.validation_id,
                         dataset_id=dataset_id, certificate=doc, status=ACTIVE,
                         issued_at=cert.issued_at, expires_at=cert.expires_at, pdf_key=pdf_key)
    item.save(condition=WarrantyModel.warranty_id.does_not_exist())
    return item


def get(settings: Settings, principal: Principal, warranty_id: str) -> WarrantyOut:
    return warranty_out(settings, load(principal.tenant_id, warranty_id), with_pdf=True)


def revoke(settings: Settings, principal: Principal, warranty_id: str, reason: str,
           now: datetime | None = None) -> WarrantyOut:
    """An admin moves an active warranty of the tenant to revoked, recording why, who and when
    (conditional: still active and not past its date; Conflict otherwise)."""
    principal.require("admin")
    item = load(principal.tenant_id, warranty_id)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        item.update(actions=[WarrantyModel.status.set(REVOKED),
                             WarrantyModel.revoked_at.set(at),
                             WarrantyModel.revoked_by.set(principal.user_id),
                             WarrantyModel.revocation_reason.set(reason)],
                    condition=(WarrantyModel.status == ACTIVE)
                    & (WarrantyModel.expires_at > at))
    except UpdateError as exc:
        if not lost_condition(exc):
            raise
        current = load(principal.tenant_id, warranty_id)
        status = current.status if current.status != ACTIVE else EXPIRED  # past its date
        raise Conflict(f"warranty {warranty_id} is {status}; only an active warranty can be "
                       "revoked", details={"status": status}) from exc
    return warranty_out(settings, item, with_pdf=True)


def list_warranties(settings: Settings, principal: Principal, limit: int,
                    start: dict[str, Any] | None
                    ) -> tuple[list[WarrantyOut], dict[str, Any] | None]:
    query = WarrantyModel.query(principal.tenant_id, scan_index_forward=False, limit=limit,
                                last_evaluated_key=start)
    return [warranty_out(settings, w) for w in query], query.last_evaluated_key


def signed_of(item: WarrantyModel) -> SignedCertificate | None:
    """The stored certificate, or None when it no longer parses as one (tampered)."""
    try:
        return SignedCertificate.model_validate(item.certificate)
    except ValidationError:
        return None


def _dataset_sha(item: WarrantyModel) -> str | None:
    try:
        return datasets.load(item.tenant_id, item.dataset_id).sha256
    except NotFound:
        return None  # deleted: only a hash the caller supplies can be compared


def find_public(warranty_id: str) -> WarrantyModel:
    """A warranty by id alone (the by_id index), for the public verify endpoint."""
    if not is_id(warranty_id):
        raise NotFound(f"no warranty {warranty_id[:64]}")
    for item in WarrantyModel.by_id.query(warranty_id, limit=1):
        return item
    raise NotFound(f"no warranty {warranty_id}")


def public_key_out(settings: Settings) -> PublicKeyOut:
    """The public half of the signing key, published so that anyone can verify offline."""
    key = public_key(settings)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = key.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return PublicKeyOut(key_id=key_id(key), fingerprint_sha256=hashlib.sha256(raw).hexdigest(),
                        public_key_pem=pem.decode("ascii"),
                        public_key_raw_b64=base64.b64encode(raw).decode("ascii"))


def verify(settings: Settings, warranty_id: str, *, dataset_sha256: str | None = None,
           now: datetime | None = None) -> VerifyOut:
    """Public verification: signature, window, status and dataset, each reported.

    The dataset check compares the certified sha256 with the dataset record's current one and
    with ``dataset_sha256`` when the caller supplies the hash of their file."""
    item = find_public(warranty_id)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    signed = signed_of(item)
    if signed is None or signed.certificate.certificate_id != item.warranty_id:
        return VerifyOut(warranty_id=warranty_id, valid=False, status=item.status,
                         reasons=["the stored certificate is malformed or not this warranty's"],
                         checks={"signature": False})
    cert = signed.certificate
    checks: dict[str, bool] = {}
    reasons: list[str] = []
    sig = verify_certificate(signed, public_key(settings), now=cert.issued_at)
    checks["signature"] = sig.valid
    if not sig.valid:
        reasons.append(sig.reason)
    checks["window"] = cert.issued_at <= at < cert.expires_at
    if not checks["window"]:
        reasons.append(f"outside its validity window ({cert.issued_at:%Y-%m-%d %H:%M} to "
                       f"{cert.expires_at:%Y-%m-%d %H:%M} UTC)")
    checks["status"] = item.status == ACTIVE
    if not checks["status"]:
        reasons.append(f"the warranty is {item.status}")
    checks["dataset"] = True
    for label, sha in (("the dataset on record", _dataset_sha(item)),
                       ("the file you supplied", dataset_sha256)):
        if sha is not None and sha != cert.dataset_sha256:
            checks["dataset"] = False
            reasons.append(f"{label} has sha256 {sha[:16]}..., not the certified "
                           f"{cert.dataset_sha256[:16]}...")
    return VerifyOut(warranty_id=warranty_id, valid=not reasons, status=item.status,
                     reasons=reasons, checks=checks, verification_code=signed.verification_code,
                     key_id=cert.key_id, expires_at=cert.expires_at,
                     collapse_risk=cert.collapse_risk)


def expire_due(settings: Settings, now: datetime | None = None) -> int:
    """Move every active warranty whose ``expires_at`` is past to expired (by_status index,
    conditional on still being active); returns how many moved."""
    del settings  # tables are bound at the edge; kept for the schedule handler's symmetry
    at = (now or datetime.now(UTC)).astimezone(UTC)
    moved = 0
    for item in WarrantyModel.by_status.query(ACTIVE, WarrantyModel.expires_at <= at):
        try:
            WarrantyModel(item.tenant_id, item.warranty_id).update(
                actions=[WarrantyModel.status.set(EXPIRED)],
                condition=(WarrantyModel.status == ACTIVE) & (WarrantyModel.expires_at <= at))
        except UpdateError as exc:
            if not lost_condition(exc):
                raise
            continue  # revoked or already expired by a concurrent run
        moved += 1
    return moved
