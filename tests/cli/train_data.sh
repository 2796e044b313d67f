#!/usr/bin/env bash
# tests/cli/train_data.sh - the data options of train.cfg end to end, on a
# tiny model (seconds):
#  - data.weights: a run is resumable exactly (SIGINT, --resume: the losses
#    and the final weights equal an uninterrupted run's), trainer_state.json
#    names the weights, a kind without examples is an error before training.
set -u
BIN=${BIN:-./attnscope}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

# interrupt_resume NAME CFG: SIGINT mid-run into NAME, then --resume; the
# step lines of both parts must equal those of the uninterrupted run in
# NAME-full.log.
interrupt_resume() {
    local name=$1 cfg=$2
    "$BIN" train --config "$cfg" --out "$name" --log > "$name-1.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 1500); do
        grep -q '^step 1[0-9]/' "$name-1.log" 2>/dev/null && break
        sleep 0.02
    done
    kill -INT $pid
    wait $pid || { cat "$name-1.log"; fail "$name: SIGINT exit status"; }
    grep -q 'interrupted by SIGINT' "$name-1.log" || { cat "$name-1.log"; fail "$name: not interrupted"; }
    "$BIN" train --config "$cfg" --out "$name" --resume --log > "$name-2.log" 2>&1 ||
        { cat "$name-2.log"; fail "$name: resume"; }
    diff <(grep '^step' "$name-full.log" | awk '{print $2, $4}') \
         <(cat "$name-1.log" "$name-2.log" | grep '^step' | awk '{print $2, $4}') > diff.txt ||
        { cat diff.txt; fail "$name: losses after resume differ from the uninterrupted run"; }
    cmp "$name-full/model.safetensors" "$name/model.safetensors" ||
        fail "$name: final weights differ after resume"
}

cat > w.cfg <<'EOF'
model = { d_model = 32; d_ff = 64; num_layers = 1; num_heads = 2; d_kv = 16; };
data = { preset = "small"; n = 300; seed = 3; test_share = 0.2;
         weights = { two_roots = 2.0; one_root = 0.5; no_root = 1.5; }; };
optimizer = { lr = 3e-3; };
schedule = { warmup = 5; };
train = { batch = 16; steps = 60; threads = 2; seed = 7; eval_every = 0;
          checkpoint_every = 0; log_every = 1; };
EOF

# ---- data.weights --------------------------------------------------------------
"$BIN" train --config w.cfg --out W-full --log > W-full.log 2>&1 || { cat W-full.log; fail "weighted run"; }
grep -q '^done: 60 steps' W-full.log || { cat W-full.log; fail "weighted run: no done line"; }
[ "$(jq -c .data.weights W-full/trainer_state.json)" = '{"two_roots":2,"one_root":0.5,"no_root":1.5}' ] ||
    fail "trainer_state.json data.weights: $(jq -c .data.weights W-full/trainer_state.json)"
interrupt_resume W w.cfg

# a kind with a weight but no example (a TSV set of two-root lines only)
printf '1x^2-5x+6=0\tD=((-5)^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;x=3;\n' > two.tsv
cat > nw.cfg <<'EOF'
data = { train = "two.tsv"; test = "two.tsv";
         weights = { two_roots = 1; one_root = 1; no_root = 0; }; };
train = { batch = 2; steps = 2; };
EOF
"$BIN" train --config nw.cfg --out NW --log > nw.log 2>&1
[ $? -eq 1 ] || { cat nw.log; fail "weight for a missing kind: exit status"; }
grep -q 'data.weights.one_root is 1, but the training set has no one root equation' nw.log ||
    { cat nw.log; fail "weight for a missing kind: message"; }
grep -q '^step' nw.log && fail "weight for a missing kind: training started"

echo "train_data.sh: all passed"
