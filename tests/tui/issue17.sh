#!/usr/bin/env bash
# issue17.sh - the slips issue 17 lists, each as a person meets them (each
# scenario failed before its fix): ablating while stepping keeps the step's
# rows on screen; a colour scale (0, max, what a cell is, the rows after the
# step) under every view, in every theme and colour depth and NO_COLOR; the
# cursor marks its cell without washing out its row and column; f pools
# only the axis that does not fit; a rejected
# equation says the results under it are stale; at 80x24 the hints keep the
# stepping keys.
. "$(dirname "$0")/lib.bash"

# 1. ablate while stepping: the cursor and the scroll stay on the step's row
tui_start 100 30 "$BIN" tui --model "$MODEL"
wait_for "step 128/128" 1
keys g . . . .; wait_for "step 5/128" 1
keys x; wait_for "1 head ablated"
wait_for " query 4 " 7
screen | grep -q '▶' || fail "the step's row is not on the screen after x"
keys X; wait_for "no head ablated"
wait_for " query 4 " 7
screen | grep -q '▶' || fail "the step's row is not on the screen after X"
keys m x; wait_for "1 head ablated"; keys v; wait_for " query 4 " 7

# 2. the legend: 0, the ramp, its maximum, what a cell is, rows after the step
wait_for " 0 " 29
wait_for "cell: one head's weight" 29
wait_for "rows from 5: after the step (blank)" 29
keys c; wait_for "(max)" 29; wait_for "colours scaled to the map's max" 7
keys a; wait_for "cell: the mean over heads" 29
keys m; wait_for "cell: max of a block of weights" 29
keys s; wait_for "cell: attention a key receives" 29
# 4. the summary's first key is not read as part of the corner ("layer 3")
line 8 | grep -q '^layer' && fail "the summary's corner still says 'layer'"
keys q; wait_for "EXITED rc=0"

# the scale in every theme and colour depth, read with its escapes
legend_e() { "${TMUX_CMD[@]}" capture-pane -e -p -t t | sed -n 29p; }
for th in default light viridis mono; do
    for depth in direct 256 8 none; do
        envs=(env COLORTERM=)
        [ $depth = direct ] && envs=(env COLORTERM=truecolor)
        args=(--color $depth)
        [ $depth = direct ] && args=()
        tui_start 100 30 "${envs[@]}" "$BIN" tui --model "$MODEL" --theme $th "${args[@]}"
        wait_for "cell: one head's weight" 29 || continue
        l=$(legend_e)
        case $th/$depth in
        mono/*|*/none) want='[.:=+*#%@-]' ;;      # shading characters, no colour
        */direct) want=$'\e\\[48;2;' ;;
        */256) want=$'\e\\[48;5;' ;;
        */8) want=$'\e\\[3[0-7]m[.:=+*#%@-]' ;;
        esac
        printf '%s' "$l" | grep -q -- "$want" || fail "theme $th, $depth: no ramp in the legend: $(printf '%q' "$l")"
        printf '%s' "$l" | grep -q " 1  cell" || fail "theme $th, $depth: no maximum in the legend"
        keys q; wait_for "EXITED rc=0"
    done
done
tui_start 100 30 env NO_COLOR=1 "$BIN" tui --model "$MODEL"
wait_for "cell: one head's weight" 29
legend_e | grep -q $'\e\\[[34]8;' && fail "NO_COLOR: colour codes in the legend"
line 29 | grep -q '[.:=+*#%@-]' || fail "NO_COLOR: no shading ramp in the legend"
keys q; wait_for "EXITED rc=0"

# 4. the cursor's cell keeps its heat under a marker; its row is not washed
tui_start 100 30 env COLORTERM=truecolor "$BIN" tui --model "$MODEL"
wait_for "step 128/128" 1
screen | grep -q '◆' || fail "no cursor marker in the map"
keys q; wait_for "EXITED rc=0"

# 3. the screen is used: the bundled model's 20 x 85 cross map at 140 x 45.
# The 20 keys take 6 columns each (not 2); 85 rows do not fit 35 lines, so
# half blocks, each line naming both its rows ("82-83 4;"), the cursor's
# line its row alone and which half ("▀ 84"), and the line under the map
# says how many rows are off screen
BUNDLED=$PWD/sample_models/quadratic-seed
tui_start 140 45 env COLORTERM=truecolor "$BIN" tui --model "$BUNDLED"
wait_for "step 85/85" 1
wait_match '^out\\in +7 {5}x {5}\^ {5}2 {5}\+' 7
wait_line_is 43 "▲ 16 more rows"
wait_match '^ *▀ 84 ' 42
wait_match '^ *82-83 4; ' 41
[ "$(line 20 | sed 's/ *$//' | wc -c)" -ge 125 ] || fail "the cells do not fill the width: '$(line 20)'"
keys Up; wait_for " query 83 " 6
wait_match '^ *▄ 83 ; ' 41
wait_match '^ *84 ' 42
keys PageUp PageUp PageUp; wait_for " query 0 " 6
wait_line_is 43 "▼ 15 more rows"
wait_match '^ *▀ 0 D ' 8
wait_match '^ *2-3 \(3 ' 9
# rows that fit get a line and a label each: the 20 x 20 encoder map
keys 1; wait_for "encoder self layer 0" 1
wait_match '^ +0 7 ' 8
wait_match '^ +1 x *$' 9
wait_match '^ +18 0 *$' 26
screen | grep -q 'more row' && fail "the encoder map fits, but a 'more' line says otherwise"
keys q; wait_for "EXITED rc=0"
# 5. f pools only the axis that does not fit. The 85 x 20 cross map at
# 140 x 45: its rows pool 2 a cell, every key keeps its column ('x' too)
tui_start 140 45 env COLORTERM=truecolor "$BIN" tui --model "$BUNDLED"
wait_for "step 85/85" 1
keys f; wait_for "rows pooled max over 2" 1
wait_match '^out\\in +7 {5}x {5}\^ {5}2 {5}\+' 7
wait_for "cell: max over 2 rows (one head's weight)"
wait_match "^ row 84 '[^']*'  key 0 '7'  max 0\.[0-9]+  \(2x1 a cell\)" 6
wait_match '^ +80 ' 28; wait_match '^ *▀ 84 ' 29   # 43 pooled rows, two a line
screen | grep -q 'more row' && fail "f: the fitted map still has rows off screen"
keys Up Up; wait_match "^ rows 80-81 '[^']*'  key 0 '7'  max" 6
keys M; wait_for "rows pooled mean over 2" 1; wait_for "cell: mean over 2 rows"
keys M z; wait_for "the whole map is on the screen (Z zooms in)" 3
keys f; wait_gone "pooled"; wait_match "^ query 80 " 6
# a map that fits: f says so and pools nothing
keys 1; wait_for "encoder self layer 0" 1
keys f; wait_for "the whole map is on the screen, one token a cell" 3
screen | grep -q "pooled" && fail "f pooled a map that fits"
keys q; wait_for "EXITED rc=0"
# 3. columns off screen, and 5. the other way round for f: a 101-token text
# at 80 x 24, whose 8 rows fit and 101 keys do not
tui_start 80 24 "$BIN" tui --model "$MODEL" --raw --max-len 8 "$(printf 'abcdefghij%.0s' 1 2 3 4 5 6 7 8 9 10)"
wait_for "step 8/8" 1
wait_line_is 16 "▶ 29 more columns"
keys End; wait_for "key 100 " 6
wait_line_is 16 "◀ 29 more columns"
keys Home; wait_for "key 0 " 6
keys f; wait_match "1x2 max|columns pooled max over 2" 1
wait_for "cell: max over 2 keys (one head's weight)"
wait_match "^ row 7 '[^']*'  keys 0-1 'ab'  max 0\.[0-9]+  \(1x2 a cell\)" 6
wait_match '^ +0 ' 8; wait_match '^ +1 ' 9; wait_match '^ +7 ' 15
screen | grep -q 'more column' && fail "f: the fitted map still has columns off screen"
keys Right; wait_for "keys 2-3 'cd'" 6
keys q; wait_for "EXITED rc=0"

# 7. a rejected equation: the results under it are marked stale
tui_start 100 30 "$BIN" tui --model "$MODEL"
wait_for "step 128/128" 1
keys e C-u; typetext "x^2+y=0"; keys Enter
wait_for "column 5"
wait_for "stale: the solution and maps below are of 7x^2+3556x+451612=0" 6
keys C-u; typetext "x^2-5x+6=0"; keys Enter
wait_gone "stale:"
# 6. factored input: the hint gives the form, not somebody else's expansion
keys e C-u; typetext "(x-3)(x+2)=0"; keys Enter
wait_for "parentheses are not supported, write it expanded" 3
line 3 | grep -q "x^2-5x+6" && fail "the hint still shows an unrelated expansion"
keys Escape
keys q; wait_for "EXITED rc=0"
# 7. the light theme on a dark terminal: it paints its own white page, so the
# solution's dark text stands on white (#1c1c1c on #ffffff), not on the
# terminal's dark background; blank cells are white too
tui_start 100 30 env COLORTERM=truecolor "$BIN" tui --model "$MODEL" --theme light
wait_for "theme light (24-bit)" 1
wait_for "step 128/128" 1
esc=$("${TMUX_CMD[@]}" capture-pane -e -p -t t)
printf '%s' "$esc" | grep -q $'\e\\[38;2;28;28;28m\e\\[48;2;255;255;255m' ||
    fail "light: the solution's text is not dark on the theme's white page"
printf '%s' "$esc" | grep -q $'\e\\[49m' && fail "light: some text on the terminal's own background"
keys q; wait_for "EXITED rc=0"
# at 80x24 the hints keep the stepping keys
tui_start 80 24 "$BIN" tui --model "$MODEL"
wait_for "step 128/128" 1
wait_for ",/. step" 24
# the help fits 80x24 whole: its title and its last line are on the screen
keys '?'; wait_for "attnscope keys"; wait_for "any key closes this help"
wait_for "redraw;  this help;  quit"
keys q; wait_for ",/. step" 24
# on 16 lines it shows what fits and says where the rest are
resize 80 16; keys C-l; keys '?'
wait_for "attnscope keys"; wait_for "... the rest: man attnscope; any key closes"
keys x; wait_for ",/. step" 16
keys q; wait_for "EXITED rc=0"
finish
