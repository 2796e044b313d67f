/* trace.h - the attention trace: the tokens of one run plus every attention
 * map (encoder self, decoder self, cross; every layer and head), and which
 * decoding step produced each decoder row. It is the one thing the views
 * (UI, render, report) read; they never call into the engine's internals.
 *
 * A ready capture hook (trace_hook) fills it from t5_run's attention hook.
 * Deliberately not here: computing anything from the maps (analysis.h). */
#ifndef ATTNSCOPE_TRACE_H
#define ATTNSCOPE_TRACE_H

#include <stddef.h>

#include "t5.h"

typedef struct {
    size_t n_enc_layers, n_dec_layers, n_heads;
    size_t max_src, max_tgt;   /* capacities */
    size_t n_src;              /* source tokens */
    size_t n_tgt;              /* decoder tokens recorded: the start token + generated */
    size_t n_rows;             /* decoder rows captured (decoder positions fed); after
                                  trace_run n_rows == n_tgt - 1: row i is fed tgt[i] and
                                  produces (greedy) or predicts (teacher forced) tgt[i+1] */
    int *src;                  /* (max_src) source token ids */
    int *tgt;                  /* (max_tgt) decoder-input token ids: tgt[0] is the start token,
                                  tgt[i] the token generated at step i-1 */
    int *row_step;             /* (max_tgt) decoding step that produced decoder row i
                                  (0 for every row in a teacher-forced run) */
    float *enc;    /* (n_enc_layers, n_heads, max_src, max_src) */
    float *dec;    /* (n_dec_layers, n_heads, max_tgt, max_tgt), zero above the diagonal */
    float *cross;  /* (n_dec_layers, n_heads, max_tgt, max_src) */
} attn_trace;

/* A trace sized for model m and the given capacities. Never NULL. */
attn_trace *trace_new(const t5_model *m, size_t max_src, size_t max_tgt);
void trace_free(attn_trace *t);

/* Forget the maps and tokens (keeps capacities). */
void trace_clear(attn_trace *t);

/* The capture hook: pass it to t5_run_set_hook with the trace as user.
 * Copies every map of every event into its place; rows past the capacity
 * are dropped. The caller records tokens with trace_set_src/trace_push_tgt. */
void trace_hook(void *user, const t5_attn_event *ev);

/* Record the source tokens (copied; at most the trace's max_src kept). */
void trace_set_src(attn_trace *t, const int *src, size_t n);
/* Append a decoder-input token produced at decoding step `step`. */
void trace_push_tgt(attn_trace *t, int token, int step);

/* The map of one head: rows x cols floats with a row stride.
 * kind selects the stack; the pointer stays valid until trace_free. */
const float *trace_map(const attn_trace *t, t5_attn_kind kind, size_t layer, size_t head,
                       size_t *rows, size_t *cols, size_t *stride);

/* Run a model and capture everything: greedy (target == NULL, at most
 * max_len tokens) or teacher forced on target tokens (HF labels: the decoder
 * is fed the start token and target[0 .. n_target-2], row i predicts
 * target[i]; max_len is ignored). Fills the trace: tgt = start token + the
 * generated tokens (or the target), n_rows = the count, row_step = the step
 * of each row. Needs n_src <= t->max_src, count + 1 <= t->max_tgt and
 * count <= the run's max_tgt. A hook already set on r (an ablation) runs
 * first on every event and the trace captures what it left; it is set
 * again on return. Returns the number of generated (or target) tokens, or
 * -1 with err filled and the trace emptied. */
long trace_run(attn_trace *t, t5_run *r, const int *src, size_t n_src,
               const int *target, size_t n_target, size_t max_len, as_err *err);

/* Layers and heads count from 0, as --layer, --head, ablation specs and the
 * L0 H1 labels do. A person sees the index with the range it is in,
 * "layer 1 (0-2)", so that it is read neither as 1-based nor as a count;
 * every title and status line that names a layer or head says it this way.
 * what: "layer", "head" (or "L", "H": "L1 (0-2)"); n: how many (>= 1).
 * Writes at most cap bytes; returns buf. */
const char *trace_index_text(const char *what, size_t i, size_t n, char *buf, size_t cap);

#endif
