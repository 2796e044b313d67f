/* screen.c - the UI's thin layer over ncurses: choosing the colour depth,
 * turning roles and painted cells into colour pairs (ncurses' alloc_pair,
 * so 256-colour and 24-bit terminals both work), and writing clipped UTF-8
 * text.
 *
 * Deliberately not here: what goes where (views.c, layout.c). */
#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>

#include "tui_int.h"

static int has_rgb_cap(void)
{
    int f = tigetflag("RGB");
    if (f > 0) return 1;
    int n = tigetnum("RGB");
    return n > 0;
}

void tui_colors_init(tui_app *a)
{
    int n_colors = -1;
    if (has_colors()) {
        start_color();
        use_default_colors();
        n_colors = COLORS;
    }
    theme_color_mode m = theme_detect_mode(getenv("NO_COLOR"), getenv("COLORTERM"), n_colors,
                                           has_rgb_cap(), a->want_mode);
    /* ncurses draws 24-bit colour only through a direct-colour terminfo
       entry (tui_run switches to one when COLORTERM asks for it). */
    if (m == THEME_COLOR_DIRECT && COLORS < (1 << 24)) m = THEME_COLOR_256;
    if (m == THEME_COLOR_256 && COLORS < 256) m = THEME_COLOR_8;
    if (a->th.mono) m = THEME_COLOR_NONE;
    a->mode = m;
    /* Colour pairs are finite: cap the number of ramp levels so that the
       half-block pairs (levels^2) plus the roles stay well inside them. */
    int pairs = COLOR_PAIRS;
    a->levels = pairs >= 8192 ? 48 : pairs >= 2048 ? 24 : pairs >= 512 ? 16 : 8;
    if (m == THEME_COLOR_DIRECT || m == THEME_COLOR_256) reset_color_pairs();
}

static int cnum(const tui_app *a, theme_color c)
{
    if (c == THEME_DEFAULT) return -1;
    switch (a->mode) {
    case THEME_COLOR_DIRECT:
        /* xterm-direct sends 0..7 as the ANSI colours: keep true black. */
        return c < 8 ? 8 : c;
    case THEME_COLOR_256: return theme_to_256(c);
    case THEME_COLOR_8: return theme_to_8(c);
    default: return -1;
    }
}

static attr_t attrs_of(unsigned bits)
{
    attr_t at = A_NORMAL;
    if (bits & THEME_BOLD) at |= A_BOLD;
    if (bits & THEME_REVERSE) at |= A_REVERSE;
    if (bits & THEME_UNDERLINE) at |= A_UNDERLINE;
    if (bits & THEME_DIM) at |= A_DIM;
    return at;
}

/* The pair for fg on bg. "default" means the theme's normal colour, and only
   where that is unset too the terminal's own: a light theme paints its own
   background, so its dark text stays readable on a dark terminal. */
static int pair_of(const tui_app *a, theme_color fg, theme_color bg)
{
    if (a->mode == THEME_COLOR_NONE) return 0;
    if (fg == THEME_DEFAULT) fg = a->th.style[ROLE_NORMAL].fg;
    if (bg == THEME_DEFAULT) bg = a->th.style[ROLE_NORMAL].bg; /* as theme_role_colors */
    int fc = cnum(a, fg), bc = cnum(a, bg);
    if (fc < 0 && bc < 0) return 0;
    int pair = alloc_pair(fc, bc);
    return pair < 0 ? 0 : pair;
}

static void set_colors(const tui_app *a, theme_color fg, theme_color bg, unsigned bits)
{
    int pair = pair_of(a, fg, bg);
    attr_set(attrs_of(bits), 0, &pair);
}

void tui_paint_background(const tui_app *a)
{
    int pair = pair_of(a, THEME_DEFAULT, THEME_DEFAULT);
    cchar_t blank;
    setcchar(&blank, L" ", A_NORMAL, 0, &pair);
    bkgrndset(&blank);
}

void tui_role(const tui_app *a, theme_role r)
{
    const theme_style *s = &a->th.style[r];
    if (a->mode == THEME_COLOR_NONE) set_colors(a, THEME_DEFAULT, THEME_DEFAULT, s->mono);
    else set_colors(a, s->fg, s->bg, s->attr);
}

void tui_put_paint(const tui_app *a, int y, int x, const grid_paint *p)
{
    set_colors(a, p->fg, p->bg, p->attr);
    mvaddstr(y, x, p->text);
}

float tui_quant(const tui_app *a, float v)
{
    int l = a->levels > 1 ? a->levels : 2;
    return (float)((int)(v * (float)(l - 1) + 0.5f)) / (float)(l - 1);
}

size_t tui_utf8_cols(const char *s, size_t n)
{
    size_t cols = 0;
    for (size_t i = 0; i < n && s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) cols++;
    return cols;
}

int tui_text(const tui_app *a, int y, int x, int w, theme_role r, const char *s)
{
    if (w <= 0) return 0;
    tui_role(a, r);
    /* Outside UTF-8 only ASCII reaches the terminal. */
    char ascii[1024];
    if (!a->utf8) s = tui_ascii(s, ascii, sizeof ascii);
    size_t bytes = 0;
    int cols = 0;
    while (s[bytes] && cols < w) {
        size_t len = 1;
        unsigned char c = (unsigned char)s[bytes];
        if (c >= 0xC0) while ((s[bytes + len] & 0xC0) == 0x80) len++;
        bytes += len;
        cols++;
    }
    mvaddnstr(y, x, s, (int)bytes);
    return cols;
}

void tui_fill(const tui_app *a, int y, int x, int w, theme_role r)
{
    if (w <= 0) return;
    tui_role(a, r);
    mvhline(y, x, ' ', w);
}
