#!/usr/bin/env bash
# basic.sh - the UI on a small random model: the first screen (title, entry
# box, solution, check, map), the cursor and its status line, switching
# layer/head/kind/average, the model and summary views, stepping through
# the decoding, and the help overlay; the bundled small model's first
# equation.
. "$(dirname "$0")/lib.bash"

tui_start 100 30 "$BIN" tui --model "$MODEL"
wait_for "equation> 7x^2+3556x+451612=0" 2
wait_for "solution> " 
wait_for "check> "
wait_for "want 'D'; answer wrong (x = -254 (double root))"
wait_for "tied-relu │ cross layer 0 (0-2) head 0 (0-3)" 1
wait_for "out\\in"; wait_spaced " 7 x ^ 2 + 3 5 5 6 x + 4 5 1 6 1 2 = 0 \$"
# the cursor starts on the last decoding step, first key
wait_for " key 0 '7'  weight 0." 7
keys Right;       wait_for " key 1 'x'  weight" 7
keys Right Right; wait_for " key 3 '2'  weight" 7
keys Left;        wait_for " key 2 '^'  weight" 7
last=$(line 7 | grep -o 'query [0-9]*')
keys Up;          wait_for "query $(( ${last#query } - 1 ))" 7
keys End;         wait_for " key 19 '\$'" 7
keys Right;       wait_for " key 19 '\$'" 7   # stays at the edge
keys Home;        wait_for " key 0 '7'" 7
# layer, head, average, kind
keys l; wait_for "layer 1 (0-2) head 0 (0-3)" 1
keys h; wait_for "layer 1 (0-2) head 1 (0-3)" 1
keys H H; wait_for "head 3 (0-3)" 1
keys L L; wait_for "layer 2 (0-2)" 1
keys a; wait_for "mean of 4 heads" 1
keys a; wait_for "head 3 (0-3)" 1
keys 1; wait_for "encoder self layer 1 (0-1)" 1; wait_for "q\\k"; wait_spaced " 7 x ^ 2 + 3 5 5 6 x"  # 2 encoder layers
keys 2; wait_for "decoder self layer 1 (0-2)" 1
keys k; wait_for "cross layer 1 (0-2)" 1
# model view: every layer x head; arrows move the selection, Enter zooms
keys m; wait_for "model view: cross; selected layer 1 (0-2) head 3 (0-3)"
wait_for "L2" ; wait_for "H3"
keys Up Left; wait_for "selected layer 0 (0-2) head 2 (0-3)"
keys Enter; wait_for "cross layer 0 (0-2) head 2 (0-3)" 1
# summary view: layers x source tokens
keys s; wait_for "summary (cross): layer 0 (0-2), key"
keys Down Right; wait_for "summary (cross): layer 1 (0-2), key"
keys Enter; wait_for "mean of 4 heads" 1
# decoding steps: back, first, forward, last
wait_for "step 128/128" 1
keys ,; wait_for "step 127/128" 1; wait_for "query 126 " 7
keys g; wait_for "step 1/128" 1;   wait_for "query 0 '<pad>' (writes" 7
keys .; wait_for "step 2/128" 1;   wait_for "query 1 " 7
keys G; wait_for "step 128/128" 1
# play from the start: the step moves by itself, pause stops it
keys g Space; wait_for "playing" 1
# the step advances by itself (polled: any step past 3 will do, however
# slowly the screen is read)
end=$((SECONDS + TIMEOUT)); st=0
while [ $SECONDS -le $end ]; do
    st=$(line 1 | sed -n 's/.*step \([0-9]*\)\/128.*/\1/p'); [ "${st:-0}" -ge 4 ] && break
    sleep 0.05
done
[ "${st:-0}" -ge 4 ] || fail "playing did not advance the step (at ${st:-?})"
keys p; wait_gone "playing"
s1=$(line 1); sleep 0.5; [ "$(line 1)" = "$s1" ] || fail "paused but the step still moves"
# themes: t cycles
keys t; wait_for "theme light" 1
keys t; wait_for "theme mono" 1
keys t; wait_for "theme viridis" 1
keys t; wait_for "theme default" 1
# head classes and ablation: the class in the status line; x zeroes the
# head and decodes again, marked in the title, status and model view; X clears
keys 1 v h; wait_for "encoder self layer" 1
wait_for "  class: "
keys x; wait_for "zeroed; 1 head ablated (X clears)" 3
wait_for "[1 ablated]" 1; wait_for "  [ablated]"
wait_for "weight 0.0000  class: hetero (no data)"
keys m; wait_for ": hetero (no data) [ablated]"
wait_for " X hetero (no data)"
keys X; wait_for "no head ablated" 3; wait_gone "[1 ablated]"
keys v a x; wait_for "pick one head to ablate" 3
keys a 3
# help overlay, closed by any key
keys '?'; wait_for "attnscope keys"; wait_for "model view (every layer x head"
keys x; wait_gone "attnscope keys"
keys q; wait_for "EXITED rc=0"
# a model of the small preset (its metrics.json says so) opens on the small
# preset's example, an equation it can solve, not the study's
tui_start 100 30 "$BIN" tui --model sample_models/quadratic-small
wait_for "equation> 2x^2-14x-36=0" 2
wait_for "check> ✓ right: the exact solution (x = -2, x = 9)"
screen_lacks "it was trained on" || fail "a note on the small preset's own example"
# an equation beyond its preset's ranges gets a note naming the value and the range
keys e C-u; typetext "7x^2+3556x+451612=0"; keys Enter
wait_for "a = 7 is outside the small preset's 1..5 it was trained on; decoded " 3
keys e C-u; typetext "x^2-50x+600=0"; keys Enter
wait_for "root 30 is outside the small preset's -20..20 it was trained on; read as 1x^2-50x" 3
keys q; wait_for "EXITED rc=0"
finish
