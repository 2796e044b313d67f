/* test_train_data.c - the data side of training (train.h, src/train/
 * sampler.c, settings.c's data keys):
 *  - the plain order is still the one of every earlier run (an independent
 *    re-implementation of "shuffled epochs seeded by (seed, epoch)");
 *  - data.weights: the drawn kind shares match the weights, every example of
 *    a kind comes once before any comes twice, the draws depend only on
 *    (seed, step) (asked out of order, or by a fresh sampler as after
 *    --resume, they are the same);
 *  - train.cfg's data keys: values read, bad ones rejected with FILE:LINE. */
#include "testutil.h"

#include "quad.h"
#include "train.h"

/* ---- the plain order ----------------------------------------------------------- */

static void test_plain_order_unchanged(void **state)
{
    (void)state;
    const size_t n = 37, B = 8, steps = 20;
    uint64_t seed = 7;
    as_err err;
    train_sampler *s = train_sampler_new(n, NULL, NULL, seed, &err);
    assert_non_null(s);
    size_t idx[8], perm[37];
    for (size_t step = 0; step < steps; step++) {
        train_sampler_step(s, step, B, idx);
        for (size_t k = 0; k < B; k++) {
            /* the order of loop.c before samplers existed, written out again */
            size_t pos = step * B + k, e = pos / n;
            as_rng r;
            rng_seed(&r, seed * 0x9E3779B97F4A7C15ULL + e + 1);
            for (size_t i = 0; i < n; i++) perm[i] = i;
            for (size_t i = n; i > 1; i--) {
                size_t j = (size_t)rng_range(&r, 0, (int64_t)i - 1);
                size_t t = perm[i - 1];
                perm[i - 1] = perm[j];
                perm[j] = t;
            }
            assert_int_equal(idx[k], perm[pos % n]);
        }
    }
    train_sampler_free(s);
}

/* ---- weights --------------------------------------------------------------------- */

/* n examples, kinds 50/30/20 % in a scrambled order. */
static quad_kind *make_kinds(size_t n, size_t count[QUAD_N_KINDS])
{
    quad_kind *kind = malloc(n * sizeof *kind);
    memset(count, 0, QUAD_N_KINDS * sizeof count[0]);
    for (size_t i = 0; i < n; i++) {
        size_t h = (i * 7919) % 10;
        kind[i] = h < 5 ? QUAD_TWO_ROOTS : h < 8 ? QUAD_ONE_ROOT : QUAD_NO_ROOT;
        count[kind[i]]++;
    }
    return kind;
}

static void test_weighted_shares(void **state)
{
    (void)state;
    const size_t n = 1000, B = 32, steps = 3000;
    size_t count[QUAD_N_KINDS];
    quad_kind *kind = make_kinds(n, count);
    const double w[QUAD_N_KINDS] = {2.0, 0.5, 1.5};
    as_err err;
    train_sampler *s = train_sampler_new(n, kind, w, 11, &err);
    assert_non_null(s);
    size_t drawn[QUAD_N_KINDS] = {0}, idx[32];
    size_t *seen = calloc(n, sizeof *seen);
    size_t first_round[QUAD_N_KINDS] = {0};  /* draws of the kind within its first epoch */
    for (size_t step = 0; step < steps; step++) {
        train_sampler_step(s, step, B, idx);
        for (size_t k = 0; k < B; k++) {
            assert_true(idx[k] < n);
            quad_kind q = kind[idx[k]];
            if (drawn[q] < count[q]) {
                /* within a kind's first epoch no example comes twice */
                assert_int_equal(seen[idx[k]], 0);
                first_round[q]++;
            }
            seen[idx[k]]++;
            drawn[q]++;
        }
    }
    double total = (double)(steps * B);
    const double want[QUAD_N_KINDS] = {0.5, 0.125, 0.375};
    for (int q = 0; q < QUAD_N_KINDS; q++) {
        double share = drawn[q] / total;
        /* 96,000 draws: the standard error of a share is below 0.0017 */
        if (fabs(share - want[q]) > 0.006)
            fail_msg("kind %d: drawn share %.4f, weights say %.4f", q, share, want[q]);
        assert_int_equal(first_round[q], count[q]);
    }
    /* each example of a kind is drawn about drawn/count times (epochs) */
    for (size_t i = 0; i < n; i++) {
        double expect = (double)drawn[kind[i]] / (double)count[kind[i]];
        assert_true(fabs((double)seen[i] - expect) <= 1.0 + 1e-9);
    }
    free(seen);
    train_sampler_free(s);
    free(kind);
}

static void test_weighted_resume(void **state)
{
    (void)state;
    const size_t n = 200, B = 16, steps = 120;
    size_t count[QUAD_N_KINDS];
    quad_kind *kind = make_kinds(n, count);
    const double w[QUAD_N_KINDS] = {1.0, 0.0, 3.0};
    as_err err;
    train_sampler *a = train_sampler_new(n, kind, w, 5, &err);
    size_t *all = malloc(steps * B * sizeof *all);
    for (size_t step = 0; step < steps; step++) train_sampler_step(a, step, B, all + step * B);
    for (size_t i = 0; i < steps * B; i++) assert_int_not_equal(kind[all[i]], QUAD_ONE_ROOT);
    /* a fresh sampler starting at step 77, as after --resume */
    train_sampler *b = train_sampler_new(n, kind, w, 5, &err);
    size_t idx[16];
    for (size_t step = 77; step < steps; step++) {
        train_sampler_step(b, step, B, idx);
        assert_memory_equal(idx, all + step * B, B * sizeof(size_t));
    }
    /* back to an earlier step */
    train_sampler_step(a, 3, B, idx);
    assert_memory_equal(idx, all + 3 * B, B * sizeof(size_t));
    /* another seed draws other batches */
    train_sampler *c = train_sampler_new(n, kind, w, 6, &err);
    train_sampler_step(c, 0, B, idx);
    assert_true(memcmp(idx, all, B * sizeof(size_t)) != 0);
    train_sampler_free(a);
    train_sampler_free(b);
    train_sampler_free(c);
    free(all);
    free(kind);
}

static void test_weighted_errors(void **state)
{
    (void)state;
    quad_kind kind[4] = {QUAD_TWO_ROOTS, QUAD_TWO_ROOTS, QUAD_ONE_ROOT, QUAD_ONE_ROOT};
    const double w1[QUAD_N_KINDS] = {1, 1, 0.5};
    as_err err;
    assert_null(train_sampler_new(4, kind, w1, 1, &err));
    assert_non_null(strstr(err.msg, "data.weights.no_root is 0.5, but the training set has no "
                                    "no root equation"));
    const double w0[QUAD_N_KINDS] = {0, 0, 0};
    assert_null(train_sampler_new(4, kind, w0, 1, &err));
    assert_non_null(strstr(err.msg, "at least one kind"));
    assert_null(train_sampler_new(0, NULL, NULL, 1, &err));
    assert_non_null(strstr(err.msg, "empty"));
}

/* ---- train.cfg --------------------------------------------------------------------- */

static const char *BASE = "train = { steps = 10; };\n";

/* Read a configuration made of BASE and data (a data section); 0 or -1. */
static int read_cfg(const char *data, train_settings *s, as_err *err, char *dir)
{
    char path[300], text[2048];
    snprintf(path, sizeof path, "%s/t.cfg", dir);
    snprintf(text, sizeof text, "%s%s", BASE, data);
    tu_write_file(path, text, strlen(text));
    return train_settings_read(s, path, err);
}

static void expect_error(const char *data, const char *msg, char *dir)
{
    train_settings s;
    as_err err;
    if (read_cfg(data, &s, &err, dir) == 0) fail_msg("accepted: %s", data);
    if (!strstr(err.msg, msg)) fail_msg("%s\n  gave: %s\n  expected: %s", data, err.msg, msg);
}

static void test_settings_data_keys(void **state)
{
    (void)state;
    char dir[128];
    assert_int_equal(tu_tmpdir(dir, sizeof dir, "traindata"), 0);
    train_settings s;
    as_err err;
    assert_int_equal(read_cfg("data = { preset = \"small\"; }\n", &s, &err, dir), 0);
    assert_int_equal(s.have_weights, 0);
    train_settings_free(&s);
    assert_int_equal(
        read_cfg("data = { preset = \"seed\";\n weights = { two_roots = 2.0; one_root = 0.5; "
                 "no_root = 3; }; }\n",
                 &s, &err, dir),
        0);
    assert_int_equal(s.have_weights, 1);
    assert_true(s.kind_weight[QUAD_TWO_ROOTS] == 2.0 && s.kind_weight[QUAD_ONE_ROOT] == 0.5 &&
                s.kind_weight[QUAD_NO_ROOT] == 3.0);
    train_settings_free(&s);
    expect_error("data = {\n weights = { two_roots = 1.0; one_root = 1.0; }; };\n",
                 "t.cfg:3: data.weights: give all three kinds", dir);
    expect_error("data = { weights = {\n two_roots = -1.0; one_root = 1.0; no_root = 1; }; };\n",
                 "t.cfg:3: data.weights.two_roots must be in 0 .. 1e+06 (got -1)", dir);
    expect_error("data = { weights = { two_roots = 0; one_root = 0; no_root = 0; }; };\n",
                 "data.weights: at least one kind needs a weight above 0", dir);
    expect_error("data = { weights = { two_roots = 1; one_root = 1; no_root = 1;\n"
                 " three_roots = 1; }; };\n",
                 "t.cfg:3: unknown key 'data.weights.three_roots'", dir);
    expect_error("data = { weights = 2.0; };\n", "data.weights must be a group", dir);
    expect_error("data = { weights = { two_roots = \"x\"; one_root = 1; no_root = 1; }; };\n",
                 "data.weights.two_roots must be a number", dir);
    assert_int_equal(tu_rm_rf(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_order_unchanged),
        cmocka_unit_test(test_weighted_shares),
        cmocka_unit_test(test_weighted_resume),
        cmocka_unit_test(test_weighted_errors),
        cmocka_unit_test(test_settings_data_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
