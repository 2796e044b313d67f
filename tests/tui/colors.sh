#!/usr/bin/env bash
# colors.sh - colour depth and themes end to end: 24-bit colour when
# COLORTERM says so, 256 colours otherwise, shading characters with
# --color 8 and none; the theme from the user's config file
# ($XDG_CONFIG_HOME/attnscope/config.cfg), --theme over it, and a bad value
# in the config reported with its file and line while the UI runs on.
. "$(dirname "$0")/lib.bash"
CFG=$(mktemp -d)
trap 'cleanup; rm -rf "$CFG"' EXIT

# 24-bit: SGR 38;2;r;g;b in the map
tui_start 90 26 env COLORTERM=truecolor "$BIN" tui --model "$MODEL" --theme viridis
wait_for "theme viridis (24-bit)" 1
"${TMUX_CMD[@]}" capture-pane -e -p -t t | grep -q $'\e\\[38;2;' || fail "no 24-bit colour codes"
keys q; wait_for "EXITED rc=0"

# 256 colours
tui_start 90 26 env COLORTERM= "$BIN" tui --model "$MODEL"
wait_for "theme default (256 colours)" 1
"${TMUX_CMD[@]}" capture-pane -e -p -t t | grep -q $'\e\\[38;5;' || fail "no 256-colour codes"
keys q; wait_for "EXITED rc=0"

# 8 colours: shading characters, coloured
tui_start 90 26 "$BIN" tui --model "$MODEL" --color 8
wait_for "(8 colours)" 1
screen | grep -q '▀' && fail "half blocks in 8 colours"
keys q; wait_for "EXITED rc=0"

# no colour: shading characters; stepping the decoding masks the rows not
# written yet (c scales to the visible maximum, so the step's row has an @)
tui_start 90 30 "$BIN" tui --model "$MODEL" --color none
wait_for "(no colour)" 1
keys c g; wait_for "step 1/128" 1; wait_for "(colours scaled to"
# map rows: "<index> <token written> <cells>" (decoder rows are labelled with
# the token they wrote); a masked row has only its index and label
row_fields() { screen | sed -n '9,$p' | grep -E "^ +$1 " | head -1 | sed 's/ *$//' | awk '{print NF}'; }
screen | sed -n '9,$p' | grep -E '^ +0 ' | grep -q '@' || fail "no @ on the row of step 1"
[ "$(row_fields 1)" = 2 ] || fail "row 1 not masked at step 1"
keys . .; wait_for "step 3/128" 1
[ "$(row_fields 2)" -gt 2 ] || fail "row 2 masked at step 3"
[ "$(row_fields 3)" = 2 ] || fail "row 3 not masked at step 3"
keys q; wait_for "EXITED rc=0"

# the user's config picks the theme; --theme overrides it; a bad value is
# reported with file and line and the rest of the file still applies
mkdir -p "$CFG/attnscope"
printf 'theme = "light";\ncolor = "lots";\n' > "$CFG/attnscope/config.cfg"
tui_start 90 26 env XDG_CONFIG_HOME="$CFG" "$BIN" tui --model "$MODEL"
wait_for "theme light" 1
wait_for "config: $CFG/attnscope/config.cfg:2: color should be" 3
keys q; wait_for "EXITED rc=0"
tui_start 90 26 env XDG_CONFIG_HOME="$CFG" "$BIN" tui --model "$MODEL" --theme mono
wait_for "theme mono (no colour)" 1
keys q; wait_for "EXITED rc=0"
# the system's file ($ATTNSCOPE_SYSCONFIG stands in for /etc/attnscope/config.cfg)
# is read when the user's has no theme; the user's wins when it has one
printf 'theme = "viridis";\n' > "$CFG/system.cfg"
printf 'half_blocks = false;\n' > "$CFG/attnscope/config.cfg"
tui_start 90 26 env XDG_CONFIG_HOME="$CFG" ATTNSCOPE_SYSCONFIG="$CFG/system.cfg" "$BIN" tui --model "$MODEL"
wait_for "theme viridis" 1
screen | grep -q '▀' && fail "half_blocks = false in the user's config was not applied"
keys q; wait_for "EXITED rc=0"
printf 'theme = "light";\n' > "$CFG/attnscope/config.cfg"
tui_start 90 26 env XDG_CONFIG_HOME="$CFG" ATTNSCOPE_SYSCONFIG="$CFG/system.cfg" "$BIN" tui --model "$MODEL"
wait_for "theme light" 1
keys q; wait_for "EXITED rc=0"
# a config that does not parse: reported, built-in defaults used
printf 'theme = ;\n' > "$CFG/attnscope/config.cfg"
tui_start 90 26 env XDG_CONFIG_HOME="$CFG" "$BIN" tui --model "$MODEL"
wait_for "theme default" 1
wait_for "config: $CFG/attnscope/config.cfg:1: syntax error" 3
keys q; wait_for "EXITED rc=0"
# a theme that does not exist
tui_start 90 26 "$BIN" tui --model "$MODEL" --theme plaid
wait_for "theme default" 1
wait_for "config: theme 'plaid' not found; using the built-in default" 3
keys q; wait_for "EXITED rc=0"
finish
