"""``finalize``: a (merged) partial state -> the ProfileOutcome the engine scores."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from synthos.columns import ColumnKind, ColumnSpec
from synthos.errors import EmptyDataset, NoUsableColumns
from synthos.profiling import ColumnAccumulator
from synthos.result import ColumnProfile, DatasetProfile, UnsupportedColumn
from synthos.sampling import canonical_order
from synthos.shard.state import PartialState


@dataclass(frozen=True)
class ProfileOutcome:
    """The profile, the sample (supported columns only, canonical order) and the column specs
    as the pass left them (embedding dims filled in, newly unsupported columns marked)."""

    profile: DatasetProfile
    sample: pa.Table
    specs: list[ColumnSpec]


def finalize(state: PartialState) -> ProfileOutcome:
    """The profile and sample of every row folded into ``state`` (a PartialState).

    Raises EmptyDataset (no rows), NoUsableColumns (every column unusable after the pass) and
    EngineError when sampled rows still lack their content (``fill_missing`` first).
    """
    if state.rows == 0:
        raise EmptyDataset(f"{state.source.path} has no rows")
    finished = {name: acc.finish() for name, acc in state.accs.items()}
    new_specs = _updated_specs(state.specs, finished)
    profiles = [p for p in finished.values() if isinstance(p, ColumnProfile)]
    if not profiles:
        raise NoUsableColumns("no column can be measured: " + reasons(new_specs))
    dropped = [p for p in finished.values() if isinstance(p, UnsupportedColumn)]
    warnings = [*state.warnings, *(f"column {u.name} left out: {u.reason}" for u in dropped)]
    unsupported = [
        UnsupportedColumn(name=s.name, arrow_type=s.arrow_type, reason=s.reason or "not measured")
        for s in state.specs
        if s.kind == ColumnKind.UNSUPPORTED
    ] + dropped
    sample = _final_sample(state, [p.name for p in profiles])
    sampler = state.sampler
    dataset = DatasetProfile(
        path=state.source.path,
        format=state.source.format,
        size_bytes=state.source.size_bytes,
        sha256=state.source.sha256,
        rows=state.rows,
        columns=state.source.columns,
        column_profiles=profiles,
        unsupported_columns=unsupported,
        exact_duplicate_rows=sampler.exact_duplicate_rows,
        exact_duplicate_rate=sampler.exact_duplicate_rows / state.rows,
        sample_rows=sample.num_rows,
        correlation=None if state.co_moments is None else state.co_moments.result(),
        warnings=warnings,
    )
    return ProfileOutcome(dataset, sample, new_specs)


def _final_sample(state: PartialState, keep: list[str]) -> pa.Table:
    sample = state.sampler.result(columns=keep).sample
    accs: dict[str, ColumnAccumulator] = state.accs
    recast = False
    for i, name in enumerate(sample.column_names):
        column = sample.column(i)
        target = accs[name].sample_type(column.type)
        if column.type != target:
            sample = sample.set_column(i, pa.field(name, target), column.cast(target))
            recast = True
    return canonical_order(sample) if recast else sample


def _updated_specs(
    specs: Sequence[ColumnSpec], finished: dict[str, ColumnProfile | UnsupportedColumn]
) -> list[ColumnSpec]:
    out = []
    for spec in specs:
        done = finished.get(spec.name)
        if isinstance(done, UnsupportedColumn):
            spec = dataclasses.replace(spec, kind=ColumnKind.UNSUPPORTED, reason=done.reason)
        elif isinstance(done, ColumnProfile) and done.embedding_dim is not None:
            spec = dataclasses.replace(spec, dim=done.embedding_dim)
        out.append(spec)
    return out


def reasons(specs: Sequence[ColumnSpec]) -> str:
    listed = [f"{s.name} ({s.reason})" for s in specs if s.kind == ColumnKind.UNSUPPORTED]
    return ", ".join(listed[:5]) + (" ..." if len(listed) > 5 else "") if listed else "no columns"
