/* trainer.c - the training forward and backward passes of T5 on packed
 * batches (see train.h). Activations live in one allocation made once, in
 * the llm.c style; the backward pass walks the layers in exactly the reverse
 * order of the forward pass and adds into the gradients.
 *
 * Parallelism: data parallel across the OpenMP threads. A batch is split
 * into one group of sequences per thread ("worker"); each worker runs the
 * whole forward and backward pass of its group with single-threaded
 * OpenBLAS, its own activations and its own gradients, and the gradients are
 * summed in worker order at the end. The threads meet only at the end of
 * the forward pass, the backward pass and the optimiser step. (The OpenMP
 * loops inside a worker, gemm_par's row split and attention by (sequence,
 * head), only run in parallel when a single worker has the whole machine.)
 *
 * Layout of the forward pass of one worker, per layer: rms norm -> one
 * (3HD, C) product for q, k, v (adjacent in the parameter table) ->
 * attention per (sequence, head) block with the shared relative position
 * bias -> o -> residual; the decoder adds cross attention (k, v of the
 * encoder output in one (2HD, C) product); the feed-forward block runs in
 * L2-sized row pieces (FF_CHUNK).
 *
 * Dropout (trainer_opts.dropout, 0 by default: then none of it runs) sits
 * at T5's places; its masks are drawn from (seed, step, place, sequence,
 * element) by kernels.c's dropout_forward, so the backward pass draws them
 * again instead of storing them, and a run stays reproducible bit for bit.
 * The auxiliary head (trainer_opts.aux_weight) reads the decoder's final
 * hidden states beside the output layer; it is the trainer's, not the
 * model's (its labels: aux.c).
 *
 * Deliberately not here: the optimiser (optim.c), data and the loop
 * (loop.c). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "train.h"

/* ---- batches -------------------------------------------------------------- */

void train_batch_init(train_batch *b, size_t cap_seqs, size_t cap_src_tok, size_t cap_tgt_tok)
{
    memset(b, 0, sizeof *b);
    b->cap_seqs = cap_seqs;
    b->cap_src_tok = cap_src_tok;
    b->cap_tgt_tok = cap_tgt_tok;
    b->src_off = xcalloc(cap_seqs, sizeof(size_t));
    b->src_len = xcalloc(cap_seqs, sizeof(size_t));
    b->tgt_off = xcalloc(cap_seqs, sizeof(size_t));
    b->tgt_len = xcalloc(cap_seqs, sizeof(size_t));
    b->src = xcalloc(cap_src_tok ? cap_src_tok : 1, sizeof(int));
    b->dec_in = xcalloc(cap_tgt_tok ? cap_tgt_tok : 1, sizeof(int));
    b->labels = xcalloc(cap_tgt_tok ? cap_tgt_tok : 1, sizeof(int));
    b->aux = xcalloc(2 * (cap_tgt_tok ? cap_tgt_tok : 1), sizeof(int));
}

void train_batch_free(train_batch *b)
{
    if (!b) return;
    free(b->src_off);
    free(b->src_len);
    free(b->tgt_off);
    free(b->tgt_len);
    free(b->src);
    free(b->dec_in);
    free(b->labels);
    free(b->aux);
    memset(b, 0, sizeof *b);
}

void train_batch_clear(train_batch *b)
{
    b->n = b->n_src = b->n_tgt = b->max_src = b->max_tgt = 0;
}

int train_batch_add_raw(train_batch *b, const int *src, size_t ns, const int *dec_in,
                        const int *labels, size_t T)
{
    if (ns == 0 || T == 0 || b->n == b->cap_seqs || b->n_src + ns > b->cap_src_tok ||
        b->n_tgt + T > b->cap_tgt_tok)
        return -1;
    size_t i = b->n++;
    b->src_off[i] = b->n_src;
    b->src_len[i] = ns;
    b->tgt_off[i] = b->n_tgt;
    b->tgt_len[i] = T;
    memcpy(b->src + b->n_src, src, ns * sizeof *src);
    memcpy(b->dec_in + b->n_tgt, dec_in, T * sizeof *dec_in);
    memcpy(b->labels + b->n_tgt, labels, T * sizeof *labels);
    for (size_t j = 0; j < 2 * T; j++) b->aux[2 * b->n_tgt + j] = -1;
    b->n_src += ns;
    b->n_tgt += T;
    if (ns > b->max_src) b->max_src = ns;
    if (T > b->max_tgt) b->max_tgt = T;
    return 0;
}

int train_batch_add(train_batch *b, const int *src, size_t ns, const int *tgt, size_t nt,
                    int start)
{
    if (ns == 0 || nt == 0 || b->n == b->cap_seqs || b->n_src + ns > b->cap_src_tok ||
        b->n_tgt + nt > b->cap_tgt_tok)
        return -1;
    size_t i = b->n++;
    b->src_off[i] = b->n_src;
    b->src_len[i] = ns;
    b->tgt_off[i] = b->n_tgt;
    b->tgt_len[i] = nt;
    memcpy(b->src + b->n_src, src, ns * sizeof *src);
    int *din = b->dec_in + b->n_tgt;
    din[0] = start;
    memcpy(din + 1, tgt, (nt - 1) * sizeof *tgt);
    memcpy(b->labels + b->n_tgt, tgt, nt * sizeof *tgt);
    for (size_t j = 0; j < 2 * nt; j++) b->aux[2 * b->n_tgt + j] = -1;
    b->n_src += ns;
    b->n_tgt += nt;
    if (ns > b->max_src) b->max_src = ns;
    if (nt > b->max_tgt) b->max_tgt = nt;
    return 0;
}

size_t train_batch_n_labels(const train_batch *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_tgt; i++) n += b->labels[i] >= 0;
    return n;
}

/* ---- the trainer ---------------------------------------------------------- */

/* The activations of one layer. x of layer l+1 is the output of layer l. */
typedef struct {
    float *x;            /* (N, C) layer input (residual stream) */
    float *ln1, *rstd1;  /* (N, C), (N) */
    float *qkv;          /* (N, 3HD) */
    float *probs;        /* per sequence: (H, len, len) blocks */
    float *ctx;          /* (N, HD) */
    float *x1;           /* (N, C) after self-attention */
    /* decoder only */
    float *lnc, *rstdc;  /* (N, C), (N) */
    float *cq;           /* (N, HD) */
    float *ckv;          /* (NE, 2HD) cross keys and values from the encoder output */
    float *cprobs;       /* per sequence: (H, tgt_len, src_len) blocks */
    float *cctx;         /* (N, HD) */
    float *x2;           /* (N, C) after cross attention */
    /* feed-forward */
    float *ln2, *rstd2;  /* (N, C), (N) */
    float *ffh;          /* relu: (N, F) activation; gated: (N, 2F) pre-activations h0|h1 */
    float *ffa;          /* gated: (N, F) gelu(h0) * h1; relu: NULL */
} layer_acts;

typedef struct worker {
    t5_model *m;
    size_t C, H, dkv, HD, F, V, Le, Ld;
    size_t cap_seqs, max_src, max_tgt, cap_e, cap_d;  /* cap_e/cap_d: token capacities */
    float *grads;        /* (n_params) */
    t5_weights g;        /* pointers into grads */
    t5_block *genc, *gdec;

    float *acts;         /* the one activation allocation */
    size_t n_acts;
    layer_acts *enc, *dec;
    float *enc_xout;     /* (NE, C) last encoder layer output */
    float *enc_out, *enc_rstd;   /* (NE, C), (NE) final layer norm */
    float *dec_xout;     /* (ND, C) */
    float *dec_ln, *dec_rstd;    /* (ND, C), (ND) */
    float *logits;       /* (ND, V), overwritten by dlogits in backward */
    float *lse;          /* (ND) log-sum-exp of each row */
    float loss_scale;    /* 1 / number of labels */
    trainer_opts opts;   /* the trainer's, copied */
    uint64_t drop_key;   /* dropout: the key of this step (from seed and step) */
    size_t seq0;         /* the batch index of this worker's first sequence */
    float *ddrop;        /* (max(NE,ND), C) a dropped residual branch or its gradient */
    /* the auxiliary head (trainer_opts.aux_weight > 0) */
    const float *aux_w;  /* (TRAIN_AUX_OUT, C) the trainer's head */
    float *aux_g;        /* (TRAIN_AUX_OUT, C) its gradient */
    float *aux_logits;   /* (ND, TRAIN_AUX_OUT), overwritten by their gradient */
    float *aux_lse;      /* (ND, 2) */
    double *aux_rowloss; /* (ND, 2) */
    double aux_sum;      /* the summed loss of the last forward */
    size_t aux_count;    /* its labelled positions */
    float aux_scale;     /* aux_weight / (2 * positions of the whole batch) */
    float out_scale;     /* d_model^-0.5 when tied, else 1 */

    /* backward scratch */
    float *dx;           /* (max(NE,ND), C) residual gradient */
    float *dln;          /* (max(NE,ND), C) */
    float *dqkv;         /* (max(NE,ND), 3HD) */
    float *dctx;         /* (max(NE,ND), HD) */
    float *dff;          /* (max(NE,ND), 2F) */
    float *denc;         /* (NE, C) gradient of the encoder output */
    float *dckv;         /* (NE, 2HD) */
    float *dcq;          /* (ND, HD) */

    /* per batch: offsets of each sequence's attention blocks */
    size_t *pe_off, *pd_off, *pc_off;  /* (cap_seqs) */
    float *ebias, *dbias;  /* (H, 2*max_src-1), (H, max_tgt) bias by relative offset */

    int nthreads;
    float *tscratch;     /* per thread: (max_len^2) dP block */
    float *tscratch2;    /* per thread: (max_len^2) dropped probabilities */
    float *tdb_e;        /* per (sequence, head): (2*max_src-1) encoder bias gradient */
    float *tdb_d;        /* per (sequence, head): (max_tgt) decoder bias gradient */
    double *rowloss;     /* (ND) loss of each labelled row (summed in order: deterministic) */
    float *tdw;          /* per thread: (C) layer-norm weight gradient */
    size_t scratch_n;
} worker;

static size_t zmax(size_t a, size_t b) { return a > b ? a : b; }

/* Map a weight pointer of m into the same place of base. */
static float *remap(const t5_model *m, float *base, const float *p)
{
    return p ? base + (p - m->params) : NULL;
}

static void remap_block(const t5_model *m, float *base, t5_block *out, const t5_block *in)
{
    float *const *src = (float *const *)in;
    float **dst = (float **)out;
    for (size_t i = 0; i < sizeof *in / sizeof(float *); i++) dst[i] = remap(m, base, src[i]);
}

/* The worker's gradients: one (n_params) array, its weight pointers mapped
 * into it as m's are into m->params. */
static void worker_grads_new(worker *t, const t5_model *m)
{
    t->grads = xcalloc(m->n_params, sizeof(float));
    t->genc = xcalloc(t->Le, sizeof(t5_block));
    t->gdec = xcalloc(t->Ld, sizeof(t5_block));
    t->g.shared = remap(m, t->grads, m->w.shared);
    t->g.enc_final_ln = remap(m, t->grads, m->w.enc_final_ln);
    t->g.dec_final_ln = remap(m, t->grads, m->w.dec_final_ln);
    t->g.lm_head = remap(m, t->grads, m->w.lm_head);
    for (size_t l = 0; l < t->Le; l++) remap_block(m, t->grads, &t->genc[l], &m->w.enc[l]);
    for (size_t l = 0; l < t->Ld; l++) remap_block(m, t->grads, &t->gdec[l], &m->w.dec[l]);
    t->g.enc = t->genc;
    t->g.dec = t->gdec;
}

/* Lays the activation tensors out from base, in this order; with base NULL
 * it only counts. Returns the number of floats. The one place that knows
 * the sizes: worker_acts_new calls it twice (count, then place). */
static size_t worker_acts_layout(worker *t, float *base)
{
    size_t C = t->C, H = t->H, HD = t->HD, F = t->F, NE = t->cap_e, ND = t->cap_d;
    size_t S = t->max_src, T = t->max_tgt, NM = zmax(NE, ND), n = 0;
    int gated = t->m->cfg.ff == T5_FF_GATED_GELU;
    size_t ffw = gated ? 2 * F : F;
#define TAKE(ptr, count) do { (ptr) = base ? base + n : NULL; n += (count); } while (0)
    for (size_t l = 0; l < t->Le; l++) {
        layer_acts *a = &t->enc[l];
        TAKE(a->x, NE * C);
        TAKE(a->ln1, NE * C);
        TAKE(a->rstd1, NE);
        TAKE(a->qkv, NE * 3 * HD);
        TAKE(a->probs, H * t->cap_seqs * S * S);
        TAKE(a->ctx, NE * HD);
        TAKE(a->x1, NE * C);
        TAKE(a->ln2, NE * C);
        TAKE(a->rstd2, NE);
        TAKE(a->ffh, NE * ffw);
        if (gated) TAKE(a->ffa, NE * F);
    }
    for (size_t l = 0; l < t->Ld; l++) {
        layer_acts *a = &t->dec[l];
        TAKE(a->x, ND * C);
        TAKE(a->ln1, ND * C);
        TAKE(a->rstd1, ND);
        TAKE(a->qkv, ND * 3 * HD);
        TAKE(a->probs, H * t->cap_seqs * T * T);
        TAKE(a->ctx, ND * HD);
        TAKE(a->x1, ND * C);
        TAKE(a->lnc, ND * C);
        TAKE(a->rstdc, ND);
        TAKE(a->cq, ND * HD);
        TAKE(a->ckv, NE * 2 * HD);
        TAKE(a->cprobs, H * t->cap_seqs * T * S);
        TAKE(a->cctx, ND * HD);
        TAKE(a->x2, ND * C);
        TAKE(a->ln2, ND * C);
        TAKE(a->rstd2, ND);
        TAKE(a->ffh, ND * ffw);
        if (gated) TAKE(a->ffa, ND * F);
    }
    TAKE(t->enc_xout, NE * C);
    TAKE(t->enc_out, NE * C);
    TAKE(t->enc_rstd, NE);
    TAKE(t->dec_xout, ND * C);
    TAKE(t->dec_ln, ND * C);
    TAKE(t->dec_rstd, ND);
    TAKE(t->logits, ND * t->V);
    TAKE(t->lse, ND);
    TAKE(t->dx, NM * C);
    TAKE(t->dln, NM * C);
    TAKE(t->dqkv, NM * 3 * HD);
    TAKE(t->dctx, NM * HD);
    TAKE(t->dff, NM * 2 * F);
    TAKE(t->denc, NE * C);
    TAKE(t->dckv, NE * 2 * HD);
    TAKE(t->dcq, ND * HD);
    TAKE(t->ebias, H * (2 * S - 1));
    TAKE(t->dbias, H * T);
    TAKE(t->ddrop, NM * C);
    TAKE(t->aux_g, TRAIN_AUX_OUT * C);
    TAKE(t->aux_logits, ND * TRAIN_AUX_OUT);
    TAKE(t->aux_lse, ND * 2);
#undef TAKE
    return n;
}

static void worker_acts_new(worker *t)
{
    t->enc = xcalloc(t->Le, sizeof(layer_acts));
    t->dec = xcalloc(t->Ld, sizeof(layer_acts));
    t->n_acts = worker_acts_layout(t, NULL);
    t->acts = xmalloc(t->n_acts * sizeof(float));
    worker_acts_layout(t, t->acts);
}

/* The per-batch offsets and the per-thread scratch of the backward pass. */
static void worker_scratch_new(worker *t)
{
    size_t cap_seqs = t->cap_seqs, H = t->H, S = t->max_src, T = t->max_tgt;
    t->pe_off = xcalloc(cap_seqs, sizeof(size_t));
    t->pd_off = xcalloc(cap_seqs, sizeof(size_t));
    t->pc_off = xcalloc(cap_seqs, sizeof(size_t));
    t->nthreads = omp_get_max_threads();
    size_t ml = zmax(S, T);
    t->scratch_n = ml * ml;
    t->tscratch = xmalloc((size_t)t->nthreads * t->scratch_n * sizeof(float));
    t->tscratch2 = xmalloc((size_t)t->nthreads * t->scratch_n * sizeof(float));
    t->tdb_e = xmalloc(cap_seqs * H * (2 * S - 1) * sizeof(float));
    t->tdb_d = xmalloc(cap_seqs * H * T * sizeof(float));
    t->rowloss = xmalloc(t->cap_d * sizeof(double));
    t->aux_rowloss = xmalloc(2 * t->cap_d * sizeof(double));
    t->tdw = xmalloc((size_t)t->nthreads * t->C * sizeof(float));
}

static worker *worker_new(t5_model *m, size_t cap_seqs, size_t max_src, size_t max_tgt)
{
    worker *t = xcalloc(1, sizeof *t);
    const t5_config *c = &m->cfg;
    t->m = m;
    t->C = c->d_model;
    t->H = c->num_heads;
    t->dkv = c->d_kv;
    t->HD = t->H * t->dkv;
    t->F = c->d_ff;
    t->V = c->vocab_size;
    t->Le = c->num_layers;
    t->Ld = c->num_decoder_layers;
    t->cap_seqs = cap_seqs;
    t->max_src = max_src;
    t->max_tgt = max_tgt;
    t->cap_e = cap_seqs * max_src;
    t->cap_d = cap_seqs * max_tgt;
    t->out_scale = c->tie_word_embeddings ? 1.0f / sqrtf((float)t->C) : 1.0f;
    worker_grads_new(t, m);
    worker_acts_new(t);
    worker_scratch_new(t);
    openblas_set_num_threads(1);
    return t;
}

static void worker_free(worker *t)
{
    if (!t) return;
    free(t->grads);
    free(t->genc);
    free(t->gdec);
    free(t->acts);
    free(t->enc);
    free(t->dec);
    free(t->pe_off);
    free(t->pd_off);
    free(t->pc_off);
    free(t->tscratch);
    free(t->tscratch2);
    free(t->tdb_e);
    free(t->tdb_d);
    free(t->rowloss);
    free(t->aux_rowloss);
    free(t->tdw);
    free(t);
}

/* ---- parallel building blocks --------------------------------------------- */

/* Below these sizes (elements of a loop, multiply-adds of a product) a loop
 * runs on one thread: waking the others would cost more than it saves
 * (kernels.c's gemm_par uses the same PAR_WORK). */
#define PAR_MIN ((size_t)1 << 15)
#define PAR_WORK ((size_t)1 << 18)

static void rms_fwd(float *out, float *rstd, const float *inp, const float *w, size_t N,
                    size_t C, float eps)
{
    if (omp_in_parallel() || N * C < PAR_MIN) {
        rmsnorm_forward_fast(out, rstd, inp, w, N, C, eps);
        return;
    }
#pragma omp parallel for schedule(static) if (N * C >= PAR_MIN)
    for (size_t i0 = 0; i0 < N; i0 += 64) {
        size_t n = N - i0 < 64 ? N - i0 : 64;
        rmsnorm_forward_fast(out + i0 * C, rstd + i0, inp + i0 * C, w, n, C, eps);
    }
}

/* dinp += layer-norm backward; dw += its weight gradient (per-thread sums). */
static void rms_bwd(worker *t, float *dinp, float *dw, const float *dout, const float *inp,
                    const float *w, const float *rstd, size_t N, size_t C)
{
    if (omp_in_parallel() || N * C < PAR_MIN || t->nthreads == 1) {
        rmsnorm_backward(dinp, dw, dout, inp, w, rstd, N, C);
        return;
    }
    memset(t->tdw, 0, (size_t)t->nthreads * C * sizeof(float));
#pragma omp parallel num_threads(t->nthreads) if (N * C >= PAR_MIN)
    {
        float *mydw = t->tdw + (size_t)omp_get_thread_num() * C;
#pragma omp for schedule(static)
        for (size_t i0 = 0; i0 < N; i0 += 64) {
            size_t n = N - i0 < 64 ? N - i0 : 64;
            rmsnorm_backward(dinp + i0 * C, mydw, dout + i0 * C, inp + i0 * C, w, rstd + i0, n, C);
        }
    }
    for (int k = 0; k < t->nthreads; k++)
        for (size_t j = 0; j < C; j++) dw[j] += t->tdw[(size_t)k * C + j];
}

/* ---- dropout --------------------------------------------------------------- */

/* The places of dropout, numbered as tests/reference/make_train_fixtures.py's
 * SITES (the key of a mask is drawn from the number). */
enum {
    DS_ENC_EMBED = 0, DS_ENC_SELF_PROBS, DS_ENC_SELF_OUT, DS_ENC_FF_HIDDEN, DS_ENC_FF_OUT,
    DS_ENC_FINAL,
    DS_DEC_EMBED = 10, DS_DEC_SELF_PROBS, DS_DEC_SELF_OUT, DS_DEC_CROSS_PROBS, DS_DEC_CROSS_OUT,
    DS_DEC_FF_HIDDEN, DS_DEC_FF_OUT, DS_DEC_FINAL
};
#define FF_HIDDEN(dec) ((dec) ? DS_DEC_FF_HIDDEN : DS_ENC_FF_HIDDEN)
#define FF_OUT(dec) ((dec) ? DS_DEC_FF_OUT : DS_ENC_FF_OUT)

/* Where the sequences of a token tensor lie: rows off[b] .. off[b]+len[b]. */
typedef struct {
    const size_t *off, *len;
    size_t n;
} seq_rows;

static seq_rows enc_rows(const train_batch *b) { return (seq_rows){b->src_off, b->src_len, b->n}; }
static seq_rows dec_rows(const train_batch *b) { return (seq_rows){b->tgt_off, b->tgt_len, b->n}; }

static int dropping(const worker *t) { return t->opts.dropout > 0.0f; }

/* The key of a place of a layer (of this step). */
static uint64_t site_key(const worker *t, int site, size_t layer)
{
    return dropout_key(dropout_key(t->drop_key, (uint64_t)site), layer);
}

/* Dropout on rows r0 .. r1-1 of a token tensor (row stride ld, W columns
 * from x): element (row, j) of sequence b is element (row - off) W + j of
 * that sequence's mask. In place, forward and backward are the same
 * operation (the gradient is masked and scaled as the values were). */
static void drop_rows(const worker *t, float *x, size_t ld, size_t W, size_t r0, size_t r1,
                      int site, size_t layer, const seq_rows *sr)
{
    uint64_t key = site_key(t, site, layer);
    for (size_t b = 0; b < sr->n; b++) {
        size_t s0 = sr->off[b], s1 = s0 + sr->len[b];
        size_t a = s0 > r0 ? s0 : r0, e = s1 < r1 ? s1 : r1;
        if (a >= e) continue;
        uint64_t kb = dropout_key(key, t->seq0 + b);
        for (size_t r = a; r < e; r++)
            dropout_backward(x + r * ld, W, t->opts.dropout, kb, (r - s0) * W);
    }
}

/* out (N, C) = x + drop(ctx (N, HD) w^T): an attention block's residual. */
static void residual_fwd(const worker *t, float *out, const float *x, const float *ctx,
                         const float *w, size_t N, int site, size_t layer, const seq_rows *sr)
{
    size_t C = t->C, HD = t->HD;
    if (!dropping(t)) {
        memcpy(out, x, N * C * sizeof(float));
        matmul_forward_par(out, ctx, w, N, HD, C, 1.0f);
        return;
    }
    matmul_forward_par(t->ddrop, ctx, w, N, HD, C, 0.0f);
    drop_rows(t, t->ddrop, C, C, 0, N, site, layer, sr);
    for (size_t i = 0; i < N * C; i++) out[i] = x[i] + t->ddrop[i];
}

/* Its backward from dx = d(out): dctx (N, HD) = d(branch) w (overwritten),
 * dw += d(branch)^T ctx. */
static void residual_bwd(worker *t, float *dctx, float *dw, const float *dx, const float *ctx,
                         const float *w, size_t N, int site, size_t layer, const seq_rows *sr)
{
    size_t C = t->C, HD = t->HD;
    const float *d = dx;
    if (dropping(t)) {
        memcpy(t->ddrop, dx, N * C * sizeof(float));
        drop_rows(t, t->ddrop, C, C, 0, N, site, layer, sr);
        d = t->ddrop;
    }
    memset(dctx, 0, N * HD * sizeof(float));
    matmul_backward(dctx, dw, d, ctx, w, N, HD, C);
}

/* ---- attention ------------------------------------------------------------ */

/* How a block of scores gets its position bias: none (cross attention),
 * bidirectional (encoder: bias[h][j - i + center]), causal (decoder:
 * bias[h][i - j], keys after the query masked). */
enum { BIAS_NONE, BIAS_BIDIR, BIAS_CAUSAL };

typedef struct {
    const float *q, *k, *v;   /* first column of head 0 */
    size_t ldq, ldk, ldv;
    const size_t *q_off, *q_len, *k_off, *k_len, *p_off;
    int mode;
    const float *bias;        /* (H, bias_n) or NULL */
    size_t bias_n, center;
    float drop;               /* dropout on the probabilities (0: none) */
    uint64_t drop_key;        /* its place's key */
    size_t seq0;              /* the batch index of sequence 0 */
} attn_args;

/* Block (b, h) of the probabilities P (Lq, Lk) with its dropout, into
 * scratch: what multiplies V. */
static const float *attn_dropped(const attn_args *a, const float *P, size_t b, size_t h,
                                 size_t Lq, size_t Lk, float *scratch)
{
    if (a->drop == 0.0f) return P;
    dropout_forward(scratch, P, Lq * Lk, a->drop, dropout_key(a->drop_key, a->seq0 + b),
                    h * Lq * Lk);
    return scratch;
}

/* Multiply-adds of one attention product over the batch. */
static size_t attn_work(const worker *t, const attn_args *a, size_t n_seq)
{
    size_t w = 0;
    for (size_t b = 0; b < n_seq; b++) w += a->q_len[b] * a->k_len[b];
    return w * t->H * t->dkv;
}

/* ctx (rows, HD) with row stride ldc; probs blocks (H, Lq, Lk) per sequence
 * (before dropout: what the softmax backward needs). */
static void attention_fwd(const worker *t, const attn_args *a, size_t n_seq, float *probs,
                          float *ctx, size_t ldc)
{
    size_t H = t->H, dkv = t->dkv;
#pragma omp parallel for schedule(dynamic, 1) if (attn_work(t, a, n_seq) >= PAR_WORK)
    for (size_t bh = 0; bh < n_seq * H; bh++) {
        float *scratch = t->tscratch + (size_t)omp_get_thread_num() * t->scratch_n;
        size_t b = bh / H, h = bh % H;
        size_t Lq = a->q_len[b], Lk = a->k_len[b];
        float *P = probs + a->p_off[b] + h * Lq * Lk;
        const float *q = a->q + a->q_off[b] * a->ldq + h * dkv;
        const float *k = a->k + a->k_off[b] * a->ldk + h * dkv;
        const float *v = a->v + a->k_off[b] * a->ldv + h * dkv;
        gemm(0, 1, Lq, Lk, dkv, 1.0f, q, a->ldq, k, a->ldk, 0.0f, P, Lk);
        const float *bias = a->bias ? a->bias + h * a->bias_n : NULL;
        for (size_t i = 0; i < Lq; i++) {
            float *row = P + i * Lk;
            size_t n = a->mode == BIAS_CAUSAL ? i + 1 : Lk;
            if (a->mode == BIAS_BIDIR) {
                const float *bb = bias + a->center - i;
                for (size_t j = 0; j < n; j++) row[j] += bb[j];
            } else if (a->mode == BIAS_CAUSAL) {
                for (size_t j = 0; j < n; j++) row[j] += bias[i - j];
            }
            softmax_row_forward(row, n, Lk);
        }
        gemm(0, 0, Lq, dkv, Lk, 1.0f, attn_dropped(a, P, b, h, Lq, Lk, scratch), Lk, v, a->ldv,
             0.0f, ctx + a->q_off[b] * ldc + h * dkv, ldc);
    }
}

/* From dctx, write (overwrite) dq, dk, dv (same layouts as q, k, v with the
 * given strides; OpenBLAS's small-matrix kernels write beta-0 blocks without
 * clearing them first) and add the bias gradient into tdb ((n_seq, H, bias_n), one
 * table per block so the sums do not depend on the thread schedule) when the
 * mode has a bias. */
static void attention_bwd(worker *t, const attn_args *a, size_t n_seq, const float *probs,
                          const float *dctx, size_t ldc, float *dq, size_t lddq, float *dk,
                          size_t lddk, float *dv, size_t lddv, float *tdb)
{
    size_t H = t->H, dkv = t->dkv;
#pragma omp parallel num_threads(t->nthreads) if (attn_work(t, a, n_seq) >= PAR_WORK)
    {
        int tid = omp_get_thread_num();
        float *dP = t->tscratch + (size_t)tid * t->scratch_n;
        float *Pd = t->tscratch2 + (size_t)tid * t->scratch_n;
#pragma omp for schedule(dynamic, 1)
        for (size_t bh = 0; bh < n_seq * H; bh++) {
            size_t b = bh / H, h = bh % H;
            size_t Lq = a->q_len[b], Lk = a->k_len[b];
            const float *P = probs + a->p_off[b] + h * Lq * Lk;
            const float *q = a->q + a->q_off[b] * a->ldq + h * dkv;
            const float *k = a->k + a->k_off[b] * a->ldk + h * dkv;
            const float *v = a->v + a->k_off[b] * a->ldv + h * dkv;
            const float *dc = dctx + a->q_off[b] * ldc + h * dkv;
            float *dqb = dq + a->q_off[b] * lddq + h * dkv;
            float *dkb = dk + a->k_off[b] * lddk + h * dkv;
            float *dvb = dv + a->k_off[b] * lddv + h * dkv;
            /* dP = dctx V^T, dV = P^T dctx (P after its dropout; dP then back
             * through the dropout) */
            gemm(0, 1, Lq, Lk, dkv, 1.0f, dc, ldc, v, a->ldv, 0.0f, dP, Lk);
            gemm(1, 0, Lk, dkv, Lq, 1.0f, attn_dropped(a, P, b, h, Lq, Lk, Pd), Lk, dc, ldc,
                 0.0f, dvb, lddv);
            if (a->drop != 0.0f)
                dropout_backward(dP, Lq * Lk, a->drop, dropout_key(a->drop_key, a->seq0 + b),
                                 h * Lq * Lk);
            /* dS = P * (dP - rowsum(dP * P)) */
            float *dbh = tdb ? tdb + bh * a->bias_n : NULL;
            for (size_t i = 0; i < Lq; i++) {
                const float *p = P + i * Lk;
                float *d = dP + i * Lk;
                size_t n = a->mode == BIAS_CAUSAL ? i + 1 : Lk;
                softmax_row_backward(d, p, n, Lk);
                if (a->mode == BIAS_BIDIR) {
                    float *bb = dbh + a->center - i;
                    for (size_t j = 0; j < n; j++) bb[j] += d[j];
                } else if (a->mode == BIAS_CAUSAL) {
                    for (size_t j = 0; j < n; j++) dbh[i - j] += d[j];
                }
            }
            /* dQ = dS K, dK = dS^T Q (T5 does not scale the scores) */
            gemm(0, 0, Lq, dkv, Lk, 1.0f, dP, Lk, k, a->ldk, 0.0f, dqb, lddq);
            gemm(1, 0, Lk, dkv, Lq, 1.0f, dP, Lk, q, a->ldq, 0.0f, dkb, lddk);
        }
    }
}

/* The bias-by-offset tables of this batch from the layer-0 bucket tables. */
static void build_bias(worker *t, const train_batch *b)
{
    const t5_config *c = &t->m->cfg;
    size_t H = t->H, S = b->max_src, T = b->max_tgt;
    const float *re = t->m->w.enc[0].rel_bias, *rd = t->m->w.dec[0].rel_bias;
    size_t ne = 2 * S - 1;
    for (size_t d = 0; d < ne; d++) {
        int bk = t5_rel_bucket((long)d - (long)(S - 1), 1, c->rel_buckets, c->rel_max_distance);
        for (size_t h = 0; h < H; h++) t->ebias[h * ne + d] = re[(size_t)bk * H + h];
    }
    for (size_t d = 0; d < T; d++) {
        int bk = t5_rel_bucket(-(long)d, 0, c->rel_buckets, c->rel_max_distance);
        for (size_t h = 0; h < H; h++) t->dbias[h * T + d] = rd[(size_t)bk * H + h];
    }
}

static void attn_self_args(const worker *t, attn_args *a, const layer_acts *L,
                           const size_t *off, const size_t *len, const size_t *poff, int mode,
                           const float *bias, size_t bias_n, size_t center)
{
    size_t HD = t->HD;
    a->q = L->qkv;
    a->k = L->qkv + HD;
    a->v = L->qkv + 2 * HD;
    a->ldq = a->ldk = a->ldv = 3 * HD;
    a->q_off = a->k_off = off;
    a->q_len = a->k_len = len;
    a->p_off = poff;
    a->mode = mode;
    a->bias = bias;
    a->bias_n = bias_n;
    a->center = center;
    a->drop = 0.0f;
}

static void attn_cross_args(const worker *t, attn_args *a, const layer_acts *L,
                            const train_batch *b)
{
    size_t HD = t->HD;
    a->q = L->cq;
    a->ldq = HD;
    a->k = L->ckv;
    a->v = L->ckv + HD;
    a->ldk = a->ldv = 2 * HD;
    a->q_off = b->tgt_off;
    a->q_len = b->tgt_len;
    a->k_off = b->src_off;
    a->k_len = b->src_len;
    a->p_off = t->pc_off;
    a->mode = BIAS_NONE;
    a->bias = NULL;
    a->bias_n = 0;
    a->center = 0;
    a->drop = 0.0f;
}

/* The attention's dropout: a place of a layer. */
static void attn_drop_args(const worker *t, attn_args *a, int site, size_t layer)
{
    a->drop = t->opts.dropout;
    a->drop_key = site_key(t, site, layer);
    a->seq0 = t->seq0;
}

/* ---- forward -------------------------------------------------------------- */

static void embed(float *out, const int *ids, const float *table, size_t N, size_t C)
{
/* serial: a copy per row is cheaper than waking threads */
    for (size_t i = 0; i < N; i++) memcpy(out + i * C, table + (size_t)ids[i] * C, C * sizeof(float));
}

/* Rows per piece of the feed-forward block: the (rows, d_ff) intermediate of
 * one piece stays in L2 between the two products and the activation. */
#define FF_CHUNK 128

/* The feed-forward block of layer `layer` of the decoder (dec) or the
 * encoder: out = x + drop(FF(ln(x))), dropout also on the hidden layer,
 * piece by piece. */
static void ff_fwd(const worker *t, const t5_block *w, layer_acts *a, const float *x,
                   float *out, size_t N, int dec, size_t layer, const seq_rows *sr)
{
    size_t C = t->C, F = t->F;
    float eps = t->m->cfg.layer_norm_eps;
    int gated = t->m->cfg.ff == T5_FF_GATED_GELU, drop = dropping(t);
    rms_fwd(a->ln2, a->rstd2, x, w->ln_ff, N, C, eps);
    for (size_t i0 = 0; i0 < N; i0 += FF_CHUNK) {
        size_t n = N - i0 < FF_CHUNK ? N - i0 : FF_CHUNK;
        const float *ln = a->ln2 + i0 * C;
        float *act = gated ? a->ffa : a->ffh;  /* (N, F) the hidden layer */
        if (gated) {
            /* wi_0 and wi_1 are adjacent in the parameter table: one (2F, C) product */
            float *h = a->ffh + i0 * 2 * F;
            gemm(0, 1, n, 2 * F, C, 1.0f, ln, C, w->wi0, C, 0.0f, h, 2 * F);
            gelu_gate_forward(act + i0 * F, h, n, F);
        } else {
            float *h = a->ffh + i0 * F;
            gemm(0, 1, n, F, C, 1.0f, ln, C, w->wi, C, 0.0f, h, F);
            relu_forward(h, h, n * F);
        }
        if (drop) drop_rows(t, act, F, F, i0, i0 + n, FF_HIDDEN(dec), layer, sr);
        if (!drop) {
            memcpy(out + i0 * C, x + i0 * C, n * C * sizeof(float));
            gemm(0, 1, n, C, F, 1.0f, act + i0 * F, F, w->wo, F, 1.0f, out + i0 * C, C);
            continue;
        }
        float *br = t->ddrop + i0 * C;
        gemm(0, 1, n, C, F, 1.0f, act + i0 * F, F, w->wo, F, 0.0f, br, C);
        drop_rows(t, t->ddrop, C, C, i0, i0 + n, FF_OUT(dec), layer, sr);
        for (size_t i = i0 * C; i < (i0 + n) * C; i++) out[i] = x[i] + t->ddrop[i];
    }
}

/* The offsets of each sequence's attention blocks in this batch. */
static void block_offsets(worker *t, const train_batch *b)
{
    size_t H = t->H, pe = 0, pd = 0, pc = 0;
    for (size_t i = 0; i < b->n; i++) {
        size_t s = b->src_len[i], n = b->tgt_len[i];
        t->pe_off[i] = pe;
        t->pd_off[i] = pd;
        t->pc_off[i] = pc;
        pe += H * s * s;
        pd += H * n * n;
        pc += H * n * s;
    }
}

/* The encoder: embeddings -> layers -> final layer norm into enc_out. */
static void encoder_fwd(worker *t, const train_batch *b)
{
    const t5_weights *w = &t->m->w;
    size_t C = t->C, HD = t->HD, NE = b->n_src;
    float eps = t->m->cfg.layer_norm_eps;
    seq_rows sr = enc_rows(b);
    attn_args aa;
    embed(t->enc[0].x, b->src, w->shared, NE, C);
    if (dropping(t)) drop_rows(t, t->enc[0].x, C, C, 0, NE, DS_ENC_EMBED, 0, &sr);
    for (size_t l = 0; l < t->Le; l++) {
        layer_acts *a = &t->enc[l];
        const t5_block *bw = &w->enc[l];
        float *out = l + 1 < t->Le ? t->enc[l + 1].x : t->enc_xout;
        rms_fwd(a->ln1, a->rstd1, a->x, bw->ln_self, NE, C, eps);
        matmul_forward_par(a->qkv, a->ln1, bw->q, NE, C, 3 * HD, 0.0f);  /* q, k, v adjacent */
        attn_self_args(t, &aa, a, b->src_off, b->src_len, t->pe_off, BIAS_BIDIR, t->ebias,
                       2 * b->max_src - 1, b->max_src - 1);
        if (dropping(t)) attn_drop_args(t, &aa, DS_ENC_SELF_PROBS, l);
        attention_fwd(t, &aa, b->n, a->probs, a->ctx, HD);
        residual_fwd(t, a->x1, a->x, a->ctx, bw->o, NE, DS_ENC_SELF_OUT, l, &sr);
        ff_fwd(t, bw, a, a->x1, out, NE, 0, l, &sr);
    }
    rms_fwd(t->enc_out, t->enc_rstd, t->enc_xout, w->enc_final_ln, NE, C, eps);
    if (dropping(t)) drop_rows(t, t->enc_out, C, C, 0, NE, DS_ENC_FINAL, 0, &sr);
}

/* The decoder: embeddings -> layers -> final layer norm into dec_ln. */
static void decoder_fwd(worker *t, const train_batch *b)
{
    const t5_weights *w = &t->m->w;
    size_t C = t->C, HD = t->HD, NE = b->n_src, ND = b->n_tgt;
    float eps = t->m->cfg.layer_norm_eps;
    seq_rows sr = dec_rows(b);
    attn_args aa;
    embed(t->dec[0].x, b->dec_in, w->shared, ND, C);
    if (dropping(t)) drop_rows(t, t->dec[0].x, C, C, 0, ND, DS_DEC_EMBED, 0, &sr);
    for (size_t l = 0; l < t->Ld; l++) {
        layer_acts *a = &t->dec[l];
        const t5_block *bw = &w->dec[l];
        float *out = l + 1 < t->Ld ? t->dec[l + 1].x : t->dec_xout;
        rms_fwd(a->ln1, a->rstd1, a->x, bw->ln_self, ND, C, eps);
        matmul_forward_par(a->qkv, a->ln1, bw->q, ND, C, 3 * HD, 0.0f);
        attn_self_args(t, &aa, a, b->tgt_off, b->tgt_len, t->pd_off, BIAS_CAUSAL, t->dbias,
                       b->max_tgt, 0);
        if (dropping(t)) attn_drop_args(t, &aa, DS_DEC_SELF_PROBS, l);
        attention_fwd(t, &aa, b->n, a->probs, a->ctx, HD);
        residual_fwd(t, a->x1, a->x, a->ctx, bw->o, ND, DS_DEC_SELF_OUT, l, &sr);
        /* cross attention */
        rms_fwd(a->lnc, a->rstdc, a->x1, bw->ln_cross, ND, C, eps);
        matmul_forward_par(a->cq, a->lnc, bw->cq, ND, C, HD, 0.0f);
        matmul_forward_par(a->ckv, t->enc_out, bw->ck, NE, C, 2 * HD, 0.0f);  /* ck, cv adjacent */
        attn_cross_args(t, &aa, a, b);
        if (dropping(t)) attn_drop_args(t, &aa, DS_DEC_CROSS_PROBS, l);
        attention_fwd(t, &aa, b->n, a->cprobs, a->cctx, HD);
        residual_fwd(t, a->x2, a->x1, a->cctx, bw->co, ND, DS_DEC_CROSS_OUT, l, &sr);
        ff_fwd(t, bw, a, a->x2, out, ND, 1, l, &sr);
    }
    rms_fwd(t->dec_ln, t->dec_rstd, t->dec_xout, w->dec_final_ln, ND, C, eps);
    if (dropping(t)) drop_rows(t, t->dec_ln, C, C, 0, ND, DS_DEC_FINAL, 0, &sr);
}

/* The auxiliary head's logits and loss (summed; aux_count its positions). */
static void aux_fwd(worker *t, const train_batch *b)
{
    size_t C = t->C, ND = b->n_tgt, K = TRAIN_AUX_OUT;
    gemm(0, 1, ND, K, C, 1.0f, t->dec_ln, C, t->aux_w, C, 0.0f, t->aux_logits, K);
    t->aux_sum = 0.0;
    t->aux_count = 0;
    for (size_t i = 0; i < ND; i++) {
        if (b->aux[2 * i] < 0) continue;
        for (int h = 0; h < 2; h++)
            crossentropy_forward(t->aux_rowloss + 2 * i + h, t->aux_lse + 2 * i + h,
                                 t->aux_logits + i * K + h * 10, b->aux + 2 * i + h, 1, 10, 0.0f);
        t->aux_sum += t->aux_rowloss[2 * i] + t->aux_rowloss[2 * i + 1];
        t->aux_count++;
    }
}

/* Its backward: d(dec_ln) into dln (added), the head's gradient into aux_g. */
static void aux_bwd(worker *t, const train_batch *b)
{
    size_t C = t->C, ND = b->n_tgt, K = TRAIN_AUX_OUT;
    for (size_t i = 0; i < ND; i++) {
        float *row = t->aux_logits + i * K;
        if (b->aux[2 * i] < 0) {
            memset(row, 0, K * sizeof *row);
            continue;
        }
        for (int h = 0; h < 2; h++)
            crossentropy_backward(row + h * 10, t->aux_lse + 2 * i + h, b->aux + 2 * i + h, 1, 10,
                                  t->aux_scale, 0.0f);
    }
    matmul_backward(t->dln, t->aux_g, t->aux_logits, t->dec_ln, t->aux_w, ND, C, K);
}

/* Forward on one worker's sequences; returns the summed loss, *count the labels. */
static double worker_forward(worker *t, const train_batch *b, size_t *count)
{
    const t5_weights *w = &t->m->w;
    size_t C = t->C, V = t->V, ND = b->n_tgt;
    block_offsets(t, b);
    build_bias(t, b);
    encoder_fwd(t, b);
    decoder_fwd(t, b);
    if (t->opts.aux_weight > 0.0f) aux_fwd(t, b);

    /* output layer and cross-entropy */
    const float *wout = w->lm_head ? w->lm_head : w->shared;
    gemm_par(0, 1, ND, V, C, t->out_scale, t->dec_ln, C, wout, C, 0.0f, t->logits, V);
#pragma omp parallel for schedule(static) if (ND * V >= PAR_MIN)
    for (size_t i = 0; i < ND; i++)
        crossentropy_forward(t->rowloss + i, t->lse + i, t->logits + i * V, b->labels + i, 1, V,
                             t->opts.label_smoothing);
    double loss = 0.0;
    size_t n_lab = 0;
    for (size_t i = 0; i < ND; i++) {
        loss += t->rowloss[i];
        n_lab += b->labels[i] >= 0;
    }
    *count = n_lab;
    return loss;
}

/* ---- backward ------------------------------------------------------------- */

static void embed_bwd(float *dtable, const int *ids, const float *dout, size_t N, size_t C)
{
    for (size_t i = 0; i < N; i++) {
        float *d = dtable + (size_t)ids[i] * C;
        const float *s = dout + i * C;
        for (size_t j = 0; j < C; j++) d[j] += s[j];
    }
}

/* FF backward: dx holds d(out); adds the branch's gradient into dx. The
 * input gradients go piece by piece (see FF_CHUNK); the weight gradients
 * are two products over all rows at the end. */
static void ff_bwd(worker *t, const t5_block *w, t5_block *gw, const layer_acts *a,
                   const float *x, float *dx, size_t N, int dec, size_t layer,
                   const seq_rows *sr)
{
    size_t C = t->C, F = t->F;
    int gated = t->m->cfg.ff == T5_FF_GATED_GELU, drop = dropping(t);
    size_t fw = gated ? 2 * F : F;
    float *dh = t->dff;  /* (N, fw): relu dh; gated dh0 | dh1 */
    const float *dbr = dx;  /* d(the branch before its dropout) */
    if (drop) {
        memcpy(t->ddrop, dx, N * C * sizeof(float));
        drop_rows(t, t->ddrop, C, C, 0, N, FF_OUT(dec), layer, sr);
        dbr = t->ddrop;
    }
    for (size_t i0 = 0; i0 < N; i0 += FF_CHUNK) {
        size_t n = N - i0 < FF_CHUNK ? N - i0 : FF_CHUNK;
        float *d = dh + i0 * fw;
        if (gated) {
            /* d(ffa) = dx wo goes into the dh1 half, then both halves in place */
            gemm(0, 0, n, F, C, 1.0f, dbr + i0 * C, C, w->wo, F, 0.0f, d + F, 2 * F);
            if (drop) drop_rows(t, dh + F, 2 * F, F, i0, i0 + n, FF_HIDDEN(dec), layer, sr);
            gelu_gate_backward(d, a->ffh + i0 * 2 * F, n, F);
            gemm(0, 0, n, C, 2 * F, 1.0f, d, 2 * F, w->wi0, C, 0.0f, t->dln + i0 * C, C);
        } else {
            gemm(0, 0, n, F, C, 1.0f, dbr + i0 * C, C, w->wo, F, 0.0f, d, F);
            if (drop) drop_rows(t, dh, F, F, i0, i0 + n, FF_HIDDEN(dec), layer, sr);
            relu_backward(d, a->ffh + i0 * F, n * F);
            gemm(0, 0, n, C, F, 1.0f, d, F, w->wi, C, 0.0f, t->dln + i0 * C, C);
        }
    }
    matmul_backward(NULL, gw->wo, dbr, gated ? a->ffa : a->ffh, w->wo, N, F, C);
    matmul_backward(NULL, gated ? gw->wi0 : gw->wi, dh, a->ln2, NULL, N, C, fw);
    rms_bwd(t, dx, gw->ln_ff, t->dln, x, w->ln_ff, a->rstd2, N, C);
}

/* Self-attention block backward: dx holds d(x1); adds the branch's gradient. */
static void self_attn_bwd(worker *t, const t5_block *w, t5_block *gw, const layer_acts *a,
                          const attn_args *aa, size_t n_seq, float *dx, size_t N, float *tdb,
                          int site_out, size_t layer, const seq_rows *sr)
{
    size_t C = t->C, HD = t->HD;
    /* d(ctx) = d(branch) o, do += d(branch)^T ctx */
    residual_bwd(t, t->dctx, gw->o, dx, a->ctx, w->o, N, site_out, layer, sr);
    attention_bwd(t, aa, n_seq, a->probs, t->dctx, HD, t->dqkv, 3 * HD, t->dqkv + HD, 3 * HD,
                  t->dqkv + 2 * HD, 3 * HD, tdb);
    memset(t->dln, 0, N * C * sizeof(float));
    matmul_backward(t->dln, gw->q, t->dqkv, a->ln1, w->q, N, C, 3 * HD);
    rms_bwd(t, dx, gw->ln_self, t->dln, a->x, w->ln_self, a->rstd1, N, C);
}

/* Per-block bias-by-offset gradients -> the bucket table grad (buckets, H). */
static void bias_scatter(worker *t, const float *tdb, size_t n_seq, size_t bias_n,
                         float *grel, int bidir, size_t center)
{
    const t5_config *c = &t->m->cfg;
    size_t H = t->H;
    for (size_t d = 0; d < bias_n; d++) {
        long rel = bidir ? (long)d - (long)center : -(long)d;
        int bk = t5_rel_bucket(rel, bidir, c->rel_buckets, c->rel_max_distance);
        for (size_t h = 0; h < H; h++) {
            float s = 0.0f;
            for (size_t k = 0; k < n_seq; k++) s += tdb[(k * H + h) * bias_n + d];
            grel[(size_t)bk * H + h] += s;
        }
    }
}

/* The loss and the output layer backward, then the decoder's layers: dx
 * ends as d(decoder input embeddings), denc as d(enc_out). */
static void decoder_bwd(worker *t, const train_batch *b)
{
    const t5_weights *w = &t->m->w;
    t5_weights *g = &t->g;
    size_t C = t->C, HD = t->HD, V = t->V, H = t->H, NE = b->n_src, ND = b->n_tgt;
    size_t nd = b->max_tgt;
    seq_rows sr = dec_rows(b);
    attn_args aa;

    /* cross-entropy: dlogits = (softmax - target) / count on labelled rows */
#pragma omp parallel for schedule(static) if (ND * V >= PAR_MIN)
    for (size_t i = 0; i < ND; i++)
        crossentropy_backward(t->logits + i * V, t->lse + i, b->labels + i, 1, V, t->loss_scale,
                              t->opts.label_smoothing);
    /* output layer */
    const float *wout = w->lm_head ? w->lm_head : w->shared;
    float *gout = w->lm_head ? g->lm_head : g->shared;
    gemm_par(0, 0, ND, C, V, t->out_scale, t->logits, V, wout, C, 0.0f, t->dln, C);
    gemm_par(1, 0, V, C, ND, t->out_scale, t->logits, V, t->dec_ln, C, 1.0f, gout, C);
    if (t->opts.aux_weight > 0.0f) aux_bwd(t, b);
    if (dropping(t)) drop_rows(t, t->dln, C, C, 0, ND, DS_DEC_FINAL, 0, &sr);
    memset(t->dx, 0, ND * C * sizeof(float));
    rms_bwd(t, t->dx, g->dec_final_ln, t->dln, t->dec_xout, w->dec_final_ln, t->dec_rstd, ND, C);

    memset(t->denc, 0, NE * C * sizeof(float));
    memset(t->tdb_d, 0, b->n * H * nd * sizeof(float));
    for (size_t l = t->Ld; l-- > 0;) {
        const layer_acts *a = &t->dec[l];
        const t5_block *bw = &w->dec[l];
        t5_block *gw = &g->dec[l];
        ff_bwd(t, bw, gw, a, a->x2, t->dx, ND, 1, l, &sr);
        /* cross attention */
        residual_bwd(t, t->dctx, gw->co, t->dx, a->cctx, bw->co, ND, DS_DEC_CROSS_OUT, l, &sr);
        attn_cross_args(t, &aa, a, b);
        if (dropping(t)) attn_drop_args(t, &aa, DS_DEC_CROSS_PROBS, l);
        attention_bwd(t, &aa, b->n, a->cprobs, t->dctx, HD, t->dcq, HD, t->dckv, 2 * HD,
                      t->dckv + HD, 2 * HD, NULL);
        matmul_backward(t->denc, gw->ck, t->dckv, t->enc_out, bw->ck, NE, C, 2 * HD);
        memset(t->dln, 0, ND * C * sizeof(float));
        matmul_backward(t->dln, gw->cq, t->dcq, a->lnc, bw->cq, ND, C, HD);
        rms_bwd(t, t->dx, gw->ln_cross, t->dln, a->x1, bw->ln_cross, a->rstdc, ND, C);
        /* self attention */
        attn_self_args(t, &aa, a, b->tgt_off, b->tgt_len, t->pd_off, BIAS_CAUSAL, t->dbias, nd,
                       0);
        if (dropping(t)) attn_drop_args(t, &aa, DS_DEC_SELF_PROBS, l);
        self_attn_bwd(t, bw, gw, a, &aa, b->n, t->dx, ND, t->tdb_d, DS_DEC_SELF_OUT, l, &sr);
    }
    if (dropping(t)) drop_rows(t, t->dx, C, C, 0, ND, DS_DEC_EMBED, 0, &sr);
    embed_bwd(g->shared, b->dec_in, t->dx, ND, C);
    bias_scatter(t, t->tdb_d, b->n, nd, g->dec[0].rel_bias, 0, 0);
}

/* The encoder's backward from denc = d(enc_out). */
static void encoder_bwd(worker *t, const train_batch *b)
{
    const t5_weights *w = &t->m->w;
    t5_weights *g = &t->g;
    size_t C = t->C, H = t->H, NE = b->n_src, ne = 2 * b->max_src - 1;
    seq_rows sr = enc_rows(b);
    attn_args aa;
    if (dropping(t)) drop_rows(t, t->denc, C, C, 0, NE, DS_ENC_FINAL, 0, &sr);
    memset(t->dx, 0, NE * C * sizeof(float));
    rms_bwd(t, t->dx, g->enc_final_ln, t->denc, t->enc_xout, w->enc_final_ln, t->enc_rstd, NE,
            C);
    memset(t->tdb_e, 0, b->n * H * ne * sizeof(float));
    for (size_t l = t->Le; l-- > 0;) {
        const layer_acts *a = &t->enc[l];
        const t5_block *bw = &w->enc[l];
        t5_block *gw = &g->enc[l];
        ff_bwd(t, bw, gw, a, a->x1, t->dx, NE, 0, l, &sr);
        attn_self_args(t, &aa, a, b->src_off, b->src_len, t->pe_off, BIAS_BIDIR, t->ebias, ne,
                       b->max_src - 1);
        if (dropping(t)) attn_drop_args(t, &aa, DS_ENC_SELF_PROBS, l);
        self_attn_bwd(t, bw, gw, a, &aa, b->n, t->dx, NE, t->tdb_e, DS_ENC_SELF_OUT, l, &sr);
    }
    if (dropping(t)) drop_rows(t, t->dx, C, C, 0, NE, DS_ENC_EMBED, 0, &sr);
    embed_bwd(g->shared, b->src, t->dx, NE, C);
    bias_scatter(t, t->tdb_e, b->n, ne, g->enc[0].rel_bias, 1, b->max_src - 1);
}

/* Backward on one worker's sequences into its own gradients. */
static void worker_backward(worker *t, const train_batch *b)
{
    decoder_bwd(t, b);
    encoder_bwd(t, b);
}

/* ---- the trainer: one worker per thread ------------------------------------ */

/* Data parallelism across the OpenMP threads: the batch's sequences are split
 * into nw contiguous groups, each worker runs the whole forward and backward
 * pass of its group with single-threaded BLAS and its own activations and
 * gradients, and the gradients are summed at the end (in worker order, so a
 * run is reproducible bit for bit for a given thread count). No barrier
 * inside the layers: the threads meet twice per step. */
struct t5_trainer {
    t5_model *m;
    size_t cap_seqs, max_src, max_tgt;
    int nw;
    size_t per;          /* sequences a worker holds */
    worker **w;
    train_batch *sub;    /* (nw) the groups of the last batch */
    float *logits;       /* (cap_seqs * max_tgt, V) assembled by train_logits */
    uint64_t step;       /* trainer_set_step's */
    float *aux_w, *aux_m, *aux_v;  /* (TRAIN_AUX_OUT, C) the auxiliary head, AdamW moments */
    size_t aux_step;     /* its AdamW updates */
    double aux_loss;     /* of the last train_forward */
};

t5_trainer *trainer_new(t5_model *m, size_t cap_seqs, size_t max_src, size_t max_tgt)
{
    t5_trainer *t = xcalloc(1, sizeof *t);
    t->m = m;
    t->cap_seqs = cap_seqs;
    t->max_src = max_src;
    t->max_tgt = max_tgt;
    int nt = omp_get_max_threads();
    t->nw = (size_t)nt < cap_seqs ? nt : (int)cap_seqs;
    if (t->nw < 1) t->nw = 1;
    /* each worker holds its even share plus an eighth, room for split_batch
     * to balance the work of sequences of different lengths */
    size_t per = (cap_seqs + (size_t)t->nw - 1) / (size_t)t->nw;
    per += (per + 7) / 8;
    if (per > cap_seqs) per = cap_seqs;
    t->per = per;
    size_t na = TRAIN_AUX_OUT * m->cfg.d_model;
    t->aux_w = xcalloc(na, sizeof(float));
    t->aux_m = xcalloc(na, sizeof(float));
    t->aux_v = xcalloc(na, sizeof(float));
    t->w = xcalloc((size_t)t->nw, sizeof *t->w);
    t->sub = xcalloc((size_t)t->nw, sizeof *t->sub);
    for (int k = 0; k < t->nw; k++) {
        t->w[k] = worker_new(m, per, max_src, max_tgt);
        t->w[k]->aux_w = t->aux_w;
        train_batch_init(&t->sub[k], per, per * max_src, per * max_tgt);
    }
    openblas_set_num_threads(1);
    return t;
}

void trainer_free(t5_trainer *t)
{
    if (!t) return;
    for (int k = 0; k < t->nw; k++) {
        worker_free(t->w[k]);
        train_batch_free(&t->sub[k]);
    }
    free(t->w);
    free(t->sub);
    free(t->logits);
    free(t->aux_w);
    free(t->aux_m);
    free(t->aux_v);
    free(t);
}

void trainer_set_opts(t5_trainer *t, const trainer_opts *o)
{
    for (int k = 0; k < t->nw; k++) t->w[k]->opts = *o;
}

void trainer_set_step(t5_trainer *t, uint64_t step) { t->step = step; }

int trainer_check_batch(const t5_trainer *t, const train_batch *b, as_err *err)
{
    size_t V = t->m->cfg.vocab_size;
    if (b->n == 0) return as_errf(err, "empty batch");
    if (b->n > t->cap_seqs)
        return as_errf(err, "batch of %zu sequences exceeds the trainer's %zu", b->n,
                       t->cap_seqs);
    if (b->max_src > t->max_src)
        return as_errf(err, "a source of %zu tokens exceeds the maximum %zu", b->max_src,
                       t->max_src);
    if (b->max_tgt > t->max_tgt)
        return as_errf(err, "a target of %zu tokens exceeds the maximum %zu", b->max_tgt,
                       t->max_tgt);
    for (size_t i = 0; i < b->n_src; i++)
        if (b->src[i] < 0 || (size_t)b->src[i] >= V)
            return as_errf(err, "source token %d outside the vocabulary", b->src[i]);
    for (size_t i = 0; i < b->n_tgt; i++)
        if (b->dec_in[i] < 0 || (size_t)b->dec_in[i] >= V || b->labels[i] >= (int)V)
            return as_errf(err, "target token outside the vocabulary");
    return 0;
}

/* Split b into the workers' groups: contiguous runs of sequences with about
 * the same work each (linear layers per token, attention per token pair),
 * within the workers' capacities. */
static void split_batch(t5_trainer *t, const train_batch *b)
{
    size_t nw = (size_t)t->nw, n = b->n;
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = (double)b->src_len[i], d = (double)b->tgt_len[i];
        total += s + 3.0 * d + (d * d + d * s + s * s) / 64.0;
    }
    size_t i = 0;
    double acc = 0.0;
    for (size_t k = 0; k < nw; k++) {
        train_batch *sb = &t->sub[k];
        train_batch_clear(sb);
        t->w[k]->seq0 = i;
        double goal = total * (double)(k + 1) / (double)nw;
        while (i < n) {
            size_t left_after = n - i - 1, room_after = (nw - k - 1) * t->per;
            int must = left_after >= room_after;  /* the others could not hold the rest */
            if (sb->n == t->per || (!must && k + 1 < nw && acc >= goal - 1e-9)) break;
            double s = (double)b->src_len[i], d = (double)b->tgt_len[i];
            double c = s + 3.0 * d + (d * d + d * s + s * s) / 64.0;
            /* stop before a sequence that overshoots the goal by more than half */
            if (!must && k + 1 < nw && sb->n > 0 && acc + c - goal > 0.5 * c) break;
            train_batch_add_raw(sb, b->src + b->src_off[i], b->src_len[i],
                                b->dec_in + b->tgt_off[i], b->labels + b->tgt_off[i],
                                b->tgt_len[i]);
            memcpy(sb->aux + 2 * (sb->n_tgt - b->tgt_len[i]), b->aux + 2 * b->tgt_off[i],
                   2 * b->tgt_len[i] * sizeof(int));
            acc += c;
            i++;
        }
    }
}

double train_forward(t5_trainer *t, const train_batch *b)
{
    split_batch(t, b);
    for (int k = 0; k < t->nw; k++) {
        worker *w = t->w[k];
        w->drop_key = dropout_key(dropout_key(0, w->opts.dropout_seed), t->step);
    }
    double sum = 0.0;
    size_t count = 0;
    double part[t->nw];
    size_t cnt[t->nw];
#pragma omp parallel for schedule(static, 1) num_threads(t->nw) if (t->nw > 1)
    for (int k = 0; k < t->nw; k++) {
        part[k] = 0.0;
        cnt[k] = 0;
        if (t->sub[k].n) part[k] = worker_forward(t->w[k], &t->sub[k], &cnt[k]);
    }
    for (int k = 0; k < t->nw; k++) {
        sum += part[k];
        count += cnt[k];
    }
    float scale = count ? 1.0f / (float)count : 0.0f;
    for (int k = 0; k < t->nw; k++) t->w[k]->loss_scale = scale;
    double aux = 0.0;
    size_t na = 0;
    if (t->w[0]->opts.aux_weight > 0.0f)
        for (int k = 0; k < t->nw; k++)
            if (t->sub[k].n) aux += t->w[k]->aux_sum, na += t->w[k]->aux_count;
    t->aux_loss = na ? aux / (2.0 * (double)na) : 0.0;
    for (int k = 0; k < t->nw; k++)
        t->w[k]->aux_scale = na ? t->w[k]->opts.aux_weight / (2.0f * (float)na) : 0.0f;
    return count ? sum / (double)count : 0.0;
}

const float *train_logits(t5_trainer *t)
{
    size_t V = t->m->cfg.vocab_size;
    if (t->nw == 1) return t->w[0]->logits;
    if (!t->logits) t->logits = xmalloc(t->cap_seqs * t->max_tgt * V * sizeof(float));
    size_t off = 0;
    for (int k = 0; k < t->nw; k++) {
        memcpy(t->logits + off, t->w[k]->logits, t->sub[k].n_tgt * V * sizeof(float));
        off += t->sub[k].n_tgt * V;
    }
    return t->logits;
}

float *train_grads(t5_trainer *t) { return t->w[0]->grads; }

void train_zero_grad(t5_trainer *t)
{
    size_t n = t->m->n_params;
#pragma omp parallel for schedule(static, 1) num_threads(t->nw) if (t->nw > 1)
    for (int k = 0; k < t->nw; k++) {
        memset(t->w[k]->grads, 0, n * sizeof(float));
        memset(t->w[k]->aux_g, 0, TRAIN_AUX_OUT * t->m->cfg.d_model * sizeof(float));
    }
}

void train_backward(t5_trainer *t, const train_batch *b)
{
    (void)b;  /* the groups of the last train_forward */
    size_t n = t->m->n_params;
    int nw = t->nw;
#pragma omp parallel num_threads(nw) if (nw > 1)
    {
        int k = omp_get_thread_num();
        if (nw == 1 || omp_get_num_threads() == 1) {
            for (int q = 0; q < nw; q++)
                if (t->sub[q].n) worker_backward(t->w[q], &t->sub[q]);
        } else if (t->sub[k].n) {
            worker_backward(t->w[k], &t->sub[k]);
        }
#pragma omp barrier
        /* sum the gradients into worker 0's, in worker order */
        if (nw > 1) {
            float *g0 = t->w[0]->grads;
#pragma omp for schedule(static)
            for (size_t i0 = 0; i0 < n; i0 += 4096) {
                size_t i1 = i0 + 4096 < n ? i0 + 4096 : n;
                for (int q = 1; q < nw; q++) {
                    const float *gq = t->w[q]->grads;
                    for (size_t i = i0; i < i1; i++) g0[i] += gq[i];
                }
            }
        }
    }
    if (t->w[0]->opts.aux_weight > 0.0f)
        for (int q = 1; q < nw; q++)
            vec_axpy(t->w[0]->aux_g, 1.0f, t->w[q]->aux_g, TRAIN_AUX_OUT * t->m->cfg.d_model);
}

float *trainer_aux_head(t5_trainer *t, float **m, float **v, size_t **step)
{
    if (m) *m = t->aux_m;
    if (v) *v = t->aux_v;
    if (step) *step = &t->aux_step;
    return t->aux_w;
}

const float *train_aux_grads(const t5_trainer *t) { return t->w[0]->aux_g; }

double train_aux_loss(const t5_trainer *t) { return t->aux_loss; }

double train_aux_update(t5_trainer *t, double lr, const adamw_cfg *c)
{
    size_t n = TRAIN_AUX_OUT * t->m->cfg.d_model;
    float *g = t->w[0]->aux_g;
    double norm = grad_clip(g, n, c->clip);
    adamw_update_array(t->aux_w, t->aux_m, t->aux_v, &t->aux_step, g, n, lr, c, 1);
    return norm;
}
