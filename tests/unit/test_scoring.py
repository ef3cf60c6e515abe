"""Scoring: the evidence-to-risk map, the Šidák combination and the level thresholds."""

import numpy as np
import pytest
from scipy import stats

from synthos.scoring import combine, risk_from_evidence, risk_level, sidak_z


def test_risk_map_hand_computed_points():
    # GIVEN evidence values whose softplus is easy to evaluate
    e = np.array([-50.0, 0.0, 5.0, 50.0])
    g = np.log1p(np.exp(e))
    # WHEN mapped THEN risk = 100 g^2 / (g^2 + 25)
    np.testing.assert_allclose(risk_from_evidence(e), 100 * g**2 / (g**2 + 25.0), rtol=1e-12)
    assert risk_from_evidence(0.0) == pytest.approx(100 * np.log(2) ** 2 / (np.log(2) ** 2 + 25))


def test_risk_is_strictly_increasing_and_never_saturates():
    e = np.array([-5, 0, 2, 3, 5, 10, 100, 1e3, 1e5, 1e7])
    r = risk_from_evidence(e)
    assert np.all(np.diff(r) > 0)
    assert r[-1] < 100.0


@pytest.mark.parametrize(
    ("risk", "level"),
    [
        (0.0, "low"),
        (24.99, "low"),
        (25.0, "medium"),
        (49.9, "medium"),
        (50.0, "high"),
        (74.9, "high"),
        (75.0, "critical"),
        (100.0, "critical"),
    ],
)
def test_levels(risk, level):
    assert risk_level(risk) == level


def test_sidak_matches_exact_formula_in_the_normal_range():
    for z, n in [(2.0, 1), (2.0, 10), (3.5, 64), (0.0, 3), (-1.0, 5)]:
        p = 1 - (1 - stats.norm.sf(z)) ** n
        assert sidak_z(z, n) == pytest.approx(stats.norm.isf(p), rel=1e-9, abs=1e-9)


def test_sidak_extreme_values_stay_finite_and_monotone():
    zs = np.array([10.0, 40.0, 200.0, 1000.0])
    out = np.array([sidak_z(z, 100) for z in zs])
    assert np.all(np.isfinite(out))
    assert np.all(np.diff(out) > 0)
    # asymptotically the correction is sqrt(z^2 - 2 ln n)
    assert out[-1] == pytest.approx(np.sqrt(1000.0**2 - 2 * np.log(100)), rel=1e-3)


def test_more_null_columns_do_not_raise_evidence():
    # GIVEN one strong key; WHEN many null-level keys join its family THEN evidence does not grow
    one = combine({("variance_ratio", "a"): 4.0})
    many = combine(
        {("variance_ratio", "a"): 4.0, **{("variance_ratio", f"b{i}"): 0.5 for i in range(50)}}
    )
    assert many.total < one.total
