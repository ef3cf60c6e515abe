"""Generations of known collapse, for the ground-truth benchmark and the sensitivity tests.

Each family returns a reference table and the dataset of every generation 0..G, where
generation 0 is real data (or the first fit) and collapse can only grow with the generation:

* ``gaussian_refit``: fit a Gaussian (mean, MLE covariance) to n_fit rows, sample from it, refit
  on the samples, and so on (Shumailov et al. 2024, the Gaussian case);
* ``copula_refit``: the same refit loop for real, non-Gaussian rows: a Gaussian copula (the
  correlation of normal scores) with empirical marginals, both re-estimated from n_fit rows of
  the previous generation - the Gaussian refit that keeps real marginals at generation 0;
* ``truncated_resampling``: resample the previous generation with replacement after dropping the
  rows beyond tau standard deviations in any column (tails lost, duplicates gained);
* ``zipf_refit``: a Zipf categorical re-estimated from n_fit draws each generation (a category
  drawn zero times is gone for good);
* ``mode_dropping``: clustered embeddings whose rarest clusters vanish, k per generation;
* ``accumulate``: the Gaussian refit, but every fit sees all data so far (real + synthetic),
  which is known to keep collapse bounded (Gerstgrasser et al. 2024) - a control.

Sources are arrays (n, d) of real rows (e.g. scikit-learn data sets, loaded by the caller) or
synthetic ones from ``synthetic_gaussian``/``synthetic_clusters``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa


def to_table(x: np.ndarray, prefix: str = "x") -> pa.Table:
    return pa.table({f"{prefix}{j:02d}": x[:, j] for j in range(x.shape[1])})


def to_embedding_table(x: np.ndarray, name: str = "embedding") -> pa.Table:
    flat = pa.array(np.ascontiguousarray(x, dtype=np.float64).ravel())
    return pa.table({name: pa.FixedSizeListArray.from_arrays(flat, x.shape[1])})


def split_real(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random halves: (reference, training pool)."""
    perm = rng.permutation(x.shape[0])
    half = x.shape[0] // 2
    return x[perm[:half]], x[perm[half:]]


def synthetic_gaussian(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Correlated Gaussian rows with unequal scales."""
    a = rng.normal(size=(d, d)) / np.sqrt(d)
    cov = a @ a.T + np.diag(rng.uniform(0.2, 1.0, d))
    scales = rng.uniform(0.5, 20, d)
    return rng.multivariate_normal(rng.normal(0, 5, d), cov, size=n) * scales


def _fit_sample(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    mean, cov = x.mean(0), np.cov(x, rowvar=False, bias=True)
    return rng.multivariate_normal(mean, np.atleast_2d(cov), size=n, method="eigh")


FitSample = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def _refit(train: np.ndarray, generations: int, n_fit: int, n_out: int,
           rng: np.random.Generator, accumulate: bool, fit_sample: FitSample
           ) -> list[np.ndarray]:
    """The refit loop: generation g emits n_out rows of model g; model g+1 is fitted on n_fit
    rows of model g (or, with ``accumulate``, on the real rows and every generation so far)."""
    fit_on, pool, out = train, train, []
    for _ in range(generations + 1):
        out.append(fit_sample(fit_on, n_out, rng))
        new = fit_sample(fit_on, n_fit, rng)
        if accumulate:
            pool = np.vstack([pool, new])
            fit_on = pool
        else:
            fit_on = new
    return out


def gaussian_refit(train: np.ndarray, generations: int, n_fit: int, n_out: int,
                   rng: np.random.Generator, accumulate: bool = False) -> list[np.ndarray]:
    """Datasets of generations 0..G; generation 0 is a draw from the fit to the real rows."""
    return _refit(train, generations, n_fit, n_out, rng, accumulate, _fit_sample)


def _copula_fit_sample(x: np.ndarray, n: int, rng: np.random.Generator,
                       method: str = "inverted_cdf") -> np.ndarray:
    from scipy import stats

    m = x.shape[0]
    ranks = np.argsort(np.argsort(x, axis=0, kind="stable"), axis=0, kind="stable")
    scores = stats.norm.ppf((ranks + 0.5) / m)
    corr = np.atleast_2d(np.corrcoef(scores, rowvar=False))
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    u = stats.norm.cdf(rng.multivariate_normal(np.zeros(x.shape[1]), corr, size=n,
                                               method="eigh"))
    return np.column_stack([np.quantile(x[:, j], u[:, j], method=method)  # type: ignore[call-overload]
                            for j in range(x.shape[1])])


def copula_sample(train: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """A healthy one-shot generator: the Gaussian copula of the real rows with marginals
    interpolated between order statistics (new values, not copies of training values)."""
    return _copula_fit_sample(train, n, rng, method="linear")


def copula_refit(train: np.ndarray, generations: int, n_fit: int, n_out: int,
                 rng: np.random.Generator, accumulate: bool = False) -> list[np.ndarray]:
    """Generation 0 samples the copula fitted to the real rows; each fit uses n_fit rows of the
    previous generation, so marginal values and tails can only be lost."""
    return _refit(train, generations, n_fit, n_out, rng, accumulate, _copula_fit_sample)


def truncated_resampling(train: np.ndarray, generations: int, tau: float,
                         rng: np.random.Generator) -> list[np.ndarray]:
    """Generation 0 is the real pool; each next one resamples the previous inside tau sd."""
    out = [train]
    x = train
    for _ in range(generations):
        sd = x.std(0)
        z = np.abs(x - x.mean(0)) / np.where(sd > 0, sd, 1.0)
        kept = x[np.all(z <= tau, axis=1)]
        x = kept[rng.integers(0, kept.shape[0], size=train.shape[0])]
        out.append(x)
    return out


def zipf_probabilities(k: int, s: float) -> np.ndarray:
    p = 1.0 / np.arange(1, k + 1) ** s
    return p / p.sum()


def zipf_refit(k: int, s: float, generations: int, n_fit: int, n_out: int, n_ref: int,
               rng: np.random.Generator) -> tuple[pa.Table, list[pa.Table]]:
    """A categorical column (and a second, independent one) refit from n_fit draws each time."""
    labels = np.array([f"c{i:04d}" for i in range(k)], dtype=object)
    true = [zipf_probabilities(k, s), zipf_probabilities(k // 4, s * 0.8)]
    draw = lambda ps, n: pa.table({  # noqa: E731
        f"cat{j}": labels[rng.choice(p.size, size=n, p=p)] for j, p in enumerate(ps)})
    reference = draw(true, n_ref)
    model, out = true, []
    for _ in range(generations + 1):
        out.append(draw(model, n_out))
        counts = [np.bincount(rng.choice(p.size, size=n_fit, p=p), minlength=p.size)
                  for p in model]
        model = [c / c.sum() for c in counts]
    return reference, out


def synthetic_clusters(n: int, d: int, clusters: int, rng: np.random.Generator
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a Gaussian mixture with Zipf-like weights, and each row's cluster label."""
    centres = rng.normal(0, 4, size=(clusters, d))
    w = zipf_probabilities(clusters, 0.7)
    label = rng.choice(clusters, size=n, p=w)
    return centres[label] + rng.normal(0, 1, size=(n, d)), label


def mode_dropping(pool: np.ndarray, labels: np.ndarray, generations: int, per_generation: int,
                  n_out: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Generation g keeps the pool rows outside the g*per_generation rarest clusters."""
    ids, counts = np.unique(labels, return_counts=True)
    rarest_first = ids[np.argsort(counts, kind="stable")]
    kept = [np.flatnonzero(~np.isin(labels, rarest_first[: g * per_generation]))
            for g in range(generations + 1)]
    n = min(n_out, kept[-1].size)  # the same size in every generation
    return [pool[rng.choice(rows, size=n, replace=False)] for rows in kept]
