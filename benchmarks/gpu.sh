#!/usr/bin/env bash
# The GPU lines of `make bench` on their own, for a lent GPU machine (`make bench-gpu`), under a hard time limit.
#
#   benchmarks/gpu.sh            # results in $OUT (when set) or outputs/bench-gpu: gpu_results.json / gpu_results.md
#
# Needs: this repository, its ../shared/data (coco-mini), and a Python with a CUDA build of torch plus the locked
# packages. The locked .venv holds the CPU-only torch wheel and a GPU machine has no network to install another, so
# the machine must bring its own CUDA torch: set PYTHON to that interpreter (default .venv/bin/python). Without CUDA
# the script prints one line saying why and exits 3; CI never runs it.
# Limits: the benchmark skips steps that would start after BUDGET seconds (default 240, each skip is a row), and
# `timeout` kills it at LIMIT seconds (default 285), so the whole run stays under 5 minutes.
set -u
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
OUTPUT="${OUT:-outputs/bench-gpu}"
BUDGET="${BUDGET:-240}"
LIMIT="${LIMIT:-285}"
if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    "$PYTHON" -c "import sys; sys.path.insert(0, 'benchmarks'); import gpu_benchmark as g; print('gpu.sh: not run:', g.cuda_status()[1])" 2>/dev/null \
        || echo "gpu.sh: not run: $PYTHON cannot import torch"
    exit 3
fi
mkdir -p "$OUTPUT"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE
timeout --signal=TERM --kill-after=10 "$LIMIT" "$PYTHON" benchmarks/gpu_benchmark.py --output-dir "$OUTPUT" \
    --budget "$BUDGET" "$@"
status=$?
[ "$status" = 124 ] && echo "gpu.sh: stopped at the ${LIMIT} s limit; partial rows in $OUTPUT (if any)"
exit "$status"
