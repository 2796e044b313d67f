#!/usr/bin/env bash
# tests/cli/labels.sh - issue 17, defect 6 outside the UI: render's titles
# number layers and heads as the UI does (the 0-based index and its range,
# not "layer 0 of 3"), its terminal labels read eos as '$' while JSON and CSV
# keep the tokenizer's '</s>', and the tui's --max-len defaults are the same
# in --help, in the man page and in the code. Each check failed on the
# binary before the fix (but the last, which held already and stays held).
. "$(dirname "$0")/lib.bash"
MODEL=$PWD/tests/fixtures/tied-relu
EQ='x^2-5x+6=0'
R() { "$BIN" render --model "$MODEL" --max-len 12 "$EQ" "$@"; }
export XDG_CONFIG_HOME=/nonexistent LANG=C.UTF-8
unset NO_COLOR COLORTERM

# ---- render's titles: index and range ----------------------------------------
title() { R "$@" --format text | sed -n 1p; }
want() {   # want TITLE-PART ARGS...: the first line of the text output has it
    local w=$1; shift
    title "$@" | grep -qF -- "$w" || fail "render $*: title '$(title "$@")', want '$w'"
}
want 'cross attention, layer 0 (0-2), head 0 (0-3), step 12/12'
want 'cross attention, layer 2 (0-2), head 3 (0-3)' --layer 2 --head 3
want 'decoder self attention, layer 1 (0-2), mean of 4 heads' --view dec --layer 1 --head avg
want 'encoder self attention, layer 1 (0-1), head 2 (0-3)' --view enc --layer 1 --head 2
title --layer 2 --head 3 | grep -q ' of [0-9]' && fail "a title still counts 'of N': $(title --layer 2 --head 3)"
# JSON carries the same title (SVG, PNG and PDF draw it)
R --layer 2 --head 3 --format json | grep -qF '"title":"cross attention, layer 2 (0-2), head 3 (0-3)' ||
    R --layer 2 --head 3 --format json | grep -qF '"title": "cross attention, layer 2 (0-2), head 3 (0-3)' ||
    fail "render --format json: the title does not number layer 2 (0-2), head 3 (0-3)"

# ---- eos: '$' where a person reads it, '</s>' where a program does -----------
R --view enc --format text > "$T/enc.txt"
grep -qF '</s>' "$T/enc.txt" && fail "render text: '</s>' in the labels: $(grep -F '</s>' "$T/enc.txt")"
grep -Eq '^ +11 \$ ' "$T/enc.txt" || fail "render text: row 11 (eos) is not labelled '11 \$'"
grep -Eq '^q\\k .* \$ *$' "$T/enc.txt" || fail "render text: the column header does not end in '\$'"
R --view enc --format json | grep -qF '"</s>"' || fail "render json: eos is no longer the tokenizer's '</s>'"
R --view enc --format csv | head -1 | grep -qF '11 </s>' || fail "render csv: eos is no longer '</s>'"

# ---- tui --max-len: --help, the man page and the code agree -------------------
help=$("$BIN" tui --help | tr -s ' \n' '  ')
man_tui=$(awk '/^\.SS "attnscope \[tui\]/ { on = 1; next } on && /^\.S[SH] / { exit } on' man/attnscope.1 |
          sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' | tr -s ' \n' '  ')
eq_len=$(sed -n 's/^#define QUAD_MAX_GEN \([0-9]*\).*/\1/p' include/quad.h)
raw_len=$(sed -n 's/^#define TUI_DEFAULT_RAW_GEN \([0-9]*\).*/\1/p' include/tui_session.h)
max_gen=$(sed -n 's/^#define TUI_MAX_GEN \([0-9]*\).*/\1/p' include/tui_session.h)
[ -n "$eq_len" ] && [ -n "$raw_len" ] && [ -n "$max_gen" ] || fail "the defaults are not found in include/"
want_txt="(1..$((max_gen - 1)); default $eq_len for equations, $raw_len for raw text)"
printf '%s' "$help" | grep -qF -- "$want_txt" ||
    fail "tui --help does not say '$want_txt': $(printf '%s' "$help" | grep -o -- '--max-len N.\{0,90\}')"
printf '%s' "$man_tui" | grep -qF -- "$want_txt" ||
    fail "the man page's tui section does not say '$want_txt': $(printf '%s' "$man_tui" | grep -o -- '--max-len N.\{0,90\}')"

finish labels.sh
