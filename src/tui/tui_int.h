/* tui_int.h - what the files of src/tui share and nobody else sees: the
 * application state, the view interface, and the screen helpers (colours
 * by role, painted cells) that wrap ncurses.
 *
 * Deliberately not here: the pure layout (tui.h), themes (theme.h). */
#ifndef ATTNSCOPE_TUI_INT_H
#define ATTNSCOPE_TUI_INT_H

#include <stddef.h>

#include "analysis.h"
#include "quad.h"
#include "theme.h"
#include "tokenizer.h"
#include "trace.h"
#include "tui.h"

/* Keys: characters are their code point; function keys (KEY_UP...) carry
 * TUI_FKEY so they never collide with a character. */
#define TUI_FKEY 0x40000000
#define TUI_ESC 27
#define TUI_CTRL(c) ((c) & 0x1f)

/* What a key handler asks the loop to do. */
typedef enum { TUI_IGNORED = 0, TUI_HANDLED, TUI_REDRAW, TUI_QUIT } tui_action;

typedef enum { VIEW_MAP = 0, VIEW_MODEL, VIEW_SUMMARY, VIEW_N } tui_view_id;

/* A one-line prompt on the message line (search, target, output length). */
typedef enum { PROMPT_NONE = 0, PROMPT_SEARCH, PROMPT_TARGET, PROMPT_MAXLEN } tui_prompt_id;

/* What a cached buffer was computed from: a run (serial), a kind, a
   layer/head (n_heads: the mean), zoom, pooling, live rows, a size. */
typedef struct {
    unsigned long serial;
    int kind, mean, valid;
    size_t layer, head, zoom, live, a, b;
} tui_cache_key;

typedef struct tui_app tui_app;

/* One view (htop/ncdu model): draw into the map area; handle a key. */
typedef struct {
    const char *name;
    void (*draw)(tui_app *a, int y, int x, int h, int w);
    tui_action (*key)(tui_app *a, int key);
} tui_view;

extern const tui_view tui_views[VIEW_N];

#define TUI_INPUT_MAX 4096  /* bytes of the entry box, a target, a prompt */
#define TUI_MAX_SRC 512     /* source tokens (eos included) */
#define TUI_MAX_GEN 512     /* decoder positions: the start token + output tokens */
#define TUI_DEFAULT_RAW_GEN 255 /* greedy output tokens of raw text unless --max-len / O */
#define TUI_ZOOM_MAX 64     /* tokens per cell and axis, zoomed out the most */
#define TUI_MAX_THEMES 32

struct tui_app {
    const t5_model *m;
    tok_vocab *tok;              /* the folder's vocabulary (ByT5 bytes or SentencePiece) */
    int spm;                     /* 1: SentencePiece (labels are pieces, raw text only) */
    const char *model_dir;
    t5_run *run;
    attn_trace *tr;

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
    char user_cfg[512], sys_cfg[512], user_themes[512];

    /* the entry box */
    char input[TUI_INPUT_MAX];
    size_t input_len, input_pos; /* bytes */
    int editing;
    char msg[512];               /* under the entry box */
    char cfg_msg[512];           /* a configuration problem, shown after the first decode */
    int msg_error;
    size_t err_col;              /* 1-based column of a parse error, 0 none */

    /* the current run (what the maps show) */
    int raw;                     /* any text, no parser, no right/wrong */
    int have_run;
    char shown[TUI_INPUT_MAX];   /* the input that produced the maps */
    char source[TUI_INPUT_MAX];  /* the model's input text */
    int quad_ok;                 /* sol is valid */
    quad_solution sol;
    int gen[TUI_MAX_GEN];
    size_t n_gen;                /* generated tokens (eos included when produced) */
    size_t n_rows;               /* decoder rows in the maps (positions fed) */
    char output[TUI_MAX_GEN * 4 + 1];
    size_t gen_off[TUI_MAX_GEN + 1]; /* byte offset in output of each generated token */
    long first_wrong;            /* byte index, -1 right, -2 not compared */
    double decode_ms;
    unsigned long serial;        /* counts runs: caches compare it */
    int forced;                  /* the maps are teacher forced on a->target */

    /* run configuration */
    size_t max_len;              /* greedy output tokens at most; 0: the default */
    char target[TUI_INPUT_MAX];  /* teacher-forcing target text; "" decodes greedily */

    /* the view */
    tui_view_id view;
    t5_attn_kind kind;
    size_t layer, head;
    int avg;                     /* mean over heads */
    size_t step;                 /* decoding step shown (0 .. n_gen-1) */
    int playing;
    size_t cur_r[3], cur_c[3];   /* cursor per kind */
    size_t sum_r, sum_c;         /* summary cursor */
    tui_grid grid;               /* keeps the scroll position */
    tui_grid sum_grid;
    size_t mv_row0, mv_col0;     /* model view scroll (layers, heads) */
    int normalize;               /* scale maps to their maximum */
    int help;
    int too_small;
    int more_work;               /* the last frame left work for idle frames (classes) */
    int idle;                    /* this frame is an idle one: do that work */
    float *buf, *buf2;           /* scratch maps */
    char status[512];            /* the cursor line, set by the view's draw */

    /* long inputs: zoom (tokens per cell) per kind, pooling, caches */
    size_t zoom[3];
    int pool_mean;               /* 0: max pooling, 1: mean */
    size_t sum_zoom;             /* key tokens a summary cell (0 or 1: one) */
    float *zbuf;                 /* the map view's (pooled / head-mean) map */
    tui_cache_key zkey;
    double zmax;                 /* its largest live value */
    float *thumbs;               /* the model view's pooled thumbnails (n_layers * n_heads) */
    size_t thumbs_cap;
    float *thumb_max;            /* per thumbnail */
    unsigned char *thumb_done;
    tui_cache_key tkey;
    float *sumbuf;               /* the summary (n_layers x cols) */
    tui_cache_key skey;
    double sum_max;
    int *ztok_r, *ztok_c;        /* first token of each pooled row / column */
    char (*zlab)[48];            /* pooled row labels */
    const char **znames;

    /* the prompt and the last search */
    tui_prompt_id prompt;
    char pbuf[TUI_INPUT_MAX];
    size_t plen;
    char search[TUI_INPUT_MAX];
    int search_rows;             /* 1: the query axis (rows), 0: the key axis */
    int prompt_rows;

    /* analysis: each head's class (after every decode), ablated heads */
    an_iv iv;                    /* hooked into the run for good; trace_run chains it */
    char (*lab_src)[32], (*lab_gen)[32]; /* SentencePiece labels of the current run */
    const char **names_src, **names_gen;
    an_head_class *cls[3];       /* (n_layers[kind], n_heads), classified on first use */
    unsigned char *cls_done[3];  /* (n_layers[kind], n_heads) */
};

/* The class of a head of the current run, NULL when not known. */
const an_head_class *tui_head_class(tui_app *a, t5_attn_kind kind, size_t layer, size_t head);
/* Decode the input of the maps on screen again (after an ablation, a new
 * target or output length), keeping the step unless it was the last. */
void tui_rerun(tui_app *a);
/* Toggle ablation (zeroing) of one head and decode the shown input again. */
void tui_toggle_ablation(tui_app *a, t5_attn_kind kind, size_t layer, size_t head);
/* Clear every ablation and decode again. */
void tui_clear_ablation(tui_app *a);
/* Switch to the next theme found (themes/ and the user's folder). */
void tui_cycle_theme(tui_app *a);

/* ---- app.c --------------------------------------------------------------- */

/* The text of one token as typed (ByT5: its byte; SentencePiece: the piece
 * with '▁' as a space; specials: their label) for searching. Returns buf. */
const char *tui_token_text(const tui_app *a, int id, char *buf, size_t cap);

/* Decode the entry box (Enter). Parse errors go to the message line and keep
 * the old maps. Returns 0 when the maps changed. */
int tui_submit(tui_app *a, int force_raw);

/* The number of layers of the current kind's stack, rows and columns of the
 * current kind's maps, and the map of (layer, head) (head == n_heads: the
 * mean over heads, computed into a->buf). */
size_t tui_n_layers(const tui_app *a, t5_attn_kind kind);
void tui_map_size(const tui_app *a, t5_attn_kind kind, size_t *rows, size_t *cols);
const float *tui_map(tui_app *a, t5_attn_kind kind, size_t layer, size_t head, size_t *stride);
/* Rows of decoder maps that are live at the current step. */
size_t tui_live_rows(const tui_app *a, t5_attn_kind kind);
/* A display label for a token id (tok_label) and a one-column one (ByT5:
 * tui_token_short; SentencePiece: the piece's first character after '▁'). */
const char *tui_label(const tui_app *a, int id, char *buf, size_t cap);
const char *tui_short_label(const tui_app *a, int id, char *buf, size_t cap);
/* SentencePiece row labels of a kind's maps (NULL for ByT5: tokens are used). */
const char *const *tui_row_names(const tui_app *a, t5_attn_kind kind);
/* Token ids along the rows / columns of a kind's maps. */
const int *tui_row_tokens(const tui_app *a, t5_attn_kind kind);
const int *tui_col_tokens(const tui_app *a, t5_attn_kind kind);
const char *tui_kind_name(t5_attn_kind k);

/* ---- screen.c ----------------------------------------------------------- */

/* Set up colour for the current terminal and theme: pick the mode, the ramp
 * levels. Call after initscr and after every theme change. */
void tui_colors_init(tui_app *a);
/* Apply role r (colours or mono attributes) to stdscr. */
void tui_role(const tui_app *a, theme_role r);
/* Draw a painted cell at (y, x). */
void tui_put_paint(const tui_app *a, int y, int x, const tui_paint *p);
/* Quantise a weight to the ramp levels in use. */
float tui_quant(const tui_app *a, float v);
/* Write at most w columns of UTF-8 text at (y, x) in role r (one column
 * per character). Returns the columns written. */
int tui_text(const tui_app *a, int y, int x, int w, theme_role r, const char *s);
/* Fill w columns at (y, x) with spaces in role r. */
void tui_fill(const tui_app *a, int y, int x, int w, theme_role r);
/* Columns (characters) of a UTF-8 string / of its first n bytes. */
size_t tui_utf8_cols(const char *s, size_t n);

/* ---- views.c ------------------------------------------------------------ */

/* The whole screen: title, entry, message, solution, status, view, hints,
 * and the help overlay or the too-small notice. */
void tui_draw(tui_app *a);
/* Keys every view shares (layer, head, kind, step, theme, help...). */
tui_action tui_common_key(tui_app *a, int key);

#endif
