/* figure_out.c - a rendered map as an SVG, PNG or PDF figure through cairo:
 * the title, the input and output, each panel with its token labels (row
 * labels "index token", column labels rotated), and a colour bar in the
 * theme's heat ramp with its scale. Written to a stream (stdout or the
 * atomic file the command opened).
 *
 * Why not the report's an_fig_heatmaps: that one writes a PNG and an SVG
 * pair to files in a fixed ramp; render writes one format, to a stream,
 * in the chosen theme's colours, and also PDF. The pieces both draw with
 * (font, labels, frames, the colour bar's scale, stream writing) are shared
 * through cairo_util.h.
 *
 * Deliberately not here: terminal text (term.c), choosing the maps (build.c). */
#include <cairo-pdf.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byt5.h"
#include "cairo_util.h"
#include "render.h"
#include "grid.h"

#define MARGIN 14.0
#define BAR_W 70.0

typedef struct {
    const render_doc *d;
    const theme *th;
    double cs;               /* cell size */
    double fs;               /* label font size, 0 = no labels */
    double rowlab_w, collab_h;
    double head_h;           /* title + input/output lines */
    double pw, ph;           /* one panel slot */
    size_t gcols, grows;
    double W, H;
    char **rlab, **clab;     /* labels */
} fig;

static void rgb(cairo_t *cr, theme_color c)
{
    if (c == THEME_DEFAULT) c = 0;
    cairo_set_source_rgb(cr, ((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0,
                         (c & 255) / 255.0);
}

/* Text made printable ASCII for the figure's labels and lines (the toy font
 * API wants UTF-8; keeping ASCII avoids tofu for odd bytes). */
static char *ascii(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) n = max;
    char *o = xmalloc(n + 4);
    size_t i;
    for (i = 0; i < n; i++) o[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '.';
    if (strlen(s) > max) memcpy(o + i, "...", 3), i += 3;
    o[i] = '\0';
    return o;
}

static void measure(fig *F)
{
    const render_doc *d = F->d;
    F->gcols = d->grid_cols ? d->grid_cols : 1;
    F->grows = (d->n_panels + F->gcols - 1) / F->gcols;
    size_t dmax = d->rows > d->cols ? d->rows : d->cols;
    double cs = floor(1000.0 / (double)(F->gcols * (dmax ? dmax : 1)));
    double csh = floor(1000.0 / (double)(F->grows * (d->rows ? d->rows : 1)));
    if (csh < cs) cs = csh;
    F->cs = cs < 2 ? 2 : cs > 22 ? 22 : cs;
    F->fs = F->cs >= 7 ? (F->cs - 1 < 11 ? F->cs - 1 : 11) : 0;
    F->rlab = xcalloc(d->rows, sizeof *F->rlab);
    F->clab = xcalloc(d->cols, sizeof *F->clab);
    for (size_t r = 0; r < d->rows; r++) {
        char t[64], s[96];
        if (d->row_tokens) snprintf(s, sizeof s, "%zu %s", r,
                                    render_token_label(d, d->row_tokens[r], t, sizeof t));
        else snprintf(s, sizeof s, "L%zu", r);
        F->rlab[r] = ascii(s, 40);
    }
    for (size_t c = 0; c < d->cols; c++) {
        char t[64];
        F->clab[c] = ascii(render_token_label(d, d->col_tokens[c], t, sizeof t), 40);
    }
    cairo_t *cr = cu_scratch();
    F->rowlab_w = F->collab_h = 0;
    if (F->fs > 0) {
        cu_font(cr, F->fs, 0);
        for (size_t r = 0; r < d->rows; r++)
            if (cu_text_w(cr, F->rlab[r]) > F->rowlab_w)
                F->rowlab_w = cu_text_w(cr, F->rlab[r]);
        for (size_t c = 0; c < d->cols; c++)
            if (cu_text_w(cr, F->clab[c]) > F->collab_h) F->collab_h = cu_text_w(cr, F->clab[c]);
        F->rowlab_w = ceil(F->rowlab_w) + 5;
        F->collab_h = ceil(F->collab_h) + 5;
    }
    cu_font(cr, 14, 1);
    double tw = cu_text_w(cr, d->title);
    cu_font(cr, 11, 0);
    char *lines[2] = {ascii(d->source ? d->source : "", 160), ascii(d->output, 160)};
    for (int i = 0; i < 2; i++) {
        double w = cu_text_w(cr, lines[i]) + 60;
        if (w > tw) tw = w;
        free(lines[i]);
    }
    cairo_destroy(cr);
    F->head_h = 24 + 2 * 16 + 6;
    double ptitle = d->n_panels > 1 ? 16 : 0;
    F->pw = F->rowlab_w + (double)d->cols * F->cs + 14;
    F->ph = ptitle + F->collab_h + (double)d->rows * F->cs + 12;
    F->W = ceil(2 * MARGIN + (double)F->gcols * F->pw + BAR_W);
    F->H = ceil(2 * MARGIN + F->head_h + (double)F->grows * F->ph);
    if (F->H < 2 * MARGIN + F->head_h + 160) F->H = 2 * MARGIN + F->head_h + 160;
    if (F->W < ceil(tw + 2 * MARGIN)) F->W = ceil(tw + 2 * MARGIN);
    if (F->W < 320) F->W = 320;
}

static void draw(cairo_t *cr, const fig *F)
{
    const render_doc *d = F->d;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cu_font(cr, 14, 1);
    cairo_move_to(cr, MARGIN, MARGIN + 14);
    cairo_show_text(cr, d->title);
    cu_font(cr, 11, 0);
    char *in = ascii(d->source ? d->source : "", 160), *out = ascii(d->output, 160);
    cairo_move_to(cr, MARGIN, MARGIN + 24 + 13);
    cairo_show_text(cr, "input");
    cairo_move_to(cr, MARGIN + 50, MARGIN + 24 + 13);
    cairo_show_text(cr, in);
    cairo_move_to(cr, MARGIN, MARGIN + 24 + 29);
    cairo_show_text(cr, "output");
    cairo_move_to(cr, MARGIN + 50, MARGIN + 24 + 29);
    cairo_show_text(cr, out);
    free(in);
    free(out);
    double ptitle = d->n_panels > 1 ? 16 : 0;
    for (size_t i = 0; i < d->n_panels; i++) {
        const render_panel *P = &d->panels[i];
        double x0 = MARGIN + (double)(i % F->gcols) * F->pw;
        double y0 = MARGIN + F->head_h + (double)(i / F->gcols) * F->ph;
        if (ptitle > 0) {
            cairo_set_source_rgb(cr, 0, 0, 0);
            cu_font(cr, 11, 1);
            cairo_move_to(cr, x0, y0 + 12);
            cairo_show_text(cr, P->title);
        }
        double mx = x0 + F->rowlab_w, my = y0 + ptitle + F->collab_h;
        for (size_t r = 0; r < d->rows; r++)
            for (size_t c = 0; c < d->cols; c++) {
                rgb(cr, theme_ramp(F->th, P->data[r * d->cols + c] / d->vmax));
                /* a hair of overlap so no seams show between cells */
                cairo_rectangle(cr, mx + (double)c * F->cs, my + (double)r * F->cs, F->cs + 0.3,
                                F->cs + 0.3);
                cairo_fill(cr);
            }
        cu_outline(cr, 0.3, mx, my, (double)d->cols * F->cs, (double)d->rows * F->cs);
        if (F->fs <= 0) continue;
        cu_font(cr, F->fs, 0);
        for (size_t r = 0; r < d->rows; r++) {
            cairo_set_source_rgb(cr, 0, 0, 0);
            cu_row_label(cr, F->rlab[r], mx, my, r, F->cs, F->fs);
        }
        for (size_t c = 0; c < d->cols; c++) {
            if (grid_token_is_special(d->col_tokens[c])) cairo_set_source_rgb(cr, 0.75, 0.3, 0);
            else cairo_set_source_rgb(cr, 0, 0, 0);
            cu_col_label(cr, F->clab[c], mx, my, c, F->cs, F->fs);
        }
    }
    /* the colour bar: the theme's ramp, 0 at the bottom, vmax at the top */
    double bx = F->W - MARGIN - BAR_W + 10, by = MARGIN + F->head_h + 6;
    double bh = F->H - by - MARGIN - 8;
    if (bh > 300) bh = 300;
    const int steps = 64;
    for (int i = 0; i < steps; i++) {
        rgb(cr, theme_ramp(F->th, (i + 0.5) / steps));
        cairo_rectangle(cr, bx, by + bh - bh * (i + 1) / steps, 14, bh / steps + 0.3);
        cairo_fill(cr);
    }
    cu_bar_scale(cr, bx, by, bh, d->vmax, 4);
}

int render_cairo(FILE *f, const render_doc *d, const theme *th, render_format fmt, as_err *err)
{
    if (fmt != RENDER_SVG && fmt != RENDER_PNG && fmt != RENDER_PDF)
        return as_errf(err, "render_cairo: %s is not a figure format", render_format_name(fmt));
    fig F = {.d = d, .th = th};
    measure(&F);
    cairo_surface_t *s;
    if (fmt == RENDER_PNG) s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)F.W, (int)F.H);
    else if (fmt == RENDER_SVG) s = cu_svg_surface(f, F.W, F.H);
    else s = cairo_pdf_surface_create_for_stream(cu_write_stream, f, F.W, F.H);
    cairo_t *cr = cairo_create(s);
    draw(cr, &F);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (st == CAIRO_STATUS_SUCCESS && fmt == RENDER_PNG)
        st = cairo_surface_write_to_png_stream(s, cu_write_stream, f);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    for (size_t r = 0; r < d->rows; r++) free(F.rlab[r]);
    for (size_t c = 0; c < d->cols; c++) free(F.clab[c]);
    free(F.rlab);
    free(F.clab);
    if (st != CAIRO_STATUS_SUCCESS)
        return as_errf(err, "cannot write the %s figure: %s", render_format_name(fmt),
                       cairo_status_to_string(st));
    fflush(f);
    if (ferror(f)) return as_errf(err, "cannot write the %s figure", render_format_name(fmt));
    return 0;
}
