/* dataset.c - data sets of the quadratic task: the presets, the seeded
 * generator, the split by distinct equation, and TSV files (see quad.h and
 * ../shared/spec/quadratic-task.md, "Data sets").
 *
 * Deliberately not here: batching and tokenising for training (train/). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quad.h"

static const quad_preset presets[] = {
    {"seed", 1, 9, -300, 300, -5400, 5400, 1, 810000, "7x^2+3556x+451612=0"},
    {"small", 1, 5, -20, 20, -200, 200, 1, 2000, "2x^2-14x-36=0"},
};

const quad_preset *quad_preset_find(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (name && !strcmp(name, presets[i].name)) return &presets[i];
    return NULL;
}

/* The generator. Its draws, in this exact order, from one xoshiro256**
 * stream seeded with rng_seed(seed) (util.h); every draw is
 * rng_range(lo, hi), uniform and inclusive:
 *
 *   n2 = floor(n/2 + 1/2), n1 = floor(3n/10 + 1/2) (in integers:
 *   (n+1)/2 and (3n+5)/10), n0 = n - n2 - n1.
 *   1. n2 two-root equations, each: a, then r1, then r2; when r1 == r2
 *      the three draws are repeated. b = -a(r1+r2), c = a r1 r2.
 *   2. n1 one-root equations, each: a, then r. b = -2ar, c = a r^2.
 *   3. n0 no-root equations, each: a, then b, then c; repeated until
 *      b^2 - 4ac < 0.
 *   (1-3 are quad_draw's draws of one equation of the kind.)
 *   4. A Fisher-Yates shuffle of the n equations: for i = n-1 down to 1,
 *      j = rng_range(0, i), swap entries i and j.
 */
quad_eq quad_draw(const quad_preset *p, quad_kind kind, as_rng *rng)
{
    int64_t a, b, c;
    switch (kind) {
    case QUAD_TWO_ROOTS: {
        int64_t r1, r2;
        do {
            a = rng_range(rng, p->a_lo, p->a_hi);
            r1 = rng_range(rng, p->r_lo, p->r_hi);
            r2 = rng_range(rng, p->r_lo, p->r_hi);
        } while (r1 == r2);
        return (quad_eq){a, -a * (r1 + r2), a * r1 * r2};
    }
    case QUAD_ONE_ROOT: {
        a = rng_range(rng, p->a_lo, p->a_hi);
        int64_t r = rng_range(rng, p->r_lo, p->r_hi);
        return (quad_eq){a, -2 * a * r, a * r * r};
    }
    default:
        do {
            a = rng_range(rng, p->a_lo, p->a_hi);
            b = rng_range(rng, p->b_lo, p->b_hi);
            c = rng_range(rng, p->c_lo, p->c_hi);
        } while (b * b - 4 * a * c >= 0);
        return (quad_eq){a, b, c};
    }
}

void quad_generate(const quad_preset *p, size_t n, uint64_t seed, quad_eq *out)
{
    as_rng rng;
    rng_seed(&rng, seed);
    size_t n2 = (n + 1) / 2, n1 = (3 * n + 5) / 10;
    if (n2 + n1 > n) n1 = n - n2;  /* n = 1: one two-root equation */
    size_t k = 0;
    for (size_t i = 0; i < n2; i++, k++) out[k] = quad_draw(p, QUAD_TWO_ROOTS, &rng);
    for (size_t i = 0; i < n1; i++, k++) out[k] = quad_draw(p, QUAD_ONE_ROOT, &rng);
    for (; k < n; k++) out[k] = quad_draw(p, QUAD_NO_ROOT, &rng);
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)rng_range(&rng, 0, (int64_t)i);
        quad_eq t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}

/* Decimal digits of v. */
static size_t digits(uint64_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static uint64_t umax(uint64_t x, uint64_t y) { return x > y ? x : y; }
static uint64_t uabs(int64_t v) { return v < 0 ? 0 - (uint64_t)v : (uint64_t)v; }

int quad_preset_outside(const quad_preset *p, const quad_solution *sol, char *why, size_t n)
{
    const quad_eq *e = &sol->eq;
    const char *what = NULL, *kind = "";  /* "a = ", "root "...; for which kind */
    int64_t v = 0, lo = 0, hi = 0;
    if (!sol->in_distribution) return 0;
    if (e->a < p->a_lo || e->a > p->a_hi) {
        what = "a = ", v = e->a, lo = p->a_lo, hi = p->a_hi;
    } else if (sol->kind != QUAD_NO_ROOT) {
        for (int i = 0; i < 2 && !what; i++)  /* integer roots: den == 1 */
            if (sol->num[i] < p->r_lo || sol->num[i] > p->r_hi)
                what = "root ", v = sol->num[i], lo = p->r_lo, hi = p->r_hi;
    } else if (e->b < p->b_lo || e->b > p->b_hi) {
        what = "b = ", v = e->b, lo = p->b_lo, hi = p->b_hi, kind = " for no-root equations";
    } else if (e->c < p->c_lo || e->c > p->c_hi) {
        what = "c = ", v = e->c, lo = p->c_lo, hi = p->c_hi, kind = " for no-root equations";
    }
    if (!what) return 0;
    snprintf(why, n, "%s%" PRId64 " is outside the %s preset's %" PRId64 "..%" PRId64 "%s", what, v,
             p->name, lo, hi, kind);
    return 1;
}

void quad_preset_bounds(const quad_preset *p, size_t *src_len, size_t *tgt_len,
                        size_t *worked_extra)
{
    /* The largest |a|, |b|, |c|, |root| of any equation quad_draw makes. */
    uint64_t A = umax(uabs(p->a_lo), uabs(p->a_hi));
    uint64_t R = umax(uabs(p->r_lo), uabs(p->r_hi));
    uint64_t B = umax(2 * A * R, umax(uabs(p->b_lo), uabs(p->b_hi)));
    uint64_t C = umax(A * R * R, umax(uabs(p->c_lo), uabs(p->c_hi)));
    size_t la = digits(A), lb = digits(B), lc = digits(C), lr = digits(R) + 1;
    size_t lsq = digits(B * B), l4ac = digits(4 * A * C), lD = digits(B * B + 4 * A * C) + 1;
    /* {a}x^2{sign}{|b|}x{sign}{|c|}=0 */
    if (src_len) *src_len = la + 3 + 1 + lb + 1 + 1 + lc + 2;
    /* D=(P(b)^2-4*a*P(c))=D; then D<0; or twice x=(-b-s)/(2*a)=x; and twice
     * x=x; (a P() is at most the digits, a minus and two parentheses; s is
     * at most D's digits) */
    size_t head = 3 + (lb + 3) + 5 + la + 1 + (lc + 3) + 2 + lD + 1;
    size_t roots = 2 * (3 + (lb + 1) + 1 + lD + 5 + la + 2 + lr + 1) + 2 * (2 + lr + 1);
    if (tgt_len) *tgt_len = head + (roots > 4 ? roots : 4);
    /* =(b^2-P(4ac)) or its symbolic parts, at most */
    size_t sym_b = (lb + 3) + 2, sym_c = 4 + la + 1 + (lc + 3);
    size_t v_b = lsq, v_c = l4ac + 3;
    if (worked_extra) *worked_extra = 2 + umax(sym_b, v_b) + 1 + umax(sym_c, v_c) + 1;
}

/* The splitmix64 finaliser: a fixed 64-bit mixing function. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The split's key of an equation: h = mix(mix(mix(seed ^ a) ^ b) ^ c),
 * with a, b, c as two's-complement 64-bit words. */
static uint64_t eq_hash(const quad_eq *e, uint64_t seed)
{
    return mix64(mix64(mix64(seed ^ (uint64_t)e->a) ^ (uint64_t)e->b) ^ (uint64_t)e->c);
}

typedef struct {
    uint64_t h;
    quad_eq eq;
    unsigned kind;
    size_t idx;
} split_key;

static int cmp_key(const void *x, const void *y)
{
    const split_key *p = x, *q = y;
    if (p->kind != q->kind) return p->kind < q->kind ? -1 : 1;
    if (p->h != q->h) return p->h < q->h ? -1 : 1;
    if (p->eq.a != q->eq.a) return p->eq.a < q->eq.a ? -1 : 1;
    if (p->eq.b != q->eq.b) return p->eq.b < q->eq.b ? -1 : 1;
    if (p->eq.c != q->eq.c) return p->eq.c < q->eq.c ? -1 : 1;
    return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/* The split, per kind:
 *   1. order the distinct equations of the kind by eq_hash (ties by a, b,
 *      c): a seeded random order that does not depend on where or how
 *      often an equation occurs;
 *   2. walk that order, putting each equation (with all its copies) on the
 *      test side while that brings the test count closer to
 *      target = test_share * (examples of the kind), i.e. while
 *      test + copies/2 <= target; the first equation that does not fit
 *      ends the walk and it and all later ones go to train.
 * So the test side is a random prefix of distinct equations holding
 * test_share of each kind's examples to within half of one equation's
 * copies, and train and test never share an equation. */
void quad_split(const quad_eq *eqs, size_t n, uint64_t seed, double test_share,
                unsigned char *is_test)
{
    if (n == 0) return;
    split_key *keys = xmalloc(n * sizeof *keys);
    size_t per_kind[QUAD_N_KINDS] = {0};
    for (size_t i = 0; i < n; i++) {
        keys[i].h = eq_hash(&eqs[i], seed);
        keys[i].eq = eqs[i];
        keys[i].kind = (unsigned)quad_kind_of(&eqs[i]);
        keys[i].idx = i;
        per_kind[keys[i].kind]++;
        is_test[i] = 0;
    }
    qsort(keys, n, sizeof *keys, cmp_key);
    size_t g = 0;
    while (g < n) {
        unsigned kind = keys[g].kind;
        double target = test_share * (double)per_kind[kind];
        size_t test = 0;
        int open = 1;
        while (g < n && keys[g].kind == kind) {
            size_t e = g;  /* the group of copies of one equation */
            while (e < n && keys[e].kind == kind && keys[e].h == keys[g].h &&
                   keys[e].eq.a == keys[g].eq.a && keys[e].eq.b == keys[g].eq.b &&
                   keys[e].eq.c == keys[g].eq.c)
                e++;
            size_t copies = e - g;
            if (open && (double)test + (double)copies / 2 <= target) {
                for (size_t k = g; k < e; k++) is_test[keys[k].idx] = 1;
                test += copies;
            } else {
                open = 0;
            }
            g = e;
        }
    }
    free(keys);
}

int quad_ds_write(const char *path, const quad_eq *eqs, size_t n, const unsigned char *is_test,
                  int want, size_t counts[QUAD_N_KINDS], as_err *err)
{
    atomic_file af;
    if (counts) memset(counts, 0, QUAD_N_KINDS * sizeof counts[0]);
    if (atomic_open(&af, path, err) < 0) return -1;
    char src[QUAD_SOURCE_MAX];
    quad_solution sol;
    for (size_t i = 0; i < n; i++) {
        if (is_test && (is_test[i] != 0) != (want != 0)) continue;
        if (quad_format_source(&eqs[i], src, sizeof src) < 0 || quad_solve(&eqs[i], &sol, err) < 0) {
            atomic_abort(&af);
            return as_errprefix(err, "%s: equation %zu", path, i + 1);
        }
        fputs(src, af.f);
        fputc('\t', af.f);
        fputs(sol.target, af.f);
        fputc('\n', af.f);
        if (counts) counts[sol.kind]++;
    }
    return atomic_commit(&af, err);
}

/* ---- reading ------------------------------------------------------------ */

void quad_ds_free(quad_dataset *ds)
{
    free(ds->ex);
    free(ds->buf);
    memset(ds, 0, sizeof *ds);
}

size_t quad_utf8_len(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || n > left) return 0;
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return n;
}

int quad_ds_read(const char *path, size_t limit, quad_dataset *ds, as_err *err)
{
    memset(ds, 0, sizeof *ds);
    size_t len;
    ds->buf = util_read_file(path, &len, err);
    if (!ds->buf) return -1;
    char *s = ds->buf;
    size_t cap = 0;
    size_t line = 0;
    size_t pos = 0;
    if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) pos = 3;  /* a UTF-8 byte-order mark */
    while (pos < len) {
        line++;
        char *start = s + pos;
        char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > 0 && start[n - 1] == '\r') n--;
        start[n] = '\0';
        if (memchr(start, '\0', n) != NULL)
            return as_errf(err, "%s:%zu: a NUL byte in the line (not a text file?)", path, line);
        for (size_t k = 0; k < n;) {
            size_t u = quad_utf8_len((const unsigned char *)start + k, n - k);
            if (!u) return as_errf(err, "%s:%zu: invalid UTF-8 at byte %zu", path, line, k + 1);
            k += u;
        }
        if (n == 0) return as_errf(err, "%s:%zu: empty line (expected source<TAB>target)", path, line);
        char *tab = strchr(start, '\t');
        if (!tab) return as_errf(err, "%s:%zu: no tab (expected source<TAB>target)", path, line);
        if (strchr(tab + 1, '\t'))
            return as_errf(err, "%s:%zu: more than one tab (expected source<TAB>target)", path, line);
        *tab = '\0';
        const char *src = start, *tgt = tab + 1;
        if (!*src) return as_errf(err, "%s:%zu: empty source before the tab", path, line);
        if (!*tgt) return as_errf(err, "%s:%zu: empty target after the tab", path, line);
        quad_eq eq;
        quad_parse_error pe;
        if (quad_parse(src, &eq, &pe) < 0)
            return as_errf(err, "%s:%zu: source column %zu: %s", path, line, pe.column, pe.reason);
        if (ds->n == cap) {
            cap = cap ? cap * 2 : 1024;
            ds->ex = xrealloc(ds->ex, cap * sizeof *ds->ex);
        }
        ds->ex[ds->n++] = (quad_example){src, tgt, eq, quad_kind_of(&eq), line};
        if (limit && ds->n == limit) break;
    }
    if (ds->n == 0) return as_errf(err, "%s: no examples (empty file)", path);
    return 0;
}
