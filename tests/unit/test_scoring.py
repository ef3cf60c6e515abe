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


def test_plan_splits_are_disjoint_and_shared_across_dataset_sizes():
    from synthos.calibration import make_plan

    a = make_plan(5000, 800, 6, seed=3)
    b = make_plan(9000, 800, 6, seed=3)
    assert a.candidate_size == b.candidate_size == 400
    for anchor, null, draw in zip(a.anchors, a.nulls, a.draws, strict=True):
        assert np.intersect1d(anchor, null).size == 0
        assert anchor.size + null.size == 800
        assert np.unique(draw).size == 400 and draw.max() < 5000
    for x, y in zip(a.nulls, b.nulls, strict=True):
        np.testing.assert_array_equal(x, y)


def test_cached_null_gives_the_same_calibration():
    from synthos.calibration import calibrate, make_plan, measure_null
    from synthos.signals.context import build_context, standardize

    from .frames import numeric_frame

    rng = np.random.default_rng(0)
    ref = numeric_frame(rng.normal(size=(400, 3)))
    ds = numeric_frame(rng.normal(size=(300, 3)) * 0.7, row_hash=np.arange(1000, 1300,
                                                                           dtype=np.uint64))
    ctx = build_context(ref)
    ref, ds = standardize(ref, ctx), standardize(ds, ctx)
    plan = make_plan(ds.n, ref.n, 6, seed=1)
    fresh = calibrate(ds, ref, ctx, plan)
    cached = calibrate(ds, ref, ctx, plan, null=measure_null(ref, ctx, plan))
    assert [(c.signal, c.scope, c.baseline, c.observed) for c in fresh] == [
        (c.signal, c.scope, c.baseline, c.observed) for c in cached]
