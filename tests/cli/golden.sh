#!/usr/bin/env bash
# tests/cli/golden.sh - the bundled models (sample_models/quadratic-seed, quadratic-small) decode
# equations they are known to solve exactly, byte for byte: a change to the engine
# (kernels, cache, tokenizer, loading) that breaks the trained model fails here.
# The equations are the study's example and held-out test-split equations of
# each kind that each model gets right.
. "$(dirname "$0")/lib.bash"

# golden MODEL: every line of stdin, EQUATION<TAB>the model's output, decodes so
golden() {
    [ -f "$1/model.safetensors" ] || { fail "$1 is missing"; return; }
    local eq want got
    while IFS=$'\t' read -r eq want; do
        got=$("$BIN" solve --model "$1" "$eq" | sed -n 's/^  model   //p')
        [ "$got" = "$want" ] || fail "$eq ($1)"$'\n'"  got  $got"$'\n'"  want $want"
    done
}
golden sample_models/quadratic-seed <<'GOLDEN'
7x^2+3556x+451612=0	D=(3556^2-4*7*451612)=0;x=(-3556-0)/(2*7)=-254;x=(-3556+0)/(2*7)=-254;x=-254;x=-254;
7x^2-1778x+95403=0	D=((-1778)^2-4*7*95403)=490000;x=(1778-700)/(2*7)=77;x=(1778+700)/(2*7)=177;x=77;x=177;
2x^2+68x-23622=0	D=(68^2-4*2*(-23622))=193600;x=(-68-440)/(2*2)=-127;x=(-68+440)/(2*2)=93;x=-127;x=93;
5x^2+2550x+325125=0	D=(2550^2-4*5*325125)=0;x=(-2550-0)/(2*5)=-255;x=(-2550+0)/(2*5)=-255;x=-255;x=-255;
5x^2-1000x+50000=0	D=((-1000)^2-4*5*50000)=0;x=(1000-0)/(2*5)=100;x=(1000+0)/(2*5)=100;x=100;x=100;
GOLDEN
# quadratic-small (the small preset's model, issue 14) on held-out test equations
# of each kind that it solves exactly
golden sample_models/quadratic-small <<'GOLDEN'
4x^2+24x-1120=0	D=(24^2-4*4*(-1120))=18496;x=(-24-136)/(2*4)=-20;x=(-24+136)/(2*4)=14;x=-20;x=14;
4x^2-100x+400=0	D=((-100)^2-4*4*400)=3600;x=(100-60)/(2*4)=5;x=(100+60)/(2*4)=20;x=5;x=20;
2x^2-48x+190=0	D=((-48)^2-4*2*190)=784;x=(48-28)/(2*2)=5;x=(48+28)/(2*2)=19;x=5;x=19;
3x^2+66x+363=0	D=(66^2-4*3*363)=0;x=(-66-0)/(2*3)=-11;x=(-66+0)/(2*3)=-11;x=-11;x=-11;
3x^2-118x+1438=0	D=((-118)^2-4*3*1438)=-3332;D<0;
5x^2+60x+1752=0	D=(60^2-4*5*1752)=-31440;D<0;
GOLDEN
# A right answer is also reported as right.
"$BIN" solve --model sample_models/quadratic-seed "7x^2+3556x+451612=0" |
    grep -q '^  right   solved exactly' || fail "solve does not call the study's example right"
finish golden.sh
