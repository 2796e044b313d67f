#!/usr/bin/env bash
# robust.sh - what a careless or hostile user does (issue 16): empty or blank
# paths are usage errors everywhere a path is taken; `train` does not destroy
# a folder that holds a model, a checkpoint or other files (--resume or
# --force), never trains into /, and --force keeps the old files until the
# new run's first checkpoint is written; every command's lost standard output
# (> /dev/full) is an error; messages name the true cause (a folder, a FIFO,
# a symbolic link loop, /dev/zero, an unreadable folder, a configuration
# that is a folder, JSON nested too deep, a NUL byte in a config.json key).
# Under `make test SANITIZE=1` the empty paths also go through ASan.
# Needs $BIN; run from the source tree's top level.
. "$(dirname "$0")/lib.bash"
TOP=$PWD
GOOD=$TOP/tests/fixtures/model-io/tiny-relu
cleanup() { chmod -R u+rwx "$T" 2>/dev/null; }

# expect CODE NEEDLE CMD ARGS... : exit status CODE and NEEDLE in stderr+stdout
expect() {
    local code=$1 needle=$2; shift 2
    local out rc
    out=$(cd "$T" && timeout 60 "$BIN" "$@" 2>&1 < /dev/null); rc=$?
    [ "$rc" -eq "$code" ] || fail "$* exited $rc, expected $code; output:"$'\n'"$out"
    grep -qF -- "$needle" <<<"$out" || fail "$* lacks '$needle'; output:"$'\n'"$out"
}

cat > "$T/tiny.cfg" <<'EOF'
model = { d_model = 16; d_ff = 32; num_layers = 1; num_heads = 2; d_kv = 8; };
data = { preset = "small"; n = 40; seed = 3; test_share = 0.2; };
train = { batch = 4; steps = 2; threads = 1; seed = 7; eval_every = 0; log_every = 1; };
EOF
printf 'x^2-5x+6=0\tD=(-5^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;x=3;\n' > "$T/d.tsv"

# --- 1. empty and blank paths: a usage error naming the option
for p in "" " "; do
    expect 2 "--out needs a file or folder name" train --config tiny.cfg --out "$p"
    expect 2 "--config needs a file or folder name" train --config "$p"
    expect 2 "--model needs a file or folder name" inspect --model "$p"
    expect 2 "--model needs a file or folder name" dump --model "$p" --input 'x^2=0'
    expect 2 "--model needs a file or folder name" solve --model "$p" 'x^2=0'
    expect 2 "--model needs a file or folder name" solve "--model=$p" 'x^2=0'
    expect 2 "--model needs a file or folder name" eval --model "$p" --data d.tsv
    expect 2 "--data needs a file or folder name" eval --data "$p"
    expect 2 "--outputs needs a file or folder name" eval --data d.tsv --outputs "$p"
    expect 2 "--out needs a file or folder name" gen --preset small --out "$p"
    expect 2 "--out needs a file or folder name" render 'x^2=0' --out "$p"
    expect 2 "--model needs a file or folder name" render 'x^2=0' --model "$p"
    expect 2 "--theme needs a file or folder name" render 'x^2=0' --theme "$p"
    expect 2 "--out needs a file or folder name" report --out "$p"
    expect 2 "--data needs a file or folder name" report --out r --data "$p"
    expect 2 "--model needs a file or folder name" report --out r --model "$p"
    expect 2 "--model needs a file or folder name" tui --model "$p"
    expect 2 "--theme needs a file or folder name" tui --theme "$p"
    expect 2 "--model needs a file or folder name" bench decode --model "$p"
done
# ... and in the training configuration: the file and line
for key in 'out = "";' 'out = "  ";'; do
    sed "s|log_every = 1;|log_every = 1; $key|" "$T/tiny.cfg" > "$T/empty-out.cfg"
    expect 1 "empty-out.cfg:3: train.out: an empty folder name" train --config empty-out.cfg
done
printf 'data = { train = ""; test = "d.tsv"; };\ntrain = { batch = 4; steps = 2; };\n' \
    > "$T/empty-data.cfg"
expect 1 "empty-data.cfg:1: data.train: an empty file name" train --config empty-data.cfg
ls "$T" | grep -q '\.tmp\.' && fail "a temporary file was left"
# ... and a theme in the user's config file: reported with its line, skipped
mkdir -p "$T/xdg/attnscope"
printf 'theme = "";\n' > "$T/xdg/attnscope/config.cfg"
out=$(XDG_CONFIG_HOME=$T/xdg "$BIN" render 'x^2=0' --model "$GOOD" --format text 2>&1)
grep -qF "config.cfg:1: theme is empty" <<<"$out" || fail "theme = \"\": $out"

# --- 2. train never destroys a folder's contents without --resume or --force
(cd "$T" && "$BIN" train --config tiny.cfg --out run --quiet) || fail "a first run"
cp "$T/run/model.safetensors" "$T/model.first"
expect 1 "run already holds a training checkpoint (optimizer.safetensors)" \
    train --config tiny.cfg --out run --quiet
expect 1 "give --resume to continue it, or --force" train --config tiny.cfg --out run --quiet
cmp -s "$T/run/model.safetensors" "$T/model.first" || fail "a refused run changed the model"
mkdir "$T/user"; cp "$GOOD"/* "$T/user/"
expect 1 "user already holds a model (config.json, model.safetensors)" \
    train --config tiny.cfg --out user
cmp -s "$T/user/model.safetensors" "$GOOD/model.safetensors" || fail "the user's model was replaced"
mkdir "$T/notes"; echo keep > "$T/notes/notes.txt"
expect 1 "notes is not empty (1 entry, e.g. notes.txt)" train --config tiny.cfg --out notes
expect 1 "--force" train --config tiny.cfg --out notes
expect 1 "/ is the root folder" train --config tiny.cfg --out /
expect 1 "is the root folder" train --config tiny.cfg --out /tmp/..
expect 1 "is the root folder" train --config tiny.cfg --out / --force
printf 'model = { d_model = 16; d_ff = 32; num_layers = 1; num_heads = 2; d_kv = 8; };\n'`
       `'train = { batch = 4; steps = 2; out = "/"; };\n' > "$T/root.cfg"
had_root_cfg=$([ -e /config.json ] && echo yes)
expect 1 "is the root folder" train --config root.cfg
[ -z "$had_root_cfg" ] && [ -e /config.json ] && fail "/config.json written"
expect 2 "--resume and --force exclude each other" train --config tiny.cfg --out run --resume --force
# an empty folder is fine without --force
mkdir "$T/empty"
expect 0 "done: 2 steps" train --config tiny.cfg --out empty --log
# --force: the run replaces the model; the other files stay, a stale
# tokenizer goes
echo junk > "$T/user/spiece.model"
expect 0 "done: 2 steps" train --config tiny.cfg --out user --force --log
cmp -s "$T/user/model.safetensors" "$GOOD/model.safetensors" && fail "--force kept the old model"
[ -e "$T/user/spiece.model" ] && fail "--force kept the old spiece.model"
expect 0 "total                                      11,504" inspect --model user
expect 0 "done: 2 steps" train --config tiny.cfg --out notes --force --log
grep -q keep "$T/notes/notes.txt" || fail "--force removed an unrelated file"
# --force is crash-safe: a run killed before its first checkpoint is written
# leaves every old file as it was. A slow start (a large data set) gives the
# moment to kill it.
mkdir "$T/old"; cp "$GOOD"/* "$T/old/"; (cd "$T/old" && sha1sum * > ../old.sums)
sed 's/n = 40;/n = 400000;/' "$T/tiny.cfg" > "$T/slow.cfg"
(cd "$T" && exec "$BIN" train --config slow.cfg --out old --force --log > slow.log 2>&1) &
pid=$!
sleep 0.5; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
# optimizer.safetensors is the checkpoint's first file: while it is not
# there, nothing of the old model may have changed
if [ -e "$T/old/optimizer.safetensors" ]; then
    echo "note: the slow run got to its first checkpoint before the kill"
else
    (cd "$T/old" && sha1sum -c --quiet ../old.sums) ||
        fail "--force killed before its first checkpoint changed the old files"
    [ -e "$T/old/train.cfg" ] && fail "--force wrote train.cfg before its first checkpoint"
    [ -e "$T/old/log.tsv" ] && fail "--force wrote log.tsv before its first checkpoint"
fi
grep -q -- '--force' <("$BIN" train --help) || fail "train --help lacks --force"
grep -q -- 'force' "$TOP/man/attnscope.1" || fail "the man page lacks --force"

# --- 3. lost standard output is an error, for every command, once
check_full() {  # label, args...
    local label=$1; shift
    local err rc
    err=$(cd "$T" && "$BIN" "$@" 2>&1 > /dev/full); rc=$?
    [ $rc -eq 1 ] || fail "$label > /dev/full exited $rc"
    grep -qF "stdout: write error" <<<"$err" || fail "$label > /dev/full: no message: $err"
    [ "$(grep -c 'write error' <<<"$err")" -eq 1 ] || fail "$label > /dev/full: said it twice: $err"
}
check_full solve solve --model "$GOOD" 'x^2-5x+6=0'
check_full "solve --no-model" solve --no-model 'x^2-5x+6=0'
check_full inspect inspect --model "$GOOD"
check_full eval eval --model "$GOOD" --data d.tsv
check_full "eval --json" eval --model "$GOOD" --data d.tsv --json
check_full render render 'x^2=0' --model "$GOOD"
check_full "render png" render 'x^2=0' --model "$GOOD" --format png
check_full dump dump --model "$GOOD" --input 'x^2=0'
check_full "--help" --help
check_full "train --help" train --help

# --- 5. messages that name the true cause
mk() { rm -rf "${T:?}/$1"; mkdir "$T/$1"; cp "$GOOD"/* "$T/$1/"; rm -f "$T/$1/$2"; }
for f in model.safetensors config.json; do
    mk dir "$f"; mkdir "$T/dir/$f"
    expect 1 "dir/$f is a folder, not a regular file (expected a" inspect --model dir
    mk fifo "$f"; mkfifo "$T/fifo/$f"
    expect 1 "fifo/$f is a FIFO (named pipe)" inspect --model fifo
    mk loop "$f"; ln -s "$f" "$T/loop/$f"
    expect 1 "loop/$f is a symbolic link loop" inspect --model loop
    mk zero "$f"; ln -s /dev/zero "$T/zero/$f"
    expect 1 "zero/$f is a symbolic link to /dev/zero, a character device" inspect --model zero
done
mk deep config.json
{ printf '%.0s[' $(seq 1200); printf '%.0s]' $(seq 1200); } > "$T/deep/config.json"
expect 1 "config.json:1: JSON nested 1200 levels deep; the JSON reader takes at most 1000" \
    inspect --model deep
mk nul config.json
sed 's/"d_model"/"d_m\\u0000odel"/' "$GOOD/config.json" > "$T/nul/config.json"
expect 1 "a NUL byte (raw or \\u0000) in a key or value" inspect --model nul
mk rawnul config.json
sed 's/"d_model"/"d_m\x00odel"/' "$GOOD/config.json" > "$T/rawnul/config.json"
expect 1 "a NUL byte" inspect --model rawnul
expect 1 "is a folder, not a regular file (expected a libconfig training configuration" \
    train --config .
expect 1 "is a folder, not a file" eval --model "$GOOD" --data .
# an unreadable folder, as a user who cannot read it (root reads anything)
mk locked x; chmod 000 "$T/locked"; chmod o+x "$T"
if command -v setpriv > /dev/null && out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$BIN" inspect --model "$T/locked" 2>&1); [ $? -eq 1 ]; then
    grep -qF "model folder $T/locked cannot be read: Permission denied" <<<"$out" ||
        fail "unreadable folder: $out"
elif [ "$(id -u)" -ne 0 ]; then
    expect 1 "locked cannot be read: Permission denied" inspect --model locked
else
    echo "skipped: an unreadable folder (root, and setpriv cannot drop to nobody here)"
fi
chmod 700 "$T/locked"

finish robust.sh
