/* test_train_data.c - the data side of training (train.h, src/train/
 * sampler.c, settings.c's data keys):
 *  - the plain order is still the one of every earlier run (an independent
 *    re-implementation of "shuffled epochs seeded by (seed, epoch)");
 *  - data.weights: the drawn kind shares match the weights, every example of
 *    a kind comes once before any comes twice, the draws depend only on
 *    (seed, step) (asked out of order, or by a fresh sampler as after
 *    --resume, they are the same);
 *  - data.stream: over many batches never an equation of the test split,
 *    the spec's kind shares (or the weights'), the same equations for the
 *    same (seed, step);
 *  - data.stepwise: the worked target strings exactly, the stages by step;
 *  - the presets' length bounds hold and are tight;
 *  - train.cfg's data keys: values read, bad ones rejected with FILE:LINE;
 *  - the speed of a run: /proc/stat's first line, the averages over this
 *    session and the whole run, the low-share warning exactly once. */
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


/* ---- data.stream ------------------------------------------------------------------- */

static void test_stream_excludes_test_split(void **state)
{
    (void)state;
    /* the run's data set: the small preset, whose 205 one-root equations
     * repeat often, so the test split's are drawn again and again */
    const size_t n = 3000;
    const quad_preset *p = quad_preset_find("small");
    quad_eq *eqs = malloc(n * sizeof *eqs);
    unsigned char *is_test = malloc(n);
    quad_generate(p, n, 3, eqs);
    quad_split(eqs, n, 3, 0.2, is_test);
    char **test = malloc(n * sizeof *test);
    size_t n_test = 0;
    char src[QUAD_SOURCE_MAX];
    for (size_t i = 0; i < n; i++)
        if (is_test[i]) {
            quad_format_source(&eqs[i], src, sizeof src);
            test[n_test++] = strdup(src);
        }
    assert_true(n_test > 500);
    as_err err;
    train_stream *s = train_stream_new(p, NULL, 7, test, n_test, &err);
    assert_non_null(s);
    const size_t B = 32, steps = 2000;
    quad_eq out[32], again[32];
    size_t kinds[QUAD_N_KINDS] = {0}, in_train = 0;
    for (size_t step = 0; step < steps; step++) {
        assert_int_equal(train_stream_step(s, step, B, out, &err), 0);
        for (size_t k = 0; k < B; k++) {
            quad_format_source(&out[k], src, sizeof src);
            for (size_t t = 0; t < n_test; t++)
                if (!strcmp(src, test[t])) fail_msg("step %zu drew %s of the test split", step, src);
            kinds[quad_kind_of(&out[k])]++;
            /* every equation is one of the preset's: integer roots in range or D < 0 */
            quad_solution sol;
            assert_int_equal(quad_solve(&out[k], &sol, &err), 0);
            assert_true(sol.in_distribution);
            assert_true(out[k].a >= p->a_lo && out[k].a <= p->a_hi);
            for (size_t i = 0; i < n && step < 10; i++)
                if (!is_test[i] && !memcmp(&eqs[i], &out[k], sizeof out[k])) {
                    in_train++;
                    break;
                }
        }
    }
    /* the exclusion is by source: the same strings the run's test split has */
    assert_true(train_stream_excluded(s, test[0]));
    assert_false(train_stream_excluded(s, "1x^2+0x+0=0 (no equation)"));
    /* training-split equations are allowed (the one-root ones repeat) */
    assert_true(in_train > 0);
    double total = (double)(steps * B);
    const double want[QUAD_N_KINDS] = {0.5, 0.3, 0.2};
    for (int q = 0; q < QUAD_N_KINDS; q++)
        if (fabs(kinds[q] / total - want[q]) > 0.008)
            fail_msg("kind %d: share %.4f, the spec says %.2f", q, kinds[q] / total, want[q]);
    /* a step's equations depend only on (seed, step) */
    train_stream_step(s, 1234, B, out, &err);
    train_stream_step(s, 5, B, again, &err);
    train_stream_step(s, 1234, B, again, &err);
    assert_memory_equal(out, again, sizeof out);
    train_stream *s2 = train_stream_new(p, NULL, 8, test, n_test, &err);
    train_stream_step(s2, 1234, B, again, &err);
    assert_true(memcmp(out, again, sizeof out) != 0);
    /* with weights */
    const double w[QUAD_N_KINDS] = {0, 1, 3};
    train_stream *s3 = train_stream_new(p, w, 7, test, n_test, &err);
    size_t k1 = 0, k2 = 0;
    for (size_t step = 0; step < 500; step++) {
        train_stream_step(s3, step, B, out, &err);
        for (size_t k = 0; k < B; k++) {
            quad_kind q = quad_kind_of(&out[k]);
            assert_int_not_equal(q, QUAD_TWO_ROOTS);
            k1 += q == QUAD_ONE_ROOT;
            k2 += q == QUAD_NO_ROOT;
        }
    }
    assert_true(fabs((double)k1 / (double)(k1 + k2) - 0.25) < 0.015);
    /* data.stream_range: a wider stream draws beyond the preset's ranges,
     * within its own, and still never a test equation */
    quad_preset wide = *p;
    wide.r_lo = -30, wide.r_hi = 30, wide.c_hi = 4500;
    train_stream *s4 = train_stream_new(&wide, NULL, 7, test, n_test, &err);
    size_t beyond = 0;
    for (size_t step = 0; step < 300; step++) {
        assert_int_equal(train_stream_step(s4, step, B, out, &err), 0);
        for (size_t k = 0; k < B; k++) {
            quad_format_source(&out[k], src, sizeof src);
            assert_false(train_stream_excluded(s4, src));
            quad_solution sol;
            assert_int_equal(quad_solve(&out[k], &sol, &err), 0);
            assert_true(sol.in_distribution);
            assert_true(out[k].a >= wide.a_lo && out[k].a <= wide.a_hi);
            if (sol.kind == QUAD_NO_ROOT) {
                assert_true(out[k].c >= 1 && out[k].c <= 4500);
                beyond += out[k].c > p->c_hi;
            } else {
                for (int i = 0; i < 2; i++) assert_true(llabs(sol.num[i]) <= 30);
                beyond += llabs(sol.num[0]) > 20 || llabs(sol.num[1]) > 20;
            }
        }
    }
    assert_true(beyond > 300 * B / 4);  /* most draws lie outside the small preset */
    train_stream_free(s4);
    train_stream_free(s);
    train_stream_free(s2);
    train_stream_free(s3);
    for (size_t t = 0; t < n_test; t++) free(test[t]);
    free(test);
    free(eqs);
    free(is_test);
}

/* ---- data.stepwise --------------------------------------------------------------- */

static void expect_worked(int64_t a, int64_t b, int64_t c, unsigned show, const char *want)
{
    quad_eq e = {a, b, c};
    char buf[QUAD_TARGET_MAX];
    as_err err;
    int n = quad_format_target_worked(&e, show, buf, sizeof buf, &err);
    if (n < 0) fail_msg("%s", err.msg);
    if (strcmp(buf, want)) fail_msg("show %u:\n  got  %s\n  want %s", show, buf, want);
    assert_int_equal((size_t)n, strlen(want));
}

static void test_worked_targets(void **state)
{
    (void)state;
    const unsigned both = QUAD_SHOW_B2 | QUAD_SHOW_4AC;
    expect_worked(7, 3556, 451612, both,
                  "D=(3556^2-4*7*451612)=(12645136-12645136)=0;x=(-3556-0)/(2*7)=-254;"
                  "x=(-3556+0)/(2*7)=-254;x=-254;x=-254;");
    expect_worked(7, 3556, 451612, QUAD_SHOW_B2,
                  "D=(3556^2-4*7*451612)=(12645136-4*7*451612)=0;x=(-3556-0)/(2*7)=-254;"
                  "x=(-3556+0)/(2*7)=-254;x=-254;x=-254;");
    expect_worked(7, 3556, 451612, QUAD_SHOW_4AC,
                  "D=(3556^2-4*7*451612)=(3556^2-12645136)=0;x=(-3556-0)/(2*7)=-254;"
                  "x=(-3556+0)/(2*7)=-254;x=-254;x=-254;");
    expect_worked(7, 3556, 451612, 0,
                  "D=(3556^2-4*7*451612)=0;x=(-3556-0)/(2*7)=-254;x=(-3556+0)/(2*7)=-254;"
                  "x=-254;x=-254;");
    expect_worked(1, -5, 6, both, "D=((-5)^2-4*1*6)=(25-24)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;"
                                  "x=2;x=3;");
    expect_worked(1, -5, 6, QUAD_SHOW_4AC, "D=((-5)^2-4*1*6)=((-5)^2-24)=1;x=(5-1)/(2*1)=2;"
                                           "x=(5+1)/(2*1)=3;x=2;x=3;");
    /* a negative c: 4ac is written as P(4ac), the spec's P */
    expect_worked(2, 0, -8, both, "D=(0^2-4*2*(-8))=(0-(-64))=64;x=(0-8)/(2*2)=-2;"
                                  "x=(0+8)/(2*2)=2;x=-2;x=2;");
    expect_worked(2, 0, -8, QUAD_SHOW_B2, "D=(0^2-4*2*(-8))=(0-4*2*(-8))=64;x=(0-8)/(2*2)=-2;"
                                          "x=(0+8)/(2*2)=2;x=-2;x=2;");
    expect_worked(3, 2, 5, both, "D=(2^2-4*3*5)=(4-60)=-56;D<0;");
    /* show 0 is the spec's target byte for byte */
    quad_eq e = {9, -5400, 810000};
    char a[QUAD_TARGET_MAX], b[QUAD_TARGET_MAX];
    as_err err;
    quad_format_target(&e, a, sizeof a, &err);
    quad_format_target_worked(&e, 0, b, sizeof b, &err);
    assert_string_equal(a, b);
    /* too small a buffer is an error, not a truncated target */
    assert_int_equal(quad_format_target_worked(&e, both, b, 20, &err), -1);
}

static void test_stages(void **state)
{
    (void)state;
    train_stepwise w = {3, {0, 4000, 8000}, QUAD_SHOW_4AC};
    assert_int_equal(train_stage_at(&w, 0), 0);
    assert_int_equal(train_stage_at(&w, 3999), 0);
    assert_int_equal(train_stage_at(&w, 4000), 1);
    assert_int_equal(train_stage_at(&w, 7999), 1);
    assert_int_equal(train_stage_at(&w, 8000), 2);
    assert_int_equal(train_stage_at(&w, 100000), 2);
    assert_int_equal(train_stage_show(&w, 0), QUAD_SHOW_B2 | QUAD_SHOW_4AC);
    assert_int_equal(train_stage_show(&w, 1), QUAD_SHOW_B2);  /* 4ac removed first */
    assert_int_equal(train_stage_show(&w, 2), 0);
    w.drop_first = QUAD_SHOW_B2;
    assert_int_equal(train_stage_show(&w, 1), QUAD_SHOW_4AC);
    train_stepwise two = {2, {0, 500}, QUAD_SHOW_4AC};
    assert_int_equal(train_stage_show(&two, train_stage_at(&two, 499)), QUAD_SHOW_B2 | QUAD_SHOW_4AC);
    assert_int_equal(train_stage_show(&two, train_stage_at(&two, 500)), 0);
    train_stepwise off = {0, {0}, 0};
    assert_int_equal(train_stage_at(&off, 123), 0);
    assert_int_equal(train_stage_show(&off, 0), 0);
}

/* ---- the presets' bounds ------------------------------------------------------------ */

static void test_preset_bounds(void **state)
{
    (void)state;
    const char *names[2] = {"seed", "small"};
    for (int k = 0; k < 2; k++) {
        const quad_preset *p = quad_preset_find(names[k]);
        size_t bs, bt, bx, ms = 0, mt = 0, mx = 0;
        quad_preset_bounds(p, &bs, &bt, &bx);
        const size_t n = 100000;
        quad_eq *eqs = malloc(n * sizeof *eqs);
        quad_generate(p, n, 11, eqs);
        char src[QUAD_SOURCE_MAX], t0[QUAD_TARGET_MAX], tw[QUAD_TARGET_MAX];
        as_err err;
        for (size_t i = 0; i < n; i++) {
            size_t ls = (size_t)quad_format_source(&eqs[i], src, sizeof src);
            size_t lt = (size_t)quad_format_target(&eqs[i], t0, sizeof t0, &err);
            for (unsigned show = 1; show <= 3; show++) {
                size_t lw = (size_t)quad_format_target_worked(&eqs[i], show, tw, sizeof tw, &err);
                if (lw - lt > mx) mx = lw - lt;
            }
            if (ls > ms) ms = ls;
            if (lt > mt) mt = lt;
        }
        if (!(ms <= bs && bs <= ms + 4)) fail_msg("%s source: bound %zu, longest %zu", names[k], bs, ms);
        if (!(mt <= bt && bt <= mt + 16)) fail_msg("%s target: bound %zu, longest %zu", names[k], bt, mt);
        if (!(mx <= bx && bx <= mx + 8)) fail_msg("%s worked: bound %zu, longest %zu", names[k], bx, mx);
        free(eqs);
    }
}


/* ---- the speed of a run --------------------------------------------------------- */

static void test_proc_stat(void **state)
{
    (void)state;
    unsigned long long steal, total;
    assert_int_equal(train_parse_proc_stat("cpu  399404 0 23908 29215 712 0 452 3849 0 0\n",
                                           &steal, &total),
                     0);
    assert_int_equal(steal, 3849);
    assert_int_equal(total, 399404ULL + 23908 + 29215 + 712 + 452 + 3849);
    /* an old kernel without steal */
    assert_int_equal(train_parse_proc_stat("cpu 10 20 30 40\n", &steal, &total), 0);
    assert_int_equal(steal, 0);
    assert_int_equal(total, 100);
    assert_int_equal(train_parse_proc_stat("cpu0 1 2 3 4\n", &steal, &total), -1);
    assert_int_equal(train_parse_proc_stat("cpu 1 2\n", &steal, &total), -1);
    /* the running machine's file parses */
    FILE *f = fopen("/proc/stat", "r");
    if (f) {
        char line[512];
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        assert_int_equal(train_parse_proc_stat(line, &steal, &total), 0);
        assert_true(total > 0 && steal <= total);
    }
}

static void test_speed_averages(void **state)
{
    (void)state;
    train_speed s;
    train_speed_begin(&s, 2, 0.0);
    s.have_stat = 0;  /* the machine's ticks are not this test's business */
    /* 5 steps of 0.08 s wall, 0.08 s CPU (one core of the two), 800 tokens */
    for (int i = 0; i < 5; i++) train_speed_add(&s, 0.08, 0.08, 800, 0.08 * (i + 1));
    assert_true(fabs(train_speed_tps(&s, 0) - 10000) < 1e-6);
    assert_true(fabs(train_speed_tpcs(&s, 0) - 10000) < 1e-6);
    assert_true(fabs(train_speed_share(&s, 0) - 0.5) < 1e-12);
    assert_true(train_speed_steal(&s, 0) == 0);
    /* 0.4 s of steps: not yet enough to judge, except at the last step */
    assert_int_equal(train_speed_should_warn(&s, 0), 0);
    assert_int_equal(train_speed_should_warn(&s, 1), 1);
    assert_int_equal(train_speed_should_warn(&s, 1), 0);  /* once */
    /* a session after --resume: the run's averages include the earlier one */
    train_speed r;
    train_speed_begin(&r, 2, 0.0);
    r.have_stat = 0;
    r.base_steps = 10;
    r.base_tokens = 30000;
    r.base_wall = 1.0;
    r.base_cpu = 2.0;
    r.base_asked = 2.0;
    r.base_steal = 5;
    r.base_total = 100;
    for (int i = 0; i < 20; i++) train_speed_add(&r, 0.1, 0.2, 1000, 0.1 * (i + 1));
    assert_true(fabs(train_speed_tps(&r, 0) - 10000) < 1e-6);
    assert_true(fabs(train_speed_tps(&r, 1) - 50000.0 / 3.0) < 1e-6);
    assert_true(fabs(train_speed_tpcs(&r, 1) - 50000.0 / 6.0) < 1e-6);
    assert_true(fabs(train_speed_share(&r, 1) - 1.0) < 1e-12);
    assert_true(fabs(train_speed_steal(&r, 1) - 0.05) < 1e-12);
    /* all the cores: no warning, however long */
    assert_int_equal(train_speed_should_warn(&r, 1), 0);
    assert_true(TRAIN_LOW_SHARE == 0.75);
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
    assert_int_equal(read_cfg("data = { preset = \"seed\"; stream = true;\n"
                              " stepwise = { stages = [0, 400, 900]; drop_first = \"b2\"; }; };\n",
                              &s, &err, dir),
                     0);
    assert_int_equal(s.stream, 1);
    assert_int_equal(s.stepwise.n, 3);
    assert_int_equal(s.stepwise.start[1], 400);
    assert_int_equal(s.stepwise.start[2], 900);
    assert_int_equal(s.stepwise.drop_first, QUAD_SHOW_B2);
    train_settings_free(&s);
    assert_int_equal(read_cfg("data = { stream = false; stepwise = { stages = [0, 10]; }; };\n",
                              &s, &err, dir),
                     0);
    assert_int_equal(s.stream, 0);
    assert_int_equal(s.stepwise.drop_first, QUAD_SHOW_4AC);
    train_settings_free(&s);
    /* data.stream_range: wider ranges for the stream, each [lo, hi] */
    assert_int_equal(read_cfg("data = { preset = \"small\"; stream = true;\n"
                              " stream_range = { roots = [-30, 30]; c = [1, 4500]; }; };\n",
                              &s, &err, dir),
                     0);
    assert_int_equal(s.have_stream_range, 1);
    assert_true(s.stream_range.r_lo == -30 && s.stream_range.r_hi == 30);
    assert_true(s.stream_range.c_lo == 1 && s.stream_range.c_hi == 4500);
    assert_true(s.stream_range.a_lo == 1 && s.stream_range.a_hi == 5);      /* the preset's */
    assert_true(s.stream_range.b_lo == -200 && s.stream_range.b_hi == 200);
    train_settings_free(&s);
    expect_error("data = { preset = \"small\";\n stream_range = { a = [1, 9]; }; };\n",
                 "t.cfg:3: data.stream_range widens data.stream: set stream = true", dir);
    expect_error("data = { preset = \"small\"; stream = true; stream_range = {\n"
                 " roots = [-10, 30]; }; };\n",
                 "t.cfg:3: data.stream_range.roots = [-10, 30] must contain the small preset's "
                 "-20..20 and lie within -300..300",
                 dir);
    expect_error("data = { preset = \"small\"; stream = true; stream_range = { a = [1, 10]; }; };\n",
                 "data.stream_range.a = [1, 10] must contain the small preset's 1..5 and lie "
                 "within 1..9",
                 dir);
    expect_error("data = { preset = \"small\"; stream = true; stream_range = { b = [9, 1]; }; };\n",
                 "data.stream_range.b = [9, 1] must contain", dir);
    expect_error("data = { preset = \"small\"; stream = true; stream_range = { a = [1]; }; };\n",
                 "data.stream_range.a: give [lo, hi], two integers", dir);
    expect_error("data = { preset = \"small\"; stream = true; stream_range = { a = 5; }; };\n",
                 "data.stream_range.a must be a list of integers", dir);
    expect_error("data = { preset = \"small\"; stream = true; stream_range = { d = [1, 2]; }; };\n",
                 "unknown key 'data.stream_range.d'", dir);
    tu_write_file("/tmp/attnscope-traindata-x.tsv", "1x^2-5x+6=0\tD\n", 14);
    expect_error("data = { train = \"/tmp/attnscope-traindata-x.tsv\";\n"
                 " test = \"/tmp/attnscope-traindata-x.tsv\";\n stream = true; };\n",
                 "t.cfg:4: data.stream draws fresh equations from a preset", dir);
    remove("/tmp/attnscope-traindata-x.tsv");
    expect_error("data = { stepwise = {\n stages = [0]; }; };\n",
                 "t.cfg:3: data.stepwise.stages: give the first step of each stage, 2 or 3", dir);
    expect_error("data = { stepwise = { stages = [0, 1, 2, 3]; }; };\n", "2 or 3 of them", dir);
    expect_error("data = { stepwise = { }; };\n", "data.stepwise.stages: give", dir);
    expect_error("data = { stepwise = { stages = [10, 20]; }; };\n",
                 "data.stepwise.stages: entry 1 is 10; the stages start at 0", dir);
    expect_error("data = { stepwise = { stages = [0, 20, 20]; }; };\n",
                 "entry 3 is 20; the stages start at 0 and increase strictly", dir);
    expect_error("data = { stepwise = { stages = [0.5, 1.0]; }; };\n",
                 "data.stepwise.stages must be a list of integers", dir);
    expect_error("data = { stepwise = { stages = [0, 5]; drop_first = \"c\"; }; };\n",
                 "data.stepwise.drop_first must be \"4ac\" or \"b2\" (got \"c\")", dir);
    expect_error("data = { stream = 1; };\n", "data.stream must be true or false", dir);
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
        cmocka_unit_test(test_stream_excludes_test_split),
        cmocka_unit_test(test_worked_targets),
        cmocka_unit_test(test_stages),
        cmocka_unit_test(test_preset_bounds),
        cmocka_unit_test(test_settings_data_keys),
        cmocka_unit_test(test_proc_stat),
        cmocka_unit_test(test_speed_averages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
