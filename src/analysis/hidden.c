/* hidden.c - value-weighted attention maps, hidden-state capture, patching
 * and the logit lens (see hidden.h), all through the engine's hooks.
 *
 * Deliberately not here: the task (probe.c), figures, the views. */
#include "hidden.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* ---- value-weighted attention ---------------------------------------------- */

const float *an_out_proj(const t5_model *m, t5_attn_kind kind, size_t layer)
{
    const t5_config *c = &m->cfg;
    if (kind == T5_ATTN_ENC_SELF) return layer < c->num_layers ? m->w.enc[layer].o : NULL;
    if (layer >= c->num_decoder_layers) return NULL;
    return kind == T5_ATTN_CROSS ? m->w.dec[layer].co : m->w.dec[layer].o;
}

void an_value_norms(float *out, const float *values, const float *o, size_t n_k, size_t H,
                    size_t dkv, size_t C, float *scratch)
{
    size_t HD = H * dkv;
    for (size_t h = 0; h < H; h++) {
        /* scratch (n_k, C) = V_h (n_k, dkv) @ O_h^T, O_h = o's columns of head h. */
        gemm(0, 1, n_k, C, dkv, 1.0f, values + h * dkv, HD, o + h * dkv, HD, 0.0f, scratch, C);
        for (size_t j = 0; j < n_k; j++) {
            double ss = 0.0;
            const float *f = scratch + j * C;
            for (size_t i = 0; i < C; i++) ss += (double)f[i] * f[i];
            out[h * n_k + j] = (float)sqrt(ss);
        }
    }
}

void an_norm_map(float *out, const float *probs, const float *vnorm, size_t H, size_t n_q,
                 size_t n_k)
{
    for (size_t h = 0; h < H; h++)
        for (size_t i = 0; i < n_q; i++) {
            const float *p = probs + (h * n_q + i) * n_k;
            const float *vn = vnorm + h * n_k;
            float *row = out + (h * n_q + i) * n_k;
            double sum = 0.0;
            for (size_t j = 0; j < n_k; j++) {
                row[j] = p[j] * vn[j];
                sum += row[j];
            }
            float inv = sum > 0.0 ? (float)(1.0 / sum) : 0.0f;
            for (size_t j = 0; j < n_k; j++) row[j] *= inv;
        }
}

void an_normcap_init(an_normcap *nc, const t5_model *m, attn_trace *norms)
{
    memset(nc, 0, sizeof *nc);
    nc->m = m;
    nc->norms = norms;
}

void an_normcap_free(an_normcap *nc)
{
    free(nc->buf);
    nc->buf = NULL;
    nc->cap = 0;
}

void an_normcap_hook(void *user, const t5_attn_event *ev)
{
    an_normcap *nc = user;
    if (nc->next) nc->next(nc->next_user, ev);
    const t5_config *c = &nc->m->cfg;
    const float *o = an_out_proj(nc->m, ev->kind, ev->layer);
    if (!o || !ev->values || ev->n_heads != c->num_heads) return;
    size_t H = ev->n_heads, C = c->d_model;
    /* buf: the maps (H, n_q, n_k), the norms (H, n_k), the products (n_k, C). */
    size_t need = H * ev->n_q * ev->n_k + H * ev->n_k + ev->n_k * C;
    if (need > nc->cap) {
        free(nc->buf);
        nc->buf = xmalloc(need * sizeof *nc->buf);
        nc->cap = need;
    }
    float *map = nc->buf, *vn = map + H * ev->n_q * ev->n_k, *scratch = vn + H * ev->n_k;
    an_value_norms(vn, ev->values, o, ev->n_k, H, c->d_kv, C, scratch);
    an_norm_map(map, ev->probs, vn, H, ev->n_q, ev->n_k);
    t5_attn_event copy = *ev;
    copy.probs = map;
    trace_hook(nc->norms, &copy);
}

long an_trace_run_norms(attn_trace *weights, an_normcap *nc, t5_run *r, const int *src,
                        size_t n_src, const int *target, size_t n_target, size_t max_len,
                        as_err *err)
{
    t5_hook_fn prev;
    void *prev_user;
    t5_run_get_hook(r, &prev, &prev_user);
    nc->next = prev;
    nc->next_user = prev_user;
    trace_clear(nc->norms);
    t5_run_set_hook(r, an_normcap_hook, nc);
    long n = trace_run(weights, r, src, n_src, target, n_target, max_len, err);
    t5_run_set_hook(r, prev, prev_user);
    attn_trace *t = nc->norms;
    trace_set_src(t, weights->src, weights->n_src);
    size_t nt = weights->n_tgt < t->max_tgt ? weights->n_tgt : t->max_tgt;
    memcpy(t->tgt, weights->tgt, nt * sizeof *t->tgt);
    memcpy(t->row_step, weights->row_step, nt * sizeof *t->row_step);
    t->n_tgt = nt;
    t->n_rows = weights->n_rows < t->max_tgt ? weights->n_rows : t->max_tgt;
    return n;
}

/* ---- hidden states ------------------------------------------------------------ */

static size_t kind_layers(const size_t n_layers[2], t5_stack stack, t5_state_kind kind)
{
    if (kind == T5_STATE_EMBED) return 1;
    if (kind == T5_STATE_CROSS && stack == T5_ENCODER) return 0;
    return n_layers[stack];
}

void an_states_init(an_states *s, const t5_model *m, size_t max_src, size_t max_tgt)
{
    memset(s, 0, sizeof *s);
    s->n_layers[T5_ENCODER] = m->cfg.num_layers;
    s->n_layers[T5_DECODER] = m->cfg.num_decoder_layers;
    s->cap[T5_ENCODER] = max_src ? max_src : 1;
    s->cap[T5_DECODER] = max_tgt ? max_tgt : 1;
    s->C = m->cfg.d_model;
    for (int st = 0; st < 2; st++)
        for (int k = 0; k < T5_STATE_COUNT; k++) {
            size_t L = kind_layers(s->n_layers, (t5_stack)st, (t5_state_kind)k);
            s->x[st][k] = L ? xcalloc(L * s->cap[st] * s->C, sizeof(float)) : NULL;
        }
}

void an_states_free(an_states *s)
{
    for (int st = 0; st < 2; st++)
        for (int k = 0; k < T5_STATE_COUNT; k++) free(s->x[st][k]);
    memset(s, 0, sizeof *s);
}

void an_states_clear(an_states *s) { s->n_pos[0] = s->n_pos[1] = 0; }

size_t an_states_layers(const an_states *s, t5_stack stack, t5_state_kind kind)
{
    if ((unsigned)stack > 1 || (unsigned)kind >= T5_STATE_COUNT) return 0;
    return kind_layers(s->n_layers, stack, kind);
}

float *an_states_row(const an_states *s, t5_stack stack, t5_state_kind kind, size_t layer,
                     size_t pos)
{
    if (layer >= an_states_layers(s, stack, kind) || pos >= s->cap[stack]) return NULL;
    return s->x[stack][kind] + (layer * s->cap[stack] + pos) * s->C;
}

void an_states_hook(void *user, const t5_state_event *ev)
{
    an_states *s = user;
    if (ev->d_model != s->C) return;
    for (size_t i = 0; i < ev->n; i++) {
        float *dst = an_states_row(s, ev->stack, ev->kind, ev->layer, ev->pos0 + i);
        if (!dst) break;
        memcpy(dst, ev->x + i * s->C, s->C * sizeof *dst);
        if (ev->pos0 + i + 1 > s->n_pos[ev->stack]) s->n_pos[ev->stack] = ev->pos0 + i + 1;
    }
}

/* ---- activation patching ---------------------------------------------------- */

void an_patch_hook(void *user, const t5_state_event *ev)
{
    an_patch *p = user;
    if (ev->stack != p->stack || ev->kind != p->kind || ev->layer != p->layer) return;
    if (p->pos < ev->pos0 || p->pos >= ev->pos0 + ev->n) return;
    memcpy(ev->x + (p->pos - ev->pos0) * ev->d_model, p->row, ev->d_model * sizeof *ev->x);
    p->applied++;
}

/* ---- logit lens ------------------------------------------------------------------ */

size_t an_lens_top(const t5_model *m, const float *x, size_t k, int *tok, float *prob,
                   float *scratch)
{
    size_t V = m->cfg.vocab_size;
    if (k > V) k = V;
    t5_logits_from_state(m, x, 1, scratch);
    float mx = scratch[0];
    for (size_t j = 1; j < V; j++)
        if (scratch[j] > mx) mx = scratch[j];
    double sum = 0.0;
    for (size_t j = 0; j < V; j++) sum += exp((double)scratch[j] - mx);
    /* Selection of the k largest by insertion: k is a handful. */
    size_t n = 0;
    for (size_t j = 0; j < V; j++) {
        float v = scratch[j];
        if (n == k && v <= scratch[tok[n - 1]]) continue;
        size_t i = n < k ? n++ : k - 1;
        while (i > 0 && scratch[tok[i - 1]] < v) {
            tok[i] = tok[i - 1];
            i--;
        }
        tok[i] = (int)j;
    }
    for (size_t i = 0; i < n; i++) prob[i] = (float)(exp((double)scratch[tok[i]] - mx) / sum);
    return n;
}
