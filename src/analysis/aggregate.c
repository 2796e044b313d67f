/* aggregate.c - maps averaged over heads, layers and equations (by position
 * or by token class), the study's summary map and attention rollout.
 *
 * Pure computation on traces; deliberately no drawing and no engine. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

static size_t kind_layers(const attn_trace *t, t5_attn_kind kind)
{
    return kind == T5_ATTN_ENC_SELF ? t->n_enc_layers : t->n_dec_layers;
}

void an_mean_map(const attn_trace *t, t5_attn_kind kind, long layer, long head, float *out,
                 size_t *rows_out, size_t *cols_out)
{
    size_t L = kind_layers(t, kind), rows = 0, cols = 0, stride = 0, n = 0;
    trace_map(t, kind, 0, 0, &rows, &cols, &stride);
    memset(out, 0, rows * cols * sizeof *out);
    for (size_t l = 0; l < L; l++) {
        if (layer >= 0 && (size_t)layer != l) continue;
        for (size_t h = 0; h < t->n_heads; h++) {
            if (head >= 0 && (size_t)head != h) continue;
            const float *m = trace_map(t, kind, l, h, &rows, &cols, &stride);
            for (size_t q = 0; q < rows; q++)
                for (size_t k = 0; k < cols; k++) out[q * cols + k] += m[q * stride + k];
            n++;
        }
    }
    if (n > 1)
        for (size_t i = 0; i < rows * cols; i++) out[i] /= (float)n;
    *rows_out = rows;
    *cols_out = cols;
}

an_grid *an_grid_new(size_t rows, size_t cols)
{
    an_grid *g = xcalloc(1, sizeof *g);
    g->rows = rows;
    g->cols = cols;
    g->sum = xcalloc(rows * cols + 1, sizeof *g->sum);
    g->count = xcalloc(rows * cols + 1, sizeof *g->count);
    return g;
}

void an_grid_free(an_grid *g)
{
    if (!g) return;
    free(g->sum);
    free(g->count);
    free(g);
}

static int row_ok(const float *p, size_t n)
{
    double s = 0;
    for (size_t k = 0; k < n; k++) s += p[k];
    return s >= AN_ROW_MIN_SUM;
}

void an_grid_add(an_grid *g, const float *map, size_t rows, size_t cols, size_t stride)
{
    for (size_t q = 0; q < rows && q < g->rows; q++) {
        const float *p = map + q * stride;
        if (!row_ok(p, cols)) continue;
        for (size_t k = 0; k < cols && k < g->cols; k++) {
            g->sum[q * g->cols + k] += p[k];
            g->count[q * g->cols + k] += 1;
        }
    }
}

void an_grid_add_by_class(an_grid *g, const float *map, size_t rows, size_t cols, size_t stride,
                          const int *q_tokens, const int *k_tokens)
{
    if (g->rows < AN_TC_COUNT || g->cols < AN_TC_COUNT) return;
    for (size_t q = 0; q < rows; q++) {
        const float *p = map + q * stride;
        if (!row_ok(p, cols)) continue;
        size_t a = an_token_class(q_tokens[q]);
        double mass[AN_TC_COUNT] = {0};
        for (size_t k = 0; k < cols; k++) mass[an_token_class(k_tokens[k])] += p[k];
        for (size_t b = 0; b < AN_TC_COUNT; b++) {
            g->sum[a * g->cols + b] += mass[b];
            g->count[a * g->cols + b] += 1;
        }
    }
}

void an_grid_mean(const an_grid *g, float *out)
{
    for (size_t i = 0; i < g->rows * g->cols; i++)
        out[i] = g->count[i] > 0 ? (float)(g->sum[i] / g->count[i]) : 0.0f;
}

void an_summary_map(const attn_trace *t, t5_attn_kind kind, float *out, size_t *cols_out)
{
    size_t L = kind_layers(t, kind), rows = 0, cols = 0, stride = 0;
    trace_map(t, kind, 0, 0, &rows, &cols, &stride);
    memset(out, 0, L * cols * sizeof *out);
    for (size_t l = 0; l < L; l++)
        for (size_t h = 0; h < t->n_heads; h++) {
            const float *m = trace_map(t, kind, l, h, &rows, &cols, &stride);
            size_t nv = 0;
            double *acc = xcalloc(cols + 1, sizeof *acc);
            for (size_t q = 0; q < rows; q++) {
                const float *p = m + q * stride;
                if (!row_ok(p, cols)) continue;
                nv++;
                for (size_t k = 0; k < cols; k++) acc[k] += p[k];
            }
            if (nv)
                for (size_t k = 0; k < cols; k++) out[l * cols + k] += (float)(acc[k] / (double)nv);
            free(acc);
        }
    *cols_out = cols;
}

/* mean over heads of one layer's maps of kind into A (rows, cols), dense */
static void head_mean(const attn_trace *t, t5_attn_kind kind, size_t l, double *A, size_t rows,
                      size_t cols)
{
    memset(A, 0, rows * cols * sizeof *A);
    for (size_t h = 0; h < t->n_heads; h++) {
        size_t r, c, st;
        const float *m = trace_map(t, kind, l, h, &r, &c, &st);
        for (size_t q = 0; q < rows && q < r; q++)
            for (size_t k = 0; k < cols && k < c; k++)
                A[q * cols + k] += m[q * st + k] / (double)t->n_heads;
    }
}

/* Rollout's residual: A = 0.5 A + 0.5 I on the (n, n) map, each row then
 * renormalised to sum 1. */
static void add_residual(double *A, size_t n)
{
    for (size_t q = 0; q < n; q++) {
        double s = 0;
        for (size_t k = 0; k < n; k++) {
            A[q * n + k] = 0.5 * A[q * n + k] + (q == k ? 0.5 : 0.0);
            s += A[q * n + k];
        }
        if (s > 0)
            for (size_t k = 0; k < n; k++) A[q * n + k] /= s;
    }
}

/* out (n, m) = A (n, k) B (k, m); out must not alias A or B. */
static void mat_mul(double *out, const double *A, const double *B, size_t n, size_t k, size_t m)
{
    for (size_t q = 0; q < n; q++)
        for (size_t c = 0; c < m; c++) {
            double v = 0;
            for (size_t j = 0; j < k; j++) v += A[q * k + j] * B[j * m + c];
            out[q * m + c] = v;
        }
}

void an_rollout(const attn_trace *t, t5_attn_kind kind, float *out, size_t *n_out)
{
    size_t L = kind_layers(t, kind), rows = 0, cols = 0, stride = 0;
    trace_map(t, kind, 0, 0, &rows, &cols, &stride);
    size_t n = rows < cols ? rows : cols;
    double *R = xcalloc(n * n + 1, sizeof *R), *A = xcalloc(n * n + 1, sizeof *A),
           *T = xcalloc(n * n + 1, sizeof *T);
    for (size_t i = 0; i < n; i++) R[i * n + i] = 1.0;
    for (size_t l = 0; l < L; l++) {
        head_mean(t, kind, l, A, n, n);
        add_residual(A, n);
        mat_mul(T, A, R, n, n, n); /* R = A R */
        memcpy(R, T, n * n * sizeof *R);
    }
    for (size_t i = 0; i < n * n; i++) out[i] = (float)R[i];
    *n_out = n;
    free(R);
    free(A);
    free(T);
}

void an_rollout_cross(const attn_trace *t, float *out, size_t *rows_out, size_t *cols_out)
{
    size_t nd = t->n_rows, ns = t->n_src, n_enc;
    *rows_out = nd;
    *cols_out = ns;
    if (!nd || !ns) return;
    float *renc = xcalloc(ns * ns + 1, sizeof *renc);
    an_rollout(t, T5_ATTN_ENC_SELF, renc, &n_enc);
    double *Rdd = xcalloc(nd * nd + 1, sizeof *Rdd), *Rds = xcalloc(nd * ns + 1, sizeof *Rds);
    double *A = xcalloc(nd * nd + 1, sizeof *A), *C = xcalloc(nd * ns + 1, sizeof *C);
    double *T1 = xcalloc(nd * nd + 1, sizeof *T1), *T2 = xcalloc(nd * ns + 1, sizeof *T2);
    for (size_t i = 0; i < nd; i++) Rdd[i * nd + i] = 1.0;
    for (size_t l = 0; l < t->n_dec_layers; l++) {
        head_mean(t, T5_ATTN_DEC_SELF, l, A, nd, nd);
        add_residual(A, nd);
        mat_mul(T1, A, Rdd, nd, nd, nd); /* R_dd = A R_dd */
        mat_mul(T2, A, Rds, nd, nd, ns); /* R_ds = A R_ds */
        /* cross: half stays, half goes to the source through the encoder */
        head_mean(t, T5_ATTN_CROSS, l, C, nd, ns);
        for (size_t q = 0; q < nd; q++) {
            for (size_t k = 0; k < nd; k++) Rdd[q * nd + k] = 0.5 * T1[q * nd + k];
            for (size_t k = 0; k < ns; k++) {
                double v = 0;
                for (size_t j = 0; j < ns && j < n_enc; j++) v += C[q * ns + j] * renc[j * n_enc + k];
                Rds[q * ns + k] = 0.5 * T2[q * ns + k] + 0.5 * v;
            }
        }
    }
    for (size_t i = 0; i < nd * ns; i++) out[i] = (float)Rds[i];
    free(renc);
    free(Rdd);
    free(Rds);
    free(A);
    free(C);
    free(T1);
    free(T2);
}
