"""An HTTP client of the Synthos REST API (standard library only: ``urllib``).

    api = ApiClient("http://127.0.0.1:8000/v1", api_key="syn_...")
    ds = api.upload_dataset(Path("synthetic.parquet"), role="synthetic")
    job = api.start_validation(ds["dataset_id"])
    job = api.wait_for_validation(job["validation_id"], on_update=print)

Every answer is the JSON body as a dict; an error answer raises :class:`RemoteError` with the
API's ``{"error": {"code", "message", "details"}}``. A 429 is retried after its ``Retry-After``
(a few times). Uploads go straight to S3 through the presigned URLs the API hands out (one PUT up
to 100 MB, parts beyond that), never through the API.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from synthos.errors import InputError, SynthosError
from synthos.jobs import TERMINAL

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv",
           ".jsonl": "jsonl", ".ndjson": "jsonl", ".arrow": "arrow", ".feather": "feather"}
USER_AGENT = "synthos-remote"


class RemoteError(SynthosError):
    """The API (or S3 behind a presigned URL) answered with an error, or could not be reached.

    ``status`` is the HTTP status (0 when nothing answered); ``code`` the API's error code."""

    code = "remote_error"

    def __init__(self, message: str, *, status: int = 0, code: str = "remote_error",
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.code = code


def format_of(path: Path) -> str:
    """The API's ``format`` for a file name (by extension)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot tell the format of {path.name} from its extension (use one "
                         f"of {', '.join(sorted(FORMATS))})")
    return fmt


def _error_from(status: int, body: bytes) -> RemoteError:
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        doc = {}
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict):
        return RemoteError(str(err.get("message", "")), status=status,
                           code=str(err.get("code", "error")),
                           details=err.get("details") if isinstance(err.get("details"), dict)
                           else None)
    text = body[:200].decode("utf-8", "replace").strip()
    return RemoteError(f"HTTP {status}: {text or 'no body'}", status=status, code=f"http_{status}")


def http(method: str, url: str, *, data: bytes | None = None,
         headers: Mapping[str, str] | None = None,
         timeout: float = 60.0) -> tuple[int, dict[str, str], bytes]:
    """One HTTP exchange: (status, headers with lower-case names, body). Error statuses are
    returned, not raised; an unreachable server raises :class:`RemoteError` (status 0)."""
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"User-Agent": USER_AGENT, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, body
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RemoteError(f"cannot reach {urllib.parse.urlsplit(url).netloc}: {reason}") from exc


class ApiClient:
    """The Synthos API at ``base_url`` (ending in ``/v1``), as a user or with an API key."""

    def __init__(self, base_url: str, *, api_key: str | None = None,
                 access_token: str | None = None, timeout: float = 60.0,
                 max_retries: int = 5) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.access_token = access_token
        self.timeout = timeout
        self.max_retries = max_retries
        self._public_key: Any = None  # the published warranty key, fetched once

    # --- plumbing ---------------------------------------------------------------------------
    def _headers(self, body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if body:
            headers["Content-Type"] = "application/json"
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        elif self.api_key:
            headers["X-API-Key"] = self.api_key
        return headers

    def request(self, method: str, path: str, body: Any = None,
                query: Mapping[str, Any] | None = None) -> Any:
        """Call ``method path``; the decoded JSON answer (None for an empty one)."""
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(self.max_retries + 1):
            status, headers, raw = http(method, url, data=data,
                                        headers=self._headers(data is not None),
                                        timeout=self.timeout)
            if status == 429 and attempt < self.max_retries:
                time.sleep(min(float(headers.get("retry-after") or 1), 30.0))
                continue
            if status >= 400:
                raise _error_from(status, raw)
            return json.loads(raw) if raw.strip() else None
        raise RemoteError("rate limited too many times", status=429, code="rate_limited")

    # --- accounts ---------------------------------------------------------------------------
    def register(self, email: str, password: str) -> Any:
        return self.request("POST", "/auth/register", {"email": email, "password": password})

    def login(self, email: str, password: str) -> Any:
        """Log in and use the access token for the next calls."""
        tokens = self.request("POST", "/auth/login", {"email": email, "password": password})
        self.access_token = tokens["access_token"]
        return tokens

    def me(self) -> Any:
        return self.request("GET", "/auth/me")

    def create_api_key(self, name: str, scopes: list[str]) -> Any:
        return self.request("POST", "/api-keys", {"name": name, "scopes": scopes})

    # --- datasets ---------------------------------------------------------------------------
    def upload_dataset(self, path: Path, *, role: str = "synthetic", name: str | None = None,
                       validate: dict[str, Any] | None = None) -> Any:
        """Upload ``path`` through presigned URLs; the dataset record as the API returns it."""
        body: dict[str, Any] = {"name": name or path.name, "size_bytes": path.stat().st_size,
                                "format": format_of(path), "role": role}
        if validate is not None:
            body["validate"] = validate
        plan = self.request("POST", "/datasets/upload", body)
        dataset_id = plan["dataset"]["dataset_id"]
        if plan.get("url"):
            _put(plan["url"], path.read_bytes(), plan.get("headers") or {}, self.timeout)
            return self.get_dataset(dataset_id)
        parts = _put_parts(path, plan, self.timeout)
        return self.request("POST", f"/datasets/{dataset_id}/complete", {"parts": parts})

    def get_dataset(self, dataset_id: str) -> Any:
        return self.request("GET", f"/datasets/{dataset_id}")

    def wait_for_dataset(self, dataset_id: str, *, timeout: float = 600.0,
                         poll: float = 0.5) -> Any:
        """Poll until the upload's event has been handled and the dataset is ``ready`` (a
        validation can only start then); RemoteError ``dataset_failed`` with the pipeline's
        reason when it could not be used."""
        deadline = time.monotonic() + timeout
        while True:
            ds = self.get_dataset(dataset_id)
            if ds["status"] == "ready":
                return ds
            if ds["status"] == "failed":
                raise RemoteError(f"dataset {dataset_id} failed: {ds.get('reason')}",
                                  code="dataset_failed")
            if time.monotonic() > deadline:
                raise RemoteError(f"dataset {dataset_id} still {ds['status']} after "
                                  f"{timeout:.0f} s", code="timeout")
            time.sleep(poll)

    # --- validations ------------------------------------------------------------------------
    def start_validation(self, dataset_id: str, reference_id: str | None = None,
                         options: dict[str, Any] | None = None) -> Any:
        body: dict[str, Any] = {"dataset_id": dataset_id}
        if reference_id:
            body["reference_id"] = reference_id
        if options:
            body["options"] = options
        return self.request("POST", "/validations", body)

    def get_validation(self, validation_id: str) -> Any:
        return self.request("GET", f"/validations/{validation_id}")

    def wait_for_validation(self, validation_id: str, *, timeout: float = 600.0,
                            poll: float = 0.5,
                            on_update: Callable[[dict[str, Any]], None] | None = None) -> Any:
        """Poll until the validation is completed, failed or cancelled; its last record."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_validation(validation_id)
            if on_update is not None:
                on_update(job)
            if job["status"] in TERMINAL:
                return job
            if time.monotonic() > deadline:
                raise RemoteError(f"validation {validation_id} still {job['status']} after "
                                  f"{timeout:.0f} s", code="timeout")
            time.sleep(poll)

    def collapse_details(self, validation_id: str) -> Any:
        return self.request("GET", f"/validations/{validation_id}/collapse-details")

    def recommendations(self, validation_id: str) -> Any:
        return self.request("GET", f"/validations/{validation_id}/recommendations")

    def report_pdf(self, validation_id: str) -> bytes:
        """The PDF report's bytes, fetched through its presigned URL."""
        link = self.request("GET", f"/validations/{validation_id}/report")
        return download(link["url"], self.timeout)

    # --- warranties -------------------------------------------------------------------------
    def issue_warranty(self, validation_id: str) -> Any:
        return self.request("POST", "/warranties", {"validation_id": validation_id})

    def verify_warranty(self, warranty_id: str) -> Any:
        """The public verification (no credential is needed, none is sent)."""
        return self._public_get(f"/warranties/{warranty_id}/verify")

    def warranty_public_key(self) -> Any:
        """The published Ed25519 key that verifies certificates: ``algorithm, key_id,
        fingerprint_sha256, public_key_pem, public_key_raw_b64`` (public, no credential)."""
        return self._public_get("/warranties/public-key")

    def verify_offline(self, signed_certificate: Mapping[str, Any], *,
                       dataset_sha256: str | None = None) -> Any:
        """Verify a certificate (the ``certificate`` of a warranty) on this machine with the
        published key: ``synthos.warranty.Verification``. The key is fetched once and checked
        (its fingerprint recomputed); the warranty itself is never looked up."""
        from synthos.warranty import SignedCertificate, verify_certificate

        signed = SignedCertificate.model_validate(dict(signed_certificate))
        return verify_certificate(signed, self.public_key(), dataset_sha256=dataset_sha256)

    def public_key(self) -> Any:
        """The published key as an ``Ed25519PublicKey``, its key id checked (cached)."""
        if self._public_key is None:
            from synthos.warranty import key_id, public_key_from_bytes

            answer = self.warranty_public_key()
            key = public_key_from_bytes(str(answer["public_key_pem"]).encode("ascii"))
            if key_id(key) != answer.get("key_id"):
                raise RemoteError("the published public key does not match its key id")
            self._public_key = key
        return self._public_key

    def _public_get(self, path: str) -> Any:
        status, _, raw = http("GET", f"{self.base_url}{path}",
                              headers={"Accept": "application/json"}, timeout=self.timeout)
        if status >= 400:
            raise _error_from(status, raw)
        return json.loads(raw)


def download(url: str, timeout: float = 60.0) -> bytes:
    status, _, raw = http("GET", url, timeout=timeout)
    if status >= 400:
        raise _error_from(status, raw)
    return raw


def _put(url: str, data: bytes, headers: Mapping[str, str], timeout: float) -> str:
    """PUT ``data`` to a presigned URL; the ETag S3 answered. The content type is set
    explicitly: urllib would otherwise send a form type, and a server may parse the body."""
    status, answer, raw = http("PUT", url, data=data, timeout=timeout,
                               headers={"Content-Type": "application/octet-stream", **headers})
    if status >= 400:
        raise _error_from(status, raw)
    return answer.get("etag", "")


def _put_parts(path: Path, plan: Mapping[str, Any], timeout: float) -> list[dict[str, Any]]:
    """Send each part of a multipart upload; the parts list that completes it."""
    size = int(plan["part_size"])
    done: list[dict[str, Any]] = []
    with path.open("rb") as f:
        for part in sorted(plan["parts"], key=lambda p: p["part_number"]):
            f.seek((part["part_number"] - 1) * size)
            etag = _put(part["url"], f.read(size), {}, timeout)
            done.append({"part_number": part["part_number"], "etag": etag})
    return done
