/* test_analysis.c - the analysis module on synthetic attention maps (every
 * score and every class), the aggregates (grids, summary map, rollout) on
 * hand-made traces, the interventions on a small random model (zeroing a
 * head through the hook equals zeroing its output-projection columns;
 * blocking keys), and the figures (valid PNG and SVG of the promised size). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "testutil.h"
#include "analysis.h"
#include "byt5.h"
#include "t5.h"
#include "tokenizer.h"
#include "trace.h"

/* ---- synthetic maps ---------------------------------------------------- */

#define SRC_TEXT "7x^2+3556x+451612=0"

static void normalise_rows(float *m, size_t rows, size_t cols)
{
    for (size_t q = 0; q < rows; q++) {
        double s = 0;
        for (size_t k = 0; k < cols; k++) s += m[q * cols + k];
        for (size_t k = 0; k < cols; k++) m[q * cols + k] = (float)(m[q * cols + k] / s);
    }
}

static an_head_class classify_map(t5_attn_kind kind, const float *m, size_t rows, size_t cols,
                                  const int *tok, an_head_stats *s)
{
    memset(s, 0, sizeof *s);
    an_stats_add_map(s, kind, m, rows, cols, cols, tok);
    an_head_class c;
    an_classify(s, &c);
    return c;
}

static void test_token_classes(void **state)
{
    (void)state;
    int ids[32];
    size_t n = byt5_encode("0x^=+-*();D</9", ids, 32);
    an_tclass want[] = {AN_TC_DIGIT, AN_TC_X,     AN_TC_CARET, AN_TC_EQ, AN_TC_SIGN,
                        AN_TC_SIGN,  AN_TC_STAR,  AN_TC_PAREN, AN_TC_PAREN, AN_TC_SEMI,
                        AN_TC_D,     AN_TC_LT,    AN_TC_SLASH, AN_TC_DIGIT};
    assert_int_equal(n, 14);
    for (size_t i = 0; i < n; i++) assert_int_equal(an_token_class(ids[i]), want[i]);
    assert_int_equal(an_token_class(BYT5_EOS), AN_TC_EOS);
    assert_int_equal(an_token_class(BYT5_PAD), AN_TC_PAD);
    assert_int_equal(an_token_class(BYT5_UNK), AN_TC_OTHER);
    assert_int_equal(an_token_class('a' + 3), AN_TC_OTHER);
    assert_true(an_is_special('x' + 3));
    assert_true(an_is_special('=' + 3));
    assert_false(an_is_special('5' + 3));
    assert_false(an_is_special(BYT5_EOS));
    assert_true(an_is_digit('5' + 3));
    assert_string_equal(an_tclass_name(AN_TC_CARET), "^");
}

static void test_uniform_scores(void **state)
{
    (void)state;
    size_t n = 16;
    float *m = malloc(n * n * sizeof *m);
    for (size_t i = 0; i < n * n; i++) m[i] = 1.0f / n;
    an_head_stats s;
    an_head_class c = classify_map(T5_ATTN_ENC_SELF, m, n, n, NULL, &s);
    assert_true(fabs(s.entropy - log(16.0)) < 1e-5);
    assert_true(fabs(s.entropy_uniform - log(16.0)) < 1e-9);
    assert_true(fabs(s.topk - 3.0 / 16) < 1e-6);
    /* mean |k - q| over a uniform 16x16 grid: (n^2 - 1) / (3n) */
    assert_true(fabs(s.distance - (256.0 - 1) / 48.0) < 1e-5);
    /* offset 0 holds 1/16 of each row; row sums 1 */
    assert_true(fabs(s.offset[AN_OFFSET_WIN] - 1.0 / 16) < 1e-6);
    double tot = 0;
    for (int i = 0; i < AN_N_OFFSETS; i++) tot += s.offset[i];
    assert_true(fabs(tot - 1) < 1e-5);
    assert_true(fabs(s.class_mass[AN_TC_OTHER] - 1) < 1e-5);
    assert_true(fabs(s.far_sim - 1) < 1e-5);
    assert_true(s.block == 0);
    /* a uniform map is a stripe-free, band-free heterogeneous map */
    assert_int_equal(c.cls, AN_CLASS_HETERO);
    free(m);
}

static void test_clear_diagonal(void **state)
{
    (void)state;
    size_t n = 20;
    float *m = calloc(n * n, sizeof *m);
    for (size_t q = 0; q < n; q++) {
        for (size_t k = 0; k < n; k++) m[q * n + k] = 0.1f / (n - 1);
        m[q * n + (q ? q - 1 : 0)] += 0.9f;
    }
    normalise_rows(m, n, n);
    an_head_stats s;
    an_head_class c = classify_map(T5_ATTN_ENC_SELF, m, n, n, NULL, &s);
    assert_int_equal(c.cls, AN_CLASS_DIAG);
    assert_int_equal(c.offset, -1);
    assert_true(c.diag > 0.85);
    assert_string_equal(c.label, "diag -1");
    assert_true(s.entropy < 0.5 * s.entropy_uniform);
    assert_true(s.topk > 0.9);
    free(m);
}

static void test_blurred_diagonal(void **state)
{
    (void)state;
    size_t n = 24;
    float *m = calloc(n * n, sizeof *m);
    for (size_t q = 0; q < n; q++)
        for (size_t k = 0; k < n; k++) {
            double d = (double)k - (double)q - 2;
            m[q * n + k] = (float)exp(-d * d / (2 * 2.0 * 2.0));
        }
    normalise_rows(m, n, n);
    an_head_stats s;
    an_head_class c = classify_map(T5_ATTN_ENC_SELF, m, n, n, NULL, &s);
    assert_int_equal(c.cls, AN_CLASS_BLUR);
    assert_int_equal(c.offset, 2);
    assert_true(c.diag < AN_DIAG_CLEAR);
    assert_true(c.band >= AN_BLUR_MIN);
    assert_true(c.block < AN_BLOCK_MIN);
    assert_true(c.stripe < AN_STRIPE_MIN);
    free(m);
}

static void test_vertical_stripes(void **state)
{
    (void)state;
    int tok[32];
    size_t n = byt5_encode_eos(SRC_TEXT, tok, 32); /* 20 tokens: x at 1, = at 17 */
    assert_int_equal(n, 20);
    float *m = calloc(n * n, sizeof *m);
    for (size_t q = 0; q < n; q++) {
        for (size_t k = 0; k < n; k++) m[q * n + k] = 0.2f / n;
        m[q * n + 1] += 0.5f;
        m[q * n + 17] += 0.3f;
    }
    an_head_stats s;
    an_head_class c = classify_map(T5_ATTN_ENC_SELF, m, n, n, tok, &s);
    assert_int_equal(c.cls, AN_CLASS_STRIPES);
    assert_true(c.stripe > 0.8);
    assert_true(c.stripe_classes & (1u << AN_TC_X));
    assert_true(c.stripe_classes & (1u << AN_TC_EQ));
    assert_false(c.stripe_classes & (1u << AN_TC_DIGIT));
    assert_string_equal(c.label, "stripes x =");
    /* class mass: x has 2 tokens (0.5 + 2 * 0.01), = has 1 (0.3 + 0.01) */
    assert_true(fabs(s.class_mass[AN_TC_X] - 0.52) < 1e-5);
    assert_true(fabs(s.class_mass[AN_TC_EQ] - 0.31) < 1e-5);
    assert_true(fabs(s.class_mass[AN_TC_EOS] - 0.01) < 1e-5);
    free(m);
}

static void test_sparse_squares(void **state)
{
    (void)state;
    size_t n = 20, edges[] = {0, 5, 11, 20};
    float *m = calloc(n * n, sizeof *m);
    for (size_t b = 0; b < 3; b++)
        for (size_t q = edges[b]; q < edges[b + 1]; q++)
            for (size_t k = edges[b]; k < edges[b + 1]; k++)
                m[q * n + k] = 1.0f / (float)(edges[b + 1] - edges[b]);
    an_head_stats s;
    an_head_class c = classify_map(T5_ATTN_ENC_SELF, m, n, n, NULL, &s);
    assert_int_equal(c.cls, AN_CLASS_BLOCK);
    assert_true(fabs(s.repeat - 17.0 / 19) < 1e-6);
    assert_true(fabs(s.jump - 2.0 / 19) < 1e-6);
    assert_true(s.far_sim < 1e-6);
    assert_true(fabs(c.block - 17.0 / 19) < 1e-6);
    assert_string_equal(c.label, "squares");
    free(m);
}

static void test_heterogeneous(void **state)
{
    (void)state;
    size_t n = 24;
    float *m = calloc(n * n, sizeof *m);
    as_rng r;
    rng_seed(&r, 7);
    for (size_t i = 0; i < n * n; i++) m[i] = (float)(-log(1 - rng_uniform(&r)));
    normalise_rows(m, n, n);
    an_head_stats s;
    an_head_class c = classify_map(T5_ATTN_ENC_SELF, m, n, n, NULL, &s);
    assert_int_equal(c.cls, AN_CLASS_HETERO);
    assert_string_equal(c.label, "hetero");
    free(m);
}

static void test_cross_diagonal(void **state)
{
    (void)state;
    size_t rows = 40, cols = 20;
    float *m = calloc(rows * cols, sizeof *m);
    for (size_t q = 0; q < rows; q++) {
        for (size_t k = 0; k < cols; k++) m[q * cols + k] = 0.1f / cols;
        m[q * cols + (size_t)lround(q * 19.0 / 39.0)] += 0.9f;
    }
    an_head_stats s;
    an_head_class c = classify_map(T5_ATTN_CROSS, m, rows, cols, NULL, &s);
    assert_int_equal(c.cls, AN_CLASS_DIAG);
    assert_int_equal(c.offset, 0);
    assert_true(s.distance < 1.0);
    free(m);
}

static void test_causal_start_stripe(void **state)
{
    (void)state;
    /* decoder self attention that always looks at the start token */
    size_t n = 30;
    float *m = calloc(n * n, sizeof *m);
    int tok[30];
    for (size_t q = 0; q < n; q++) m[q * n] = 1, tok[q] = q ? '5' + 3 : BYT5_PAD;
    an_head_stats s;
    an_head_class c = classify_map(T5_ATTN_DEC_SELF, m, n, n, tok, &s);
    assert_int_equal(c.cls, AN_CLASS_STRIPES);
    assert_string_equal(c.label, "stripes pad");
    assert_true(s.entropy == 0);
    double u = 0;
    for (size_t q = 0; q < n; q++) u += log((double)q + 1);
    assert_true(fabs(s.entropy_uniform - u / n) < 1e-9);
    /* mean |k - q| = mean q */
    assert_true(fabs(s.distance - (n - 1) / 2.0) < 1e-9);
    free(m);
}

static void test_causal_uniform_and_squares(void **state)
{
    (void)state;
    size_t n = 30;
    float *m = calloc(n * n, sizeof *m);
    /* uniform over the visible prefix: no structure, whatever the short rows say */
    for (size_t q = 0; q < n; q++)
        for (size_t k = 0; k <= q; k++) m[q * n + k] = 1.0f / (float)(q + 1);
    an_head_stats s;
    an_head_class c = classify_map(T5_ATTN_DEC_SELF, m, n, n, NULL, &s);
    assert_int_equal(c.cls, AN_CLASS_HETERO);
    assert_true(s.block == 0);
    assert_true(fabs(s.entropy - s.entropy_uniform) < 1e-5);
    assert_true(s.offset_rows == n - (AN_CAUSAL_MIN_KEYS - 1));
    /* squares: rows 0..9 look at keys 0..1, rows 10..19 at keys 2..5,
     * rows 20..29 at keys 12..15 */
    memset(m, 0, n * n * sizeof *m);
    for (size_t q = 0; q < n; q++) {
        size_t lo = q < 10 ? 0 : q < 20 ? 2 : 12, hi = q < 10 ? (q >= 1) : lo + 3;
        for (size_t k = lo; k <= hi; k++) m[q * n + k] = 1.0f / (float)(hi - lo + 1);
    }
    c = classify_map(T5_ATTN_DEC_SELF, m, n, n, NULL, &s);
    assert_true(s.jump > 0);
    assert_true(c.block >= AN_BLOCK_MIN);
    assert_true(c.stripe < AN_STRIPE_MIN);
    assert_int_equal(c.cls, AN_CLASS_BLOCK);
    free(m);
}

static void test_skips_empty_rows(void **state)
{
    (void)state;
    size_t n = 10;
    float *m = calloc(n * n, sizeof *m);
    for (size_t q = 0; q < 6; q++) m[q * n + q] = 1; /* rows 6..9 not computed */
    an_head_stats s;
    an_head_class c = classify_map(T5_ATTN_ENC_SELF, m, n, n, NULL, &s);
    an_stats_finish(&s); /* idempotent */
    assert_true(s.rows == 6);
    assert_int_equal(c.cls, AN_CLASS_DIAG);
    assert_int_equal(c.offset, 0);
    memset(&s, 0, sizeof s);
    an_classify(&s, &c);
    assert_int_equal(c.cls, AN_CLASS_HETERO);
    free(m);
}

/* ---- grids --------------------------------------------------------------- */

static void test_grid(void **state)
{
    (void)state;
    an_grid *g = an_grid_new(3, 3);
    float a[4] = {1, 0, 0.5f, 0.5f}, b[9] = {0, 1, 0, 0, 0, 1, 1, 0, 0};
    an_grid_add(g, a, 2, 2, 2);
    an_grid_add(g, b, 3, 3, 3);
    float out[9];
    an_grid_mean(g, out);
    float want[9] = {0.5f, 0.5f, 0, 0.25f, 0.25f, 1, 1, 0, 0};
    assert_close_array(out, want, 9, 1e-6, 0);
    an_grid_free(g);

    int tok[3];
    byt5_encode("x=5", tok, 3);
    an_grid *c = an_grid_new(AN_TC_COUNT, AN_TC_COUNT);
    an_grid_add_by_class(c, b, 3, 3, 3, tok, tok);
    float cm[AN_TC_COUNT * AN_TC_COUNT];
    an_grid_mean(c, cm);
    /* x attends to =, = to 5, 5 to x */
    assert_true(cm[AN_TC_X * AN_TC_COUNT + AN_TC_EQ] == 1);
    assert_true(cm[AN_TC_EQ * AN_TC_COUNT + AN_TC_DIGIT] == 1);
    assert_true(cm[AN_TC_DIGIT * AN_TC_COUNT + AN_TC_X] == 1);
    assert_true(cm[AN_TC_X * AN_TC_COUNT + AN_TC_X] == 0);
    an_grid_free(c);
}

/* ---- traces and models ------------------------------------------------ */

static t5_config tiny_cfg(void)
{
    return tu_config((tu_shape){.d_model = 16, .d_kv = 4, .d_ff = 24, .heads = 3, .enc_layers = 2,
                                .dec_layers = 2, .buckets = 8, .max_distance = 16});
}

static void test_summary_and_rollout(void **state)
{
    (void)state;
    t5_config cfg = tiny_cfg();
    t5_model m;
    assert_int_equal(t5_alloc(&m, &cfg, NULL), 0);
    attn_trace *t = trace_new(&m, 4, 4);
    int src[3] = {10, 11, 12};
    trace_set_src(t, src, 3);
    /* every encoder head of layer 0 attends to key 0, of layer 1 to itself */
    for (size_t h = 0; h < 3; h++) {
        size_t r, c, st;
        float *m0 = (float *)trace_map(t, T5_ATTN_ENC_SELF, 0, h, &r, &c, &st);
        float *m1 = (float *)trace_map(t, T5_ATTN_ENC_SELF, 1, h, &r, &c, &st);
        for (size_t q = 0; q < 3; q++) m0[q * st] = 1, m1[q * st + q] = 1;
    }
    float sm[2 * 3];
    size_t cols;
    an_summary_map(t, T5_ATTN_ENC_SELF, sm, &cols);
    assert_int_equal(cols, 3);
    float want_sm[6] = {3, 0, 0, 1, 1, 1};
    assert_close_array(sm, want_sm, 6, 1e-6, 0);

    float mean[9];
    size_t rows;
    an_mean_map(t, T5_ATTN_ENC_SELF, -1, -1, mean, &rows, &cols);
    float want_mean[9] = {1, 0, 0, 0.5f, 0.5f, 0, 0.5f, 0, 0.5f};
    assert_close_array(mean, want_mean, 9, 1e-6, 0);

    /* rollout: A0' = 0.5 I + 0.5 A0 (all to key 0), A1' = I, R = A1' A0' */
    float ro[9];
    size_t n;
    an_rollout(t, T5_ATTN_ENC_SELF, ro, &n);
    assert_int_equal(n, 3);
    float want_ro[9] = {1, 0, 0, 0.5f, 0.5f, 0, 0.5f, 0, 0.5f};
    assert_close_array(ro, want_ro, 9, 1e-6, 0);

    /* cross rollout: decoder rows attend themselves, cross to source 0 on
     * layer 0 and to source 2 on layer 1; R_enc sends 2 to 0 and 2 by halves */
    int tgt[3] = {0, 20, 21};
    for (size_t i = 0; i < 3; i++) trace_push_tgt(t, tgt[i], (int)i);
    t->n_rows = 3;
    for (size_t h = 0; h < 3; h++) {
        size_t r, c, st;
        for (size_t l = 0; l < 2; l++) {
            float *d = (float *)trace_map(t, T5_ATTN_DEC_SELF, l, h, &r, &c, &st);
            float *x = (float *)trace_map(t, T5_ATTN_CROSS, l, h, &r, &c, &st);
            for (size_t q = 0; q < 3; q++) d[q * t->max_tgt + q] = 1, x[q * t->max_src + (l ? 2 : 0)] = 1;
        }
    }
    float rc[9];
    size_t rr, rcols;
    an_rollout_cross(t, rc, &rr, &rcols);
    assert_int_equal(rr, 3);
    assert_int_equal(rcols, 3);
    /* layer 0: R_ds = 0.5 e0; layer 1: 0.5 * 0.5 e0 + 0.5 (0.5 e0 + 0.5 e2) */
    for (size_t q = 0; q < 3; q++) {
        assert_true(fabs(rc[q * 3 + 0] - 0.5) < 1e-6);
        assert_true(fabs(rc[q * 3 + 1]) < 1e-6);
        assert_true(fabs(rc[q * 3 + 2] - 0.25) < 1e-6);
    }

    an_trace_classes tc;
    an_classify_trace(t, &tc);
    assert_int_equal(tc.cls[T5_ATTN_ENC_SELF][1 * 3 + 2].cls, AN_CLASS_DIAG);
    assert_int_equal(tc.cls[T5_ATTN_ENC_SELF][0].cls, AN_CLASS_STRIPES);
    an_trace_classes_free(&tc);
    trace_free(t);
    t5_free(&m);
}

/* Zero head h of kind k, layer l through the hook vs. zeroing that head's
 * columns of the output projection: the logits must agree. */
static void check_zero_head(const t5_model *m, t5_attn_kind kind, size_t l, size_t h)
{
    const t5_config *c = &m->cfg;
    int src[12], dec[10];
    size_t ns = byt5_encode_eos("1x^2-5x+6=0", src, 12);
    size_t T = byt5_encode("D=((-5)^", dec + 1, 9) + 1;
    dec[0] = c->decoder_start_token_id;
    size_t V = c->vocab_size;
    float *a = malloc(T * V * sizeof *a), *b = malloc(T * V * sizeof *b), *base = malloc(T * V * sizeof *base);
    t5_run *r = t5_run_new(m, 16, 16);
    as_err err = {0};
    an_iv iv;
    an_iv_init(&iv, m);
    assert_int_equal(an_forced(r, &iv, src, ns, dec, T, base, &err), 0);
    an_iv_set_head(&iv, kind, l, h, AN_ABL_ZERO);
    assert_int_equal(an_iv_count(&iv), 1);
    assert_int_equal(an_forced(r, &iv, src, ns, dec, T, a, &err), 0);
    assert_true(iv.events > 0);
    t5_run_free(r);

    t5_model z;
    assert_int_equal(t5_alloc(&z, c, &err), 0);
    memcpy(z.params, m->params, m->n_params * sizeof *z.params);
    const t5_block *blk = kind == T5_ATTN_ENC_SELF ? &z.w.enc[l] : &z.w.dec[l];
    float *o = kind == T5_ATTN_CROSS ? blk->co : blk->o;
    size_t HD = c->num_heads * c->d_kv;
    for (size_t row = 0; row < c->d_model; row++)
        for (size_t j = h * c->d_kv; j < (h + 1) * c->d_kv; j++) o[row * HD + j] = 0;
    r = t5_run_new(&z, 16, 16);
    assert_int_equal(t5_teacher_forced(r, src, ns, dec, T, b, &err), 0);
    assert_close_array(a, b, T * V, 1e-5, 1e-4);
    /* and it did change something */
    double diff = 0;
    for (size_t i = 0; i < T * V; i++) diff += fabs(a[i] - base[i]);
    assert_true(diff > 1e-3);
    t5_run_free(r);
    t5_free(&z);
    an_iv_free(&iv);
    free(a);
    free(b);
    free(base);
}

static void test_zero_head_equals_zero_o(void **state)
{
    (void)state;
    t5_config cfg = tiny_cfg();
    t5_model m;
    tu_model(&m, &cfg, 3);
    check_zero_head(&m, T5_ATTN_ENC_SELF, 0, 1);
    check_zero_head(&m, T5_ATTN_ENC_SELF, 1, 2);
    check_zero_head(&m, T5_ATTN_DEC_SELF, 1, 0);
    check_zero_head(&m, T5_ATTN_CROSS, 0, 2);
    t5_free(&m);
}

static void test_greedy_and_blocking(void **state)
{
    (void)state;
    t5_config cfg = tiny_cfg();
    t5_model m;
    tu_model(&m, &cfg, 5);
    int src[32], a[20], b[20];
    size_t ns = byt5_encode_eos(SRC_TEXT, src, 32);
    t5_run *r = t5_run_new(&m, 32, 21);
    as_err err = {0};
    long na = t5_greedy(r, src, ns, a, 20, &err);
    long nb = an_greedy(r, NULL, src, ns, b, 20, &err);
    assert_true(na > 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na * sizeof *a);

    /* with an empty intervention and a capture: the same as trace_run */
    attn_trace *t1 = trace_new(&m, 32, 21), *t2 = trace_new(&m, 32, 21);
    assert_int_equal(trace_run(t1, r, src, ns, NULL, 0, 20, &err), na);
    an_iv iv;
    an_iv_init(&iv, &m);
    iv.capture = t2;
    assert_int_equal(an_greedy(r, &iv, src, ns, b, 20, &err), na);
    assert_int_equal(t1->n_rows, t2->n_rows);
    assert_int_equal(t1->n_tgt, t2->n_tgt);
    assert_memory_equal(t1->tgt, t2->tgt, t1->n_tgt * sizeof(int));
    assert_memory_equal(t1->row_step, t2->row_step, t1->n_rows * sizeof(int));
    for (int k = 0; k < AN_N_KINDS; k++) {
        size_t r1, c1, s1, r2, c2, s2;
        const float *m1 = trace_map(t1, (t5_attn_kind)k, 1, 2, &r1, &c1, &s1);
        const float *m2 = trace_map(t2, (t5_attn_kind)k, 1, 2, &r2, &c2, &s2);
        assert_int_equal(r1, r2);
        assert_int_equal(c1, c2);
        for (size_t q = 0; q < r1; q++) assert_close_array(m1 + q * s1, m2 + q * s2, c1, 1e-6, 0);
    }

    /* block special keys in every kind: their columns are zero, rows sum to 1 */
    iv.block = AN_BLOCK_SPECIAL;
    iv.block_kinds = 7;
    assert_true(an_greedy(r, &iv, src, ns, b, 20, &err) > 0);
    for (int k = 0; k < AN_N_KINDS; k++) {
        size_t rows, cols, st;
        const float *mp = trace_map(t2, (t5_attn_kind)k, 0, 1, &rows, &cols, &st);
        const int *tok = k == T5_ATTN_DEC_SELF ? t2->tgt : t2->src;
        for (size_t q = 0; q < rows; q++) {
            double s = 0;
            size_t vis = k == T5_ATTN_DEC_SELF ? q + 1 : cols;
            int any = 0;
            for (size_t j = 0; j < vis; j++) {
                s += mp[q * st + j];
                if (an_is_special(tok[j])) assert_true(mp[q * st + j] == 0);
                else any = 1;
            }
            if (any) assert_true(fabs(s - 1) < 1e-5);
        }
    }
    /* random digits: as many blocked as there are specials (6 in the source) */
    iv.block = AN_BLOCK_RANDOM_DIGITS;
    iv.block_kinds = 1u << T5_ATTN_ENC_SELF;
    iv.block_seed = 11;
    assert_true(an_greedy(r, &iv, src, ns, b, 20, &err) > 0);
    size_t rows, cols, st, zeros = 0, zspecial = 0;
    const float *mp = trace_map(t2, T5_ATTN_ENC_SELF, 0, 0, &rows, &cols, &st);
    for (size_t j = 0; j < cols; j++) {
        zeros += mp[j] == 0;
        zspecial += mp[j] == 0 && an_is_special(src[j]);
    }
    assert_int_equal(zeros, 6);
    assert_int_equal(zspecial, 0);
    /* the same columns in every row */
    for (size_t q = 1; q < rows; q++)
        for (size_t j = 0; j < cols; j++) assert_int_equal(mp[j] == 0, mp[q * st + j] == 0);

    /* mean ablation without means falls back to uniform rows */
    iv.block = AN_BLOCK_NONE;
    an_iv_set_head(&iv, T5_ATTN_ENC_SELF, 1, 1, AN_ABL_MEAN);
    assert_true(an_greedy(r, &iv, src, ns, b, 20, &err) > 0);
    mp = trace_map(t2, T5_ATTN_ENC_SELF, 1, 1, &rows, &cols, &st);
    for (size_t j = 0; j < cols; j++) assert_true(fabs(mp[3 * st + j] - 1.0 / cols) < 1e-6);

    an_iv_free(&iv);
    trace_free(t1);
    trace_free(t2);
    t5_run_free(r);
    t5_free(&m);
}

/* The UI's way: an_hook installed as the run's hook, trace_run chains it
 * before its capture; toggling a head and re-decoding shows a zero map. */
static void test_ui_hook_with_trace_run(void **state)
{
    (void)state;
    t5_config cfg = tiny_cfg();
    t5_model m;
    tu_model(&m, &cfg, 5);
    int src[32];
    size_t ns = byt5_encode_eos(SRC_TEXT, src, 32);
    t5_run *r = t5_run_new(&m, 32, 21);
    attn_trace *t = trace_new(&m, 32, 21);
    an_iv iv;
    an_iv_init(&iv, &m);
    t5_run_set_hook(r, an_hook, &iv);
    as_err err = {0};
    assert_true(trace_run(t, r, src, ns, NULL, 0, 20, &err) > 0);
    an_trace_classes tc;
    an_classify_trace(t, &tc);
    const an_head_class *hc = an_trace_class(&tc, T5_ATTN_CROSS, 1, 2);
    assert_non_null(hc);
    assert_true(strlen(hc->label) > 0);
    assert_null(an_trace_class(&tc, T5_ATTN_CROSS, 2, 0));
    assert_null(an_trace_class(&tc, T5_ATTN_CROSS, 0, 3));
    an_trace_classes_free(&tc);

    assert_int_equal(an_iv_toggle(&iv, T5_ATTN_CROSS, 1, 2, AN_ABL_ZERO), AN_ABL_ZERO);
    assert_true(trace_run(t, r, src, ns, NULL, 0, 20, &err) > 0);
    size_t rows, cols, st;
    const float *mp = trace_map(t, T5_ATTN_CROSS, 1, 2, &rows, &cols, &st);
    for (size_t q = 0; q < rows; q++)
        for (size_t k = 0; k < cols; k++) assert_true(mp[q * st + k] == 0);
    an_classify_trace(t, &tc);  /* an all-zero head has no valid rows */
    assert_string_equal(an_trace_class(&tc, T5_ATTN_CROSS, 1, 2)->label, "hetero (no data)");
    an_trace_classes_free(&tc);
    assert_int_equal(an_iv_toggle(&iv, T5_ATTN_CROSS, 1, 2, AN_ABL_ZERO), AN_ABL_NONE);
    assert_int_equal(an_iv_count(&iv), 0);

    t5_run_set_hook(r, NULL, NULL);
    an_iv_free(&iv);
    trace_free(t);
    t5_run_free(r);
    t5_free(&m);
}

static void count_progress(void *user, size_t done)
{
    size_t *last = user;
    assert_true(done > *last || done == 1);
    *last = done;
}

static void test_experiments_run(void **state)
{
    (void)state;
    t5_config cfg = tiny_cfg();
    cfg.num_heads = 2;
    cfg.num_layers = 1;
    cfg.num_decoder_layers = 1;
    t5_model m;
    tu_model(&m, &cfg, 9);
    /* louder attention outputs, so that ablating a head changes what a random
     * model writes */
    size_t HD = cfg.num_heads * cfg.d_kv;
    for (size_t i = 0; i < cfg.d_model * HD; i++) {
        m.w.enc[0].o[i] *= 30;
        m.w.dec[0].o[i] *= 30;
        m.w.dec[0].co[i] *= 30;
    }
    const char *src[] = {"1x^2-5x+6=0", "2x^2+0x-8=0"};
    const char *tgt[] = {"D=((-5)^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;x=3;",
                         "D=(0^2-4*2*(-8))=64;x=(0-8)/(2*2)=-2;x=(0+8)/(2*2)=2;x=-2;x=2;"};
    int kind[] = {0, 0};
    an_examples ex = {src, tgt, kind, 2, 1, NULL, NULL};
    t5_run *r = t5_run_new(&m, 32, 24);
    as_err err = {0};
    /* the first target is what the model writes, so the scores are not all 0 */
    int ids[32], gen[24];
    char own[200];
    size_t ns = byt5_encode_eos(src[0], ids, 32);
    long g = t5_greedy(r, ids, ns, gen, 23, &err);
    assert_true(g > 0);
    byt5_decode(gen, (size_t)g, own, sizeof own);
    tgt[0] = own;
    an_importance imp;
    size_t last = 0;
    assert_int_equal(an_head_importance(r, &ex, AN_ABL_ZERO, NULL, &imp, count_progress, &last, &err), 0);
    assert_int_equal(last, 2 * (1 + 3 * 2)); /* base + every head of 3 kinds x 1 layer x 2 heads */
    assert_true(imp.base[1] >= 0 && imp.base[1] <= 1);
    for (size_t i = 0; i < 2 * 3; i++) assert_true(fabs(imp.drop[T5_ATTN_CROSS][i]) <= 1);
    /* two threads, each with its own run: the same numbers */
    an_examples ex2 = ex;
    ex2.threads = 2;
    an_importance imp2;
    assert_int_equal(an_head_importance(r, &ex2, AN_ABL_ZERO, NULL, &imp2, NULL, NULL, &err), 0);
    assert_true(imp.base[0] == 0.5); /* the first right, the second wrong */
    double moved = 0;
    for (int k = 0; k < AN_N_KINDS; k++)
        for (size_t i = 0; i < 2 * 3; i++) moved += fabs(imp.drop[k][i]);
    assert_true(moved > 0);
    assert_memory_equal(imp.base, imp2.base, sizeof imp.base);
    for (int k = 0; k < AN_N_KINDS; k++)
        assert_memory_equal(imp.drop[k], imp2.drop[k], 2 * 3 * sizeof(double));
    an_importance_free(&imp2);
    an_importance_free(&imp);
    an_hypothesis hy;
    last = 0;
    assert_int_equal(an_hypothesis_run(r, &ex, 7, 3, 1, &hy, count_progress, &last, &err), 0);
    assert_int_equal(last, 2 * (2 + 3));
    /* the three draws differ in what they block, the base is the same */
    assert_true(hy.draws == 3 && hy.n == 2);
    assert_true(fabs(hy.src_special - 6) < 1e-9);  /* x ^ - x + = and x ^ + x - = */
    assert_true(fabs(hy.src_digits - 5) < 1e-9);
    assert_true(hy.rnd_sd[1] >= 0);
    an_hypothesis_free(&hy);
    t5_run_free(r);
    t5_free(&m);
}

/* ---- figures ------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_png_svg(const char *base, int w, int h)
{
    char path[512];
    snprintf(path, sizeof path, "%s.png", base);
    size_t len;
    char *png = util_read_file(path, &len, NULL);
    assert_non_null(png);
    assert_true(len > 33);
    assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(png + 12, "IHDR", 4);
    assert_int_equal(be32((unsigned char *)png + 16), (uint32_t)w);
    assert_int_equal(be32((unsigned char *)png + 20), (uint32_t)h);
    free(png);
    snprintf(path, sizeof path, "%s.svg", base);
    char *svg = util_read_file(path, &len, NULL);
    assert_non_null(svg);
    char want[64];
    snprintf(want, sizeof want, "width=\"%d\" height=\"%d\"", w, h);
    if (!strstr(svg, want)) fail_msg("%s does not say %s", path, want);
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);
}

static void test_figures(void **state)
{
    (void)state;
    char dir[64];
    assert_int_equal(tu_tmpdir(dir, sizeof dir, "analysis"), 0);
    float d[12] = {0, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1, 0.5f};
    const char *rl[] = {"a", "b", "c"}, *cl[] = {"x", "^", "=", "</s>"};
    const char *ct[12] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
    an_panel p[2] = {{d, 3, 4, "one", rl, cl, ct}, {d, 4, 3, "two", NULL, NULL, NULL}};
    char base[300];
    snprintf(base, sizeof base, "%s/heat", dir);
    int w, h;
    as_err err = {0};
    assert_int_equal(an_fig_heatmaps(base, "test", p, 2, 2, 0, 12, &w, &h, &err), 0);
    check_png_svg(base, w, h);
    snprintf(base, sizeof base, "%s/bars", dir);
    const char *lab[] = {"base", "special", "random"};
    double v[] = {0.9, 0.3, 0.8}, e[] = {0, 0, 0.05};
    assert_int_equal(an_fig_bars(base, "bars", lab, v, e, 3, 1, &w, &h, &err), 0);
    check_png_svg(base, w, h);
    /* an unwritable place is an error with a message */
    assert_int_equal(an_fig_bars("/nonexistent/dir/x", "b", lab, v, e, 3, 1, &w, &h, &err), -1);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(tu_rm_rf(dir), 0);
}

/* an_collect, an_encode and an_decode use the examples' tokenizer: on the
 * SentencePiece fixture the traced source is spiece.model's ids (as
 * python3-sentencepiece gives them, tests/fixtures/spm-gated/tokenize.json),
 * not ByT5's bytes; a NULL tokenizer is ByT5. */
typedef struct {
    size_t calls, n_src[2];
    int src[2][16];
} collected;

static void keep_src(void *user, const attn_trace *t)
{
    collected *c = user;
    if (c->calls < 2 && t->n_src <= 16) {
        c->n_src[c->calls] = t->n_src;
        memcpy(c->src[c->calls], t->src, t->n_src * sizeof *t->src);
    }
    c->calls++;
}

static void test_collect_tokenizer(void **state)
{
    (void)state;
    const char *dir = FIXTURES "/spm-gated";
    static const int hello[] = {174, 6, 16, 16, 20, 116, 106, 16, 23, 1}; /* "Hello world" */
    static const int a[] = {25, 1};                                      /* "a" */
    as_err err = {{0}};
    t5_model m;
    if (t5_load_mapped(&m, dir, &err)) fail_msg("%s", err.msg);
    tok_vocab *tok = tok_open(dir, &err);
    if (!tok) fail_msg("%s", err.msg);
    int ids[32];
    assert_int_equal(an_encode(tok, "Hello world", ids, 32), 10);
    assert_memory_equal(ids, hello, sizeof hello);
    assert_int_equal(an_encode(tok, "Hello world", ids, 9), 0);   /* does not fit */
    assert_int_equal(an_encode(NULL, "Hello world", ids, 32), 12); /* ByT5: bytes + eos */
    char text[64];
    an_decode(tok, hello, 10, text, sizeof text);
    assert_string_equal(text, "Hello world");

    const char *src[2] = {"Hello world", "a"}, *tgt[2] = {"D=0;", "D=1;"};
    int kind[2] = {1, 0};
    an_examples ex = {src, tgt, kind, 2, 1, tok, NULL};
    t5_run *r = t5_run_new(&m, 16, 5);
    attn_trace *t = trace_new(&m, 16, 5);
    collected got = {0};
    an_collector c = {NULL, keep_src, &got, NULL, NULL};
    assert_int_equal(an_collect(r, &ex, t, &c, &err), 0);
    assert_int_equal(got.calls, 2);
    assert_int_equal(got.n_src[0], 10);
    assert_memory_equal(got.src[0], hello, sizeof hello);
    assert_int_equal(got.n_src[1], 2);
    assert_memory_equal(got.src[1], a, sizeof a);
    trace_free(t);
    t5_run_free(r);
    tok_free(tok);
    t5_free(&m);
}

/* report --raw's scores on the SentencePiece fixture, against PyTorch
 * (tests/fixtures/spm-gated/expected.safetensors): with a target, the
 * mean log-likelihood per target token and the next-token agreement are
 * those of torch's teacher-forced logits (tf_logits, tf_labels); without
 * one, the reference is the greedy output (greedy_ids) and scores are
 * those of greedy_logits. A zeroed head scores as the model with that
 * head's output columns zeroed. */
static void raw_expect(const float *logits, const int *ids, size_t T, size_t V, double out[2])
{
    out[0] = out[1] = 0;
    for (size_t t = 0; t < T; t++) {
        const float *z = logits + t * V;
        double mx = z[0], sum = 0;
        size_t best = 0;
        for (size_t v = 1; v < V; v++)
            if (z[v] > z[best]) best = v, mx = z[v];
        for (size_t v = 0; v < V; v++) sum += exp((double)z[v] - mx);
        out[0] += (double)z[ids[t]] - mx - log(sum);
        out[1] += (int)best == ids[t];
    }
    out[0] /= (double)T;
    out[1] /= (double)T;
}

static void test_raw_scores(void **state)
{
    (void)state;
    const char *dir = FIXTURES "/spm-gated";
    as_err err = {{0}};
    t5_model m;
    st_file e;
    tu_fixture_load(&m, &e, "spm-gated", "expected.safetensors");
    tok_vocab *tok = tok_open(dir, &err);
    if (!tok) fail_msg("%s", err.msg);
    char *json = util_read_file(FIXTURES "/spm-gated/tokenize.json", NULL, &err);
    cJSON *doc = json ? cJSON_Parse(json) : NULL;
    assert_non_null(doc);
    const char *src[1] = {cJSON_GetObjectItem(doc, "source")->valuestring};
    const char *tgt[1] = {cJSON_GetObjectItem(doc, "target")->valuestring};
    size_t V = m.cfg.vocab_size, nl, nt, ng, ngl;
    int *labels = tu_expected_int(&e, "tf_labels", &nl);
    float *tf = tu_expected_f32(&e, "tf_logits", &nt);
    int *greedy = tu_expected_int(&e, "greedy_ids", &ng);
    float *gl = tu_expected_f32(&e, "greedy_logits", &ngl);
    int *max_len = tu_expected_int(&e, "greedy_max_len", NULL);
    assert_int_equal(nt, nl * V);
    t5_run *r = t5_run_new(&m, 64, nl + 1);

    /* with a target */
    an_examples ex = {src, tgt, NULL, 1, 1, tok, NULL};
    an_refs refs;
    if (an_refs_make(r, &ex, &refs, &err)) fail_msg("%s", err.msg);
    assert_int_equal(refs.n[0], nl);
    assert_memory_equal(refs.ids[0], labels, nl * sizeof *labels);
    ex.refs = &refs;
    double got[3], want[2];
    if (an_score_set(r, NULL, &ex, got, NULL, NULL, &err)) fail_msg("%s", err.msg);
    raw_expect(tf, labels, nl, V, want);
    assert_true(fabs(got[0] - want[0]) < 1e-4);
    assert_true(fabs(got[1] - want[1]) < 1e-9);
    assert_true(got[0] < -1); /* a random model: the target is unlikely */
    assert_true(got[2] == 0.0);
    an_refs_free(&refs);
    t5_run_free(r);

    /* without: the greedy output (at most greedy_max_len tokens) is the reference */
    r = t5_run_new(&m, 64, (size_t)max_len[0] + 1);
    an_examples ex2 = {src, NULL, NULL, 1, 1, tok, NULL};
    if (an_refs_make(r, &ex2, &refs, &err)) fail_msg("%s", err.msg);
    assert_int_equal(refs.n[0], ng);
    assert_memory_equal(refs.ids[0], greedy, ng * sizeof *greedy);
    ex2.refs = &refs;
    if (an_score_set(r, NULL, &ex2, got, NULL, NULL, &err)) fail_msg("%s", err.msg);
    raw_expect(gl, greedy, ng, V, want);
    assert_true(fabs(got[0] - want[0]) < 1e-4);
    assert_true(got[1] == 1.0 && want[1] == 1.0);
    assert_true(got[2] == 1.0);

    /* a zeroed cross head: the same scores as the model without its columns
     * of W_O, and lower than the unablated ones; threads give the same */
    an_iv iv;
    an_iv_init(&iv, &m);
    an_iv_set_head(&iv, T5_ATTN_CROSS, 1, 2, AN_ABL_ZERO);
    double abl[3], abl2[3], zero[3];
    if (an_score_set(r, &iv, &ex2, abl, NULL, NULL, &err)) fail_msg("%s", err.msg);
    ex2.threads = 2;
    if (an_score_examples(r, &iv, &ex2, abl2, NULL, NULL, &err)) fail_msg("%s", err.msg);
    ex2.threads = 1;
    for (int j = 0; j < 3; j++) assert_true(fabs(abl[j] - abl2[j]) < 1e-12);
    t5_model z;
    assert_int_equal(t5_alloc(&z, &m.cfg, &err), 0);
    memcpy(z.params, m.params, m.n_params * sizeof *z.params);
    size_t HD = m.cfg.num_heads * m.cfg.d_kv;
    for (size_t row = 0; row < m.cfg.d_model; row++)
        for (size_t j = 2 * m.cfg.d_kv; j < 3 * m.cfg.d_kv; j++) z.w.dec[1].co[row * HD + j] = 0;
    t5_run *rz = t5_run_new(&z, 64, (size_t)max_len[0] + 1);
    if (an_score_set(rz, NULL, &ex2, zero, NULL, NULL, &err)) fail_msg("%s", err.msg);
    assert_true(fabs(abl[0] - zero[0]) < 1e-4);
    assert_true(fabs(abl[1] - zero[1]) < 1e-9);
    assert_true(abl[0] < got[0] - 1e-3);

    t5_run_free(rz);
    t5_free(&z);
    an_iv_free(&iv);
    an_refs_free(&refs);
    t5_run_free(r);
    free(labels), free(tf), free(greedy), free(gl), free(max_len);
    cJSON_Delete(doc);
    free(json);
    tok_free(tok);
    st_close(&e);
    t5_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_classes),
        cmocka_unit_test(test_uniform_scores),
        cmocka_unit_test(test_clear_diagonal),
        cmocka_unit_test(test_blurred_diagonal),
        cmocka_unit_test(test_vertical_stripes),
        cmocka_unit_test(test_sparse_squares),
        cmocka_unit_test(test_heterogeneous),
        cmocka_unit_test(test_cross_diagonal),
        cmocka_unit_test(test_causal_start_stripe),
        cmocka_unit_test(test_causal_uniform_and_squares),
        cmocka_unit_test(test_skips_empty_rows),
        cmocka_unit_test(test_grid),
        cmocka_unit_test(test_summary_and_rollout),
        cmocka_unit_test(test_zero_head_equals_zero_o),
        cmocka_unit_test(test_greedy_and_blocking),
        cmocka_unit_test(test_ui_hook_with_trace_run),
        cmocka_unit_test(test_experiments_run),
        cmocka_unit_test(test_collect_tokenizer),
        cmocka_unit_test(test_raw_scores),
        cmocka_unit_test(test_figures),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    an_fig_cleanup();
    return rc;
}
