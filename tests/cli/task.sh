#!/usr/bin/env bash
# task.sh - the quadratic-task commands: `gen` (files, counts, split,
# reproducibility, usage errors), `solve` (friendly and hostile equations:
# exit 1 with a column and a reason, never a crash), `eval` (scores, JSON,
# threads agree, a malformed data line reported with its line number).
# Needs $BIN (the attnscope binary); run from the source tree's top level.
. "$(dirname "$0")/lib.bash"
MODEL=tests/fixtures/tied-relu              # a tiny random T5: decodes garbage, fine here

# expect CODE NEEDLE CMD ARGS... : exit status CODE and NEEDLE in stdout+stderr
# (runs of spaces count as one). A crash (status >= 128) always fails.
expect() {
    local code=$1 needle=$2; shift 2
    local out rc
    out=$("$BIN" "$@" 2>&1); rc=$?
    [ "$rc" -eq "$code" ] || fail "$* exited $rc, expected $code; output:"$'\n'"$(head -c 2000 <<<"$out")"
    grep -qF -- "$(tr -s ' ' <<<"$needle")" <<<"$(tr -s ' ' <<<"$out")" ||
        fail "$* lacks '$needle'; output:"$'\n'"$(head -c 2000 <<<"$out")"
}

# --- gen
expect 0 "usage: attnscope gen" gen --help
expect 0 "preset small, 1250 examples, seed 3, test share 0.2" gen --preset small --n 1250 --seed 3 --test-share 0.2 --out "$T/s"
out=$("$BIN" gen --preset small --n 1250 --seed 3 --out "$T/s" 2>&1)
read -r _ tr2 tr1 tr0 trt _ <<<"$(grep '^train' <<<"$out")"
read -r _ te2 te1 te0 tet _ <<<"$(grep '^test' <<<"$out")"
[ $((tr2 + te2)) -eq 625 ] && [ $((tr1 + te1)) -eq 375 ] && [ $((tr0 + te0)) -eq 250 ] ||
    fail "gen shares: $out"
[ "$(wc -l <"$T/s/train.tsv")" -eq "$trt" ] && [ "$(wc -l <"$T/s/test.tsv")" -eq "$tet" ] ||
    fail "gen line counts disagree with the printed counts: $out"
[ "$tet" -ge 225 ] && [ "$tet" -le 275 ] || fail "gen test share far from 20 %: $out"
# every line is source TAB target; train and test share no source
awk -F'\t' 'NF != 2 || $1 == "" || $2 == "" { bad = 1 } END { exit bad }' "$T/s/train.tsv" "$T/s/test.tsv" ||
    fail "gen wrote a line that is not source<TAB>target"
shared=$(comm -12 <(cut -f1 "$T/s/train.tsv" | sort -u) <(cut -f1 "$T/s/test.tsv" | sort -u) | wc -l)
[ "$shared" -eq 0 ] || fail "train and test share $shared equations"
# the spec's form, and a seed-preset line re-solved by 'solve --no-model'
grep -qE '^[1-5]x\^2[+-][0-9]+x[+-][0-9]+=0	D=\(' "$T/s/train.tsv" || fail "gen source form"
line=$(head -n 1 "$T/s/train.tsv")
expect 0 "target ${line#*	}" solve --no-model "${line%%	*}"
# reproducible, and a different seed differs
"$BIN" gen --preset small --n 1250 --seed 3 --out "$T/s2" >/dev/null 2>&1
cmp -s "$T/s/train.tsv" "$T/s2/train.tsv" && cmp -s "$T/s/test.tsv" "$T/s2/test.tsv" ||
    fail "gen with the same seed differs"
"$BIN" gen --preset small --n 1250 --seed 4 --out "$T/s3" >/dev/null 2>&1
cmp -s "$T/s/train.tsv" "$T/s3/train.tsv" && fail "gen with another seed is the same"
# the default size, timed
start=$(date +%s.%N)
expect 0 "test 10000" gen --out "$T/big"
el=$(echo "$(date +%s.%N) - $start" | bc)
[ "$(cat "$T/big/train.tsv" "$T/big/test.tsv" | wc -l)" -eq 100000 ] || fail "gen default is not 100,000 lines"
echo "gen 100,000 examples: $el s"
# usage and failures
expect 2 "unknown preset 'huge'" gen --preset huge --out "$T/x"
expect 2 "--out DIR is required" gen
expect 2 "--n needs a non-negative whole number" gen --n -5 --out "$T/x"
expect 2 "--n must be at least 1" gen --n 0 --out "$T/x"
expect 2 "--test-share must be between 0 and 1" gen --test-share 1.5 --out "$T/x"
expect 2 "--test-share needs a number" gen --test-share abc --out "$T/x"
expect 2 "unexpected argument" gen --out "$T/x" extra
expect 2 "unrecognized option" gen --bogus --out "$T/x"
touch "$T/file"
expect 1 "$T/file" gen --n 10 --out "$T/file"
expect 1 "" gen --n 10 --out /proc/nope/x

# --- solve, without a model
expect 0 "source 1x^2-5x+6=0" solve --no-model "x^2 - 5x + 6 = 0"
expect 0 "source 1x^2+0x-4=0" solve --no-model "-x^2+4=0"
expect 0 "source 3x^2+0x-12=0" solve --no-model "3x^2=12"
expect 0 "source 1x^2+0x-1=0" solve --no-model "x²-1=0"
expect 0 "roots x = (5±√13)/2" solve --no-model "x^2-5x+3=0"
expect 0 "outside the training distribution" solve --no-model "2x^2-x-1=0"
expect 0 "roots x = (-1±i√14)/3" solve --no-model "3x^2+2x+5=0"
# a model that names its preset (the bundled small one): an equation beyond
# its ranges gets a note naming the value and the range; one inside, none
SMALL=sample_models/quadratic-small
expect 0 "note a = 7 is outside the small preset's 1..5" solve --model $SMALL "7x^2+3556x+451612=0"
expect 0 "note root 30 is outside the small preset's -20..20" solve --model $SMALL "x^2-50x+600=0"
expect 0 "note b = -300 is outside the small preset's -200..200 for no-root equations" \
    solve --model $SMALL "x^2-300x+30000=0"
expect 0 "note c = 5000 is outside the small preset's 1..2000 for no-root" solve --model $SMALL "x^2+5000=0"
"$BIN" solve --model $SMALL "2x^2-14x-36=0" | grep -q note && fail "a note on an equation inside the small preset"
"$BIN" solve --no-model "7x^2+3556x+451612=0" | grep -q note && fail "a preset note without a model"
expect 0 "usage: attnscope solve" solve --help
expect 2 "no equation given" solve
expect 2 "unknown option '--bogus'" solve --bogus "x^2=1"
expect 2 "--model needs a value" solve --model
# hostile equations: exit 1, the column and the reason, never a crash
expect 1 "column 1: empty input" solve --no-model ""
expect 1 "column 3: power 3" solve --no-model "x^3+1=0"
expect 1 "column 1: not quadratic: no x^2 term with a coefficient other than 0 (a = 0)" solve --no-model "0x^2+5x+6=0"
expect 1 "column 1: variable 'a'" solve --no-model "abc"
expect 1 "column 8: a second '='" solve --no-model "x^2+1=0=0"
expect 1 "column 5: control character 0x07" solve --no-model "$(printf 'x^2+\a=0')"
expect 1 "column 4: control character 0x1B" solve --no-model "$(printf 'x^2\033[2J=0')"
expect 1 "column 1: number too large: 10240 digits" solve --no-model "$(head -c 10240 /dev/zero | tr '\0' 9)x^2=0"
expect 1 "column 5: number too large" solve --no-model "x^2=99999999999999999999"
expect 1 "b^2 does not fit 64 bits" solve --no-model "x^2+9999999999x=0"
expect 1 "invalid UTF-8" solve --no-model "$(printf 'x^2\xff=0')"
expect 1 "not an equation" solve --no-model "x^2-5x+6"
# one bad equation among good ones: the good ones are still solved
expect 1 "roots x = 2, x = 3" solve --no-model "x^2-5x+6=0" "x^2+#=0"

# --- solve with a model (a tiny random one: wrong, but the whole path runs)
expect 0 "wrong at character 1 of 59; answer wrong" solve --model "$MODEL" "x^2-5x+6=0"
expect 0 "first wrong character: 1" solve --model "$MODEL" --max-len 8 "x^2-5x+6=0"
expect 1 "cannot load the model" solve --model "$T/none" "x^2-5x+6=0"
expect 1 "column 3: power 3" solve --model "$MODEL" "x^2-5x+6=0" "x^3=0" \
    "$(head -c 10240 /dev/zero | tr '\0' 1)" "x^2+9999999999x=0"

# --- eval
head -n 12 "$T/s/test.tsv" >"$T/t.tsv"
expect 0 "overall 12" eval --model "$MODEL" --data "$T/t.tsv" --max-len 16
expect 0 '"examples":	5' eval --model "$MODEL" --data "$T/t.tsv" --max-len 16 --limit 5 --json
"$BIN" eval --model "$MODEL" --data "$T/t.tsv" --max-len 24 --json --threads 1 >"$T/j1" 2>&1 &&
    "$BIN" eval --model "$MODEL" --data "$T/t.tsv" --max-len 24 --json --threads 2 >"$T/j2" 2>&1 ||
    fail "eval --json failed"
diff <(grep -v 'seconds\|threads' "$T/j1") <(grep -v 'seconds\|threads' "$T/j2") >/dev/null ||
    fail "eval with 1 and 2 threads disagree"
PY=$(command -v /usr/bin/python3 || command -v python3 || true)
[ -z "$PY" ] || "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["overall"]["n"]==12 and set(d["per_kind"])=={"two_roots","one_root","no_root"} and sum(d["first_wrong_step"]["two_roots"].values())==d["per_kind"]["two_roots"]["n"]-d["per_kind"]["two_roots"]["full"] and all(d["discriminant"][k]["n"]==d["per_kind"][k]["n"] and d["discriminant"][k]["right"]<=d["discriminant"][k]["has_value"] for k in d["per_kind"])' "$T/j1" ||
    fail "eval --json is not the expected JSON"
# --outputs: a header and one escaped line per example, nine fields each
expect 0 "overall 12" eval --model tests/fixtures/untied-gated --data "$T/t.tsv" --max-len 40 \
    --outputs "$T/out.tsv"
[ "$(wc -l <"$T/out.tsv")" -eq 13 ] || fail "--outputs: $(wc -l <"$T/out.tsv") lines, expected 13"
head -n 1 "$T/out.tsv" | grep -q '^line	kind	source	target	output	full	answer	first_wrong	step$' ||
    fail "--outputs header"
awk -F'\t' 'NF != 9 { bad = 1 } END { exit bad }' "$T/out.tsv" || fail "--outputs: a line without 9 fields"
LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f]' "$T/out.tsv" && fail "--outputs: unescaped control bytes"
expect 1 "" eval --model "$MODEL" --data "$T/t.tsv" --max-len 4 --outputs /proc/nope/out.tsv
# each distinct source is decoded once and its output given to every copy: the
# set twice over (and one line a third time) scores as its copies add up, with
# the same outputs, and says how many it decoded
{ cat "$T/t.tsv" "$T/t.tsv"; head -n 1 "$T/t.tsv"; } >"$T/t3.tsv"
"$BIN" eval --model tests/fixtures/untied-gated --data "$T/t3.tsv" --max-len 40 --json \
    --outputs "$T/out3.tsv" >"$T/j3" 2>&1 || fail "eval of repeated examples"
[ "$(jq -c '[.examples, .decoded, .overall.chars_total]' "$T/j3")" = "[25,12,$(awk -F'\t' 'NR > 1 { n += length($4) } END { print n }' "$T/out3.tsv")]" ] ||
    fail "repeated examples: $(jq -c '[.examples, .decoded, .overall.chars_total]' "$T/j3")"
diff <(tail -n +2 "$T/out.tsv" | cut -f 2-) <(sed -n 2,13p "$T/out3.tsv" | cut -f 2-) >/dev/null &&
    diff <(tail -n +2 "$T/out.tsv" | cut -f 2-) <(sed -n 14,25p "$T/out3.tsv" | cut -f 2-) >/dev/null &&
    [ "$(sed -n 2p "$T/out3.tsv" | cut -f 2-)" = "$(sed -n 26p "$T/out3.tsv" | cut -f 2-)" ] ||
    fail "repeated examples: their outputs differ from the set's"
expect 0 "usage: attnscope eval" eval --help
expect 2 "--data FILE.tsv is required" eval --model "$MODEL"
expect 2 "unrecognized option" eval --bogus
expect 2 "--max-len must be 1..4096" eval --model "$MODEL" --data "$T/t.tsv" --max-len 0
expect 1 "cannot load the model" eval --model "$T/none" --data "$T/t.tsv"
expect 1 "$T/none.tsv" eval --model "$MODEL" --data "$T/none.tsv"
{ head -n 3 "$T/t.tsv"; echo "1x^2-5x+6=0 no tab here"; } >"$T/bad1.tsv"
expect 1 "bad1.tsv:4: no tab" eval --model "$MODEL" --data "$T/bad1.tsv"
{ head -n 2 "$T/t.tsv"; printf '1x^2+1x+1=0\tD=1;\n1y^2=0\tD=1;\n'; } >"$T/bad2.tsv"
expect 1 "bad2.tsv:4: source column 2: variable 'y'" eval --model "$MODEL" --data "$T/bad2.tsv"
printf '\tD=1;\n' >"$T/bad3.tsv"
expect 1 "bad3.tsv:1: empty source" eval --model "$MODEL" --data "$T/bad3.tsv"
printf 'x^2%2000s=0\tD=1;\n' '' >"$T/long.tsv"
expect 1 "long.tsv:1: source of 2005 bytes is longer than 1023" eval --model "$MODEL" --data "$T/long.tsv"
: >"$T/empty.tsv"
expect 1 "no examples" eval --model "$MODEL" --data "$T/empty.tsv"

# --- the bundled model, once it is there: the whole path runs and agrees
if [ -f sample_models/quadratic-seed/config.json ]; then
    expect 0 "target D=((-5)^2-4*1*6)=1;" solve --model sample_models/quadratic-seed "x^2-5x+6=0"
    expect 0 "overall 12" eval --model sample_models/quadratic-seed --data "$T/t.tsv"
    # eval and solve decode alike: a set whose targets are solve's outputs scores 100 %
    for e in 1x^2-5x+6=0 7x^2+3556x+451612=0 3x^2+2x+5=0 2x^2+0x-8=0; do
        o=$("$BIN" solve --model sample_models/quadratic-seed "$e" | sed -n 's/^  model   //p')
        printf '%s\t%s\n' "$e" "$o"
    done >"$T/self.tsv"
    expect 0 "overall 4 100.00 % 100.00 % 100.00 %" eval --model sample_models/quadratic-seed \
        --data "$T/self.tsv"
fi

finish task.sh
