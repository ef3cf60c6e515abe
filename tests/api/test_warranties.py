"""Warranties through the API: issue for an eligible validation (signed with the configured
Ed25519 key, stored as record + JSON + PDF), list/get, public verify, tampering detected,
expiry by the schedule's ``expire_due``."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import requests
from pypdf import PdfReader

from synthos.api import warranties
from synthos.aws.tables import DatasetModel, WarrantyModel
from synthos.warranty import SignedCertificate, load_public_key, verify_certificate
from synthos.warranty.signing import PUBLIC_KEY_FILE
from tests.api.conftest import post_json
from tests.api.resource_fixtures import (
    body,
    completed_validation,
    ready_dataset,
    start_validation,
)


def issue(client, user, validation_id):  # type: ignore[no-untyped-def]
    return post_json(client, "/v1/warranties", {"validation_id": validation_id},
                     headers=user.headers)


@pytest.fixture
def issued(api_client, register_user, pipeline, low_result):  # type: ignore[no-untyped-def]
    alice = register_user(api_client)
    job_id = completed_validation(api_client, alice, pipeline, low_result)
    response = issue(api_client, alice, job_id)
    assert response.status_code == 201, response.body
    return alice, job_id, body(response)


def verify(client, warranty_id, **query):  # type: ignore[no-untyped-def]
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    response = client.http.get(f"/v1/warranties/{warranty_id}/verify{suffix}")
    return response.status_code, body(response)


def test_issue_signs_and_stores_the_certificate(api_client, issued, key_dir, pipeline,
                                                low_result) -> None:
    # GIVEN a warranty issued for a low-risk completed validation
    alice, job_id, out = issued
    signed = SignedCertificate.model_validate(out["certificate"])
    cert = signed.certificate
    # THEN it certifies that validation and dataset, for 90 days, signed by the service key
    assert out["status"] == "active" and out["warranty_id"] == cert.certificate_id
    assert cert.validation_id == job_id
    assert cert.dataset_sha256 == low_result.dataset.sha256
    assert cert.expires_at - cert.issued_at == timedelta(days=90)
    public = load_public_key(key_dir / PUBLIC_KEY_FILE)
    assert verify_certificate(signed, public).valid
    assert out["verification_code"] == signed.verification_code
    # AND it is stored as JSON and PDF under the tenant's warranty keys
    s3 = boto3.client("s3", region_name="us-east-1")
    prefix = f"warranties/{alice.tenant_id}/{out['warranty_id']}"
    stored = json.loads(s3.get_object(Bucket=pipeline.settings.bucket,
                                      Key=f"{prefix}.json")["Body"].read())
    assert stored == out["certificate"]
    pdf = requests.get(out["pdf_url"], timeout=10).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert signed.verification_code in text and cert.certificate_id in text


def test_list_and_get_are_tenant_scoped(api_client, issued, register_user) -> None:
    alice, _, out = issued
    listed = body(api_client.http.get("/v1/warranties", headers=alice.headers))
    assert [w["warranty_id"] for w in listed["items"]] == [out["warranty_id"]]
    got = body(api_client.http.get(f"/v1/warranties/{out['warranty_id']}",
                                   headers=alice.headers))
    assert got["certificate"] == out["certificate"] and got["pdf_url"]
    bob = register_user(api_client)
    assert api_client.http.get(f"/v1/warranties/{out['warranty_id']}",
                               headers=bob.headers).status_code == 404
    assert body(api_client.http.get("/v1/warranties", headers=bob.headers))["items"] == []


def test_issue_refusals(api_client, register_user, pipeline, low_result) -> None:
    # GIVEN a running validation, a high-risk completed one, and an already certified one
    alice = register_user(api_client)
    dataset_id = ready_dataset(api_client, alice, pipeline)
    running = body(start_validation(api_client, alice, dataset_id))["validation_id"]
    high = low_result.model_copy(update={"collapse_risk": 62.0, "risk_level": "high"})
    risky = completed_validation(api_client, alice, pipeline, high)
    certified = completed_validation(api_client, alice, pipeline, low_result)
    assert issue(api_client, alice, certified).status_code == 201
    # THEN each is refused with its reason
    assert issue(api_client, alice, running).status_code == 409
    response = issue(api_client, alice, risky)
    assert response.status_code == 400
    assert body(response)["error"]["code"] == "not_eligible"
    assert any("not low" in r for r in body(response)["error"]["details"]["reasons"])
    again = issue(api_client, alice, certified)
    assert again.status_code == 409 and body(again)["error"]["details"]["warranty_id"]
    assert issue(api_client, alice, "val_missing").status_code == 404
    assert post_json(api_client, "/v1/warranties", {"validation_id": certified, "days": 9},
                     headers=alice.headers).status_code == 400


def test_issue_refuses_when_the_dataset_changed_since_validation(
        api_client, register_user, pipeline, low_result) -> None:
    alice = register_user(api_client)
    job_id = completed_validation(api_client, alice, pipeline, low_result)
    dataset_id = body(api_client.http.get(f"/v1/validations/{job_id}",
                                          headers=alice.headers))["dataset_id"]
    DatasetModel.get(alice.tenant_id, dataset_id).update(
        actions=[DatasetModel.sha256.set("c" * 64)])
    assert issue(api_client, alice, job_id).status_code == 409


def test_public_verify_answers_valid_without_credentials(api_client, issued) -> None:
    _, _, out = issued
    status, answer = verify(api_client, out["warranty_id"])
    assert status == 200 and answer["valid"] is True and answer["reasons"] == []
    assert answer["checks"] == {"signature": True, "window": True, "status": True,
                                "dataset": True}
    assert answer["verification_code"] == out["verification_code"]
    assert verify(api_client, "wty_unknown")[0] == 404


def _tamper(tenant_id: str, warranty_id: str, **changes) -> None:  # type: ignore[no-untyped-def]
    item = WarrantyModel.get(tenant_id, warranty_id)
    doc = json.loads(json.dumps(item.certificate))
    doc["certificate"].update(changes)
    item.update(actions=[WarrantyModel.certificate.set(doc)])


def test_a_tampered_certificate_fails_the_signature(api_client, issued) -> None:
    alice, _, out = issued
    original = WarrantyModel.get(alice.tenant_id, out["warranty_id"]).certificate
    for changes in ({"collapse_risk": 1.0}, {"dataset_sha256": "d" * 64},
                    {"expires_at": "2099-01-01T00:00:00Z"},
                    {"coverage_terms": ["everything is covered"]}):
        # GIVEN the stored certificate altered after signing
        _tamper(alice.tenant_id, out["warranty_id"], **changes)
        # THEN verify answers invalid, naming the signature
        status, answer = verify(api_client, out["warranty_id"])
        assert status == 200 and answer["valid"] is False, changes
        assert answer["checks"]["signature"] is False
        assert any("signature" in r for r in answer["reasons"])
        WarrantyModel.get(alice.tenant_id, out["warranty_id"]).update(
            actions=[WarrantyModel.certificate.set(original)])
    # AND restored, it verifies again
    assert verify(api_client, out["warranty_id"])[1]["valid"] is True


def test_a_changed_dataset_is_detected(api_client, issued, pipeline) -> None:
    # GIVEN the dataset's hash on record changing (re-uploaded), or a caller's file differing
    alice, job_id, out = issued
    _, answer = verify(api_client, out["warranty_id"], dataset_sha256="e" * 64)
    assert answer["valid"] is False and answer["checks"]["dataset"] is False
    job = body(api_client.http.get(f"/v1/validations/{job_id}", headers=alice.headers))
    DatasetModel.get(alice.tenant_id, job["dataset_id"]).update(
        actions=[DatasetModel.sha256.set("f" * 64)])
    status, answer = verify(api_client, out["warranty_id"])
    assert status == 200 and answer["valid"] is False and answer["checks"] == {
        "signature": True, "window": True, "status": True, "dataset": False}
    assert verify(api_client, out["warranty_id"], dataset_sha256="XYZ")[0] == 400


def test_expire_due_moves_only_past_warranties(api_client, issued, pipeline) -> None:
    # GIVEN an active warranty expiring in 90 days
    alice, _, out = issued
    settings = pipeline.settings
    issued_at = datetime.fromisoformat(out["issued_at"]).astimezone(UTC)
    # WHEN the schedule runs before, and after, its expiry
    assert warranties.expire_due(settings, issued_at + timedelta(days=89)) == 0
    assert warranties.expire_due(settings, issued_at + timedelta(days=90, seconds=1)) == 1
    assert warranties.expire_due(settings, issued_at + timedelta(days=91)) == 0
    # THEN it is expired and verification says why
    got = body(api_client.http.get(f"/v1/warranties/{out['warranty_id']}",
                                   headers=alice.headers))
    assert got["status"] == "expired"
    answer = warranties.verify(settings, out["warranty_id"],
                               now=issued_at + timedelta(days=91))
    assert answer.valid is False and answer.checks["window"] is False
    assert answer.checks["status"] is False
    assert any("expired" in r for r in answer.reasons)


def test_issue_needs_write_scope(api_client, register_user, api_key_headers, pipeline,
                                 low_result) -> None:
    alice = register_user(api_client)
    job_id = completed_validation(api_client, alice, pipeline, low_result)
    reader = api_key_headers(api_client, alice, scopes=["read"])
    response = post_json(api_client, "/v1/warranties", {"validation_id": job_id},
                         headers=reader)
    assert response.status_code == 403


def test_signing_key_comes_from_secrets_manager_in_the_cloud(aws, key_dir) -> None:
    # GIVEN the PEM in a secret, and a raw 32-byte seed in another
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from synthos.aws.signing_key import (
        SigningKeyUnavailable,
        public_key,
        reset_signing_key,
        signing_key,
    )
    from synthos.warranty import key_id
    from synthos.warranty.signing import PRIVATE_KEY_FILE

    sm = boto3.client("secretsmanager", region_name="us-east-1")
    pem = (key_dir / PRIVATE_KEY_FILE).read_text()
    sm.create_secret(Name="synthos/warranty-key", SecretString=pem)
    seed_key = Ed25519PrivateKey.generate()
    seed = seed_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                  serialization.NoEncryption())
    sm.create_secret(Name="synthos/warranty-seed", SecretBinary=seed)
    reset_signing_key()
    cloud = aws.model_copy(update={"signing_key_file": None,
                                   "signing_key_secret_id": "synthos/warranty-key"})
    # THEN the key read from the secret is the local file's key, and the seed works too
    local = load_public_key(key_dir / PUBLIC_KEY_FILE)
    assert key_id(public_key(cloud)) == key_id(local)
    seeded = cloud.model_copy(update={"signing_key_secret_id": "synthos/warranty-seed"})
    assert key_id(signing_key(seeded).public_key()) == key_id(seed_key.public_key())
    # AND a missing secret or no configuration is a named server-side error
    sm.create_secret(Name="synthos/not-a-key", SecretString="hello")
    for broken in (cloud.model_copy(update={"signing_key_secret_id": "nope"}),
                   cloud.model_copy(update={"signing_key_secret_id": "synthos/not-a-key"}),
                   cloud.model_copy(update={"signing_key_secret_id": None})):
        with pytest.raises(SigningKeyUnavailable) as info:
            signing_key(broken)
        assert "PRIVATE KEY" not in str(info.value)
    reset_signing_key()


def test_the_private_key_never_reaches_logs_or_answers(api_client, register_user, pipeline,
                                                       low_result, key_dir, capsys,
                                                       caplog) -> None:
    from synthos.warranty.signing import PRIVATE_KEY_FILE

    alice = register_user(api_client)
    job_id = completed_validation(api_client, alice, pipeline, low_result)
    response = issue(api_client, alice, job_id)
    assert response.status_code == 201
    secret_lines = [line for line in (key_dir / PRIVATE_KEY_FILE).read_text().splitlines()
                    if line and not line.startswith("-----")]
    seen = capsys.readouterr().out + caplog.text + response.body.decode()
    assert secret_lines and not any(line in seen for line in secret_lines)


def _principal(user):  # type: ignore[no-untyped-def]
    from synthos.api.principal import Principal

    return Principal(tenant_id=user.tenant_id, user_id=user.user_id,
                     scopes=frozenset({"write"}), kind="user", credential_id="test")


@pytest.mark.parametrize("step", ["read_result", "issue_certificate"])
def test_two_simultaneous_issues_give_one_warranty(api_client, register_user, pipeline,
                                                   low_result, monkeypatch, step) -> None:
    # GIVEN a completed validation, and a second request for its warranty running to its end
    # in the middle of the first one: before the first reserves the validation (read_result;
    # both read "no warranty yet", so the conditional write decides) or after (issue_certificate)
    from synthos.api import validations
    from synthos.api.errors import Conflict

    alice = register_user(api_client)
    job_id = completed_validation(api_client, alice, pipeline, low_result)
    owner = validations if step == "read_result" else warranties
    original = getattr(owner, step)
    outcomes: list[object] = []

    def interleaved(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not outcomes:
            outcomes.append(None)  # the nested call must not nest again
            try:
                outcomes.append(warranties.issue(pipeline.settings, _principal(alice), job_id))
            except Conflict as exc:
                outcomes.append(exc)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, step, interleaved)
    # WHEN the first request goes on
    try:
        outcomes.append(warranties.issue(pipeline.settings, _principal(alice), job_id))
    except Conflict as exc:
        outcomes.append(exc)
    # THEN exactly one of the two got a warranty, the other 409, and one warranty is stored
    second, first = outcomes[1], outcomes[2]
    winners = [o for o in (first, second) if not isinstance(o, Conflict)]
    assert len(winners) == 1, outcomes
    stored = list(WarrantyModel.query(alice.tenant_id))
    assert [w.warranty_id for w in stored] == [winners[0].warranty_id]  # type: ignore[attr-defined]
    assert isinstance(first if step == "read_result" else second, Conflict)


def test_a_failed_issue_frees_the_validation_and_an_expired_warranty_can_be_renewed(
        api_client, register_user, pipeline, low_result, monkeypatch) -> None:
    # GIVEN a completed validation whose first issue fails while storing the certificate
    alice = register_user(api_client)
    job_id = completed_validation(api_client, alice, pipeline, low_result)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("S3 is down")

    with monkeypatch.context() as patch:
        patch.setattr(warranties, "_store", broken)
        with pytest.raises(RuntimeError):
            warranties.issue(pipeline.settings, _principal(alice), job_id)
    # WHEN it is retried: it succeeds (the failed reservation was given back)
    first = issue(api_client, alice, job_id)
    assert first.status_code == 201, first.body
    assert issue(api_client, alice, job_id).status_code == 409
    # AND once that warranty expired, a new one may be issued for the same validation
    issued_at = datetime.fromisoformat(body(first)["issued_at"]).astimezone(UTC)
    assert warranties.expire_due(pipeline.settings, issued_at + timedelta(days=91)) == 1
    renewed = issue(api_client, alice, job_id)
    assert renewed.status_code == 201, renewed.body
    assert body(renewed)["warranty_id"] != body(first)["warranty_id"]


def test_public_key_is_published_and_verifies_a_certificate_offline(api_client, issued,
                                                                    key_dir) -> None:
    # GIVEN an issued warranty; WHEN anyone (no credential) asks for the public key
    import base64
    import hashlib

    from cryptography.hazmat.primitives import serialization

    from synthos.warranty import key_id, public_key_from_bytes

    _, _, out = issued
    response = api_client.http.get("/v1/warranties/public-key")
    assert response.status_code == 200, response.body
    answer = body(response)
    # THEN it is the configured key's public half, with the certificate's key id
    key = public_key_from_bytes(answer["public_key_pem"].encode())
    local = load_public_key(key_dir / PUBLIC_KEY_FILE)
    raw = local.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw
    assert base64.b64decode(answer["public_key_raw_b64"]) == raw
    assert answer["fingerprint_sha256"] == hashlib.sha256(raw).hexdigest()
    assert answer["key_id"] == key_id(local) == answer["fingerprint_sha256"][:16]
    assert answer["algorithm"] == "Ed25519"
    signed = SignedCertificate.model_validate(out["certificate"])
    assert signed.certificate.key_id == answer["key_id"]
    # AND the certificate verifies offline with it, a tampered copy does not
    assert verify_certificate(signed, key).valid
    forged = signed.model_copy(update={"certificate": signed.certificate.model_copy(
        update={"collapse_risk": 0.0})})
    assert not verify_certificate(forged, key).valid
    # AND nothing private is in the answer
    assert "PRIVATE" not in response.body.decode()


def revoke(client, headers, warranty_id, reason="key leaked"):  # type: ignore[no-untyped-def]
    return post_json(client, f"/v1/warranties/{warranty_id}/revoke", {"reason": reason},
                     headers=headers)


def test_revoke_is_recorded_and_verify_says_revoked(api_client, issued, pipeline) -> None:
    # GIVEN an active warranty, verifying valid
    alice, _, out = issued
    wid = out["warranty_id"]
    assert verify(api_client, wid)[1]["valid"] is True
    # WHEN its tenant's admin revokes it
    response = revoke(api_client, alice.headers, wid, "dataset withdrawn by its owner")
    # THEN it is revoked, with the reason, who and when, also on GET
    assert response.status_code == 200, response.body
    got = body(api_client.http.get(f"/v1/warranties/{wid}", headers=alice.headers))
    for answer in (body(response), got):
        assert answer["status"] == "revoked"
        assert answer["revocation_reason"] == "dataset withdrawn by its owner"
        assert answer["revoked_by"] == alice.user_id
        revoked_at = datetime.fromisoformat(answer["revoked_at"]).astimezone(UTC)
        assert abs(datetime.now(UTC) - revoked_at) < timedelta(minutes=1)
    # AND public verification answers invalid because it is revoked (signature still fine),
    # without the tenant's private reason
    status, answer = verify(api_client, wid)
    assert status == 200 and answer["valid"] is False and answer["status"] == "revoked"
    assert answer["checks"] == {"signature": True, "window": True, "status": False,
                                "dataset": True}
    assert answer["reasons"] == ["the warranty is revoked"]
    assert "withdrawn" not in json.dumps(answer)
    # AND the expiry schedule leaves it revoked
    issued_at = datetime.fromisoformat(out["issued_at"]).astimezone(UTC)
    assert warranties.expire_due(pipeline.settings, issued_at + timedelta(days=91)) == 0
    assert WarrantyModel.get(alice.tenant_id, wid).status == "revoked"


def test_a_claim_on_a_revoked_warranty_is_rejected(api_client, issued) -> None:
    # GIVEN a revoked warranty
    alice, _, out = issued
    assert revoke(api_client, alice.headers, out["warranty_id"]).status_code == 200
    cert = out["certificate"]["certificate"]
    # WHEN a claim is filed on it, with evidence that would otherwise go under review
    response = post_json(api_client, f"/v1/warranties/{out['warranty_id']}/claims",
                         {"dataset_sha256": cert["dataset_sha256"],
                          "observed_collapse_risk": 99.0}, headers=alice.headers)
    # THEN the pre-check rejects it, naming the revocation
    assert response.status_code == 201, response.body
    got = body(response)
    assert got["status"] == "rejected" and "revoked" in got["reason"]


def test_revoke_refusals(api_client, issued, register_user, api_key_headers) -> None:
    # GIVEN an active warranty of alice's
    alice, _, out = issued
    wid = out["warranty_id"]
    # THEN a key without admin scope gets 403 (even with write), and nothing moved
    writer = api_key_headers(api_client, alice, scopes=["read", "write"])
    response = revoke(api_client, writer, wid)
    assert response.status_code == 403, response.body
    # AND bob, admin of his own tenant, gets 404 as for an unknown id
    bob = register_user(api_client)
    for headers, target in ((bob.headers, wid), (alice.headers, "wty_unknown"),
                            (alice.headers, "bad id!")):
        response = revoke(api_client, headers, target)
        assert response.status_code == 404, (target, response.body)
        assert body(response)["error"]["code"] == "not_found"
    # AND a missing, blank, too long or extra-field body is 400
    for payload in ({}, {"reason": "   "}, {"reason": "x" * 501},
                    {"reason": "ok", "status": "active"}):
        response = post_json(api_client, f"/v1/warranties/{wid}/revoke", payload,
                             headers=alice.headers)
        assert response.status_code == 400, (payload, response.body)
    assert body(api_client.http.get(f"/v1/warranties/{wid}",
                                    headers=alice.headers))["status"] == "active"
    # AND once revoked, a second revoke is 409 and keeps the first reason
    assert revoke(api_client, alice.headers, wid, "first").status_code == 200
    again = revoke(api_client, alice.headers, wid, "second")
    assert again.status_code == 409, again.body
    assert body(again)["error"]["details"]["status"] == "revoked"
    assert WarrantyModel.get(alice.tenant_id, wid).revocation_reason == "first"


def test_an_expired_warranty_cannot_be_revoked(api_client, issued, pipeline) -> None:
    # GIVEN a warranty expired by the schedule, and one past its date the schedule missed
    alice, _, out = issued
    issued_at = datetime.fromisoformat(out["issued_at"]).astimezone(UTC)
    from synthos.api.errors import Conflict
    from synthos.api.principal import Principal

    admin = Principal(tenant_id=alice.tenant_id, user_id=alice.user_id,
                      scopes=frozenset({"admin"}), kind="user", credential_id="test")
    # WHEN revoked after its expiry date, before the schedule ran: 409, it is past its date
    with pytest.raises(Conflict) as info:
        warranties.revoke(pipeline.settings, admin, out["warranty_id"], "late",
                          now=issued_at + timedelta(days=91))
    assert info.value.details == {"status": "expired"}
    # AND once the schedule expired it, the API answers 409 with its status
    assert warranties.expire_due(pipeline.settings, issued_at + timedelta(days=91)) == 1
    response = revoke(api_client, alice.headers, out["warranty_id"])
    assert response.status_code == 409 and body(response)["error"]["details"] == {
        "status": "expired"}
    assert WarrantyModel.get(alice.tenant_id, out["warranty_id"]).revoked_at is None
