/* aux.c - the labels of the training-only auxiliary loss (train.cfg
 * loss.aux_weight): at each target position that writes a digit of the
 * discriminant's value D = b^2 - 4ac (the digits after "D=(...)=", or
 * after the last '=' before the first ';' of a worked target), the digit
 * at the same place (units, tens, ...) of b^2 and of |4ac|, 0 where that
 * number is shorter. To write D's digit at place r the model needs b^2's
 * and 4ac's digits around r; the head makes that explicit.
 *
 * The labels come from the batch itself: the source's bytes (ByT5 ids,
 * byte + 3) are parsed and solved with src/task's parser and solver.
 *
 * Deliberately not here: the head and its loss (trainer.c). */
#include <stdlib.h>
#include <string.h>

#include "quad.h"
#include "train.h"

/* The bytes of ByT5 ids up to eos / a special / a negative label. */
static size_t ids_text(const int *ids, size_t n, char *buf, size_t cap)
{
    size_t k = 0;
    for (; k < n && k + 1 < cap && ids[k] >= 3 && ids[k] < 259; k++) buf[k] = (char)(ids[k] - 3);
    buf[k] = '\0';
    return k;
}

/* Digit at place r (0 = units) of v >= 0. */
static int digit_at(uint64_t v, size_t r)
{
    while (r-- > 0) v /= 10;
    return (int)(v % 10);
}

size_t train_aux_labels(const int *src, size_t ns, const int *labels, size_t T, int *aux)
{
    for (size_t i = 0; i < 2 * T; i++) aux[i] = -1;
    char s[QUAD_SOURCE_MAX * 2], t[QUAD_TARGET_MAX];
    ids_text(src, ns, s, sizeof s);
    size_t tl = ids_text(labels, T, t, sizeof t);
    quad_eq e;
    quad_solution sol;
    if (quad_parse(s, &e, NULL) || quad_solve(&e, &sol, NULL)) return 0;
    if (strncmp(t, "D=(", 3) != 0) return 0;
    const char *semi = memchr(t, ';', tl), *eq = NULL;
    if (!semi) return 0;
    for (const char *p = t; p < semi; p++)
        if (*p == '=') eq = p;
    const char *v = eq + 1;
    v += *v == '-';
    size_t len = (size_t)(semi - v);
    for (size_t k = 0; k < len; k++)
        if (v[k] < '0' || v[k] > '9') return 0;
    int64_t b = sol.eq.b, fac = 4 * sol.eq.a * sol.eq.c;
    uint64_t b2 = (uint64_t)(b < 0 ? -b : b) * (uint64_t)(b < 0 ? -b : b);
    uint64_t f = fac < 0 ? (uint64_t)(-fac) : (uint64_t)fac;
    for (size_t k = 0; k < len; k++) {
        size_t pos = (size_t)(v - t) + k, r = len - 1 - k;
        aux[2 * pos] = digit_at(b2, r);
        aux[2 * pos + 1] = digit_at(f, r);
    }
    return len;
}

void train_batch_aux(train_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        train_aux_labels(b->src + b->src_off[i], b->src_len[i], b->labels + b->tgt_off[i],
                         b->tgt_len[i], b->aux + 2 * b->tgt_off[i]);
}
