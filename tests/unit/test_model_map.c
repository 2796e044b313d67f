/* test_model_map.c - t5_load_mapped: an aligned F32 folder is used in
 * place (params NULL, weights inside the read-only mapping) and gives
 * bit-identical weights and outputs to t5_load; t5_save writes a mapped
 * model back unchanged; an F16 file falls back to one conversion into
 * params; errors leave the model freed. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"
#include "t5.h"
#include "trace.h"

static void same_weights(const t5_model *a, const t5_model *b)
{
    assert_int_equal(a->n_tensors, b->n_tensors);
    for (size_t i = 0; i < a->n_tensors; i++) {
        assert_string_equal(a->tensors[i].name, b->tensors[i].name);
        assert_memory_equal(a->tensors[i].data, b->tensors[i].data,
                            a->tensors[i].numel * sizeof(float));
    }
}

static void test_mapped_equals_copied(void **state)
{
    (void)state;
    const char *names[] = {"tied-relu", "untied-gated", "spm-gated"};
    for (size_t f = 0; f < 3; f++) {
        char dir[256];
        snprintf(dir, sizeof dir, FIXTURES "/%s", names[f]);
        t5_model a, b;
        as_err err;
        if (t5_load(&a, dir, &err)) fail_msg("%s", err.msg);
        if (t5_load_mapped(&b, dir, &err)) fail_msg("%s", err.msg);
        assert_non_null(a.params);
        assert_null(a.map);
        assert_null(b.params);
        assert_non_null(b.map);
        /* Every weight pointer is inside the mapping. */
        const char *lo = b.map, *hi = lo + b.map_len;
        for (size_t i = 0; i < b.n_tensors; i++) {
            const char *p = (const char *)b.tensors[i].data;
            assert_true(p >= lo && p + b.tensors[i].numel * sizeof(float) <= hi);
        }
        assert_ptr_equal(b.w.shared, t5_find_tensor(&b, "shared.weight")->data);
        assert_ptr_equal(b.w.enc[0].q,
                         t5_find_tensor(&b, "encoder.block.0.layer.0.SelfAttention.q.weight")->data);
        same_weights(&a, &b);

        /* The same logits from both. */
        int src[] = {5, 9, 14, 3, 7, 1}, dec[] = {0, 4, 8, 11};
        size_t V = a.cfg.vocab_size;
        float *la = malloc(4 * V * sizeof *la), *lb = malloc(4 * V * sizeof *lb);
        t5_run *ra = t5_run_new(&a, 6, 4), *rb = t5_run_new(&b, 6, 4);
        assert_int_equal(t5_teacher_forced(ra, src, 6, dec, 4, la, &err), 0);
        assert_int_equal(t5_teacher_forced(rb, src, 6, dec, 4, lb, &err), 0);
        assert_memory_equal(la, lb, 4 * V * sizeof *la);
        t5_run_free(ra), t5_run_free(rb), free(la), free(lb);

        /* t5_save of the mapped model: the same weights again. */
        char out[] = "/tmp/attnscope_map_XXXXXX";
        assert_non_null(mkdtemp(out));
        if (t5_save(&b, out, &err)) fail_msg("%s", err.msg);
        t5_model c;
        if (t5_load(&c, out, &err)) fail_msg("%s", err.msg);
        same_weights(&a, &c);
        t5_free(&c);
        char p[300];
        snprintf(p, sizeof p, "%s/model.safetensors", out), unlink(p);
        snprintf(p, sizeof p, "%s/config.json", out), unlink(p);
        rmdir(out);
        t5_free(&a);
        t5_free(&b);
        assert_null(b.map);
    }
}

/* An F16 copy of a fixture: converted once into params. */
static void test_f16_falls_back_to_copy(void **state)
{
    (void)state;
    t5_model a;
    as_err err;
    if (t5_load(&a, FIXTURES "/tied-relu", &err)) fail_msg("%s", err.msg);
    char out[] = "/tmp/attnscope_map_XXXXXX";
    assert_non_null(mkdtemp(out));
    if (t5_save(&a, out, &err)) fail_msg("%s", err.msg);
    /* Rewrite model.safetensors as F16. */
    uint16_t *half = malloc(a.n_params * sizeof *half);
    st_out *o = calloc(a.n_tensors, sizeof *o);
    for (size_t i = 0; i < a.n_tensors; i++) {
        const t5_tensor *t = &a.tensors[i];
        for (size_t j = 0; j < t->numel; j++) {
            float x = t->data[j];
            uint32_t u;
            memcpy(&u, &x, 4);
            /* truncate to F16 via a simple conversion for normal values */
            int e = (int)((u >> 23) & 0xFF) - 127 + 15;
            uint16_t h = (uint16_t)((u >> 16) & 0x8000);
            if (e > 0 && e < 31) h |= (uint16_t)((e << 10) | ((u >> 13) & 0x3FF));
            half[t->offset + j] = h;
        }
        o[i] = (st_out){.name = t->name, .dtype = ST_F16, .ndim = t->ndim,
                        .shape = {t->shape[0], t->shape[1]}, .data = half + t->offset};
    }
    char p[300];
    snprintf(p, sizeof p, "%s/model.safetensors", out);
    if (st_write(p, o, a.n_tensors, NULL, &err)) fail_msg("%s", err.msg);
    t5_model b;
    if (t5_load_mapped(&b, out, &err)) fail_msg("%s", err.msg);
    assert_non_null(b.params);
    assert_null(b.map);
    assert_ptr_equal(b.tensors[0].data, b.params);
    t5_free(&b);
    unlink(p);
    snprintf(p, sizeof p, "%s/config.json", out), unlink(p);
    rmdir(out);
    free(half), free(o);
    t5_free(&a);
}

static void test_mapped_errors(void **state)
{
    (void)state;
    t5_model m;
    as_err err = {{0}};
    assert_int_equal(t5_load_mapped(&m, "/nonexistent/model", &err), -1);
    assert_non_null(strstr(err.msg, "does not exist"));
    assert_null(m.map);
    assert_null(m.params);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapped_equals_copied),
        cmocka_unit_test(test_f16_falls_back_to_copy),
        cmocka_unit_test(test_mapped_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
