/* cairo_util.c - the cairo pieces shared by the report's figures
 * (src/analysis/figure.c) and render's figures (figure_out.c): font, text
 * width, stream writing, frames, token labels and the colour bar's scale.
 *
 * Deliberately not here: any layout or colour ramp (see cairo_util.h). */
#include <cairo-svg.h>
#include <math.h>

#include "cairo_util.h"

#define CU_FONT "DejaVu Sans"
#define CU_BAR_W 14.0

void cu_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, CU_FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double cu_text_w(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

cairo_t *cu_scratch(void)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
    cairo_t *cr = cairo_create(s);
    cairo_surface_destroy(s); /* the context holds its own reference */
    return cr;
}

cairo_status_t cu_write_stream(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, (FILE *)closure) == len ? CAIRO_STATUS_SUCCESS
                                                         : CAIRO_STATUS_WRITE_ERROR;
}

cairo_surface_t *cu_svg_surface(FILE *f, double W, double H)
{
    cairo_surface_t *s = cairo_svg_surface_create_for_stream(cu_write_stream, f, W, H);
    cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_USER);
    return s;
}

void cu_outline(cairo_t *cr, double grey, double x, double y, double w, double h)
{
    cairo_set_source_rgb(cr, grey, grey, grey);
    cairo_set_line_width(cr, 0.5);
    cairo_rectangle(cr, x, y, w, h);
    cairo_stroke(cr);
}

void cu_row_label(cairo_t *cr, const char *s, double mx, double my, size_t r, double cs,
                  double fs)
{
    cairo_move_to(cr, mx - 3 - cu_text_w(cr, s), my + ((double)r + 0.5) * cs + fs * 0.35);
    cairo_show_text(cr, s);
}

void cu_col_label(cairo_t *cr, const char *s, double mx, double my, size_t c, double cs,
                  double fs)
{
    cairo_save(cr);
    cairo_move_to(cr, mx + ((double)c + 0.5) * cs + fs * 0.35, my - 3);
    cairo_rotate(cr, -M_PI / 2);
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

void cu_bar_scale(cairo_t *cr, double bx, double by, double bh, double vmax, int ticks)
{
    cu_outline(cr, 0, bx, by, CU_BAR_W, bh);
    cu_font(cr, 9, 0);
    for (int i = 0; i <= ticks; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.3g", vmax * (ticks - i) / (double)ticks);
        cairo_move_to(cr, bx + CU_BAR_W + 4, by + bh * i / (double)ticks + 3);
        cairo_show_text(cr, buf);
    }
}
