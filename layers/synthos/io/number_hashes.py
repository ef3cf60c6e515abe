"""Hashes of number and temporal columns that also hand back the values, so that an
accumulator handles the nulls once: ``hash_numbers`` and ``hash_temporal`` give exactly
``hash_array``'s hashes (see ``synthos.io.hashing``), plus the values as numpy and the
validity mask."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.types as pat

from synthos.io.hashing import (
    NULL_HASH,
    _hash_floats,
    _hash_ints,
    _hash_raw_temporal,
    _numpy_filled,
    temporal_storage,
    valid_mask,
)


def hash_numbers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """For an integer or float64 array: (``hash_array(arr)``, the values as numpy (any value
    at the nulls: a read-only view of Arrow's buffer), the validity mask or None when there
    are no nulls), the nulls handled once."""
    integer = pat.is_integer(arr.type)
    filled = _numpy_values(arr)
    with np.errstate(invalid="ignore"):  # the slots of nulls may hold any bits
        out = _hash_ints(filled) if integer else _hash_floats(filled)
    valid = None
    if arr.null_count:
        valid = valid_mask(arr)
        out[~valid] = NULL_HASH
    return out, filled, valid


def _numpy_values(arr: pa.Array) -> np.ndarray:
    """The values of a fixed-width number array as a zero-copy numpy view of its buffer
    (whatever bits the null slots hold; no fill_null copy)."""
    if not arr.null_count:
        return arr.to_numpy(zero_copy_only=False)
    values = np.frombuffer(arr.buffers()[1], dtype=arr.type.to_pandas_dtype())
    return values[arr.offset : arr.offset + len(arr)]


def hash_temporal(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """For a temporal array: (``hash_array(arr)``, its stored integers with 0 at the nulls,
    the validity mask or None when there are no nulls), the nulls handled once."""
    filled = _numpy_filled(temporal_storage(arr), 0)
    out = _hash_raw_temporal(filled, arr.type)
    valid = None
    if arr.null_count:
        valid = valid_mask(arr)
        out[~valid] = NULL_HASH
    return out, filled, valid
