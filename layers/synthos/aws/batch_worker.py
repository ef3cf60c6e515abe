"""The Batch worker: profile one shard of a manifest from S3 and write its partial state.

    python -m synthos.aws.batch_worker --manifest s3://bucket/shards/t/j/manifest.json [--index N]

``--index`` defaults to ``AWS_BATCH_JOB_ARRAY_INDEX`` (an array job's child index). The shard
is read from the manifest's ``source`` with ranged GETs (``S3File``), so only its own row groups
or bytes travel; the state goes to the item's ``state_key`` in the manifest's bucket. Exit 0 on
success, 2 on bad input (a named Synthos input error), 1 on anything else, with one line on
stderr. The same entrypoint runs on the CPU against moto and on CUDA in ``gpu_batch/``.

``reduce_states`` is the reduce side in one process: load every state of a manifest, merge,
and run the fill pass from S3 (``synthos.shard.fill_from_shards``), ready for ``finalize``. The
hash-partitioned reduce splits it (``synthos.shard.partition``): ``reduce_range_states`` reduces
one hash range of every state (ranged GETs of that range of each count map only) and writes a
small ``RangeResult`` next to the manifest (``range_result_key``); ``combine_ranges`` reads the
results and the states without their count maps (a few ahead, folded in order), combines and
runs the fill pass: the same state for ``finalize`` as ``reduce_states`` gives.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from synthos.aws.clients import client
from synthos.aws.s3_file import S3File, parse_s3_uri
from synthos.aws.settings import Settings
from synthos.backends import NumpyBackend
from synthos.errors import InputError, InvalidOption, SynthosError
from synthos.profiling.covariance import CoMomentKernel
from synthos.shard import (
    Manifest,
    PartialState,
    RangeResult,
    RangeSlice,
    ShardItem,
    combine,
    fill_from_shards,
    merge_all,
    profile_shard,
    read_range_slice,
    reduce_range,
)

INDEX_ENV = "AWS_BATCH_JOB_ARRAY_INDEX"
T = TypeVar("T")
READ_THREADS = 16  # state files a range reducer reads at a time (latency-bound small GETs)
COMBINE_PREFETCH = 8  # states the combine reads ahead (memory: that many states at most)
STATE_BLOCK_BYTES = 1 << 16  # state parts read by range: small reads fetch 64 KiB, not 1 MiB


def load_manifest(settings: Settings, manifest_uri: str) -> tuple[str, str, Manifest]:
    """(bucket, key, manifest) of ``s3://bucket/key``."""
    bucket, key = parse_s3_uri(manifest_uri)
    with S3File(client("s3", settings), bucket, key) as f:
        return bucket, key, Manifest.from_json(f.read())


def shard_backend(name: str) -> CoMomentKernel:
    """The backend of the shard pass's heavy kernel (co-moments): ``numpy`` (CPU) or
    ``torch`` (CUDA when present, else the CPU; the GPU image passes it)."""
    if name == "numpy":
        return NumpyBackend(workers=1)
    if name != "torch":
        raise InvalidOption(f"unknown shard backend {name!r}; known: numpy, torch")
    try:
        from synthos.backends.torch_backend import TorchBackend
    except ImportError as exc:
        raise InvalidOption("--backend torch needs torch (the gpu extra)") from exc
    return TorchBackend()


def run(settings: Settings, manifest_uri: str, index: int, backend: str = "numpy") -> str:
    """Profile shard ``index`` with ``backend`` (see ``shard_backend``) and write its state;
    returns ``s3://bucket/state_key``."""
    kernel = shard_backend(backend)
    bucket, key, manifest = load_manifest(settings, manifest_uri)
    item = manifest.item(index)
    _check_scope(key, item.state_key, manifest.source, bucket)
    src_bucket, src_key = parse_s3_uri(manifest.source)
    s3 = client("s3", settings)
    with S3File(s3, src_bucket, src_key) as f:
        state = profile_shard(manifest, index, f, backend=kernel)
    _put(s3, bucket, item.state_key, state.to_bytes())
    return f"s3://{bucket}/{item.state_key}"


def reduce_states(settings: Settings, manifest: Manifest | str) -> PartialState:
    """Every shard state of the manifest (a Manifest, its states in the settings' bucket, or
    its ``s3://`` URI), merged, with the fill pass done: ready for ``finalize``."""
    if isinstance(manifest, str):
        bucket, _key, manifest = load_manifest(settings, manifest)
    else:
        bucket = settings.bucket
    s3 = client("s3", settings)
    states = []
    for item in manifest.items:
        with S3File(s3, bucket, item.state_key) as f:
            states.append(PartialState.from_bytes(f.read()))
    merged = merge_all(states)
    src_bucket, src_key = parse_s3_uri(manifest.source)
    fill_from_shards(merged, manifest, lambda: S3File(s3, src_bucket, src_key))
    return merged


def range_result_key(manifest_uri: str, part: int, parts: int) -> str:
    """``s3://bucket/key`` of the result of range ``part`` of ``parts``, next to the manifest."""
    bucket, key = parse_s3_uri(manifest_uri)
    return f"s3://{bucket}/{key.rsplit('/', 1)[0]}/range-{part:04d}-of-{parts:04d}.bin"


def reduce_range_states(settings: Settings, manifest_uri: str, part: int, parts: int) -> str:
    """Reduce hash range ``part`` of ``parts`` of every shard state of the manifest (reading
    only that range of each count map) and write its ``RangeResult``; returns its URI."""
    bucket, key, manifest = load_manifest(settings, manifest_uri)
    s3 = client("s3", settings)
    for item in manifest.items:
        _check_scope(key, item.state_key, manifest.source, bucket)

    def read(item: ShardItem) -> RangeSlice:
        with S3File(s3, bucket, item.state_key, block_bytes=STATE_BLOCK_BYTES) as f:
            return read_range_slice(f, part, parts)

    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:  # GETs overlap, order kept
        slices = list(pool.map(read, manifest.items))
    result = reduce_range(slices, part, parts)
    where = range_result_key(manifest_uri, part, parts)
    _put(s3, bucket, parse_s3_uri(where)[1], result.to_bytes())
    return where


def combine_ranges(settings: Settings, manifest_uri: str, parts: int) -> PartialState:
    """The merged state from the ``parts`` range results and the states read without their
    count maps (in order, ``COMBINE_PREFETCH`` read ahead), with the fill pass done: ready for
    ``finalize``."""
    bucket, key, manifest = load_manifest(settings, manifest_uri)
    s3 = client("s3", settings)

    def read_result(part: int) -> RangeResult:
        with S3File(s3, *parse_s3_uri(range_result_key(manifest_uri, part, parts))) as f:
            return RangeResult.from_bytes(f.read())

    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:  # up to 1,024 small GETs
        results = list(pool.map(read_result, range(parts)))

    def read(item: ShardItem) -> PartialState:
        _check_scope(key, item.state_key, manifest.source, bucket)
        with S3File(s3, bucket, item.state_key, block_bytes=STATE_BLOCK_BYTES) as f:
            return PartialState.read_without_counts(f)

    merged = combine(results, _in_order(read, manifest.items, COMBINE_PREFETCH))
    src_bucket, src_key = parse_s3_uri(manifest.source)
    fill_from_shards(merged, manifest, lambda: S3File(s3, src_bucket, src_key))
    return merged


def _in_order(read: Callable[[ShardItem], T], items: Sequence[ShardItem],
              depth: int) -> Iterator[T]:
    """``read(item)`` of each item, in order, at most ``depth`` reads ahead of the consumer."""
    with ThreadPoolExecutor(max_workers=depth) as pool:
        pending: deque[Future[T]] = deque()
        for item in items:
            pending.append(pool.submit(read, item))
            if len(pending) >= depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _check_scope(manifest_key: str, state_key: str, source_uri: str, bucket: str) -> None:
    """A manifest may only write next to itself and read its own tenant's objects."""
    folder = manifest_key.rsplit("/", 1)[0] + "/"
    if not state_key.startswith(folder) or ".." in state_key:
        raise InvalidOption(f"state key {state_key!r} is outside the manifest's folder")
    src_bucket, src_key = parse_s3_uri(source_uri)
    tenant = manifest_key.split("/")[1] if manifest_key.count("/") >= 2 else None
    if src_bucket != bucket or tenant is None or src_key.split("/")[1:2] != [tenant]:
        raise InvalidOption("the manifest's source is not an object of the same tenant")


def _put(s3: Any, bucket: str, key: str, body: bytes) -> None:
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body,
                      ContentType="application/vnd.synthos.partial-state")
    except (ClientError, BotoCoreError) as exc:
        raise OSError(f"cannot write s3://{bucket}/{key}: {exc}") from exc


def _parse(argv: Sequence[str] | None) -> tuple[str, int, str]:
    parser = argparse.ArgumentParser(prog="synthos-batch-worker", description=__doc__)
    parser.add_argument("--manifest", required=True, help="s3://bucket/key of the manifest")
    parser.add_argument("--index", default=os.environ.get(INDEX_ENV),
                        help=f"shard index (default: ${INDEX_ENV})")
    parser.add_argument("--backend", default="numpy", choices=("numpy", "torch"),
                        help="co-moments on numpy (CPU) or torch (CUDA when present)")
    args = parser.parse_args(argv)
    if args.index is None:
        raise InvalidOption(f"no shard index: pass --index or set {INDEX_ENV}")
    try:
        index = int(args.index)
    except ValueError as exc:
        raise InvalidOption(f"shard index must be an integer, got {args.index!r}") from exc
    return args.manifest, index, args.backend


def main(argv: Sequence[str] | None = None) -> int:
    """Run one shard; 0 ok, 2 bad input, 1 other failure (one line on stderr)."""
    try:
        manifest_uri, index, backend = _parse(argv)
        where = run(Settings.from_env(), manifest_uri, index, backend)
    except InputError as exc:
        print(f"synthos-batch-worker: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except SynthosError as exc:
        print(f"synthos-batch-worker: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except (OSError, ClientError, BotoCoreError) as exc:
        print(f"synthos-batch-worker: io_error: {str(exc).splitlines()[0][:300]}",
              file=sys.stderr)
        return 1
    print(f"synthos-batch-worker: shard {index} -> {where}")
    return 0


if __name__ == "__main__":  # pragma: no cover - the container entrypoint calls main()
    raise SystemExit(main())
