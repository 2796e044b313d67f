/* chrome.c - the frame around the views: the title, the entry box, the
 * message line (or the prompt), the solution and its check, the status
 * line the view fills, the key hints, the help overlay and the too-small
 * notice; tui_draw puts them and the current view on the screen.
 *
 * Deliberately not here: the views (view_*.c), keys (keys.c), colour pairs
 * (screen.c). */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tui_int.h"

#define MIN_W 40
#define MIN_H 12

/* Separators and marks, with ASCII stand-ins outside UTF-8. */
#define SEP(a) ((a)->utf8 ? " \xe2\x94\x82 " : " | ")

static void draw_title(tui_app *a, int w)
{
    /* Long and short forms of each piece; the first combination that fits
       wins (the program name goes first, then the long forms). */
    char model[128], view[2][160], step[96], look[2][96];
    const char *slash = strrchr(a->model_dir, '/');
    const char *mname = slash && slash[1] ? slash + 1 : a->model_dir;
    snprintf(model, sizeof model, "%.100s", mname);
    const tui_view *v = tui_views[a->view];
    if (v->title) {
        v->title(a, a->vst[a->view], view[0], view[1], sizeof view[0]);
    } else {
        const char *kind = tui_kind_name(a->kind);
        snprintf(view[0], sizeof view[0], "%s %s view", kind, v->name);
        snprintf(view[1], sizeof view[1], "%s %s", kind, v->name);
    }
    /* The value norms are marked (V switches); the weights are the
       default, which the legend names. */
    for (int i = 0; i < 2 && a->s->norms && a->view != VIEW_LENS; i++)
        snprintf(view[i] + strlen(view[i]), sizeof view[i] - strlen(view[i]), ", %s",
                 i ? "norms" : tui_session_measure(a->s));
    step[0] = '\0';
    if (a->s->have_run)
        snprintf(step, sizeof step, "step %zu/%zu%s%s", a->s->step + 1, a->s->n_gen,
                 a->playing ? " playing" : "", a->s->forced ? " forced" : "");
    size_t n_abl = an_iv_count(&a->s->iv);
    if (n_abl) snprintf(step + strlen(step), sizeof step - strlen(step), " [%zu ablated]", n_abl);
    static const char *depth[] = {"no colour", "8 colours", "256 colours", "24-bit", "auto"};
    static const char *depth_short[] = {"mono", "8", "256", "24bit", "auto"};
    snprintf(look[0], sizeof look[0], "theme %s (%s)%s", a->th.name, depth[a->mode],
             a->s->raw ? " [text]" : "");
    snprintf(look[1], sizeof look[1], "%s/%s%s", a->th.name, depth_short[a->mode],
             a->s->raw ? " [text]" : "");
    const char *sep = SEP(a);
    static const struct { int name, view, look; } tries[] = {
        {1, 0, 0}, {0, 0, 0}, {0, 1, 0}, {0, 1, 1}, {0, 1, -1},
    };
    char s[700];
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        int n = snprintf(s, sizeof s, "%s%s%s%s%s", tries[i].name ? " attnscope" : "",
                         tries[i].name ? sep : " ", model, sep, view[tries[i].view]);
        if (step[0]) n += snprintf(s + n, sizeof s - (size_t)n, "%s%s", sep, step);
        if (tries[i].look >= 0)
            snprintf(s + n, sizeof s - (size_t)n, "%s%s", sep, look[tries[i].look]);
        if (tui_utf8_cols(s, strlen(s)) <= (size_t)w) break;
    }
    tui_fill(a, 0, 0, w, ROLE_TITLE);
    tui_text(a, 0, 0, w, ROLE_TITLE, s);
}


static int draw_entry(tui_app *a, int y, int w)
{
    const char *lab = tui_entry_label(a);
    int lw = (int)strlen(lab);
    tui_text(a, y, 0, lw, a->editing ? ROLE_ENTRY_FOCUS : ROLE_LABEL, lab);
    theme_role r = a->editing ? ROLE_ENTRY_FOCUS : ROLE_ENTRY;
    tui_fill(a, y, lw, w - lw, r);
    /* Scroll the text when it is wider than the box. */
    int box = w - lw - 1;
    size_t pos_cols = tui_utf8_cols(a->input, a->input_pos);
    size_t skip = pos_cols >= (size_t)box ? pos_cols - (size_t)box + 1 : 0;
    const char *s = a->input;
    for (size_t i = 0; i < skip && *s; s++)
        if (((unsigned char)s[1] & 0xC0) != 0x80) i++;
    tui_text(a, y, lw, box, r, s);
    return lw + (int)(pos_cols - skip);
}

/* The prompt's label: what Enter will do with the text. */
static void draw_message(tui_app *a, int y, int w)
{
    tui_fill(a, y, 0, w, ROLE_NORMAL);
    if (!a->s->msg[0]) return;
    int x = 0;
    int lw = (int)strlen(tui_entry_label(a));
    if (a->s->msg_error && a->s->err_col > 0 && lw + (int)a->s->err_col - 1 + 2 < w) {
        x = lw + (int)a->s->err_col - 1;
        tui_text(a, y, x, 1, ROLE_ERROR, "^");
        x += 2;
        /* A long message that does not fit after the caret starts at the left. */
        if (x + (int)strlen(a->s->msg) > w && (int)strlen(a->s->msg) < x - 1) x = 0;
    }
    tui_text(a, y, x, w - x, a->s->msg_error ? ROLE_ERROR : ROLE_HINT, a->s->msg);
}

/* The solution, wrapped over up to max_lines lines. Returns lines used. */
static int draw_solution(tui_app *a, int y, int w, int max_lines)
{
    const char *lab = a->s->forced ? "target> " : a->s->raw ? "output> " : "solution> ";
    int lw = (int)strlen(lab);
    for (int i = 0; i < max_lines; i++) tui_fill(a, y + i, 0, w, ROLE_NORMAL);
    tui_text(a, y, 0, lw, ROLE_LABEL, lab);
    if (!a->s->have_run) return 1;
    int avail = w - lw;
    if (avail < 4) return 1;
    size_t len = strlen(a->s->output);
    size_t s0 = a->s->n_gen ? a->s->gen_off[a->s->step] : 0, s1 = a->s->n_gen ? a->s->gen_off[a->s->step + 1] : 0;
    int line = 0, col = 0;
    for (size_t i = 0; i < len && line < max_lines; i++) {
        theme_role r = i >= s1 ? ROLE_PENDING : ROLE_SOLUTION;
        if (i >= s0 && i < s1) r = ROLE_STEP;
        else if (a->s->first_wrong >= 0 && (long)i == a->s->first_wrong && i < s1) r = ROLE_WRONG;
        char ch[2] = {a->s->output[i], 0};
        if ((unsigned char)ch[0] < 32 || (unsigned char)ch[0] > 126) ch[0] = '.';
        tui_text(a, y + line, lw + col, 1, r, ch);
        if (++col >= avail) col = 0, line++;
    }
    /* The step on a token that is no character (eos): a marker after the text. */
    if (a->s->n_gen && s0 == s1 && line < max_lines) tui_text(a, y + line, lw + col, 1, ROLE_STEP, "$");
    int used = line + (col > 0 || line == 0 ? 1 : 0);
    return used > max_lines ? max_lines : used;
}

static void draw_check(tui_app *a, int y, int w)
{
    tui_fill(a, y, 0, w, ROLE_NORMAL);
    tui_text(a, y, 0, 7, ROLE_LABEL, "check> ");
    if (!a->s->have_run) return;
    if (a->stale) { /* the entry was rejected: what is below is the old input's */
        char s[TUI_INPUT_MAX + 96];
        snprintf(s, sizeof s, "stale: the solution and maps below are of %s (the entry was not "
                 "decoded)", a->s->shown);
        tui_text(a, y, 7, w - 7, ROLE_WRONG, s);
        return;
    }
    if (a->s->forced) {
        tui_text(a, y, 7, w - 7, ROLE_HINT,
                 "teacher forced: each row is fed the target so far and predicts its next "
                 "token (T changes the target)");
        return;
    }
    if (!a->s->quad_ok) {
        tui_text(a, y, 7, w - 7, ROLE_HINT, "raw text: nothing to check against");
        return;
    }
    char s[768];
    tui_check_kind k = tui_check_text(&a->s->sol, a->s->output, a->utf8, s, sizeof s);
    tui_text(a, y, 7, w - 7, k == TUI_CHECK_RIGHT ? ROLE_RIGHT : k == TUI_CHECK_WRONG ? ROLE_WRONG
                                                                                    : ROLE_HINT,
             s);
}

/* The key hints of the footer, most useful first; only whole hints are
 * drawn, as many as the width holds ("? help" always comes first). */
static void draw_hints(tui_app *a, int y, int w)
{
    static const char *editing[] = {"Enter decode", "Esc back", "Ctrl-U clear",
                                    "Ctrl-R raw text", "arrows move", NULL};
    static const char *prompt[] = {"Enter accept", "Esc cancel", "Ctrl-U clear", NULL};
    /* Stepping comes before the rest: at 80 columns it is still there. */
    static const char *browsing[] = {"? help",    "q quit",     "e edit",    "arrows move",
                                     ",/. step",  "l/L layer", "h/H head",   "1 2 3 kind",
                                     "a avg",     "m model",   "s summary",  "space play",
                                     "x ablate",  "/ find",     "z/Z zoom",  "t theme",
                                     "V norms",   "u lens",    NULL};
    const char **items = a->editing ? editing : a->prompt ? prompt : browsing;
    char s[512];
    size_t len = 0;
    for (int i = 0; items[i]; i++) {
        size_t n = strlen(items[i]) + (len ? 2 : 1);
        if (len + n > (size_t)w || len + n >= sizeof s) break;
        len += (size_t)snprintf(s + len, sizeof s - len, "%s%s", len ? "  " : " ", items[i]);
    }
    s[len] = 0;
    tui_fill(a, y, 0, w, ROLE_NORMAL);
    tui_text(a, y, 0, w, ROLE_HINT, s);
}

/* The key column (the first 14 columns after the indent) lists every key
   of the man page's Keys section, and only those (tests/cli/man.sh). */
static const char *help_lines[] = {
    "attnscope keys",
    "  e Enter Tab   edit the equation: Enter decodes, Esc leaves,",
    "  Ctrl-R        while editing: decode it as raw text (Ctrl-U clears)",
    "  arrows        move the cursor",
    "  PgUp PgDn     a page up / down",
    "  Home End      the first / last key of the row",
    "  l L   h H     next / previous layer;  next / previous head",
    "  a             the mean over heads (on/off)",
    "  1 2 3   k     encoder self / decoder self / cross;  next kind",
    "  v  m  s       one map / model view (every layer x head, Enter",
    "                zooms) / summary (attention each token receives)",
    "  , . < > g G   decoding step back / forward;  first / last step",
    "  space  p      play / pause the decoding",
    "  x   X         ablate (zero) this head and decode again;  none",
    "  z Z - +  f M  zoom out/in;  fit/one token (by axis);  max/mean",
    "  /   n N       find a token by its text (Tab: key / query axis);",
    "                next / previous match",
    "  T   O         teacher-forced target text;  output length limit",
    "  c   w         colours to the map's maximum;  token view (on/off)",
    "  V   u         weights / value norms ||a W_O v|| in every map;  lens",
    "  b   r   t     half blocks on/off;  raw text mode;  next theme",
    "  Ctrl-L ? F1 q redraw;  this help;  quit",
    "$ is the end-of-sequence token; layers and heads count from 0",
    "any key closes this help",
};

/* The help box: a blank row above and below the lines when they fit, none
 * when they do not (80x24 shows every line), and on a shorter terminal as
 * many lines as fit with the last one saying where the rest are. */
static void draw_help(tui_app *a, int h, int w)
{
    int n = (int)(sizeof help_lines / sizeof help_lines[0]);
    int pad = n + 2 <= h, bw = 70 < w - 2 ? 70 : w - 2;
    int bh = n + 2 * pad < h ? n + 2 * pad : h, rows = bh - 2 * pad;
    int y0 = (h - bh) / 2, x0 = (w - bw) / 2;
    for (int i = 0; i < bh; i++) tui_fill(a, y0 + i, x0, bw, ROLE_HELP);
    for (int i = 0; i < rows; i++) {
        const char *line = help_lines[i];
        if (rows < n && i == rows - 1) line = "... the rest: man attnscope; any key closes";
        tui_text(a, y0 + pad + i, x0 + 2, bw - 4, i == 0 ? ROLE_TITLE : ROLE_HELP, line);
    }
}

/* The colour scale: "0 <ramp> max", what a cell is, and which decoder rows
 * are after the step (left blank). The ramp's cells are painted as the
 * map's are, so every theme and colour depth shows its own scale. */
static void draw_legend(tui_app *a, int y, int w)
{
    const tui_legend *l = &a->legend;
    tui_fill(a, y, 0, w, ROLE_NORMAL);
    char hi[32];
    snprintf(hi, sizeof hi, "%.3g%s", l->vmax, l->scaled ? " (max)" : "");
    int x = tui_text(a, y, 1, w - 1, ROLE_HINT, "0 ") + 1;
    enum { STEPS = 10 };
    grid_area g = {.cell_w = 1};
    for (int i = 0; i < STEPS && x < w; i++, x++) {
        grid_cell c = {.top = tui_quant(a, (float)i / (STEPS - 1))};
        grid_paint p;
        grid_paint_cell(&c, &g, &a->th, a->mode, &p);
        tui_put_paint(a, y, x, &p);
    }
    char s[256];
    int n = snprintf(s, sizeof s, " %s  %s", hi, l->cell);
    if (l->after_row >= 0 && n < (int)sizeof s)
        snprintf(s + n, sizeof s - (size_t)n, "  rows from %ld: after the step (blank)",
                 l->after_row);
    if (x < w) tui_text(a, y, x, w - x, ROLE_HINT, s);
}

/* The too-small notice: short lines, so that even a 20-column terminal
   shows them whole. */
static void draw_too_small(tui_app *a, int H, int W)
{
    a->too_small = 1;
    char s[128];
    int y0 = H >= 3 ? H / 2 - 1 : 0;
    snprintf(s, sizeof s, "too small: %dx%d", W, H);
    tui_text(a, y0, 0, W, ROLE_ERROR, s);
    snprintf(s, sizeof s, "needs %dx%d", MIN_W, MIN_H);
    if (y0 + 1 < H) tui_text(a, y0 + 1, 0, W, ROLE_NORMAL, s);
    if (y0 + 2 < H) tui_text(a, y0 + 2, 0, W, ROLE_HINT, "q quits");
    curs_set(0);
    wnoutrefresh(stdscr);
}

void tui_draw(tui_app *a)
{
    int H = LINES, W = COLS;
    tui_paint_background(a);
    tui_role(a, ROLE_NORMAL);
    erase();
    if (W < MIN_W || H < MIN_H) {
        draw_too_small(a, H, W);
        return;
    }
    a->too_small = 0;
    /* Stacks differ in depth (2 encoder, 3 decoder layers...): clamp first,
       so the title and the view agree. */
    size_t nl = tui_n_layers(a, a->kind);
    if (a->layer >= nl) a->layer = nl ? nl - 1 : 0;
    draw_title(a, W);
    int cx = draw_entry(a, 1, W);
    int px = -1;
    if (a->prompt) px = tui_prompt_draw(a, 2, W);
    else draw_message(a, 2, W);
    int sol_max = W < 100 ? 3 : 2;
    int used = draw_solution(a, 3, W, sol_max);
    int y = 3 + used;
    draw_check(a, y++, W);
    int status_y = y++;
    int view_h = H - 2 - y; /* the legend takes the view's last line */
    a->status[0] = '\0';
    memset(&a->legend, 0, sizeof a->legend);
    a->more_work = 0; /* a view sets it again when it left work for idle frames */
    a->view_y = y, a->view_x = 0, a->view_h = view_h, a->view_w = W;
    if (a->s->have_run && view_h > 1) tui_views[a->view]->draw(a, a->vst[a->view], y, 0, view_h, W);
    else if (!a->s->have_run)
        snprintf(a->status, sizeof a->status, " type an equation and press Enter");
    tui_fill(a, status_y, 0, W, ROLE_STATUS);
    tui_text(a, status_y, 0, W, ROLE_STATUS, a->status);
    if (a->legend.shown && view_h > 1) draw_legend(a, H - 2, W);
    draw_hints(a, H - 1, W);
    if (a->help) draw_help(a, H, W);
    if (a->prompt && !a->help) {
        curs_set(1);
        move(2, px < W ? px : W - 1);
    } else if (a->editing && !a->help) {
        curs_set(1);
        move(1, cx < W ? cx : W - 1);
    } else {
        curs_set(0);
    }
    wnoutrefresh(stdscr);
}

