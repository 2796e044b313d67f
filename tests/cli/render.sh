#!/usr/bin/env bash
# tests/cli/render.sh - attnscope render on a small random model (the tied-relu
# fixture): every format gives valid output (PNG signature and size, SVG
# well-formed XML, PDF header and trailer, CSV shape, JSON that parses with the
# right shape), text is plain ASCII within --width, ansi has colour escapes and
# none under NO_COLOR, every view, files are written atomically, raw text for
# non-task models, and bad options exit 2, bad equations exit 1 with the
# message.
. "$(dirname "$0")/lib.bash"
MODEL=$PWD/tests/fixtures/tied-relu
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
R() { "$BIN" render --model "$MODEL" --max-len 12 "$@"; }
export XDG_CONFIG_HOME=/nonexistent LANG=C.UTF-8
unset NO_COLOR COLORTERM

# ---- every format -----------------------------------------------------------
EQ='x^2-5x+6=0'   # canonical 1x^2-5x+6=0: 11 bytes + eos = 12 source tokens
for f in text ansi svg png pdf csv json; do
    R "$EQ" --format $f --out "$T/m.$f" 2> "$T/err" || { cat "$T/err"; fail "--format $f exit $?"; }
    [ -s "$T/m.$f" ] || fail "--format $f wrote nothing"
done
ls "$T" | grep -q '\.tmp\.' && fail "temporary files left behind"

# PNG: signature, IHDR, a sensible size
$PY - "$T/m.png" <<'EOF' || fail "PNG check"
import struct, sys
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b'\x89PNG\r\n\x1a\n', 'signature'
assert b[12:16] == b'IHDR', 'IHDR'
w, h = struct.unpack('>II', b[16:24])
assert 200 <= w <= 4000 and 200 <= h <= 4000, (w, h)
assert b[-8:-4] == b'IEND', 'IEND'
EOF
# SVG: well-formed XML with an <svg> root and rectangles
$PY - "$T/m.svg" <<'EOF' || fail "SVG check"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag.endswith('svg'), root.tag
assert float(root.get('width').rstrip('pt')) > 100
EOF
# PDF: header and trailer
head -c 5 "$T/m.pdf" | grep -q '^%PDF-' || fail "PDF header"
tail -c 32 "$T/m.pdf" | grep -q '%%EOF' || fail "PDF trailer"
# CSV: a header plus 12 rows (12 decoding steps), 13 fields each (label + 12 keys)
$PY - "$T/m.csv" <<'EOF' || fail "CSV shape"
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
assert len(rows) == 13, len(rows)
assert all(len(r) == 13 for r in rows), [len(r) for r in rows]
assert rows[0][0] == 'query\\key' and rows[0][1] == '0 1' and rows[0][12] == '11 </s>', rows[0]
for r in rows[1:]:
    v = [float(x) for x in r[1:]]
    assert all(0 <= x <= 1 for x in v) and abs(sum(v) - 1) < 1e-3, v   # a probability row
EOF
# JSON: parses, the shape, rows that sum to 1
$PY - "$T/m.json" <<'EOF' || fail "JSON shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert d['view'] == 'cross' and d['layer'] == 0 and d['head'] == 0, d
assert d['source'] == '1x^2-5x+6=0' and d['input'] == 'x^2-5x+6=0'
assert d['rows'] == 12 and d['cols'] == 12 and d['step'] == 12 and d['steps'] == 12
assert len(d['weights']) == 12 and all(len(r) == 12 for r in d['weights'])
assert d['col_tokens'][1] == 'x' and d['col_tokens'][-1] == '</s>' and d['row_fed_tokens'][0] == '<pad>'
# rows are labelled by the token they wrote (as in the UI); row i was fed what row i-1 wrote
assert d['row_fed_ids'][1:] == d['row_ids'][:-1]
assert all(abs(sum(r) - 1) < 1e-3 for r in d['weights'])
EOF
# text: ASCII only, no escapes, the shading scale, within the width
R "$EQ" --format text --width 50 > "$T/t.txt" || fail "text to stdout"
LC_ALL=C grep -q '[^ -~]' "$T/t.txt" && fail "text output has non-ASCII or control bytes"
grep -q 'scale  0  .:-=+\*#%@ 1' "$T/t.txt" || fail "text scale line"
grep -q '^out\\in  *1 x ^ 2 - 5 x + 6 = 0 \$' "$T/t.txt" || fail "text column labels"
awk 'length > 50 { exit 1 }' "$T/t.txt" || fail "text wider than --width 50"
[ "$(grep -c '<pad>\|\\x\|[0-9] [^ ]' "$T/t.txt")" -ge 12 ] || fail "text rows"
# stdout that is not a terminal defaults to text
R "$EQ" > "$T/d.txt" && cmp -s "$T/d.txt" <(R "$EQ" --format text) || fail "default format for a pipe"
# ansi: escapes in 256 colours, 24-bit with COLORTERM, none with NO_COLOR
TERM=xterm-256color R "$EQ" --format ansi > "$T/a1" || fail "ansi"
grep -q $'\e\\[0;39;48;5;[0-9]*m' "$T/a1" || fail "ansi 256-colour cells"
TERM=xterm-256color COLORTERM=truecolor R "$EQ" --format ansi > "$T/a2" || fail "ansi direct"
grep -q $'48;2;[0-9]*;[0-9]*;[0-9]*m' "$T/a2" || fail "ansi 24-bit cells"
TERM=xterm-256color R "$EQ" --format ansi --color 8 > "$T/a3" || fail "ansi 8"
grep -q $'48;5\\|38;2' "$T/a3" && fail "ansi --color 8 used more colours"
TERM=xterm-256color NO_COLOR=1 R "$EQ" --format ansi > "$T/a4" || fail "ansi NO_COLOR"
grep -q $'\e\\[[0-9;]*3[0-9];\\|48;' "$T/a4" && fail "NO_COLOR output has colours"
grep -q '[.:=@#%*+-]' "$T/a4" || fail "NO_COLOR output has no shading"
TERM=xterm-256color R "$EQ" --format ansi --theme mono > "$T/a5" || fail "ansi mono theme"
grep -q $'48;5' "$T/a5" && fail "mono theme has colours"
# a terminal without attributes (TERM=dumb): no escape sequences at all
TERM=dumb R "$EQ" --format ansi > "$T/a7" || fail "ansi TERM=dumb"
grep -q $'\e' "$T/a7" && fail "TERM=dumb output has escape sequences"
grep -q 'scale  0  .:-=+\*#%@' "$T/a7" || fail "TERM=dumb output has no shading scale"
# a small map gets larger cells (4 columns a key in 80 columns: 12 keys), a
# tall one (100 decoding steps) half blocks under UTF-8 in 256 colours, two
# rows a line, none with --ascii or LANG=C
grep -q '^q.k  *1   x   ^   2   -   5   x' <(R "$EQ" --view enc --format text --width 80) ||
    fail "small map: no 4-column cells"
grep -q '▀' "$T/a1" && fail "a 12x12 map in half blocks"
TALL=(--view dec --max-len 100)
TERM=xterm-256color R "$EQ" "${TALL[@]}" --format ansi > "$T/a8" || fail "ansi, 100 steps"
grep -q '▀' "$T/a8" || fail "ansi half blocks"
TERM=xterm-256color R "$EQ" "${TALL[@]}" --format ansi --ascii | grep -q '▀' &&
    fail "--ascii still has half blocks"
TERM=xterm-256color LANG=C LC_ALL=C R "$EQ" "${TALL[@]}" --format ansi > "$T/a6"
LC_ALL=C grep -q $'[\x80-\xff]' "$T/a6" && fail "ansi under LANG=C has non-ASCII bytes"
# COLUMNS sizes the output when there is no --width
COLUMNS=30 R "$EQ" --view dec --format text | awk 'length > 30 { exit 1 }' || fail "COLUMNS=30"

# ---- views ------------------------------------------------------------------
for v in enc dec cross summary model; do
    R "$EQ" --view $v --format json > "$T/v.json" || fail "--view $v"
    $PY - "$T/v.json" $v <<'EOF' || fail "--view $2 JSON"
import json, sys
d = json.load(open(sys.argv[1])); v = sys.argv[2]
assert d['view'] == v
if v == 'enc': assert d['rows'] == 12 and d['cols'] == 12 and d['kind'] == 'enc'
if v == 'dec': assert d['rows'] == 12 and d['cols'] == 12 and d['weights'][0][1] == 0  # causal
if v == 'summary':
    assert d['rows'] == 3 and d['row_tokens'] == ['L0', 'L1', 'L2'] and d['kind'] == 'cross'
    # each layer: 4 heads' rows summed, so the keys receive 4 in total
    assert all(abs(sum(r) - 4) < 1e-2 for r in d['weights']), [sum(r) for r in d['weights']]
if v == 'model':
    assert len(d['maps']) == 12 and d['maps'][5]['layer'] == 1 and d['maps'][5]['head'] == 1
EOF
    R "$EQ" --view $v --format text > /dev/null || fail "--view $v text"
    R "$EQ" --view $v --format svg > "$T/v.svg" || fail "--view $v svg"
    $PY -c 'import sys,xml.dom.minidom as m; m.parse(sys.argv[1])' "$T/v.svg" || fail "--view $v svg XML"
done
R "$EQ" --view model --format csv > "$T/mv.csv" || fail "model csv"
[ "$(wc -l < "$T/mv.csv")" -eq $((1 + 12 * 12 * 12)) ] || fail "model csv: $(wc -l < "$T/mv.csv") lines"
head -1 "$T/mv.csv" | grep -qx 'layer,head,query,key,weight' || fail "model csv header"
R "$EQ" --view summary --kind enc --format csv | head -1 | grep -q '^layer\\key,' || fail "summary csv"
# a step cuts the decoder rows; head avg is the mean of the heads
R "$EQ" --step 5 --head avg --format json > "$T/s.json" || fail "--step 5 --head avg"
R "$EQ" --view model --step 5 --format json > "$T/s2.json" || fail "model --step 5"
$PY - "$T/s.json" "$T/s2.json" <<'EOF' || fail "--step / --head avg values"
import json, sys
a = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))
assert a['rows'] == 5 and a['step'] == 5 and a['head'] == 'avg'
heads = [x['weights'] for x in m['maps'] if x['layer'] == 0]
for r in range(5):
    for c in range(12):
        mean = sum(h[r][c] for h in heads) / 4
        assert abs(mean - a['weights'][r][c]) < 2e-5, (r, c)
EOF
R "$EQ" --layer 2 --head 3 --normalize --format text | grep -q 'layer 2 (0-2), head 3 (0-3)' || fail "--layer --head title"
# an equation starting with '-', and raw text
R '-x^2+4=0' --format json | grep -q '"source":"1x^2+0x-4=0"' || fail "equation with a leading '-'"
R 'hello, world' --raw --format csv > "$T/raw.csv" || fail "--raw"
head -1 "$T/raw.csv" | grep -q '^query\\key,0 h,1 e,.*,"5 ,",' || fail "raw csv header with a quoted comma"

# a Hugging Face checkpoint (transformers_version, no train.cfg) takes any text, as the UI does
mkdir -p "$T/hf"
cp "$MODEL/model.safetensors" "$T/hf/"
sed 's/^{/{\n  "transformers_version": "4.40.0",/' "$MODEL/config.json" > "$T/hf/config.json"
"$BIN" render --model "$T/hf" --max-len 4 'translate: hello' --format json > "$T/hf.json" ||
    fail "text for a Hugging Face checkpoint"
grep -q '"source":"translate: hello"' "$T/hf.json" || fail "HF checkpoint: the text is not the source"
touch "$T/hf/train.cfg"
"$BIN" render --model "$T/hf" --max-len 4 'translate: hello' --format json > /dev/null 2>&1 &&
    fail "a model trained by attnscope (train.cfg) took raw text without --raw"

# ---- files ----------------------------------------------------------------
echo old > "$T/keep.svg"
R 'x^2+1=0' --format svg --out "$T/keep.svg" --layer 7 2> "$T/err"; rc=$?
[ $rc -eq 1 ] || fail "bad layer: exit $rc"
[ "$(cat "$T/keep.svg")" = old ] || fail "a failed render replaced the old file"
R "$EQ" --out "$T/nodir/x.png" 2> "$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'nodir' "$T/err" || fail "unwritable --out: exit $rc, $(cat "$T/err")"
R "$EQ" --out "$T/m2.svg" && grep -q '<svg' "$T/m2.svg" || fail "format from the .svg extension"

# ---- errors -----------------------------------------------------------------
expect() {  # expected status, message part, args...
    local want=$1 msg=$2; shift 2
    "$BIN" render "$@" > "$T/o" 2> "$T/e"; local rc=$?
    [ $rc -eq "$want" ] || fail "render $*: exit $rc, want $want ($(cat "$T/e"))"
    grep -qF -- "$msg" "$T/e" || fail "render $*: message '$msg' missing: $(cat "$T/e")"
}
expect 2 "--format wants" "$EQ" --model "$MODEL" --format gif
expect 2 "--view wants" "$EQ" --model "$MODEL" --view heads
expect 2 "--kind wants" "$EQ" --model "$MODEL" --view summary --kind self
expect 2 "--kind is for" "$EQ" --model "$MODEL" --kind enc
expect 2 "--head needs" "$EQ" --model "$MODEL" --head two
expect 2 "--layer needs" "$EQ" --model "$MODEL" --layer -1
expect 2 "--step counts from 1" "$EQ" --model "$MODEL" --step 0
expect 2 "--width must be" "$EQ" --model "$MODEL" --width 5
expect 2 "--color wants" "$EQ" --model "$MODEL" --color many
expect 2 "unknown option '--bogus'" "$EQ" --model "$MODEL" --bogus
expect 2 "needs a value" "$EQ" --model
expect 2 "no equation given" --model "$MODEL"
expect 2 "one equation at a time" "$EQ" 'x^2=4' --model "$MODEL"
expect 1 "column 6: variable 'y'" 'x^2-5y+6=0' --model "$MODEL"
expect 1 "column 1: " '' --model "$MODEL"
expect 1 "not quadratic" '5x+1=0' --model "$MODEL"
expect 1 "--layer 3 is out of range" "$EQ" --model "$MODEL" --layer 3 --max-len 4
expect 1 "--head 4 is out of range" "$EQ" --model "$MODEL" --head 4 --max-len 4
expect 1 "--step 5 is past the decoding (4 steps)" "$EQ" --model "$MODEL" --step 5 --max-len 4
expect 1 "no model folder at $T/none" "$EQ" --model "$T/none"
"$BIN" render --help | grep -q 'usage: attnscope render' || fail "--help"

# ---- --measure norms: the value-weighted maps against the PyTorch reference --
# tests/fixtures/spm-gated/states.safetensors holds ||a_ij W_O v_j|| per row
# (tests/reference/make_fixtures.py) for its source and teacher-forced target.
expect 2 "--measure wants weights or norms, not 'norm'" "$EQ" --model "$MODEL" --measure norm
SPM=$PWD/tests/fixtures/spm-gated
SRC="translate English to German: The house is wonderful, isn't it? 42 rooms."
TGT="Das Haus ist wunderbar."
for v in enc cross; do
    "$BIN" render --model "$SPM" --raw "$SRC" --target "$TGT" --view $v --layer 1 --head 2 \
        --measure norms --format json --out "$T/n_$v.json" 2> "$T/err" || { cat "$T/err"; fail "--measure norms --view $v"; }
done
"$BIN" render --model "$SPM" --raw "$SRC" --target "$TGT" --view cross --layer 1 --head 2 \
    --format json --out "$T/w_cross.json" || fail "--measure weights"
$PY - "$SPM/states.safetensors" "$T" <<'EOF2' || fail "norm maps differ from the PyTorch reference"
import json, struct, sys
import numpy as np
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
hdr = json.loads(b[8:8 + n])
def tensor(name):
    h = hdr[name]; s, e = h['data_offsets']
    assert h['dtype'] == 'F32'
    return np.frombuffer(b[8 + n + s:8 + n + e], dtype='<f4').reshape(h['shape'])
for v, name in (('enc', 'enc_norm_maps'), ('cross', 'tf_cross_norm_maps')):
    d = json.load(open(sys.argv[2] + '/n_%s.json' % v))
    assert d['measure'] == 'norms' and 'value norms' in d['title'], d['title']
    got = np.array(d['weights']); want = tensor(name)[1, 2]
    # render's decoder rows: the target's tokens (eos included), as the reference's
    want = want[:got.shape[0], :got.shape[1]]
    assert got.shape == want.shape, (got.shape, want.shape)
    err = np.abs(got - want).max()
    assert err < 2e-5, (v, err)
    assert np.allclose(got.sum(1), 1, atol=1e-4)
w = json.load(open(sys.argv[2] + '/w_cross.json'))
assert w['measure'] == 'weights' and 'value norms' not in w['title']
assert np.abs(np.array(w['weights']) - np.array(d['weights'])).max() > 1e-3   # a different map
print('norm maps: max |render - reference| %.2g' % err)
EOF2
R "$EQ" --view model --measure norms --format csv --out "$T/nm.csv" || fail "--measure norms csv"
head -1 "$T/nm.csv" | grep -qx 'layer,head,query,key,norm' || fail "norms csv header: $(head -1 "$T/nm.csv")"

finish render.sh
