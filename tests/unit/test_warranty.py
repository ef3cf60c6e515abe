"""Warranty: eligibility, signing, tamper detection, claims, and the verify CLI."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader

from synthos import groundtruth as gt
from synthos.cli import main
from synthos.engine import ValidateOptions, validate
from synthos.errors import IllegalClaimTransition, InvalidKey, NotEligible
from synthos.result import ValidationResult
from synthos.warranty import (
    ClaimEvidence,
    SignedCertificate,
    canonical_json,
    check_eligibility,
    generate_keypair,
    issue_certificate,
    load_private_key,
    load_public_key,
    precheck_claim,
    render_certificate_pdf,
    transition,
    verify_certificate,
)

NOW = datetime(2026, 11, 27, 8, 0, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[2] / "layers" / "synthos" / "data"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("warranty")
    x = gt.synthetic_gaussian(1200, 4, np.random.default_rng(3))
    paths = {"reference": folder / "ref.parquet", "dataset": folder / "ds.parquet",
             "other": folder / "other.parquet"}
    pq.write_table(gt.to_table(x[:600]), paths["reference"])
    pq.write_table(gt.to_table(x[600:]), paths["dataset"])
    pq.write_table(gt.to_table(x[600:1100]), paths["other"])
    return paths


@pytest.fixture(scope="module")
def low(files) -> ValidationResult:
    opts = ValidateOptions(replicates=8, recommendations=False)
    result = validate(files["dataset"], files["reference"], opts)
    assert result.risk_level == "low"
    return result


@pytest.fixture(scope="module")
def critical() -> ValidationResult:
    opts = ValidateOptions(replicates=8, recommendations=False)
    return validate(DATA / "breast_cancer_synthetic_collapsed.parquet",
                    DATA / "breast_cancer_reference.parquet", opts)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def signed(low, key) -> SignedCertificate:
    return issue_certificate(low, key, validation_id="val_1", now=NOW, certificate_id="wty_1")


# --- eligibility ---------------------------------------------------------------------------

def test_low_result_is_eligible(low):
    verdict = check_eligibility(low)
    assert verdict.eligible, verdict.reasons


def test_critical_result_is_not_eligible_and_says_why(critical, key):
    verdict = check_eligibility(critical)
    assert not verdict.eligible
    assert any("is not low" in r for r in verdict.reasons)
    with pytest.raises(NotEligible):
        issue_certificate(critical, key, validation_id="v", now=NOW)


def test_reference_free_result_is_not_eligible(files):
    r = validate(files["dataset"], None, ValidateOptions(replicates=8))
    reasons = check_eligibility(r).reasons
    assert any("no real reference" in x for x in reasons)
    assert any("confidence is low" in x for x in reasons)


def test_wide_interval_is_not_eligible(low):
    wide = low.model_copy(update={"confidence": low.confidence.model_copy(
        update={"interval": (1.0, 60.0)})})
    assert any("90% range reaches 60.0" in r for r in check_eligibility(wide).reasons)


# --- certificate and signature -------------------------------------------------------------

def test_certificate_fields_and_round_trip(signed, low, key):
    c = signed.certificate
    assert c.dataset_sha256 == low.dataset.sha256 and c.validation_id == "val_1"
    assert c.collapse_risk == low.collapse_risk
    assert c.expires_at - c.issued_at == timedelta(days=90)
    again = SignedCertificate.model_validate_json(signed.model_dump_json())
    assert canonical_json(again.certificate) == canonical_json(c)
    check = verify_certificate(again, key.public_key(), now=NOW + timedelta(days=1),
                               dataset_sha256=low.dataset.sha256)
    assert check.valid, check.reason
    assert len(signed.verification_code) == 14 and signed.verification_code.count("-") == 2


def test_canonical_json_is_sorted_and_compact(signed):
    raw = canonical_json(signed.certificate)
    assert b" " not in raw.split(b'"coverage_terms"')[0]
    doc = json.loads(raw)
    assert list(doc) == sorted(doc)


_TAMPER = {
    "certificate_id": "wty_2", "validation_id": "val_2", "dataset_sha256": "0" * 64,
    "dataset_rows": 1, "dataset_columns": 99, "reference_sha256": "1" * 64,
    "collapse_risk": 1.0, "collapse_risk_interval": (0.0, 1.0), "risk_level": "medium",
    "confidence_level": "high", "engine_version": "9.9.9", "coverage_terms": ("anything",),
    "issued_at": NOW - timedelta(days=1), "expires_at": NOW + timedelta(days=900),
    "version": 2,
}


@pytest.mark.parametrize("field", sorted(_TAMPER))
def test_tampering_with_any_field_is_detected(signed, key, field):
    changed = signed.certificate.model_copy(update={field: _TAMPER[field]})
    assert getattr(changed, field) != getattr(signed.certificate, field)
    forged = signed.model_copy(update={"certificate": changed})
    check = verify_certificate(forged, key.public_key(), now=NOW + timedelta(days=1))
    assert not check.valid and "altered" in check.reason


def test_tampered_thresholds_are_detected(signed, key):
    thresholds = signed.certificate.thresholds.model_copy(update={"claim_deviation": 0.0})
    forged = signed.model_copy(update={"certificate": signed.certificate.model_copy(
        update={"thresholds": thresholds})})
    assert not verify_certificate(forged, key.public_key(), now=NOW).valid


def test_tampered_signature_or_code_is_detected(signed, key):
    sig = bytearray(base64.b64decode(signed.signature))
    sig[0] ^= 1
    bad_sig = signed.model_copy(update={"signature": base64.b64encode(bytes(sig)).decode()})
    assert not verify_certificate(bad_sig, key.public_key(), now=NOW).valid
    bad_code = signed.model_copy(update={"verification_code": "0000-0000-0000"})
    assert "verification code" in verify_certificate(bad_code, key.public_key(), now=NOW).reason


def test_wrong_key_fails(signed):
    check = verify_certificate(signed, Ed25519PrivateKey.generate().public_key(), now=NOW)
    assert not check.valid and "not with the key given" in check.reason


def test_forged_key_id_with_other_key_fails(signed, key):
    other = Ed25519PrivateKey.generate()
    forged = signed.model_copy(update={"signature": base64.b64encode(
        other.sign(canonical_json(signed.certificate))).decode()})
    assert not verify_certificate(forged, key.public_key(), now=NOW).valid


def test_expiry_with_injected_clock(signed, key):
    pub = key.public_key()
    assert verify_certificate(signed, pub, now=NOW + timedelta(days=89, hours=23)).valid
    late = verify_certificate(signed, pub, now=NOW + timedelta(days=90))
    assert not late.valid and "expired" in late.reason
    assert "not yet valid" in verify_certificate(signed, pub, now=NOW - timedelta(1)).reason


def test_dataset_hash_mismatch(signed, key):
    check = verify_certificate(signed, key.public_key(), now=NOW, dataset_sha256="f" * 64)
    assert not check.valid and "dataset changed" in check.reason


def test_key_files_round_trip(tmp_path, low):
    private, public = generate_keypair(tmp_path)
    assert private.stat().st_mode & 0o077 == 0
    s = issue_certificate(low, load_private_key(private), validation_id="v", now=NOW)
    assert verify_certificate(s, load_public_key(public), now=NOW).valid
    with pytest.raises(InvalidKey):
        load_public_key(private)


def test_certificate_pdf_carries_signature_and_code(signed):
    buf = io.BytesIO()
    render_certificate_pdf(signed, buf)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(buf.getvalue())).pages)
    assert signed.verification_code in text
    assert signed.certificate.dataset_sha256 in text
    assert signed.signature[:64] in text


def test_importing_warranty_does_not_import_reportlab():
    # Setup: a fresh interpreter (this one may already hold reportlab from other tests)
    code = ("import sys, synthos.warranty, synthos.api.warranties, synthos.api.claims; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'reportlab'))")
    # Run
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    # Assert: the PDF renderer is imported on first use, not on the cold-start path
    assert done.returncode == 0, done.stderr[-800:]
    assert done.stdout.strip() == "[]"


# --- claims --------------------------------------------------------------------------------

def _evidence(signed, risk, sha=None):
    return ClaimEvidence(dataset_sha256=sha or signed.certificate.dataset_sha256,
                         observed_collapse_risk=risk)


def test_claim_beyond_deviation_goes_under_review(signed, key):
    upper = signed.certificate.collapse_risk_interval[1]
    out = precheck_claim(signed, key.public_key(), _evidence(signed, upper + 10.5),
                         submitted_at=NOW + timedelta(days=10))
    assert out.status == "under_review" and out.deviation == pytest.approx(10.5)


@pytest.mark.parametrize(("days", "risk_above", "sha", "reason"), [
    (10, 5.0, None, "needs +10"),
    (91, 50.0, None, "outside the warranty window"),
    (10, 50.0, "e" * 64, "dataset changed"),
])
def test_claim_rejections(signed, key, days, risk_above, sha, reason):
    risk = min(100.0, signed.certificate.collapse_risk_interval[1] + risk_above)
    out = precheck_claim(signed, key.public_key(), _evidence(signed, risk, sha),
                         submitted_at=NOW + timedelta(days=days))
    assert out.status == "rejected" and reason in out.reason


def test_claim_on_tampered_certificate_is_rejected(signed, key):
    forged = signed.model_copy(update={"certificate": signed.certificate.model_copy(
        update={"collapse_risk_interval": (0.0, 0.0)})})
    out = precheck_claim(forged, key.public_key(), _evidence(signed, 50.0),
                         submitted_at=NOW + timedelta(days=1))
    assert out.status == "rejected" and out.reason.startswith("certificate invalid")


def test_legal_claim_transitions():
    assert transition("submitted", "under_review", "system") == "under_review"
    assert transition("submitted", "rejected", "system") == "rejected"
    assert transition("under_review", "approved", "admin") == "approved"
    assert transition("under_review", "rejected", "admin") == "rejected"


@pytest.mark.parametrize(("current", "target", "actor"), [
    ("submitted", "approved", "admin"),
    ("approved", "rejected", "admin"),
    ("rejected", "under_review", "system"),
    ("under_review", "submitted", "admin"),
    ("under_review", "approved", "system"),
    ("submitted", "under_review", "admin"),
])
def test_illegal_claim_transitions(current, target, actor):
    with pytest.raises(IllegalClaimTransition) as err:
        transition(current, target, actor)
    assert err.value.code == "illegal_claim_transition"


# --- CLI -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_setup(tmp_path_factory, files, low):
    folder = tmp_path_factory.mktemp("cli")
    private, public = generate_keypair(folder / "keys")
    result_json = folder / "result.json"
    result_json.write_text(low.model_dump_json())
    cert = folder / "cert.json"
    assert main(["issue-certificate", str(result_json), "--key", str(private),
                 "--validation-id", "val_9", "--out", str(cert),
                 "--pdf", str(folder / "cert.pdf")]) == 0
    assert (folder / "cert.pdf").stat().st_size > 0
    return {"cert": cert, "public": public, "folder": folder}


def test_cli_verify_valid_and_dataset(cli_setup, files, capsys):
    args = ["verify-certificate", str(cli_setup["cert"]), "--public-key", str(cli_setup["public"])]
    assert main(args) == 0
    assert main([*args, "--dataset", str(files["dataset"])]) == 0
    assert main([*args, "--dataset", str(files["other"])]) == 3
    assert "dataset changed" in capsys.readouterr().err


def test_cli_verify_tampered_exits_3(cli_setup, capsys):
    doc = json.loads(cli_setup["cert"].read_text())
    doc["certificate"]["collapse_risk"] = 0.0
    forged = cli_setup["folder"] / "forged.json"
    forged.write_text(json.dumps(doc))
    code = main(["verify-certificate", str(forged), "--public-key", str(cli_setup["public"])])
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1 and "altered" in err


def test_cli_verify_unreadable_exits_2(cli_setup, tmp_path, capsys):
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    pub = str(cli_setup["public"])
    assert main(["verify-certificate", str(junk), "--public-key", pub]) == 2
    assert main(["verify-certificate", str(tmp_path / "missing.json"), "--public-key", pub]) == 2
    assert main(["verify-certificate", str(cli_setup["cert"]), "--public-key", str(junk)]) == 2
    assert main(["verify-certificate", str(cli_setup["cert"]), "--public-key", pub,
                 "--dataset", str(tmp_path / "missing.parquet")]) == 2
    assert all(line.startswith("synthos: error:") for line in
               capsys.readouterr().err.strip().splitlines())


def test_cli_issue_on_ineligible_result_exits_2(critical, tmp_path, capsys):
    private, _ = generate_keypair(tmp_path / "k")
    rj = tmp_path / "r.json"
    rj.write_text(critical.model_dump_json())
    code = main(["issue-certificate", str(rj), "--key", str(private), "--validation-id", "v",
                 "--out", str(tmp_path / "c.json")])
    assert code == 2 and "not eligible" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()
