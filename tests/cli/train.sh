#!/usr/bin/env bash
# tests/cli/train.sh - attnscope train end to end, on tiny models (seconds):
#  - the loss of a tiny model on the small preset clearly falls;
#  - SIGINT mid-run saves a checkpoint and exits 0; --resume continues and
#    the per-step losses equal an uninterrupted run's (bit for bit: the data
#    order depends only on the seed and the step);
#  - a second trainer on a folder being trained is refused (naming the
#    first one's pid) and changes nothing; the lock goes with its run;
#  - a NaN loss stops the run (exit 1) and keeps the last good checkpoint;
#  - a checkpoint write that fails (file size limit) is an error that leaves
#    the previous checkpoint intact and resumable;
#  - bad configurations are rejected before training with FILE:LINE.
FAIL_FAST=1
. "$(dirname "$0")/lib.bash"
cd "$T" || exit 1

tiny_cfg 60 > tiny.cfg

# ---- the loss falls ----------------------------------------------------------
"$BIN" train --config tiny.cfg --out A --log > a.log 2>&1 || { cat a.log; fail "training run"; }
grep -q '^done: 60 steps' a.log || { cat a.log; fail "no done line"; }
first=$(grep '^step 1/' a.log | awk '{print $4}')
last=$(grep '^step 6[0]/\|^step 5[1-9]/' a.log | awk '{s+=$4; n++} END {print s/n}')
awk -v f="$first" -v l="$last" 'BEGIN { exit !(l < 0.7 * f) }' ||
    fail "loss did not fall: first $first, mean of the last ten $last"
for f in config.json model.safetensors optimizer.safetensors trainer_state.json train.cfg log.tsv; do
    [ -s "A/$f" ] || fail "A/$f missing"
done
grep -q '"step":	60' A/trainer_state.json || fail "trainer_state.json step"
# the data as resolved (scripts/bundle-model.sh reads it)
[ "$(jq -c .data A/trainer_state.json)" = '{"preset":"small","n":300,"seed":3,"test_share":0.2}' ] ||
    fail "trainer_state.json data: $(jq -c .data A/trainer_state.json)"

# ---- SIGINT, then resume: the same losses ------------------------------------
sigint_run tiny.cfg B b1.log '^step 1[0-9]/'
rc=$?
[ $rc -eq 0 ] || { cat b1.log; fail "SIGINT exit status $rc"; }
grep -q 'interrupted by SIGINT at step' b1.log || { cat b1.log; fail "no interrupt line"; }
grep -q 'resume with: attnscope train --config tiny.cfg --resume' b1.log || fail "no resume hint"
"$BIN" train --config tiny.cfg --out B --resume --log > b2.log 2>&1 || { cat b2.log; fail "resume"; }
grep -q '^resuming B at step' b2.log || fail "no resuming line"
diff <(grep '^step' a.log | awk '{print $2, $4}') \
     <(cat b1.log b2.log | grep '^step' | awk '{print $2, $4}') > diff.txt ||
    { cat diff.txt; fail "losses after resume differ from the uninterrupted run"; }
cmp A/model.safetensors B/model.safetensors || fail "final weights differ after resume"

# ---- two trainers on one folder: the second is refused --------------------------
tiny_cfg 100000 > long.cfg
"$BIN" train --config long.cfg --out L --log > l1.log 2>&1 &
lpid=$!
for _ in $(seq 1 1500); do grep -q '^step 5/' l1.log 2>/dev/null && break; sleep 0.02; done
[ -f L/.train.lock ] || fail "no L/.train.lock while L trains"
cp L/trainer_state.json l-state.bak
for mode in --resume --force; do
    "$BIN" train --config long.cfg --out L "$mode" --log > l2.log 2>&1
    rc=$?
    [ $rc -eq 1 ] || { cat l2.log; fail "second trainer ($mode) on L: exit status $rc"; }
    grep -q "L is being trained by another attnscope train (pid $lpid)" l2.log ||
        { cat l2.log; fail "second trainer ($mode): no message naming the first one"; }
    grep -q '^step ' l2.log && fail "second trainer ($mode) trained"
done
cmp -s L/trainer_state.json l-state.bak || fail "the refused trainers changed L's checkpoint"
kill -INT $lpid; wait $lpid || { tail -3 l1.log; fail "the first trainer's SIGINT"; }
[ -e L/.train.lock ] && fail "L/.train.lock left after its run ended"
"$BIN" train --config long.cfg --out L --resume --log > l3.log 2>&1 &
lpid=$!
for _ in $(seq 1 1500); do grep -q '^step ' l3.log 2>/dev/null && break; sleep 0.02; done
kill -INT $lpid; wait $lpid || { tail -3 l3.log; fail "--resume after the lock's run ended"; }
grep -q '^resuming L at step' l3.log || { cat l3.log; fail "no resume after the lock's run"; }
# a lock file left by a killed run (SIGKILL) holds no lock: the folder is free
"$BIN" train --config long.cfg --out K --log > k1.log 2>&1 &
lpid=$!
for _ in $(seq 1 1500); do grep -q '^step 2/' k1.log 2>/dev/null && break; sleep 0.02; done
kill -9 $lpid; wait $lpid 2>/dev/null
[ -f K/.train.lock ] || fail "K/.train.lock: SIGKILL should leave the file"
"$BIN" train --config tiny.cfg --out K --force --log > k2.log 2>&1 ||
    { cat k2.log; fail "a run over a killed run's lock file"; }
mkdir E && : > E/.train.lock  # a run killed before its first checkpoint: E counts as empty
"$BIN" train --config tiny.cfg --out E --log > e.log 2>&1 ||
    { cat e.log; fail "a folder holding only a stale lock file"; }

# ---- a NaN loss stops the run and keeps the last good checkpoint -------------
sed 's/checkpoint_every = 0/checkpoint_every = 10/' tiny.cfg > ck.cfg
ATTNSCOPE_TEST_NAN_AT=25 "$BIN" train --config ck.cfg --out N --log > n.log 2>&1
rc=$?
[ $rc -eq 1 ] || { cat n.log; fail "NaN loss: exit status $rc"; }
grep -q 'loss is NaN at step 25' n.log || { cat n.log; fail "no NaN message"; }
grep -q 'last good checkpoint (step 20)' n.log || { cat n.log; fail "NaN message names no checkpoint"; }
grep -q '"step":	20' N/trainer_state.json || fail "checkpoint of step 20 not kept"

# ---- a failed checkpoint write leaves the previous one intact ----------------
sed 's/steps = 60/steps = 20/' tiny.cfg > short.cfg
"$BIN" train --config short.cfg --out F --log > f1.log 2>&1 || fail "short run"
cp F/model.safetensors f-model.bak
( trap '' XFSZ; ulimit -f 16; exec "$BIN" train --config tiny.cfg --out F --resume --log ) \
    > f2.log 2>&1
rc=$?
[ $rc -eq 1 ] || { cat f2.log; fail "failed checkpoint: exit status $rc"; }
grep -q 'checkpoint at step 60 failed (the previous one, step 20, is intact)' f2.log ||
    { cat f2.log; fail "no checkpoint failure message"; }
cmp F/model.safetensors f-model.bak || fail "previous model.safetensors changed"
grep -q '"step":	20' F/trainer_state.json || fail "previous trainer_state.json changed"
ls F | grep -q '\.tmp' && fail "temporary files left behind"
"$BIN" train --config tiny.cfg --out F --resume --log > f3.log 2>&1 || { cat f3.log; fail "resume after failure"; }

# ---- an unwritable output folder is an error before training ----------------
echo "not a folder" > plainfile
"$BIN" train --config tiny.cfg --out plainfile/sub --log > u.log 2>&1
rc=$?
[ $rc -eq 1 ] || { cat u.log; fail "unwritable folder: exit status $rc"; }
grep -q 'plainfile' u.log || { cat u.log; fail "unwritable folder: message"; }
grep -q '^step' u.log && fail "unwritable folder: training started"

# ---- bad configurations: rejected before training, with file and line --------
reject() {  # name, expected message part, config text
    printf '%s\n' "$3" > "bad-$1.cfg"
    "$BIN" train --config "bad-$1.cfg" --out X > "bad-$1.log" 2>&1
    rc=$?
    [ $rc -ne 0 ] || fail "bad config $1 accepted"
    grep -q "bad-$1.cfg:[0-9][0-9]*: .*$2" "bad-$1.log" ||
        { cat "bad-$1.log"; fail "bad config $1: expected 'bad-$1.cfg:LINE: ...$2'"; }
    [ -e X ] && fail "bad config $1 created the output folder"
    return 0
}
OKT='train = { batch = 4; steps = 2; };'
reject unknown-key "unknown key 'model.d_modle'" "model = {
  d_modle = 64; };
$OKT"
reject wrong-type "optimizer.lr must be a number" "optimizer = { lr = \"fast\"; };
$OKT"
reject negative "batch must be at least 1 (got -4)" "model = { d_model = 32; };
train = {
  batch = -4; steps = 2; };"
reject divisible "d_model = 30 is not divisible by num_heads = 4" "model = { d_model = 30;
  num_heads = 4; };
$OKT"
reject missing-file "data.train: .*nowhere.tsv is missing" "data = {
  train = \"nowhere.tsv\"; test = \"nowhere.tsv\"; };
$OKT"
reject syntax "syntax error" "model = { d_model = = 32; };
$OKT"
reject unknown-section "unknown section 'modle'" "modle = { d_model = 32; };
$OKT"
reject zero-steps "steps must be at least 1" "train = { batch = 4;
 steps = 0; };"
reject bad-preset "unknown preset" "data = { preset = \"huge\"; };
$OKT"
reject keep-negative "train.keep_checkpoints must be at least 0 (got -1)" "train = { batch = 4;
  steps = 2; checkpoint_every = 1; keep_checkpoints = -1; };"
reject keep-type "train.keep_checkpoints must be an integer" "train = { batch = 4; steps = 2;
  keep_checkpoints = \"all\"; };"
reject keep-no-every "train.keep_checkpoints = 3 keeps the model of every checkpoint_every steps: set train.checkpoint_every above 0 too" "train = { batch = 4; steps = 2;
  keep_checkpoints = 3; };"
reject seed-negative "train.seed must be at least 0 (got -3)" "train = { batch = 4; steps = 2;
  seed = -3; };"
reject init-seed-negative "model.init_seed must be at least 0 (got -1)" "model = { init_seed = -1; };
$OKT"
grep -q 'bad-keep-negative.cfg:2:' bad-keep-negative.log || fail "keep_checkpoints: wrong line"
grep -q 'bad-unknown-key.cfg:2:' bad-unknown-key.log || fail "unknown key: wrong line"
grep -q 'bad-negative.cfg:3:' bad-negative.log || fail "negative: wrong line"
grep -q 'bad-divisible.cfg:2:' bad-divisible.log || fail "divisible: wrong line"

# usage errors
"$BIN" train > /dev/null 2>&1; [ $? -eq 2 ] || fail "no --config: exit status"
"$BIN" train --config nowhere.cfg > nw.log 2>&1; [ $? -eq 1 ] || fail "missing config file"
grep -q 'nowhere.cfg' nw.log || fail "missing config file: message"
finish train.sh
