"""Collapse risk without a reference: only what a dataset can say about itself.

Without real data there is no baseline to calibrate against, so each signal is compared with
what an unclumped (Poisson-like) sample of the same effective dimension would show:

* exact duplicate rows (whole file): expected 0;
* near-duplicates and clumping from nearest-neighbour distances: the share of rows whose nearest
  neighbour is closer than t x the median nearest-neighbour distance, expected 1 - 2^(-t^d) for
  d the effective rank (exp of the entropy of the correlation spectrum);
* singleton fraction per categorical column and the effective rank itself are reported for
  information only: without real data they have no expected value.

The confidence is always "low" and the interval wide (evidence +/- 2).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from synthos.calibration import RATE_FLOOR, STANDARD_SIZE
from synthos.columns import ColumnKind
from synthos.frame import build_pair, complete_rows
from synthos.knn import knn
from synthos.profile import ProfileOutcome
from synthos.result import Channel, Confidence, EngineInfo, SignalResult, ValidationResult
from synthos.scoring import risk_from_evidence, risk_level, sidak_z
from synthos.signals import categorical
from synthos.signals.context import build_context, standardize
from synthos.signals.neighbourhood import NEAR_RADIUS, feature_spaces

CLUMP_RADIUS = 0.1


def effective_rank(x: np.ndarray) -> float:
    """exp(entropy of the normalised eigenvalues of the correlation matrix), in [1, p]."""
    x = complete_rows(x)
    if x.shape[1] < 2 or x.shape[0] < 3:
        return float(x.shape[1])
    sd = x.std(axis=0)
    x = x[:, sd > 0]
    if x.shape[1] < 2:
        return float(x.shape[1])
    ev = np.clip(np.linalg.eigvalsh(np.corrcoef(x, rowvar=False)), 0, None)
    p = ev / ev.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def _share_expected(t: float, d: float) -> float:
    return float(1.0 - 2.0 ** (-(t**d)))


def _signal(name: str, scope: str, observed: float, expected: float, sd: float,
            channel: Channel, text: str, rows: int) -> SignalResult:
    e = (observed - expected) / sd if channel == "collapse" else 0.0
    return SignalResult(signal=name, family="reference_free", scope=scope, channel=channel,
                        description=text, observed=observed, baseline=expected, baseline_sd=sd,
                        z=(observed - expected) / sd, evidence=e, rows_compared=rows)


def _space_signals(scope: str, x: np.ndarray, backend: str) -> list[SignalResult]:
    x = complete_rows(x)[:STANDARD_SIZE * 2]
    if x.shape[0] < 10:
        return []
    d1 = knn(x, x, 1, exclude_self=True, backend=backend).distances[:, 0]
    med = float(np.median(d1))
    d_eff = effective_rank(x)
    out = [_signal("effective_rank", scope, d_eff, float(x.shape[1]), 1.0, "info",
                   "effective number of independent directions", x.shape[0])]
    for name, t, text in (("near_duplicate_rate", NEAR_RADIUS, "rows almost equal to another"),
                          ("clumping_rate", CLUMP_RADIUS, "rows packed much closer than typical")):
        p0 = _share_expected(t, d_eff)
        sd = max(RATE_FLOOR, float(np.sqrt(p0 * (1 - p0) / STANDARD_SIZE)))
        observed = float(np.mean(d1 <= t * med)) if med > 0 else float(np.mean(d1 <= 0))
        out.append(_signal(name, scope, observed, p0, sd, "collapse", text, x.shape[0]))
    return out


def reference_free_result(ds: ProfileOutcome, seed: int, backend: str,
                          engine_info: Callable[[], EngineInfo]) -> ValidationResult:
    specs = [s for s in ds.specs if s.kind is not ColumnKind.UNSUPPORTED]
    frame, _ = build_pair(ds.sample, None, specs)
    ctx = build_context(frame, seed=seed, backend=backend)
    frame = standardize(frame, ctx)
    prof = ds.profile
    signals = [_signal("exact_duplicate_rate", "*", prof.exact_duplicate_rate, 0.0, RATE_FLOOR,
                       "collapse", "rows equal to an earlier row (whole file)", prof.rows)]
    for scope, x in feature_spaces(frame, ctx):
        signals += _space_signals(scope, x, backend)
    for j, name in enumerate(frame.categorical_names):
        codes = frame.categorical[:, j]
        counts = np.bincount(codes[codes >= 0]) if np.any(codes >= 0) else np.zeros(1, int)
        signals.append(_signal("singleton_fraction", name, categorical.singleton_fraction(counts),
                               0.0, 1.0, "info", "Good-Turing unseen-mass estimate", frame.n))
    collapse = [s.evidence for s in signals if s.channel == "collapse"]
    total = sidak_z(max(collapse), len(collapse))
    risk = float(risk_from_evidence(total))
    lo, hi = (float(risk_from_evidence(total + d)) for d in (-2.0, 2.0))
    confidence = Confidence(
        level="weak" if prof.rows < 100 else "low",
        interval=(lo, hi),
        reasons=["no reference data: only duplication and clumping can be judged, against a "
                 "generic expectation rather than real data"]
        + (["fewer than 100 rows: the estimate is weak"] if prof.rows < 100 else []),
        dataset_rows_used=frame.n, reference_rows_used=0, replicates=0)
    return ValidationResult(
        collapse_risk=risk, risk_level=risk_level(risk), drift_score=0.0, drift_level="low",
        confidence=confidence, signals=sorted(signals, key=lambda s: -s.evidence), columns=[],
        recommendations=[], dataset=prof, reference=None, schema_comparison=None,
        engine=engine_info(), warnings=list(prof.warnings))
