/* test_hidden.c - the hidden-state hook, value-weighted maps, the logit lens
 * and activation patching against the PyTorch reference
 * (tests/reference/make_fixtures.py writes states.safetensors beside each
 * fixture's expected.safetensors), on the tied relu, untied gated-gelu and
 * SentencePiece fixtures. Then properties without a reference: a greedy
 * decode step by step (the one-row fused paths) shows the same states as
 * the teacher-forced pass on its tokens; a state hook that changes nothing
 * leaves the logits as they are without one; the lens's top tokens come
 * out sorted with their softmax probabilities. */
#include "testutil.h"

#include "hidden.h"
#include "safetensors.h"
#include "t5.h"
#include "trace.h"

/* The reference runs in float64 on the float32 weights: what is left is
 * the C engine's float32 rounding. Hidden states and logits are O(1..10). */
#define TOL_STATE 1e-4
#define TOL_LOGIT 1e-4
#define TOL_MAP 1e-5

static const char *const NAMES[] = {"tied-relu", "untied-gated", "spm-gated"};

typedef struct {
    t5_model m;
    st_file exp, st;
    int *src, *dec_in;
    size_t S, T;
} fixture;

static void fx_open(fixture *fx, const char *name)
{
    as_err err = {{0}};
    char path[600];
    tu_fixture_load(&fx->m, &fx->exp, name, "expected.safetensors");
    snprintf(path, sizeof path, FIXTURES "/%s/states.safetensors", name);
    if (st_open(&fx->st, path, &err)) fail_msg("st_open %s: %s (make fixtures)", path, err.msg);
    fx->src = tu_expected_int(&fx->exp, "src_ids", &fx->S);
    fx->dec_in = tu_expected_int(&fx->exp, "tf_dec_in", &fx->T);
}

static void fx_close(fixture *fx)
{
    free(fx->src);
    free(fx->dec_in);
    st_close(&fx->st);
    st_close(&fx->exp);
    t5_free(&fx->m);
}

static void check_close(const float *got, const float *want, size_t n, double tol,
                        const char *what, const char *fixture_name)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol))
            fail_msg("%s %s[%zu] = %.8g, expected %.8g", fixture_name, what, i, got[i], want[i]);
}

/* Compare one captured kind, all its layers, with the (L, P, C) tensor. */
static void check_kind(const fixture *fx, const an_states *s, t5_stack stack, t5_state_kind kind,
                       const char *tensor, const char *name)
{
    size_t n;
    float *want = tu_expected_f32(&fx->st, tensor, &n);
    size_t L = an_states_layers(s, stack, kind), P = stack == T5_ENCODER ? fx->S : fx->T;
    size_t C = fx->m.cfg.d_model;
    assert_int_equal(n, L * P * C);
    for (size_t l = 0; l < L; l++)
        for (size_t p = 0; p < P; p++) {
            char what[80];
            snprintf(what, sizeof what, "%s layer %zu pos %zu", tensor, l, p);
            check_close(an_states_row(s, stack, kind, l, p), want + (l * P + p) * C, C,
                        TOL_STATE, what, name);
        }
    free(want);
}

static void states_against_reference(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof NAMES / sizeof NAMES[0]; f++) {
        fixture fx;
        fx_open(&fx, NAMES[f]);
        size_t V = fx.m.cfg.vocab_size;
        t5_run *r = t5_run_new(&fx.m, fx.S, fx.T);
        an_states s;
        an_states_init(&s, &fx.m, fx.S, fx.T);
        t5_run_set_state_hook(r, an_states_hook, &s);
        float *logits = malloc(fx.T * V * sizeof *logits);
        as_err err;
        if (t5_teacher_forced(r, fx.src, fx.S, fx.dec_in, fx.T, logits, &err))
            fail_msg("%s", err.msg);
        assert_int_equal(s.n_pos[T5_ENCODER], fx.S);
        assert_int_equal(s.n_pos[T5_DECODER], fx.T);
        check_kind(&fx, &s, T5_ENCODER, T5_STATE_EMBED, "enc_embed", NAMES[f]);
        check_kind(&fx, &s, T5_ENCODER, T5_STATE_ATTN, "enc_attn_out", NAMES[f]);
        check_kind(&fx, &s, T5_ENCODER, T5_STATE_MLP, "enc_mlp_out", NAMES[f]);
        check_kind(&fx, &s, T5_ENCODER, T5_STATE_RESID, "enc_resid", NAMES[f]);
        check_kind(&fx, &s, T5_DECODER, T5_STATE_EMBED, "dec_embed", NAMES[f]);
        check_kind(&fx, &s, T5_DECODER, T5_STATE_ATTN, "dec_attn_out", NAMES[f]);
        check_kind(&fx, &s, T5_DECODER, T5_STATE_CROSS, "dec_cross_out", NAMES[f]);
        check_kind(&fx, &s, T5_DECODER, T5_STATE_MLP, "dec_mlp_out", NAMES[f]);
        check_kind(&fx, &s, T5_DECODER, T5_STATE_RESID, "dec_resid", NAMES[f]);
        /* With the hook set the logits are still the reference's. */
        float *want = tu_expected_f32(&fx.exp, "tf_logits", NULL);
        check_close(logits, want, fx.T * V, TOL_LOGIT, "tf_logits (state hook set)", NAMES[f]);
        free(want);

        /* The logit lens of every decoder layer's residual. */
        size_t Ld = fx.m.cfg.num_decoder_layers, n;
        want = tu_expected_f32(&fx.st, "lens_logits", &n);
        assert_int_equal(n, Ld * fx.T * V);
        float *lens = malloc(fx.T * V * sizeof *lens);
        for (size_t l = 0; l < Ld; l++) {
            t5_logits_from_state(&fx.m, an_states_row(&s, T5_DECODER, T5_STATE_RESID, l, 0),
                                 fx.T, lens);
            check_close(lens, want + l * fx.T * V, fx.T * V, TOL_LOGIT, "lens_logits", NAMES[f]);
        }
        /* an_lens_top agrees: sorted, probabilities of the softmax. */
        int tok[5];
        float prob[5], *scratch = malloc(V * sizeof *scratch);
        const float *row = want + 3 * V; /* layer 0, position 3 */
        size_t k = an_lens_top(&fx.m, an_states_row(&s, T5_DECODER, T5_STATE_RESID, 0, 3), 5,
                               tok, prob, scratch);
        assert_int_equal(k, 5);
        double mx = row[0], sum = 0.0;
        for (size_t j = 0; j < V; j++) mx = row[j] > mx ? row[j] : mx;
        for (size_t j = 0; j < V; j++) sum += exp(row[j] - mx);
        for (size_t i = 0; i < k; i++) {
            if (i) assert_true(row[tok[i - 1]] >= row[tok[i]]);
            double p = exp(row[tok[i]] - mx) / sum;
            if (!(fabs(prob[i] - p) <= 1e-5)) fail_msg("lens prob %zu = %g, expected %g", i, prob[i], p);
        }
        /* Nothing left out beats the fifth (within the logits' tolerance). */
        size_t above = 0;
        for (size_t j = 0; j < V; j++) above += row[j] > row[tok[k - 1]] + TOL_LOGIT;
        assert_true(above <= k - 1);
        free(scratch);
        free(lens);
        free(want);
        free(logits);
        an_states_free(&s);
        t5_run_free(r);
        fx_close(&fx);
    }
}

static void norm_maps_against_reference(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof NAMES / sizeof NAMES[0]; f++) {
        fixture fx;
        fx_open(&fx, NAMES[f]);
        t5_run *r = t5_run_new(&fx.m, fx.S, fx.T);
        attn_trace *w = trace_new(&fx.m, fx.S, fx.T + 1), *nm = trace_new(&fx.m, fx.S, fx.T + 1);
        an_normcap nc;
        an_normcap_init(&nc, &fx.m, nm);
        int *labels = tu_expected_int(&fx.exp, "tf_labels", NULL);
        as_err err;
        long n = an_trace_run_norms(w, &nc, r, fx.src, fx.S, labels, fx.T, 0, &err);
        if (n < 0) fail_msg("%s", err.msg);
        assert_int_equal(nm->n_rows, fx.T);
        assert_int_equal(nm->n_tgt, fx.T + 1);
        assert_int_equal(nm->n_src, fx.S);
        /* The weights trace is untouched by the second capture. */
        tu_check_maps(&fx.exp, w, T5_ATTN_ENC_SELF, "enc_attn", TOL_MAP);
        tu_check_maps(&fx.exp, w, T5_ATTN_CROSS, "tf_cross_attn", TOL_MAP);
        tu_check_maps(&fx.st, nm, T5_ATTN_ENC_SELF, "enc_norm_maps", TOL_MAP);
        tu_check_maps(&fx.st, nm, T5_ATTN_DEC_SELF, "tf_dec_norm_maps", TOL_MAP);
        tu_check_maps(&fx.st, nm, T5_ATTN_CROSS, "tf_cross_norm_maps", TOL_MAP);
        /* The run's hook is back (none). */
        t5_hook_fn fn;
        t5_run_get_hook(r, &fn, NULL);
        assert_null(fn);
        free(labels);
        an_normcap_free(&nc);
        trace_free(w);
        trace_free(nm);
        t5_run_free(r);
        fx_close(&fx);
    }
}

static void patching_against_reference(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof NAMES / sizeof NAMES[0]; f++) {
        fixture fx;
        fx_open(&fx, NAMES[f]);
        size_t V = fx.m.cfg.vocab_size, n_spec;
        int *bad = tu_expected_int(&fx.st, "patch_src", NULL);
        int *spec = tu_expected_int(&fx.st, "patch_spec", &n_spec);
        float *want = tu_expected_f32(&fx.st, "patch_logits", NULL);
        float *want_c = tu_expected_f32(&fx.st, "corrupt_logits", NULL);
        n_spec /= 4;
        t5_run *r = t5_run_new(&fx.m, fx.S, fx.T);
        an_states clean;
        an_states_init(&clean, &fx.m, fx.S, fx.T);
        t5_run_set_state_hook(r, an_states_hook, &clean);
        as_err err;
        if (t5_teacher_forced(r, fx.src, fx.S, fx.dec_in, fx.T, NULL, &err)) fail_msg("%s", err.msg);
        float *logits = malloc(fx.T * V * sizeof *logits);
        t5_run_set_state_hook(r, NULL, NULL);
        if (t5_teacher_forced(r, bad, fx.S, fx.dec_in, fx.T, logits, &err)) fail_msg("%s", err.msg);
        check_close(logits, want_c, fx.T * V, TOL_LOGIT, "corrupt_logits", NAMES[f]);
        for (size_t i = 0; i < n_spec; i++) {
            an_patch p = {(t5_stack)spec[4 * i], (t5_state_kind)spec[4 * i + 1],
                          (size_t)spec[4 * i + 2], (size_t)spec[4 * i + 3], NULL, 0};
            p.row = an_states_row(&clean, p.stack, p.kind, p.layer, p.pos);
            assert_non_null(p.row);
            t5_run_set_state_hook(r, an_patch_hook, &p);
            if (t5_teacher_forced(r, bad, fx.S, fx.dec_in, fx.T, logits, &err))
                fail_msg("%s", err.msg);
            assert_int_equal(p.applied, 1);
            char what[80];
            snprintf(what, sizeof what, "patch_logits[%zu]", i);
            check_close(logits, want + i * fx.T * V, fx.T * V, TOL_LOGIT, what, NAMES[f]);
        }
        free(logits);
        free(bad), free(spec), free(want), free(want_c);
        an_states_free(&clean);
        t5_run_free(r);
        fx_close(&fx);
    }
}

static void noop_hook(void *user, const t5_state_event *ev)
{
    (void)ev;
    (*(size_t *)user)++;
}

/* Greedy, step by step: the same states as the teacher-forced pass on the
 * generated tokens; and a state hook that changes nothing changes nothing. */
static void steps_equal_teacher_forcing(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof NAMES / sizeof NAMES[0]; f++) {
        fixture fx;
        fx_open(&fx, NAMES[f]);
        const t5_config *c = &fx.m.cfg;
        size_t V = c->vocab_size, n_gen;
        int *gen = tu_expected_int(&fx.exp, "greedy_ids", &n_gen);
        int *dec = malloc((n_gen + 1) * sizeof *dec);
        dec[0] = c->decoder_start_token_id;
        memcpy(dec + 1, gen, n_gen * sizeof *dec);
        t5_run *r = t5_run_new(&fx.m, fx.S, n_gen);
        an_states tf, st;
        an_states_init(&tf, &fx.m, fx.S, n_gen);
        an_states_init(&st, &fx.m, fx.S, n_gen);
        as_err err;
        t5_run_set_state_hook(r, an_states_hook, &tf);
        if (t5_teacher_forced(r, fx.src, fx.S, dec, n_gen, NULL, &err)) fail_msg("%s", err.msg);
        for (int threads = 1; threads <= 2; threads++) {
            t5_run_set_threads(r, threads);
            an_states_clear(&st);
            t5_run_set_state_hook(r, an_states_hook, &st);
            if (t5_encode(r, fx.src, fx.S, &err)) fail_msg("%s", err.msg);
            for (size_t i = 0; i < n_gen; i++)
                if (t5_decode_step(r, dec[i], NULL, &err)) fail_msg("%s", err.msg);
            assert_int_equal(st.n_pos[T5_DECODER], n_gen);
            for (int k = 0; k < T5_STATE_COUNT; k++)
                for (size_t l = 0; l < an_states_layers(&st, T5_DECODER, (t5_state_kind)k); l++)
                    check_close(an_states_row(&st, T5_DECODER, (t5_state_kind)k, l, 0),
                                an_states_row(&tf, T5_DECODER, (t5_state_kind)k, l, 0),
                                n_gen * c->d_model, 1e-5, "step states", NAMES[f]);
        }
        t5_run_set_threads(r, 1);
        /* No-op hook vs no hook: the same greedy logits. */
        float *a = malloc(V * sizeof *a), *b = malloc(V * sizeof *b);
        size_t calls = 0;
        if (t5_encode(r, fx.src, fx.S, &err)) fail_msg("%s", err.msg);
        t5_run_set_state_hook(r, NULL, NULL);
        if (t5_decode_step(r, dec[0], a, &err)) fail_msg("%s", err.msg);
        t5_run_set_state_hook(r, noop_hook, &calls);
        if (t5_encode(r, fx.src, fx.S, &err)) fail_msg("%s", err.msg);
        if (t5_decode_step(r, dec[0], b, &err)) fail_msg("%s", err.msg);
        check_close(b, a, V, 1e-5, "no-op hook logits", NAMES[f]);
        /* encoder: embed + 3 per layer; decoder: embed + 4 per layer. */
        assert_int_equal(calls, 2 + 3 * c->num_layers + 4 * c->num_decoder_layers);
        free(a), free(b), free(gen), free(dec);
        an_states_free(&tf);
        an_states_free(&st);
        t5_run_free(r);
        fx_close(&fx);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(states_against_reference),
        cmocka_unit_test(norm_maps_against_reference),
        cmocka_unit_test(patching_against_reference),
        cmocka_unit_test(steps_equal_teacher_forcing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
