#!/usr/bin/env bash
# disk_full.sh - a full disk never loses what was there and never reports
# success. On a small tmpfs (mounted here; needs root, else skipped with a
# message):
#   - train: a checkpoint that fails for lack of space says so and keeps the
#     previous one; `--resume` continues from it and log.tsv holds every
#     step exactly once (it is cut back to the checkpoint's step);
#   - render --out, eval --outputs and report --out: exit 1 with a message,
#     an old file stays as it was, no temporary file is left behind.
# Needs $BIN; run from the source tree's top level.
. "$(dirname "$0")/lib.bash"
GOOD=$PWD/tests/fixtures/model-io/tiny-relu
M=$T/mnt
mkdir "$M"
cleanup() { umount "$M" 2>/dev/null; }
if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: disk_full.sh mounts a tmpfs, which needs root"; exit 0
fi
if ! mount -t tmpfs -o size=8m tmpfs "$M" 2>"$T/mount.log"; then
    echo "skipped: cannot mount a tmpfs here: $(cat "$T/mount.log")"; exit 0
fi

# fill the tmpfs, then free KB kilobytes again (0: completely full)
fill() {
    rm -f "$M/fill"
    dd if=/dev/zero of="$M/fill" bs=64k 2>/dev/null
    [ "$1" -gt 0 ] && truncate -s "-$(( $1 * 1024 ))" "$M/fill"
    sync
}
unfill() { rm -f "$M/fill"; }
no_temporaries() {  # label
    local left
    left=$(find "$M" -name '*.tmp.*')
    [ -z "$left" ] || fail "$1: temporary files left: $left"
}

# --- train: a checkpoint that fails on a full disk, then --resume
cfg() {  # steps
    cat <<EOF
model = { d_model = 32; d_ff = 64; num_layers = 1; num_heads = 2; d_kv = 16; };
data = { preset = "small"; n = 200; seed = 3; test_share = 0.2; };
train = { batch = 8; steps = $1; threads = 1; seed = 7; eval_every = 0;
          checkpoint_every = 50; log_every = 10; };
EOF
}
cfg 50 > "$T/a.cfg"
cfg 150 > "$T/b.cfg"
"$BIN" train --config "$T/a.cfg" --out "$M/R" --log > "$T/t1.log" 2>&1 ||
    { cat "$T/t1.log"; fail "the first 50 steps"; }
# room for the log's rows (and train.cfg), not for a checkpoint (~0.4 MB)
fill 32
"$BIN" train --config "$T/b.cfg" --out "$M/R" --log --resume > "$T/t2.log" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "a checkpoint on a full disk: exit $rc"
grep -q "checkpoint at step 100 failed (the previous one, step 50, is intact)" "$T/t2.log" ||
    { cat "$T/t2.log"; fail "a checkpoint on a full disk: no message"; }
grep -q "No space left on device" "$T/t2.log" || fail "the message does not say the disk is full"
no_temporaries "train"
unfill
"$BIN" inspect --model "$M/R" > /dev/null 2>&1 || fail "the folder does not load after the failure"
"$BIN" train --config "$T/b.cfg" --out "$M/R" --log --resume > "$T/t3.log" 2>&1 ||
    { cat "$T/t3.log"; fail "--resume after the full disk"; }
grep -q '^resuming .* at step 50 of 150' "$T/t3.log" || { cat "$T/t3.log"; fail "resume step"; }
steps=$(tail -n +2 "$M/R/log.tsv" | cut -f1 | tr '\n' ' ')
[ "$steps" = "$(seq -s ' ' 1 150) " ] ||
    fail "log.tsv steps after the resume are not 1..150 once each: $steps"
[ "$(head -1 "$M/R/log.tsv" | cut -f1)" = step ] || fail "log.tsv lost its header"
rm -rf "$M/R"

# --- render --out: the old file stays
"$BIN" render 'x^2-5x+6=0' --model "$GOOD" --format svg --out "$M/map.svg" 2>&1 ||
    fail "render with room"
cp "$M/map.svg" "$T/map.svg"
fill 0
out=$("$BIN" render 'x^2-3x+2=0' --model "$GOOD" --format svg --out "$M/map.svg" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "render on a full disk: exit $rc"
grep -q "map.svg" <<<"$out" || fail "render on a full disk: the message names no file: $out"
cmp -s "$M/map.svg" "$T/map.svg" || fail "render on a full disk changed the old file"
no_temporaries render

# --- eval --outputs: the old file stays
unfill
printf 'x^2-5x+6=0\tD=(-5^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;x=3;\n' > "$T/d.tsv"
"$BIN" eval --model "$GOOD" --data "$T/d.tsv" --outputs "$M/out.tsv" > /dev/null 2>&1 ||
    fail "eval with room"
cp "$M/out.tsv" "$T/out.tsv"
fill 0
out=$("$BIN" eval --model "$GOOD" --data "$T/d.tsv" --outputs "$M/out.tsv" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "eval --outputs on a full disk: exit $rc"
grep -q "out.tsv" <<<"$out" || fail "eval on a full disk: the message names no file: $out"
cmp -s "$M/out.tsv" "$T/out.tsv" || fail "eval --outputs on a full disk changed the old file"
no_temporaries eval

# --- report --out: a full disk and one that fills up midway (the report
# is ~2.6 MB): exit 1, a message, no temporary file, no success line
for room in 0 1024; do
    unfill
    rm -rf "$M/rep"
    fill $room
    out=$("$BIN" report --model "$GOOD" --preset small --n 6 --importance-n 2 --hypothesis-n 2 \
        --draws 2 --max-len 24 --out "$M/rep" -q 2>&1)
    rc=$?
    [ $rc -eq 1 ] || fail "report with $room KB free: exit $rc: $out"
    grep -qi "no space left\|cannot write" <<<"$out" ||
        fail "report with $room KB free: the message does not say why: $out"
    grep -q "^wrote" <<<"$out" && fail "report with $room KB free claims it wrote the report"
    no_temporaries "report ($room KB)"
done
unfill

finish disk_full.sh
