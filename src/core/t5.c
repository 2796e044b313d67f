/* t5.c - T5 inference: encoder, incremental decoder with a key/value cache,
 * greedy decoding, teacher forcing, and the attention hook (see t5.h).
 *
 * It follows Hugging Face's T5ForConditionalGeneration step by step: RMS
 * layer norm before each sublayer and a residual add after it, attention
 * scores q.k without 1/sqrt(d_kv), a relative position bias taken from the
 * first layer of each stack (bidirectional buckets in the encoder, causal in
 * the decoder; none in cross attention), relu or gated tanh-GELU
 * feed-forward, final layer norms, and a tied output scaled by d_model^-0.5
 * or an untied lm_head. Dropout does not exist here (inference only).
 *
 * The decoder always runs the same way: the new positions p0 .. p0+n-1 write
 * their keys and values into the cache, then attend to keys 0 .. p0+n-1 with
 * a causal mask. One token (t5_decode_step) and a whole target (teacher
 * forcing) are the same code with n = 1 and p0 = 0.
 *
 * Every buffer is allocated once in t5_run_new; decoding allocates nothing.
 * Deliberately not here: backward passes (train), batching, sampling. */
#include "t5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

struct t5_run {
    const t5_model *m;
    size_t max_src, max_tgt;
    size_t rows;              /* max(max_src, max_tgt): rows of the scratch buffers */
    t5_hook_fn hook;
    void *hook_user;
    t5_state_fn state_hook;   /* the hidden-state hook (t5_run_set_state_hook) */
    void *state_user;
    int threads;              /* threads for one-row products (t5_run_set_threads) */
    size_t n_src;             /* encoded source tokens; 0 before t5_encode */
    size_t n_dec;             /* decoder positions fed since t5_encode */

    float *mem;               /* the one allocation below point into */
    float *enc_out;           /* (max_src, C) encoder output after its final layer norm */
    /* Keys are kept transposed, per head (H, d_kv, positions): a query's
     * scores are then d_kv contiguous multiply-adds over the positions
     * instead of one short dot product per key. Values stay (positions, HD). */
    float *cross_k;           /* (Ld, H, dkv, max_src) keys of cross attention */
    float *cross_v;           /* (Ld, max_src, HD) values of cross attention */
    float *self_k;            /* (Ld, H, dkv, max_tgt) the decoder's key cache */
    float *self_v;            /* (Ld, max_tgt, HD) the decoder's value cache */
    float *enc_k;             /* (H, dkv, n_src) one encoder layer's keys (max_src * HD floats) */
    float *enc_bias;          /* (H, 2*max_src-1) encoder bias by key-query + max_src-1 */
    float *dec_bias;          /* (H, max_tgt) decoder bias by query-key (>= 0) */
    float *x, *xn;            /* (rows, C) residual stream and its normed copy */
    float *q, *k, *v, *a;     /* (rows, HD) queries, keys, values, attention output */
    float *h0, *h1;           /* (rows, d_ff) feed-forward hidden (h1: gated half) */
    float *att;               /* (H, rows, rows) scores, then probabilities */
    float *logits;            /* (V) the last step's logits (greedy) */
    float *fused;             /* (max(3 HD, 2 d_ff)) one-row fused q|k|v or wi_0|wi_1 */
    float *sub;               /* (rows, C) a sublayer's output, when the state hook is set */
};

t5_run *t5_run_new(const t5_model *m, size_t max_src, size_t max_tgt)
{
    const t5_config *c = &m->cfg;
    if (max_src == 0) max_src = 1;
    if (max_tgt == 0) max_tgt = 1;
    t5_run *r = xcalloc(1, sizeof *r);
    r->m = m;
    r->max_src = max_src;
    r->max_tgt = max_tgt;
    r->threads = 1;
    r->rows = max_src > max_tgt ? max_src : max_tgt;
    size_t C = c->d_model, HD = c->num_heads * c->d_kv, H = c->num_heads;
    size_t Ld = c->num_decoder_layers, R = r->rows;
    size_t sizes[] = {
        max_src * C,                 /* enc_out */
        Ld * max_src * HD,           /* cross_k */
        Ld * max_src * HD,           /* cross_v */
        Ld * max_tgt * HD,           /* self_k */
        Ld * max_tgt * HD,           /* self_v */
        max_src * HD,                /* enc_k */
        H * (2 * max_src - 1),       /* enc_bias */
        H * max_tgt,                 /* dec_bias */
        R * C, R * C,                /* x, xn */
        R * HD, R * HD, R * HD, R * HD, /* q, k, v, a */
        R * c->d_ff, R * c->d_ff,    /* h0, h1 */
        H * R * R,                   /* att */
        c->vocab_size,               /* logits */
        3 * HD > 2 * c->d_ff ? 3 * HD : 2 * c->d_ff, /* fused */
        R * C,                       /* sub */
    };
    float **dst[] = {&r->enc_out, &r->cross_k, &r->cross_v, &r->self_k, &r->self_v, &r->enc_k,
                     &r->enc_bias, &r->dec_bias, &r->x, &r->xn, &r->q, &r->k, &r->v,
                     &r->a, &r->h0, &r->h1, &r->att, &r->logits, &r->fused, &r->sub};
    size_t total = 0, n = sizeof sizes / sizeof sizes[0];
    /* Round each buffer up to 16 floats so they start 64 bytes apart. */
    for (size_t i = 0; i < n; i++) total += (sizes[i] + 15) & ~(size_t)15;
    r->mem = xcalloc(total, sizeof(float));
    float *p = r->mem;
    for (size_t i = 0; i < n; i++) {
        *dst[i] = p;
        p += (sizes[i] + 15) & ~(size_t)15;
    }
    return r;
}

void t5_run_free(t5_run *r)
{
    if (!r) return;
    free(r->mem);
    free(r);
}

void t5_run_set_hook(t5_run *r, t5_hook_fn fn, void *user)
{
    r->hook = fn;
    r->hook_user = fn ? user : NULL;
}

void t5_run_get_hook(const t5_run *r, t5_hook_fn *fn, void **user)
{
    if (fn) *fn = r->hook;
    if (user) *user = r->hook_user;
}

void t5_run_set_state_hook(t5_run *r, t5_state_fn fn, void *user)
{
    r->state_hook = fn;
    r->state_user = fn ? user : NULL;
}

void t5_run_get_state_hook(const t5_run *r, t5_state_fn *fn, void **user)
{
    if (fn) *fn = r->state_hook;
    if (user) *user = r->state_user;
}

void t5_run_set_threads(t5_run *r, int threads) { r->threads = threads < 1 ? 1 : threads; }

size_t t5_run_decoded(const t5_run *r) { return r->n_dec; }

size_t t5_run_max_src(const t5_run *r) { return r->max_src; }

size_t t5_run_max_tgt(const t5_run *r) { return r->max_tgt; }

const t5_model *t5_run_model(const t5_run *r) { return r->m; }

/* ---- building blocks ------------------------------------------------------ */

/* The position bias tables of both stacks from layer 0's
 * relative_attention_bias (buckets, H). Computed at every t5_encode, so a
 * model whose weights change between runs (training) stays right. */
static void position_bias_tables(t5_run *r)
{
    const t5_config *c = &r->m->cfg;
    size_t H = c->num_heads, S = r->max_src, T = r->max_tgt;
    const float *eb = r->m->w.enc[0].rel_bias, *db = r->m->w.dec[0].rel_bias;
    size_t width = 2 * S - 1;
    for (size_t i = 0; i < width; i++) {
        long rel = (long)i - (long)(S - 1); /* key - query */
        int b = t5_rel_bucket(rel, 1, c->rel_buckets, c->rel_max_distance);
        for (size_t h = 0; h < H; h++) r->enc_bias[h * width + i] = eb[(size_t)b * H + h];
    }
    for (size_t d = 0; d < T; d++) {
        int b = t5_rel_bucket(-(long)d, 0, c->rel_buckets, c->rel_max_distance);
        for (size_t h = 0; h < H; h++) r->dec_bias[h * T + d] = db[(size_t)b * H + h];
    }
}

/* out (n, OC) = inp (n, C) @ w^T (+ beta out). Several rows go to BLAS; one
 * row (a decoding step) to the SIMD matrix-vector kernel, on r->threads. */
static void linear(const t5_run *r, float *out, const float *inp, const float *w, size_t n,
                   size_t C, size_t OC, float beta)
{
    if (n == 1)
        matvec_forward_mt(out, inp, w, C, OC, beta, r->threads);
    else
        matmul_forward(out, inp, w, n, C, OC, beta);
}

static void embed(float *x, const float *shared, const int *tok, size_t n, size_t C)
{
    for (size_t i = 0; i < n; i++) memcpy(x + i * C, shared + (size_t)tok[i] * C, C * sizeof *x);
}

/* Show rows x (n, C) at positions pos0.. to the state hook, if one is set. */
static void state(const t5_run *r, t5_stack stack, t5_state_kind kind, size_t layer, float *x,
                  size_t n, size_t pos0)
{
    if (!r->state_hook) return;
    t5_state_event ev = {stack, kind, layer, n, pos0, r->m->cfg.d_model, x};
    r->state_hook(r->state_user, &ev);
}

/* The residual add of one sublayer: x (n, C) += inp (n, K) @ w^T. With a
 * state hook the output goes through r->sub so the hook sees (and may
 * change) it before the add. */
static void sublayer_add(t5_run *r, t5_stack stack, t5_state_kind kind, size_t layer,
                         const float *inp, const float *w, size_t n, size_t K, size_t pos0)
{
    size_t C = r->m->cfg.d_model;
    if (!r->state_hook) {
        linear(r, r->x, inp, w, n, K, C, 1.0f);
        return;
    }
    linear(r, r->sub, inp, w, n, K, C, 0.0f);
    state(r, stack, kind, layer, r->sub, n, pos0);
    for (size_t i = 0; i < n * C; i++) r->x[i] += r->sub[i];
}

/* Write keys k (n, HD) for positions p0 .. p0+n-1 into a transposed store
 * kt (H, dkv, ldk). */
static void store_keys(float *kt, size_t ldk, const float *k, size_t n, size_t p0, size_t H,
                       size_t dkv)
{
    for (size_t i = 0; i < n; i++)
        for (size_t h = 0; h < H; h++)
            for (size_t d = 0; d < dkv; d++)
                kt[(h * dkv + d) * ldk + p0 + i] = k[i * H * dkv + h * dkv + d];
}

/* Query rows up to which attention uses plain loops instead of BLAS. */
#define ATTN_FEW_ROWS 4

/* Multi-head attention of nq queries (absolute positions q_pos0..) against
 * nk keys, all heads: out (nq, HD) = softmax(q k^T + bias) v per head.
 * kind selects the bias: encoder (bidirectional), decoder self (causal, and
 * masked above the diagonal) or cross (none). The hook sees the
 * probabilities between softmax and the value product. */
static void attention(t5_run *r, t5_attn_kind kind, size_t layer, const float *q, size_t nq,
                      size_t q_pos0, const float *kt, size_t ldk, const float *v, size_t nk,
                      float *out)
{
    const t5_config *c = &r->m->cfg;
    size_t H = c->num_heads, dkv = c->d_kv, HD = H * dkv;
    float *att = r->att;
    /* A decoding step has one query row: BLAS calls cost more than these
     * short products, so few rows take the plain SIMD path. */
    int few = nq <= ATTN_FEW_ROWS;
    for (size_t h = 0; h < H; h++) {
        float *s = att + h * nq * nk;
        const float *kh = kt + h * dkv * ldk; /* (dkv, ldk) */
        if (few) {
            for (size_t i = 0; i < nq; i++)
                vecmat_forward(s + i * nk, q + i * HD + h * dkv, kh, dkv, nk, ldk);
        } else {
            gemm(0, 0, nq, nk, dkv, 1.0f, q + h * dkv, HD, kh, ldk, 0.0f, s, nk);
        }
        if (kind == T5_ATTN_ENC_SELF) {
            size_t width = 2 * r->max_src - 1;
            const float *bias = r->enc_bias + h * width + (r->max_src - 1);
            for (size_t i = 0; i < nq; i++) {
                float *row = s + i * nk;
                const float *b = bias - (long)(q_pos0 + i); /* b[j] = bias at key - query */
                for (size_t j = 0; j < nk; j++) row[j] += b[j];
            }
        } else if (kind == T5_ATTN_DEC_SELF) {
            const float *bias = r->dec_bias + h * r->max_tgt;
            for (size_t i = 0; i < nq; i++) {
                float *row = s + i * nk;
                size_t qp = q_pos0 + i;
                for (size_t j = 0; j <= qp; j++) row[j] += bias[qp - j];
                for (size_t j = qp + 1; j < nk; j++) row[j] = -INFINITY;
            }
        }
        softmax_rows(s, nq, nk, nk);
    }
    if (r->hook) {
        t5_attn_event ev = {kind, layer, H, nq, nk, q_pos0, att, v};
        r->hook(r->hook_user, &ev);
    }
    for (size_t h = 0; h < H; h++) {
        const float *p = att + h * nq * nk;
        if (few) {
            for (size_t i = 0; i < nq; i++)
                vecmat_forward(out + i * HD + h * dkv, p + i * nk, v + h * dkv, nk, dkv, HD);
        } else {
            gemm(0, 0, nq, dkv, nk, 1.0f, p, nk, v + h * dkv, HD, 0.0f, out + h * dkv, HD);
        }
    }
}

/* x (n, C) += FF(layer_norm(x)), relu or gated tanh-GELU; the state hook
 * sees FF's output as (stack, T5_STATE_MLP, layer) at positions pos0... */
static void feed_forward(t5_run *r, const t5_block *b, size_t n, t5_stack stack, size_t layer,
                         size_t pos0)
{
    const t5_config *c = &r->m->cfg;
    size_t C = c->d_model, F = c->d_ff;
    rmsnorm_forward(r->xn, NULL, r->x, b->ln_ff, n, C, c->layer_norm_eps);
    if (c->ff == T5_FF_GATED_GELU && n == 1 && b->wi1 == b->wi0 + F * C) {
        /* One row and wi_0, wi_1 adjacent (the parameter table's order): a
         * single product over both halves. */
        matvec_forward_mt(r->fused, r->xn, b->wi0, C, 2 * F, 0.0f, r->threads);
        gelu_forward(r->h0, r->fused, F);
        for (size_t i = 0; i < F; i++) r->h0[i] *= r->fused[F + i];
    } else if (c->ff == T5_FF_GATED_GELU) {
        linear(r, r->h0, r->xn, b->wi0, n, C, F, 0.0f);
        linear(r, r->h1, r->xn, b->wi1, n, C, F, 0.0f);
        gelu_forward(r->h0, r->h0, n * F);
        for (size_t i = 0; i < n * F; i++) r->h0[i] *= r->h1[i];
    } else {
        linear(r, r->h0, r->xn, b->wi, n, C, F, 0.0f);
        relu_forward(r->h0, r->h0, n * F);
    }
    sublayer_add(r, stack, T5_STATE_MLP, layer, r->h0, b->wo, n, F, pos0);
}

static int check_tokens(const t5_config *c, const int *tok, size_t n, const char *what,
                        as_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (tok[i] < 0 || (size_t)tok[i] >= c->vocab_size)
            return as_errf(err, "%s token %zu is %d, outside the vocabulary (0 .. %zu)", what, i,
                           tok[i], c->vocab_size - 1);
    return 0;
}

/* ---- encoder ----------------------------------------------------------------- */

int t5_encode(t5_run *r, const int *src, size_t n, as_err *err)
{
    const t5_model *m = r->m;
    const t5_config *c = &m->cfg;
    if (n == 0) return as_errf(err, "empty source: nothing to encode");
    if (n > r->max_src)
        return as_errf(err, "source of %zu tokens is longer than this run's limit of %zu", n,
                       r->max_src);
    if (check_tokens(c, src, n, "source", err)) return -1;
    size_t C = c->d_model, HD = c->num_heads * c->d_kv;
    float eps = c->layer_norm_eps;
    position_bias_tables(r);
    r->n_src = 0;
    r->n_dec = 0;
    embed(r->x, m->w.shared, src, n, C);
    state(r, T5_ENCODER, T5_STATE_EMBED, 0, r->x, n, 0);
    for (size_t l = 0; l < c->num_layers; l++) {
        const t5_block *b = &m->w.enc[l];
        rmsnorm_forward(r->xn, NULL, r->x, b->ln_self, n, C, eps);
        linear(r, r->q, r->xn, b->q, n, C, HD, 0.0f);
        linear(r, r->k, r->xn, b->k, n, C, HD, 0.0f);
        linear(r, r->v, r->xn, b->v, n, C, HD, 0.0f);
        store_keys(r->enc_k, n, r->k, n, 0, c->num_heads, c->d_kv);
        attention(r, T5_ATTN_ENC_SELF, l, r->q, n, 0, r->enc_k, n, r->v, n, r->a);
        sublayer_add(r, T5_ENCODER, T5_STATE_ATTN, l, r->a, b->o, n, HD, 0);
        feed_forward(r, b, n, T5_ENCODER, l, 0);
        state(r, T5_ENCODER, T5_STATE_RESID, l, r->x, n, 0);
    }
    rmsnorm_forward(r->enc_out, NULL, r->x, m->w.enc_final_ln, n, C, eps);
    /* Cross-attention keys and values depend only on the encoder output:
     * computed once here for every decoder layer. */
    for (size_t l = 0; l < c->num_decoder_layers; l++) {
        const t5_block *b = &m->w.dec[l];
        linear(r, r->k, r->enc_out, b->ck, n, C, HD, 0.0f);
        store_keys(r->cross_k + l * r->max_src * HD, r->max_src, r->k, n, 0, c->num_heads,
                   c->d_kv);
        linear(r, r->cross_v + l * r->max_src * HD, r->enc_out, b->cv, n, C, HD, 0.0f);
    }
    r->n_src = n;
    return 0;
}

/* ---- decoder ----------------------------------------------------------------- */

/* logits (n, V) from residual rows x (n, C): the final layer norm into the
 * scratch xn (n, C), then the LM head. */
static void output_head(const t5_model *m, float *xn, const float *x, size_t n, float *logits,
                        int threads)
{
    const t5_config *c = &m->cfg;
    size_t C = c->d_model, V = c->vocab_size;
    rmsnorm_forward(xn, NULL, x, m->w.dec_final_ln, n, C, c->layer_norm_eps);
    const float *head = m->w.lm_head;
    if (!head) {
        /* Tied embeddings: HF rescales the decoder output by d_model^-0.5. */
        float scale = 1.0f / sqrtf((float)C);
        for (size_t i = 0; i < n * C; i++) xn[i] *= scale;
        head = m->w.shared;
    }
    if (n == 1)
        matvec_forward_mt(logits, xn, head, C, V, 0.0f, threads);
    else
        matmul_forward(logits, xn, head, n, C, V, 0.0f);
}

/* Run the decoder on n new tokens at positions n_dec .. n_dec+n-1, extending
 * the cache, and write logits (n, V) when logits is not NULL. */
static int decode(t5_run *r, const int *tok, size_t n, float *logits, as_err *err)
{
    const t5_model *m = r->m;
    const t5_config *c = &m->cfg;
    if (r->n_src == 0) return as_errf(err, "decoding before anything was encoded");
    if (n == 0) return as_errf(err, "empty decoder input");
    if (r->n_dec + n > r->max_tgt)
        return as_errf(err, "decoder input of %zu tokens is longer than this run's limit of %zu",
                       r->n_dec + n, r->max_tgt);
    if (check_tokens(c, tok, n, "decoder input", err)) return -1;
    size_t C = c->d_model, HD = c->num_heads * c->d_kv;
    size_t p0 = r->n_dec, S = r->n_src;
    float eps = c->layer_norm_eps;
    embed(r->x, m->w.shared, tok, n, C);
    state(r, T5_DECODER, T5_STATE_EMBED, 0, r->x, n, p0);
    for (size_t l = 0; l < c->num_decoder_layers; l++) {
        const t5_block *b = &m->w.dec[l];
        float *kc = r->self_k + l * r->max_tgt * HD, *vc = r->self_v + l * r->max_tgt * HD;
        rmsnorm_forward(r->xn, NULL, r->x, b->ln_self, n, C, eps);
        if (n == 1 && b->k == b->q + HD * C && b->v == b->k + HD * C) {
            /* A decoding step with q, k, v adjacent (the parameter table's
             * order): one product, then k and v into the cache. */
            matvec_forward_mt(r->fused, r->xn, b->q, C, 3 * HD, 0.0f, r->threads);
            memcpy(r->q, r->fused, HD * sizeof *r->q);
            store_keys(kc, r->max_tgt, r->fused + HD, 1, p0, c->num_heads, c->d_kv);
            memcpy(vc + p0 * HD, r->fused + 2 * HD, HD * sizeof *vc);
        } else {
            linear(r, r->q, r->xn, b->q, n, C, HD, 0.0f);
            linear(r, r->k, r->xn, b->k, n, C, HD, 0.0f);
            store_keys(kc, r->max_tgt, r->k, n, p0, c->num_heads, c->d_kv);
            linear(r, vc + p0 * HD, r->xn, b->v, n, C, HD, 0.0f);
        }
        attention(r, T5_ATTN_DEC_SELF, l, r->q, n, p0, kc, r->max_tgt, vc, p0 + n, r->a);
        sublayer_add(r, T5_DECODER, T5_STATE_ATTN, l, r->a, b->o, n, HD, p0);

        rmsnorm_forward(r->xn, NULL, r->x, b->ln_cross, n, C, eps);
        linear(r, r->q, r->xn, b->cq, n, C, HD, 0.0f);
        attention(r, T5_ATTN_CROSS, l, r->q, n, p0, r->cross_k + l * r->max_src * HD,
                  r->max_src, r->cross_v + l * r->max_src * HD, S, r->a);
        sublayer_add(r, T5_DECODER, T5_STATE_CROSS, l, r->a, b->co, n, HD, p0);

        feed_forward(r, b, n, T5_DECODER, l, p0);
        state(r, T5_DECODER, T5_STATE_RESID, l, r->x, n, p0);
    }
    r->n_dec += n;
    if (logits) output_head(m, r->xn, r->x, n, logits, r->threads);
    return 0;
}

void t5_logits_from_state(const t5_model *m, const float *x, size_t n, float *logits)
{
    float *xn = xmalloc(n * m->cfg.d_model * sizeof *xn);
    output_head(m, xn, x, n, logits, 1);
    free(xn);
}

int t5_decode_step(t5_run *r, int token, float *logits, as_err *err)
{
    return decode(r, &token, 1, logits, err);
}

int t5_decode_tokens(t5_run *r, const int *tok, size_t n, float *logits, as_err *err)
{
    return decode(r, tok, n, logits, err);
}

int t5_run_rewind(t5_run *r, size_t pos, as_err *err)
{
    if (pos > r->n_dec)
        return as_errf(err, "cannot rewind to decoder position %zu: only %zu were fed", pos,
                       r->n_dec);
    r->n_dec = pos;
    return 0;
}

/* Index of the largest value; the first on ties, as torch.argmax. */
static size_t argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

long t5_greedy(t5_run *r, const int *src, size_t n_src, int *out, size_t max_len, as_err *err)
{
    const t5_config *c = &r->m->cfg;
    /* The last generated token is never fed, so max_len positions suffice. */
    if (max_len > r->max_tgt)
        return as_errf(err, "max_len %zu is larger than this run's decoder limit of %zu",
                       max_len, r->max_tgt);
    if (t5_encode(r, src, n_src, err)) return -1;
    int tok = c->decoder_start_token_id;
    size_t n = 0;
    while (n < max_len) {
        if (decode(r, &tok, 1, r->logits, err)) return -1;
        tok = (int)argmax(r->logits, c->vocab_size);
        out[n++] = tok;
        if (tok == c->eos_token_id) break;
    }
    return (long)n;
}

int t5_teacher_forced(t5_run *r, const int *src, size_t n_src, const int *dec_in, size_t T,
                      float *logits, as_err *err)
{
    if (T > r->max_tgt)
        return as_errf(err, "decoder input of %zu tokens is longer than this run's limit of %zu",
                       T, r->max_tgt);
    if (t5_encode(r, src, n_src, err)) return -1;
    return decode(r, dec_in, T, logits, err);
}

double t5_cross_entropy(const float *logits, const int *labels, size_t T, size_t V)
{
    double total = 0.0;
    size_t count = 0;
    for (size_t t = 0; t < T; t++) {
        if (labels[t] < 0 || (size_t)labels[t] >= V) continue;
        const float *row = logits + t * V;
        float mx = row[argmax(row, V)];
        double sum = 0.0;
        for (size_t j = 0; j < V; j++) sum += exp((double)row[j] - mx);
        total += log(sum) + mx - row[labels[t]];
        count++;
    }
    return count ? total / (double)count : NAN;
}
