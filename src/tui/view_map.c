/* view_map.c - the map view: one attention map (a head or the mean over
 * heads) with its token axes, the cursor's cell in the status line, the
 * decoding step's rows, and zooming out on long inputs by pooling tokens
 * into cells, rows and columns each by their own factor so that an axis
 * that fits stays one token a cell (cached per run, head, zoom and step, so
 * a cursor move costs only the visible cells).
 *
 * Deliberately not here: the other views, the frame (chrome.c). */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui_int.h"
#include "util.h"

typedef struct {
    size_t zr[3], zc[3];         /* tokens a cell per kind: rows, columns (0 or 1: one) */
    grid_area grid;              /* keeps the scroll position */
    float *zbuf;                 /* the pooled / head-mean map */
    tui_cache_key zkey;
    double zmax;                 /* its largest live value */
    int *ztok_c;                 /* first token of each pooled column */
    char (*zlab)[48];            /* pooled row labels */
    const char **znames;
} map_state;

static void *map_open(tui_app *a)
{
    (void)a;
    map_state *m = xcalloc(1, sizeof *m);
    size_t big = TUI_MAX_SRC > TUI_MAX_GEN ? TUI_MAX_SRC : TUI_MAX_GEN;
    for (int k = 0; k < 3; k++) m->zr[k] = m->zc[k] = 1;
    m->zbuf = xcalloc(big * big, sizeof(float));
    m->ztok_c = xcalloc(big, sizeof(int));
    m->zlab = xcalloc(big, sizeof *m->zlab);
    m->znames = xcalloc(big, sizeof *m->znames);
    return m;
}

static void map_close(void *st)
{
    map_state *m = st;
    if (!m) return;
    free(m->zbuf);
    free(m->ztok_c);
    free(m->zlab);
    free(m->znames);
    free(m);
}

/* The zoom of a kind: rows and columns pooled into a cell. */
typedef struct {
    size_t r, c;
} map_zoom;

static map_zoom zoom_of(const map_state *m, t5_attn_kind k)
{
    map_zoom z = {m->zr[k] ? m->zr[k] : 1, m->zc[k] ? m->zc[k] : 1};
    return z;
}

static int zoomed(map_zoom z)
{
    return z.r > 1 || z.c > 1;
}

/* What a pooled cell is: "max of 8x8 tokens", "max over 3 rows", "mean
   over 4 keys", "max of 2 rows x 8 keys". */
static void pool_text(map_zoom z, int mean, char *out, size_t cap)
{
    const char *how = mean ? "mean" : "max";
    if (z.r == z.c) snprintf(out, cap, "%s of %zux%zu tokens", how, z.r, z.c);
    else if (z.c == 1) snprintf(out, cap, "%s over %zu rows", how, z.r);
    else if (z.r == 1) snprintf(out, cap, "%s over %zu keys", how, z.c);
    else snprintf(out, cap, "%s of %zu rows x %zu keys", how, z.r, z.c);
}

/* The shown map at zoom z (tokens per cell): the trace's map itself (1 x 1,
 * one head) or pooled / head-averaged into m->zbuf, cached until the run,
 * kind, layer, head, zoom, pooling or live rows change. Sets the pooled
 * size and stride and m->zmax (the largest live value). */
static const float *zoomed_map(tui_app *a, map_state *m, t5_attn_kind k, size_t live, map_zoom z,
                               size_t *pr, size_t *pc, size_t *pstride)
{
    size_t rows, cols, stride;
    tui_session_map_size(a->s, k, &rows, &cols);
    size_t hi = tui_head_index(a), nh = a->s->tr->n_heads;
    *pr = grid_pool_size(rows, z.r);
    *pc = grid_pool_size(cols, z.c);
    tui_cache_key key = {a->s->serial, (int)k, a->pool_mean, 1, a->layer, hi, z.r, live, z.c, 0};
    if (!zoomed(z) && hi < nh) {
        const float *map = tui_session_map(a->s, k, a->layer, hi, &stride);
        *pstride = stride;
        if (!tui_cache_eq(&m->zkey, &key)) {
            m->zmax = map ? tui_map_max(map, live, cols, stride) : 1e-9;
            m->zkey = key;
        }
        return map;
    }
    *pstride = *pc;
    if (tui_cache_eq(&m->zkey, &key)) return m->zbuf;
    const float *map = tui_session_map(a->s, k, a->layer, hi, &stride); /* a mean: s->mean */
    if (!map) return NULL;
    m->zmax = grid_pool(map, rows, cols, stride, live, z.r, z.c, a->pool_mean, m->zbuf);
    if (m->zmax < 1e-9) m->zmax = 1e-9;
    m->zkey = key;
    return m->zbuf;
}

/* Pooled axes: each column labelled by its first token, each row by its
   first index and the start of its text. */
static void pooled_labels(tui_app *a, map_state *m, t5_attn_kind k, map_zoom z, size_t pr,
                          size_t pc)
{
    size_t rows, cols;
    tui_session_map_size(a->s, k, &rows, &cols);
    const int *rt = tui_session_row_tokens(a->s, k), *ct = tui_session_col_tokens(a->s, k);
    for (size_t j = 0; j < pc; j++) m->ztok_c[j] = ct[j * z.c];
    for (size_t i = 0; i < pr; i++) {
        char t[16];
        size_t i1 = (i + 1) * z.r < rows ? (i + 1) * z.r : rows;
        tui_range_text(a, rt, i * z.r, i1, t, 6);
        snprintf(m->zlab[i], sizeof m->zlab[i], "%zu %s", i * z.r, t);
        m->znames[i] = m->zlab[i];
    }
}

/* One axis of a pooled cell for the status line: "query 5 'x'" for a
   single token, "queries 0-7 'the quic'" for a block. */
static int range_part(tui_app *a, const int *tokens, size_t i0, size_t i1, const char *one,
                      const char *many, char *out, size_t cap)
{
    char tx[24];
    tui_range_text(a, tokens, i0, i1, tx, sizeof tx);
    if (i1 - i0 == 1) return snprintf(out, cap, "%s %zu '%s'", one, i0, tx);
    return snprintf(out, cap, "%s %zu-%zu '%s'", many, i0, i1 - 1, tx);
}

/* Row labels: "index token" one row a line, "12-13 7*" for a pair. */
static size_t label_width(size_t rows)
{
    size_t one = grid_row_label_width(rows, 0, 5), pair = grid_row_label_width(rows, 1, 0);
    return one > pair ? one : pair;
}

/* The status line: the cursor's cell (or pooled cell), its weight. */
static int cursor_status(tui_app *a, const float *map, size_t stride, map_zoom z, size_t live,
                         double vmax)
{
    t5_attn_kind k = a->kind;
    tui_session *s = a->s;
    size_t rows, cols, cr = a->cur_r[k], cc = a->cur_c[k];
    tui_session_map_size(s, k, &rows, &cols);
    const int *rt = tui_session_row_tokens(s, k), *ct = tui_session_col_tokens(s, k);
    char *st = a->status;
    size_t cap = sizeof a->status;
    int n;
    if (zoomed(z)) {
        /* The pooled cell under the cursor: its token ranges and value. */
        size_t pcr = cr / z.r, pcc = cc / z.c;
        size_t r0 = pcr * z.r, r1 = r0 + z.r < rows ? r0 + z.r : rows;
        size_t c0 = pcc * z.c, c1 = c0 + z.c < cols ? c0 + z.c : cols;
        char rpart[64], cpart[64];
        int enc = k == T5_ATTN_ENC_SELF;
        range_part(a, rt, r0, r1, enc ? "query" : "row", enc ? "queries" : "rows", rpart,
                   sizeof rpart);
        range_part(a, ct, c0, c1, "key", "keys", cpart, sizeof cpart);
        n = snprintf(st, cap, " %s  %s  %s %.4f  (%zux%zu a cell)", rpart, cpart,
                     a->pool_mean ? "mean" : "max", map[pcr * stride + pcc], z.r, z.c);
        if (k != T5_ATTN_ENC_SELF && r0 >= live)
            n += snprintf(st + n, cap - (size_t)n, "  (after this step)");
        return n;
    }
    char qa[32], ka[32], wa[32];
    tui_session_label(s, ct[cc], ka, sizeof ka);
    float wgt = map[cr * stride + cc];
    if (k == T5_ATTN_ENC_SELF)
        n = snprintf(st, cap, " query %zu '%s'", cr,
                     tui_session_label(s, s->tr->src[cr], qa, sizeof qa));
    else
        n = snprintf(st, cap, " query %zu '%s' (writes '%s')", cr,
                     tui_session_label(s, s->tr->tgt[cr], qa, sizeof qa),
                     cr < s->n_gen ? tui_session_label(s, s->gen[cr], wa, sizeof wa) : "");
    n += snprintf(st + n, cap - (size_t)n, "  key %zu '%s'  %s %.4f", cc, ka,
                  a->s->norms ? "norm" : "weight", wgt);
    if (k != T5_ATTN_ENC_SELF && cr >= live)
        n += snprintf(st + n, cap - (size_t)n, "  (after this step)");
    else if (a->normalize)
        n += snprintf(st + n, cap - (size_t)n, "  (colours scaled to the map's max %.3f)", vmax);
    return n;
}

/* The head's class takes a pass over the whole map (~15 ms at 512 x 512):
   a new head's first frame shows the map at once and an idle frame right
   after adds the class. */
static void class_status(tui_app *a, int n)
{
    t5_attn_kind k = a->kind;
    const an_head_class *hc = NULL;
    if (!a->avg) {
        size_t rows_k, cols_k;
        tui_session_map_size(a->s, k, &rows_k, &cols_k);
        if (tui_session_class_known(a->s, k, a->layer, a->head) || a->idle ||
            rows_k * cols_k <= 64 * 64)
            hc = tui_session_class(a->s, k, a->layer, a->head);
        else
            a->more_work = 1;
    }
    if (n < (int)sizeof a->status && (hc || a->more_work))
        n += snprintf(a->status + n, sizeof a->status - (size_t)n, "  class: %s",
                      hc ? hc->label : "...");
    if (!a->avg && an_iv_head(&a->s->iv, k, a->layer, a->head) && n < (int)sizeof a->status)
        snprintf(a->status + n, sizeof a->status - (size_t)n, "  [ablated]");
}

static void map_draw(tui_app *a, void *st, int y, int x, int h, int w)
{
    map_state *m = st;
    t5_attn_kind k = a->kind;
    size_t rows, cols, stride;
    tui_session_map_size(a->s, k, &rows, &cols);
    if (a->layer >= tui_n_layers(a, k)) a->layer = tui_n_layers(a, k) - 1;
    if (!rows || !cols) {
        snprintf(a->status, sizeof a->status, " no map yet");
        return;
    }
    size_t *cr = &a->cur_r[k], *cc = &a->cur_c[k];
    if (*cr >= rows) *cr = rows - 1;
    if (*cc >= cols) *cc = cols - 1;
    size_t live = tui_session_live_rows(a->s, k);
    int half = tui_use_half(a);
    if (a->tokens && h > 6) { /* the token view takes the first two lines */
        int used = tui_draw_tokens(a, y, x, w, k, a->layer, tui_head_index(a), *cr);
        y += used;
        h -= used;
    }
    /* Zoomed out no further than the whole map (a smaller map, a new
       input, a larger terminal), each axis apart. */
    map_zoom z = zoom_of(m, k), fit;
    grid_zoom_fit(rows, cols, (size_t)h, (size_t)w, half, label_width(rows), &fit.r, &fit.c);
    if (z.r > fit.r) z.r = m->zr[k] = fit.r;
    if (z.c > fit.c) z.c = m->zc[k] = fit.c;
    size_t pr, pc;
    const float *map = zoomed_map(a, m, k, live, z, &pr, &pc, &stride);
    if (!map) {
        snprintf(a->status, sizeof a->status, " no map yet");
        return;
    }
    double vmax = a->normalize ? m->zmax : 1.0;
    if (zoomed(z) && a->pool_mean && !a->normalize) vmax = m->zmax; /* means are small: scale */
    size_t pcr = *cr / z.r, pcc = *cc / z.c, plive = grid_pool_size(live, z.r);
    const char *const *names = tui_session_row_names(a->s, k);
    const int *col_tok = tui_session_col_tokens(a->s, k);
    const int *row_tok = names ? NULL : tui_session_row_tokens(a->s, k);
    if (zoomed(z)) pooled_labels(a, m, k, z, pr, pc);
    if (z.c > 1) col_tok = m->ztok_c;
    if (z.r > 1) { /* an axis that is not pooled keeps its token labels */
        row_tok = NULL;
        names = m->znames;
    }
    grid_fill(&m->grid, pr, pc, (size_t)h, (size_t)w, half, TUI_MAX_SCALE, label_width(rows),
              pcr, pcc);
    const grid_area *g = &m->grid;
    if (!g->vis_rows || !g->vis_cols) {
        snprintf(a->status, sizeof a->status, " the map does not fit; enlarge the terminal");
        return;
    }
    const char *corner = k == T5_ATTN_ENC_SELF ? "q\\k" : k == T5_ATTN_DEC_SELF ? "out\\out"
                                                                             : "out\\in";
    tui_draw_col_labels(a, g, y, x, col_tok, pcc, corner);
    long step_row = k == T5_ATTN_ENC_SELF ? -1 : (long)(a->s->step / z.r);
    tui_draw_grid(a, g, y, x, map, stride, plive, vmax, pcr, pcc, row_tok, names, step_row);
    class_status(a, cursor_status(a, map, stride, z, live, vmax));
    tui_legend *l = &a->legend;
    l->shown = 1;
    l->vmax = vmax;
    l->scaled = vmax != 1.0;
    char what[40];
    if (a->avg)
        snprintf(what, sizeof what, "the mean over heads%s", a->s->norms ? " of value norms" : "");
    else snprintf(what, sizeof what, "one head's %s", tui_cell_measure(a));
    if (zoomed(z)) {
        char pool[72]; /* room for two 20-digit sizes */
        pool_text(z, a->pool_mean, pool, sizeof pool);
        snprintf(l->cell, sizeof l->cell, "cell: %s (%s)", pool, what);
    } else
        snprintf(l->cell, sizeof l->cell, "cell: %s", what);
    l->after_row = k != T5_ATTN_ENC_SELF && live < rows ? (long)live : -1;
}

/* A zoom for an axis of n tokens: at most TUI_ZOOM_MAX, at least 1, and
   no zooming past one cell. */
static size_t clamp_zoom(size_t z, size_t n)
{
    if (z > TUI_ZOOM_MAX) z = TUI_ZOOM_MAX;
    while (z > 1 && grid_pool_size(n, z / 2) <= 1) z /= 2;
    return z < 1 ? 1 : z;
}

/* The first visible pooled index of an axis whose zoom goes from zo to z,
   keeping the cursor token cur the same number of cells from the top (or
   left): cells of a scrolled map are the same size at either zoom (one
   half line or a line). */
static size_t rezoom_origin(size_t cur, size_t zo, size_t z, size_t off0)
{
    size_t off = cur / zo >= off0 ? cur / zo - off0 : 0;
    return grid_zoom_origin(cur, z, off);
}

/* Change the zoom of the shown kind to z, keeping the cursor token on the
   same line and column of the screen where the map allows. */
static void set_zoom(tui_app *a, map_state *m, map_zoom z)
{
    t5_attn_kind k = a->kind;
    size_t rows, cols;
    tui_session_map_size(a->s, k, &rows, &cols);
    z.r = clamp_zoom(z.r, rows);
    z.c = clamp_zoom(z.c, cols);
    map_zoom zo = zoom_of(m, k);
    if (z.r != zo.r) m->grid.row0 = rezoom_origin(a->cur_r[k], zo.r, z.r, m->grid.row0);
    if (z.c != zo.c) m->grid.col0 = rezoom_origin(a->cur_c[k], zo.c, z.c, m->grid.col0);
    m->zr[k] = z.r;
    m->zc[k] = z.c;
}

/* One step out on an axis: twice the tokens a cell, at most its fit. */
static size_t zoom_out_axis(size_t z, size_t fit)
{
    return z >= fit ? z : z * 2 < fit ? z * 2 : fit;
}

/* z / Z step each axis that does not fit by a factor of two (an axis that
   fits stays one token a cell), f fits the whole map or goes back. */
static tui_action zoom_key(tui_app *a, map_state *m, int key, size_t rows, size_t cols)
{
    map_zoom z = zoom_of(m, a->kind), fit, one = {1, 1};
    grid_zoom_fit(rows, cols, m->grid.height, m->grid.width, tui_use_half(a), m->grid.label_w,
                  &fit.r, &fit.c);
    int whole = z.r >= fit.r && z.c >= fit.c;
    switch (key) {
    case 'z': case '-':
        if (whole) {
            tui_note(a, 0, "the whole map is on the screen (Z zooms in)");
            return TUI_REDRAW;
        }
        z.r = zoom_out_axis(z.r, fit.r);
        z.c = zoom_out_axis(z.c, fit.c);
        set_zoom(a, m, z);
        return TUI_REDRAW;
    case 'Z': case '+': case '=':
        z.r /= 2;
        z.c /= 2;
        set_zoom(a, m, z);
        return TUI_REDRAW;
    case 'f':
        if (!zoomed(z) && !zoomed(fit)) {
            tui_note(a, 0, "the whole map is on the screen, one token a cell");
            return TUI_REDRAW;
        }
        set_zoom(a, m, zoomed(z) ? one : fit);
        return TUI_REDRAW;
    case 'M':
        a->pool_mean = !a->pool_mean;
        tui_note(a, 0, "zoomed cells pool tokens by their %s", a->pool_mean ? "mean" : "maximum");
        return TUI_REDRAW;
    }
    return TUI_IGNORED;
}

static tui_action map_key(tui_app *a, void *st, int key)
{
    map_state *m = st;
    t5_attn_kind k = a->kind;
    size_t rows, cols;
    tui_session_map_size(a->s, k, &rows, &cols);
    map_zoom z = zoom_of(m, k);
    size_t page = m->grid.vis_rows ? m->grid.vis_rows : 10;
    /* Moves go cell by cell on the pooled map; the cursor keeps its token's
       place inside the cell. */
    size_t pr = a->cur_r[k] / z.r, pc = a->cur_c[k] / z.c;
    if (tui_move_cursor(&pr, &pc, grid_pool_size(rows, z.r), grid_pool_size(cols, z.c), page,
                        key)) {
        size_t r = pr * z.r + a->cur_r[k] % z.r, c = pc * z.c + a->cur_c[k] % z.c;
        a->cur_r[k] = r < rows ? r : (rows ? rows - 1 : 0);
        a->cur_c[k] = c < cols ? c : (cols ? cols - 1 : 0);
        return TUI_REDRAW;
    }
    return zoom_key(a, m, key, rows, cols);
}

/* A click puts the cursor on the cell; the wheel moves it 3 rows. */
static tui_action map_mouse(tui_app *a, void *st, const tui_mouse *ev)
{
    map_state *m = st;
    t5_attn_kind k = a->kind;
    size_t rows, cols, r, c;
    map_zoom z = zoom_of(m, k);
    tui_session_map_size(a->s, k, &rows, &cols);
    if (!rows || !cols) return TUI_HANDLED;
    if (ev->button == 4 || ev->button == 5) {
        size_t pr = a->cur_r[k] / z.r, np = grid_pool_size(rows, z.r);
        pr = ev->button == 4 ? (pr > 3 ? pr - 3 : 0) : (pr + 3 < np ? pr + 3 : np - 1);
        r = pr * z.r + a->cur_r[k] % z.r;
        a->cur_r[k] = r < rows ? r : rows - 1;
        return TUI_REDRAW;
    }
    if (ev->y < (int)m->grid.top) return TUI_HANDLED;
    if (grid_hit(&m->grid, (size_t)ev->y - m->grid.top, (size_t)ev->x, &r, &c))
        return TUI_HANDLED;
    a->cur_r[k] = r * z.r < rows ? r * z.r : rows - 1;
    a->cur_c[k] = c * z.c < cols ? c * z.c : cols - 1;
    return TUI_REDRAW;
}

static void map_title(const tui_app *a, const void *st, char *lng, char *shrt, size_t cap)
{
    const map_state *m = st;
    const char *kind = tui_kind_name(a->kind);
    size_t nl = tui_n_layers(a, a->kind), nh = a->s->tr->n_heads;
    char ly[40], hd[40], sl[40], sh[40]; /* "layer 0 (0-2)", "L0 (0-2)" */
    trace_index_text("layer", a->layer, nl, ly, sizeof ly);
    trace_index_text("L", a->layer, nl, sl, sizeof sl);
    if (a->avg) {
        snprintf(lng, cap, "%s %s mean of %zu heads", kind, ly, nh);
        snprintf(shrt, cap, "%s %s mean", kind, sl);
    } else {
        trace_index_text("head", a->head, nh, hd, sizeof hd);
        trace_index_text("H", a->head, nh, sh, sizeof sh);
        snprintf(lng, cap, "%s %s %s", kind, ly, hd);
        snprintf(shrt, cap, "%s %s %s", kind, sl, sh);
    }
    /* What is pooled: both axes alike ("zoom 8 max"), one of them ("rows
       pooled max over 3"), or each by its own factor. */
    map_zoom z = zoom_of(m, a->kind);
    const char *pool = a->pool_mean ? "mean" : "max";
    size_t nl0 = strlen(lng), ns0 = strlen(shrt);
    if (!zoomed(z)) return;
    if (z.r == z.c) {
        snprintf(lng + nl0, cap - nl0, " zoom %zu %s", z.r, pool);
        snprintf(shrt + ns0, cap - ns0, " %zux%s", z.r, pool);
        return;
    }
    if (z.c == 1) snprintf(lng + nl0, cap - nl0, " rows pooled %s over %zu", pool, z.r);
    else if (z.r == 1) snprintf(lng + nl0, cap - nl0, " columns pooled %s over %zu", pool, z.c);
    else
        snprintf(lng + nl0, cap - nl0, " pooled %s over %zu rows x %zu columns", pool, z.r, z.c);
    snprintf(shrt + ns0, cap - ns0, " %zux%zu %s", z.r, z.c, pool);
}

const tui_view tui_view_map = {"map",   map_open,  map_close, map_draw,
                               map_key, map_title, map_mouse};
