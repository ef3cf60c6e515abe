"""Profile a dataset in one streaming pass: per-column statistics and a seeded row sample.

``profile_source`` reads the batches of a ``TableSource`` once. Every supported column feeds
an accumulator (``synthos.profiling``): counts of rows, nulls, NaN and infinities; distinct
values (exact up to 65,536, then an HLL sketch); exact mean, population std (ddof=0), min and
max of finite values; quantiles p01..p99 and tail quantiles p001..p999 (exact up to a cap of
values, then KLL and REQ sketches with their rank errors); most frequent values; embedding
length; the correlation of the numeric columns over their complete rows (mergeable
co-moments). Every row is hashed over all profiled columns, which gives the exact count of
duplicate rows and drives the bottom-k sample (``synthos.sampling``), so the sample depends
only on the multiset of rows and the seed. Memory stays at one batch (two more read ahead when
a core is spare, see ``synthos.io.prefetch``), the sample, the sketches and the row-hash counts.
With a core to spare, the file's SHA-256 is computed in a thread while the rows stream.

The pass is literally one shard of ``synthos.shard``: ``profile_batches`` builds the partial
state of all the rows and ``finalize`` turns it into the outcome, exactly as the sharded path
does with the merged states of many shards.

Columns that turn out unusable while streaming (only nulls, vectors of varying length, text
that is not vectors) are listed as unsupported with a reason and left out of the sample.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from synthos.columns import ColumnKind, ColumnSpec
from synthos.errors import InvalidOption, NoUsableColumns
from synthos.io.prefetch import HELPER_PREFIX, spare_cores
from synthos.io.readers import TableSource, sha256_file
from synthos.shard.outcome import ProfileOutcome, finalize, reasons
from synthos.shard.state import SAMPLE_CELLS, SourceInfo, profile_batches

BATCH_CELLS = 4_000_000
MIN_BATCH_ROWS = 2_048
MAX_BATCH_ROWS = 131_072
_PENDING = "0" * 64  # the digest until the thread computing it is done

Progress = Callable[[int], None]

__all__ = ["SAMPLE_CELLS", "ProfileOutcome", "batch_rows_for", "profile_source", "source_info"]


def batch_rows_for(n_columns: int) -> int:
    """Rows per batch: about BATCH_CELLS values, wide files taking at least MIN_BATCH_ROWS."""
    return max(MIN_BATCH_ROWS, min(MAX_BATCH_ROWS, BATCH_CELLS // max(1, n_columns)))


def source_info(source: TableSource, sha256: str | None = None) -> SourceInfo:
    """What a partial state records about the file ``source`` reads."""
    return SourceInfo(source.path, source.format, source.size_bytes,
                      sha256 if sha256 is not None else sha256_file(source.path),
                      len(source.schema), tuple(source.warnings))


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
    validate_request(source.schema.names, source.path, specs, sample_rows)
    if all(s.kind == ColumnKind.UNSUPPORTED for s in specs):
        raise NoUsableColumns("no column can be measured: " + reasons(specs))
    batches = source.batches(batch_rows_for(len(specs)), columns=[s.name for s in specs])
    if not spare_cores():  # every core busy: a helper thread would only add contention
        return finalize(profile_batches(batches, source_info(source), specs,
                                        sample_rows=sample_rows, seed=seed, progress=progress))
    # the file's SHA-256 in a thread while the rows stream (hashlib and file reads release
    # the GIL); the state's source gets it once both are done
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=HELPER_PREFIX + "sha") as pool:
        digest = pool.submit(sha256_file, source.path)
        state = profile_batches(batches, source_info(source, _PENDING), specs,
                                sample_rows=sample_rows, seed=seed, progress=progress)
        state.source = dataclasses.replace(state.source, sha256=digest.result())
    return finalize(state)


def validate_request(
    names_in_file: Sequence[str], path: str, specs: Sequence[ColumnSpec], sample_rows: int
) -> None:
    """InvalidOption for a bad sample size or unknown/repeated columns."""
    if sample_rows < 1:
        raise InvalidOption(f"sample_rows must be at least 1, got {sample_rows}")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        repeated = sorted(n for n, c in Counter(names).items() if c > 1)
        raise InvalidOption(f"column specs repeat: {', '.join(repeated)}")
    known = set(names_in_file)
    missing = [n for n in names if n not in known]
    if missing:
        raise InvalidOption(f"no such column in {path}: {', '.join(missing)}")
