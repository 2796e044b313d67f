/* kernels.c - T5's layers on plain arrays (see kernels.h). Matrix products
 * go through OpenBLAS, except the one-row products of a decoding step and
 * the per-head attention rows, which use the small SIMD kernels below; each
 * product has a plain C twin kept equal by the tests. */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
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
__attribute__((target("avx512f,fma"))) static float dot_512(const float *a, const float *b,
                                                             size_t n)
{
    return dot_body(a, b, n, 1);
}
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
__attribute__((target("avx2,fma"))) static float dot_256(const float *a, const float *b,
                                                         size_t n)
{
    return dot_body(a, b, n, 1);
}
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

float vec_dot(const float *a, const float *b, size_t n)
{
#if SIMD_VARIANTS
    switch (simd_level()) {
    case 2: return dot_512(a, b, n);
    case 1: return dot_256(a, b, n);
    }
#endif
    return dot_body(a, b, n, 0);
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

void matmul_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                     size_t N, size_t C, size_t OC)
{
    if (dinp) gemm(0, 0, N, C, OC, 1.0f, dout, OC, w, C, 1.0f, dinp, C);
    if (dw) gemm(1, 0, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw, C);
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

void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
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

void gelu_backward(float *dinp, const float *dout, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float u = GELU_K * (x + 0.044715f * x * x * x);
        float t = tanhf(u);
        float du = GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += dout[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du);
    }
}

void relu_forward(float *out, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void relu_backward(float *dinp, const float *dout, const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (out[i] > 0.0f) dinp[i] += dout[i];
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
