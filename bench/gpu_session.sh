#!/usr/bin/env bash
# Issue 3's GPU measurements in one command, for a session lent a GPU (the device `run` tool).
#
#   bash bench/gpu_session.sh fetch     # here, before: the wheels the GPU image lacks -> .whl/
#   bash bench/gpu_session.sh run       # there: run tool, carry [".whl"], timeout_s 480
#
# The GPU image has python3 3.12 with torch, triton, numpy and pyarrow, but not pydantic or
# datasketches, which the streaming pass imports; `fetch` downloads those (about 3.5 MB, the
# versions of this .venv) and `run` installs them under /tmp/site. `run` writes under $OUT
# (the run tool's folder; bench/out otherwise): gpu.txt (nvidia-smi), gpu_knn.log/.json
# (plain torch k-NN, the fused kernel: sweep, 1M x 1M, certified end to end, parity),
# stream.log/.json (the shard pass from host memory with the co-moments on CUDA).
set -uo pipefail
cd "$(dirname "$0")/.."
WANT="annotated-types datasketches pydantic pydantic-core typing-inspection"

fetch() {
  mkdir -p .whl
  for name in $WANT; do
    pin=$(.venv/bin/pip list --format=freeze 2>/dev/null | grep -i "^${name//-/[-_]}==")
    [ -n "$pin" ] || { echo "gpu_session: $name is not in .venv" >&2; return 2; }
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 -d .whl "$pin" || return 1
  done
  ls -l .whl
}

run() {
  local out=${OUT:-bench/out}
  mkdir -p "$out"
  export PYTHONPATH=layers PYTHONUNBUFFERED=1
  if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PYTHONPATH
  fi
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv \
    | tee "$out/gpu.txt"
  timeout -k 10 330 python3 bench/bench_gpu_knn.py 2>&1 | tee "$out/gpu_knn.log"
  cp bench/out/gpu_knn.json "$out/" 2>/dev/null
  timeout -k 10 100 python3 bench/bench_stream.py --rows 2000000 2>&1 | tee "$out/stream.log"
  cp bench/out/stream.json "$out/" 2>/dev/null
  return 0
}

case "${1:-}" in
  fetch) fetch ;;
  run) run ;;
  *) echo "usage: bash bench/gpu_session.sh fetch|run" >&2; exit 2 ;;
esac
