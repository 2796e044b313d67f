# lib.bash - helpers for the terminal tests (sourced by tests/tui/*.sh; not a
# test itself). Each test drives the real binary in a detached tmux session
# of a fixed size on its own socket, reads the screen with capture-pane and
# polls with a timeout instead of sleeping a fixed time.
#
#   tui_start W H CMD...   start CMD in a W x H pane (LANG=C.UTF-8, TERM of tmux)
#   shell_start W H        start a bare shell with the prompt "PROMPT$ " instead
#   keys K...              tmux send-keys (key names: Up Down Enter Escape C-u ...)
#   typetext TEXT          send TEXT literally
#   mouse B COL ROW        an xterm (X10) mouse report: B 0 press, 3 release,
#                          64 wheel up, 65 wheel down; COL ROW 1-based
#   click COL ROW          press and release button 1
#   wait_for TEXT [LINE]   wait until TEXT is on the screen (or on line LINE, 1-based)
#   wait_match RE [LINE]   the same for an extended regular expression
#   wait_spaced TEXT       like wait_for with runs of blanks read as one (column labels
#                          are as far apart as the cells are wide)
#   wait_line_is N TEXT    wait until line N is exactly TEXT
#   wait_gone TEXT         wait until TEXT is no longer on the screen
#   screen                 print the screen now
#   line N                 print screen line N (1-based)
#   fail MSG               record a failure (prints the screen)
#   finish                 exit 0 when nothing failed, 1 otherwise
set -u
BIN=${BIN:-./attnscope}
case $BIN in */*) ;; *) BIN=./$BIN ;; esac   # make passes BIN=attnscope
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
MODEL=${TUI_TEST_MODEL:-$PWD/tests/fixtures/tied-relu}
TIMEOUT=${TUI_TIMEOUT:-15}
fails=0
n_sessions=0
SOCKS=()
command -v tmux >/dev/null || { echo "tmux is not installed (scripts/deps.sh installs it)"; exit 1; }
# Every session gets its own socket (-L), killed by cleanup and on exit.
new_socket() {
    n_sessions=$((n_sessions + 1))
    SOCK="attnscope-test-$$-$n_sessions"
    SOCKS+=("$SOCK")
    TMUX_CMD=(tmux -L "$SOCK" -f /dev/null)
}
# The socket file is removed too: a server that ended with its program leaves it.
cleanup() {
    local s
    for s in "${SOCKS[@]}"; do
        tmux -L "$s" kill-server 2>/dev/null
        rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$s"
    done
    true
}
trap cleanup EXIT

tui_start() {
    local w=$1 h=$2; shift 2
    local cmd; printf -v cmd '%q ' "$@"
    new_socket
    "${TMUX_CMD[@]}" new-session -d -x "$w" -y "$h" -s t \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_CONFIG_HOME=/nonexistent $cmd; echo EXITED rc=\$?; sleep 60"
    "${TMUX_CMD[@]}" set-option -t t -g status off >/dev/null
}

shell_start() {
    new_socket
    "${TMUX_CMD[@]}" new-session -d -x "$1" -y "$2" -s t \
        "env -i PATH=$PATH HOME=/nonexistent TERM=tmux-256color LANG=C.UTF-8 PS1='PROMPT\$ ' bash --norc --noprofile"
    "${TMUX_CMD[@]}" set-option -t t -g status off >/dev/null
}

keys() { "${TMUX_CMD[@]}" send-keys -t t "$@"; }
typetext() { "${TMUX_CMD[@]}" send-keys -t t -l "$1"; }
# ESC [ M, then 32 + button, 32 + column, 32 + row, each one byte
mouse() {
    local b c r
    printf -v b "\\$(printf %o $((32 + $1)))"; printf -v c "\\$(printf %o $((32 + $2)))"
    printf -v r "\\$(printf %o $((32 + $3)))"
    "${TMUX_CMD[@]}" send-keys -t t -l $'\e[M'"$b$c$r"
}
click() { mouse 0 "$1" "$2"; mouse 3 "$1" "$2"; }
screen() { "${TMUX_CMD[@]}" capture-pane -p -t t 2>/dev/null; }
line() { screen | sed -n "${1}p"; }
resize() { "${TMUX_CMD[@]}" resize-window -t t -x "$1" -y "$2"; }

fail() {
    echo "FAIL: $*"
    echo "---- screen ----"; screen; echo "----------------"
    fails=$((fails + 1))
}

# poll WHAT CMD...: run CMD every 50 ms until it succeeds; after TIMEOUT
# seconds record the failure "waited ...s for WHAT".
poll() {
    local what=$1 end=$((SECONDS + TIMEOUT)); shift
    while [ $SECONDS -le $end ]; do
        "$@" && return 0
        sleep 0.05
    done
    fail "waited ${TIMEOUT}s for $what"
    return 1
}
# screen_has F|E TEXT [LINE]: the screen (or line LINE) has TEXT, a fixed
# string (F) or an extended regular expression (E).
screen_has() { if [ -n "${3:-}" ]; then line "$3"; else screen; fi | grep -q"$1" -- "$2"; }
spaced_has() { screen | tr -s ' ' | grep -qF -- "$1"; }
# trailing blanks dropped, as capture-pane does
line_is() { [ "$(line "$1" | sed 's/ *$//')" = "$2" ]; }
screen_lacks() { ! screen | grep -qF -- "$1"; }

wait_for() { poll "'$1'${2:+ on line $2}" screen_has F "$1" "${2:-}"; }
wait_match() { poll "/$1/${2:+ on line $2}" screen_has E "$1" "${2:-}"; }
wait_spaced() { poll "'$1' (blanks squeezed)" spaced_has "$1"; }
wait_line_is() { poll "line $1 to be '$2'" line_is "$1" "$2"; }
wait_gone() { poll "'$1' to go" screen_lacks "$1"; }

finish() {
    [ $fails -eq 0 ] && { echo "all passed"; exit 0; }
    echo "$fails failure(s)"; exit 1
}
