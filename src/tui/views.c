/* views.c - what the UI draws and how keys move it: the frame (title,
 * entry box, message, solution and its check, cursor status, key hints),
 * the three views (one map, the model view of every layer x head, the
 * summary of attention received per layer), the help overlay and the
 * too-small notice; and the keys all views share. Long inputs: the map
 * view zooms out by pooling tokens into cells (cached per run, head, zoom
 * and step), / finds a token by its text, and a one-line prompt on the
 * message line takes a search, a target or an output length.
 *
 * Deliberately not here: the loop and decoding (app.c), colour pairs
 * (screen.c), the cell arithmetic (layout.c). */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byt5.h"
#include "tui_int.h"
#include "util.h"

#define MIN_W 40
#define MIN_H 12
#define MAX_SCALE 8 /* largest cell: 8 columns by 8 half lines */
#define CLASS_BUDGET_S 0.030 /* head classification per idle model-view frame */

/* Separators and marks, with ASCII stand-ins outside UTF-8. */
#define SEP(a) ((a)->utf8 ? " \xe2\x94\x82 " : " | ")

static int use_half(const tui_app *a)
{
    return a->half_ok && a->utf8 && a->mode >= THEME_COLOR_256;
}

static size_t head_index(const tui_app *a)
{
    return a->avg ? a->tr->n_heads : a->head;
}

/* Labels come from the model's vocabulary (tui_label); the views keep a
   short name for it. */
#define label(id, buf, cap) tui_label(a, (id), (buf), (cap))

/* The largest live weight of a map (for scaling), at least a tiny value. */
static double map_max(const float *map, size_t rows, size_t cols, size_t stride)
{
    double m = 1e-9;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            if (map[r * stride + c] > m) m = map[r * stride + c];
    return m;
}

/* Column labels of a grid at line y, from tokens (one per map column, at
 * the left of its cell; the cursor's column is highlighted across its cell). */
static void draw_col_labels(const tui_app *a, const tui_grid *g, int y, int x, const int *tokens,
                            size_t cur_col, const char *corner)
{
    tui_fill(a, y, x, (int)g->label_w, ROLE_NORMAL);
    tui_text(a, y, x, (int)g->label_w, ROLE_HINT, corner);
    for (size_t v = 0; v < g->vis_cols; v++) {
        char s[8];
        int kind = tui_col_label(g, v, tokens, cur_col, s, sizeof s);
        if (kind < 0) break;
        if (a->spm) { /* a piece's first character, not a byte */
            tui_short_label(a, tokens[g->col0 + v], s, sizeof s);
            if (kind == TUI_LABEL_SPECIAL) kind = TUI_LABEL_PLAIN;
        }
        theme_role r = kind == TUI_LABEL_CURSOR    ? ROLE_LABEL_CURSOR
                       : kind == TUI_LABEL_SPECIAL ? ROLE_TOKEN_SPECIAL
                                                   : ROLE_LABEL;
        int cx = x + (int)g->label_w + (int)(v * g->cell_w);
        tui_text(a, y, cx, 1, r, s);
        if (g->cell_w > 1)
            tui_fill(a, y, cx + 1, (int)g->cell_w - 1, r == ROLE_LABEL_CURSOR ? r : ROLE_NORMAL);
    }
}

/* Draw the cells and row labels of a grid; labels from row tokens or names.
 * step_row (or -1) gets a marker before its cells: the decoding step. */
static void draw_grid(tui_app *a, const tui_grid *g, int y, int x, const float *map,
                      size_t stride, size_t n_live, double vmax, size_t cr, size_t cc,
                      const int *row_tokens, const char *const *row_names, long step_row)
{
    int pair = g->sy == 1;
    for (size_t line = 0; line < g->n_lines; line++) {
        int ly = y + (int)g->top + (int)line;
        char lab[96];
        tui_row_label(g, line, row_tokens, row_names, lab, sizeof lab);
        long lr = tui_line_row(g, line);
        int has_cursor = lr >= 0 && ((size_t)lr == cr || (pair && (size_t)lr + 1 == cr));
        int has_step = lr >= 0 && step_row >= 0 && (lr == step_row || (pair && lr + 1 == step_row));
        tui_text(a, ly, x, (int)g->label_w, has_cursor ? ROLE_LABEL_CURSOR : ROLE_LABEL, lab);
        if (has_step && g->label_w > 1)
            tui_text(a, ly, x + (int)g->label_w - 1, 1, ROLE_STEP, a->utf8 ? "\xe2\x96\xb6" : ">");
        for (size_t v = 0; v < g->vis_cols; v++) {
            tui_cell c;
            if (tui_grid_cell(g, map, stride, n_live, vmax, cr, cc, line, v, &c)) continue;
            c.top = tui_quant(a, c.top);
            c.bot = tui_quant(a, c.bot);
            tui_paint p;
            tui_paint_cell(&c, g, &a->th, a->mode, &p);
            tui_put_paint(a, ly, x + (int)g->label_w + (int)(v * g->cell_w), &p);
        }
    }
}

/* ---- the map view --------------------------------------------------------------- */

static int key_eq(const tui_cache_key *x, const tui_cache_key *y)
{
    return x->valid && y->valid && x->serial == y->serial && x->kind == y->kind &&
           x->mean == y->mean && x->layer == y->layer && x->head == y->head &&
           x->zoom == y->zoom && x->live == y->live && x->a == y->a && x->b == y->b;
}

/* The shown map at zoom z (tokens per cell): the trace's map itself (z 1,
 * one head) or pooled / head-averaged into a->zbuf, cached until the run,
 * kind, layer, head, zoom, pooling or live rows change, so a cursor move
 * costs only the visible cells. Sets the pooled size and stride and
 * a->zmax (the largest live value). */
static const float *zoomed_map(tui_app *a, t5_attn_kind k, size_t live, size_t z, size_t *pr,
                               size_t *pc, size_t *pstride)
{
    size_t rows, cols, stride;
    tui_map_size(a, k, &rows, &cols);
    size_t hi = head_index(a), nh = a->tr->n_heads;
    *pr = tui_pool_size(rows, z);
    *pc = tui_pool_size(cols, z);
    tui_cache_key key = {a->serial, (int)k, a->pool_mean, 1, a->layer, hi, z, live, 0, 0};
    if (z == 1 && hi < nh) {
        const float *map = tui_map(a, k, a->layer, hi, &stride);
        *pstride = stride;
        if (!key_eq(&a->zkey, &key)) {
            a->zmax = map ? map_max(map, live, cols, stride) : 1e-9;
            a->zkey = key;
        }
        return map;
    }
    *pstride = *pc;
    if (key_eq(&a->zkey, &key)) return a->zbuf;
    const float *map = tui_map(a, k, a->layer, hi, &stride); /* the mean goes to a->buf */
    if (!map) return NULL;
    a->zmax = tui_pool(map, rows, cols, stride, live, z, a->pool_mean, a->zbuf);
    if (a->zmax < 1e-9) a->zmax = 1e-9;
    a->zkey = key;
    return a->zbuf;
}

/* The text of tokens [i0, i1) for the status line: at most cap-1 bytes,
   control characters as '.'. */
static void range_text(const tui_app *a, const int *tokens, size_t i0, size_t i1, char *out,
                       size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = i0; i < i1 && n + 1 < cap; i++) {
        char t[96];
        tui_token_text(a, tokens[i], t, sizeof t);
        for (const char *p = t; *p && n + 1 < cap; p++)
            out[n++] = (unsigned char)*p < 32 || *p == 127 ? '.' : *p;
    }
    /* Do not end inside a UTF-8 character. */
    while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80) {
        size_t b = n - 1;
        while (b > 0 && ((unsigned char)out[b] & 0xC0) == 0x80) b--;
        size_t need = (unsigned char)out[b] >= 0xF0 ? 4 : (unsigned char)out[b] >= 0xE0 ? 3 : 2;
        if (n - b >= need) break;
        n = b;
    }
    out[n] = '\0';
}

static size_t zoom_of(const tui_app *a, t5_attn_kind k)
{
    return a->zoom[k] ? a->zoom[k] : 1;
}

static void map_draw(tui_app *a, int y, int x, int h, int w)
{
    t5_attn_kind k = a->kind;
    size_t rows, cols, stride;
    tui_map_size(a, k, &rows, &cols);
    if (a->layer >= tui_n_layers(a, k)) a->layer = tui_n_layers(a, k) - 1;
    if (!rows || !cols) {
        snprintf(a->status, sizeof a->status, " no map yet");
        return;
    }
    size_t *cr = &a->cur_r[k], *cc = &a->cur_c[k];
    if (*cr >= rows) *cr = rows - 1;
    if (*cc >= cols) *cc = cols - 1;
    size_t live = tui_live_rows(a, k);
    int half = use_half(a);
    /* Zoomed out no further than the whole map (a smaller map, a new
       input, a larger terminal). */
    size_t z = zoom_of(a, k);
    size_t fit = tui_zoom_fit(rows, cols, (size_t)h, (size_t)w, half,
                              tui_row_label_width(rows, 0, 5));
    if (z > fit) z = a->zoom[k] = fit;
    size_t pr, pc;
    const float *map = zoomed_map(a, k, live, z, &pr, &pc, &stride);
    if (!map) {
        snprintf(a->status, sizeof a->status, " no map yet");
        return;
    }
    double vmax = a->normalize ? a->zmax : 1.0;
    if (z > 1 && a->pool_mean && !a->normalize) vmax = a->zmax; /* means are small: scale */
    size_t pcr = *cr / z, pcc = *cc / z, plive = tui_pool_size(live, z);
    const int *rt = tui_row_tokens(a, k), *ct = tui_col_tokens(a, k);
    const char *const *names = tui_row_names(a, k);
    const int *col_tok = ct, *row_tok = names ? NULL : rt;
    if (z > 1) {
        /* Pooled axes: each column labelled by its first token, each row by
           its first index and the start of its text. */
        for (size_t j = 0; j < pc; j++) a->ztok_c[j] = ct[j * z];
        for (size_t i = 0; i < pr; i++) {
            char t[16];
            size_t i1 = (i + 1) * z < rows ? (i + 1) * z : rows;
            range_text(a, rt, i * z, i1, t, 6);
            snprintf(a->zlab[i], sizeof a->zlab[i], "%zu %s", i * z, t);
            a->znames[i] = a->zlab[i];
        }
        col_tok = a->ztok_c;
        row_tok = NULL;
        names = a->znames;
    }
    tui_grid_fit(&a->grid, pr, pc, (size_t)h, (size_t)w, half, MAX_SCALE,
                 tui_row_label_width(rows, 0, 5), pcr, pcc);
    const tui_grid *g = &a->grid;
    if (!g->vis_rows || !g->vis_cols) {
        snprintf(a->status, sizeof a->status, " the map does not fit; enlarge the terminal");
        return;
    }
    const char *corner = k == T5_ATTN_ENC_SELF ? "q\\k" : k == T5_ATTN_DEC_SELF ? "out\\out"
                                                                             : "out\\in";
    draw_col_labels(a, g, y, x, col_tok, pcc, corner);
    long step_row = k == T5_ATTN_ENC_SELF ? -1 : (long)(a->step / z);
    draw_grid(a, g, y, x, map, stride, plive, vmax, pcr, pcc, row_tok, names, step_row);

    char qa[32], ka[32], wa[32];
    int n;
    if (z > 1) {
        /* The pooled cell under the cursor: its token ranges and value. */
        size_t r0 = pcr * z, r1 = r0 + z < rows ? r0 + z : rows;
        size_t c0 = pcc * z, c1 = c0 + z < cols ? c0 + z : cols;
        char rtx[24], ctx[24];
        range_text(a, rt, r0, r1, rtx, sizeof rtx);
        range_text(a, ct, c0, c1, ctx, sizeof ctx);
        n = snprintf(a->status, sizeof a->status,
                     " %s %zu-%zu '%s'  keys %zu-%zu '%s'  %s %.4f  (%zux%zu a cell)",
                     k == T5_ATTN_ENC_SELF ? "queries" : "rows", r0, r1 - 1, rtx, c0, c1 - 1,
                     ctx, a->pool_mean ? "mean" : "max", map[pcr * stride + pcc], z, z);
        if (k != T5_ATTN_ENC_SELF && r0 >= live)
            n += snprintf(a->status + n, sizeof a->status - (size_t)n, "  (after this step)");
    } else {
        label(ct[*cc], ka, sizeof ka);
        float wgt = map[*cr * stride + *cc];
        if (k == T5_ATTN_ENC_SELF)
            n = snprintf(a->status, sizeof a->status, " query %zu '%s'", *cr,
                         label(a->tr->src[*cr], qa, sizeof qa));
        else
            n = snprintf(a->status, sizeof a->status, " query %zu '%s' (writes '%s')", *cr,
                         label(a->tr->tgt[*cr], qa, sizeof qa),
                         *cr < a->n_gen ? label(a->gen[*cr], wa, sizeof wa) : "");
        n += snprintf(a->status + n, sizeof a->status - (size_t)n, "  key %zu '%s'  weight %.4f",
                      *cc, ka, wgt);
        if (k != T5_ATTN_ENC_SELF && *cr >= live)
            n += snprintf(a->status + n, sizeof a->status - (size_t)n, "  (after this step)");
        else if (a->normalize)
            n += snprintf(a->status + n, sizeof a->status - (size_t)n, "  (scaled to %.3f)", vmax);
    }
    /* The head's class takes a pass over the whole map (~15 ms at 512 x
       512): a new head's first frame shows the map at once and an idle
       frame right after adds the class. */
    const an_head_class *hc = NULL;
    if (!a->avg) {
        size_t ci = a->layer * a->tr->n_heads + a->head;
        size_t rows_k, cols_k;
        tui_map_size(a, k, &rows_k, &cols_k);
        if (a->cls_done[k][ci] || a->idle || rows_k * cols_k <= 64 * 64)
            hc = tui_head_class(a, k, a->layer, a->head);
        else
            a->more_work = 1;
    }
    if (n < (int)sizeof a->status && (hc || a->more_work))
        n += snprintf(a->status + n, sizeof a->status - (size_t)n, "  class: %s",
                      hc ? hc->label : "...");
    if (!a->avg && an_iv_head(&a->iv, k, a->layer, a->head) && n < (int)sizeof a->status)
        snprintf(a->status + n, sizeof a->status - (size_t)n, "  [ablated]");
}

static int move_cursor(size_t *r, size_t *c, size_t rows, size_t cols, size_t page, int key)
{
    switch (key) {
    case TUI_FKEY | KEY_UP: if (*r > 0) (*r)--; return 1;
    case TUI_FKEY | KEY_DOWN: if (*r + 1 < rows) (*r)++; return 1;
    case TUI_FKEY | KEY_LEFT: if (*c > 0) (*c)--; return 1;
    case TUI_FKEY | KEY_RIGHT: if (*c + 1 < cols) (*c)++; return 1;
    case TUI_FKEY | KEY_PPAGE: *r = *r > page ? *r - page : 0; return 1;
    case TUI_FKEY | KEY_NPAGE: *r = *r + page < rows ? *r + page : (rows ? rows - 1 : 0); return 1;
    case TUI_FKEY | KEY_HOME: *c = 0; return 1;
    case TUI_FKEY | KEY_END: *c = cols ? cols - 1 : 0; return 1;
    }
    return 0;
}

/* Change the zoom of the shown kind to z, keeping the cursor token on the
   same line and column of the screen where the map allows. */
static void set_zoom(tui_app *a, size_t z)
{
    t5_attn_kind k = a->kind;
    size_t rows, cols;
    tui_map_size(a, k, &rows, &cols);
    size_t most = rows > cols ? rows : cols;
    if (z > TUI_ZOOM_MAX) z = TUI_ZOOM_MAX;
    while (z > 1 && tui_pool_size(most, z / 2) <= 1) z /= 2; /* no zooming past one cell */
    if (z < 1) z = 1;
    size_t zo = zoom_of(a, k);
    if (z == zo) return;
    size_t cr = a->cur_r[k], cc = a->cur_c[k];
    size_t off_r = cr / zo >= a->grid.row0 ? cr / zo - a->grid.row0 : 0;
    size_t off_c = cc / zo >= a->grid.col0 ? cc / zo - a->grid.col0 : 0;
    /* Cells of a scrolled map are the same size at either zoom (one half
       line or a line): the same offset in cells keeps the cursor's place. */
    a->grid.row0 = tui_zoom_origin(cr, z, off_r);
    a->grid.col0 = tui_zoom_origin(cc, z, off_c);
    a->zoom[k] = z;
}

static tui_action map_key(tui_app *a, int key)
{
    t5_attn_kind k = a->kind;
    size_t rows, cols;
    tui_map_size(a, k, &rows, &cols);
    size_t z = zoom_of(a, k);
    size_t page = a->grid.vis_rows ? a->grid.vis_rows : 10;
    /* Moves go cell by cell on the pooled map; the cursor keeps its token's
       place inside the cell. */
    size_t pr = a->cur_r[k] / z, pc = a->cur_c[k] / z;
    if (move_cursor(&pr, &pc, tui_pool_size(rows, z), tui_pool_size(cols, z), page, key)) {
        size_t r = pr * z + a->cur_r[k] % z, c = pc * z + a->cur_c[k] % z;
        a->cur_r[k] = r < rows ? r : (rows ? rows - 1 : 0);
        a->cur_c[k] = c < cols ? c : (cols ? cols - 1 : 0);
        return TUI_REDRAW;
    }
    switch (key) {
    case 'z': case '-': {
        size_t fit = tui_zoom_fit(rows, cols, a->grid.height, a->grid.width, use_half(a),
                                  a->grid.label_w);
        if (z >= fit) {
            snprintf(a->msg, sizeof a->msg, "the whole map is on the screen (Z zooms in)");
            a->msg_error = 0;
            a->err_col = 0;
            return TUI_REDRAW;
        }
        set_zoom(a, z * 2 < fit ? z * 2 : fit);
        return TUI_REDRAW;
    }
    case 'Z': case '+': case '=': set_zoom(a, z / 2); return TUI_REDRAW;
    case 'f': {
        size_t fit = tui_zoom_fit(rows, cols, a->grid.height, a->grid.width, use_half(a),
                                  a->grid.label_w);
        set_zoom(a, z == 1 ? fit : 1);
        return TUI_REDRAW;
    }
    case 'M':
        a->pool_mean = !a->pool_mean;
        snprintf(a->msg, sizeof a->msg, "zoomed cells pool tokens by their %s",
                 a->pool_mean ? "mean" : "maximum");
        a->msg_error = 0;
        a->err_col = 0;
        return TUI_REDRAW;
    }
    return TUI_IGNORED;
}

/* ---- the model view: every layer x head ------------------------------------------- */

static void model_draw(tui_app *a, int y, int x, int h, int w)
{
    t5_attn_kind k = a->kind;
    size_t nl = tui_n_layers(a, k), nh = a->tr->n_heads;
    size_t rows, cols;
    tui_map_size(a, k, &rows, &cols);
    size_t live = tui_live_rows(a, k);
    if (a->layer >= nl) a->layer = nl - 1;
    if (a->head >= nh) a->head = nh - 1;
    if (!live || !cols) {
        snprintf(a->status, sizeof a->status, " no map yet");
        return;
    }
    int half = use_half(a);
    size_t per = half ? 2 : 1;
    const int lab_w = 4; /* "L12 " */
    /* Thumbnail size: as large as fits, never larger than the map. */
    size_t avail_w = w > lab_w ? (size_t)(w - lab_w) : 0, avail_h = h > 1 ? (size_t)(h - 1) : 0;
    size_t tw = avail_w / nh > 1 ? avail_w / nh - 1 : 1;
    if (tw > cols) tw = cols;
    if (tw < 3) tw = cols < 3 ? cols : 3;
    size_t tl = avail_h / nl > 1 ? avail_h / nl - 1 : 1;
    size_t max_lines = (live + per - 1) / per;
    if (tl > max_lines) tl = max_lines;
    size_t vis_h = avail_w / (tw + 1), vis_l = avail_h / (tl + 1);
    if (vis_h == 0 || vis_l == 0) {
        snprintf(a->status, sizeof a->status, " the model view does not fit; enlarge the terminal");
        return;
    }
    if (vis_h > nh) vis_h = nh;
    if (vis_l > nl) vis_l = nl;
    a->mv_row0 = tui_scroll(a->mv_row0, a->layer, vis_l, nl, 1);
    a->mv_col0 = tui_scroll(a->mv_col0, a->head, vis_h, nh, 1);
    size_t trows = tl * per;
    if (trows > live) trows = live;
    /* head labels */
    tui_fill(a, y, x, w, ROLE_NORMAL);
    for (size_t j = 0; j < vis_h; j++) {
        size_t hd = a->mv_col0 + j;
        char s[16];
        snprintf(s, sizeof s, "H%zu", hd);
        tui_text(a, y, x + lab_w + (int)(j * (tw + 1)) + 1, (int)tw,
                 hd == a->head ? ROLE_SELECTED : ROLE_LABEL, s);
    }
    tui_grid tg = {.half = half, .cell_w = 1};
    double t_start = util_now();
    a->more_work = 0;
    /* Thumbnails are pooled once per run, kind, step and size (a 512-token
       map is 262144 weights a head): moving the selection redraws from the
       cache. */
    tui_cache_key key = {a->serial, (int)k, 0, 1, 0, 0, 0, live, trows, tw};
    size_t per_thumb = trows * tw;
    if (!key_eq(&a->tkey, &key)) {
        if (nl * nh * per_thumb > a->thumbs_cap) {
            free(a->thumbs);
            a->thumbs_cap = nl * nh * per_thumb;
            a->thumbs = xcalloc(a->thumbs_cap, sizeof *a->thumbs);
        }
        memset(a->thumb_done, 0, nl * nh);
        a->tkey = key;
    }
    for (size_t i = 0; i < vis_l; i++) {
        size_t ly = a->mv_row0 + i;
        int ty = y + 1 + (int)(i * (tl + 1));
        char s[16];
        snprintf(s, sizeof s, "L%zu", ly);
        tui_text(a, ty, x, lab_w, ly == a->layer ? ROLE_SELECTED : ROLE_LABEL, s);
        for (size_t j = 0; j < vis_h; j++) {
            size_t hd = a->mv_col0 + j;
            size_t ti = ly * nh + hd;
            float *th = a->thumbs + ti * per_thumb;
            if (!a->thumb_done[ti]) {
                size_t stride;
                const float *map = tui_map(a, k, ly, hd, &stride);
                if (!map) continue;
                tui_downsample(map, live, cols, stride, th, trows, tw);
                float mx = 1e-9f; /* max pooling keeps the map's maximum */
                for (size_t i = 0; i < per_thumb; i++) mx = th[i] > mx ? th[i] : mx;
                a->thumb_max[ti] = mx;
                a->thumb_done[ti] = 1;
            }
            double vmax = a->normalize ? a->thumb_max[ti] : 1.0;
            int tx = x + lab_w + (int)(j * (tw + 1)) + 1;
            int sel = ly == a->layer && hd == a->head;
            for (size_t l = 0; l < tl; l++) {
                for (size_t c = 0; c < tw; c++) {
                    tui_cell cell = {0};
                    size_t r = l * per;
                    if (r >= trows) break;
                    cell.top = tui_quant(a, (float)(th[r * tw + c] / vmax > 1 ? 1 : th[r * tw + c] / vmax));
                    if (half && r + 1 < trows) {
                        cell.flags |= TUI_CELL_HAS_BOT;
                        double b = th[(r + 1) * tw + c] / vmax;
                        cell.bot = tui_quant(a, (float)(b > 1 ? 1 : b));
                    }
                    tui_paint p;
                    tui_paint_cell(&cell, &tg, &a->th, a->mode, &p);
                    tui_put_paint(a, ty + (int)l, tx + (int)c, &p);
                }
                if (sel) {
                    tui_text(a, ty + (int)l, tx - 1, 1, ROLE_SELECTED, a->utf8 ? "\xe2\x96\x90" : ">");
                    tui_text(a, ty + (int)l, tx + (int)tw, 1, ROLE_SELECTED, a->utf8 ? "\xe2\x96\x8c" : "<");
                }
            }
            /* Under the thumbnail: the head's class ("D +0", "V x ^"...) and
               an X when it is ablated. */
            if (ty + (int)tl < y + h) {
                /* Classes cost a pass over each map (~15 ms for 512 x 512):
                   large maps are classified on the idle frames after a key
                   (a->more_work), a budget each, so a key's frame comes at
                   once and the labels fill in. */
                const an_head_class *hc = NULL;
                if (a->cls_done[k][ti] || rows * cols <= 64 * 64 ||
                    (a->idle && util_now() - t_start < CLASS_BUDGET_S))
                    hc = tui_head_class(a, k, ly, hd);
                else
                    a->more_work = 1;
                char lab[64];
                int abl = an_iv_head(&a->iv, k, ly, hd) != AN_ABL_NONE;
                snprintf(lab, sizeof lab, "%s%s", abl ? "X " : "",
                         hc ? hc->label : a->more_work ? "..." : "");
                tui_text(a, ty + (int)tl, tx, (int)tw, abl ? ROLE_WRONG : sel ? ROLE_SELECTED : ROLE_HINT, lab);
            }
        }
    }
    size_t si = a->layer * nh + a->head;
    const an_head_class *hc = a->cls_done[k][si] || rows * cols <= 64 * 64
                                  ? tui_head_class(a, k, a->layer, a->head)
                                  : NULL;
    snprintf(a->status, sizeof a->status,
             " model view: %s, %zu layers x %zu heads; selected layer %zu head %zu%s%s%s "
             "(Enter zooms, x ablates)",
             tui_kind_name(k), nl, nh, a->layer, a->head, hc ? ": " : "", hc ? hc->label : "",
             an_iv_head(&a->iv, k, a->layer, a->head) ? " [ablated]" : "");
}

static tui_action model_key(tui_app *a, int key)
{
    size_t nl = tui_n_layers(a, a->kind), nh = a->tr->n_heads;
    if (move_cursor(&a->layer, &a->head, nl, nh, 1, key)) return TUI_REDRAW;
    if (key == '\r' || key == '\n' || key == (TUI_FKEY | KEY_ENTER)) {
        a->view = VIEW_MAP;
        a->avg = 0;
        return TUI_REDRAW;
    }
    return TUI_IGNORED;
}

/* ---- the summary view: layers x key tokens ------------------------------------------ */

/* The summary (n_layers x cols) in a->sumbuf, computed once per run, kind
 * and step; returns its maximum. */
static double summary_fill(tui_app *a, size_t *nl_out, size_t *cols_out)
{
    t5_attn_kind k = a->kind;
    size_t nl = tui_n_layers(a, k), nh = a->tr->n_heads, rows, cols;
    tui_map_size(a, k, &rows, &cols);
    size_t live = tui_live_rows(a, k);
    *nl_out = nl;
    *cols_out = cols;
    tui_cache_key key = {a->serial, (int)k, 0, 1, 0, 0, 0, live, 0, 0};
    if (key_eq(&a->skey, &key)) return a->sum_max;
    double mx = 1e-9;
    for (size_t l = 0; l < nl; l++) {
        size_t stride, s1;
        const float *h0 = tui_map(a, k, l, 0, &stride);
        const float *h1 = nh > 1 ? tui_map(a, k, l, 1, &s1) : h0;
        tui_received(h0, nh, (size_t)(h1 - h0), live, cols, stride, a->sumbuf + l * cols);
        for (size_t c = 0; c < cols; c++)
            mx = a->sumbuf[l * cols + c] > mx ? a->sumbuf[l * cols + c] : mx;
    }
    a->skey = key;
    a->sum_max = mx;
    return mx;
}

/* The widest pooling of the summary's columns worth having: the fewest
   tokens a cell at which every column is on the screen. */
static size_t summary_fit(const tui_app *a, size_t cols)
{
    size_t room = a->sum_grid.width > a->sum_grid.label_w ? a->sum_grid.width - a->sum_grid.label_w
                                                          : 0;
    if (!room) return 1;
    size_t z = 1;
    while (tui_pool_size(cols, z) > room) z++;
    return z;
}

static void summary_draw(tui_app *a, int y, int x, int h, int w)
{
    size_t nl, cols;
    double mx = summary_fill(a, &nl, &cols);
    if (!cols || !nl) {
        snprintf(a->status, sizeof a->status, " no map yet");
        return;
    }
    if (a->sum_r >= nl) a->sum_r = nl - 1;
    if (a->sum_c >= cols) a->sum_c = cols - 1;
    static char names_buf[64][8];
    const char *names[64];
    size_t nn = nl < 64 ? nl : 64;
    for (size_t l = 0; l < nn; l++) {
        snprintf(names_buf[l], sizeof names_buf[l], "L%zu", l);
        names[l] = names_buf[l];
    }
    /* Long inputs: key columns pooled z a cell (the layers stay rows), by
       the map view's max / mean, into a->buf2. */
    size_t labw = tui_row_label_width(nn, 0, 3);
    size_t z = a->sum_zoom ? a->sum_zoom : 1;
    size_t room = (size_t)w > labw ? (size_t)w - labw : 1, fit = 1;
    while (tui_pool_size(cols, fit) > room) fit++;
    if (z > fit) z = a->sum_zoom = fit;
    size_t pc = tui_pool_size(cols, z);
    const float *sm = a->sumbuf;
    double vmax = mx;
    if (z > 1) {
        vmax = 1e-9;
        for (size_t l = 0; l < nn; l++)
            for (size_t j = 0; j < pc; j++) {
                size_t c0 = j * z, c1 = c0 + z < cols ? c0 + z : cols;
                float v = a->pool_mean ? 0.0f : -1.0f;
                for (size_t c = c0; c < c1; c++) {
                    float u = a->sumbuf[l * cols + c];
                    v = a->pool_mean ? v + u : (u > v ? u : v);
                }
                if (a->pool_mean) v /= (float)(c1 - c0);
                a->buf2[l * pc + j] = v;
                if (v > vmax) vmax = v;
            }
        sm = a->buf2;
        for (size_t j = 0; j < pc; j++) a->ztok_c[j] = tui_col_tokens(a, a->kind)[j * z];
    }
    /* Cells scaled to the space, at least a line per layer (sy >= 2), so
       each layer has its label. */
    int half = use_half(a);
    tui_grid_fit(&a->sum_grid, nn, pc, (size_t)h, (size_t)w, half, MAX_SCALE, labw, a->sum_r,
                 a->sum_c / z);
    if (a->sum_grid.sy == 1) /* pairs of layers on a line would share a label */
        tui_grid_layout(&a->sum_grid, nn, pc, (size_t)h, (size_t)w, 0, 1, labw, a->sum_r,
                        a->sum_c / z);
    const tui_grid *g = &a->sum_grid;
    if (!g->vis_rows || !g->vis_cols) {
        snprintf(a->status, sizeof a->status, " the summary does not fit; enlarge the terminal");
        return;
    }
    const int *ct = tui_col_tokens(a, a->kind);
    draw_col_labels(a, g, y, x, z > 1 ? a->ztok_c : ct, a->sum_c / z, "layer");
    draw_grid(a, g, y, x, sm, pc, nn, vmax, a->sum_r, a->sum_c / z, NULL, names, -1);
    if (z > 1) {
        size_t c0 = a->sum_c / z * z, c1 = c0 + z < cols ? c0 + z : cols;
        char ctx[24];
        range_text(a, ct, c0, c1, ctx, sizeof ctx);
        snprintf(a->status, sizeof a->status,
                 " summary (%s): layer %zu, keys %zu-%zu '%s' receive %s %.3f (%zu a cell; "
                 "summed over heads, mean over queries)",
                 tui_kind_name(a->kind), a->sum_r, c0, c1 - 1, ctx,
                 a->pool_mean ? "mean" : "max", sm[a->sum_r * pc + a->sum_c / z], z);
        return;
    }
    char ka[32];
    snprintf(a->status, sizeof a->status,
             " summary (%s): layer %zu, key %zu '%s' receives %.3f (summed over heads, mean over "
             "queries; max %.3f)",
             tui_kind_name(a->kind), a->sum_r, a->sum_c, label(ct[a->sum_c], ka, sizeof ka),
             a->sumbuf[a->sum_r * cols + a->sum_c], mx);
}

static tui_action summary_key(tui_app *a, int key)
{
    size_t nl = tui_n_layers(a, a->kind), rows, cols;
    tui_map_size(a, a->kind, &rows, &cols);
    size_t z = a->sum_zoom ? a->sum_zoom : 1;
    size_t pc = a->sum_c / z;
    if (move_cursor(&a->sum_r, &pc, nl, tui_pool_size(cols, z), 1, key)) {
        size_t c = pc * z + a->sum_c % z;
        a->sum_c = c < cols ? c : (cols ? cols - 1 : 0);
        return TUI_REDRAW;
    }
    size_t fit = summary_fit(a, cols);
    switch (key) {
    case 'z': case '-':
        a->sum_zoom = z * 2 < fit ? z * 2 : fit;
        return TUI_REDRAW;
    case 'Z': case '+': case '=':
        a->sum_zoom = z / 2 ? z / 2 : 1;
        return TUI_REDRAW;
    case 'f': a->sum_zoom = z == 1 ? fit : 1; return TUI_REDRAW;
    case 'M': a->pool_mean = !a->pool_mean; return TUI_REDRAW;
    }
    if (key == '\r' || key == '\n' || key == (TUI_FKEY | KEY_ENTER)) {
        a->view = VIEW_MAP;
        a->layer = a->sum_r;
        a->avg = 1;
        a->cur_c[a->kind] = a->sum_c;
        return TUI_REDRAW;
    }
    return TUI_IGNORED;
}

const tui_view tui_views[VIEW_N] = {
    [VIEW_MAP] = {"map", map_draw, map_key},
    [VIEW_MODEL] = {"model", model_draw, model_key},
    [VIEW_SUMMARY] = {"summary", summary_draw, summary_key},
};

/* ---- the frame ------------------------------------------------------------------------ */

static void draw_title(tui_app *a, int w)
{
    /* Long and short forms of each piece; the first combination that fits
       wins (the program name goes first, then the long forms). */
    char model[128], view[2][160], step[96], look[2][96];
    const char *slash = strrchr(a->model_dir, '/');
    const char *mname = slash && slash[1] ? slash + 1 : a->model_dir;
    snprintf(model, sizeof model, "%.100s", mname);
    const char *kind = tui_kind_name(a->kind);
    size_t nl = tui_n_layers(a, a->kind), nh = a->tr->n_heads;
    if (a->view != VIEW_MAP) {
        snprintf(view[0], sizeof view[0], "%s %s view", kind, tui_views[a->view].name);
        snprintf(view[1], sizeof view[1], "%s %s", kind, tui_views[a->view].name);
    } else if (a->avg) {
        snprintf(view[0], sizeof view[0], "%s layer %zu of %zu mean of %zu heads", kind, a->layer,
                 nl, nh);
        snprintf(view[1], sizeof view[1], "%s L%zu/%zu mean", kind, a->layer, nl);
    } else {
        snprintf(view[0], sizeof view[0], "%s layer %zu of %zu head %zu of %zu", kind, a->layer,
                 nl, a->head, nh);
        snprintf(view[1], sizeof view[1], "%s L%zu/%zu H%zu/%zu", kind, a->layer, nl, a->head, nh);
    }
    size_t z = zoom_of(a, a->kind);
    if (a->view == VIEW_MAP && z > 1)
        for (int i = 0; i < 2; i++)
            snprintf(view[i] + strlen(view[i]), sizeof view[i] - strlen(view[i]),
                     i ? " %zux%s" : " zoom %zu %s", z, a->pool_mean ? "mean" : "max");
    step[0] = '\0';
    if (a->have_run)
        snprintf(step, sizeof step, "step %zu/%zu%s%s", a->step + 1, a->n_gen,
                 a->playing ? " playing" : "", a->forced ? " forced" : "");
    size_t n_abl = an_iv_count(&a->iv);
    if (n_abl) snprintf(step + strlen(step), sizeof step - strlen(step), " [%zu ablated]", n_abl);
    static const char *depth[] = {"no colour", "8 colours", "256 colours", "24-bit", "auto"};
    static const char *depth_short[] = {"mono", "8", "256", "24bit", "auto"};
    snprintf(look[0], sizeof look[0], "theme %s (%s)%s", a->th.name, depth[a->mode],
             a->raw ? " [text]" : "");
    snprintf(look[1], sizeof look[1], "%s/%s%s", a->th.name, depth_short[a->mode],
             a->raw ? " [text]" : "");
    const char *sep = SEP(a);
    static const struct { int name, view, look; } tries[] = {
        {1, 0, 0}, {0, 0, 0}, {0, 1, 0}, {0, 1, 1}, {0, 1, -1},
    };
    char s[700];
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        int n = snprintf(s, sizeof s, "%s%s%s%s%s", tries[i].name ? " attnscope" : "",
                         tries[i].name ? sep : " ", model, sep, view[tries[i].view]);
        if (step[0]) n += snprintf(s + n, sizeof s - (size_t)n, "%s%s", sep, step);
        if (tries[i].look >= 0)
            snprintf(s + n, sizeof s - (size_t)n, "%s%s", sep, look[tries[i].look]);
        if (tui_utf8_cols(s, strlen(s)) <= (size_t)w) break;
    }
    tui_fill(a, 0, 0, w, ROLE_TITLE);
    tui_text(a, 0, 0, w, ROLE_TITLE, s);
}

static const char *entry_label(const tui_app *a)
{
    return a->raw ? "text> " : "equation> ";
}

static int draw_entry(tui_app *a, int y, int w)
{
    const char *lab = entry_label(a);
    int lw = (int)strlen(lab);
    tui_text(a, y, 0, lw, a->editing ? ROLE_ENTRY_FOCUS : ROLE_LABEL, lab);
    theme_role r = a->editing ? ROLE_ENTRY_FOCUS : ROLE_ENTRY;
    tui_fill(a, y, lw, w - lw, r);
    /* Scroll the text when it is wider than the box. */
    int box = w - lw - 1;
    size_t pos_cols = tui_utf8_cols(a->input, a->input_pos);
    size_t skip = pos_cols >= (size_t)box ? pos_cols - (size_t)box + 1 : 0;
    const char *s = a->input;
    for (size_t i = 0; i < skip && *s; s++)
        if (((unsigned char)s[1] & 0xC0) != 0x80) i++;
    tui_text(a, y, lw, box, r, s);
    return lw + (int)(pos_cols - skip);
}

/* The prompt's label: what Enter will do with the text. */
static const char *prompt_label(const tui_app *a)
{
    switch (a->prompt) {
    case PROMPT_SEARCH: return a->prompt_rows ? "find query (Tab: key)/" : "find key (Tab: query)/";
    case PROMPT_TARGET: return "target (empty: greedy)> ";
    case PROMPT_MAXLEN: return "output tokens at most (empty: default)> ";
    default: return "";
    }
}

/* The prompt on the message line; returns the cursor's column. */
static int draw_prompt(tui_app *a, int y, int w)
{
    const char *lab = prompt_label(a);
    int lw = (int)strlen(lab);
    tui_fill(a, y, 0, w, ROLE_ENTRY_FOCUS);
    tui_text(a, y, 0, lw, ROLE_ENTRY_FOCUS, lab);
    int box = w - lw - 1;
    size_t cols = tui_utf8_cols(a->pbuf, a->plen);
    size_t skip = box > 0 && cols >= (size_t)box ? cols - (size_t)box + 1 : 0;
    const char *s = a->pbuf;
    for (size_t i = 0; i < skip && *s; s++)
        if (((unsigned char)s[1] & 0xC0) != 0x80) i++;
    tui_text(a, y, lw, box, ROLE_ENTRY_FOCUS, s);
    return lw + (int)(cols - skip);
}

static void draw_message(tui_app *a, int y, int w)
{
    tui_fill(a, y, 0, w, ROLE_NORMAL);
    if (!a->msg[0]) return;
    int x = 0;
    int lw = (int)strlen(entry_label(a));
    if (a->msg_error && a->err_col > 0 && lw + (int)a->err_col - 1 + 2 < w) {
        x = lw + (int)a->err_col - 1;
        tui_text(a, y, x, 1, ROLE_ERROR, "^");
        x += 2;
        /* A long message that does not fit after the caret starts at the left. */
        if (x + (int)strlen(a->msg) > w && (int)strlen(a->msg) < x - 1) x = 0;
    }
    tui_text(a, y, x, w - x, a->msg_error ? ROLE_ERROR : ROLE_HINT, a->msg);
}

/* The solution, wrapped over up to max_lines lines. Returns lines used. */
static int draw_solution(tui_app *a, int y, int w, int max_lines)
{
    const char *lab = a->forced ? "target> " : a->raw ? "output> " : "solution> ";
    int lw = (int)strlen(lab);
    for (int i = 0; i < max_lines; i++) tui_fill(a, y + i, 0, w, ROLE_NORMAL);
    tui_text(a, y, 0, lw, ROLE_LABEL, lab);
    if (!a->have_run) return 1;
    int avail = w - lw;
    if (avail < 4) return 1;
    size_t len = strlen(a->output);
    size_t s0 = a->n_gen ? a->gen_off[a->step] : 0, s1 = a->n_gen ? a->gen_off[a->step + 1] : 0;
    int line = 0, col = 0;
    for (size_t i = 0; i < len && line < max_lines; i++) {
        theme_role r = i >= s1 ? ROLE_PENDING : ROLE_SOLUTION;
        if (i >= s0 && i < s1) r = ROLE_STEP;
        else if (a->first_wrong >= 0 && (long)i == a->first_wrong && i < s1) r = ROLE_WRONG;
        char ch[2] = {a->output[i], 0};
        if ((unsigned char)ch[0] < 32 || (unsigned char)ch[0] > 126) ch[0] = '.';
        tui_text(a, y + line, lw + col, 1, r, ch);
        if (++col >= avail) col = 0, line++;
    }
    /* The step on a token that is no character (eos): a marker after the text. */
    if (a->n_gen && s0 == s1 && line < max_lines) tui_text(a, y + line, lw + col, 1, ROLE_STEP, "$");
    int used = line + (col > 0 || line == 0 ? 1 : 0);
    return used > max_lines ? max_lines : used;
}

static void draw_check(tui_app *a, int y, int w)
{
    tui_fill(a, y, 0, w, ROLE_NORMAL);
    tui_text(a, y, 0, 7, ROLE_LABEL, "check> ");
    if (!a->have_run) return;
    if (a->forced) {
        tui_text(a, y, 7, w - 7, ROLE_HINT,
                 "teacher forced: each row is fed the target so far and predicts its next "
                 "token (T changes the target)");
        return;
    }
    if (!a->quad_ok) {
        tui_text(a, y, 7, w - 7, ROLE_HINT, "raw text: nothing to check against");
        return;
    }
    char s[768];
    tui_check_kind k = tui_check_text(&a->sol, a->output, a->utf8, s, sizeof s);
    tui_text(a, y, 7, w - 7, k == TUI_CHECK_RIGHT ? ROLE_RIGHT : k == TUI_CHECK_WRONG ? ROLE_WRONG
                                                                                    : ROLE_HINT,
             s);
}

/* The key hints of the footer, most useful first; only whole hints are
 * drawn, as many as the width holds ("? help" always comes first). */
static void draw_hints(tui_app *a, int y, int w)
{
    static const char *editing[] = {"Enter decode", "Esc back", "Ctrl-U clear",
                                    "Ctrl-R raw text", "arrows move", NULL};
    static const char *prompt[] = {"Enter accept", "Esc cancel", "Ctrl-U clear", NULL};
    static const char *browsing[] = {"? help",    "q quit",     "e edit",    "arrows move",
                                     "l/L layer", "h/H head",   "1 2 3 kind", "a avg",
                                     "m model",   "s summary",  ",/. step",  "space play",
                                     "x ablate",  "/ find",     "z/Z zoom",  "t theme", NULL};
    const char **items = a->editing ? editing : a->prompt ? prompt : browsing;
    char s[512];
    size_t len = 0;
    for (int i = 0; items[i]; i++) {
        size_t n = strlen(items[i]) + (len ? 2 : 1);
        if (len + n > (size_t)w || len + n >= sizeof s) break;
        len += (size_t)snprintf(s + len, sizeof s - len, "%s%s", len ? "  " : " ", items[i]);
    }
    s[len] = 0;
    tui_fill(a, y, 0, w, ROLE_NORMAL);
    tui_text(a, y, 0, w, ROLE_HINT, s);
}

static const char *help_lines[] = {
    "attnscope keys",
    "  e   Enter     edit the equation: Enter decodes, Esc leaves,",
    "                Ctrl-U clears, Ctrl-R decodes it as raw text",
    "  arrows        move the cursor (PgUp/PgDn a page, Home/End a row)",
    "  l L   h H     next / previous layer;  next / previous head",
    "  a             the mean over heads (on/off)",
    "  1 2 3   k     encoder self / decoder self / cross;  next kind",
    "  v  m  s       one map / model view (every layer x head, Enter",
    "                zooms) / summary (attention each token receives)",
    "  , .   g G     decoding step back / forward;  first / last step",
    "  space  p      play / pause the decoding",
    "  x   X         ablate (zero) this head and decode again;  none",
    "  z Z   f   M   zoom out / in (tokens a cell); fit / one token;",
    "                pool cells by max / mean",
    "  /   n N       find a token by its text (Tab: key / query axis);",
    "                next / previous match",
    "  T   O         teacher-forced target text;  output length limit",
    "  c             scale colours to the map's maximum (on/off)",
    "  b   r   t     half blocks on/off;  raw text mode;  next theme",
    "  Ctrl-L        redraw;   ?  this help;   q  quit",
    "any key closes this help",
};

static void draw_help(tui_app *a, int h, int w)
{
    size_t n = sizeof help_lines / sizeof help_lines[0];
    int bw = 70 < w - 2 ? 70 : w - 2, bh = (int)n + 2 < h ? (int)n + 2 : h;
    int y0 = (h - bh) / 2, x0 = (w - bw) / 2;
    for (int i = 0; i < bh; i++) tui_fill(a, y0 + i, x0, bw, ROLE_HELP);
    for (int i = 0; i < bh - 2 && i < (int)n; i++)
        tui_text(a, y0 + 1 + i, x0 + 2, bw - 4, i == 0 ? ROLE_TITLE : ROLE_HELP, help_lines[i]);
}

void tui_draw(tui_app *a)
{
    int H = LINES, W = COLS;
    tui_role(a, ROLE_NORMAL);
    erase();
    if (W < MIN_W || H < MIN_H) {
        a->too_small = 1;
        /* Short lines, so that even a 20-column terminal shows them whole. */
        char s[128];
        int y0 = H >= 3 ? H / 2 - 1 : 0;
        snprintf(s, sizeof s, "too small: %dx%d", W, H);
        tui_text(a, y0, 0, W, ROLE_ERROR, s);
        snprintf(s, sizeof s, "needs %dx%d", MIN_W, MIN_H);
        if (y0 + 1 < H) tui_text(a, y0 + 1, 0, W, ROLE_NORMAL, s);
        if (y0 + 2 < H) tui_text(a, y0 + 2, 0, W, ROLE_HINT, "q quits");
        curs_set(0);
        wnoutrefresh(stdscr);
        return;
    }
    a->too_small = 0;
    /* Stacks differ in depth (2 encoder, 3 decoder layers...): clamp first,
       so the title and the view agree. */
    size_t nl = tui_n_layers(a, a->kind);
    if (a->layer >= nl) a->layer = nl ? nl - 1 : 0;
    draw_title(a, W);
    int cx = draw_entry(a, 1, W);
    int px = -1;
    if (a->prompt) px = draw_prompt(a, 2, W);
    else draw_message(a, 2, W);
    int sol_max = W < 100 ? 3 : 2;
    int used = draw_solution(a, 3, W, sol_max);
    int y = 3 + used;
    draw_check(a, y++, W);
    int status_y = y++;
    int view_h = H - 1 - y;
    a->status[0] = '\0';
    a->more_work = 0; /* a view sets it again when it left work for idle frames */
    if (a->have_run && view_h > 1) tui_views[a->view].draw(a, y, 0, view_h, W);
    else if (!a->have_run) snprintf(a->status, sizeof a->status, " type an equation and press Enter");
    tui_fill(a, status_y, 0, W, ROLE_STATUS);
    tui_text(a, status_y, 0, W, ROLE_STATUS, a->status);
    draw_hints(a, H - 1, W);
    if (a->help) draw_help(a, H, W);
    if (a->prompt && !a->help) {
        curs_set(1);
        move(2, px < W ? px : W - 1);
    } else if (a->editing && !a->help) {
        curs_set(1);
        move(1, cx < W ? cx : W - 1);
    } else {
        curs_set(0);
    }
    wnoutrefresh(stdscr);
}

/* ---- keys all views share ---------------------------------------------------------------- */

static void utf8_put(char *out, int cp, size_t *n)
{
    if (cp < 0x80) out[(*n)++] = (char)cp;
    else if (cp < 0x800) out[(*n)++] = (char)(0xC0 | (cp >> 6)), out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    else if (cp < 0x10000)
        out[(*n)++] = (char)(0xE0 | (cp >> 12)), out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    else
        out[(*n)++] = (char)(0xF0 | (cp >> 18)), out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F)), out[(*n)++] = (char)(0x80 | (cp & 0x3F));
}

static tui_action edit_key(tui_app *a, int key)
{
    char *s = a->input;
    switch (key) {
    case '\r': case '\n': case TUI_FKEY | KEY_ENTER:
        if (tui_submit(a, 0) == 0) a->editing = 0;
        return TUI_REDRAW;
    case TUI_CTRL('r'):
        if (tui_submit(a, 1) == 0) a->editing = 0;
        return TUI_REDRAW;
    case TUI_ESC: case '\t':
        a->editing = 0;
        return TUI_REDRAW;
    case TUI_FKEY | KEY_BACKSPACE: case 127: case 8:
        if (a->input_pos > 0) {
            size_t p = a->input_pos - 1;
            while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80) p--;
            memmove(s + p, s + a->input_pos, a->input_len - a->input_pos + 1);
            a->input_len -= a->input_pos - p;
            a->input_pos = p;
        }
        return TUI_REDRAW;
    case TUI_FKEY | KEY_DC: case TUI_CTRL('d'):
        if (a->input_pos < a->input_len) {
            size_t p = a->input_pos + 1;
            while (p < a->input_len && ((unsigned char)s[p] & 0xC0) == 0x80) p++;
            memmove(s + a->input_pos, s + p, a->input_len - p + 1);
            a->input_len -= p - a->input_pos;
        }
        return TUI_REDRAW;
    case TUI_FKEY | KEY_LEFT: case TUI_CTRL('b'):
        while (a->input_pos > 0 && ((unsigned char)s[--a->input_pos] & 0xC0) == 0x80) {}
        return TUI_REDRAW;
    case TUI_FKEY | KEY_RIGHT: case TUI_CTRL('f'):
        if (a->input_pos < a->input_len)
            while (++a->input_pos < a->input_len && ((unsigned char)s[a->input_pos] & 0xC0) == 0x80) {}
        return TUI_REDRAW;
    case TUI_FKEY | KEY_HOME: case TUI_CTRL('a'):
        a->input_pos = 0;
        return TUI_REDRAW;
    case TUI_FKEY | KEY_END: case TUI_CTRL('e'):
        a->input_pos = a->input_len;
        return TUI_REDRAW;
    case TUI_CTRL('u'):
        a->input[0] = '\0';
        a->input_len = a->input_pos = 0;
        return TUI_REDRAW;
    case TUI_CTRL('l'):
        clearok(curscr, TRUE);
        return TUI_REDRAW;
    }
    if (key & TUI_FKEY || key < 32 || key == 127) return TUI_HANDLED;
    char u[4];
    size_t n = 0;
    utf8_put(u, key, &n);
    if (a->input_len + n + 1 > sizeof a->input) return TUI_HANDLED;
    memmove(s + a->input_pos + n, s + a->input_pos, a->input_len - a->input_pos + 1);
    memcpy(s + a->input_pos, u, n);
    a->input_len += n;
    a->input_pos += n;
    return TUI_REDRAW;
}

static void set_step(tui_app *a, size_t step)
{
    if (!a->n_gen) return;
    a->step = step < a->n_gen ? step : a->n_gen - 1;
    a->cur_r[T5_ATTN_DEC_SELF] = a->step;
    a->cur_r[T5_ATTN_CROSS] = a->step;
}

static void set_note(tui_app *a, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_note(tui_app *a, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    a->msg_error = error;
    a->err_col = 0;
}

static void open_prompt(tui_app *a, tui_prompt_id id, const char *text)
{
    a->prompt = id;
    snprintf(a->pbuf, sizeof a->pbuf, "%s", text);
    a->plen = strlen(a->pbuf);
    if (id == PROMPT_SEARCH) a->prompt_rows = a->search_rows;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Move to the next (dir 1) or previous (-1) token on the searched axis
   whose text starts a match of a->search (ASCII case ignored; a match may
   run over several tokens, as a word does over ByT5 bytes), wrapping
   around. Tells where it landed on the message line. */
static void search_find(tui_app *a, int dir)
{
    if (!a->have_run) return;
    t5_attn_kind k = a->kind;
    size_t rows, cols;
    tui_map_size(a, k, &rows, &cols);
    int on_rows = a->search_rows;
    const int *tok = on_rows ? tui_row_tokens(a, k) : tui_col_tokens(a, k);
    size_t n = on_rows ? rows : cols;
    size_t cur = on_rows ? a->cur_r[k] : a->view == VIEW_SUMMARY ? a->sum_c : a->cur_c[k];
    /* The axis as one text, with the token each byte came from. */
    size_t cap = n * 24 + 1, len = 0;
    char *text = xcalloc(cap, 1);
    size_t *owner = xcalloc(cap, sizeof *owner);
    for (size_t i = 0; i < n; i++) {
        char t[96];
        tui_token_text(a, tok[i], t, sizeof t);
        for (const char *p = t; *p && len + 1 < cap; p++) {
            owner[len] = i;
            text[len++] = (char)lower((unsigned char)*p);
        }
    }
    char pat[TUI_INPUT_MAX];
    size_t pl = 0;
    for (const char *p = a->search; *p && pl + 1 < sizeof pat; p++) pat[pl++] = (char)lower((unsigned char)*p);
    pat[pl] = '\0';
    /* Tokens where a match starts, in order (one per token). */
    size_t n_hits = 0, first = n, last = n, next = n, prev = n, idx_next = 0, idx_prev = 0;
    long prev_tok = -1;
    for (size_t i = 0; pl && i + pl <= len; i++) {
        if (memcmp(text + i, pat, pl)) continue;
        size_t t = owner[i];
        if ((long)t == prev_tok) continue;
        prev_tok = (long)t;
        n_hits++;
        if (first == n) first = t;
        last = t;
        if (t > cur && next == n) next = t, idx_next = n_hits;
        if (t < cur) prev = t, idx_prev = n_hits;
    }
    free(text);
    free(owner);
    if (!n_hits) {
        set_note(a, 1, "/%s: not on the %s axis", a->search, on_rows ? "query" : "key");
        return;
    }
    size_t to, idx;
    int wrapped = 0;
    if (dir > 0) {
        if (next < n) to = next, idx = idx_next;
        else to = first, idx = 1, wrapped = 1;
    } else {
        if (prev < n) to = prev, idx = idx_prev;
        else to = last, idx = n_hits, wrapped = 1;
    }
    if (on_rows) {
        a->cur_r[k] = to;
        if (k != T5_ATTN_ENC_SELF) { /* a decoder row: show the step that wrote it */
            set_step(a, to);
            a->playing = 0;
        }
        if (a->view != VIEW_MAP) a->view = VIEW_MAP;
    } else {
        a->cur_c[k] = to;
        a->sum_c = to;
        if (a->view == VIEW_MODEL) a->view = VIEW_MAP;
    }
    char lab[64];
    set_note(a, 0, "/%s: match %zu of %zu, %s %zu '%s'%s  (n/N next/previous)", a->search, idx,
             n_hits, on_rows ? "query" : "key", to, label(tok[to], lab, sizeof lab),
             wrapped ? ", wrapped" : "");
}

/* Accept the prompt's text. */
static void prompt_accept(tui_app *a)
{
    tui_prompt_id id = a->prompt;
    a->prompt = PROMPT_NONE;
    switch (id) {
    case PROMPT_SEARCH:
        if (!a->plen) return; /* an empty search keeps the last one */
        snprintf(a->search, sizeof a->search, "%s", a->pbuf);
        a->search_rows = a->prompt_rows;
        search_find(a, 1);
        return;
    case PROMPT_TARGET:
        snprintf(a->target, sizeof a->target, "%s", a->pbuf);
        tui_rerun(a);
        if (!a->target[0] && a->have_run) set_note(a, 0, "no target: the model decodes greedily");
        return;
    case PROMPT_MAXLEN: {
        size_t v = 0;
        const char *p = a->pbuf;
        while (*p == ' ') p++;
        for (; *p >= '0' && *p <= '9' && v < 100000; p++) v = v * 10 + (size_t)(*p - '0');
        while (*p == ' ') p++;
        if (*p || v > TUI_MAX_GEN - 1) {
            set_note(a, 1, "output length: a number of tokens from 1 to %d, not '%s'",
                     TUI_MAX_GEN - 1, a->pbuf);
            return;
        }
        a->max_len = v;
        if (a->forced) {
            set_note(a, 0, "output length %s (used when there is no target: T clears it)",
                     a->pbuf[0] ? a->pbuf : "default");
            return;
        }
        tui_rerun(a);
        return;
    }
    default:
        return;
    }
}

static tui_action prompt_key(tui_app *a, int key)
{
    switch (key) {
    case '\r': case '\n': case TUI_FKEY | KEY_ENTER: prompt_accept(a); return TUI_REDRAW;
    case TUI_ESC: case TUI_CTRL('c'): case TUI_CTRL('g'): a->prompt = PROMPT_NONE; return TUI_REDRAW;
    case '\t':
        if (a->prompt == PROMPT_SEARCH) a->prompt_rows = !a->prompt_rows;
        return TUI_REDRAW;
    case TUI_CTRL('u'): a->plen = 0; a->pbuf[0] = '\0'; return TUI_REDRAW;
    case TUI_FKEY | KEY_BACKSPACE: case 127: case 8:
        if (a->plen) {
            size_t p = a->plen - 1;
            while (p > 0 && ((unsigned char)a->pbuf[p] & 0xC0) == 0x80) p--;
            a->plen = p;
            a->pbuf[p] = '\0';
        } else if (a->prompt == PROMPT_SEARCH) {
            a->prompt = PROMPT_NONE; /* backspace on an empty search leaves it, as in less */
        }
        return TUI_REDRAW;
    case TUI_CTRL('l'): clearok(curscr, TRUE); return TUI_REDRAW;
    }
    if (key & TUI_FKEY || key < 32 || key == 127) return TUI_HANDLED;
    char u[4];
    size_t n = 0;
    utf8_put(u, key, &n);
    if (a->plen + n + 1 > sizeof a->pbuf) return TUI_HANDLED;
    memcpy(a->pbuf + a->plen, u, n);
    a->plen += n;
    a->pbuf[a->plen] = '\0';
    return TUI_REDRAW;
}

tui_action tui_common_key(tui_app *a, int key)
{
    if (a->prompt) return prompt_key(a, key);
    if (a->editing) return edit_key(a, key);
    size_t nl = tui_n_layers(a, a->kind), nh = a->tr->n_heads;
    switch (key) {
    case 'q': case 'Q': return TUI_QUIT;
    case '?': case TUI_FKEY | KEY_F(1): a->help = 1; return TUI_REDRAW;
    case 'e': case '\t': case '\r': case '\n': case TUI_FKEY | KEY_ENTER:
        a->editing = 1; /* (the model and summary views take Enter first) */
        return TUI_REDRAW;
    case TUI_CTRL('l'): clearok(curscr, TRUE); return TUI_REDRAW;
    }
    if (a->too_small) return TUI_HANDLED;
    switch (key) {
    case 'l': a->layer = (a->layer + 1) % nl; return TUI_REDRAW;
    case 'L': a->layer = (a->layer + nl - 1) % nl; return TUI_REDRAW;
    case 'h': a->head = (a->head + 1) % nh; a->avg = 0; return TUI_REDRAW;
    case 'H': a->head = (a->head + nh - 1) % nh; a->avg = 0; return TUI_REDRAW;
    case 'a': a->avg = !a->avg; return TUI_REDRAW;
    case '1': a->kind = T5_ATTN_ENC_SELF; return TUI_REDRAW;
    case '2': a->kind = T5_ATTN_DEC_SELF; return TUI_REDRAW;
    case '3': a->kind = T5_ATTN_CROSS; return TUI_REDRAW;
    case 'k': a->kind = (t5_attn_kind)((a->kind + 1) % 3); return TUI_REDRAW;
    case 'v': a->view = VIEW_MAP; return TUI_REDRAW;
    case 'm': a->view = a->view == VIEW_MODEL ? VIEW_MAP : VIEW_MODEL; return TUI_REDRAW;
    case 's': a->view = a->view == VIEW_SUMMARY ? VIEW_MAP : VIEW_SUMMARY; return TUI_REDRAW;
    case ',': case '<': if (a->step > 0) set_step(a, a->step - 1); a->playing = 0; return TUI_REDRAW;
    case '.': case '>': set_step(a, a->step + 1); a->playing = 0; return TUI_REDRAW;
    case 'g': set_step(a, 0); a->playing = 0; return TUI_REDRAW;
    case 'G': set_step(a, a->n_gen); a->playing = 0; return TUI_REDRAW;
    case ' ': case 'p':
        if (!a->playing && a->step + 1 >= a->n_gen) set_step(a, 0);
        a->playing = !a->playing;
        return TUI_REDRAW;
    case 'x':
        if (a->avg && a->view == VIEW_MAP) {
            snprintf(a->msg, sizeof a->msg, "pick one head to ablate (a leaves the average)");
            a->msg_error = 1;
            a->err_col = 0;
            return TUI_REDRAW;
        }
        tui_toggle_ablation(a, a->kind, a->layer, a->head);
        return TUI_REDRAW;
    case 'X': tui_clear_ablation(a); return TUI_REDRAW;
    case 'c': a->normalize = !a->normalize; return TUI_REDRAW;
    case '/':
        open_prompt(a, PROMPT_SEARCH, "");
        return TUI_REDRAW;
    case 'n': case 'N':
        if (!a->search[0]) {
            set_note(a, 1, "no search yet: / finds a token by its text");
            return TUI_REDRAW;
        }
        search_find(a, key == 'n' ? 1 : -1);
        return TUI_REDRAW;
    case 'T':
        open_prompt(a, PROMPT_TARGET, a->target);
        return TUI_REDRAW;
    case 'O': {
        char cur[32] = "";
        if (a->max_len) snprintf(cur, sizeof cur, "%zu", a->max_len);
        open_prompt(a, PROMPT_MAXLEN, cur);
        return TUI_REDRAW;
    }
    case 'b': a->half_ok = !a->half_ok; return TUI_REDRAW;
    case 't': tui_cycle_theme(a); return TUI_REDRAW;
    case 'r':
        a->raw = !a->raw;
        if (tui_submit(a, 0) != 0) a->editing = 1;
        return TUI_REDRAW;
    }
    return TUI_IGNORED;
}
