/* sampler.c - which training examples each step draws (train.h,
 * "training data"): the plain order (shuffled epochs over all examples) and
 * the order weighted by kind (data.weights in train.cfg). Both depend only on
 * the seed and the step, so a resumed run draws exactly what an uninterrupted
 * one draws.
 *
 * Deliberately not here: tokens and batches (loop.c), fresh equations
 * (stream.c). */
#include <stdlib.h>
#include <string.h>

#include "train.h"

/* The mixing constants of the two orders: the plain order's are those of
 * every run before weights existed (its batches must not change). */
#define PLAIN_MUL 0x9E3779B97F4A7C15ULL
#define KIND_MUL 0xD1B54A32D192ED03ULL
#define DRAW_MUL 0xA0761D6478BD642FULL

typedef struct {
    size_t *perm;      /* (n) one epoch of the order */
    size_t n;
    size_t epoch;
    int valid;
} cycle;

struct train_sampler {
    uint64_t seed;
    size_t n;
    int weighted;
    cycle all;                       /* plain order: all examples */
    /* weighted order */
    double cum[QUAD_N_KINDS];        /* cumulative normalised weights */
    size_t *members[QUAD_N_KINDS];   /* example indices of each kind, ascending */
    cycle per_kind[QUAD_N_KINDS];    /* each kind's own shuffled epochs */
    size_t pos[QUAD_N_KINDS];        /* draws of each kind before step next_step */
    size_t next_step;
};

/* Epoch e of c: a Fisher-Yates shuffle of 0..n-1 from rng_seed(key). */
static void cycle_for(cycle *c, uint64_t key, size_t epoch)
{
    if (c->valid && c->epoch == epoch) return;
    as_rng r;
    rng_seed(&r, key);
    for (size_t i = 0; i < c->n; i++) c->perm[i] = i;
    for (size_t i = c->n; i > 1; i--) {
        size_t j = (size_t)rng_range(&r, 0, (int64_t)i - 1);
        size_t t = c->perm[i - 1];
        c->perm[i - 1] = c->perm[j];
        c->perm[j] = t;
    }
    c->epoch = epoch;
    c->valid = 1;
}

void train_kind_cdf(const double *weights, double cum[QUAD_N_KINDS])
{
    double total = 0, run = 0;
    for (int k = 0; k < QUAD_N_KINDS; k++) total += weights[k] > 0 ? weights[k] : 0;
    for (int k = 0; k < QUAD_N_KINDS; k++) {
        run += (weights[k] > 0 ? weights[k] : 0) / total;
        cum[k] = run;
    }
    /* The last kind with a weight takes the rounding rest of the unit. */
    for (int k = QUAD_N_KINDS - 1; k >= 0; k--)
        if (weights[k] > 0) {
            for (int q = k; q < QUAD_N_KINDS; q++) cum[q] = 1.0;
            break;
        }
}

quad_kind train_kind_pick(const double cum[QUAD_N_KINDS], double u)
{
    int q = 0;
    while (q < QUAD_N_KINDS - 1 && !(u < cum[q])) q++;
    return (quad_kind)q;
}

train_sampler *train_sampler_new(size_t n, const quad_kind *kind, const double *weights,
                                 uint64_t seed, as_err *err)
{
    if (n == 0) {
        as_errf(err, "the training set is empty");
        return NULL;
    }
    train_sampler *s = xcalloc(1, sizeof *s);
    s->seed = seed;
    s->n = n;
    if (!weights) {
        s->all.n = n;
        s->all.perm = xmalloc(n * sizeof(size_t));
        return s;
    }
    s->weighted = 1;
    size_t count[QUAD_N_KINDS] = {0};
    for (size_t i = 0; i < n; i++) count[kind[i]]++;
    double total = 0;
    for (int k = 0; k < QUAD_N_KINDS; k++) {
        if (weights[k] > 0 && count[k] == 0) {
            as_errf(err, "data.weights.%s is %g, but the training set has no %s equation",
                    quad_kind_key((quad_kind)k), weights[k], quad_kind_name((quad_kind)k));
            train_sampler_free(s);
            return NULL;
        }
        total += weights[k];
    }
    if (!(total > 0)) {
        as_errf(err, "data.weights: at least one kind needs a weight above 0");
        train_sampler_free(s);
        return NULL;
    }
    train_kind_cdf(weights, s->cum);
    for (int k = 0; k < QUAD_N_KINDS; k++) {
        s->members[k] = xmalloc((count[k] ? count[k] : 1) * sizeof(size_t));
        s->per_kind[k].n = count[k];
        s->per_kind[k].perm = xmalloc((count[k] ? count[k] : 1) * sizeof(size_t));
        count[k] = 0;
    }
    for (size_t i = 0; i < n; i++) s->members[kind[i]][count[kind[i]]++] = i;
    return s;
}

void train_sampler_free(train_sampler *s)
{
    if (!s) return;
    free(s->all.perm);
    for (int k = 0; k < QUAD_N_KINDS; k++) {
        free(s->members[k]);
        free(s->per_kind[k].perm);
    }
    free(s);
}

/* The kind of each of the B draws of step (weighted order). */
static void draw_kinds(const train_sampler *s, size_t step, size_t B, int *kinds)
{
    as_rng r;
    rng_seed(&r, (s->seed + 1) * DRAW_MUL + step);
    for (size_t k = 0; k < B; k++) kinds[k] = (int)train_kind_pick(s->cum, rng_uniform(&r));
}

void train_sampler_step(train_sampler *s, size_t step, size_t B, size_t *idx)
{
    if (!s->weighted) {
        /* Positions step*B .. step*B+B-1 of the endless sequence of shuffled
         * epochs; epoch e's order is seeded by (seed, e). */
        for (size_t k = 0; k < B; k++) {
            size_t pos = step * B + k;
            size_t e = pos / s->n;
            cycle_for(&s->all, s->seed * PLAIN_MUL + e + 1, e);
            idx[k] = s->all.perm[pos % s->n];
        }
        return;
    }
    int *kinds = xmalloc(B * sizeof(int));
    /* The per-kind positions at the start of step: replayed from step 0
     * when the caller goes back or jumps ahead (a resume), counted on
     * otherwise. Replaying costs B uniform draws a step. */
    if (step < s->next_step) {
        memset(s->pos, 0, sizeof s->pos);
        s->next_step = 0;
    }
    for (; s->next_step < step; s->next_step++) {
        draw_kinds(s, s->next_step, B, kinds);
        for (size_t k = 0; k < B; k++) s->pos[kinds[k]]++;
    }
    draw_kinds(s, step, B, kinds);
    for (size_t k = 0; k < B; k++) {
        int q = kinds[k];
        cycle *c = &s->per_kind[q];
        size_t pos = s->pos[q]++, e = pos / c->n;
        cycle_for(c, (s->seed * KIND_MUL + (uint64_t)q) * PLAIN_MUL + e + 1, e);
        idx[k] = s->members[q][c->perm[pos % c->n]];
    }
    s->next_step = step + 1;
    free(kinds);
}
