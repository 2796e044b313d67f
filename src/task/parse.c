/* parse.c - the lenient parser for quadratic equations as a person types
 * them ("x^2 - 5x + 6 = 0", "-x^2+4=0", "3x^2=12", "x²-1=0"), bringing
 * them to the canonical a x^2 + b x + c = 0 with a > 0 (see quad.h).
 *
 * One pass of recursive descent over the bytes, after a first pass that
 * rejects control characters and invalid UTF-8; every error carries the
 * 1-based character column. Deliberately not here: expressions
 * (parentheses, products of terms, fractions) - an equation is a sum of
 * terms n*x^k on each side of '='. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "quad.h"

typedef struct {
    const char *s;
    size_t i;                 /* byte position */
    int64_t coef[3];          /* c, b, a: left side minus right side */
    int seen_x2;              /* an x^2 term was written */
    quad_parse_error *perr;
} parser;

/* The 1-based character column of byte offset at: one plus the number of
 * UTF-8 lead bytes before it. */
static size_t column_of(const char *s, size_t at)
{
    size_t col = 1;
    for (size_t k = 0; k < at && s[k]; k++)
        if (((unsigned char)s[k] & 0xC0) != 0x80) col++;
    return col;
}

static int fail_at(parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(parser *p, size_t at, const char *fmt, ...)
{
    if (p->perr) {
        p->perr->byte = at;
        p->perr->column = column_of(p->s, at);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->perr->reason, sizeof p->perr->reason, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Length of the UTF-8 sequence starting at s (1..4), or 0 when invalid
 * (bad lead byte, missing continuation, overlong, surrogate, > U+10FFFF). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
    else return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* A quoted description of the character at s (valid UTF-8) for messages. */
static const char *char_desc(const char *s, char *buf, size_t cap)
{
    size_t n = utf8_len((const unsigned char *)s);
    if (n == 0) n = 1;
    snprintf(buf, cap, "'%.*s'", (int)n, s);
    return buf;
}

static int at_str(const parser *p, const char *lit) { return !strncmp(p->s + p->i, lit, strlen(lit)); }

static void skip_ws(parser *p)
{
    while (p->s[p->i] == ' ' || p->s[p->i] == '\t') p->i++;
}

/* A sign at the cursor: '+', '-' or U+2212. Returns +1/-1 and advances, or
 * 0 when there is none. */
static int take_sign(parser *p)
{
    char c = p->s[p->i];
    if (c == '+') return p->i++, 1;
    if (c == '-') return p->i++, -1;
    if (at_str(p, "\xe2\x88\x92")) return p->i += 3, -1;
    return 0;
}

/* Digits at the cursor into *v (0..INT64_MAX). Fails on overflow, naming
 * the number's column and its length (all its digits are consumed first, so
 * 10 kB of digits is one linear scan). */
static int take_number(parser *p, int64_t *v)
{
    size_t start = p->i;
    uint64_t x = 0;
    int over = 0;
    while (isdigit((unsigned char)p->s[p->i])) {
        unsigned d = (unsigned)(p->s[p->i] - '0');
        if (!over && x > ((uint64_t)INT64_MAX - d) / 10) over = 1;
        if (!over) x = x * 10 + d;
        p->i++;
    }
    if (over)
        return fail_at(p, start, "number too large: %zu digits (at most 9223372036854775807)",
                       p->i - start);
    *v = (int64_t)x;
    return 0;
}

/* The power after x: "^k" (spaces allowed around ^), '²', '¹', '⁰', or
 * nothing (1). */
static int take_power(parser *p, int *power)
{
    size_t save = p->i;
    skip_ws(p);
    if (p->s[p->i] == '^') {
        p->i++;
        skip_ws(p);
        size_t at = p->i;
        int neg = 0;
        if (p->s[p->i] == '-' || at_str(p, "\xe2\x88\x92")) neg = 1, take_sign(p);
        if (!isdigit((unsigned char)p->s[p->i])) {
            char d[16];
            if (!p->s[p->i]) return fail_at(p, p->i, "expected a power after '^'");
            return fail_at(p, p->i, "expected a power after '^', got %s",
                           char_desc(p->s + p->i, d, sizeof d));
        }
        uint64_t k = 0;
        while (isdigit((unsigned char)p->s[p->i])) {
            if (k < 1000) k = k * 10 + (unsigned)(p->s[p->i] - '0');
            p->i++;
        }
        if (neg && k != 0) {
            if (k >= 1000) return fail_at(p, at, "negative power: only x^0, x^1 and x^2 are allowed");
            return fail_at(p, at, "power -%llu: only x^0, x^1 and x^2 are allowed",
                           (unsigned long long)k);
        }
        if (k > 2) {
            if (k >= 1000) return fail_at(p, at, "power too large: only x^0, x^1 and x^2 are allowed");
            return fail_at(p, at, "power %llu: only x^0, x^1 and x^2 are allowed (not a quadratic)",
                           (unsigned long long)k);
        }
        *power = (int)k;
        return 0;
    }
    if (at_str(p, "\xc2\xb2")) return p->i += 2, *power = 2, 0;
    if (at_str(p, "\xc2\xb9")) return p->i += 2, *power = 1, 0;
    if (at_str(p, "\xe2\x81\xb0")) return p->i += 3, *power = 0, 0;
    if (at_str(p, "\xc2\xb3") || at_str(p, "\xe2\x81\xb4") || at_str(p, "\xe2\x81\xb5") ||
        at_str(p, "\xe2\x81\xb6") || at_str(p, "\xe2\x81\xb7") || at_str(p, "\xe2\x81\xb8") ||
        at_str(p, "\xe2\x81\xb9"))
        return fail_at(p, p->i, "power above 2: only x^0, x^1 and x^2 are allowed (not a quadratic)");
    p->i = save;
    *power = 1;
    return 0;
}

/* Why the character at the cursor cannot be here. */
static int unexpected(parser *p, const char *where)
{
    const char *s = p->s + p->i;
    char d[16];
    if (!*s) return fail_at(p, p->i, "unexpected end %s", where);
    if (isalpha((unsigned char)*s))
        return fail_at(p, p->i, "variable %s: only x is allowed", char_desc(s, d, sizeof d));
    if (*s == '.' || *s == ',')
        return fail_at(p, p->i, "%s: only whole numbers are allowed", char_desc(s, d, sizeof d));
    if (*s == '=') return fail_at(p, p->i, "a second '=': an equation has one");
    if (*s == '(' || *s == ')')
        return fail_at(p, p->i, "stray character %s: parentheses are not supported, "
                       "write it expanded, as ax^2+bx+c=0", char_desc(s, d, sizeof d));
    return fail_at(p, p->i, "stray character %s %s", char_desc(s, d, sizeof d), where);
}

/* Add v to coef[power] (times side), checked. */
static int add_term(parser *p, int power, int64_t v, size_t at)
{
    static const char *names[] = {"the constant", "the coefficient of x", "the coefficient of x^2"};
    if (__builtin_add_overflow(p->coef[power], v, &p->coef[power]))
        return fail_at(p, at, "number too large: %s does not fit 64 bits after collecting terms",
                       names[power]);
    return 0;
}

/* One side of '=': a sum of terms. side is +1 left, -1 right. */
static int parse_side(parser *p, int side)
{
    skip_ws(p);
    if (!p->s[p->i] || p->s[p->i] == '=')
        return fail_at(p, p->i, side > 0 ? "nothing before '='" : "nothing after '='");
    for (int first = 1;; first = 0) {
        size_t term_at = p->i;
        int sign = take_sign(p);
        if (!sign) {
            if (!first) return unexpected(p, "between terms (expected '+', '-' or '=')");
            sign = 1;
        }
        skip_ws(p);
        if (take_sign(p)) return fail_at(p, p->i - 1, "two signs in a row");
        int64_t v = 1;
        int has_num = 0;
        if (isdigit((unsigned char)p->s[p->i])) {
            if (take_number(p, &v) < 0) return -1;
            has_num = 1;
            if ((p->s[p->i] == '.' || p->s[p->i] == ',') && isdigit((unsigned char)p->s[p->i + 1]))
                return unexpected(p, "");
            skip_ws(p);
            if (p->s[p->i] == '*') {
                p->i++;
                skip_ws(p);
                if (p->s[p->i] != 'x' && p->s[p->i] != 'X') {
                    if (!p->s[p->i] || p->s[p->i] == '=' || p->s[p->i] == '+' || p->s[p->i] == '-')
                        return fail_at(p, p->i, "expected x after '*'");
                    return unexpected(p, "after '*' (expected x)");
                }
            }
        }
        int power = 0, has_x = 0;
        if (p->s[p->i] == 'x' || p->s[p->i] == 'X') {
            has_x = 1;
            p->i++;
            if (take_power(p, &power) < 0) return -1;
        } else if (!has_num) {
            if (!p->s[p->i] || p->s[p->i] == '=')
                return fail_at(p, p->i, "unexpected %s: expected a term (a number or x) after the sign",
                               p->s[p->i] ? "'='" : "end");
            return unexpected(p, "where a term should start (a number or x)");
        }
        if (power == 2 && v != 0) p->seen_x2 = 1;
        /* sign * side * v, checked (v <= INT64_MAX so the negation is safe) */
        int64_t term = (sign * side < 0) ? -v : v;
        if (add_term(p, power, term, term_at) < 0) return -1;
        skip_ws(p);
        char c = p->s[p->i];
        if (!c || c == '=') return 0;
        if (c == '+' || c == '-' || at_str(p, "\xe2\x88\x92")) continue;
        if (c == 'x' || c == 'X') return fail_at(p, p->i, "x twice in one term: write x^2");
        if (isdigit((unsigned char)c))
            return fail_at(p, p->i, has_x ? "a number after x: write the number first (5x)"
                                          : "two numbers in a row: missing '+' or '-'?");
        return unexpected(p, "after a term (expected '+', '-' or '=')");
    }
}

int quad_parse(const char *text, quad_eq *out, quad_parse_error *perr)
{
    parser p = {.s = text, .perr = perr};
    if (perr) memset(perr, 0, sizeof *perr);

    /* First pass: characters that may never appear. */
    const unsigned char *u = (const unsigned char *)text;
    int blank = 1;
    for (size_t k = 0; u[k];) {
        if (u[k] == '\t' || u[k] == ' ') {
            k++;
            continue;
        }
        blank = 0;
        if (u[k] < 0x20 || u[k] == 0x7F)
            return fail_at(&p, k, "control character 0x%02X", u[k]);
        size_t n = utf8_len(u + k);
        if (n == 0) return fail_at(&p, k, "invalid UTF-8 byte 0x%02X", u[k]);
        if (n == 2 && u[k] == 0xC2 && u[k + 1] < 0xA0)  /* C1 controls U+0080..U+009F */
            return fail_at(&p, k, "control character U+%04X", u[k + 1]);
        k += n;
    }
    if (blank) return fail_at(&p, 0, "empty input: type an equation such as x^2-5x+6=0");

    if (parse_side(&p, 1) < 0) return -1;
    if (!p.s[p.i])
        return fail_at(&p, p.i, "not an equation: no '=' (write e.g. x^2-5x+6=0)");
    p.i++;  /* '=' */
    if (parse_side(&p, -1) < 0) return -1;
    if (p.s[p.i] == '=') return fail_at(&p, p.i, "a second '=': an equation has one");

    int64_t a = p.coef[2], b = p.coef[1], c = p.coef[0];
    if (a == 0)
        return fail_at(&p, 0, p.seen_x2 ? "not quadratic: the x^2 terms cancel (a = 0)"
                                        : "not quadratic: no x^2 term with a coefficient other than 0 (a = 0)");
    if (a < 0) {
        if (a == INT64_MIN || b == INT64_MIN || c == INT64_MIN)
            return fail_at(&p, 0, "number too large: a coefficient does not fit 64 bits "
                                  "when the equation is multiplied by -1");
        a = -a, b = -b, c = -c;
    }
    out->a = a;
    out->b = b;
    out->c = c;
    return 0;
}
