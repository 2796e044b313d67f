/* ridge.c - ridge regression for the probes (see probe.h): standardised
 * features, Gram matrices through BLAS (dsyrk, dgemm), a Cholesky solve per
 * penalty, the penalty chosen per column group on a validation split.
 *
 * In double precision throughout: a probe's Gram matrix over a model's
 * hidden states is badly conditioned (few directions carry most variance),
 * and the solves are tiny (C x C) next to the forward passes.
 * Deliberately not here: which rows and targets (probe.c). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

/* Penalties tried, as multiples of the number of fitted rows: on
 * standardised features the Gram's diagonal is that number. */
static const double LAMBDAS[AN_RIDGE_N_LAMBDA] = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0};

/* A fitted model: feature means/scales, target means, weights (C, m). */
typedef struct {
    double *mu, *sd, *ymu, *w;
} ridge_model;

/* Z (n, C) standardised rows rows[] of X by mu, sd. */
static void standardise(double *Z, const float *X, size_t C, const size_t *rows, size_t n,
                        const double *mu, const double *sd)
{
    for (size_t i = 0; i < n; i++) {
        const float *x = X + rows[i] * C;
        for (size_t j = 0; j < C; j++) Z[i * C + j] = ((double)x[j] - mu[j]) / sd[j];
    }
}

/* Lower Cholesky of A (C, C) in place; -1 when not positive definite. */
static int cholesky(double *A, size_t C)
{
    for (size_t j = 0; j < C; j++) {
        double d = A[j * C + j];
        for (size_t k = 0; k < j; k++) d -= A[j * C + k] * A[j * C + k];
        if (!(d > 0)) return -1;
        d = sqrt(d);
        A[j * C + j] = d;
        for (size_t i = j + 1; i < C; i++) {
            double s = A[i * C + j];
            for (size_t k = 0; k < j; k++) s -= A[i * C + k] * A[j * C + k];
            A[i * C + j] = s / d;
        }
    }
    return 0;
}

/* Solve L L^T x = b for m right-hand sides B (C, m) in place. */
static void chol_solve(const double *L, double *B, size_t C, size_t m)
{
    for (size_t c = 0; c < m; c++) {
        for (size_t i = 0; i < C; i++) {
            double s = B[i * m + c];
            for (size_t k = 0; k < i; k++) s -= L[i * C + k] * B[k * m + c];
            B[i * m + c] = s / L[i * C + i];
        }
        for (size_t i = C; i-- > 0;) {
            double s = B[i * m + c];
            for (size_t k = i + 1; k < C; k++) s -= L[k * C + i] * B[k * m + c];
            B[i * m + c] = s / L[i * C + i];
        }
    }
}

/* The normal equations of rows[] (n): G = Z^T Z (full), B = Z^T (Y - ymu)
 * (C, m), with the standardisation fitted on these rows into mdl. */
static void normal_equations(const an_ridge_job *j, const size_t *rows, size_t n, ridge_model *mdl,
                             double *G, double *B, double *Z, double *Yc)
{
    size_t C = j->C, m = j->m;
    for (size_t c = 0; c < C; c++) {
        double s = 0.0, ss = 0.0;
        for (size_t i = 0; i < n; i++) s += j->X[rows[i] * C + c];
        double mu = s / (double)n;
        for (size_t i = 0; i < n; i++) {
            double d = j->X[rows[i] * C + c] - mu;
            ss += d * d;
        }
        double sd = sqrt(ss / (double)n);
        mdl->mu[c] = mu;
        mdl->sd[c] = sd > 1e-12 ? sd : 1.0;
    }
    for (size_t k = 0; k < m; k++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += j->Y[rows[i] * m + k];
        mdl->ymu[k] = s / (double)n;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < m; k++) Yc[i * m + k] = j->Y[rows[i] * m + k] - mdl->ymu[k];
    standardise(Z, j->X, C, rows, n, mdl->mu, mdl->sd);
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)C, (int)n, 1.0, Z, (int)C, 0.0, G,
                (int)C);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)C, (int)m, (int)n, 1.0, Z, (int)C,
                Yc, (int)m, 0.0, B, (int)m);
}

/* W (C, m) = (G + lambda I)^-1 B; G lower triangle used. */
static int solve(const double *G, const double *B, double lambda, size_t C, size_t m, double *A,
                 double *W)
{
    for (size_t r = 0; r < C; r++)
        for (size_t c = 0; c <= r; c++) A[r * C + c] = G[r * C + c] + (r == c ? lambda : 0.0);
    if (cholesky(A, C)) return -1;
    memcpy(W, B, C * m * sizeof *W);
    chol_solve(A, W, C, m);
    return 0;
}

/* pred (n, m) for rows[] under mdl (weights w). */
static void predict(const an_ridge_job *j, const ridge_model *mdl, const size_t *rows, size_t n,
                    double *Z, double *pred)
{
    size_t C = j->C, m = j->m;
    standardise(Z, j->X, C, rows, n, mdl->mu, mdl->sd);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < m; k++) pred[i * m + k] = mdl->ymu[k];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)m, (int)C, 1.0, Z,
                (int)C, mdl->w, (int)m, 1.0, pred, (int)m);
}

/* The score of group g (columns k0 .. k0+size-1) of pred against Y's rows:
 * lower is better (mean squared error, or minus the accuracy). */
static double group_loss(const an_ridge_job *j, const double *pred, const size_t *rows, size_t n,
                         size_t k0, size_t size)
{
    double loss = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double *p = pred + i * j->m, *y = j->Y + rows[i] * j->m;
        if (size == 1) {
            double d = p[k0] - y[k0];
            loss += d * d;
        } else {
            size_t best = k0, truth = k0;
            for (size_t k = k0; k < k0 + size; k++) {
                if (p[k] > p[best]) best = k;
                if (y[k] > y[truth]) truth = k;
            }
            loss -= best == truth;
        }
    }
    return loss / (double)(n ? n : 1);
}

int an_ridge(const an_ridge_job *j, double *pred, as_err *err)
{
    size_t C = j->C, m = j->m, n_tr = j->n_fit + j->n_val;
    size_t nmax = n_tr > j->n_test ? n_tr : j->n_test;
    double *mem = xmalloc((3 * C + m + 3 * C * C + 2 * C * m * (AN_RIDGE_N_LAMBDA + 1) +
                           2 * nmax * (C + m) + m) * sizeof *mem);
    ridge_model mdl;
    mdl.mu = mem, mdl.sd = mdl.mu + C, mdl.ymu = mdl.sd + C;
    double *G = mdl.ymu + m, *A = G + C * C, *B = A + C * C, *W = B + C * m;
    double *Z = W + C * m * (AN_RIDGE_N_LAMBDA + 1), *Yc = Z + nmax * C, *vp = Yc + nmax * m;
    size_t *all = xmalloc(n_tr * sizeof *all), *choice = xcalloc(j->n_groups, sizeof *choice);
    memcpy(all, j->fit, j->n_fit * sizeof *all);
    memcpy(all + j->n_fit, j->val, j->n_val * sizeof *all);
    int rc = 0;

    /* 1. Fit on the fit rows for every penalty, score each group on val. */
    double *best = xmalloc(j->n_groups * sizeof *best);
    for (size_t g = 0; g < j->n_groups; g++) best[g] = INFINITY;
    normal_equations(j, j->fit, j->n_fit, &mdl, G, B, Z, Yc);
    for (size_t l = 0; l < AN_RIDGE_N_LAMBDA && j->n_val; l++) {
        double *Wl = W + l * C * m;
        if (solve(G, B, LAMBDAS[l] * (double)j->n_fit, C, m, A, Wl)) continue;
        mdl.w = Wl;
        predict(j, &mdl, j->val, j->n_val, Z, vp);
        for (size_t g = 0, k0 = 0; g < j->n_groups; k0 += j->gsize[g++]) {
            double loss = group_loss(j, vp, j->val, j->n_val, k0, j->gsize[g]);
            if (loss < best[g] - 1e-12) best[g] = loss, choice[g] = l;
        }
    }
    /* 2. Refit on fit + val with each group's penalty, predict test. */
    normal_equations(j, all, n_tr, &mdl, G, B, Z, Yc);
    double *Wf = W + AN_RIDGE_N_LAMBDA * C * m; /* the final weights, column by group */
    for (size_t l = 0; l < AN_RIDGE_N_LAMBDA && !rc; l++) {
        int used = 0;
        for (size_t g = 0; g < j->n_groups; g++) used |= choice[g] == l;
        if (!used) continue;
        if (solve(G, B, LAMBDAS[l] * (double)n_tr, C, m, A, W)) {
            rc = as_errf(err, "ridge: the normal equations are not positive definite");
            break;
        }
        for (size_t g = 0, k0 = 0; g < j->n_groups; k0 += j->gsize[g++])
            if (choice[g] == l)
                for (size_t r = 0; r < C; r++)
                    for (size_t k = k0; k < k0 + j->gsize[g]; k++) Wf[r * m + k] = W[r * m + k];
    }
    if (!rc) {
        mdl.w = Wf;
        predict(j, &mdl, j->test, j->n_test, Z, pred);
    }
    free(best);
    free(all);
    free(choice);
    free(mem);
    return rc;
}
