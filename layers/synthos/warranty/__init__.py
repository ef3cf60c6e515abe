"""Warranty certificates for low-risk validations: eligibility, Ed25519 signing, offline
verification, the printable certificate, and the claim pre-check and status machine.

Pure library code: keys, clocks and ids are passed in (``docs/warranty.md``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from synthos.result import ValidationResult
from synthos.warranty.certificate import (
    DEFAULT_VALIDITY_DAYS,
    Certificate,
    SignedCertificate,
    Thresholds,
    build_certificate,
    canonical_json,
)
from synthos.warranty.claims import ClaimEvidence, PreCheck, precheck_claim, transition
from synthos.warranty.eligibility import Eligibility, EligibilityRule, check_eligibility
from synthos.warranty.signing import (
    Verification,
    generate_keypair,
    key_id,
    load_private_key,
    load_public_key,
    private_key_from_bytes,
    public_key_from_bytes,
    sign_certificate,
    verification_code,
    verify_certificate,
)


def issue_certificate(result: ValidationResult, private_key: Ed25519PrivateKey, *,
                      validation_id: str, now: datetime,
                      validity_days: int = DEFAULT_VALIDITY_DAYS,
                      certificate_id: str | None = None) -> SignedCertificate:
    """Build and sign the certificate of an eligible result (``NotEligible`` otherwise)."""
    cert = build_certificate(result, validation_id=validation_id,
                             key_id=key_id(private_key.public_key()), now=now,
                             validity_days=validity_days, certificate_id=certificate_id)
    return sign_certificate(cert, private_key)


def render_certificate_pdf(signed: SignedCertificate, out: Path | BinaryIO) -> None:
    """Write the certificate PDF to a path or a binary file object.

    reportlab is imported here, on first use, not when ``synthos.warranty`` is imported: the
    API and Lambda cold starts that sign, verify or pre-check claims never pay for it.
    """
    from synthos.warranty.pdf import render_certificate_pdf as render

    render(signed, out)


__all__ = [
    "Certificate", "ClaimEvidence", "Eligibility", "EligibilityRule", "PreCheck",
    "SignedCertificate", "Thresholds", "Verification", "build_certificate", "canonical_json",
    "check_eligibility", "generate_keypair", "issue_certificate", "key_id", "load_private_key",
    "load_public_key", "precheck_claim", "private_key_from_bytes", "public_key_from_bytes",
    "render_certificate_pdf", "sign_certificate", "transition", "verification_code",
    "verify_certificate",
]
