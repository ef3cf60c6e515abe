"""``synthos remote validate`` against the local stack started in this process."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / "layers" / "synthos" / "data"
HEALTHY = DATA / "breast_cancer_synthetic_healthy.parquet"
COLLAPSED = DATA / "breast_cancer_synthetic_collapsed.parquet"
REFERENCE = DATA / "breast_cancer_reference.parquet"


@pytest.fixture(scope="module")
def api_key(local_stack: Any) -> str:
    """A fresh account's API key with read and write scopes, made over HTTP."""
    from synthos.remote.client import ApiClient

    api = ApiClient(local_stack.api_url)
    email, password = f"cli-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(18)
    api.register(email, password)
    api.login(email, password)
    return str(api.create_api_key("cli test", ["read", "write"])["key"])


def test_remote_validate_prints_the_verdict_and_writes_json_and_pdf(
        local_stack: Any, api_key: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Setup
    from synthos.cli import main

    out, pdf = tmp_path / "remote.json", tmp_path / "report.pdf"

    # Run
    code = main(["remote", "validate", str(COLLAPSED), "--reference", str(REFERENCE),
                 "--api-url", local_stack.api_url, "--api-key", api_key,
                 "--json", str(out), "--pdf", str(pdf)])

    # Assert: completed, the verdict printed, the same verdict in the JSON, a real PDF
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["validation"]["status"] == "completed"
    assert doc["validation"]["reference_id"] is not None
    level = doc["collapse_details"]["risk_level"]
    assert level in ("high", "critical")
    assert doc["recommendations"]["recommendations"]
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps at the console width
    assert f"level {level}" in printed
    assert f"{doc['collapse_details']['collapse_risk']:.1f}" in printed
    assert pdf.read_bytes().startswith(b"%PDF")


def test_remote_validate_with_a_wrong_key_exits_2_with_one_line(
        local_stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from synthos.cli import main

    code = main(["remote", "validate", str(HEALTHY), "--api-url", local_stack.api_url,
                 "--api-key", "syn_not-a-key"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "HTTP 401" in err


def test_remote_validate_with_the_key_from_the_environment(
        local_stack: Any, api_key: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Setup: URL and key only in the environment (kept out of the shell history)
    from synthos.cli import main

    monkeypatch.setenv("SYNTHOS_API_URL", local_stack.api_url)
    monkeypatch.setenv("SYNTHOS_API_KEY", api_key)

    # Run: no reference: reference-free signals only
    code = main(["remote", "validate", str(HEALTHY)])

    # Assert
    assert code == 0, capsys.readouterr().err
    assert "collapse risk" in capsys.readouterr().out


def test_remote_validate_of_a_malformed_file_exits_3_with_the_pipeline_reason(
        local_stack: Any, api_key: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Setup: Parquet's magic bytes around garbage (text would be read as CSV)
    from synthos.cli import main

    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1" + bytes(range(256)) * 2 + b"PAR1")

    # Run
    code = main(["remote", "validate", str(bad), "--api-url", local_stack.api_url,
                 "--api-key", api_key])

    # Assert: the job (or the dataset) failed in the pipeline; one line saying why
    err = capsys.readouterr().err
    assert code == 3, err
    assert err.count("\n") == 1
    assert "failed" in err and "not a readable Parquet" in err
