#!/usr/bin/env bash
# tests/cli/man.sh - the man page: groff -man -ww finds nothing to warn about,
# man -l renders it (without warnings), and it agrees with the binary: every
# command that `attnscope --help` lists has its section, every long option
# that `attnscope CMD --help` prints is in that command's section, and every
# long option a section documents is one the command's --help knows.
. "$(dirname "$0")/lib.bash"
PAGE=$PWD/man/attnscope.1
command -v groff >/dev/null || { echo "groff is not installed (scripts/deps.sh installs it)"; exit 1; }
command -v man >/dev/null || { echo "man is not installed (scripts/deps.sh installs man-db)"; exit 1; }

# ---- groff and man -----------------------------------------------------------
groff -man -ww -z "$PAGE" > "$T/groff" 2>&1 || fail "groff exit status $?"
[ -s "$T/groff" ] && { cat "$T/groff"; fail "groff -man -ww -z warns"; }
MANWIDTH=80 man --warnings -l "$PAGE" > "$T/man.txt" 2> "$T/man.err" || fail "man -l exit $?"
[ -s "$T/man.err" ] && { cat "$T/man.err"; fail "man -l warns"; }
for s in NAME SYNOPSIS DESCRIPTION COMMANDS "THE TERMINAL UI" CONFIGURATION \
         "TRAINING CONFIGURATION" "ATTENTION PATTERNS" ENVIRONMENT FILES "EXIT STATUS" EXAMPLES; do
    grep -q "^$s\$" "$T/man.txt" || fail "man -l output has no $s section"
done
for v in NO_COLOR XDG_CONFIG_HOME ATTNSCOPE_MODEL OPENBLAS_NUM_THREADS OMP_NUM_THREADS \
         COLORTERM TERM COLUMNS; do
    grep -Eq "^       ([A-Z_]+, )*$v(,| |\$)" "$T/man.txt" || fail "ENVIRONMENT does not list $v"
done
# the UI's keys: every key in the help overlay of src/tui/chrome.c (the key
# column of help_lines) is a key of the man page's "Keys" section
sed -n '/help_lines\[\] = {/,/^};/p' src/tui/chrome.c |
    sed -n 's/^ *"  \([^ ].\{0,13\}\).*/\1/p' | tr ' ' '\n' | grep -v '^$' | sort -u > "$T/ui_keys"
[ -s "$T/ui_keys" ] || fail "no keys found in src/tui/chrome.c help_lines"
awk '/^\.SS Keys$/ { on = 1; next } on && /^\.S[SH] / { exit } on && /^\.BR? / { print }' "$PAGE" |
    sed -e 's/\\-/-/g' -e 's/^\.BR* //' -e 's/"[^"]*"/ /g' | tr ' ' '\n' | grep -v '^$' |
    awk 'length > 1 { $0 = tolower($0) } { print }' | sort -u > "$T/man_keys"
while read -r k; do   # one-letter keys keep their case (g and G differ), names do not
    kl=$k; [ ${#k} -gt 1 ] && kl=$(printf '%s' "$k" | tr 'A-Z' 'a-z')
    grep -qxF -- "$kl" "$T/man_keys" || fail "the UI key '$k' (src/tui/chrome.c help) is not in the man page's Keys"
done < "$T/ui_keys"
# ... and the other way: every key of the man page's Keys is in the help
awk 'length > 1 { $0 = tolower($0) } { print }' "$T/ui_keys" | sort -u > "$T/ui_keys_l"
while read -r k; do
    grep -qxF -- "$k" "$T/ui_keys_l" || fail "the man page's key '$k' is not in the help (?)"
done < <(grep -v '^)\.\{0,1\}$' "$T/man_keys")
# the pattern thresholds of include/analysis.h
for n in AN_DIAG_CLEAR AN_STRIPE_MIN AN_BLOCK_SAME AN_BLOCK_JUMP AN_BLOCK_MIN AN_BLUR_MIN; do
    v=$(sed -n "s/^#define $n \([0-9.]*\).*/\1/p" include/analysis.h)
    [ -n "$v" ] && { grep -qF -- "$v" "$T/man.txt" || fail "$n = $v is not in the man page"; }
done

# ---- the page agrees with --help ---------------------------------------------
# The man source as plain text: \- is -, font escapes gone.
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$PAGE" > "$T/src"
# A command's section: from its .SS line to the next .SS or .SH.
section() {
    awk -v pat="^\\\\.SS \"attnscope $1" '
        $0 ~ pat { on = 1; next }
        on && /^\.S[SH] / { exit }
        on { print }' "$T/src"
}
longopts() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }

cmds=$("$BIN" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
[ -n "$cmds" ] || fail "attnscope --help lists no commands"
for c in $cmds; do
    name=$c; [ "$c" = tui ] && name="\\[tui\\]"
    section "$name" > "$T/sec_$c"
    [ -s "$T/sec_$c" ] || { fail "no section .SS \"attnscope $c ...\" in the man page"; continue; }
    "$BIN" $c --help > "$T/help_$c" 2>&1 || fail "attnscope $c --help exit $?"
    [ "$c" = bench ] && "$BIN" bench train --help >> "$T/help_$c" 2>&1
    longopts < "$T/help_$c" > "$T/h"
    longopts < "$T/sec_$c" > "$T/m"
    for o in $(comm -23 "$T/h" "$T/m"); do fail "attnscope $c --help has $o, its man section does not"; done
    # (--help is documented for every command even where the usage text omits it)
    for o in $(comm -13 "$T/h" "$T/m" | grep -vx -- --help); do fail "the man section of $c documents $o, attnscope $c --help does not"; done
done
grep -q -- '--version' "$T/src" || fail "--version is not in the man page"

finish man.sh
