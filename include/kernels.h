/* kernels.h - the layers of T5 as free functions on plain float arrays, in
 * the llm.c style: outputs first, then inputs, then sizes. Backward
 * functions ADD into their gradient outputs (+=), so one zeroing clears a
 * step. Every BLAS path has a plain C twin (suffix _ref) that the tests hold
 * equal to it.
 *
 * Deliberately not here: model structure, caches, hooks (t5.c), batching
 * (train). Shapes are not checked here: callers check them where data
 * enters. */
#ifndef ATTNSCOPE_KERNELS_H
#define ATTNSCOPE_KERNELS_H

#include <stddef.h>

/* out (N, OC) = inp (N, C) @ w^T, w (OC, C) as nn.Linear stores it.
 * beta 0 overwrites out, beta 1 adds to it. */
void matmul_forward(float *out, const float *inp, const float *w, size_t N, size_t C, size_t OC,
                    float beta);
void matmul_forward_ref(float *out, const float *inp, const float *w, size_t N, size_t C,
                        size_t OC, float beta);

/* The one-row product of a decoding step: out (OC) = w (OC, C) @ inp (C)
 * (+ beta * out). Single-threaded SIMD (no BLAS threads to wake for a
 * matrix-vector product); matmul_forward uses it when N == 1. Its plain
 * twin is matmul_forward_ref with N = 1. */
void matvec_forward(float *out, const float *inp, const float *w, size_t C, size_t OC,
                    float beta);
/* The same split over `threads` OpenMP threads (fixed row blocks, so each
 * core keeps its share of the weights in its own cache); small products and
 * threads < 2 stay on the calling thread. */
void matvec_forward_mt(float *out, const float *inp, const float *w, size_t C, size_t OC,
                       float beta, int threads);
/* out (N) = x (K) @ A (K, N), A with row stride lda: one query's scores
 * against transposed keys, or one row of probabilities times the values.
 * SIMD; its plain twin is gemm_ref(0, 0, 1, N, K, 1, x, K, A, lda, 0, out, N). */
void vecmat_forward(float *out, const float *x, const float *A, size_t K, size_t N, size_t lda);
/* The instruction set the SIMD kernels use: 0 plain C, 1 AVX2 + FMA,
 * 2 AVX-512; the best the CPU has unless lowered. level >= 0 sets it (capped
 * at what the CPU has; for tests, not thread-safe), -1 only asks. Returns
 * the level in effect. */
int kernels_simd_level(int level);

/* sum a[i] b[i]; y += a x. SIMD. */
float vec_dot(const float *a, const float *b, size_t n);
void vec_axpy(float *y, float a, const float *x, size_t n);

/* dinp (N, C) += dout (N, OC) @ w; dw (OC, C) += dout^T @ inp.
 * dinp or dw may be NULL to skip that product. */
void matmul_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                     size_t N, size_t C, size_t OC);
void matmul_backward_ref(float *dinp, float *dw, const float *dout, const float *inp,
                         const float *w, size_t N, size_t C, size_t OC);

/* General row-major C (M, N) = alpha * op(A) @ op(B) + beta * C, where op
 * transposes when ta/tb are nonzero; lda/ldb/ldc are row strides. The
 * attention products (scores, probs @ V) go through this. */
void gemm(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
          const float *B, size_t ldb, float beta, float *C, size_t ldc);
void gemm_ref(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A,
              size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);

/* T5 layer norm (RMS, no mean, no bias): out = inp / sqrt(mean(inp^2) + eps) * w.
 * rstd (N) keeps 1/sqrt(mean+eps) for backward (may be NULL). */
void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, size_t N,
                     size_t C, float eps);
void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
                      const float *w, const float *rstd, size_t N, size_t C);

/* In-place softmax of each of N rows of length n (row stride ld). Rows
 * whose entries are all -INFINITY become zeros. */
void softmax_rows(float *x, size_t N, size_t n, size_t ld);

/* GELU with the tanh approximation (HF "gelu_new"). */
void gelu_forward(float *out, const float *inp, size_t n);
void gelu_backward(float *dinp, const float *dout, const float *inp, size_t n);
void relu_forward(float *out, const float *inp, size_t n);
/* dinp += dout where out > 0 */
void relu_backward(float *dinp, const float *dout, const float *out, size_t n);

/* HF's _relative_position_bucket for relative position rel = key - query. */
int t5_rel_bucket(long rel, int bidirectional, size_t num_buckets, size_t max_distance);

#endif
