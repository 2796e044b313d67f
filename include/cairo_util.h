/* cairo_util.h - the small cairo pieces both figure writers share: the
 * report's PNG/SVG pairs (src/analysis/figure.c) and render's SVG/PNG/PDF
 * streams (src/render/figure_out.c). One font, one way to measure and write,
 * the same panel frame, token labels and colour-bar scale.
 *
 * Deliberately not here: layouts, colour ramps and what a figure shows;
 * each writer keeps its own (the report's fixed viridis, render's theme). */
#ifndef ATTNSCOPE_CAIRO_UTIL_H
#define ATTNSCOPE_CAIRO_UTIL_H

#include <cairo.h>
#include <stddef.h>
#include <stdio.h>

/* Select the figures' font (DejaVu Sans) at size points, bold if bold. */
void cu_font(cairo_t *cr, double size, int bold);

/* The advance width of s (UTF-8, not NULL) in cr's current font. */
double cu_text_w(cairo_t *cr, const char *s);

/* A context on a 1x1 image for measuring text before the figure's size is
 * known. Release it with cairo_destroy (which also frees its surface). */
cairo_t *cu_scratch(void);

/* cairo's write callback onto a stdio stream: closure is the FILE * (not
 * NULL); a short write is CAIRO_STATUS_WRITE_ERROR. */
cairo_status_t cu_write_stream(void *closure, const unsigned char *data, unsigned int len);

/* An SVG surface of W x H user units writing to f through cu_write_stream.
 * The caller finishes and destroys it; f must stay open until then. */
cairo_surface_t *cu_svg_surface(FILE *f, double W, double H);

/* A thin (0.5) outline of the rectangle in the grey level grey (0 black). */
void cu_outline(cairo_t *cr, double grey, double x, double y, double w, double h);

/* The label of row r of a map whose cells (size cs) start at mx, my: right
 * aligned against the map, in the current font (size fs) and colour. */
void cu_row_label(cairo_t *cr, const char *s, double mx, double my, size_t r, double cs,
                  double fs);

/* The label of column c, rotated to read upwards above the map. */
void cu_col_label(cairo_t *cr, const char *s, double mx, double my, size_t c, double cs,
                  double fs);

/* The frame and scale of a colour bar 14 wide at bx, by, bh high whose fill
 * the caller drew (0 at the bottom, vmax at the top): a black outline and
 * ticks + 1 values ("%.3g") from vmax down to 0, to its right. ticks > 0. */
void cu_bar_scale(cairo_t *cr, double bx, double by, double bh, double vmax, int ticks);

#endif
