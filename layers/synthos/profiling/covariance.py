"""Co-moments of the numeric columns: the mergeable core of covariance and correlation.

One accumulator per partial state holds (n, means, centred cross-product sums) over the rows
whose value is finite in *every* numeric column (listwise deletion: a row with a null, NaN or
infinity in any numeric column is left out of all of them, so the matrix is one consistent,
positive semi-definite covariance of one row set). Batches and states merge by Chan's rule
(``synthos.backends.merge_co_moments``): the same co-moments, up to rounding, whatever the
split. Datetime, boolean and categorical columns are not included. The width is bounded:
with more than ``MAX_COVARIANCE_COLUMNS`` numeric columns (or fewer than two) nothing is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthos.backends import CoMoments, NumpyBackend, merge_co_moments
from synthos.result import Correlation

MAX_COVARIANCE_COLUMNS = 256
Numbers = tuple[np.ndarray, "np.ndarray | None"]  # values (any at the nulls), validity


class CoMomentKernel(Protocol):
    """What the accumulator needs of a backend (``NumpyBackend``, ``TorchBackend``)."""

    def co_moments(self, x: np.ndarray) -> CoMoments: ...


class CoMomentAccumulator:
    """(n, mean (d,), centred cross products (d, d)) of the complete rows of ``columns``;
    each batch's block goes to ``backend`` (default: numpy on one thread; the Batch worker
    passes the torch backend on CUDA)."""

    def __init__(self, columns: list[str], backend: CoMomentKernel | None = None) -> None:
        d = len(columns)
        self.columns = list(columns)
        self.backend = backend if backend is not None else NumpyBackend(workers=1)
        self.n = 0
        self.mean = np.zeros(d)
        self.cross = np.zeros((d, d))

    def update(self, batch: pa.RecordBatch, numbers: Mapping[str, Numbers] | None = None
               ) -> None:
        """Fold in the rows of ``batch`` complete (finite) in every column; ``numbers``: the
        values already converted of some columns (values, validity or None), reused."""
        block = np.empty((batch.num_rows, len(self.columns)), order="F")  # column writes
        for j, name in enumerate(self.columns):
            given = None if numbers is None else numbers.get(name)
            if given is not None:
                block[:, j] = given[0]  # ints: the same float64 as Arrow's cast
                if given[1] is not None:
                    np.copyto(block[:, j], np.nan, where=~given[1])
                continue
            arr = batch.column(name)
            if arr.type != pa.float64():
                arr = pc.cast(arr, pa.float64(), safe=False)
            if arr.null_count:
                arr = arr.fill_null(np.nan)
            block[:, j] = arr.to_numpy(zero_copy_only=False)
        finite = np.isfinite(block).all(axis=1)
        complete = block if finite.all() else block[finite]
        if len(complete):
            merged = merge_co_moments((self.n, self.mean, self.cross),
                                      self.backend.co_moments(complete))
            self.n, self.mean, self.cross = merged

    def merge(self, other: CoMomentAccumulator) -> None:
        if other.columns != self.columns:
            raise ValueError("co-moments of different columns")
        self.n, self.mean, self.cross = merge_co_moments(
            (self.n, self.mean, self.cross), (other.n, other.mean, other.cross))

    def covariance(self) -> np.ndarray:
        """The population covariance (ddof=0) of the complete rows (NaN without rows)."""
        return self.cross / self.n if self.n else np.full_like(self.cross, np.nan)

    def result(self) -> Correlation | None:
        """Pearson correlation (None entries where a column is constant), means and
        population standard deviations over the complete rows; None without such rows."""
        if self.n == 0:
            return None
        cov = self.covariance()
        std = np.sqrt(np.maximum(np.diag(cov), 0.0))
        usable = std > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.clip(cov / np.outer(std, std), -1.0, 1.0)
        matrix = [[float(corr[i, j]) if usable[i] and usable[j] else None
                   for j in range(len(std))] for i in range(len(std))]
        return Correlation(columns=self.columns, rows=self.n,
                           means=[float(m) for m in self.mean],
                           stds=[float(s) for s in std], matrix=matrix)

    def state(self) -> dict[str, Any]:
        return {"columns": self.columns, "n": self.n, "mean": self.mean, "cross": self.cross}

    @classmethod
    def load(cls, state: dict[str, Any]) -> CoMomentAccumulator:
        columns = state["columns"]
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise ValueError("co-moment columns are not a list of names")
        out = cls(columns)
        d = len(columns)
        mean, cross = state["mean"], state["cross"]
        if not (isinstance(mean, np.ndarray) and mean.shape == (d,) and mean.dtype == np.float64
                and isinstance(cross, np.ndarray) and cross.shape == (d, d)
                and cross.dtype == np.float64):
            raise ValueError("co-moment arrays have the wrong shape or type")
        n = int(state["n"])
        if n < 0:
            raise ValueError("co-moment row count is negative")
        if n and not (np.isfinite(mean).all() and np.isfinite(cross).all()
                      and (np.diag(cross) >= 0).all()):
            raise ValueError("co-moments are not finite or have a negative variance")
        out.n, out.mean, out.cross = n, mean, cross
        return out


def covariance_columns(names: list[str], warnings: list[str]) -> list[str] | None:
    """The numeric columns whose co-moments a state keeps, or None (with a warning when
    there are too many)."""
    if len(names) < 2:
        return None
    if len(names) > MAX_COVARIANCE_COLUMNS:
        warnings.append(f"correlation left out: {len(names)} numeric columns (more than "
                        f"{MAX_COVARIANCE_COLUMNS})")
        return None
    return names
