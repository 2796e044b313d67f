#!/usr/bin/env bash
# tests/cli/train_options.sh - the trainer's training-only options in train.cfg
# (loss.label_smoothing, model.dropout_rate ...), end to end on a tiny model (seconds):
#  - without them a run is what it was (same losses as with the keys at 0);
#  - each one changes the losses, trains (the loss falls) and leaves a plain
#    HF model folder (dropout: config.json's dropout_rate says the rate);
#  - dropout's masks depend on the seed and the step: --resume continues
#    exactly;
#  - a value out of range is rejected before training with FILE:LINE.
# The arithmetic of each option is checked against PyTorch in
# tests/unit/test_train.c (tests/fixtures/train-*/options.safetensors).
set -u
BIN=${BIN:-./attnscope}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

base() {  # extra groups/keys after the base configuration
cat <<EOC
model = { d_model = 32; d_ff = 64; num_layers = 1; num_heads = 2; d_kv = 16; $1 };
data = { preset = "small"; n = 300; seed = 3; test_share = 0.2; };
optimizer = { lr = 3e-3; weight_decay = 0.01; clip = 1.0; };
schedule = { warmup = 5; decay = "cosine"; min_lr = 1e-4; };
train = { batch = 16; steps = 40; threads = 2; seed = 7; eval_every = 0;
          checkpoint_every = 0; log_every = 1; out = "run"; };
$2
EOC
}
losses() { grep -h '^step' "$@" | awk '{split($2, s, "/"); print s[1], $4}'; }
run() {  # name, model keys, extra groups
    base "$2" "$3" > "$1.cfg"
    "$BIN" train --config "$1.cfg" --out "$1" --log > "$1.log" 2>&1 || { cat "$1.log"; fail "run $1"; }
}
falls() {  # the mean of the last ten losses below 0.8 of the first
    first=$(grep '^step 1/' "$1.log" | awk '{print $4}')
    last=$(grep '^step' "$1.log" | tail -10 | awk '{s+=$4; n++} END {print s/n}')
    awk -v f="$first" -v l="$last" 'BEGIN { exit !(l < 0.8 * f) }' ||
        fail "$1: loss did not fall: first $first, last ten $last"
}

run plain "" ""
run zero "" "loss = { label_smoothing = 0.0; };"
diff <(losses plain.log) <(losses zero.log) > /dev/null || fail "label_smoothing = 0 changed the losses"
cmp -s plain/model.safetensors zero/model.safetensors || fail "label_smoothing = 0 changed the weights"

# ---- label smoothing ---------------------------------------------------------
run ls "" "loss = { label_smoothing = 0.1; };"
diff <(losses plain.log) <(losses ls.log) > /dev/null && fail "label_smoothing = 0.1 changed nothing"
falls ls
cmp -s plain/config.json ls/config.json || fail "label smoothing changed config.json"

# ---- dropout -------------------------------------------------------------------
run do "dropout_rate = 0.1;" ""
diff <(losses plain.log) <(losses do.log) > /dev/null && fail "dropout_rate = 0.1 changed nothing"
falls do
grep -q '"dropout_rate":	0.1,' do/config.json || fail "config.json dropout_rate: $(grep dropout do/config.json)"
run do3 "dropout_rate = 0.3;" ""
grep -q '"dropout_rate":	0.3,' do3/config.json || fail "config.json dropout_rate 0.3"
# without the key config.json keeps HF's default, as before the option
grep -q '"dropout_rate":	0.1,' plain/config.json || fail "plain config.json dropout_rate"
# the masks depend on (train.seed, step), so --resume drops what an
# uninterrupted run drops: 40 steps at once equal 20 + 20 (constant schedule)
base "dropout_rate = 0.2;" "" | sed 's/decay = "cosine"/decay = "constant"/' > c40.cfg
sed 's/steps = 40/steps = 20/' c40.cfg > c20.cfg
"$BIN" train --config c40.cfg --out R40 --log > r40.log 2>&1 || { cat r40.log; fail "dropout run of 40"; }
"$BIN" train --config c20.cfg --out R20 --log > r20a.log 2>&1 || { cat r20a.log; fail "dropout run of 20"; }
"$BIN" train --config c40.cfg --out R20 --resume --log > r20b.log 2>&1 || { cat r20b.log; fail "dropout resume"; }
diff <(losses r40.log) <(losses r20a.log r20b.log) > resume.diff ||
    { head resume.diff; fail "dropout: resumed losses differ from an uninterrupted run's"; }
cmp -s R40/model.safetensors R20/model.safetensors || fail "dropout: resumed weights differ"
# the trained model is a plain T5 (inference never drops): it loads and decodes
"$BIN" solve --model do "x^2-5x+6=0" > /dev/null 2>&1 || fail "the dropout model does not load"

# ---- bad values: FILE:LINE before training -----------------------------------
reject() {  # name, expected message part, extra groups, model keys
    base "${4:-}" "$3" > "bad-$1.cfg"
    "$BIN" train --config "bad-$1.cfg" --out X > "bad-$1.log" 2>&1 && fail "bad config $1 accepted"
    grep -q "bad-$1.cfg:[0-9][0-9]*: .*$2" "bad-$1.log" ||
        { cat "bad-$1.log"; fail "bad config $1: expected 'bad-$1.cfg:LINE: ...$2'"; }
    [ -e X ] && fail "bad config $1 created the output folder"
    return 0
}
reject ls-range "loss.label_smoothing must be in 0 .. 0.999 (got 1.5)" "loss = { label_smoothing = 1.5; };"
reject ls-type "loss.label_smoothing must be a number" "loss = { label_smoothing = \"some\"; };"
reject do-range "model.dropout_rate must be in 0 .. 0.9 (got 0.95)" "" "dropout_rate = 0.95;"
echo "train_options.sh: all passed"
