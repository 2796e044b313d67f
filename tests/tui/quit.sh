#!/usr/bin/env bash
# quit.sh - leaving: q gives the shell back with a clean screen (the prompt,
# none of the UI left over), and the terminal still echoes typed text; a
# missing model or an unusable terminal fails with a clear message (exit 1)
# after the terminal was restored. Also the degraded terminals: NO_COLOR,
# a non-UTF-8 locale, TERM=vt100.
. "$(dirname "$0")/lib.bash"

shell_start 90 26
wait_for 'PROMPT$'
typetext "cd $(printf %q "$PWD") && $(printf %q "$BIN") tui --model $(printf %q "$MODEL")"; keys Enter
wait_for " ? help  q quit" 26
wait_for "tied-relu │ cross"
keys q
wait_for 'PROMPT$'
wait_gone "tied-relu │ cross"
screen | grep -q "help  q quit" && fail "the UI's hints are still on the screen after q"
typetext "echo still-echoing"; keys Enter
wait_for "still-echoing"
screen | grep -q '^still-echoing' || fail "the shell output is not where it should be"

# Ctrl-C also gives a clean shell back
typetext "clear; $(printf %q "$BIN") tui --model $(printf %q "$MODEL")"; keys Enter
wait_for " ? help  q quit" 26
keys C-c
wait_for 'PROMPT$'
wait_gone "tied-relu │ cross"
typetext "echo after-ctrl-c"; keys Enter
wait_for "after-ctrl-c"

# no model: a message on the normal screen, exit 1
typetext "$(printf %q "$BIN") tui --model /nonexistent/model; echo rc=\$?"; keys Enter
wait_for "attnscope tui: no model folder at /nonexistent/model"
wait_for "rc=1"
# a terminal that cannot move the cursor
typetext "TERM=dumb $(printf %q "$BIN") tui --model $(printf %q "$MODEL"); echo rc=\$?"; keys Enter
wait_for "attnscope tui: the terminal 'dumb' cannot move the cursor"
wait_for "rc=1"
# not a terminal at all
typetext "$(printf %q "$BIN") tui --model $(printf %q "$MODEL") </dev/null | cat; echo rc=\${PIPESTATUS[0]}"; keys Enter
wait_for "attnscope tui: needs a terminal"
typetext "exit"; keys Enter

# NO_COLOR: shading characters, no half blocks, no colour codes in the map
tui_start 90 26 env NO_COLOR=1 "$BIN" tui --model "$MODEL"
wait_for " ? help  q quit" 26
wait_for "out\\in "
screen | grep -q '▀' && fail "half blocks with NO_COLOR"
# every map cell is one of the shading characters
rows=$(screen | grep -E '^ *[0-9]+ \S+ ' | sed -E 's/^ *[0-9]+ [^ ]+ +//' | head -5)
[ -n "$rows" ] || fail "no map rows found"
grep -qvE '^[ .:=+*#%@-]*$' <<<"$rows" && fail "map cells other than shading characters: $rows"
"${TMUX_CMD[@]}" capture-pane -e -p -t t | grep -qE $'\e\\[([0-9]+;)*([34][0-7]|[34]8;[0-9;]+)m' && fail "colour codes under NO_COLOR"
keys q; wait_for "EXITED rc=0"

# a non-UTF-8 locale: no half blocks, ASCII separators
tui_start 90 26 env LANG=C LC_ALL=C "$BIN" tui --model "$MODEL"
wait_for " ? help  q quit" 26
wait_for "tied-relu | cross layer" 1
screen | grep -q '▀' && fail "half blocks in a non-UTF-8 locale"
keys m; wait_for "model view: cross"
# roots with a square root: spelled in ASCII; a typed non-ASCII character shows as '?'
keys e C-u; typetext "x^2-2=0"; keys Enter
wait_for "roots not integers (outside the training form)"
wait_for "sqrt"
keys e End; typetext "é"; wait_for "equation> x^2-2=0?" 2
screen | LC_ALL=C grep -q $'[\x80-\xff]' && fail "non-ASCII bytes on a non-UTF-8 screen"
keys Escape q; wait_for "EXITED rc=0"

# vt100: no colour at all, still usable
tui_start 80 24 env TERM=vt100 "$BIN" tui --model "$MODEL"
wait_for " ? help  q quit" 24
wait_for "out\\in "
keys Right; wait_for " key 1 'x'"
keys q; wait_for "EXITED rc=0"
finish
