/* test_kernels.c - every BLAS kernel against its plain C twin on odd sizes
 * and strides; rmsnorm, softmax and GELU against direct formulas and
 * finite differences; each training kernel (vectorised, polynomial exp)
 * against its plain twin, at the instruction set the CPU has; the relative-position bucket function against the
 * values the PyTorch reference computed (tests/fixtures/buckets.txt). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "util.h"

static float *random_array(as_rng *g, size_t n)
{
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) a[i] = (float)(2.0 * rng_uniform(g) - 1.0);
    return a;
}

static float *copy_array(const float *a, size_t n)
{
    float *b = malloc(n * sizeof *b);
    memcpy(b, a, n * sizeof *b);
    return b;
}

static void test_gemm_vs_ref(void **state)
{
    (void)state;
    as_rng g;
    rng_seed(&g, 1);
    const size_t M = 7, N = 5, K = 13, pad = 3;
    const float betas[] = {0.0f, 1.0f, 0.5f};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t bi = 0; bi < 3; bi++) {
                /* Row strides larger than the rows, as the attention heads use. */
                size_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
                size_t arows = ta ? K : M, brows = tb ? N : K;
                float *A = random_array(&g, arows * lda), *B = random_array(&g, brows * ldb);
                float *C1 = random_array(&g, M * ldc), *C2 = copy_array(C1, M * ldc);
                gemm(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, betas[bi], C1, ldc);
                gemm_ref(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, betas[bi], C2, ldc);
                assert_close_array(C1, C2, M * ldc, 1e-5, 1e-5);
                free(A), free(B), free(C1), free(C2);
            }
}

/* The SIMD kernels run on every instruction set the CPU has (plain C, AVX2,
 * AVX-512): each check below runs once per level. */
static void for_each_simd_level(void (*check)(void))
{
    int best = kernels_simd_level(-1);
    for (int level = 0; level <= best; level++) {
        kernels_simd_level(level);
        check();
    }
    kernels_simd_level(best);
}

/* A cmocka test that runs check at every SIMD level. */
#define SIMD_TEST(test, check)                                                         \
    static void test(void **state)                                                     \
    {                                                                                  \
        (void)state;                                                                   \
        for_each_simd_level(check);                                                    \
    }

/* Sizes that are not multiples of 8 or 16 exercise the tails. */
static void check_matmul_forward(void)
{
    as_rng g;
    rng_seed(&g, 2);
    const size_t Ns[] = {1, 3, 17}; /* 1 takes the SIMD matrix-vector path */
    const size_t C = 19, OC = 11;
    for (size_t ni = 0; ni < 3; ni++)
        for (int beta = 0; beta < 2; beta++) {
            size_t N = Ns[ni];
            float *inp = random_array(&g, N * C), *w = random_array(&g, OC * C);
            float *o1 = random_array(&g, N * OC), *o2 = copy_array(o1, N * OC);
            matmul_forward(o1, inp, w, N, C, OC, (float)beta);
            matmul_forward_ref(o2, inp, w, N, C, OC, (float)beta);
            assert_close_array(o1, o2, N * OC, 1e-5, 1e-5);
            free(inp), free(w), free(o1), free(o2);
        }
}

SIMD_TEST(test_matmul_forward_vs_ref, check_matmul_forward)

/* Big enough for the two-thread split (and odd, so the split is uneven). */
static void check_matvec_large(void)
{
    as_rng g;
    rng_seed(&g, 5);
    const size_t C = 131, OC = 301;
    float *inp = random_array(&g, C), *w = random_array(&g, OC * C);
    float *o1 = random_array(&g, OC), *o2 = copy_array(o1, OC);
    matvec_forward(o1, inp, w, C, OC, 1.0f);
    matmul_forward_ref(o2, inp, w, 1, C, OC, 1.0f);
    assert_close_array(o1, o2, OC, 1e-4, 1e-5);
    matvec_forward(o1, inp, w, C, OC, 0.0f);
    matmul_forward_ref(o2, inp, w, 1, C, OC, 0.0f);
    assert_close_array(o1, o2, OC, 1e-4, 1e-5);
    for (int threads = 2; threads <= 3; threads++) {
        matvec_forward_mt(o1, inp, w, C, OC, 0.0f, threads);
        assert_close_array(o1, o2, OC, 1e-4, 1e-5);
    }
    free(inp), free(w), free(o1), free(o2);
}

SIMD_TEST(test_matvec_large_vs_ref, check_matvec_large)

static void check_vecmat_axpy(void)
{
    as_rng g;
    rng_seed(&g, 6);
    const size_t K = 13, N = 37, lda = 41;
    float *x = random_array(&g, K), *A = random_array(&g, K * lda);
    float o1[37], o2[37];
    vecmat_forward(o1, x, A, K, N, lda);
    gemm_ref(0, 0, 1, N, K, 1.0f, x, K, A, lda, 0.0f, o2, N);
    assert_close_array(o1, o2, N, 1e-5, 1e-5);
    float y1[13], y2[13];
    for (size_t i = 0; i < K; i++) y1[i] = y2[i] = A[i];
    vec_axpy(y1, 0.5f, x, K);
    for (size_t i = 0; i < K; i++) y2[i] += 0.5f * x[i];
    assert_close_array(y1, y2, K, 1e-6, 1e-6);
    free(x), free(A);
}

SIMD_TEST(test_vecmat_vs_ref, check_vecmat_axpy)

static void test_matmul_backward_vs_ref(void **state)
{
    (void)state;
    as_rng g;
    rng_seed(&g, 3);
    const size_t N = 9, C = 7, OC = 13;
    float *dout = random_array(&g, N * OC), *inp = random_array(&g, N * C);
    float *w = random_array(&g, OC * C);
    float *di1 = random_array(&g, N * C), *di2 = copy_array(di1, N * C);
    float *dw1 = random_array(&g, OC * C), *dw2 = copy_array(dw1, OC * C);
    matmul_backward(di1, dw1, dout, inp, w, N, C, OC);
    matmul_backward_ref(di2, dw2, dout, inp, w, N, C, OC);
    assert_close_array(di1, di2, N * C, 1e-5, 1e-5);
    assert_close_array(dw1, dw2, OC * C, 1e-5, 1e-5);
    /* NULL skips a product. */
    matmul_backward(NULL, dw1, dout, inp, w, N, C, OC);
    matmul_backward_ref(NULL, dw2, dout, inp, w, N, C, OC);
    assert_close_array(dw1, dw2, OC * C, 1e-5, 1e-5);
    free(dout), free(inp), free(w), free(di1), free(di2), free(dw1), free(dw2);
}

static void test_rmsnorm(void **state)
{
    (void)state;
    as_rng g;
    rng_seed(&g, 4);
    const size_t N = 3, C = 11;
    const float eps = 1e-6f;
    float *x = random_array(&g, N * C), *w = random_array(&g, C);
    float out[3 * 11], rstd[3];
    rmsnorm_forward(out, rstd, x, w, N, C, eps);
    for (size_t i = 0; i < N; i++) {
        double ss = 0;
        for (size_t j = 0; j < C; j++) ss += (double)x[i * C + j] * x[i * C + j];
        double r = 1.0 / sqrt(ss / C + eps);
        assert_true(fabs(rstd[i] - r) < 1e-5 * r);
        for (size_t j = 0; j < C; j++)
            assert_true(fabs(out[i * C + j] - x[i * C + j] * r * w[j]) < 1e-5);
    }
    /* Backward against central differences of L = sum(out * dout). */
    float *dout = random_array(&g, N * C);
    float dx[3 * 11] = {0}, dw[11] = {0};
    rmsnorm_backward(dx, dw, dout, x, w, rstd, N, C);
    const float h = 1e-3f;
    for (size_t k = 0; k < N * C; k++) {
        float keep = x[k], lp = 0, lm = 0, o[3 * 11];
        x[k] = keep + h;
        rmsnorm_forward(o, NULL, x, w, N, C, eps);
        for (size_t i = 0; i < N * C; i++) lp += o[i] * dout[i];
        x[k] = keep - h;
        rmsnorm_forward(o, NULL, x, w, N, C, eps);
        for (size_t i = 0; i < N * C; i++) lm += o[i] * dout[i];
        x[k] = keep;
        assert_true(fabs(dx[k] - (lp - lm) / (2 * h)) < 2e-3);
    }
    free(x), free(w), free(dout);
}

static void test_softmax(void **state)
{
    (void)state;
    float x[2 * 6] = {1, 2, 3, -INFINITY, 0, 0.5f, -INFINITY, -INFINITY, -INFINITY,
                      -INFINITY, -INFINITY, -INFINITY};
    softmax_rows(x, 2, 5, 6); /* stride 6, length 5: x[5] untouched */
    double sum = 0;
    for (int j = 0; j < 5; j++) sum += x[j];
    assert_true(fabs(sum - 1.0) < 1e-6);
    assert_true(x[3] == 0.0f);
    assert_true(fabs(x[2] / x[1] - exp(1.0)) < 1e-5);
    assert_true(x[5] == 0.5f);
    for (int j = 6; j < 11; j++) assert_true(x[j] == 0.0f); /* all -inf row -> zeros */
}

static void test_gelu_relu(void **state)
{
    (void)state;
    /* HF gelu_new values (tanh approximation). */
    float in[5] = {0.0f, 1.0f, -1.0f, 3.0f, -3.0f}, out[5];
    const double want[5] = {0.0, 0.8411919906, -0.1588080094, 2.9963627, -0.0036373};
    gelu_forward(out, in, 5);
    for (int i = 0; i < 5; i++) assert_true(fabs(out[i] - want[i]) < 1e-5);
    float r[5];
    relu_forward(r, in, 5);
    assert_true(r[0] == 0.0f && r[1] == 1.0f && r[2] == 0.0f && r[3] == 3.0f);
    float dr[5] = {2, 2, 2, 2, 2};
    relu_backward(dr, r, 5);
    assert_true(dr[1] == 2.0f && dr[3] == 2.0f && dr[2] == 0.0f && dr[0] == 0.0f);
    /* in place, on a length that is no multiple of any vector width */
    as_rng g;
    rng_seed(&g, 9);
    float *x = random_array(&g, 37), *y = copy_array(x, 37);
    relu_forward(x, x, 37);
    for (int i = 0; i < 37; i++) assert_true(x[i] == (y[i] > 0.0f ? y[i] : 0.0f));
    free(x), free(y);
}

/* ---- the training kernels against their plain twins ---------------------- */

static void test_rmsnorm_fast_vs_plain(void **state)
{
    (void)state;
    as_rng g;
    rng_seed(&g, 11);
    const size_t N = 5, C = 37; /* no multiple of 8 or 16 */
    float *x = random_array(&g, N * C), *w = random_array(&g, C);
    float o1[5 * 37], o2[5 * 37], r1[5], r2[5];
    rmsnorm_forward_fast(o1, r1, x, w, N, C, 1e-6f);
    rmsnorm_forward(o2, r2, x, w, N, C, 1e-6f);
    assert_close_array(o1, o2, N * C, 1e-6, 1e-5);
    assert_close_array(r1, r2, N, 1e-6, 1e-5);
    float *dout = random_array(&g, N * C);
    float *dx1 = random_array(&g, N * C), *dx2 = copy_array(dx1, N * C);
    float *dw1 = random_array(&g, C), *dw2 = copy_array(dw1, C);
    rmsnorm_backward(dx1, dw1, dout, x, w, r2, N, C);
    rmsnorm_backward_ref(dx2, dw2, dout, x, w, r2, N, C);
    assert_close_array(dx1, dx2, N * C, 1e-5, 1e-5);
    assert_close_array(dw1, dw2, C, 1e-5, 1e-5);
    free(x), free(w), free(dout), free(dx1), free(dx2), free(dw1), free(dw2);
}

static void test_gelu_gate_vs_plain(void **state)
{
    (void)state;
    as_rng g;
    rng_seed(&g, 12);
    const size_t N = 3, F = 21;
    float *h = random_array(&g, N * 2 * F);
    for (size_t i = 0; i < N * 2 * F; i++) h[i] *= 4.0f; /* the tails of tanh too */
    float o1[3 * 21], o2[3 * 21];
    gelu_gate_forward(o1, h, N, F);
    gelu_gate_forward_ref(o2, h, N, F);
    assert_close_array(o1, o2, N * F, 1e-6, 1e-5);
    float *d1 = random_array(&g, N * 2 * F), *d2 = copy_array(d1, N * 2 * F);
    gelu_gate_backward(d1, h, N, F);
    gelu_gate_backward_ref(d2, h, N, F);
    assert_close_array(d1, d2, N * 2 * F, 1e-6, 1e-5);
    /* the plain backward against central differences of sum(out * dout) */
    float *dout = random_array(&g, N * F), *d = calloc(N * 2 * F, sizeof *d);
    for (size_t i = 0; i < N; i++) memcpy(d + i * 2 * F + F, dout + i * F, F * sizeof *d);
    gelu_gate_backward_ref(d, h, N, F);
    const float e = 1e-3f;
    for (size_t k = 0; k < N * 2 * F; k++) {
        float keep = h[k], o[3 * 21];
        double lp = 0, lm = 0;
        h[k] = keep + e;
        gelu_gate_forward_ref(o, h, N, F);
        for (size_t i = 0; i < N * F; i++) lp += o[i] * dout[i];
        h[k] = keep - e;
        gelu_gate_forward_ref(o, h, N, F);
        for (size_t i = 0; i < N * F; i++) lm += o[i] * dout[i];
        h[k] = keep;
        assert_true(fabs(d[k] - (lp - lm) / (2 * e)) < 5e-3);
    }
    free(h), free(d1), free(d2), free(dout), free(d);
}

static void test_softmax_row_vs_plain(void **state)
{
    (void)state;
    as_rng g;
    rng_seed(&g, 13);
    const size_t ld = 41;
    for (size_t n = 1; n <= ld; n += 4) { /* causal rows: n keys of ld */
        float *x1 = random_array(&g, ld), *x2 = copy_array(x1, ld);
        for (size_t j = 0; j < ld; j++) x1[j] = x2[j] *= 8.0f;
        softmax_row_forward(x1, n, ld);
        softmax_rows(x2, 1, n, ld);
        assert_close_array(x1, x2, n, 1e-7, 1e-5);
        for (size_t j = n; j < ld; j++) assert_true(x1[j] == 0.0f);
        float *d1 = random_array(&g, ld), *d2 = copy_array(d1, ld);
        softmax_row_backward(d1, x1, n, ld);
        softmax_row_backward_ref(d2, x1, n, ld);
        assert_close_array(d1, d2, ld, 1e-6, 1e-5);
        free(x1), free(x2), free(d1), free(d2);
    }
}

static void test_crossentropy_vs_plain(void **state)
{
    (void)state;
    as_rng g;
    rng_seed(&g, 14);
    const size_t N = 4, V = 51;
    float *z = random_array(&g, N * V);
    for (size_t i = 0; i < N * V; i++) z[i] *= 10.0f;
    const int labels[4] = {3, -1, 50, 0};
    for (int k = 0; k < 2; k++) { /* plain, then label smoothing 0.1 */
        float ls = k ? 0.1f : 0.0f;
        double l1[4], l2[4];
        float s1[4], s2[4];
        crossentropy_forward(l1, s1, z, labels, N, V, ls);
        crossentropy_forward_ref(l2, s2, z, labels, N, V, ls);
        for (size_t i = 0; i < N; i++) {
            assert_true(fabs(l1[i] - l2[i]) < 1e-5 * (1 + fabs(l2[i])));
            assert_true(fabs(s1[i] - s2[i]) < 1e-5 * (1 + fabs(s2[i])));
        }
        assert_true(l1[1] == 0.0);
        float *d1 = copy_array(z, N * V), *d2 = copy_array(z, N * V);
        crossentropy_backward(d1, s2, labels, N, V, 0.25f, ls);
        crossentropy_backward_ref(d2, s2, labels, N, V, 0.25f, ls);
        assert_close_array(d1, d2, N * V, 1e-6, 1e-5);
        for (size_t j = 0; j < V; j++) assert_true(d1[V + j] == 0.0f); /* unlabelled */
        /* each labelled row of the gradient sums to 0: both targets are distributions */
        double sum = 0;
        for (size_t j = 0; j < V; j++) sum += d1[j];
        assert_true(fabs(sum) < 1e-5);
        free(d1), free(d2);
    }
    free(z);
}

static void test_dropout_vs_plain(void **state)
{
    (void)state;
    as_rng g;
    rng_seed(&g, 16);
    const size_t n = 4099;
    const float p = 0.3f;
    float *x = random_array(&g, n), *y1 = malloc(n * sizeof *y1), *y2 = malloc(n * sizeof *y2);
    uint64_t key = dropout_key(dropout_key(0, 5), 3);
    dropout_forward(y1, x, n, p, key, 7);
    dropout_forward_ref(y2, x, n, p, key, 7);
    assert_close_array(y1, y2, n, 1e-7, 1e-6);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) kept += y1[i] != 0.0f;
    assert_true(fabs((double)kept / n - (1.0 - p)) < 0.03); /* about 1 - p kept */
    /* a slice gets the same mask as the whole: element i0 + i of the stream */
    dropout_forward(y2, x + 100, 50, p, key, 107);
    for (size_t i = 0; i < 50; i++) assert_true(y2[i] == y1[100 + i]);
    /* backward in place masks and scales as forward did */
    float *d = copy_array(x, n);
    dropout_backward(d, n, p, key, 7);
    for (size_t i = 0; i < n; i++) assert_true(d[i] == y1[i]);
    /* another key, another mask */
    dropout_forward(y2, x, n, p, dropout_key(key, 1), 7);
    size_t same = 0;
    for (size_t i = 0; i < n; i++) same += (y1[i] != 0.0f) == (y2[i] != 0.0f);
    assert_true(same < n - 100);
    free(x), free(y1), free(y2), free(d);
}

static void test_gemm_par_vs_ref(void **state)
{
    (void)state;
    as_rng g;
    rng_seed(&g, 15);
    /* big enough to be split over the threads */
    const size_t N = 150, C = 70, OC = 90;
    float *inp = random_array(&g, N * C), *w = random_array(&g, OC * C);
    float *o1 = random_array(&g, N * OC), *o2 = copy_array(o1, N * OC);
    matmul_forward_par(o1, inp, w, N, C, OC, 1.0f);
    matmul_forward_ref(o2, inp, w, N, C, OC, 1.0f);
    assert_close_array(o1, o2, N * OC, 1e-4, 1e-5);
    float *dout = random_array(&g, N * OC);
    float *di1 = random_array(&g, N * C), *di2 = copy_array(di1, N * C);
    float *dw1 = random_array(&g, OC * C), *dw2 = copy_array(dw1, OC * C);
    matmul_backward(di1, dw1, dout, inp, w, N, C, OC);
    matmul_backward_ref(di2, dw2, dout, inp, w, N, C, OC);
    assert_close_array(di1, di2, N * C, 1e-4, 1e-5);
    assert_close_array(dw1, dw2, OC * C, 1e-4, 1e-5);
    free(inp), free(w), free(o1), free(o2), free(dout), free(di1), free(di2), free(dw1),
        free(dw2);
}

static void test_buckets_vs_reference(void **state)
{
    (void)state;
    FILE *f = fopen(FIXTURES "/buckets.txt", "r");
    assert_non_null(f);
    char line[256];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        long rel;
        int bi, bucket;
        size_t nb, md;
        if (line[0] == '#') continue;
        assert_int_equal(sscanf(line, "%ld %d %zu %zu %d", &rel, &bi, &nb, &md, &bucket), 5);
        int got = t5_rel_bucket(rel, bi, nb, md);
        if (got != bucket)
            fail_msg("bucket(rel %ld, bidirectional %d, %zu buckets, max %zu) = %d, reference %d",
                     rel, bi, nb, md, got, bucket);
        n++;
    }
    fclose(f);
    assert_true(n > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_vs_ref),
        cmocka_unit_test(test_matmul_forward_vs_ref),
        cmocka_unit_test(test_matvec_large_vs_ref),
        cmocka_unit_test(test_vecmat_vs_ref),
        cmocka_unit_test(test_matmul_backward_vs_ref),
        cmocka_unit_test(test_rmsnorm),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_gelu_relu),
        cmocka_unit_test(test_rmsnorm_fast_vs_plain),
        cmocka_unit_test(test_gelu_gate_vs_plain),
        cmocka_unit_test(test_softmax_row_vs_plain),
        cmocka_unit_test(test_crossentropy_vs_plain),
        cmocka_unit_test(test_gemm_par_vs_ref),
        cmocka_unit_test(test_dropout_vs_plain),
        cmocka_unit_test(test_buckets_vs_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
