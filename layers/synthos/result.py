"""The validation result: the one format the CLI, API, pipeline and reports build on.

Pydantic models, so the JSON schema published in ``docs/result-schema.json`` is generated from
the same classes the engine fills (``ValidationResult.model_json_schema()``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RiskLevel = Literal["low", "medium", "high", "critical"]
ConfidenceLevel = Literal["high", "medium", "low", "weak"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnProfile(_Model):
    """Exact (or sketched, where said) statistics of one column over the whole file."""

    name: str
    kind: str
    arrow_type: str
    count: int = Field(description="rows")
    null_count: int
    null_rate: float
    nan_count: int = 0
    inf_count: int = 0
    distinct_count: int | None = None
    distinct_exact: bool = True
    constant: bool = False
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] | None = Field(
        default=None, description="p01..p99 of non-null finite values (KLL sketch, rank error stated)"
    )
    quantile_rank_error: float | None = None
    top_values: list[tuple[str, int]] | None = None
    embedding_dim: int | None = None
    warnings: list[str] = Field(default_factory=list)


class UnsupportedColumn(_Model):
    name: str
    arrow_type: str
    reason: str


class DatasetProfile(_Model):
    """What a streaming pass over one file established."""

    path: str
    format: str
    size_bytes: int
    sha256: str
    rows: int
    columns: int
    column_profiles: list[ColumnProfile]
    unsupported_columns: list[UnsupportedColumn] = Field(default_factory=list)
    exact_duplicate_rows: int = Field(description="rows equal to an earlier row (all columns)")
    exact_duplicate_rate: float
    sample_rows: int = Field(description="rows in the seeded sample used by sample-based signals")
    warnings: list[str] = Field(default_factory=list)
