"""The partial state of a shard: what one streaming pass over some rows leaves behind.

``start_state`` + ``feed`` (batch by batch) build it, ``merge`` joins two of them (associative
and commutative), ``finalize`` turns one into the ``ProfileOutcome`` that
``synthos.profile.profile_source`` returns, which is itself one shard + ``finalize``.
``to_bytes``/``from_bytes`` use the envelope of ``synthos.shard.codec``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from synthos.columns import ColumnKind, ColumnSpec
from synthos.errors import (
    CorruptShardState,
    IncompatibleShardStates,
    InvalidOption,
    NoUsableColumns,
)
from synthos.io.hashing import combine_column_hashes, hash_array
from synthos.profiling import ColumnAccumulator, make_accumulator
from synthos.profiling.covariance import (
    CoMomentAccumulator,
    CoMomentKernel,
    covariance_columns,
)
from synthos.profiling.quantiles import Quantiles, limit_for
from synthos.sampling import RowSampler
from synthos.shard import codec
from synthos.shard.sample_merge import load_content, load_sampler, merge_many, sampler_state

SAMPLE_CELLS = 25_000_000
STATE_KIND = "synthos.partial_state"
# what rebuilding objects from a decoded tree raises on content that is not a state's
# (OverflowError: int() of an infinite JSON number; InvalidOption: a sample size below 1;
# OSError: Arrow's IPC readers on bytes that are not IPC)
BAD_CONTENT: tuple[type[Exception], ...] = (KeyError, TypeError, ValueError, IndexError,
                                            AttributeError, OverflowError, InvalidOption,
                                            OSError, pa.ArrowException)


@dataclass(frozen=True)
class SourceInfo:
    """The file the rows come from (the same for every shard of it)."""

    path: str
    format: str
    size_bytes: int
    sha256: str
    columns: int
    warnings: tuple[str, ...] = ()


@dataclass
class PartialState:
    """Per-column accumulators, the row sampler (with the exact row-hash counts), the rows
    seen, the indexes of the shards folded in and the co-moments of the numeric columns
    (None when not kept: fewer than 2 or more than 256 numeric columns)."""

    source: SourceInfo
    specs: list[ColumnSpec]
    accs: dict[str, ColumnAccumulator]
    sampler: RowSampler
    rows: int = 0
    shards: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    co_moments: CoMomentAccumulator | None = None

    def to_bytes(self) -> bytes:
        """The state in the versioned binary format of ``synthos.shard.codec``."""
        return codec.encode({
            "kind": STATE_KIND,
            "source": dataclasses.asdict(self.source),
            "specs": [_spec_json(s) for s in self.specs],
            "columns": {name: acc.state() for name, acc in self.accs.items()},
            "sample": sampler_state(self.sampler),
            "rows": self.rows, "shards": self.shards, "warnings": self.warnings,
            "co_moments": None if self.co_moments is None else self.co_moments.state(),
        })

    @classmethod
    def from_bytes(cls, data: bytes) -> PartialState:
        """Read a state; CorruptShardState for anything that is not one."""
        tree = codec.decode(data)
        return _checked(lambda: _from_tree(tree, load_sampler))

    @classmethod
    def read_without_counts(cls, f: codec.ReadableFile) -> PartialState:
        """Read a state from a seekable file except its row-hash count map (never read): the
        sampler holds only the sample's content (for ``synthos.shard.partition.combine``)."""
        reader = codec.StateReader(f)
        tree = reader.subtree()
        return _checked(lambda: _from_tree(tree, load_content))


def _checked(build: Callable[[], PartialState]) -> PartialState:
    try:
        return build()
    except CorruptShardState:
        raise
    except BAD_CONTENT as exc:
        raise CorruptShardState(f"partial state content is invalid: {exc!r}"[:300]) from exc


def _spec_json(s: ColumnSpec) -> dict[str, Any]:
    return {"name": s.name, "kind": s.kind.value, "arrow_type": s.arrow_type, "dim": s.dim,
            "reason": s.reason}


def _from_tree(tree: Any, sampler: Callable[[dict[str, Any]], RowSampler]) -> PartialState:
    if not isinstance(tree, dict) or tree.get("kind") != STATE_KIND:
        raise CorruptShardState("bytes hold no partial state")
    source = source_from_json(tree["source"])
    specs = [ColumnSpec(str(s["name"]), ColumnKind(s["kind"]), str(s["arrow_type"]),
                        None if s["dim"] is None else int(s["dim"]),
                        None if s["reason"] is None else str(s["reason"])) for s in tree["specs"]]
    supported = [s for s in specs if s.kind is not ColumnKind.UNSUPPORTED]
    columns = tree["columns"]
    if sorted(columns) != sorted(s.name for s in supported):
        raise CorruptShardState("partial state columns do not match its column specs")
    accs = {s.name: type(make_accumulator(s)).load(s, columns[s.name]) for s in supported}
    co = tree["co_moments"]
    co_moments = None if co is None else CoMomentAccumulator.load(co)
    expected = covariance_columns(_numeric_names(specs), [])
    if (None if co_moments is None else co_moments.columns) != expected:
        raise CorruptShardState("partial state co-moments do not match its numeric columns")
    rows = int(tree["rows"])
    if any(a.count != rows for a in accs.values()) or (co_moments and co_moments.n > rows):
        raise CorruptShardState("partial state column counts do not match its rows")
    return PartialState(source, specs, accs, sampler(tree["sample"]), rows,
                        [int(i) for i in tree["shards"]], [str(w) for w in tree["warnings"]],
                        co_moments)


def source_from_json(src: Any) -> SourceInfo:
    return SourceInfo(str(src["path"]), str(src["format"]), int(src["size_bytes"]),
                      str(src["sha256"]), int(src["columns"]),
                      tuple(str(w) for w in src["warnings"]))


def _numeric_names(specs: Sequence[ColumnSpec]) -> list[str]:
    return [s.name for s in specs if s.kind == ColumnKind.NUMERIC]


def sample_size(sample_rows: int, n_columns: int, warnings: list[str]) -> int:
    """The sample rows kept for ``n_columns`` supported columns (a memory bound)."""
    cap = max(1_000, SAMPLE_CELLS // max(1, n_columns))
    if sample_rows > cap:
        warnings.append(f"sample limited to {cap} rows for {n_columns} columns (memory bound)")
        return cap
    return sample_rows


def start_state(source: SourceInfo, specs: Sequence[ColumnSpec], *, sample_rows: int,
                seed: int, shard_index: int = 0, quantile_limit: int | None = None,
                backend: CoMomentKernel | None = None) -> PartialState:
    """An empty state for the rows of one shard of ``source``; ``quantile_limit`` is the
    exact-value cap of every quantile column (None: ``limit_for`` the number of them);
    ``backend`` computes the co-moments (None: numpy)."""
    accs = {s.name: make_accumulator(s) for s in specs if s.kind != ColumnKind.UNSUPPORTED}
    if not accs:
        listed = [f"{s.name} ({s.reason})" for s in specs][:5]
        raise NoUsableColumns("no column can be measured: " + (", ".join(listed) or "none"))
    warnings = list(source.warnings)
    sampler = RowSampler(sample_size(sample_rows, len(accs), warnings), seed)
    quantiles = [q for a in accs.values() if isinstance(q := getattr(a, "quantiles", None),
                                                        Quantiles)]
    for q in quantiles:
        q.limit = limit_for(len(quantiles)) if quantile_limit is None else quantile_limit
    names = covariance_columns(_numeric_names(specs), warnings)
    co_moments = None if names is None else CoMomentAccumulator(names, backend)
    return PartialState(source, list(specs), accs, sampler, 0, [shard_index], warnings,
                        co_moments)


def feed(state: PartialState, batch: pa.RecordBatch) -> None:
    """Fold one record batch (holding every column of ``state.specs``) into the state."""
    rows, row_hashes = _sample_rows(state.accs, state.specs, batch)
    state.sampler.update(rows, row_hashes)
    if state.co_moments is not None:
        numbers = {n: v for n in state.co_moments.columns
                   if (v := getattr(state.accs.get(n), "batch_values", None)) is not None}
        state.co_moments.update(batch, numbers)
    state.rows += batch.num_rows


def _sample_rows(accs: dict[str, ColumnAccumulator], specs: Sequence[ColumnSpec],
                 batch: pa.RecordBatch) -> tuple[pa.RecordBatch, np.ndarray]:
    """Update ``accs`` with the batch; (the batch as the sample keeps it, row hashes)."""
    hashes, arrays = {}, []
    for name, acc in accs.items():
        arr, hashes[name] = acc.update(batch.column(name))
        arrays.append(arr)
    for spec in specs:
        if spec.name not in accs:
            hashes[spec.name] = hash_array(batch.column(spec.name))
    rows = pa.RecordBatch.from_arrays(arrays, names=list(accs))
    return rows, combine_column_hashes(hashes, batch.num_rows)


def profile_batches(batches: Iterable[pa.RecordBatch], source: SourceInfo,
                    specs: Sequence[ColumnSpec], *, sample_rows: int = 20_000, seed: int = 0,
                    shard_index: int = 0, quantile_limit: int | None = None,
                    progress: Callable[[int], None] | None = None,
                    backend: CoMomentKernel | None = None) -> PartialState:
    """The partial state of the rows in ``batches`` (``quantile_limit``, ``backend``: see
    start_state)."""
    state = start_state(source, specs, sample_rows=sample_rows, seed=seed,
                        shard_index=shard_index, quantile_limit=quantile_limit,
                        backend=backend)
    for batch in batches:
        feed(state, batch)
        if progress is not None:
            progress(state.rows)
    return state


def merge(a: PartialState, b: PartialState) -> PartialState:
    """The state of the union of the rows of ``a`` and ``b`` (new object; inputs unchanged
    except for flushing their pending sample candidates)."""
    return merge_all([a, b])


def merge_all(states: Iterable[PartialState]) -> PartialState:
    """The state of the union of the rows of ``states`` (at least one): the column
    accumulators fold one by one, the samplers merge in one multi-way pass. The same result
    as any order or grouping of pairwise merges (associative and commutative)."""
    parts = list(states)
    if not parts:
        raise IncompatibleShardStates("no partial state to merge")
    fold = StateFold()
    for s in parts:
        fold.add(s)
    sampler = merge_many(*(s.sampler for s in parts)) if len(parts) > 1 else parts[0].sampler
    return fold.result(sampler)


class StateFold:
    """Everything of a merge but the sampler, folded one state at a time (in ``merge_all``'s
    order, so with the same floats): the checks, the column accumulators, the co-moments,
    rows, shards and warnings. ``result(sampler)`` is the merged state with that sampler."""

    def __init__(self) -> None:
        self.first: PartialState | None = None
        self.accs: dict[str, ColumnAccumulator] = {}
        self.co_moments: CoMomentAccumulator | None = None
        self.rows = 0
        self.shards: list[int] = []
        self.warnings: dict[str, None] = {}

    def add(self, s: PartialState) -> None:
        twice = set(self.shards) & set(s.shards)
        if twice or len(set(s.shards)) != len(s.shards):
            raise IncompatibleShardStates(f"a shard would be counted twice: {sorted(twice)}")
        first = self.first
        if first is None:
            self.first = s
            self.accs = {n: type(a).load(a.spec, a.state()) for n, a in s.accs.items()}
            self.co_moments = _copy_co_moments(s.co_moments)
        else:
            if s.source != first.source or s.specs != first.specs:
                raise IncompatibleShardStates("partial states come from different files or "
                                              "columns")
            for name, joined in self.accs.items():
                joined.merge(s.accs[name])
            if self.co_moments is not None:
                if s.co_moments is None:
                    raise IncompatibleShardStates("partial states disagree on keeping "
                                                  "co-moments")
                self.co_moments.merge(s.co_moments)
        self.rows += s.rows
        self.shards += s.shards
        self.warnings.update(dict.fromkeys(s.warnings))

    def result(self, sampler: RowSampler) -> PartialState:
        if self.first is None:
            raise IncompatibleShardStates("no partial state to merge")
        return PartialState(self.first.source, list(self.first.specs), self.accs, sampler,
                            self.rows, sorted(self.shards), list(self.warnings),
                            self.co_moments)


def _copy_co_moments(first: CoMomentAccumulator | None) -> CoMomentAccumulator | None:
    if first is None:
        return None
    joined = CoMomentAccumulator.load(first.state())
    joined.mean, joined.cross = joined.mean.copy(), joined.cross.copy()
    return joined


def fill_missing(state: PartialState, batches: Iterable[pa.RecordBatch]) -> int:
    """Supply the content of sampled rows that no shard kept (see ``RowSampler.merge``) from
    a pass over (some of) the data; returns how many are still missing."""
    missing = state.sampler.missing_hashes()
    for batch in batches:
        if not len(missing):
            break
        probe = start_state(state.source, state.specs, sample_rows=1, seed=0)
        rows, row_hashes = _sample_rows(probe.accs, state.specs, batch)
        state.sampler.add_content(pa.Table.from_batches([rows]), row_hashes)
        missing = state.sampler.missing_hashes()
    return len(missing)

