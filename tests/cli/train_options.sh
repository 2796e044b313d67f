#!/usr/bin/env bash
# tests/cli/train_options.sh - the trainer's training-only options in train.cfg
# (loss.label_smoothing, model.dropout_rate, loss.aux_weight) and model.init_from,
# end to end on a tiny model (seconds):
#  - without them a run is what it was (same losses as with the keys at 0);
#  - each one changes the losses, trains (the loss falls) and leaves a plain
#    HF model folder (dropout: config.json's dropout_rate says the rate);
#  - dropout's masks depend on the seed and the step: --resume continues
#    exactly; so does the auxiliary head, which the checkpoint keeps and the
#    model file never holds;
#  - a value out of range is rejected before training with FILE:LINE.
# The arithmetic of each option is checked against PyTorch in
# tests/unit/test_train.c (tests/fixtures/train-*/options.safetensors).
FAIL_FAST=1
. "$(dirname "$0")/lib.bash"
cd "$T" || exit 1

base() { tiny_cfg 40 "$1" "$2"; }  # model keys, extra groups
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

# --resume continues exactly: 40 steps at once equal 20 + --resume 20
# (constant schedule, so the two configurations differ only in steps)
resume_equal() {  # name, model keys, extra groups, [sed script for the configuration]
    base "$2" "$3" | sed -e 's/decay = "cosine"/decay = "constant"/' -e "${4:-}" > "$1-40.cfg"
    sed 's/steps = 40/steps = 20/' "$1-40.cfg" > "$1-20.cfg"
    "$BIN" train --config "$1-40.cfg" --out "$1-40" --log > "$1-40.log" 2>&1 || { cat "$1-40.log"; fail "$1: run of 40"; }
    "$BIN" train --config "$1-20.cfg" --out "$1-20" --log > "$1-20a.log" 2>&1 || { cat "$1-20a.log"; fail "$1: run of 20"; }
    "$BIN" train --config "$1-40.cfg" --out "$1-20" --resume --log > "$1-20b.log" 2>&1 ||
        { cat "$1-20b.log"; fail "$1: resume"; }
    diff <(losses "$1-40.log") <(losses "$1-20a.log" "$1-20b.log") > "$1-resume.diff" ||
        { head "$1-resume.diff"; fail "$1: resumed losses differ from an uninterrupted run's"; }
    cmp -s "$1-40/model.safetensors" "$1-20/model.safetensors" || fail "$1: resumed weights differ"
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
# uninterrupted run drops
resume_equal dropout "dropout_rate = 0.2;" ""
# the trained model is a plain T5 (inference never drops): it loads and decodes
"$BIN" solve --model do "x^2-5x+6=0" > /dev/null 2>&1 || fail "the dropout model does not load"

# ---- the auxiliary head ---------------------------------------------------------
run ax "" "loss = { aux_weight = 0.5; };"
diff <(losses plain.log) <(losses ax.log) > /dev/null && fail "aux_weight = 0.5 changed nothing"
falls ax
cmp -s plain/config.json ax/config.json || fail "the auxiliary head changed config.json"
# the model file holds exactly the plain model's tensors; the checkpoint keeps the head
names() { python3 -c 'import json,struct,sys
f=open(sys.argv[1],"rb"); n=struct.unpack("<Q",f.read(8))[0]
print(" ".join(sorted(k for k in json.loads(f.read(n)) if k!="__metadata__")))' "$1"; }
[ "$(names ax/model.safetensors)" = "$(names plain/model.safetensors)" ] ||
    fail "the auxiliary head is in model.safetensors"
names ax/optimizer.safetensors | tr ' ' '\n' | grep -qx 'aux.weight' || fail "no aux.weight in the checkpoint"
"$BIN" solve --model ax "x^2-5x+6=0" > /dev/null 2>&1 || fail "the aux-trained model does not load"
# the checkpoint keeps the head: --resume continues it exactly
resume_equal aux "" "loss = { aux_weight = 0.5; };"

# ---- model.init_from: fine-tune or grow a trained model -----------------------
# 'plain' (40 steps) starts two runs: one of its shape, one with a layer more
# in each stack. The new layers start as the identity, so both runs' first
# loss (before any update, same batch) is the same, and far below a fresh
# model's; both print where their weights came from.
first_loss() { grep '^step 1/' "$1" | awk '{print $4}'; }
run same "init_from = \"plain\";" ""
base "init_from = \"plain\";" "" | sed 's/num_layers = 1;/num_layers = 2;/' > grow.cfg
"$BIN" train --config grow.cfg --out grow --log > grow.log 2>&1 || { cat grow.log; fail "grow run"; }
grep -q "weights from .*plain (1+1 layers)$" same.log || fail "same: $(grep weights same.log)"
grep -q "weights from .*plain (1+1 layers); 1+1 new layers start as the identity" grow.log ||
    fail "grow: $(grep weights grow.log)"
awk -v a="$(first_loss same.log)" -v b="$(first_loss grow.log)" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-5 * a) }' ||
    fail "grown model's first loss $(first_loss grow.log) differs from its source's $(first_loss same.log)"
awk -v a="$(first_loss same.log)" -v p="$(first_loss plain.log)" 'BEGIN { exit !(a < 0.8 * p) }' ||
    fail "init_from did not start from the trained weights: first loss $(first_loss same.log), fresh $(first_loss plain.log)"
grep -q '"num_layers":	2,' grow/config.json || fail "grown config.json: $(grep num_layers grow/config.json)"
# the steps behind each model count on: plain's 40, then same's 40 more; a
# --resume keeps the count (the source is not read again: it may be gone)
[ "$(jq .init_from.steps_before same/trainer_state.json)" = 40 ] ||
    fail "same: init_from.steps_before $(jq -c .init_from same/trainer_state.json)"
base "init_from = \"same\";" "" | sed 's/steps = 40;/steps = 20;/' > third.cfg
"$BIN" train --config third.cfg --out third --log > third.log 2>&1 || { cat third.log; fail "third run"; }
[ "$(jq .init_from.steps_before third/trainer_state.json)" = 80 ] ||
    fail "third: init_from.steps_before $(jq -c .init_from third/trainer_state.json)"
mv same same.gone
sed 's/steps = 20;/steps = 30;/' third.cfg > third30.cfg
"$BIN" train --config third30.cfg --out third --resume --log > third-resume.log 2>&1 ||
    { cat third-resume.log; fail "resume of a run whose init_from folder is gone"; }
[ "$(jq .init_from.steps_before third/trainer_state.json)" = 80 ] ||
    fail "third resumed: init_from.steps_before $(jq -c .init_from third/trainer_state.json)"
mv same.gone same
"$BIN" solve --model grow "x^2-5x+6=0" > /dev/null 2>&1 || fail "the grown model does not load"

# ---- optimizer.ema: the moving average of the weights is the run's model -------
# Training goes on from the weights themselves (the same losses and, in the
# checkpoint, the same param.* as without it); model.safetensors and the
# in-training evaluation are the average, which the checkpoint keeps (ema.*)
# and --resume continues exactly. The arithmetic: tests/unit/test_train.c.
EMA='s/clip = 1.0; };/clip = 1.0; ema = 0.9; };/'
base "" "" | sed "$EMA" > ema.cfg
"$BIN" train --config ema.cfg --out ema --log > ema.log 2>&1 || { cat ema.log; fail "ema run"; }
diff <(losses plain.log) <(losses ema.log) > /dev/null || fail "optimizer.ema changed the losses"
cmp -s plain/model.safetensors ema/model.safetensors && fail "optimizer.ema: the model is the raw weights"
python3 - ema plain <<'PY' || fail "optimizer.ema: the checkpoint's tensors"
import json, struct, sys
def read(path):
    f = open(path, "rb"); n = struct.unpack("<Q", f.read(8))[0]
    head = json.loads(f.read(n)); body = f.read()
    return {k: body[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in head.items() if k != "__metadata__"}
ema, plain = sys.argv[1], sys.argv[2]
ck, model, raw = read(ema + "/optimizer.safetensors"), read(ema + "/model.safetensors"), read(plain + "/model.safetensors")
assert set(model) == set(raw), "model tensors"
for k in model:
    assert ck["param." + k] == raw[k], "param." + k + " is not the weights of a run without ema"
    assert ck["ema." + k] == model[k], "ema." + k + " is not model.safetensors' " + k
assert any(model[k] != raw[k] for k in model), "the average equals the weights"
PY
[ "$(jq .ema.decay ema/trainer_state.json)" = 0.9 ] || fail "trainer_state.json ema: $(jq -c .ema ema/trainer_state.json)"
resume_equal ema "" "" "$EMA"
# a checkpoint without an average: --resume with optimizer.ema starts one
# from its weights, and says so
base "" "" | sed 's/steps = 40;/steps = 20;/' > late-20.cfg
"$BIN" train --config late-20.cfg --out late --log > late-a.log 2>&1 || { cat late-a.log; fail "late: run of 20"; }
"$BIN" train --config ema.cfg --out late --resume --log > late-b.log 2>&1 || { cat late-b.log; fail "late: resume with ema"; }
grep -q "^note: the checkpoint keeps no moving average of the weights; optimizer.ema starts one from its weights now$" late-b.log ||
    { cat late-b.log; fail "late: no note of the average starting"; }
names late/optimizer.safetensors | tr ' ' '\n' | grep -q '^ema\.' || fail "late: no ema.* in the checkpoint"
# the in-training evaluation scores the average: what eval says of
# model.safetensors (a decay of 0.999 keeps the average of 40 steps near the
# untrained start, so its scores differ from the weights')
EV='s/eval_every = 0;/eval_every = 40; eval_n = 30;/'
base "" "" | sed -e "$EV" -e 's/clip = 1.0; };/clip = 1.0; ema = 0.999; };/' > ema-ev.cfg
base "" "" | sed -e "$EV" > raw-ev.cfg
"$BIN" train --config ema-ev.cfg --out ema-ev --log > ema-ev.log 2>&1 || { cat ema-ev.log; fail "ema run with eval"; }
"$BIN" train --config raw-ev.cfg --out raw-ev --log > raw-ev.log 2>&1 || { cat raw-ev.log; fail "run with eval"; }
[ "$(grep '^eval step 40' ema-ev.log)" = "$(grep '^eval step 40' raw-ev.log)" ] &&
    fail "the average and the weights score alike: the check below would not tell them apart"
"$BIN" gen --preset small --n 300 --seed 3 --test-share 0.2 --out ema-data > /dev/null 2>&1 || fail "gen"
"$BIN" eval --model ema-ev --data ema-data/test.tsv --limit 30 --json > ema-ev.json 2>&1 || fail "eval of the ema model"
chars=$(sed -n 's/^eval step 40: .*char accuracy \([0-9.]*\)%.*/\1/p' ema-ev.log)
want=$(jq '.overall.char_accuracy * 100 | . * 100 | round / 100' ema-ev.json)
awk -v a="$chars" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d < 0.006) }' ||
    fail "the in-training evaluation ($chars %) is not the model's ($want %)"

# ---- bad values: FILE:LINE before training -----------------------------------
reject() {  # name, expected message part, extra groups, model keys, sed script
    base "${4:-}" "$3" | sed "${5:-}" > "bad-$1.cfg"
    "$BIN" train --config "bad-$1.cfg" --out X > "bad-$1.log" 2>&1 && fail "bad config $1 accepted"
    grep -q "bad-$1.cfg:[0-9][0-9]*: .*$2" "bad-$1.log" ||
        { cat "bad-$1.log"; fail "bad config $1: expected 'bad-$1.cfg:LINE: ...$2'"; }
    [ -e X ] && fail "bad config $1 created the output folder"
    return 0
}
reject ls-range "loss.label_smoothing must be in 0 .. 0.999 (got 1.5)" "loss = { label_smoothing = 1.5; };"
reject ls-type "loss.label_smoothing must be a number" "loss = { label_smoothing = \"some\"; };"
reject ax-range "loss.aux_weight must be in 0 .. 100 (got -1)" "loss = { aux_weight = -1; };"
reject do-range "model.dropout_rate must be in 0 .. 0.9 (got 0.95)" "" "dropout_rate = 0.95;"
reject ema-range "optimizer.ema must be in 0 .. 0.999999 (got 1)" "" "" 's/clip = 1.0; };/clip = 1.0; ema = 1.0; };/'
reject from-missing "model.init_from: .*nowhere/config.json" "" "init_from = \"nowhere\";"
reject from-blank "model.init_from: an empty folder name" "" "init_from = \" \";"
reject from-dff "model.init_from: that model does not fit the model section: d_ff is 64 there and 128 here" \
    "" "init_from = \"plain\";" 's/d_ff = 64;/d_ff = 128;/'
sed 's/num_layers = 1;/num_layers = 2;/' plain.cfg > two.cfg
"$BIN" train --config two.cfg --out two --log > two.log 2>&1 || { cat two.log; fail "two-layer run"; }
reject from-fewer "layers may be added, not removed" "" "init_from = \"two\";"
mkdir -p half && cp plain/config.json half/   # a config.json without its weights
base "init_from = \"half\";" "" > bad-half.cfg
"$BIN" train --config bad-half.cfg --out X > bad-half.log 2>&1 && fail "init_from a folder without weights accepted"
grep -q "model.init_from: .*half/model.safetensors" bad-half.log || { cat bad-half.log; fail "init_from without weights: message"; }
[ -e X ] && fail "init_from without weights created the output folder"
finish train_options.sh
