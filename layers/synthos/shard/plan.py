"""Shard planning: from a file's metadata, a manifest of shards of bounded size.

- Parquet: consecutive row groups, grouped up to ``target_bytes`` (compressed); a row group
  larger than the target is a shard of its own (shards are bounded by
  ``max(target_bytes, largest row group)``).
- Arrow IPC file (and Feather v2): consecutive record batches, grouped the same way.
- CSV / TSV / JSON Lines (uncompressed): byte ranges of ``target_bytes``; a shard owns the lines
  that *start* in its range (the reader aligns to line boundaries). Values holding newlines
  inside quotes are not supported by byte-range shards: such files (and gzip, IPC streams) are
  planned as one ``whole_file`` shard.

The manifest's JSON is an object; its ``items`` array is what a Step Functions Distributed Map
iterates (``items_json()`` gives the bare array, for an S3 ItemReader).
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from synthos.columns import ColumnKind, ColumnSpec, classify_schema
from synthos.errors import InvalidOption, UnreadableDataset
from synthos.io.detect import detect
from synthos.io.readers import drop_pandas_index, open_table, sha256_file
from synthos.profiling.quantiles import SKETCH_ONLY, limit_for

MANIFEST_VERSION = 1
DEFAULT_TARGET_BYTES = 256 * 2**20
MAX_SHARDS = 10_000
KINDS = ("parquet_row_groups", "ipc_batches", "byte_range", "whole_file")
_QUANTILE_KINDS = (ColumnKind.NUMERIC, ColumnKind.DATETIME)


class SeekableFile(Protocol):
    """What shard reading needs of a file: a local ``open(..., "rb")``, an ``S3File``."""

    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class ShardItem:
    """One shard: ``[start, stop)`` row groups, record batches or bytes (by ``kind``)."""

    index: int
    kind: str
    start: int
    stop: int
    rows_estimate: int
    bytes_estimate: int
    state_key: str


@dataclass(frozen=True)
class Manifest:
    """Everything a worker needs to read one shard and label its state."""

    source: str
    format: str
    size_bytes: int
    sha256: str
    rows_estimate: int
    schema_b64: str
    items: list[ShardItem]
    embedding_columns: list[str] = field(default_factory=list)
    sample_rows: int = 20_000
    seed: int = 0
    source_warnings: list[str] = field(default_factory=list)
    text: dict[str, Any] = field(default_factory=dict)  # delimiter, encoding, data_start
    version: int = MANIFEST_VERSION
    quantile_limit: int | None = None  # exact-value cap of every shard (None: limit_for)

    @property
    def schema(self) -> pa.Schema:
        return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(self.schema_b64)))

    def specs(self) -> list[ColumnSpec]:
        return classify_schema(self.schema, self.embedding_columns)

    def item(self, index: int) -> ShardItem:
        if isinstance(index, bool) or not isinstance(index, int) or not (
            0 <= index < len(self.items)
        ):
            raise InvalidOption(f"shard index {index!r} is out of range 0..{len(self.items) - 1}")
        return self.items[index]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def items_json(self) -> str:
        return json.dumps([asdict(i) for i in self.items], sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        """Parse a manifest; InvalidOption when it is not one this version understands."""
        try:
            raw = json.loads(text)
            if raw.get("version") != MANIFEST_VERSION:
                raise InvalidOption(f"manifest version {raw.get('version')!r} is not supported")
            items = [ShardItem(**item) for item in raw.pop("items")]
            manifest = cls(items=items, **raw)
            manifest.schema  # noqa: B018 - decodes, or raises
        except InvalidOption:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, pa.ArrowException) as exc:
            raise InvalidOption(f"not a shard manifest: {exc}"[:300]) from exc
        if any(i.kind not in KINDS or i.index != n for n, i in enumerate(items)):
            raise InvalidOption("manifest items are not numbered 0..n-1 with known kinds")
        cap = manifest.quantile_limit
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
            raise InvalidOption(f"manifest quantile_limit {cap!r} is not a count")
        return manifest


def plan_shards(
    source: str | Path | SeekableFile,
    *,
    source_uri: str | None = None,
    fmt: str | None = None,
    size_bytes: int | None = None,
    sha256: str | None = None,
    target_bytes: int = DEFAULT_TARGET_BYTES,
    tenant: str | None = None,
    job_id: str | None = None,
    state_key: Callable[[int], str] | None = None,
    embedding_columns: Sequence[str] = (),
    sample_rows: int = 20_000,
    seed: int = 0,
) -> Manifest:
    """Plan the shards of one file: a local path (any format), or a seekable binary file
    object (Parquet or Arrow IPC file; give ``fmt``, ``size_bytes`` and ``source_uri``).

    Each item's ``state_key`` is ``state_key(index)`` when given, else the S3 key layout's
    ``shards/{tenant}/{job_id}/state-{index:05d}.bin`` when both ids are given, else
    ``state-{index:05d}.bin``.
    """
    if target_bytes < 1:
        raise InvalidOption(f"target_bytes must be positive, got {target_bytes}")
    key = state_key or _default_key(tenant, job_id)
    if isinstance(source, str | Path):
        return _plan_path(Path(source), source_uri, fmt, sha256, target_bytes, key,
                          list(embedding_columns), sample_rows, seed)
    if fmt not in ("parquet", "arrow", "feather") or size_bytes is None or source_uri is None:
        raise InvalidOption("a file object is planned only as parquet or arrow, with "
                            "fmt, size_bytes and source_uri given")
    schema, spans, warnings = _binary_spans(source, fmt, target_bytes)
    return _manifest(source_uri, fmt, size_bytes, sha256 or "", schema, spans, key,
                     list(embedding_columns), sample_rows, seed, warnings, {})


Span = tuple[str, int, int, int, int]  # kind, start, stop, rows, bytes


def _default_key(tenant: str | None, job_id: str | None) -> Callable[[int], str]:
    if tenant is None or job_id is None:
        return lambda i: f"state-{i:05d}.bin"
    from synthos.aws.keys import shard_state_key  # pure key layout, no AWS calls

    try:
        shard_state_key(tenant, job_id, 0)
    except ValueError as exc:
        raise InvalidOption(str(exc)) from exc
    return lambda i: shard_state_key(tenant, job_id, i)


def _plan_path(path: Path, uri: str | None, fmt: str | None, sha256: str | None,
               target: int, key: Callable[[int], str], emb: list[str], sample_rows: int,
               seed: int) -> Manifest:
    source = open_table(path, fmt)
    size = source.size_bytes
    text: dict[str, Any] = {}
    if source.format in ("parquet", "arrow", "feather"):
        with path.open("rb") as f:
            _, spans, _ = _binary_spans(f, source.format, target)
    elif source.format in ("csv", "tsv", "jsonl"):
        det = detect(path, fmt)
        text = {"delimiter": det.delimiter, "encoding": det.encoding,
                "data_start": _data_start(path) if source.format != "jsonl" else 0}
        splittable = det.compression is None and not _quoted_newlines(path, source.format)
        rows = source.num_rows_hint or 0
        spans = (_byte_spans(text["data_start"], size, rows, target) if splittable
                 else [("whole_file", 0, size, rows, size)])
    else:
        spans = [("whole_file", 0, size, source.num_rows_hint or 0, size)]
    return _manifest(uri or str(path), source.format, size, sha256 or sha256_file(path),
                     source.schema, spans, key, emb, sample_rows, seed, source.warnings, text)


def _manifest(uri: str, fmt: str, size: int, sha256: str, schema: pa.Schema,
              spans: list[Span], key: Callable[[int], str], emb: list[str], sample_rows: int,
              seed: int, warnings: list[str], text: dict[str, Any]) -> Manifest:
    if len(spans) > MAX_SHARDS:
        raise InvalidOption(f"{len(spans)} shards exceed {MAX_SHARDS}; raise target_bytes")
    items = [ShardItem(i, kind, a, b, rows, nbytes, key(i))
             for i, (kind, a, b, rows, nbytes) in enumerate(spans)]
    schema_b64 = base64.b64encode(schema.serialize().to_pybytes()).decode()
    rows = sum(s[3] for s in spans)
    return Manifest(uri, fmt, size, sha256, rows, schema_b64, items, emb, sample_rows, seed,
                    list(warnings), text,
                    quantile_limit=quantile_limit(classify_schema(schema, emb), rows, len(items)))


def quantile_limit(specs: Sequence[ColumnSpec], rows_estimate: int, shards: int) -> int:
    """The exact-value cap for every shard of a file: ``limit_for`` its quantile columns when
    the whole file fits it (or is one shard, as the one-pass profile), else ``SKETCH_ONLY``:
    the merged total would pass the cap anyway, so exact values would only fill the states."""
    cap = limit_for(sum(s.kind in _QUANTILE_KINDS for s in specs))
    return cap if shards <= 1 or rows_estimate <= cap else SKETCH_ONLY


def _binary_spans(f: SeekableFile, fmt: str, target: int
                  ) -> tuple[pa.Schema, list[Span], list[str]]:
    """Group row groups (Parquet) or record batches (IPC) up to ``target`` bytes."""
    try:
        if fmt == "parquet":
            meta = pq.ParquetFile(f).metadata
            schema = pq.ParquetFile(f).schema_arrow
            units = [(meta.row_group(i).num_rows, _rg_bytes(meta.row_group(i)))
                     for i in range(meta.num_row_groups)]
            kind = "parquet_row_groups"
        else:
            reader = pa.ipc.open_file(f)
            schema = reader.schema
            units = [(b.num_rows, b.nbytes) for b in map(reader.get_batch,
                                                         range(reader.num_record_batches))]
            kind = "ipc_batches"
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableDataset(f"cannot read the {fmt} metadata: {exc}"[:300]) from exc
    schema, warnings = drop_pandas_index(schema)
    spans: list[Span] = []
    start = rows = nbytes = 0
    for i, (n, b) in enumerate(units):
        if i > start and nbytes + b > target:
            spans.append((kind, start, i, rows, nbytes))
            start, rows, nbytes = i, 0, 0
        rows, nbytes = rows + n, nbytes + b
    if units:
        spans.append((kind, start, len(units), rows, nbytes))
    return schema, spans, warnings


def _rg_bytes(rg: pq.RowGroupMetaData) -> int:
    compressed = sum(rg.column(j).total_compressed_size for j in range(rg.num_columns))
    return int(compressed or rg.total_byte_size)


def _byte_spans(data_start: int, size: int, rows: int, target: int) -> list[Span]:
    data = max(0, size - data_start)
    count = max(1, -(-data // target))
    step = -(-data // count) if data else 0
    edges = [data_start + min(data, i * step) for i in range(count)] + [size]
    return [("byte_range", a, b, round(rows * (b - a) / data) if data else 0, b - a)
            for a, b in itertools.pairwise(edges)]


def _data_start(path: Path) -> int:
    """Byte offset just past the header line of a delimited text file."""
    with path.open("rb") as f:
        header = f.readline()
    return len(header)


def _quoted_newlines(path: Path, fmt: str, probe_bytes: int = 1 << 20) -> bool:
    """Whether a quoted value in the first ``probe_bytes`` spans lines (CSV/TSV only)."""
    if fmt == "jsonl":
        return False
    with path.open("rb") as f:
        head = f.read(probe_bytes)
    in_quotes = False
    for line in head.split(b"\n")[:-1]:
        if line.count(b'"') % 2:
            in_quotes = not in_quotes
        if in_quotes:
            return True
    return False
