#!/usr/bin/env bash
# dump.sh - `attnscope dump`: valid JSON (jq), the shapes of every map in
# Hugging Face's layout, greedy and teacher forced, and the exit codes
# (0 ok, 1 failed run, 2 bad usage). Uses the reference fixture models.
# Needs $BIN (the attnscope binary); run from the source tree's top level.
. "$(dirname "$0")/lib.bash"
TIED=tests/fixtures/tied-relu      # 2+3 layers, 4 heads
UNTIED=tests/fixtures/untied-gated # 3+2 layers, 3 heads
# check FILE JQ-EXPR EXPECTED: the jq value (compact) equals EXPECTED
check() {
    local got; got=$(jq -c "$2" "$1" 2>&1)
    [ "$got" = "$3" ] || fail "$1: $2 = $got, expected $3"
}
status() { # CODE ARGS...: exit status of dump ARGS is CODE
    local code=$1; shift
    "$BIN" dump "$@" >"$T/out" 2>"$T/err"; local rc=$?
    [ "$rc" -eq "$code" ] || fail "dump $* exited $rc, expected $code: $(cat "$T/err")"
}

# --- greedy: "ab=" is 3 bytes + eos = 4 source tokens; 6 tokens (no eos from a random model)
status 0 --model "$TIED" --input "ab=" --max-len 6
cp "$T/out" "$T/greedy.json"
jq empty "$T/greedy.json" || fail "greedy output is not valid JSON"
check "$T/greedy.json" .mode '"greedy"'
check "$T/greedy.json" .input_ids '[100,101,64,1]'
check "$T/greedy.json" '.input_tokens' '["a","b","=","</s>"]'
check "$T/greedy.json" '.output_ids|length' 6
check "$T/greedy.json" '.decoder_input_ids|length' 6
check "$T/greedy.json" '.decoder_input_ids[0]' 0
check "$T/greedy.json" '.row_step' '[0,1,2,3,4,5]'
check "$T/greedy.json" '[(.encoder_attentions|length), (.encoder_attentions[]|length), (.encoder_attentions[1][3]|length), (.encoder_attentions[1][3][2]|length)]' '[2,4,4,4,4]'
check "$T/greedy.json" '[(.decoder_attentions|length), (.decoder_attentions[2]|length), (.decoder_attentions[2][0]|length), (.decoder_attentions[2][0][5]|length)]' '[3,4,6,6]'
check "$T/greedy.json" '[(.cross_attentions|length), (.cross_attentions[0][1]|length), (.cross_attentions[0][1][0]|length)]' '[3,6,4]'
# rows are distributions; causal maps are zero above the diagonal
check "$T/greedy.json" '[.encoder_attentions[][][] | add] | map(. > 0.9999 and . < 1.0001) | all' true
check "$T/greedy.json" '[.cross_attentions[][][] | add] | map(. > 0.9999 and . < 1.0001) | all' true
check "$T/greedy.json" '[.decoder_attentions[][][0][1:][]] | map(. == 0) | all' true
check "$T/greedy.json" '.decoder_attentions[0][0][0][0]' 1

# --- teacher forced on the untied model: target "xy" + eos = 3 rows
status 0 --model "$UNTIED" --input "hello" --target "xy"
cp "$T/out" "$T/tf.json"
jq empty "$T/tf.json" || fail "teacher-forced output is not valid JSON"
check "$T/tf.json" .mode '"teacher_forced"'
check "$T/tf.json" .output_ids '[123,124,1]'
check "$T/tf.json" .output_text '"xy"'
check "$T/tf.json" .decoder_input_ids '[0,123,124]'
check "$T/tf.json" '.predicted_ids|length' 3
check "$T/tf.json" '.loss > 0' true
check "$T/tf.json" '.row_step' '[0,0,0]'
check "$T/tf.json" '[(.encoder_attentions|length), (.encoder_attentions[0]|length), (.encoder_attentions[0][0]|length)]' '[3,3,6]'
check "$T/tf.json" '[(.decoder_attentions|length), (.decoder_attentions[1][2]|length), (.decoder_attentions[1][2][2]|length)]' '[2,3,3]'
check "$T/tf.json" '[(.cross_attentions[1][0]|length), (.cross_attentions[1][0][2]|length)]' '[3,6]'

# --- text that is not UTF-8 or has quotes still gives valid JSON
status 0 --model "$TIED" --input $'q"\\\x01\xff' --max-len 3
jq empty "$T/out" || fail "escaped input is not valid JSON"
check "$T/out" '.input == "q\"\\\u0001\ufffd"' true

# --- usage errors: 2
status 2 --model "$TIED"                      # no --input
status 2 --model "$TIED" --input a --max-len x
status 2 --model "$TIED" --input a --bogus
status 2 --model "$TIED" --input a extra
status 2 --model "$TIED" --input a --max-len 5000
status 2 --model "$TIED" --input "$(head -c 3000 /dev/zero | tr '\0' a)"
status 0 --help
grep -q "usage: attnscope dump" "$T/out" || fail "--help prints no usage"

# --- failed runs: 1, with a message naming the folder
status 1 --model "$T/nonexistent" --input a
grep -q "nonexistent" "$T/err" || fail "missing model: message does not name the folder"
mkdir -p "$T/broken" && cp "$TIED/config.json" "$T/broken/" && head -c 100 "$TIED/model.safetensors" >"$T/broken/model.safetensors"
status 1 --model "$T/broken" --input a
[ -s "$T/out" ] && fail "a failed run printed JSON"

finish dump.sh
