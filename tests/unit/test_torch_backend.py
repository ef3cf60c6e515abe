"""The torch backend (run on the CPU here) gives the numpy backend's answers on the same input."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the gpu extra; installed in dev and CI

from synthos.backends import NumpyBackend, merge_co_moments  # noqa: E402
from synthos.backends.torch_backend import TorchBackend  # noqa: E402
from synthos.errors import InvalidOption  # noqa: E402
from synthos.knn import get_backend, knn, kth_nn_distance  # noqa: E402

from .radius_count import any_within_radius, count_within_radius  # noqa: E402

CPU = TorchBackend(device="cpu")


def _points(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x[5] = x[3]  # an exact duplicate
    x[7:10] = x[20]  # a tie group
    return x


@pytest.mark.parametrize("tile", [(None, None), (16, 32), (7, 500)])
def test_knn_matches_numpy_neighbours_and_distances(tile: tuple[int | None, int | None]) -> None:
    # GIVEN points with duplicates and ties, queried against themselves and another set
    x, y = _points(300, 8, 0), _points(120, 8, 1)
    rows, cols = tile
    for query, base, self_ in ((x, x, True), (y, x, False)):
        # WHEN k-NN runs on both backends with the same tiling
        a = knn(query, base, 5, exclude_self=self_, backend="numpy", tile_rows=rows,
                tile_cols=cols)
        b = knn(query, base, 5, exclude_self=self_, backend=CPU, tile_rows=rows, tile_cols=cols)
        # THEN the neighbours are the same, distances equal to the bit (recomputed exactly)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.distances, b.distances)


def test_kth_nn_and_radius_passes_match_numpy() -> None:
    # GIVEN points and balls whose radii are exact neighbour distances (points on the edge)
    x, y = _points(250, 5, 2), _points(90, 5, 3)
    radii = kth_nn_distance(x, 3, backend="numpy")
    # WHEN the radius passes run on both backends
    np.testing.assert_array_equal(radii, kth_nn_distance(x, 3, backend=CPU))
    for strict in (False, True):
        np.testing.assert_array_equal(
            count_within_radius(y, x, radii, strict=strict, backend="numpy"),
            count_within_radius(y, x, radii, strict=strict, backend=CPU, tile_rows=11))
        np.testing.assert_array_equal(
            any_within_radius(x, x, radii, strict=strict, backend="numpy"),
            any_within_radius(x, x, radii, strict=strict, backend=CPU))


def test_topk_breaks_ties_by_lower_column_like_numpy() -> None:
    # GIVEN a tile where many entries tie across the k-th place
    d = np.array([[3.0, 1.0, 1.0, 1.0, 0.5, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]])
    # WHEN the 3 smallest are taken on both backends
    nv, ni = NumpyBackend(1).topk_smallest(d, 3)
    tv, ti = CPU.topk_smallest(torch.from_numpy(d), 3)
    # THEN values and columns agree: ties go to the lowest columns, ascending
    np.testing.assert_array_equal(ni, [[4, 1, 2], [0, 1, 2]])
    np.testing.assert_array_equal(ti, ni)
    np.testing.assert_array_equal(tv, nv)


def test_co_moments_match_and_merge_to_the_covariance() -> None:
    # GIVEN 1,000 rows of 4 correlated columns, split in three blocks
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1000, 4)) @ rng.normal(size=(4, 4)) + 5.0
    blocks = [x[:100], x[100:650], x[650:]]
    # WHEN co-moments are taken per block on both backends and merged
    for be in (NumpyBackend(1), CPU):
        merged = (0, np.zeros(4), np.zeros((4, 4)))
        for block in blocks:
            merged = merge_co_moments(merged, be.co_moments(block))
        n, mean, sums = merged
        # THEN they equal numpy's mean and population covariance of all rows
        assert n == 1000
        np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(sums / n, np.cov(x.T, ddof=0), rtol=1e-10)


def test_unique_counts_match_numpy_over_the_full_uint64_range() -> None:
    # GIVEN hashes on both sides of 2**63, with repeats
    h = np.array([2**64 - 1, 5, 2**63, 5, 2**63 - 1, 2**64 - 1, 5], dtype=np.uint64)
    # WHEN counted by sort on both backends
    nk, nc = NumpyBackend(1).unique_counts(h)
    tk, tc = CPU.unique_counts(h)
    # THEN the same sorted keys and counts
    np.testing.assert_array_equal(nk, [5, 2**63 - 1, 2**63, 2**64 - 1])
    np.testing.assert_array_equal(nc, [3, 1, 1, 2])
    np.testing.assert_array_equal(tk, nk)
    np.testing.assert_array_equal(tc, nc)


def test_backend_is_chosen_by_argument_and_checked() -> None:
    # GIVEN / WHEN the torch backend is asked for by name, or with bad settings
    assert get_backend("torch").name == "torch"
    with pytest.raises(InvalidOption):
        TorchBackend(device="no-such-device")
    with pytest.raises(InvalidOption):
        TorchBackend(dtype=torch.int32)
    # THEN float32 tiles are refused for exact radius decisions
    x = _points(40, 3, 5)
    with pytest.raises(InvalidOption):
        count_within_radius(x, x, np.ones(40), backend=TorchBackend("cpu", torch.float32))


def test_validate_on_the_torch_backend_gives_the_numpy_result() -> None:
    # GIVEN the bundled collapsed sample and its real reference
    from pathlib import Path

    import synthos
    from synthos.engine import ValidateOptions, validate

    data = Path(synthos.__file__).parent / "data"
    syn, ref = (data / "breast_cancer_synthetic_collapsed.parquet",
                data / "breast_cancer_reference.parquet")
    # WHEN the whole validation runs once per backend (the backend is an option, not a global)
    results = {name: validate(syn, ref, ValidateOptions(backend=name, replicates=8))
               for name in ("numpy", "torch")}
    # THEN the scores and every signal agree, and the result names the backend it ran on
    a, b = results["numpy"], results["torch"]
    assert b.engine.backend == "torch"
    np.testing.assert_allclose(b.collapse_risk, a.collapse_risk, atol=1e-6)
    np.testing.assert_allclose(b.drift_score, a.drift_score, atol=1e-6)
    assert [(s.signal, s.scope) for s in a.signals] == [(s.signal, s.scope) for s in b.signals]
    np.testing.assert_allclose([s.observed for s in b.signals],
                               [s.observed for s in a.signals], rtol=1e-6, atol=1e-9)


def test_validate_refuses_an_unknown_backend() -> None:
    from synthos.engine import ValidateOptions

    with pytest.raises(InvalidOption, match="available: numpy, torch"):
        ValidateOptions(backend="cuda-magic").check()
