/* kernels.c - T5's layers on plain arrays (see kernels.h). Matrix products
 * go through OpenBLAS; each has a plain C twin kept equal by the tests. */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
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

void matmul_forward(float *out, const float *inp, const float *w, size_t N, size_t C, size_t OC,
                    float beta)
{
    /* One row (a decoding step) is a matrix-vector product; OpenBLAS's sgemm
     * does not take the faster gemv path for it by itself. */
    if (N == 1) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)OC, (int)C, 1.0f, w, (int)C, inp, 1, beta,
                    out, 1);
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
