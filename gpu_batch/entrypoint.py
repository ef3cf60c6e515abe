"""Container entrypoint of the Batch GPU worker: settings from the environment, one shard.

Arguments are those of ``synthos.aws.batch_worker`` (``--manifest s3://...`` and optionally
``--index N``; by default the array index from ``AWS_BATCH_JOB_ARRAY_INDEX``). Profiling a
shard is a streaming pass (hashing, moments, sketches, the sample) that runs on the CPU cores;
the GPU serves the k-NN kernels (``synthos.backends.torch_backend``) where they run on large
samples. Exit status: 0 ok, 2 bad input, 1 other failure.
"""

from __future__ import annotations

import sys

from synthos.aws.batch_worker import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
