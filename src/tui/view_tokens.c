/* view_tokens.c - the token view (bertviz's line view in two lines of the
 * screen): the source and the output written out as text, each token shaded
 * by the attention the cursor's query gives it in the shown layer and head
 * (or their mean), so "when writing this digit of D the model looks at
 * these characters" reads without decoding a grid. The source line shows
 * the cross attention (the encoder's own for an encoder query), the output
 * line the decoder's self attention up to the query. Each line is scaled
 * to its own maximum; without colour the strongest tokens are bold and
 * underlined.
 *
 * Deliberately not here: which view shows it (they call tui_draw_tokens),
 * the grid of cells (view_common.c). */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tui_int.h"

/* Row q of kind's map of (layer, head), head == n_heads the mean over the
   heads, into out (cols floats); returns cols (0 when there is no map). */
static size_t map_row(const tui_app *a, t5_attn_kind kind, size_t layer, size_t head, size_t q,
                      float *out, size_t cap)
{
    const attn_trace *t = a->s->tr;
    size_t rows, cols = 0, stride, nh = t->n_heads;
    if (!a->s->have_run) return 0;
    size_t h0 = head < nh ? head : 0, h1 = head < nh ? head + 1 : nh;
    for (size_t h = h0; h < h1; h++) {
        const float *m = trace_map(t, kind, layer, h, &rows, &cols, &stride);
        if (!m || q >= rows || cols > cap) return 0;
        for (size_t c = 0; c < cols; c++) out[c] = (h == h0 ? 0.0f : out[c]) + m[q * stride + c];
    }
    for (size_t c = 0; c < cols; c++) out[c] /= (float)(h1 - h0);
    return cols;
}

/* The colours of a token of weight v (0..1 of the line's maximum). */
static void token_paint(const tui_app *a, float v, grid_paint *p)
{
    p->fg = p->bg = THEME_DEFAULT;
    p->attr = 0;
    if (a->mode >= THEME_COLOR_256) {
        p->bg = theme_ramp(&a->th, tui_quant(a, v));
        int r = (p->bg >> 16) & 255, g = (p->bg >> 8) & 255, b = p->bg & 255;
        p->fg = 299 * r + 587 * g + 114 * b > 140000 ? 0x000000 : 0xffffff;
        return;
    }
    if (v > 0.5f) p->attr = THEME_BOLD | THEME_UNDERLINE;
    else if (v > 0.2f) p->attr = THEME_BOLD;
    if (a->mode == THEME_COLOR_8 && v > 0.2f) p->fg = theme_ramp(&a->th, 0.25 + 0.75 * v);
}

/* One line: label, then tokens [0, n) shaded by w[i] (NULL: plain, for
   tokens past the query), scrolled so that token `keep` is on it. */
static void token_line(tui_app *a, int y, int x, int w, const char *lab, const int *tok,
                       size_t n, const float *wt, size_t n_w, size_t keep)
{
    tui_fill(a, y, x, w, ROLE_NORMAL);
    int lw = tui_text(a, y, x, w, ROLE_LABEL, lab);
    float mx = 1e-9f;
    for (size_t i = 0; i < n_w; i++) mx = wt[i] > mx ? wt[i] : mx;
    /* Columns of each token, to scroll the kept one into view. */
    size_t start = 0, col = 0, room = w > lw ? (size_t)(w - lw) : 0;
    for (size_t i = 0; i < n && i <= keep; i++) {
        char t[64];
        tui_range_text(a, tok, i, i + 1, t, sizeof t);
        col += tui_utf8_cols(t, strlen(t));
        while (col > room && start < i) {
            char u[64];
            tui_range_text(a, tok, start, start + 1, u, sizeof u);
            col -= tui_utf8_cols(u, strlen(u));
            start++;
        }
    }
    int cx = x + lw;
    for (size_t i = start; i < n && cx < x + w; i++) {
        char t[sizeof ((grid_paint *)0)->text];
        tui_range_text(a, tok, i, i + 1, t, sizeof t);
        grid_paint p;
        memset(&p, 0, sizeof p);
        if (i < n_w) token_paint(a, wt[i] / mx, &p);
        else p.fg = p.bg = THEME_DEFAULT;
        int cw = (int)tui_utf8_cols(t, strlen(t));
        if (cx + cw > x + w) break;
        if (i < n_w) {
            snprintf(p.text, sizeof p.text, "%s", t);
            tui_put_paint(a, y, cx, &p);
        } else {
            tui_text(a, y, cx, cw, ROLE_PENDING, t);
        }
        cx += cw;
    }
}

int tui_draw_tokens(tui_app *a, int y, int x, int w, t5_attn_kind kind, size_t layer,
                    size_t head, size_t q)
{
    static float row[TUI_MAX_SRC > TUI_MAX_GEN ? TUI_MAX_SRC : TUI_MAX_GEN];
    const tui_session *s = a->s;
    const attn_trace *t = s->tr;
    size_t cap = sizeof row / sizeof row[0];
    if (!s->have_run) return 0;
    char lab[64];
    if (kind == T5_ATTN_ENC_SELF) {
        size_t n = map_row(a, kind, layer, head, q, row, cap);
        snprintf(lab, sizeof lab, "in>  (query %zu) ", q);
        token_line(a, y, x, w, lab, t->src, t->n_src, row, n, q);
        token_line(a, y + 1, x, w, "out> ", s->gen, s->n_gen, row, 0, 0);
        return 2;
    }
    size_t n = map_row(a, T5_ATTN_CROSS, layer, head, q, row, cap);
    snprintf(lab, sizeof lab, "in>  (row %zu) ", q);
    size_t keep = a->cur_c[T5_ATTN_CROSS] < t->n_src ? a->cur_c[T5_ATTN_CROSS] : 0;
    token_line(a, y, x, w, lab, t->src, t->n_src, row, n, keep);
    /* Decoder self attention: column j is the token fed at j (the start
       token, then the output): output token i is column i + 1. */
    size_t nd = map_row(a, T5_ATTN_DEC_SELF, layer, head, q, row, cap);
    size_t n_w = nd > 1 ? (nd - 1 < q ? nd - 1 : q) : 0;
    token_line(a, y + 1, x, w, "out> ", s->gen, s->n_gen, row + 1, n_w, q);
    return 2;
}
