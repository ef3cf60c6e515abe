"""Profile a dataset in one streaming pass: per-column statistics and a seeded row sample.

``profile_source`` reads the batches of a ``TableSource`` once. Every supported column feeds
an accumulator (``synthos.profiling``): counts of rows, nulls, NaN and infinities; distinct
values (exact up to 65,536, then an HLL sketch); exact mean, population std (ddof=0), min and
max of finite values; KLL quantiles p01..p99 with their rank error; most frequent values;
embedding length. Every row is hashed over all profiled columns, which gives the exact count of
duplicate rows and drives the bottom-k sample (``synthos.sampling``), so the sample depends
only on the multiset of rows and the seed. Memory stays at one batch, the sample and the
sketches.

Columns that turn out unusable while streaming (only nulls, vectors of varying length, text
that is not vectors) are listed as unsupported with a reason and left out of the sample.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from synthos.columns import ColumnKind, ColumnSpec
from synthos.errors import EmptyDataset, InvalidOption, NoUsableColumns
from synthos.io.hashing import combine_column_hashes, hash_array
from synthos.io.readers import TableSource, sha256_file
from synthos.profiling import ColumnAccumulator, make_accumulator
from synthos.result import ColumnProfile, DatasetProfile, UnsupportedColumn
from synthos.sampling import RowSampler, canonical_order

BATCH_CELLS = 4_000_000
MIN_BATCH_ROWS = 2_048
MAX_BATCH_ROWS = 131_072
SAMPLE_CELLS = 25_000_000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ProfileOutcome:
    """The profile, the sample (supported columns only, canonical order) and the column specs
    as the pass left them (embedding dims filled in, newly unsupported columns marked)."""

    profile: DatasetProfile
    sample: pa.Table
    specs: list[ColumnSpec]


def batch_rows_for(n_columns: int) -> int:
    """Rows per batch: about BATCH_CELLS values, wide files taking at least MIN_BATCH_ROWS."""
    return max(MIN_BATCH_ROWS, min(MAX_BATCH_ROWS, BATCH_CELLS // max(1, n_columns)))


def profile_source(
    source: TableSource,
    specs: list[ColumnSpec],
    *,
    sample_rows: int = 20_000,
    seed: int = 0,
    progress: Progress | None = None,
) -> ProfileOutcome:
    """Profile ``source`` over the columns in ``specs`` in one streaming pass.

    Raises InvalidOption (bad sample size, unknown or repeated column), NoUsableColumns (no
    supported column, before or after the pass), EmptyDataset (no rows), UnreadableDataset
    (the file is corrupt part-way).
    """
    _validate(source, specs, sample_rows)
    accs = {s.name: make_accumulator(s) for s in specs if s.kind != ColumnKind.UNSUPPORTED}
    if not accs:
        raise NoUsableColumns("no column can be measured: " + _reasons(specs))
    warnings = list(source.warnings)
    sampler = RowSampler(_sample_size(sample_rows, len(accs), warnings), seed)
    rows = _stream(source, specs, accs, sampler, progress)
    if rows == 0:
        raise EmptyDataset(f"{source.path} has no rows")
    finished = {name: acc.finish() for name, acc in accs.items()}
    new_specs = _updated_specs(specs, finished)
    profiles = [p for p in finished.values() if isinstance(p, ColumnProfile)]
    if not profiles:
        raise NoUsableColumns("no column can be measured: " + _reasons(new_specs))
    dropped = [p for p in finished.values() if isinstance(p, UnsupportedColumn)]
    warnings.extend(f"column {u.name} left out: {u.reason}" for u in dropped)
    unsupported = [
        UnsupportedColumn(name=s.name, arrow_type=s.arrow_type, reason=s.reason or "not measured")
        for s in specs
        if s.kind == ColumnKind.UNSUPPORTED
    ] + dropped
    sample = _final_sample(sampler, accs, [p.name for p in profiles])
    dataset = DatasetProfile(
        path=source.path,
        format=source.format,
        size_bytes=source.size_bytes,
        sha256=sha256_file(source.path),
        rows=rows,
        columns=len(source.schema),
        column_profiles=profiles,
        unsupported_columns=unsupported,
        exact_duplicate_rows=sampler.exact_duplicate_rows,
        exact_duplicate_rate=sampler.exact_duplicate_rows / rows,
        sample_rows=sample.num_rows,
        warnings=warnings,
    )
    return ProfileOutcome(dataset, sample, new_specs)


def _validate(source: TableSource, specs: Sequence[ColumnSpec], sample_rows: int) -> None:
    if sample_rows < 1:
        raise InvalidOption(f"sample_rows must be at least 1, got {sample_rows}")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        repeated = sorted(n for n, c in Counter(names).items() if c > 1)
        raise InvalidOption(f"column specs repeat: {', '.join(repeated)}")
    known = set(source.schema.names)
    missing = [n for n in names if n not in known]
    if missing:
        raise InvalidOption(f"no such column in {source.path}: {', '.join(missing)}")


def _sample_size(sample_rows: int, n_columns: int, warnings: list[str]) -> int:
    cap = max(1_000, SAMPLE_CELLS // max(1, n_columns))
    if sample_rows > cap:
        warnings.append(f"sample limited to {cap} rows for {n_columns} columns (memory bound)")
        return cap
    return sample_rows


def _stream(
    source: TableSource,
    specs: Sequence[ColumnSpec],
    accs: dict[str, ColumnAccumulator],
    sampler: RowSampler,
    progress: Progress | None,
) -> int:
    """The pass itself; returns the number of rows read."""
    passive = [s.name for s in specs if s.name not in accs]
    names = list(accs)
    rows = 0
    for batch in source.batches(batch_rows_for(len(specs)), columns=[s.name for s in specs]):
        hashes = {}
        arrays = []
        for name, acc in accs.items():
            arr, hashes[name] = acc.update(batch.column(name))
            arrays.append(arr)
        for name in passive:
            hashes[name] = hash_array(batch.column(name))
        row_hashes = combine_column_hashes(hashes, batch.num_rows)
        sampler.update(pa.RecordBatch.from_arrays(arrays, names=names), row_hashes)
        rows += batch.num_rows
        if progress is not None:
            progress(rows)
    return rows


def _final_sample(
    sampler: RowSampler, accs: dict[str, ColumnAccumulator], keep: list[str]
) -> pa.Table:
    sample = sampler.result(columns=keep).sample
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


def _reasons(specs: Sequence[ColumnSpec]) -> str:
    listed = [f"{s.name} ({s.reason})" for s in specs if s.kind == ColumnKind.UNSUPPORTED]
    return ", ".join(listed[:5]) + (" ..." if len(listed) > 5 else "") if listed else "no columns"
