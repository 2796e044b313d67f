#!/usr/bin/env bash
# tests/cli/install.sh - make install / make uninstall with PREFIX and DESTDIR:
# a staging install into a temporary DESTDIR for a PREFIX that does not exist
# on this machine; the installed binary finds its themes, man page and model
# there (relative to itself), still finds them after the tree is moved, and
# names PREFIX's data folder when run alone (the compiled-in DATADIR); then
# make uninstall leaves no file behind.
#
# The build is a copy of the current build tree (so only common.c, which
# holds DATADIR, is recompiled for the new PREFIX, and the shared ./attnscope
# is not touched).
. "$(dirname "$0")/lib.bash"
SRC=$PWD
BUILD=${BUILD:-build/rel}
P=/opt/attnscope-test-$$
D=$T/stage
[ -e "$P" ] && { echo "$P exists; cannot test with it"; exit 1; }
san=
case $BUILD in *san*) san=SANITIZE=1 ;; esac

mkdir -p "$T/build"
[ -d "$BUILD/src" ] && cp -a "$BUILD/src" "$T/build/"
M=(make --no-print-directory -C "$SRC" $san BUILD="$T/build" BIN="$T/build/attnscope" PREFIX="$P" DESTDIR="$D")
"${M[@]}" install > "$T/install.log" 2>&1 || { tail -20 "$T/install.log"; fail "make install"; }
grep -q "ATTNSCOPE_DATADIR='\"$P/share/attnscope\"'" "$T/install.log" ||
    fail "common.c was not rebuilt for PREFIX=$P"
[ -e "$P" ] && fail "make install wrote outside DESTDIR ($P exists)"

I=$D$P
[ -x "$I/bin/attnscope" ] || fail "no $I/bin/attnscope"
[ -f "$I/share/man/man1/attnscope.1" ] || fail "no man page"
for t in "$SRC"/themes/*.cfg; do
    [ -f "$I/share/attnscope/themes/$(basename "$t")" ] || fail "theme $(basename "$t") not installed"
done
for m in "$SRC"/sample_models/*/; do
    [ -f "$m/config.json" ] || continue
    n=$(basename "$m")
    (cd "$m" && find . -type f ! -name '*.tmp.*') | while read -r f; do
        cmp -s "$m/$f" "$I/share/attnscope/models/$n/$f" || echo "FAIL: $n/$f not installed"
    done | grep FAIL && fail "bundled model $n incomplete"
done
# The man page renders from where it was installed.
MANWIDTH=80 man -l "$I/share/man/man1/attnscope.1" 2>/dev/null | grep -q '^NAME' ||
    fail "installed man page does not render"

# ---- the installed binary finds its data ------------------------------------
# No bundled model yet? Put the test fixture where the bundled one goes, so
# the lookup is tested either way.
MD=$I/share/attnscope/models/quadratic-seed
staged_model=0
if [ ! -d "$MD" ]; then
    mkdir -p "$MD" && cp "$SRC"/tests/fixtures/tied-relu/{config.json,model.safetensors} "$MD/"
    staged_model=1
fi
check_run() {  # label, install root
    local root=$1 label=$2
    (
        cd "$T" || exit 1
        unset ATTNSCOPE_MODEL
        export XDG_CONFIG_HOME=/nonexistent HOME=/nonexistent
        "$root/bin/attnscope" --version | grep -q '^attnscope ' || echo "FAIL: $label: --version"
        "$root/bin/attnscope" solve --help | grep -qF "$root/bin/../share/attnscope/models/quadratic-seed" ||
            echo "FAIL: $label: default model is not the installed one: $("$root/bin/attnscope" solve --help | grep -A1 -- --model)"
        "$root/bin/attnscope" solve --max-len 8 'x^2-5x+6=0' > out.txt 2>&1 ||
            echo "FAIL: $label: solve with the installed model: $(cat out.txt)"
        grep -q 'source  1x^2-5x+6=0' out.txt || echo "FAIL: $label: solve output"
        # a bundled model by its name alone
        "$root/bin/attnscope" inspect --model quadratic-seed > i.txt 2>&1 ||
            echo "FAIL: $label: --model quadratic-seed: $(cat i.txt)"
        grep -qF "$root/bin/../share/attnscope/models/quadratic-seed" i.txt ||
            echo "FAIL: $label: --model quadratic-seed is not the installed one: $(head -2 i.txt)"
        # a theme from the installed themes folder (a missing one is reported on stderr)
        "$root/bin/attnscope" render 'x^2=4' --max-len 4 --theme viridis --format text > r.txt 2> r.err ||
            echo "FAIL: $label: render: $(cat r.err)"
        [ -s r.err ] && echo "FAIL: $label: render complained: $(cat r.err)"
        "$root/bin/attnscope" render 'x^2=4' --max-len 4 --theme nosuchtheme --format text > /dev/null 2> r.err
        grep -q 'nosuchtheme' r.err || echo "FAIL: $label: a missing theme is not reported"
        true
    ) > "$T/run.log"
    grep FAIL "$T/run.log" && fail "$label"
}
check_run "$I" "staged install"
# moved somewhere else entirely (as a package manager moves DESTDIR to /)
mv "$D" "$T/moved"
check_run "$T/moved$P" "moved install"
mv "$T/moved" "$D"
# alone, away from its share folder: the compiled-in PREFIX data folder
cp "$I/bin/attnscope" "$T/alone"
(unset ATTNSCOPE_MODEL; "$T/alone" solve --help) | grep -qF "$P/share/attnscope/models/quadratic-seed" ||
    fail "the binary alone does not name PREFIX's data folder"
[ $staged_model -eq 1 ] && rm -rf "$MD"

# ---- uninstall ------------------------------------------------------------------
"${M[@]}" uninstall > "$T/uninstall.log" 2>&1 || { cat "$T/uninstall.log"; fail "make uninstall"; }
left=$(find "$D" -type f -o -type l)
[ -z "$left" ] || fail "files left after make uninstall: $left"
[ -d "$I/share/attnscope" ] && fail "share/attnscope left after make uninstall"

finish install.sh
