#!/usr/bin/env bash
# entry.sh - the entry box: typing a new equation decodes it (the solution
# and its check change, a loose form is shown in canonical form); a bad
# equation shows the parser's column and reason under the box and keeps the
# old maps; raw text mode takes any text and checks nothing.
. "$(dirname "$0")/lib.bash"

tui_start 100 30 "$BIN" tui --model "$MODEL"
wait_for "answer wrong (x = -254 (double root))"

# a new equation, typed the way a person would
keys e; wait_for "Enter decode  Esc back"
keys C-u; wait_line_is 2 "equation>"
typetext "x^2 - 5x + 6 = 0"; wait_for "equation> x^2 - 5x + 6 = 0" 2
keys Enter
wait_for "read as 1x^2-5x+6=0" 3
wait_for "want 'D'; answer wrong (x = 2, x = 3)"
wait_for "equation> x^2 - 5x + 6 = 0" 2
wait_for "solution> " 4
wait_for " ? help  q quit" 30        # back to the map keys
wait_spaced " 1 x ^ 2 - 5 x + 6 = 0 \$"          # the map's columns are the new source

# a bad equation: column and reason under the box, old maps kept
keys e C-u; typetext "x^3+1=0"; keys Enter
wait_for "column 3: power 3: only x^0, x^1 and x^2 are allowed" 3
line 3 | grep -q '^ *\^ column 3' || fail "no caret under column 3: '$(line 3)'"
caret_col=$(line 3 | awk '{ print index($0, "^") }')
[ "$caret_col" = 13 ] || fail "caret at column $caret_col, expected 13 (under the '3' of x^3)"
wait_spaced " 1 x ^ 2 - 5 x + 6 = 0 \$"          # the old maps are still there
wait_for "stale: the solution and maps below are of x^2 - 5x + 6 = 0" 6   # the old results, marked
# editing keeps working after an error: fix the power, decode again
keys End BSpace BSpace BSpace BSpace BSpace; typetext "2-4=0"; keys Enter
wait_for "read as 1x^2+0x-4=0" 3
wait_for "answer wrong (x = -2, x = 2)"
# UTF-8 input: x² and − (U+2212) are read; a byte that is not UTF-8 becomes
# '?' and does not swallow the keys after it
keys e C-u; typetext "x²−9=0"; keys Enter
wait_for "read as 1x^2+0x-9=0" 3
keys e End; "${TMUX_CMD[@]}" send-keys -t t -H e9; typetext "x"
wait_for "equation> x²−9=0?x" 2
keys C-u Escape
# more parser errors
keys e C-u; typetext "x^2+5y=0"; keys Enter
wait_for "column 6: variable 'y': only x is allowed" 3
keys C-u; typetext "2x+1=0"; keys Enter
wait_for "column 1: not quadratic" 3
keys Escape; wait_for " ? help  q quit" 30

# raw text: Ctrl-R while editing decodes any text, no check
keys e C-u; typetext "hello world"; keys C-r
wait_for "text> hello world" 2
wait_for "raw text: nothing to check against"
wait_spaced " h e l l o . w o r l d \$"
wait_for "[text]" 1
# r leaves raw mode: the text is not an equation, so the message says so
keys r; wait_for "(Ctrl-R runs it as raw text)" 3
keys Escape C-u 
keys q; wait_for "EXITED rc=0"

# --raw from the command line: any text from the start
cleanup
tui_start 90 24 "$BIN" tui --raw --model "$MODEL" "the cat sat"
wait_for "text> the cat sat" 2
wait_for "raw text: nothing to check against"
keys q; wait_for "EXITED rc=0"

# a model that Hugging Face wrote (transformers_version in config.json) and
# attnscope did not train: taken as a general text model, raw mode from the start
HF=$(mktemp -d)
cp -r "$MODEL" "$HF/hf-model"
sed -i 's/^{/{\n  "transformers_version": "4.40.0",/' "$HF/hf-model/config.json"
cleanup
tui_start 90 24 "$BIN" tui --model "$HF/hf-model" "Translate: hello"
wait_for "text> Translate: hello" 2
wait_for "raw text: nothing to check against"
keys q; wait_for "EXITED rc=0"
rm -rf "$HF"

# a SentencePiece model (spiece.model in the folder): raw text, pieces as labels
if [ -f tests/fixtures/spm-gated/spiece.model ]; then
    cleanup
    tui_start 100 30 "$BIN" tui --model "$PWD/tests/fixtures/spm-gated" "the house"
    wait_for "text> the house" 2
    wait_for "raw text: nothing to check against"
    keys 1; wait_for " query 0 '▁the'  key 0 '▁the'"
    wait_for "0 ▁the"
    keys q; wait_for "EXITED rc=0"
fi

# an equation that starts with '-', with and without the tui command
cleanup
tui_start 90 24 "$BIN" tui --model "$MODEL" -x^2+4=0
wait_for "equation> -x^2+4=0" 2
wait_for "read as 1x^2+0x-4=0" 3
keys q; wait_for "EXITED rc=0"
cleanup
tui_start 90 24 "$BIN" -x^2+4=0 --model "$MODEL"
wait_for "equation> -x^2+4=0" 2
keys q; wait_for "EXITED rc=0"

# a bad equation on the command line: the message, and the box open to fix it
cleanup
tui_start 90 24 "$BIN" tui --model "$MODEL" "x^2+=0"
wait_for "equation> x^2+=0" 2
wait_for "column" 3
wait_for "Enter decode  Esc back"
keys C-u; typetext "2x^2+0x-8=0"; keys Enter
wait_for "answer wrong (x = -2, x = 2)"
keys q; wait_for "EXITED rc=0"
finish
