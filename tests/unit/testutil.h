/* testutil.h - shared helpers for the cmocka unit tests: close-enough
 * arrays, temporary folders, writing small files, and reading the expected
 * tensors of a reference fixture (and checking attention maps against them),
 * and the one builder of a tiny random model. Everything is static inline
 * (or a macro): each test binary takes what it uses.
 *
 * Deliberately not here: the sizes of those models (each test picks the
 * sizes that exercise what it tests). */
#ifndef ATTNSCOPE_TESTUTIL_H
#define ATTNSCOPE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "t5.h"
#include "trace.h"

/* Fail with the index and both values when |a-b| > atol + rtol*|b|. */
#define assert_close_array(a, b, n, atol, rtol)                                          \
    do {                                                                                 \
        for (size_t i_ = 0; i_ < (size_t)(n); i_++) {                                    \
            double x_ = (a)[i_], y_ = (b)[i_];                                           \
            if (!(fabs(x_ - y_) <= (atol) + (rtol) * fabs(y_))) {                        \
                fail_msg("%s[%zu] = %.8g, expected %s[%zu] = %.8g", #a, i_, x_, #b, i_, y_); \
            }                                                                            \
        }                                                                                \
    } while (0)

/* The shape of a tiny T5: every size given (vocab 0 keeps ByT5's 384), ff
 * and untied as wanted (0: relu, tied); the rest is t5_config_default's. */
typedef struct {
    size_t vocab, d_model, d_kv, d_ff, heads, enc_layers, dec_layers, buckets, max_distance;
    t5_ff_kind ff;
    int untied;
} tu_shape;

static inline t5_config tu_config(tu_shape s)
{
    t5_config c;
    t5_config_default(&c);
    if (s.vocab) c.vocab_size = s.vocab;
    c.d_model = s.d_model;
    c.d_kv = s.d_kv;
    c.d_ff = s.d_ff;
    c.num_heads = s.heads;
    c.num_layers = s.enc_layers;
    c.num_decoder_layers = s.dec_layers;
    c.rel_buckets = s.buckets;
    c.rel_max_distance = s.max_distance;
    c.ff = s.ff;
    c.tie_word_embeddings = !s.untied;
    return c;
}

/* Allocate m for c and fill it with t5_init_random(seed); a configuration
 * t5_alloc refuses fails the test. Free with t5_free. */
static inline void tu_model(t5_model *m, const t5_config *c, uint64_t seed)
{
    as_err err = {{0}};
    if (t5_alloc(m, c, &err)) fail_msg("%s", err.msg);
    t5_init_random(m, seed);
}

/* The source tree's tests/fixtures folder (tests run from the top level). */
#define FIXTURES "tests/fixtures"

/* Make a fresh folder /tmp/attnscope-<tag>-XXXXXX into buf (n bytes).
 * 0 on success, -1 when it cannot be made. */
static inline int tu_tmpdir(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/attnscope-%s-XXXXXX", tag);
    return mkdtemp(buf) ? 0 : -1;
}

/* Remove dir and everything in it; 0 on success, -1 if rm failed. */
static inline int tu_rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write n bytes of buf to path (replacing it); the test fails if it cannot. */
static inline void tu_write_file(const char *path, const void *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot write %s", path);
    if (n && fwrite(buf, 1, n, f) != n) fail_msg("cannot write %s", path);
    fclose(f);
}

/* Write the string text to path (replacing it). */
static inline void tu_write_text(const char *path, const char *text)
{
    tu_write_file(path, text, strlen(text));
}

/* A copy (caller frees) of the expected tensor name of a fixture's
 * expected.safetensors as floats; *numel its size when numel is not NULL.
 * A missing or unconvertible tensor fails the test. */
static inline float *tu_expected_f32(const st_file *e, const char *name, size_t *numel)
{
    const st_tensor *t = st_find(e, name);
    if (!t) fail_msg("expected.safetensors has no %s", name);
    float *out = malloc(t->numel * sizeof *out + 1);
    as_err err;
    if (st_to_f32(t, out, &err)) fail_msg("%s: %s", name, err.msg);
    if (numel) *numel = t->numel;
    return out;
}

/* The same as ints (token ids, lengths). */
static inline int *tu_expected_int(const st_file *e, const char *name, size_t *numel)
{
    const st_tensor *t = st_find(e, name);
    if (!t) fail_msg("expected.safetensors has no %s", name);
    int *out = malloc(t->numel * sizeof *out + 1);
    as_err err;
    if (st_to_int(t, out, &err)) fail_msg("%s: %s", name, err.msg);
    if (numel) *numel = t->numel;
    return out;
}

/* Load the fixture model tests/fixtures/<name> into m (t5_load) and open
 * its file (expected.safetensors, states.safetensors...) into e; a failure
 * fails the test. */
static inline void tu_fixture_load(t5_model *m, st_file *e, const char *name, const char *file)
{
    char dir[512], path[600];
    as_err err = {{0}};
    snprintf(dir, sizeof dir, FIXTURES "/%s", name);
    if (t5_load(m, dir, &err)) fail_msg("t5_load %s: %s", dir, err.msg);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (st_open(e, path, &err)) fail_msg("st_open %s: %s", path, err.msg);
}

/* Every head's map of kind in tr against the expected (L, H, rows, cols)
 * tensor name of e: the same shape, each probability within tol. The first
 * difference fails the test, naming the layer, head and cell. */
static inline void tu_check_maps(const st_file *e, const attn_trace *tr, t5_attn_kind kind,
                                 const char *name, double tol)
{
    float *want = tu_expected_f32(e, name, NULL);
    const st_tensor *t = st_find(e, name);
    size_t L = t->shape[0], H = t->shape[1], R = t->shape[2], C = t->shape[3];
    for (size_t l = 0; l < L; l++)
        for (size_t h = 0; h < H; h++) {
            size_t rows, cols, stride;
            const float *map = trace_map(tr, kind, l, h, &rows, &cols, &stride);
            assert_non_null(map);
            assert_int_equal(rows, R);
            assert_int_equal(cols, C);
            for (size_t i = 0; i < R; i++)
                for (size_t j = 0; j < C; j++) {
                    double got = map[i * stride + j], w = want[((l * H + h) * R + i) * C + j];
                    if (!(fabs(got - w) <= tol))
                        fail_msg("%s layer %zu head %zu [%zu][%zu] = %.8g, expected %.8g", name,
                                 l, h, i, j, got, w);
                }
        }
    free(want);
}

#endif
