/* test_init_from.c - model.init_from (src/train/init_from.c):
 *  - a model of the same shape gets every weight of the folder's model;
 *  - a model with more layers computes exactly what the folder's model
 *    computes (the new layers are the identity): teacher-forced logits of
 *    both agree, and the new layers' input projections stay random;
 *  - shapes that cannot start the run are refused, saying what differs. */
#include "testutil.h"

#include "train.h"

static const tu_shape SMALL = {.vocab = 40, .d_model = 16, .d_kv = 4, .d_ff = 32, .heads = 4,
                               .enc_layers = 1, .dec_layers = 2, .buckets = 8,
                               .max_distance = 16};

/* Save a random model of shape s into a fresh folder dir (n bytes). */
static void saved_model(t5_model *m, tu_shape s, char *dir, size_t n)
{
    t5_config c = tu_config(s);
    tu_model(m, &c, 3);
    assert_int_equal(tu_tmpdir(dir, n, "init-from"), 0);
    as_err err = {{0}};
    if (t5_save(m, dir, &err)) fail_msg("%s", err.msg);
}

/* Teacher-forced logits of m on a fixed short example (caller frees). */
static float *logits(const t5_model *m, size_t *n)
{
    static const int src[] = {5, 6, 7, 8, 9, 1}, dec[] = {0, 11, 12, 13};
    size_t T = sizeof dec / sizeof dec[0];
    t5_run *run = t5_run_new(m, 6, T);
    float *out = malloc(T * m->cfg.vocab_size * sizeof *out);
    as_err err = {{0}};
    if (t5_teacher_forced(run, src, 6, dec, T, out, &err)) fail_msg("%s", err.msg);
    t5_run_free(run);
    *n = T * m->cfg.vocab_size;
    return out;
}

static void test_same_shape(void **state)
{
    (void)state;
    char dir[128];
    t5_model from, to;
    saved_model(&from, SMALL, dir, sizeof dir);
    t5_config c = tu_config(SMALL);
    tu_model(&to, &c, 99);
    as_err err = {{0}};
    if (train_init_from(&to, dir, NULL, &err)) fail_msg("%s", err.msg);
    assert_int_equal(to.n_params, from.n_params);
    assert_memory_equal(to.params, from.params, from.n_params * sizeof(float));
    t5_free(&from);
    t5_free(&to);
    tu_rm_rf(dir);
}

static int all_zero(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0.0f) return 0;
    return 1;
}

static void test_grown(void **state)
{
    (void)state;
    char dir[128];
    t5_model from, to;
    saved_model(&from, SMALL, dir, sizeof dir);
    tu_shape big = SMALL;
    big.enc_layers = 3;
    big.dec_layers = 3;
    t5_config c = tu_config(big);
    tu_model(&to, &c, 99);
    as_err err = {{0}};
    char note[256] = "";
    FILE *f = fmemopen(note, sizeof note, "w");
    if (train_init_from(&to, dir, f, &err)) fail_msg("%s", err.msg);
    fclose(f);
    assert_non_null(strstr(note, "(1+2 layers); 2+1 new layers start as the identity"));
    size_t n, n2;
    float *want = logits(&from, &n), *got = logits(&to, &n2);
    assert_int_equal(n, n2);
    assert_close_array(got, want, n, 1e-5, 1e-5);
    size_t out = c.d_model * c.num_heads * c.d_kv;
    assert_true(all_zero(to.w.enc[2].o, out));
    assert_true(all_zero(to.w.dec[2].co, out));
    assert_true(all_zero(to.w.dec[2].wo, c.d_model * c.d_ff));
    assert_false(all_zero(to.w.enc[2].q, out)); /* random: they learn once o does */
    assert_false(all_zero(to.w.dec[2].wi, c.d_model * c.d_ff));
    /* the old layers are the folder's */
    assert_memory_equal(to.w.dec[1].wo, from.w.dec[1].wo, c.d_model * c.d_ff * sizeof(float));
    free(want);
    free(got);
    t5_free(&from);
    t5_free(&to);
    tu_rm_rf(dir);
}

static void expect_refused(tu_shape s, const char *dir, const char *part)
{
    t5_config c = tu_config(s);
    t5_model to;
    tu_model(&to, &c, 99);
    as_err err = {{0}};
    assert_int_equal(train_init_from(&to, dir, NULL, &err), -1);
    if (!strstr(err.msg, part)) fail_msg("message '%s' lacks '%s'", err.msg, part);
    t5_free(&to);
}

static void test_refused(void **state)
{
    (void)state;
    char dir[128];
    t5_model from;
    saved_model(&from, SMALL, dir, sizeof dir);
    tu_shape s = SMALL;
    s.d_ff = 64;
    expect_refused(s, dir, "d_ff is 32 there and 64 here");
    s = SMALL;
    s.dec_layers = 1;
    expect_refused(s, dir, "it has 1+2 layers and this run 1+1 (layers may be added, not removed)");
    s = SMALL;
    s.untied = 1;
    expect_refused(s, dir, "tie_word_embeddings is 1 there and 0 here");
    s = SMALL;
    s.buckets = 16;
    expect_refused(s, dir, "relative_attention_num_buckets is 8 there and 16 here");
    expect_refused(SMALL, "/nonexistent-attnscope-model", "model.init_from");
    t5_free(&from);
    tu_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_shape),
        cmocka_unit_test(test_grown),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
