#!/usr/bin/env bash
# runs/evalrun.sh runs/RUN [N] [BIN]: score a run on the first N (2000) equations of data/seed/test.tsv
# (make it first: ./attnscope gen --preset seed --n 100000 --seed 1 --out data/seed); from the top folder.
set -eu
run=$1; n=${2:-2000}; bin=${3:-./attnscope}
cd "$(dirname "$0")/.."
$bin eval --model $run --data data/seed/test.tsv --limit $n --threads 2 --json > $run.eval.json
jq -r --arg r $run '[$r, .overall.full_solve, .overall.char_accuracy, .per_kind.two_roots.full_solve, .per_kind.one_root.full_solve, .per_kind.no_root.full_solve, (.discriminant.two_roots.right / .discriminant.two_roots.n), (.discriminant.no_root.right / .discriminant.no_root.n)] | @tsv' $run.eval.json
