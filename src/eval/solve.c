/* solve.c - solve_run: for each equation a person types, the canonical
 * source, the model's greedy-decoded solution, the true target, right or
 * wrong and where it first goes wrong (with a caret), and the exact roots
 * (also for equations outside the training distribution); see
 * include/eval.h.
 *
 * Text from the person and from the model is printed made safe: control
 * bytes and invalid UTF-8 show as '?', one column each.
 * Deliberately not here: option parsing, error messages on stderr and exit
 * codes (src/cli/cmd_solve.c), attention (the UI's and dump's job). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "model_kind.h"
#include "quad.h"
#include "t5.h"
#include "tokenizer.h"

/* Length of a valid UTF-8 sequence at s, 0 when invalid. */
static size_t u8len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return n;
}

/* Print prefix, then text[from..to) with control bytes and invalid UTF-8
 * shown as '?' (each one column), "..." marking cut ends, to f. Returns the
 * number of columns printed; *mark_col (when not NULL) gets the columns
 * printed before byte mark. */
static size_t print_safe(FILE *f, const char *prefix, const char *text, size_t from, size_t to,
                         size_t mark, size_t *mark_col)
{
    size_t len = strlen(text), col = 0;
    fputs(prefix, f);
    if (from > 0) fputs("...", f), col += 3;
    for (size_t i = from; i < to;) {
        if (i <= mark && mark_col) *mark_col = col;
        const unsigned char *u = (const unsigned char *)text + i;
        size_t n = u8len(u);
        if (n == 0 || *u < 0x20 || *u == 0x7F || (n == 2 && u[0] == 0xC2 && u[1] < 0xA0)) {
            fputc('?', f);
            i += n ? n : 1;
        } else {
            fwrite(u, 1, n, f);
            i += n;
        }
        col++;
    }
    if (mark >= to && mark_col) *mark_col = col;
    if (to < len) fputs("...", f);
    fputc('\n', f);
    return col;
}

/* The whole of text made safe, after prefix. */
static void print_line(FILE *f, const char *prefix, const char *text)
{
    print_safe(f, prefix, text, 0, strlen(text), 0, NULL);
}

/* Characters (UTF-8 lead bytes; invalid bytes count) in the first n bytes. */
static size_t count_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n && s[i]; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Byte offset of the character `count` characters before / after byte at
 * (by UTF-8 lead bytes; invalid bytes count as characters). */
static size_t chars_back(const char *s, size_t at, size_t count)
{
    while (at > 0 && count > 0) {
        at--;
        if (((unsigned char)s[at] & 0xC0) != 0x80) count--;
    }
    return at;
}

static size_t chars_fwd(const char *s, size_t at, size_t count)
{
    size_t len = strlen(s);
    while (at < len && count > 0) {
        at++;
        while (at < len && ((unsigned char)s[at] & 0xC0) == 0x80) at++;
        count--;
    }
    return at;
}

/* A line of text (made safe; a long one cut to a window of about 140
 * characters around byte mark) and a caret line under mark. */
static void show_with_caret(FILE *f, const char *prefix, const char *text, size_t mark,
                            const char *note)
{
    size_t from = 0, to = strlen(text), col = 0;
    if (to > 150) {  /* a window around the mark */
        from = chars_back(text, mark, 70);
        to = chars_fwd(text, mark, 70);
    }
    print_safe(f, prefix, text, from, to, mark, &col);
    fprintf(f, "%*s^%s%s\n", (int)(strlen(prefix) + col), "", note ? " " : "", note ? note : "");
}

/* One equation: what was typed, and what the parser and the solver made
 * of it. */
typedef struct {
    const char *input;
    quad_eq eq;
    int parsed;
    int solved;
    char source[QUAD_SOURCE_MAX];
    quad_solution sol;
    quad_parse_error perr;
    as_err serr;
} item;

/* The model side: NULL run when there is no model to decode with. */
typedef struct {
    t5_model model;
    t5_run *run;      /* NULL: no model */
    tok_vocab *tok;
    size_t max_src;   /* longest canonical source with its NUL (tokens it may take) */
    size_t max_len;   /* generated tokens */
    int *src_ids;     /* (max_src) */
    int *out_ids;     /* (max_len + 1) */
    char *output;     /* max_len + 1 bytes: the last decoded text */
    const quad_preset *preset; /* what the model was trained on, when it says */
} decoder;

/* One run: the options, the equations and the problems told so far. */
typedef struct {
    const solve_options *o;
    item *items;      /* (o->n) */
    decoder dec;
    size_t problems;
} solver;

static void problem(solver *s, solve_problem what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Tell the caller one problem (o->problem) and count it. */
static void problem(solver *s, solve_problem what, const char *fmt, ...)
{
    char msg[sizeof(as_err) + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->o->problem) s->o->problem(s->o->problem_user, what, msg);
    s->problems++;
}

/* Parse and solve every equation. Returns how many parsed; the longest
 * canonical source (with its NUL, at least 1) goes to *max_src. */
static size_t parse_all(item *items, size_t n, size_t *max_src)
{
    size_t n_ok = 0;
    *max_src = 1;
    for (size_t i = 0; i < n; i++) {
        item *it = &items[i];
        if (quad_parse(it->input, &it->eq, &it->perr) < 0) continue;
        it->parsed = 1;
        quad_format_source(&it->eq, it->source, sizeof it->source);
        it->solved = quad_solve(&it->eq, &it->sol, &it->serr) == 0;
        n_ok++;
        if (strlen(it->source) + 1 > *max_src) *max_src = strlen(it->source) + 1;
    }
    return n_ok;
}

/* Load the model and its tokenizer from dir; a failure is a problem and
 * leaves d->run NULL (the equations are then solved without the model). */
static void decoder_open(solver *s, const char *dir)
{
    decoder *d = &s->dec;
    as_err err;
    if (t5_load_mapped(&d->model, dir, &err) < 0) {
        problem(s, SOLVE_MODEL_UNLOADABLE, "cannot load the model: %s", err.msg);
    } else if (!(d->tok = tok_open(dir, &err))) {
        /* a task model is ByT5 (no spiece.model); the interface keeps it general */
        problem(s, SOLVE_TOKENIZER, "%s", err.msg);
        t5_free(&d->model);
    } else {
        d->run = t5_run_new(&d->model, d->max_src, d->max_len + 1);
    }
}

static void decoder_close(decoder *d)
{
    free(d->src_ids);
    free(d->out_ids);
    free(d->output);
    if (d->run) {
        t5_run_free(d->run);
        t5_free(&d->model);
    }
    tok_free(d->tok);
}

/* Greedy-decode equation i's source into s->dec.output. Returns 1 with
 * *ended set (the model wrote eos), or 0 when decoding failed (a problem). */
static int decode(solver *s, size_t i, int *ended)
{
    decoder *d = &s->dec;
    as_err err;
    size_t ns = tok_encode(d->tok, s->items[i].source, d->src_ids, d->max_src);
    if (ns > d->max_src) ns = 0;
    long got = ns ? t5_greedy(d->run, d->src_ids, ns, d->out_ids, d->max_len, &err) : -1;
    if (got < 0) {
        problem(s, SOLVE_EQUATION, "equation %zu: decoding failed: %s", i + 1,
                ns ? err.msg : "source too long");
        return 0;
    }
    tok_decode(d->tok, d->out_ids, (size_t)got, d->output, d->max_len + 1);
    *ended = got > 0 && d->out_ids[got - 1] == tok_eos(d->tok);
    return 1;
}

/* An equation the parser rejected: the input around the place, a caret
 * under it, the column and the reason. */
static void show_rejected(solver *s, size_t i)
{
    FILE *f = s->o->out;
    const item *it = &s->items[i];
    size_t from = chars_back(it->input, it->perr.byte, 35);
    size_t to = chars_fwd(it->input, it->perr.byte, 35);
    size_t col = 0;
    print_safe(f, "", it->input, from, to, it->perr.byte, &col);
    fprintf(f, "%*s^\n", (int)col, "");
    fprintf(f, "  rejected  column %zu: %s\n", it->perr.column, it->perr.reason);
    problem(s, SOLVE_EQUATION, "equation %zu, column %zu: %s", i + 1, it->perr.column,
            it->perr.reason);
}

/* The model's output beside the target: solved exactly, or where it first
 * goes wrong (positions in characters: an out-of-distribution target holds
 * multi-byte '√') and whether the answer is right anyway. */
static void show_comparison(FILE *f, const quad_solution *sol, const char *output)
{
    long d = quad_first_diff(sol->target, output);
    if (d < 0) {
        print_line(f, "  model   ", output);
        fprintf(f, "  target  %s\n", sol->target);
        fprintf(f, "  right   solved exactly\n");
        return;
    }
    size_t pos = count_chars(output, (size_t)d) + 1;
    char note[96];
    snprintf(note, sizeof note, "first wrong character: %zu", pos);
    show_with_caret(f, "  model   ", output, (size_t)d, note);
    fprintf(f, "  target  %s\n", sol->target);
    fprintf(f, "  wrong   at character %zu of %zu; answer %s\n", pos,
            count_chars(sol->target, strlen(sol->target)),
            quad_answer_right(sol->target, output) ? "right" : "wrong");
}

/* The roots, and a note when the equation is outside the training
 * distribution: the spec's form, or the ranges of the model's preset. */
static void show_roots(FILE *f, const quad_solution *sol, const quad_preset *preset)
{
    char why[160];
    fprintf(f, "  roots   %s\n", sol->roots_text);
    if (!sol->in_distribution)
        fprintf(f, "  note    outside the training distribution (%s): the target above is the\n"
                   "          exact solution written in the target's shape, not a training target\n",
                sol->d_square ? "roots are not integers" : "D is not a perfect square");
    else if (preset && quad_preset_outside(preset, sol, why, sizeof why))
        fprintf(f, "  note    %s\n"
                   "          (the model was trained on %s equations only)\n",
                why, preset->name);
}

/* Everything about equation i, after a blank line unless it is the first. */
static void show_equation(solver *s, size_t i)
{
    FILE *f = s->o->out;
    const item *it = &s->items[i];
    if (i) fputc('\n', f);
    if (!it->parsed) {
        show_rejected(s, i);
        return;
    }
    size_t len = strlen(it->input);
    print_safe(f, "", it->input, 0, len > 200 ? 200 : len, 0, NULL);
    fprintf(f, "  source  %s", it->source);
    if (it->solved) fprintf(f, "   (%s)\n", quad_kind_name(it->sol.kind));
    else fputc('\n', f);

    int have_out = 0, ended = 0;
    if (s->dec.run) have_out = decode(s, i, &ended);
    if (!it->solved) {
        if (have_out) print_line(f, "  model   ", s->dec.output);
        fprintf(f, "  target  none: %s\n", it->serr.msg);
        problem(s, SOLVE_EQUATION, "equation %zu: %s", i + 1, it->serr.msg);
        return;
    }
    if (have_out) show_comparison(f, &it->sol, s->dec.output);
    else fprintf(f, "  target  %s\n", it->sol.target);
    if (have_out && !ended)
        fprintf(f, "  note    the model did not stop within %zu tokens\n", s->dec.max_len);
    show_roots(f, &it->sol, have_out ? s->dec.preset : NULL);
}

size_t solve_run(const solve_options *o)
{
    solver s = {.o = o, .items = xcalloc(o->n + 1, sizeof *s.items)};
    for (size_t i = 0; i < o->n; i++) s.items[i].input = o->equations[i];
    decoder *d = &s.dec;
    d->max_len = o->max_len;
    /* the model is loaded only when at least one equation is worth decoding */
    if (parse_all(s.items, o->n, &d->max_src) > 0 && o->model_dir) {
        decoder_open(&s, o->model_dir);
        d->preset = model_dir_preset(o->model_dir);
    }
    d->src_ids = xmalloc(d->max_src * sizeof *d->src_ids);
    d->out_ids = xmalloc((d->max_len + 1) * sizeof *d->out_ids);
    d->output = xmalloc(d->max_len + 1);
    for (size_t i = 0; i < o->n; i++) show_equation(&s, i);
    decoder_close(d);
    free(s.items);
    return s.problems;
}
