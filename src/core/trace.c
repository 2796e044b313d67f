/* trace.c - the attention trace (see trace.h): capacities fixed at
 * trace_new, a capture hook that copies each event's maps into place, an
 * accessor for one head's map, and trace_run for a whole greedy or
 * teacher-forced run.
 *
 * Deliberately not here: anything computed from the maps (analysis). */
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

attn_trace *trace_new(const t5_model *m, size_t max_src, size_t max_tgt)
{
    attn_trace *t = xcalloc(1, sizeof *t);
    if (max_src == 0) max_src = 1;
    if (max_tgt == 0) max_tgt = 1;
    t->n_enc_layers = m->cfg.num_layers;
    t->n_dec_layers = m->cfg.num_decoder_layers;
    t->n_heads = m->cfg.num_heads;
    t->max_src = max_src;
    t->max_tgt = max_tgt;
    t->src = xcalloc(max_src, sizeof *t->src);
    t->tgt = xcalloc(max_tgt, sizeof *t->tgt);
    t->row_step = xcalloc(max_tgt, sizeof *t->row_step);
    size_t H = t->n_heads;
    t->enc = xcalloc(t->n_enc_layers * H * max_src * max_src, sizeof(float));
    t->dec = xcalloc(t->n_dec_layers * H * max_tgt * max_tgt, sizeof(float));
    t->cross = xcalloc(t->n_dec_layers * H * max_tgt * max_src, sizeof(float));
    return t;
}

void trace_free(attn_trace *t)
{
    if (!t) return;
    free(t->src);
    free(t->tgt);
    free(t->row_step);
    free(t->enc);
    free(t->dec);
    free(t->cross);
    free(t);
}

/* Forget tokens and rows. The maps themselves need no clearing: every cell a
 * reader can see (through the counts) is written again by the next run. */
static void trace_reset(attn_trace *t)
{
    t->n_src = 0;
    t->n_tgt = 0;
    t->n_rows = 0;
}

void trace_clear(attn_trace *t)
{
    trace_reset(t);
    size_t H = t->n_heads;
    memset(t->enc, 0, t->n_enc_layers * H * t->max_src * t->max_src * sizeof(float));
    memset(t->dec, 0, t->n_dec_layers * H * t->max_tgt * t->max_tgt * sizeof(float));
    memset(t->cross, 0, t->n_dec_layers * H * t->max_tgt * t->max_src * sizeof(float));
    memset(t->row_step, 0, t->max_tgt * sizeof *t->row_step);
}

void trace_hook(void *user, const t5_attn_event *ev)
{
    attn_trace *t = user;
    size_t H = t->n_heads < ev->n_heads ? t->n_heads : ev->n_heads;
    size_t max_rows, max_cols, n_layers;
    float *base;
    switch (ev->kind) {
    case T5_ATTN_ENC_SELF:
        base = t->enc, max_rows = t->max_src, max_cols = t->max_src, n_layers = t->n_enc_layers;
        break;
    case T5_ATTN_DEC_SELF:
        base = t->dec, max_rows = t->max_tgt, max_cols = t->max_tgt, n_layers = t->n_dec_layers;
        break;
    case T5_ATTN_CROSS:
        base = t->cross, max_rows = t->max_tgt, max_cols = t->max_src, n_layers = t->n_dec_layers;
        break;
    default:
        return;
    }
    if (ev->layer >= n_layers || ev->q_pos0 >= max_rows) return;
    size_t rows = ev->n_q, cols = ev->n_k < max_cols ? ev->n_k : max_cols;
    if (ev->q_pos0 + rows > max_rows) rows = max_rows - ev->q_pos0;
    for (size_t h = 0; h < H; h++) {
        float *map = base + (ev->layer * t->n_heads + h) * max_rows * max_cols;
        const float *src = ev->probs + h * ev->n_q * ev->n_k;
        for (size_t i = 0; i < rows; i++) {
            float *dst = map + (ev->q_pos0 + i) * max_cols;
            memcpy(dst, src + i * ev->n_k, cols * sizeof *dst);
            /* Decoder rows: the causal zeros up to the capacity, so a row
             * reused from an earlier, longer run shows nothing stale. */
            if (ev->kind == T5_ATTN_DEC_SELF && cols < max_cols)
                memset(dst + cols, 0, (max_cols - cols) * sizeof *dst);
        }
    }
    if (ev->kind != T5_ATTN_ENC_SELF && ev->q_pos0 + rows > t->n_rows)
        t->n_rows = ev->q_pos0 + rows;
}

void trace_set_src(attn_trace *t, const int *src, size_t n)
{
    if (n > t->max_src) n = t->max_src;
    memcpy(t->src, src, n * sizeof *src);
    t->n_src = n;
}

void trace_push_tgt(attn_trace *t, int token, int step)
{
    if (t->n_tgt >= t->max_tgt) return;
    t->tgt[t->n_tgt] = token;
    /* The row fed the previous token produced this one. */
    if (t->n_tgt > 0) t->row_step[t->n_tgt - 1] = step;
    t->n_tgt++;
}

const float *trace_map(const attn_trace *t, t5_attn_kind kind, size_t layer, size_t head,
                       size_t *rows, size_t *cols, size_t *stride)
{
    if (head >= t->n_heads) return NULL;
    size_t H = t->n_heads;
    switch (kind) {
    case T5_ATTN_ENC_SELF:
        if (layer >= t->n_enc_layers) return NULL;
        *rows = *cols = t->n_src;
        *stride = t->max_src;
        return t->enc + (layer * H + head) * t->max_src * t->max_src;
    case T5_ATTN_DEC_SELF:
        if (layer >= t->n_dec_layers) return NULL;
        *rows = *cols = t->n_rows;
        *stride = t->max_tgt;
        return t->dec + (layer * H + head) * t->max_tgt * t->max_tgt;
    case T5_ATTN_CROSS:
        if (layer >= t->n_dec_layers) return NULL;
        *rows = t->n_rows;
        *cols = t->n_src;
        *stride = t->max_src;
        return t->cross + (layer * H + head) * t->max_tgt * t->max_src;
    }
    return NULL;
}

/* trace_run's hook: whatever hook the run already had (an ablation) first,
 * then the capture, so the trace shows the maps that flowed on. */
typedef struct {
    t5_hook_fn prev;
    void *prev_user;
    attn_trace *t;
} chain_hook;

static void chained(void *user, const t5_attn_event *ev)
{
    chain_hook *c = user;
    if (c->prev) c->prev(c->prev_user, ev);
    trace_hook(c->t, ev);
}

long trace_run(attn_trace *t, t5_run *r, const int *src, size_t n_src, const int *target,
               size_t n_target, size_t max_len, as_err *err)
{
    const t5_model *m = t5_run_model(r);
    const t5_config *c = &m->cfg;
    if (t->n_enc_layers != c->num_layers || t->n_dec_layers != c->num_decoder_layers ||
        t->n_heads != c->num_heads)
        return as_errf(err, "trace made for a different model (%zu+%zu layers, %zu heads)",
                       t->n_enc_layers, t->n_dec_layers, t->n_heads);
    if (n_src > t->max_src)
        return as_errf(err, "source of %zu tokens does not fit the trace (at most %zu)", n_src,
                       t->max_src);
    size_t n_out = target ? n_target : max_len;
    if (target && n_target == 0) return as_errf(err, "empty target");
    if (n_out + 1 > t->max_tgt)
        return as_errf(err, "%zu output tokens do not fit the trace (at most %zu)", n_out,
                       t->max_tgt - 1);

    chain_hook ch = {NULL, NULL, t};
    t5_run_get_hook(r, &ch.prev, &ch.prev_user);
    t5_run_set_hook(r, chained, &ch);
    trace_reset(t);
    trace_set_src(t, src, n_src);
    t->tgt[0] = c->decoder_start_token_id;
    long n;
    if (target) {
        /* Decoder input: the start token, then the target shifted right. */
        memcpy(t->tgt + 1, target, n_target * sizeof *target);
        n = t5_teacher_forced(r, src, n_src, t->tgt, n_target, NULL, err) ? -1 : (long)n_target;
        if (n >= 0) memset(t->row_step, 0, n_target * sizeof *t->row_step);
    } else {
        n = t5_greedy(r, src, n_src, t->tgt + 1, max_len, err);
        for (long i = 0; i < n; i++) t->row_step[i] = (int)i;
    }
    t5_run_set_hook(r, ch.prev, ch.prev_user);
    if (n < 0) {
        trace_reset(t);
        return -1;
    }
    t->n_tgt = (size_t)n + 1;
    t->n_rows = (size_t)n;
    return n;
}

const char *trace_index_text(const char *what, size_t i, size_t n, char *buf, size_t cap)
{
    const char *sp = strlen(what) > 1 ? " " : ""; /* "layer 1", but "L1" */
    snprintf(buf, cap, "%s%s%zu (0-%zu)", what, sp, i, n ? n - 1 : 0);
    return buf;
}
