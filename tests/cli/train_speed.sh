#!/usr/bin/env bash
# tests/cli/train_speed.sh - every run says how much of the machine it had
# (issue 14): the log.tsv columns and the progress line carry tokens per
# second and per CPU-second, the core share and the steal;
# trainer_state.json keeps the run's averages (also across --resume);
# a run limited to one core (taskset) that asks for two threads warns once;
# `bench train --real-steps` prints the real loop's line. No timing: the
# machine may be loaded, so only shapes and ranges are checked.
FAIL_FAST=1
. "$(dirname "$0")/lib.bash"
cd "$T" || exit 1

tiny_cfg 40 | sed 's/checkpoint_every = 0; log_every = 1;/checkpoint_every = 20; log_every = 10;/' > tiny.cfg
"$BIN" train --config tiny.cfg --out A --log > a.log 2> a.err || { cat a.log a.err; fail "run"; }
[ "$(head -1 A/log.tsv)" = "$(printf 'step\tloss\tlr\tgrad_norm\ttarget_tokens\tseconds\ttokens_per_s\ttokens_per_cpu_s\tcore_share\tsteal')" ] ||
    fail "log.tsv header: $(head -1 A/log.tsv)"
[ "$(wc -l < A/log.tsv)" = 41 ] || fail "log.tsv rows"
awk -F'\t' 'NR > 1 && !(NF == 10 && $7 > 0 && $8 > 0 && $9 > 0 && $9 <= 1.2 && $10 >= 0 && $10 <= 1) { bad = 1; print }
            END { exit bad }' A/log.tsv || fail "log.tsv values out of range"
grep -Eq '^step 40/40 loss [0-9.]+ lr [0-9.e+-]+ grad_norm [0-9.]+ tok/s [0-9]+ tok/cpu-s [0-9]+ cores [0-9]+% steal [0-9.]+% eta ' a.log ||
    { cat a.log; fail "progress line"; }
jq -e '.machine | .step == 40 and .since_step == 0 and .threads == 2 and .steps == 40 and
       .tokens_per_second > 0 and .tokens_per_cpu_second >= .tokens_per_second / 2.5 and
       .core_share > 0 and .core_share <= 1.2 and .steal_share >= 0 and
       (.low_core_share_warning | type) == "boolean"' A/trainer_state.json > /dev/null ||
    fail "trainer_state.json machine: $(jq -c .machine A/trainer_state.json)"
tok=$(awk -F'\t' 'NR > 1 { s += $5 } END { print s }' A/log.tsv)
[ "$(jq .machine.target_tokens A/trainer_state.json)" = "$tok" ] || fail "machine.target_tokens != the log's sum"

# --resume adds to the totals: an interrupted run ends with all 40 steps counted
sigint_run tiny.cfg B b1.log '^step [1-3]0/' || { cat b1.log; fail "SIGINT"; }
"$BIN" train --config tiny.cfg --out B --resume --log > b2.log 2>&1 || { cat b2.log; fail "resume"; }
jq -e '.machine | .steps == 40 and .since_step == 0' B/trainer_state.json > /dev/null ||
    fail "machine after --resume: $(jq -c .machine B/trainer_state.json)"
[ "$(jq .machine.target_tokens B/trainer_state.json)" = "$tok" ] || fail "machine.target_tokens after --resume"

# one core, two threads: warns once (stderr), and trainer_state.json says so
if command -v taskset > /dev/null; then
    sed 's/steps = 40/steps = 400/' tiny.cfg > long.cfg
    taskset -c 0 "$BIN" train --config long.cfg --out C --log > c.log 2> c.err || { cat c.err; fail "taskset run"; }
    [ "$(grep -c '^warning: this run got [0-9]* % of the 2 cores it asked for' c.err)" = 1 ] ||
        { cat c.err; fail "one core for two threads: no single warning"; }
    jq -e '.machine.low_core_share_warning and .machine.core_share < 0.75' C/trainer_state.json > /dev/null ||
        fail "taskset run: $(jq -c .machine C/trainer_state.json)"
    "$BIN" train --config long.cfg --out D --log --quiet > d.log 2>&1 || fail "quiet run"
    [ -s d.log ] && { cat d.log; fail "--quiet printed something"; }
else
    echo "taskset missing (util-linux): warning test skipped"
fi

# bench train --real-steps: the real run's line before the last
out=$("$BIN" bench train --d-model 16 --d-ff 32 --layers 1 --heads 2 --d-kv 8 --batch 4 \
      --src-len 5 --tgt-len 7 --steps 2 --warmup 1 --threads 1 --real-steps 3 2>&1) ||
    fail "bench train --real-steps: $out"
grep -Eq "^real run: [0-9]+ target tokens per CPU-second \(.* over 3 steps of 'train' on the seed preset, batch 4, .* these steps: [0-9]+ per CPU-second; real / these [0-9.]+$" <<<"$out" ||
    fail "no real run line: $out"
tail -1 <<<"$out" | grep -q "^tokens/s [0-9][0-9]*$" || fail "bench train does not end with tokens/s"
left=$(find /tmp -maxdepth 1 -name 'attnscope-bench-*' -newer "$T")
[ -z "$left" ] || fail "bench left $left behind"
finish train_speed.sh
