/* stream.c - fresh training equations at every step (train.cfg
 * data.stream, train.h "training data"): drawn from a preset's distribution
 * with the data-set generator's rules (quad_draw), never an equation whose
 * canonical source is in the excluded set (the run's test split). A step's
 * equations depend only on (seed, step), so a resumed run draws exactly
 * what an uninterrupted one draws. Also the stages of data.stepwise (which
 * products a step's worked targets write out).
 *
 * Deliberately not here: tokens and batches (loop.c), the fixed data set's
 * order (sampler.c). */
#include <stdlib.h>
#include <string.h>

#include "train.h"

#define STREAM_MUL 0xE7037ED1A0B428DBULL
/* Redraws of one slot before giving up: only reached when (nearly) every
 * equation of a kind is excluded, which no preset's test split does. */
#define MAX_TRIES 100000

struct train_stream {
    const quad_preset *p;
    uint64_t seed;
    double cum[QUAD_N_KINDS];  /* cumulative kind probabilities */
    char **slot;               /* (cap) open-addressing set of excluded sources */
    size_t cap;
};

/* FNV-1a of a string. */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static size_t find_slot(const train_stream *s, const char *src)
{
    size_t i = (size_t)hash_str(src) & (s->cap - 1);
    while (s->slot[i] && strcmp(s->slot[i], src)) i = (i + 1) & (s->cap - 1);
    return i;
}

train_stream *train_stream_new(const quad_preset *p, const double *weights, uint64_t seed,
                               char *const *exclude, size_t n_exclude, as_err *err)
{
    static const double spec[QUAD_N_KINDS] = {0.5, 0.3, 0.2};  /* the spec's shares */
    const double *w = weights ? weights : spec;
    double total = 0;
    for (int k = 0; k < QUAD_N_KINDS; k++) total += w[k] > 0 ? w[k] : 0;
    if (!(total > 0)) {
        as_errf(err, "data.weights: at least one kind needs a weight above 0");
        return NULL;
    }
    train_stream *s = xcalloc(1, sizeof *s);
    s->p = p;
    s->seed = seed;
    train_kind_cdf(w, s->cum);
    s->cap = 16;
    while (s->cap < 2 * n_exclude + 16) s->cap *= 2;
    s->slot = xcalloc(s->cap, sizeof(char *));
    for (size_t i = 0; i < n_exclude; i++) {
        size_t j = find_slot(s, exclude[i]);
        if (!s->slot[j]) s->slot[j] = xstrdup(exclude[i]);
    }
    return s;
}

void train_stream_free(train_stream *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->cap; i++) free(s->slot[i]);
    free(s->slot);
    free(s);
}

int train_stream_excluded(const train_stream *s, const char *source)
{
    return s->slot[find_slot(s, source)] != NULL;
}

int train_stream_step(const train_stream *s, size_t step, size_t B, quad_eq *out, as_err *err)
{
    as_rng r;
    rng_seed(&r, (s->seed + 1) * STREAM_MUL + step);
    char src[QUAD_SOURCE_MAX];
    for (size_t k = 0; k < B; k++) {
        quad_kind q = train_kind_pick(s->cum, rng_uniform(&r));
        int tries = 0;
        do {
            if (++tries > MAX_TRIES)
                return as_errf(err, "data.stream: %d fresh %s equations in a row were all in "
                                    "the test split; the preset has too few of that kind",
                               MAX_TRIES, quad_kind_name(q));
            out[k] = quad_draw(s->p, q, &r);
            quad_format_source(&out[k], src, sizeof src);
        } while (train_stream_excluded(s, src));
    }
    return 0;
}

size_t train_stage_at(const train_stepwise *w, size_t step)
{
    size_t k = 0;
    while (k + 1 < w->n && step >= w->start[k + 1]) k++;
    return k;
}

unsigned train_stage_show(const train_stepwise *w, size_t stage)
{
    if (w->n == 0 || stage + 1 >= w->n) return 0;  /* off, or the last stage: the spec's */
    if (stage == 0) return QUAD_SHOW_B2 | QUAD_SHOW_4AC;
    return (QUAD_SHOW_B2 | QUAD_SHOW_4AC) & ~w->drop_first;
}
