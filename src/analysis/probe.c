/* probe.c - linear probes of the quadratic task's quantities from hidden
 * states (see probe.h): position classes of sources and targets, one
 * teacher-forced pass per equation with the state hook, class-mean
 * features, ridge fits with a shuffled-label baseline.
 *
 * Deliberately not here: the solver (ridge.c), writing tables and figures
 * (probe_write.c). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "byt5.h"
#include "hidden.h"
#include "probe.h"
#include "tokenizer.h"

static const char *const PC_NAMES[AN_PC_COUNT] = {
    "a", "x", "^", "2", "+-b", "b", "x'", "+-c", "c", "=", "0", "eos",
    "D=(..)", ")=", "D", "x=(..)",
};

const char *an_pc_name(an_pos_class c) { return (unsigned)c < AN_PC_COUNT ? PC_NAMES[c] : "?"; }

int an_pc_special(an_pos_class c)
{
    switch (c) {
    case AN_PC_X1: case AN_PC_CARET: case AN_PC_SIGN_B: case AN_PC_X2: case AN_PC_SIGN_C:
    case AN_PC_EQ: case AN_PC_EOS: case AN_PC_DEQ:
        return 1;
    default:
        return 0;
    }
}

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* Digits from s[*i], classed c; at least one. */
static int digits(const char *s, size_t *i, an_pos_class c, an_pos_class *cls)
{
    size_t start = *i;
    while (is_digit(s[*i])) cls[(*i)++] = c;
    return *i > start ? 0 : -1;
}

static int one(const char *s, size_t *i, const char *allowed, an_pos_class c, an_pos_class *cls)
{
    if (!s[*i] || !strchr(allowed, s[*i])) return -1;
    cls[(*i)++] = c;
    return 0;
}

int an_pc_source(const char *s, an_pos_class *cls)
{
    size_t i = 0;
    if (digits(s, &i, AN_PC_A, cls) || one(s, &i, "x", AN_PC_X1, cls) ||
        one(s, &i, "^", AN_PC_CARET, cls) || one(s, &i, "2", AN_PC_TWO, cls) ||
        one(s, &i, "+-", AN_PC_SIGN_B, cls) || digits(s, &i, AN_PC_B, cls) ||
        one(s, &i, "x", AN_PC_X2, cls) || one(s, &i, "+-", AN_PC_SIGN_C, cls) ||
        digits(s, &i, AN_PC_C, cls) || one(s, &i, "=", AN_PC_EQ, cls) ||
        one(s, &i, "0", AN_PC_ZERO, cls) || s[i])
        return -1;
    cls[i] = AN_PC_EOS;
    return 0;
}

void an_pc_target(const char *t, an_pos_class *cls)
{
    size_t n = strlen(t);
    for (size_t r = 0; r <= n; r++) cls[r] = AN_PC_COUNT;
    /* Row r + 1 is fed t[r]. */
    if (strncmp(t, "D=(", 3)) return;
    const char *eq = strchr(t + 3, '=');
    if (!eq || eq - t < 4) return;
    size_t e = (size_t)(eq - t);
    for (size_t r = 3; r + 1 < e; r++) cls[r + 1] = AN_PC_DEXPR;
    cls[e + 1] = AN_PC_DEQ;
    for (size_t r = e + 1; r < n && t[r] != ';'; r++) cls[r + 1] = AN_PC_DVAL;
    const char *x = strstr(eq, "x=(");
    if (!x) return;
    const char *end = strstr(x, ")/");
    if (!end) return;
    for (size_t r = (size_t)(x - t) + 3; r < (size_t)(end - t); r++) cls[r + 1] = AN_PC_XEXPR;
}

int an_task_model_load(t5_model *m, const char *dir, as_err *err)
{
    tok_vocab *tok = tok_open(dir, err);
    if (!tok) return -1;
    int byte_level = tok_kind_of(tok) == TOK_BYT5;
    tok_free(tok);
    if (!byte_level)
        return as_errf(err, "%s: probes and patching read the task's characters and need a "
                            "byte-level (ByT5) model; this one has a SentencePiece vocabulary",
                       dir);
    return t5_load_mapped(m, dir, err);
}

/* ---- quantities --------------------------------------------------------------- */

static size_t n_digits(int64_t v)
{
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    size_t n = 1;
    while (u >= 10) u /= 10, n++;
    return n;
}

/* The regression values of one solved equation (NaN where not defined). */
static void values(const quad_solution *s, double *v)
{
    const quad_eq *e = &s->eq;
    v[AN_PQ_A] = (double)e->a;
    v[AN_PQ_B] = (double)e->b;
    v[AN_PQ_C] = (double)e->c;
    v[AN_PQ_B2] = (double)e->b * (double)e->b;
    v[AN_PQ_4AC] = 4.0 * (double)e->a * (double)e->c;
    v[AN_PQ_D] = (double)s->D;
    int real = s->D >= 0;
    v[AN_PQ_SQRTD] = real ? sqrt((double)s->D) : NAN;
    v[AN_PQ_X1] = real ? s->re[0] : NAN;
    v[AN_PQ_X2] = real ? s->re[1] : NAN;
}

/* ---- the run ------------------------------------------------------------------ */

static int cmp_eq(const void *pa, const void *pb)
{
    const quad_eq *a = pa, *b = pb;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    if (a->b != b->b) return a->b < b->b ? -1 : 1;
    if (a->c != b->c) return a->c < b->c ? -1 : 1;
    return 0;
}

/* Features of one (slot, class): per equation the mean of the class's
 * positions (C floats) and whether the equation has the class. */
typedef struct {
    float *x;              /* (n_eq, C) */
    unsigned char *has;    /* (n_eq) */
} feature_set;

typedef struct {
    size_t n_slots, C, n_eq;
    feature_set *f;        /* (n_slots, AN_PC_COUNT), NULL x where the class is not in the slot's stack */
} features;

static int slot_is_enc(const an_probe_result *r, size_t slot) { return slot < r->n_enc_slots; }

static int class_in_slot(const an_probe_result *r, size_t slot, size_t c)
{
    return slot_is_enc(r, slot) ? c < AN_PC_N_ENC : c >= AN_PC_N_ENC;
}

/* Add the class means of one run's captured residual stream. */
static void add_features(features *F, const an_probe_result *r, const an_states *st, size_t eq,
                         const an_pos_class *src_cls, size_t n_src, const an_pos_class *dec_cls,
                         size_t n_dec)
{
    size_t C = F->C;
    for (size_t slot = 0; slot < F->n_slots; slot++) {
        int enc = slot_is_enc(r, slot);
        t5_stack stack = enc ? T5_ENCODER : T5_DECODER;
        size_t layer = enc ? slot : slot - r->n_enc_slots;
        t5_state_kind kind = layer == 0 ? T5_STATE_EMBED : T5_STATE_RESID;
        size_t l = layer == 0 ? 0 : layer - 1;
        const an_pos_class *cls = enc ? src_cls : dec_cls;
        size_t n = enc ? n_src : n_dec;
        for (size_t c = 0; c < AN_PC_COUNT; c++) {
            feature_set *fs = &F->f[slot * AN_PC_COUNT + c];
            if (!fs->x) continue;
            float *dst = fs->x + eq * C;
            size_t count = 0;
            memset(dst, 0, C * sizeof *dst);
            for (size_t p = 0; p < n; p++) {
                if (cls[p] != (an_pos_class)c) continue;
                const float *row = an_states_row(st, stack, kind, l, p);
                if (!row) continue;
                for (size_t k = 0; k < C; k++) dst[k] += row[k];
                count++;
            }
            if (count)
                for (size_t k = 0; k < C; k++) dst[k] /= (float)count;
            fs->has[eq] = count > 0;
        }
    }
}

/* One equation's teacher-forced pass into row i of the features and the
 * targets; the buffers are the calling thread's own. */
static int collect_one(t5_run *run, an_states *st, const t5_model *m, const quad_eq *eq, size_t i,
                       features *F, const an_probe_result *r, double *vals, int *digits_of,
                       size_t places, int *src, int *dec, an_pos_class *scls, an_pos_class *dcls,
                       as_err *err)
{
    size_t max_src = QUAD_SOURCE_MAX + 1, max_tgt = QUAD_TARGET_MAX + 1;
    quad_solution sol;
    char s[QUAD_SOURCE_MAX];
    if (quad_solve(eq, &sol, err)) return -1;
    quad_format_source(&sol.eq, s, sizeof s);
    size_t ns = byt5_encode_eos(s, src, max_src);
    size_t tl = strlen(sol.target);
    if (an_pc_source(s, scls) || tl + 1 > max_tgt)
        return as_errf(err, "equation %zu (%s): not a canonical source", i + 1, s);
    an_pc_target(sol.target, dcls);
    dec[0] = m->cfg.decoder_start_token_id;
    size_t nt = byt5_encode(sol.target, dec + 1, max_tgt - 1) + 1;
    an_states_clear(st);
    if (t5_teacher_forced(run, src, ns, dec, nt, NULL, err)) return -1;
    add_features(F, r, st, i, scls, ns, dcls, nt);
    values(&sol, vals + i * AN_PQ_N_VALUES);
    uint64_t u = sol.D < 0 ? (uint64_t)(-(sol.D + 1)) + 1 : (uint64_t)sol.D;
    for (size_t k = 0; k < places; k++, u /= 10) digits_of[i * places + k] = (int)(u % 10);
    return 0;
}

/* One teacher-forced pass per equation into the features, and the targets
 * Y (n, n_targets_columns) with NaN where a value is not defined. The
 * equations are spread over the threads, each with one BLAS thread: the
 * products of one equation are small, and BLAS threads that wait for a busy
 * core stall every pass. */
static int collect(const t5_model *m, const quad_eq *eqs, size_t n, features *F,
                   const an_probe_result *r, double *vals, int *digits_of, size_t places,
                   an_probe_progress progress, void *puser, as_err *err)
{
    size_t max_src = QUAD_SOURCE_MAX + 1, max_tgt = QUAD_TARGET_MAX + 1;
    int nthreads = omp_get_max_threads(), blas = openblas_get_num_threads();
    if ((size_t)nthreads > n) nthreads = n ? (int)n : 1;
    openblas_set_num_threads(1);
    int failed = 0;
    size_t done = 0;
#pragma omp parallel num_threads(nthreads)
    {
        t5_run *run = t5_run_new(m, max_src, max_tgt);
        an_states st;
        an_states_init(&st, m, max_src, max_tgt);
        t5_run_set_state_hook(run, an_states_hook, &st);
        int *src = xmalloc(max_src * sizeof *src), *dec = xmalloc(max_tgt * sizeof *dec);
        an_pos_class *scls = xmalloc(max_src * sizeof *scls);
        an_pos_class *dcls = xmalloc(max_tgt * sizeof *dcls);
        as_err terr = {{0}};
#pragma omp for schedule(dynamic, 4)
        for (size_t i = 0; i < n; i++) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop) continue;
            if (collect_one(run, &st, m, &eqs[i], i, F, r, vals, digits_of, places, src, dec, scls,
                            dcls, &terr)) {
#pragma omp critical(probe_fail)
                if (!failed) failed = 1, *err = terr;
                continue;
            }
            size_t d;
#pragma omp atomic capture
            d = ++done;
            if (progress && omp_get_thread_num() == 0) progress(puser, d, n);
        }
        free(src), free(dec), free(scls), free(dcls);
        an_states_free(&st);
        t5_run_free(run);
    }
    openblas_set_num_threads(blas);
    if (!failed && progress) progress(puser, n, n);
    return failed ? -1 : 0;
}

/* Held-out R^2 of prediction column pk of pred (rows n, stride ps) against
 * truth column yk of y (rows rows[], stride ys); or, classify, the accuracy
 * of the argmax over 10 columns from pk against the truth's from yk. */
static double score(const double *pred, size_t ps, size_t pk, const double *y, size_t ys,
                    size_t yk, int classify, const size_t *rows, size_t n)
{
    if (classify) {
        size_t right = 0;
        for (size_t i = 0; i < n; i++) {
            const double *p = pred + i * ps + pk, *t = y + rows[i] * ys + yk;
            size_t best = 0, truth = 0;
            for (size_t k = 1; k < 10; k++) {
                if (p[k] > p[best]) best = k;
                if (t[k] > t[truth]) truth = k;
            }
            right += best == truth;
        }
        return (double)right / (double)n;
    }
    double mean = 0.0, sse = 0.0, sst = 0.0;
    for (size_t i = 0; i < n; i++) mean += y[rows[i] * ys + yk];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double t = y[rows[i] * ys + yk], d = pred[i * ps + pk] - t;
        sse += d * d;
        sst += (t - mean) * (t - mean);
    }
    return sst > 0 ? 1.0 - sse / sst : NAN;
}

/* Fewest fitted / held-out equations a (slot, class, group) needs. */
#define MIN_ROWS 10

/* A group of targets fitted together (they share their rows): targets
 * tidx[0..nt-1], each at columns tcol[t] .. + tsize[t] of Y. */
typedef struct {
    size_t nt;
    size_t tidx[AN_PQ_N_VALUES + AN_PQ_MAX_PLACES];
    size_t tcol[AN_PQ_N_VALUES + AN_PQ_MAX_PLACES];
    size_t tsize[AN_PQ_N_VALUES + AN_PQ_MAX_PLACES];
} target_group;

/* Fit one (slot, class) for one group on the equations that have the class
 * and the group's first target, true labels and shuffled training labels
 * side by side, and store the held-out scores. */
static int fit_group(an_probe_result *r, const feature_set *fs, size_t C, const double *Y,
                     size_t ycols, const target_group *g, const size_t *order, size_t slot,
                     size_t cls, uint64_t seed, as_err *err)
{
    size_t n = r->n_eq, m = 0;
    for (size_t t = 0; t < g->nt; t++) m += g->tsize[t];
    size_t *fit = xmalloc(n * sizeof *fit), *val = xmalloc(n * sizeof *val),
           *test = xmalloc(n * sizeof *test), *tr = xmalloc(n * sizeof *tr);
    size_t nf = 0, nv = 0, ne = 0;
    /* order: the test equations first, then the training ones; the last
     * fifth of the training ones choose the penalty. */
    size_t val_from = r->n_test + (r->n_train * 4) / 5;
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        if (!fs->has[i] || isnan(Y[i * ycols + g->tcol[0]])) continue;
        if (k < r->n_test) test[ne++] = i;
        else if (k < val_from) fit[nf++] = i;
        else val[nv++] = i;
    }
    int rc = 0;
    if (nf >= MIN_ROWS && nv >= 2 && ne >= MIN_ROWS) {
        size_t w = 2 * m;
        double *Yg = xcalloc(n * w, sizeof *Yg), *pred = xmalloc(ne * w * sizeof *pred);
        size_t gs[2 * (AN_PQ_N_VALUES + AN_PQ_MAX_PLACES)];
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0, o = 0; t < g->nt; o += g->tsize[t++])
                for (size_t k = 0; k < g->tsize[t]; k++)
                    Yg[i * w + o + k] = Yg[i * w + m + o + k] = Y[i * ycols + g->tcol[t] + k];
        /* The baseline: the training labels permuted among the training
         * equations (Fisher-Yates, seeded by slot and class). */
        size_t ntr = 0;
        for (size_t k = 0; k < nf; k++) tr[ntr++] = fit[k];
        for (size_t k = 0; k < nv; k++) tr[ntr++] = val[k];
        size_t *perm = xmalloc(ntr * sizeof *perm);
        for (size_t k = 0; k < ntr; k++) perm[k] = tr[k];
        as_rng rng;
        rng_seed(&rng, seed * 1000003u + slot * AN_PC_COUNT + cls);
        for (size_t k = ntr; k > 1; k--) {
            size_t j = (size_t)rng_range(&rng, 0, (int64_t)k - 1), tmp = perm[k - 1];
            perm[k - 1] = perm[j], perm[j] = tmp;
        }
        for (size_t k = 0; k < ntr; k++)
            for (size_t t = 0, o = 0; t < g->nt; o += g->tsize[t++])
                for (size_t q = 0; q < g->tsize[t]; q++)
                    Yg[tr[k] * w + m + o + q] = Y[perm[k] * ycols + g->tcol[t] + q];
        free(perm);
        for (size_t t = 0; t < g->nt; t++) gs[t] = gs[g->nt + t] = g->tsize[t];
        an_ridge_job job = {fs->x, C, Yg, w, fit, val, test, nf, nv, ne, gs, 2 * g->nt};
        rc = an_ridge(&job, pred, err);
        for (size_t t = 0, o = 0; t < g->nt && !rc; o += g->tsize[t++]) {
            size_t at = (g->tidx[t] * r->n_slots + slot) * AN_PC_COUNT + cls;
            int classify = g->tsize[t] > 1;
            r->score[at] = score(pred, w, o, Yg, w, o, classify, test, ne);
            r->shuffled[at] = score(pred, w, m + o, Yg, w, o, classify, test, ne);
        }
        free(pred);
        free(Yg);
    }
    free(fit), free(val), free(test), free(tr);
    return rc;
}

const char *an_probe_slot_name(const an_probe_result *r, size_t slot, char *buf, size_t cap)
{
    int enc = slot < r->n_enc_slots;
    size_t layer = enc ? slot : slot - r->n_enc_slots;
    if (layer == 0) snprintf(buf, cap, "%s emb", enc ? "enc" : "dec");
    else snprintf(buf, cap, "%s %zu", enc ? "enc" : "dec", layer);
    return buf;
}

int an_probe_is_digit(const an_probe_result *r, size_t target)
{
    return target >= AN_PQ_N_VALUES && target < r->n_targets;
}

void an_probe_free(an_probe_result *r)
{
    if (!r) return;
    free(r->target_name);
    free(r->score);
    free(r->shuffled);
    free(r->chance);
    memset(r, 0, sizeof *r);
}

static const char *const VALUE_NAMES[AN_PQ_N_VALUES] = {"a", "b", "c", "b^2", "4ac", "D",
                                                        "sqrt(D)", "x1", "x2"};

int an_probe_run(const t5_model *m, const quad_eq *eqs_in, size_t n_in, uint64_t seed,
                 an_probe_result *r, an_probe_progress progress, void *puser, as_err *err)
{
    double t0 = util_now();
    memset(r, 0, sizeof *r);
    if (m->cfg.vocab_size < 259)
        return as_errf(err, "the model's vocabulary (%zu ids) is not byte-level (ByT5 needs 259+)",
                       m->cfg.vocab_size);
    /* Distinct equations in a seeded random order: the first fifth is held out. */
    quad_eq *eqs = xmalloc((n_in ? n_in : 1) * sizeof *eqs);
    memcpy(eqs, eqs_in, n_in * sizeof *eqs);
    qsort(eqs, n_in, sizeof *eqs, cmp_eq);
    size_t n = 0;
    for (size_t i = 0; i < n_in; i++)
        if (n == 0 || cmp_eq(&eqs[n - 1], &eqs[i])) eqs[n++] = eqs[i];
    if (n < 5 * MIN_ROWS) {
        free(eqs);
        return as_errf(err, "%zu distinct equations are too few to probe (at least %d)", n,
                       5 * MIN_ROWS);
    }
    size_t *order = xmalloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = i;
    as_rng rng;
    rng_seed(&rng, seed);
    for (size_t k = n; k > 1; k--) {
        size_t j = (size_t)rng_range(&rng, 0, (int64_t)k - 1), tmp = order[k - 1];
        order[k - 1] = order[j], order[j] = tmp;
    }
    r->n_eq = n;
    r->n_test = n / 5;
    r->n_train = n - r->n_test;
    r->n_enc_slots = m->cfg.num_layers + 1;
    r->n_dec_slots = m->cfg.num_decoder_layers + 1;
    r->n_slots = r->n_enc_slots + r->n_dec_slots;
    /* Digit places: as many as the largest |D| has. */
    size_t places = 1;
    for (size_t i = 0; i < n; i++) {
        quad_eq *e = &eqs[i];
        double D = (double)e->b * (double)e->b - 4.0 * (double)e->a * (double)e->c;
        size_t d = fabs(D) < 9e18 ? n_digits((int64_t)D) : AN_PQ_MAX_PLACES;
        if (d > places) places = d;
    }
    if (places > AN_PQ_MAX_PLACES) places = AN_PQ_MAX_PLACES;
    r->places = places;
    r->n_targets = AN_PQ_N_VALUES + places;
    r->target_name = xcalloc(r->n_targets, sizeof *r->target_name);
    for (size_t t = 0; t < r->n_targets; t++) {
        if (t < AN_PQ_N_VALUES) snprintf(r->target_name[t], 24, "%s", VALUE_NAMES[t]);
        else snprintf(r->target_name[t], 24, "D 10^%u", (unsigned)(t - AN_PQ_N_VALUES));
    }
    size_t cells = r->n_targets * r->n_slots * AN_PC_COUNT;
    r->score = xmalloc(cells * sizeof *r->score);
    r->shuffled = xmalloc(cells * sizeof *r->shuffled);
    for (size_t i = 0; i < cells; i++) r->score[i] = r->shuffled[i] = NAN;
    r->chance = xcalloc(places, sizeof *r->chance);

    size_t C = m->cfg.d_model;
    features F = {r->n_slots, C, n, xcalloc(r->n_slots * AN_PC_COUNT, sizeof(feature_set))};
    for (size_t slot = 0; slot < r->n_slots; slot++)
        for (size_t c = 0; c < AN_PC_COUNT; c++)
            if (class_in_slot(r, slot, c)) {
                F.f[slot * AN_PC_COUNT + c].x = xmalloc(n * C * sizeof(float));
                F.f[slot * AN_PC_COUNT + c].has = xcalloc(n, 1);
            }
    double *vals = xmalloc(n * AN_PQ_N_VALUES * sizeof *vals);
    int *dig = xmalloc(n * places * sizeof *dig);
    int rc = collect(m, eqs, n, &F, r, vals, dig, places, progress, puser, err);

    /* The target matrix: values, then one-hot digits. */
    size_t ycols = AN_PQ_N_VALUES + 10 * places;
    double *Y = xcalloc(n * ycols, sizeof *Y);
    for (size_t i = 0; i < n && !rc; i++) {
        memcpy(Y + i * ycols, vals + i * AN_PQ_N_VALUES, AN_PQ_N_VALUES * sizeof *Y);
        for (size_t p = 0; p < places; p++)
            Y[i * ycols + AN_PQ_N_VALUES + 10 * p + (size_t)dig[i * places + p]] = 1.0;
    }
    for (size_t p = 0; p < places && !rc; p++) {
        size_t count[10] = {0}, best = 0;
        for (size_t k = 0; k < r->n_test; k++) count[dig[order[k] * places + p]]++;
        for (size_t d = 0; d < 10; d++) best = count[d] > best ? count[d] : best;
        r->chance[p] = (double)best / (double)r->n_test;
    }
    /* Groups: every equation has a..D and the digits; only D >= 0 has sqrt(D) and roots. */
    target_group all = {0}, real = {0};
    for (size_t t = 0; t < r->n_targets; t++) {
        target_group *g = (t == AN_PQ_SQRTD || t == AN_PQ_X1 || t == AN_PQ_X2) ? &real : &all;
        g->tidx[g->nt] = t;
        g->tcol[g->nt] = t < AN_PQ_N_VALUES ? t : AN_PQ_N_VALUES + 10 * (t - AN_PQ_N_VALUES);
        g->tsize[g->nt] = t < AN_PQ_N_VALUES ? 1 : 10;
        g->nt++;
    }
    for (size_t slot = 0; slot < r->n_slots && !rc; slot++)
        for (size_t c = 0; c < AN_PC_COUNT && !rc; c++) {
            const feature_set *fs = &F.f[slot * AN_PC_COUNT + c];
            if (!fs->x) continue;
            rc = fit_group(r, fs, C, Y, ycols, &all, order, slot, c, seed, err);
            if (!rc) rc = fit_group(r, fs, C, Y, ycols, &real, order, slot, c, seed, err);
        }
    for (size_t i = 0; i < r->n_slots * AN_PC_COUNT; i++) free(F.f[i].x), free(F.f[i].has);
    free(F.f);
    free(Y), free(vals), free(dig), free(order), free(eqs);
    r->seconds = util_now() - t0;
    if (rc) an_probe_free(r);
    return rc;
}
