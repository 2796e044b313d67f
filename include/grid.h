/* grid.h - a map on a grid of character cells: which part of a map is
 * visible in a screen area, which rows share a half-block line, which token
 * labels go on the axes, what colour or shading character each cell gets in
 * each colour depth, and the small map reductions the views show (pooling,
 * the mean over heads, the summary of attention received, thumbnails).
 *
 * Pure arithmetic on its arguments: no ncurses, no output. Both the terminal
 * UI (src/tui/) and the renderer (src/render/) lay their maps out with it, so
 * a rendered map looks like the UI's; tests/unit/test_grid.c checks it cell
 * by cell.
 *
 * Deliberately not here: drawing (the UI's screen.c, the renderer's term.c),
 * colours and themes (theme.h), running the model (trace.h). */
#ifndef ATTNSCOPE_GRID_H
#define ATTNSCOPE_GRID_H

#include <stddef.h>

#include "theme.h"

/* ---- layout: a map on a screen area ------------------------------------ */

/* Where a map goes in a screen area and which part of it is visible. */
typedef struct {
    size_t rows, cols;         /* the map */
    size_t height, width;      /* the area, in terminal lines and columns */
    int half;                  /* 1: Unicode half blocks allowed (rows in half lines) */
    size_t cell_w;             /* terminal columns per map column (sx) */
    size_t sy;                 /* half lines per map row: 1 (two rows a line), 2 (one
                                  line), 3, 4...; 0 = legacy: 1 when half, else 2 */
    size_t label_w;            /* columns taken by the row labels (left) */
    size_t top;                /* lines taken by the column labels (above) */
    size_t n_lines;            /* lines of cells shown */
    size_t row0, col0;         /* first visible map row / column (scroll) */
    size_t vis_rows, vis_cols; /* visible map rows / columns */
    int more;                  /* 1: the line under the cells is kept for grid_more_text */
} grid_area;

/* The first visible index of a scrolled window: starting from the previous
 * offset off, the smallest move that keeps cur inside [off, off+vis) and the
 * window inside [0, total); the result is a multiple of align (>= 1). */
size_t grid_scroll(size_t off, size_t cur, size_t vis, size_t total, size_t align);

/* Lay a rows x cols map out in a height x width area. half asks for half
 * blocks; wide (when there is room) for two columns per map column. label_w
 * is the width the row labels need. g->row0/col0 are read as the previous
 * scroll position and updated so that the cursor (cur_row, cur_col) is
 * visible; in half mode row0 stays even so rows pair the same way. A map
 * that does not fit at all gets vis_rows or vis_cols 0. */
void grid_layout(grid_area *g, size_t rows, size_t cols, size_t height, size_t width,
                     int half, int wide, size_t label_w, size_t cur_row, size_t cur_col);

/* The same, with cells scaled to the space: each map cell becomes sx
 * columns by sy half lines, sx == sy ("square": a character is about two
 * half lines tall and one wide), the largest even scale up to max_scale at
 * which the whole map fits, else 1 with half blocks (two rows a line) and
 * scrolling (with two columns a cell when the width has them). Without
 * half blocks sy is even (whole lines), and a map too wide for two columns
 * per cell gets one. With sy >= 2 every row has a line
 * of its own (and its own label). */
void grid_fit(grid_area *g, size_t rows, size_t cols, size_t height, size_t width, int half,
                  size_t max_scale, size_t label_w, size_t cur_row, size_t cur_col);

/* Cells sized to fill the area (the UI's maps): each map column gets as
 * many terminal columns as the width allows (room / cols, at most
 * max_scale, 1 when the map is wider than the room), and each row as many
 * whole lines as the height allows (at most max_scale / 2), so every row has
 * a line and a label of its own. Only when the rows do not fit on a line each
 * do they go in half lines (half: two rows a line, half blocks), and only
 * when they do not fit that way either does the map scroll. Width and
 * height are filled independently (a 20 x 85 map at 140 x 45 gets 6 columns
 * a key in half lines). When a part of the map is off screen, the line
 * under the cells is kept free (g->more) for grid_more_text. Scrolling as in
 * grid_layout: g->row0/col0 are the previous position and keep the cursor
 * visible. */
void grid_fill(grid_area *g, size_t rows, size_t cols, size_t height, size_t width, int half,
               size_t max_scale, size_t label_w, size_t cur_row, size_t cur_col);

/* How many map rows are above / below the visible ones and map columns
 * left / right of them (any pointer may be NULL). */
void grid_hidden(const grid_area *g, size_t *above, size_t *below, size_t *left, size_t *right);

/* The line that says what is off screen, e.g. "▲ 12 more rows  ▼ 3 more
 * rows  ▶ 5 more columns" (ASCII ^ v < > without utf8), only the parts that
 * are not 0; "" when the whole map is visible. Writes at most cap bytes to
 * out; returns out. */
char *grid_more_text(const grid_area *g, int utf8, char *out, size_t cap);

/* The map row whose label goes on a line of cells: the row that starts on
 * it (sy >= 2), the top row of the pair (sy == 1), or -1 for a line that
 * only continues a row. */
long grid_line_row(const grid_area *g, size_t line);

/* The map cell under a point of the area: line (a line of cells, below
 * the column labels) and col (a column of the area, row labels included).
 * In half mode the line's top row. Returns 0 with *row, *col, or -1 when
 * the point is on a label or outside the visible cells. */
int grid_hit(const grid_area *g, size_t line, size_t col, size_t *row, size_t *mcol);

/* What is in one cell of the grid (a line of cells, a visible column). */
enum {
    GRID_CELL_CURSOR_TOP = 1,  /* the cursor is on the top (or only) row */
    GRID_CELL_CURSOR_BOT = 2,  /* the cursor is on the bottom row (half mode) */
    GRID_CELL_CROSS_TOP = 4,   /* the top row is the cursor's row or column */
    GRID_CELL_CROSS_BOT = 8,
    GRID_CELL_MASK_TOP = 16,   /* the top row is not decoded yet at this step */
    GRID_CELL_MASK_BOT = 32,
    GRID_CELL_HAS_BOT = 64,    /* the bottom half line shows another row */
    GRID_CELL_SAME = 128,      /* the bottom half line shows the same row (a whole cell) */
};
typedef struct {
    size_t row, col;       /* top (or only) map row, map column */
    float top, bot;        /* weights, scaled by 1/vmax and clamped to [0, 1] */
    unsigned flags;        /* GRID_CELL_* */
} grid_cell;

/* The cell at (line, vcol) of the visible window: map is rows x cols with a
 * row stride; rows >= n_live are masked (pass rows to mask nothing); vmax
 * (> 0) scales weights. Returns 0, or -1 when (line, vcol) is outside the
 * visible window. */
int grid_cell_at(const grid_area *g, const float *map, size_t stride, size_t n_live,
                  double vmax, size_t cur_row, size_t cur_col, size_t line, size_t vcol,
                  grid_cell *c);

/* How a cell is painted: text (cell_w columns of UTF-8), colours for the
 * colour modes, attributes (THEME_* bits). */
typedef struct {
    char text[40];             /* up to 8 columns, 3 bytes each */
    theme_color fg, bg;
    unsigned attr;
} grid_paint;

/* Paint a cell for an output of colour depth mode: half blocks ("▀", top
 * colour in front, bottom behind) in half mode; a coloured block of spaces
 * (colour modes) or a shading character from " .:-=+*#%@" (8 colours, where
 * it is also coloured, and no colour) otherwise. The cursor's cell keeps
 * its row's heat behind a marker in the CURSOR colour (a diamond in half
 * mode, brackets or '@' otherwise; reverse video on shading characters);
 * the cursor's row and column keep their heat (the axis labels mark them);
 * masked rows are blank. */
void grid_paint_cell(const grid_cell *c, const grid_area *g, const theme *t, theme_color_mode mode,
                    grid_paint *p);

/* A one-column label for a token id (ByT5): the character itself when it is
 * printable ASCII, else "$" for eos (TOK_EOS_SHOWN), "_" for pad, "?" for
 * unk, "." for any other byte. Returns buf (at least 2 bytes). */
const char *grid_token_short(int id, char *buf, size_t cap);

/* 1 for the tokens the study calls special (x ^ = + - * ( ) ; D < and the
 * specials eos/pad/unk), 0 for digits and the rest. */
int grid_token_is_special(int id);

/* The column label of visible column vcol: the token's one-column label
 * into buf (cap >= 8) and what it is: GRID_LABEL_CURSOR for the cursor's
 * column, GRID_LABEL_SPECIAL for a special token, GRID_LABEL_PLAIN otherwise;
 * -1 when vcol is not visible. */
enum { GRID_LABEL_PLAIN = 0, GRID_LABEL_SPECIAL, GRID_LABEL_CURSOR };
int grid_col_label(const grid_area *g, size_t vcol, const int *tokens, size_t cur_col, char *buf,
                  size_t cap);

/* The row label of one line of cells: "index token" right-aligned to
 * g->label_w - 1 columns and a space. In half mode the line holds two rows,
 * written as their index range and their two one-column labels
 * ("12-13 3^ "; a last row alone: "14 x "). tokens may be NULL
 * (then names, may also be NULL, gives the label of each row, e.g. "L3",
 * written without the index).
 * Writes at most cap bytes to out; returns out. */
char *grid_row_label(const grid_area *g, size_t line, const int *tokens,
                    const char *const *names, char *out, size_t cap);

/* The label of the line that holds the cursor's row cur_row: in half mode
 * that row alone behind a mark of its half ("▀ 12 3 " for the top row,
 * "▄ 13 ^ " for the bottom one; "^" / "v" without utf8), so the highlighted
 * label names one row; otherwise grid_row_label. */
char *grid_row_label_cursor(const grid_area *g, size_t line, const int *tokens,
                            const char *const *names, size_t cur_row, int utf8, char *out,
                            size_t cap);

/* The width row labels need for a map of `rows` rows: index digits, a
 * space, the label (longest_name columns), a space; in half mode the index
 * range ("12-13"), a space, two one-column labels and a space. */
size_t grid_row_label_width(size_t rows, int half, size_t longest_name);

/* Max-pool a rows x cols map (row stride) into out (out_rows x out_cols,
 * each at least 1 and at most the map's size): each output cell is the
 * maximum of the block it covers (so a sharp diagonal stays visible). */
void grid_downsample(const float *map, size_t rows, size_t cols, size_t stride, float *out,
                    size_t out_rows, size_t out_cols);

/* Zoomed out maps: each cell pools zr x zc tokens (zr rows by zc columns;
 * either may be 1, pooling one axis only). The pooled size of an axis of n
 * tokens: ceil(n / z) (0 for n == 0; z 0 counts as 1). */
size_t grid_pool_size(size_t n, size_t z);

/* Pool a rows x cols map (row stride) zr x zc tokens a cell into out
 * (grid_pool_size(rows, zr) x grid_pool_size(cols, zc), dense): the maximum
 * of each block (mean 0) or its mean (mean 1). Only the first n_live rows
 * take part (decoder rows after the step): a cell whose block starts at or
 * past n_live is 0, a block that straddles it pools its live rows. Returns
 * the largest pooled value over the live cells (0 for an empty map). */
float grid_pool(const float *map, size_t rows, size_t cols, size_t stride, size_t n_live,
               size_t zr, size_t zc, int mean, float *out);

/* The smallest zoom of each axis at which a rows x cols map fits a height x
 * width area whole (one column per cell, rows in half lines when half, else
 * whole lines; label_w columns of row labels and a line of column labels):
 * *zr rows and *zc columns a cell, each 1 when that axis fits as it is (so
 * only an axis that does not fit is pooled), both 1 when the area has no
 * room. */
void grid_zoom_fit(size_t rows, size_t cols, size_t height, size_t width, int half,
                   size_t label_w, size_t *zr, size_t *zc);

/* The first visible pooled index after a zoom change that keeps the cursor
 * token on the same screen line or column: the cursor was at pooled index
 * cur / z_old, off_old cells into the window (cursor minus old first
 * visible); the result is cur / z_new - that offset, clamped at 0. */
size_t grid_zoom_origin(size_t cur, size_t z_new, size_t off_old);

/* Mean over heads: maps is (n_heads, rows, cols) with per-head stride
 * head_stride and row stride; out is rows x cols (dense). */
void grid_head_mean(const float *maps, size_t n_heads, size_t head_stride, size_t rows,
                   size_t cols, size_t stride, float *out);

/* The study's summary: how much attention each key token receives in one
 * layer, summed over heads and averaged over the first n_rows query rows.
 * maps as in grid_head_mean; out gets cols floats. */
void grid_received(const float *maps, size_t n_heads, size_t head_stride, size_t n_rows,
                  size_t cols, size_t stride, float *out);

#endif
