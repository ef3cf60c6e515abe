"""validate(): the collapse-risk engine from files to a ValidationResult.

    read + profile (one streaming pass each, seeded sample) -> common columns
    -> frames in reference units -> calibrated signals (B real-vs-real replicates)
    -> collapse risk, drift score, column details -> recommendations with measured effect
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from synthos import __version__
from synthos.calibration import Calibrated, calibrate, make_plan
from synthos.columns import ColumnKind, ColumnSpec, classify_schema
from synthos.details import column_details
from synthos.errors import InvalidOption, NoUsableColumns, SchemaMismatch
from synthos.frame import CATEGORICAL_KINDS, NUMERIC_KINDS, build_pair
from synthos.io.readers import open_table
from synthos.knn import BACKENDS
from synthos.profile import ProfileOutcome, profile_source
from synthos.recommend import recommend
from synthos.reference_free import reference_free_result
from synthos.result import (
    Channel,
    ColumnDetail,
    Confidence,
    ConfidenceLevel,
    EngineInfo,
    Recommendation,
    SchemaComparison,
    SignalResult,
    ValidationResult,
)
from synthos.scoring import Score, score
from synthos.signals.context import build_context, standardize
from synthos.signals.registry import SIGNALS

Progress = Callable[[str, int], None]
MIN_ROWS_CONFIDENT = 100
MIN_ROWS_HIGH = 1000


@dataclass(frozen=True)
class ValidateOptions:
    embedding_columns: tuple[str, ...] = ()
    sample_rows: int = 20_000
    seed: int = 0
    replicates: int = 24
    knn_rows: int = 1_000
    knn_k: int = 5
    recommendations: bool = True
    backend: str = "numpy"

    def check(self) -> None:
        if self.sample_rows < 20:
            raise InvalidOption("sample_rows must be at least 20")
        if not 4 <= self.replicates <= 1000:
            raise InvalidOption("replicates must be between 4 and 1000")
        if self.knn_k < 1 or self.knn_rows < 10 * self.knn_k:
            raise InvalidOption("knn_k must be >= 1 and knn_rows >= 10 * knn_k")
        if self.backend not in BACKENDS:
            raise InvalidOption(f"unknown backend {self.backend!r}; available: "
                                f"{', '.join(sorted(BACKENDS))}")


def _profile(path: str | Path, opts: ValidateOptions, role: str, progress: Progress | None
             ) -> ProfileOutcome:
    source = open_table(path)
    specs = classify_schema(source.schema, opts.embedding_columns)
    cb = (lambda rows: progress(role, rows)) if progress else None
    outcome = profile_source(source, specs, sample_rows=opts.sample_rows, seed=opts.seed,
                             progress=cb)
    if not any(s.kind is not ColumnKind.UNSUPPORTED for s in outcome.specs):
        raise NoUsableColumns(f"{path}: no column can be measured (all unsupported or empty)")
    return outcome


def _family(kind: ColumnKind) -> str:
    if kind in NUMERIC_KINDS:
        return "numeric"
    if kind in CATEGORICAL_KINDS:
        return "categorical"
    return kind.value


def compare_schemas(ds: list[ColumnSpec], ref: list[ColumnSpec]
                    ) -> tuple[list[ColumnSpec], SchemaComparison]:
    """Columns both sides can be compared on, and what differs."""
    d = {s.name: s for s in ds if s.kind is not ColumnKind.UNSUPPORTED}
    r = {s.name: s for s in ref if s.kind is not ColumnKind.UNSUPPORTED}
    common, mismatches = [], []
    for name in sorted(d.keys() & r.keys()):
        if _family(d[name].kind) == _family(r[name].kind) and d[name].dim == r[name].dim:
            common.append(d[name])
        else:
            mismatches.append({"column": name, "dataset": d[name].arrow_type,
                               "reference": r[name].arrow_type})
    return common, SchemaComparison(
        common=[s.name for s in common],
        missing_in_dataset=sorted(r.keys() - d.keys()),
        extra_in_dataset=sorted(d.keys() - r.keys()),
        type_mismatches=mismatches,
    )


def _signal_results(cals: list[Calibrated], collapse_score: Score, drift_score: Score
                    ) -> list[SignalResult]:
    collapse, drift = collapse_score.evidence.by_key, drift_score.evidence.by_key
    out = []
    for c in cals:
        info, key = SIGNALS[c.signal], (c.signal, c.scope)
        channel: Channel = ("collapse" if key in collapse
                            else "drift" if key in drift else "info")
        evidence = collapse.get(key, drift.get(key, (c.observed - c.baseline) / c.effect_sd))
        out.append(SignalResult(
            signal=c.signal, family=info.family, scope=c.scope, channel=channel,
            description=info.description, observed=c.observed, baseline=c.baseline,
            baseline_sd=c.baseline_sd, z=c.z, evidence=evidence, rows_compared=c.size,
        ))
    return sorted(out, key=lambda s: (s.channel != "collapse", -s.evidence))


def _confidence(risk: Score, n_ds: int, n_ref: int, rows_used: int, anchor_rows: int,
                opts: ValidateOptions) -> Confidence:
    reasons = []
    level: ConfidenceLevel
    if min(n_ds, n_ref) < MIN_ROWS_CONFIDENT:
        level = "weak"
        reasons.append(f"fewer than {MIN_ROWS_CONFIDENT} rows on one side: the estimate is weak")
    elif rows_used < MIN_ROWS_HIGH:
        level = "medium"
        reasons.append(f"only {rows_used} rows per side could be compared")
    else:
        level = "high"
        reasons.append(f"{rows_used} rows per side compared over {opts.replicates} replicates")
    return Confidence(level=level, interval=risk.interval, reasons=reasons,
                      dataset_rows_used=rows_used, reference_rows_used=anchor_rows,
                      replicates=opts.replicates)


@dataclass(frozen=True)
class Assessment:
    """Everything measured on a pair of samples (before it is shaped into a result)."""

    collapse: Score
    drift: Score
    calibrated: list[Calibrated]
    details: list[ColumnDetail]
    recommendations: list[Recommendation]
    rows_compared: int
    anchor_rows: int


def assess(dataset: pa.Table, reference: pa.Table, common: list[ColumnSpec],
           opts: ValidateOptions) -> Assessment:
    """Score two in-memory samples on their ``common`` columns (no file IO)."""
    s_frame, r_frame = build_pair(dataset, reference, common)
    assert r_frame is not None
    ctx = build_context(r_frame, seed=opts.seed, knn_k=opts.knn_k, knn_rows=opts.knn_rows,
                        backend=opts.backend)
    s_std, r_std = standardize(s_frame, ctx), standardize(r_frame, ctx)
    plan = make_plan(s_std.n, r_std.n, opts.replicates, opts.seed)
    cals = calibrate(s_std, r_std, ctx, plan)
    collapse, drift = score(cals, "collapse"), score(cals, "drift")
    details = column_details(s_std, r_std, ctx, collapse.evidence, drift.evidence)
    recs = (recommend(s_std, r_std, ctx, details, collapse.risk, opts.seed)
            if opts.recommendations else [])
    return Assessment(collapse, drift, cals, details, recs, plan.candidate_size,
                      r_std.n - plan.candidate_size)


def validate(dataset: str | Path, reference: str | Path | None = None,
             options: ValidateOptions | None = None,
             progress: Progress | None = None) -> ValidationResult:
    """Measure the collapse risk of ``dataset`` against ``reference`` (or without one)."""
    opts = options or ValidateOptions()
    opts.check()
    started = time.perf_counter()
    if reference is None:
        ds, ref = _profile(dataset, opts, "dataset", progress), None
    else:  # the two streaming passes overlap: pyarrow and numpy release the GIL
        with ThreadPoolExecutor(max_workers=2) as pool:
            ds_job = pool.submit(_profile, dataset, opts, "dataset", progress)
            ref_job = pool.submit(_profile, reference, opts, "reference", progress)
            ds, ref = ds_job.result(), ref_job.result()
    return result_from_outcomes(ds, ref, opts, started)


def result_from_outcomes(ds: ProfileOutcome, ref: ProfileOutcome | None, opts: ValidateOptions,
                         started: float) -> ValidationResult:
    """The ValidationResult of two profiled files (``ref`` None: reference-free), whether they
    were profiled in one pass (``validate``) or as merged shards (``synthos.shard.finalize``);
    ``started``: the ``time.perf_counter()`` of the start, for the engine's seconds."""
    engine_info = lambda: EngineInfo(  # noqa: E731
        version=__version__, backend=opts.backend, seconds=time.perf_counter() - started,
        seed=opts.seed, sample_rows=opts.sample_rows, replicates=opts.replicates,
        knn_rows=opts.knn_rows)
    if ref is None:
        return reference_free_result(ds, opts.seed, opts.backend, engine_info)
    common, schema = compare_schemas(ds.specs, ref.specs)
    if not common:
        raise SchemaMismatch(
            "dataset and reference have no measurable column in common "
            f"(dataset: {', '.join(s.name for s in ds.specs)[:200]}; "
            f"reference: {', '.join(s.name for s in ref.specs)[:200]})")
    a = assess(ds.sample, ref.sample, common, opts)
    warnings = [*ds.profile.warnings, *ref.profile.warnings]
    if schema.missing_in_dataset:
        warnings.append(f"reference columns missing from the dataset: {schema.missing_in_dataset}")
    return ValidationResult(
        collapse_risk=a.collapse.risk, risk_level=a.collapse.level,
        drift_score=a.drift.risk, drift_level=a.drift.level,
        confidence=_confidence(a.collapse, ds.profile.rows, ref.profile.rows, a.rows_compared,
                               a.anchor_rows, opts),
        signals=_signal_results(a.calibrated, a.collapse, a.drift), columns=a.details,
        recommendations=a.recommendations,
        dataset=ds.profile, reference=ref.profile, schema_comparison=schema,
        engine=engine_info(), warnings=warnings,
    )
