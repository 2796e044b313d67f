/* view_summary.c - the summary view: layers x key tokens, how much
 * attention each key receives (summed over heads, mean over the live
 * queries), computed once per run, kind and step; long inputs pool the key
 * columns. Enter opens the mean map of the layer.
 *
 * Deliberately not here: the other views, the frame (chrome.c). */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui_int.h"
#include "util.h"

#define MAX_NAMES 64

typedef struct {
    grid_area grid;
    size_t zoom;                 /* key tokens a cell (0 or 1: one) */
    float *sum;                  /* the summary (n_layers x cols) */
    float *pooled;               /* its pooled columns */
    tui_cache_key key;
    double max;
    int *tok_c;                  /* first token of each pooled column */
    char names_buf[MAX_NAMES][8];
    const char *names[MAX_NAMES];
} summary_state;

static void *summary_open(tui_app *a)
{
    summary_state *m = xcalloc(1, sizeof *m);
    const attn_trace *t = a->s->tr;
    size_t max_layers = t->n_enc_layers > t->n_dec_layers ? t->n_enc_layers : t->n_dec_layers;
    size_t big = TUI_MAX_SRC > TUI_MAX_GEN ? TUI_MAX_SRC : TUI_MAX_GEN;
    m->sum = xcalloc(max_layers * big, sizeof(float));
    m->pooled = xcalloc(max_layers * big, sizeof(float));
    m->tok_c = xcalloc(big, sizeof(int));
    for (size_t l = 0; l < MAX_NAMES; l++) {
        snprintf(m->names_buf[l], sizeof m->names_buf[l], "L%zu", l);
        m->names[l] = m->names_buf[l];
    }
    return m;
}

static void summary_close(void *st)
{
    summary_state *m = st;
    if (!m) return;
    free(m->sum);
    free(m->pooled);
    free(m->tok_c);
    free(m);
}

/* The summary (n_layers x cols) in m->sum, once per run, kind and step;
   returns its maximum. */
static double summary_fill(tui_app *a, summary_state *m, size_t *nl_out, size_t *cols_out)
{
    t5_attn_kind k = a->kind;
    size_t nl = tui_n_layers(a, k), nh = a->s->tr->n_heads, rows, cols;
    tui_session_map_size(a->s, k, &rows, &cols);
    size_t live = tui_session_live_rows(a->s, k);
    *nl_out = nl;
    *cols_out = cols;
    tui_cache_key key = {a->s->serial, (int)k, 0, 1, 0, 0, 0, live, 0, 0};
    if (tui_cache_eq(&m->key, &key)) return m->max;
    double mx = 1e-9;
    for (size_t l = 0; l < nl; l++) {
        size_t stride, s1;
        const float *h0 = tui_session_map(a->s, k, l, 0, &stride);
        const float *h1 = nh > 1 ? tui_session_map(a->s, k, l, 1, &s1) : h0;
        grid_received(h0, nh, (size_t)(h1 - h0), live, cols, stride, m->sum + l * cols);
        for (size_t c = 0; c < cols; c++)
            mx = m->sum[l * cols + c] > mx ? m->sum[l * cols + c] : mx;
    }
    m->key = key;
    m->max = mx;
    return mx;
}

/* The widest pooling of the columns worth having: the fewest tokens a cell
   at which every column is on the screen. */
static size_t summary_fit(const summary_state *m, size_t cols)
{
    size_t room = m->grid.width > m->grid.label_w ? m->grid.width - m->grid.label_w : 0;
    if (!room) return 1;
    size_t z = 1;
    while (grid_pool_size(cols, z) > room) z++;
    return z;
}

/* Key columns pooled z a cell (the layers stay rows), by the map view's
   max / mean, into m->pooled; returns the pooled maximum. */
static double pool_columns(tui_app *a, summary_state *m, size_t nn, size_t cols, size_t z)
{
    size_t pc = grid_pool_size(cols, z);
    double vmax = grid_pool(m->sum, nn, cols, cols, nn, 1, z, a->pool_mean, m->pooled);
    if (vmax < 1e-9) vmax = 1e-9;
    const int *ct = tui_session_col_tokens(a->s, a->kind);
    for (size_t j = 0; j < pc; j++) m->tok_c[j] = ct[j * z];
    return vmax;
}

static void summary_status(tui_app *a, summary_state *m, const float *sm, size_t pc, size_t cols,
                           size_t z, double mx)
{
    const int *ct = tui_session_col_tokens(a->s, a->kind);
    char ly[40];
    trace_index_text("layer", a->sum_r, tui_n_layers(a, a->kind), ly, sizeof ly);
    if (z > 1) {
        size_t c0 = a->sum_c / z * z, c1 = c0 + z < cols ? c0 + z : cols;
        char ctx[24];
        tui_range_text(a, ct, c0, c1, ctx, sizeof ctx);
        snprintf(a->status, sizeof a->status,
                 " summary (%s): %s, keys %zu-%zu '%s' receive %s %.3f (%zu a cell; "
                 "summed over heads, mean over queries)",
                 tui_kind_name(a->kind), ly, c0, c1 - 1, ctx,
                 a->pool_mean ? "mean" : "max", sm[a->sum_r * pc + a->sum_c / z], z);
        return;
    }
    char ka[32];
    snprintf(a->status, sizeof a->status,
             " summary (%s): %s, key %zu '%s' receives %.3f (summed over heads, mean over "
             "queries; max %.3f)",
             tui_kind_name(a->kind), ly, a->sum_c,
             tui_session_label(a->s, ct[a->sum_c], ka, sizeof ka),
             m->sum[a->sum_r * cols + a->sum_c], mx);
}

static void summary_draw(tui_app *a, void *st, int y, int x, int h, int w)
{
    summary_state *m = st;
    size_t nl, cols;
    double mx = summary_fill(a, m, &nl, &cols);
    if (!cols || !nl) {
        snprintf(a->status, sizeof a->status, " no map yet");
        return;
    }
    if (a->sum_r >= nl) a->sum_r = nl - 1;
    if (a->sum_c >= cols) a->sum_c = cols - 1;
    size_t nn = nl < MAX_NAMES ? nl : MAX_NAMES;
    size_t labw = grid_row_label_width(nn, 0, 3);
    size_t z = m->zoom ? m->zoom : 1;
    size_t room = (size_t)w > labw ? (size_t)w - labw : 1, fit = 1;
    while (grid_pool_size(cols, fit) > room) fit++;
    if (z > fit) z = m->zoom = fit;
    size_t pc = grid_pool_size(cols, z);
    const float *sm = m->sum;
    double vmax = mx;
    if (z > 1) {
        vmax = pool_columns(a, m, nn, cols, z);
        sm = m->pooled;
    }
    /* Cells fill the space, a line or more per layer (no half blocks: pairs
       of layers on a line would share a label). */
    grid_fill(&m->grid, nn, pc, (size_t)h, (size_t)w, 0, TUI_MAX_SCALE, labw, a->sum_r,
              a->sum_c / z);
    const grid_area *g = &m->grid;
    if (!g->vis_rows || !g->vis_cols) {
        snprintf(a->status, sizeof a->status, " the summary does not fit; enlarge the terminal");
        return;
    }
    const int *ct = tui_session_col_tokens(a->s, a->kind);
    tui_draw_col_labels(a, g, y, x, z > 1 ? m->tok_c : ct, a->sum_c / z, "L\\k");
    tui_draw_grid(a, g, y, x, sm, pc, nn, vmax, a->sum_r, a->sum_c / z, NULL, m->names, -1);
    summary_status(a, m, sm, pc, cols, z, mx);
    tui_legend *l = &a->legend;
    l->shown = 1;
    l->vmax = vmax;
    l->scaled = 1;
    size_t live = tui_session_live_rows(a->s, a->kind);
    snprintf(l->cell, sizeof l->cell,
             "cell: %s a key receives (%s, mean over queries 0-%zu)",
             a->s->norms ? "value-weighted attention" : "attention",
             z > 1 ? (a->pool_mean ? "mean of keys" : "max of keys") : "summed over heads",
             live ? live - 1 : 0);
    l->after_row = -1;
}

static tui_action summary_key(tui_app *a, void *st, int key)
{
    summary_state *m = st;
    size_t nl = tui_n_layers(a, a->kind), rows, cols;
    tui_session_map_size(a->s, a->kind, &rows, &cols);
    size_t z = m->zoom ? m->zoom : 1;
    size_t pc = a->sum_c / z;
    if (tui_move_cursor(&a->sum_r, &pc, nl, grid_pool_size(cols, z), 1, key)) {
        size_t c = pc * z + a->sum_c % z;
        a->sum_c = c < cols ? c : (cols ? cols - 1 : 0);
        return TUI_REDRAW;
    }
    size_t fit = summary_fit(m, cols);
    switch (key) {
    case 'z': case '-': m->zoom = z * 2 < fit ? z * 2 : fit; return TUI_REDRAW;
    case 'Z': case '+': case '=': m->zoom = z / 2 ? z / 2 : 1; return TUI_REDRAW;
    case 'f': m->zoom = z == 1 ? fit : 1; return TUI_REDRAW;
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

/* A click puts the cursor on the cell; the wheel moves it a layer. */
static tui_action summary_mouse(tui_app *a, void *st, const tui_mouse *ev)
{
    summary_state *m = st;
    size_t nl = tui_n_layers(a, a->kind), rows, cols, r, c;
    tui_session_map_size(a->s, a->kind, &rows, &cols);
    size_t z = m->zoom ? m->zoom : 1;
    if (ev->button == 4 || ev->button == 5) {
        if (ev->button == 4 && a->sum_r > 0) a->sum_r--;
        if (ev->button == 5 && a->sum_r + 1 < nl) a->sum_r++;
        return TUI_REDRAW;
    }
    if (ev->y < (int)m->grid.top) return TUI_HANDLED;
    if (grid_hit(&m->grid, (size_t)ev->y - m->grid.top, (size_t)ev->x, &r, &c))
        return TUI_HANDLED;
    a->sum_r = r;
    a->sum_c = c * z < cols ? c * z : cols - 1;
    return TUI_REDRAW;
}

const tui_view tui_view_summary = {"summary",   summary_open, summary_close, summary_draw,
                                   summary_key, NULL,         summary_mouse};
