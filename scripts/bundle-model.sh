#!/usr/bin/env bash
# scripts/bundle-model.sh RUN_DIR [NAME]
#
# Turn a finished `attnscope train` output folder into a bundled model,
# sample_models/NAME/ (default quadratic-seed): config.json, model.safetensors,
# the train.cfg that produced it, metrics.json (the spec's three scores on the
# whole test split, overall and per kind, with the data seed, steps, wall time,
# threads, the machine's CPU and what of it the run had: trainer_state.json's
# "machine" averages; for a run that started from a model, model.init_from,
# that folder and the steps behind it, training.steps_before) and report/ (attnscope report; with the training
# dynamics when the bundle keeps checkpoints/). What the bundle it replaces
# holds by hand stays: README.md, checkpoints/ and train-stage*.cfg (the
# earlier stages of a model trained in stages with model.init_from); a run
# that started from that bundle makes it the next stage (next_stage below).
# The data set is regenerated from the data trainer_state.json records, never
# committed.
# An existing sample_models/NAME is moved aside while the new one is built and
# put back if any step fails, so a failed run never leaves a half-made bundle.
# BUNDLE_DIR (default sample_models) and DATA_DIR (default data) move the
# bundle and the data elsewhere (tests/cli/bundle.sh uses a temporary folder).
set -euo pipefail
run=${1:?usage: scripts/bundle-model.sh RUN_DIR [NAME]}
name=${2:-quadratic-seed}
run=$(cd "$run" && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
models=${BUNDLE_DIR:+$(abs "$BUNDLE_DIR")}; datadir=${DATA_DIR:+$(abs "$DATA_DIR")}
bin=${BIN:+$(abs "$BIN")}
cd "$(dirname "$0")/.."
models=${models:-sample_models}; datadir=${datadir:-data}; bin=${bin:-./attnscope}
out=$models/$name
for f in config.json model.safetensors train.cfg trainer_state.json; do
    [ -s "$run/$f" ] || { echo "bundle-model: $run/$f is missing" >&2; exit 1; }
done
# The data as the trainer resolved it (trainer_state.json's "data"): a preset
# is generated again into data/ (ignored by git) under a name that says what
# it is, so the paths written into metrics.json and report.md mean something;
# a run on TSV files is scored on its test file as it is.
st=$run/trainer_state.json
threads=$(jq .threads "$st")
if jq -e '.data.preset' "$st" >/dev/null; then
    preset=$(jq -r .data.preset "$st"); n=$(jq .data.n "$st")
    seed=$(jq .data.seed "$st"); share=$(jq .data.test_share "$st")
    data=$datadir/$preset-n$n-seed$seed
    "$bin" gen --preset "$preset" --n "$n" --seed "$seed" --test-share "$share" --out "$data" >&2
    test_tsv=$data/test.tsv
elif jq -e '.data.test' "$st" >/dev/null; then
    test_tsv=$(jq -r .data.test "$st")
else
    echo "bundle-model: $st names no data (written by an attnscope from before" \
         "trainer_state.json recorded it); bundle it by hand" >&2
    exit 1
fi
data_json=$(jq -c .data "$st")

# cfg_set FILE KEY VALUE: KEY = "VALUE" on the lines of FILE that are not
# comments (the keys used here, out and init_from, are unique in a train.cfg).
cfg_set() {
    sed -E -i '/^[[:space:]]*#/!s/(^|[^[:alnum:]_])'"$2"'[[:space:]]*=[[:space:]]*"[^"]*"/\1'"$2"' = "'"${3//\//\\/}"'"/' "$1"
    grep -q "$2 = \"$3\"" "$1" || { echo "bundle-model: $1 has no $2 to set" >&2; return 1; }
}
# A run that started from the bundle it replaces (model.init_from names a
# folder called NAME, after as many steps as the bundle had) is the bundle's
# next stage: the old train.cfg stays as train-stageN.cfg, its output now
# ../../runs/NAME-stageN, and the new train.cfg starts from there and writes
# ../../runs/NAME, so the stages replay one after another from the bundle's
# folder (paths in a train.cfg are relative to it).
next_stage() {
    local from before had n
    from=$(jq -r '.init_from.folder // empty' "$st")
    [ -n "$from" ] && [ "$(basename "$from")" = "$name" ] && [ -f "$out.old/train.cfg" ] &&
        [ -f "$out.old/metrics.json" ] || return 0
    before=$(jq '.init_from.steps_before' "$st")
    had=$(jq '.training.steps + (.training.steps_before // 0)' "$out.old/metrics.json")
    [ "$before" = "$had" ] || return 0
    n=1
    while [ -e "$out/train-stage$n.cfg" ]; do n=$((n + 1)); done
    cp "$out.old/train.cfg" "$out/train-stage$n.cfg"
    cfg_set "$out/train-stage$n.cfg" out "../../runs/$name-stage$n"
    cfg_set "$out/train.cfg" init_from "../../runs/$name-stage$n"
    cfg_set "$out/train.cfg" out "../../runs/$name"
    echo "bundle-model: $run started from $out after its $had steps: its train.cfg is" \
         "train-stage$n.cfg now (say so in the header comments of both)" >&2
}

# Build in place (metrics.json and report.md name the folder), with the old
# bundle kept beside it until everything succeeded.
done=0
restore() {
    [ "$done" = 1 ] && { rm -rf "$out.old"; return; }
    rm -rf "$out"
    [ -d "$out.old" ] && mv "$out.old" "$out"
    echo "bundle-model: failed; $out is as it was" >&2
}
rm -rf "$out.old"
[ -d "$out" ] && mv "$out" "$out.old"
trap restore EXIT
mkdir -p "$out"
cp "$run/config.json" "$run/model.safetensors" "$run/train.cfg" "$out/"
# the hand-written README.md of the bundle it replaces stays (update its numbers)
[ -f "$out.old/README.md" ] && cp "$out.old/README.md" "$out/"
# and so do its kept training checkpoints (slimmed by scripts/slim-checkpoint.py)
[ -d "$out.old/checkpoints" ] && cp -r "$out.old/checkpoints" "$out/"
# and the configurations of its earlier stages (train-stage1.cfg, ...: a model
# trained in stages with model.init_from)
for f in "$out.old"/train-stage*.cfg; do [ -f "$f" ] && cp "$f" "$out/"; done
next_stage
# every output too, for a look at the errors (and golden-test equations):
# data/NAME-test-outputs.tsv, beside the data, not committed
mkdir -p "$datadir"
"$bin" eval --model "$out" --data "$test_tsv" --json --outputs "$datadir/$name-test-outputs.tsv" \
    > "$out/metrics.json.eval"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
jq --argjson data "$data_json" --argjson threads "${threads:-2}" --arg cpu "$cpu" --arg cores "$(nproc)" \
   --slurpfile st "$run/trainer_state.json" --arg version "$("$bin" --version)" \
   --arg date "$(date -u +%Y-%m-%d)" \
   '{ test_split: ., data: $data,
      training: ({steps: $st[0].step, total_steps: $st[0].total_steps, batch: $st[0].batch,
                 final_loss: $st[0].loss, wall_seconds: $st[0].elapsed_seconds,
                 threads: $threads} +
                 (if $st[0].init_from then {init_from: $st[0].init_from.folder,
                    steps_before: $st[0].init_from.steps_before} else {} end)),
      machine: ({cpu: $cpu, cores: ($cores | tonumber)} +
                (if $st[0].machine then {run: ($st[0].machine | {threads, since_step,
                   tokens_per_second, tokens_per_cpu_second, core_share, steal_share,
                   low_core_share_warning})} else {} end)),
      attnscope: $version, date: $date }' "$out/metrics.json.eval" > "$out/metrics.json.tmp"
mv "$out/metrics.json.tmp" "$out/metrics.json"
rm -f "$out/metrics.json.eval"
"$bin" report --model "$out" --data "$test_tsv" --out "$out/report" >&2
# training dynamics (report/dynamics.md) when the bundle keeps checkpoints
if [ -d "$out/checkpoints" ]; then
    "$bin" report --checkpoints "$out" --data "$test_tsv" --n 100 --out "$out/report" >&2
fi
done=1
echo "bundled $run as $out (every output: $datadir/$name-test-outputs.tsv)"
jq -c '.test_split.overall' "$out/metrics.json"
