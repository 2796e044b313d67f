/* view_model.c - the model view: every layer x head of one kind as a
 * thumbnail (max-pooled once per run, kind, step and size), each with its
 * class and ablation mark; arrows select, Enter opens the map.
 *
 * Deliberately not here: the other views, the frame (chrome.c). */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui_int.h"
#include "util.h"

#define CLASS_BUDGET_S 0.030 /* head classification per idle model-view frame */
#define LAB_W 4              /* "L12 " */

typedef struct {
    size_t tw, tl, trows, vis_l, vis_h, per;
    int half;
} thumb_layout;

typedef struct {
    size_t row0, col0;           /* scroll (layers, heads) */
    thumb_layout last;           /* the last frame's layout (for the mouse) */
    int drawn;
    float *thumbs;               /* pooled thumbnails (n_layers * n_heads) */
    size_t thumbs_cap;
    float *thumb_max;            /* per thumbnail */
    unsigned char *thumb_done;
    tui_cache_key tkey;
} model_state;

/* Where the thumbnails go (thumb_layout): tw columns by tl lines each
   (trows map rows), vis_l x vis_h of them on the screen. */
static void *model_open(tui_app *a)
{
    model_state *m = xcalloc(1, sizeof *m);
    const attn_trace *t = a->s->tr;
    size_t max_layers = t->n_enc_layers > t->n_dec_layers ? t->n_enc_layers : t->n_dec_layers;
    m->thumb_max = xcalloc(max_layers * t->n_heads, sizeof(float));
    m->thumb_done = xcalloc(max_layers * t->n_heads, 1);
    return m;
}

static void model_close(void *st)
{
    model_state *m = st;
    if (!m) return;
    free(m->thumbs);
    free(m->thumb_max);
    free(m->thumb_done);
    free(m);
}

/* Thumbnail size: as large as fits, never larger than the map. Returns 0
   when none fits. */
static int lay_out(const tui_app *a, thumb_layout *L, int h, int w, size_t live, size_t cols)
{
    size_t nl = tui_n_layers(a, a->kind), nh = a->s->tr->n_heads;
    L->half = tui_use_half(a);
    L->per = L->half ? 2 : 1;
    size_t avail_w = w > LAB_W ? (size_t)(w - LAB_W) : 0, avail_h = h > 1 ? (size_t)(h - 1) : 0;
    L->tw = avail_w / nh > 1 ? avail_w / nh - 1 : 1;
    if (L->tw > cols) L->tw = cols;
    if (L->tw < 3) L->tw = cols < 3 ? cols : 3;
    L->tl = avail_h / nl > 1 ? avail_h / nl - 1 : 1;
    size_t max_lines = (live + L->per - 1) / L->per;
    if (L->tl > max_lines) L->tl = max_lines;
    L->vis_h = avail_w / (L->tw + 1);
    L->vis_l = avail_h / (L->tl + 1);
    if (L->vis_h == 0 || L->vis_l == 0) return 0;
    if (L->vis_h > nh) L->vis_h = nh;
    if (L->vis_l > nl) L->vis_l = nl;
    L->trows = L->tl * L->per;
    if (L->trows > live) L->trows = live;
    return 1;
}

/* Thumbnails are pooled once per run, kind, step and size (a 512-token map
   is 262144 weights a head): moving the selection redraws from the cache. */
static void cache_check(tui_app *a, model_state *m, const thumb_layout *L, size_t live)
{
    size_t nl = tui_n_layers(a, a->kind), nh = a->s->tr->n_heads;
    tui_cache_key key = {a->s->serial, (int)a->kind, 0, 1, 0, 0, 0, live, L->trows, L->tw};
    size_t per_thumb = L->trows * L->tw;
    if (tui_cache_eq(&m->tkey, &key)) return;
    if (nl * nh * per_thumb > m->thumbs_cap) {
        free(m->thumbs);
        m->thumbs_cap = nl * nh * per_thumb;
        m->thumbs = xcalloc(m->thumbs_cap, sizeof *m->thumbs);
    }
    memset(m->thumb_done, 0, nl * nh);
    m->tkey = key;
}

/* One thumbnail at (ty, tx), pooled first when not cached. */
static void draw_thumb(tui_app *a, model_state *m, const thumb_layout *L, size_t ly, size_t hd,
                       int ty, int tx, size_t live, size_t cols)
{
    size_t ti = ly * a->s->tr->n_heads + hd, per_thumb = L->trows * L->tw;
    float *th = m->thumbs + ti * per_thumb;
    if (!m->thumb_done[ti]) {
        size_t stride;
        const float *map = tui_session_map(a->s, a->kind, ly, hd, &stride);
        if (!map) return;
        grid_downsample(map, live, cols, stride, th, L->trows, L->tw);
        float mx = 1e-9f; /* max pooling keeps the map's maximum */
        for (size_t i = 0; i < per_thumb; i++) mx = th[i] > mx ? th[i] : mx;
        m->thumb_max[ti] = mx;
        m->thumb_done[ti] = 1;
    }
    double vmax = a->normalize ? m->thumb_max[ti] : 1.0;
    int sel = ly == a->layer && hd == a->head;
    grid_area tg = {.half = L->half, .cell_w = 1};
    for (size_t l = 0; l < L->tl; l++) {
        for (size_t c = 0; c < L->tw; c++) {
            grid_cell cell = {0};
            size_t r = l * L->per;
            if (r >= L->trows) break;
            double t = th[r * L->tw + c] / vmax;
            cell.top = tui_quant(a, (float)(t > 1 ? 1 : t));
            if (L->half && r + 1 < L->trows) {
                cell.flags |= GRID_CELL_HAS_BOT;
                double b = th[(r + 1) * L->tw + c] / vmax;
                cell.bot = tui_quant(a, (float)(b > 1 ? 1 : b));
            }
            grid_paint p;
            grid_paint_cell(&cell, &tg, &a->th, a->mode, &p);
            tui_put_paint(a, ty + (int)l, tx + (int)c, &p);
        }
        if (sel) {
            tui_text(a, ty + (int)l, tx - 1, 1, ROLE_SELECTED, a->utf8 ? "\xe2\x96\x90" : ">");
            tui_text(a, ty + (int)l, tx + (int)L->tw, 1, ROLE_SELECTED,
                     a->utf8 ? "\xe2\x96\x8c" : "<");
        }
    }
}

/* Under a thumbnail: the head's class ("D +0", "V x ^"...) and an X when it
   is ablated. Classes cost a pass over each map (~15 ms for 512 x 512):
   large maps are classified on the idle frames after a key (more_work), a
   budget each, so a key's frame comes at once and the labels fill in. */
static void draw_class(tui_app *a, size_t ly, size_t hd, int y, int tx, size_t tw,
                       double t_start)
{
    t5_attn_kind k = a->kind;
    size_t rows, cols;
    tui_session_map_size(a->s, k, &rows, &cols);
    const an_head_class *hc = NULL;
    if (tui_session_class_known(a->s, k, ly, hd) || rows * cols <= 64 * 64 ||
        (a->idle && util_now() - t_start < CLASS_BUDGET_S))
        hc = tui_session_class(a->s, k, ly, hd);
    else
        a->more_work = 1;
    char lab[64];
    int abl = an_iv_head(&a->s->iv, k, ly, hd) != AN_ABL_NONE;
    int sel = ly == a->layer && hd == a->head;
    snprintf(lab, sizeof lab, "%s%s", abl ? "X " : "", hc ? hc->label : a->more_work ? "..." : "");
    tui_text(a, y, tx, (int)tw, abl ? ROLE_WRONG : sel ? ROLE_SELECTED : ROLE_HINT, lab);
}

static void model_status(tui_app *a)
{
    t5_attn_kind k = a->kind;
    size_t nl = tui_n_layers(a, k), nh = a->s->tr->n_heads, rows, cols;
    tui_session_map_size(a->s, k, &rows, &cols);
    const an_head_class *hc =
        tui_session_class_known(a->s, k, a->layer, a->head) || rows * cols <= 64 * 64
            ? tui_session_class(a->s, k, a->layer, a->head)
            : NULL;
    char ly[40], hd[40];
    snprintf(a->status, sizeof a->status,
             " model view: %s; selected %s %s%s%s%s (Enter zooms, x ablates)",
             tui_kind_name(k), trace_index_text("layer", a->layer, nl, ly, sizeof ly),
             trace_index_text("head", a->head, nh, hd, sizeof hd), hc ? ": " : "",
             hc ? hc->label : "",
             an_iv_head(&a->s->iv, k, a->layer, a->head) ? " [ablated]" : "");
}

static void model_draw(tui_app *a, void *st, int y, int x, int h, int w)
{
    model_state *m = st;
    t5_attn_kind k = a->kind;
    size_t nl = tui_n_layers(a, k), nh = a->s->tr->n_heads, rows, cols;
    tui_session_map_size(a->s, k, &rows, &cols);
    size_t live = tui_session_live_rows(a->s, k);
    if (a->layer >= nl) a->layer = nl - 1;
    if (a->head >= nh) a->head = nh - 1;
    if (!live || !cols) {
        snprintf(a->status, sizeof a->status, " no map yet");
        return;
    }
    if (a->tokens && h > 6) { /* the selected head's token view, at the bottom */
        h -= 2;
        size_t q = a->cur_r[k] < rows ? a->cur_r[k] : rows - 1;
        tui_draw_tokens(a, y + h, x, w, k, a->layer, a->head, q);
    }
    thumb_layout L;
    if (!lay_out(a, &L, h, w, live, cols)) {
        snprintf(a->status, sizeof a->status, " the model view does not fit; enlarge the terminal");
        m->drawn = 0;
        return;
    }
    m->last = L;
    m->drawn = 1;
    m->row0 = grid_scroll(m->row0, a->layer, L.vis_l, nl, 1);
    m->col0 = grid_scroll(m->col0, a->head, L.vis_h, nh, 1);
    tui_fill(a, y, x, w, ROLE_NORMAL); /* head labels */
    for (size_t j = 0; j < L.vis_h; j++) {
        size_t hd = m->col0 + j;
        char s[16];
        snprintf(s, sizeof s, "H%zu", hd);
        tui_text(a, y, x + LAB_W + (int)(j * (L.tw + 1)) + 1, (int)L.tw,
                 hd == a->head ? ROLE_SELECTED : ROLE_LABEL, s);
    }
    double t_start = util_now();
    a->more_work = 0;
    cache_check(a, m, &L, live);
    for (size_t i = 0; i < L.vis_l; i++) {
        size_t ly = m->row0 + i;
        int ty = y + 1 + (int)(i * (L.tl + 1));
        char s[16];
        snprintf(s, sizeof s, "L%zu", ly);
        tui_text(a, ty, x, LAB_W, ly == a->layer ? ROLE_SELECTED : ROLE_LABEL, s);
        for (size_t j = 0; j < L.vis_h; j++) {
            size_t hd = m->col0 + j;
            int tx = x + LAB_W + (int)(j * (L.tw + 1)) + 1;
            draw_thumb(a, m, &L, ly, hd, ty, tx, live, cols);
            if (ty + (int)L.tl < y + h) draw_class(a, ly, hd, ty + (int)L.tl, tx, L.tw, t_start);
        }
    }
    model_status(a);
    tui_legend *l = &a->legend;
    l->shown = 1;
    l->vmax = 1.0;
    l->scaled = a->normalize;
    snprintf(l->cell, sizeof l->cell, "cell: max of a block of %ss%s", tui_cell_measure(a),
             a->normalize ? " (each thumbnail scaled to its own max)" : "");
    l->after_row = k != T5_ATTN_ENC_SELF && live < rows ? (long)live : -1;
}

static tui_action model_key(tui_app *a, void *st, int key)
{
    (void)st;
    size_t nl = tui_n_layers(a, a->kind), nh = a->s->tr->n_heads;
    if (tui_move_cursor(&a->layer, &a->head, nl, nh, 1, key)) return TUI_REDRAW;
    if (key == '\r' || key == '\n' || key == (TUI_FKEY | KEY_ENTER)) {
        a->view = VIEW_MAP;
        a->avg = 0;
        return TUI_REDRAW;
    }
    return TUI_IGNORED;
}

/* A click on a thumbnail opens its map; the wheel moves the selection a
   layer. */
static tui_action model_mouse(tui_app *a, void *st, const tui_mouse *ev)
{
    model_state *m = st;
    size_t nl = tui_n_layers(a, a->kind);
    if (ev->button == 4 || ev->button == 5) {
        if (ev->button == 4 && a->layer > 0) a->layer--;
        if (ev->button == 5 && a->layer + 1 < nl) a->layer++;
        return TUI_REDRAW;
    }
    const thumb_layout *L = &m->last;
    if (!m->drawn || ev->y < 1 || ev->x < LAB_W + 1) return TUI_HANDLED;
    size_t i = (size_t)(ev->y - 1) / (L->tl + 1), j = (size_t)(ev->x - LAB_W - 1) / (L->tw + 1);
    size_t dy = (size_t)(ev->y - 1) % (L->tl + 1), dx = (size_t)(ev->x - LAB_W - 1) % (L->tw + 1);
    if (i >= L->vis_l || j >= L->vis_h || dy >= L->tl || dx >= L->tw) return TUI_HANDLED;
    a->layer = m->row0 + i;
    a->head = m->col0 + j;
    a->avg = 0;
    a->view = VIEW_MAP;
    return TUI_REDRAW;
}

const tui_view tui_view_model = {"model",   model_open, model_close, model_draw,
                                 model_key, NULL,       model_mouse};
