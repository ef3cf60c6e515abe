"""Tiled exact k-NN: hand cases, brute-force and sklearn oracles, tiling, ties, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import cdist
from sklearn.neighbors import NearestNeighbors

from synthos import knn as knn_module
from synthos.errors import InputError, InvalidOption
from synthos.knn import (
    KnnResult,
    NumpyBackend,
    knn,
    kth_nn_distance,
    plan_tiling,
    squared_radius_threshold,
)

from .radius_count import any_within_radius, count_within_radius

LINE = np.array([[0.0], [1.0], [3.0], [6.0], [10.0]])
TILINGS = [(None, None), (1, None), (3, 2), (2, 7), (1000, 1)]  # for small inputs
BIG_TILINGS = [(None, None), (1, None), (64, 257), (1000, 999)]


def brute_knn(q: np.ndarray, b: np.ndarray, k: int, exclude_self: bool = False):
    d = cdist(q, b)
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, order, 1), order


def test_hand_computed_line_neighbours():
    # Setup: points 0, 1, 3, 6, 10 on a line; query 2.5 and 7
    query = np.array([[2.5], [7.0]])
    # Run
    res = knn(query, LINE, 2)
    # Assert: 2.5 -> 3 (0.5), 1 (1.5); 7 -> 6 (1), 10 (3)
    np.testing.assert_allclose(res.distances, [[0.5, 1.5], [1.0, 3.0]])
    np.testing.assert_array_equal(res.indices, [[2, 1], [3, 4]])
    assert res.indices.dtype == np.int64 and res.distances.dtype == np.float64


def test_hand_computed_exclude_self_and_kth_distance():
    res = knn(LINE, LINE, 2, exclude_self=True)
    np.testing.assert_allclose(res.distances, [[1, 3], [1, 2], [2, 3], [3, 4], [4, 7]])
    np.testing.assert_array_equal(res.indices, [[1, 2], [0, 2], [1, 0], [2, 4], [3, 2]])
    np.testing.assert_allclose(kth_nn_distance(LINE, 2), [3, 2, 3, 4, 7])


def test_ties_go_to_the_lower_base_index():
    # query 2 is at distance 1 from both 1 and 3, and from the duplicate 3 at index 3
    base = np.array([[3.0], [1.0], [5.0], [3.0]])
    res = knn(np.array([[2.0]]), base, 3)
    np.testing.assert_array_equal(res.indices, [[0, 1, 3]])
    np.testing.assert_allclose(res.distances, [[1.0, 1.0, 1.0]])


def test_exclude_self_keeps_exact_duplicates_at_zero():
    x = np.array([[1.0, 2.0], [1.0, 2.0], [4.0, 6.0]])
    res = knn(x, x, 1, exclude_self=True)
    np.testing.assert_array_equal(res.indices[:, 0], [1, 0, 0])
    np.testing.assert_array_equal(res.distances[:, 0], [0.0, 0.0, 5.0])
    assert kth_nn_distance(x, 1)[0] == 0.0


def test_exclude_self_needs_the_same_points():
    x = np.zeros((4, 2))
    with pytest.raises(InvalidOption):
        knn(x, x + 1, 1, exclude_self=True)


@pytest.mark.parametrize(
    ("n", "m", "d", "k", "seed"),
    [(40, 60, 3, 5, 0), (250, 3000, 8, 7, 1), (120, 5000, 2, 1, 2), (30, 30, 5, 30, 3)],
)
@pytest.mark.parametrize(("tile_rows", "tile_cols"), BIG_TILINGS)
def test_matches_brute_force(n, m, d, k, seed, tile_rows, tile_cols):
    rng = np.random.default_rng(seed)
    q, b = rng.standard_normal((n, d)), rng.standard_normal((m, d))
    dist, idx = brute_knn(q, b, k)
    res = knn(q, b, k, tile_rows=tile_rows, tile_cols=tile_cols)
    np.testing.assert_array_equal(res.indices, idx)
    np.testing.assert_allclose(res.distances, dist, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("tile_rows", "tile_cols"), BIG_TILINGS)
def test_integer_grid_ties_match_stable_brute_force(tile_rows, tile_cols):
    # many exact ties and duplicates; 2000 points make the group pruning path run
    x = np.random.default_rng(4).integers(0, 4, size=(2000, 2)).astype(float)
    dist, idx = brute_knn(x[:300], x, 9)
    res = knn(x[:300], x, 9, tile_rows=tile_rows, tile_cols=tile_cols)
    np.testing.assert_array_equal(res.indices, idx)
    np.testing.assert_array_equal(res.distances, dist)
    dist_s, idx_s = brute_knn(x, x, 9, exclude_self=True)
    res_s = knn(x, x, 9, exclude_self=True, tile_rows=tile_rows, tile_cols=tile_cols)
    np.testing.assert_array_equal(res_s.indices, idx_s)
    kth = kth_nn_distance(x, 9, tile_rows=tile_rows, tile_cols=tile_cols)
    np.testing.assert_array_equal(kth, dist_s[:, -1])


def test_matches_sklearn_nearest_neighbors():
    rng = np.random.default_rng(5)
    x, q = rng.standard_normal((1500, 16)), rng.standard_normal((200, 16))
    ref_d, ref_i = NearestNeighbors(n_neighbors=6, algorithm="brute").fit(x).kneighbors(q)
    res = knn(q, x, 6)
    np.testing.assert_allclose(res.distances, ref_d, rtol=1e-9)
    np.testing.assert_array_equal(res.indices, ref_i)


def test_tile_size_does_not_change_results():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((90, 12))
    ref = knn(x, x, 4, exclude_self=True)
    ref_kth = kth_nn_distance(x, 4)
    for tile_rows, tile_cols in TILINGS[1:]:
        res = knn(x, x, 4, exclude_self=True, tile_rows=tile_rows, tile_cols=tile_cols)
        np.testing.assert_array_equal(res.indices, ref.indices)
        np.testing.assert_array_equal(res.distances, ref.distances)
        kth = kth_nn_distance(x, 4, tile_rows=tile_rows, tile_cols=tile_cols)
        np.testing.assert_array_equal(kth, ref_kth)


def test_kth_nn_distance_equals_prdc_radii():
    from prdc.prdc import compute_nearest_neighbour_distances

    x = np.random.default_rng(7).standard_normal((400, 10))
    np.testing.assert_allclose(
        kth_nn_distance(x, 5), compute_nearest_neighbour_distances(x, 5), rtol=1e-12
    )


def test_count_and_any_within_radius_by_hand():
    # base 0, 1, 3, 6, 10 with radii 1, 0.5, 2, 0, 3; query 2 and 1
    radii = np.array([1.0, 0.5, 2.0, 0.0, 3.0])
    query = np.array([[2.0], [1.0]])
    # 2: |2-0|=2 > 1, |2-1|=1 > .5, |2-3|=1 <= 2, 4 > 0, 8 > 3   -> 1
    # 1: |1-0|=1 <= 1 (tie), 0 <= .5, 2 <= 2 (tie), 5 > 0, 9 > 3 -> 3 (strict: 1)
    np.testing.assert_array_equal(count_within_radius(query, LINE, radii), [1, 3])
    np.testing.assert_array_equal(count_within_radius(query, LINE, radii, strict=True), [1, 1])
    np.testing.assert_array_equal(any_within_radius(np.array([[20.0]]), LINE, radii), [False])
    # a zero radius holds its own centre when not strict
    np.testing.assert_array_equal(count_within_radius(np.array([[6.0]]), LINE, radii), [1])


@pytest.mark.parametrize("strict", [True, False])
def test_radius_counts_match_brute_force_under_tiling(strict):
    rng = np.random.default_rng(8)
    q, b = rng.integers(0, 5, (150, 2)).astype(float), rng.integers(0, 5, (90, 2)).astype(float)
    radii = rng.integers(0, 3, 90).astype(float)
    inside = cdist(q, b) < radii if strict else cdist(q, b) <= radii
    for tile_rows, tile_cols in TILINGS:
        opts = {"strict": strict, "tile_rows": tile_rows, "tile_cols": tile_cols}
        np.testing.assert_array_equal(count_within_radius(q, b, radii, **opts), inside.sum(1))
        np.testing.assert_array_equal(any_within_radius(q, b, radii, **opts), inside.any(1))


@given(r=arrays(np.float64, 20, elements=st.floats(0, 1e6)), strict=st.booleans())
@settings(max_examples=50, deadline=None)
def test_squared_threshold_reproduces_rounded_distance_comparison(r, strict):
    t = squared_radius_threshold(r, strict=strict)
    s = np.square(r)
    for _ in range(3):
        s = np.concatenate([s, np.nextafter(s, np.inf), np.nextafter(s, -np.inf)])
    s = np.concatenate([s, [-1e-12, 0.0]])
    dist = np.sqrt(np.maximum(s, 0.0))
    for ri, ti in zip(r, t, strict=True):
        expected = dist < ri if strict else dist <= ri
        np.testing.assert_array_equal(s < ti if strict else s <= ti, expected)


@given(x=arrays(np.float64, (12, 2), elements=st.integers(-3, 3).map(float)))
@settings(max_examples=50, deadline=None)
def test_row_order_of_base_only_relabels_neighbours(x):
    perm = np.random.default_rng(0).permutation(len(x))
    res, res_p = knn(x, x, 3), knn(x, x[perm], 3)
    np.testing.assert_array_equal(res.distances, res_p.distances)


def test_default_tile_is_bounded():
    rows, cols = plan_tiling(10_000, 10_000, None, None)
    assert rows * cols * 8 <= 8 * 2**20
    rows, cols = plan_tiling(10, 10**8, None, None)
    assert cols < 10**8 and rows * cols * 8 <= 64 * 2**20
    rows, cols = plan_tiling(10**6, 10**7, 4096, None)
    assert rows * cols * 8 <= 64 * 2**20


def test_backend_is_a_seam(monkeypatch):
    calls = []

    class CountingBackend(NumpyBackend):
        name = "counting"

        def pairwise_sq_dists(self, query_rows, base_rows):
            calls.append(query_rows.shape[0])
            return super().pairwise_sq_dists(query_rows, base_rows)

    monkeypatch.setitem(knn_module.BACKENDS, "counting", CountingBackend)
    res = knn(LINE, LINE, 1, backend="counting", tile_rows=2)
    assert isinstance(res, KnnResult) and sorted(calls) == [1, 2, 2]
    calls.clear()
    knn(LINE, LINE, 1, backend=CountingBackend(workers=1), tile_rows=2)
    assert calls == [2, 2, 1]


def test_worker_count_does_not_change_results():
    x = np.random.default_rng(15).standard_normal((500, 6))
    one, three = NumpyBackend(workers=1), NumpyBackend(workers=3)
    ref = knn(x[:200], x, 4, backend=one, tile_rows=16)
    res = knn(x[:200], x, 4, backend=three, tile_rows=16)
    np.testing.assert_array_equal(res.indices, ref.indices)
    np.testing.assert_array_equal(res.distances, ref.distances)
    np.testing.assert_array_equal(
        kth_nn_distance(x, 4, backend=one, tile_rows=16),
        kth_nn_distance(x, 4, backend=three, tile_rows=16),
    )
    radii = np.full(500, 1.5)
    np.testing.assert_array_equal(
        count_within_radius(x, x, radii, backend=one, tile_rows=16),
        count_within_radius(x, x, radii, backend=three, tile_rows=16),
    )


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_bad_worker_count_is_invalid_option(workers):
    with pytest.raises(InvalidOption):
        NumpyBackend(workers=workers)


def test_unknown_backend_is_invalid_option():
    with pytest.raises(InvalidOption, match="torch2"):
        knn(LINE, LINE, 1, backend="torch2")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused(bad):
    x = LINE.copy()
    x[2, 0] = bad
    with pytest.raises(InputError, match="NaN or infinite"):
        knn(x, LINE, 1)
    with pytest.raises(InputError):
        kth_nn_distance(x, 1)
    with pytest.raises(InputError):
        count_within_radius(LINE, x, np.ones(5))


@pytest.mark.parametrize("k", [0, -1, 6, 2.0, True, None])
def test_bad_k_is_invalid_option(k):
    with pytest.raises(InvalidOption):
        knn(LINE, LINE, k)


def test_k_limits_with_and_without_self():
    assert knn(LINE, LINE, 5).indices.shape == (5, 5)
    with pytest.raises(InvalidOption):
        knn(LINE, LINE, 5, exclude_self=True)
    with pytest.raises(InvalidOption):
        kth_nn_distance(LINE, 5)


@pytest.mark.parametrize(
    "call",
    [
        lambda: knn(np.zeros(5), LINE, 1),  # 1-D
        lambda: knn(np.zeros((5, 2)), LINE, 1),  # dimension mismatch
        lambda: knn(np.array([["a"]]), LINE, 1),  # not numbers
        lambda: knn(np.full((2, 1), 1e300), LINE, 1),  # squares overflow
        lambda: count_within_radius(LINE, LINE, np.ones(4)),  # radii shape
        lambda: count_within_radius(LINE, LINE, np.full(5, np.nan)),
    ],
)
def test_unusable_input_is_input_error(call):
    with pytest.raises(InputError):
        call()


def test_bad_tile_size_is_invalid_option():
    with pytest.raises(InvalidOption):
        knn(LINE, LINE, 1, tile_rows=0)


def test_empty_query_gives_empty_result():
    res = knn(np.empty((0, 1)), LINE, 2)
    assert res.distances.shape == (0, 2) and res.indices.shape == (0, 2)


def test_a_copy_on_a_ball_edge_is_decided_exactly():
    # GIVEN random (not exactly representable) points and each point's ball reaching exactly
    # to its 3rd neighbour, and queries that are copies of those neighbours
    x = np.random.default_rng(14).standard_normal((300, 16)) * 7.0
    res = knn(x, x, 3, exclude_self=True)
    radii, edge = res.distances[:, -1], res.indices[:, -1]
    # WHEN the copies are counted against closed and open balls
    closed = count_within_radius(x[edge], x, radii)
    opened = count_within_radius(x[edge], x, radii, strict=True)
    # THEN the copy of point e sits on the edge of every ball that reaches to e: inside those
    # balls when closed, outside when open
    np.testing.assert_array_equal(closed - opened, np.bincount(edge, minlength=300)[edge])
    np.testing.assert_array_equal(kth_nn_distance(x, 3), radii)
