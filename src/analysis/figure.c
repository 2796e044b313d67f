/* figure.c - the report's figures through cairo: grids of labelled heatmap
 * panels with one colour bar, and bar charts with error bars, each written
 * as PNG and SVG of the same size (atomically, through util.h).
 *
 * It draws matrices it is given; what to draw is the report's business.
 * The cairo pieces it shares with render's figures (font, labels, frames,
 * the colour bar's scale, stream writing) are in src/render/cairo_util.c.
 * Deliberately not here: terminal rendering (src/render, src/tui). */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cairo_util.h"

#define FIG_MARGIN 12.0
#define FIG_TITLE_H 26.0
#define FIG_PANEL_TITLE_H 16.0
#define FIG_LABEL_PX 7     /* smallest cell that gets labels */
#define FIG_BAR_W 64.0     /* colour bar with its tick labels */

/* viridis, sampled every 1/8 */
static const double ramp[9][3] = {
    {68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
    {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37},
};

static void ramp_rgb(double v, double rgb[3])
{
    if (!(v > 0)) v = 0;
    if (v > 1) v = 1;
    double x = v * 8;
    int i = (int)x;
    if (i >= 8) i = 7;
    double f = x - i;
    for (int c = 0; c < 3; c++) rgb[c] = (ramp[i][c] * (1 - f) + ramp[i + 1][c] * f) / 255.0;
}

/* The layout shared by the measuring pass and both drawing passes. */
typedef struct {
    const an_panel *p;
    size_t n, gcols, grows;
    double cs, fs;          /* cell size, label font size (0: no labels) */
    double rowlab_w, collab_h;
    double pw, ph;          /* one grid slot */
    double W, H;
    float vmax;
    const char *title;
    double title_h;         /* FIG_TITLE_H plus a line for each '\n' */
    int no_bar;             /* categorical: no colour bar */
} layout;

/* Titles may hold several lines separated by '\n': the widest line, the
 * count, and drawing them. */
static double title_width(cairo_t *cr, const char *t, int *lines)
{
    double w = 0;
    *lines = 0;
    while (t) {
        const char *nl = strchr(t, '\n');
        size_t n = nl ? (size_t)(nl - t) : strlen(t);
        char buf[2048];
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), t);
        double x = cu_text_w(cr, buf);
        if (x > w) w = x;
        (*lines)++;
        t = nl ? nl + 1 : NULL;
    }
    return w;
}

static void draw_title(cairo_t *cr, const char *t)
{
    double y = FIG_MARGIN + 15;
    while (t) {
        const char *nl = strchr(t, '\n');
        size_t n = nl ? (size_t)(nl - t) : strlen(t);
        char buf[2048];
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), t);
        cairo_move_to(cr, FIG_MARGIN, y);
        cairo_show_text(cr, buf);
        y += 18;
        t = nl ? nl + 1 : NULL;
    }
}

static void measure(layout *L, size_t cell_px)
{
    size_t dmax = 1, maxr = 1, maxc = 1;
    for (size_t i = 0; i < L->n; i++) {
        if (L->p[i].rows > maxr) maxr = L->p[i].rows;
        if (L->p[i].cols > maxc) maxc = L->p[i].cols;
    }
    dmax = maxr > maxc ? maxr : maxc;
    if (cell_px) L->cs = (double)cell_px;
    else {
        double cs = floor(1100.0 / (double)(L->gcols * dmax));
        double csh = floor(900.0 / (double)(L->grows * maxr));
        if (csh < cs) cs = csh;
        L->cs = cs < 3 ? 3 : cs > 18 ? 18 : cs;
    }
    L->fs = L->cs >= FIG_LABEL_PX ? (L->cs - 1 < 11 ? L->cs - 1 : 11) : 0;
    L->rowlab_w = L->collab_h = 0;
    cairo_t *cr = cu_scratch();
    if (L->fs > 0) {
        cu_font(cr, L->fs, 0);
        for (size_t i = 0; i < L->n; i++) {
            for (size_t r = 0; L->p[i].row_labels && r < L->p[i].rows; r++) {
                double w = cu_text_w(cr, L->p[i].row_labels[r]);
                if (w > L->rowlab_w) L->rowlab_w = w;
            }
            for (size_t c = 0; L->p[i].col_labels && c < L->p[i].cols; c++) {
                double w = cu_text_w(cr, L->p[i].col_labels[c]);
                if (w > L->collab_h) L->collab_h = w;
            }
        }
        if (L->rowlab_w > 0) L->rowlab_w = ceil(L->rowlab_w) + 4;
        if (L->collab_h > 0) L->collab_h = ceil(L->collab_h) + 4;
    }
    cu_font(cr, 14, 1);
    int lines = 0;
    double title_w = L->title ? title_width(cr, L->title, &lines) : 0;
    L->title_h = FIG_TITLE_H + 18.0 * (lines > 1 ? lines - 1 : 0);
    double tw = 0;
    cu_font(cr, 11, 0);
    for (size_t i = 0; i < L->n; i++)
        if (L->p[i].title && cu_text_w(cr, L->p[i].title) > tw)
            tw = cu_text_w(cr, L->p[i].title);
    cairo_destroy(cr);
    L->pw = L->rowlab_w + (double)maxc * L->cs + 14;
    if (L->pw < tw + 14) L->pw = ceil(tw + 14);
    L->ph = FIG_PANEL_TITLE_H + L->collab_h + (double)maxr * L->cs + 12;
    L->W = ceil(2 * FIG_MARGIN + (double)L->gcols * L->pw + FIG_BAR_W);
    L->H = ceil(2 * FIG_MARGIN + L->title_h + (double)L->grows * L->ph);
    if (L->H < 2 * FIG_MARGIN + L->title_h + 150) L->H = ceil(2 * FIG_MARGIN + L->title_h + 150);
    if (L->W < 320) L->W = 320;
    if (L->W < ceil(title_w + 2 * FIG_MARGIN)) L->W = ceil(title_w + 2 * FIG_MARGIN);
}

/* The cells of a panel: one pixel per cell in an image, scaled up with
 * nearest-neighbour sampling (a few kB in SVG, where one rectangle per cell
 * would take megabytes for a 128 x 128 map). */
static void draw_cells(cairo_t *cr, const an_panel *P, float vmax, double mx, double my, double cs)
{
    if (!P->rows || !P->cols) return;
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)P->cols, (int)P->rows);
    unsigned char *px = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    cairo_surface_flush(img);
    for (size_t r = 0; r < P->rows; r++) {
        uint32_t *row = (uint32_t *)(px + (size_t)stride * r);
        for (size_t c = 0; c < P->cols; c++) {
            double rgb[3], v = P->data[r * P->cols + c];
            if (isnan(v)) /* not applicable: light grey */
                rgb[0] = rgb[1] = rgb[2] = 0.85;
            else
                ramp_rgb(vmax > 0 ? v / vmax : 0, rgb);
            row[c] = (uint32_t)lround(rgb[0] * 255) << 16 | (uint32_t)lround(rgb[1] * 255) << 8 |
                     (uint32_t)lround(rgb[2] * 255);
        }
    }
    cairo_surface_mark_dirty(img);
    cairo_save(cr);
    cairo_translate(cr, mx, my);
    cairo_scale(cr, cs, cs);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, (double)P->cols, (double)P->rows);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
}

/* Short texts centred in the cells, dark on light cells and light on dark. */
static void draw_cell_text(cairo_t *cr, const an_panel *P, float vmax, double mx, double my,
                           double cs)
{
    double fs = cs * 0.42 < 11 ? cs * 0.42 : 11;
    if (fs < 5) return;
    cu_font(cr, fs, 0);
    for (size_t r = 0; r < P->rows; r++)
        for (size_t c = 0; c < P->cols; c++) {
            const char *t = P->cell_text[r * P->cols + c];
            if (!t || !*t) continue;
            double v = vmax > 0 ? P->data[r * P->cols + c] / vmax : 0;
            double g = v > 0.6 ? 0.0 : 1.0;
            cairo_set_source_rgb(cr, g, g, g);
            cairo_move_to(cr, mx + ((double)c + 0.5) * cs - cu_text_w(cr, t) / 2,
                          my + ((double)r + 0.5) * cs + fs * 0.35);
            cairo_show_text(cr, t);
        }
}

/* A white page with the figure's title (NULL: none) in bold at the top;
 * leaves the source black. */
static void draw_page(cairo_t *cr, const char *title)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cu_font(cr, 14, 1);
    cairo_move_to(cr, FIG_MARGIN, FIG_MARGIN + 15);
    if (title) draw_title(cr, title);
}

static void draw_heatmaps(cairo_t *cr, const layout *L)
{
    draw_page(cr, L->title);
    for (size_t i = 0; i < L->n; i++) {
        const an_panel *P = &L->p[i];
        double x0 = FIG_MARGIN + (double)(i % L->gcols) * L->pw;
        double y0 = FIG_MARGIN + L->title_h + (double)(i / L->gcols) * L->ph;
        if (P->title) {
            cairo_set_source_rgb(cr, 0, 0, 0);
            cu_font(cr, 11, 0);
            cairo_move_to(cr, x0, y0 + 11);
            cairo_show_text(cr, P->title);
        }
        double mx = x0 + L->rowlab_w, my = y0 + FIG_PANEL_TITLE_H + L->collab_h;
        draw_cells(cr, P, L->vmax, mx, my, L->cs);
        if (P->cell_text) draw_cell_text(cr, P, L->vmax, mx, my, L->cs);
        cu_outline(cr, 0.3, mx, my, (double)P->cols * L->cs, (double)P->rows * L->cs);
        if (L->fs <= 0) continue;
        cairo_set_source_rgb(cr, 0, 0, 0);
        cu_font(cr, L->fs, 0);
        for (size_t r = 0; P->row_labels && r < P->rows; r++)
            cu_row_label(cr, P->row_labels[r], mx, my, r, L->cs, L->fs);
        for (size_t c = 0; P->col_labels && c < P->cols; c++)
            cu_col_label(cr, P->col_labels[c], mx, my, c, L->cs, L->fs);
    }
    if (L->no_bar) return;
    /* the colour bar */
    double bx = FIG_MARGIN + (double)L->gcols * L->pw + 8, by = FIG_MARGIN + L->title_h + 4;
    double bh = L->H - by - FIG_MARGIN - 8;
    if (bh > 300) bh = 300;
    cairo_pattern_t *grad = cairo_pattern_create_linear(0, by + bh, 0, by);
    for (int i = 0; i <= 8; i++)
        cairo_pattern_add_color_stop_rgb(grad, i / 8.0, ramp[i][0] / 255.0, ramp[i][1] / 255.0,
                                         ramp[i][2] / 255.0);
    cairo_set_source(cr, grad);
    cairo_rectangle(cr, bx, by, 14, bh);
    cairo_fill(cr);
    cairo_pattern_destroy(grad);
    cu_bar_scale(cr, bx, by, bh, L->vmax, 2);
}

typedef void (*draw_fn)(cairo_t *cr, const void *ctx);

/* Render draw(ctx) at W x H to base.png and base.svg. */
static int write_both(const char *base, int W, int H, draw_fn draw, const void *ctx, as_err *err)
{
    size_t n = strlen(base) + 8;
    char *path = xmalloc(n);
    atomic_file af;
    /* PNG */
    snprintf(path, n, "%s.png", base);
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(img);
    draw(cr, ctx);
    cairo_destroy(cr);
    if (atomic_open(&af, path, err)) {
        cairo_surface_destroy(img);
        free(path);
        return -1;
    }
    cairo_status_t st = cairo_surface_write_to_png_stream(img, cu_write_stream, af.f);
    cairo_surface_destroy(img);
    if (st != CAIRO_STATUS_SUCCESS) {
        atomic_abort(&af);
        as_errf(err, "%s: cannot write PNG: %s", path, cairo_status_to_string(st));
        free(path);
        return -1;
    }
    if (atomic_commit(&af, err)) {
        free(path);
        return -1;
    }
    /* SVG */
    snprintf(path, n, "%s.svg", base);
    if (atomic_open(&af, path, err)) {
        free(path);
        return -1;
    }
    /* into memory first: the cell images get image-rendering:pixelated, so
     * viewers scale them up as blocks instead of blurring them */
    char *mem = NULL;
    size_t mlen = 0;
    FILE *mf = open_memstream(&mem, &mlen);
    if (!mf) {
        atomic_abort(&af);
        free(path);
        return as_errf(err, "out of memory writing an SVG");
    }
    cairo_surface_t *svg = cu_svg_surface(mf, W, H);
    cr = cairo_create(svg);
    draw(cr, ctx);
    cairo_destroy(cr);
    cairo_surface_finish(svg);
    st = cairo_surface_status(svg);
    cairo_surface_destroy(svg);
    fclose(mf);
    if (st == CAIRO_STATUS_SUCCESS) {
        static const char tag[] = "<image ";
        static const char px[] = "<image style=\"image-rendering:optimizeSpeed;image-rendering:pixelated\" ";
        const char *p = mem, *q;
        while ((q = memmem(p, mlen - (size_t)(p - mem), tag, sizeof tag - 1))) {
            fwrite(p, 1, (size_t)(q - p), af.f);
            fputs(px, af.f);
            p = q + sizeof tag - 1;
        }
        fwrite(p, 1, mlen - (size_t)(p - mem), af.f);
    }
    free(mem);
    if (st != CAIRO_STATUS_SUCCESS) {
        atomic_abort(&af);
        as_errf(err, "%s: cannot write SVG: %s", path, cairo_status_to_string(st));
        free(path);
        return -1;
    }
    int rc = atomic_commit(&af, err);
    free(path);
    return rc;
}

static void draw_heatmaps_cb(cairo_t *cr, const void *ctx) { draw_heatmaps(cr, ctx); }

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* The scale of a figure: the 99.5th percentile of its values (at least 1/20
 * of the largest), so that a few saturated cells - the decoder's first row,
 * which always holds 1 - do not wash out the rest. */
static float auto_vmax(const an_panel *panels, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += panels[i].rows * panels[i].cols;
    if (!total) return 1;
    float *v = xmalloc(total * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < panels[i].rows * panels[i].cols; j++)
            v[k++] = panels[i].data[j] == panels[i].data[j] ? panels[i].data[j] : 0;
    qsort(v, total, sizeof *v, cmp_float);
    float mx = v[total - 1], p = v[(size_t)((double)(total - 1) * 0.995)];
    free(v);
    if (p < mx / 20) p = mx / 20;
    return p > 0 ? p : 1;
}

int an_fig_heatmaps(const char *base, const char *title, const an_panel *panels, size_t n,
                    size_t grid_cols, float vmax, size_t cell_px, int *w, int *h, as_err *err)
{
    if (n == 0) return as_errf(err, "%s: a figure needs at least one panel", base);
    layout L = {0};
    L.p = panels;
    L.n = n;
    L.gcols = grid_cols == 0 || grid_cols > n ? n : grid_cols;
    L.grows = (n + L.gcols - 1) / L.gcols;
    L.title = title;
    L.vmax = vmax;
    if (vmax < 0) L.vmax = -vmax, L.no_bar = 1;
    if (!(L.vmax > 0)) L.vmax = auto_vmax(panels, n);
    measure(&L, cell_px);
    if (w) *w = (int)L.W;
    if (h) *h = (int)L.H;
    return write_both(base, (int)L.W, (int)L.H, draw_heatmaps_cb, &L, err);
}

typedef struct {
    const char *title;
    const char *const *labels;
    const double *v, *e;
    size_t n;
    double ymax;
    double W, H;
    double title_h;
} bars;

static void draw_bars(cairo_t *cr, const void *ctx)
{
    const bars *B = ctx;
    draw_page(cr, B->title);
    double x0 = FIG_MARGIN + 48, y0 = FIG_MARGIN + B->title_h + 10;
    double ph = B->H - y0 - FIG_MARGIN - 40, pw = B->W - x0 - FIG_MARGIN;
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x0, y0 + ph);
    cairo_line_to(cr, x0 + pw, y0 + ph);
    cairo_stroke(cr);
    cu_font(cr, 9, 0);
    for (int i = 0; i <= 4; i++) {
        char buf[32];
        double v = B->ymax * i / 4.0, y = y0 + ph - ph * i / 4.0;
        snprintf(buf, sizeof buf, "%.3g", v);
        cairo_move_to(cr, x0 - 6 - cu_text_w(cr, buf), y + 3);
        cairo_show_text(cr, buf);
        cairo_move_to(cr, x0 - 3, y);
        cairo_line_to(cr, x0, y);
        cairo_stroke(cr);
    }
    double slot = pw / (double)B->n;
    for (size_t i = 0; i < B->n; i++) {
        double rgb[3];
        ramp_rgb(B->n > 1 ? 0.15 + 0.7 * (double)i / (double)(B->n - 1) : 0.5, rgb);
        double v = B->ymax > 0 ? B->v[i] / B->ymax : 0;
        if (v < 0) v = 0;
        if (v > 1) v = 1;
        double bx = x0 + slot * (double)i + slot * 0.2, bw = slot * 0.6;
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, bx, y0 + ph - ph * v, bw, ph * v);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        if (B->e && B->e[i] > 0 && B->ymax > 0) {
            double lo = (B->v[i] - B->e[i]) / B->ymax, hi = (B->v[i] + B->e[i]) / B->ymax;
            lo = lo < 0 ? 0 : lo > 1 ? 1 : lo;
            hi = hi < 0 ? 0 : hi > 1 ? 1 : hi;
            double cx = bx + bw / 2;
            cairo_move_to(cr, cx, y0 + ph - ph * lo);
            cairo_line_to(cr, cx, y0 + ph - ph * hi);
            cairo_move_to(cr, cx - 5, y0 + ph - ph * lo);
            cairo_line_to(cr, cx + 5, y0 + ph - ph * lo);
            cairo_move_to(cr, cx - 5, y0 + ph - ph * hi);
            cairo_line_to(cr, cx + 5, y0 + ph - ph * hi);
            cairo_stroke(cr);
        }
        char buf[32];
        snprintf(buf, sizeof buf, "%.3f", B->v[i]);
        cairo_move_to(cr, bx + bw / 2 - cu_text_w(cr, buf) / 2, y0 + ph - ph * v - 4);
        cairo_show_text(cr, buf);
        const char *lab = B->labels ? B->labels[i] : "";
        cairo_move_to(cr, bx + bw / 2 - cu_text_w(cr, lab) / 2, y0 + ph + 14);
        cairo_show_text(cr, lab);
    }
}

int an_fig_bars(const char *base, const char *title, const char *const *labels,
                const double *values, const double *err_hw, size_t n, double ymax, int *w, int *h,
                as_err *err)
{
    if (n == 0) return as_errf(err, "%s: a bar chart needs at least one bar", base);
    bars B = {title, labels, values, err_hw, n, ymax, 0, 0, FIG_TITLE_H};
    if (!(B.ymax > 0)) {
        for (size_t i = 0; i < n; i++) {
            double v = values[i] + (err_hw ? err_hw[i] : 0);
            if (v > B.ymax) B.ymax = v;
        }
        if (!(B.ymax > 0)) B.ymax = 1;
    }
    B.W = ceil(2 * FIG_MARGIN + 60 + 100.0 * (double)n);
    if (B.W < 360) B.W = 360;
    B.H = 340;
    if (title) {
        cairo_t *cr = cu_scratch();
        cu_font(cr, 14, 1);
        int lines = 1;
        double tw = ceil(title_width(cr, title, &lines) + 2 * FIG_MARGIN);
        if (B.W < tw) B.W = tw;
        B.title_h = FIG_TITLE_H + 18.0 * (lines - 1);
        B.H += 18.0 * (lines - 1);
        cairo_destroy(cr);
    }
    if (w) *w = (int)B.W;
    if (h) *h = (int)B.H;
    return write_both(base, (int)B.W, (int)B.H, draw_bars, &B, err);
}

void an_fig_cleanup(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}
