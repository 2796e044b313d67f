/* test_model_map.c - t5_load_mapped: an aligned F32 folder is used in
 * place (params NULL, weights inside the read-only mapping) and gives
 * bit-identical weights and outputs to t5_load; t5_save writes a mapped
 * model back unchanged; an F16 file falls back to one conversion into
 * params; errors leave the model freed; a sharded checkpoint loads from
 * its index and shards. */
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
        assert_int_equal(a.n_maps, 0);
        assert_null(b.params);
        assert_int_equal(b.n_maps, 1);
        /* Every weight pointer is inside the mapping. */
        const char *lo = b.maps[0].addr, *hi = lo + b.maps[0].len;
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
        assert_null(b.maps);
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
    assert_int_equal(b.n_maps, 0);
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
    assert_null(m.maps);
    assert_null(m.params);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    unlink(p);
}

/* A sharded checkpoint (model.safetensors.index.json and two shards, as
 * transformers writes for large models): the same weights, mapped from both
 * shards or copied; a shard the index names but the folder lacks, and a
 * path in the index, are errors naming the index. */
static void test_sharded_checkpoint(void **state)
{
    (void)state;
    t5_model a;
    as_err err = {{0}};
    if (t5_load(&a, FIXTURES "/untied-gated", &err)) fail_msg("%s", err.msg);
    char dir[] = "/tmp/attnscope_shard_XXXXXX";
    assert_non_null(mkdtemp(dir));
    if (t5_save(&a, dir, &err)) fail_msg("%s", err.msg);
    remove_file(dir, "model.safetensors");
    /* The first half of the table in one shard, the rest in the other. */
    size_t half = a.n_tensors / 2;
    st_out *o = calloc(a.n_tensors, sizeof *o);
    size_t len = 64 + a.n_tensors * 160;
    char *index = malloc(len);
    size_t k = (size_t)snprintf(index, len, "{\"metadata\": {\"total_size\": 1}, \"weight_map\": {");
    for (size_t i = 0; i < a.n_tensors; i++) {
        const t5_tensor *t = &a.tensors[i];
        o[i] = (st_out){.name = t->name, .dtype = ST_F32, .ndim = t->ndim,
                        .shape = {t->shape[0], t->shape[1]}, .data = t->data};
        k += (size_t)snprintf(index + k, len - k, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"",
                              i ? ", " : "", t->name, i < half ? 1 : 2);
    }
    snprintf(index + k, len - k, "}}\n");
    char p[300];
    snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
    if (st_write(p, o, half, NULL, &err)) fail_msg("%s", err.msg);
    snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
    if (st_write(p, o + half, a.n_tensors - half, NULL, &err)) fail_msg("%s", err.msg);
    write_text(dir, "model.safetensors.index.json", index);

    t5_model b, c;
    if (t5_load_mapped(&b, dir, &err)) fail_msg("%s", err.msg);
    assert_int_equal(b.n_maps, 2);
    assert_null(b.params);
    same_weights(&a, &b);
    if (t5_load(&c, dir, &err)) fail_msg("%s", err.msg);
    assert_non_null(c.params);
    same_weights(&a, &c);
    t5_free(&b);
    t5_free(&c);

    /* A missing shard. */
    snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
    char moved[320];
    snprintf(moved, sizeof moved, "%s.away", p);
    assert_int_equal(rename(p, moved), 0);
    assert_int_equal(t5_load_mapped(&b, dir, &err), -1);
    assert_non_null(strstr(err.msg, "model.safetensors.index.json names it"));
    assert_non_null(strstr(err.msg, "model-00002-of-00002.safetensors"));
    assert_int_equal(rename(moved, p), 0);
    /* A path instead of a file name. */
    write_text(dir, "model.safetensors.index.json",
               "{\"weight_map\": {\"shared.weight\": \"../model.safetensors\"}}");
    assert_int_equal(t5_load(&b, dir, &err), -1);
    assert_non_null(strstr(err.msg, "is not a file name in the folder"));
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\": [1]}");
    assert_int_equal(t5_load(&b, dir, &err), -1);
    assert_non_null(strstr(err.msg, "no \"weight_map\" object"));

    remove_file(dir, "model-00001-of-00002.safetensors");
    remove_file(dir, "model-00002-of-00002.safetensors");
    remove_file(dir, "model.safetensors.index.json");
    remove_file(dir, "config.json");
    rmdir(dir);
    free(o), free(index);
    t5_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapped_equals_copied),
        cmocka_unit_test(test_f16_falls_back_to_copy),
        cmocka_unit_test(test_mapped_errors),
        cmocka_unit_test(test_sharded_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
