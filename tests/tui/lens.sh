#!/usr/bin/env bash
# lens.sh - issue 18 in the UI: V switches every map view between the
# attention weights and the value norms (title, legend and status say
# which (the title marks the norms); the cursor's cell is render --measure norms' number), and u opens
# the logit lens, whose last layer's first token is, at every step tried,
# the character the model writes there (read off the solution line).
. "$(dirname "$0")/lib.bash"
Q=$PWD/sample_models/quadratic-seed
EQ='7x^2+3556x+451612=0'

tui_start 160 34 "$BIN" tui --model "$Q" "$EQ"
wait_for "step 85/85" 1
wait_for "cross layer 0 (0-2) head 0 (0-3) │ step" 1
wait_for "cell: one head's weight"
keys V; wait_for "head 0 (0-3), value norms" 1
wait_for "cell: one head's value-norm share"
wait_for " query 84 ';' (writes '\$')  key 0 '7'  norm 0."
# the status's number is render's (4 decimals), cross layer 0 head 0, row 84 key 0
got=$(screen | sed -n "s/.* key 0 '7'  norm \(0\.[0-9]*\).*/\1/p" | head -1)
want=$("$BIN" render --model "$Q" "$EQ" --view cross --layer 0 --head 0 --measure norms \
       --format csv | sed -n 86p | cut -d, -f2)
[ -n "$got" ] && awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; exit !(d < 6e-5 && d > -6e-5) }' ||
    fail "status norm $got, render --measure norms $want"
keys a; wait_for "cell: the mean over heads of value norms"
keys m; wait_for "cross model view, value norms" 1; wait_for "cell: max of a block of value-norm shares"
keys s; wait_for "cross summary view, value norms" 1; wait_for "cell: value-weighted attention a key receives"
keys V; wait_for "cross summary view │" 1; wait_for "cell: attention a key receives"
keys v; wait_for " weight 0."
keys '?'; wait_for "weights / value norms"; keys q; wait_gone "attnscope keys"

# the logit lens: step with , and . ; the last layer's top token is what the
# model writes at that step
keys u; wait_for "logit lens view" 1
out=$(screen | sed -n 's/^solution> //p' | head -1)
for st in 1 6 12 30; do
    keys g; for ((i = 1; i < st; i++)); do keys .; done
    wait_for "step $st/85: row $((st - 1)) fed"
    ch=${out:$((st - 1)):1}
    top=$(screen | sed -n 's/^L2 out *\([^ ]*\) .*/\1/p')
    [ "$top" = "$ch" ] || fail "step $st: the last layer's top token '$top', the model writes '$ch'"
    screen | grep -q "^L0 " || fail "step $st: no layer 0 line"
done
keys Down; wait_for "layer 1 (0-2) token 1"
keys Right; wait_for "layer 1 (0-2) token 2"
keys u; wait_for "cross layer 0 (0-2) mean of 4 heads │" 1
keys q; wait_for "EXITED rc=0"
finish
