#!/usr/bin/env bash
# resize.sh - the terminal changes size under the UI: every size redraws the
# whole frame (title on the first line, whole key hints on the last), a map larger
# than the screen scrolls to keep the cursor visible, a terminal too small
# says so and the UI comes back when it grows again.
. "$(dirname "$0")/lib.bash"

tui_start 100 30 "$BIN" tui --model "$MODEL"
wait_for "answer wrong (x = -254 (double root))"
wait_for " ? help  q quit" 30

# smaller: the hints move to the new last line, the map is cut and scrolls
resize 60 20
wait_for " ? help  q quit" 20
wait_for "equation> 7x^2+3556x+451612=0" 2
wait_for "tied-relu │ cross" 1
# the cursor is on the last decoding step (row 127): its row label is on screen
wait_for "query 127 "
# (in half blocks the cursor's line names its row alone: "▄ 127 .")
screen | grep -qE '^ *(▄ )?127 ' || fail "the cursor's row (127) is not visible after the resize"
# move to the top: the map scrolls up to row 0
keys PageUp PageUp PageUp PageUp PageUp PageUp PageUp PageUp PageUp PageUp PageUp PageUp PageUp
wait_for " query 0 "
screen | grep -qE '^ +0 ' || fail "row 0 is not shown at the top"

# too small: a notice, and the keys still work (q would quit)
resize 30 8
wait_for "too small: 30x8"
wait_for "needs 40x12"
resize 25 5
wait_for "too small: 25x5"
# back to a usable size: the whole UI again, state kept
resize 80 24
wait_for " ? help  q quit" 24
# the key hints are whole at every width: none is cut in the middle
[ "$(line 24 | sed 's/ *$//')" = " ? help  q quit  e edit  arrows move  ,/. step  l/L layer  h/H head  1 2 3 kind" ] ||
    fail "the hints at 80 columns: '$(line 24)'"
wait_for " query 0 "
wait_for "step 128/128" 1
# resize in the middle of other views
keys m; wait_for "model view: cross"
resize 120 40; wait_for "model view: cross" ; wait_for " ? help  q quit" 40
resize 45 14;  wait_for " ? help  q quit" 14
keys s; wait_for "summary (cross)"
resize 100 30; wait_for "summary (cross)"; wait_for " ? help  q quit" 30
keys q; wait_for "EXITED rc=0"
finish
