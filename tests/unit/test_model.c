/* test_model.c - the configuration checks, the parameter table (HF names,
 * shapes, order, offsets), allocation and random initialisation. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "t5.h"

static t5_config small_cfg(t5_ff_kind ff, int tied)
{
    return tu_config((tu_shape){.vocab = 20, .d_model = 8, .d_kv = 3, .d_ff = 10, .heads = 2,
                                .enc_layers = 2, .dec_layers = 3, .buckets = 6, .max_distance = 9,
                                .ff = ff, .untied = !tied});
}

static void test_default_is_valid(void **state)
{
    (void)state;
    t5_config c;
    as_err err = {0};
    t5_config_default(&c);
    assert_int_equal(t5_config_check(&c, &err), 0);
    assert_int_equal(c.vocab_size, 384);
    assert_int_equal(c.rel_buckets, 32);
    assert_int_equal(c.rel_max_distance, 128);
    assert_true(c.tie_word_embeddings);
    assert_int_equal(c.ff, T5_FF_RELU);
}

static void expect_bad(t5_config c, const char *key)
{
    as_err err = {0};
    assert_int_equal(t5_config_check(&c, &err), -1);
    if (!strstr(err.msg, key)) fail_msg("message '%s' does not name %s", err.msg, key);
}

static void test_check_rejects(void **state)
{
    (void)state;
    t5_config c = small_cfg(T5_FF_RELU, 1), b;
    b = c; b.num_heads = 0; expect_bad(b, "num_heads");
    b = c; b.d_model = 0; expect_bad(b, "d_model");
    b = c; b.d_kv = 0; expect_bad(b, "d_kv");
    b = c; b.d_ff = 0; expect_bad(b, "d_ff");
    b = c; b.vocab_size = 0; expect_bad(b, "vocab_size");
    b = c; b.num_layers = 0; expect_bad(b, "num_layers");
    b = c; b.num_decoder_layers = 0; expect_bad(b, "num_decoder_layers");
    b = c; b.d_model = (size_t)-3; expect_bad(b, "d_model");
    b = c; b.rel_buckets = 1; expect_bad(b, "relative_attention_num_buckets");
    b = c; b.rel_max_distance = 3; expect_bad(b, "relative_attention_max_distance");
    b = c; b.layer_norm_eps = 0; expect_bad(b, "layer_norm_epsilon");
    b = c; b.eos_token_id = 20; expect_bad(b, "eos_token_id");
    b = c; b.pad_token_id = -1; expect_bad(b, "pad_token_id");
    b = c; b.decoder_start_token_id = 99; expect_bad(b, "decoder_start_token_id");
}

static void test_table_relu_tied(void **state)
{
    (void)state;
    t5_config c = small_cfg(T5_FF_RELU, 1);
    size_t n = 0, np = 0;
    t5_tensor *t = t5_param_table(&c, &n, &np);
    /* shared + enc (4 + 1 + 3 each, +1 rel in block 0) + final
     * + dec (4 + 1 + 4 + 1 + 3 each, +1 rel) + final */
    assert_int_equal(n, 1 + (2 * 8 + 1) + 1 + (3 * 13 + 1) + 1);
    assert_string_equal(t[0].name, "shared.weight");
    assert_int_equal(t[0].shape[0], 20);
    assert_int_equal(t[0].shape[1], 8);
    assert_string_equal(t[1].name, "encoder.block.0.layer.0.SelfAttention.q.weight");
    assert_int_equal(t[1].shape[0], 6);
    assert_int_equal(t[1].shape[1], 8);
    assert_string_equal(t[4].name, "encoder.block.0.layer.0.SelfAttention.o.weight");
    assert_int_equal(t[4].shape[0], 8);
    assert_int_equal(t[4].shape[1], 6);
    assert_string_equal(t[5].name,
                        "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    assert_int_equal(t[5].shape[0], 6);
    assert_int_equal(t[5].shape[1], 2);
    assert_string_equal(t[6].name, "encoder.block.0.layer.0.layer_norm.weight");
    assert_int_equal(t[6].ndim, 1);
    assert_string_equal(t[7].name, "encoder.block.0.layer.1.DenseReluDense.wi.weight");
    assert_int_equal(t[7].shape[0], 10);
    assert_string_equal(t[8].name, "encoder.block.0.layer.1.DenseReluDense.wo.weight");
    assert_int_equal(t[8].shape[1], 10);
    assert_string_equal(t[9].name, "encoder.block.0.layer.1.layer_norm.weight");
    assert_string_equal(t[10].name, "encoder.block.1.layer.0.SelfAttention.q.weight");
    assert_string_equal(t[14].name, "encoder.block.1.layer.0.layer_norm.weight");
    assert_string_equal(t[18].name, "encoder.final_layer_norm.weight");
    assert_string_equal(t[19].name, "decoder.block.0.layer.0.SelfAttention.q.weight");
    assert_string_equal(t[23].name,
                        "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    assert_string_equal(t[25].name, "decoder.block.0.layer.1.EncDecAttention.q.weight");
    assert_string_equal(t[29].name, "decoder.block.0.layer.1.layer_norm.weight");
    assert_string_equal(t[30].name, "decoder.block.0.layer.2.DenseReluDense.wi.weight");
    assert_string_equal(t[32].name, "decoder.block.0.layer.2.layer_norm.weight");
    assert_string_equal(t[n - 1].name, "decoder.final_layer_norm.weight");
    /* offsets are contiguous and add up */
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(t[i].offset, off);
        assert_int_equal(t[i].numel, t[i].ndim == 2 ? t[i].shape[0] * t[i].shape[1] : t[i].shape[0]);
        off += t[i].numel;
    }
    assert_int_equal(off, np);
    size_t attn = 4 * 6 * 8, ff = 2 * 10 * 8, rel = 6 * 2;
    assert_int_equal(np, 20 * 8 + 2 * (attn + 8 + ff + 8) + rel + 8 +
                             3 * (2 * attn + 3 * 8 + ff) + rel + 8);
    free(t);
}

static void test_table_gated_untied(void **state)
{
    (void)state;
    t5_config c = small_cfg(T5_FF_GATED_GELU, 0);
    size_t n = 0, np = 0;
    t5_tensor *t = t5_param_table(&c, &n, &np);
    assert_string_equal(t[7].name, "encoder.block.0.layer.1.DenseReluDense.wi_0.weight");
    assert_string_equal(t[8].name, "encoder.block.0.layer.1.DenseReluDense.wi_1.weight");
    assert_string_equal(t[9].name, "encoder.block.0.layer.1.DenseReluDense.wo.weight");
    assert_string_equal(t[n - 1].name, "lm_head.weight");
    assert_int_equal(t[n - 1].shape[0], 20);
    assert_int_equal(t[n - 1].shape[1], 8);
    assert_string_equal(t[n - 2].name, "decoder.final_layer_norm.weight");
    assert_int_equal(t[n - 1].offset + t[n - 1].numel, np);
    free(t);
}

static void test_alloc_pointers(void **state)
{
    (void)state;
    t5_config c = small_cfg(T5_FF_GATED_GELU, 0);
    t5_model m;
    as_err err = {0};
    assert_int_equal(t5_alloc(&m, &c, &err), 0);
    assert_non_null(m.params);
    assert_ptr_equal(m.w.shared, m.params);
    const t5_tensor *t = t5_find_tensor(&m, "decoder.block.2.layer.1.EncDecAttention.v.weight");
    assert_non_null(t);
    assert_ptr_equal(m.w.dec[2].cv, m.params + t->offset);
    assert_null(t5_find_tensor(&m, "encoder.block.0.layer.1.DenseReluDense.wi.weight"));
    assert_null(m.w.enc[0].wi);
    assert_non_null(m.w.enc[0].wi0);
    assert_non_null(m.w.enc[0].rel_bias);
    assert_null(m.w.enc[1].rel_bias);
    assert_null(m.w.enc[1].cq);
    assert_non_null(m.w.dec[0].rel_bias);
    assert_null(m.w.dec[1].rel_bias);
    assert_non_null(m.w.dec[1].ln_cross);
    assert_non_null(m.w.lm_head);
    assert_ptr_equal(m.w.lm_head + c.vocab_size * c.d_model, m.params + m.n_params);
    for (size_t i = 0; i < m.n_params; i++) assert_true(m.params[i] == 0.0f);
    t5_free(&m);

    c.num_heads = 0;
    assert_int_equal(t5_alloc(&m, &c, &err), -1);
    assert_non_null(strstr(err.msg, "num_heads"));
}

static double sample_std(const float *p, size_t n)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) s += p[i], s2 += (double)p[i] * p[i];
    double mean = s / n;
    return sqrt(s2 / n - mean * mean);
}

static void test_init_random(void **state)
{
    (void)state;
    t5_config c;
    t5_config_default(&c);
    c.ff = T5_FF_GATED_GELU;
    c.tie_word_embeddings = 0;
    t5_model m, m2;
    as_err err = {0};
    assert_int_equal(t5_alloc(&m, &c, &err), 0);
    assert_int_equal(t5_alloc(&m2, &c, &err), 0);
    t5_init_random(&m, 42);
    t5_init_random(&m2, 42);
    assert_memory_equal(m.params, m2.params, m.n_params * sizeof(float));
    for (size_t i = 0; i < c.d_model; i++) assert_true(m.w.enc[1].ln_self[i] == 1.0f);
    for (size_t i = 0; i < c.d_model; i++) assert_true(m.w.dec_final_ln[i] == 1.0f);
    size_t C = c.d_model, inner = c.num_heads * c.d_kv;
    struct { const float *p; size_t n; double std; } want[] = {
        {m.w.shared, c.vocab_size * C, 1.0},
        {m.w.lm_head, c.vocab_size * C, 1.0},
        {m.w.enc[0].q, inner * C, 1.0 / sqrt((double)C * c.d_kv)},
        {m.w.enc[0].k, inner * C, 1.0 / sqrt((double)C)},
        {m.w.dec[1].cv, inner * C, 1.0 / sqrt((double)C)},
        {m.w.dec[2].co, inner * C, 1.0 / sqrt((double)inner)},
        {m.w.dec[0].wi1, c.d_ff * C, 1.0 / sqrt((double)C)},
        {m.w.enc[2].wo, c.d_ff * C, 1.0 / sqrt((double)c.d_ff)},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        double s = sample_std(want[i].p, want[i].n);
        if (fabs(s / want[i].std - 1.0) > 0.05)
            fail_msg("tensor %zu: std %g, expected %g", i, s, want[i].std);
    }
    t5_init_random(&m2, 43);
    assert_true(memcmp(m.params, m2.params, m.n_params * sizeof(float)) != 0);
    t5_free(&m);
    t5_free(&m2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_valid),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_table_relu_tied),
        cmocka_unit_test(test_table_gated_untied),
        cmocka_unit_test(test_alloc_pointers),
        cmocka_unit_test(test_init_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
