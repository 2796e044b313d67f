# lib.bash - the preamble of the command-line tests (sourced by tests/cli/*.sh;
# not a test itself). Run from the source tree's top level, as make does.
#
#   BIN          the attnscope binary, as an absolute path (make passes
#                BIN=attnscope or an absolute one; default ./attnscope)
#   T            a temporary folder of the test's own, removed on exit; a test
#                with more to undo defines cleanup(), which runs first
#   fail MSG     record a failure ("FAIL: MSG"); with FAIL_FAST=1 set before
#                sourcing, stop there with exit status 1 (for tests whose
#                later steps need the earlier ones)
#   private_bin  run a copy of BIN in T (a binary relinked meanwhile in a
#                shared checkout cannot break a long run)
#   finish NAME  "NAME: all passed" and exit 0, or "NAME: N failure(s)" and
#                exit 1
#   tiny_cfg STEPS [MODEL_KEYS] [GROUPS]
#                print the training configuration the train*.sh tests share: a
#                d_model 32, 1+1 layer T5 on 300 equations of the small preset
#                (seconds, also under ASan), no evaluation, no checkpoint but
#                the last, a log line every step; MODEL_KEYS go into the model
#                group, GROUPS after the train group
#   sigint_run CFG OUT LOG RE
#                a training run of CFG into OUT (its log lines into LOG),
#                stopped with SIGINT once a line of LOG matches RE (or after
#                30 s); returns the run's exit status
set -u
BIN=${BIN:-./attnscope}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
T=$(mktemp -d)
on_exit() {
    if declare -F cleanup > /dev/null; then cleanup; fi
    rm -rf "$T"
}
trap on_exit EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
    [ "${FAIL_FAST:-0}" = 1 ] && exit 1
    return 0
}
private_bin() {
    cp "$BIN" "$T/attnscope" || exit 1
    BIN=$T/attnscope
}
tiny_cfg() {
    cat <<EOC
model = { d_model = 32; d_ff = 64; num_layers = 1; num_heads = 2; d_kv = 16; ${2:-} };
data = { preset = "small"; n = 300; seed = 3; test_share = 0.2; };
optimizer = { lr = 3e-3; weight_decay = 0.01; clip = 1.0; };
schedule = { warmup = 5; decay = "cosine"; min_lr = 1e-4; };
train = { batch = 16; steps = $1; threads = 2; seed = 7; eval_every = 0;
          checkpoint_every = 0; log_every = 1; out = "run"; };
${3:-}
EOC
}
sigint_run() {
    "$BIN" train --config "$1" --out "$2" --log > "$3" 2>&1 &
    local pid=$! i
    for i in $(seq 1 1500); do
        grep -q "$4" "$3" 2>/dev/null && break
        sleep 0.02
    done
    kill -INT $pid
    wait $pid
}
finish() {
    [ "$fails" -eq 0 ] && { echo "$1: all passed"; exit 0; }
    echo "$1: $fails failure(s)"
    exit 1
}
