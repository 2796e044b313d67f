#!/usr/bin/env bash
# inspect.sh - `attnscope inspect`: output on a good model, exit 1 with a clear
# message on broken ones (never a crash), exit 2 on bad usage.
# Needs $BIN (the attnscope binary); run from the source tree's top level.
. "$(dirname "$0")/lib.bash"
GOOD=tests/fixtures/model-io/tiny-relu

# expect CODE NEEDLE ARGS... : exit status CODE and NEEDLE in stdout+stderr
# (runs of spaces count as one, so column widths may change)
expect() {
    local code=$1 needle=$2; shift 2
    local out rc
    out=$("$BIN" inspect "$@" 2>&1); rc=$?
    [ "$rc" -eq "$code" ] || fail "inspect $* exited $rc, expected $code; output:"$'\n'"$out"
    grep -qF -- "$(tr -s ' ' <<<"$needle")" <<<"$(tr -s ' ' <<<"$out")" || fail "inspect $* lacks '$needle'; output:"$'\n'"$out"
}

# A fresh copy of the good model in $T/$1.
copy() { rm -rf "${T:?}/$1"; cp -r "$GOOD" "$T/$1"; }

# --- good model
expect 0 "d_model 16" --model "$GOOD"
expect 0 "feed_forward_proj relu" --model "$GOOD"
expect 0 "total 12,512 (47 tensors" --model "$GOOD"
expect 0 "F32 47" -m "$GOOD"
expect 0 "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight [8, 2]" \
    --model "$GOOD" --tensors
expect 0 "usage: attnscope inspect" --help

# --- how a model was trained: metrics.json (bundled), trainer_state.json (a run)
SMALL=sample_models/quadratic-small
pct() { jq -r "$1 * 1000 | round / 10" "$SMALL/metrics.json" | sed 's/^\([0-9]*\)$/\1.0/'; }
expect 0 "training (metrics.json)" --model "$SMALL"
expect 0 "data preset small, 100,000 examples, seed 1, 20 % held out, fresh equations every step" --model "$SMALL"
expect 0 "test split $(pct .test_split.overall.full_solve) % full solve, $(pct .test_split.overall.char_accuracy) % characters" --model "$SMALL"
expect 0 "two roots / one root / no root $(pct .test_split.per_kind.two_roots.full_solve) / $(pct .test_split.per_kind.one_root.full_solve) / $(pct .test_split.per_kind.no_root.full_solve) % full solve" --model "$SMALL"
"$BIN" inspect --model "$GOOD" | grep -q '^training' && fail "a training section for a model without metrics"
copy run
cat > "$T/run/trainer_state.json" <<'EOF2'
{"step": 1500, "total_steps": 6000, "batch": 16, "threads": 2, "loss": 0.25, "elapsed_seconds": 600,
 "data": {"preset": "seed", "n": 2000, "seed": 4, "test_share": 0.2, "stream": true,
          "stream_range": {"a": [1, 9], "roots": [-300, 300], "b": [-5400, 5400], "c": [1, 810000]}},
 "init_from": {"folder": "../base", "steps_before": 9000},
 "machine": {"tokens_per_second": 12345.6},
 "eval": {"step": 1000, "all": {"n": 300, "full_solve": 0.5, "char_accuracy": 0.875, "answer_accuracy": 0.6}}}
EOF2
expect 0 "training (trainer_state.json, a training run)" --model "$T/run"
expect 0 "data preset seed, 2,000 examples, seed 4, 20 % held out, fresh equations every step" --model "$T/run"
expect 0 "stream range a 1..9, roots -300..300, no-root b -5400..5400, c 1..810000" --model "$T/run"
expect 0 "steps 1,500 of 6,000, batch 16, after 9,000 steps of ../base" --model "$T/run"
expect 0 "time 10 min on 2 threads, 12,345 target tokens/s" --model "$T/run"
expect 0 "last evaluation (step 1,000) 50.0 % full solve, 87.5 % characters, 60.0 % answers (300 held-out equations)" --model "$T/run"
echo '{"data": ' > "$T/run/metrics.json"
expect 0 "metrics.json does not parse as JSON" --model "$T/run"

# --- usage errors
expect 2 "unknown option" --model "$GOOD" --bogus
expect 2 "needs a value" -m
expect 2 "unexpected argument" --model "$GOOD" extra

# --- broken models: exit 1 and a message naming what is wrong
expect 1 "attnscope inspect: model folder $T/none" --model "$T/none"
copy nocfg; rm "$T/nocfg/config.json"
expect 1 "config.json is missing" --model "$T/nocfg"
copy nost; rm "$T/nost/model.safetensors"
expect 1 "model.safetensors is missing" --model "$T/nost"
copy empty; : >"$T/empty/model.safetensors"
expect 1 "is empty" --model "$T/empty"
copy trunc; truncate -s -64 "$T/trunc/model.safetensors"
expect 1 "out of range" --model "$T/trunc"
copy hdr; printf '[' | dd of="$T/hdr/model.safetensors" bs=1 seek=8 conv=notrunc 2>/dev/null
expect 1 "corrupted header" --model "$T/hdr"
copy hlen; printf '\xff' | dd of="$T/hlen/model.safetensors" bs=1 seek=6 conv=notrunc 2>/dev/null
expect 1 "past the end" --model "$T/hlen"
copy heads; sed -i 's/"num_heads":\t2/"num_heads":\t0/' "$T/heads/config.json"
expect 1 "num_heads" --model "$T/heads"
copy neg; sed -i 's/"d_ff":\t24/"d_ff":\t-24/' "$T/neg/config.json"
expect 1 "\"d_ff\" must be positive" --model "$T/neg"
copy shape; sed -i 's/"d_ff":\t24/"d_ff":\t32/' "$T/shape/config.json"
expect 1 "has shape [24, 16] but config.json implies [32, 16]" --model "$T/shape"
copy json; printf '{"d_model": ' >"$T/json/config.json"
expect 1 "invalid JSON" --model "$T/json"
# the last 4 bytes are decoder.final_layer_norm.weight[15]: make it a NaN
copy nan; size=$(stat -c %s "$T/nan/model.safetensors")
printf '\xff\xff\xff\xff' | dd of="$T/nan/model.safetensors" bs=1 seek=$((size - 4)) conv=notrunc 2>/dev/null
expect 1 "tensor decoder.final_layer_norm.weight has a NaN at element 15" --model "$T/nan"
copy inf
printf '\x00\x00\x80\x7f' | dd of="$T/inf/model.safetensors" bs=1 seek=$((size - 4)) conv=notrunc 2>/dev/null
expect 1 "an infinite value" --model "$T/inf"

finish inspect.sh
