#!/usr/bin/env bash
# bench/run.sh - `make bench`: speed numbers, medians of repeated runs. Gets
# the binary as $BIN. Each section is one measurement; add yours below.
# Not a test: nothing here fails on a slow machine, it only reports. On a
# busy machine the numbers say more about the other load than about attnscope
# (the two-thread line especially: see t5_run_set_threads in include/t5.h).
set -euo pipefail
BIN=${BIN:-./attnscope}

echo "== decode: greedy, 100 output tokens (random model, the issue's size) =="
for threads in 1 2; do
    "$BIN" bench decode --d-model 128 --d-ff 512 --layers 3 --heads 4 --d-kv 32 --tokens 100 \
        --repeat 30 --threads "$threads"
done
echo
