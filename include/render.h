/* render.h - the UI's maps without a UI: `attnscope render` draws one
 * attention map, the model view (every layer x head) or the summary (the
 * attention each token receives, per layer) as ANSI colour text for a
 * terminal, plain shading text for logs and e-mail, SVG/PNG/PDF figures
 * through cairo, or the numbers as CSV and JSON.
 *
 * The maps are the UI's (the same head mean, summary and step masking from
 * grid.h's pure layout functions), the colours the same themes (theme.h).
 *
 * render_build and the writers take a filled trace; render_run (run.c) is the
 * whole of `attnscope render` from text to file.
 *
 * Deliberately not here: a curses screen (terminfo is only asked for the
 * colour depth), option parsing (src/cli/cmd_render.c). */
#ifndef ATTNSCOPE_RENDER_H
#define ATTNSCOPE_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "t5.h"
#include "theme.h"
#include "tokenizer.h"
#include "trace.h"
#include "util.h"

typedef enum {
    RENDER_ANSI = 0, /* colour text for a terminal (the theme's colours) */
    RENDER_TEXT,     /* plain ASCII: shading characters " .:-=+*#%@" */
    RENDER_SVG,
    RENDER_PNG,
    RENDER_PDF,
    RENDER_CSV,
    RENDER_JSON,
    RENDER_N_FORMATS
} render_format;

typedef enum {
    RENDER_VIEW_ENC = 0, /* one encoder self-attention map */
    RENDER_VIEW_DEC,     /* one decoder self-attention map */
    RENDER_VIEW_CROSS,   /* one cross-attention map */
    RENDER_VIEW_SUMMARY, /* layers x keys: attention received (of --kind) */
    RENDER_VIEW_MODEL,   /* every layer x head (of --kind) */
    RENDER_N_VIEWS
} render_view;

/* Names <-> values ("ansi", "text", ...; "enc", "dec", "cross", "summary",
 * "model"); -1 for an unknown name. render_format_from_path guesses from a
 * file name's extension (.txt .ans .svg .png .pdf .csv .json), -1 when it
 * cannot. */
int render_format_parse(const char *s);
const char *render_format_name(render_format f);
int render_format_from_path(const char *path);
int render_view_parse(const char *s);
const char *render_view_name(render_view v);

/* What to draw. */
typedef struct {
    render_view view;
    t5_attn_kind kind;  /* the stack for summary and model views */
    size_t layer;       /* single maps */
    long head;          /* single maps: a head, or -1 for the mean over heads */
    size_t step;        /* decoding step shown, 1-based; 0 = the last one */
    int normalize;      /* scale single maps to their maximum (the UI's 'n') */
    int norms;          /* the trace holds value-weighted maps (--measure norms): titles
                           and the numbers say so */
    const tok_vocab *tok; /* labels and decoded text; NULL: ByT5 bytes. Borrowed, must
                             outlive the doc */
} render_request;

/* One heatmap: rows x cols dense floats (owned by the doc). */
typedef struct {
    char title[64];     /* model view: "L1 H2"; otherwise "" */
    size_t layer, head;
    float *data;        /* (rows, cols) */
} render_panel;

/* Everything an output needs, built from a trace by render_build. */
typedef struct {
    render_view view;
    t5_attn_kind kind;
    long layer, head;        /* -1: all layers / mean over heads */
    size_t step, n_steps;    /* 1-based step shown, steps decoded */
    size_t rows, cols;       /* the size of every panel */
    size_t n_layers, n_heads;
    float vmax;              /* the weight drawn at the top of the ramp (> 0) */
    int normalize;
    int norms;               /* the maps are value norms ||a W_O v|| per row, not weights */
    render_panel *panels;    /* (n_panels); model view: layer-major, grid_cols = n_heads */
    size_t n_panels, grid_cols;
    int *row_tokens;         /* (rows) ids of the row labels, NULL for the summary (rows
                                are layers); decoder rows: the token each row wrote */
    int *row_fed;            /* (rows) decoder rows: the token fed (NULL otherwise) */
    int *col_tokens;         /* (cols) ids */
    char title[512];         /* "cross layer 0 head 1, step 7/20" */
    char row_axis[16], col_axis[16];
    const char *model_name;  /* borrowed, may be NULL */
    const char *input;       /* borrowed: what was typed */
    const char *source;      /* borrowed: the model's input text */
    char *output;            /* the decoded text, owned */
    const tok_vocab *tok;    /* borrowed from the request; NULL: ByT5 */
} render_doc;

/* The label of token id as a person reads it (tok_display_label: eos "$";
 * ByT5 labels when the doc has no tokenizer), for the terminal, PNG and SVG.
 * Returns buf. */
const char *render_token_label(const render_doc *d, int id, char *buf, size_t cap);
/* The tokenizer's own name of id (tok_label: eos "</s>"), for JSON and CSV,
 * which programs read. Returns buf. */
const char *render_token_name(const render_doc *d, int id, char *buf, size_t cap);

/* Build the maps of rq from a filled trace (trace_run, or the value-weighted
 * trace of an_trace_run_norms with rq->norms set). model_name, input
 * and source are borrowed (may be NULL) and must outlive the doc. Returns 0,
 * or -1 with err filled (a layer or head out of range, a step past the
 * decoding). Free with render_doc_free (also after a failure). */
int render_build(render_doc *d, const attn_trace *t, const render_request *rq,
                 const char *model_name, const char *input, const char *source, as_err *err);
void render_doc_free(render_doc *d);

/* Terminal text: ANSI escapes (when escapes is set) in the theme's colours
 * for mode (DIRECT, 256 or 8; NONE gives shading characters with
 * bold/reverse only), half blocks (two map rows per line) when half and
 * utf8 are set and mode >= 256, fitted to width columns (columns are
 * max-pooled when a map is wider). Without utf8 every byte written is
 * ASCII. RENDER_TEXT is escapes 0, utf8 0: shading characters only.
 * Returns 0, or -1 when writing fails. */
int render_term(FILE *f, const render_doc *d, const theme *th, theme_color_mode mode, int utf8,
                int half, int escapes, size_t width);

/* A figure through cairo (RENDER_SVG, RENDER_PNG or RENDER_PDF): every panel
 * with its token labels, the title and a colour bar in the theme's ramp.
 * Returns 0, or -1 with err filled. */
int render_cairo(FILE *f, const render_doc *d, const theme *th, render_format fmt, as_err *err);

/* The numbers. CSV: single maps and the summary as a matrix, a header line
 * ("query\key" and the key labels) then one line per row (its label, then
 * the weights); the model view in long form, "layer,head,query,key,weight".
 * JSON: one object (see man attnscope, RENDER FORMATS). Returns 0 or -1. */
int render_csv(FILE *f, const render_doc *d);
int render_json(FILE *f, const render_doc *d);

/* ---- one whole render: text in, one format out ------------------------- */

/* Longest text or target in tokens (the text with eos may be one more), and
 * the default output length of raw text (an equation's is QUAD_MAX_GEN). */
#define RENDER_MAX_TOKENS 1024
#define RENDER_MAX_RAW_GEN 255

/* What `attnscope render` asks for. Strings are borrowed. */
typedef struct {
    const char *model_dir;  /* the model folder (resolved) */
    const char *input;      /* the equation, or any text with raw */
    const char *target;     /* teacher forcing: fed to the decoder (eos appended); NULL: greedy */
    int raw;                /* the input is text, not an equation (also guessed for Hugging
                               Face checkpoints: model_dir_guess_raw) */
    size_t max_len;         /* generated tokens; 0: QUAD_MAX_GEN, raw RENDER_MAX_RAW_GEN */
    render_request rq;      /* the view (rq.tok is set by render_run) */
    render_format format;
    const char *out;        /* a file written atomically, or NULL: stream */
    FILE *stream;           /* with out NULL (NULL: stdout) */
    size_t width;           /* columns of ansi and text output */
    int utf8;               /* the locale is UTF-8 (half blocks and Unicode allowed) */
    int ascii;              /* no half blocks */
    const char *color;      /* "auto", "direct", "256", "8", "none", or NULL: the config's */
    const char *theme_name; /* a theme name or .cfg path, or NULL: the config's */
    const char *data_dir;   /* the folder holding themes/ */
    const char *sys_config; /* the system config file; NULL: /etc/attnscope/config.cfg */
    void (*warn)(const char *text); /* told the configuration problems (their lines) before
                                       anything is written; NULL: dropped */
} render_options;

/* Parse (or take raw) the input, tokenise it with the model folder's
 * tokenizer, decode, build the maps of o->rq, resolve the theme chain and
 * write o->format. Returns 0, or -1 with err filled: a rejected equation
 * (the message shows the text with a caret under the column), an unsolvable
 * one, text too long, a model that does not load, a layer or head out of
 * range, a failed write (no partial file is left at o->out). */
int render_run(const render_options *o, as_err *err);

#endif
