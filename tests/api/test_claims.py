"""Warranty claims through the API: the automatic pre-check's every path, the admin decision,
and the listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from synthos.api import claims
from synthos.api.principal import Principal
from synthos.aws.tables import WarrantyModel
from synthos.warranty import ClaimEvidence
from tests.api.conftest import post_json
from tests.api.resource_fixtures import (
    body,
    completed_validation,
)


@pytest.fixture
def warranty(api_client, register_user, pipeline, low_result):  # type: ignore[no-untyped-def]
    alice = register_user(api_client)
    job_id = completed_validation(api_client, alice, pipeline, low_result)
    response = post_json(api_client, "/v1/warranties", {"validation_id": job_id},
                         headers=alice.headers)
    assert response.status_code == 201, response.body
    return alice, body(response)


def evidence(out, observed: float, sha: str | None = None):  # type: ignore[no-untyped-def]
    cert = out["certificate"]["certificate"]
    return {"dataset_sha256": sha or cert["dataset_sha256"], "observed_collapse_risk": observed,
            "observed_metrics": {"tail_occupancy": 0.4}, "description": "tails vanished"}


def claim(client, user, out, payload):  # type: ignore[no-untyped-def]
    return post_json(client, f"/v1/warranties/{out['warranty_id']}/claims", payload,
                     headers=user.headers)


def test_a_claim_beyond_the_threshold_goes_under_review(api_client, warranty) -> None:
    # GIVEN a certified upper bound U and the 10-point claim threshold
    alice, out = warranty
    upper = out["certificate"]["certificate"]["collapse_risk_interval"][1]
    # WHEN the observed risk is U + 12
    response = claim(api_client, alice, out, evidence(out, upper + 12))
    # THEN the claim is under review, with the deviation measured
    assert response.status_code == 201, response.body
    got = body(response)
    assert got["status"] == "under_review"
    assert got["deviation"] == pytest.approx(12.0)
    assert got["evidence"]["observed_metrics"] == {"tail_occupancy": 0.4}


def test_precheck_rejections_say_why(api_client, warranty) -> None:
    alice, out = warranty
    upper = out["certificate"]["certificate"]["collapse_risk_interval"][1]
    # deviation +5 (< 10 needed); a different dataset hash
    for offset, sha, reason in ((5.0, None, "needs +10"), (30.0, "0" * 64, "dataset changed")):
        got = body(claim(api_client, alice, out, evidence(out, upper + offset, sha)))
        assert got["status"] == "rejected" and reason in got["reason"], got
        assert got["deviation"] == (pytest.approx(5.0) if sha is None else None)


def test_a_tampered_certificate_rejects_the_claim(api_client, warranty) -> None:
    alice, out = warranty
    item = WarrantyModel.get(alice.tenant_id, out["warranty_id"])
    doc = dict(item.certificate)
    doc["certificate"] = {**doc["certificate"], "collapse_risk_interval": [0.0, 1.0]}
    item.update(actions=[WarrantyModel.certificate.set(doc)])
    got = body(claim(api_client, alice, out, evidence(out, 60.0)))
    assert got["status"] == "rejected" and "certificate invalid" in got["reason"]


def test_a_revoked_warranty_rejects_the_claim(api_client, warranty) -> None:
    alice, out = warranty
    WarrantyModel.get(alice.tenant_id, out["warranty_id"]).update(
        actions=[WarrantyModel.status.set("revoked")])
    got = body(claim(api_client, alice, out, evidence(out, 60.0)))
    assert got["status"] == "rejected" and "revoked" in got["reason"]


def test_a_claim_outside_the_window_is_rejected(api_client, warranty, pipeline) -> None:
    # GIVEN a claim submitted a day after expiry (service called with its clock)
    alice, out = warranty
    principal = Principal(alice.tenant_id, alice.user_id, frozenset({"read", "write"}),
                          "user", "test")
    expires = datetime.fromisoformat(out["expires_at"]).astimezone(UTC)
    got = claims.submit(pipeline.settings, principal, out["warranty_id"],
                        ClaimEvidence.model_validate(evidence(out, 90.0)),
                        now=expires + timedelta(days=1))
    assert got.status == "rejected" and "outside the warranty window" in (got.reason or "")


def test_bad_evidence_is_400(api_client, warranty) -> None:
    alice, out = warranty
    for payload in ({"observed_collapse_risk": 50.0},
                    {"dataset_sha256": "a", "observed_collapse_risk": 101},
                    {"dataset_sha256": "a", "observed_collapse_risk": 50.0, "refund": 1000}):
        assert claim(api_client, alice, out, payload).status_code == 400, payload
    assert body(api_client.http.get(f"/v1/warranties/{out['warranty_id']}/claims",
                                    headers=alice.headers))["items"] == []


def test_admin_decides_claims_under_review(api_client, warranty, api_key_headers) -> None:
    # GIVEN a claim under review and one already rejected
    alice, out = warranty
    upper = out["certificate"]["certificate"]["collapse_risk_interval"][1]
    review = body(claim(api_client, alice, out, evidence(out, upper + 20)))
    rejected = body(claim(api_client, alice, out, evidence(out, upper + 1)))
    base = f"/v1/warranties/{out['warranty_id']}/claims"
    # WHEN a write-only key tries to decide: 403; a bad body: 400
    writer = api_key_headers(api_client, alice, scopes=["read", "write"])
    decide = f"{base}/{review['claim_id']}/decision"
    assert post_json(api_client, decide, {"decision": "approve"},
                     headers=writer).status_code == 403
    for bad in ({"decision": "maybe"}, {"decision": "approve", "amount": 5}):
        assert post_json(api_client, decide, bad, headers=alice.headers).status_code == 400
    # AND the admin approves
    response = post_json(api_client, decide, {"decision": "approve", "note": "confirmed"},
                         headers=alice.headers)
    # THEN the claim is approved by that admin; final claims cannot be decided again
    assert response.status_code == 200, response.body
    got = body(response)
    assert (got["status"], got["decided_by"], got["reason"]) == (
        "approved", alice.user_id, "confirmed")
    assert post_json(api_client, decide, {"decision": "reject"},
                     headers=alice.headers).status_code == 409
    assert post_json(api_client, f"{base}/{rejected['claim_id']}/decision",
                     {"decision": "approve"}, headers=alice.headers).status_code == 409
    assert post_json(api_client, f"{base}/clm_missing/decision", {"decision": "approve"},
                     headers=alice.headers).status_code == 404
    # AND the listing shows both with their statuses
    listed = body(api_client.http.get(base, headers=alice.headers))["items"]
    assert sorted((c["claim_id"], c["status"]) for c in listed) == sorted(
        [(review["claim_id"], "approved"), (rejected["claim_id"], "rejected")])


def test_admin_may_reject_a_claim_under_review(api_client, warranty) -> None:
    alice, out = warranty
    upper = out["certificate"]["certificate"]["collapse_risk_interval"][1]
    review = body(claim(api_client, alice, out, evidence(out, upper + 20)))
    response = post_json(
        api_client, f"/v1/warranties/{out['warranty_id']}/claims/{review['claim_id']}/decision",
        {"decision": "reject"}, headers=alice.headers)
    assert body(response)["status"] == "rejected"
    assert body(response)["reason"] == "rejected by an administrator"
