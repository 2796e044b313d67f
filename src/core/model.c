/* model.c - the T5 configuration (defaults, checks), the parameter table
 * (every tensor's Hugging Face name, shape and place in one float array),
 * allocation and Hugging Face-style random initialisation.
 *
 * Deliberately not here: reading and writing files (model_io.c,
 * config_json.c, safetensors.c) and the forward pass (t5.c). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "model_int.h"
#include "t5.h"

/* Upper bounds that keep every product below in size_t and float-index
 * range; far above any real T5 (t5-11b: d_ff 65536, ByT5-xxl: d_model 4672). */
#define CFG_MAX_DIM     ((size_t)1 << 20)
#define CFG_MAX_LAYERS  ((size_t)1024)
#define CFG_MAX_PARAMS  ((size_t)1 << 36)

void t5_config_default(t5_config *c)
{
    memset(c, 0, sizeof *c);
    c->vocab_size = 384;
    c->d_model = 128;
    c->d_kv = 32;
    c->d_ff = 512;
    c->num_heads = 4;
    c->num_layers = 3;
    c->num_decoder_layers = 3;
    c->rel_buckets = 32;
    c->rel_max_distance = 128;
    c->layer_norm_eps = 1e-6f;
    c->dropout_rate = (double)0.1f;
    c->ff = T5_FF_RELU;
    c->tie_word_embeddings = 1;
    c->pad_token_id = 0;
    c->eos_token_id = 1;
    c->decoder_start_token_id = 0;
}

static int check_dim(size_t v, const char *key, size_t max, as_err *err)
{
    if (v == 0) return as_errf(err, "%s must be positive (got 0)", key);
    if (v > max) return as_errf(err, "%s = %zu is too large (at most %zu)", key, v, max);
    return 0;
}

static int check_token(int id, const char *key, size_t vocab, as_err *err)
{
    if (id < 0 || (size_t)id >= vocab)
        return as_errf(err, "%s = %d is outside the vocabulary (0 .. %zu)", key, id, vocab - 1);
    return 0;
}

int t5_config_check(const t5_config *c, as_err *err)
{
    if (check_dim(c->vocab_size, "vocab_size", CFG_MAX_DIM * 4, err) ||
        check_dim(c->d_model, "d_model", CFG_MAX_DIM, err) ||
        check_dim(c->d_kv, "d_kv", CFG_MAX_DIM, err) ||
        check_dim(c->d_ff, "d_ff", CFG_MAX_DIM, err) ||
        check_dim(c->num_heads, "num_heads", 4096, err) ||
        check_dim(c->num_layers, "num_layers", CFG_MAX_LAYERS, err) ||
        check_dim(c->num_decoder_layers, "num_decoder_layers", CFG_MAX_LAYERS, err) ||
        check_dim(c->rel_buckets, "relative_attention_num_buckets", 1 << 16, err) ||
        check_dim(c->rel_max_distance, "relative_attention_max_distance", 1 << 24, err))
        return -1;
    if (c->num_heads * c->d_kv > CFG_MAX_DIM)
        return as_errf(err, "num_heads * d_kv = %zu is too large (at most %zu)",
                       c->num_heads * c->d_kv, CFG_MAX_DIM);
    /* The bucket formula (HF _relative_position_bucket) divides by
     * log(max_distance / max_exact), max_exact = buckets/4 (bidirectional)
     * or buckets/2 (causal): both must be >= 1 and below max_distance. */
    if (c->rel_buckets < 4)
        return as_errf(err, "relative_attention_num_buckets = %zu: need at least 4",
                       c->rel_buckets);
    if (c->rel_max_distance <= c->rel_buckets / 2)
        return as_errf(err,
                       "relative_attention_max_distance = %zu must be larger than "
                       "relative_attention_num_buckets / 2 = %zu",
                       c->rel_max_distance, c->rel_buckets / 2);
    if (!(c->layer_norm_eps > 0.0f) || !isfinite(c->layer_norm_eps))
        return as_errf(err, "layer_norm_epsilon = %g must be a positive number",
                       (double)c->layer_norm_eps);
    if (c->ff != T5_FF_RELU && c->ff != T5_FF_GATED_GELU)
        return as_errf(err, "feed_forward_proj: unknown kind %d", (int)c->ff);
    if (check_token(c->pad_token_id, "pad_token_id", c->vocab_size, err) ||
        check_token(c->eos_token_id, "eos_token_id", c->vocab_size, err) ||
        check_token(c->decoder_start_token_id, "decoder_start_token_id", c->vocab_size, err))
        return -1;
    size_t n = 0;
    free(t5_param_table(c, NULL, &n));
    if (n > CFG_MAX_PARAMS)
        return as_errf(err, "the model would have %zu parameters (at most %zu)", n,
                       CFG_MAX_PARAMS);
    return 0;
}

/* ---- the parameter table ------------------------------------------------- */

typedef struct {
    t5_tensor *t;
    size_t n, cap;
    size_t off;
} table_builder;

static void tb_add(table_builder *b, size_t d0, size_t d1, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Append one tensor of shape (d0) when d1 == 0, else (d0, d1). */
static void tb_add(table_builder *b, size_t d0, size_t d1, const char *fmt, ...)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->t = xrealloc(b->t, b->cap * sizeof *b->t);
    }
    t5_tensor *t = &b->t[b->n++];
    memset(t, 0, sizeof *t);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->ndim = d1 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->numel = d1 ? d0 * d1 : d0;
    t->offset = b->off;
    b->off += t->numel;
}

static void tb_attention(table_builder *b, const t5_config *c, const char *prefix, int rel)
{
    size_t C = c->d_model, inner = c->num_heads * c->d_kv;
    tb_add(b, inner, C, "%s.q.weight", prefix);
    tb_add(b, inner, C, "%s.k.weight", prefix);
    tb_add(b, inner, C, "%s.v.weight", prefix);
    tb_add(b, C, inner, "%s.o.weight", prefix);
    if (rel) tb_add(b, c->rel_buckets, c->num_heads, "%s.relative_attention_bias.weight", prefix);
}

static void tb_ff(table_builder *b, const t5_config *c, const char *prefix)
{
    size_t C = c->d_model;
    if (c->ff == T5_FF_GATED_GELU) {
        tb_add(b, c->d_ff, C, "%s.DenseReluDense.wi_0.weight", prefix);
        tb_add(b, c->d_ff, C, "%s.DenseReluDense.wi_1.weight", prefix);
    } else {
        tb_add(b, c->d_ff, C, "%s.DenseReluDense.wi.weight", prefix);
    }
    tb_add(b, C, c->d_ff, "%s.DenseReluDense.wo.weight", prefix);
    tb_add(b, C, 0, "%s.layer_norm.weight", prefix);
}

t5_tensor *t5_param_table(const t5_config *c, size_t *n_tensors, size_t *n_params)
{
    table_builder b = {0};
    char p[64];
    size_t C = c->d_model;
    tb_add(&b, c->vocab_size, C, "shared.weight");
    for (size_t i = 0; i < c->num_layers; i++) {
        snprintf(p, sizeof p, "encoder.block.%zu.layer.0.SelfAttention", i);
        tb_attention(&b, c, p, i == 0);
        tb_add(&b, C, 0, "encoder.block.%zu.layer.0.layer_norm.weight", i);
        snprintf(p, sizeof p, "encoder.block.%zu.layer.1", i);
        tb_ff(&b, c, p);
    }
    tb_add(&b, C, 0, "encoder.final_layer_norm.weight");
    for (size_t i = 0; i < c->num_decoder_layers; i++) {
        snprintf(p, sizeof p, "decoder.block.%zu.layer.0.SelfAttention", i);
        tb_attention(&b, c, p, i == 0);
        tb_add(&b, C, 0, "decoder.block.%zu.layer.0.layer_norm.weight", i);
        snprintf(p, sizeof p, "decoder.block.%zu.layer.1.EncDecAttention", i);
        tb_attention(&b, c, p, 0);
        tb_add(&b, C, 0, "decoder.block.%zu.layer.1.layer_norm.weight", i);
        snprintf(p, sizeof p, "decoder.block.%zu.layer.2", i);
        tb_ff(&b, c, p);
    }
    tb_add(&b, C, 0, "decoder.final_layer_norm.weight");
    if (!c->tie_word_embeddings) tb_add(&b, c->vocab_size, C, "lm_head.weight");
    if (n_tensors) *n_tensors = b.n;
    if (n_params) *n_params = b.off;
    return b.t;
}

/* ---- allocation ------------------------------------------------------------ */

const t5_tensor *t5_find_tensor(const t5_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}

/* Pointer to the named tensor's data, or NULL when the table lacks it. */
static float *wptr(t5_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static float *wptr(t5_model *m, const char *fmt, ...)
{
    char name[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    const t5_tensor *t = t5_find_tensor(m, name);
    return t ? t->data : NULL;
}

static void set_attention(t5_model *m, const char *p, float **q, float **k, float **v, float **o)
{
    *q = wptr(m, "%s.q.weight", p);
    *k = wptr(m, "%s.k.weight", p);
    *v = wptr(m, "%s.v.weight", p);
    *o = wptr(m, "%s.o.weight", p);
}

static void set_ff(t5_model *m, t5_block *b, const char *p)
{
    b->wi = wptr(m, "%s.DenseReluDense.wi.weight", p);
    b->wi0 = wptr(m, "%s.DenseReluDense.wi_0.weight", p);
    b->wi1 = wptr(m, "%s.DenseReluDense.wi_1.weight", p);
    b->wo = wptr(m, "%s.DenseReluDense.wo.weight", p);
    b->ln_ff = wptr(m, "%s.layer_norm.weight", p);
}

static void set_pointers(t5_model *m)
{
    const t5_config *c = &m->cfg;
    t5_weights *w = &m->w;
    char p[64];
    w->shared = wptr(m, "shared.weight");
    for (size_t i = 0; i < c->num_layers; i++) {
        t5_block *b = &w->enc[i];
        snprintf(p, sizeof p, "encoder.block.%zu.layer.0.SelfAttention", i);
        set_attention(m, p, &b->q, &b->k, &b->v, &b->o);
        b->rel_bias = wptr(m, "%s.relative_attention_bias.weight", p);
        b->ln_self = wptr(m, "encoder.block.%zu.layer.0.layer_norm.weight", i);
        snprintf(p, sizeof p, "encoder.block.%zu.layer.1", i);
        set_ff(m, b, p);
    }
    w->enc_final_ln = wptr(m, "encoder.final_layer_norm.weight");
    for (size_t i = 0; i < c->num_decoder_layers; i++) {
        t5_block *b = &w->dec[i];
        snprintf(p, sizeof p, "decoder.block.%zu.layer.0.SelfAttention", i);
        set_attention(m, p, &b->q, &b->k, &b->v, &b->o);
        b->rel_bias = wptr(m, "%s.relative_attention_bias.weight", p);
        b->ln_self = wptr(m, "decoder.block.%zu.layer.0.layer_norm.weight", i);
        snprintf(p, sizeof p, "decoder.block.%zu.layer.1.EncDecAttention", i);
        set_attention(m, p, &b->cq, &b->ck, &b->cv, &b->co);
        b->ln_cross = wptr(m, "decoder.block.%zu.layer.1.layer_norm.weight", i);
        snprintf(p, sizeof p, "decoder.block.%zu.layer.2", i);
        set_ff(m, b, p);
    }
    w->dec_final_ln = wptr(m, "decoder.final_layer_norm.weight");
    w->lm_head = wptr(m, "lm_head.weight");
}

int t5_alloc_unbacked(t5_model *m, const t5_config *cfg, as_err *err)
{
    memset(m, 0, sizeof *m);
    if (t5_config_check(cfg, err)) return -1;
    m->cfg = *cfg;
    m->tensors = t5_param_table(cfg, &m->n_tensors, &m->n_params);
    m->w.enc = xcalloc(cfg->num_layers, sizeof(t5_block));
    m->w.dec = xcalloc(cfg->num_decoder_layers, sizeof(t5_block));
    return 0;
}

void t5_bind_weights(t5_model *m)
{
    set_pointers(m);
}

int t5_alloc(t5_model *m, const t5_config *cfg, as_err *err)
{
    if (t5_alloc_unbacked(m, cfg, err)) return -1;
    m->params = calloc(m->n_params, sizeof(float));
    if (!m->params) {
        size_t n = m->n_params;
        t5_free(m);
        return as_errf(err, "out of memory for %zu parameters (%.1f MB)", n,
                       (double)n * sizeof(float) / 1e6);
    }
    for (size_t i = 0; i < m->n_tensors; i++) m->tensors[i].data = m->params + m->tensors[i].offset;
    set_pointers(m);
    return 0;
}

void t5_free(t5_model *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n_maps; i++) munmap(m->maps[i].addr, m->maps[i].len);
    free(m->maps);
    free(m->params);
    free(m->tensors);
    free(m->w.enc);
    free(m->w.dec);
    memset(m, 0, sizeof *m);
}

/* ---- initialisation -------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The standard deviation HF's T5PreTrainedModel._init_weights (factor 1)
 * gives the tensor, or 0 for layer norms (filled with 1). */
static double init_std(const t5_config *c, const char *name)
{
    double C = (double)c->d_model, dkv = (double)c->d_kv, H = (double)c->num_heads;
    if (ends_with(name, "layer_norm.weight")) return 0.0;
    if (!strcmp(name, "shared.weight") || !strcmp(name, "lm_head.weight")) return 1.0;
    if (ends_with(name, ".q.weight")) return 1.0 / sqrt(C * dkv);
    if (ends_with(name, ".k.weight") || ends_with(name, ".v.weight")) return 1.0 / sqrt(C);
    if (ends_with(name, ".o.weight")) return 1.0 / sqrt(H * dkv);
    if (ends_with(name, "relative_attention_bias.weight")) return 1.0 / sqrt(C);
    if (ends_with(name, ".wo.weight")) return 1.0 / sqrt((double)c->d_ff);
    /* wi, wi_0, wi_1 */
    return 1.0 / sqrt(C);
}

void t5_init_random(t5_model *m, uint64_t seed)
{
    as_rng rng;
    rng_seed(&rng, seed);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const t5_tensor *t = &m->tensors[i];
        float *p = m->params + t->offset;
        double std = init_std(&m->cfg, t->name);
        for (size_t j = 0; j < t->numel; j++)
            p[j] = std == 0.0 ? 1.0f : (float)(std * rng_normal(&rng));
    }
}
