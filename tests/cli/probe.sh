#!/usr/bin/env bash
# probe.sh - `attnscope probe` on the bundled model over a few generated
# equations writes probe.md (the summary table naming every quantity),
# probe.tsv (one row per probed cell, R^2 <= 1, accuracies in [0, 1]),
# probe.json and the figure as PNG and SVG; the embeddings at a's digits
# read a almost exactly. Bad usage exits 2; a SentencePiece model and a bad
# data file exit 1 with a message naming the problem.
# Needs $BIN (the attnscope binary); run from the source tree's top level.
. "$(dirname "$0")/lib.bash"

OUT=$T/probe
"$BIN" probe --preset small --n 120 --seed 2 --out "$OUT" >"$T/stdout" 2>"$T/stderr"
rc=$?
[ $rc -eq 0 ] || fail "probe exited $rc: $(cat "$T/stderr")"
grep -q "wrote $OUT/probe.md" "$T/stdout" || fail "no summary line: $(cat "$T/stdout")"
for f in probe.md probe.tsv probe.json probe.png probe.svg; do
    [ -s "$OUT/$f" ] || fail "no $f"
done
for q in a b c 'b^2' 4ac D 'sqrt(D)' x1 x2 'D 10^0'; do
    grep -qF "| $q |" "$OUT/probe.md" || fail "probe.md has no row for $q"
done
head -c 8 "$OUT/probe.png" | od -An -c | grep -q 'P   N   G' || fail "probe.png is not a PNG"
grep -q '<svg' "$OUT/probe.svg" || fail "probe.svg is not an SVG"
head -1 "$OUT/probe.tsv" | grep -q $'^target\tmeasure\tslot\tclass\tscore\tshuffled$' ||
    fail "probe.tsv header: $(head -1 "$OUT/probe.tsv")"
awk -F'\t' 'NR > 1 && ($5 > 1.0001 || ($2 == "accuracy" && $5 < 0)) {bad++} END {exit bad > 0}' \
    "$OUT/probe.tsv" || fail "probe.tsv has scores out of range"
a=$(awk -F'\t' '$1 == "a" && $3 == "enc emb" && $4 == "a" {print $5}' "$OUT/probe.tsv")
awk -v a="$a" 'BEGIN {exit !(a > 0.95)}' || fail "R^2 of a at (enc emb, a) is '$a', expected > 0.95"
jq -e '.targets | length >= 10' "$OUT/probe.json" >/dev/null || fail "probe.json lacks targets"

"$BIN" probe --n 10 >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--out" "$T/err" || fail "no --out: exit $rc, $(cat "$T/err")"
"$BIN" probe --preset small --data x.tsv --out "$T/x" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "either --data or --preset" "$T/err" || fail "--data with --preset: exit $rc"
"$BIN" probe --preset nope --out "$T/x" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "unknown preset 'nope'" "$T/err" || fail "bad preset: exit $rc, $(cat "$T/err")"
"$BIN" probe --model tests/fixtures/spm-gated --out "$T/x" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "byte-level (ByT5)" "$T/err" || fail "SentencePiece model: exit $rc, $(cat "$T/err")"
printf '1x^2+2x+1=0\tD=(2^2-4*1*1)=0;\nbroken line\n' >"$T/bad.tsv"
"$BIN" probe --data "$T/bad.tsv" --out "$T/x" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "bad.tsv" "$T/err" || fail "bad data file: exit $rc, $(cat "$T/err")"
printf '1x^2+2x+1=0\tD=(2^2-4*1*1)=0;\n' >"$T/one.tsv"
"$BIN" probe --data "$T/one.tsv" --out "$T/x" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "too few" "$T/err" || fail "one equation: exit $rc, $(cat "$T/err")"
[ ! -e "$T/x" ] || fail "a failed probe left $T/x"

finish probe.sh
