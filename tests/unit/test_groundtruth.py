"""The ground-truth generators do what the benchmark claims, and the engine ranks them."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow.compute as pc
from scipy import stats

from synthos import groundtruth as gt
from synthos.columns import classify_schema
from synthos.engine import ValidateOptions, assess


def test_truncated_resampling_keeps_rows_inside_tau():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 3))
    gens = gt.truncated_resampling(x, 3, 2.0, rng)
    assert gens[0] is x
    for prev, cur in itertools.pairwise(gens):
        z = np.abs(cur - prev.mean(0)) / prev.std(0)
        assert z.max() <= 2.0 + 1e-12
        assert cur.shape == x.shape
    assert np.all(gens[-1].std(0) < 0.85 * x.std(0))  # each cut loses ~12% of the sd


def test_zipf_refit_never_brings_a_category_back():
    rng = np.random.default_rng(1)
    _, gens = gt.zipf_refit(100, 1.1, 5, 150, 3000, 1000, rng)
    seen = [set(pc.unique(g.column("cat0")).to_pylist()) for g in gens]
    assert all(len(b) <= len(a) + 5 for a, b in itertools.pairwise(seen))
    assert len(seen[-1]) < len(seen[0])


def test_mode_dropping_drops_rarest_clusters_first_at_constant_size():
    rng = np.random.default_rng(2)
    x, labels = gt.synthetic_clusters(4000, 5, 8, rng)
    gens = gt.mode_dropping(x, labels, 3, 2, 1000, rng)
    assert len({g.shape for g in gens}) == 1
    ids, counts = np.unique(labels, return_counts=True)
    rarest = ids[np.argsort(counts, kind="stable")][:6]
    centres = np.array([x[labels == i].mean(0) for i in rarest])
    nearest = ((gens[3][:, None, :] - centres[None]) ** 2).sum(-1).min(1)
    assert np.sqrt(nearest).min() > 1.0  # no row left near a dropped centre


def test_copula_refit_loses_distinct_values_each_generation():
    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, size=(400, 3))
    gens = gt.copula_refit(x, 3, 60, 400, rng)
    distinct = [np.unique(g[:, 0]).size for g in gens]
    assert distinct[0] <= 400 and all(b < a for a, b in itertools.pairwise(distinct))


def test_engine_ranks_generations_of_gaussian_refit():
    # GIVEN five generations of Shumailov's Gaussian refit
    rng = np.random.default_rng(4)
    x = gt.synthetic_gaussian(3000, 6, rng)
    ref, train = x[:1500], x[1500:]
    gens = gt.gaussian_refit(train, 4, 30, 1000, rng)
    ref_t = gt.to_table(ref)
    opts = ValidateOptions(replicates=8, recommendations=False)
    risks = [assess(gt.to_table(g), ref_t, classify_schema(ref_t.schema), opts).collapse.risk
             for g in gens]
    # THEN the risk rises with the generation and generation 0 is low
    assert stats.spearmanr(range(len(risks)), risks)[0] >= 0.9
    assert risks[0] < 25 and risks[-1] >= 50
