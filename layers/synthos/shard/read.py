"""Read exactly one shard of a manifest from a seekable binary file object, and profile it."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from synthos.errors import EngineError, SynthosError, UnreadableDataset
from synthos.io.csv_source import NULL_TOKENS
from synthos.io.jsonl_source import _arrow_table
from synthos.io.readers import _rebatch, open_table
from synthos.profiling.covariance import CoMomentKernel
from synthos.shard.plan import Manifest, SeekableFile, ShardItem
from synthos.shard.state import PartialState, SourceInfo, fill_missing, profile_batches

DEFAULT_BATCH_ROWS = 65_536

_ALIGN_PROBE = 1 << 16


def read_shard_batches(manifest: Manifest, index: int, f: SeekableFile,
                       batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The record batches of shard ``index`` (every column of the manifest's schema).

    Raises InvalidOption (bad index) and UnreadableDataset (bytes that do not parse).
    """
    item = manifest.item(index)
    reader = _READERS[item.kind]
    try:
        yield from _rebatch(reader(manifest, item, f, batch_rows), batch_rows)
    except SynthosError:
        raise
    except (pa.ArrowException, OSError, EOFError, ValueError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UnreadableDataset(f"shard {index} of {manifest.source} cannot be read: {reason}",
                                details={"cause": reason}) from exc


def profile_shard(manifest: Manifest, index: int, f: SeekableFile,
                  progress: Callable[[int], None] | None = None,
                  backend: CoMomentKernel | None = None) -> PartialState:
    """The partial state of shard ``index`` of ``manifest``, read from ``f``; ``backend``
    computes the co-moments (None: numpy on the CPU)."""
    source = SourceInfo(manifest.source, manifest.format, manifest.size_bytes, manifest.sha256,
                        len(manifest.schema), tuple(manifest.source_warnings))
    batches = read_shard_batches(manifest, index, f)
    return profile_batches(batches, source, manifest.specs(), sample_rows=manifest.sample_rows,
                           seed=manifest.seed, shard_index=index,
                           quantile_limit=manifest.quantile_limit, progress=progress,
                           backend=backend)


def fill_from_shards(state: PartialState, manifest: Manifest,
                     open_file: Callable[[], SeekableFile]) -> int:
    """Bring back the content of sampled rows no shard kept (see ``RowSampler``), reading the
    shards in order and stopping as soon as none is missing; returns shards read.

    Rows missing after a merge are copies of rows seen in several shards, so the first shards
    usually hold them all. ``open_file()`` opens the source (a local file, an S3 object).
    """
    read = 0
    for index in range(len(manifest.items)):
        if not len(state.sampler.missing_hashes()):
            break
        f = open_file()
        try:
            fill_missing(state, read_shard_batches(manifest, index, f))
        finally:
            f.close()
        read += 1
    if len(state.sampler.missing_hashes()):
        raise EngineError(f"{len(state.sampler.missing_hashes())} sampled rows were not found "
                          "in any shard: the states do not belong to this file")
    return read


def _parquet(manifest: Manifest, item: ShardItem, f: SeekableFile, batch_rows: int
             ) -> Iterator[pa.RecordBatch]:
    pf = pq.ParquetFile(f, pre_buffer=False, buffer_size=1 << 20)
    yield from pf.iter_batches(batch_size=batch_rows, row_groups=range(item.start, item.stop),
                               columns=manifest.schema.names, use_threads=True)


def _ipc(manifest: Manifest, item: ShardItem, f: SeekableFile, batch_rows: int
         ) -> Iterator[pa.RecordBatch]:
    reader = pa.ipc.open_file(f)
    names = manifest.schema.names
    for i in range(item.start, item.stop):
        yield reader.get_batch(i).select(names)


def _text(manifest: Manifest, item: ShardItem, f: SeekableFile, batch_rows: int
          ) -> Iterator[pa.RecordBatch]:
    block = _aligned_bytes(f, item.start, item.stop)
    if not block.strip():
        return
    if manifest.format == "jsonl":
        yield from _arrow_table(block, manifest.schema).to_batches(max_chunksize=batch_rows)
        return
    yield from _csv_table(manifest, block).to_batches(max_chunksize=batch_rows)


def _whole(manifest: Manifest, item: ShardItem, f: SeekableFile, batch_rows: int
           ) -> Iterator[pa.RecordBatch]:
    f.seek(0)
    if manifest.format == "parquet":
        yield from _parquet(manifest, ShardItem(0, item.kind, 0, pq.ParquetFile(f)
                                                .num_row_groups, 0, 0, ""), f, batch_rows)
        return
    if manifest.format in ("arrow", "feather"):
        reader = pa.ipc.open_file(f)
        yield from _ipc(manifest, ShardItem(0, item.kind, 0, reader.num_record_batches, 0, 0,
                                            ""), f, batch_rows)
        return
    with tempfile.TemporaryDirectory(prefix="synthos-shard-") as tmp:
        local = Path(tmp) / "whole"
        with local.open("wb") as out:
            shutil.copyfileobj(f, out, 1 << 20)
        yield from open_table(local, manifest.format).batches(batch_rows, manifest.schema.names)


def _csv_table(manifest: Manifest, block: bytes) -> pa.Table:
    schema = manifest.schema
    read = pacsv.ReadOptions(column_names=schema.names, encoding=manifest.text["encoding"],
                             use_threads=True)
    parse = pacsv.ParseOptions(delimiter=manifest.text["delimiter"],
                               invalid_row_handler=lambda row: "skip")
    convert = pacsv.ConvertOptions(
        null_values=NULL_TOKENS, strings_can_be_null=True, quoted_strings_can_be_null=True,
        column_types={f.name: f.type for f in schema})
    return pacsv.read_csv(io.BytesIO(block), read_options=read, parse_options=parse,
                          convert_options=convert)


def _aligned_bytes(f: SeekableFile, start: int, stop: int) -> bytes:
    """The lines that start in ``[start, stop)``: from the first line start at or after
    ``start`` (``start`` itself when a line ends just before it) through the end of the line
    that holds byte ``stop - 1``."""
    first = start
    if start > 0:
        f.seek(start - 1)
        first = start - 1 + _until_newline(f)
    if first >= stop:
        return b""
    f.seek(first)
    body = f.read(stop - first)
    if body and not body.endswith(b"\n"):
        body += _rest_of_line(f)
    return body


def _until_newline(f: SeekableFile) -> int:
    """Bytes from the position through the next newline (inclusive); to EOF if none."""
    consumed = 0
    while chunk := f.read(_ALIGN_PROBE):
        cut = chunk.find(b"\n")
        if cut >= 0:
            return consumed + cut + 1
        consumed += len(chunk)
    return consumed


def _rest_of_line(f: SeekableFile) -> bytes:
    out = bytearray()
    while chunk := f.read(_ALIGN_PROBE):
        cut = chunk.find(b"\n")
        if cut >= 0:
            return bytes(out + chunk[: cut + 1])
        out += chunk
    return bytes(out)


_READERS = {"parquet_row_groups": _parquet, "ipc_batches": _ipc, "byte_range": _text,
            "whole_file": _whole}
