#!/usr/bin/env bash
# patch.sh - `attnscope patch` on the bundled model: a clean and a corrupted
# equation (b changed) print each component's best patch and, with --out,
# write patch.md, patch.tsv (one row per stack x component x layer x
# position), patch.json and the heatmaps; the clean embedding at the changed
# byte restores the clean score exactly. Mismatched pairs exit 2 with the
# reason; a SentencePiece model exits 1.
# Needs $BIN (the attnscope binary); run from the source tree's top level.
. "$(dirname "$0")/lib.bash"

OUT=$T/patch
"$BIN" patch --clean '1x^2-5x+6=0' --corrupt 'x^2 - 7x + 6 = 0' --out "$OUT" >"$T/stdout" 2>"$T/stderr"
rc=$?
[ $rc -eq 0 ] || fail "patch exited $rc: $(cat "$T/stderr")"
grep -q "corrupted 1x^2-7x+6=0 (b changed)" "$T/stdout" || fail "summary: $(cat "$T/stdout")"
for comp in "encoder residual" "encoder attention" "encoder MLP" "decoder residual" \
            "decoder cross attention" "decoder MLP"; do
    grep -q "$comp" "$T/stdout" || fail "no line for $comp"
done
for f in patch.md patch.tsv patch.json patch.png patch.svg; do [ -s "$OUT/$f" ] || fail "no $f"; done
head -1 "$OUT/patch.tsv" | grep -q $'^stack\tcomponent\tlayer\tposition\ttoken\trestored$' ||
    fail "patch.tsv header: $(head -1 "$OUT/patch.tsv")"
# b's digit 5 is byte 5 of 1x^2-5x+6=0; its clean embedding makes the input clean.
v=$(awk -F'\t' '$1 == "encoder" && $2 == "residual" && $3 == "emb" && $4 == 5 {print $6}' "$OUT/patch.tsv")
awk -v v="$v" 'BEGIN {exit !(v > 0.9999 && v < 1.0001)}' || fail "embedding patch at b restores '$v', expected 1"
v=$(awk -F'\t' '$1 == "encoder" && $2 == "residual" && $3 == "emb" && $4 == 0 {print $6}' "$OUT/patch.tsv")
awk -v v="$v" 'BEGIN {exit !(v == 0)}' || fail "embedding patch at a restores '$v', expected 0"
jq -e '.changed == "b" and (.encoder.residual | length) == 4' "$OUT/patch.json" >/dev/null ||
    fail "patch.json: $(head -c 300 "$OUT/patch.json")"

check_usage() {  # expected message, args...
    local want=$1; shift
    "$BIN" patch "$@" >/dev/null 2>"$T/err"; local rc=$?
    [ $rc -eq 2 ] && grep -q "$want" "$T/err" || fail "patch $*: exit $rc, $(cat "$T/err")"
}
check_usage "differ in b and c" --clean '1x^2-5x+6=0' --corrupt '1x^2-7x+8=0'
check_usage "different lengths" --clean '1x^2-5x+6=0' --corrupt '1x^2-15x+6=0'
check_usage "are the same" --clean '1x^2-5x+6=0' --corrupt 'x^2-5x+6=0'
check_usage "corrupt EQ is required" --clean '1x^2-5x+6=0'
check_usage "column" --clean '1x^2-5y+6=0' --corrupt '1x^2-5x+6=0'
"$BIN" patch --model tests/fixtures/spm-gated --clean '1x^2-5x+6=0' --corrupt '1x^2-7x+6=0' \
    >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "byte-level (ByT5)" "$T/err" || fail "SentencePiece model: exit $rc"

finish patch.sh
