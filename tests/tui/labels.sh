#!/usr/bin/env bash
# labels.sh - issue 17, defect 6 "labels disagree": the end of sequence reads
# '$' wherever the UI shows a token (the column header had '$', the row
# labels and status lines '</s>'), and layers and heads are numbered one way,
# the 0-based index with its range ("layer 0 of 3" mixed an index with a
# count). Each scenario failed on the binary before the fix.
. "$(dirname "$0")/lib.bash"
Q=$PWD/sample_models/quadratic-seed
no_eos_name() { screen | grep -qF '</s>' && fail "$1: '</s>' on the screen"; true; }

# the bundled model's default equation, the map view
tui_start 140 45 env COLORTERM=truecolor "$BIN" tui --model "$Q"
wait_for "step 85/85" 1
wait_for "cross layer 0 (0-2) head 0 (0-3)" 1
wait_match '^out\\in .* \$ *$' 7                      # the column header
wait_match "^solution> .*;\\\$\$" 4                   # the solution
wait_for " query 84 ';' (writes '\$')  key 0 '7'" 6   # the status line
wait_match '^ *▀ 84 \$' 42                            # the row label
no_eos_name "cross map"
keys End; wait_for " key 19 '\$'" 6; no_eos_name "cross map, last key"
# every row its own line and label: the encoder's 20 x 20 map
keys 1; wait_for "encoder self layer 0 (0-2) head 0 (0-3)" 1
wait_match '^ +19 \$( |$)' 27
keys End PageDown; wait_for " query 19 '\$'  key 19 '\$'" 6
no_eos_name "encoder map"
keys l h; wait_for "encoder self layer 1 (0-2) head 1 (0-3)" 1
keys a; wait_for "encoder self layer 1 (0-2) mean of 4 heads" 1
keys a 3
# the tokens view
keys w; wait_for "in>  (row 84) 7x^2+3556x+451612=0\$" 7
no_eos_name "tokens view"
keys w; wait_gone "in>  (row"
# the logit lens: its header, its rows and its status
keys u; wait_for "logit lens" 1
wait_for "fed ';', wrote '\$'"
wait_match "lens step 85: writes '\\\$'; layer 0 \\(0-2\\) token 1 '[^']*'"
keys Down; wait_match "; layer 1 \\(0-2\\) token 1 "
no_eos_name "logit lens"
keys u; wait_for "cross layer 1 (0-2)" 1
# the model view, the summary and an ablation say it the same way
keys m; wait_match "model view: cross; selected layer 1 \\(0-2\\) head 1 \\(0-3\\)"
keys s; wait_for "summary (cross): layer 0 (0-2), key"
keys Down End; wait_for "summary (cross): layer 1 (0-2), key 19 '\$' receives"
no_eos_name "summary"
keys v x; wait_for "cross layer 1 (0-2) head 1 (0-3) zeroed; 1 head ablated (X clears)" 3
keys X; wait_for "no head ablated" 3
# the help says both
keys '?'; wait_for "\$ is the end-of-sequence token; layers and heads count from 0"
keys q; wait_gone "attnscope keys"
keys q; wait_for "EXITED rc=0"

# the short title (80 columns) keeps the convention
tui_start 80 24 "$BIN" tui --model "$Q"
wait_for "step 85/85" 1
wait_for "cross L0 (0-2) H0 (0-3)" 1
keys a; wait_for "cross L0 (0-2) mean" 1
keys q; wait_for "EXITED rc=0"

# --max-len: the defaults tui --help gives are the ones the UI decodes with
# (the random model never writes eos, so it runs to the limit)
raw_def=$("$BIN" tui --help | tr -s ' \n' '  ' | sed -n 's/.*default \([0-9]*\) for equations, \([0-9]*\) for raw text.*/\1 \2/p')
[ -n "$raw_def" ] || fail "tui --help gives no --max-len defaults"
set -- $raw_def
tui_start 100 30 "$BIN" tui --model "$MODEL"
wait_for "step ${1:-?}/${1:-?}" 1
keys q; wait_for "EXITED rc=0"
tui_start 100 30 "$BIN" tui --model "$MODEL" --raw "hello world"
wait_for "step ${2:-?}/${2:-?}" 1
wait_for "decoded ${2:-?} tokens" 3
keys q; wait_for "EXITED rc=0"

# SentencePiece: eos is '$' there too, in the row names and the header
if [ -f tests/fixtures/spm-gated/spiece.model ]; then
    tui_start 100 30 "$BIN" tui --model "$PWD/tests/fixtures/spm-gated" "the house"
    wait_match "step [0-9]+/[0-9]+" 1
    keys 1; wait_for "encoder self L0 (0-1) H0 (0-3)" 1
    keys End; wait_match " key [0-9]+ '\\\$'  weight"
    wait_match '^ +[0-9]+ \$( |$)'
    wait_match '^q\\k .* \$ *$'   # the header (it had '<')
    no_eos_name "SentencePiece encoder map"
    keys q; wait_for "EXITED rc=0"
fi
finish
