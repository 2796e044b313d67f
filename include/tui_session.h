/* tui_session.h - what the terminal UI shows, without the terminal: a model
 * and its tokenizer, the last input decoded into a trace (its output, the
 * solution and check, the decoding step shown), ablated heads, each head's
 * class, and the maps and token labels the views draw from.
 *
 * A unit test drives it as the UI does (submit, rerun, ablate, read maps
 * and labels: tests/unit/test_tui_session.c); the views read it and never
 * run the model themselves.
 *
 * Deliberately not here: ncurses, keys, cursors and scrolling (src/tui/
 * app.c and the views), colours (theme.h), the grid arithmetic (grid.h). */
#ifndef ATTNSCOPE_TUI_SESSION_H
#define ATTNSCOPE_TUI_SESSION_H

#include <stddef.h>

#include "analysis.h"
#include "hidden.h"
#include "quad.h"
#include "t5.h"
#include "tokenizer.h"
#include "trace.h"

/* Bytes of the entry box, a target, a prompt: more than a pasted 10,000-
 * character equation (which solve reads); the entry refuses a longer paste
 * with a message that says the limit. */
#define TUI_INPUT_MAX 16384
#define TUI_MAX_SRC 512         /* source tokens (eos included) */
#define TUI_MAX_GEN 512         /* decoder positions: the start token + output tokens */
#define TUI_DEFAULT_RAW_GEN 255 /* greedy output tokens of raw text unless --max-len / O */

typedef struct {
    const t5_model *m;
    tok_vocab *tok;              /* owned: the folder's vocabulary (ByT5 or SentencePiece) */
    int spm;                     /* 1: SentencePiece (labels are pieces, raw text only) */
    t5_run *run;
    attn_trace *tr;
    an_iv iv;                    /* hooked into the run for good; trace_run chains it */

    /* run configuration */
    int raw;                     /* any text, no parser, no right/wrong */
    size_t max_len;              /* greedy output tokens at most; 0: the default */
    char target[TUI_INPUT_MAX];  /* teacher-forcing target text; "" decodes greedily */
    const quad_preset *preset;   /* the preset the model was trained on, NULL unknown: an
                                    equation outside it gets a note */

    /* the current run (what the maps show) */
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
    int forced;                  /* the maps are teacher forced on target */
    size_t step;                 /* decoding step shown (0 .. n_gen-1) */

    /* the message of the last operation (or the UI's last note) */
    char msg[512];
    int msg_error;
    size_t err_col;              /* 1-based column of a parse error, 0 none */

    /* labels, classes, scratch */
    char (*lab_src)[32], (*lab_gen)[32]; /* SentencePiece row labels of the current run */
    const char **names_src, **names_gen;
    an_head_class *cls[3];       /* (n_layers[kind], n_heads), classified on first use */
    unsigned char *cls_done[3];  /* (n_layers[kind], n_heads) */
    float *mean;                 /* the mean over heads of tui_session_map (TUI_MAX^2) */

    /* value-weighted maps: with norms set, every run also fills tr_norms
       (||a_ij W_O^h v_j^h||, rows summing to 1) and the maps, classes and
       views read it instead of the weights */
    int norms;
    attn_trace *tr_norms;
    an_normcap nc;

    /* the logit lens: the decoder's residual stream after each layer, from
       a teacher-forced pass on the run's decoder input (made when first
       asked for after a run) */
    float *lens_x;               /* (n_dec_layers, TUI_MAX_GEN, d_model), NULL until used */
    float *lens_scratch;         /* (vocab_size) */
    unsigned long lens_serial;   /* the run lens_x is of; 0 none */
} tui_session;

/* A session on a loaded model (which must outlive it); takes tok (freed by
 * tui_session_free). raw 1: any text, no equation parser. Never NULL. */
tui_session *tui_session_new(const t5_model *m, tok_vocab *tok, int raw);
void tui_session_free(tui_session *s);

/* Set the message line (printf format); error 1 shows it as an error, col
 * (1-based, 0 none) puts a caret under that column of the entry. */
void tui_session_note(tui_session *s, int error, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Decode text (an equation, or any text when raw or force_raw). A parse
 * error, a refused or too long input or target keeps the old maps and
 * returns -1 with the reason in s->msg; a failed decode also drops them
 * (have_run 0). On success the step is the last and s->msg says what was
 * decoded. text may be s->shown. */
int tui_session_submit(tui_session *s, const char *text, int force_raw);

/* Decode the input of the maps again (after an ablation, a new target or
 * output length), keeping the step unless it was the last. Without a run
 * yet, returns -1 and does nothing. */
int tui_session_rerun(tui_session *s);

/* Toggle the ablation (zeroing) of one head, clear them all; both decode
 * again (tui_session_rerun, whose result they return) and say so in s->msg. */
int tui_session_toggle_ablation(tui_session *s, t5_attn_kind kind, size_t layer, size_t head);
int tui_session_clear_ablation(tui_session *s);

/* Show the value-weighted maps (on 1) or the weights (0). Turning them on
 * decodes again to capture them (tui_session_rerun's result); both reset
 * the classes and count as a new run for the caches (serial). */
int tui_session_set_norms(tui_session *s, int on);
/* "weights" or "value norms": what the maps show. */
const char *tui_session_measure(const tui_session *s);

/* The logit lens at decoder row `row` (the row that wrote gen[row]): the k
 * most likely tokens and their probabilities that the final layer norm and
 * the output head give for decoder layer `layer`'s residual stream (the
 * last layer's are the model's own). tok and prob have room for k. Returns
 * the count, or -1 without a run, out of range or a failed pass (s->msg). */
long tui_session_lens(tui_session *s, size_t row, size_t layer, size_t k, int *tok,
                      float *prob);

/* Layers of a kind's stack; rows and columns of its maps (0 without a run);
 * the map of (layer, head), head == n_heads the mean over heads (into
 * s->mean, valid until the next call), NULL without a run. */
size_t tui_session_layers(const tui_session *s, t5_attn_kind kind);
void tui_session_map_size(const tui_session *s, t5_attn_kind kind, size_t *rows, size_t *cols);
const float *tui_session_map(tui_session *s, t5_attn_kind kind, size_t layer, size_t head,
                             size_t *stride);
/* Rows of a kind's maps that are live at the step (all of the encoder's). */
size_t tui_session_live_rows(const tui_session *s, t5_attn_kind kind);

/* One head's class (an_classify on its map), computed the first time it is
 * asked for after a decode; NULL without a run or out of range.
 * tui_session_class_known: 1 when that is already done (no cost). */
const an_head_class *tui_session_class(tui_session *s, t5_attn_kind kind, size_t layer,
                                       size_t head);
int tui_session_class_known(const tui_session *s, t5_attn_kind kind, size_t layer, size_t head);

/* Token ids along the rows (decoder rows: the token each one wrote) and the
 * columns of a kind's maps; SentencePiece row labels ("index piece") or
 * NULL for ByT5 (the grid labels tokens itself). Valid until the next run. */
const int *tui_session_row_tokens(const tui_session *s, t5_attn_kind kind);
const int *tui_session_col_tokens(const tui_session *s, t5_attn_kind kind);
const char *const *tui_session_row_names(const tui_session *s, t5_attn_kind kind);

/* A token's display label (tok_display_label: eos "$"), its one-column
 * label (ByT5: grid_token_short; SentencePiece: the piece's first character
 * after '▁'), and its text as typed (for searching and the tokens view; '▁'
 * as a space, eos "$"). Each returns buf. */
const char *tui_session_label(const tui_session *s, int id, char *buf, size_t cap);
const char *tui_session_short_label(const tui_session *s, int id, char *buf, size_t cap);
const char *tui_session_token_text(const tui_session *s, int id, char *buf, size_t cap);

/* "encoder self", "decoder self", "cross". */
const char *tui_kind_name(t5_attn_kind k);

#endif
