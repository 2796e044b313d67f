#!/usr/bin/env bash
# hostile.sh - the UI where terminals are unfriendly: TERM=dumb (no cursor
# movement: a clear message and exit 1, never a crash), TERM=vt100 (no
# colour: shading characters), NO_COLOR=1 (no colour escapes at all), a
# 20x6 terminal (the too-small notice, keys still safe, and the UI back once
# it is enlarged) and a non-UTF-8 locale (LANG=C: ASCII only). In every case
# nothing on the screen may be garbage: no escape sequences shown as text,
# no bytes the locale cannot show, and the program exits normally.
. "$(dirname "$0")/lib.bash"

# Garbage on a captured screen: a raw ESC, caret notation of one (^[), CSI
# leftovers like "[0m" / "[38;5;", ncurses' meta notation (M-b) for bytes the
# locale cannot show, or U+FFFD.
no_garbage() {  # label
    local s; s=$(screen)
    if printf '%s' "$s" | grep -qP '\x1b|\^\[|\[[0-9;]*[mHJK]|\[\?[0-9]|M-[^ ]|\x{FFFD}'; then
        fail "$1: garbage on the screen"
    fi
}
ascii_only() {  # label
    if screen | LC_ALL=C grep -q $'[\x80-\xff]'; then fail "$1: non-ASCII on a non-UTF-8 terminal"; fi
}
# The colours tmux saw: capture-pane -e shows SGR sequences; colour ones have
# 38;/48; or 30-37/40-47/90-97 parameters.
no_colours() {  # label
    local e; e=$("${TMUX_CMD[@]}" capture-pane -e -p -t t)
    if printf '%s' "$e" | grep -qE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|9[0-7]|38|48)(;|m)'; then
        fail "$1: colour escapes with NO_COLOR / no colour terminal"
    fi
}
walk() {  # press the view keys; the UI must keep drawing
    keys Right Down l h a 1 2 3 m; wait_for "model view:"
    keys s; wait_for "summary ("
    keys v , . g G n b
    keys '?'; wait_for "attnscope keys"; keys x; wait_gone "attnscope keys"
}
quit_ok() {  # label
    keys q; wait_for "EXITED rc=0" || fail "$1: did not exit 0"
    cleanup
}

# ---- TERM=dumb: the UI cannot run; it says so and exits 1 -------------------
tui_start 80 24 env TERM=dumb "$BIN" tui --model "$MODEL"
wait_for "EXITED rc=1"
wait_for "cannot move the cursor"
wait_for "attnscope render"
no_garbage "TERM=dumb"
cleanup

# ---- TERM=vt100: no colour, shading characters ------------------------------
tui_start 100 30 env TERM=vt100 "$BIN" tui --model "$MODEL"
wait_for "tied-relu" 1
wait_for "out\\in"
screen | sed -n '10,28p' | grep -q '[.:=+*#%@-]' || fail "TERM=vt100: no shading characters in the map"
no_colours "TERM=vt100"
no_garbage "TERM=vt100"
walk
no_garbage "TERM=vt100 after keys"
quit_ok "TERM=vt100"

# ---- NO_COLOR=1 on a colour terminal ----------------------------------------
tui_start 100 30 env NO_COLOR=1 "$BIN" tui --model "$MODEL"
wait_for "out\\in"
no_colours "NO_COLOR=1"
screen | sed -n '10,28p' | grep -q '[.:=+*#%@-]' || fail "NO_COLOR=1: no shading characters in the map"
walk
no_colours "NO_COLOR=1 after keys"
no_garbage "NO_COLOR=1"
quit_ok "NO_COLOR=1"

# ---- a 20x6 terminal ----------------------------------------------------------
tui_start 20 6 "$BIN" tui --model "$MODEL"
wait_for "too small"
no_garbage "20x6"
# the notice must not be cut mid-word (it once read "needs 40x1" at 20 columns)
screen | grep -q '40x1$' && fail "20x6: the too-small notice is cut mid-number"
screen | grep -q '20x6' || fail "20x6: the notice does not say the size"
keys Right Down l h m s 1 2 3 , . Space t b n a e
keys Escape
sleep 0.3
no_garbage "20x6 after keys"
screen | grep -q "EXITED" && fail "20x6: the UI ended on keys"
resize 100 30; wait_for "out\\in"; wait_for "tied-relu" 1
resize 20 6; wait_for "too small"
resize 12 3; sleep 0.3; screen | grep -q "EXITED" && fail "12x3: the UI ended"
resize 100 30; wait_for "tied-relu" 1
quit_ok "20x6"

# ---- LANG=C: not UTF-8, so ASCII only ----------------------------------------
tui_start 100 30 env LANG=C LC_ALL=C "$BIN" tui --model "$MODEL"
wait_for "tied-relu | cross" 1
wait_for "out\\in"
ascii_only "LANG=C"
no_garbage "LANG=C"
walk
ascii_only "LANG=C after keys"
no_garbage "LANG=C after keys"
# typing a character the locale cannot encode must not break the entry box
keys e C-u; typetext "x^2-4=0"; keys Enter
wait_for "equation> x^2-4=0" 2
ascii_only "LANG=C after a new equation"
quit_ok "LANG=C"

# ---- everything at once: vt100, C locale, NO_COLOR, small -------------------
tui_start 40 12 env TERM=vt100 LANG=C LC_ALL=C NO_COLOR=1 "$BIN" tui --model "$MODEL"
wait_for "tied-relu" 1
ascii_only "all hostile"
no_garbage "all hostile"
no_colours "all hostile"
keys m s v 1 Down Right
sleep 0.3
no_garbage "all hostile after keys"
quit_ok "all hostile"

finish
