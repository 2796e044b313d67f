/* view_map.c - the map view: one attention map (a head or the mean over
 * heads) with its token axes, the cursor's cell in the status line, the
 * decoding step's rows, and zooming out on long inputs by pooling tokens
 * into cells (cached per run, head, zoom and step, so a cursor move costs
 * only the visible cells).
 *
 * Deliberately not here: the other views, the frame (chrome.c). */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui_int.h"
#include "util.h"

typedef struct {
    size_t zoom[3];              /* tokens per cell, per kind (0 or 1: one) */
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
    for (int k = 0; k < 3; k++) m->zoom[k] = 1;
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

static size_t zoom_of(const map_state *m, t5_attn_kind k)
{
    return m->zoom[k] ? m->zoom[k] : 1;
}

/* The shown map at zoom z (tokens per cell): the trace's map itself (z 1,
 * one head) or pooled / head-averaged into m->zbuf, cached until the run,
 * kind, layer, head, zoom, pooling or live rows change. Sets the pooled
 * size and stride and m->zmax (the largest live value). */
static const float *zoomed_map(tui_app *a, map_state *m, t5_attn_kind k, size_t live, size_t z,
                               size_t *pr, size_t *pc, size_t *pstride)
{
    size_t rows, cols, stride;
    tui_session_map_size(a->s, k, &rows, &cols);
    size_t hi = tui_head_index(a), nh = a->s->tr->n_heads;
    *pr = grid_pool_size(rows, z);
    *pc = grid_pool_size(cols, z);
    tui_cache_key key = {a->s->serial, (int)k, a->pool_mean, 1, a->layer, hi, z, live, 0, 0};
    if (z == 1 && hi < nh) {
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
    m->zmax = grid_pool(map, rows, cols, stride, live, z, a->pool_mean, m->zbuf);
    if (m->zmax < 1e-9) m->zmax = 1e-9;
    m->zkey = key;
    return m->zbuf;
}

/* Pooled axes: each column labelled by its first token, each row by its
   first index and the start of its text. */
static void pooled_labels(tui_app *a, map_state *m, t5_attn_kind k, size_t z, size_t pr,
                          size_t pc)
{
    size_t rows, cols;
    tui_session_map_size(a->s, k, &rows, &cols);
    const int *rt = tui_session_row_tokens(a->s, k), *ct = tui_session_col_tokens(a->s, k);
    for (size_t j = 0; j < pc; j++) m->ztok_c[j] = ct[j * z];
    for (size_t i = 0; i < pr; i++) {
        char t[16];
        size_t i1 = (i + 1) * z < rows ? (i + 1) * z : rows;
        tui_range_text(a, rt, i * z, i1, t, 6);
        snprintf(m->zlab[i], sizeof m->zlab[i], "%zu %s", i * z, t);
        m->znames[i] = m->zlab[i];
    }
}

/* Row labels: "index token" one row a line, "12-13 7*" for a pair. */
static size_t label_width(size_t rows)
{
    size_t one = grid_row_label_width(rows, 0, 5), pair = grid_row_label_width(rows, 1, 0);
    return one > pair ? one : pair;
}

/* The status line: the cursor's cell (or pooled cell), its weight. */
static int cursor_status(tui_app *a, const float *map, size_t stride, size_t z, size_t live,
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
    if (z > 1) {
        /* The pooled cell under the cursor: its token ranges and value. */
        size_t pcr = cr / z, pcc = cc / z;
        size_t r0 = pcr * z, r1 = r0 + z < rows ? r0 + z : rows;
        size_t c0 = pcc * z, c1 = c0 + z < cols ? c0 + z : cols;
        char rtx[24], ctx[24];
        tui_range_text(a, rt, r0, r1, rtx, sizeof rtx);
        tui_range_text(a, ct, c0, c1, ctx, sizeof ctx);
        n = snprintf(st, cap, " %s %zu-%zu '%s'  keys %zu-%zu '%s'  %s %.4f  (%zux%zu a cell)",
                     k == T5_ATTN_ENC_SELF ? "queries" : "rows", r0, r1 - 1, rtx, c0, c1 - 1,
                     ctx, a->pool_mean ? "mean" : "max", map[pcr * stride + pcc], z, z);
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
       input, a larger terminal). */
    size_t z = zoom_of(m, k);
    size_t fit = grid_zoom_fit(rows, cols, (size_t)h, (size_t)w, half, label_width(rows));
    if (z > fit) z = m->zoom[k] = fit;
    size_t pr, pc;
    const float *map = zoomed_map(a, m, k, live, z, &pr, &pc, &stride);
    if (!map) {
        snprintf(a->status, sizeof a->status, " no map yet");
        return;
    }
    double vmax = a->normalize ? m->zmax : 1.0;
    if (z > 1 && a->pool_mean && !a->normalize) vmax = m->zmax; /* means are small: scale */
    size_t pcr = *cr / z, pcc = *cc / z, plive = grid_pool_size(live, z);
    const char *const *names = tui_session_row_names(a->s, k);
    const int *col_tok = tui_session_col_tokens(a->s, k);
    const int *row_tok = names ? NULL : tui_session_row_tokens(a->s, k);
    if (z > 1) {
        pooled_labels(a, m, k, z, pr, pc);
        col_tok = m->ztok_c;
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
    long step_row = k == T5_ATTN_ENC_SELF ? -1 : (long)(a->s->step / z);
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
    if (z > 1)
        snprintf(l->cell, sizeof l->cell, "cell: %s of %zux%zu tokens (%s)",
                 a->pool_mean ? "mean" : "max", z, z, what);
    else
        snprintf(l->cell, sizeof l->cell, "cell: %s", what);
    l->after_row = k != T5_ATTN_ENC_SELF && live < rows ? (long)live : -1;
}

/* Change the zoom of the shown kind to z, keeping the cursor token on the
   same line and column of the screen where the map allows. */
static void set_zoom(tui_app *a, map_state *m, size_t z)
{
    t5_attn_kind k = a->kind;
    size_t rows, cols;
    tui_session_map_size(a->s, k, &rows, &cols);
    size_t most = rows > cols ? rows : cols;
    if (z > TUI_ZOOM_MAX) z = TUI_ZOOM_MAX;
    while (z > 1 && grid_pool_size(most, z / 2) <= 1) z /= 2; /* no zooming past one cell */
    if (z < 1) z = 1;
    size_t zo = zoom_of(m, k);
    if (z == zo) return;
    size_t cr = a->cur_r[k], cc = a->cur_c[k];
    size_t off_r = cr / zo >= m->grid.row0 ? cr / zo - m->grid.row0 : 0;
    size_t off_c = cc / zo >= m->grid.col0 ? cc / zo - m->grid.col0 : 0;
    /* Cells of a scrolled map are the same size at either zoom (one half
       line or a line): the same offset in cells keeps the cursor's place. */
    m->grid.row0 = grid_zoom_origin(cr, z, off_r);
    m->grid.col0 = grid_zoom_origin(cc, z, off_c);
    m->zoom[k] = z;
}

static tui_action zoom_key(tui_app *a, map_state *m, int key, size_t rows, size_t cols)
{
    size_t z = zoom_of(m, a->kind);
    size_t fit = grid_zoom_fit(rows, cols, m->grid.height, m->grid.width, tui_use_half(a),
                               m->grid.label_w);
    switch (key) {
    case 'z': case '-':
        if (z >= fit) {
            tui_note(a, 0, "the whole map is on the screen (Z zooms in)");
            return TUI_REDRAW;
        }
        set_zoom(a, m, z * 2 < fit ? z * 2 : fit);
        return TUI_REDRAW;
    case 'Z': case '+': case '=': set_zoom(a, m, z / 2); return TUI_REDRAW;
    case 'f': set_zoom(a, m, z == 1 ? fit : 1); return TUI_REDRAW;
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
    size_t z = zoom_of(m, k);
    size_t page = m->grid.vis_rows ? m->grid.vis_rows : 10;
    /* Moves go cell by cell on the pooled map; the cursor keeps its token's
       place inside the cell. */
    size_t pr = a->cur_r[k] / z, pc = a->cur_c[k] / z;
    if (tui_move_cursor(&pr, &pc, grid_pool_size(rows, z), grid_pool_size(cols, z), page, key)) {
        size_t r = pr * z + a->cur_r[k] % z, c = pc * z + a->cur_c[k] % z;
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
    size_t rows, cols, z = zoom_of(m, k), r, c;
    tui_session_map_size(a->s, k, &rows, &cols);
    if (!rows || !cols) return TUI_HANDLED;
    if (ev->button == 4 || ev->button == 5) {
        size_t pr = a->cur_r[k] / z, np = grid_pool_size(rows, z);
        pr = ev->button == 4 ? (pr > 3 ? pr - 3 : 0) : (pr + 3 < np ? pr + 3 : np - 1);
        r = pr * z + a->cur_r[k] % z;
        a->cur_r[k] = r < rows ? r : rows - 1;
        return TUI_REDRAW;
    }
    if (ev->y < (int)m->grid.top) return TUI_HANDLED;
    if (grid_hit(&m->grid, (size_t)ev->y - m->grid.top, (size_t)ev->x, &r, &c))
        return TUI_HANDLED;
    a->cur_r[k] = r * z < rows ? r * z : rows - 1;
    a->cur_c[k] = c * z < cols ? c * z : cols - 1;
    return TUI_REDRAW;
}

static void map_title(const tui_app *a, const void *st, char *lng, char *shrt, size_t cap)
{
    const map_state *m = st;
    const char *kind = tui_kind_name(a->kind);
    size_t nl = tui_n_layers(a, a->kind), nh = a->s->tr->n_heads;
    if (a->avg) {
        snprintf(lng, cap, "%s layer %zu of %zu mean of %zu heads", kind, a->layer, nl, nh);
        snprintf(shrt, cap, "%s L%zu/%zu mean", kind, a->layer, nl);
    } else {
        snprintf(lng, cap, "%s layer %zu of %zu head %zu of %zu", kind, a->layer, nl, a->head,
                 nh);
        snprintf(shrt, cap, "%s L%zu/%zu H%zu/%zu", kind, a->layer, nl, a->head, nh);
    }
    size_t z = zoom_of(m, a->kind);
    if (z > 1) {
        const char *pool = a->pool_mean ? "mean" : "max";
        snprintf(lng + strlen(lng), cap - strlen(lng), " zoom %zu %s", z, pool);
        snprintf(shrt + strlen(shrt), cap - strlen(shrt), " %zux%s", z, pool);
    }
}

const tui_view tui_view_map = {"map",   map_open,  map_close, map_draw,
                               map_key, map_title, map_mouse};
