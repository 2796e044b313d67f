#!/usr/bin/env bash
# tokens.sh - the token view (w): the source and the output as text above
# the map, each token shaded by the attention the cursor's query gives it
# (cross on the source, decoder self on the output up to the query, the
# rest plain); it follows the cursor and the step; in the model view the
# selected head's, at the bottom; without colour the strongest tokens bold.
. "$(dirname "$0")/lib.bash"
Q=$PWD/sample_models/quadratic-seed

tui_start 100 30 "$BIN" tui --model "$Q"
wait_for "step 85/85" 1
keys w; wait_for "in>  (row 84) 7x^2+3556x+451612=0\$" 7
wait_for "out> D=(3556^2-4*7*451612)=0;" 8
"${TMUX_CMD[@]}" capture-pane -e -p -t t | sed -n 7p | grep -qE $'7(\e\\[[0-9;]*m)+x(\e\\[[0-9;]*m)+\\^' ||
    fail "the source tokens are not shaded one by one"
keys g . . . . .; wait_for "in>  (row 5) " 7
# row 5 wrote the 6th character: the output shaded up to 'D=(35', the rest plain
l=$("${TMUX_CMD[@]}" capture-pane -e -p -t t | sed -n 8p)
printf '%s' "$l" | grep -q $'5\e\\[38;5;245m\e\\[49m56^2' || fail "the output after the query is not plain: $(printf '%q' "$l")"
keys Up; wait_for "in>  (row 4) " 7
keys m; wait_for "model view: cross"
wait_for "in>  (row 4) " 27; wait_for "out> D=(3" 28
keys w; wait_gone "in>  (row 4)"
keys q; wait_for "EXITED rc=0"

tui_start 100 30 env NO_COLOR=1 "$BIN" tui --model "$Q"
wait_for "step 85/85" 1
keys w; wait_for "in>  (row 84) 7x^2" 7
"${TMUX_CMD[@]}" capture-pane -e -p -t t | sed -n 7p | grep -q $'\e\\[1m' || fail "NO_COLOR: no token stands out"
keys q; wait_for "EXITED rc=0"
finish
