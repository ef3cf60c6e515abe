"""Column kinds: how each Arrow type is measured (or why it is not)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa
import pyarrow.types as pat


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    EMBEDDING = "embedding"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a dataset: its name, Arrow type (as text) and the kind we measure it as.

    ``dim`` is the vector length of an embedding column when the type fixes it, else None.
    ``reason`` says why a column is unsupported.
    """

    name: str
    kind: ColumnKind
    arrow_type: str
    dim: int | None = None
    reason: str | None = None


def _is_float_vector(t: pa.DataType) -> bool:
    if pat.is_fixed_size_list(t) or pat.is_list(t) or pat.is_large_list(t):
        vt = t.value_type
        return bool(pat.is_floating(vt) or pat.is_integer(vt))
    return False


def classify_type(
    name: str, t: pa.DataType, *, as_embedding: bool = False
) -> ColumnSpec:
    """Map one Arrow field type to a ColumnSpec (never raises)."""
    text = str(t)
    if pat.is_dictionary(t):
        t = t.value_type
    if as_embedding or _is_float_vector(t):
        if _is_float_vector(t):
            dim = t.list_size if pat.is_fixed_size_list(t) else None
            return ColumnSpec(name, ColumnKind.EMBEDDING, text, dim=dim)
        if pat.is_string(t) or pat.is_large_string(t):
            # vectors written as JSON text, e.g. "[0.1, 0.2]" in a CSV
            return ColumnSpec(name, ColumnKind.EMBEDDING, text)
        return ColumnSpec(
            name, ColumnKind.UNSUPPORTED, text,
            reason="not a list of numbers, cannot be an embedding",
        )
    if pat.is_boolean(t):
        return ColumnSpec(name, ColumnKind.BOOLEAN, text)
    if pat.is_integer(t) or pat.is_floating(t) or pat.is_decimal(t):
        return ColumnSpec(name, ColumnKind.NUMERIC, text)
    if pat.is_timestamp(t) or pat.is_date(t) or pat.is_time(t) or pat.is_duration(t):
        return ColumnSpec(name, ColumnKind.DATETIME, text)
    if pat.is_string(t) or pat.is_large_string(t) or pat.is_string_view(t):
        return ColumnSpec(name, ColumnKind.CATEGORICAL, text)
    if pat.is_null(t):
        return ColumnSpec(name, ColumnKind.UNSUPPORTED, text, reason="column holds only nulls")
    return ColumnSpec(name, ColumnKind.UNSUPPORTED, text, reason=f"type {text} is not measured")


def classify_schema(
    schema: pa.Schema, embedding_columns: Sequence[str] = ()
) -> list[ColumnSpec]:
    """Classify every field of ``schema``; ``embedding_columns`` forces the embedding kind."""
    forced = set(embedding_columns)
    return [classify_type(f.name, f.type, as_embedding=f.name in forced) for f in schema]
