"""The HTTP client of the API (``synthos.remote.client``) against a scripted local HTTP server:
error shape, 429 retry, multipart upload through part URLs, polling, public verify."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from synthos.errors import InputError
from synthos.remote.client import ApiClient, RemoteError, format_of

Answer = tuple[int, dict[str, str], bytes]


class FakeApi:
    """Routes ``(method, path)`` to a function of the request; records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[dict[str, Any]], Answer]] = {}
        self.requests: list[dict[str, Any]] = []
        self.url = ""

    def on(self, method: str, path: str, answer: Callable[[dict[str, Any]], Answer]) -> None:
        self.routes[(method, path)] = answer


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json", **(headers or {})}, \
        json.dumps(body).encode()


@pytest.fixture
def fake() -> Iterator[FakeApi]:
    api = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            req = {"method": self.command, "path": self.path.split("?")[0],
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": self.rfile.read(length) if length else b""}
            api.requests.append(req)
            route = api.routes.get((req["method"], req["path"]))
            status, headers, body = route(req) if route else _json(404, {"error": {
                "code": "not_found", "message": "no route", "details": {}}})
            self.send_response(status)
            for k, v in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield api
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_an_error_answer_raises_with_the_api_code_message_and_details(fake: FakeApi) -> None:
    fake.on("GET", "/v1/datasets/x", lambda r: _json(404, {"error": {
        "code": "not_found", "message": "no dataset x", "details": {"id": "x"}}}))
    api = ApiClient(fake.url + "/v1", api_key="syn_k")

    with pytest.raises(RemoteError) as caught:
        api.get_dataset("x")

    assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert caught.value.message == "no dataset x"
    assert caught.value.details == {"id": "x"}
    assert fake.requests[0]["headers"]["x-api-key"] == "syn_k"


def test_a_non_json_error_keeps_the_status(fake: FakeApi) -> None:
    fake.on("GET", "/v1/health", lambda r: (502, {}, b"<html>bad gateway</html>"))

    with pytest.raises(RemoteError) as caught:
        ApiClient(fake.url + "/v1").request("GET", "/health")

    assert (caught.value.status, caught.value.code) == (502, "http_502")
    assert "bad gateway" in caught.value.message


def test_429_is_retried_after_retry_after_then_succeeds(fake: FakeApi) -> None:
    answers = iter([_json(429, {"error": {"code": "rate_limited", "message": "slow down",
                                          "details": {}}}, {"Retry-After": "0"}),
                    _json(200, {"status": "ok"})])
    fake.on("GET", "/v1/health", lambda r: next(answers))

    assert ApiClient(fake.url + "/v1").request("GET", "/health") == {"status": "ok"}
    assert len(fake.requests) == 2


def test_429_beyond_the_retries_raises(fake: FakeApi) -> None:
    fake.on("GET", "/v1/health", lambda r: _json(429, {"error": {
        "code": "rate_limited", "message": "slow down", "details": {}}}, {"Retry-After": "0"}))

    with pytest.raises(RemoteError) as caught:
        ApiClient(fake.url + "/v1", max_retries=2).request("GET", "/health")

    assert caught.value.status == 429
    assert len(fake.requests) == 3


def test_a_multipart_upload_sends_each_part_and_completes_with_their_etags(
        fake: FakeApi, tmp_path: Path) -> None:
    # Setup: a 10-byte file in 4-byte parts (3 parts: 4, 4, 2 bytes)
    data = b"0123456789"
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    parts = [{"part_number": n, "url": f"{fake.url}/s3/part/{n}"} for n in (1, 2, 3)]
    fake.on("POST", "/v1/datasets/upload", lambda r: _json(201, {
        "dataset": {"dataset_id": "ds_1"}, "url": None, "upload_id": "u1", "part_size": 4,
        "part_count": 3, "parts": parts, "expires_in": 60}))
    for n in (1, 2, 3):
        fake.on("PUT", f"/s3/part/{n}", lambda r, n=n: (200, {"ETag": f'"etag-{n}"'}, b""))
    fake.on("POST", "/v1/datasets/ds_1/complete",
            lambda r: _json(200, {"dataset_id": "ds_1", "status": "uploaded"}))

    # Run
    out = ApiClient(fake.url + "/v1", access_token="tok").upload_dataset(path, role="reference")

    # Assert: the declared upload, the bytes of each part, the completion with the ETags
    declared = json.loads(fake.requests[0]["body"])
    assert declared == {"name": "big.csv", "size_bytes": 10, "format": "csv", "role": "reference"}
    puts = [r for r in fake.requests if r["method"] == "PUT"]
    assert [r["body"] for r in puts] == [b"0123", b"4567", b"89"]
    assert all("authorization" not in r["headers"] for r in puts)  # S3 gets no API token
    completed = json.loads(fake.requests[-1]["body"])
    assert completed == {"parts": [{"part_number": n, "etag": f'"etag-{n}"'} for n in (1, 2, 3)]}
    assert out["status"] == "uploaded"


def test_wait_for_validation_reports_each_poll_and_stops_at_a_final_status(
        fake: FakeApi) -> None:
    states = iter(["queued", "validating", "completed"])
    fake.on("GET", "/v1/validations/v1",
            lambda r: _json(200, {"validation_id": "v1", "status": next(states)}))
    seen: list[str] = []

    job = ApiClient(fake.url + "/v1").wait_for_validation(
        "v1", poll=0.01, on_update=lambda j: seen.append(j["status"]))

    assert job["status"] == "completed"
    assert seen == ["queued", "validating", "completed"]


def test_wait_for_validation_times_out_with_a_named_error(fake: FakeApi) -> None:
    fake.on("GET", "/v1/validations/v1",
            lambda r: _json(200, {"validation_id": "v1", "status": "validating"}))

    with pytest.raises(RemoteError) as caught:
        ApiClient(fake.url + "/v1").wait_for_validation("v1", timeout=0.05, poll=0.01)

    assert caught.value.code == "timeout"


def test_wait_for_dataset_returns_once_ready(fake: FakeApi) -> None:
    states = iter(["pending_upload", "uploaded", "ready"])
    fake.on("GET", "/v1/datasets/d1",
            lambda r: _json(200, {"dataset_id": "d1", "status": next(states)}))

    ds = ApiClient(fake.url + "/v1").wait_for_dataset("d1", poll=0.01)

    assert ds["status"] == "ready"
    assert len(fake.requests) == 3


def test_wait_for_dataset_raises_the_pipeline_reason_when_it_failed(fake: FakeApi) -> None:
    fake.on("GET", "/v1/datasets/d1", lambda r: _json(200, {
        "dataset_id": "d1", "status": "failed", "reason": "not a parquet file"}))

    with pytest.raises(RemoteError, match="not a parquet file") as caught:
        ApiClient(fake.url + "/v1").wait_for_dataset("d1", poll=0.01)

    assert caught.value.code == "dataset_failed"


def test_public_verify_sends_no_credential(fake: FakeApi) -> None:
    fake.on("GET", "/v1/warranties/w1/verify", lambda r: _json(200, {"valid": True}))

    out = ApiClient(fake.url + "/v1", api_key="syn_k").verify_warranty("w1")

    assert out == {"valid": True}
    assert "x-api-key" not in fake.requests[0]["headers"]


def test_an_unreachable_api_is_a_remote_error_with_status_0() -> None:
    with pytest.raises(RemoteError) as caught:
        ApiClient("http://127.0.0.1:9/v1", timeout=2).request("GET", "/health")
    assert caught.value.status == 0


def test_format_is_taken_from_the_extension() -> None:
    assert format_of(Path("a.PARQUET")) == "parquet"
    assert format_of(Path("a.ndjson")) == "jsonl"
    with pytest.raises(InputError, match="xlsx"):
        format_of(Path("a.xlsx"))


# --- synthos remote validate: the exits that need no server ---------------------------------
DATA = Path(__file__).resolve().parents[2] / "layers" / "synthos" / "data"
HEALTHY = str(DATA / "breast_cancer_synthetic_healthy.parquet")


@pytest.mark.parametrize(("argv", "code", "says"), [
    (["remote", "validate", HEALTHY], 2, "--api-url and --api-key"),
    (["remote", "validate", "missing.parquet", "--api-url", "http://127.0.0.1:9/v1",
      "--api-key", "k"], 2, "no such file: missing.parquet"),
    (["remote", "validate", HEALTHY, "--reference", "ref.xlsx", "--api-url",
      "http://127.0.0.1:9/v1", "--api-key", "k"], 2, "no such file: ref.xlsx"),
    (["remote", "validate", HEALTHY, "--api-url", "http://127.0.0.1:9/v1", "--api-key", "k"],
     1, "cannot reach 127.0.0.1:9"),
    (["remote"], 2, "remote_command"),
    (["remote", "validate", HEALTHY, "--api-url", "http://127.0.0.1:9/v1"], 2,
     "--api-key is required (or set SYNTHOS_API_KEY)"),
    (["remote", "validate", HEALTHY, "--api-url", "127.0.0.1:9/v1", "--api-key", "k"], 2,
     "--api-url (or SYNTHOS_API_URL) must be an http(s) URL"),
])
def test_remote_validate_exits_with_one_line(argv: list[str], code: int, says: str,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from synthos.cli import main

    monkeypatch.delenv("SYNTHOS_API_URL", raising=False)
    monkeypatch.delenv("SYNTHOS_API_KEY", raising=False)

    assert main(argv) == code
    err = capsys.readouterr().err
    assert says in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(("flag_key", "sent"), [(None, "syn_from_env"),
                                                (["--api-key", "syn_flag"], "syn_flag")])
def test_remote_validate_falls_back_to_the_environment_when_it_runs(
        fake: FakeApi, flag_key: list[str] | None, sent: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from synthos.cli import main

    # GIVEN: URL and key in the environment only (a flag wins); the API refuses the key
    fake.on("POST", "/v1/datasets/upload", lambda r: _json(401, {"error": {
        "code": "unauthorized", "message": "invalid API key", "details": {}}}))
    monkeypatch.setenv("SYNTHOS_API_URL", fake.url + "/v1")
    monkeypatch.setenv("SYNTHOS_API_KEY", "syn_from_env")
    # WHEN
    code = main(["remote", "validate", HEALTHY, *(flag_key or [])])
    # THEN: that key was sent; a refused key is bad input, one line, the key not in it
    err = capsys.readouterr().err
    assert (code, fake.requests[0]["headers"]["x-api-key"]) == (2, sent)
    assert "invalid API key (HTTP 401 unauthorized)" in err and err.count("\n") == 1
    assert sent not in err


def test_a_malformed_key_is_one_line_without_the_key(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from synthos.cli import main

    # GIVEN: a key pasted with a line break (urllib would raise with the key in the traceback)
    monkeypatch.setenv("SYNTHOS_API_KEY", "syn_secret\nrest")
    # WHEN
    code = main(["remote", "validate", HEALTHY, "--api-url", "http://127.0.0.1:9/v1"])
    # THEN
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "characters a key cannot have" in err and "syn_secret" not in err


def test_the_progress_display_shows_stage_percent_and_shards_on_a_terminal() -> None:
    # Setup: a client whose polls walk a large job through its stages
    import io

    from rich.console import Console

    from synthos.remote.cli import _follow

    polls = iter([
        {"validation_id": "v1", "status": "validating", "stage": "validating", "progress": 0.5,
         "shards_done": 2, "shards_total": 4},
        {"validation_id": "v1", "status": "completed", "stage": "completed", "progress": 1.0,
         "shards_done": 4, "shards_total": 4},
    ])

    class Polls(ApiClient):
        def get_validation(self, validation_id: str) -> Any:
            return next(polls)

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)

    # Run
    job = _follow(Polls("http://unused/v1"), "v1", timeout=5, err=console, poll=0.01)

    # Assert: the final record, and the bar drew the stage, the percentage and the shards
    assert job["status"] == "completed"
    drawn = out.getvalue()
    assert "validating" in drawn and "shards 2/4" in drawn and " 50%" in drawn
    assert "shards 4/4" in drawn and "100%" in drawn
