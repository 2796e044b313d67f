/* test_safetensors.c - the safetensors reader and writer: round trips,
 * F16/BF16/integer conversion, and every malformed header the reader must
 * refuse with a message saying what is wrong. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "safetensors.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    return tu_tmpdir(tmpdir, sizeof tmpdir, "st");
}

static int teardown(void **state)
{
    (void)state;
    return tu_rm_rf(tmpdir);
}

static const char *tmp_path(const char *name)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

/* Write a file made of an 8-byte length (hlen_override when not 0, else the
 * header's length), the header text and n data bytes. */
static const char *write_raw(const char *header, uint64_t hlen_override, const void *data,
                             size_t n)
{
    const char *path = tmp_path("raw.safetensors");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint64_t h = hlen_override ? hlen_override : strlen(header);
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(h >> (8 * i));
    fwrite(b, 1, 8, f);
    fwrite(header, 1, strlen(header), f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
    return path;
}

static void expect_open_fails(const char *path, const char *needle)
{
    st_file f;
    as_err err = {0};
    assert_int_equal(st_open(&f, path, &err), -1);
    if (!strstr(err.msg, needle)) fail_msg("message '%s' lacks '%s'", err.msg, needle);
    if (!strstr(err.msg, path)) fail_msg("message '%s' does not name the file", err.msg);
}

static void test_round_trip(void **state)
{
    (void)state;
    float a[6] = {1.5f, -2.25f, 3e-8f, 0.0f, -0.0f, 12345.678f};
    int32_t ids[3] = {-7, 0, 2147483647};
    int64_t big[2] = {-5, 1000000};
    st_out out[3] = {
        {.name = "a.weight", .dtype = ST_F32, .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "odd \"name\"\\", .dtype = ST_I32, .ndim = 1, .shape = {3}, .data = ids},
        {.name = "big", .dtype = ST_I64, .ndim = 1, .shape = {2}, .data = big},
    };
    as_err err = {0};
    const char *path = tmp_path("rt.safetensors");
    assert_int_equal(st_write(path, out, 3, "{\"format\":\"pt\"}", &err), 0);

    FILE *fp = fopen(path, "rb");
    uint8_t h8[8];
    assert_int_equal(fread(h8, 1, 8, fp), 8);
    fclose(fp);
    assert_int_equal(h8[0] % 8, 0); /* header padded to 8 bytes */

    st_file f;
    assert_int_equal(st_open(&f, path, &err), 0);
    assert_int_equal(f.n_tensors, 3);
    const st_tensor *t = st_find(&f, "a.weight");
    assert_non_null(t);
    assert_int_equal(t->dtype, ST_F32);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    float back[6];
    assert_int_equal(st_to_f32(t, back, &err), 0);
    assert_memory_equal(back, a, sizeof a);
    t = st_find(&f, "odd \"name\"\\");
    assert_non_null(t);
    int iv[3];
    assert_int_equal(st_to_int(t, iv, &err), 0);
    assert_int_equal(iv[0], -7);
    assert_int_equal(iv[2], 2147483647);
    t = st_find(&f, "big");
    assert_int_equal(st_to_int(t, iv, &err), 0);
    assert_int_equal(iv[1], 1000000);
    assert_null(st_find(&f, "missing"));
    st_close(&f);
}

static void test_f16_bf16(void **state)
{
    (void)state;
    /* 1, -2, 0.5, 65504 (max), 2^-24 (smallest subnormal), inf, 0.099975586 */
    uint16_t h[7] = {0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x2e66};
    float hw[7] = {1.0f, -2.0f, 0.5f, 65504.0f, 5.9604645e-8f, INFINITY, 0.099975586f};
    /* bf16: 1, -3, 0.1 (0x3dcd -> 0.10009765625) */
    uint16_t b[3] = {0x3f80, 0xc040, 0x3dcd};
    float bw[3] = {1.0f, -3.0f, 0.10009765625f};
    st_out out[2] = {
        {.name = "h", .dtype = ST_F16, .ndim = 1, .shape = {7}, .data = h},
        {.name = "b", .dtype = ST_BF16, .ndim = 1, .shape = {3}, .data = b},
    };
    as_err err = {0};
    const char *path = tmp_path("half.safetensors");
    assert_int_equal(st_write(path, out, 2, NULL, &err), 0);
    st_file f;
    assert_int_equal(st_open(&f, path, &err), 0);
    float v[7];
    assert_int_equal(st_to_f32(st_find(&f, "h"), v, &err), 0);
    for (int i = 0; i < 7; i++)
        if (v[i] != hw[i]) fail_msg("f16[%d] = %.9g, expected %.9g", i, v[i], hw[i]);
    assert_int_equal(st_to_f32(st_find(&f, "b"), v, &err), 0);
    for (int i = 0; i < 3; i++)
        if (v[i] != bw[i]) fail_msg("bf16[%d] = %.9g, expected %.9g", i, v[i], bw[i]);
    st_close(&f);
}

static void test_unaligned_header(void **state)
{
    (void)state;
    /* A header of odd length (another writer, no padding): data unaligned. */
    float x[2] = {1.25f, -4.0f};
    const char *path = write_raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                                 0, x, 8);
    st_file f;
    as_err err = {0};
    assert_int_equal(st_open(&f, path, &err), 0);
    float v[2];
    assert_int_equal(st_to_f32(st_find(&f, "x"), v, &err), 0);
    assert_true(v[0] == 1.25f && v[1] == -4.0f);
    st_close(&f);
}

static void test_broken(void **state)
{
    (void)state;
    uint8_t data[64] = {0};
    const char *p;

    expect_open_fails(tmp_path("nonexistent.safetensors"), "cannot open");
    p = write_raw("", 0, NULL, 0);
    /* write_raw always writes 8 bytes; make a real empty file. */
    FILE *f = fopen(p, "wb");
    fclose(f);
    expect_open_fails(p, "empty");
    f = fopen(p, "wb");
    fwrite("abc", 1, 3, f);
    fclose(f);
    expect_open_fails(p, "truncated");

    /* header text, length field (0: the header's), data bytes, what the message says */
/* tensor x, F32 of shape [2], then its data_offsets */
#define TENSOR_X "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
    static const struct {
        const char *header;
        uint64_t hlen;
        size_t n;
        const char *needle;
    } cases[] = {
        {"{" TENSOR_X "[0,8]}}", 4096, 8, "past the end"},
        {"{" TENSOR_X "[0,8]}}", 0, 4, "out of range"},
        {"{" TENSOR_X "[8,0]}}", 0, 8, "reversed"},
        {"{\"x\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8,
         "unsupported dtype \"Q4\""},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 0, 8, "span 8 bytes"},
        {"{" TENSOR_X "[0,8]", 0, 8, "corrupted header"},
        {"{\"x\":{\"dtype\":\"F32\",\"sh@pe\":[2],\"data_offsets\":[0,8]}}", 0, 8, "shape"},
        {"[1,2,3]                ", 0, 8, "corrupted header"},
        {"{} trailing", 0, 8, "corrupted header"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 0, 8,
         "shape entry 0"},
        {"{" TENSOR_X "[0,8]}," TENSOR_X "[8,16]}}", 0, 16, "twice"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
         "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 0, 16, "overlap"},
        {"{" TENSOR_X "[0]}}", 0, 8, "data_offsets"},
    };
#undef TENSOR_X
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_open_fails(write_raw(cases[i].header, cases[i].hlen, data, cases[i].n),
                          cases[i].needle);
}

/* Random damage to a valid file (bytes of the length and header changed,
 * the file cut short) must give a clean error or a file whose tensors all
 * convert without reading out of bounds (ASan checks this under SANITIZE=1). */
static void test_random_damage(void **state)
{
    (void)state;
    float a[12] = {0};
    uint16_t h[5] = {0};
    st_out out[3] = {
        {.name = "a", .dtype = ST_F32, .ndim = 2, .shape = {3, 4}, .data = a},
        {.name = "b", .dtype = ST_F16, .ndim = 1, .shape = {5}, .data = h},
        {.name = "c", .dtype = ST_F32, .ndim = 0, .shape = {0}, .data = a},
    };
    as_err err = {0};
    const char *good = tmp_path("good.safetensors"), *bad = tmp_path("bad.safetensors");
    assert_int_equal(st_write(good, out, 3, NULL, &err), 0);
    FILE *f = fopen(good, "rb");
    uint8_t buf[512];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t hdr_end = 8 + buf[0];
    as_rng rng;
    rng_seed(&rng, 99);
    int opened = 0;
    for (int it = 0; it < 600; it++) {
        uint8_t b[512];
        memcpy(b, buf, n);
        size_t len = n;
        int k = (int)rng_range(&rng, 1, 3);
        for (int j = 0; j < k; j++) {
            size_t at = (size_t)rng_range(&rng, 0, (int64_t)hdr_end - 1);
            b[at] = (uint8_t)rng_range(&rng, 0, 255);
        }
        if (rng_range(&rng, 0, 3) == 0) len = (size_t)rng_range(&rng, 0, (int64_t)n);
        f = fopen(bad, "wb");
        fwrite(b, 1, len, f);
        fclose(f);
        st_file sf;
        if (st_open(&sf, bad, &err) == 0) {
            opened++;
            for (size_t t = 0; t < sf.n_tensors; t++) {
                const st_tensor *st = &sf.tensors[t];
                if (st->numel > 4096) continue;
                float *v = malloc((st->numel ? st->numel : 1) * sizeof *v);
                st_to_f32(st, v, &err);
                free(v);
            }
            st_close(&sf);
        } else {
            assert_true(strlen(err.msg) > 0);
        }
    }
    print_message("%d of 600 damaged files still opened\n", opened);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_f16_bf16),
        cmocka_unit_test(test_unaligned_header),
        cmocka_unit_test(test_broken),
        cmocka_unit_test(test_random_damage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
