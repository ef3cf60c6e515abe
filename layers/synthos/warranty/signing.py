"""Ed25519 signing and offline verification of warranty certificates.

Keys are passed in: in the cloud the private key comes from KMS / Secrets Manager (an adapter
hands its PEM or raw bytes here), locally from a key file (``load_private_key``,
``generate_keypair``). Verification needs only the published public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from synthos.errors import InvalidKey
from synthos.warranty.certificate import Certificate, SignedCertificate, canonical_json

PRIVATE_KEY_FILE, PUBLIC_KEY_FILE = "synthos-warranty.key.pem", "synthos-warranty.pub.pem"


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex chars of sha256 of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def verification_code(signature: bytes) -> str:
    """A code a person can compare: sha256 of the signature, 12 hex chars as XXXX-XXXX-XXXX."""
    digest = hashlib.sha256(signature).hexdigest()[:12].upper()
    return "-".join(digest[i:i + 4] for i in range(0, 12, 4))


def private_key_from_bytes(data: bytes) -> Ed25519PrivateKey:
    """A private key from PEM (PKCS#8, unencrypted) or the raw 32-byte seed."""
    try:
        if len(data) == 32:
            return Ed25519PrivateKey.from_private_bytes(data)
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidKey(f"not an Ed25519 private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidKey("the private key is not an Ed25519 key")
    return key


def public_key_from_bytes(data: bytes) -> Ed25519PublicKey:
    """A public key from PEM (SubjectPublicKeyInfo) or the raw 32 bytes."""
    try:
        if len(data) == 32:
            return Ed25519PublicKey.from_public_bytes(data)
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InvalidKey(f"not an Ed25519 public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidKey("the public key is not an Ed25519 key")
    return key


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    return private_key_from_bytes(Path(path).read_bytes())


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    return public_key_from_bytes(Path(path).read_bytes())


def generate_keypair(directory: str | Path) -> tuple[Path, Path]:
    """Write a new key pair as PEM files in ``directory`` (private one mode 0600)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private, public = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    private.touch(mode=0o600, exist_ok=False)
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def sign_certificate(certificate: Certificate, private_key: Ed25519PrivateKey
                     ) -> SignedCertificate:
    """Sign the canonical JSON of ``certificate``; its ``key_id`` must be this key's."""
    if certificate.key_id != key_id(private_key.public_key()):
        raise InvalidKey("the certificate's key_id does not belong to the signing key")
    signature = private_key.sign(canonical_json(certificate))
    return SignedCertificate(certificate=certificate,
                             signature=base64.b64encode(signature).decode("ascii"),
                             verification_code=verification_code(signature))


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str  # "valid", or the first check that failed


def verify_certificate(signed: SignedCertificate, public_key: Ed25519PublicKey, *,
                       now: datetime | None = None, dataset_sha256: str | None = None
                       ) -> Verification:
    """Check key, signature, verification code, validity window and (if given) the dataset.

    ``now`` defaults to the current UTC time; pass it to check at another instant.
    """
    cert = signed.certificate
    if cert.key_id != key_id(public_key):
        return Verification(False, f"signed with key {cert.key_id}, not with the key given "
                                   f"({key_id(public_key)})")
    try:
        signature = base64.b64decode(signed.signature, validate=True)
        public_key.verify(signature, canonical_json(cert))
    except (InvalidSignature, binascii.Error, ValueError):
        return Verification(False, "the signature does not match: the certificate was altered")
    if signed.verification_code != verification_code(signature):
        return Verification(False, "the verification code does not match the signature")
    at = (now or datetime.now(UTC)).astimezone(UTC)
    if at < cert.issued_at:
        return Verification(False, f"not yet valid (issued {cert.issued_at:%Y-%m-%d})")
    if at >= cert.expires_at:
        return Verification(False, f"expired on {cert.expires_at:%Y-%m-%d %H:%M} UTC")
    if dataset_sha256 is not None and dataset_sha256 != cert.dataset_sha256:
        return Verification(False, f"the dataset changed: sha256 {dataset_sha256[:16]}... is "
                                   f"not the certified {cert.dataset_sha256[:16]}...")
    return Verification(True, "valid")
