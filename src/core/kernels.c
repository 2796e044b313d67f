/* kernels.c - T5's layers on plain arrays (see kernels.h). Matrix products
 * go through OpenBLAS, except the one-row products of a decoding step and
 * the per-head attention rows, which use the small SIMD kernels below; each
 * product has a plain C twin kept equal by the tests. */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

void gemm(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
          const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    if (M == 0 || N == 0) return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

void gemm_ref(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A,
              size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double acc = 0;
            for (size_t k = 0; k < K; k++) {
                float a = ta ? A[k * lda + i] : A[i * lda + k];
                float b = tb ? B[j * ldb + k] : B[k * ldb + j];
                acc += (double)a * b;
            }
            float *c = &C[i * ldc + j];
            *c = (float)(alpha * acc + (beta == 0.0f ? 0.0f : beta * *c));
        }
}

/* The one-row kernels below are single-threaded on purpose: a decoding step
 * is a chain of small matrix-vector products, where OpenBLAS's threads cost
 * more to wake than the product itself (matvec_forward_mt splits rows over
 * threads only when asked).
 *
 * Each body is written once (always inlined) and compiled three times: for
 * AVX-512 and for AVX2, both with fused multiply-add, and for baseline
 * x86-64; the CPU picks at run time. `fused` is a constant in each copy. */
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define MADD(a, b, c) (fused ? __builtin_fmaf((a), (b), (c)) : (c) + (a) * (b))

ALWAYS_INLINE float dot_body(const float *a, const float *b, size_t n, const int fused)
{
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (size_t i = 0; i < n; i++) s = MADD(a[i], b[i], s);
    return s;
}

ALWAYS_INLINE void axpy_body(float *y, float a, const float *x, size_t n, const int fused)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) y[i] = MADD(a, x[i], y[i]);
}

/* out (N) = x (K) @ A (K, N) with row stride lda. */
ALWAYS_INLINE void vecmat_body(float *out, const float *x, const float *A, size_t K, size_t N,
                               size_t lda, const int fused)
{
    for (size_t j = 0; j < N; j++) out[j] = 0.0f;
    for (size_t d = 0; d < K; d++) {
        const float a = x[d], *row = A + d * lda;
#pragma omp simd
        for (size_t j = 0; j < N; j++) out[j] = MADD(a, row[j], out[j]);
    }
}

/* Rows o0 .. o1-1 of out = w @ inp (+ beta out). */
ALWAYS_INLINE void matvec_body(float *out, const float *inp, const float *w, size_t C, size_t o0,
                               size_t o1, float beta, const int fused)
{
    /* Four rows at a time share each load of inp. */
    size_t o = o0;
    for (; o + 4 <= o1; o += 4) {
        const float *w0 = w + o * C, *w1 = w0 + C, *w2 = w1 + C, *w3 = w2 + C;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
        for (size_t c = 0; c < C; c++) {
            float x = inp[c];
            s0 = MADD(w0[c], x, s0);
            s1 = MADD(w1[c], x, s1);
            s2 = MADD(w2[c], x, s2);
            s3 = MADD(w3[c], x, s3);
        }
        out[o] = beta == 0.0f ? s0 : s0 + beta * out[o];
        out[o + 1] = beta == 0.0f ? s1 : s1 + beta * out[o + 1];
        out[o + 2] = beta == 0.0f ? s2 : s2 + beta * out[o + 2];
        out[o + 3] = beta == 0.0f ? s3 : s3 + beta * out[o + 3];
    }
    for (; o < o1; o++) {
        float s = dot_body(w + o * C, inp, C, fused);
        out[o] = beta == 0.0f ? s : s + beta * out[o];
    }
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SIMD_VARIANTS 1
#include <immintrin.h>
/* AVX-512 */
__attribute__((target("avx512f,fma"))) static void axpy_512(float *y, float a, const float *x,
                                                            size_t n)
{
    axpy_body(y, a, x, n, 1);
}
/* Written with intrinsics: GCC's generic `omp simd` reduction sums the lanes
 * one by one, which cost more than the products for rows this short. Four
 * rows at a time share each load of inp; the four sums are reduced as a
 * tree at the end. */
__attribute__((target("avx512f,fma"))) static void matvec_512(float *out, const float *inp,
                                                              const float *w, size_t C,
                                                              size_t o0, size_t o1, float beta)
{
    size_t tail = C % 16;
    __mmask16 m = (__mmask16)((1u << tail) - 1u);
    size_t o = o0;
    for (; o + 4 <= o1; o += 4) {
        const float *w0 = w + o * C, *w1 = w0 + C, *w2 = w1 + C, *w3 = w2 + C;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
        __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        size_t c = 0;
        for (; c + 16 <= C; c += 16) {
            __m512 x = _mm512_loadu_ps(inp + c);
            s0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + c), x, s0);
            s1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + c), x, s1);
            s2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + c), x, s2);
            s3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + c), x, s3);
        }
        if (tail) {
            __m512 x = _mm512_maskz_loadu_ps(m, inp + c);
            s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + c), x, s0);
            s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w1 + c), x, s1);
            s2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w2 + c), x, s2);
            s3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w3 + c), x, s3);
        }
        float r[4] = {_mm512_reduce_add_ps(s0), _mm512_reduce_add_ps(s1),
                      _mm512_reduce_add_ps(s2), _mm512_reduce_add_ps(s3)};
        for (int k = 0; k < 4; k++)
            out[o + k] = beta == 0.0f ? r[k] : r[k] + beta * out[o + k];
    }
    for (; o < o1; o++) {
        const float *wr = w + o * C;
        __m512 acc = _mm512_setzero_ps();
        size_t c = 0;
        for (; c + 16 <= C; c += 16)
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(wr + c), _mm512_loadu_ps(inp + c), acc);
        if (tail)
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, wr + c),
                                  _mm512_maskz_loadu_ps(m, inp + c), acc);
        float r = _mm512_reduce_add_ps(acc);
        out[o] = beta == 0.0f ? r : r + beta * out[o];
    }
}
__attribute__((target("avx512f,fma"))) static void vecmat_512(float *out, const float *x,
                                                              const float *A, size_t K, size_t N,
                                                              size_t lda)
{
    vecmat_body(out, x, A, K, N, lda, 1);
}
/* AVX2 */
__attribute__((target("avx2,fma"))) static void axpy_256(float *y, float a, const float *x,
                                                        size_t n)
{
    axpy_body(y, a, x, n, 1);
}
__attribute__((target("avx2,fma"))) static float hsum_256(__m256 v)
{
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

__attribute__((target("avx2,fma"))) static void matvec_256(float *out, const float *inp,
                                                          const float *w, size_t C, size_t o0,
                                                          size_t o1, float beta)
{
    size_t C8 = C & ~(size_t)7;
    size_t o = o0;
    for (; o + 4 <= o1; o += 4) {
        const float *w0 = w + o * C, *w1 = w0 + C, *w2 = w1 + C, *w3 = w2 + C;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        for (size_t c = 0; c < C8; c += 8) {
            __m256 x = _mm256_loadu_ps(inp + c);
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c), x, s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + c), x, s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + c), x, s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + c), x, s3);
        }
        float r[4] = {hsum_256(s0), hsum_256(s1), hsum_256(s2), hsum_256(s3)};
        for (size_t c = C8; c < C; c++) {
            r[0] += w0[c] * inp[c], r[1] += w1[c] * inp[c];
            r[2] += w2[c] * inp[c], r[3] += w3[c] * inp[c];
        }
        for (int k = 0; k < 4; k++)
            out[o + k] = beta == 0.0f ? r[k] : r[k] + beta * out[o + k];
    }
    for (; o < o1; o++) {
        const float *wr = w + o * C;
        __m256 acc = _mm256_setzero_ps();
        for (size_t c = 0; c < C8; c += 8)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(wr + c), _mm256_loadu_ps(inp + c), acc);
        float r = hsum_256(acc);
        for (size_t c = C8; c < C; c++) r += wr[c] * inp[c];
        out[o] = beta == 0.0f ? r : r + beta * out[o];
    }
}
__attribute__((target("avx2,fma"))) static void vecmat_256(float *out, const float *x,
                                                          const float *A, size_t K, size_t N,
                                                          size_t lda)
{
    vecmat_body(out, x, A, K, N, lda, 1);
}
/* 0 baseline, 1 AVX2 + FMA, 2 AVX-512 (+ FMA): what the CPU has, and what
 * the kernels use (the same unless a test lowers it). Set once at load
 * time, before any thread can ask. */
static int simd_level_max, simd_level_value;

__attribute__((constructor)) static void simd_detect(void)
{
    __builtin_cpu_init();
    simd_level_max = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma") ? 2
                     : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1
                                                                                       : 0;
    simd_level_value = simd_level_max;
}

static int simd_level(void) { return simd_level_value; }
#else
#define SIMD_VARIANTS 0
static int simd_level_max, simd_level_value;
#endif

int kernels_simd_level(int level)
{
    if (level >= 0) simd_level_value = level < simd_level_max ? level : simd_level_max;
    return simd_level_value;
}

void vec_axpy(float *y, float a, const float *x, size_t n)
{
#if SIMD_VARIANTS
    switch (simd_level()) {
    case 2: axpy_512(y, a, x, n); return;
    case 1: axpy_256(y, a, x, n); return;
    }
#endif
    axpy_body(y, a, x, n, 0);
}

void vecmat_forward(float *out, const float *x, const float *A, size_t K, size_t N, size_t lda)
{
#if SIMD_VARIANTS
    switch (simd_level()) {
    case 2: vecmat_512(out, x, A, K, N, lda); return;
    case 1: vecmat_256(out, x, A, K, N, lda); return;
    }
#endif
    vecmat_body(out, x, A, K, N, lda, 0);
}

static void matvec_rows(float *out, const float *inp, const float *w, size_t C, size_t o0,
                        size_t o1, float beta)
{
#if SIMD_VARIANTS
    switch (simd_level()) {
    case 2: matvec_512(out, inp, w, C, o0, o1, beta); return;
    case 1: matvec_256(out, inp, w, C, o0, o1, beta); return;
    }
#endif
    matvec_body(out, inp, w, C, o0, o1, beta, 0);
}

void matvec_forward(float *out, const float *inp, const float *w, size_t C, size_t OC, float beta)
{
    matvec_rows(out, inp, w, C, 0, OC, beta);
}

/* Below this many multiply-adds a product stays on one thread. */
#define MATVEC_PARALLEL_MIN 8192

void matvec_forward_mt(float *out, const float *inp, const float *w, size_t C, size_t OC,
                       float beta, int threads)
{
    if (threads < 2 || OC * C < MATVEC_PARALLEL_MIN || omp_in_parallel()) {
        matvec_rows(out, inp, w, C, 0, OC, beta);
        return;
    }
    /* A fixed split: thread t always gets the same rows, so where cores have
     * their own L2 each keeps its share of the weights warm from one
     * decoding step to the next. */
#pragma omp parallel num_threads(threads)
    {
        size_t nt = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
        size_t per = (OC + nt - 1) / nt;
        per = (per + 15) & ~(size_t)15;
        size_t o0 = t * per < OC ? t * per : OC, o1 = o0 + per < OC ? o0 + per : OC;
        if (o0 < o1) matvec_rows(out, inp, w, C, o0, o1, beta);
    }
}

void matmul_forward(float *out, const float *inp, const float *w, size_t N, size_t C, size_t OC,
                    float beta)
{
    if (N == 1) {
        matvec_forward(out, inp, w, C, OC, beta);
        return;
    }
    gemm(0, 1, N, OC, C, 1.0f, inp, C, w, C, beta, out, OC);
}

void matmul_forward_ref(float *out, const float *inp, const float *w, size_t N, size_t C,
                        size_t OC, float beta)
{
    gemm_ref(0, 1, N, OC, C, 1.0f, inp, C, w, C, beta, out, OC);
}

/* Below these sizes (elements of a loop, multiply-adds of a product) the
 * training kernels stay on one thread: waking the others would cost more
 * than it saves. */
#define PAR_WORK ((size_t)1 << 18)

void gemm_par(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A,
              size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    if (M == 0 || N == 0) return;
    int nt = omp_get_max_threads();
    if (nt <= 1 || M < 64 || M * N * K < PAR_WORK || omp_in_parallel()) {
        gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    size_t chunk = ((M + (size_t)nt - 1) / (size_t)nt + 15) & ~(size_t)15;
#pragma omp parallel num_threads(nt)
    {
        size_t i0 = (size_t)omp_get_thread_num() * chunk;
        size_t i1 = i0 + chunk < M ? i0 + chunk : M;
        if (i0 < i1)
            gemm(ta, tb, i1 - i0, N, K, alpha, ta ? A + i0 : A + i0 * lda, lda, B, ldb, beta,
                 C + i0 * ldc, ldc);
    }
}

void matmul_forward_par(float *out, const float *inp, const float *w, size_t N, size_t C,
                        size_t OC, float beta)
{
    gemm_par(0, 1, N, OC, C, 1.0f, inp, C, w, C, beta, out, OC);
}

void matmul_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                     size_t N, size_t C, size_t OC)
{
    if (dinp) gemm_par(0, 0, N, C, OC, 1.0f, dout, OC, w, C, 1.0f, dinp, C);
    if (dw) gemm_par(1, 0, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw, C);
}

void matmul_backward_ref(float *dinp, float *dw, const float *dout, const float *inp,
                         const float *w, size_t N, size_t C, size_t OC)
{
    if (dinp) gemm_ref(0, 0, N, C, OC, 1.0f, dout, OC, w, C, 1.0f, dinp, C);
    if (dw) gemm_ref(1, 0, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw, C);
}

void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, size_t N,
                     size_t C, float eps)
{
    for (size_t i = 0; i < N; i++) {
        const float *x = inp + i * C;
        float *y = out + i * C;
        float ss = 0.0f;
        for (size_t j = 0; j < C; j++) ss += x[j] * x[j];
        float r = 1.0f / sqrtf(ss / (float)C + eps);
        for (size_t j = 0; j < C; j++) y[j] = x[j] * r * w[j];
        if (rstd) rstd[i] = r;
    }
}

void rmsnorm_backward_ref(float *dinp, float *dw, const float *dout, const float *inp,
                          const float *w, const float *rstd, size_t N, size_t C)
{
    for (size_t i = 0; i < N; i++) {
        const float *x = inp + i * C, *dy = dout + i * C;
        float *dx = dinp + i * C;
        float r = rstd[i];
        /* y_j = x_j r w_j, r = (mean x^2 + eps)^-1/2
         * dx_k = r w_k dy_k - r^3 x_k / C * sum_j dy_j w_j x_j */
        float dot = 0.0f;
        for (size_t j = 0; j < C; j++) {
            dot += dy[j] * w[j] * x[j];
            dw[j] += dy[j] * x[j] * r;
        }
        float k = r * r * r * dot / (float)C;
        for (size_t j = 0; j < C; j++) dx[j] += r * w[j] * dy[j] - k * x[j];
    }
}

void softmax_rows(float *x, size_t N, size_t n, size_t ld)
{
    for (size_t i = 0; i < N; i++) {
        float *row = x + i * ld;
        float mx = -INFINITY;
        for (size_t j = 0; j < n; j++) mx = row[j] > mx ? row[j] : mx;
        if (mx == -INFINITY) {
            memset(row, 0, n * sizeof *row);
            continue;
        }
        float sum = 0.0f;
        for (size_t j = 0; j < n; j++) sum += row[j] = expf(row[j] - mx);
        float inv = 1.0f / sum;
        for (size_t j = 0; j < n; j++) row[j] *= inv;
    }
}

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

void gelu_forward(float *out, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_K * (x + 0.044715f * x * x * x)));
    }
}

/* ---- training kernels ------------------------------------------------------
 * Built by GCC for AVX-512, AVX2 and baseline x86-64 (picked at load time),
 * with reductions vectorised by `omp simd` and a polynomial exp; the plain
 * kernels above (and the _ref ones here) are their twins in test_kernels. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define TRAIN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TRAIN_CLONES
#endif

/* e^x for x <= 0 (softmax arguments after the max is subtracted): Cephes'
 * exp2f polynomial on the fraction and the exponent put in by integer add.
 * A few ulp; inputs below -87 give ~1e-38 instead of 0; NaN stays NaN. */
static inline float exp_neg(float x)
{
    x = x < -87.0f ? -87.0f : x;
    float t = x * 1.44269504088896341f;
    float n = (t + 12582912.0f) - 12582912.0f;
    float f = t - n;
    float p = 1.535336188319500e-4f;
    p = p * f + 1.339887440266574e-3f;
    p = p * f + 9.618437357674640e-3f;
    p = p * f + 5.550332471162809e-2f;
    p = p * f + 2.402264791363012e-1f;
    p = p * f + 6.931472028550421e-1f;
    p = p * f + 1.0f;
    int32_t e = ((int32_t)n + 127) * (1 << 23);  /* 2^n, n in -126 .. 0 */
    float s;
    memcpy(&s, &e, sizeof s);  /* (a union here keeps GCC from vectorising) */
    return p * s;
}

/* tanh from exp_neg: sign(u) (1 - e^-2|u|) / (1 + e^-2|u|); absolute error
 * ~1e-7, which is all GELU needs. */
static inline float tanh_fast(float u)
{
    float a = u < 0.0f ? -u : u;
    float e = exp_neg(-2.0f * a);
    float t = (1.0f - e) / (1.0f + e);
    return u < 0.0f ? -t : t;
}

TRAIN_CLONES
void relu_forward(float *out, const float *inp, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

TRAIN_CLONES
void relu_backward(float *d, const float *out, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) d[i] = out[i] > 0.0f ? d[i] : 0.0f;
}

TRAIN_CLONES
void gelu_gate_forward(float *out, const float *h, size_t N, size_t F)
{
    for (size_t i = 0; i < N; i++) {
        float *o = out + i * F;
        const float *hi = h + i * 2 * F;
#pragma omp simd
        for (size_t j = 0; j < F; j++) {
            float x = hi[j];
            float t = tanh_fast(GELU_K * (x + 0.044715f * x * x * x));
            o[j] = 0.5f * x * (1.0f + t) * hi[F + j];
        }
    }
}

void gelu_gate_forward_ref(float *out, const float *h, size_t N, size_t F)
{
    for (size_t i = 0; i < N; i++) {
        gelu_forward(out + i * F, h + i * 2 * F, F);
        for (size_t j = 0; j < F; j++) out[i * F + j] *= h[i * 2 * F + F + j];
    }
}

TRAIN_CLONES
void gelu_gate_backward(float *d, const float *h, size_t N, size_t F)
{
    for (size_t i = 0; i < N; i++) {
        float *di = d + i * 2 * F;
        const float *hi = h + i * 2 * F;
#pragma omp simd
        for (size_t j = 0; j < F; j++) {
            float x = hi[j], g1 = hi[F + j], dA = di[F + j];
            float t = tanh_fast(GELU_K * (x + 0.044715f * x * x * x));
            float gel = 0.5f * x * (1.0f + t);
            float dgel = 0.5f * (1.0f + t) +
                         0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
            di[j] = dA * g1 * dgel;
            di[F + j] = dA * gel;
        }
    }
}

void gelu_gate_backward_ref(float *d, const float *h, size_t N, size_t F)
{
    for (size_t i = 0; i < N * F; i++) {
        size_t r = i / F, j = i % F;
        double x = h[r * 2 * F + j], g1 = h[r * 2 * F + F + j], dA = d[r * 2 * F + F + j];
        double u = GELU_K * (x + 0.044715 * x * x * x), t = tanh(u);
        double gel = 0.5 * x * (1.0 + t);
        double dgel = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_K *
                                            (1.0 + 3.0 * 0.044715 * x * x);
        d[r * 2 * F + j] = (float)(dA * g1 * dgel);
        d[r * 2 * F + F + j] = (float)(dA * gel);
    }
}

TRAIN_CLONES
void rmsnorm_forward_fast(float *out, float *rstd, const float *inp, const float *w, size_t N,
                          size_t C, float eps)
{
    for (size_t i = 0; i < N; i++) {
        const float *x = inp + i * C;
        float *y = out + i * C;
        float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
        for (size_t j = 0; j < C; j++) ss += x[j] * x[j];
        float r = 1.0f / sqrtf(ss / (float)C + eps);
#pragma omp simd
        for (size_t j = 0; j < C; j++) y[j] = x[j] * r * w[j];
        rstd[i] = r;
    }
}

TRAIN_CLONES
void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
                      const float *w, const float *rstd, size_t N, size_t C)
{
    for (size_t i = 0; i < N; i++) {
        const float *x = inp + i * C, *dy = dout + i * C;
        float *dx = dinp + i * C;
        float r = rstd[i], dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (size_t j = 0; j < C; j++) dot += dy[j] * w[j] * x[j];
#pragma omp simd
        for (size_t j = 0; j < C; j++) dw[j] += dy[j] * x[j] * r;
        float k = r * r * r * dot / (float)C;
#pragma omp simd
        for (size_t j = 0; j < C; j++) dx[j] += r * w[j] * dy[j] - k * x[j];
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define HAVE_AVX512_SOFTMAX 1

/* exp_neg on 16 lanes (the same polynomial). */
__attribute__((target("avx512f"))) static inline __m512 exp_neg16(__m512 x)
{
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
    __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, n);
    __m512 p = _mm512_set1_ps(1.535336188319500e-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

/* softmax_row_forward with AVX-512 masks: no scalar tails for the short and
 * causal rows of attention (the generic loop spent most of its time in them). */
__attribute__((target("avx512f"))) static void softmax_row_avx512(float *row, size_t n,
                                                                  size_t ld)
{
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    size_t j = 0;
    for (; j + 16 <= n; j += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(row + j));
    __mmask16 tail = (__mmask16)((1u << (n - j)) - 1u);
    if (tail) vmax = _mm512_mask_max_ps(vmax, tail, vmax, _mm512_maskz_loadu_ps(tail, row + j));
    __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512 vsum = _mm512_setzero_ps();
    for (j = 0; j + 16 <= n; j += 16) {
        __m512 e = exp_neg16(_mm512_sub_ps(_mm512_loadu_ps(row + j), mx));
        _mm512_storeu_ps(row + j, e);
        vsum = _mm512_add_ps(vsum, e);
    }
    if (tail) {
        __m512 e = exp_neg16(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + j), mx));
        e = _mm512_maskz_mov_ps(tail, e);
        _mm512_mask_storeu_ps(row + j, tail, e);
        vsum = _mm512_add_ps(vsum, e);
    }
    __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
    for (j = 0; j + 16 <= n; j += 16) _mm512_storeu_ps(row + j, _mm512_mul_ps(_mm512_loadu_ps(row + j), inv));
    if (tail)
        _mm512_mask_storeu_ps(row + j, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, row + j), inv));
    for (j = n; j + 16 <= ld; j += 16) _mm512_storeu_ps(row + j, _mm512_setzero_ps());
    if (j < ld) _mm512_mask_storeu_ps(row + j, (__mmask16)((1u << (ld - j)) - 1u), _mm512_setzero_ps());
}
#endif

TRAIN_CLONES
static void softmax_row_generic(float *row, size_t n, size_t ld)
{
    float mx = row[0];
#pragma omp simd reduction(max : mx)
    for (size_t j = 0; j < n; j++) mx = row[j] > mx ? row[j] : mx;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (size_t j = 0; j < n; j++) {
        float e = exp_neg(row[j] - mx);
        row[j] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
#pragma omp simd
    for (size_t j = 0; j < n; j++) row[j] *= inv;
    for (size_t j = n; j < ld; j++) row[j] = 0.0f;
}

void softmax_row_forward(float *row, size_t n, size_t ld)
{
#ifdef HAVE_AVX512_SOFTMAX
    if (__builtin_cpu_supports("avx512f")) {
        softmax_row_avx512(row, n, ld);
        return;
    }
#endif
    softmax_row_generic(row, n, ld);
}

TRAIN_CLONES
void softmax_row_backward(float *d, const float *p, size_t n, size_t ld)
{
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (size_t j = 0; j < n; j++) dot += d[j] * p[j];
#pragma omp simd
    for (size_t j = 0; j < n; j++) d[j] = p[j] * (d[j] - dot);
    for (size_t j = n; j < ld; j++) d[j] = 0.0f;
}

void softmax_row_backward_ref(float *d, const float *p, size_t n, size_t ld)
{
    double dot = 0.0;
    for (size_t j = 0; j < n; j++) dot += (double)d[j] * p[j];
    for (size_t j = 0; j < n; j++) d[j] = (float)(p[j] * (d[j] - dot));
    for (size_t j = n; j < ld; j++) d[j] = 0.0f;
}

/* log-sum-exp of a row */
TRAIN_CLONES
static float row_lse(const float *row, size_t n)
{
    float mx = row[0];
#pragma omp simd reduction(max : mx)
    for (size_t j = 0; j < n; j++) mx = row[j] > mx ? row[j] : mx;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (size_t j = 0; j < n; j++) sum += exp_neg(row[j] - mx);
    return mx + logf(sum);
}

/* sum of a row */
TRAIN_CLONES
static float row_sum(const float *row, size_t n)
{
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (size_t j = 0; j < n; j++) sum += row[j];
    return sum;
}

void crossentropy_forward(double *loss, float *lse, const float *logits, const int *labels,
                          size_t N, size_t V, float smoothing)
{
    for (size_t i = 0; i < N; i++) {
        const float *row = logits + i * V;
        float l = row_lse(row, V);
        lse[i] = l;
        if (labels[i] < 0)
            loss[i] = 0.0;
        else if (smoothing == 0.0f)
            loss[i] = (double)(l - row[labels[i]]);
        else /* (1 - s) (lse - z_y) + s (lse - mean z) */
            loss[i] = (1.0 - smoothing) * (double)(l - row[labels[i]]) +
                      smoothing * ((double)l - (double)row_sum(row, V) / (double)V);
    }
}

void crossentropy_forward_ref(double *loss, float *lse, const float *logits, const int *labels,
                              size_t N, size_t V, float smoothing)
{
    for (size_t i = 0; i < N; i++) {
        const float *row = logits + i * V;
        double mx = row[0], sum = 0.0;
        for (size_t j = 0; j < V; j++) mx = row[j] > mx ? row[j] : mx;
        for (size_t j = 0; j < V; j++) sum += exp((double)row[j] - mx);
        double l = mx + log(sum), mean = 0.0;
        for (size_t j = 0; j < V; j++) mean += row[j] / (double)V;
        lse[i] = (float)l;
        loss[i] = labels[i] >= 0 ? (1.0 - smoothing) * (l - row[labels[i]]) + smoothing * (l - mean)
                                 : 0.0;
    }
}

TRAIN_CLONES
void crossentropy_backward(float *logits, const float *lse, const int *labels, size_t N,
                           size_t V, float scale, float smoothing)
{
    for (size_t i = 0; i < N; i++) {
        float *row = logits + i * V;
        if (labels[i] < 0) {
            memset(row, 0, V * sizeof *row);
            continue;
        }
        float l = lse[i];
        if (smoothing == 0.0f) {
#pragma omp simd
            for (size_t j = 0; j < V; j++) row[j] = exp_neg(row[j] - l) * scale;
            row[labels[i]] -= scale;
            continue;
        }
        float off = scale * smoothing / (float)V;
#pragma omp simd
        for (size_t j = 0; j < V; j++) row[j] = exp_neg(row[j] - l) * scale - off;
        row[labels[i]] -= scale * (1.0f - smoothing);
    }
}

void crossentropy_backward_ref(float *logits, const float *lse, const int *labels, size_t N,
                               size_t V, float scale, float smoothing)
{
    for (size_t i = 0; i < N; i++) {
        float *row = logits + i * V;
        for (size_t j = 0; j < V; j++) {
            double target = smoothing / (double)V +
                            (j == (size_t)labels[i] ? 1.0 - (double)smoothing : 0.0);
            row[j] = labels[i] < 0 ? 0.0f
                                   : (float)((exp((double)row[j] - lse[i]) - target) * scale);
        }
    }
}

/* ---- dropout --------------------------------------------------------------- */

#define DROP_GOLDEN 0x9E3779B97F4A7C15ull

static inline uint64_t drop_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t dropout_key(uint64_t key, uint64_t v) { return drop_mix((key ^ v) + DROP_GOLDEN); }

/* The threshold of the high 32 bits below which an element is dropped. */
static uint64_t drop_threshold(float p) { return (uint64_t)((double)p * 4294967296.0); }

TRAIN_CLONES
static void dropout_body(float *out, const float *inp, size_t n, uint64_t thr, float scale,
                         uint64_t key, uint64_t i0)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        uint64_t u = drop_mix(key + (i0 + i + 1) * DROP_GOLDEN) >> 32;
        out[i] = u >= thr ? inp[i] * scale : 0.0f;
    }
}

void dropout_forward(float *out, const float *inp, size_t n, float p, uint64_t key, uint64_t i0)
{
    dropout_body(out, inp, n, drop_threshold(p), 1.0f / (1.0f - p), key, i0);
}

void dropout_backward(float *d, size_t n, float p, uint64_t key, uint64_t i0)
{
    dropout_body(d, d, n, drop_threshold(p), 1.0f / (1.0f - p), key, i0);
}

void dropout_forward_ref(float *out, const float *inp, size_t n, float p, uint64_t key,
                         uint64_t i0)
{
    uint64_t thr = drop_threshold(p);
    for (size_t i = 0; i < n; i++) {
        uint64_t z = key + (i0 + i + 1) * DROP_GOLDEN;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        out[i] = (z >> 32) >= thr ? (float)((double)inp[i] / (1.0 - (double)p)) : 0.0f;
    }
}

int t5_rel_bucket(long rel, int bidirectional, size_t num_buckets, size_t max_distance)
{
    int bucket = 0;
    long nb = (long)num_buckets;
    if (bidirectional) {
        nb /= 2;
        if (rel > 0) bucket += (int)nb;
        rel = rel < 0 ? -rel : rel;
    } else {
        rel = rel < 0 ? -rel : 0;
    }
    long max_exact = nb / 2;
    if (rel < max_exact) return bucket + (int)rel;
    /* As torch computes it: float32 log, scaled by a double constant. */
    float t = logf((float)rel / (float)max_exact);
    t = t / (float)log((double)max_distance / (double)max_exact);
    t = t * (float)(nb - max_exact);
    long large = max_exact + (long)t;
    if (large > nb - 1) large = nb - 1;
    return bucket + (int)large;
}
