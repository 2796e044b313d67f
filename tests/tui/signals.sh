#!/usr/bin/env bash
# signals.sh - SIGINT and SIGTERM sent to the UI (issue 16): the terminal is
# restored (the shell's prompt on a clean screen, typed text echoes), the
# exit status follows the convention 128 + signal (130, 143) and one line on
# stderr says which signal ended it; ncurses' own handler used to exit 1
# without a word, like an error.
. "$(dirname "$0")/lib.bash"

PIDF=/tmp/attnscope-sig-$$.pid ERRF=/tmp/attnscope-sig-$$.err
shell_start 90 26
wait_for 'PROMPT$'
typetext "cd $(printf %q "$PWD")"; keys Enter
for sig in INT TERM; do
    want=$((128 + $(kill -l "$sig")))
    # the UI in the foreground, its pid in a file (sh execs it)
    typetext "clear; sh -c 'echo \$\$ > $PIDF; exec \"\$0\" tui --model \"\$1\" 2>$ERRF' $(printf %q "$BIN") $(printf %q "$MODEL"); echo rc=\$? after-$sig"
    keys Enter
    wait_for " ? help  q quit" 26
    wait_for "tied-relu │ cross"
    pid=$(cat "$PIDF")
    kill "-$sig" "$pid"
    wait_for 'PROMPT$'
    wait_gone "tied-relu │ cross"
    wait_for "rc=$want after-$sig"   # the typed line has rc=$? instead
    grep -q "^attnscope tui: quit on SIG$sig" "$ERRF" || fail "SIG$sig: stderr says '$(cat "$ERRF")'"
    typetext "echo still-echoing-$sig"; keys Enter
    wait_for "still-echoing-$sig"
done
rm -f "$PIDF" "$ERRF"
finish
