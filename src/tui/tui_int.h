/* tui_int.h - what the files of src/tui share and nobody else sees: the
 * application state (the session, the looks, the entry box, what is
 * selected), the view interface, and the helpers each layer offers.
 *
 * The files call downwards only, never back into a caller:
 *
 *   loop.c        the one loop, terminal setup, --bench-ui
 *   keys.c        a key: the help closes, then the prompt, the entry, the
 *                 view, then the keys every view shares
 *   chrome.c      the frame: title, entry, message, solution, check, status,
 *                 hints, help; the current view draws in between
 *   view_map.c view_model.c view_summary.c   one file per view, each with
 *                 its own state (views.c lists them)
 *   view_common.c grids of cells with labels, cursor moves, cache keys
 *   prompt.c      the prompt and search;  edit.c  the entry's line editor
 *   app.c         the state: setup, themes, submit/rerun, step, notes
 *   screen.c      colours by role, clipped text (ncurses)
 *   session.c     the run, no curses (tui_session.h);  check.c  the check line
 *
 *   loop -> keys, chrome, app;  keys -> views, prompt, edit, app;
 *   chrome -> views, prompt, check;  views -> view_common, app;
 *   prompt -> edit, app;  app -> screen, session;  the grid (grid.h) below.
 *
 * A new view is one file with a tui_view and a line in views.c. */
#ifndef ATTNSCOPE_TUI_INT_H
#define ATTNSCOPE_TUI_INT_H

#include <stddef.h>

#include "grid.h"
#include "theme.h"
#include "tui.h"
#include "tui_session.h"

/* Keys: characters are their code point; function keys (KEY_UP...) carry
 * TUI_FKEY so they never collide with a character. */
#define TUI_FKEY 0x40000000
#define TUI_ESC 27
#define TUI_CTRL(c) ((c) & 0x1f)

/* What a key handler asks the loop to do. */
typedef enum { TUI_IGNORED = 0, TUI_HANDLED, TUI_REDRAW, TUI_QUIT } tui_action;

typedef enum { VIEW_MAP = 0, VIEW_MODEL, VIEW_SUMMARY, VIEW_LENS, VIEW_N } tui_view_id;

/* A one-line prompt on the message line (search, target, output length). */
typedef enum { PROMPT_NONE = 0, PROMPT_SEARCH, PROMPT_TARGET, PROMPT_MAXLEN } tui_prompt_id;

#define TUI_ZOOM_MAX 64 /* tokens per cell and axis, zoomed out the most */
#define TUI_MAX_THEMES 32
#define TUI_MAX_SCALE 8 /* largest cell: 8 columns by 8 half lines */

typedef struct tui_app tui_app;

/* The legend under a view, which its draw fills: the ramp runs from 0 to
 * vmax (scaled: vmax is the shown map's maximum, not 1), what one cell is,
 * and the first decoder row after the step (-1: none is hidden). */
typedef struct {
    int shown;                   /* 0: no legend this frame */
    double vmax;
    int scaled;
    char cell[160];              /* "cell: one attention weight" ... */
    long after_row;
} tui_legend;

/* A mouse event in a view: the point relative to the view's area, and the
   button: 1 a click (press), 4 the wheel up, 5 the wheel down. */
typedef struct {
    int y, x, button;
} tui_mouse;

/* One view (htop/ncdu model). Its state (caches, scroll) is its own: open
 * makes it (never NULL), close frees it. draw paints the area (y, x, h, w)
 * and sets a->status; key handles a key (TUI_IGNORED passes it on to the
 * shared keys). title, when not NULL, writes the title's view part in a
 * long and a short form (else "<kind> <name> view"). mouse, when not NULL,
 * handles a click or the wheel in the view's area. */
typedef struct {
    const char *name;
    void *(*open)(tui_app *a);
    void (*close)(void *st);
    void (*draw)(tui_app *a, void *st, int y, int x, int h, int w);
    tui_action (*key)(tui_app *a, void *st, int key);
    void (*title)(const tui_app *a, const void *st, char *lng, char *shrt, size_t cap);
    tui_action (*mouse)(tui_app *a, void *st, const tui_mouse *m);
} tui_view;

extern const tui_view tui_view_map, tui_view_model, tui_view_summary, tui_view_lens;
/* Every view, by id (views.c). */
extern const tui_view *const tui_views[VIEW_N];

struct tui_app {
    tui_session *s;              /* the run; its msg is the message line */
    const char *model_dir;

    /* looks */
    theme th;
    theme_settings set;
    theme_color_mode want_mode; /* from --color / config */
    theme_color_mode mode;      /* what is used */
    int utf8;
    int half_ok;                /* half blocks allowed (UTF-8, setting, not --ascii) */
    int levels;                 /* colour levels of the heat ramp (pair budget) */
    char themes[TUI_MAX_THEMES][64];
    size_t n_themes;
    const char *theme_dirs[3];
    char user_cfg[512], sys_cfg[512], user_themes[512], data_themes[4096];

    /* the entry box */
    char input[TUI_INPUT_MAX];
    size_t input_len, input_pos; /* bytes */
    int editing;
    int stale;                   /* the last entry was rejected: the maps are an older input's */
    char cfg_msg[512];           /* a configuration problem, shown after the first decode */

    /* what is selected, shared by the views */
    tui_view_id view;
    t5_attn_kind kind;
    size_t layer, head;
    int avg;                     /* mean over heads */
    int playing;
    size_t cur_r[3], cur_c[3];   /* cursor per kind */
    size_t sum_r, sum_c;         /* summary cursor (layer, key) */
    int normalize;               /* scale maps to their maximum */
    int tokens;                  /* the token view above the map (w) */
    int pool_mean;               /* zoomed cells: 0 max pooling, 1 mean */
    void *vst[VIEW_N];           /* each view's own state */
    int view_y, view_x, view_h, view_w; /* where the view was drawn last */
    int mouse;                   /* mouse events are on */

    /* the frame */
    int help;
    int too_small;
    int more_work;               /* the last frame left work for idle frames (classes) */
    int idle;                    /* this frame is an idle one: do that work */
    char status[512];            /* the cursor line, set by the view's draw */
    tui_legend legend;           /* the colour scale line, set by the view's draw */

    /* the prompt and the last search */
    tui_prompt_id prompt;
    char pbuf[TUI_INPUT_MAX];
    size_t plen;
    char search[TUI_INPUT_MAX];
    int search_rows;             /* 1: the query axis (rows), 0: the key axis */
    int prompt_rows;
};

/* ---- app.c: the state -------------------------------------------------- */

/* Set up a (zeroed by the call) for a model; takes tok. cfg problems go to
 * a->cfg_msg. */
void tui_app_init(tui_app *a, const tui_options *o, const t5_model *m, tok_vocab *tok);
void tui_app_free(tui_app *a);
/* Decode the entry box (Enter). Errors go to the message line and keep the
 * old maps. Returns 0 when the maps changed. */
int tui_submit(tui_app *a, int force_raw);
/* Decode the input of the maps on screen again (or the entry, without a run). */
void tui_rerun(tui_app *a);
void tui_toggle_ablation(tui_app *a, t5_attn_kind kind, size_t layer, size_t head);
void tui_clear_ablation(tui_app *a);
/* Switch every map between the attention weights and the value-weighted
 * maps (V), decoding again when they are not captured yet. */
void tui_toggle_norms(tui_app *a);
/* What one map cell is, for legends and status lines: "weight" or
 * "value-norm share". */
const char *tui_cell_measure(const tui_app *a);
/* Show decoding step `step` (clamped): decoder cursors follow it. */
void tui_set_step(tui_app *a, size_t step);
/* A note on the message line (error 1: as an error). */
void tui_note(tui_app *a, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Switch to the next theme found (themes/ and the user's folder). */
void tui_cycle_theme(tui_app *a);
/* Layers of a kind in the current model. */
size_t tui_n_layers(const tui_app *a, t5_attn_kind kind);

/* ---- screen.c ----------------------------------------------------------- */

/* Set up colour for the current terminal and theme: pick the mode, the ramp
 * levels. Call after initscr and after every theme change. */
void tui_colors_init(tui_app *a);
/* Apply role r (colours or mono attributes) to stdscr. */
void tui_role(const tui_app *a, theme_role r);
/* The window's blank: the theme's normal colours (erase() fills with it). */
void tui_paint_background(const tui_app *a);
/* Draw a painted cell at (y, x). */
void tui_put_paint(const tui_app *a, int y, int x, const grid_paint *p);
/* Quantise a weight to the ramp levels in use. */
float tui_quant(const tui_app *a, float v);
/* Write at most w columns of UTF-8 text at (y, x) in role r (one column
 * per character). Returns the columns written. */
int tui_text(const tui_app *a, int y, int x, int w, theme_role r, const char *s);
/* Fill w columns at (y, x) with spaces in role r. */
void tui_fill(const tui_app *a, int y, int x, int w, theme_role r);
/* Columns (characters) of a UTF-8 string / of its first n bytes. */
size_t tui_utf8_cols(const char *s, size_t n);

/* ---- view_common.c: what the views share -------------------------------- */

/* What a cached buffer was computed from: a run (serial), a kind, a
   layer/head (n_heads: the mean), zoom, pooling, live rows, a size. */
typedef struct {
    unsigned long serial;
    int kind, mean, valid;
    size_t layer, head, zoom, live, a, b;
} tui_cache_key;

int tui_cache_eq(const tui_cache_key *x, const tui_cache_key *y);
/* Half blocks in use (allowed, UTF-8, 256 colours or more). */
int tui_use_half(const tui_app *a);
/* The head index of the selection: a->head, or n_heads for the mean. */
size_t tui_head_index(const tui_app *a);
/* The largest weight of the first rows of a map, at least a tiny value. */
double tui_map_max(const float *map, size_t rows, size_t cols, size_t stride);
/* Column labels of a grid at line y (tokens: one per map column). */
void tui_draw_col_labels(const tui_app *a, const grid_area *g, int y, int x, const int *tokens,
                         size_t cur_col, const char *corner);
/* The cells and row labels of a grid (labels from row tokens or names);
 * step_row (or -1) gets the decoding step's marker. */
void tui_draw_grid(tui_app *a, const grid_area *g, int y, int x, const float *map, size_t stride,
                   size_t n_live, double vmax, size_t cr, size_t cc, const int *row_tokens,
                   const char *const *row_names, long step_row);
/* The text of tokens [i0, i1) (control characters as '.'), at most cap-1
 * bytes, never ending inside a UTF-8 character. */
void tui_range_text(const tui_app *a, const int *tokens, size_t i0, size_t i1, char *out,
                    size_t cap);
/* Move a cursor (r, c) in a rows x cols area by an arrow / page / Home /
 * End key; returns 1 when the key was one of those. */
int tui_move_cursor(size_t *r, size_t *c, size_t rows, size_t cols, size_t page, int key);

/* ---- view_tokens.c: the token view --------------------------------------- */

/* The source and the output as text on lines y and y + 1, each token shaded
 * by the attention query q gives it in (layer, head) (head == n_heads: the
 * mean): cross (encoder self for an encoder query) on the source, decoder
 * self on the output. Returns the lines used (2, or 0 without a run). */
int tui_draw_tokens(tui_app *a, int y, int x, int w, t5_attn_kind kind, size_t layer,
                    size_t head, size_t q);

/* ---- edit.c / prompt.c / chrome.c / keys.c ------------------------------ */

/* Append code point cp as UTF-8 to out at *n. */
void tui_utf8_put(char *out, int cp, size_t *n);
/* A key while the entry box has the focus. */
tui_action tui_edit_key(tui_app *a, int key);
/* Open a prompt with text; a key while it is open; draw it on line y
 * (returns the cursor's column). */
void tui_prompt_open(tui_app *a, tui_prompt_id id, const char *text);
tui_action tui_prompt_key(tui_app *a, int key);
int tui_prompt_draw(tui_app *a, int y, int w);
/* Move to the next (dir 1) or previous (-1) match of a->search. */
void tui_search_find(tui_app *a, int dir);
/* The label of the entry box ("equation> " or "text> "). */
const char *tui_entry_label(const tui_app *a);
/* The whole screen: title, entry, message, solution, status, view, hints,
 * and the help overlay or the too-small notice. */
void tui_draw(tui_app *a);
/* One key: the help closes, then the prompt, the entry, the view and the
 * keys every view shares. */
tui_action tui_handle_key(tui_app *a, int key);

#endif
