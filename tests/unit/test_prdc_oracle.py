"""PRDC: a hand-computed case, clovaai prdc 0.2 as the oracle, invariants, degenerate input."""

from __future__ import annotations

import contextlib
import io
import tracemalloc

import numpy as np
import pytest
from prdc import compute_prdc
from scipy.spatial.distance import cdist

from synthos.errors import InputError, InvalidOption
from synthos.knn import NumpyBackend
from synthos.metrics.prdc import nn_distance_ratio, prdc

KEYS = ("precision", "recall", "density", "coverage")
REAL_LINE = np.array([[0.0], [1.0], [3.0], [4.0]])
FAKE_LINE = np.array([[0.5], [2.0], [9.0], [10.0]])


def oracle(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the sizes
        return {key: float(v) for key, v in compute_prdc(real, fake, k).items()}


def assert_same(got: dict[str, float], expected: dict[str, float], atol: float = 1e-6) -> None:
    assert set(got) == set(KEYS)
    np.testing.assert_allclose([got[k] for k in KEYS], [expected[k] for k in KEYS], atol=atol)


def test_hand_computed_line_with_ties_on_the_ball_edge():
    # Setup, k=1. Real 0, 1, 3, 4: every 1-NN radius is 1. Fake 0.5, 2, 9, 10: radii 1.5, 1.5,
    # 1, 1. Fake 2 is exactly 1 from real 1 and real 3, on the edge of their open balls.
    # precision: only 0.5 lies inside a real ball                     -> 1/4
    # density:   0.5 lies in the balls of real 0 and real 1          -> 2 / (1 * 4)
    # recall:    real 0, 1 (0.5 < 1.5), 3 (|3-2| = 1 < 1.5); not 4   -> 3/4
    # coverage:  real 0 and 1 hold fake 0.5; real 3 only the edge 2  -> 2/4
    expected = {"precision": 0.25, "recall": 0.75, "density": 0.5, "coverage": 0.5}
    # Run
    got = prdc(REAL_LINE, FAKE_LINE, nearest_k=1)
    # Assert
    assert_same(got, expected, atol=0)
    assert_same(oracle(REAL_LINE, FAKE_LINE, 1), expected, atol=0)
    assert all(type(v) is float for v in got.values())


CASES = {
    "small": (50, 60, 3, 5, 0),
    "unequal_sizes": (300, 120, 10, 3, 1),
    "one_dim": (200, 200, 1, 4, 2),
    "large_k": (150, 180, 6, 25, 3),
    "tiny": (5, 6, 2, 3, 4),  # prdc 0.2 itself fails at exactly k + 1 points
    "wide": (80, 90, 128, 2, 5),
    "k_one": (400, 350, 5, 1, 6),
}


@pytest.mark.parametrize(("n", "m", "d", "k", "seed"), CASES.values(), ids=CASES.keys())
def test_gaussian_samples_match_prdc(n, m, d, k, seed):
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((n, d))
    fake = 1.3 * rng.standard_normal((m, d)) + 0.4
    assert_same(prdc(real, fake, k), oracle(real, fake, k))


@pytest.mark.parametrize("d", [4, 64])
def test_duplicated_points_match_prdc(d):
    # fake holds exact copies of real rows (some on a real ball's edge), real holds pairs of
    # duplicates (fewer than k+1)
    rng = np.random.default_rng(7)
    real = rng.standard_normal((120, d))
    real = np.vstack([real, real[:30]])
    fake = np.vstack([real[:40], rng.standard_normal((60, d))])
    assert_same(prdc(real, fake, 3), oracle(real, fake, 3))


def brute_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """The definitions on full cdist matrices (direct differences, no expansion)."""
    d_rf = cdist(real, fake)
    r_real = np.sort(cdist(real, real), axis=1)[:, k]
    r_fake = np.sort(cdist(fake, fake), axis=1)[:, k]
    inside = d_rf < r_real[:, None]
    return {
        "precision": inside.any(axis=0).mean(),
        "recall": (d_rf < r_fake[None, :]).any(axis=1).mean(),
        "density": inside.sum() / (k * fake.shape[0]),
        "coverage": inside.any(axis=1).mean(),
    }


def test_far_from_origin_matches_the_definition_exactly():
    # offset 1e4: the expansion |a|^2 + |b|^2 - 2ab loses ~8 digits, so edge cases (copies of
    # each real point's k-th neighbour) are settled by the exact recheck
    rng = np.random.default_rng(17)
    real = rng.standard_normal((200, 8)) + 1e4
    kth = np.argsort(cdist(real, real), axis=1)[:, 3]
    fake = np.vstack([real[kth[:50]], rng.standard_normal((100, 8)) + 1e4])
    assert_same(prdc(real, fake, 3), brute_prdc(real, fake, 3), atol=0)


@pytest.mark.parametrize("k", [1, 3, 8])
def test_integer_grid_ties_match_prdc_exactly(k):
    # small integers: every distance is exact in float64, so each tie on a ball's edge must
    # fall the way prdc's strict "<" puts it
    rng = np.random.default_rng(8)
    real = rng.integers(0, 6, size=(300, 2)).astype(float)
    fake = rng.integers(0, 7, size=(250, 2)).astype(float)
    assert_same(prdc(real, fake, k), oracle(real, fake, k), atol=0)


def test_float32_input_is_measured_in_float64():
    rng = np.random.default_rng(9)
    real, fake = rng.standard_normal((100, 8)), rng.standard_normal((90, 8))
    got = prdc(real.astype(np.float32), fake.astype(np.float32), 4)
    expected = oracle(
        real.astype(np.float32).astype(float), fake.astype(np.float32).astype(float), 4
    )
    assert_same(got, expected)


@pytest.mark.parametrize(("tile_rows", "tile_cols"), [(1, None), (7, 5), (1000, 3)])
def test_tiling_does_not_change_prdc(tile_rows, tile_cols):
    rng = np.random.default_rng(10)
    real, fake = rng.standard_normal((130, 5)), rng.standard_normal((110, 5)) + 0.2
    assert prdc(real, fake, 4, tile_rows=tile_rows, tile_cols=tile_cols) == prdc(real, fake, 4)


def test_row_order_and_power_of_two_rescaling_do_not_change_prdc():
    rng = np.random.default_rng(11)
    real, fake = rng.standard_normal((140, 6)), rng.standard_normal((120, 6)) * 1.2
    ref = prdc(real, fake, 5)
    assert prdc(real[rng.permutation(140)], fake[rng.permutation(120)], 5) == ref
    assert prdc(4.0 * real, 4.0 * fake, 5) == ref


def test_memory_stays_far_below_one_distance_matrix():
    # 4000 x 4000 float64 distances would take 122 MiB; two workers hold one ~8 MiB tile each
    rng = np.random.default_rng(16)
    real, fake = rng.standard_normal((4000, 8)), rng.standard_normal((4000, 8))
    tracemalloc.start()
    try:
        prdc(real, fake, 5, backend=NumpyBackend(workers=2))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 48 * 2**20


def test_exactly_k_plus_one_points_follow_the_definition():
    # prdc 0.2 raises here; the definitions still hold: every radius is the farthest other point
    rng = np.random.default_rng(13)
    real, fake = rng.standard_normal((4, 2)), rng.standard_normal((4, 2)) + 0.5
    d_rf = cdist(real, fake)
    r_real, r_fake = cdist(real, real).max(axis=1), cdist(fake, fake).max(axis=1)
    inside = d_rf < r_real[:, None]
    expected = {
        "precision": inside.any(axis=0).mean(),
        "recall": (d_rf < r_fake[None, :]).any(axis=1).mean(),
        "density": inside.sum() / (3 * 4),
        "coverage": inside.any(axis=1).mean(),
    }
    assert_same(prdc(real, fake, 3), expected)


def test_same_sample_scores_exactly_one():
    # a copy of the k-th neighbour sits on the ball's edge, outside the open ball, so each fake
    # point lies in its own ball and in those of the points it is among the k-1 nearest of:
    # n + n (k - 1) memberships, density n k / (k n) = 1
    real = np.random.default_rng(12).standard_normal((100, 3))
    got = prdc(real, real.copy(), 5)
    assert got == {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}
    assert_same(got, oracle(real, real.copy(), 5), atol=0)


@pytest.mark.parametrize(("n_real", "n_fake"), [(5, 10), (10, 5), (1, 1)])
def test_fewer_than_k_plus_one_points_is_invalid_option(n_real, n_fake):
    with pytest.raises(InvalidOption, match="at least 6"):
        prdc(np.zeros((n_real, 2)), np.ones((n_fake, 2)), 5)


@pytest.mark.parametrize("k", [0, -2, 1.5, True])
def test_bad_k_is_invalid_option(k):
    with pytest.raises(InvalidOption):
        prdc(REAL_LINE, FAKE_LINE, k)


def test_nan_and_dimension_mismatch_are_input_errors():
    bad = REAL_LINE.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        prdc(bad, FAKE_LINE, 1)
    with pytest.raises(InputError, match="dimension"):
        prdc(REAL_LINE, np.zeros((4, 2)), 1)


def test_unknown_backend_is_invalid_option():
    with pytest.raises(InvalidOption):
        prdc(REAL_LINE, FAKE_LINE, 1, backend="cupy")


def test_nn_distance_ratio_by_hand():
    # nearest real point of 0.5, 2, 9, 10: 0.5, 1, 5, 6 (mean 3.125); real 1-NN distances all 1
    assert nn_distance_ratio(REAL_LINE, FAKE_LINE, k=1) == pytest.approx(3.125)
    assert nn_distance_ratio(REAL_LINE, REAL_LINE.copy(), k=1) == 0.0  # copies of real rows


def test_ratios_are_nan_when_real_points_coincide():
    real = np.ones((5, 2))
    assert np.isnan(nn_distance_ratio(real, np.zeros((3, 2)), k=1))
