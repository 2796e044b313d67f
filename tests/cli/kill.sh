#!/usr/bin/env bash
# tests/cli/kill.sh - SIGKILL never leaves an unreadable checkpoint: a tiny
# training run that checkpoints every step (so most of its time is spent
# writing checkpoints, where a kill hurts most) is killed with SIGKILL at
# random moments, several times over, resuming each time. After every kill
# the output folder, once it has a checkpoint, must load with `inspect`, and
# `train --resume` must pick it up; the last resume runs to the end and the
# final model loads.
#
# The moments come from $RANDOM seeded by KILL_SEED (printed, so a failure
# can be replayed: KILL_SEED=N bash tests/cli/kill.sh).
. "$(dirname "$0")/lib.bash"
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; }
# A private copy: train and inspect need no data folder, and a binary being
# relinked in a shared checkout meanwhile cannot break the run.
private_bin
cd "$T" || exit 1
KILL_SEED=${KILL_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$KILL_SEED
echo "KILL_SEED=$KILL_SEED"
KILLS=${KILLS:-8}

cat > tiny.cfg <<'EOF'
# tiny, and a checkpoint after every step
model = { d_model = 32; d_ff = 64; num_layers = 1; num_heads = 2; d_kv = 16; };
data = { preset = "small"; n = 200; seed = 3; test_share = 0.2; };
optimizer = { lr = 3e-3; weight_decay = 0.01; clip = 1.0; };
schedule = { warmup = 5; decay = "cosine"; min_lr = 1e-4; };
train = { batch = 8; steps = 150; threads = 1; seed = 7; eval_every = 0;
          checkpoint_every = 1; log_every = 1; out = "run"; };
EOF

last_step=0
for i in $(seq 1 "$KILLS"); do
    resume=(); start=()
    # optimizer.safetensors is the checkpoint --resume reads (weights, moments, state);
    # without one (every kill so far came before the first checkpoint, as on a
    # loaded machine) the run starts again over what the killed ones left
    if [ -f R/optimizer.safetensors ]; then resume=(--resume); elif [ -d R ]; then start=(--force); fi
    "$BIN" train --config tiny.cfg --out R --log "${resume[@]}" "${start[@]}" > "run$i.log" 2>&1 &
    pid=$!
    # wait until training is under way (or over; at most 30 s), then a random 0..400 ms more;
    # every third kill comes without waiting (start-up, the first checkpoint)
    [ $((i % 3)) -eq 1 ] || for _ in $(seq 1 3000); do
        grep -q '^step \|^done' "run$i.log" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.01
    done
    sleep "0.$(printf '%03d' $((RANDOM % 400)))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    pid=
    # a resumed run must not refuse the checkpoint, and once it trains it has
    # said where it resumed (a kill right at start-up may come before either)
    if [ ${#resume[@]} -gt 0 ]; then
        if grep -q '^attnscope train:' "run$i.log" ||
           { grep -q '^step ' "run$i.log" && ! grep -q '^resuming R at step' "run$i.log"; }; then
            cat "run$i.log"; fail "kill $i: --resume did not take the checkpoint left by kill $((i - 1))"
        fi
    fi
    grep -q '^done' "run$i.log" && { echo "run $i finished before its kill"; }
    step=$(grep -o '"step":[[:space:]]*[0-9]*' R/trainer_state.json 2>/dev/null | head -1 | grep -o '[0-9]*$')
    echo "kill $i: $(grep -c '^step ' "run$i.log") steps logged, checkpoint at step ${step:-none}"
    if [ -f R/model.safetensors ]; then
        "$BIN" inspect --model R > "inspect$i.log" 2>&1 ||
            { cat "inspect$i.log"; fail "kill $i: the output folder does not load"; }
    fi
    if [ -n "$step" ]; then
        [ "$step" -lt "$last_step" ] && fail "kill $i: the checkpoint went back"
        last_step=$step
    fi
done

# the last resume runs to the end
final=(--resume)
[ -f R/optimizer.safetensors ] || final=(--force)
"$BIN" train --config tiny.cfg --out R --log "${final[@]}" > final.log 2>&1 ||
    { tail -5 final.log; fail "the final --resume failed"; }
grep -q '^done: 150 steps' final.log || { tail -5 final.log; fail "the final run did not finish"; }
"$BIN" inspect --model R > /dev/null 2>&1 || fail "the final model does not load"
grep -q '"step":[[:space:]]*150' R/trainer_state.json || fail "final trainer_state.json step"

finish "kill.sh (KILL_SEED=$KILL_SEED)"
