"""The PDF report: read back with pypdf, its numbers equal the JSON result."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from synthos.cli import main
from synthos.engine import ValidateOptions, validate
from synthos.report import format_risk, render_report
from synthos.result import ValidationResult

DATA = Path(__file__).resolve().parents[2] / "layers" / "synthos" / "data"
REFERENCE = DATA / "breast_cancer_reference.parquet"
SAMPLES = {"healthy": DATA / "breast_cancer_synthetic_healthy.parquet",
           "collapsed": DATA / "breast_cancer_synthetic_collapsed.parquet"}


@pytest.fixture(scope="module")
def results() -> dict[str, ValidationResult]:
    opts = ValidateOptions(replicates=8)
    return {name: validate(path, REFERENCE, opts) for name, path in SAMPLES.items()}


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _render(result: ValidationResult) -> bytes:
    buf = io.BytesIO()
    render_report(result, buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_report_numbers_equal_the_json_result(results, name):
    # GIVEN a real result WHEN rendered and read back THEN the verdict and fingerprint match
    r = results[name]
    text = _pdf_text(_render(r))
    lo, hi = r.confidence.interval
    assert f"Collapse risk {format_risk(r.collapse_risk)} / 100, level {r.risk_level}" in text
    assert f"Confidence {r.confidence.level}; 90% range {format_risk(lo)} - {format_risk(hi)}" \
        in text
    assert f"Drift {format_risk(r.drift_score)} / 100 ({r.drift_level})" in text
    assert r.dataset.sha256 in text
    assert f"rows {r.dataset.rows:,}, columns {r.dataset.columns}" in text
    assert f"synthos {r.engine.version}, backend {r.engine.backend}, seed {r.engine.seed}" in text
    for rec in r.recommendations:
        assert f"{format_risk(rec.predicted_collapse_risk)} ({rec.predicted_risk_level})" in text


def test_collapsed_report_names_its_most_collapsed_column(results):
    r = results["collapsed"]
    worst = next(c for c in r.columns if c.findings)
    text = _pdf_text(_render(r))
    assert f"Most collapsed column: {worst.name}." in text
    assert "Spread and tails of the most collapsed columns" in text
    assert "Signals against their real-vs-real baselines" in text


def test_report_is_deterministic_and_writes_to_a_path(results, tmp_path):
    r = results["collapsed"]
    out = tmp_path / "report.pdf"
    render_report(r, out)
    assert out.read_bytes() == _render(r)


def test_reference_free_report_renders(tmp_path):
    r = validate(SAMPLES["healthy"], None, ValidateOptions(replicates=8))
    text = _pdf_text(_render(r))
    assert "No reference data" in text
    assert f"Collapse risk {format_risk(r.collapse_risk)} / 100" in text


def test_cli_validate_writes_pdf(tmp_path):
    out = tmp_path / "r.pdf"
    code = main(["validate", str(SAMPLES["collapsed"]), "--reference", str(REFERENCE),
                 "--replicates", "8", "--no-recommendations", "--quiet", "--pdf", str(out)])
    assert code == 0
    assert "Synthos validation report" in _pdf_text(out.read_bytes())
    assert not (tmp_path / "r.pdf.partial").exists()


def test_distribution_strips_come_from_both_profiles_quantiles(results):
    # GIVEN the collapsed result WHEN its report is rendered
    from synthos.report.distributions import Strip, axis

    r = results["collapsed"]
    text = _pdf_text(_render(r))
    # THEN the distributions chart is there, and its first row is the first numeric column of
    # the details with both profiles' quantiles, printed on that column's axis (union of both)
    assert "Distributions: p1-p99 line, p25-p75 box, median tick" in text
    ref = {p.name: p for p in r.reference.column_profiles}
    ds = {p.name: p for p in r.dataset.column_profiles}
    name = next(c.name for c in r.columns if c.name in ref and ref[c.name].quantiles)
    a = Strip.from_profile(ref[name].quantiles, ref[name].tail_quantiles)
    b = Strip.from_profile(ds[name].quantiles, ds[name].tail_quantiles)
    lo, hi = axis((a, b))
    assert f"{lo:.4g}" in text and f"{hi:.4g}" in text


def test_strip_axis_by_hand():
    from synthos.report.distributions import Strip, axis

    q = {"p01": 1.0, "p25": 2.0, "p50": 3.0, "p75": 4.0, "p99": 5.0}
    wide = Strip.from_profile(q, {"p001": -1.0, "p999": 9.0})
    narrow = Strip.from_profile({**q, "p01": 2.5, "p99": 3.5}, None)
    assert wide is not None and narrow is not None
    assert axis((wide, narrow)) == (-1.0, 9.0)  # the union of extents, tails included
    flat = Strip.from_profile({k: 7.0 for k in q}, None)
    assert flat is not None and axis((flat,)) == pytest.approx((6.65, 7.35))  # 5% padding
    assert Strip.from_profile({"p50": 1.0}, None) is None  # incomplete quantiles: no strip
