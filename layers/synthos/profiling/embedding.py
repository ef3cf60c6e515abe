"""Embedding columns: vectors of one fixed length, from list columns or from JSON text.

Lists of any numeric type become list<float64>; text such as ``"[0.1, -2, 3e-4]"`` (vectors
written into a CSV) is parsed, vectorised, into the same. Vectors of varying length, or text
that is not a list of numbers, make the column unsupported with a reason. The sample keeps the
vectors as fixed_size_list<float64, dim>.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from synthos.columns import ColumnSpec
from synthos.io.hashing import hash_array
from synthos.profiling.base import ColumnAccumulator
from synthos.profiling.sketches import require

VECTOR = pa.list_(pa.float64())
MAX_DIM = 2**31 - 1  # the longest fixed_size_list Arrow has


class EmbeddingAccumulator(ColumnAccumulator):
    def __init__(self, spec: ColumnSpec) -> None:
        super().__init__(spec)
        self.dim: int | None = spec.dim
        self.nan_count = 0
        self.inf_count = 0

    def _update(self, arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
        if self.unsupported_reason is not None:
            return pa.nulls(len(arr), VECTOR), hash_array(arr)
        try:
            vectors = to_vectors(arr)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            self.unsupported_reason = "values are not lists of numbers (e.g. '[0.1, 0.2]')"
            return pa.nulls(len(arr), VECTOR), hash_array(arr)
        if not self._check_lengths(vectors):
            return vectors, hash_array(vectors)
        flat = pc.list_flatten(vectors).to_numpy(zero_copy_only=False)
        self.nan_count += int(np.count_nonzero(np.isnan(flat)))
        self.inf_count += int(np.count_nonzero(np.isinf(flat)))
        hashes = hash_array(vectors)
        valid = (
            hashes
            if not vectors.null_count
            else hashes[vectors.is_valid().to_numpy(zero_copy_only=False)]
        )
        self.distinct.update(valid)
        return vectors, hashes

    def _check_lengths(self, vectors: pa.Array) -> bool:
        lengths = pc.list_value_length(vectors).drop_null()
        if len(lengths) == 0:
            return True
        lo, hi = pc.min_max(lengths).values()
        seen = {lo.as_py(), hi.as_py()} | ({self.dim} if self.dim is not None else set())
        if len(seen) > 1:
            a, b = sorted(seen)[:2]
            self.unsupported_reason = f"vectors have different lengths ({a} and {b})"
            self.warnings.append(self.unsupported_reason)
            return False
        self.dim = lo.as_py()
        if self.dim == 0:
            self.unsupported_reason = "vectors are empty"
            return False
        return True

    def sample_type(self, arr_type: pa.DataType) -> pa.DataType:
        return pa.list_(pa.float64(), self.dim) if self.dim else VECTOR

    def _state(self) -> dict[str, Any]:
        return {"dim": self.dim, "nan_count": self.nan_count, "inf_count": self.inf_count}

    def _load(self, state: dict[str, Any]) -> None:
        dim = state["dim"]
        self.dim = None if dim is None else int(dim)
        self.nan_count, self.inf_count = int(state["nan_count"]), int(state["inf_count"])
        require(self.dim is None or 0 <= self.dim <= MAX_DIM, f"embedding dim {self.dim}")
        if self.unsupported_reason is None:
            require(self.dim != 0 and (self.spec.dim is None or self.dim == self.spec.dim),
                    "embedding dim does not match the column")
        cells = self.valid * (self.dim or 0)
        require(self.nan_count >= 0 and self.inf_count >= 0
                and self.nan_count + self.inf_count <= cells,
                "NaN and infinity counts out of range")

    def _merge(self, other: EmbeddingAccumulator) -> None:
        self.nan_count += other.nan_count
        self.inf_count += other.inf_count
        dims = sorted({d for d in (self.dim, other.dim) if d is not None})
        if len(dims) > 1 and self.unsupported_reason is None:
            self.unsupported_reason = f"vectors have different lengths ({dims[0]} and {dims[1]})"
            self.warnings = sorted({*self.warnings, self.unsupported_reason})
        elif dims:
            self.dim = dims[0]

    def _fields(self) -> dict[str, Any]:
        return {"embedding_dim": self.dim, "nan_count": self.nan_count, "inf_count": self.inf_count}


def to_vectors(arr: pa.Array) -> pa.Array:
    """list<float64> from a list-like column of numbers or from JSON-text vectors."""
    t = arr.type
    if pat.is_dictionary(t):
        arr, t = arr.dictionary_decode(), t.value_type
    if pat.is_string(t) or pat.is_large_string(t) or pat.is_string_view(t):
        return parse_text_vectors(arr.cast(pa.string()))
    if pat.is_fixed_size_list(t) or pat.is_large_list(t) or pat.is_list(t):
        return arr.cast(VECTOR)
    raise pa.ArrowInvalid(f"type {t} is not a list of numbers")


def parse_text_vectors(arr: pa.Array) -> pa.Array:
    """Parse text like ``"[1, 2.5, -3e-2]"`` into list<float64>; nulls stay null.

    Raises pa.ArrowInvalid when a value is not a bracketed, comma-separated list of numbers.
    """
    text = pc.utf8_trim_whitespace(arr)
    bracketed = pc.and_(pc.starts_with(text, "["), pc.ends_with(text, "]"))
    if not pc.all(pc.fill_null(bracketed, True)).as_py():
        raise pa.ArrowInvalid("a value is not a bracketed list")
    inner = pc.utf8_slice_codeunits(text, 1, -1)
    parts = pc.split_pattern(inner, ",")
    items = pc.utf8_trim_whitespace(parts.values)
    numbers = items.cast(pa.float64())
    return pa.ListArray.from_arrays(parts.offsets, numbers, mask=parts.is_null())
