/* kernels.h - the layers of T5 as free functions on plain float arrays, in
 * the llm.c style: outputs first, then inputs, then sizes. Backward
 * functions ADD into their gradient outputs (+=), so one zeroing clears a
 * step; the element-wise ones marked "in place" instead turn d(out) into
 * d(in) where it lies (they sit between two products that write that
 * scratch, so there is nothing to add to). Every fast path (BLAS,
 * vectorised, polynomial exp) has a plain C twin that test_kernels holds
 * equal to it: the suffix _ref, or for the training forms of rmsnorm,
 * softmax and GELU the exact kernels inference uses (which stay exact so
 * that its outputs do not move with the training kernels).
 *
 * Inference (t5.c) uses the products, rmsnorm_forward, softmax_rows,
 * gelu_forward and relu_forward; training (train/trainer.c) uses the _par
 * products, matmul_backward and the training kernels at the end.
 *
 * Deliberately not here: model structure, caches, hooks (t5.c), batching
 * and the split of a batch over threads (train). Shapes are not checked
 * here: callers check them where data enters. */
#ifndef ATTNSCOPE_KERNELS_H
#define ATTNSCOPE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

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

/* y += a x. SIMD. */
void vec_axpy(float *y, float a, const float *x, size_t n);

/* gemm with the rows of C split over the OpenMP threads (each piece a
 * single-threaded sgemm), when called outside a parallel region on a product
 * big enough to pay for waking them; else gemm. Its plain twin is gemm_ref. */
void gemm_par(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A,
              size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);
/* matmul_forward through gemm_par (also for N == 1): training's products. */
void matmul_forward_par(float *out, const float *inp, const float *w, size_t N, size_t C,
                        size_t OC, float beta);

/* dinp (N, C) += dout (N, OC) @ w; dw (OC, C) += dout^T @ inp, through
 * gemm_par. dinp or dw may be NULL to skip that product. */
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
 * rstd (N) keeps 1/sqrt(mean+eps) for backward (may be NULL). Exact (sums in
 * order): inference's, and the twin of rmsnorm_forward_fast. */
void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, size_t N,
                     size_t C, float eps);

/* In-place softmax of each of N rows of length n (row stride ld), libm's
 * expf. Rows whose entries are all -INFINITY become zeros. Inference's, and
 * the twin of softmax_row_forward. */
void softmax_rows(float *x, size_t N, size_t n, size_t ld);

/* GELU with the tanh approximation (HF "gelu_new"), libm's tanhf. */
void gelu_forward(float *out, const float *inp, size_t n);
/* out = max(inp, 0); out may be inp. Vectorised, exact. */
void relu_forward(float *out, const float *inp, size_t n);

/* ---- training kernels: vectorised (GCC clones for AVX-512, AVX2 and
 * baseline x86-64), exp and tanh by a polynomial good to a few ulp. */

/* rmsnorm_forward with vectorised sums; rstd must not be NULL. */
void rmsnorm_forward_fast(float *out, float *rstd, const float *inp, const float *w, size_t N,
                          size_t C, float eps);
/* dinp (N, C) += d(inp), dw (C) += d(w), from dout and forward's rstd. */
void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
                      const float *w, const float *rstd, size_t N, size_t C);
void rmsnorm_backward_ref(float *dinp, float *dw, const float *dout, const float *inp,
                          const float *w, const float *rstd, size_t N, size_t C);

/* In place: d (n) = dout where out > 0, else 0 (out is relu_forward's). */
void relu_backward(float *d, const float *out, size_t n);

/* T5 v1.1's gated GELU: out (N, F) = gelu(h0) * h1, each row of h (N, 2F)
 * holding h0 | h1 (wi_0 and wi_1 in one product). */
void gelu_gate_forward(float *out, const float *h, size_t N, size_t F);
void gelu_gate_forward_ref(float *out, const float *h, size_t N, size_t F);
/* In place: each row of d (N, 2F) holds (anything | d(out)) and becomes
 * d(h0) | d(h1). */
void gelu_gate_backward(float *d, const float *h, size_t N, size_t F);
void gelu_gate_backward_ref(float *d, const float *h, size_t N, size_t F);

/* Softmax of row[0..n) in place (n >= 1, finite entries), zeros in
 * row[n..ld): one query's attention, causal keys cut off at n. */
void softmax_row_forward(float *row, size_t n, size_t ld);
/* In place: d[0..n) = p * (d - sum(d p)), the gradient of the scores from
 * that of the probabilities p; zeros in d[n..ld). */
void softmax_row_backward(float *d, const float *p, size_t n, size_t ld);
void softmax_row_backward_ref(float *d, const float *p, size_t n, size_t ld);

/* Cross-entropy of N rows of logits (N, V) against labels (N, -1: no
 * label): lse (N) each row's log-sum-exp, loss (N) each row's loss, 0 for
 * an unlabelled row (double, so that the caller's ordered sum is exact).
 * smoothing in [0, 1) is PyTorch's label_smoothing: the target puts
 * smoothing / V on every token and the rest on the label, so the loss is
 * (1 - s) (lse - z_label) + s (lse - mean z); 0 is the plain loss, computed
 * exactly as before the option existed. */
void crossentropy_forward(double *loss, float *lse, const float *logits, const int *labels,
                          size_t N, size_t V, float smoothing);
void crossentropy_forward_ref(double *loss, float *lse, const float *logits, const int *labels,
                              size_t N, size_t V, float smoothing);
/* In place: logits (N, V) become d(logits) = scale (softmax - target) on
 * labelled rows (target as above), zeros on unlabelled ones; lse is
 * forward's. */
void crossentropy_backward(float *logits, const float *lse, const int *labels, size_t N,
                           size_t V, float scale, float smoothing);
void crossentropy_backward_ref(float *logits, const float *lse, const int *labels, size_t N,
                               size_t V, float scale, float smoothing);

/* Dropout (training only): out = inp * keep / (1 - p), element i kept when
 * the high 32 bits of output i0 + i of the splitmix64 stream keyed by key
 * are at least p * 2^32. The mask depends only on (key, index), so the
 * backward pass draws it again instead of storing it, and a slice of a
 * tensor gets the same mask whichever thread or piece computes it. out may
 * be inp. tests/reference/make_train_fixtures.py draws the same masks. */
void dropout_forward(float *out, const float *inp, size_t n, float p, uint64_t key, uint64_t i0);
void dropout_forward_ref(float *out, const float *inp, size_t n, float p, uint64_t key,
                         uint64_t i0);
/* In place: d = d * keep / (1 - p) with forward's mask. */
void dropout_backward(float *d, size_t n, float p, uint64_t key, uint64_t i0);
/* The key one coordinate down: dropout_key(dropout_key(seed, step), site)... */
uint64_t dropout_key(uint64_t key, uint64_t v);

/* HF's _relative_position_bucket for relative position rel = key - query. */
int t5_rel_bucket(long rel, int bidirectional, size_t num_buckets, size_t max_distance);

#endif
