/* view_common.c - what the views share: a grid of heat cells with its
 * axis labels on the screen, the decoding step's marker, token ranges as
 * text, cursor moves by arrow and page keys, and cache keys.
 *
 * Deliberately not here: any one view's layout or keys (view_*.c), the
 * cell arithmetic (grid.h). */
#include <curses.h>
#include <string.h>

#include "tui_int.h"

int tui_cache_eq(const tui_cache_key *x, const tui_cache_key *y)
{
    return x->valid && y->valid && x->serial == y->serial && x->kind == y->kind &&
           x->mean == y->mean && x->layer == y->layer && x->head == y->head &&
           x->zoom == y->zoom && x->live == y->live && x->a == y->a && x->b == y->b;
}

int tui_use_half(const tui_app *a)
{
    return a->half_ok && a->utf8 && a->mode >= THEME_COLOR_256;
}

size_t tui_head_index(const tui_app *a)
{
    return a->avg ? a->s->tr->n_heads : a->head;
}

double tui_map_max(const float *map, size_t rows, size_t cols, size_t stride)
{
    double m = 1e-9;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            if (map[r * stride + c] > m) m = map[r * stride + c];
    return m;
}

/* The cursor's column is highlighted across its cell. */
void tui_draw_col_labels(const tui_app *a, const grid_area *g, int y, int x, const int *tokens,
                         size_t cur_col, const char *corner)
{
    tui_fill(a, y, x, (int)g->label_w, ROLE_NORMAL);
    tui_text(a, y, x, (int)g->label_w, ROLE_HINT, corner);
    for (size_t v = 0; v < g->vis_cols; v++) {
        char s[8];
        int kind = grid_col_label(g, v, tokens, cur_col, s, sizeof s);
        if (kind < 0) break;
        if (a->s->spm) { /* a piece's first character, not a byte */
            tui_session_short_label(a->s, tokens[g->col0 + v], s, sizeof s);
            if (kind == GRID_LABEL_SPECIAL) kind = GRID_LABEL_PLAIN;
        }
        theme_role r = kind == GRID_LABEL_CURSOR    ? ROLE_LABEL_CURSOR
                       : kind == GRID_LABEL_SPECIAL ? ROLE_TOKEN_SPECIAL
                                                    : ROLE_LABEL;
        int cx = x + (int)g->label_w + (int)(v * g->cell_w);
        tui_text(a, y, cx, 1, r, s);
        if (g->cell_w > 1)
            tui_fill(a, y, cx + 1, (int)g->cell_w - 1, r == ROLE_LABEL_CURSOR ? r : ROLE_NORMAL);
    }
}

void tui_draw_grid(tui_app *a, const grid_area *g, int y, int x, const float *map, size_t stride,
                   size_t n_live, double vmax, size_t cr, size_t cc, const int *row_tokens,
                   const char *const *row_names, long step_row)
{
    int pair = g->sy == 1;
    for (size_t line = 0; line < g->n_lines; line++) {
        int ly = y + (int)g->top + (int)line;
        char lab[96];
        long lr = grid_line_row(g, line);
        int has_cursor = lr >= 0 && ((size_t)lr == cr || (pair && (size_t)lr + 1 == cr));
        /* The cursor's line names the cursor's row alone (and its half). */
        if (has_cursor)
            grid_row_label_cursor(g, line, row_tokens, row_names, cr, a->utf8, lab, sizeof lab);
        else
            grid_row_label(g, line, row_tokens, row_names, lab, sizeof lab);
        int has_step = lr >= 0 && step_row >= 0 && (lr == step_row || (pair && lr + 1 == step_row));
        tui_text(a, ly, x, (int)g->label_w, has_cursor ? ROLE_LABEL_CURSOR : ROLE_LABEL, lab);
        if (has_step && g->label_w > 1)
            tui_text(a, ly, x + (int)g->label_w - 1, 1, ROLE_STEP, a->utf8 ? "\xe2\x96\xb6" : ">");
        for (size_t v = 0; v < g->vis_cols; v++) {
            grid_cell c;
            if (grid_cell_at(g, map, stride, n_live, vmax, cr, cc, line, v, &c)) continue;
            c.top = tui_quant(a, c.top);
            c.bot = tui_quant(a, c.bot);
            grid_paint p;
            grid_paint_cell(&c, g, &a->th, a->mode, &p);
            tui_put_paint(a, ly, x + (int)g->label_w + (int)(v * g->cell_w), &p);
        }
    }
    if (g->more) { /* what is off screen, under the cells */
        char more[160];
        grid_more_text(g, a->utf8, more, sizeof more);
        tui_text(a, y + (int)g->top + (int)g->n_lines, x, (int)g->width, ROLE_HINT, more);
    }
}

void tui_range_text(const tui_app *a, const int *tokens, size_t i0, size_t i1, char *out,
                    size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = i0; i < i1 && n + 1 < cap; i++) {
        char t[96];
        tui_session_token_text(a->s, tokens[i], t, sizeof t);
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

int tui_move_cursor(size_t *r, size_t *c, size_t rows, size_t cols, size_t page, int key)
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
