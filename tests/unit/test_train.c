/* test_train.c - the trainer against independent references:
 *  - gradients of every parameter on a padded batch vs PyTorch (fixtures of
 *    tests/reference/make_train_fixtures.py), both model variants;
 *  - the same with each training-only option (label smoothing, dropout with
 *    the trainer's masks re-drawn by the reference ...), against
 *    the same reference's options.safetensors;
 *  - ten AdamW updates (clipping, warm-up, cosine decay) vs PyTorch losses;
 *  - central finite differences of a plain double-precision forward pass
 *    written here, on tiny models, for a sample of parameters;
 *  - packed forward logits vs the inference engine's teacher forcing. */
#include "testutil.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "quad.h"
#include "safetensors.h"
#include "t5.h"
#include "train.h"

/* ---- fixture helpers ------------------------------------------------------- */

typedef struct {
    t5_model m;
    st_file ex;
    train_batch b;
} fixture;

static const st_tensor *need(const st_file *f, const char *name)
{
    const st_tensor *t = st_find(f, name);
    if (!t) fail_msg("fixture tensor %s missing", name);
    return t;
}

static int *ints(const st_file *f, const char *name, size_t *n)
{
    const st_tensor *t = need(f, name);
    int *out = malloc(t->numel * sizeof(int));
    as_err err;
    if (st_to_int(t, out, &err)) fail_msg("%s", err.msg);
    if (n) *n = t->numel;
    return out;
}

static float *floats(const st_file *f, const char *name, size_t *n)
{
    const st_tensor *t = need(f, name);
    float *out = malloc(t->numel * sizeof(float));
    as_err err;
    if (st_to_f32(t, out, &err)) fail_msg("%s", err.msg);
    if (n) *n = t->numel;
    return out;
}

static void fixture_open(fixture *fx, const char *name)
{
    char dir[256], path[300];
    as_err err;
    snprintf(dir, sizeof dir, FIXTURES "/train-%s", name);
    if (t5_load(&fx->m, dir, &err)) fail_msg("%s", err.msg);
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    if (st_open(&fx->ex, path, &err)) fail_msg("%s", err.msg);
    size_t B, nsrc, ntgt;
    int *src = ints(&fx->ex, "src", &nsrc), *dec = ints(&fx->ex, "dec_in", &ntgt);
    int *lab = ints(&fx->ex, "labels", NULL), *sl = ints(&fx->ex, "src_len", &B);
    int *tl = ints(&fx->ex, "tgt_len", NULL);
    size_t S = nsrc / B, T = ntgt / B;
    train_batch_init(&fx->b, B, nsrc, ntgt);
    for (size_t i = 0; i < B; i++)
        assert_int_equal(train_batch_add_raw(&fx->b, src + i * S, (size_t)sl[i], dec + i * T,
                                             lab + i * T, (size_t)tl[i]),
                         0);
    free(src);
    free(dec);
    free(lab);
    free(sl);
    free(tl);
}

static void fixture_close(fixture *fx)
{
    train_batch_free(&fx->b);
    st_close(&fx->ex);
    t5_free(&fx->m);
}

/* ---- gradients vs PyTorch -------------------------------------------------- */

/* Loss and every gradient of one step on the fixture's batch under opts
 * against the reference's <prefix>loss and <prefix>grad.NAME in ex. */
/* The auxiliary case's head and labels (ax.head, ax.labels (B, T, 2)). */
static void aux_setup(t5_trainer *tr, fixture *fx, const st_file *ex)
{
    size_t n, nl;
    float *head = floats(ex, "ax.head", &n);
    assert_int_equal(n, TRAIN_AUX_OUT * fx->m.cfg.d_model);
    memcpy(trainer_aux_head(tr, NULL, NULL, NULL), head, n * sizeof(float));
    int *lab = ints(ex, "ax.labels", &nl);
    size_t T = nl / 2 / fx->b.n;
    for (size_t i = 0; i < fx->b.n; i++)
        memcpy(fx->b.aux + 2 * fx->b.tgt_off[i], lab + 2 * i * T, 2 * fx->b.tgt_len[i] * sizeof(int));
    free(head);
    free(lab);
}

/* After the auxiliary case's step: its loss and the head's gradient. */
static void aux_check(t5_trainer *tr, const st_file *ex, const char *name)
{
    float *want = floats(ex, "ax.aux_loss", NULL);
    if (!(fabs(train_aux_loss(tr) - want[0]) <= 1e-5 * fabs(want[0])))
        fail_msg("%s: aux loss %.8g, PyTorch %.8g", name, train_aux_loss(tr), want[0]);
    size_t n;
    float *gw = floats(ex, "ax.grad_head", &n);
    assert_close_array(train_aux_grads(tr), gw, n, 1e-6, 1e-4);
    free(want);
    free(gw);
}

static void check_step(fixture *fx, const st_file *ex, const char *prefix,
                       const trainer_opts *opts, const char *name)
{
    t5_trainer *tr = trainer_new(&fx->m, fx->b.n, fx->b.max_src, fx->b.max_tgt);
    if (opts) trainer_set_opts(tr, opts);
    trainer_set_step(tr, 3);
    int aux = opts && opts->aux_weight > 0.0f;
    if (aux) aux_setup(tr, fx, ex);
    as_err err;
    assert_int_equal(trainer_check_batch(tr, &fx->b, &err), 0);
    char key[160];
    snprintf(key, sizeof key, "%sloss", prefix);
    float *want_loss = floats(ex, key, NULL);
    double loss = train_forward(tr, &fx->b);
    if (!(fabs(loss - want_loss[0]) <= 1e-5 * fabs(want_loss[0])))
        fail_msg("%s %s: loss %.8g, PyTorch %.8g", name, prefix, loss, want_loss[0]);
    train_zero_grad(tr);
    train_backward(tr, &fx->b);
    const float *g = train_grads(tr);
    for (size_t i = 0; i < fx->m.n_tensors; i++) {
        const t5_tensor *t = &fx->m.tensors[i];
        snprintf(key, sizeof key, "%sgrad.%s", prefix, t->name);
        size_t n;
        float *want = floats(ex, key, &n);
        assert_int_equal(n, t->numel);
        double mx = 0;
        for (size_t j = 0; j < n; j++) mx = fmax(mx, fabs(want[j]));
        const float *got = g + t->offset;
        for (size_t j = 0; j < n; j++)
            if (!(fabs(got[j] - want[j]) <= 1e-3 * fabs(want[j]) + 1e-5 * mx))
                fail_msg("%s %s%s[%zu] = %.8g, PyTorch %.8g (max %.3g)", name, prefix,
                         t->name, j, got[j], want[j], mx);
        free(want);
    }
    if (aux) aux_check(tr, ex, name);
    free(want_loss);
    trainer_free(tr);
}

static void check_grads(const char *name)
{
    fixture fx;
    fixture_open(&fx, name);
    check_step(&fx, &fx.ex, "", NULL, name);
    fixture_close(&fx);
}

/* The training-only options (tests/fixtures/train-NAME/options.safetensors). */
static void check_options(const char *name)
{
    fixture fx;
    fixture_open(&fx, name);
    char path[300];
    as_err err;
    st_file op;
    snprintf(path, sizeof path, FIXTURES "/train-%s/options.safetensors", name);
    if (st_open(&op, path, &err)) fail_msg("%s", err.msg);
    trainer_opts ls = {.label_smoothing = 0.1f};
    check_step(&fx, &op, "ls.", &ls, name);
    /* dropout 0.2 with the masks of step 3, seed 5 (make_train_fixtures.py) */
    trainer_opts dr = {.dropout = 0.2f, .dropout_seed = 5};
    check_step(&fx, &op, "do.", &dr, name);
    /* the auxiliary head with weight 0.5 */
    trainer_opts ax = {.aux_weight = 0.5f};
    check_step(&fx, &op, "ax.", &ax, name);
    st_close(&op);
    fixture_close(&fx);
}

/* The auxiliary labels of real equations: the digits of b^2 and |4ac| at the
 * places of D's digits, worked out by hand. value: the text around D's value
 * in the target ("=49;"). */
static void aux_labels_of(const char *source, unsigned show, const char *value,
                          const int *want, size_t nwant)
{
    quad_eq e;
    assert_int_equal(quad_parse(source, &e, NULL), 0);
    char tgt[QUAD_TARGET_MAX];
    int len = quad_format_target_worked(&e, show, tgt, sizeof tgt, NULL);
    assert_true(len > 0);
    int src[QUAD_SOURCE_MAX], lab[QUAD_TARGET_MAX], aux[2 * QUAD_TARGET_MAX];
    size_t ns = strlen(source), T = (size_t)len;
    for (size_t i = 0; i < ns; i++) src[i] = (unsigned char)source[i] + 3;
    src[ns] = 1;
    for (size_t i = 0; i < T; i++) lab[i] = (unsigned char)tgt[i] + 3;
    lab[T] = 1;
    size_t n = train_aux_labels(src, ns + 1, lab, T + 1, aux);
    if (n != nwant) fail_msg("%s (show %u): %zu labelled positions, expected %zu", source, show, n, nwant);
    const char *v = strstr(tgt, value);
    assert_non_null(v);
    size_t at = (size_t)(v - tgt) + 1 + (value[1] == '-');
    for (size_t i = 0; i <= T; i++) {
        int in = i >= at && i - at < nwant;
        int b2 = in ? want[2 * (i - at)] : -1, f = in ? want[2 * (i - at) + 1] : -1;
        if (aux[2 * i] != b2 || aux[2 * i + 1] != f)
            fail_msg("%s (show %u) position %zu '%c': aux %d %d, expected %d %d", source, show, i,
                     tgt[i], aux[2 * i], aux[2 * i + 1], b2, f);
    }
}

static void test_aux_labels(void **state)
{
    (void)state;
    /* b^2 = 25, 4ac = -24, D = 49: '4' (tens) -> 2, 2; '9' (units) -> 5, 4 */
    const int d49[] = {2, 2, 5, 4};
    aux_labels_of("3x^2+5x-2=0", 0, "=49;", d49, 2);
    aux_labels_of("3x^2+5x-2=0", QUAD_SHOW_B2 | QUAD_SHOW_4AC, "=49;", d49, 2); /* worked */
    /* b^2 = 1, 4ac = 4, D = -3: the '-' has no label */
    const int dm3[] = {1, 4};
    aux_labels_of("x^2+x+1=0", 0, "=-3;", dm3, 1);
    /* b^2 = 100, 4ac = 96, D = 4: the units of each */
    const int d4[] = {0, 6};
    aux_labels_of("x^2+10x+24=0", 0, "=4;", d4, 1);
    /* b^2 = 4ac = 12645136, D = 0 */
    const int d0[] = {6, 6};
    aux_labels_of("7x^2+3556x+451612=0", 0, "=0;", d0, 1);
    /* a source that is no equation: no labels */
    int src[3] = {'h' + 3, 'i' + 3, 1}, lab[4] = {'D' + 3, '=' + 3, '(' + 3, 1}, aux[8];
    assert_int_equal(train_aux_labels(src, 3, lab, 4, aux), 0);
    for (int i = 0; i < 8; i++) assert_int_equal(aux[i], -1);
}

static void test_options_tied_relu(void **state)
{
    (void)state;
    check_options("tied-relu");
}

static void test_options_untied_gated(void **state)
{
    (void)state;
    check_options("untied-gated");
}

static void test_grads_tied_relu(void **state)
{
    (void)state;
    check_grads("tied-relu");
}

static void test_grads_untied_gated(void **state)
{
    (void)state;
    check_grads("untied-gated");
}

/* ---- ten AdamW updates vs PyTorch ----------------------------------------- */

static void check_adamw(const char *name)
{
    fixture fx;
    fixture_open(&fx, name);
    float *cfg = floats(&fx.ex, "adam_cfg", NULL), *clip = floats(&fx.ex, "adam_clip", NULL);
    float *want = floats(&fx.ex, "adam_loss", NULL), *wnorm = floats(&fx.ex, "adam_norm", NULL);
    lr_schedule s = {cfg[0], cfg[1], (size_t)cfg[2], (size_t)cfg[3], (sched_decay)(int)cfg[4]};
    adamw_cfg c = {cfg[5], cfg[6], cfg[7], cfg[8], clip[0], 0.0};
    t5_trainer *tr = trainer_new(&fx.m, fx.b.n, fx.b.max_src, fx.b.max_tgt);
    adamw_state st;
    adamw_init(&st, &fx.m);
    for (size_t step = 0; step < 10; step++) {
        double loss = train_forward(tr, &fx.b);
        train_zero_grad(tr);
        train_backward(tr, &fx.b);
        double norm = grad_clip(train_grads(tr), fx.m.n_params, c.clip);
        if (!(fabs(loss - want[step]) <= 1e-3 * fabs(want[step])))
            fail_msg("%s step %zu: loss %.7f, PyTorch %.7f", name, step, loss, want[step]);
        if (!(fabs(norm - wnorm[step]) <= 1e-3 * fabs(wnorm[step])))
            fail_msg("%s step %zu: grad norm %.7f, PyTorch %.7f", name, step, norm,
                     wnorm[step]);
        adamw_update(&st, &fx.m, train_grads(tr), lr_at(&s, step), &c);
    }
    adamw_free(&st);
    trainer_free(tr);
    free(cfg);
    free(clip);
    free(want);
    free(wnorm);
    fixture_close(&fx);
}

static void test_adamw_tied_relu(void **state)
{
    (void)state;
    check_adamw("tied-relu");
}

static void test_adamw_untied_gated(void **state)
{
    (void)state;
    check_adamw("untied-gated");
}

/* optimizer.ema: after K updates the average is the closed form
 * d^K p_0 + sum_k (1 - d) d^(K-k) p_k over the weights p_k after update k
 * (summed here in double), the weights themselves are those of a run
 * without the average, and a swap exchanges the two. */
static void test_adamw_ema(void **state)
{
    (void)state;
    enum { K = 10 };
    const double d = 0.8;
    fixture fx;
    fixture_open(&fx, "tied-relu");
    size_t n = fx.m.n_params;
    float *p0 = xmalloc(n * sizeof(float)), *plain = xmalloc(n * sizeof(float));
    double *want = xcalloc(n, sizeof(double));
    memcpy(p0, fx.m.params, n * sizeof(float));
    for (int with = 0; with < 2; with++) {
        memcpy(fx.m.params, p0, n * sizeof(float));
        adamw_cfg c = {0.9, 0.999, 1e-8, 0.01, 1.0, with ? d : 0.0};
        t5_trainer *tr = trainer_new(&fx.m, fx.b.n, fx.b.max_src, fx.b.max_tgt);
        adamw_state st;
        adamw_init(&st, &fx.m);
        if (with) {
            adamw_ema_start(&st, &fx.m);
            for (size_t i = 0; i < n; i++) want[i] = pow(d, K) * p0[i];
        }
        for (int k = 1; k <= K; k++) {
            train_forward(tr, &fx.b);
            train_zero_grad(tr);
            train_backward(tr, &fx.b);
            grad_clip(train_grads(tr), n, c.clip);
            adamw_update(&st, &fx.m, train_grads(tr), 1e-2, &c);
            if (with)
                for (size_t i = 0; i < n; i++) want[i] += (1 - d) * pow(d, K - k) * fx.m.params[i];
        }
        if (!with) {
            assert_null(st.ema);
            memcpy(plain, fx.m.params, n * sizeof(float));
        } else {
            assert_memory_equal(fx.m.params, plain, n * sizeof(float));
            double worst = 0;
            for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(st.ema[i] - want[i]));
            if (!(worst < 1e-6)) fail_msg("moving average off by %g from the closed form", worst);
            float e0 = st.ema[0], p = fx.m.params[0];
            adamw_ema_swap(&st, &fx.m);
            assert_true(fx.m.params[0] == e0 && st.ema[0] == p);
            adamw_ema_swap(&st, &fx.m);
            assert_memory_equal(fx.m.params, plain, n * sizeof(float));
        }
        adamw_free(&st);
        trainer_free(tr);
    }
    free(p0);
    free(plain);
    free(want);
    fixture_close(&fx);
}

static void test_lr_schedule(void **state)
{
    (void)state;
    lr_schedule s = {1.0, 0.1, 4, 14, SCHED_COSINE};
    assert_true(fabs(lr_at(&s, 0) - 0.25) < 1e-12);
    assert_true(fabs(lr_at(&s, 3) - 1.0) < 1e-12);
    assert_true(fabs(lr_at(&s, 4) - 1.0) < 1e-12);
    assert_true(fabs(lr_at(&s, 9) - 0.55) < 1e-12);
    assert_true(fabs(lr_at(&s, 14) - 0.1) < 1e-12);
    assert_true(fabs(lr_at(&s, 100) - 0.1) < 1e-12);
    s.decay = SCHED_LINEAR;
    assert_true(fabs(lr_at(&s, 9) - 0.55) < 1e-12);
    assert_true(fabs(lr_at(&s, 6) - (1.0 - 0.9 * 0.2)) < 1e-12);
    s.decay = SCHED_CONSTANT;
    assert_true(fabs(lr_at(&s, 13) - 1.0) < 1e-12);
}

/* ---- finite differences on a double-precision reference ------------------ */

/* A plain, unbatched T5 forward in double (one sequence at a time), written
 * independently of trainer.c: the loss summed over the labels of a batch. */
typedef struct {
    const t5_model *m;
    const double *p;  /* parameters in double, same layout as m->params */
} dref;

static const double *W(const dref *r, const float *wp)
{
    return wp ? r->p + (wp - r->m->params) : NULL;
}

static void d_rms(double *out, const double *x, const double *w, size_t n, size_t C, double eps)
{
    for (size_t i = 0; i < n; i++) {
        double ss = 0;
        for (size_t j = 0; j < C; j++) ss += x[i * C + j] * x[i * C + j];
        double r = 1.0 / sqrt(ss / (double)C + eps);
        for (size_t j = 0; j < C; j++) out[i * C + j] = x[i * C + j] * r * w[j];
    }
}

/* out (n, OC) = x (n, C) w^T */
static void d_lin(double *out, const double *x, const double *w, size_t n, size_t C, size_t OC)
{
    for (size_t i = 0; i < n; i++)
        for (size_t o = 0; o < OC; o++) {
            double s = 0;
            for (size_t j = 0; j < C; j++) s += x[i * C + j] * w[o * C + j];
            out[i * OC + o] = s;
        }
}

/* x (nq, C) += attention(ln(x) as queries, kv (nk, C) as keys/values). */
static void d_attn(const dref *r, double *x, const double *qin, size_t nq, const double *kvin,
                   size_t nk, const float *wq, const float *wk, const float *wv, const float *wo,
                   const double *relb, int mode)
{
    const t5_config *c = &r->m->cfg;
    size_t C = c->d_model, H = c->num_heads, dk = c->d_kv, HD = H * dk;
    double *q = calloc(nq * HD, sizeof(double)), *k = calloc(nk * HD, sizeof(double));
    double *v = calloc(nk * HD, sizeof(double)), *ctx = calloc(nq * HD, sizeof(double));
    double *o = calloc(nq * C, sizeof(double)), *s = calloc(nk, sizeof(double));
    d_lin(q, qin, W(r, wq), nq, C, HD);
    d_lin(k, kvin, W(r, wk), nk, C, HD);
    d_lin(v, kvin, W(r, wv), nk, C, HD);
    for (size_t h = 0; h < H; h++)
        for (size_t i = 0; i < nq; i++) {
            size_t n = mode == 2 ? i + 1 : nk;
            double mx = -INFINITY, sum = 0;
            for (size_t j = 0; j < n; j++) {
                double a = 0;
                for (size_t d = 0; d < dk; d++) a += q[i * HD + h * dk + d] * k[j * HD + h * dk + d];
                if (mode) {
                    int bk = t5_rel_bucket((long)j - (long)i, mode == 1, c->rel_buckets,
                                           c->rel_max_distance);
                    a += relb[(size_t)bk * H + h];
                }
                s[j] = a;
                mx = fmax(mx, a);
            }
            for (size_t j = 0; j < n; j++) sum += s[j] = exp(s[j] - mx);
            for (size_t j = 0; j < n; j++)
                for (size_t d = 0; d < dk; d++)
                    ctx[i * HD + h * dk + d] += s[j] / sum * v[j * HD + h * dk + d];
        }
    d_lin(o, ctx, W(r, wo), nq, HD, C);
    for (size_t i = 0; i < nq * C; i++) x[i] += o[i];
    free(q);
    free(k);
    free(v);
    free(ctx);
    free(o);
    free(s);
}

static void d_ff(const dref *r, double *x, size_t n, const t5_block *b)
{
    const t5_config *c = &r->m->cfg;
    size_t C = c->d_model, F = c->d_ff;
    double *ln = calloc(n * C, sizeof(double)), *h = calloc(n * F, sizeof(double));
    double *h1 = calloc(n * F, sizeof(double)), *o = calloc(n * C, sizeof(double));
    d_rms(ln, x, W(r, b->ln_ff), n, C, c->layer_norm_eps);
    if (c->ff == T5_FF_GATED_GELU) {
        d_lin(h, ln, W(r, b->wi0), n, C, F);
        d_lin(h1, ln, W(r, b->wi1), n, C, F);
        for (size_t i = 0; i < n * F; i++) {
            double z = h[i];
            h[i] = 0.5 * z * (1 + tanh(sqrt(2 / M_PI) * (z + 0.044715 * z * z * z))) * h1[i];
        }
    } else {
        d_lin(h, ln, W(r, b->wi), n, C, F);
        for (size_t i = 0; i < n * F; i++) h[i] = h[i] > 0 ? h[i] : 0;
    }
    d_lin(o, h, W(r, b->wo), n, F, C);
    for (size_t i = 0; i < n * C; i++) x[i] += o[i];
    free(ln);
    free(h);
    free(h1);
    free(o);
}

/* Summed cross-entropy of one sequence; *count gets its labels. */
static double d_seq_loss(const dref *r, const int *src, size_t S, const int *dec, const int *lab,
                         size_t T, size_t *count)
{
    const t5_model *m = r->m;
    const t5_config *c = &m->cfg;
    size_t C = c->d_model, V = c->vocab_size;
    double eps = c->layer_norm_eps;
    const double *emb = W(r, m->w.shared);
    double *x = calloc(S * C, sizeof(double)), *ln = calloc(S * C, sizeof(double));
    double *enc = calloc(S * C, sizeof(double));
    for (size_t i = 0; i < S; i++) memcpy(x + i * C, emb + (size_t)src[i] * C, C * sizeof(double));
    for (size_t l = 0; l < c->num_layers; l++) {
        const t5_block *b = &m->w.enc[l];
        d_rms(ln, x, W(r, b->ln_self), S, C, eps);
        d_attn(r, x, ln, S, ln, S, b->q, b->k, b->v, b->o, W(r, m->w.enc[0].rel_bias), 1);
        d_ff(r, x, S, b);
    }
    d_rms(enc, x, W(r, m->w.enc_final_ln), S, C, eps);
    double *y = calloc(T * C, sizeof(double)), *yl = calloc(T * C, sizeof(double));
    for (size_t i = 0; i < T; i++) memcpy(y + i * C, emb + (size_t)dec[i] * C, C * sizeof(double));
    for (size_t l = 0; l < c->num_decoder_layers; l++) {
        const t5_block *b = &m->w.dec[l];
        d_rms(yl, y, W(r, b->ln_self), T, C, eps);
        d_attn(r, y, yl, T, yl, T, b->q, b->k, b->v, b->o, W(r, m->w.dec[0].rel_bias), 2);
        d_rms(yl, y, W(r, b->ln_cross), T, C, eps);
        d_attn(r, y, yl, T, enc, S, b->cq, b->ck, b->cv, b->co, NULL, 0);
        d_ff(r, y, T, b);
    }
    d_rms(yl, y, W(r, m->w.dec_final_ln), T, C, eps);
    double *logits = calloc(T * V, sizeof(double));
    if (m->w.lm_head) {
        d_lin(logits, yl, W(r, m->w.lm_head), T, C, V);
    } else {
        for (size_t i = 0; i < T * C; i++) yl[i] /= sqrt((double)C);
        d_lin(logits, yl, emb, T, C, V);
    }
    double loss = 0;
    for (size_t i = 0; i < T; i++) {
        if (lab[i] < 0) continue;
        double mx = -INFINITY, sum = 0;
        for (size_t j = 0; j < V; j++) mx = fmax(mx, logits[i * V + j]);
        for (size_t j = 0; j < V; j++) sum += exp(logits[i * V + j] - mx);
        loss += mx + log(sum) - logits[i * V + (size_t)lab[i]];
        (*count)++;
    }
    free(x);
    free(ln);
    free(enc);
    free(y);
    free(yl);
    free(logits);
    return loss;
}

static double d_batch_loss(const dref *r, const train_batch *b)
{
    double s = 0;
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        s += d_seq_loss(r, b->src + b->src_off[i], b->src_len[i], b->dec_in + b->tgt_off[i],
                        b->labels + b->tgt_off[i], b->tgt_len[i], &n);
    return s / (double)n;
}

static void check_finite_diff(t5_ff_kind ff, int tied)
{
    t5_config c = tu_config((tu_shape){.vocab = 40, .d_model = 8, .d_kv = 4, .d_ff = 12, .heads = 2,
                                       .enc_layers = 2, .dec_layers = 2, .buckets = 8,
                                       .max_distance = 12, .ff = ff, .untied = !tied});
    t5_model m;
    tu_model(&m, &c, 7);
    /* layer norms away from 1 so their gradients are exercised */
    for (size_t i = 0; i < m.n_tensors; i++)
        if (strstr(m.tensors[i].name, "layer_norm"))
            for (size_t j = 0; j < m.tensors[i].numel; j++)
                m.params[m.tensors[i].offset + j] = 0.6f + 0.05f * (float)(j % 9);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 0.7f;  /* softer logits */

    train_batch b;
    train_batch_init(&b, 3, 64, 64);
    int s0[] = {5, 9, 13, 3, 22, 1}, t0[] = {7, 7, 30, 2, 1};
    int s1[] = {11, 4, 1}, t1[] = {6, 19, 33, 12, 8, 17, 2, 1};
    int s2[] = {8, 8, 31, 2, 5, 26, 14, 39, 1}, t2[] = {3, 1};
    train_batch_add(&b, s0, 6, t0, 5, 0);
    train_batch_add(&b, s1, 3, t1, 8, 0);
    train_batch_add(&b, s2, 9, t2, 2, 0);
    b.labels[b.tgt_off[1] + 2] = -100;

    t5_trainer *tr = trainer_new(&m, 3, 9, 8);
    double loss = train_forward(tr, &b);
    train_zero_grad(tr);
    train_backward(tr, &b);
    const float *g = train_grads(tr);

    double *p = malloc(m.n_params * sizeof(double));
    for (size_t i = 0; i < m.n_params; i++) p[i] = m.params[i];
    dref r = {&m, p};
    double l0 = d_batch_loss(&r, &b);
    assert_true(fabs(l0 - loss) <= 1e-5 * fabs(l0));

    /* every tensor: its first, middle and last element plus a few strided */
    size_t checked = 0;
    for (size_t ti = 0; ti < m.n_tensors; ti++) {
        const t5_tensor *t = &m.tensors[ti];
        size_t pick[6] = {0, t->numel / 2, t->numel - 1, t->numel / 3, (t->numel * 2) / 3,
                          (t->numel * 5) / 7};
        for (size_t k = 0; k < 6; k++) {
            size_t i = t->offset + pick[k];
            double h = 1e-5, save = p[i];
            p[i] = save + h;
            double lp = d_batch_loss(&r, &b);
            p[i] = save - h;
            double lm = d_batch_loss(&r, &b);
            p[i] = save;
            double fd = (lp - lm) / (2 * h);
            if (!(fabs(fd - g[i]) <= 2e-3 * fabs(fd) + 2e-5))
                fail_msg("%s[%zu] (ff %d, tied %d): backward %.8g, finite difference %.8g",
                         t->name, pick[k], (int)ff, tied, g[i], fd);
            checked++;
        }
    }
    assert_true(checked >= 6 * m.n_tensors);
    free(p);
    trainer_free(tr);
    train_batch_free(&b);
    t5_free(&m);
}

static void test_finite_diff_relu_tied(void **state)
{
    (void)state;
    check_finite_diff(T5_FF_RELU, 1);
}

static void test_finite_diff_gated_untied(void **state)
{
    (void)state;
    check_finite_diff(T5_FF_GATED_GELU, 0);
}

/* ---- the packed training forward equals the inference engine ----------- */

static void test_forward_matches_engine(void **state)
{
    (void)state;
    fixture fx;
    fixture_open(&fx, "tied-relu");
    t5_trainer *tr = trainer_new(&fx.m, fx.b.n, fx.b.max_src, fx.b.max_tgt);
    train_forward(tr, &fx.b);
    const float *lg = train_logits(tr);
    size_t V = fx.m.cfg.vocab_size;
    t5_run *run = t5_run_new(&fx.m, fx.b.max_src, fx.b.max_tgt);
    float *want = malloc(fx.b.max_tgt * V * sizeof(float));
    as_err err;
    for (size_t i = 0; i < fx.b.n; i++) {
        size_t T = fx.b.tgt_len[i];
        assert_int_equal(t5_teacher_forced(run, fx.b.src + fx.b.src_off[i], fx.b.src_len[i],
                                           fx.b.dec_in + fx.b.tgt_off[i], T, want, &err),
                         0);
        assert_close_array(lg + fx.b.tgt_off[i] * V, want, T * V, 1e-4, 1e-4);
    }
    free(want);
    t5_run_free(run);
    trainer_free(tr);
    fixture_close(&fx);
}

/* ---- one, two and three threads (workers) give the same gradients ----- */

static void test_threads_agree(void **state)
{
    (void)state;
    fixture fx;
    fixture_open(&fx, "untied-gated");
    int save = omp_get_max_threads();
    float *g[3];
    double loss[3];
    for (int k = 0; k < 3; k++) {
        omp_set_num_threads(k + 1);
        t5_trainer *tr = trainer_new(&fx.m, fx.b.n, fx.b.max_src, fx.b.max_tgt);
        loss[k] = train_forward(tr, &fx.b);
        train_zero_grad(tr);
        train_backward(tr, &fx.b);
        g[k] = malloc(fx.m.n_params * sizeof(float));
        memcpy(g[k], train_grads(tr), fx.m.n_params * sizeof(float));
        trainer_free(tr);
    }
    omp_set_num_threads(save);
    /* Float sums in another order: an element that is a small difference of
     * large terms moves by the rounding of those terms, so the absolute
     * tolerance scales with the largest gradient (on an AMD EPYC an element
     * of 1.5e-4 moved by 1.4e-6 with 2 threads; the largest is about 2). */
    double gmax = 0;
    for (size_t i = 0; i < fx.m.n_params; i++) gmax = fmax(gmax, fabs(g[0][i]));
    for (int k = 1; k < 3; k++) {
        assert_true(fabs(loss[k] - loss[0]) <= 1e-6 * fabs(loss[0]));
        assert_close_array(g[k], g[0], fx.m.n_params, 1e-5 * gmax, 1e-3);
    }
    for (int k = 0; k < 3; k++) free(g[k]);
    fixture_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lr_schedule),
        cmocka_unit_test(test_grads_tied_relu),
        cmocka_unit_test(test_grads_untied_gated),
        cmocka_unit_test(test_adamw_tied_relu),
        cmocka_unit_test(test_adamw_untied_gated),
        cmocka_unit_test(test_adamw_ema),
        cmocka_unit_test(test_aux_labels),
        cmocka_unit_test(test_options_tied_relu),
        cmocka_unit_test(test_options_untied_gated),
        cmocka_unit_test(test_finite_diff_relu_tied),
        cmocka_unit_test(test_finite_diff_gated_untied),
        cmocka_unit_test(test_forward_matches_engine),
        cmocka_unit_test(test_threads_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
