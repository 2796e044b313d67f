/* test_t5.c - the C T5 against the PyTorch reference fixtures
 * (tests/reference/make_fixtures.py): logits, loss and every attention map,
 * teacher-forced and greedy, for a tied relu and an untied gated-gelu model.
 * Then properties that need no reference: incremental decoding with the
 * cache equals recomputing the whole sequence; ablating a head through the
 * hook equals zeroing that head's o-projection columns; blocking a key
 * token through the hook makes the output blind to it; a no-op hook
 * changes nothing; bad input gets an error, not a crash. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "t5.h"
#include "trace.h"

/* The tolerances: the reference computes in float64 from the same float32
 * weights; what is left is float32 rounding in the C engine. */
#define TOL_LOGIT 1e-4
#define TOL_PROB 1e-5

static const char *const FIXTURE_NAMES[] = {"tied-relu", "untied-gated"};

typedef struct {
    t5_model m;
    st_file exp;
} fixture;

static void fixture_open(fixture *fx, const char *name)
{
    tu_fixture_load(&fx->m, &fx->exp, name, "expected.safetensors");
}

static void fixture_close(fixture *fx)
{
    t5_free(&fx->m);
    st_close(&fx->exp);
}

/* Compare every head's map of one kind in the trace with the expected
 * (L, H, rows, cols) tensor, which must have the model's head count. */
static void check_maps(const fixture *fx, const attn_trace *tr, t5_attn_kind kind,
                       const char *name)
{
    tu_check_maps(&fx->exp, tr, kind, name, TOL_PROB);
    assert_int_equal(st_find(&fx->exp, name)->shape[1], fx->m.cfg.num_heads);
}

static void check_logits(const float *got, const float *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= TOL_LOGIT))
            fail_msg("%s[%zu] = %.8g, expected %.8g", what, i, got[i], want[i]);
}

/* ---- against the reference ------------------------------------------------- */

static void run_teacher_forced_fixture(const char *name)
{
    fixture fx;
    fixture_open(&fx, name);
    size_t S, T, nl, V = fx.m.cfg.vocab_size;
    int *src = tu_expected_int(&fx.exp, "src_ids", &S);
    int *dec_in = tu_expected_int(&fx.exp, "tf_dec_in", &T);
    int *labels = tu_expected_int(&fx.exp, "tf_loss_labels", NULL);
    float *want = tu_expected_f32(&fx.exp, "tf_logits", &nl);
    float *want_loss = tu_expected_f32(&fx.exp, "tf_loss", NULL);
    assert_int_equal(nl, T * V);

    t5_run *r = t5_run_new(&fx.m, S, T);
    attn_trace *tr = trace_new(&fx.m, S, T + 1);
    trace_set_src(tr, src, S);
    t5_run_set_hook(r, trace_hook, tr);
    float *logits = malloc(T * V * sizeof *logits);
    as_err err;
    if (t5_teacher_forced(r, src, S, dec_in, T, logits, &err)) fail_msg("%s", err.msg);
    check_logits(logits, want, T * V, "tf_logits");
    double loss = t5_cross_entropy(logits, labels, T, V);
    if (!(fabs(loss - want_loss[0]) < 1e-4)) fail_msg("loss %.8g, expected %.8g", loss, want_loss[0]);
    assert_int_equal(tr->n_rows, T);
    check_maps(&fx, tr, T5_ATTN_ENC_SELF, "enc_attn");
    check_maps(&fx, tr, T5_ATTN_DEC_SELF, "tf_dec_attn");
    check_maps(&fx, tr, T5_ATTN_CROSS, "tf_cross_attn");

    /* trace_run with the target gives the same maps (target = labels). */
    int *target = tu_expected_int(&fx.exp, "tf_labels", NULL);
    t5_run_set_hook(r, NULL, NULL);
    trace_clear(tr);
    long n = trace_run(tr, r, src, S, target, T, 0, &err);
    if (n < 0) fail_msg("%s", err.msg);
    assert_int_equal(n, T);
    assert_int_equal(tr->n_tgt, T + 1);
    for (size_t i = 0; i < T; i++) assert_int_equal(tr->tgt[i], dec_in[i]);
    check_maps(&fx, tr, T5_ATTN_ENC_SELF, "enc_attn");
    check_maps(&fx, tr, T5_ATTN_DEC_SELF, "tf_dec_attn");
    check_maps(&fx, tr, T5_ATTN_CROSS, "tf_cross_attn");

    free(src), free(dec_in), free(labels), free(want), free(want_loss), free(logits), free(target);
    trace_free(tr);
    t5_run_free(r);
    fixture_close(&fx);
}

static void run_greedy_fixture(const char *name)
{
    fixture fx;
    fixture_open(&fx, name);
    size_t S, n_gen, V = fx.m.cfg.vocab_size;
    int *src = tu_expected_int(&fx.exp, "src_ids", &S);
    int *gen = tu_expected_int(&fx.exp, "greedy_ids", &n_gen);
    int *max_len = tu_expected_int(&fx.exp, "greedy_max_len", NULL);
    float *want = tu_expected_f32(&fx.exp, "greedy_logits", NULL);
    as_err err;

    t5_run *r = t5_run_new(&fx.m, S, (size_t)max_len[0]);
    int out[64];
    long n = t5_greedy(r, src, S, out, (size_t)max_len[0], &err);
    if (n < 0) fail_msg("%s", err.msg);
    assert_int_equal(n, n_gen);
    for (size_t i = 0; i < n_gen; i++) assert_int_equal(out[i], gen[i]);
    /* Two threads for the one-row products: the same tokens. */
    t5_run_set_threads(r, 2);
    memset(out, 0, sizeof out);
    n = t5_greedy(r, src, S, out, (size_t)max_len[0], &err);
    assert_int_equal(n, n_gen);
    for (size_t i = 0; i < n_gen; i++) assert_int_equal(out[i], gen[i]);
    t5_run_set_threads(r, 1);

    /* Step by step, each step's logits. */
    float *logits = malloc(V * sizeof *logits);
    if (t5_encode(r, src, S, &err)) fail_msg("%s", err.msg);
    int tok = fx.m.cfg.decoder_start_token_id;
    for (size_t i = 0; i < n_gen; i++) {
        if (t5_decode_step(r, tok, logits, &err)) fail_msg("%s", err.msg);
        check_logits(logits, want + i * V, V, "greedy_logits");
        tok = gen[i];
    }
    assert_int_equal(t5_run_decoded(r), n_gen);

    /* trace_run greedy: tokens, rows and every map. */
    attn_trace *tr = trace_new(&fx.m, S, (size_t)max_len[0] + 1);
    n = trace_run(tr, r, src, S, NULL, 0, (size_t)max_len[0], &err);
    if (n < 0) fail_msg("%s", err.msg);
    assert_int_equal(n, n_gen);
    assert_int_equal(tr->n_tgt, n_gen + 1);
    assert_int_equal(tr->n_rows, n_gen);
    assert_int_equal(tr->tgt[0], fx.m.cfg.decoder_start_token_id);
    for (size_t i = 0; i < n_gen; i++) {
        assert_int_equal(tr->tgt[i + 1], gen[i]);
        assert_int_equal(tr->row_step[i], (int)i);
    }
    check_maps(&fx, tr, T5_ATTN_ENC_SELF, "enc_attn");
    check_maps(&fx, tr, T5_ATTN_DEC_SELF, "greedy_dec_attn");
    check_maps(&fx, tr, T5_ATTN_CROSS, "greedy_cross_attn");

    free(src), free(gen), free(max_len), free(want), free(logits);
    trace_free(tr);
    t5_run_free(r);
    fixture_close(&fx);
}

static void test_tied_relu_teacher_forced(void **s) { (void)s; run_teacher_forced_fixture("tied-relu"); }
static void test_untied_gated_teacher_forced(void **s) { (void)s; run_teacher_forced_fixture("untied-gated"); }
static void test_tied_relu_greedy(void **s) { (void)s; run_greedy_fixture("tied-relu"); }
static void test_untied_gated_greedy(void **s) { (void)s; run_greedy_fixture("untied-gated"); }

/* ---- properties -------------------------------------------------------------- */

/* Feeding the decoder one token at a time through the cache gives the
 * logits and maps of the one-pass teacher-forced run. */
static void test_incremental_equals_recompute(void **state)
{
    (void)state;
    for (size_t f = 0; f < 2; f++) {
        fixture fx;
        fixture_open(&fx, FIXTURE_NAMES[f]);
        size_t S, T, V = fx.m.cfg.vocab_size;
        int *src = tu_expected_int(&fx.exp, "src_ids", &S);
        int *dec_in = tu_expected_int(&fx.exp, "tf_dec_in", &T);
        as_err err;
        t5_run *r = t5_run_new(&fx.m, S, T);
        attn_trace *full = trace_new(&fx.m, S, T + 1), *inc = trace_new(&fx.m, S, T + 1);
        float *lf = malloc(T * V * sizeof *lf), *li = malloc(T * V * sizeof *li);

        t5_run_set_hook(r, trace_hook, full);
        if (t5_teacher_forced(r, src, S, dec_in, T, lf, &err)) fail_msg("%s", err.msg);
        t5_run_set_hook(r, trace_hook, inc);
        if (t5_encode(r, src, S, &err)) fail_msg("%s", err.msg);
        for (size_t i = 0; i < T; i++)
            if (t5_decode_step(r, dec_in[i], li + i * V, &err)) fail_msg("%s", err.msg);
        assert_close_array(li, lf, T * V, 1e-5, 1e-5);
        size_t L = fx.m.cfg.num_decoder_layers, H = fx.m.cfg.num_heads;
        assert_close_array(inc->dec, full->dec, L * H * (T + 1) * (T + 1), 1e-6, 0);
        assert_close_array(inc->cross, full->cross, L * H * (T + 1) * S, 1e-6, 0);
        /* One more step past the capacity is an error, not an overflow. */
        assert_int_equal(t5_decode_step(r, 5, li, &err), -1);

        free(src), free(dec_in), free(lf), free(li);
        trace_free(full), trace_free(inc);
        t5_run_free(r);
        fixture_close(&fx);
    }
}

/* The ablation hook: zero head `head` of (kind, layer). */
typedef struct {
    t5_attn_kind kind;
    size_t layer, head;
    size_t calls;
} ablate;

static void ablate_hook(void *user, const t5_attn_event *ev)
{
    ablate *a = user;
    if (ev->kind != a->kind || ev->layer != a->layer) return;
    memset(ev->probs + a->head * ev->n_q * ev->n_k, 0, ev->n_q * ev->n_k * sizeof(float));
    a->calls++;
}

/* Zero the o-projection columns of one head: (C, H*dkv) row-major. */
static void zero_head_columns(float *o, size_t C, size_t H, size_t dkv, size_t head)
{
    for (size_t c = 0; c < C; c++) memset(o + c * H * dkv + head * dkv, 0, dkv * sizeof *o);
}

static void test_ablation_equals_zeroed_weights(void **state)
{
    (void)state;
    for (size_t f = 0; f < 2; f++) {
        fixture fx;
        fixture_open(&fx, FIXTURE_NAMES[f]);
        const t5_config *c = &fx.m.cfg;
        size_t S, T, V = c->vocab_size, H = c->num_heads;
        int *src = tu_expected_int(&fx.exp, "src_ids", &S);
        int *dec_in = tu_expected_int(&fx.exp, "tf_dec_in", &T);
        const ablate cases[] = {
            {T5_ATTN_ENC_SELF, 0, 1, 0},
            {T5_ATTN_ENC_SELF, c->num_layers - 1, H - 1, 0},
            {T5_ATTN_DEC_SELF, c->num_decoder_layers - 1, 2, 0},
            {T5_ATTN_CROSS, 0, 0, 0},
        };
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            ablate a = cases[k];
            as_err err;
            /* Hooked run on the original model. */
            t5_run *r = t5_run_new(&fx.m, S, T);
            float *l_hook = malloc(T * V * sizeof(float)), *l_w = malloc(T * V * sizeof(float));
            float *l_orig = malloc(T * V * sizeof(float));
            if (t5_teacher_forced(r, src, S, dec_in, T, l_orig, &err)) fail_msg("%s", err.msg);
            t5_run_set_hook(r, ablate_hook, &a);
            if (t5_teacher_forced(r, src, S, dec_in, T, l_hook, &err)) fail_msg("%s", err.msg);
            assert_int_equal(a.calls, 1);
            /* A copy of the model whose weights silence that head. */
            t5_model m2;
            if (t5_alloc(&m2, c, &err)) fail_msg("%s", err.msg);
            memcpy(m2.params, fx.m.params, m2.n_params * sizeof(float));
            t5_block *b = a.kind == T5_ATTN_ENC_SELF ? &m2.w.enc[a.layer] : &m2.w.dec[a.layer];
            zero_head_columns(a.kind == T5_ATTN_CROSS ? b->co : b->o, c->d_model, H, c->d_kv,
                              a.head);
            t5_run *r2 = t5_run_new(&m2, S, T);
            if (t5_teacher_forced(r2, src, S, dec_in, T, l_w, &err)) fail_msg("%s", err.msg);
            assert_close_array(l_hook, l_w, T * V, 1e-5, 1e-5);
            /* And the ablation did change something. */
            double diff = 0;
            for (size_t i = 0; i < T * V; i++) diff = fmax(diff, fabs(l_hook[i] - l_orig[i]));
            assert_true(diff > 1e-3);
            free(l_hook), free(l_w), free(l_orig);
            t5_run_free(r2);
            t5_free(&m2);
            t5_run_free(r);
        }
        free(src), free(dec_in);
        fixture_close(&fx);
    }
}

/* Block one source token as a key everywhere (encoder self and cross
 * attention: zero its column and renormalise each row). Then nothing can
 * read that position, so replacing the token there changes no logit. */
static void block_hook(void *user, const t5_attn_event *ev)
{
    size_t key = *(const size_t *)user;
    if (ev->kind == T5_ATTN_DEC_SELF || key >= ev->n_k) return;
    for (size_t h = 0; h < ev->n_heads; h++)
        for (size_t i = 0; i < ev->n_q; i++) {
            float *row = ev->probs + (h * ev->n_q + i) * ev->n_k;
            row[key] = 0.0f;
            double sum = 0;
            for (size_t j = 0; j < ev->n_k; j++) sum += row[j];
            for (size_t j = 0; j < ev->n_k; j++) row[j] = (float)(row[j] / sum);
        }
}

static void test_block_key_token(void **state)
{
    (void)state;
    fixture fx;
    fixture_open(&fx, "untied-gated");
    size_t S, T, V = fx.m.cfg.vocab_size;
    int *src = tu_expected_int(&fx.exp, "src_ids", &S);
    int *dec_in = tu_expected_int(&fx.exp, "tf_dec_in", &T);
    size_t key = 4;
    as_err err;
    t5_run *r = t5_run_new(&fx.m, S, T);
    float *la = malloc(T * V * sizeof(float)), *lb = malloc(T * V * sizeof(float));
    float *lc = malloc(T * V * sizeof(float));
    attn_trace *tr = trace_new(&fx.m, S, T + 1);
    t5_run_set_hook(r, block_hook, &key);
    if (t5_teacher_forced(r, src, S, dec_in, T, la, &err)) fail_msg("%s", err.msg);
    src[key] = src[key] == 'x' + 3 ? 'y' + 3 : 'x' + 3;
    if (t5_teacher_forced(r, src, S, dec_in, T, lb, &err)) fail_msg("%s", err.msg);
    assert_close_array(la, lb, T * V, 1e-5, 1e-5);
    /* Without the block the token matters. */
    t5_run_set_hook(r, NULL, NULL);
    if (t5_teacher_forced(r, src, S, dec_in, T, lc, &err)) fail_msg("%s", err.msg);
    double diff = 0;
    for (size_t i = 0; i < T * V; i++) diff = fmax(diff, fabs(lb[i] - lc[i]));
    assert_true(diff > 1e-3);
    /* trace_run chains after the blocking hook: the trace shows the edit. */
    t5_run_set_hook(r, block_hook, &key);
    int *target = tu_expected_int(&fx.exp, "tf_labels", NULL);
    if (trace_run(tr, r, src, S, target, T, 0, &err) < 0) fail_msg("%s", err.msg);
    size_t rows, cols, stride;
    const float *map = trace_map(tr, T5_ATTN_CROSS, 1, 2, &rows, &cols, &stride);
    for (size_t i = 0; i < rows; i++) assert_true(map[i * stride + key] == 0.0f);
    t5_hook_fn fn;
    t5_run_get_hook(r, &fn, NULL);
    assert_true(fn == block_hook); /* restored after trace_run */

    free(src), free(dec_in), free(la), free(lb), free(lc), free(target);
    trace_free(tr);
    t5_run_free(r);
    fixture_close(&fx);
}

static void noop_hook(void *user, const t5_attn_event *ev)
{
    (*(size_t *)user)++;
    (void)ev;
}

static void test_no_hook_same_results(void **state)
{
    (void)state;
    fixture fx;
    fixture_open(&fx, "tied-relu");
    const t5_config *c = &fx.m.cfg;
    size_t S, T, V = c->vocab_size;
    int *src = tu_expected_int(&fx.exp, "src_ids", &S);
    int *dec_in = tu_expected_int(&fx.exp, "tf_dec_in", &T);
    as_err err;
    t5_run *r = t5_run_new(&fx.m, S, T);
    float *l1 = malloc(T * V * sizeof(float)), *l2 = malloc(T * V * sizeof(float));
    if (t5_teacher_forced(r, src, S, dec_in, T, l1, &err)) fail_msg("%s", err.msg);
    size_t calls = 0;
    t5_run_set_hook(r, noop_hook, &calls);
    if (t5_teacher_forced(r, src, S, dec_in, T, l2, &err)) fail_msg("%s", err.msg);
    assert_memory_equal(l1, l2, T * V * sizeof(float));
    /* One event per (stack, layer): encoder self, decoder self and cross. */
    assert_int_equal(calls, c->num_layers + 2 * c->num_decoder_layers);
    free(src), free(dec_in), free(l1), free(l2);
    t5_run_free(r);
    fixture_close(&fx);
}

static void test_bad_input(void **state)
{
    (void)state;
    fixture fx;
    fixture_open(&fx, "tied-relu");
    as_err err = {{0}};
    t5_run *r = t5_run_new(&fx.m, 4, 3);
    int src[5] = {10, 11, 12, 1, 1}, out[8];
    float logits[384];
    assert_int_equal(t5_decode_step(r, 0, logits, &err), -1); /* nothing encoded */
    assert_non_null(strstr(err.msg, "encoded"));
    assert_int_equal(t5_encode(r, src, 0, &err), -1);
    assert_int_equal(t5_encode(r, src, 5, &err), -1); /* longer than max_src */
    int bad[2] = {10, 384};
    assert_int_equal(t5_encode(r, bad, 2, &err), -1);
    assert_non_null(strstr(err.msg, "384"));
    assert_int_equal(t5_greedy(r, src, 4, out, 8, &err), -1); /* max_len > max_tgt */
    assert_int_equal(t5_encode(r, src, 4, &err), 0);
    assert_int_equal(t5_decode_step(r, -1, logits, &err), -1);
    assert_int_equal(t5_run_decoded(r), 0);
    int lab[2] = {-100, -100};
    assert_true(isnan(t5_cross_entropy(logits, lab, 1, 384)));
    t5_run_free(r);
    fixture_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tied_relu_teacher_forced),
        cmocka_unit_test(test_untied_gated_teacher_forced),
        cmocka_unit_test(test_tied_relu_greedy),
        cmocka_unit_test(test_untied_gated_greedy),
        cmocka_unit_test(test_incremental_equals_recompute),
        cmocka_unit_test(test_ablation_equals_zeroed_weights),
        cmocka_unit_test(test_block_key_token),
        cmocka_unit_test(test_no_hook_same_results),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
