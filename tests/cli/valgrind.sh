#!/usr/bin/env bash
# tests/cli/valgrind.sh - `solve` and `render` under valgrind's memcheck: no
# invalid read or write, no use of uninitialised values, no definite leak
# (--error-exitcode fails the run on any). The model is the bundled one
# (sample_models/quadratic-seed) when it exists, else the small random
# tied-relu fixture. Under SANITIZE=1 the binary carries ASan, which valgrind
# cannot run: that pass skips (ASan itself covers the same ground there).
. "$(dirname "$0")/lib.bash"
command -v valgrind >/dev/null || { echo "valgrind is not installed (scripts/deps.sh installs it)"; exit 1; }
case ${BUILD:-} in *san*) echo "skipped: the SANITIZE=1 pass (ASan covers it; valgrind runs in the plain pass)"; exit 0 ;; esac
if ldd "$BIN" 2>/dev/null | grep -q 'libasan'; then
    echo "skipped: $BIN is an AddressSanitizer build (valgrind runs in the plain pass)"
    exit 0
fi
MODEL=$PWD/sample_models/quadratic-seed
[ -f "$MODEL/model.safetensors" ] || MODEL=$PWD/tests/fixtures/tied-relu
# A private copy (the same bytes): a binary relinked meanwhile in a shared
# checkout cannot break the run. Only the built-in theme is used.
private_bin
# One thread for OpenBLAS and OpenMP (valgrind serialises threads anyway) and
# a kernel type valgrind emulates (no AVX-512).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell
export XDG_CONFIG_HOME=/nonexistent LANG=C.UTF-8
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite)   # add --track-origins=yes to chase a report
vg() {  # label, expected exit status, command...
    local label=$1 want=$2; shift 2
    "${VG[@]}" "$@" > "$T/out" 2> "$T/vg"; local rc=$?
    if [ $rc -eq 99 ] || grep -q '^==[0-9]*== ' "$T/vg"; then
        sed -n '1,60p' "$T/vg"; fail "$label: valgrind found errors"
    elif [ $rc -ne "$want" ]; then
        cat "$T/vg"; fail "$label: exit $rc"
    fi
}
echo "model: $MODEL"
# (the third equation is rejected: exit 1 after the first two are solved)
vg "solve" 1 "$BIN" solve --model "$MODEL" --max-len 24 'x^2-5x+6=0' '3x^2+2x+5=0' 'x^2-5y=0'
grep -q 'source  1x^2-5x+6=0' "$T/out" || fail "solve output"
vg "render text" 0 "$BIN" render --model "$MODEL" --max-len 24 'x^2-5x+6=0' --view summary --format text
grep -q '^scale' "$T/out" || fail "render text output"
vg "render ansi" 0 env TERM=xterm-256color "$BIN" render --model "$MODEL" --max-len 24 '2x^2+4x+2=0' \
    --head avg --step 5 --format ansi
vg "render png" 0 "$BIN" render --model "$MODEL" --max-len 24 'x^2-5x+6=0' --view model --out "$T/m.png"
[ -s "$T/m.png" ] || fail "render png wrote nothing"
vg "render bad equation" 1 "$BIN" render --model "$MODEL" 'x^2-5y=0' --format text
finish valgrind.sh
