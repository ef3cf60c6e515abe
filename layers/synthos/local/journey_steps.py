"""The steps of the local journey (:mod:`synthos.local.journey`), each over HTTP only: the REST
API through :class:`~synthos.remote.client.ApiClient`, S3 only through the presigned URLs it
hands out, and the drop folder through boto3 against the S3 endpoint, as a sync tool would.

Each step appends one-line notes for the user and raises :class:`StepFailed` with the reason
when what it sees is not what a working product shows.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthos.remote.client import ApiClient, RemoteError

if TYPE_CHECKING:
    from synthos.local.journey import JourneyConfig

REFERENCE = "breast_cancer_reference.parquet"
SAMPLES = {"healthy": "breast_cancer_synthetic_healthy.parquet",
           "collapsed": "breast_cancer_synthetic_collapsed.parquet"}
DROPPED = SAMPLES["collapsed"]
FLAGGED_LEVELS = ("high", "critical")
POLL_S = 0.5


class StepFailed(Exception):
    """A step saw something a working product does not show."""


@dataclass
class JourneyState:
    email: str
    password: str = field(repr=False)
    tenant_id: str = ""
    reference_id: str = ""
    dataset_ids: dict[str, str] = field(default_factory=dict)
    validations: dict[str, dict[str, Any]] = field(default_factory=dict)
    refusals: dict[str, str] = field(default_factory=dict)
    warranty: dict[str, Any] = field(default_factory=dict)
    dropbox_result: dict[str, Any] = field(default_factory=dict)

    def facts(self) -> dict[str, Any]:
        """What the journey established (ids and verdicts; never a credential)."""
        return {
            "tenant_id": self.tenant_id, "reference_id": self.reference_id,
            "datasets": self.dataset_ids,
            "validations": {k: {f: v.get(f) for f in ("validation_id", "status",
                                                      "collapse_risk", "risk_level")}
                            for k, v in self.validations.items()},
            "warranty_refusals": self.refusals,
            "warranty": {f: self.warranty.get(f) for f in ("warranty_id", "validation_id",
                                                           "verification_code", "expires_at")},
            "dropbox_result": self.dropbox_result,
        }


def _wait(what: str, timeout: float, probe: Any) -> Any:
    """Call ``probe()`` until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise StepFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_S)


class Steps:
    def __init__(self, api: ApiClient, config: JourneyConfig, state: JourneyState) -> None:
        self.api = api
        self.config = config
        self.state = state

    def _path(self, name: str) -> Path:
        return self.config.data_dir / name

    def _out(self, name: str) -> Path | None:
        if self.config.out_dir is None:
            return None
        self.config.out_dir.mkdir(parents=True, exist_ok=True)
        return self.config.out_dir / name

    # --- 1 ------------------------------------------------------------------------------------
    def account(self, notes: list[str]) -> None:
        registered = self.api.register(self.state.email, self.state.password)
        self.api.login(self.state.email, self.state.password)
        me = self.api.me()
        if me.get("tenant_id") != registered["tenant_id"]:
            raise StepFailed("/auth/me names another tenant than the one registered")
        self.state.tenant_id = registered["tenant_id"]
        notes.append(f"registered {self.state.email}: tenant {self.state.tenant_id}; "
                     "logged in with a Bearer access token")

    # --- 2 ------------------------------------------------------------------------------------
    def upload(self, notes: list[str]) -> None:
        uploads = {"reference": (REFERENCE, "reference"),
                   **{k: (v, "synthetic") for k, v in SAMPLES.items()}}
        ids = {}
        for label, (name, role) in uploads.items():
            ids[label] = self.api.upload_dataset(self._path(name), role=role)["dataset_id"]
        for label, dataset_id in ids.items():
            ds = self.api.wait_for_dataset(dataset_id, timeout=self.config.timeout_s,
                                           poll=POLL_S)
            shape = f", {ds['rows']} rows x {ds['columns']} columns" if ds.get("rows") else ""
            notes.append(f"{label}: {ds['name']} ({ds['size_bytes']:,} bytes) -> {dataset_id} "
                         f"{ds['status']}{shape}")
        self.state.reference_id = ids.pop("reference")
        self.state.dataset_ids = ids

    # --- 3 ------------------------------------------------------------------------------------
    def validate(self, notes: list[str]) -> None:
        started = {label: self.api.start_validation(dataset_id, self.state.reference_id)
                   for label, dataset_id in self.state.dataset_ids.items()}
        for label, job in started.items():
            stages: list[str] = []

            def seen(update: dict[str, Any], stages: list[str] = stages) -> None:
                stage = f"{update['stage']} {float(update.get('progress') or 0):.0%}"
                if not stages or stages[-1] != stage:
                    stages.append(stage)

            final = self.api.wait_for_validation(job["validation_id"], poll=POLL_S,
                                                 timeout=self.config.timeout_s, on_update=seen)
            self.state.validations[label] = final
            if final["status"] != "completed":
                raise StepFailed(f"{label} validation {final['status']}: {final.get('reason')}")
            notes.append(f"{label}: {final['validation_id']} " + " -> ".join(stages) +
                         f": collapse risk {final['collapse_risk']:.1f} ({final['risk_level']})")

    # --- 4 ------------------------------------------------------------------------------------
    def details(self, notes: list[str]) -> None:
        healthy, collapsed = self.state.validations["healthy"], self.state.validations["collapsed"]
        info = self.api.collapse_details(collapsed["validation_id"])
        recs = self.api.recommendations(collapsed["validation_id"])["recommendations"]
        flagged = [c for c in info["columns"] if c.get("findings")]
        if info["risk_level"] not in FLAGGED_LEVELS or not flagged:
            raise StepFailed(f"the collapsed sample was not flagged: {info['risk_level']}, "
                             f"{len(flagged)} columns with findings")
        if healthy["collapse_risk"] >= collapsed["collapse_risk"]:
            raise StepFailed("the healthy sample scored no lower than the collapsed one")
        if not recs:
            raise StepFailed("no recommendation for a collapsed dataset")
        top = ", ".join(f"{c['name']} ({', '.join(c['findings'])})" for c in flagged[:3])
        notes.append(f"collapsed: {len(flagged)} of {len(info['columns'])} columns collapsed, "
                     f"e.g. {top}")
        best = min(recs, key=lambda r: r["predicted_collapse_risk"])
        notes.append(f"best fix: {best['description']} -> predicted risk "
                     f"{best['predicted_collapse_risk']:.1f} ({best['risk_reduction']:+.1f})")

    # --- 5 ------------------------------------------------------------------------------------
    def report(self, notes: list[str]) -> None:
        pdf = self.api.report_pdf(self.state.validations["collapsed"]["validation_id"])
        if not pdf.startswith(b"%PDF"):
            raise StepFailed("the report download is not a PDF")
        out = self._out("collapsed-report.pdf")
        if out is not None:
            out.write_bytes(pdf)
        notes.append(f"report PDF, {len(pdf):,} bytes" + (f", saved to {out}" if out else ""))

    # --- 6 ------------------------------------------------------------------------------------
    def warranty(self, notes: list[str]) -> None:
        for label in ("healthy", "collapsed"):
            validation_id = self.state.validations[label]["validation_id"]
            try:
                issued = self.api.issue_warranty(validation_id)
            except RemoteError as exc:
                if exc.code != "not_eligible":
                    raise
                self.state.refusals[label] = exc.message
                notes.append(f"{label}: refused (HTTP {exc.status} {exc.code}): "
                             f"{self.state.refusals[label]}")
                continue
            if label == "collapsed":
                raise StepFailed("a warranty was issued for the collapsed sample")
            self.state.warranty = issued
            notes.append(f"{label}: warranty {issued['warranty_id']} issued, verification code "
                         f"{issued['verification_code']}, expires {issued['expires_at']}")
        if not self.state.warranty:
            raise StepFailed("no validation was eligible for a warranty")
        if "collapsed" not in self.state.refusals:
            raise StepFailed("the collapsed sample was not refused a warranty")

    # --- 7 ------------------------------------------------------------------------------------
    def verify(self, notes: list[str]) -> None:
        from synthos.io.readers import sha256_file
        from synthos.warranty import (
            SignedCertificate,
            key_id,
            load_public_key,
            public_key_from_bytes,
            verify_certificate,
        )

        w = self.state.warranty
        public = self.api.verify_warranty(w["warranty_id"])
        if not public["valid"]:
            raise StepFailed(f"the public verify endpoint says invalid: {public['reasons']}")
        notes.append(f"public endpoint: valid, code {public['verification_code']}, checks "
                     + ", ".join(k for k, v in public["checks"].items() if v))
        published = self.api.warranty_public_key()
        signed = SignedCertificate.model_validate(w["certificate"])
        if published["key_id"] != signed.certificate.key_id:
            raise StepFailed(f"the published key {published['key_id']} did not sign the "
                             f"certificate (key {signed.certificate.key_id})")
        key = public_key_from_bytes(published["public_key_pem"].encode("ascii"))
        if self.config.public_key is not None and key_id(
                load_public_key(self.config.public_key)) != published["key_id"]:
            raise StepFailed(f"GET /warranties/public-key is not {self.config.public_key.name}")
        sha = sha256_file(self._path(SAMPLES["healthy"]))
        offline = self.api.verify_offline(w["certificate"], dataset_sha256=sha)
        if not offline.valid:
            raise StepFailed(f"offline verification failed: {offline.reason}")
        forged = signed.model_copy(update={"certificate": signed.certificate.model_copy(
            update={"collapse_risk": 0.0})})
        if verify_certificate(forged, key).valid:
            raise StepFailed("a tampered certificate verified offline")
        out = self._out("certificate.json")
        if out is not None:
            out.write_text(json.dumps(w["certificate"], indent=2))
        notes.append(f"offline with the published key {published['key_id']} "
                     "(GET /warranties/public-key): valid against the dataset's sha256; a "
                     "tampered copy is rejected")

    # --- 8 ------------------------------------------------------------------------------------
    def dropbox(self, notes: list[str]) -> None:
        import boto3

        s3 = boto3.client("s3", endpoint_url=self.config.endpoint_url,
                          region_name=self.config.region, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        bucket = self.config.bucket
        tenant = self.state.tenant_id
        # the reference first, so it is there when the dropped file's event is handled
        s3.upload_file(str(self._path(REFERENCE)), bucket,
                       f"dropbox/{tenant}/reference/{REFERENCE}")
        s3.upload_file(str(self._path(DROPPED)), bucket, f"dropbox/{tenant}/{DROPPED}")
        stem = DROPPED.rsplit(".", 1)[0]
        key = f"dropbox/{tenant}/results/{stem}.json"

        def probe() -> dict[str, Any] | None:
            try:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except s3.exceptions.NoSuchKey:
                return None
            return json.loads(body)

        result = _wait(f"s3://{bucket}/{key}", self.config.timeout_s, probe)
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"dropbox/{tenant}/results/")
        names = sorted(o["Key"].rsplit("/", 1)[-1] for o in listed.get("Contents", []))
        self.state.dropbox_result = {k: result.get(k) for k in ("collapse_risk", "risk_level")
                                     if k in result}
        notes.append(f"dropped {DROPPED} into dropbox/{tenant}/; results/ now holds "
                     f"{', '.join(names)}" + (f": collapse risk {result['collapse_risk']:.1f} "
                                             f"({result.get('risk_level')})"
                                             if "collapse_risk" in result else ""))
