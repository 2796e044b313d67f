#!/usr/bin/env bash
# hf_models.sh - Hugging Face-style folders in the commands: a folder with
# spiece.model is tokenised by SentencePiece (dump and render show its pieces
# and decode with it, the ids equal python3-sentencepiece's from
# tests/fixtures/spm-gated/tokenize.json), render --target gives the
# teacher-forced maps, a broken spiece.model is a failed run naming it, and a
# 512-token source is handled by render (the map is 512 x 512).
# Needs $BIN; run from the source tree's top level.
. "$(dirname "$0")/lib.bash"
SPM=tests/fixtures/spm-gated
TIED=tests/fixtures/tied-relu
check() { # FILE JQ-EXPR EXPECTED
    local got; got=$(jq -c "$2" "$1" 2>&1)
    [ "$got" = "$3" ] || fail "$1: $2 = $got, expected $3"
}
SRC=$(jq -r .source "$SPM/tokenize.json")
TGT=$(jq -r .target "$SPM/tokenize.json")
case_of() { jq -c --arg t "$1" ".cases[] | select(.text == \$t) | $2" "$SPM/tokenize.json"; }

# --- dump, teacher forced: ids and pieces as python3-sentencepiece gives them
"$BIN" dump --model "$SPM" --input "The quick brown fox jumps over the lazy dog." \
    --target "Hello world" > "$T/tf.json" 2>"$T/err" || fail "dump (spm) failed: $(cat "$T/err")"
check "$T/tf.json" .tokenizer '"sentencepiece"'
check "$T/tf.json" .input_ids "$(case_of 'The quick brown fox jumps over the lazy dog.' .ids)"
check "$T/tf.json" .input_tokens "$(case_of 'The quick brown fox jumps over the lazy dog.' .pieces)"
check "$T/tf.json" .output_ids "$(case_of 'Hello world' .ids)"
check "$T/tf.json" .output_text '"Hello world"'
check "$T/tf.json" '.decoder_input_tokens[0]' '"<pad>"'
check "$T/tf.json" '.encoder_attentions[0][0]|length' "$(case_of 'The quick brown fox jumps over the lazy dog.' '.ids|length')"

# --- dump, greedy: decoded with SentencePiece (no ByT5 bytes)
"$BIN" dump --model "$SPM" --input "$SRC" --max-len 5 > "$T/g.json" 2>"$T/err" ||
    fail "dump greedy (spm) failed: $(cat "$T/err")"
check "$T/g.json" '.output_ids|length' 5
jq -e '.output_text|type == "string"' "$T/g.json" >/dev/null || fail "dump greedy: no output_text"

# --- a ByT5 folder still says so
"$BIN" dump --model "$TIED" --input "ab" --max-len 2 | jq -e '.tokenizer == "byt5"' >/dev/null ||
    fail "a folder without spiece.model is not ByT5"

# --- render --target: teacher-forced maps, rows = target tokens, pieces as labels
"$BIN" render --model "$SPM" --raw "$SRC" --target "$TGT" --format json > "$T/r.json" 2>"$T/err" ||
    fail "render --target failed: $(cat "$T/err")"
# the same ids as the reference fixture's (expected.safetensors src_ids/tf_labels): 54 and 17
check "$T/r.json" '.col_tokens|length' 54
check "$T/r.json" '.row_tokens|length' 17
check "$T/r.json" .output "\"$TGT\""
check "$T/r.json" '.col_tokens[0:4]' '["▁","t","r","an"]'
jq -e '.col_tokens|index("</s>")' "$T/r.json" >/dev/null || fail "render: no </s> column"
"$BIN" render --model "$SPM" --raw "$SRC" --target "$TGT" --format csv > "$T/r.csv" ||
    fail "render --target csv failed"
head -1 "$T/r.csv" | grep -q '0 ▁,1 t,2 r,3 an,' || fail "render csv: no piece labels: $(head -c 200 "$T/r.csv")"

# --- render text: pieces as row labels, ASCII only (the word-start mark as '_')
"$BIN" render --model "$SPM" --raw "$SRC" --target "$TGT" --format text --width 120 > "$T/r.txt" ||
    fail "render --target text failed"
grep -q ' 0 _D ' "$T/r.txt" || fail "render text: no '0 _D' row label: $(sed -n 4,5p "$T/r.txt")"
LC_ALL=C grep -q '[^ -~]' "$T/r.txt" && fail "render text (spm) has non-ASCII bytes"

# --- inspect names the tokenizer and where the weights live
"$BIN" inspect --model "$SPM" > "$T/i.txt" || fail "inspect (spm) failed"
grep -q 'spiece.model *SentencePiece, 400 pieces + 100' "$T/i.txt" || fail "inspect: no tokenizer line"
grep -q 'weights *memory-mapped' "$T/i.txt" || fail "inspect: weights not memory-mapped"
"$BIN" inspect --model "$TIED" | grep -q 'tokenizer *ByT5 bytes' || fail "inspect: ByT5 not named"

# --- a broken spiece.model: a failed run naming it
mkdir -p "$T/broken" && cp "$SPM/config.json" "$SPM/model.safetensors" "$T/broken/"
echo "not a model" > "$T/broken/spiece.model"
"$BIN" dump --model "$T/broken" --input a > /dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "dump with a broken spiece.model exited $rc, expected 1"
grep -q "spiece.model" "$T/err" || fail "broken spiece.model: message does not name it: $(cat "$T/err")"
"$BIN" render --model "$T/broken" --raw a > /dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "render with a broken spiece.model exited $rc, expected 1"
# a model whose character-map trie is damaged: libsentencepiece loads it and
# then reads out of bounds when it normalises text; attnscope refuses it first
cp tests/fuzz/corpus/spiece/bad_trie.model "$T/broken/spiece.model"
"$BIN" dump --model "$T/broken" --input "x^2-1=0" > /dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "dump with a damaged trie exited $rc, expected 1: $(cat "$T/err")"
grep -q "spiece.model: not a SentencePiece model (.*character map" "$T/err" ||
    fail "damaged trie: message $(cat "$T/err")"

# --- 512 source tokens (511 bytes + eos): the encoder map is 512 x 512
long=$(head -c 511 /dev/zero | tr '\0' 'a')
"$BIN" render --model "$TIED" --raw "$long" --view enc --max-len 2 --format csv > "$T/long.csv" \
    2>"$T/err" || fail "render of a 512-token source failed: $(cat "$T/err")"
[ "$(wc -l < "$T/long.csv")" -eq 513 ] || fail "512-token encoder map: $(wc -l < "$T/long.csv") lines"
[ "$(head -1 "$T/long.csv" | tr ',' '\n' | wc -l)" -eq 513 ] || fail "512-token map: wrong width"

finish hf_models.sh
