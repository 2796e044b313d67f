/* test_quad.c - the quadratic task (quad.h) against the text of
 * ../shared/spec/quadratic-task.md: the spec's example lines byte for byte,
 * generated sets that re-parse and re-solve to themselves, shares and the
 * disjoint split, reproducibility, the lenient parser on friendly and
 * hostile input, the exact solver off the training distribution, and the
 * scores on hand-made cases. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "quad.h"

/* ---- the spec's examples ------------------------------------------------ */

static const char *spec_lines[][2] = {
    {"7x^2+3556x+451612=0",
     "D=(3556^2-4*7*451612)=0;x=(-3556-0)/(2*7)=-254;x=(-3556+0)/(2*7)=-254;x=-254;x=-254;"},
    {"1x^2-5x+6=0", "D=((-5)^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;x=3;"},
    {"2x^2+0x-8=0", "D=(0^2-4*2*(-8))=64;x=(0-8)/(2*2)=-2;x=(0+8)/(2*2)=2;x=-2;x=2;"},
    {"3x^2+2x+5=0", "D=(2^2-4*3*5)=-56;D<0;"},
};
static const quad_kind spec_kinds[] = {QUAD_ONE_ROOT, QUAD_TWO_ROOTS, QUAD_TWO_ROOTS, QUAD_NO_ROOT};

static void test_spec_examples(void **state)
{
    (void)state;
    static const quad_eq eqs[] = {{7, 3556, 451612}, {1, -5, 6}, {2, 0, -8}, {3, 2, 5}};
    for (size_t i = 0; i < 4; i++) {
        char src[QUAD_SOURCE_MAX];
        assert_int_equal(quad_format_source(&eqs[i], src, sizeof src), (int)strlen(spec_lines[i][0]));
        assert_string_equal(src, spec_lines[i][0]);
        quad_solution s;
        as_err err;
        assert_int_equal(quad_solve(&eqs[i], &s, &err), 0);
        assert_string_equal(s.target, spec_lines[i][1]);
        assert_int_equal(s.kind, spec_kinds[i]);
        assert_true(s.in_distribution);
        quad_eq back;
        quad_parse_error pe;
        assert_int_equal(quad_parse(spec_lines[i][0], &back, &pe), 0);
        assert_memory_equal(&back, &eqs[i], sizeof back);
        char tgt[QUAD_TARGET_MAX];
        assert_int_equal(quad_format_target(&eqs[i], tgt, sizeof tgt, &err),
                         (int)strlen(spec_lines[i][1]));
        assert_string_equal(tgt, spec_lines[i][1]);
    }
    char tiny[8];
    assert_int_equal(quad_format_source(&eqs[0], tiny, sizeof tiny), -1);
    assert_int_equal((int)strlen(tiny), 7);
}

/* ---- generated sets ---------------------------------------------------- */

/* Every line re-parses to its equation and re-solves to its target, the
 * kinds match the construction, and ranges stay inside the preset. */
static void check_generated(const quad_preset *p, size_t n, uint64_t seed, size_t *max_target)
{
    quad_eq *eqs = malloc(n * sizeof *eqs);
    quad_generate(p, n, seed, eqs);
    size_t kinds[QUAD_N_KINDS] = {0};
    for (size_t i = 0; i < n; i++) {
        char src[QUAD_SOURCE_MAX];
        quad_solution s;
        as_err err;
        assert_true(quad_format_source(&eqs[i], src, sizeof src) > 0);
        assert_int_equal(quad_solve(&eqs[i], &s, &err), 0);
        assert_true(s.in_distribution);
        assert_true(eqs[i].a >= p->a_lo && eqs[i].a <= p->a_hi);
        if (s.kind != QUAD_NO_ROOT) {
            assert_true(s.integer_roots);
            assert_true(s.num[0] >= p->r_lo && s.num[1] <= p->r_hi);
        } else {
            assert_true(eqs[i].b >= p->b_lo && eqs[i].b <= p->b_hi);
            assert_true(eqs[i].c >= p->c_lo && eqs[i].c <= p->c_hi);
        }
        kinds[s.kind]++;
        quad_eq back;
        quad_parse_error pe;
        if (quad_parse(src, &back, &pe) != 0) fail_msg("%s: %s", src, pe.reason);
        assert_memory_equal(&back, &eqs[i], sizeof back);
        quad_solution s2;
        assert_int_equal(quad_solve(&back, &s2, &err), 0);
        assert_string_equal(s2.target, s.target);
        if (strlen(s.target) > *max_target) *max_target = strlen(s.target);
    }
    assert_int_equal(kinds[QUAD_TWO_ROOTS], (n + 1) / 2);
    assert_int_equal(kinds[QUAD_ONE_ROOT], (3 * n + 5) / 10);
    assert_int_equal(kinds[QUAD_NO_ROOT], n - (n + 1) / 2 - (3 * n + 5) / 10);
    free(eqs);
}

static void test_generated_resolve(void **state)
{
    (void)state;
    size_t max_seed = 0, max_small = 0;
    check_generated(quad_preset_find("seed"), 100000, 1, &max_seed);
    check_generated(quad_preset_find("small"), 100000, 2, &max_small);
    check_generated(quad_preset_find("small"), 1, 3, &max_small);
    check_generated(quad_preset_find("small"), 7, 3, &max_small);
    assert_null(quad_preset_find("big"));
    assert_null(quad_preset_find(NULL));

    /* The longest seed target, field by field: "D=(" 3, P(b) 7 ("(-5400)"),
     * "^2-4*" 5, a 1, "*" 1, P(c) 9 ("(-810000)"), ")=" 2, D 8 (at most
     * 81*600^2 = 29160000), ";" 1 = 37; twice "x=(" 3, -b 5, sign 1, s 4
     * (at most 9*600), ")/(2*" 5, a 1, ")=" 2, x 4, ";" 1 = 26; twice
     * "x=" 2, x 4, ";" 1 = 7. Total 103 (no-root targets: at most 39). */
    size_t longest = 37 + 2 * 26 + 2 * 7;
    static const quad_eq extreme[] = {
        {9, -9 * (-300 + 299), 9 * -300 * 299},   /* b = 9, c = -807300 */
        {9, -9 * (300 + 299), 9 * 300 * 299},     /* b = -5391 */
    };
    for (size_t i = 0; i < sizeof extreme / sizeof extreme[0]; i++) {
        char t[QUAD_TARGET_MAX];
        as_err err;
        int n = quad_format_target(&extreme[i], t, sizeof t, &err);
        assert_true(n > 0 && (size_t)n <= longest);
    }
    assert_true(max_seed <= longest);
    assert_true(longest + 1 <= QUAD_MAX_GEN);
    print_message("longest seed target: %zu generated, %zu bound; small %zu\n", max_seed, longest,
                  max_small);
}

/* FNV-1a over the written lines of a small set. */
static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

#define PIN_LINE1 "3x^2+2531x+771521=0"
#define PIN_HASH 0x228f8e05fa65ad05ULL

static void test_reproducible(void **state)
{
    (void)state;
    const quad_preset *p = quad_preset_find("seed");
    quad_eq a[200], b[200];
    quad_generate(p, 200, 42, a);
    quad_generate(p, 200, 42, b);
    assert_memory_equal(a, b, sizeof a);
    quad_generate(p, 200, 43, b);
    assert_memory_not_equal(a, b, sizeof a);

    /* Pinned: the first lines and a hash of the whole set for seed 42.
     * These values change only if the documented draw order changes. */
    char src[QUAD_SOURCE_MAX];
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < 200; i++) {
        quad_format_source(&a[i], src, sizeof src);
        h = fnv(src, h);
        h = fnv("\n", h);
    }
    quad_format_source(&a[0], src, sizeof src);
    print_message("seed 42 line 1: %s, hash %016llx\n", src, (unsigned long long)h);
    assert_string_equal(src, PIN_LINE1);
    assert_true(h == PIN_HASH);

    unsigned char s1[200], s2[200];
    quad_split(a, 200, 42, 0.2, s1);
    quad_split(a, 200, 42, 0.2, s2);
    assert_memory_equal(s1, s2, sizeof s1);
}

/* 100,000 examples: shares per kind, the split holds ~20 % of each kind,
 * train and test share no equation. */
static int cmp_eq(const void *x, const void *y)
{
    const quad_eq *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return p->c < q->c ? -1 : p->c > q->c;
}

static void check_split(const char *preset, size_t n, uint64_t seed)
{
    quad_eq *eqs = malloc(n * sizeof *eqs);
    unsigned char *test = malloc(n);
    quad_generate(quad_preset_find(preset), n, seed, eqs);
    quad_split(eqs, n, seed, 0.2, test);
    size_t per[QUAD_N_KINDS] = {0}, per_test[QUAD_N_KINDS] = {0}, n_test = 0;
    for (size_t i = 0; i < n; i++) {
        quad_kind k = quad_kind_of(&eqs[i]);
        per[k]++;
        per_test[k] += test[i];
        n_test += test[i];
    }
    double share = (double)n_test / (double)n;
    print_message("%s: test %zu of %zu (%.4f); per kind %zu/%zu %zu/%zu %zu/%zu\n", preset,
                  n_test, n, share, per_test[0], per[0], per_test[1], per[1], per_test[2], per[2]);
    assert_true(fabs(share - 0.2) < 0.005);
    for (int k = 0; k < QUAD_N_KINDS; k++) {
        double ks = (double)per_test[k] / (double)per[k];
        assert_true(fabs(ks - 0.2) < 0.01);
    }
    /* disjoint: sort (eq, side) pairs; equal equations must agree */
    quad_eq *tagged = malloc(n * sizeof *tagged);
    for (size_t i = 0; i < n; i++) tagged[i] = eqs[i];
    size_t *order = malloc(n * sizeof *order);
    (void)order;
    /* encode the side in the sort by sorting train and test separately and
     * merging */
    size_t nt = 0, nr = 0;
    quad_eq *tr = malloc(n * sizeof *tr), *te = malloc(n * sizeof *te);
    for (size_t i = 0; i < n; i++) {
        if (test[i]) te[nt++] = eqs[i];
        else tr[nr++] = eqs[i];
    }
    qsort(tr, nr, sizeof *tr, cmp_eq);
    qsort(te, nt, sizeof *te, cmp_eq);
    size_t i = 0, j = 0, shared = 0;
    while (i < nr && j < nt) {
        int c = cmp_eq(&tr[i], &te[j]);
        if (c == 0) shared++, i++;
        else if (c < 0) i++;
        else j++;
    }
    assert_int_equal(shared, 0);
    free(tr);
    free(te);
    free(order);
    free(tagged);
    free(eqs);
    free(test);
}

static void test_split_100k(void **state)
{
    (void)state;
    check_split("seed", 100000, 7);
    check_split("small", 100000, 7);
    /* edge shares */
    quad_eq eqs[50];
    unsigned char t[50];
    quad_generate(quad_preset_find("small"), 50, 1, eqs);
    quad_split(eqs, 50, 1, 0.0, t);
    for (int i = 0; i < 50; i++) assert_int_equal(t[i], 0);
    quad_split(eqs, 50, 1, 1.0, t);
    for (int i = 0; i < 50; i++) assert_int_equal(t[i], 1);
}

/* ---- parser ------------------------------------------------------------ */

static void expect_parse(const char *text, int64_t a, int64_t b, int64_t c)
{
    quad_eq e;
    quad_parse_error pe;
    if (quad_parse(text, &e, &pe) != 0)
        fail_msg("'%s' rejected at column %zu: %s", text, pe.column, pe.reason);
    if (e.a != a || e.b != b || e.c != c)
        fail_msg("'%s' -> %lld %lld %lld, expected %lld %lld %lld", text, (long long)e.a,
                 (long long)e.b, (long long)e.c, (long long)a, (long long)b, (long long)c);
}

static void test_parse_friendly(void **state)
{
    (void)state;
    expect_parse("x^2 - 5x + 6 = 0", 1, -5, 6);
    expect_parse("-x^2+4=0", 1, 0, -4);
    expect_parse("3x^2=12", 3, 0, -12);
    expect_parse("x\xc2\xb2-1=0", 1, 0, -1);
    expect_parse("1x^2-5x+6=0", 1, -5, 6);
}

static void test_parse_friendly2(void **state)
{
    (void)state;
    expect_parse("6 - 5x + x^2 = 0", 1, -5, 6);
    expect_parse("x^2 = 5x - 6", 1, -5, 6);
    expect_parse("0 = x^2 - 5x + 6", 1, -5, 6);
    expect_parse("0 = -x^2 + 5x - 6", 1, -5, 6);
    expect_parse("X^2+X=0", 1, 1, 0);
    expect_parse("2*x^2 + 3 * x = 1", 2, 3, -1);
    expect_parse("2 x^2=8", 2, 0, -8);
    expect_parse("x ^ 2 = 1", 1, 0, -1);
    expect_parse("+x^2+x^1+x^0=0", 1, 1, 1);
    expect_parse("x^2+x^2=2x", 2, -2, 0);
    expect_parse("\tx^2\t=\t9", 1, 0, -9);
    expect_parse("x\xe2\x88\x92" "1 = x\xc2\xb2", 1, -1, 1);  /* U+2212 minus */
    expect_parse("-3x^2 = 0", 3, 0, 0);
    expect_parse("7x^2+3556x+451612=0", 7, 3556, 451612);
    expect_parse("x^2=9223372036854775807", 1, 0, -INT64_MAX);
    expect_parse("x^02 = 1", 1, 0, -1);
    expect_parse("x^-0 + x^2 = 0", 1, 0, 1);
    expect_parse("5 = 5 + x^2", 1, 0, 0);
}

static void expect_error(const char *text, size_t column, const char *reason_part)
{
    quad_eq e;
    quad_parse_error pe;
    if (quad_parse(text, &e, &pe) == 0) fail_msg("'%s' accepted, expected an error", text);
    if (pe.column != column || !strstr(pe.reason, reason_part))
        fail_msg("'%s': column %zu '%s', expected column %zu '...%s...'", text, pe.column,
                 pe.reason, column, reason_part);
}

static void test_parse_hostile(void **state)
{
    (void)state;
    expect_error("", 1, "empty input");
    expect_error("   ", 1, "empty input");
    expect_error("x^2-5x+6", 9, "not an equation");
    expect_error("x^3+1=0", 3, "power 3");
    expect_error("x\xc2\xb3+1=0", 2, "power above 2");
    expect_error("x^2 + x^7 = 0", 9, "power 7");
    expect_error("x^-1 + x^2 = 0", 3, "power -1");
    expect_error("x^99999999999999999999999=1", 3, "power too large");
    expect_error("0x^2+5x+6=0", 1, "a = 0");
    expect_error("5x+6=0", 1, "no x^2 term");
    expect_error("x^2+x=x^2", 1, "cancel");
    expect_error("y^2+1=0", 1, "variable 'y'");
    expect_error("x^2+2y=0", 6, "variable 'y'");
    expect_error("abc", 1, "variable 'a'");
    expect_error("x^2+1=0=0", 8, "second '='");
    expect_error("x^2==1", 5, "nothing after '='");
    expect_error("x^2=", 5, "nothing after '='");
    expect_error("=x^2", 1, "nothing before '='");
    expect_error("x^2+1.5=0", 6, "whole numbers");
    expect_error("x^2+\x07=0", 5, "control character 0x07");
    expect_error("x^2\n=0", 4, "control character 0x0A");
    expect_error("x^2+1=0\x1b[31m", 8, "control character 0x1B");
    expect_error("x^2+\xff=0", 5, "invalid UTF-8");
    expect_error("x\xc3", 2, "invalid UTF-8");
    expect_error("x^2+#=0", 5, "stray character '#'");
    expect_error("x^2+\xc3\xa9=0", 5, "stray character '\xc3\xa9'");
    expect_error("\xc2\xb2\xc2\xb2 x^2 + @ = 0", 1, "stray character");
    expect_error("x\xc2\xb2 + @ = 0", 6, "stray character '@'");  /* columns count characters */
    expect_error("(x-1)^2=0", 1, "parentheses");
    expect_error("x^2+-1=0", 5, "two signs");
    expect_error("x^2+=0", 5, "unexpected");
    expect_error("x^2 5=0", 5, "number after x");
    expect_error("xx=0", 2, "x twice");
    expect_error("x^=1", 3, "expected a power");
    expect_error("x^2 1=0", 5, "number after x");
    expect_error("x^2 = 5 6", 9, "two numbers in a row");
    expect_error("2 * = 0", 5, "after '*'");
    expect_error("x^2=9223372036854775808", 5, "number too large");
    expect_error("x^2+9223372036854775807+1=0", 24, "does not fit 64 bits after collecting");
    expect_error("-9223372036854775807x^2-1x^2=0", 1, "multiplied by -1");

    /* 10 kB of digits: one clear error, linear time */
    size_t n = 10240;
    char *big = malloc(n + 16);
    memset(big, '7', n);
    strcpy(big + n, "x^2=0");
    quad_eq e;
    quad_parse_error pe;
    assert_int_equal(quad_parse(big, &e, &pe), -1);
    assert_int_equal(pe.column, 1);
    assert_non_null(strstr(pe.reason, "10240 digits"));
    memset(big, '1', n);
    big[n] = '\0';
    assert_int_equal(quad_parse(big, &e, &pe), -1);
    free(big);
}

/* ---- solver ------------------------------------------------------------- */

static void expect_solution(quad_eq e, const char *target, const char *roots, int in_dist)
{
    quad_solution s;
    as_err err;
    if (quad_solve(&e, &s, &err) != 0) fail_msg("solve failed: %s", err.msg);
    if (target && strcmp(s.target, target)) fail_msg("target '%s', expected '%s'", s.target, target);
    if (roots && strcmp(s.roots_text, roots))
        fail_msg("roots '%s', expected '%s'", s.roots_text, roots);
    assert_int_equal(s.in_distribution, in_dist);
}

static void test_solver(void **state)
{
    (void)state;
    expect_solution((quad_eq){1, -5, 6}, NULL, "x = 2, x = 3", 1);
    expect_solution((quad_eq){7, 3556, 451612}, NULL, "x = -254 (double root)", 1);
    /* rational roots */
    expect_solution((quad_eq){2, -1, -1},
                    "D=((-1)^2-4*2*(-1))=9;x=(1-3)/(2*2)=-1/2;x=(1+3)/(2*2)=1;x=-1/2;x=1;",
                    "x = -1/2, x = 1 \xe2\x89\x88 -0.5, 1", 0);
    /* surd */
    expect_solution((quad_eq){1, -5, 3},
                    "D=((-5)^2-4*1*3)=13;x=(5-\xe2\x88\x9a" "13)/(2*1)=(5-\xe2\x88\x9a" "13)/2;"
                    "x=(5+\xe2\x88\x9a" "13)/(2*1)=(5+\xe2\x88\x9a" "13)/2;"
                    "x=(5-\xe2\x88\x9a" "13)/2;x=(5+\xe2\x88\x9a" "13)/2;",
                    "x = (5\xc2\xb1\xe2\x88\x9a" "13)/2 \xe2\x89\x88 0.697224, 4.30278", 0);
    /* x^2 - 8 = 0: sqrt(32) = 4 sqrt(2), roots -2√2, 2√2 */
    expect_solution((quad_eq){1, 0, -8}, NULL,
                    "x = \xc2\xb1" "2\xe2\x88\x9a" "2 \xe2\x89\x88 -2.82843, 2.82843", 0);
    /* complex: 3x^2+2x+5, D = -56 = -4*14 */
    expect_solution((quad_eq){3, 2, 5}, "D=(2^2-4*3*5)=-56;D<0;",
                    "x = (-1\xc2\xb1i\xe2\x88\x9a" "14)/3 \xe2\x89\x88 -0.333333 \xc2\xb1 1.24722i", 1);
    expect_solution((quad_eq){1, 0, 1}, NULL, "x = \xc2\xb1i \xe2\x89\x88 0 \xc2\xb1 1i", 1);
    expect_solution((quad_eq){1, 0, 4}, NULL, "x = \xc2\xb1" "2i \xe2\x89\x88 0 \xc2\xb1 2i", 1);
    /* a < 0 is normalised */
    quad_solution s;
    as_err err;
    assert_int_equal(quad_solve(&(quad_eq){-1, 5, -6}, &s, &err), 0);
    assert_int_equal(s.eq.a, 1);
    assert_string_equal(s.target, spec_lines[1][1]);
    /* large but fine: D near 2^62, a prime-ish surd */
    assert_int_equal(quad_solve(&(quad_eq){1, 2000000001, 3}, &s, &err), 0);
    assert_int_equal(s.kind, QUAD_TWO_ROOTS);
    assert_true(s.re[1] < 0 && s.re[1] > -2e-9);
    /* overflow */
    assert_int_equal(quad_solve(&(quad_eq){1, 3037000500LL, 0}, &s, &err), -1);
    assert_non_null(strstr(err.msg, "b^2"));
    assert_int_equal(quad_solve(&(quad_eq){INT64_MAX, 0, 3}, &s, &err), -1);
    assert_non_null(strstr(err.msg, "a*c"));
    assert_int_equal(quad_solve(&(quad_eq){3037000499LL, 0, 3037000499LL}, &s, &err), -1);
    assert_non_null(strstr(err.msg, "4*a*c"));
    assert_int_equal(quad_solve(&(quad_eq){-1, 3037000499LL, 2305843009213693951LL}, &s, &err), -1);
    assert_non_null(strstr(err.msg, "D"));
    assert_int_equal(quad_solve(&(quad_eq){0, 1, 1}, &s, &err), -1);
    assert_int_equal(quad_solve(&(quad_eq){INT64_MIN, 1, 1}, &s, &err), -1);
    /* what the parser accepts but the solver cannot do: a clear error */
    quad_eq e;
    quad_parse_error pe;
    assert_int_equal(quad_parse("x^2 + 9999999999x = 0", &e, &pe), 0);
    assert_int_equal(quad_solve(&e, &s, &err), -1);
    assert_int_equal(quad_kind_of(&e), QUAD_TWO_ROOTS);
}

/* ---- scores ------------------------------------------------------------- */

/* quad_preset_outside on e against preset name: want NULL (inside) or the
 * message. */
static void expect_outside(const char *name, quad_eq e, const char *want)
{
    quad_solution sol;
    as_err err = {{0}};
    assert_int_equal(quad_solve(&e, &sol, &err), 0);
    char why[160] = "";
    int out = quad_preset_outside(quad_preset_find(name), &sol, why, sizeof why);
    if (!want) {
        if (out) fail_msg("%s: %s", name, why);
        return;
    }
    assert_int_equal(out, 1);
    assert_string_equal(why, want);
}

static void test_preset_outside(void **state)
{
    (void)state;
    /* the edges of small: a 1..5, roots -20..20, no-root b -200..200, c 1..2000 */
    expect_outside("small", (quad_eq){5, -200, 2000}, NULL);            /* 5(x-20)^2 */
    expect_outside("small", (quad_eq){5, 0, -2000}, NULL);              /* roots -20, 20 */
    expect_outside("small", (quad_eq){6, -12, 6}, "a = 6 is outside the small preset's 1..5");
    expect_outside("small", (quad_eq){1, -1, -420},
                   "root 21 is outside the small preset's -20..20");   /* roots -20, 21 */
    expect_outside("small", (quad_eq){1, 42, 441}, "root -21 is outside the small preset's -20..20");
    expect_outside("small", (quad_eq){5, 200, 2001},
                   "c = 2001 is outside the small preset's 1..2000 for no-root equations");
    expect_outside("small", (quad_eq){5, -201, 2100},
                   "b = -201 is outside the small preset's -200..200 for no-root equations");
    expect_outside("small", (quad_eq){5, 199, 2000}, NULL);
    /* the study's example is inside seed and outside small */
    expect_outside("seed", (quad_eq){7, 3556, 451612}, NULL);
    expect_outside("small", (quad_eq){7, 3556, 451612}, "a = 7 is outside the small preset's 1..5");
    /* not the spec's form (rational roots): no preset note, the form has its own */
    expect_outside("small", (quad_eq){2, -1, -1}, NULL);
    /* every preset's example is its own */
    for (const char *const *n = (const char *const[]){"seed", "small", NULL}; *n; n++) {
        quad_eq e;
        assert_int_equal(quad_parse(quad_preset_find(*n)->example, &e, NULL), 0);
        expect_outside(*n, e, NULL);
    }
}

static void test_scores(void **state)
{
    (void)state;
    const char *t2 = spec_lines[1][1];  /* two roots */
    const char *t1 = spec_lines[0][1];  /* one root */
    const char *t0 = spec_lines[3][1];  /* no root */
    assert_int_equal(quad_first_diff(t2, t2), -1);
    assert_int_equal(quad_first_diff("abc", "abd"), 2);
    assert_int_equal(quad_first_diff("abc", "ab"), 2);
    assert_int_equal(quad_first_diff("abc", "abcd"), 3);
    assert_int_equal(quad_first_diff("abc", ""), 0);

    /* right answer, wrong discriminant */
    const char *wrong_d = "D=((-5)^2-4*1*6)=9;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;x=3;";
    assert_true(quad_answer_right(t2, wrong_d));
    assert_true(quad_answer_right(t2, t2));
    assert_false(quad_answer_right(t2, "D=((-5)^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=3;x=2;"));
    assert_false(quad_answer_right(t2, "D=((-5)^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;"));
    assert_false(quad_answer_right(t2, "x=3;"));
    assert_false(quad_answer_right(t2, ""));
    assert_true(quad_answer_right(t2, "x=2;x=3;junk after"));
    assert_true(quad_answer_right(t0, "D=(2^2-4*3*5)=-55;D<0;"));
    assert_false(quad_answer_right(t0, "D=(2^2-4*3*5)=-56;D<0"));
    assert_false(quad_answer_right(t0, "D=(2^2-4*3*5)=-56;x=1;x=2;"));
    assert_false(quad_answer_right(t2, "D<0;"));
    assert_true(quad_answer_right(t1, "x=-254;x=-254;"));

    quad_scores s;
    memset(&s, 0, sizeof s);
    size_t l2 = strlen(t2), l1 = strlen(t1), l0 = strlen(t0);
    quad_scores_add(&s, QUAD_TWO_ROOTS, t2, t2);                 /* perfect */
    quad_scores_add(&s, QUAD_TWO_ROOTS, t2, wrong_d);            /* one char wrong */
    char missing[256];
    snprintf(missing, sizeof missing, "%.*s", (int)(l1 - 10), t1);  /* last 10 missing */
    quad_scores_add(&s, QUAD_ONE_ROOT, t1, missing);
    char extra[256];
    snprintf(extra, sizeof extra, "%sD<0;", t0);                 /* extra chars */
    quad_scores_add(&s, QUAD_NO_ROOT, t0, extra);

    assert_int_equal(s.all.n, 4);
    assert_int_equal(s.all.full, 1);
    assert_int_equal(s.all.answer, 3);  /* perfect, wrong D, extra "D<0;" */
    assert_int_equal(s.all.chars_total, 2 * l2 + l1 + l0);
    assert_int_equal(s.all.chars_right, l2 + (l2 - 1) + (l1 - 10) + l0);
    assert_int_equal(s.kind[QUAD_TWO_ROOTS].n, 2);
    assert_int_equal(s.kind[QUAD_TWO_ROOTS].full, 1);
    assert_int_equal(s.kind[QUAD_TWO_ROOTS].answer, 2);
    assert_int_equal(s.kind[QUAD_ONE_ROOT].answer, 0);
    assert_int_equal(s.kind[QUAD_ONE_ROOT].chars_right, l1 - 10);
    assert_int_equal(s.kind[QUAD_NO_ROOT].full, 0);
    assert_int_equal(s.kind[QUAD_NO_ROOT].chars_right, l0);
    assert_true(fabs(quad_score_full(&s.all) - 0.25) < 1e-12);
    assert_true(fabs(quad_score_answer(&s.kind[QUAD_TWO_ROOTS]) - 1.0) < 1e-12);
    assert_true(fabs(quad_score_chars(&s.kind[QUAD_ONE_ROOT]) - (double)(l1 - 10) / (double)l1) < 1e-12);
    quad_score empty = {0};
    assert_true(quad_score_full(&empty) == 0 && quad_score_chars(&empty) == 0 &&
                quad_score_answer(&empty) == 0);

    /* the step of the first wrong character */
    assert_int_equal(quad_wrong_step(t2, t2), -1);
    assert_int_equal(quad_wrong_step(t2, wrong_d), 0);
    assert_int_equal(quad_wrong_step(t2, ""), 0);
    assert_int_equal(quad_wrong_step(t2, "D=((-5)^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=4;"), 2);
    assert_int_equal(quad_wrong_step(t2, "D=((-5)^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;x=4;"), 4);
    assert_int_equal(quad_wrong_step(t2, "D=((-5)^2-4*1*6)=1;x=(5-1)/(2*1)=2;x=(5+1)/(2*1)=3;x=2;x=3;;"), 5);
    assert_int_equal(quad_wrong_step(t0, "D=(2^2-4*3*5)=-56;x"), 1);
    assert_int_equal(quad_wrong_step(t0, extra), 2);
    assert_string_equal(quad_step_name(QUAD_NO_ROOT, 1), "D<0");
    assert_string_equal(quad_step_name(QUAD_NO_ROOT, 2), "extra output");
    assert_string_equal(quad_step_name(QUAD_TWO_ROOTS, 3), "x1 answer");
    assert_string_equal(quad_step_name(QUAD_ONE_ROOT, 5), "extra output");

    /* a shifted output: every character after the shift is wrong */
    quad_scores s2;
    memset(&s2, 0, sizeof s2);
    char shifted[256];
    snprintf(shifted, sizeof shifted, "D%s", t0);
    quad_scores_add(&s2, QUAD_NO_ROOT, t0, shifted);
    assert_int_equal(s2.all.chars_right, 1);  /* only position 0 'D' */
    assert_int_equal(s2.all.answer, 1);
}

/* The discriminant's value, place by place (units first). */
static void test_dstats(void **state)
{
    (void)state;
    const char *t = "D=(9^2-4*3*(-51870))=622521;x=(-9-789)/(2*3)=-133;";
    quad_dstats d;
    memset(&d, 0, sizeof d);
    quad_dstats_add(&d, t, t);                                    /* right */
    quad_dstats_add(&d, t, "D=(9^2-4*3*(-51870))=681241;x=");    /* same length */
    quad_dstats_add(&d, t, "D=(9^2-4*3*(-51870))=62252;");       /* a digit short */
    quad_dstats_add(&d, t, "D=(9^2-4*3*(-51870))=-622521;");     /* wrong sign */
    quad_dstats_add(&d, t, "D=(9^2-4*3*(-51870))=;");            /* no value */
    quad_dstats_add(&d, t, "x=");                                 /* not even D */
    assert_int_equal(d.n, 6);
    assert_int_equal(d.has_value, 4);
    assert_int_equal(d.right, 1);
    assert_int_equal(d.sign_right, 2);
    assert_int_equal(d.same_digits, 1);
    assert_int_equal(d.leading, 1);
    /* 622521 vs 681241: places 1, 10^2 (5 vs 2), 10^3 (2 vs 1), 10^4 (2 vs 8) */
    const size_t right[6] = {1, 0, 0, 0, 0, 1};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(d.place_total[i], 1);
        assert_int_equal(d.place_right[i], right[i]);
    }
    assert_int_equal(d.place_total[6], 0);
    /* negative values (no root), the ')=' after a bracketed c */
    const char *t0 = "D=((-3837)^2-4*7*676341)=-4214979;D<0;";
    memset(&d, 0, sizeof d);
    quad_dstats_add(&d, t0, "D=((-3837)^2-4*7*676341)=-3444349;D<0;");
    assert_int_equal(d.sign_right, 1);
    assert_int_equal(d.same_digits, 1);
    assert_int_equal(d.leading, 0);
    assert_int_equal(d.place_right[0], 1);
    assert_int_equal(d.place_right[1], 0);
    assert_int_equal(d.place_total[6], 1);
}

/* ---- files -------------------------------------------------------------- */

static char tmpdir[64];

static void expect_read_error(const char *text, const char *part)
{
    char path[128];
    snprintf(path, sizeof path, "%s/bad.tsv", tmpdir);
    tu_write_text(path, text);
    quad_dataset ds;
    as_err err;
    assert_int_equal(quad_ds_read(path, 0, &ds, &err), -1);
    if (!strstr(err.msg, part)) fail_msg("'%s' does not contain '%s'", err.msg, part);
    quad_ds_free(&ds);
}

static void test_files(void **state)
{
    (void)state;
    assert_int_equal(tu_tmpdir(tmpdir, sizeof tmpdir, "quad"), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/set.tsv", tmpdir);

    quad_eq eqs[100];
    unsigned char t[100];
    quad_generate(quad_preset_find("small"), 100, 5, eqs);
    quad_split(eqs, 100, 5, 0.2, t);
    size_t counts[QUAD_N_KINDS];
    as_err err;
    assert_int_equal(quad_ds_write(path, eqs, 100, t, 0, counts, &err), 0);
    size_t n_train = 0;
    for (int i = 0; i < 100; i++) n_train += !t[i];
    assert_int_equal(counts[0] + counts[1] + counts[2], n_train);

    quad_dataset ds;
    assert_int_equal(quad_ds_read(path, 0, &ds, &err), 0);
    assert_int_equal(ds.n, n_train);
    for (size_t i = 0, k = 0; i < 100; i++) {
        if (t[i]) continue;
        assert_memory_equal(&ds.ex[k].eq, &eqs[i], sizeof eqs[i]);
        quad_solution s;
        assert_int_equal(quad_solve(&eqs[i], &s, &err), 0);
        assert_string_equal(ds.ex[k].target, s.target);
        assert_int_equal(ds.ex[k].line, k + 1);
        k++;
    }
    quad_ds_free(&ds);
    assert_int_equal(quad_ds_read(path, 3, &ds, &err), 0);
    assert_int_equal(ds.n, 3);
    quad_ds_free(&ds);

    /* a BOM, CRLF, no final newline, a wrong target: all fine */
    tu_write_text(path, "\xef\xbb\xbf" "1x^2-5x+6=0\tD=1;\r\n3x^2+2x+5=0\tnonsense");
    assert_int_equal(quad_ds_read(path, 0, &ds, &err), 0);
    assert_int_equal(ds.n, 2);
    assert_string_equal(ds.ex[0].target, "D=1;");
    assert_string_equal(ds.ex[1].target, "nonsense");
    assert_int_equal(ds.ex[1].kind, QUAD_NO_ROOT);
    quad_ds_free(&ds);

    expect_read_error("1x^2-5x+6=0\tD=1;\n1x^2-5x+6=0 D=1;\n", "bad.tsv:2: no tab");
    expect_read_error("\tD=1;\n", "bad.tsv:1: empty source");
    expect_read_error("1x^2-5x+6=0\t\n", "bad.tsv:1: empty target");
    expect_read_error("1x^2-5x+6=0\ta\tb\n", "bad.tsv:1: more than one tab");
    expect_read_error("1x^2-5x+6=0\ta\n\n1x^2-5x+6=0\ta\n", "bad.tsv:2: empty line");
    expect_read_error("1x^2-5x+6=0\ta\n1y^2=0\ta\n", "bad.tsv:2: source column 2: variable 'y'");
    expect_read_error("1x^2-5x+6=0\t\xff\n", "bad.tsv:1: invalid UTF-8");
    expect_read_error("", "no examples");
    char nul[] = "1x^2-5x+6=0\ta\n1x^2\0=0\ta\n";
    snprintf(path, sizeof path, "%s/bad.tsv", tmpdir);
    tu_write_file(path, nul, sizeof nul - 1);
    assert_int_equal(quad_ds_read(path, 0, &ds, &err), -1);
    assert_non_null(strstr(err.msg, "bad.tsv:2: a NUL byte"));
    quad_ds_free(&ds);
    snprintf(path, sizeof path, "%s/none.tsv", tmpdir);
    assert_int_equal(quad_ds_read(path, 0, &ds, &err), -1);
    quad_ds_free(&ds);

    /* an unwritable path leaves no file and says so */
    assert_int_equal(quad_ds_write("/nonexistent-dir/x.tsv", eqs, 10, NULL, 0, NULL, &err), -1);

    assert_int_equal(tu_rm_rf(tmpdir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),
        cmocka_unit_test(test_generated_resolve),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_split_100k),
        cmocka_unit_test(test_parse_friendly),
        cmocka_unit_test(test_parse_friendly2),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_solver),
        cmocka_unit_test(test_preset_outside),
        cmocka_unit_test(test_scores),
        cmocka_unit_test(test_dstats),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
