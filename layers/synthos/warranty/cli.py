"""The warranty subcommands of the ``synthos`` CLI (wired in ``synthos.cli``).

    synthos generate-key DIR
    synthos issue-certificate RESULT.json --key PRIVATE.pem --validation-id ID --out CERT.json
    synthos verify-certificate CERT.json --public-key PUBLIC.pem [--dataset FILE]

``verify-certificate`` exits 0 when valid, 3 when invalid (one line saying why), 2 when an
input cannot be read (missing file, not JSON, not a key).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from synthos.errors import InputError
from synthos.io.readers import sha256_file
from synthos.result import ValidationResult
from synthos.warranty import (
    SignedCertificate,
    generate_keypair,
    issue_certificate,
    load_private_key,
    load_public_key,
    render_certificate_pdf,
    verify_certificate,
)

EXIT_OK, EXIT_INVALID = 0, 3


def add_warranty_commands(sub: Any) -> None:
    """Add the warranty subparsers to the ``synthos`` parser's subcommands."""
    g = sub.add_parser("generate-key", help="write a local Ed25519 key pair (PEM) into DIR")
    g.add_argument("directory")
    i = sub.add_parser("issue-certificate", help="sign a warranty for an eligible result")
    i.add_argument("result", help="validation result JSON (synthos validate --json)")
    i.add_argument("--key", required=True, help="Ed25519 private key (PEM)")
    i.add_argument("--validation-id", required=True, help="id of the validation certified")
    i.add_argument("--out", required=True, help="write the signed certificate JSON here")
    i.add_argument("--pdf", dest="pdf_out", help="also write the printable certificate here")
    i.add_argument("--days", type=int, default=90, help="validity in days (default 90)")
    v = sub.add_parser("verify-certificate", help="verify a certificate offline")
    v.add_argument("certificate", help="certificate JSON")
    v.add_argument("--public-key", required=True, help="the published Ed25519 public key (PEM)")
    v.add_argument("--dataset", help="also check this file is the certified dataset (sha256)")


def write_atomically(out: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through ``write`` into a temporary sibling, then rename: no half-written file."""
    tmp = out.with_name(out.name + ".partial")
    with tmp.open("wb") as f:
        write(f)
    tmp.replace(out)


def _read_json(path: str, what: str) -> object:
    try:
        return json.loads(Path(path).read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a JSON {what}: {exc}") from None


def run_generate_key(args: argparse.Namespace) -> int:
    private, public = generate_keypair(args.directory)
    print(f"private key {private} (keep secret), public key {public} (publish)")
    return EXIT_OK


def run_issue_certificate(args: argparse.Namespace) -> int:
    try:
        result = ValidationResult.model_validate(_read_json(args.result, "validation result"))
    except ValidationError as exc:
        raise InputError(f"{args.result} is not a validation result: "
                         f"{exc.error_count()} field errors") from None
    signed = issue_certificate(result, load_private_key(args.key),
                               validation_id=args.validation_id, now=datetime.now(UTC),
                               validity_days=args.days)
    out = Path(args.out)
    write_atomically(out, lambda f: f.write(signed.model_dump_json(indent=2).encode()))
    if args.pdf_out:
        write_atomically(Path(args.pdf_out), lambda f: render_certificate_pdf(signed, f))
    print(f"certificate {signed.certificate.certificate_id} valid until "
          f"{signed.certificate.expires_at:%Y-%m-%d}; verification code "
          f"{signed.verification_code}")
    return EXIT_OK


def run_verify_certificate(args: argparse.Namespace) -> int:
    doc = _read_json(args.certificate, "certificate")
    public_key = load_public_key(args.public_key)
    digest = sha256_file(args.dataset) if args.dataset else None
    try:
        signed = SignedCertificate.model_validate(doc)
    except ValidationError as exc:
        print(f"synthos: invalid certificate: not a Synthos certificate "
              f"({exc.error_count()} field errors)", file=sys.stderr)
        return EXIT_INVALID
    check = verify_certificate(signed, public_key, dataset_sha256=digest)
    if not check.valid:
        print(f"synthos: invalid certificate: {check.reason}", file=sys.stderr)
        return EXIT_INVALID
    c = signed.certificate
    print(f"valid: certificate {c.certificate_id} for dataset {c.dataset_sha256[:16]}..., "
          f"collapse risk {c.collapse_risk:.1f}, expires {c.expires_at:%Y-%m-%d}, "
          f"verification code {signed.verification_code}")
    return EXIT_OK


WARRANTY_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "generate-key": run_generate_key,
    "issue-certificate": run_issue_certificate,
    "verify-certificate": run_verify_certificate,
}
