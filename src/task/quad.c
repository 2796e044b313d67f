/* quad.c - the canonical source and target text of the quadratic task and
 * its exact solver (see quad.h and ../shared/spec/quadratic-task.md).
 *
 * Every intermediate is a 64-bit integer computed with the compiler's
 * overflow-checked builtins; an equation whose D or roots do not fit is an
 * error, never a wrong answer. Deliberately not here: parsing (parse.c),
 * data sets (dataset.c), scores (score.c). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "quad.h"

const char *quad_kind_name(quad_kind k)
{
    static const char *names[] = {"two roots", "one root", "no root"};
    return (unsigned)k < QUAD_N_KINDS ? names[k] : "?";
}

const char *quad_kind_key(quad_kind k)
{
    static const char *keys[] = {"two_roots", "one_root", "no_root"};
    return (unsigned)k < QUAD_N_KINDS ? keys[k] : "?";
}

quad_kind quad_kind_of(const quad_eq *e)
{
    __int128 d = (__int128)e->b * e->b - (__int128)4 * e->a * e->c;
    return d > 0 ? QUAD_TWO_ROOTS : d == 0 ? QUAD_ONE_ROOT : QUAD_NO_ROOT;
}

/* |v| as unsigned (INT64_MIN included). */
static uint64_t uabs64(int64_t v) { return v < 0 ? 0 - (uint64_t)v : (uint64_t)v; }

/* A growing text in a fixed buffer; ok turns 0 once anything did not fit. */
typedef struct {
    char *buf;
    size_t cap, len;
    int ok;
} sbuf;

static void sb_printf(sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *sb, const char *fmt, ...)
{
    if (!sb->ok) return;
    va_list ap;
    va_start(ap, fmt);
    size_t room = sb->cap > sb->len ? sb->cap - sb->len : 0;
    int k = vsnprintf(sb->buf + sb->len, room, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= room) {
        sb->ok = 0;
        if (room) sb->len = sb->cap - 1;
        return;
    }
    sb->len += (size_t)k;
}

int quad_format_source(const quad_eq *e, char *buf, size_t cap)
{
    sbuf sb = {buf, cap, 0, 1};
    if (cap) buf[0] = '\0';
    sb_printf(&sb, "%lldx^2%c%llux%c%llu=0", (long long)e->a, e->b < 0 ? '-' : '+',
              (unsigned long long)uabs64(e->b), e->c < 0 ? '-' : '+',
              (unsigned long long)uabs64(e->c));
    return sb.ok ? (int)sb.len : -1;
}

/* Plain strings and integers, without printf: the target of every example
 * of a data set goes through here. */
static void sb_str(sbuf *sb, const char *str)
{
    if (!sb->ok) return;
    size_t n = strlen(str);
    if (sb->len + n + 1 > sb->cap) {
        sb->ok = 0;
        return;
    }
    memcpy(sb->buf + sb->len, str, n + 1);
    sb->len += n;
}

static void sb_i64(sbuf *sb, int64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = uabs64(v);
    *--p = '\0';
    do *--p = (char)('0' + u % 10); while (u /= 10);
    if (v < 0) *--p = '-';
    sb_str(sb, p);
}

/* P(v): v when v >= 0, "(v)" when v < 0. */
static void sb_paren(sbuf *sb, int64_t v)
{
    if (v < 0) sb_str(sb, "(");
    sb_i64(sb, v);
    if (v < 0) sb_str(sb, ")");
}

static int64_t gcd64(int64_t x, int64_t y)
{
    uint64_t a = uabs64(x), b = uabs64(y);
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return (int64_t)a;  /* callers never pass two INT64_MIN-sized values */
}

/* Floor square root of v >= 0, exact for all of int64. */
static int64_t isqrt64(int64_t v)
{
    uint64_t r = (uint64_t)sqrt((double)v);
    while (r > 0 && (r > 3037000499u || r * r > (uint64_t)v)) r--;
    while (r + 1 <= 3037000499u && (r + 1) * (r + 1) <= (uint64_t)v) r++;
    return (int64_t)r;
}

/* v = k^2 * m with m square-free (v > 0). Trial division by every d with
 * d^3 <= the rest; what is left then has only prime factors above its cube
 * root, so at most two: it is either a square p^2 or square-free. At most
 * ~2 million divisions (v near 2^63 and prime), a few milliseconds. */
static void square_part(uint64_t v, int64_t *k, int64_t *m)
{
    uint64_t rest = v, kk = 1, mm = 1;
    for (uint64_t d = 2; d * d * d <= rest; d++) {
        if (rest % d) continue;
        int e = 0;
        while (rest % d == 0) {
            rest /= d;
            e++;
        }
        for (int i = 0; i + 1 < e; i += 2) kk *= d;
        if (e & 1) mm *= d;
    }
    int64_t r = isqrt64((int64_t)rest);
    if ((uint64_t)r * (uint64_t)r == rest) kk *= (uint64_t)r;
    else mm *= rest;
    *k = (int64_t)kk;
    *m = (int64_t)mm;
}

/* A reduced fraction n/d (d > 0) as text: "3", "-1/2". */
static void sb_frac(sbuf *sb, int64_t n, int64_t d)
{
    sb_i64(sb, n);
    if (d != 1) {
        sb_str(sb, "/");
        sb_i64(sb, d);
    }
}

/* q*sqrt(m) as text (UTF-8 √), with an "i" for imaginary parts. */
static void sb_surd(sbuf *sb, int64_t q, int64_t m, int imag)
{
    if (q != 1 || (m == 1 && !imag)) sb_printf(sb, "%lld", (long long)q);
    if (imag) sb_printf(sb, "i");
    if (m != 1) sb_printf(sb, "\xe2\x88\x9a%lld", (long long)m);
}

/* (p sign q√m)/den, e.g. "(5-√13)/2", "-√2", "(1+2i)/3". sign is '-', '+'
 * or the UTF-8 '±'. */
static void sb_root(sbuf *sb, const quad_solution *s, const char *sign, int imag)
{
    int paren = s->rden != 1 && s->p != 0;
    if (paren) sb_printf(sb, "(");
    if (s->p != 0) sb_printf(sb, "%lld%s", (long long)s->p, sign);
    else if (strcmp(sign, "+") != 0) sb_printf(sb, "%s", sign);
    sb_surd(sb, s->q, s->m, imag);
    if (paren) sb_printf(sb, ")");
    if (s->rden != 1) sb_printf(sb, "/%lld", (long long)s->rden);
}

#define CHECK(expr, what)                                                                     \
    do {                                                                                      \
        if (expr) return as_errf(err, "%s does not fit 64 bits (equation too large to solve " \
                                      "exactly)", what);                                      \
    } while (0)

/* The canonical equation (a > 0: an equation with a < 0 multiplied by -1)
 * into sol->eq. */
static int canonical(const quad_eq *e, quad_solution *sol, as_err *err)
{
    if (e->a == 0) return as_errf(err, "a = 0: not a quadratic equation");
    int64_t a = e->a, b = e->b, c = e->c;
    if (a < 0) {
        CHECK(a == INT64_MIN || b == INT64_MIN || c == INT64_MIN, "-1 times the equation");
        a = -a;
        b = -b;
        c = -c;
    }
    sol->eq = (quad_eq){a, b, c};
    return 0;
}

/* D = b^2 - 4ac and the kind into sol, -b and 2a into *nb, *a2, each
 * intermediate checked against 64 bits. */
static int discriminant(quad_solution *sol, int64_t *nb, int64_t *a2, as_err *err)
{
    int64_t a = sol->eq.a, b = sol->eq.b, c = sol->eq.c;
    int64_t b2, ac, ac4, D;
    CHECK(__builtin_mul_overflow(b, b, &b2), "b^2");
    CHECK(__builtin_mul_overflow(a, c, &ac), "a*c");
    CHECK(__builtin_mul_overflow(ac, 4, &ac4), "4*a*c");
    CHECK(__builtin_sub_overflow(b2, ac4, &D), "D = b^2-4ac");
    CHECK(__builtin_sub_overflow(0, b, nb), "-b");
    CHECK(__builtin_mul_overflow(a, 2, a2), "2*a");
    CHECK(D == INT64_MIN, "|D|");
    sol->D = D;
    sol->kind = D > 0 ? QUAD_TWO_ROOTS : D == 0 ? QUAD_ONE_ROOT : QUAD_NO_ROOT;
    return 0;
}

/* Surd form: sqrt(|D|) = k*sqrt(m); roots (p -/+ q sqrt(m)) / rden. */
static void surd_form(quad_solution *sol, int64_t nb, int64_t a2)
{
    int64_t D = sol->D, k = 0, m = 1;
    if (D != 0) {
        int64_t ad = D < 0 ? -D : D, r = isqrt64(ad);
        if (r * r == ad) k = r;  /* the common case: no trial division */
        else square_part((uint64_t)ad, &k, &m);
    }
    int64_t g = gcd64(gcd64(nb, k), a2);  /* > 0 since a2 > 0 */
    sol->p = nb / g;
    sol->q = k / g;
    sol->rden = a2 / g;
    sol->m = m;
}

/* Decimals, in long double. Real roots by the stable pair
 * t = -(b + sign(b) sqrt(D)) / 2, roots t/a and c/t. */
static void decimal_roots(quad_solution *sol)
{
    long double la = (long double)sol->eq.a, lb = (long double)sol->eq.b;
    long double lc = (long double)sol->eq.c;
    if (sol->D >= 0) {
        long double sq = sqrtl((long double)sol->D);
        long double tt = -(lb + (lb >= 0 ? sq : -sq)) / 2;
        long double r1 = 0, r2 = 0;  /* tt = 0 only when b = 0 and D = 0, so c = 0 */
        if (tt != 0) {
            r1 = tt / la;
            r2 = lc / tt;
        }
        sol->re[0] = (double)(r1 < r2 ? r1 : r2);
        sol->re[1] = (double)(r1 < r2 ? r2 : r1);
    } else {
        long double re = -lb / (2 * la), im = sqrtl(-(long double)sol->D) / (2 * la);
        sol->re[0] = sol->re[1] = (double)re;
        sol->im[0] = (double)-im;
        sol->im[1] = (double)im;
    }

    for (int i = 0; i < 2; i++) {  /* no "-0" in what people read */
        if (sol->re[i] == 0) sol->re[i] = 0;
        if (sol->im[i] == 0) sol->im[i] = 0;
    }
}

/* Exact rational roots when D is a perfect square; then whether the target
 * is in the spec's form. */
static int rational_roots(quad_solution *sol, int64_t nb, int64_t a2, as_err *err)
{
    int64_t D = sol->D;
    if (D >= 0) {
        int64_t s = isqrt64(D);
        if (s * s == D) {
            sol->d_square = 1;
            sol->s = s;
            for (int i = 0; i < 2; i++) {
                int64_t n;
                CHECK(i == 0 ? __builtin_sub_overflow(nb, s, &n) : __builtin_add_overflow(nb, s, &n),
                      "-b±sqrt(D)");
                int64_t gg = gcd64(n, a2);
                sol->num[i] = n / gg;
                sol->den[i] = a2 / gg;
            }
            sol->integer_roots = sol->den[0] == 1 && sol->den[1] == 1;
        }
    }
    sol->in_distribution = D < 0 || sol->integer_roots;
    return 0;
}

/* The target: "D=(P(b)^2-4*a*P(c))=D;", then "D<0;" or the two roots
 * worked and then alone, each a fraction or a surd (see quad.h). */
static int write_target(quad_solution *sol, int64_t nb, as_err *err)
{
    int64_t a = sol->eq.a, D = sol->D;
    sbuf t = {sol->target, sizeof sol->target, 0, 1};
    sb_str(&t, "D=(");
    sb_paren(&t, sol->eq.b);
    sb_str(&t, "^2-4*");
    sb_i64(&t, a);
    sb_str(&t, "*");
    sb_paren(&t, sol->eq.c);
    sb_str(&t, ")=");
    sb_i64(&t, D);
    sb_str(&t, ";");
    if (D < 0) {
        sb_str(&t, "D<0;");
    } else {
        char vals[2][160];
        for (int i = 0; i < 2; i++) {
            sbuf v = {vals[i], sizeof vals[i], 0, 1};
            if (sol->d_square) sb_frac(&v, sol->num[i], sol->den[i]);
            else sb_root(&v, sol, i == 0 ? "-" : "+", 0);
        }
        for (int i = 0; i < 2; i++) {
            sb_str(&t, "x=(");
            sb_i64(&t, nb);
            sb_str(&t, i == 0 ? "-" : "+");
            if (!sol->d_square) sb_str(&t, "\xe2\x88\x9a");
            sb_i64(&t, sol->d_square ? sol->s : D);
            sb_str(&t, ")/(2*");
            sb_i64(&t, a);
            sb_str(&t, ")=");
            sb_str(&t, vals[i]);
            sb_str(&t, ";");
        }
        for (int i = 0; i < 2; i++) {
            sb_str(&t, "x=");
            sb_str(&t, vals[i]);
            sb_str(&t, ";");
        }
    }
    if (!t.ok) return as_errf(err, "the target does not fit %zu bytes", sizeof sol->target);
    return 0;
}

/* The roots for people (quad.h's roots_text). */
static void write_roots_text(quad_solution *sol)
{
    int64_t D = sol->D;
    sbuf r = {sol->roots_text, sizeof sol->roots_text, 0, 1};
    sb_printf(&r, "x = ");
    if (D < 0) {
        sb_root(&r, sol, "\xc2\xb1", 1);
        sb_printf(&r, " \xe2\x89\x88 %.6g \xc2\xb1 %.6gi", sol->re[1], sol->im[1]);
    } else if (sol->d_square) {
        sb_frac(&r, sol->num[0], sol->den[0]);
        if (D == 0) {
            sb_printf(&r, " (double root)");
        } else {
            sb_printf(&r, ", x = ");
            sb_frac(&r, sol->num[1], sol->den[1]);
        }
        if (!sol->integer_roots) {
            if (D == 0) sb_printf(&r, " \xe2\x89\x88 %.6g", sol->re[0]);
            else sb_printf(&r, " \xe2\x89\x88 %.6g, %.6g", sol->re[0], sol->re[1]);
        }
    } else {
        sb_root(&r, sol, "\xc2\xb1", 0);
        sb_printf(&r, " \xe2\x89\x88 %.6g, %.6g", sol->re[0], sol->re[1]);
    }
}

int quad_solve(const quad_eq *e, quad_solution *sol, as_err *err)
{
    memset(sol, 0, sizeof *sol);
    int64_t nb = 0, a2 = 1;  /* -b and 2a (> 0) */
    if (canonical(e, sol, err) < 0 || discriminant(sol, &nb, &a2, err) < 0) return -1;
    surd_form(sol, nb, a2);
    decimal_roots(sol);
    if (rational_roots(sol, nb, a2, err) < 0 || write_target(sol, nb, err) < 0) return -1;
    write_roots_text(sol);
    return 0;
}

int quad_format_target(const quad_eq *e, char *buf, size_t cap, as_err *err)
{
    quad_solution s;
    if (quad_solve(e, &s, err) < 0) return -1;
    size_t n = strlen(s.target);
    if (n + 1 > cap) return as_errf(err, "target buffer too small (%zu < %zu)", cap, n + 1);
    memcpy(buf, s.target, n + 1);
    return (int)n;
}

int quad_format_target_worked(const quad_eq *e, unsigned show, char *buf, size_t cap,
                              as_err *err)
{
    quad_solution s;
    if (quad_solve(e, &s, err) < 0) return -1;
    char extra[160] = "";
    if (show) {
        int64_t a = s.eq.a, b = s.eq.b, c = s.eq.c;  /* canonical; quad_solve checked b^2, 4ac */
        sbuf x = {extra, sizeof extra, 0, 1};
        sb_str(&x, "=(");
        if (show & QUAD_SHOW_B2) {
            sb_i64(&x, b * b);
        } else {
            sb_paren(&x, b);
            sb_str(&x, "^2");
        }
        sb_str(&x, "-");
        if (show & QUAD_SHOW_4AC) {
            sb_paren(&x, 4 * a * c);
        } else {
            sb_str(&x, "4*");
            sb_i64(&x, a);
            sb_str(&x, "*");
            sb_paren(&x, c);
        }
        sb_str(&x, ")");
    }
    /* The extra step goes before the "=" that ends the first parenthesis
     * "D=(...)": the first ")=" of the target (P(c) can end in "))="). */
    const char *eq = strstr(s.target, ")=");
    size_t head = eq ? (size_t)(eq - s.target) + 1 : 0, nx = strlen(extra);
    size_t n = strlen(s.target);
    if (n + nx + 1 > cap) return as_errf(err, "target buffer too small (%zu < %zu)", cap, n + nx + 1);
    memcpy(buf, s.target, head);
    memcpy(buf + head, extra, nx);
    memcpy(buf + head + nx, s.target + head, n - head + 1);
    return (int)(n + nx);
}
