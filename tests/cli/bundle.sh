#!/usr/bin/env bash
# bundle.sh - scripts/bundle-model.sh turns a finished training run into a
# bundled model folder: the model, its train.cfg, metrics.json (the scores
# on the regenerated test split, the data settings the trainer recorded, the
# run's steps and the machine) and report/; a run that cannot be scored
# leaves the previous bundle as it was. Needs $BIN; run from the top level.
. "$(dirname "$0")/lib.bash"
export BUNDLE_DIR=$T/models DATA_DIR=$T/data BIN

cat > "$T/tiny.cfg" <<'CFG'
model = { d_model = 32; d_ff = 64; num_layers = 1; num_heads = 2; d_kv = 16; feed_forward_proj = "relu"; };
data = { preset = "small"; n = 300; seed = 3; test_share = 0.2; };
optimizer = { lr = 1e-3; weight_decay = 0.01; clip = 1.0; };
schedule = { warmup = 5; decay = "cosine"; min_lr = 1e-5; };
train = { batch = 8; steps = 20; threads = 1; seed = 1; eval_every = 10; eval_n = 10;
          checkpoint_every = 10; log_every = 10; out = "run"; };
CFG
"$BIN" train --config "$T/tiny.cfg" --log > "$T/train.log" 2>&1 || { cat "$T/train.log"; fail "training"; }

scripts/bundle-model.sh "$T/run" tiny > "$T/b.log" 2>&1 || { cat "$T/b.log"; fail "bundle-model.sh"; }
M=$T/models/tiny
for f in config.json model.safetensors train.cfg metrics.json report/report.md report/heads.tsv; do
    [ -s "$M/$f" ] || fail "$f missing from the bundle"
done
cmp -s "$M/model.safetensors" "$T/run/model.safetensors" || fail "model.safetensors is not the run's"
[ "$(jq -c .data "$M/metrics.json")" = '{"preset":"small","n":300,"seed":3,"test_share":0.2}' ] ||
    fail "metrics.json data: $(jq -c .data "$M/metrics.json")"
[ "$(jq .training.steps "$M/metrics.json")" = 20 ] || fail "metrics.json steps"
jq -e '.machine.cores >= 1 and (.machine.cpu | length) > 0' "$M/metrics.json" >/dev/null ||
    fail "metrics.json machine"
# the scores are eval's on the regenerated test split
n_test=$(wc -l < "$T/data/small-n300-seed3/test.tsv")
[ "$(jq .test_split.overall.n "$M/metrics.json")" = "$n_test" ] || fail "metrics.json n != test split"
"$BIN" eval --model "$M" --data "$T/data/small-n300-seed3/test.tsv" --json > "$T/e.json" ||
    fail "eval of the bundle"
[ "$(jq -c .overall "$T/e.json")" = "$(jq -c .test_split.overall "$M/metrics.json")" ] ||
    fail "eval does not reproduce metrics.json"
[ "$(wc -l < "$T/data/tiny-test-outputs.tsv")" -eq $((n_test + 1)) ] || fail "outputs file"

# a run whose model cannot be read: the script fails, the bundle stays as it was
cp -r "$T/run" "$T/bad" && head -c 100 "$T/run/model.safetensors" > "$T/bad/model.safetensors"
sum=$(cd "$M" && find . -type f -exec md5sum {} + | sort | md5sum)
scripts/bundle-model.sh "$T/bad" tiny > "$T/bad.log" 2>&1 && fail "a broken run was bundled"
grep -q "bundle-model: failed; .*tiny is as it was" "$T/bad.log" || { cat "$T/bad.log"; fail "no failure message"; }
[ "$(cd "$M" && find . -type f -exec md5sum {} + | sort | md5sum)" = "$sum" ] ||
    fail "the previous bundle changed"
[ -e "$M.old" ] && fail "$M.old left behind"

# bundling again keeps the bundle's hand-written README.md and the configurations
# of its earlier stages
echo "# tiny, by hand" > "$M/README.md"
echo "# stage 1, by hand" > "$M/train-stage1.cfg"
scripts/bundle-model.sh "$T/run" tiny > "$T/b2.log" 2>&1 || { cat "$T/b2.log"; fail "bundling again"; }
grep -q '^# tiny, by hand$' "$M/README.md" || fail "README.md lost when bundling again"
grep -q '^# stage 1, by hand$' "$M/train-stage1.cfg" || fail "train-stage1.cfg lost when bundling again"

# a run that started from the bundle is its next stage: the bundle's train.cfg
# stays as train-stage2.cfg (stage 1 is there) writing ../../runs/tiny-stage2,
# and the new train.cfg starts from there
cp "$M/train.cfg" "$T/stage1.cfg"
sed -e 's|^model = { |model = { init_from = "models/tiny"; |' -e 's/steps = 20;/steps = 10;/' \
    -e 's/out = "run"/out = "run2"/' "$T/tiny.cfg" > "$T/next.cfg"
"$BIN" train --config "$T/next.cfg" --log > "$T/train2.log" 2>&1 || { cat "$T/train2.log"; fail "training from the bundle"; }
scripts/bundle-model.sh "$T/run2" tiny > "$T/b3.log" 2>&1 || { cat "$T/b3.log"; fail "bundling the next stage"; }
grep -q "train-stage2.cfg now" "$T/b3.log" || { cat "$T/b3.log"; fail "no note of the next stage"; }
grep -q '^# stage 1, by hand$' "$M/train-stage1.cfg" || fail "train-stage1.cfg lost by the next stage"
diff <(sed 's|out = "[^"]*"|OUT|' "$T/stage1.cfg") <(sed 's|out = "[^"]*"|OUT|' "$M/train-stage2.cfg") ||
    fail "train-stage2.cfg is not the old train.cfg"
grep -q 'out = "../../runs/tiny-stage2"' "$M/train-stage2.cfg" || fail "train-stage2.cfg out"
grep -q 'init_from = "../../runs/tiny-stage2"' "$M/train.cfg" || fail "train.cfg init_from"
grep -q 'out = "../../runs/tiny"' "$M/train.cfg" || fail "train.cfg out"
[ "$(jq '.training.steps_before' "$M/metrics.json")" = 20 ] || fail "metrics.json steps_before"
# bundling the same run again is not a further stage (the bundle's steps moved on)
scripts/bundle-model.sh "$T/run2" tiny > "$T/b4.log" 2>&1 || { cat "$T/b4.log"; fail "bundling again"; }
[ -e "$M/train-stage3.cfg" ] && fail "bundling again made a stage 3"

finish bundle.sh
