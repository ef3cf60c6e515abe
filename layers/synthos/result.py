"""The validation result: the one format the CLI, API, pipeline and reports build on.

Pydantic models, so the JSON schema published in ``docs/result-schema.json`` is generated from
the same classes the engine fills (``ValidationResult.model_json_schema()``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RiskLevel = Literal["low", "medium", "high", "critical"]
Channel = Literal["collapse", "drift", "info"]
Action = Literal[
    "drop_duplicates", "mix_real_data", "restore_categories", "restore_spread",
    "remove_reference_copies",
]
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
        default=None,
        description="p01..p99 of non-null finite values: exact up to a cap of values, then a "
        "KLL sketch (quantile_rank_error 0 when exact)",
    )
    quantile_rank_error: float | None = None
    tail_quantiles: dict[str, float] | None = Field(
        default=None,
        description="p001, p01, p99, p999 (0.1 % .. 99.9 %) of non-null finite values: exact up "
        "to a cap, then REQ sketches (one per tail)",
    )
    tail_quantile_rank_error: float | None = Field(
        default=None,
        description="largest relative rank error |r' - r| / min(r, 1 - r) of tail_quantiles at "
        "3 standard deviations; 0 when exact",
    )
    top_values: list[tuple[str, int]] | None = None
    embedding_dim: int | None = None
    warnings: list[str] = Field(default_factory=list)


class UnsupportedColumn(_Model):
    name: str
    arrow_type: str
    reason: str


class Correlation(_Model):
    """Pearson correlation of the numeric columns over the rows finite in all of them."""

    columns: list[str] = Field(description="the numeric columns, in file order (2 to 256)")
    rows: int = Field(description="rows with a finite value in every one of these columns")
    means: list[float] = Field(description="per column, over those rows")
    stds: list[float] = Field(description="population standard deviations over those rows")
    matrix: list[list[float | None]] = Field(
        description="correlation; null in the row and column of a column constant over those "
        "rows. Covariance = matrix[i][j] * stds[i] * stds[j]"
    )


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
    correlation: Correlation | None = Field(
        default=None, description="numeric columns only; absent with fewer than 2 or more than "
        "256 of them, or no row complete in all of them"
    )
    warnings: list[str] = Field(default_factory=list)


class SignalResult(_Model):
    """One calibrated statistic: the dataset's value against the real-vs-real baseline."""

    signal: str
    family: str
    scope: str = Field(description='column, "col#pcK" for an embedding direction, "*" for all')
    channel: Channel
    description: str
    observed: float = Field(description="mean over replicates of the dataset's value")
    baseline: float = Field(description="mean of the same statistic between two real samples")
    baseline_sd: float
    z: float = Field(description="(observed - baseline) / baseline_sd, at the sizes compared")
    evidence: float = Field(description="oriented effect in sd at 2,000 rows; > 0 means worse")
    rows_compared: int


class DirectionDetail(_Model):
    direction: int = Field(description="1 = the reference's largest principal direction")
    explained_variance: float
    variance_ratio: float


class ColumnDetail(_Model):
    """What happened to one column (the "collapse details")."""

    name: str
    kind: str
    findings: list[str] = Field(description="e.g. lost_variance, lost_lower_tail, lost_categories")
    evidence: float = Field(description="largest collapse evidence among this column's signals")
    variance_ratio: float | None = None
    iqr_ratio: float | None = None
    tail_level: float | None = None
    lower_tail_occupancy: float | None = None
    upper_tail_occupancy: float | None = None
    median_shift: float | None = Field(default=None, description="in reference IQR/1.349 units")
    ks_complement: float | None = None
    distinct_dataset: int | None = None
    distinct_reference: int | None = None
    category_coverage: float | None = None
    entropy_ratio: float | None = None
    categories_lost: list[str] | None = None
    tv_complement: float | None = None
    directions: list[DirectionDetail] | None = None
    modes_total: int | None = None
    modes_left_empty: int | None = None


class Recommendation(_Model):
    action: Action
    description: str
    parameters: dict[str, float | int | str | list[str]] = Field(default_factory=dict)
    rows_affected: int | None = None
    predicted_collapse_risk: float
    predicted_risk_level: RiskLevel
    risk_reduction: float = Field(description="current collapse_risk minus the predicted one")


class Confidence(_Model):
    level: ConfidenceLevel
    interval: tuple[float, float] = Field(description="5-95% of collapse_risk over replicates")
    reasons: list[str]
    dataset_rows_used: int
    reference_rows_used: int
    replicates: int


class SchemaComparison(_Model):
    common: list[str]
    missing_in_dataset: list[str]
    extra_in_dataset: list[str]
    type_mismatches: list[dict[str, str]]


class EngineInfo(_Model):
    name: str = "synthos"
    version: str
    backend: str
    seconds: float
    seed: int
    sample_rows: int
    replicates: int
    knn_rows: int


class ValidationResult(_Model):
    collapse_risk: float = Field(ge=0, le=100)
    risk_level: RiskLevel
    drift_score: float = Field(ge=0, le=100)
    drift_level: RiskLevel
    confidence: Confidence
    signals: list[SignalResult]
    columns: list[ColumnDetail]
    recommendations: list[Recommendation]
    dataset: DatasetProfile
    reference: DatasetProfile | None
    schema_comparison: SchemaComparison | None
    engine: EngineInfo
    warnings: list[str] = Field(default_factory=list)
