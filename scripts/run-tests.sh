#!/usr/bin/env bash
# Run every unit-test binary given as an argument, then every terminal test
# (tests/tui/*.sh, which drive the real binary in tmux) and the command-line
# tests (tests/cli/*.sh). Prints one line per test program and a closing
# "N passed, N failed" line; exits non-zero when anything failed.
set -u
pass=0; fail=0; failed=()
run() {  # name, command...
    local name=$1; shift
    local log; log=$(mktemp)
    if "$@" >"$log" 2>&1; then
        pass=$((pass + 1)); printf 'ok    %s\n' "$name"
    else
        fail=$((fail + 1)); failed+=("$name"); printf 'FAIL  %s\n' "$name"
        sed 's/^/      /' "$log" | tail -n 60
    fi
    rm -f "$log"
}
for t in "$@"; do run "$(basename "$t")" "$t"; done
for t in tests/cli/*.sh tests/tui/*.sh; do
    [ -f "$t" ] || continue
    run "$t" env BIN="${BIN:-./attnscope}" bash "$t"
done
echo
[ $fail -eq 0 ] || printf 'failed: %s\n' "${failed[*]}"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
