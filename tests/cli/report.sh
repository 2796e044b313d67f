#!/usr/bin/env bash
# report.sh - `attnscope report` on a small random model writes every file it
# promises: report.md naming every head, heads.tsv, and each figure as a valid
# PNG (signature, IHDR) and a well-formed SVG of the same size; a
# SentencePiece model works too. Bad usage exits 2, a bad model or data file
# exits 1 with a message.
# Needs $BIN (the attnscope binary); run from the source tree's top level.
. "$(dirname "$0")/lib.bash"
MODEL=tests/fixtures/model-io/tiny-relu   # 2+2 layers, 2 heads, random weights

OUT=$T/rep
"$BIN" report --model "$MODEL" --preset small --n 6 --importance-n 2 --hypothesis-n 2 \
    --draws 2 --max-len 24 --out "$OUT" >"$T/stdout" 2>"$T/stderr"
rc=$?
[ $rc -eq 0 ] || fail "report exited $rc: $(cat "$T/stderr")"
grep -q "wrote $OUT/report.md" "$T/stdout" || fail "no summary line on stdout: $(cat "$T/stdout")"
[ -s "$OUT/report.md" ] || fail "no report.md"
[ -s "$OUT/heads.tsv" ] || fail "no heads.tsv"
# 12 heads + the header line
[ "$(wc -l <"$OUT/heads.tsv")" -eq 13 ] || fail "heads.tsv has $(wc -l <"$OUT/heads.tsv") lines, expected 13"
[ "$(awk -F'\t' '{print NF}' "$OUT/heads.tsv" | sort -u | wc -l)" -eq 1 ] || fail "heads.tsv rows differ in width"

# a model folder that names its preset (metrics.json, else trainer_state.json)
# gets that preset's equations and example by default; a folder that names
# none, or a file that does not parse, the study's (seed)
cp -r "$MODEL" "$T/smallm"
echo '{"data": {"preset": "small", "n": 100}}' > "$T/smallm/metrics.json"
quick=(--n 4 --importance-n 0 --hypothesis-n 0 --norm-n 0 --probe-n 0 --patch-n 0 --max-len 16)
"$BIN" report --model "$T/smallm" "${quick[@]}" --out "$T/rs" > /dev/null 2>&1 || fail "report on smallm"
grep -q 'generated from preset `small`' "$T/rs/report.md" || fail "report: not the model's preset"
grep -qF ': 2x^2-14x-36=0' "$T/rs/report.md" || fail "report: not the small preset's example"
"$BIN" report --model "$T/smallm" "${quick[@]}" --preset seed --example '1x^2-5x+6=0' \
    --out "$T/rs2" > /dev/null 2>&1 || fail "report on smallm, --preset seed"
grep -q 'generated from preset `seed`' "$T/rs2/report.md" || fail "report: --preset seed not kept"
grep -qF ': 1x^2-5x+6=0' "$T/rs2/report.md" || fail "report: --example not kept"
mv "$T/smallm/metrics.json" "$T/smallm/trainer_state.json"
"$BIN" probe --model "$T/smallm" --n 60 --out "$T/ps" > "$T/ps.out" 2>&1 ||
    fail "probe on smallm: $(cat "$T/ps.out")"
grep -q '; preset small)' "$T/ps.out" || fail "probe: not the model's preset: $(cat "$T/ps.out")"
echo '{"data": ' > "$T/smallm/trainer_state.json"
"$BIN" report --model "$T/smallm" "${quick[@]}" --out "$T/rs3" > /dev/null 2>&1 || fail "report, bad json"
grep -q 'generated from preset `seed`' "$T/rs3/report.md" || fail "report: a bad file's default is not seed"
grep -qF ': 7x^2+3556x+451612=0' "$T/rs3/report.md" || fail "report: a bad file's example is not the study's"

# the sections beyond attention weights (issue 18): every head on weights
# and on norms, the probes over the preset's equations with their files, the
# patching section and the verdict from three methods
for s in "## Value norms" "| enc L1 H1 |" "## Probes: which layers" "| b^2 |" "| 4ac |" "| D |" \
         "## Activation patching over" "## Verdict" "**Ablation**" "**Probes and patching**" \
         "Of the "; do
    grep -qF -- "$s" "$OUT/report.md" || fail "report.md lacks '$s'"
done
[ "$(grep -c '^| \(enc\|dec\|cross\) L[01] H[01] | [a-z]' "$OUT/report.md")" -ge 24 ] ||
    fail "report.md does not classify every head on weights and norms"
for f in probe.md probe.tsv probe.json probe.png norms_special.png norms_special.svg; do
    [ -s "$OUT/$f" ] || fail "report: no $f"
done
# every head named in report.md
for k in enc dec cross; do
    for l in 0 1; do
        for h in 0 1; do
            grep -q "| $k L$l H$h |" "$OUT/report.md" || fail "report.md does not name $k L$l H$h"
        done
    done
done
for s in "## Findings" "Heads that matter" "Hypothesis, every map" "Hypothesis, source keys only" "Against the study" "clear diagonal" "vertical stripes" \
         "sparse squares" "blurred diagonal" "heterogeneous"; do
    grep -q "$s" "$OUT/report.md" || fail "report.md lacks '$s'"
done

# every figure the report links exists in both formats, valid and of one size
figs=$(grep -o '](\([a-z_]*\)\.png)' "$OUT/report.md" | sed 's/](\(.*\)\.png)/\1/')
n=$(wc -w <<<"$figs")
[ "$n" -ge 20 ] || fail "only $n figures linked from report.md"
for f in example_enc_heads example_dec_heads example_cross_heads example_enc_layers \
         example_enc_mean summary_enc summary_cross summary_enc_class rollout_enc rollout_dec \
         rollout_cross avg_enc_position avg_cross_class offsets_enc keyclass_cross classes importance \
         hypothesis; do
    grep -qw "$f" <<<"$figs" || fail "figure $f missing from report.md"
done
for f in $figs; do
    png=$OUT/$f.png svg=$OUT/$f.svg
    [ -s "$png" ] || { fail "$png missing"; continue; }
    [ -s "$svg" ] || { fail "$svg missing"; continue; }
    sig=$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')
    [ "$sig" = 89504e470d0a1a0a ] || fail "$png: bad PNG signature $sig"
    [ "$(dd if="$png" bs=1 skip=12 count=4 2>/dev/null)" = IHDR ] || fail "$png: no IHDR"
    pw=$((16#$(dd if="$png" bs=1 skip=16 count=4 2>/dev/null | od -An -tx1 | tr -d ' \n')))
    ph=$((16#$(dd if="$png" bs=1 skip=20 count=4 2>/dev/null | od -An -tx1 | tr -d ' \n')))
    [ "$pw" -ge 100 ] && [ "$ph" -ge 100 ] && [ "$pw" -le 20000 ] && [ "$ph" -le 20000 ] ||
        fail "$png: odd size ${pw}x$ph"
    echo "$svg $pw $ph" >>"$T/svgs"
done
# one interpreter for every SVG: well-formed XML whose root is <svg> of the PNG's size
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
out=$("$PY" - "$T/svgs" <<'EOF' 2>&1
import sys, xml.etree.ElementTree as ET
for line in open(sys.argv[1]):
    path, w, h = line.split()
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        print("%s: not well-formed: %s" % (path, e)); continue
    if not root.tag.endswith('svg'):
        print("%s: root is %s" % (path, root.tag))
    elif (root.get('width'), root.get('height')) != (w, h):
        print("%s: size %s x %s, PNG is %s x %s" % (path, root.get('width'), root.get('height'), w, h))
EOF
)
[ -z "$out" ] || fail "$out"

# usage errors: exit 2 with a message
expect() {  # CODE NEEDLE ARGS...
    local code=$1 needle=$2; shift 2
    local out rc
    out=$("$BIN" report "$@" 2>&1); rc=$?
    [ "$rc" -eq "$code" ] || fail "report $* exited $rc, expected $code: $out"
    grep -qF -- "$needle" <<<"$out" || fail "report $* lacks '$needle': $out"
}
expect 0 "usage: attnscope report" --help
expect 2 "--out DIR is required" --model "$MODEL"
expect 2 "one of --data, --raw and --preset" --model "$MODEL" --data x.tsv --preset small --out "$T/x"
expect 2 "one of --data, --raw and --preset" --model "$MODEL" --data x.tsv --raw y.txt --out "$T/x"
expect 2 "--ablation must be zero or mean" --model "$MODEL" --ablation half --out "$T/x"
expect 2 "unknown preset" --model "$MODEL" --preset huge --out "$T/x"
expect 2 "unknown option" --model "$MODEL" --bogus --out "$T/x"
expect 2 "--draws must be 2..1000" --model "$MODEL" --draws 1 --out "$T/x"
expect 2 "--block-in takes" --model "$MODEL" --block-in enc,foo --out "$T/x"
expect 2 "needs a value" --model "$MODEL" --out
expect 2 "--probe-n must be 0 or 50" --model "$MODEL" --probe-n 10 --out "$T/x"
expect 2 "--example of 2000 bytes" --model "$MODEL" --example "$(printf '1%.0s' $(seq 2000))" --out "$T/x"
touch "$T/afile"
expect 1 "not a folder" --model "$MODEL" --n 2 --out "$T/afile"
expect 1 "nowhere" --model "$T/nowhere" --out "$T/x"
printf '1x^2-5x+6=0\tD=1;\nnot an equation\n' >"$T/bad.tsv"
expect 1 "bad.tsv:2" --model "$MODEL" --data "$T/bad.tsv" --out "$T/x"

# a data file and mean ablation work too
printf '1x^2-5x+6=0\tD=((-5)^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;x=3;\n' >"$T/one.tsv"
"$BIN" report --model "$MODEL" --data "$T/one.tsv" --ablation mean --hypothesis-n 0 --block-in enc,cross \
    --max-len 16 --out "$T/rep2" >/dev/null 2>"$T/stderr" || fail "report --data: $(cat "$T/stderr")"
grep -q "the first 1 of" "$T/rep2/report.md" || fail "report --data does not say its data"
grep -q "The probes did not run: 1 distinct equations are too few" "$T/rep2/report.md" ||
    fail "report on one equation does not say why the probes did not run"
[ -e "$T/rep2/hypothesis.png" ] && fail "--hypothesis-n 0 still drew the hypothesis"

# a SentencePiece model (tests/fixtures/spm-gated): the report encodes the
# equations and the example with its spiece.model, labels the pieces and says so
SPM=tests/fixtures/spm-gated
"$BIN" report --model "$SPM" --data "$T/one.tsv" --importance-n 1 --hypothesis-n 1 --draws 2 \
    --max-len 12 --out "$T/rep3" >/dev/null 2>"$T/stderr" || fail "report on $SPM: $(cat "$T/stderr")"
grep -q "Tokenizer: sentencepiece" "$T/rep3/report.md" || fail "report on $SPM does not name its tokenizer"
grep -q "| all | 1 |" "$T/rep3/report.md" || fail "report on $SPM: no score of its one equation"
for f in example_enc_heads rollout_cross importance hypothesis; do
    [ -s "$T/rep3/$f.png" ] || fail "report on $SPM: no $f.png"
done
grep -q "need a byte-level (ByT5) model" "$T/rep3/report.md" ||
    fail "report on $SPM does not say why it skips probes and patching"
grep -q "## Value norms" "$T/rep3/report.md" || fail "report on $SPM has no value norms"
grep -q Tokenizer "$T/rep2/report.md" && fail "a ByT5 model's report names a tokenizer"

# report --raw (issue 18, section 7): any text on any T5. On the
# SentencePiece fixture with targets (teacher forcing) and without (greedy
# references), and on a random ByT5 model; no task scores, no hypothesis,
# probes or patching, token classes only where ids are bytes.
printf 'translate English to German: The house is wonderful.\tDas Haus ist wunderbar.\nHello | world\tHallo Welt\n' >"$T/pairs.txt"
printf 'Hello world\nthe house is small\na\n' >"$T/lines.txt"
"$BIN" report --model "$SPM" --raw "$T/pairs.txt" --importance-n 2 --max-len 12 --out "$T/raw1" \
    >"$T/stdout" 2>"$T/stderr" || fail "report --raw with targets: $(cat "$T/stderr")"
R=$T/raw1/report.md
for s in "Inputs: the first 2 lines of" "each with a target" "## Scores of the inputs" \
         "mean log-likelihood" "next-token agreement" "scored on each input's target" \
         "| 2 | Hello \| world | (target) Hallo Welt |" "## Value norms" "are not run" \
         "d loglik | d agree | d exact"; do
    grep -qF -- "$s" "$R" || fail "report --raw (targets) lacks '$s'"
done
for s in "Hypothesis," "## Probes" "## Verdict" "full solve" "stripes other" "Against the study"; do
    grep -qF -- "$s" "$R" && fail "report --raw (targets) has '$s'"
done
head -1 "$T/raw1/heads.tsv" | grep -q "drop_loglik	drop_agree	drop_exact" || fail "raw heads.tsv: no raw drop columns"
[ "$(wc -l <"$T/raw1/heads.tsv")" -eq 25 ] || fail "raw heads.tsv: $(wc -l <"$T/raw1/heads.tsv") lines, expected 25"
for f in classes importance example_enc_heads rollout_cross avg_cross_position norms_stripe; do
    [ -s "$T/raw1/$f.png" ] && [ -s "$T/raw1/$f.svg" ] || fail "report --raw: no $f figure"
done
for f in hypothesis keyclass_enc avg_enc_class summary_enc_class norms_special probe.md; do
    [ -e "$T/raw1/$f.png" ] || [ -e "$T/raw1/$f" ] && fail "report --raw on SentencePiece drew $f"
done
# the importance figure and the ablation line rank by the target's log-likelihood
grep -q "head importance: log-likelihood per token lost" "$R" || fail "raw importance not by log-likelihood"

"$BIN" report --model "$SPM" --raw "$T/lines.txt" --importance-n 3 --max-len 12 --out "$T/raw2" \
    >/dev/null 2>"$T/stderr" || fail "report --raw without targets: $(cat "$T/stderr")"
R=$T/raw2/report.md
for s in "Inputs: the first 3 lines of" "No targets: the model's own greedy outputs" \
         "against the unablated model's greedy output" "next-token agreement 1.000, exact match 1.000" \
         "head importance: next-token agreement lost"; do
    grep -qF -- "$s" "$R" || fail "report --raw (no targets) lacks '$s'"
done
grep -qF "| 1 | Hello world |" "$R" || fail "report --raw: the first example is the first line"

# a random ByT5 model: token classes are bytes again
"$BIN" report --model "$MODEL" --raw "$T/lines.txt" --n 2 --importance-n 2 --max-len 10 \
    --out "$T/raw3" >/dev/null 2>"$T/stderr" || fail "report --raw on ByT5: $(cat "$T/stderr")"
[ -s "$T/raw3/keyclass_enc.png" ] || fail "report --raw on ByT5: no key-class figure"
grep -q "Inputs: the first 2 lines" "$T/raw3/report.md" || fail "report --raw --n 2 does not take 2 lines"
grep -q Tokenizer "$T/raw3/report.md" && fail "report --raw on ByT5 names a tokenizer"

# bad raw input: the file and line, exit 1
printf 'a\tb\tc\n' >"$T/tabs.txt"
expect 1 "tabs.txt:1: more than one tab" --model "$SPM" --raw "$T/tabs.txt" --out "$T/x"
printf 'a\tb\nc\n' >"$T/mixed.txt"
expect 1 "mixed.txt:2: has no target" --model "$SPM" --raw "$T/mixed.txt" --out "$T/x"
printf 'ok\n\xff\xfe\n' >"$T/utf.txt"
expect 1 "utf.txt:2: byte 1 is not valid UTF-8" --model "$SPM" --raw "$T/utf.txt" --out "$T/x"
: >"$T/empty.txt"
expect 1 "empty.txt: no input lines" --model "$SPM" --raw "$T/empty.txt" --out "$T/x"
expect 1 "nothere.txt" --model "$SPM" --raw "$T/nothere.txt" --out "$T/x"
printf '%s\n' "$(printf 'word %.0s' $(seq 600))" >"$T/long.txt"
expect 1 "long.txt:1: the input" --model "$SPM" --raw "$T/long.txt" --out "$T/x"

# report --checkpoints (issue 18, section 5): a run's kept checkpoints and
# its final model, each classified, in step order, with the scores beside
cat >"$T/tiny.cfg" <<'CFG'
model = { d_model = 32; d_ff = 64; num_layers = 1; num_heads = 2; d_kv = 16; };
data = { preset = "small"; n = 300; seed = 3; test_share = 0.2; };
optimizer = { lr = 3e-3; weight_decay = 0.01; clip = 1.0; };
schedule = { warmup = 5; decay = "cosine"; min_lr = 1e-4; };
train = { batch = 16; steps = 40; threads = 1; seed = 7; eval_every = 20; eval_n = 10;
          checkpoint_every = 0; log_every = 10; out = "run"; };
CFG
for n in 10 20 40; do
    sed "s/steps = 40/steps = $n/" "$T/tiny.cfg" >"$T/t$n.cfg"
    "$BIN" train --config "$T/t$n.cfg" --out "$T/t$n" >"$T/train.log" 2>&1 ||
        fail "tiny training run of $n steps: $(tail -3 "$T/train.log")"
done
RUN=$T/run
mkdir -p "$RUN/checkpoints"
cp -r "$T/t40/." "$RUN/"
cp -r "$T/t20" "$RUN/checkpoints/step-000020"
cp -r "$T/t10" "$RUN/checkpoints/step-000010"
"$BIN" report --checkpoints "$RUN" --preset small --n 8 --max-len 40 --out "$T/dyn" \
    >"$T/stdout" 2>"$T/stderr" || fail "report --checkpoints: $(cat "$T/stderr")"
grep -q "wrote $T/dyn/dynamics.md" "$T/stdout" || fail "report --checkpoints: no summary line"
D=$T/dyn/dynamics.md
for s in "# Training dynamics" "3 checkpoints, each decoding the same 8 equations" \
         "## When each pattern appears" "| step | loss | full solve" "| enc L0 H1 |" \
         "| cross L0 H0 |" "## Every head over the steps"; do
    grep -qF -- "$s" "$D" || fail "dynamics.md lacks '$s'"
done
# steps in order, 10 before 20 before 40, each with its loss from the run's files
steps=$(grep -o '^| [0-9]* | [0-9.]* |' "$D" | awk '{print $2}' | tr '\n' ' ')
[ "$steps" = "10 20 40 " ] || fail "dynamics.md steps are '$steps', expected '10 20 40 '"
# 6 heads x 3 checkpoints + the header
[ "$(wc -l <"$T/dyn/dynamics.tsv")" -eq 19 ] || fail "dynamics.tsv: $(wc -l <"$T/dyn/dynamics.tsv") lines, expected 19"
for f in dynamics_scores dynamics_classes dynamics_diag dynamics_stripe dynamics_block dynamics_band; do
    [ -s "$T/dyn/$f.png" ] && [ -s "$T/dyn/$f.svg" ] || fail "report --checkpoints: no $f figure"
done
# the same given as folders, out of order, with more after the option
"$BIN" report --checkpoints "$T/t40" "$T/t10" "$T/t20" --preset small --n 4 --max-len 40 \
    --out "$T/dyn2" -q >/dev/null 2>"$T/stderr" || fail "report --checkpoints DIR DIR DIR: $(cat "$T/stderr")"
steps=$(grep -o '^| [0-9]* | [0-9.]* |' "$T/dyn2/dynamics.md" | awk '{print $2}' | tr '\n' ' ')
[ "$steps" = "10 20 40 " ] || fail "report --checkpoints DIR... steps '$steps'"
# a run that keeps its checkpoints (checkpoint_every < eval_every): its last
# checkpoint is its final model too (read once, with a note), and a
# checkpoint written between two evals does not show the earlier eval as its own
sed 's/steps = 40;/steps = 30;/; s/checkpoint_every = 0;/checkpoint_every = 10; keep_checkpoints = 5;/' \
    "$T/tiny.cfg" >"$T/keep.cfg"
"$BIN" train --config "$T/keep.cfg" --out "$T/keep" >"$T/train.log" 2>&1 ||
    fail "tiny run keeping its checkpoints: $(tail -3 "$T/train.log")"
"$BIN" report --checkpoints "$T/keep" --preset small --n 4 --max-len 40 --out "$T/dyn3" -q \
    >/dev/null 2>"$T/stderr" || fail "report --checkpoints on a kept run: $(cat "$T/stderr")"
steps=$(grep -o '^| [0-9]* | [0-9.]* |' "$T/dyn3/dynamics.md" | awk '{print $2}' | tr '\n' ' ')
[ "$steps" = "10 20 30 " ] || fail "report --checkpoints on a kept run: steps '$steps', expected '10 20 30 '"
grep -q "is step 30 again" "$T/stderr" || fail "report --checkpoints: no note on the step read twice"
row() { grep "^| $1 |" "$T/dyn3/dynamics.md"; }
row 20 | grep -qF '(10) |' || fail "step 20 lacks its eval: $(row 20)"
row 10 | grep -qF '(10)' && fail "step 10 shows an eval it did not have: $(row 10)"
# a checkpoint file whose eval was made at another step: the eval is not its own
sed -i 's/^\t\t"step":\t20,/\t\t"step":\t10,/' "$T/keep/checkpoints/step-000020/checkpoint.json"
grep -q '^.."step":.10,' "$T/keep/checkpoints/step-000020/checkpoint.json" || fail "test setup: no eval step to change"
"$BIN" report --checkpoints "$T/keep" --preset small --n 4 --max-len 40 --out "$T/dyn3" -q \
    >/dev/null 2>"$T/stderr" || fail "report --checkpoints on a kept run: $(cat "$T/stderr")"
row 20 | grep -qF '(10)' && fail "step 20 shows an eval made at step 10: $(row 20)"
# a bundled model (no trainer_state.json) takes its step from metrics.json
mkdir -p "$T/bundle"
cp "$T/t40/config.json" "$T/t40/model.safetensors" "$T/bundle/"
printf '{"training": {"steps": 40, "final_loss": 1.5}, "test_split": {"overall": {"n": 7, "full_solve": 0.5, "char_accuracy": 0.75, "answer_accuracy": 0.5}}}\n' \
    >"$T/bundle/metrics.json"
"$BIN" report --checkpoints "$T/bundle" "$T/t10" --preset small --n 4 --max-len 40 --out "$T/dyn4" -q \
    >/dev/null 2>"$T/stderr" || fail "report --checkpoints with a bundle: $(cat "$T/stderr")"
steps=$(grep -o '^| [0-9]* | [0-9.]* |' "$T/dyn4/dynamics.md" | awk '{print $2}' | tr '\n' ' ')
[ "$steps" = "10 40 " ] || fail "report --checkpoints with a bundle: steps '$steps', expected '10 40 '"
grep "^| 40 |" "$T/dyn4/dynamics.md" | grep -qF '| 40 | 1.5000 |' ||
    fail "report --checkpoints: the bundle's loss is not its metrics.json's: $(grep "^| 40 |" "$T/dyn4/dynamics.md")"
grep "^| 40 |" "$T/dyn4/dynamics.md" | grep -qF '| 0.500 / 0.750 (7) |' ||
    fail "report --checkpoints: the bundle's test-split scores are missing: $(grep "^| 40 |" "$T/dyn4/dynamics.md")"
# a run grown from t40 (model.init_from, 2+2 layers) that keeps its
# checkpoints: its steps count on from t40's 40, its new layers are blank
# (-) before, and the tables say the model grew
sed 's/steps = 40;/steps = 20;/; s/num_layers = 1;/num_layers = 2; init_from = "t40";/;
     s/checkpoint_every = 0;/checkpoint_every = 10; keep_checkpoints = 5;/' "$T/tiny.cfg" >"$T/grow.cfg"
"$BIN" train --config "$T/grow.cfg" --out "$T/grow" >"$T/train.log" 2>&1 ||
    fail "tiny grown run: $(tail -3 "$T/train.log")"
"$BIN" report --checkpoints "$T/t10" "$T/t20" "$T/t40" "$T/grow" --preset small --n 4 --max-len 40 \
    --out "$T/dyn5" -q >/dev/null 2>"$T/stderr" || fail "report --checkpoints on a grown run: $(cat "$T/stderr")"
G=$T/dyn5/dynamics.md
steps=$(grep -o '^| [0-9]* | [0-9.]* |' "$G" | awk '{print $2}' | tr '\n' ' ')
[ "$steps" = "10 20 40 50 60 " ] || fail "grown run: steps '$steps', expected '10 20 40 50 60 '"
grep -qF "The model grew during training" "$G" || fail "grown run: dynamics.md does not say the model grew"
grep -qF "1+1 layers at step 40, 2+2 layers at step 50" "$G" || fail "grown run: the layers at each step"
grep -qF "| enc L1 H0 | - | - | - |" "$G" || fail "grown run: the new layer is not blank before step 50: $(grep 'enc L1 H0' "$G")"
grep "^| 60 |" "$G" | grep -qF '(10) |' || fail "grown run: step 60 lacks its eval: $(grep '^| 60 |' "$G")"
# 3 checkpoints x 6 heads + 2 x 12 + the header
[ "$(wc -l <"$T/dyn5/dynamics.tsv")" -eq 43 ] || fail "grown run: dynamics.tsv has $(wc -l <"$T/dyn5/dynamics.tsv") lines, expected 43"
# bad checkpoints: other heads, too few, none, not a folder, with --raw
expect 1 "but the first checkpoint has d_model 32, 2 heads" --checkpoints "$T/t10" "$MODEL" --preset small --n 2 --out "$T/x"
expect 1 "training dynamics need two or more" --checkpoints "$T/t10" --preset small --n 2 --out "$T/x"
mkdir -p "$T/nockpt"
expect 1 "nockpt: no checkpoint in it" --checkpoints "$T/nockpt" --out "$T/x"
expect 1 "afile: not a folder" --checkpoints "$T/afile" "$T/t10" --out "$T/x"
expect 2 "not with --raw" --checkpoints "$T/t10" --raw "$T/lines.txt" --out "$T/x"

finish report.sh
