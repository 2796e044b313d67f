/* hidden.h - what a model holds beyond its attention weights, read through
 * the engine's two hooks: value-weighted attention maps (Kobayashi et al.
 * 2020), the hidden states of a run, the logit lens, and activation
 * patching (copying one state row of a clean run into a corrupted one).
 * The probes and the patching experiments over equations (probe.h) are
 * built on these.
 *
 * It drives t5_run only through t5_run_set_hook / t5_run_set_state_hook and
 * reads weights through t5_model's public pointers. Deliberately not here:
 * anything about the quadratic task (probe.h), drawing, the views. */
#ifndef ATTNSCOPE_HIDDEN_H
#define ATTNSCOPE_HIDDEN_H

#include <stddef.h>

#include "t5.h"
#include "trace.h"

/* ---- value-weighted attention ---------------------------------------------- */

/* The o projection (C, H*d_kv) through which the attention of (kind, layer)
 * reaches the residual stream; NULL when the layer does not exist. */
const float *an_out_proj(const t5_model *m, t5_attn_kind kind, size_t layer);

/* out (H, n_k): ||W_O^h v_j^h||, the length of what key j would add to the
 * residual stream through head h at weight 1. values (n_k, H*dkv) as a hook
 * event hands them, o (C, H*dkv) from an_out_proj. scratch holds n_k * C
 * floats. */
void an_value_norms(float *out, const float *values, const float *o, size_t n_k, size_t H,
                    size_t dkv, size_t C, float *scratch);

/* The value-weighted map: out (H, n_q, n_k) = probs * vnorm[h][j], each row
 * divided by its sum, so rows sum to 1 like the weights (a zero row stays
 * zero). out may be probs. */
void an_norm_map(float *out, const float *probs, const float *vnorm, size_t H, size_t n_q,
                 size_t n_k);

/* A second trace that holds value-weighted maps instead of weights, filled
 * by a hook beside trace_run:
 *   an_normcap nc; an_normcap_init(&nc, model, norms_trace);
 *   an_trace_run_norms(weights, &nc, run, src, n, target, n_target, max_len, &err);
 * The norms trace then has the same tokens and rows as the weights trace
 * and every view, statistic and classifier reads it as it reads weights. */
typedef struct {
    const t5_model *m;
    attn_trace *norms;       /* borrowed */
    t5_hook_fn next;         /* the run's own hook (an ablation), run first */
    void *next_user;
    float *buf;              /* scratch, owned */
    size_t cap;              /* floats in buf */
} an_normcap;

void an_normcap_init(an_normcap *nc, const t5_model *m, attn_trace *norms);
void an_normcap_free(an_normcap *nc);
/* The hook (t5_hook_fn, user = an_normcap): nc->next first, then the
 * value-weighted maps of what it left into nc->norms. It does not change
 * the event's probabilities. */
void an_normcap_hook(void *user, const t5_attn_event *ev);

/* trace_run into weights, with nc's hook capturing the value-weighted maps
 * into nc->norms (a hook already on r, such as an ablation, applies to both;
 * it is set again on return). The norms trace gets the weights trace's
 * tokens and rows. Returns what trace_run returns. */
long an_trace_run_norms(attn_trace *weights, an_normcap *nc, t5_run *r, const int *src,
                        size_t n_src, const int *target, size_t n_target, size_t max_len,
                        as_err *err);

/* ---- hidden states ------------------------------------------------------------ */

/* Every hidden state of one run, as the state hook shows them: for each
 * stack and kind, (layers, positions, C) floats (T5_STATE_EMBED has one
 * layer; the encoder has no T5_STATE_CROSS). Rows past the capacity are
 * dropped. */
typedef struct {
    size_t n_layers[2];      /* encoder, decoder */
    size_t cap[2];           /* positions kept: max_src, max_tgt */
    size_t n_pos[2];         /* positions seen since an_states_clear */
    size_t C;
    float *x[2][T5_STATE_COUNT]; /* (layers of the kind, cap, C); NULL when the kind does not exist */
} an_states;

/* Sized for model m. Never fails (allocation failure exits, as xcalloc). */
void an_states_init(an_states *s, const t5_model *m, size_t max_src, size_t max_tgt);
void an_states_free(an_states *s);
void an_states_clear(an_states *s);
/* The capture hook (t5_state_fn, user = an_states). Copies each row. */
void an_states_hook(void *user, const t5_state_event *ev);
/* One row (C floats) of a captured state; NULL when out of range. Valid
 * until an_states_free. */
float *an_states_row(const an_states *s, t5_stack stack, t5_state_kind kind, size_t layer,
                     size_t pos);
/* Layers a kind has in a stack (EMBED: 1; encoder CROSS: 0). */
size_t an_states_layers(const an_states *s, t5_stack stack, t5_state_kind kind);

/* ---- activation patching ---------------------------------------------------- */

/* Replace one row of one state: when the hook sees (stack, kind, layer)
 * with position pos among its rows, that row becomes row (C floats,
 * borrowed). Set it with t5_run_set_state_hook(r, an_patch_hook, &p). */
typedef struct {
    t5_stack stack;
    t5_state_kind kind;
    size_t layer, pos;
    const float *row;
    size_t applied;          /* rows replaced (for tests) */
} an_patch;
void an_patch_hook(void *user, const t5_state_event *ev);

/* ---- logit lens ------------------------------------------------------------------ */

/* The k most likely tokens (descending; ties: the lower id first) that the
 * final layer norm and head give for one residual row x (C floats), with
 * their softmax probabilities. tok and prob have room for k; k is clamped to
 * the vocabulary. scratch holds V floats. Returns the count written. */
size_t an_lens_top(const t5_model *m, const float *x, size_t k, int *tok, float *prob,
                   float *scratch);

#endif
