/* term.c - the maps as terminal text: ANSI escapes in the theme's colours
 * (24-bit, 256 or 8 colours), or shading characters " .:-=+*#%@" with no
 * escapes at all for logs and e-mail. Cells, labels and half blocks come
 * from the map grid (grid.h: grid_layout, grid_cell_at,
 * grid_paint_cell, grid_row_label), so a rendered map looks like the UI's.
 *
 * Unlike the UI there is no cursor and no scrolling: every row is printed,
 * and a map wider than the width is max-pooled over columns.
 *
 * Deliberately not here: ncurses (escapes are written directly), figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byt5.h"
#include "render.h"
#include "grid.h"

#define NO_CURSOR ((size_t)-1)
/* A single map's cells grow up to RENDER_SCALE columns wide while the map
 * stays within RENDER_LINES lines (the UI fits them to its window). */
enum { RENDER_SCALE = 4, RENDER_LINES = 40 };

typedef struct {
    FILE *f;
    theme_color_mode mode;
    int esc;           /* write escapes */
    const theme *th;
    int utf8;          /* labels may hold UTF-8 (SentencePiece pieces); else ASCII */
} out_t;

/* One colour as an SGR parameter list into buf ("38;2;r;g;b", "38;5;n",
 * "3n"); "39"/"49" for the terminal's own. */
static void sgr_color(const out_t *o, theme_color c, int bg, char *buf, size_t cap)
{
    int base = bg ? 40 : 30;
    if (c == THEME_DEFAULT || o->mode == THEME_COLOR_NONE) {
        snprintf(buf, cap, "%d", base + 9);
        return;
    }
    switch (o->mode) {
    case THEME_COLOR_DIRECT:
        snprintf(buf, cap, "%d;2;%d;%d;%d", base + 8, (c >> 16) & 255, (c >> 8) & 255, c & 255);
        break;
    case THEME_COLOR_256: snprintf(buf, cap, "%d;5;%d", base + 8, theme_to_256(c)); break;
    default: snprintf(buf, cap, "%d", base + theme_to_8(c)); break;
    }
}

/* Switch to colours fg/bg and attributes (THEME_* bits). */
static void set_style(const out_t *o, theme_color fg, theme_color bg, unsigned attr)
{
    if (!o->esc) return;
    char f[32], b[32];
    sgr_color(o, fg, 0, f, sizeof f);
    sgr_color(o, bg, 1, b, sizeof b);
    fprintf(o->f, "\x1b[0");
    if (attr & THEME_BOLD) fputs(";1", o->f);
    if (attr & THEME_DIM) fputs(";2", o->f);
    if (attr & THEME_UNDERLINE) fputs(";4", o->f);
    if (attr & THEME_REVERSE) fputs(";7", o->f);
    if (o->mode == THEME_COLOR_NONE) fputc('m', o->f); /* attributes only */
    else fprintf(o->f, ";%s;%sm", f, b);
}

static void set_role(const out_t *o, theme_role r)
{
    const theme_style *s = &o->th->style[r];
    if (o->mode == THEME_COLOR_NONE) set_style(o, THEME_DEFAULT, THEME_DEFAULT, s->mono);
    else set_style(o, s->fg, s->bg, s->attr);
}

static void reset(const out_t *o)
{
    if (o->esc) fputs("\x1b[0m", o->f);
}

/* Text in a role, then back to normal. */
static void role_text(const out_t *o, theme_role r, const char *s)
{
    set_role(o, r);
    fputs(s, o->f);
    reset(o);
}

/* Text a person typed or a model wrote, made safe for a terminal: control
 * bytes and (without utf8, or when invalid) non-ASCII bytes become '.'.
 * At most max_cols characters; a '>' in the last column marks a cut. */
static void safe_text(FILE *f, const char *s, int utf8, size_t max_cols)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t cols = 0;
    while (*u) {
        if (++cols > max_cols) break;
        if (cols == max_cols && u[1]) { /* more than fits: mark the cut */
            fputc('>', f);
            break;
        }
        size_t n = 0;
        if (*u >= 0x20 && *u < 0x7f) n = 1;
        else if (utf8 && *u >= 0xC2 && *u <= 0xF4) {
            size_t want = *u >= 0xF0 ? 4 : *u >= 0xE0 ? 3 : 2;
            n = want;
            for (size_t k = 1; k < want; k++)
                if ((u[k] & 0xC0) != 0x80) n = 0;
        }
        if (n) fwrite(u, 1, n, f), u += n;
        else fputc('.', f), u++;
    }
}

/* 1 when the doc's tokenizer is SentencePiece (labels are pieces). */
static int doc_spm(const render_doc *d)
{
    return d->tok && tok_kind_of(d->tok) == TOK_SPM;
}

/* Without UTF-8: a piece in ASCII, in place: the word-start mark U+2581
 * becomes '_', any other non-ASCII character '?'. */
static void ascii_piece(const out_t *o, char *s)
{
    if (o->utf8) return;
    char *w = s;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (!strncmp((const char *)p, "\xe2\x96\x81", 3)) *w++ = '_', p += 3;
        else if (*p < 0x80) *w++ = (char)*p++;
        else {
            *w++ = '?';
            p++;
            while ((*p & 0xC0) == 0x80) p++;
        }
    }
    *w = '\0';
}

/* One character for a SentencePiece piece, as the UI shows it: the first
 * character after the word-start mark; "$" for eos, '<' for <pad> and
 * <extra_id_N>. *special gets 1 for those. */
static const char *piece_short(const out_t *o, const render_doc *d, int id, char *buf,
                               size_t cap, int *special)
{
    char piece[64];
    const char *p = render_token_label(d, id, piece, sizeof piece);
    if (!strncmp(p, "\xe2\x96\x81", 3) && p[3]) p += 3;
    size_t n = 1;
    while (p[n] && (p[n] & 0xC0) == 0x80) n++;
    *special = (p[0] == '<' && p[1]) || id == tok_eos(d->tok);
    if (*special) n = 1;
    snprintf(buf, cap, "%.*s", (int)n, p);
    ascii_piece(o, buf);
    return buf;
}

/* The column labels line: one character per map column, padded to cell_w. */
static void col_labels(const out_t *o, const render_doc *d, const grid_area *g, const int *tokens,
                       const char *corner)
{
    fprintf(o->f, "%-*.*s", (int)g->label_w, (int)g->label_w, corner);
    for (size_t v = 0; v < g->vis_cols; v++) {
        char s[8];
        int special = 0;
        if (doc_spm(d)) piece_short(o, d, tokens[g->col0 + v], s, sizeof s, &special);
        else {
            grid_token_short(tokens[g->col0 + v], s, sizeof s);
            special = grid_token_is_special(tokens[g->col0 + v]);
        }
        role_text(o, special ? ROLE_TOKEN_SPECIAL : ROLE_LABEL, s);
        for (size_t k = 1; k < g->cell_w; k++) fputc(' ', o->f);
    }
    fputc('\n', o->f);
}

static void put_paint(const out_t *o, const grid_paint *p)
{
    set_style(o, p->fg, p->bg, p->attr);
    fputs(p->text, o->f);
}

/* Every line of a laid-out grid: the row label, then the cells. */
static void grid_lines(const out_t *o, const grid_area *g, const float *map, size_t stride,
                       double vmax, const int *row_tokens, const char *const *row_names)
{
    for (size_t line = 0; line < g->n_lines; line++) {
        char lab[96];
        grid_row_label(g, line, row_tokens, row_names, lab, sizeof lab);
        role_text(o, ROLE_LABEL, lab);
        for (size_t v = 0; v < g->vis_cols; v++) {
            grid_cell c;
            if (grid_cell_at(g, map, stride, g->rows, vmax, NO_CURSOR, NO_CURSOR, line, v, &c))
                continue;
            grid_paint p;
            grid_paint_cell(&c, g, o->th, o->mode, &p);
            put_paint(o, &p);
        }
        reset(o);
        fputc('\n', o->f);
    }
}

/* The scale under a map: the ramp from 0 to vmax. */
static void scale_line(const out_t *o, double vmax, int half)
{
    fputs("scale  0 ", o->f);
    if (o->mode == THEME_COLOR_NONE) {
        fputs(THEME_SHADES, o->f);
    } else {
        for (int i = 0; i < 20; i++) {
            grid_cell c = {0};
            c.top = (float)i / 19.0f;
            grid_area g1 = {.cell_w = 1};
            grid_paint p;
            grid_paint_cell(&c, &g1, o->th, o->mode, &p);
            if (o->mode >= THEME_COLOR_256) {
                (void)half;
                set_style(o, THEME_DEFAULT, p.bg, 0);
                fputc(' ', o->f);
            } else {
                put_paint(o, &p);
            }
        }
        reset(o);
    }
    fprintf(o->f, " %.3g\n", vmax);
}

/* One map (or the summary): all rows, columns pooled to the width. */
static void single(const out_t *o, const render_doc *d, int half, size_t width)
{
    const float *map = d->panels[0].data;
    size_t rows = d->rows, cols = d->cols;
    char names_buf[64][8];
    const char *names[64];
    const int *rtok = d->row_tokens;
    const char *const *rnames = names;
    char **piece_names = NULL;
    size_t longest = 5;
    if (rtok && doc_spm(d)) { /* SentencePiece: "index piece" names */
        piece_names = xcalloc(rows, sizeof *piece_names);
        for (size_t r = 0; r < rows; r++) {
            char lab[64];
            render_token_label(d, rtok[r], lab, sizeof lab);
            ascii_piece(o, lab);
            piece_names[r] = xmalloc(96);
            snprintf(piece_names[r], 96, "%zu %s", r, lab);
        }
        rnames = (const char *const *)piece_names;
        rtok = NULL;
        longest = 12;
    } else if (!rtok) { /* summary: layer names, one row per line */
        half = 0;
        longest = 3;
        for (size_t l = 0; l < rows && l < 64; l++) {
            snprintf(names_buf[l], sizeof names_buf[l], "L%zu", l);
            names[l] = names_buf[l];
        }
        if (rows > 64) rows = 64;
    }
    size_t label_w = grid_row_label_width(rows, half, longest);
    float *pooled = NULL;
    size_t room = width > label_w ? width - label_w : 0;
    if (room < 1) room = 1;
    if (cols > room) { /* max-pool columns so the map fits the width */
        pooled = xmalloc(rows * room * sizeof *pooled);
        grid_downsample(map, rows, cols, cols, pooled, rows, room);
        char note[160];
        snprintf(note, sizeof note, "(%zu keys max-pooled into %zu columns; a wider --width "
                                    "or --format svg shows each)", cols, room);
        safe_text(o->f, note, 0, width);
        fputc('\n', o->f);
    }
    size_t vcols = pooled ? room : cols;
    grid_area g = {0};
    size_t lay_w = width > label_w + vcols ? width : label_w + vcols;
    size_t whole = (half ? (rows + 1) / 2 : rows) + 1;   /* every row, one cell high */
    if (pooled) {
        grid_layout(&g, rows, vcols, whole, lay_w, half, 0, label_w, NO_CURSOR, NO_CURSOR);
    } else {
        /* Cells scaled like the UI's, up to RENDER_SCALE columns, within about
           a screenful of lines (a map taller than that stays at one row a
           line, or two with half blocks, and is printed whole). */
        size_t height = whole > RENDER_LINES ? whole : RENDER_LINES;
        grid_fit(&g, rows, vcols, height, lay_w, half, RENDER_SCALE, label_w, NO_CURSOR,
                     NO_CURSOR);
    }
    if (pooled) {
        fprintf(o->f, "%-*s(keys)\n", (int)label_w, d->row_tokens ? "q\\k" : "layer");
    } else {
        const char *corner = !d->row_tokens                ? "layer"
                             : d->kind == T5_ATTN_ENC_SELF ? "q\\k"
                             : d->kind == T5_ATTN_DEC_SELF ? "out\\out"
                                                           : "out\\in";
        col_labels(o, d, &g, d->col_tokens, corner);
    }
    grid_lines(o, &g, pooled ? pooled : map, vcols, d->vmax, rtok, rtok ? NULL : rnames);
    free(pooled);
    for (size_t r = 0; piece_names && r < rows; r++) free(piece_names[r]);
    free(piece_names);
}

/* The model view: a thumbnail per layer x head, max-pooled. */
static void model(const out_t *o, const render_doc *d, int half, size_t width)
{
    size_t nl = d->n_layers, nh = d->n_heads, rows = d->rows, cols = d->cols;
    const size_t lab_w = 4; /* "L12 " */
    size_t avail = width > lab_w ? width - lab_w : 1;
    size_t tw = avail / nh > 1 ? avail / nh - 1 : 1;
    if (tw > cols) tw = cols;
    if (tw < 3) tw = cols < 3 ? cols : 3;
    /* Keep the map's shape: a character cell is about twice as tall as wide,
       a half block about square. */
    size_t trows = (rows * tw + cols - 1) / cols;
    if (!half) trows = (trows + 1) / 2;
    if (trows < 1) trows = 1;
    if (trows > rows) trows = rows;
    size_t per = half ? 2 : 1, tl = (trows + per - 1) / per;
    float *buf = xmalloc(trows * tw * sizeof *buf);
    /* heads per band of the width */
    size_t per_band = avail / (tw + 1);
    if (per_band < 1) per_band = 1;
    grid_area tg = {.half = half, .cell_w = 1};
    for (size_t h0 = 0; h0 < nh; h0 += per_band) {
        size_t h1 = h0 + per_band < nh ? h0 + per_band : nh;
        fprintf(o->f, "%*s", (int)lab_w, "");
        for (size_t h = h0; h < h1; h++) {
            char s[24];
            snprintf(s, sizeof s, "H%zu", h);
            set_role(o, ROLE_LABEL);
            fprintf(o->f, "%-*.*s", (int)(tw + 1), (int)(tw + 1), s);
            reset(o);
        }
        fputc('\n', o->f);
        for (size_t l = 0; l < nl; l++) {
            for (size_t line = 0; line < tl; line++) {
                char s[24];
                snprintf(s, sizeof s, "L%zu", l);
                set_role(o, ROLE_LABEL);
                fprintf(o->f, "%-*s", (int)lab_w, line == 0 ? s : "");
                reset(o);
                for (size_t h = h0; h < h1; h++) {
                    const float *map = d->panels[l * nh + h].data;
                    grid_downsample(map, rows, cols, cols, buf, trows, tw);
                    size_t r = line * per;
                    for (size_t c = 0; c < tw; c++) {
                        grid_cell cell = {0};
                        double v = buf[r * tw + c] / d->vmax;
                        cell.top = (float)(v > 1 ? 1 : v);
                        if (half && r + 1 < trows) {
                            cell.flags |= GRID_CELL_HAS_BOT;
                            double b = buf[(r + 1) * tw + c] / d->vmax;
                            cell.bot = (float)(b > 1 ? 1 : b);
                        }
                        grid_paint p;
                        grid_paint_cell(&cell, &tg, o->th, o->mode, &p);
                        put_paint(o, &p);
                    }
                    reset(o);
                    fputc(' ', o->f);
                }
                fputc('\n', o->f);
            }
            if (!half || tl > 1) fputc('\n', o->f);
        }
    }
    free(buf);
}

int render_term(FILE *f, const render_doc *d, const theme *th, theme_color_mode mode, int utf8,
                int half, int escapes, size_t width)
{
    out_t o = {f, escapes ? mode : THEME_COLOR_NONE, escapes, th, escapes && utf8};
    if (o.mode < THEME_COLOR_256 || !utf8) half = 0;
    if (width < 20) width = 20;
    char title[600];
    snprintf(title, sizeof title, " attnscope: %s ", d->title);
    set_role(&o, ROLE_TITLE);
    safe_text(f, title, 0, width);
    reset(&o);
    fputc('\n', f);
    if (d->source) {
        role_text(&o, ROLE_LABEL, "input  ");
        safe_text(f, d->source, escapes && utf8, width - 7);
        fputc('\n', f);
    }
    role_text(&o, ROLE_LABEL, "output ");
    safe_text(f, d->output, escapes && utf8, width - 7);
    fputc('\n', f);
    if (d->view == RENDER_VIEW_MODEL) model(&o, d, half, width);
    else single(&o, d, half, width);
    scale_line(&o, d->vmax, half);
    fflush(f);
    return ferror(f) ? -1 : 0;
}
