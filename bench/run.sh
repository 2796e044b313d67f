#!/usr/bin/env bash
# bench/run.sh - `make bench`: speed numbers, medians of repeated runs. Gets
# the binary as $BIN. Each section is one measurement; add yours below.
# Not a test: nothing here fails on a slow machine, it only reports.
set -euo pipefail
BIN=${BIN:-./attnscope}

echo "== decode: greedy, 100 output tokens (random model, the issue's size) =="
"$BIN" bench decode --d-model 128 --d-ff 512 --layers 3 --heads 4 --d-kv 32 --tokens 100 --repeat 30
echo "   (one thread; the split matvec is off)"
OMP_NUM_THREADS=1 "$BIN" bench decode --d-model 128 --d-ff 512 --layers 3 --heads 4 --d-kv 32 \
    --tokens 100 --repeat 30 | tail -n 2
echo
