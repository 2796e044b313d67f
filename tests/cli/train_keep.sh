#!/usr/bin/env bash
# tests/cli/train_keep.sh - train.keep_checkpoints end to end on the tiny
# model (seconds):
#  - keep_checkpoints = 2, checkpoint_every = 10 over 35 steps ends with
#    exactly checkpoints/step-000030 and step-000035, each a model folder
#    (config.json, model.safetensors) that inspect and solve open, with
#    checkpoint.json {step, loss (log.tsv's of that step), eval (only where
#    the step evaluated)}; the last is the run's final model; no temporary
#    folder is left;
#  - the default keeps none;
#  - a run stopped by SIGINT and resumed keeps the same folders, bit for bit,
#    as the uninterrupted one;
#  - --force over a run removes the old run's kept folders.
# Bad values are rejected in tests/cli/train.sh with the other keys.
FAIL_FAST=1
. "$(dirname "$0")/lib.bash"
cd "$T" || exit 1

tiny_cfg 35 | sed -e 's/eval_every = 0;/eval_every = 20; eval_n = 10;/' \
    -e 's/checkpoint_every = 0;/checkpoint_every = 10; keep_checkpoints = 2;/' > keep.cfg
"$BIN" train --config keep.cfg --out K --log > k.log 2>&1 || { cat k.log; fail "run"; }
[ "$(ls -A K/checkpoints | tr '\n' ' ')" = "step-000030 step-000035 " ] ||
    fail "kept folders: $(ls -A K/checkpoints | tr '\n' ' ')"
for s in 30 35; do
    d=K/checkpoints/step-0000$s
    [ "$(ls -A "$d" | tr '\n' ' ')" = "checkpoint.json config.json model.safetensors " ] ||
        fail "$d holds: $(ls -A "$d" | tr '\n' ' ')"
    "$BIN" inspect --model "$d" > i.log 2>&1 || { cat i.log; fail "inspect $d"; }
    grep -q 'd_model' i.log || { cat i.log; fail "inspect $d: no configuration"; }
    "$BIN" solve --model "$d" "7x^2+3556x+451612=0" > s.log 2>&1 || { cat s.log; fail "solve $d"; }
    jq -e ".step == $s" "$d/checkpoint.json" > /dev/null || fail "$d/checkpoint.json step"
    want=$(awk -F'\t' -v s=$s '$1 == s {print $2}' K/log.tsv)
    got=$(jq .loss "$d/checkpoint.json")
    awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(d < 1e-6 && d > -1e-6) }' ||
        fail "$d/checkpoint.json loss $got, log.tsv says $want"
done
# step 30 did not evaluate (eval_every 20), step 35 (the last) did
jq -e 'has("eval") | not' K/checkpoints/step-000030/checkpoint.json > /dev/null ||
    fail "step 30 has eval scores: $(cat K/checkpoints/step-000030/checkpoint.json)"
jq -e '.eval.step == 35 and .eval.all.n == 10 and (.eval.all.char_accuracy | type) == "number"
       and (.eval.two_roots | has("full_solve"))' K/checkpoints/step-000035/checkpoint.json \
    > /dev/null || fail "step 35 eval: $(jq -c .eval K/checkpoints/step-000035/checkpoint.json)"
[ "$(jq -c .eval K/checkpoints/step-000035/checkpoint.json)" = "$(jq -c .eval K/trainer_state.json)" ] ||
    fail "step 35's eval differs from trainer_state.json's"
cmp K/model.safetensors K/checkpoints/step-000035/model.safetensors || fail "last kept != final model"
cmp -s K/model.safetensors K/checkpoints/step-000030/model.safetensors && fail "step 30 == final model"
[ -e K/checkpoints/step-000030/optimizer.safetensors ] && fail "optimizer state kept"

# ---- the default keeps none -------------------------------------------------------
tiny_cfg 20 | sed 's/checkpoint_every = 0;/checkpoint_every = 10;/' > none.cfg
"$BIN" train --config none.cfg --out N --log > n.log 2>&1 || { cat n.log; fail "default run"; }
[ -e N/checkpoints ] && fail "the default made N/checkpoints: $(ls -A N/checkpoints)"

# ---- SIGINT and --resume keep the same folders ---------------------------------
"$BIN" train --config keep.cfg --out R --log > r1.log 2>&1 &
pid=$!
for _ in $(seq 1 1500); do
    grep -q '^step 1[0-9]/' r1.log 2>/dev/null && break
    sleep 0.02
done
kill -INT $pid
wait $pid || { cat r1.log; fail "SIGINT exit status"; }
grep -q 'interrupted by SIGINT' r1.log || { cat r1.log; fail "not interrupted"; }
"$BIN" train --config keep.cfg --out R --resume --log > r2.log 2>&1 || { cat r2.log; fail "resume"; }
[ "$(ls -A R/checkpoints | tr '\n' ' ')" = "step-000030 step-000035 " ] ||
    fail "kept folders after resume: $(ls -A R/checkpoints | tr '\n' ' ')"
for s in 30 35; do
    cmp K/checkpoints/step-0000$s/model.safetensors R/checkpoints/step-0000$s/model.safetensors ||
        fail "step $s kept after resume differs"
    [ "$(jq -c . K/checkpoints/step-0000$s/checkpoint.json)" = \
      "$(jq -c . R/checkpoints/step-0000$s/checkpoint.json)" ] || fail "step $s checkpoint.json differs"
done

# ---- --force drops the old run's kept folders ----------------------------------
sed -e 's/steps = 35/steps = 25/' -e 's/keep_checkpoints = 2/keep_checkpoints = 1/' keep.cfg > one.cfg
"$BIN" train --config one.cfg --out K --force --log > f.log 2>&1 || { cat f.log; fail "--force run"; }
[ "$(ls -A K/checkpoints | tr '\n' ' ')" = "step-000025 " ] ||
    fail "after --force: $(ls -A K/checkpoints | tr '\n' ' ')"
finish train_keep.sh
