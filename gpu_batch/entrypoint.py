"""Container entrypoint of the Batch GPU worker: settings from the environment, one shard.

Arguments are those of ``synthos.aws.batch_worker`` (``--manifest s3://...`` and optionally
``--index N``; by default the array index from ``AWS_BATCH_JOB_ARRAY_INDEX``; the job
definition adds ``--backend torch``). Profiling a shard is a streaming pass: decoding, hashing,
moments, sketches and the sample run on the CPU cores; the co-moments of the numeric columns
run on the GPU through ``synthos.backends.torch_backend``. Exit status: 0 ok, 2 bad input,
1 other failure.
"""

from __future__ import annotations

import sys

from synthos.aws.batch_worker import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
