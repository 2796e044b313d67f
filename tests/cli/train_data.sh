#!/usr/bin/env bash
# tests/cli/train_data.sh - the data options of train.cfg end to end, on a
# tiny model (seconds):
#  - data.weights: a run is resumable exactly (SIGINT, --resume: the losses
#    and the final weights equal an uninterrupted run's), trainer_state.json
#    names the weights, a kind without examples is an error before training.
#  - data.stream (resumable exactly, evaluated like the fixed set) and
#    data.stream_range (said at the start, kept in trainer_state.json);
#    data.stepwise.
FAIL_FAST=1
. "$(dirname "$0")/lib.bash"
cd "$T" || exit 1

# interrupt_resume NAME CFG: SIGINT mid-run into NAME, then --resume; the
# step lines of both parts must equal those of the uninterrupted run in
# NAME-full.log.
interrupt_resume() {
    local name=$1 cfg=$2
    sigint_run "$cfg" "$name" "$name-1.log" '^step 1[0-9]/' ||
        { cat "$name-1.log"; fail "$name: SIGINT exit status"; }
    grep -q 'interrupted by SIGINT' "$name-1.log" || { cat "$name-1.log"; fail "$name: not interrupted"; }
    "$BIN" train --config "$cfg" --out "$name" --resume --log > "$name-2.log" 2>&1 ||
        { cat "$name-2.log"; fail "$name: resume"; }
    diff <(grep '^step' "$name-full.log" | awk '{print $2, $4}') \
         <(cat "$name-1.log" "$name-2.log" | grep '^step' | awk '{print $2, $4}') > diff.txt ||
        { cat diff.txt; fail "$name: losses after resume differ from the uninterrupted run"; }
    cmp "$name-full/model.safetensors" "$name/model.safetensors" ||
        fail "$name: final weights differ after resume"
}

tiny_cfg 60 | sed 's/test_share = 0.2;/test_share = 0.2; weights = { two_roots = 2.0; one_root = 0.5; no_root = 1.5; };/' > w.cfg

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

# ---- data.stream and data.stepwise ------------------------------------------------
"$BIN" gen --preset small --n 300 --seed 3 --test-share 0.2 --out G > /dev/null || fail "gen"
# eval_matches DIR: trainer_state.json's evaluation (the whole test split)
# equals `attnscope eval` of the saved model on G/test.tsv
eval_matches() {
    local dir=$1
    "$BIN" eval --model "$dir" --data G/test.tsv --json > "$dir.eval.json" || fail "$dir: eval"
    local want got
    want=$(jq -c '[.overall.n, .overall.full_solve, .overall.char_accuracy, .per_kind.one_root.n, .per_kind.one_root.char_accuracy]' "$dir.eval.json")
    got=$(jq -c '[.eval.all.n, .eval.all.full_solve, .eval.all.char_accuracy, .eval.one_root.n, .eval.one_root.char_accuracy]' "$dir/trainer_state.json")
    [ "$want" = "$got" ] || fail "$dir: evaluation during training $got, attnscope eval on gen's test.tsv $want"
    [ "$(jq .overall.n "$dir.eval.json")" = "$(wc -l < G/test.tsv)" ] || fail "$dir: eval n"
}
sed -e 's/weights = {[^}]*}; //' -e 's/eval_every = 0;/eval_every = 60; eval_n = 0;/' w.cfg > plain.cfg
"$BIN" train --config plain.cfg --out P --log > P.log 2>&1 || { cat P.log; fail "plain run"; }
eval_matches P

sed 's/test_share = 0.2;/test_share = 0.2; stream = true;/' plain.cfg > s.cfg
"$BIN" train --config s.cfg --out S-full --log > S-full.log 2>&1 || { cat S-full.log; fail "stream run"; }
grep -q '^data.stream: fresh small equations at every step, never one of the [0-9]* held out' S-full.log ||
    { cat S-full.log; fail "stream run: no data.stream line"; }
[ "$(jq .data.stream S-full/trainer_state.json)" = true ] || fail "trainer_state.json data.stream"
cmp -s P/model.safetensors S-full/model.safetensors && fail "the stream run trained on the fixed set"
eval_matches S-full
interrupt_resume S s.cfg
# a wider stream: said at the start, kept in trainer_state.json, evaluated on the same test split
sed 's/stream = true;/stream = true; stream_range = { roots = [-30, 30]; c = [1, 4500]; };/' s.cfg > sr.cfg
"$BIN" train --config sr.cfg --out SR --log > SR.log 2>&1 || { cat SR.log; fail "stream_range run"; }
grep -q '^data.stream_range: drawn from a 1..5, roots -30..30, no-root b -200..200 and c 1..4500, around the small preset' SR.log ||
    { cat SR.log; fail "stream_range run: no data.stream_range line"; }
[ "$(jq -c .data.stream_range SR/trainer_state.json)" = '{"a":[1,5],"roots":[-30,30],"b":[-200,200],"c":[1,4500]}' ] ||
    fail "trainer_state.json data.stream_range: $(jq -c .data.stream_range SR/trainer_state.json)"
cmp -s S-full/model.safetensors SR/model.safetensors && fail "the stream_range run drew the preset's equations"
eval_matches SR

sed 's/test_share = 0.2;/test_share = 0.2; stepwise = { stages = [0, 12, 30]; };/' plain.cfg > sw.cfg
"$BIN" train --config sw.cfg --out SW-full --log > SW-full.log 2>&1 || { cat SW-full.log; fail "stepwise run"; }
for l in 'stage 1 of 3 from step 0: targets with b^2 and 4ac written out' \
         'stage 2 of 3 from step 12: targets with b^2 written out' \
         "stage 3 of 3 from step 30: targets with the spec's"; do
    grep -qF "data.stepwise: $l" SW-full.log || { cat SW-full.log; fail "stepwise: no line '$l'"; }
done
[ "$(jq -c .data.stepwise SW-full/trainer_state.json)" = '{"stages":[0,12,30],"drop_first":"4ac","stage":3}' ] ||
    fail "trainer_state.json data.stepwise: $(jq -c .data.stepwise SW-full/trainer_state.json)"
eval_matches SW-full
interrupt_resume SW sw.cfg
grep -q 'stage [23] of 3' SW-2.log || { cat SW-2.log; fail "stepwise resume: no stage line"; }

# stepwise and stream together, and drop_first = "b2"
sed -e 's/test_share = 0.2;/test_share = 0.2; stream = true; stepwise = { stages = [0, 5, 10]; drop_first = "b2"; };/' \
    -e 's/steps = 60/steps = 15/' plain.cfg > both.cfg
"$BIN" train --config both.cfg --out BOTH --log > BOTH.log 2>&1 || { cat BOTH.log; fail "stream + stepwise run"; }
grep -qF 'stage 2 of 3 from step 5: targets with 4ac written out' BOTH.log || { cat BOTH.log; fail "drop_first b2"; }

# a TSV set whose targets are not the spec's cannot be worked out
printf '1x^2-5x+6=0\tD=1;\n' > odd.tsv
printf '%s\n' 'data = { train = "odd.tsv"; test = "odd.tsv"; stepwise = { stages = [0, 1]; }; };' \
    'train = { batch = 2; steps = 2; };' > odd.cfg
"$BIN" train --config odd.cfg --out ODD --log > odd.log 2>&1
[ $? -eq 1 ] || { cat odd.log; fail "stepwise on odd targets: exit status"; }
grep -q 'data.stepwise: training example 1 .*has a target other than the spec' odd.log ||
    { cat odd.log; fail "stepwise on odd targets: message"; }

finish train_data.sh
