/* ablate.c - causal checks through the attention hook: an intervention
 * (heads zeroed or replaced by their mean pattern, keys blocked) applied to
 * every attention event, and greedy decoding and teacher forcing under it.
 * Scoring a set of examples under it is in score.c.
 *
 * The experiments built on it (head importance, the special-symbol
 * hypothesis) are in experiment.c. Deliberately not here: anything that
 * knows the engine's internals; everything goes through t5_run's hook. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "byt5.h"
#include "quad.h"

void an_iv_init(an_iv *iv, const t5_model *m)
{
    memset(iv, 0, sizeof *iv);
    iv->n_layers[T5_ATTN_ENC_SELF] = m->cfg.num_layers;
    iv->n_layers[T5_ATTN_DEC_SELF] = m->cfg.num_decoder_layers;
    iv->n_layers[T5_ATTN_CROSS] = m->cfg.num_decoder_layers;
    iv->n_heads = m->cfg.num_heads;
    for (int k = 0; k < AN_N_KINDS; k++)
        iv->mode[k] = xcalloc(iv->n_layers[k] * iv->n_heads + 1, 1);
}

void an_iv_free(an_iv *iv)
{
    for (int k = 0; k < AN_N_KINDS; k++) free(iv->mode[k]);
    free(iv->dec);
    memset(iv, 0, sizeof *iv);
}

void an_iv_set_head(an_iv *iv, t5_attn_kind kind, size_t layer, size_t head, an_abl_mode mode)
{
    if ((unsigned)kind >= AN_N_KINDS || layer >= iv->n_layers[kind] || head >= iv->n_heads) return;
    iv->mode[kind][layer * iv->n_heads + head] = (unsigned char)mode;
}

an_abl_mode an_iv_head(const an_iv *iv, t5_attn_kind kind, size_t layer, size_t head)
{
    if ((unsigned)kind >= AN_N_KINDS || layer >= iv->n_layers[kind] || head >= iv->n_heads)
        return AN_ABL_NONE;
    return (an_abl_mode)iv->mode[kind][layer * iv->n_heads + head];
}

an_abl_mode an_iv_toggle(an_iv *iv, t5_attn_kind kind, size_t layer, size_t head, an_abl_mode mode)
{
    an_abl_mode now = an_iv_head(iv, kind, layer, head) == AN_ABL_NONE ? mode : AN_ABL_NONE;
    an_iv_set_head(iv, kind, layer, head, now);
    return an_iv_head(iv, kind, layer, head);
}

void an_iv_clear_heads(an_iv *iv)
{
    for (int k = 0; k < AN_N_KINDS; k++) memset(iv->mode[k], 0, iv->n_layers[k] * iv->n_heads);
}

size_t an_iv_count(const an_iv *iv)
{
    size_t n = 0;
    for (int k = 0; k < AN_N_KINDS; k++)
        for (size_t i = 0; i < iv->n_layers[k] * iv->n_heads; i++) n += iv->mode[k][i] != 0;
    return n;
}

static void dec_reserve(an_iv *iv, size_t n)
{
    if (n <= iv->dec_cap) return;
    iv->dec = xrealloc(iv->dec, n * sizeof *iv->dec);
    iv->dec_cap = n;
}

/* splitmix64 of (seed, stack, position): the random priority of a key. */
static uint64_t priority(uint64_t seed, int stack, size_t pos)
{
    uint64_t z = seed ^ ((uint64_t)stack * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)pos << 20) ^ pos;
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Mark the blocked keys among the first nk keys with tokens tok. */
static void block_mask(const an_iv *iv, int stack, const int *tok, size_t nk, unsigned char *mask)
{
    memset(mask, 0, nk);
    if (iv->block == AN_BLOCK_SPECIAL) {
        for (size_t k = 0; k < nk; k++) mask[k] = (unsigned char)an_is_special(tok[k]);
        return;
    }
    /* AN_BLOCK_RANDOM_DIGITS: as many digits as there are specials, those
     * with the smallest priority */
    size_t s = 0;
    for (size_t k = 0; k < nk; k++) s += an_is_special(tok[k]) != 0;
    for (size_t i = 0; i < s; i++) {
        size_t best = nk;
        uint64_t bp = 0;
        for (size_t k = 0; k < nk; k++) {
            if (mask[k] || !an_is_digit(tok[k])) continue;
            uint64_t p = priority(iv->block_seed, stack, k);
            if (best == nk || p < bp) best = k, bp = p;
        }
        if (best == nk) break; /* fewer digits than specials: all blocked */
        mask[best] = 1;
    }
}

/* Zero the masked entries of a row and renormalise the rest. */
static void mask_row(float *p, size_t nk, const unsigned char *mask)
{
    double s = 0;
    for (size_t k = 0; k < nk; k++) {
        if (mask[k]) p[k] = 0;
        s += p[k];
    }
    if (s > 0)
        for (size_t k = 0; k < nk; k++) p[k] = (float)(p[k] / s);
}

static void mean_head(const an_iv *iv, const t5_attn_event *ev, size_t h, float *P)
{
    const an_grid *g = iv->means[ev->kind] ? iv->means[ev->kind][ev->layer * iv->n_heads + h] : NULL;
    for (size_t i = 0; i < ev->n_q; i++) {
        size_t q = ev->q_pos0 + i;
        size_t nk = ev->kind == T5_ATTN_DEC_SELF && q + 1 < ev->n_k ? q + 1 : ev->n_k;
        float *p = P + i * ev->n_k;
        memset(p, 0, ev->n_k * sizeof *p);
        double s = 0;
        if (g && q < g->rows)
            for (size_t k = 0; k < nk && k < g->cols; k++) {
                size_t c = q * g->cols + k;
                p[k] = g->count[c] > 0 ? (float)(g->sum[c] / g->count[c]) : 0.0f;
                s += p[k];
            }
        if (s > 0)
            for (size_t k = 0; k < nk; k++) p[k] = (float)(p[k] / s);
        else
            for (size_t k = 0; k < nk; k++) p[k] = 1.0f / (float)nk;
    }
}

void an_hook(void *user, const t5_attn_event *ev)
{
    an_iv *iv = user;
    iv->events++;
    t5_attn_kind kind = ev->kind;
    size_t nq = ev->n_q, nk = ev->n_k;
    if ((unsigned)kind < AN_N_KINDS && ev->layer < iv->n_layers[kind]) {
        size_t H = ev->n_heads < iv->n_heads ? ev->n_heads : iv->n_heads;
        for (size_t h = 0; h < H; h++) {
            float *P = ev->probs + h * nq * nk;
            switch ((an_abl_mode)iv->mode[kind][ev->layer * iv->n_heads + h]) {
            case AN_ABL_ZERO: memset(P, 0, nq * nk * sizeof *P); break;
            case AN_ABL_MEAN: mean_head(iv, ev, h, P); break;
            default: break;
            }
        }
        if (iv->block != AN_BLOCK_NONE && (iv->block_kinds & (1u << kind))) {
            const int *tok = kind == T5_ATTN_DEC_SELF ? iv->dec : iv->src;
            size_t avail = kind == T5_ATTN_DEC_SELF ? iv->n_dec : iv->n_src;
            unsigned char *mask = xmalloc(nk + 1);
            for (size_t i = 0; i < nq; i++) {
                size_t q = ev->q_pos0 + i;
                size_t vis = kind == T5_ATTN_DEC_SELF && q + 1 < nk ? q + 1 : nk;
                if (vis > avail) vis = avail; /* tokens unknown: leave those keys */
                if (tok == NULL || vis == 0) continue;
                if (i == 0 || kind == T5_ATTN_DEC_SELF)
                    block_mask(iv, kind == T5_ATTN_DEC_SELF, tok, vis, mask);
                for (size_t h = 0; h < ev->n_heads; h++) mask_row(ev->probs + (h * nq + i) * nk, vis, mask);
            }
            free(mask);
        }
    }
    if (iv->capture) trace_hook(iv->capture, ev);
}

static size_t argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* Install iv's hook (or keep the run's own when iv is NULL); returns the
 * previous hook in *fn and *user for restoring. */
static void install(t5_run *r, an_iv *iv, t5_hook_fn *fn, void **user)
{
    t5_run_get_hook(r, fn, user);
    if (iv) t5_run_set_hook(r, an_hook, iv);
}

long an_greedy(t5_run *r, an_iv *iv, const int *src, size_t n_src, int *out, size_t max_len,
               as_err *err)
{
    const t5_model *m = t5_run_model(r);
    const t5_config *c = &m->cfg;
    if (max_len + 1 > t5_run_max_tgt(r))
        return as_errf(err, "%zu output tokens do not fit the run (at most %zu)", max_len,
                       t5_run_max_tgt(r) - 1);
    attn_trace *cap = iv ? iv->capture : NULL;
    if (cap && (n_src > cap->max_src || max_len + 1 > cap->max_tgt))
        return as_errf(err, "the capture trace is too small (%zu source, %zu output tokens)", n_src,
                       max_len);
    if (iv) {
        dec_reserve(iv, max_len + 1);
        iv->src = src;
        iv->n_src = n_src;
        iv->n_dec = 0;
    }
    if (cap) {
        cap->n_tgt = cap->n_rows = 0;
        trace_set_src(cap, src, n_src);
        trace_push_tgt(cap, c->decoder_start_token_id, 0);
    }
    t5_hook_fn prev;
    void *prev_user;
    install(r, iv, &prev, &prev_user);
    float *logits = xmalloc(c->vocab_size * sizeof *logits);
    long n = 0;
    if (t5_encode(r, src, n_src, err)) {
        n = -1;
        goto done;
    }
    int tok = c->decoder_start_token_id;
    for (size_t step = 0; step < max_len; step++) {
        if (iv) iv->dec[iv->n_dec++] = tok;
        if (t5_decode_step(r, tok, logits, err)) {
            n = -1;
            goto done;
        }
        tok = (int)argmax(logits, c->vocab_size);
        out[n++] = tok;
        if (cap) trace_push_tgt(cap, tok, (int)step);
        if (tok == c->eos_token_id) break;
    }
done:
    t5_run_set_hook(r, prev, prev_user);
    free(logits);
    if (cap) cap->n_rows = n > 0 ? (size_t)n : 0;
    return n;
}

int an_forced(t5_run *r, an_iv *iv, const int *src, size_t n_src, const int *dec_in, size_t T,
              float *logits, as_err *err)
{
    if (iv) {
        dec_reserve(iv, T + 1);
        memcpy(iv->dec, dec_in, T * sizeof *dec_in);
        iv->n_dec = T;
        iv->src = src;
        iv->n_src = n_src;
    }
    t5_hook_fn prev;
    void *prev_user;
    install(r, iv, &prev, &prev_user);
    int rc = t5_teacher_forced(r, src, n_src, dec_in, T, logits, err);
    t5_run_set_hook(r, prev, prev_user);
    return rc;
}

size_t an_encode(const tok_vocab *tok, const char *text, int *ids, size_t cap)
{
    if (!tok) return byt5_encode_eos(text, ids, cap);
    size_t n = tok_encode(tok, text, ids, cap);
    return n > cap ? 0 : n;
}

size_t an_decode(const tok_vocab *tok, const int *ids, size_t n, char *out, size_t cap)
{
    return tok ? tok_decode(tok, ids, n, out, cap) : byt5_decode(ids, n, out, cap);
}
