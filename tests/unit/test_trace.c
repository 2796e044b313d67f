/* test_trace.c - the attention trace: the capture hook's placement of rows
 * and columns, capacities, the accessor, token and step bookkeeping, and
 * trace_run's greedy and teacher-forced runs on a small random model
 * (numbers against the reference are in test_t5.c). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "t5.h"
#include "trace.h"

static void small_model(t5_model *m)
{
    t5_config c = tu_config((tu_shape){.d_model = 16, .d_kv = 4, .d_ff = 24, .heads = 2,
                                       .enc_layers = 2, .dec_layers = 3, .buckets = 8,
                                       .max_distance = 16});
    tu_model(m, &c, 7);
}

static void test_hook_places_rows(void **state)
{
    (void)state;
    t5_model m;
    small_model(&m);
    attn_trace *t = trace_new(&m, 3, 4);
    assert_int_equal(t->n_heads, 2);
    assert_int_equal(t->n_enc_layers, 2);
    assert_int_equal(t->n_dec_layers, 3);
    /* A decoder event for rows 2..3 (keys 0..3), head-major probs. */
    float p[2 * 2 * 4];
    for (size_t i = 0; i < 16; i++) p[i] = (float)(i + 1);
    t5_attn_event ev = {T5_ATTN_DEC_SELF, 1, 2, 2, 4, 2, p};
    trace_hook(t, &ev);
    assert_int_equal(t->n_rows, 4);
    size_t rows, cols, stride;
    const float *map = trace_map(t, T5_ATTN_DEC_SELF, 1, 1, &rows, &cols, &stride);
    assert_non_null(map);
    assert_int_equal(rows, 4);
    assert_int_equal(cols, 4);
    assert_int_equal(stride, 4);
    /* head 1, query row 0 of the event = trace row 2 */
    for (size_t j = 0; j < 4; j++) assert_true(map[2 * stride + j] == p[8 + j]);
    for (size_t j = 0; j < 4; j++) assert_true(map[3 * stride + j] == p[12 + j]);
    /* A shorter decoder row clears the rest of a stale row. */
    float q[2 * 1 * 2] = {0.25f, 0.75f, 0.5f, 0.5f};
    t5_attn_event ev2 = {T5_ATTN_DEC_SELF, 1, 2, 1, 2, 1, q};
    trace_hook(t, &ev2);
    map = trace_map(t, T5_ATTN_DEC_SELF, 1, 0, &rows, &cols, &stride);
    assert_true(map[1 * stride + 0] == 0.25f && map[1 * stride + 1] == 0.75f);
    assert_true(map[1 * stride + 2] == 0.0f && map[1 * stride + 3] == 0.0f);
    /* Rows and columns past the capacity are dropped, not written. */
    float big[2 * 3 * 5];
    for (size_t i = 0; i < 30; i++) big[i] = 1.0f;
    t5_attn_event ev3 = {T5_ATTN_CROSS, 2, 2, 3, 5, 2, big};
    trace_hook(t, &ev3);
    assert_int_equal(t->n_rows, 4);
    t5_attn_event ev4 = {T5_ATTN_ENC_SELF, 5, 2, 3, 3, 0, big}; /* no such layer */
    trace_hook(t, &ev4);
    /* The accessor refuses what does not exist. */
    assert_null(trace_map(t, T5_ATTN_ENC_SELF, 2, 0, &rows, &cols, &stride));
    assert_null(trace_map(t, T5_ATTN_CROSS, 0, 2, &rows, &cols, &stride));
    trace_clear(t);
    assert_int_equal(t->n_rows, 0);
    assert_int_equal(t->n_tgt, 0);
    map = trace_map(t, T5_ATTN_DEC_SELF, 1, 1, &rows, &cols, &stride);
    assert_int_equal(rows, 0);
    assert_true(map[2 * stride] == 0.0f);
    trace_free(t);
    t5_free(&m);
}

static void test_tokens_and_steps(void **state)
{
    (void)state;
    t5_model m;
    small_model(&m);
    attn_trace *t = trace_new(&m, 4, 3);
    int src[6] = {5, 6, 7, 8, 9, 10};
    trace_set_src(t, src, 6); /* truncated to the capacity */
    assert_int_equal(t->n_src, 4);
    trace_push_tgt(t, 0, 0);
    trace_push_tgt(t, 40, 0);
    trace_push_tgt(t, 41, 1);
    trace_push_tgt(t, 42, 2); /* past the capacity: dropped */
    assert_int_equal(t->n_tgt, 3);
    assert_int_equal(t->tgt[2], 41);
    assert_int_equal(t->row_step[0], 0);
    assert_int_equal(t->row_step[1], 1);
    trace_free(t);
    t5_free(&m);
}

static void check_rows_are_distributions(const attn_trace *t)
{
    for (int kind = 0; kind < 3; kind++) {
        size_t L = kind == T5_ATTN_ENC_SELF ? t->n_enc_layers : t->n_dec_layers;
        for (size_t l = 0; l < L; l++)
            for (size_t h = 0; h < t->n_heads; h++) {
                size_t rows, cols, stride;
                const float *map = trace_map(t, (t5_attn_kind)kind, l, h, &rows, &cols, &stride);
                assert_non_null(map);
                for (size_t i = 0; i < rows; i++) {
                    double sum = 0;
                    for (size_t j = 0; j < cols; j++) {
                        sum += map[i * stride + j];
                        if (kind == T5_ATTN_DEC_SELF && j > i)
                            assert_true(map[i * stride + j] == 0.0f);
                    }
                    assert_true(fabs(sum - 1.0) < 1e-5);
                }
            }
    }
}

static void test_trace_run(void **state)
{
    (void)state;
    t5_model m;
    small_model(&m);
    as_err err;
    t5_run *r = t5_run_new(&m, 8, 10);
    attn_trace *t = trace_new(&m, 8, 11);
    int src[5] = {50, 60, 70, 80, 1};
    /* Greedy, 10 tokens at most. */
    long n = trace_run(t, r, src, 5, NULL, 0, 10, &err);
    if (n < 0) fail_msg("%s", err.msg);
    assert_true(n >= 1 && n <= 10);
    assert_int_equal(t->n_src, 5);
    assert_int_equal(t->n_tgt, (size_t)n + 1);
    assert_int_equal(t->n_rows, (size_t)n);
    for (long i = 0; i < n; i++) assert_int_equal(t->row_step[i], (int)i);
    check_rows_are_distributions(t);
    /* The same tokens as t5_greedy. */
    int out[10];
    long n2 = t5_greedy(r, src, 5, out, 10, &err);
    assert_int_equal(n2, n);
    for (long i = 0; i < n; i++) assert_int_equal(out[i], t->tgt[i + 1]);
    /* Teacher forced, shorter, on the same trace: rows = target length. */
    int target[3] = {20, 21, 1};
    n = trace_run(t, r, src, 4, target, 3, 0, &err);
    assert_int_equal(n, 3);
    assert_int_equal(t->n_rows, 3);
    assert_int_equal(t->n_src, 4);
    assert_int_equal(t->tgt[0], m.cfg.decoder_start_token_id);
    assert_int_equal(t->tgt[3], 1);
    for (size_t i = 0; i < 3; i++) assert_int_equal(t->row_step[i], 0);
    check_rows_are_distributions(t);
    /* The run's hook is left as it was (none). */
    t5_hook_fn fn;
    t5_run_get_hook(r, &fn, NULL);
    assert_null(fn);
    /* Errors: too long for the trace, a model of another shape. */
    assert_int_equal(trace_run(t, r, src, 5, NULL, 0, 11, &err), -1);
    assert_non_null(strstr(err.msg, "fit"));
    attn_trace *small = trace_new(&m, 2, 11);
    assert_int_equal(trace_run(small, r, src, 5, NULL, 0, 3, &err), -1);
    trace_free(small);
    t5_model m2;
    t5_config c2 = m.cfg;
    c2.num_heads = 3;
    if (t5_alloc(&m2, &c2, &err)) fail_msg("%s", err.msg);
    attn_trace *other = trace_new(&m2, 8, 11);
    assert_int_equal(trace_run(other, r, src, 5, NULL, 0, 3, &err), -1);
    assert_non_null(strstr(err.msg, "different model"));
    trace_free(other);
    t5_free(&m2);
    /* A bad token is reported and the trace left empty. */
    int bad[2] = {5, 9999};
    assert_int_equal(trace_run(t, r, bad, 2, NULL, 0, 3, &err), -1);
    assert_int_equal(t->n_rows, 0);
    trace_free(t);
    t5_run_free(r);
    t5_free(&m);
}

/* Layers and heads: the 0-based index and its range, so that neither is
   read as a count ("layer 0 of 3" was). */
static void test_index_text(void **state)
{
    (void)state;
    char b[40];
    assert_string_equal(trace_index_text("layer", 1, 3, b, sizeof b), "layer 1 (0-2)");
    assert_string_equal(trace_index_text("head", 3, 4, b, sizeof b), "head 3 (0-3)");
    assert_string_equal(trace_index_text("L", 0, 3, b, sizeof b), "L0 (0-2)");
    assert_string_equal(trace_index_text("layer", 0, 1, b, sizeof b), "layer 0 (0-0)");
    trace_index_text("layer", 10, 12, b, 6);
    assert_string_equal(b, "layer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_places_rows),
        cmocka_unit_test(test_tokens_and_steps),
        cmocka_unit_test(test_trace_run),
        cmocka_unit_test(test_index_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
