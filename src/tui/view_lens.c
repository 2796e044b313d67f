/* view_lens.c - the logit lens view: at the decoding step shown, for each
 * decoder layer, the tokens that layer's residual stream would write (the
 * final layer norm and the output head applied to it, as the last layer's
 * is) with their probabilities, most likely first. The last layer's first
 * token is the one the model writes; the lower layers show how early the
 * answer is there. `,` `.` step as in every view; the arrows move the
 * selection (layer, rank) whose token the status line spells out.
 *
 * Deliberately not here: the lens arithmetic (an_lens_top in hidden.c,
 * through tui_session_lens), the frame (chrome.c). */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui_int.h"
#include "util.h"

#define LENS_K 16     /* tokens a layer at most */
#define LAB_W 8       /* "L12 out " */
#define TOK_W 6       /* a token's label, cut */
#define ENTRY_W (2 + TOK_W + 1 + 5 + 2) /* heat, space, label, space, "0.123", gap */

typedef struct {
    size_t layer, rank;          /* the selection */
    size_t top;                  /* first layer on the screen */
} lens_state;

static void *lens_open(tui_app *a)
{
    (void)a;
    return xcalloc(1, sizeof(lens_state));
}

static void lens_close(void *st) { free(st); }

/* Tokens a line holds at width w. */
static size_t lens_k(int w)
{
    size_t k = w > LAB_W ? (size_t)(w - LAB_W) / ENTRY_W : 0;
    return k < 1 ? 1 : k > LENS_K ? LENS_K : k;
}

/* A token's label, at most TOK_W columns. */
static void short_label(const tui_app *a, int id, char *out, size_t cap)
{
    char buf[96];
    const char *l = tui_session_label(a->s, id, buf, sizeof buf);
    size_t n = 0, cols = 0;
    while (l[n] && cols < TOK_W && n + 4 < cap) {
        n++;
        while ((l[n] & 0xC0) == 0x80) n++;
        cols++;
    }
    snprintf(out, cap, "%.*s", (int)n, l);
}

/* One layer's line: its label, then k tokens, each with a heat cell of its
   probability; the written token in the step's colour, the selection in
   the cursor's. */
static void lens_line(tui_app *a, lens_state *m, int y, int x, int w, size_t layer, size_t k,
                      int written)
{
    int tok[LENS_K];
    float prob[LENS_K];
    size_t nl = tui_n_layers(a, T5_ATTN_DEC_SELF);
    tui_fill(a, y, x, w, ROLE_NORMAL);
    char lab[32];
    snprintf(lab, sizeof lab, "L%zu%s", layer, layer + 1 == nl ? " out" : "");
    tui_text(a, y, x, LAB_W, layer == m->layer ? ROLE_LABEL_CURSOR : ROLE_LABEL, lab);
    long n = tui_session_lens(a->s, a->s->step, layer, k, tok, prob);
    grid_area g = {.cell_w = 1};
    for (long i = 0; i < n; i++) {
        int cx = x + LAB_W + (int)i * ENTRY_W;
        if (cx + ENTRY_W - 2 > x + w) break;
        grid_cell c = {.top = tui_quant(a, prob[i])};
        grid_paint p;
        grid_paint_cell(&c, &g, &a->th, a->mode, &p);
        tui_put_paint(a, y, cx, &p);
        char tl[40], pr[16];
        short_label(a, tok[i], tl, sizeof tl);
        theme_role r = layer == m->layer && (size_t)i == m->rank ? ROLE_LABEL_CURSOR
                       : tok[i] == written                      ? ROLE_STEP
                                                                 : ROLE_SOLUTION;
        tui_text(a, y, cx + 2, TOK_W, r, tl);
        snprintf(pr, sizeof pr, "%.3f", prob[i]);
        tui_text(a, y, cx + 2 + TOK_W + 1, 5, ROLE_HINT, pr);
    }
}

static void lens_status(tui_app *a, lens_state *m, size_t k, int written)
{
    int tok[LENS_K];
    float prob[LENS_K];
    long n = tui_session_lens(a->s, a->s->step, m->layer, k, tok, prob);
    char ta[64], wa[64], ly[40];
    tui_session_label(a->s, written, wa, sizeof wa);
    trace_index_text("layer", m->layer, tui_n_layers(a, T5_ATTN_DEC_SELF), ly, sizeof ly);
    if (n <= 0 || m->rank >= (size_t)n) {
        snprintf(a->status, sizeof a->status, " logit lens: no tokens at %s", ly);
        return;
    }
    snprintf(a->status, sizeof a->status,
             " lens step %zu: writes '%s'; %s token %zu '%s' (id %d) p %.4f%s",
             a->s->step + 1, wa, ly, m->rank + 1,
             tui_session_label(a->s, tok[m->rank], ta, sizeof ta), tok[m->rank],
             (double)prob[m->rank], tok[m->rank] == written ? " = the written token" : "");
}

static void lens_draw(tui_app *a, void *st, int y, int x, int h, int w)
{
    lens_state *m = st;
    tui_session *s = a->s;
    size_t nl = tui_n_layers(a, T5_ATTN_DEC_SELF), k = lens_k(w);
    if (!nl || !s->n_rows || s->step >= s->n_rows) {
        snprintf(a->status, sizeof a->status, " logit lens: no decoder row at this step");
        return;
    }
    if (m->layer >= nl) m->layer = nl - 1;
    if (m->rank >= k) m->rank = k - 1;
    int written = s->step < s->n_gen ? s->gen[s->step] : -1;
    char head[320], fed[64], wa[64];
    tui_session_label(s, s->tr->tgt[s->step], fed, sizeof fed);
    tui_session_label(s, written, wa, sizeof wa);
    snprintf(head, sizeof head, "step %zu/%zu: row %zu fed '%s', wrote '%s'. Each layer's residual "
             "through the final norm and the head:", s->step + 1, s->n_gen, s->step, fed, wa);
    tui_fill(a, y, x, w, ROLE_NORMAL);
    tui_text(a, y, x + 1, w - 1, ROLE_LABEL, head);
    /* Layers top-down from the first, scrolled to keep the selection. */
    size_t room = h > 2 ? (size_t)(h - 2) : 1;
    if (m->layer < m->top) m->top = m->layer;
    if (m->layer >= m->top + room) m->top = m->layer + 1 - room;
    for (size_t i = 0; i < room && m->top + i < nl; i++)
        lens_line(a, m, y + 1 + (int)i, x, w, m->top + i, k, written);
    lens_status(a, m, k, written);
    tui_legend *l = &a->legend;
    l->shown = 1;
    l->vmax = 1.0;
    l->scaled = 0;
    snprintf(l->cell, sizeof l->cell, "cell: a token's probability at that layer (softmax)");
    l->after_row = -1;
}

static tui_action lens_key(tui_app *a, void *st, int key)
{
    lens_state *m = st;
    size_t nl = tui_n_layers(a, T5_ATTN_DEC_SELF);
    size_t k = lens_k(a->view_w);
    if (!nl) return TUI_IGNORED;
    if (tui_move_cursor(&m->layer, &m->rank, nl, k, 1, key)) return TUI_REDRAW;
    return TUI_IGNORED;
}

static void lens_title(const tui_app *a, const void *st, char *lng, char *shrt, size_t cap)
{
    (void)a;
    (void)st;
    snprintf(lng, cap, "logit lens view (decoder layers)");
    snprintf(shrt, cap, "logit lens");
}

const tui_view tui_view_lens = {"lens",   lens_open,  lens_close, lens_draw,
                                lens_key, lens_title, NULL};
