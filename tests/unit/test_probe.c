/* test_probe.c - the probes' parts: position classes of sources and
 * targets, the ridge solver (an exact linear target is recovered to 1e-6,
 * a one-hot class read by its argmax, a penalty chosen per group), and a
 * whole probe run on the tied-relu fixture model, where the embedding of
 * the single digit of a must give a back exactly (R^2 > 0.99) and shuffled
 * labels must not (R^2 < 0.3). Activation patching: mismatched pairs are
 * refused with the reason; on the fixture model, copying the clean
 * embedding at the changed byte restores exactly 1 and elsewhere 0, and a
 * decoder patch through the rewound cache equals a whole patched pass. */
#include "testutil.h"

#include "byt5.h"
#include "hidden.h"
#include "probe.h"
#include "t5.h"

static void source_classes(void **state)
{
    (void)state;
    const char *s = "7x^2-356x+41=0";
    an_pos_class cls[32];
    assert_int_equal(an_pc_source(s, cls), 0);
    const an_pos_class want[] = {AN_PC_A, AN_PC_X1, AN_PC_CARET, AN_PC_TWO, AN_PC_SIGN_B,
                                 AN_PC_B, AN_PC_B, AN_PC_B, AN_PC_X2, AN_PC_SIGN_C, AN_PC_C,
                                 AN_PC_C, AN_PC_EQ, AN_PC_ZERO, AN_PC_EOS};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (cls[i] != want[i]) fail_msg("byte %zu: class %d, expected %d", i, cls[i], want[i]);
    assert_int_equal(an_pc_source("x^2+1x+1=0", cls), -1);  /* a is always written */
    assert_int_equal(an_pc_source("1x^2+1x+1=0 ", cls), -1);
    assert_string_equal(an_pc_name(AN_PC_DEQ), ")=");
    assert_true(an_pc_special(AN_PC_EQ));
    assert_false(an_pc_special(AN_PC_B));
}

static void target_classes(void **state)
{
    (void)state;
    const char *t = "D=((-5)^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;x=3;";
    an_pos_class cls[128];
    an_pc_target(t, cls);
    /* Row r is fed t[r-1]. */
    assert_int_equal(cls[0], AN_PC_COUNT);               /* the start token */
    assert_int_equal(cls[1], AN_PC_COUNT);               /* fed 'D' */
    assert_int_equal(cls[3], AN_PC_COUNT);               /* fed the opening '(' */
    for (size_t r = 4; r <= 15; r++) assert_int_equal(cls[r], AN_PC_DEXPR); /* (-5)^2-4*1*6 */
    assert_int_equal(cls[16], AN_PC_COUNT);              /* fed the closing ')' */
    assert_int_equal(cls[17], AN_PC_DEQ);                /* fed '=' */
    assert_int_equal(cls[18], AN_PC_DVAL);               /* fed '1' */
    assert_int_equal(cls[19], AN_PC_COUNT);              /* fed ';' */
    for (size_t r = 23; r <= 25; r++) assert_int_equal(cls[r], AN_PC_XEXPR); /* 5-1 */
    assert_int_equal(cls[26], AN_PC_COUNT);
    an_pc_target("D=(2^2-4*3*5)=-56;D<0;", cls);
    assert_int_equal(cls[12], AN_PC_DEXPR);
    assert_int_equal(cls[13], AN_PC_COUNT);              /* fed the closing ')' */
    assert_int_equal(cls[14], AN_PC_DEQ);
    for (size_t r = 15; r <= 17; r++) assert_int_equal(cls[r], AN_PC_DVAL); /* -56 */
    assert_int_equal(cls[18], AN_PC_COUNT);
    for (size_t r = 19; r <= 22; r++) assert_int_equal(cls[r], AN_PC_COUNT); /* D<0; */
}

/* y0 = X w + 3 exactly, and a 3-class one-hot group by the sign pattern of
 * two features: an almost unpenalised ridge recovers y0 to 1e-6 and the
 * classes almost always. */
static void ridge_exact(void **state)
{
    (void)state;
    size_t n = 400, C = 6, m = 4;
    float *X = malloc(n * C * sizeof *X);
    double *Y = calloc(n * m, sizeof *Y);
    as_rng rng;
    rng_seed(&rng, 7);
    const double w[6] = {0.5, -2.0, 1.5, 0.0, 3.0, -1.0};
    for (size_t i = 0; i < n; i++) {
        double y = 3.0;
        for (size_t c = 0; c < C; c++) {
            X[i * C + c] = (float)rng_normal(&rng);
            y += w[c] * X[i * C + c];
        }
        Y[i * m] = y;
        int k = X[i * C] > 0.5 ? 0 : X[i * C + 1] > 0 ? 1 : 2;
        Y[i * m + 1 + k] = 1.0;
    }
    size_t fit[240], val[80], test[80];
    for (size_t i = 0; i < 240; i++) fit[i] = i;
    for (size_t i = 0; i < 80; i++) val[i] = 240 + i, test[i] = 320 + i;
    size_t gs[2] = {1, 3};
    an_ridge_job job = {X, C, Y, m, fit, val, test, 240, 80, 80, gs, 2};
    double *pred = malloc(80 * m * sizeof *pred);
    as_err err;
    if (an_ridge(&job, pred, &err)) fail_msg("%s", err.msg);
    size_t right = 0;
    for (size_t i = 0; i < 80; i++) {
        double want = Y[test[i] * m];
        if (!(fabs(pred[i * m] - want) < 1e-3 * (1 + fabs(want))))
            fail_msg("test row %zu: %.8g, expected %.8g", i, pred[i * m], want);
        size_t best = 1, truth = 1;
        for (size_t k = 1; k < 4; k++) {
            if (pred[i * m + k] > pred[i * m + best]) best = k;
            if (Y[test[i] * m + k] > 0.5) truth = k;
        }
        right += best == truth;
    }
    assert_true(right >= 60); /* a linear read of a piecewise rule: most, not all */
    free(X), free(Y), free(pred);
}

static void probe_fixture_model(void **state)
{
    (void)state;
    t5_model m;
    as_err err = {{0}};
    if (t5_load(&m, FIXTURES "/tied-relu", &err)) fail_msg("%s", err.msg);
    const quad_preset *p = quad_preset_find("small");
    assert_non_null(p);
    size_t n = 150;
    quad_eq *eqs = malloc(n * sizeof *eqs);
    quad_generate(p, n, 3, eqs);
    an_probe_result r;
    if (an_probe_run(&m, eqs, n, 1, &r, NULL, NULL, &err)) fail_msg("%s", err.msg);
    assert_true(r.n_eq > 50 && r.n_eq <= n);
    assert_int_equal(r.n_test, r.n_eq / 5);
    assert_int_equal(r.n_enc_slots, m.cfg.num_layers + 1);
    assert_int_equal(r.n_dec_slots, m.cfg.num_decoder_layers + 1);
    assert_int_equal(r.n_targets, AN_PQ_N_VALUES + r.places);
    /* small: |D| <= 200^2 + 4*5*2000 = 80,000: 5 places. */
    assert_true(r.places >= 4 && r.places <= 5);
    size_t S = r.n_slots, K = AN_PC_COUNT;
    double a_emb = r.score[(AN_PQ_A * S + 0) * K + AN_PC_A];
    double a_shuf = r.shuffled[(AN_PQ_A * S + 0) * K + AN_PC_A];
    if (!(a_emb > 0.99)) fail_msg("R^2 of a at (enc emb, a) = %g, expected > 0.99", a_emb);
    if (!(a_shuf < 0.3)) fail_msg("shuffled R^2 of a = %g, expected < 0.3", a_shuf);
    /* Encoder classes are NaN in decoder slots and the other way round. */
    assert_true(isnan(r.score[(AN_PQ_D * S + 0) * K + AN_PC_DEQ]));
    assert_true(isnan(r.score[(AN_PQ_D * S + r.n_enc_slots) * K + AN_PC_EQ]));
    assert_false(isnan(r.score[(AN_PQ_D * S + r.n_enc_slots) * K + AN_PC_DEQ]));
    /* Scores are R^2 <= 1 and accuracies in [0, 1]. */
    for (size_t t = 0; t < r.n_targets; t++)
        for (size_t i = 0; i < S * K; i++) {
            double v = r.score[t * S * K + i];
            if (isnan(v)) continue;
            assert_true(v <= 1.0 + 1e-9);
            if (an_probe_is_digit(&r, t)) assert_true(v >= 0.0);
        }
    an_probe_free(&r);
    /* Too few distinct equations: an error, not a crash. */
    quad_eq same[60];
    for (size_t i = 0; i < 60; i++) same[i] = eqs[0];
    assert_int_equal(an_probe_run(&m, same, 60, 1, &r, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "too few"));
    free(eqs);
    t5_free(&m);
}

static quad_eq eq3(int64_t a, int64_t b, int64_t c) { return (quad_eq){a, b, c}; }

static void patch_pairs(void **state)
{
    (void)state;
    as_err err;
    char ch = 0;
    quad_eq e = eq3(1, -5, 6);
    assert_int_equal(an_patch_pair_check(&e, &e, &ch, &err), -1);
    assert_non_null(strstr(err.msg, "the same"));
    quad_eq two = eq3(1, -7, 8);
    assert_int_equal(an_patch_pair_check(&e, &two, &ch, &err), -1);
    assert_non_null(strstr(err.msg, "differ in b and c"));
    quad_eq longer = eq3(1, -15, 6);
    assert_int_equal(an_patch_pair_check(&e, &longer, &ch, &err), -1);
    assert_non_null(strstr(err.msg, "different lengths"));
    quad_eq sign = eq3(1, 5, 6); /* -5 -> +5: same length */
    assert_int_equal(an_patch_pair_check(&e, &sign, &ch, &err), 0);
    assert_int_equal(ch, 'b');
}

/* On the tied-relu fixture: copying the clean embedding at the changed
 * byte restores everything (the corrupted input becomes the clean one);
 * copying it where both sources agree restores nothing; a decoder patch
 * computed through the rewound cache equals a whole patched pass. */
static void patch_fixture_model(void **state)
{
    (void)state;
    t5_model m;
    as_err err = {{0}};
    if (t5_load(&m, FIXTURES "/tied-relu", &err)) fail_msg("%s", err.msg);
    quad_eq clean = eq3(3, 14, 8), bad = eq3(3, 14, 5); /* 3x^2+14x+8=0, c: 8 -> 5 */
    an_patch_result r;
    if (an_patch_run(&m, &clean, &bad, &r, &err)) fail_msg("%s", err.msg);
    assert_int_equal(r.changed, 'c');
    assert_string_equal(r.clean_src, "3x^2+14x+8=0");
    assert_int_equal(r.n_src, 13);
    assert_true(r.n_scored >= 1 && r.n_dec <= strlen(r.clean_tgt));
    size_t S = r.n_src, at = 9; /* the byte of c */
    double *enc = r.restored[T5_ENCODER][AN_PCOMP_RESID];
    if (!(fabs(enc[0 * S + at] - 1.0) < 1e-4)) fail_msg("embedding at c: %g, expected 1", enc[at]);
    for (size_t p = 0; p < S; p++)
        if (p != at && !(fabs(enc[p]) < 1e-6)) fail_msg("embedding at %zu: %g, expected 0", p, enc[p]);
    assert_null(r.restored[T5_ENCODER][AN_PCOMP_CROSS]);
    assert_int_equal(r.rows[T5_DECODER][AN_PCOMP_RESID], m.cfg.num_decoder_layers + 1);
    /* Recompute one decoder cell with whole passes. */
    size_t layer = 1, pos = r.n_dec > 2 ? r.n_dec - 2 : 0, T = r.n_dec, V = m.cfg.vocab_size;
    int src_c[16], src_x[16], dec[QUAD_TARGET_MAX + 1];
    byt5_encode_eos(r.clean_src, src_c, 16);
    byt5_encode_eos(r.corrupt_src, src_x, 16);
    dec[0] = m.cfg.decoder_start_token_id;
    byt5_encode(r.clean_tgt, dec + 1, QUAD_TARGET_MAX);
    t5_run *run = t5_run_new(&m, S, T);
    an_states st;
    an_states_init(&st, &m, S, T);
    t5_run_set_state_hook(run, an_states_hook, &st);
    float *logits = malloc(T * V * sizeof *logits);
    if (t5_teacher_forced(run, src_c, S, dec, T, NULL, &err)) fail_msg("%s", err.msg);
    an_patch p = {T5_DECODER, T5_STATE_MLP, layer, pos,
                  an_states_row(&st, T5_DECODER, T5_STATE_MLP, layer, pos), 0};
    t5_run_set_state_hook(run, an_patch_hook, &p);
    if (t5_teacher_forced(run, src_x, S, dec, T, logits, &err)) fail_msg("%s", err.msg);
    an_pos_class cls[QUAD_TARGET_MAX + 1];
    an_pc_target(r.clean_tgt, cls);
    double lp = 0.0;
    for (size_t row = 0; row < T; row++) {
        if (cls[row + 1] != AN_PC_DVAL || r.clean_tgt[row] < '0' || r.clean_tgt[row] > '9') continue;
        const float *l = logits + row * V;
        double mx = l[0], sum = 0.0;
        for (size_t j = 0; j < V; j++) mx = l[j] > mx ? l[j] : mx;
        for (size_t j = 0; j < V; j++) sum += exp(l[j] - mx);
        lp += l[dec[row + 1]] - mx - log(sum);
    }
    double want = (lp - r.lp_corrupt) / (r.lp_clean - r.lp_corrupt);
    double got = r.restored[T5_DECODER][AN_PCOMP_MLP][layer * T + pos];
    if (!(fabs(got - want) < 1e-4)) fail_msg("decoder MLP patch: %g by rewinding, %g whole", got, want);
    free(logits);
    an_states_free(&st);
    t5_run_free(run);
    an_patch_free(&r);
    t5_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(source_classes),
        cmocka_unit_test(target_classes),
        cmocka_unit_test(ridge_exact),
        cmocka_unit_test(probe_fixture_model),
        cmocka_unit_test(patch_pairs),
        cmocka_unit_test(patch_fixture_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
