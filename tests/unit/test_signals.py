"""Each signal family against hand-computed values."""

import numpy as np
import pytest

from synthos.signals import categorical, dependence, duplicates, spread, tails
from synthos.signals.context import PairContext, usable_numeric

from .frames import categorical_frame, numeric_frame


def ctx_for(frame):
    p = frame.numeric.shape[1]
    numeric, continuous = usable_numeric(frame)
    return PairContext(numeric, np.zeros(p), np.ones(p), continuous_cols=continuous)


def test_spread_variance_and_iqr_ratios():
    # GIVEN a = 0..99, x = a/2 (variance / 4, IQR / 2)
    a = numeric_frame(np.arange(100.0))
    x = numeric_frame(np.arange(100.0) / 2)
    (m,) = spread.measure([x], a, ctx_for(a))
    assert m[("variance_ratio", "x0")] == pytest.approx(np.log(0.25), abs=1e-9)
    assert m[("iqr_ratio", "x0")] == pytest.approx(np.log(0.5), abs=1e-9)


def test_spread_is_shift_invariant():
    a = numeric_frame(np.arange(100.0))
    (m0,) = spread.measure([numeric_frame(np.arange(100.0) * 0.7)], a, ctx_for(a))
    (m1,) = spread.measure([numeric_frame(np.arange(100.0) * 0.7 + 1e3)], a, ctx_for(a))
    assert m0 == pytest.approx(m1)


def test_tails_empty_side_is_detected_and_other_side_kept():
    # GIVEN a reference 0..999 and a candidate missing everything below the 5th percentile
    a = numeric_frame(np.arange(1000.0))
    x_vals = np.concatenate([np.full(50, 500.0), np.arange(50.0, 1000.0)])
    (m,) = tails.measure([numeric_frame(x_vals)], a, ctx_for(a))
    alpha = tails.tail_level(1000)  # 10/1000 -> 1%
    assert alpha == pytest.approx(0.01)
    # lower tail: reference occupancy ~1%; candidate (centred on its own median) keeps ~0.6%
    # upper tail keeps its mass: log ratio near 0
    assert m[("upper_tail", "x0")] == pytest.approx(0.0, abs=0.25)
    assert m[("lower_tail", "x0")] < m[("upper_tail", "x0")]


def test_tail_level_bounds():
    assert tails.tail_level(50) == pytest.approx(0.10)
    assert tails.tail_level(500) == pytest.approx(0.02)
    assert tails.tail_level(10**6) == pytest.approx(0.01)


def test_dependence_logdet_of_known_covariance():
    # GIVEN exact data with correlation matrix [[1, .6],[.6, 1]]: logdet = log(0.64)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(20000, 2))
    z = (z - z.mean(0)) / z.std(0)
    white = np.linalg.cholesky(np.cov(z, rowvar=False))
    z = z @ np.linalg.inv(white).T
    x = z @ np.linalg.cholesky(np.array([[1, 0.6], [0.6, 1]])).T
    ld = dependence.logdets(x)
    assert ld is not None
    assert ld[0] == pytest.approx(np.log(0.64) / 2, abs=1e-4)


def test_categorical_support_hand_computed():
    # GIVEN reference counts a:4 b:2 c:1 d:1 and a candidate with a:6 b:2
    vocab = ("a", "b", "c", "d")
    a = categorical_frame([0, 0, 0, 0, 1, 1, 2, 3], vocab)
    x = categorical_frame([0, 0, 0, 0, 0, 0, 1, 1], vocab)
    (m,) = categorical.measure([x], a, None)
    assert m[("distinct_ratio", "c0")] == pytest.approx(np.log(2 / 4))
    assert m[("category_coverage", "c0")] == pytest.approx(0.5)
    h_a = -(0.5 * np.log(0.5) + 0.25 * np.log(0.25) + 2 * 0.125 * np.log(0.125))
    h_x = -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
    assert m[("entropy_ratio", "c0")] == pytest.approx(h_x / h_a)
    assert m[("singleton_fraction", "c0")] == pytest.approx(0.0)
    assert categorical.singleton_fraction(np.array([4, 2, 1, 1])) == pytest.approx(2 / 8)


def test_duplicate_and_copy_rates():
    x = np.array([1, 1, 1, 2, 3], dtype=np.uint64)
    ref = np.array([3, 9], dtype=np.uint64)
    assert duplicates.duplicate_rate(x) == pytest.approx(2 / 5)
    assert duplicates.copy_rate(x, ref) == pytest.approx(1 / 5)


def test_sorted_quantile_matches_numpy_nanquantile_per_column():
    from synthos.signals.spread import sorted_quantile

    rng = np.random.default_rng(5)
    x = rng.normal(size=(57, 6))
    x[rng.random(x.shape) < 0.3] = np.nan
    x[:, 4] = np.nan
    got = sorted_quantile(np.sort(x, axis=0), [0.0, 0.1, 0.5, 0.75, 1.0])
    with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        want = np.nanquantile(x, [0.0, 0.1, 0.5, 0.75, 1.0], axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


def test_fused_neighbourhood_pass_equals_the_prdc_function():
    # GIVEN continuous random data (no distance ties)
    from synthos.knn import knn
    from synthos.metrics.prdc import prdc
    from synthos.signals.neighbourhood import cross_pass

    rng = np.random.default_rng(11)
    for n, m, d, k in [(300, 400, 3, 5), (1500, 700, 8, 3), (50, 60, 2, 1)]:
        real, fake = rng.normal(size=(m, d)), rng.normal(0.2, 0.8, size=(n, d))
        r_a = knn(real, real, k, exclude_self=True).distances[:, -1]
        r_x = knn(fake, fake, k, exclude_self=True).distances[:, -1]
        c = cross_pass(fake, real, r_x, r_a, k)
        got = {"precision": c.precision, "recall": c.recall, "density": c.density,
               "coverage": c.coverage, "nearest": c.nearest}
        want = prdc(real, fake, nearest_k=k)
        for key in ("precision", "recall", "density", "coverage"):
            assert got[key] == pytest.approx(want[key], abs=1e-12), key
        brute = np.sqrt(((fake[:, None, :] - real[None, :, :]) ** 2).sum(-1)).min(1)
        np.testing.assert_allclose(got["nearest"], brute, rtol=1e-9, atol=1e-9)


def test_finite_var_equals_nanvar_and_is_silent_on_empty_columns() -> None:
    import warnings

    from synthos.signals.spread import finite_var

    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 4))
    x[::3, 1] = np.nan
    x[:, 2] = np.nan  # a column with no finite value
    x[5, 3] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        got = finite_var(x)
    clean = np.where(np.isfinite(x), x, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanvar warns on the empty column
        expected = np.nanvar(clean, axis=0)
    np.testing.assert_array_equal(got[[0, 1, 3]], expected[[0, 1, 3]])  # the same bits
    assert np.isnan(got[2])
    np.testing.assert_allclose(finite_var(np.array([[1.0], [2.0], [4.0]])), [14 / 9])
