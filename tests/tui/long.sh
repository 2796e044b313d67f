#!/usr/bin/env bash
# long.sh - a 512-token input (511 bytes + eos) on the small random fixture
# model, which takes any length (relative positions): the 512 x 512 encoder
# map scrolls, zooms out by pooling (fit, max/mean, zoom back in with the
# cursor kept), jumps to a token typed with / (key and query axes, n/N),
# the model view on it, and the run's configuration (O output length,
# T teacher-forced target, --max-len/--target).
. "$(dirname "$0")/lib.bash"

# The text: the pangram over and over with ZEBRA at byte 300.
TEXT=$(awk 'BEGIN { s = ""; while (length(s) < 600) s = s "the quick brown fox jumps over the lazy dog. ";
                     s = substr(s, 1, 300) "ZEBRA" substr(s, 301); printf "%s", substr(s, 1, 511) }')
[ ${#TEXT} -eq 511 ] || { echo "bad test text (${#TEXT} bytes)"; exit 1; }
# Where "lazy" starts (0-based), for the query-axis search.
mapfile -t LAZY < <(awk -v s="$TEXT" 'BEGIN { i = 0; while ((p = index(substr(s, i + 1), "lazy")) > 0) { i += p; print i - 1 } }')
N_LAZY=${#LAZY[@]}

tui_start 120 41 "$BIN" tui --model "$MODEL" --raw --max-len 16 "$TEXT"
wait_for "decoded 16 tokens in" 3
wait_for "from 512 source tokens (the output length limit" 3

# the encoder map, 512 x 512: scroll to the far end and back
keys 1; wait_for "encoder self layer 0 (0-1) head 0 (0-3)" 1
wait_for " query 0 't'  key 0 't'  weight" 6
keys End;  wait_for " key 511 '\$'" 6
# two pages down (a page is the rows on screen), and the cursor's row with it
# (in half blocks its line names it alone: "▄ 125 x")
keys NPage NPage; wait_match "^ query 1[0-9][0-9] " 6
q=$(line 6 | sed -n 's/^ query \([0-9]*\) .*/\1/p')
[ -n "$q" ] && [ "$q" -ge 100 ] || fail "two pages down: query '$q'"
screen | grep -qE "^ *([▀▄] )?$q " || fail "row $q not scrolled into view"
keys Home PPage PPage; wait_for " query 0 't'  key 0 't'" 6

# zoom: fit the whole map, each axis by its own factor (8 rows a cell on
# 120 x 41: 64 half lines; 5 keys a cell in 109 columns), move by cells
keys f; wait_match "8x5 max|max over 8 rows x 5 columns" 1
wait_for " queries 0-7 'the quic'  keys 0-4 'the q'  max 0." 6
wait_for "cell: max of 8 rows x 5 keys (one head's weight)"
screen | grep -qE '^ *496 og\. t' || fail "the last pooled row (496) is not on the fitted screen"
keys Right; wait_for "keys 5-9 'uick '" 6
keys Down;  wait_for " queries 8-15 'k brown '" 6
keys M; wait_match "8x5 mean|mean over 8 rows x 5 columns" 1; wait_for "  mean 0." 6
keys M; wait_match "8x5 max|max over 8 rows x 5 columns" 1
keys z; wait_for "the whole map is on the screen (Z zooms in)" 3; wait_match "8x5 max|max over 8 rows x 5 columns" 1
keys Z; wait_match "4x2 max|max over 4 rows x 2 columns" 1; wait_for " queries 8-11 'k br'  keys 4-5 'qu'" 6
# the keys reach one token a cell first: rows alone are pooled, then nothing
keys Z; wait_match "2x1 max|rows pooled max over 2" 1; wait_for " queries 8-9 'k '  key 5 'u'" 6
keys Z; wait_for "head 0 (0-3) │ step 16/16" 1; wait_for " query 8 'k'  key 5 'u'" 6

# jump: / on the key axis, then the query axis (Tab) with n / N
keys /; wait_for "find key (Tab: query)/" 3
typetext "zebra"; keys Enter
wait_for "/zebra: match 1 of 1, key 300 'Z'" 3
wait_for " key 300 'Z'  weight" 6
keys /; typetext "x"; keys Tab; wait_for "find query (Tab: key)/x" 3
keys C-u; typetext "lazy"; keys Enter
wait_for "/lazy: match 1 of $N_LAZY, query ${LAZY[0]} 'l'" 3
wait_for " query ${LAZY[0]} 'l'" 6
keys n; wait_for "match 2 of $N_LAZY, query ${LAZY[1]} 'l'" 3
keys N; wait_for "match 1 of $N_LAZY, query ${LAZY[0]} 'l'" 3
keys N; wait_for "match $N_LAZY of $N_LAZY, query ${LAZY[N_LAZY-1]} 'l', wrapped" 3
keys /; typetext "nowhere"; keys Enter; wait_for "/nowhere: not on the query axis" 3
# zoomed out, the cursor cell holds the match; zooming back keeps it
keys z z z; wait_match "8x5 max|max over 8 rows x 5 columns" 1
wait_for " queries $(( LAZY[N_LAZY-1] / 8 * 8 ))-" 6
keys Z Z Z; wait_for " query ${LAZY[N_LAZY-1]} 'l'" 6
screen | grep -qE "^ *([▀▄] )?${LAZY[N_LAZY-1]} " || fail "the cursor's row is not on the screen after zooming in"

# the model view on 512 x 512 maps
keys m; wait_for "model view: encoder self; selected layer 0 (0-1) head 0 (0-3)"
# head classes of 512 x 512 maps come on idle frames after the key
wait_for "selected layer 0 (0-1) head 0 (0-3): "
keys Down Right; wait_for "selected layer 1 (0-1) head 1 (0-3)"
keys Enter; wait_for "encoder self layer 1 (0-1) head 1 (0-3)" 1
wait_for "class: " 6; wait_gone "class: ..."
keys 3 m; wait_for "model view: cross; selected layer "
# the summary: 512 key columns, pooled to fit (5 a cell on 120 columns)
keys s; wait_for "summary (cross): layer 0 (0-2), key 300 'Z' receives" 6
keys f; wait_for "summary (cross): layer 0 (0-2), keys 300-304 'ZEBRA' receive max" 6
keys Right; wait_for "keys 305-309 ' the ' receive max" 6
keys M; wait_for "keys 305-309 ' the ' receive mean" 6
keys M f; wait_for "layer 0 (0-2), key 305 '\x20' receives" 6
keys v

# the run: output length (O) and a teacher-forced target (T)
keys O; wait_for "output tokens at most (empty: default)> 16" 3
keys C-u; typetext "abc"; keys Enter; wait_for "output length: a number of tokens from 1 to 511, not 'abc'" 3
keys O C-u; typetext "8"; keys Enter; wait_for "decoded 8 tokens in" 3
wait_for "step 8/8" 1
keys T; wait_for "target (empty: greedy)>" 3
typetext "hello"; keys Enter
wait_for "teacher forced on a target of 6 tokens" 3; wait_for "step 6/6 forced" 1
wait_for "target> hello" 
keys 2; wait_for " query 5 " 6   # the decoder cursor is on the step
keys g; wait_for " query 0 '<pad>' (writes 'h')" 6
keys T C-u Enter; wait_for "no target: the model decodes greedily" 3; wait_gone "forced"
keys q; wait_for "EXITED rc=0"

# --target and --max-len on the command line; a text past 512 tokens
tui_start 100 30 "$BIN" tui --model "$MODEL" --raw --target "the dog" "$TEXT"
wait_for "teacher forced on a target of 8 tokens" 3
wait_for "step 8/8 forced" 1
keys e End; typetext "xx"; keys Enter
wait_for "the input is 514 tokens with eos; the UI takes 512 at most" 3
keys Escape q; wait_for "EXITED rc=0"
finish
