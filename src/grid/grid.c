/* grid.c - a map on a grid of character cells (grid.h): which part of a
 * map is visible, which rows share a half-block line, which labels go on
 * the axes, what each cell looks like in each colour depth, and the small
 * map reductions the views show (pooling, head mean, summary, thumbnails).
 *
 * Deliberately not here: ncurses or any output. Everything is a function of
 * its arguments, so tests/unit/test_grid.c checks it cell by cell. */
#include "grid.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "byt5.h"
#include "tokenizer.h"

size_t grid_scroll(size_t off, size_t cur, size_t vis, size_t total, size_t align)
{
    if (align < 1 || vis < align) align = 1;
    if (vis == 0 || total <= vis) return 0;
    if (cur >= total) cur = total - 1;
    if (cur < off) off = cur;
    if (cur >= off + vis) off = cur + 1 - vis;
    /* Back inside the map, unless the window ends past it by less than
       align only (an aligned window at the end, trimmed by the caller):
       moving the cursor inside it must not scroll. */
    if (off + vis >= total + align) off = total - vis;
    off -= off % align;
    /* Rounding down may push the cursor out at the bottom: step forward (the
       window may then end past the map by less than align; the caller trims). */
    while (cur >= off + vis) off += align;
    return off;
}

/* Half lines per map row (a zeroed grid counts as the legacy layout). */
static size_t grid_sy(const grid_area *g)
{
    return g->sy ? g->sy : g->half ? 1 : 2;
}

/* Rows, lines and scroll for a grid whose cell_w and sy are set. */
static void place(grid_area *g, size_t max_lines, size_t room, size_t cur_row, size_t cur_col,
                  size_t prev_row0, size_t prev_col0)
{
    size_t sy = grid_sy(g);
    size_t fit_rows = 2 * max_lines / sy; /* whole rows (a lone half row when sy == 1) */
    if (sy == 1) fit_rows = 2 * max_lines;
    g->vis_rows = g->rows < fit_rows ? g->rows : fit_rows;
    g->vis_cols = g->cols < room / g->cell_w ? g->cols : room / g->cell_w;
    /* Rows start on the same half of a line wherever the map is scrolled to:
       row0 * sy stays even. */
    g->row0 = grid_scroll(prev_row0, cur_row, g->vis_rows, g->rows, sy % 2 ? 2 : 1);
    if (g->row0 + g->vis_rows > g->rows) g->vis_rows = g->rows - g->row0;
    g->n_lines = (g->vis_rows * sy + 1) / 2;
    g->col0 = grid_scroll(prev_col0, cur_col, g->vis_cols, g->cols, 1);
}

/* A fresh grid of rows x cols in height x width (scroll offsets cleared:
 * the callers keep the old ones for place). 0 if nothing fits, which leaves
 * an empty grid. */
static int grid_reset(grid_area *g, size_t rows, size_t cols, size_t height, size_t width,
                      int half, size_t label_w)
{
    memset(g, 0, sizeof *g);
    g->rows = rows;
    g->cols = cols;
    g->height = height;
    g->width = width;
    g->half = half ? 1 : 0;
    g->label_w = label_w;
    g->top = 1;
    return !(height <= g->top || width <= label_w || rows == 0 || cols == 0);
}

void grid_layout(grid_area *g, size_t rows, size_t cols, size_t height, size_t width,
                     int half, int wide, size_t label_w, size_t cur_row, size_t cur_col)
{
    size_t prev_row0 = g->row0, prev_col0 = g->col0;
    if (!grid_reset(g, rows, cols, height, width, half, label_w)) return;
    size_t room = width - label_w;
    g->cell_w = (wide && !half && cols * 2 <= room) ? 2 : 1;
    g->sy = half ? 1 : 2;
    place(g, height - g->top, room, cur_row, cur_col, prev_row0, prev_col0);
}

#define MIN2(a, b) ((a) < (b) ? (a) : (b))

/* Cell sizes for a grid set up by grid_reset: set g->cell_w, g->sy (and
   g->more) for room columns and lines lines; returns the lines the cells
   may take. */
typedef size_t (*cell_sizer)(grid_area *g, size_t room, size_t lines, size_t max_scale);

/* grid_fit and grid_fill: the same setup and scroll, their own cell sizes. */
static void sized_layout(grid_area *g, size_t rows, size_t cols, size_t height, size_t width,
                         int half, size_t max_scale, size_t label_w, size_t cur_row,
                         size_t cur_col, cell_sizer size_cells)
{
    size_t prev_row0 = g->row0, prev_col0 = g->col0;
    if (!grid_reset(g, rows, cols, height, width, half, label_w)) return;
    size_t room = width - label_w;
    size_t avail = size_cells(g, room, height - g->top, max_scale < 1 ? 1 : max_scale);
    place(g, avail, room, cur_row, cur_col, prev_row0, prev_col0);
}

/* grid_fit's square cells. */
static size_t fit_cells(grid_area *g, size_t room, size_t max_lines, size_t max_scale)
{
    size_t rows = g->rows, cols = g->cols, k;
    if (g->half) {
        /* k columns by k half lines per cell. */
        k = MIN2(room / cols, 2 * max_lines / rows);
        if (k < 1) k = 1;
        if (k > max_scale) k = max_scale;
        /* Past one half line, whole lines look cleaner (and every row gets
           its label): round down to an even k. */
        if (k >= 2) k &= ~(size_t)1;
        g->cell_w = k;
        g->sy = k;
        /* A map too tall for whole lines (a long decoding's cross map) still
           gets two columns a cell when the width has them: one column per
           key would leave most of a wide terminal empty. */
        if (k == 1 && max_scale >= 2 && room >= 2 * cols) g->cell_w = 2;
    } else {
        /* Whole lines: m lines and 2m columns per cell. */
        size_t m = MIN2(room / (2 * cols), max_lines / rows);
        if (m < 1) m = 1;
        if (2 * m > max_scale) m = max_scale / 2 ? max_scale / 2 : 1;
        g->sy = 2 * m;
        g->cell_w = 2 * m;
        if (cols * g->cell_w > room) g->cell_w = cols * 2 <= room ? 2 : 1;
    }
    return max_lines;
}

void grid_fit(grid_area *g, size_t rows, size_t cols, size_t height, size_t width, int half,
                  size_t max_scale, size_t label_w, size_t cur_row, size_t cur_col)
{
    sized_layout(g, rows, cols, height, width, half, max_scale, label_w, cur_row, cur_col,
                 fit_cells);
}

/* grid_fill's cells: width and height filled apart. */
static size_t fill_cells(grid_area *g, size_t room, size_t lines, size_t max_scale)
{
    size_t rows = g->rows, cols = g->cols;
    /* Columns first: they fit or they scroll, and scrolling costs the
       "more" line under the cells. */
    g->more = cols > room;
    size_t avail = lines - (g->more && lines > 1 ? 1 : 0);
    if (rows <= avail) {
        size_t m = MIN2(avail / rows, max_scale / 2);
        g->sy = 2 * (m ? m : 1);
    } else if (g->half && rows <= 2 * avail) {
        g->sy = 1;
    } else {
        g->sy = g->half ? 1 : 2;
        g->more = 1;
        avail = lines > 1 ? lines - 1 : lines;
    }
    if (avail == lines) g->more = 0; /* one line only: the cells go first */
    size_t sx = cols <= room ? MIN2(room / cols, max_scale) : 1;
    g->cell_w = sx ? sx : 1;
    return avail;
}

void grid_fill(grid_area *g, size_t rows, size_t cols, size_t height, size_t width, int half,
               size_t max_scale, size_t label_w, size_t cur_row, size_t cur_col)
{
    sized_layout(g, rows, cols, height, width, half, max_scale, label_w, cur_row, cur_col,
                 fill_cells);
}

void grid_hidden(const grid_area *g, size_t *above, size_t *below, size_t *left, size_t *right)
{
    size_t re = g->row0 + g->vis_rows, ce = g->col0 + g->vis_cols;
    if (above) *above = g->vis_rows ? g->row0 : g->rows;
    if (below) *below = g->vis_rows && g->rows > re ? g->rows - re : 0;
    if (left) *left = g->vis_cols ? g->col0 : g->cols;
    if (right) *right = g->vis_cols && g->cols > ce ? g->cols - ce : 0;
}

char *grid_more_text(const grid_area *g, int utf8, char *out, size_t cap)
{
    if (!cap) return out;
    out[0] = '\0';
    size_t n[4];
    grid_hidden(g, &n[0], &n[1], &n[2], &n[3]);
    static const char *mark[2][4] = {{"^", "v", "<", ">"},
                                     {"\xe2\x96\xb2", "\xe2\x96\xbc", "\xe2\x97\x80",
                                      "\xe2\x96\xb6"}};
    size_t len = 0;
    for (int i = 0; i < 4; i++) {
        if (!n[i] || len + 1 >= cap) continue;
        const char *what = i < 2 ? (n[i] == 1 ? "row" : "rows")
                                 : (n[i] == 1 ? "column" : "columns");
        int k = snprintf(out + len, cap - len, "%s%s %zu more %s", len ? "  " : "",
                         mark[utf8 ? 1 : 0][i], n[i], what);
        if (k < 0) break;
        len += (size_t)k;
        if (len >= cap) len = cap - 1;
    }
    return out;
}

long grid_line_row(const grid_area *g, size_t line)
{
    if (line >= g->n_lines) return -1;
    size_t sy = grid_sy(g);
    size_t top = 2 * line / sy; /* relative to row0 */
    if (top >= g->vis_rows) return -1;
    if (sy == 1) return (long)(g->row0 + top);
    /* A row's label goes on the first line whose top half shows it. */
    for (size_t r = top; r <= (2 * line + 1) / sy && r < g->vis_rows; r++)
        if ((r * sy + 1) / 2 == line) return (long)(g->row0 + r);
    return -1;
}

static float scaled(float v, double vmax)
{
    double s = vmax > 0 ? v / vmax : v;
    if (!(s > 0)) return 0; /* negatives and NaN */
    return s > 1 ? 1.0f : (float)s;
}

int grid_cell_at(const grid_area *g, const float *map, size_t stride, size_t n_live,
                  double vmax, size_t cur_row, size_t cur_col, size_t line, size_t vcol,
                  grid_cell *c)
{
    memset(c, 0, sizeof *c);
    if (line >= g->n_lines || vcol >= g->vis_cols) return -1;
    size_t sy = grid_sy(g);
    size_t r = g->row0 + 2 * line / sy, rb = g->row0 + (2 * line + 1) / sy;
    size_t col = g->col0 + vcol, end = g->row0 + g->vis_rows;
    if (r >= g->rows || r >= end) return -1;
    c->row = r;
    c->col = col;
    c->top = scaled(map[r * stride + col], vmax);
    if (r == cur_row && col == cur_col) c->flags |= GRID_CELL_CURSOR_TOP;
    else if (r == cur_row || col == cur_col) c->flags |= GRID_CELL_CROSS_TOP;
    if (r >= n_live) c->flags |= GRID_CELL_MASK_TOP;
    if (rb == r) {
        c->flags |= GRID_CELL_SAME;
        c->bot = c->top;
    } else if (rb < g->rows && rb < end) {
        c->flags |= GRID_CELL_HAS_BOT;
        c->bot = scaled(map[rb * stride + col], vmax);
        if (rb == cur_row && col == cur_col) c->flags |= GRID_CELL_CURSOR_BOT;
        else if (rb == cur_row || col == cur_col) c->flags |= GRID_CELL_CROSS_BOT;
        if (rb >= n_live) c->flags |= GRID_CELL_MASK_BOT;
    }
    return 0;
}

/* The colour of one half (or a whole cell) in colour modes. */
/* The colour of one row of a cell: its heat, or nothing when masked. The
   cursor's row and column keep their heat (the axis labels mark them). */
static theme_color heat_color(const theme *t, float v, int mask)
{
    if (mask) return THEME_DEFAULT;
    return theme_ramp(t, v);
}

static theme_color cursor_color(const theme *t)
{
    return t->style[ROLE_CURSOR].bg != THEME_DEFAULT ? t->style[ROLE_CURSOR].bg
                                                     : t->style[ROLE_CURSOR].fg;
}

/* The cursor's cell in colour: its row's heat behind a marker in the cursor
   colour (a diamond in half mode, which has UTF-8; brackets, or '@' in a
   one-column cell, otherwise), so the weight under the cursor stays
   visible. */
static void paint_cursor(const grid_cell *c, const theme *t, size_t w, int bottom, int mask,
                         int utf8, grid_paint *p)
{
    p->bg = heat_color(t, bottom ? c->bot : c->top, mask);
    p->fg = cursor_color(t);
    p->attr |= THEME_BOLD;
    p->text[0] = '\0';
    if (utf8) {
        size_t left = (w - 1) / 2;
        for (size_t i = 0; i < w; i++) strcat(p->text, i == left ? "\xe2\x97\x86" : " ");
    } else if (w == 1) {
        strcat(p->text, "@");
    } else {
        p->text[0] = '[';
        memset(p->text + 1, ' ', w - 2);
        p->text[w - 1] = ']';
        p->text[w] = '\0';
    }
}

void grid_paint_cell(const grid_cell *c, const grid_area *g, const theme *t, theme_color_mode mode,
                     grid_paint *p)
{
    memset(p, 0, sizeof *p);
    p->fg = p->bg = THEME_DEFAULT;
    size_t w = g->cell_w ? g->cell_w : 1;
    if (w > 8) w = 8;
    unsigned f = c->flags;
    int cur_top = (f & GRID_CELL_CURSOR_TOP) != 0, cur_bot = (f & GRID_CELL_CURSOR_BOT) != 0;
    if (g->half && mode >= THEME_COLOR_256 && !(f & GRID_CELL_SAME)) {
        if (cur_top || cur_bot) {
            paint_cursor(c, t, w, cur_bot, cur_bot ? (f & GRID_CELL_MASK_BOT) != 0
                                                   : (f & GRID_CELL_MASK_TOP) != 0, 1, p);
            return;
        }
        p->fg = heat_color(t, c->top, f & GRID_CELL_MASK_TOP);
        if (f & GRID_CELL_HAS_BOT) p->bg = heat_color(t, c->bot, f & GRID_CELL_MASK_BOT);
        /* A masked top over a live bottom: draw the lower half block instead. */
        const char *glyph = "\xe2\x96\x80"; /* ▀ */
        if ((f & GRID_CELL_MASK_TOP) && (f & GRID_CELL_HAS_BOT) && !(f & GRID_CELL_MASK_BOT)) {
            p->fg = p->bg;
            p->bg = THEME_DEFAULT;
            glyph = "\xe2\x96\x84"; /* ▄ */
        } else if (f & GRID_CELL_MASK_TOP) {
            glyph = " ";
            p->fg = THEME_DEFAULT;
        }
        for (size_t i = 0; i < w; i++) strcat(p->text, glyph);
        return;
    }
    /* One map row per cell from here on (half mode without 256 colours is
       drawn like this too, showing the top row; the layout avoids it). */
    int mask = (f & GRID_CELL_MASK_TOP) != 0;
    if (mode >= THEME_COLOR_256) {
        if (cur_top) {
            paint_cursor(c, t, w, 0, mask, g->half, p);
            return;
        }
        p->bg = heat_color(t, c->top, mask);
        snprintf(p->text, sizeof p->text, "%.*s", (int)w, "        ");
        return;
    }
    /* Shading characters: the cursor's stays, in reverse video. */
    char ch = mask ? ' ' : theme_shade(c->top);
    if (cur_top && ch == ' ') ch = '+';
    memset(p->text, ch, w);
    p->text[w] = '\0';
    if (cur_top) p->attr |= THEME_REVERSE | THEME_BOLD;
    if (mode == THEME_COLOR_8 && !mask) {
        p->fg = cur_top ? t->style[ROLE_CURSOR].fg : theme_ramp(t, 0.25 + 0.75 * c->top);
        p->attr &= ~(unsigned)THEME_REVERSE;
        if (cur_top) p->attr |= THEME_REVERSE;
    }
}

const char *grid_token_short(int id, char *buf, size_t cap)
{
    if (cap < 2) return buf;
    char c;
    if (id == BYT5_EOS) c = TOK_EOS_SHOWN[0];
    else if (id == BYT5_PAD) c = '_';
    else if (id == BYT5_UNK) c = '?';
    else if (id >= BYT5_OFFSET && id < BYT5_OFFSET + 256 && id - BYT5_OFFSET > 32 &&
             id - BYT5_OFFSET < 127)
        c = (char)(id - BYT5_OFFSET);
    else c = '.';
    buf[0] = c;
    buf[1] = '\0';
    return buf;
}

int grid_token_is_special(int id)
{
    if (id < BYT5_OFFSET) return 1;
    if (id >= BYT5_OFFSET + 256) return 0;
    int b = id - BYT5_OFFSET;
    return b != 0 && strchr("x^=+-*();D<", b) != NULL;
}

int grid_col_label(const grid_area *g, size_t vcol, const int *tokens, size_t cur_col, char *buf,
                  size_t cap)
{
    if (cap) buf[0] = '\0';
    if (vcol >= g->vis_cols || g->col0 + vcol >= g->cols) return -1;
    size_t c = g->col0 + vcol;
    grid_token_short(tokens[c], buf, cap);
    return c == cur_col ? GRID_LABEL_CURSOR
           : grid_token_is_special(tokens[c]) ? GRID_LABEL_SPECIAL : GRID_LABEL_PLAIN;
}

size_t grid_row_label_width(size_t rows, int half, size_t longest_name)
{
    size_t digits = 1;
    for (size_t v = rows > 0 ? rows - 1 : 0; v >= 10; v /= 10) digits++;
    if (half) return 2 * digits + 1 + 1 + 2 + 1; /* "12-13 7* " */
    return digits + 1 + longest_name + 1;
}

/* idx and name right-aligned to the label's width less its last column,
   the name cut at a character boundary (a piece such as "\xe2\x96\x81the"
   has more bytes than columns); mark (may be "") goes first, one column. */
static char *put_label(const grid_area *g, const char *mark, const char *idx, const char *name,
                       char *out, size_t cap)
{
    size_t width = g->label_w - 1, mark_cols = mark[0] ? 2 : 0;
    width = width > mark_cols ? width - mark_cols : 0;
    size_t room_name = width > strlen(idx) + 1 ? width - strlen(idx) - 1 : 0;
    if (!idx[0]) room_name = width;
    size_t nbytes = 0, ncols = 0;
    while (name[nbytes] && ncols < room_name) {
        nbytes++;
        while ((name[nbytes] & 0xC0) == 0x80) nbytes++;
        ncols++;
    }
    size_t text_cols = strlen(idx) + (idx[0] && ncols ? 1 : 0) + ncols;
    if (idx[0] && !ncols) text_cols = strlen(idx) + 1;
    size_t pad = width > text_cols ? width - text_cols : 0;
    snprintf(out, cap, "%*s%s%s%s%s%.*s ", (int)pad, "", mark, mark[0] ? " " : "", idx,
             idx[0] ? " " : "", (int)nbytes, name);
    return out;
}

/* The name of row r: its token's label (one column in half mode), or its
   name; "" for neither. */
static void row_name(const grid_area *g, size_t r, const int *tokens, const char *const *names,
                     char *name, size_t cap)
{
    name[0] = '\0';
    if (tokens && grid_sy(g) == 1) grid_token_short(tokens[r], name, cap);
    else if (tokens) tok_display_label(NULL, tokens[r], name, cap);
    else if (names) snprintf(name, cap, "%s", names[r]);
}

char *grid_row_label(const grid_area *g, size_t line, const int *tokens,
                    const char *const *names, char *out, size_t cap)
{
    if (!cap) return out;
    out[0] = '\0';
    if (line >= g->n_lines || g->label_w < 2) return out;
    long lr = grid_line_row(g, line);
    if (lr < 0) { /* a line that continues a taller row: blank */
        snprintf(out, cap, "%*s", (int)g->label_w, "");
        return out;
    }
    size_t r = (size_t)lr;
    int pair = grid_sy(g) == 1 && r + 1 < g->rows && r + 1 < g->row0 + g->vis_rows;
    char name[64], idx[48];
    row_name(g, r, tokens, names, name, sizeof name);
    if (tokens && pair) { /* both rows: "12-13 7*" */
        char b[8];
        grid_token_short(tokens[r + 1], b, sizeof b);
        snprintf(name + strlen(name), sizeof name - strlen(name), "%s", b);
        snprintf(idx, sizeof idx, "%zu-%zu", r, r + 1);
    } else {
        snprintf(idx, sizeof idx, "%zu", r);
    }
    if (!tokens && names) idx[0] = '\0'; /* named rows (layers): the name alone */
    return put_label(g, "", idx, name, out, cap);
}

char *grid_row_label_cursor(const grid_area *g, size_t line, const int *tokens,
                            const char *const *names, size_t cur_row, int utf8, char *out,
                            size_t cap)
{
    long lr = grid_line_row(g, line);
    if (grid_sy(g) != 1 || lr < 0 || !cap || g->label_w < 2 ||
        (cur_row != (size_t)lr && cur_row != (size_t)lr + 1) || cur_row >= g->rows)
        return grid_row_label(g, line, tokens, names, out, cap);
    char name[64], idx[24];
    row_name(g, cur_row, tokens, names, name, sizeof name);
    snprintf(idx, sizeof idx, "%zu", cur_row);
    if (!tokens && names) idx[0] = '\0';
    int bottom = cur_row != (size_t)lr;
    const char *mark = utf8 ? (bottom ? "\xe2\x96\x84" : "\xe2\x96\x80") : (bottom ? "v" : "^");
    return put_label(g, mark, idx, name, out, cap);
}

void grid_downsample(const float *map, size_t rows, size_t cols, size_t stride, float *out,
                    size_t out_rows, size_t out_cols)
{
    if (!rows || !cols || !out_rows || !out_cols) return;
    for (size_t i = 0; i < out_rows; i++) {
        size_t r0 = i * rows / out_rows, r1 = (i + 1) * rows / out_rows;
        if (r1 <= r0) r1 = r0 + 1;
        for (size_t j = 0; j < out_cols; j++) {
            size_t c0 = j * cols / out_cols, c1 = (j + 1) * cols / out_cols;
            if (c1 <= c0) c1 = c0 + 1;
            float m = 0;
            for (size_t r = r0; r < r1 && r < rows; r++)
                for (size_t c = c0; c < c1 && c < cols; c++)
                    if (map[r * stride + c] > m) m = map[r * stride + c];
            out[i * out_cols + j] = m;
        }
    }
}

void grid_head_mean(const float *maps, size_t n_heads, size_t head_stride, size_t rows,
                   size_t cols, size_t stride, float *out)
{
    memset(out, 0, rows * cols * sizeof *out);
    if (!n_heads) return;
    for (size_t h = 0; h < n_heads; h++)
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < cols; c++) out[r * cols + c] += maps[h * head_stride + r * stride + c];
    for (size_t i = 0; i < rows * cols; i++) out[i] /= (float)n_heads;
}

void grid_received(const float *maps, size_t n_heads, size_t head_stride, size_t n_rows,
                  size_t cols, size_t stride, float *out)
{
    memset(out, 0, cols * sizeof *out);
    if (!n_rows) return;
    for (size_t h = 0; h < n_heads; h++)
        for (size_t r = 0; r < n_rows; r++)
            for (size_t c = 0; c < cols; c++) out[c] += maps[h * head_stride + r * stride + c];
    for (size_t c = 0; c < cols; c++) out[c] /= (float)n_rows;
}

size_t grid_pool_size(size_t n, size_t z)
{
    if (z < 1) z = 1;
    return (n + z - 1) / z;
}

float grid_pool(const float *map, size_t rows, size_t cols, size_t stride, size_t n_live,
               size_t zr, size_t zc, int mean, float *out)
{
    if (zr < 1) zr = 1;
    if (zc < 1) zc = 1;
    size_t pr = grid_pool_size(rows, zr), pc = grid_pool_size(cols, zc);
    if (n_live > rows) n_live = rows;
    float best = 0;
    for (size_t i = 0; i < pr; i++) {
        size_t r0 = i * zr, r1 = r0 + zr < n_live ? r0 + zr : n_live;
        float *o = out + i * pc;
        if (r0 >= r1) { /* not decoded yet */
            memset(o, 0, pc * sizeof *o);
            continue;
        }
        /* Row by row over the block, column blocks inside: each map row is
           read once, in order. */
        for (size_t j = 0; j < pc; j++) o[j] = mean ? 0.0f : -1.0f;
        for (size_t r = r0; r < r1; r++) {
            const float *m = map + r * stride;
            for (size_t j = 0, c0 = 0; j < pc; j++, c0 += zc) {
                size_t c1 = c0 + zc < cols ? c0 + zc : cols;
                float v = o[j];
                if (mean)
                    for (size_t c = c0; c < c1; c++) v += m[c];
                else
                    for (size_t c = c0; c < c1; c++) v = m[c] > v ? m[c] : v;
                o[j] = v;
            }
        }
        for (size_t j = 0, c0 = 0; j < pc; j++, c0 += zc) {
            if (mean) {
                size_t c1 = c0 + zc < cols ? c0 + zc : cols;
                o[j] /= (float)((r1 - r0) * (c1 - c0));
            } else if (o[j] < 0) {
                o[j] = 0;
            }
            if (o[j] > best) best = o[j];
        }
    }
    return best;
}

/* The fewest tokens a cell at which n tokens fit room cells. */
static size_t zoom_fit_axis(size_t n, size_t room)
{
    size_t z = 1;
    while (grid_pool_size(n, z) > room) z++;
    return z;
}

void grid_zoom_fit(size_t rows, size_t cols, size_t height, size_t width, int half,
                   size_t label_w, size_t *zr, size_t *zc)
{
    *zr = *zc = 1;
    if (height < 2 || width <= label_w || !rows || !cols) return;
    *zr = zoom_fit_axis(rows, (height - 1) * (half ? 2 : 1));
    *zc = zoom_fit_axis(cols, width - label_w);
}

size_t grid_zoom_origin(size_t cur, size_t z_new, size_t off_old)
{
    size_t p = cur / (z_new ? z_new : 1);
    return p > off_old ? p - off_old : 0;
}

int grid_hit(const grid_area *g, size_t line, size_t col, size_t *row, size_t *mcol)
{
    if (line >= g->n_lines || col < g->label_w) return -1;
    size_t sy = grid_sy(g), cw = g->cell_w ? g->cell_w : 1;
    size_t r = 2 * line / sy, c = (col - g->label_w) / cw;
    if (r >= g->vis_rows || c >= g->vis_cols) return -1;
    *row = g->row0 + r;
    *mcol = g->col0 + c;
    return 0;
}
