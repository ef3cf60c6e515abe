"""In-memory samples as arrays: the form every collapse signal works on.

A :class:`Frame` holds the seeded sample of one dataset, split by kind:

* ``numeric``    (n, p) float64, NaN where missing; datetimes as seconds since the epoch;
* ``categorical`` (n, q) int64 codes into a vocabulary shared by the dataset and its reference,
  -1 where missing (booleans are categorical with the values "false"/"true");
* ``embeddings`` name -> (n, d) float64; rows with a missing vector are NaN rows;
* ``row_hash``   (n,) uint64 content hash of the whole row (for exact duplicates and copies).

Frames are built in pairs by :func:`build_pair` so that both sides share columns and vocabularies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthos.columns import ColumnKind, ColumnSpec
from synthos.io.hashing import hash_rows

T = TypeVar("T")
NUMERIC_KINDS = (ColumnKind.NUMERIC, ColumnKind.DATETIME)
CATEGORICAL_KINDS = (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)


@dataclass(frozen=True)
class Frame:
    numeric: np.ndarray
    numeric_names: tuple[str, ...]
    categorical: np.ndarray
    categorical_names: tuple[str, ...]
    vocabularies: tuple[tuple[str, ...], ...]
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    row_hash: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    # what the signals derive from this frame (sorted columns, counts, k-NN radii...), memoised:
    # an anchor serves both candidates of a replicate and, in the recommendations, every re-score
    cache: dict[object, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """``compute()``, once per ``key`` for this frame (frames are never mutated)."""
        if key not in self.cache:
            self.cache[key] = compute()
        return cast(T, self.cache[key])

    @property
    def n(self) -> int:
        return int(self.row_hash.shape[0])

    def take(self, idx: np.ndarray) -> Frame:
        """Rows ``idx`` (int array) of this frame, in that order."""
        return Frame(
            numeric=self.numeric[idx],
            numeric_names=self.numeric_names,
            categorical=self.categorical[idx],
            categorical_names=self.categorical_names,
            vocabularies=self.vocabularies,
            embeddings={k: v[idx] for k, v in self.embeddings.items()},
            row_hash=self.row_hash[idx],
        )


def complete_rows(x: np.ndarray) -> np.ndarray:
    """The rows of a 2-D array whose values are all finite."""
    return x[np.all(np.isfinite(x), axis=1)]


def _numeric_column(col: pa.ChunkedArray, kind: ColumnKind) -> np.ndarray:
    if kind is ColumnKind.DATETIME:
        t = col.type
        if pa.types.is_date(t):
            col = pc.cast(col, pa.timestamp("s"))
        elif pa.types.is_time(t) or pa.types.is_duration(t):
            col = pc.cast(pc.cast(col, pa.int64()), pa.float64())
            return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
        ints = pc.cast(pc.cast(col, pa.timestamp("ns")), pa.int64())
        return np.asarray(ints.to_numpy(zero_copy_only=False), dtype=np.float64) / 1e9
    floats = pc.cast(col, pa.float64())
    return np.asarray(floats.to_numpy(zero_copy_only=False), dtype=np.float64)


def _text_values(col: pa.ChunkedArray, kind: ColumnKind) -> pa.ChunkedArray:
    """The column as strings (booleans as "false"/"true"), nulls kept."""
    is_text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
    if kind is ColumnKind.BOOLEAN or not is_text:
        col = pc.cast(col, pa.string())
    return col


def _codes(text: pa.ChunkedArray, vocabulary: pa.Array) -> np.ndarray:
    """(n,) int64 position of each value in ``vocabulary``, -1 where missing."""
    idx = pc.fill_null(pc.index_in(text, value_set=vocabulary), -1)
    return np.asarray(idx.to_numpy(zero_copy_only=False), dtype=np.int64)


def _embedding_matrix(col: pa.ChunkedArray, dim: int) -> np.ndarray:
    out = np.full((len(col), dim), np.nan)
    start = 0
    for chunk in col.chunks:
        n = len(chunk)
        if n:
            flat = chunk.flatten() if hasattr(chunk, "flatten") else chunk.values
            valid = np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            vals = np.asarray(pc.cast(flat, pa.float64()).to_numpy(zero_copy_only=False))
            block = out[start : start + n]
            block[valid] = vals.reshape(-1, dim)
        start += n
    return out


def build_pair(
    dataset: pa.Table, reference: pa.Table | None, specs: list[ColumnSpec]
) -> tuple[Frame, Frame | None]:
    """Frames for a dataset sample and (optionally) a reference sample over the columns ``specs``.

    ``specs`` lists the columns both sides share (the engine decides which); every spec must be a
    supported kind. Categorical vocabularies are the sorted union of both sides' values.
    """
    ordered = sorted(specs, key=lambda s: s.name)
    num = [s for s in ordered if s.kind in NUMERIC_KINDS]
    cat = [s for s in ordered if s.kind in CATEGORICAL_KINDS]
    emb = [s for s in ordered if s.kind is ColumnKind.EMBEDDING]
    tables = [t for t in (dataset, reference) if t is not None]

    vocabularies: list[tuple[str, ...]] = []
    texts: list[list[pa.ChunkedArray]] = []
    for s in cat:
        per_side = [_text_values(t.column(s.name), s.kind) for t in tables]
        values: set[str] = set()
        for arr in per_side:
            values.update(v for v in pc.unique(arr).to_pylist() if v is not None)
        vocabularies.append(tuple(sorted(values)))
        texts.append(per_side)

    names = [s.name for s in ordered]
    frames: list[Frame] = []
    for side, t in enumerate(tables):
        numeric = (
            np.column_stack([_numeric_column(t.column(s.name), s.kind) for s in num])
            if num
            else np.zeros((t.num_rows, 0))
        )
        codes = np.full((t.num_rows, len(cat)), -1, dtype=np.int64)
        for j, vocab in enumerate(vocabularies):
            codes[:, j] = _codes(texts[j][side], pa.array(vocab, type=pa.string()))
        embeddings = {}
        for s in emb:
            col = t.column(s.name)
            dim = s.dim or (pa.types.is_fixed_size_list(col.type) and col.type.list_size)
            embeddings[s.name] = _embedding_matrix(col, int(dim))
        frames.append(
            Frame(
                numeric=numeric,
                numeric_names=tuple(s.name for s in num),
                categorical=codes,
                categorical_names=tuple(s.name for s in cat),
                vocabularies=tuple(vocabularies),
                embeddings=embeddings,
                row_hash=hash_rows(t, names) if t.num_rows else np.zeros(0, np.uint64),
            )
        )
    return frames[0], (frames[1] if reference is not None else None)
