#!/usr/bin/env bash
# mouse.sh - the mouse as xterm reports it (X10 escape sequences sent with
# send-keys -l): a click on a cell puts the cursor there, the wheel moves it,
# a click on a model-view thumbnail opens its map, the summary takes clicks
# too; --no-mouse and `mouse = false;` in the config leave them alone.
. "$(dirname "$0")/lib.bash"
CFG=$(mktemp -d)
trap 'cleanup; rm -rf "$CFG"' EXIT

# 100 x 30: the map's labels take 11 columns, a cell 4 (the 20 keys fill
# the width); screen line 9 holds rows 90 and 91 (half blocks), the last
# step's scroll, line 10 rows 92 and 93
tui_start 100 30 "$BIN" tui --model "$MODEL"
wait_for "step 128/128" 1
wait_for " query 127 " 7
click 28 9;  wait_for " query 90 " 7; wait_for "key 4 '+'" 7
click 12 10; wait_for " query 92 " 7; wait_for "key 0 '7'" 7
mouse 65 20 12; wait_for " query 95 " 7     # the wheel: 3 rows down
mouse 64 20 12; wait_for " query 92 " 7     # and up
click 3 10; wait_for " query 92 " 7         # a row label: nothing moves
# the model view: 4 heads of 23 columns; layer 1's thumbnails start on line 16
keys m; wait_for "model view: cross; selected layer 0 (0-2) head 0 (0-3)"
click 60 17; wait_for "cross layer 1 (0-2) head 2 (0-3)" 1
keys m; mouse 65 50 20; wait_for "selected layer 2 (0-2) head 2 (0-3)"
# the summary: a click selects the layer and the key
keys s; wait_for "summary (cross): layer 0 (0-2), key"
click 20 14; wait_for "summary (cross): layer 1 (0-2), key 3 '2'"   # 4 lines a layer
keys q; wait_for "EXITED rc=0"

# off: --no-mouse, and mouse = false; in the user's config. The terminal is
# not asked for mouse reports (tmux's mouse_any_flag), so it keeps its own
# selection and sends no clicks.
mouse_on() { "${TMUX_CMD[@]}" display-message -p -t t '#{mouse_any_flag}'; }
tui_start 100 30 "$BIN" tui --model "$MODEL"
wait_for " query 127 " 7
[ "$(mouse_on)" = 1 ] || fail "the UI did not ask for mouse reports"
keys q; wait_for "EXITED rc=0"
tui_start 100 30 "$BIN" tui --model "$MODEL" --no-mouse
wait_for " query 127 " 7
[ "$(mouse_on)" = 0 ] || fail "--no-mouse: the UI asked for mouse reports"
keys q; wait_for "EXITED rc=0"
mkdir -p "$CFG/attnscope"; echo 'mouse = false;' > "$CFG/attnscope/config.cfg"
new_socket
"${TMUX_CMD[@]}" new-session -d -x 100 -y 30 -s t \
    "env LANG=C.UTF-8 XDG_CONFIG_HOME=$CFG $BIN tui --model $MODEL; echo EXITED rc=\$?; sleep 60"
wait_for " query 127 " 7
screen | grep -q "config:" && fail "mouse = false; is reported as a bad setting"
[ "$(mouse_on)" = 0 ] || fail "mouse = false: the UI asked for mouse reports"
keys q; wait_for "EXITED rc=0"
finish
