/* test_grid.c - the map grid (grid.h): scrolling windows that keep the
 * cursor visible, half-block pairing, cell flags and paints in every colour
 * depth, axis labels, and the map reductions (head mean, summary, thumbnails),
 * on hand-built maps. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "byt5.h"
#include "grid.h"

static void test_scroll(void **state)
{
    (void)state;
    assert_int_equal(grid_scroll(0, 5, 10, 8, 1), 0);   /* fits: no scroll */
    assert_int_equal(grid_scroll(0, 3, 5, 20, 1), 0);   /* inside: stays */
    assert_int_equal(grid_scroll(0, 5, 5, 20, 1), 1);   /* one past the end: minimal move */
    assert_int_equal(grid_scroll(0, 19, 5, 20, 1), 15); /* last row */
    assert_int_equal(grid_scroll(15, 2, 5, 20, 1), 2);  /* back up */
    assert_int_equal(grid_scroll(18, 19, 5, 20, 1), 15); /* window kept inside the map */
    /* aligned (half blocks): offsets stay even and the cursor stays inside */
    for (size_t cur = 0; cur < 21; cur++)
        for (size_t off = 0; off < 21; off += 2) {
            size_t o = grid_scroll(off, cur, 6, 21, 2);
            assert_int_equal(o % 2, 0);
            assert_true(cur >= o && cur < o + 6);
        }
}

static void test_layout_fits(void **state)
{
    (void)state;
    grid_area g = {0};
    grid_layout(&g, 10, 12, 20, 60, 0, 1, 8, 0, 0);
    assert_int_equal(g.vis_rows, 10);
    assert_int_equal(g.vis_cols, 12);
    assert_int_equal(g.cell_w, 2); /* room for wide cells */
    assert_int_equal(g.n_lines, 10);
    assert_int_equal(g.row0, 0);
    /* too narrow for wide cells */
    grid_layout(&g, 10, 30, 20, 40, 0, 1, 8, 0, 0);
    assert_int_equal(g.cell_w, 1);
    assert_int_equal(g.vis_cols, 30);
    /* half blocks: two rows per line, always one column per map column */
    grid_layout(&g, 9, 12, 20, 60, 1, 1, 8, 0, 0);
    assert_int_equal(g.cell_w, 1);
    assert_int_equal(g.n_lines, 5);
    assert_int_equal(g.vis_rows, 9);
}

static void test_layout_scrolls_to_cursor(void **state)
{
    (void)state;
    grid_area g = {0};
    /* 40x40 map in 11 lines (10 of cells) and 30 columns (8 of labels) */
    grid_layout(&g, 40, 40, 11, 30, 0, 0, 8, 35, 39);
    assert_int_equal(g.vis_rows, 10);
    assert_int_equal(g.vis_cols, 22);
    assert_int_equal(g.row0, 26);
    assert_int_equal(g.col0, 18);
    /* moving up inside the window keeps it; above it scrolls minimally */
    grid_layout(&g, 40, 40, 11, 30, 0, 0, 8, 30, 20);
    assert_int_equal(g.row0, 26);
    assert_int_equal(g.col0, 18);
    grid_layout(&g, 40, 40, 11, 30, 0, 0, 8, 3, 0);
    assert_int_equal(g.row0, 3);
    assert_int_equal(g.col0, 0);
    /* half mode: even first row, cursor on the last (odd) row of the map */
    memset(&g, 0, sizeof g);
    grid_layout(&g, 41, 10, 6, 30, 1, 0, 8, 40, 0);
    assert_int_equal(g.row0 % 2, 0);
    assert_true(40 >= g.row0 && 40 < g.row0 + g.vis_rows);
    assert_int_equal(g.row0 + g.vis_rows, 41);
    /* nothing fits */
    grid_layout(&g, 4, 4, 1, 30, 0, 0, 8, 0, 0);
    assert_int_equal(g.vis_rows, 0);
    assert_int_equal(g.n_lines, 0);
    grid_layout(&g, 4, 4, 10, 8, 0, 0, 8, 0, 0);
    assert_int_equal(g.vis_cols, 0);
}

/* A 5x4 map with map[r][c] = (r*4+c)/20 and a row stride of 6. */
static void fill_map(float *m)
{
    for (size_t r = 0; r < 5; r++)
        for (size_t c = 0; c < 6; c++) m[r * 6 + c] = c < 4 ? (float)(r * 4 + c) / 20.0f : -1.0f;
}

static void test_cells_half_pairing(void **state)
{
    (void)state;
    float m[30];
    fill_map(m);
    grid_area g = {0};
    grid_layout(&g, 5, 4, 10, 20, 1, 0, 6, 2, 1);
    assert_int_equal(g.n_lines, 3);
    grid_cell c;
    assert_int_equal(grid_cell_at(&g, m, 6, 5, 1.0, 2, 1, 1, 1, &c), 0);
    assert_int_equal(c.row, 2);
    assert_int_equal(c.col, 1);
    assert_float_equal(c.top, 9 / 20.0f, 1e-6);
    assert_float_equal(c.bot, 13 / 20.0f, 1e-6);
    assert_true(c.flags & GRID_CELL_HAS_BOT);
    assert_true(c.flags & GRID_CELL_CURSOR_TOP);
    assert_false(c.flags & GRID_CELL_CURSOR_BOT);
    assert_true(c.flags & GRID_CELL_CROSS_BOT); /* same column as the cursor */
    /* last line: row 4 alone, no bottom */
    assert_int_equal(grid_cell_at(&g, m, 6, 5, 1.0, 2, 1, 2, 3, &c), 0);
    assert_int_equal(c.row, 4);
    assert_false(c.flags & GRID_CELL_HAS_BOT);
    assert_false(c.flags & (GRID_CELL_CROSS_TOP | GRID_CELL_CURSOR_TOP));
    /* outside the window */
    assert_int_equal(grid_cell_at(&g, m, 6, 5, 1.0, 2, 1, 3, 0, &c), -1);
    assert_int_equal(grid_cell_at(&g, m, 6, 5, 1.0, 2, 1, 0, 4, &c), -1);
    /* masking rows past the decoding step, and vmax scaling with clamping */
    assert_int_equal(grid_cell_at(&g, m, 6, 3, 0.5, 0, 0, 1, 0, &c), 0);
    assert_false(c.flags & GRID_CELL_MASK_TOP); /* row 2 < 3 live rows */
    assert_true(c.flags & GRID_CELL_MASK_BOT);  /* row 3 */
    assert_float_equal(c.top, (8 / 20.0f) / 0.5f, 1e-6);
    assert_float_equal(c.bot, 1.0f, 1e-6);     /* 12/20/0.5 clamped */
}

static void test_paint(void **state)
{
    (void)state;
    theme t;
    theme_default(&t);
    grid_area g = {.half = 1, .cell_w = 1};
    grid_cell c = {.top = 1.0f, .bot = 0.0f, .flags = GRID_CELL_HAS_BOT};
    grid_paint p;
    grid_paint_cell(&c, &g, &t, THEME_COLOR_DIRECT, &p);
    assert_string_equal(p.text, "\xe2\x96\x80");
    assert_int_equal(p.fg, theme_ramp(&t, 1.0));
    assert_int_equal(p.bg, theme_ramp(&t, 0.0));
    /* the cursor on the bottom half: a marker in the cursor colour over
       that row's heat (issue 17: the cursor cell keeps its weight) */
    c.flags |= GRID_CELL_CURSOR_BOT;
    grid_paint_cell(&c, &g, &t, THEME_COLOR_256, &p);
    assert_string_equal(p.text, "\xe2\x97\x86");
    assert_int_equal(p.bg, theme_ramp(&t, 0.0));
    assert_int_equal(p.fg, t.style[ROLE_CURSOR].bg);
    c.flags = GRID_CELL_HAS_BOT | GRID_CELL_CURSOR_TOP;
    grid_paint_cell(&c, &g, &t, THEME_COLOR_DIRECT, &p);
    assert_int_equal(p.bg, theme_ramp(&t, 1.0));
    /* masked top over a live bottom: the lower half block in the bottom colour */
    c.flags = GRID_CELL_HAS_BOT | GRID_CELL_MASK_TOP;
    c.bot = 1.0f;
    grid_paint_cell(&c, &g, &t, THEME_COLOR_DIRECT, &p);
    assert_string_equal(p.text, "\xe2\x96\x84");
    assert_int_equal(p.fg, theme_ramp(&t, 1.0));
    /* the cursor's row and column keep their heat */
    c.flags = GRID_CELL_HAS_BOT | GRID_CELL_CROSS_TOP;
    c.top = 0.0f;
    grid_paint_cell(&c, &g, &t, THEME_COLOR_DIRECT, &p);
    assert_int_equal(p.fg, theme_ramp(&t, 0));
    /* plain cells, wide, in colour: two spaces on the ramp colour */
    grid_area g2 = {.half = 0, .cell_w = 2};
    grid_cell d = {.top = 0.45f};
    grid_paint_cell(&d, &g2, &t, THEME_COLOR_256, &p);
    assert_string_equal(p.text, "  ");
    assert_int_equal(p.bg, theme_ramp(&t, 0.45f));
    d.flags = GRID_CELL_CURSOR_TOP; /* brackets on the heat without UTF-8 */
    grid_paint_cell(&d, &g2, &t, THEME_COLOR_256, &p);
    assert_string_equal(p.text, "[]");
    assert_int_equal(p.bg, theme_ramp(&t, 0.45f));
    d.flags = 0;
    /* no colour: shading characters, the cursor's reversed, its row plain */
    grid_paint_cell(&d, &g2, &t, THEME_COLOR_NONE, &p);
    assert_string_equal(p.text, "==");
    assert_int_equal(p.fg, THEME_DEFAULT);
    assert_int_equal(p.attr, 0);
    d.top = 1.0f;
    d.flags = GRID_CELL_CURSOR_TOP;
    g2.cell_w = 1;
    grid_paint_cell(&d, &g2, &t, THEME_COLOR_NONE, &p);
    assert_string_equal(p.text, "@");
    assert_true(p.attr & THEME_REVERSE);
    d.top = 0.0f;
    grid_paint_cell(&d, &g2, &t, THEME_COLOR_NONE, &p);
    assert_string_equal(p.text, "+"); /* a visible cursor on an empty cell */
    d.flags = GRID_CELL_CROSS_TOP;
    d.top = 0.35f;
    grid_paint_cell(&d, &g2, &t, THEME_COLOR_NONE, &p);
    assert_string_equal(p.text, "-");
    assert_int_equal(p.attr, 0);
    /* 8 colours: shading characters, coloured */
    d.flags = 0;
    grid_paint_cell(&d, &g2, &t, THEME_COLOR_8, &p);
    assert_string_equal(p.text, "-");
    assert_int_not_equal(p.fg, THEME_DEFAULT);
    /* half mode falls back to shading in 8 colours */
    grid_paint_cell(&d, &g, &t, THEME_COLOR_8, &p);
    assert_string_equal(p.text, "-");
    /* masked plain cell is blank */
    d.flags = GRID_CELL_MASK_TOP;
    grid_paint_cell(&d, &g2, &t, THEME_COLOR_NONE, &p);
    assert_string_equal(p.text, " ");
}

static void test_labels(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(grid_token_short('x' + BYT5_OFFSET, buf, sizeof buf), "x");
    assert_string_equal(grid_token_short(BYT5_EOS, buf, sizeof buf), "$");
    assert_string_equal(grid_token_short(BYT5_PAD, buf, sizeof buf), "_");
    assert_string_equal(grid_token_short(' ' + BYT5_OFFSET, buf, sizeof buf), ".");
    assert_string_equal(grid_token_short(0xC3 + BYT5_OFFSET, buf, sizeof buf), ".");
    assert_true(grid_token_is_special('^' + BYT5_OFFSET));
    assert_true(grid_token_is_special(BYT5_EOS));
    assert_false(grid_token_is_special('7' + BYT5_OFFSET));

    /* "7x^2=0" and eos as tokens: row labels in full and half mode (eos reads "$") */
    const char *src = "7x^2=0";
    int ids[7];
    size_t n = byt5_encode_eos(src, ids, 7);
    assert_int_equal(n, 7);
    size_t lw = grid_row_label_width(n, 0, 5);
    assert_int_equal(lw, 1 + 1 + 5 + 1);
    grid_area g = {0};
    grid_layout(&g, n, n, 10, 40, 0, 0, lw, 0, 0);
    assert_string_equal(grid_row_label(&g, 1, ids, NULL, buf, sizeof buf), "    1 x ");
    assert_string_equal(grid_row_label(&g, 6, ids, NULL, buf, sizeof buf), "    6 $ ");
    assert_string_equal(grid_row_label(&g, 7, ids, NULL, buf, sizeof buf), "");
    lw = grid_row_label_width(n, 1, 5);
    memset(&g, 0, sizeof g);
    grid_layout(&g, n, n, 10, 40, 1, 0, lw, 0, 0);
    assert_int_equal(g.n_lines, 4);
    assert_int_equal(lw, 3 + 1 + 2 + 1);
    /* a pair of rows names both: their index range and their tokens */
    assert_string_equal(grid_row_label(&g, 0, ids, NULL, buf, sizeof buf), "0-1 7x ");
    assert_string_equal(grid_row_label(&g, 1, ids, NULL, buf, sizeof buf), "2-3 ^2 ");
    assert_string_equal(grid_row_label(&g, 3, ids, NULL, buf, sizeof buf), "   6 $ ");
    /* the cursor's line names the cursor's row alone, with its half */
    assert_string_equal(grid_row_label_cursor(&g, 1, ids, NULL, 3, 1, buf, sizeof buf),
                        " \xe2\x96\x84 3 2 ");
    assert_string_equal(grid_row_label_cursor(&g, 1, ids, NULL, 2, 0, buf, sizeof buf),
                        " ^ 2 ^ ");
    assert_string_equal(grid_row_label_cursor(&g, 1, ids, NULL, 5, 0, buf, sizeof buf),
                        "2-3 ^2 "); /* not on this line: the plain label */
    assert_int_equal(grid_row_label_width(100, 1, 0), 5 + 1 + 2 + 1); /* "98-99 x^ " */
    /* column labels: scrolled window, cursor and special tokens */
    memset(&g, 0, sizeof g);
    grid_layout(&g, n, n, 10, 8 + 4, 0, 0, 8, 0, 5); /* 4 visible columns */
    assert_int_equal(g.vis_cols, 4);
    assert_int_equal(g.col0, 2);
    assert_int_equal(grid_col_label(&g, 0, ids, 5, buf, sizeof buf), GRID_LABEL_SPECIAL);
    assert_string_equal(buf, "^");
    assert_int_equal(grid_col_label(&g, 1, ids, 5, buf, sizeof buf), GRID_LABEL_PLAIN);
    assert_string_equal(buf, "2");
    assert_int_equal(grid_col_label(&g, 3, ids, 5, buf, sizeof buf), GRID_LABEL_CURSOR);
    assert_string_equal(buf, "0");
    assert_int_equal(grid_col_label(&g, 4, ids, 5, buf, sizeof buf), -1);
    /* named rows (summary map: layers) */
    const char *names[3] = {"L0", "L1", "L2"};
    memset(&g, 0, sizeof g);
    grid_layout(&g, 3, n, 10, 40, 0, 0, grid_row_label_width(3, 0, 2), 0, 0);
    assert_string_equal(grid_row_label(&g, 2, NULL, names, buf, sizeof buf), "  L2 ");
    /* a label that does not fit is cut, never overflows the label column */
    memset(&g, 0, sizeof g);
    grid_layout(&g, n, n, 10, 40, 0, 0, 5, 0, 0);
    assert_string_equal(grid_row_label(&g, 1, ids, NULL, buf, sizeof buf), " 1 x ");
    ids[1] = BYT5_PAD; /* "<pad>" keeps its name, cut to the column */
    assert_string_equal(grid_row_label(&g, 1, ids, NULL, buf, sizeof buf), "1 <p ");
}

static void test_reductions(void **state)
{
    (void)state;
    /* two heads of a 2x3 map, row stride 4, head stride 8 */
    float maps[16] = {1, 0, 0, 9, 0, 1, 0, 9, /* head 0 */
                      0, 0, 1, 9, 0.5f, 0.5f, 0, 9};
    float mean[6], recv[3];
    grid_head_mean(maps, 2, 8, 2, 3, 4, mean);
    float want_mean[6] = {0.5f, 0, 0.5f, 0.25f, 0.75f, 0};
    assert_close_array(mean, want_mean, 6, 1e-6, 0);
    grid_received(maps, 2, 8, 2, 3, 4, recv);
    float want_recv[3] = {0.75f, 0.75f, 0.5f};
    assert_close_array(recv, want_recv, 3, 1e-6, 0);
    grid_received(maps, 2, 8, 1, 3, 4, recv); /* only the first query row */
    float want_recv1[3] = {1, 0, 1};
    assert_close_array(recv, want_recv1, 3, 1e-6, 0);

    /* max pooling keeps a one-cell diagonal visible */
    float eye[64] = {0};
    for (int i = 0; i < 8; i++) eye[i * 8 + i] = 1;
    float th[4];
    grid_downsample(eye, 8, 8, 8, th, 2, 2);
    float want_th[4] = {1, 0, 0, 1};
    assert_close_array(th, want_th, 4, 0, 0);
    float same[64];
    grid_downsample(eye, 8, 8, 8, same, 8, 8);
    assert_close_array(same, eye, 64, 0, 0);
    float odd[6];
    grid_downsample(eye, 7, 7, 8, odd, 3, 2); /* uneven blocks cover every cell */
    for (int i = 0; i < 6; i++) assert_true(odd[i] == 0 || odd[i] == 1);
    assert_float_equal(odd[0], 1, 0);
    assert_float_equal(odd[5], 1, 0);
}

/* Cells scaled to the space: square, even scales, one line per row. */
static void test_grid_fit(void **state)
{
    (void)state;
    grid_area g = {0};
    /* 20x20 encoder map on 120x30 (label 8): 2 columns x 2 half lines */
    grid_fit(&g, 20, 20, 30, 120, 1, 8, 8, 0, 0);
    assert_int_equal(g.cell_w, 2);
    assert_int_equal(g.sy, 2);
    assert_int_equal(g.vis_rows, 20);
    assert_int_equal(g.vis_cols, 20);
    assert_int_equal(g.n_lines, 20);
    for (size_t l = 0; l < 20; l++) assert_int_equal(grid_line_row(&g, l), (long)l);
    assert_int_equal(grid_line_row(&g, 20), -1);
    /* a summary (3 layers x 20 tokens) on 120x28: 5 fits, rounded to 4 */
    memset(&g, 0, sizeof g);
    grid_fit(&g, 3, 20, 28, 120, 1, 8, 8, 0, 0);
    assert_int_equal(g.cell_w, 4);
    assert_int_equal(g.sy, 4);
    assert_int_equal(g.n_lines, 6);
    long want_rows[6] = {0, -1, 1, -1, 2, -1};
    for (size_t l = 0; l < 6; l++) assert_int_equal(grid_line_row(&g, l), want_rows[l]);
    float m[60];
    for (int i = 0; i < 60; i++) m[i] = (float)i / 60.0f;
    grid_cell c;
    assert_int_equal(grid_cell_at(&g, m, 20, 3, 1.0, 1, 5, 3, 5, &c), 0);
    assert_int_equal(c.row, 1);
    assert_int_equal(c.col, 5);
    assert_true(c.flags & GRID_CELL_SAME);
    assert_true(c.flags & GRID_CELL_CURSOR_TOP);
    assert_false(c.flags & GRID_CELL_HAS_BOT);
    assert_int_equal(grid_cell_at(&g, m, 20, 3, 1.0, 1, 5, 6, 0, &c), -1);
    /* a whole-line cell paints cell_w columns of the row's colour */
    theme t;
    theme_default(&t);
    grid_paint p;
    c.flags = GRID_CELL_SAME;
    c.top = c.bot = 0.5f;
    grid_paint_cell(&c, &g, &t, THEME_COLOR_DIRECT, &p);
    assert_string_equal(p.text, "    ");
    assert_int_equal(p.bg, theme_ramp(&t, 0.5f));
    grid_paint_cell(&c, &g, &t, THEME_COLOR_NONE, &p);
    assert_string_equal(p.text, "++++");
    /* labels: one per row, blank on the lines that continue a row */
    const char *names[3] = {"L0", "L1", "L2"};
    char buf[64];
    assert_string_equal(grid_row_label(&g, 2, NULL, names, buf, sizeof buf), "     L1 ");
    assert_string_equal(grid_row_label(&g, 3, NULL, names, buf, sizeof buf), "        ");
    /* a tall cross map does not fit: half blocks, two rows a line, scrolls;
       the width still gives each of its 20 keys two columns */
    memset(&g, 0, sizeof g);
    grid_fit(&g, 128, 20, 25, 100, 1, 8, 8, 127, 0);
    assert_int_equal(g.sy, 1);
    assert_int_equal(g.cell_w, 2);
    assert_int_equal(g.vis_cols, 20);
    assert_int_equal(g.n_lines, 24);
    assert_int_equal(g.row0, 80);
    assert_int_equal(grid_line_row(&g, 23), 126);
    /* ... one column a key when two would not fit (60 keys in 92); no half
       blocks: whole lines, two columns a line unless too wide; the scale
       stops at max_scale (label 8, max_scale 8, cursor at 0, 0) */
    static const struct {
        size_t rows, cols, height, width;
        int half;
        size_t sy, cell_w, vis_cols, n_lines;
    } cases[] = {
        {128, 60, 25, 100, 1, 1, 1, 60, 24},
        {20, 20, 30, 120, 0, 2, 2, 20, 20},
        {3, 20, 28, 120, 0, 4, 4, 20, 6},
        {20, 60, 30, 100, 0, 2, 1, 60, 20},
        {2, 2, 100, 200, 1, 8, 8, 2, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&g, 0, sizeof g);
        grid_fit(&g, cases[i].rows, cases[i].cols, cases[i].height, cases[i].width,
                 cases[i].half, 8, 8, 0, 0);
        assert_int_equal(g.sy, cases[i].sy);
        assert_int_equal(g.cell_w, cases[i].cell_w);
        assert_int_equal(g.vis_cols, cases[i].vis_cols);
        assert_int_equal(g.n_lines, cases[i].n_lines);
    }
}

/* Cells that fill the area: width and height filled apart, a line a row
   when the rows fit, half lines only when they do not, and the line that
   says what is off screen. */
static void test_grid_fill(void **state)
{
    (void)state;
    grid_area g = {0};
    char buf[160];
    /* issue 17: the 20 x 85 cross map at 140 x 45 (a view of 37 lines, label
       9): the 20 keys take 6 columns each, not 2; 85 rows do not fit 36
       lines, so half lines, and the 15 rows left over are said */
    grid_fill(&g, 85, 20, 37, 140, 1, 8, 9, 84, 0);
    assert_int_equal(g.cell_w, 6);
    assert_int_equal(g.sy, 1);
    assert_int_equal(g.vis_cols, 20);
    assert_int_equal(g.row0, 16); /* even, so rows pair the same way */
    assert_int_equal(g.vis_rows, 69);
    assert_int_equal(g.n_lines, 35);
    assert_true(g.more);
    size_t up, down, left, right;
    grid_hidden(&g, &up, &down, &left, &right);
    assert_int_equal(up, 16);
    assert_int_equal(down + left + right, 0);
    assert_string_equal(grid_more_text(&g, 1, buf, sizeof buf), "\xe2\x96\xb2 16 more rows");
    /* the cursor up inside the window: nothing scrolls */
    grid_fill(&g, 85, 20, 37, 140, 1, 8, 9, 40, 0);
    assert_int_equal(g.row0, 16);
    /* up past its top: both ends said */
    grid_fill(&g, 85, 20, 37, 140, 1, 8, 9, 10, 0);
    assert_int_equal(g.row0, 10);
    assert_string_equal(grid_more_text(&g, 0, buf, sizeof buf), "^ 10 more rows  v 5 more rows");
    /* the same map, 36 lines of cells with the "more" line: at the top */
    memset(&g, 0, sizeof g);
    grid_fill(&g, 85, 20, 37, 140, 1, 8, 9, 0, 0);
    assert_int_equal(g.row0, 0);
    assert_string_equal(grid_more_text(&g, 1, buf, sizeof buf), "\xe2\x96\xbc 15 more rows");
    /* 85 rows in 45 lines of half lines: the whole map, no "more" line */
    memset(&g, 0, sizeof g);
    grid_fill(&g, 85, 20, 45, 140, 1, 8, 9, 84, 0);
    assert_int_equal(g.sy, 1);
    assert_int_equal(g.vis_rows, 85);
    assert_int_equal(g.n_lines, 43);
    assert_false(g.more);
    assert_string_equal(grid_more_text(&g, 1, buf, sizeof buf), "");
    /* rows that fit get whole lines, one label each, even with half blocks
       allowed: a 20 x 20 map in 37 lines: one line a row, 6 columns a key */
    memset(&g, 0, sizeof g);
    grid_fill(&g, 20, 20, 37, 140, 1, 8, 9, 0, 0);
    assert_int_equal(g.sy, 2);
    assert_int_equal(g.cell_w, 6);
    assert_int_equal(g.n_lines, 20);
    for (size_t l = 0; l < 20; l++) assert_int_equal(grid_line_row(&g, l), (long)l);
    /* three rows (a summary) in 37 lines: 4 lines each, the cap */
    memset(&g, 0, sizeof g);
    grid_fill(&g, 3, 20, 37, 140, 0, 8, 9, 0, 0);
    assert_int_equal(g.sy, 8);
    assert_int_equal(g.n_lines, 12);
    assert_int_equal(grid_line_row(&g, 4), 1);
    /* no half blocks: a tall map scrolls a line a row */
    memset(&g, 0, sizeof g);
    grid_fill(&g, 85, 20, 37, 140, 0, 8, 9, 84, 0);
    assert_int_equal(g.sy, 2);
    assert_int_equal(g.vis_rows, 35);
    assert_int_equal(g.row0, 50);
    assert_true(g.more);
    /* a map wider than the room: a column a key, scrolled to the cursor, the
       columns either side said; its rows fit the lines left */
    memset(&g, 0, sizeof g);
    grid_fill(&g, 10, 200, 20, 100, 1, 8, 10, 0, 150);
    assert_int_equal(g.cell_w, 1);
    assert_int_equal(g.vis_cols, 90);
    assert_int_equal(g.sy, 2);
    assert_int_equal(g.n_lines, 10);
    assert_true(g.more);
    grid_hidden(&g, &up, &down, &left, &right);
    assert_int_equal(up + down, 0);
    assert_int_equal(left, 61);
    assert_int_equal(right, 49);
    assert_string_equal(grid_more_text(&g, 0, buf, sizeof buf),
                        "< 61 more columns  > 49 more columns");
    /* 19 rows in 20 lines fit, but not when the columns need the "more"
       line as well... 20 rows then go in half lines */
    memset(&g, 0, sizeof g);
    grid_fill(&g, 19, 200, 20, 100, 1, 8, 10, 0, 0);
    assert_int_equal(g.sy, 1);
    assert_int_equal(g.n_lines, 10);
    /* one line of cells: no room for a "more" line */
    memset(&g, 0, sizeof g);
    grid_fill(&g, 5, 5, 2, 100, 1, 8, 10, 0, 0);
    assert_false(g.more);
    assert_int_equal(g.n_lines, 1);
    /* the cursor row in the bottom half: clicks and labels agree */
    memset(&g, 0, sizeof g);
    grid_fill(&g, 85, 20, 37, 140, 1, 8, 9, 84, 0);
    size_t r, c;
    assert_int_equal(grid_hit(&g, 33, 9 + 6 * 3, &r, &c), 0);
    assert_int_equal(r, 82);
    assert_int_equal(c, 3);
}

/* Pooling for zoomed-out maps: max and mean over z x z blocks, ragged
   edges, rows past the live count, and a 512 x 512 map whose diagonal stays
   visible when pooled. */
static void test_pool(void **state)
{
    (void)state;
    assert_int_equal(grid_pool_size(512, 8), 64);
    assert_int_equal(grid_pool_size(513, 8), 65);
    assert_int_equal(grid_pool_size(5, 0), 5);
    assert_int_equal(grid_pool_size(0, 4), 0);
    /* 5 x 5, values r*10 + c, stride 6 */
    float map[5 * 6], out[9];
    for (int r = 0; r < 5; r++)
        for (int c = 0; c < 6; c++) map[r * 6 + c] = (float)(r * 10 + c);
    float mx = grid_pool(map, 5, 5, 6, 5, 2, 2, 0, out);
    float want_max[9] = {11, 13, 14, 31, 33, 34, 41, 43, 44};
    for (int i = 0; i < 9; i++) assert_float_equal(out[i], want_max[i], 1e-6);
    assert_float_equal(mx, 44, 1e-6);
    grid_pool(map, 5, 5, 6, 5, 2, 2, 1, out);
    /* block (0,0): 0 1 10 11 -> 5.5; (0,2): 4 14 -> 9; (2,2): 44 */
    assert_float_equal(out[0], 5.5, 1e-6);
    assert_float_equal(out[2], 9, 1e-6);
    assert_float_equal(out[8], 44, 1e-6);
    assert_float_equal(out[7], (42 + 43) / 2.0, 1e-6);
    /* Live rows: 3 of 5 -> pooled row 1 pools row 2 only, row 2 is empty. */
    mx = grid_pool(map, 5, 5, 6, 3, 2, 2, 0, out);
    assert_float_equal(out[3], 21, 1e-6);
    assert_float_equal(out[5], 24, 1e-6);
    assert_float_equal(out[6], 0, 1e-6);
    assert_float_equal(out[8], 0, 1e-6);
    assert_float_equal(mx, 24, 1e-6);
    grid_pool(map, 5, 5, 6, 3, 2, 2, 1, out);
    assert_float_equal(out[4], (22 + 23) / 2.0, 1e-6);
    /* z 1 copies. */
    float one[25];
    grid_pool(map, 5, 5, 6, 5, 1, 1, 1, one);
    assert_float_equal(one[7], 12, 1e-6);
    /* 512 x 512: a one-hot diagonal pooled 8 x 8 by max is a diagonal of
       ones, by mean 1/8 on the diagonal; zero elsewhere. */
    size_t n = 512, z = 8, p = grid_pool_size(n, z);
    float *big = calloc(n * n, sizeof *big), *pool = calloc(p * p, sizeof *pool);
    assert_non_null(big);
    assert_non_null(pool);
    for (size_t i = 0; i < n; i++) big[i * n + i] = 1;
    assert_float_equal(grid_pool(big, n, n, n, n, z, z, 0, pool), 1, 1e-6);
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < p; j++) assert_float_equal(pool[i * p + j], i == j ? 1 : 0, 1e-6);
    grid_pool(big, n, n, n, n, z, z, 1, pool);
    assert_float_equal(pool[10 * p + 10], 1.0 / 8, 1e-6);
    assert_float_equal(pool[10 * p + 11], 0, 1e-6);
    free(big);
    free(pool);
}

/* Two factors (issue 17, defect 5): rows pooled and columns not, and the
   other way round, by max and by mean, with live rows; exact values of the
   5 x 5 map r*10 + c. */
static void test_pool_axes(void **state)
{
    (void)state;
    float map[5 * 6], out[25];
    for (int r = 0; r < 5; r++)
        for (int c = 0; c < 6; c++) map[r * 6 + c] = (float)(r * 10 + c);
    /* rows 2 a cell, columns 1: 3 x 5; max of rows (0,1) (2,3) (4) */
    assert_float_equal(grid_pool(map, 5, 5, 6, 5, 2, 1, 0, out), 44, 1e-6);
    float rows_max[15] = {10, 11, 12, 13, 14, 30, 31, 32, 33, 34, 40, 41, 42, 43, 44};
    for (int i = 0; i < 15; i++) assert_float_equal(out[i], rows_max[i], 1e-6);
    grid_pool(map, 5, 5, 6, 5, 2, 1, 1, out);
    float rows_mean[15] = {5, 6, 7, 8, 9, 25, 26, 27, 28, 29, 40, 41, 42, 43, 44};
    for (int i = 0; i < 15; i++) assert_float_equal(out[i], rows_mean[i], 1e-6);
    /* columns 3 a cell, rows 1: 5 x 2; columns (0-2) (3-4) */
    assert_float_equal(grid_pool(map, 5, 5, 6, 5, 1, 3, 0, out), 44, 1e-6);
    float cols_max[10] = {2, 4, 12, 14, 22, 24, 32, 34, 42, 44};
    for (int i = 0; i < 10; i++) assert_float_equal(out[i], cols_max[i], 1e-6);
    grid_pool(map, 5, 5, 6, 5, 1, 3, 1, out);
    float cols_mean[10] = {1, 3.5f, 11, 13.5f, 21, 23.5f, 31, 33.5f, 41, 43.5f};
    for (int i = 0; i < 10; i++) assert_float_equal(out[i], cols_mean[i], 1e-6);
    /* 2 x 3 with 3 live rows: block row 1 pools row 2 alone, row 2 is 0 */
    assert_float_equal(grid_pool(map, 5, 5, 6, 3, 2, 3, 0, out), 24, 1e-6);
    float both_max[6] = {12, 14, 22, 24, 0, 0};
    for (int i = 0; i < 6; i++) assert_float_equal(out[i], both_max[i], 1e-6);
    grid_pool(map, 5, 5, 6, 3, 2, 3, 1, out);
    /* (0+1+2+10+11+12)/6, (3+4+13+14)/4, (20+21+22)/3, (23+24)/2 */
    float both_mean[6] = {6, 8.5f, 21, 23.5f, 0, 0};
    for (int i = 0; i < 6; i++) assert_float_equal(out[i], both_mean[i], 1e-6);
}

/* The zoom that fits a map whole, and the scroll origin after a zoom that
   keeps the cursor's place. */
static void test_zoom(void **state)
{
    (void)state;
    /* 512 x 512 in 34 lines (33 of cells) x 120 columns, labels 10 wide:
       half blocks 66 half lines -> z 8 (64 rows, 64 columns). */
    size_t zr, zc;
    grid_zoom_fit(512, 512, 34, 120, 1, 10, &zr, &zc);
    assert_int_equal(zr, 8);
    assert_int_equal(zc, 5); /* 110 columns for 512 keys */
    /* Whole lines: 33 rows -> 16 rows a cell (32 rows). */
    grid_zoom_fit(512, 512, 34, 120, 0, 10, &zr, &zc);
    assert_int_equal(zr, 16);
    assert_int_equal(zc, 5);
    /* Only the axis that does not fit is pooled (issue 17, defect 5): a
       wide map pools its columns alone, ... */
    grid_zoom_fit(20, 512, 34, 120, 1, 10, &zr, &zc);
    assert_int_equal(zr, 1);
    assert_int_equal(zc, 5);
    /* ... the bundled model's 85 x 20 cross map at 140 x 45 (a view of 37
       lines, 72 half lines of cells) its rows alone, 2 a cell */
    grid_zoom_fit(85, 20, 37, 140, 1, 9, &zr, &zc);
    assert_int_equal(zr, 2);
    assert_int_equal(zc, 1);
    grid_zoom_fit(20, 20, 34, 120, 1, 10, &zr, &zc);
    assert_int_equal(zr + zc, 2);
    grid_zoom_fit(20, 20, 1, 120, 1, 10, &zr, &zc); /* no room: 1 */
    assert_int_equal(zr + zc, 2);
    /* Cursor token 300, 5 cells below the top at the old zoom: at zoom 8 its
       cell 37 goes 5 cells below the top again; near the top it clamps. */
    assert_int_equal(grid_zoom_origin(300, 8, 5), 32);
    assert_int_equal(grid_zoom_origin(300, 1, 5), 295);
    assert_int_equal(grid_zoom_origin(3, 8, 5), 0);
    /* The grid then keeps the cursor visible from that origin. */
    grid_area g;
    memset(&g, 0, sizeof g);
    g.row0 = grid_zoom_origin(300, 2, 3);
    grid_fit(&g, 256, 256, 30, 100, 1, 8, 10, 150, 0);
    assert_true(150 >= g.row0 && 150 < g.row0 + g.vis_rows);
    assert_int_equal(g.row0, 146); /* 150 - 3, rounded down to even (row pairs) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scroll),
        cmocka_unit_test(test_layout_fits),
        cmocka_unit_test(test_layout_scrolls_to_cursor),
        cmocka_unit_test(test_cells_half_pairing),
        cmocka_unit_test(test_paint),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_reductions),
        cmocka_unit_test(test_grid_fit),
        cmocka_unit_test(test_grid_fill),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_pool_axes),
        cmocka_unit_test(test_zoom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
