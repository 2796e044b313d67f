#!/usr/bin/env bash
# tests/cli/golden.sh - the bundled model (sample_models/quadratic-seed) decodes
# equations it is known to solve exactly, byte for byte: a change to the engine
# (kernels, cache, tokenizer, loading) that breaks the trained model fails here.
# The equations are the study's example and held-out test-split equations of
# each kind that the shipped model gets right.
set -u
BIN=${BIN:-./attnscope}
MODEL=sample_models/quadratic-seed
[ -f "$MODEL/model.safetensors" ] || { echo "FAIL: $MODEL is missing"; exit 1; }
fail=0
while IFS=$'\t' read -r eq want; do
    got=$("$BIN" solve --model "$MODEL" "$eq" | sed -n 's/^  model   //p')
    if [ "$got" != "$want" ]; then
        printf 'FAIL: %s\n  got  %s\n  want %s\n' "$eq" "$got" "$want"
        fail=1
    fi
done <<'GOLDEN'
7x^2+3556x+451612=0	D=(3556^2-4*7*451612)=0;x=(-3556-0)/(2*7)=-254;x=(-3556+0)/(2*7)=-254;x=-254;x=-254;
1x^2-91x-40986=0	D=((-91)^2-4*1*(-40986))=172225;x=(91-415)/(2*1)=-162;x=(91+415)/(2*1)=253;x=-162;x=253;
3x^2-456x-17019=0	D=((-456)^2-4*3*(-17019))=412164;x=(456-642)/(2*3)=-31;x=(456+642)/(2*3)=183;x=-31;x=183;
5x^2+2550x+325125=0	D=(2550^2-4*5*325125)=0;x=(-2550-0)/(2*5)=-255;x=(-2550+0)/(2*5)=-255;x=-255;x=-255;
9x^2-4752x+627264=0	D=((-4752)^2-4*9*627264)=0;x=(4752-0)/(2*9)=264;x=(4752+0)/(2*9)=264;x=264;x=264;
GOLDEN
# A right answer is also reported as right.
"$BIN" solve --model "$MODEL" "7x^2+3556x+451612=0" | grep -q '^  right   solved exactly' ||
    { echo "FAIL: solve does not call the study's example right"; fail=1; }
exit $fail
