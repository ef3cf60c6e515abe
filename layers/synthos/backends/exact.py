"""Exact distance decisions for the tiled k-NN (``synthos.knn``): distances recomputed from
coordinate differences, and ball-membership decisions that agree bit for bit with comparing
rounded distances to radii, whatever the tiling or backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from synthos.backends.protocol import DistanceBackend
from synthos.errors import EngineError


def pair_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(...,) float64 distances between paired points a, b: (..., d), broadcastable.

    Squared coordinate differences are summed by one reduction along a fresh contiguous last
    axis, whose order depends on d alone: the same pair gives the same bits in any call.
    """
    diff = np.subtract(a, b)
    np.multiply(diff, diff, out=diff)
    return np.sqrt(np.add.reduce(diff, axis=-1))


def sq_norms(x: np.ndarray) -> np.ndarray:
    """(n,) float64 squared norms of the rows of x (n, d)."""
    return np.einsum("ij,ij->i", x, x)


def expansion_margin(dim: int, query_sq_norm: float, base_sq_norm: float) -> float:
    """A bound on |expansion squared distance - :func:`pair_distances` squared| for points
    of dimension ``dim`` and squared norms up to the given ones (dot-product error bounds of
    both sums, doubled)."""
    eps, tiny = np.finfo(np.float64).eps, np.finfo(np.float64).smallest_normal
    return 16.0 * (dim + 2) * (eps * (query_sq_norm + base_sq_norm) + tiny)


@dataclass(frozen=True)
class Balls:
    """Balls around points: ``radii`` (m,), strict (open) or not, and ``below`` (m,) with
    ``s < below[j]  <=>  sqrt(max(s, 0)) < radii[j]`` (``<=`` when not strict)."""

    radii: np.ndarray
    below: np.ndarray
    strict: bool

    @classmethod
    def of(cls, radii: np.ndarray, *, strict: bool) -> Balls:
        t = squared_radius_threshold(radii, strict=strict)
        return cls(np.asarray(radii, np.float64), t if strict else np.nextafter(t, np.inf), strict)

    def take(self, start: int, stop: int) -> Balls:
        return Balls(self.radii[start:stop], self.below[start:stop], self.strict)


@dataclass(frozen=True)
class BallHits:
    """Which entries (i, j) of a tile lie in the balls: ``certain`` (backend mask, (n, m)) by
    the expansion with room to spare, plus ``rows``/``cols`` (u,) found inside on an exact
    recheck of the entries too close to the edge to tell. The two never overlap."""

    certain: Any
    rows: np.ndarray
    cols: np.ndarray


def ball_hits(
    be: DistanceBackend,
    d: Any,
    query: np.ndarray,
    base: np.ndarray,
    balls: Balls,
    *,
    per: Literal["row", "col"],
    margin: float,
) -> BallHits:
    """Entries of the tile d (expansion squared distances between query (n, dim) and base
    (m, dim)) with ``dist(query_i, base_j) < radius`` (``<=`` for closed balls), the radius being
    ``balls.radii[i]`` (per row) or ``[j]`` (per column), decided exactly (module docstring);
    ``margin`` from :func:`expansion_margin`."""
    certain = be.below(d, balls.below - margin, per=per)
    rows, cols = be.uncertain(be.below(d, balls.below + margin, per=per), certain)
    if rows.size:
        dist = pair_distances(query[rows], base[cols])
        radius = balls.radii[rows if per == "row" else cols]
        keep = dist < radius if balls.strict else dist <= radius
        rows, cols = rows[keep], cols[keep]
    return BallHits(certain, rows, cols)


def squared_radius_threshold(radii: np.ndarray, *, strict: bool) -> np.ndarray:
    """(m,) float64 t with ``sqrt(max(s, 0)) < r  <=>  s < t`` for every float64 s (strict),
    or ``sqrt(max(s, 0)) <= r  <=>  s <= t`` (not strict); radii: (m,) float.

    Comparing squared distances with t gives bit for bit the answer of comparing rounded
    distances with r, ties included, without a square root over the tile.
    """
    r = np.asarray(radii, dtype=np.float64)
    r_pos = np.maximum(r, 0.0)
    with np.errstate(over="ignore", under="ignore"):
        t = np.square(r_pos)
        for _ in range(64):
            below, above = np.nextafter(t, -np.inf), np.nextafter(t, np.inf)
            if strict:  # the least t with sqrt(t) >= r
                down = (t > 0) & (np.sqrt(np.maximum(below, 0.0)) >= r_pos)
                up = np.sqrt(t) < r_pos
            else:  # the greatest t with sqrt(t) <= r
                down = np.sqrt(t) > r_pos
                up = np.isfinite(t) & (np.sqrt(above) <= r_pos)
            if not (down.any() or up.any()):
                break
            t = np.where(down, below, np.where(up, above, t))
        else:
            raise EngineError("squared radius threshold did not converge")
    return np.where(r <= 0, -np.inf, t) if strict else np.where(r < 0, -np.inf, t)
