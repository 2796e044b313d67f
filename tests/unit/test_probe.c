/* test_probe.c - the probes' parts: position classes of sources and
 * targets, the ridge solver (an exact linear target is recovered to 1e-6,
 * a one-hot class read by its argmax, a penalty chosen per group), and a
 * whole probe run on the tied-relu fixture model, where the embedding of
 * the single digit of a must give a back exactly (R^2 > 0.99) and shuffled
 * labels must not (R^2 < 0.3). */
#include "testutil.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(source_classes),
        cmocka_unit_test(target_classes),
        cmocka_unit_test(ridge_exact),
        cmocka_unit_test(probe_fixture_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
