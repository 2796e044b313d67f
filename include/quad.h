/* quad.h - the quadratic-equation task of ../shared/spec/quadratic-task.md:
 * the equation, its canonical source and target text, the exact solver, the
 * lenient parser for what a person types, the data-set generator and split,
 * TSV data-set files, and the three scores.
 *
 * Everything here is plain integer arithmetic with overflow checks, and
 * reentrant (no hidden state: threads may call anything at once); nothing
 * knows about models or terminals. Deliberately not here: decoding (t5.h)
 * and drawing (the views). */
#ifndef ATTNSCOPE_QUAD_H
#define ATTNSCOPE_QUAD_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* a x^2 + b x + c = 0. Canonical equations have a > 0. */
typedef struct {
    int64_t a, b, c;
} quad_eq;

/* The kind of an equation, by the sign of D = b^2 - 4ac. */
typedef enum { QUAD_TWO_ROOTS = 0, QUAD_ONE_ROOT = 1, QUAD_NO_ROOT = 2 } quad_kind;
#define QUAD_N_KINDS 3

/* "two roots", "one root", "no root" (for people) and "two_roots",
 * "one_root", "no_root" (for JSON keys). Static strings. */
const char *quad_kind_name(quad_kind k);
const char *quad_kind_key(quad_kind k);

/* Buffer sizes that hold any source or target of a 64-bit equation (with
 * the NUL). */
#define QUAD_SOURCE_MAX 80
#define QUAD_TARGET_MAX 512

/* Greedy-decoding length (tokens, eos included) that covers every target of
 * the `seed` and `small` presets: a seed target is at most 103 bytes (the
 * unit test derives the bound), plus eos, rounded up. */
#define QUAD_MAX_GEN 128

/* ---- canonical text and exact solver ----------------------------------- */

/* The canonical source "{a}x^2{sign b}{|b|}x{sign c}{|c|}=0" into buf
 * (QUAD_SOURCE_MAX bytes is always enough). Returns the length, or -1 when
 * cap is too small (buf then holds a truncated NUL-terminated prefix). */
int quad_format_source(const quad_eq *e, char *buf, size_t cap);

/* The exact solution of an equation, in 64-bit integers, in every form a
 * view needs.
 *
 * The roots are x = (-b -/+ sqrt(D)) / (2a), x1 <= x2 for real roots. With
 * sqrt(D) = k*sqrt(m) (m square-free) and g = gcd(b, k, 2a), each root is
 * (p -/+ q*sqrt(m)) / den with p = -b/g, q = k/g, den = 2a/g (for D < 0 the
 * root is complex: (p -/+ q*i*sqrt(m)) / den). */
typedef struct {
    quad_eq eq;
    quad_kind kind;
    int64_t D;              /* b^2 - 4ac */
    int d_square;           /* D >= 0 and a perfect square */
    int64_t s;              /* sqrt(D) when d_square */
    int64_t num[2], den[2]; /* when d_square: x1, x2 as reduced fractions, den > 0 */
    int integer_roots;      /* d_square and both den == 1 */
    int in_distribution;    /* D < 0 or integer roots: target is in the spec's form */
    int64_t p, q, m, rden;  /* the surd form above (every D) */
    double re[2], im[2];    /* x1, x2 as decimals (im = 0 for real roots) */
    /* The target. When in_distribution it is the spec's target byte for
     * byte. Otherwise the "D=(...)=D;" part is still the spec's, and each
     * "x=..." value is the exact root written as a reduced fraction
     * ("x=(1-3)/(2*2)=-1/2;") or a surd ("x=(5-√13)/(2*1)=(5-√13)/2;",
     * UTF-8): a reference to show beside a model, not a training target. */
    char target[QUAD_TARGET_MAX];
    /* The roots for people, UTF-8: "x = 2, x = 3", "x = -254 (double)",
     * "x = -1/2, x = 1", "x = (5 ± √13)/2 ≈ 0.697224, 4.30278",
     * "x = (-1 ± i√7)/4 ≈ -0.25 ± 0.661438i". */
    char roots_text[256];
} quad_solution;

/* Solve e (a != 0). An equation with a < 0 is first multiplied by -1 (the
 * canonical form); sol->eq holds the equation solved. Returns 0, or -1
 * with err filled when an intermediate (b^2, 4ac, D, -b, 2a, -b±s) does
 * not fit 64 bits or a == 0. Costs a few milliseconds at worst (factoring
 * D near 2^63 for the surd form); microseconds for the presets. */
int quad_solve(const quad_eq *e, quad_solution *sol, as_err *err);

/* Just the target text (the spec's form when in distribution, see above).
 * Returns its length, or -1 (overflow, a == 0, or cap too small). */
int quad_format_target(const quad_eq *e, char *buf, size_t cap, as_err *err);

/* A worked target, for stepwise internalisation (train.cfg data.stepwise):
 * the target with the discriminant's intermediate products written out as
 * one extra step after "D=(P(b)^2-4*a*P(c))", before "=D;":
 *   show QUAD_SHOW_B2 | QUAD_SHOW_4AC  "=(b2-P(4ac))"
 *   show QUAD_SHOW_B2                  "=(b2-4*a*P(c))"
 *   show QUAD_SHOW_4AC                 "=(P(b)^2-P(4ac))"
 *   show 0                             nothing: quad_format_target's text
 * with b2 = b^2 and 4ac as decimal values (P as in the spec), e.g.
 * D=(3556^2-4*7*451612)=(12645136-12645136)=0;x=... Returns the length, or
 * -1 (overflow, a == 0, cap too small). */
enum { QUAD_SHOW_B2 = 1, QUAD_SHOW_4AC = 2 };
int quad_format_target_worked(const quad_eq *e, unsigned show, char *buf, size_t cap,
                              as_err *err);

/* ---- lenient parser ---------------------------------------------------- */

/* Where and why a text is not an equation. column is 1-based, counted in
 * UTF-8 characters (what a caret under the text points at); byte is the
 * 0-based byte offset of the same place. */
typedef struct {
    size_t column;
    size_t byte;
    char reason[160];
} quad_parse_error;

/* Parse what a person types into the canonical equation (a > 0).
 * Accepts: spaces and tabs anywhere between tokens, an implicit 1 (x^2,
 * -x), terms in any order and on both sides of one '=', any term missing,
 * x^0 / x^1 / x^2 / x² (UTF-8) / x, X for x, '*' between a number and x,
 * a leading '+', U+2212 (−) for '-'. Collects the terms, and multiplies by
 * -1 when a < 0. Rejects, with the column and the reason: empty input, no
 * '=' (not an equation), a second '=', an empty side, a letter other than
 * x, a power other than 0, 1 or 2, a == 0 (not quadratic), a number or a
 * collected coefficient past 64 bits, a decimal point, control characters,
 * invalid UTF-8, and anything else unexpected (stray character). Linear in
 * the input length. Returns 0, or -1 with *perr filled (perr may be NULL). */
int quad_parse(const char *text, quad_eq *out, quad_parse_error *perr);

/* ---- data sets ---------------------------------------------------------- */

/* The ranges of a preset (spec table), all inclusive. */
typedef struct {
    const char *name;
    int64_t a_lo, a_hi;   /* a */
    int64_t r_lo, r_hi;   /* roots r1, r2 */
    int64_t b_lo, b_hi;   /* no-root equations: b */
    int64_t c_lo, c_hi;   /* no-root equations: c */
    const char *example;  /* the equation the UI and `report` show first for
                             a model of this preset: the study's for seed;
                             for small a two-root equation of `gen --preset
                             small --seed 1`'s test split, which a bundled
                             model never saw and must compute */
} quad_preset;

/* The preset named "seed" or "small"; NULL for any other name. */
const quad_preset *quad_preset_find(const char *name);

/* Generate n equations of preset p from seed into out (n entries): exactly
 * round(n/2) two-root, round(3n/10) one-root, and the rest no-root
 * equations, shuffled. The draw order (see dataset.c) is fixed, so the same
 * (preset, n, seed) gives the same equations on every machine. */
void quad_generate(const quad_preset *p, size_t n, uint64_t seed, quad_eq *out);

/* One equation of the given kind drawn from rng with the generator's rules
 * (dataset.c: the draws of steps 1, 2 or 3, in that order). */
quad_eq quad_draw(const quad_preset *p, quad_kind kind, as_rng *rng);

/* Upper bounds (bytes, without the NUL) of the source and target of any
 * equation quad_draw makes for p, and of what a worked target
 * (quad_format_target_worked) adds to a target. Never below the truth,
 * at most a few bytes above it. Any pointer may be NULL. */
void quad_preset_bounds(const quad_preset *p, size_t *src_len, size_t *tgt_len,
                        size_t *worked_extra);

/* Whether sol (an equation in the spec's form: sol->in_distribution) lies
 * outside what preset p generates: a outside its range, a root outside its
 * range, or a no-root equation's b or c outside theirs. Returns 1 and writes
 * the first such value into why ("a = 7 is outside the small preset's
 * 1..5"), else 0 (also for an equation not in the spec's form, which has its
 * own note). A model trained on p has never seen such an equation. */
int quad_preset_outside(const quad_preset *p, const quad_solution *sol, char *why, size_t n);

/* Split by distinct equation: is_test[i] gets 1 for the test side. Every
 * copy of an equation lands on the same side; within each kind the test
 * side gets as close to test_share of the examples as whole equations allow
 * (see dataset.c for the rule). Deterministic given (eqs, seed, share).
 * test_share in [0, 1]. */
void quad_split(const quad_eq *eqs, size_t n, uint64_t seed, double test_share,
                unsigned char *is_test);

/* The kind of an equation from the sign of D, computed without overflow
 * (in 128 bits). a must not be 0. */
quad_kind quad_kind_of(const quad_eq *e);

/* Write the examples with is_test[i] == want (all when is_test is NULL) to
 * path atomically, one "source\ttarget\n" line each. counts (may be NULL)
 * gets the number of lines per kind. Returns 0 or -1. */
int quad_ds_write(const char *path, const quad_eq *eqs, size_t n, const unsigned char *is_test,
                  int want, size_t counts[QUAD_N_KINDS], as_err *err);

/* One line of a data-set file. */
typedef struct {
    const char *source;  /* NUL-terminated, inside the set's buffer */
    const char *target;
    quad_eq eq;          /* the source parsed */
    quad_kind kind;
    size_t line;         /* 1-based line number in the file */
} quad_example;

typedef struct {
    quad_example *ex;
    size_t n;
    char *buf;           /* the file's text, owned */
} quad_dataset;

/* Read a TSV data set: one "source<TAB>target" a line, UTF-8, an optional
 * "\r" before "\n", a last line with or without "\n", an optional UTF-8
 * byte-order mark at the start. Malformed structure
 * is an error naming the file and line: a NUL byte, invalid UTF-8, an empty
 * line, no tab, more than one tab, an empty source or target, a source that
 * does not parse (with the parser's column and reason). A target that
 * disagrees with the solver is not an error (data may be anything). Stops
 * after limit examples when limit > 0. Returns 0 or -1; free with
 * quad_ds_free (also after a failure). */
int quad_ds_read(const char *path, size_t limit, quad_dataset *ds, as_err *err);
/* Byte length of a valid UTF-8 sequence at s (left bytes there), 0 when
 * invalid (lead byte and continuation bytes). */
size_t quad_utf8_len(const unsigned char *s, size_t left);
void quad_ds_free(quad_dataset *ds);

/* ---- scores ------------------------------------------------------------- */

typedef struct {
    size_t n;            /* examples */
    size_t full;         /* output == target */
    size_t answer;       /* final answer right */
    size_t chars_right;  /* positions i < len(target) with output[i] == target[i] */
    size_t chars_total;  /* summed len(target) */
} quad_score;

typedef struct {
    quad_score all;
    quad_score kind[QUAD_N_KINDS];
} quad_scores;

/* Add one example's output to the overall and per-kind counts. */
void quad_scores_add(quad_scores *s, quad_kind kind, const char *target, const char *output);

/* The three shares of a score (0 when it has no examples / characters). */
double quad_score_full(const quad_score *s);
double quad_score_chars(const quad_score *s);
double quad_score_answer(const quad_score *s);

/* A score as a new cJSON object (the caller owns it): "n", "full_solve",
 * "char_accuracy", "answer_accuracy" and, with counts, the raw "full",
 * "answer", "chars_right" and "chars_total". The one JSON form of a score,
 * used by eval's output and trainer_state.json. */
struct cJSON *quad_score_json(const quad_score *s, int counts);

/* Whether output's final answer is target's: the last two ';'-terminated
 * segments are compared when the target's last segment starts with "x=",
 * the last one ("D<0") otherwise. Text after the last ';' is ignored. */
int quad_answer_right(const char *target, const char *output);

/* The first byte index where output and target differ (a missing or extra
 * character counts), or -1 when they are equal. */
long quad_first_diff(const char *target, const char *output);

/* Which step of the solution an output first goes wrong in: the number of
 * ';'-terminated segments of target before quad_first_diff, so for roots
 * 0 discriminant "D=(...)=D;", 1 and 2 the working "x=(...)/(2*a)=x;" of
 * each root, 3 and 4 the answers "x=..;"; for no root 0 the discriminant,
 * 1 "D<0;". A wrong character after the whole target (extra output) gives
 * the segment count (2 or 5). -1 when output equals target. */
int quad_wrong_step(const char *target, const char *output);
#define QUAD_MAX_STEPS 6

/* How close the outputs' value of D = b^2-4ac (the number after "D=(...)=")
 * comes to the target's, digit by digit: whether an output has a value at
 * all, whether it is right, and, for wrong values with the target's sign and
 * number of digits, which places (units, tens, ...) and whether the leading
 * digit are right. */
#define QUAD_D_PLACES 12
typedef struct {
    size_t n;            /* outputs added */
    size_t has_value;    /* outputs with a number after "D=(...)=" */
    size_t right;        /* ... equal to the target's */
    size_t sign_right;   /* wrong values with the target's sign */
    size_t same_digits;  /* wrong values with the target's sign and digit count */
    size_t leading;      /* ... whose leading digit is right */
    size_t place_right[QUAD_D_PLACES];  /* ... right at place i (10^i) */
    size_t place_total[QUAD_D_PLACES];
} quad_dstats;

void quad_dstats_add(quad_dstats *s, const char *target, const char *output);

/* A short name of step (as above) for a kind: "discriminant", "x1 working",
 * "x2 working", "x1 answer", "x2 answer", "D<0", "extra output". Static. */
const char *quad_step_name(quad_kind kind, int step);

#endif
