#!/usr/bin/env bash
# paste.sh - a long paste into the entry box (issue 16): the box used to cut
# it at 4,096 bytes and then report a parse error at column 4096, while
# `attnscope solve` reads the same 10,000-character equation. Now the whole
# paste is read (and decoded like solve decodes it); a paste longer than the
# box's limit (16,383 bytes) is refused with a message that says the limit,
# typed or given on the command line.
. "$(dirname "$0")/lib.bash"

# 10,000 characters: x^2+, 9,990 zeros, 5x+6=0 (read as 1x^2+5x+6=0)
long="x^2+$(printf '0%.0s' $(seq 1 9990))5x+6=0"
[ ${#long} -eq 10000 ] || { echo "the test's equation is ${#long} characters"; exit 1; }
"$BIN" solve --model "$MODEL" "$long" | grep -q "1x^2+5x+6=0" || fail "solve does not read it"

tui_start 100 30 "$BIN" tui --model "$MODEL"
wait_for " ? help  q quit" 30
keys e C-u; wait_line_is 2 "equation>"
typetext "$long"
wait_for "5x+6=0" 2
keys Enter
wait_for "read as 1x^2+5x+6=0" 3
wait_spaced " 1 x ^ 2 + 5 x + 6 = 0 \$"          # the map's columns are the new source

# longer than the box takes: the message says how long it may be
keys e C-u
typetext "x^2+"   # tmux takes a command of at most about 16 KB: four pieces
for _ in 1 2 3 4; do typetext "$(printf '0%.0s' $(seq 1 4250))"; done
wait_for "too long: the entry takes at most 16,383 bytes" 3
keys C-u Escape
keys q; wait_for "EXITED rc=0"

# the same from the command line: refused before the screen is taken
out=$("$BIN" tui --model "$MODEL" "x^2+$(printf '0%.0s' $(seq 1 17000))1=0" 2>&1 < /dev/null)
rc=$?
[ $rc -eq 1 ] || fail "a 17,007-byte equation on the command line: exit $rc"
grep -qF "the input is 17007 bytes long; the UI's entry takes at most 16383" <<<"$out" ||
    fail "a 17,007-byte equation on the command line: '$out'"
finish
