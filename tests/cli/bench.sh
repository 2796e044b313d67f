#!/usr/bin/env bash
# bench.sh - `attnscope bench decode` and `bench train` run on a tiny model and
# report their lines; usage errors exit 2. (Speed itself is `make bench`'s business.)
# Needs $BIN (the attnscope binary); run from the source tree's top level.
. "$(dirname "$0")/lib.bash"

out=$("$BIN" bench decode --d-model 16 --d-ff 32 --layers 2 --heads 2 --d-kv 8 --tokens 7 \
      --src-len 5 --repeat 3 2>&1); rc=$?
[ $rc -eq 0 ] || fail "bench decode exited $rc: $out"
grep -q "7 output tokens" <<<"$out" || fail "no token count: $out"
grep -q "greedy, no hook .* ms" <<<"$out" || fail "no plain line: $out"
grep -q "greedy, trace captured .* ms" <<<"$out" || fail "no trace line: $out"
out=$("$BIN" bench decode --d-model 16 --d-ff 32 --layers 1 --heads 2 --d-kv 8 --tokens 4 \
      --repeat 2 --threads 2 --gated 2>&1) || fail "bench decode --threads 2 --gated failed: $out"
grep -q "gated-gelu" <<<"$out" || fail "--gated not reported: $out"

out=$("$BIN" bench train --d-model 16 --d-ff 32 --layers 1 --heads 2 --d-kv 8 --batch 2 \
      --src-len 5 --tgt-len 7 --steps 2 --warmup 1 --threads 1 2>&1) || fail "bench train failed: $out"
grep -q "^openblas core: ." <<<"$out" || fail "bench train names no core type: $out"
grep -q "^sgemm peak .* training at [0-9]* % of it" <<<"$out" || fail "no sgemm peak line: $out"
grep -q "^ceiling: [0-9]* target tokens/s" <<<"$out" || fail "no ceiling line: $out"
tail -1 <<<"$out" | grep -q "^tokens/s [0-9][0-9]*$" || fail "bench train does not end with tokens/s: $out"

for args in "" "nonsense" "decode --tokens 0" "decode --repeat x" "decode --bogus" "decode extra" \
            "train --batch 0" "train --bogus"; do
    # shellcheck disable=SC2086
    "$BIN" bench $args >/dev/null 2>&1; rc=$?
    [ $rc -eq 2 ] || fail "bench $args exited $rc, expected 2"
done
"$BIN" bench decode --help | grep -q "usage: attnscope bench" || fail "decode --help"
"$BIN" bench decode --heads 0 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "bench decode --heads 0 exited $rc, expected 2"

finish bench.sh
