"""What every signal needs to know about the reference before the replicates start.

Built once from the whole reference sample; the replicates reuse it. Standardising numeric
columns and embeddings by reference statistics is what makes every signal invariant to an affine
rescaling applied to both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from synthos.frame import Frame, complete_rows

MAX_DOMINANT_SHARE = 0.98  # a numeric column whose mode holds more than this is too thin to measure
MAX_NULL_RATE = 0.5
MAX_CONTINUOUS_SHARE = 0.05  # a column is "continuous" when no value holds more than this share
MIN_CONTINUOUS_DISTINCT = 20


@dataclass(frozen=True)
class EmbeddingBasis:
    """Reference geometry of one embedding column (computed on the reference sample).

    directions: (r, d) orthonormal principal directions, largest variance first.
    centroids:  (c, d) k-means centres of the centred reference.
    """

    directions: np.ndarray
    explained: np.ndarray
    centroids: np.ndarray


@dataclass(frozen=True)
class PairContext:
    """``numeric_cols``: columns with spread; ``continuous_cols``: those whose quantiles are
    stable (no value holds over 5% of rows, at least 20 distinct values) - only these get the
    IQR and tail signals, whose quantiles would jump between replicates on discrete columns."""

    numeric_cols: tuple[int, ...]
    center: np.ndarray
    scale: np.ndarray
    embedding_scale: dict[str, float] = field(default_factory=dict)
    bases: dict[str, EmbeddingBasis] = field(default_factory=dict)
    knn_k: int = 5
    knn_rows: int = 1000
    seed: int = 0
    continuous_cols: tuple[int, ...] = ()
    backend: str = "numpy"  # distance kernels (synthos.knn backends), an argument, not a global


def usable_numeric(reference: Frame) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(numeric columns with enough spread to compare, the continuous ones among them)."""
    keep, continuous = [], []
    for j in range(reference.numeric.shape[1]):
        col = reference.numeric[:, j]
        finite = col[np.isfinite(col)]
        if finite.size < (1 - MAX_NULL_RATE) * col.size or finite.size < 8:
            continue
        _, counts = np.unique(finite, return_counts=True)
        if counts.max() <= MAX_DOMINANT_SHARE * finite.size:
            keep.append(j)
            if (counts.size >= MIN_CONTINUOUS_DISTINCT
                    and counts.max() <= MAX_CONTINUOUS_SHARE * finite.size):
                continuous.append(j)
    return tuple(keep), tuple(continuous)


def robust_center_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and a scale per column: IQR/1.349, else the sd, else 1 (NaN-safe, never 0)."""
    with np.errstate(all="ignore"):
        finite = np.where(np.isfinite(x), x, np.nan)
        center = np.nan_to_num(np.nanmedian(finite, axis=0)) if x.shape[0] else np.zeros(x.shape[1])
        q75, q25 = (np.nanpercentile(finite, q, axis=0) for q in (75, 25))
        scale = (q75 - q25) / 1.349
        sd = np.nanstd(finite, axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, sd)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    return np.asarray(center, dtype=float), np.asarray(scale, dtype=float)


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 25) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding; returns (k, d) centres."""
    n = x.shape[0]
    centres = [x[rng.integers(n)]]
    d2 = np.sum((x - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        total = d2.sum()
        i = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres.append(x[i])
        d2 = np.minimum(d2, np.sum((x - x[i]) ** 2, axis=1))
    c = np.array(centres)
    for _ in range(iters):
        dist = (x**2).sum(1)[:, None] - 2 * x @ c.T + (c**2).sum(1)[None, :]
        label = dist.argmin(axis=1)
        new = np.array([x[label == j].mean(0) if np.any(label == j) else c[j] for j in range(k)])
        if np.allclose(new, c):
            break
        c = new
    return c


def embedding_basis(x: np.ndarray, rng: np.random.Generator, max_dirs: int = 10) -> EmbeddingBasis:
    """Principal directions and k-means modes of a (centred, scaled) reference embedding."""
    x = complete_rows(x)
    xc = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    var = s**2 / max(x.shape[0] - 1, 1)
    share = var / var.sum() if var.sum() > 0 else var
    r = int(min(max_dirs, vt.shape[0], max(1, np.searchsorted(np.cumsum(share), 0.95) + 1)))
    k = int(np.clip(x.shape[0] // 50, 2, 30))
    sub = xc if xc.shape[0] <= 5000 else xc[rng.choice(xc.shape[0], 5000, replace=False)]
    return EmbeddingBasis(vt[:r], share[:r], _kmeans(sub, k, rng))


def build_context(reference: Frame, *, seed: int = 0, knn_k: int = 5, knn_rows: int = 1000,
                  backend: str = "numpy") -> PairContext:
    rng = np.random.default_rng(seed)
    center, scale = robust_center_scale(reference.numeric)
    emb_scale: dict[str, float] = {}
    bases: dict[str, EmbeddingBasis] = {}
    for name, x in reference.embeddings.items():
        finite = complete_rows(x)
        s = float(np.sqrt(np.mean(np.var(finite, axis=0)))) if finite.size else 1.0
        emb_scale[name] = s if s > 0 else 1.0
        if finite.shape[0] >= 10:
            bases[name] = embedding_basis((finite - finite.mean(0)) / emb_scale[name], rng)
    numeric, continuous = usable_numeric(reference)
    return PairContext(numeric, center, scale, emb_scale, bases, knn_k, knn_rows, seed,
                       continuous, backend)


GRID_DECIMALS = 9


def standardize(frame: Frame, ctx: PairContext) -> Frame:
    """The frame in reference units: numeric (x - median) / scale, embeddings / overall sd.

    Values are snapped to a 1e-9 grid (in reference units): an affine rescaling of the input
    then yields bit-identical standardised data, so distance ties (common in discrete data)
    break the same way and every score is exactly invariant, not just to rounding.
    """
    numeric = frame.numeric
    if numeric.size:
        with np.errstate(invalid="ignore"):
            numeric = np.round((numeric - ctx.center) / ctx.scale, GRID_DECIMALS)
    embeddings = {k: np.round(v / ctx.embedding_scale.get(k, 1.0), GRID_DECIMALS)
                  for k, v in frame.embeddings.items()}
    return replace(frame, numeric=numeric, embeddings=embeddings)
