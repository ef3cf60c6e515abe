"""The journey of ``make run``, against a local stack started in this process."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

STEPS = ("register and log in", "upload", "validate", "collapsed", "PDF report", "warranties",
         "verify the certificate", "drop folder")


def test_journey_every_step_succeeds(local_stack: Any, tmp_path: Any) -> None:
    # Setup: the journey pointed at the stack, writing its files into tmp_path
    from synthos.local.journey import JourneyConfig, run_journey, write_report

    config = JourneyConfig(api_url=local_stack.api_url, endpoint_url=local_stack.moto_endpoint,
                           bucket=local_stack.settings.bucket,
                           public_key=local_stack.public_key_file, out_dir=tmp_path / "out")
    console = Console(record=True, width=120)

    # Run
    report = run_journey(config, console)
    write_report(report, tmp_path / "journey.json")

    # Assert: every step ran and succeeded, in order
    assert report.ok, [(s.name, s.detail) for s in report.steps if not s.ok]
    assert len(report.steps) == len(STEPS)
    for step, expected in zip(report.steps, STEPS, strict=True):
        assert expected in step.name
    # the verdicts came from the pipeline: healthy low and warranted, collapsed critical and refused
    facts = report.facts
    assert facts["validations"]["healthy"]["risk_level"] == "low"
    assert facts["validations"]["collapsed"]["risk_level"] in ("high", "critical")
    assert facts["validations"]["healthy"]["collapse_risk"] < 25.0
    assert facts["warranty"]["validation_id"] == facts["validations"]["healthy"]["validation_id"]
    assert "is not low" in facts["warranty_refusals"]["collapsed"]  # the library rule's reason
    assert "healthy" not in facts["warranty_refusals"]
    # the dropped (collapsed) file got the same verdict as the API's validation of it
    assert facts["dropbox_result"]["risk_level"] == \
        facts["validations"]["collapsed"]["risk_level"]
    # the files a user keeps: the report PDF and the certificate, and the run record
    assert (tmp_path / "out" / "collapsed-report.pdf").read_bytes().startswith(b"%PDF")
    cert = json.loads((tmp_path / "out" / "certificate.json").read_text())
    assert cert["algorithm"] == "Ed25519"
    # the certificate was verified offline with the key the API publishes, the stack's own
    from synthos.remote import ApiClient
    from synthos.warranty import key_id, load_public_key

    published = key_id(load_public_key(local_stack.public_key_file))
    verify_step = report.steps[STEPS.index("verify the certificate")]
    assert f"published key {published}" in verify_step.detail
    remote = ApiClient(local_stack.api_url)
    assert remote.warranty_public_key()["key_id"] == published
    assert remote.verify_offline(cert).valid
    forged = {**cert, "certificate": {**cert["certificate"], "collapse_risk": 0.0}}
    assert not remote.verify_offline(forged).valid
    assert json.loads((tmp_path / "journey.json").read_text())["ok"] is True
    # the summary says so, and no credential is ever printed
    text = console.export_text()
    assert "all steps succeeded" in text
    assert "access_token" not in text and "refresh_token" not in text


def test_journey_reports_a_failed_step_and_stops(local_stack: Any, tmp_path: Any) -> None:
    # Setup: a data folder without the bundled files, so the upload step cannot read them
    from synthos.local.journey import JourneyConfig, run_journey

    config = JourneyConfig(api_url=local_stack.api_url, endpoint_url=local_stack.moto_endpoint,
                           bucket=local_stack.settings.bucket,
                           public_key=local_stack.public_key_file, data_dir=tmp_path)

    # Run
    report = run_journey(config, Console(record=True, width=120))

    # Assert: account creation worked, upload failed with the reason, nothing ran after it
    assert not report.ok
    assert [s.ok for s in report.steps] == [True, False]
    assert "breast_cancer_reference.parquet" in report.steps[1].detail
