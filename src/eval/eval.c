/* eval.c - eval_run: decode every example of a data set with a model and
 * print its scores (see include/eval.h).
 *
 * The examples are spread over the cores with OpenMP, one t5_run per
 * thread (OpenBLAS is then kept to one thread so the two do not fight).
 * Greedy decoding is a function of the source, so each distinct source is
 * decoded once and its output given to every example that has it (a test
 * split holds each one-root equation of the small preset ~144 times).
 * Deliberately not here: the scores themselves (src/task/score.c), options
 * and exit codes (src/cli/cmd_eval.c). */
#include <cJSON.h>
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "quad.h"
#include "t5.h"
#include "tokenizer.h"

/* A source that parses may still be long ("x^2" and 10,000 spaces); the
 * attention buffers grow with its square, so cap it. */
enum { MAX_SOURCE = 1024 };

/* One evaluation: the inputs, the decoded outputs and the tallies. */
typedef struct {
    const eval_options *o;
    quad_dataset ds;
    t5_model model;
    tok_vocab *tok;
    size_t max_src, stride;   /* longest source with eos; bytes per output */
    char *outputs;            /* (n, stride) decoded texts */
    size_t decoded;           /* distinct sources, each decoded once */
    int nthreads;
    double secs;
    quad_scores sc;
    size_t steps[QUAD_N_KINDS][QUAD_MAX_STEPS];
    quad_dstats dst[QUAD_N_KINDS];
} eval_state;

/* text with tab, newline, CR, backslash and other control bytes escaped
 * (\t \n \r \\ \xNN), so that one output stays one TSV field. */
static void put_escaped(FILE *f, const char *text)
{
    for (const unsigned char *u = (const unsigned char *)text; *u; u++) {
        if (*u == '\t') fputs("\\t", f);
        else if (*u == '\n') fputs("\\n", f);
        else if (*u == '\r') fputs("\\r", f);
        else if (*u == '\\') fputs("\\\\", f);
        else if (*u < 0x20 || *u == 0x7F) fprintf(f, "\\x%02X", *u);
        else fputc(*u, f);
    }
}

/* The per-example file of outputs_path, written atomically. */
static int write_outputs(const char *path, const quad_dataset *ds, const char *outputs,
                         size_t stride, as_err *err)
{
    atomic_file af;
    if (atomic_open(&af, path, err) < 0) return -1;
    fputs("line\tkind\tsource\ttarget\toutput\tfull\tanswer\tfirst_wrong\tstep\n", af.f);
    for (size_t i = 0; i < ds->n; i++) {
        const quad_example *e = &ds->ex[i];
        const char *out = outputs + i * stride;
        long d = quad_first_diff(e->target, out);
        size_t pos = 0;
        if (d >= 0) {  /* 1-based, in characters */
            pos = 1;
            for (long k = 0; k < d; k++) pos += ((unsigned char)out[k] & 0xC0) != 0x80;
        }
        fprintf(af.f, "%zu\t%s\t", e->line, quad_kind_key(e->kind));
        put_escaped(af.f, e->source);
        fputc('\t', af.f);
        put_escaped(af.f, e->target);
        fputc('\t', af.f);
        put_escaped(af.f, out);
        fprintf(af.f, "\t%d\t%d\t%zu\t%s\n", d < 0, quad_answer_right(e->target, out), pos,
                quad_step_name(e->kind, quad_wrong_step(e->target, out)));
    }
    return atomic_commit(&af, err);
}

/* ---- reading ------------------------------------------------------------------ */

/* The data, the model and its tokenizer, and the longest source. */
static int eval_open(eval_state *s, as_err *err)
{
    const eval_options *o = s->o;
    if (quad_ds_read(o->data, o->limit, &s->ds, err) < 0) return -1;
    if (t5_load_mapped(&s->model, o->model_dir, err) < 0)
        return as_errprefix(err, "cannot load the model");
    /* A task model is ByT5 (no spiece.model); the interface keeps it general. */
    s->tok = tok_open(o->model_dir, err);
    if (!s->tok) return -1;
    s->max_src = 1;
    for (size_t i = 0; i < s->ds.n; i++) {
        size_t l = strlen(s->ds.ex[i].source) + 1;
        if (l > MAX_SOURCE)
            return as_errf(err, "%s:%zu: source of %zu bytes is longer than %d", o->data,
                           s->ds.ex[i].line, l - 1, MAX_SOURCE - 1);
        if (l > s->max_src) s->max_src = l;
    }
    return 0;
}

/* ---- decoding ----------------------------------------------------------------- */

typedef struct {
    const char *source;
    size_t i;
} source_at;

static int by_source(const void *a, const void *b)
{
    const source_at *x = a, *y = b;
    int c = strcmp(x->source, y->source);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The examples whose source comes first in ds (in file order), into todo;
 * first[i] gets the index of example i's first. Returns how many. */
static size_t distinct_sources(const quad_dataset *ds, size_t *todo, size_t *first)
{
    size_t n = ds->n;
    source_at *order = xmalloc((n ? n : 1) * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = (source_at){ds->ex[i].source, i};
    qsort(order, n, sizeof *order, by_source);
    for (size_t k = 0; k < n; k++)
        first[order[k].i] = k && !strcmp(order[k - 1].source, order[k].source)
                                ? first[order[k - 1].i]
                                : order[k].i;
    free(order);
    size_t nu = 0;
    for (size_t i = 0; i < n; i++)
        if (first[i] == i) todo[nu++] = i;
    return nu;
}

/* Greedy-decode every example into s->outputs, each distinct source once,
 * spread over the threads. */
static int eval_decode(eval_state *s, as_err *err)
{
    const eval_options *o = s->o;
    size_t max_len = o->max_len, stride = s->stride = max_len + 1;
    s->outputs = xcalloc(s->ds.n, stride);
    size_t *todo = xmalloc((s->ds.n ? s->ds.n : 1) * sizeof *todo);
    size_t *first = xmalloc((s->ds.n ? s->ds.n : 1) * sizeof *first);
    size_t n = s->decoded = distinct_sources(&s->ds, todo, first);
    int nthreads = o->threads ? (int)o->threads : omp_get_max_threads();
    if ((size_t)nthreads > n) nthreads = (int)n;
    if (nthreads > 1) openblas_set_num_threads(1);
    s->nthreads = nthreads;
    size_t done = 0;
    int failed = 0;
    char fail_msg[1200] = "";
    double t0 = util_now(), last = 0;

#pragma omp parallel num_threads(nthreads)
    {
        t5_run *run = t5_run_new(&s->model, s->max_src, max_len + 1);
        int *src = xmalloc(s->max_src * sizeof *src);
        int *out = xmalloc(stride * sizeof *out);
        as_err terr;
#pragma omp for schedule(dynamic, 4)
        for (size_t k = 0; k < n; k++) {
            size_t i = todo[k];
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop) continue;
            size_t ns = tok_encode(s->tok, s->ds.ex[i].source, src, s->max_src);
            if (ns > s->max_src) ns = s->max_src; /* cannot happen: at most one id per byte */
            long got = t5_greedy(run, src, ns, out, max_len, &terr);
            if (got < 0) {
#pragma omp critical(eval_fail)
                if (!failed) {
                    failed = 1;
                    snprintf(fail_msg, sizeof fail_msg, "%s:%zu: decoding failed: %s", o->data,
                             s->ds.ex[i].line, terr.msg);
                }
                continue;
            }
            tok_decode(s->tok, out, (size_t)got, s->outputs + i * stride, stride);
            size_t d;
#pragma omp atomic capture
            d = ++done;
            if (o->progress && omp_get_thread_num() == 0) {
                double now = util_now();
                if (now - last > 0.2) {
                    last = now;
                    o->progress(o->progress_user, d, n, now - t0, 0);
                }
            }
        }
        free(src);
        free(out);
        t5_run_free(run);
    }
    s->secs = util_now() - t0;
    if (o->progress) o->progress(o->progress_user, done, n, util_now() - t0, 1);
    for (size_t i = 0; i < s->ds.n && !failed; i++)
        if (first[i] != i) memcpy(s->outputs + i * stride, s->outputs + first[i] * stride, stride);
    free(todo);
    free(first);
    if (failed) return as_errf(err, "%s", fail_msg);
    return 0;
}

/* The scores, the first wrong steps and the discriminant's closeness. */
static void eval_tally(eval_state *s)
{
    for (size_t i = 0; i < s->ds.n; i++) {
        const quad_example *e = &s->ds.ex[i];
        const char *out = s->outputs + i * s->stride;
        quad_scores_add(&s->sc, e->kind, e->target, out);
        int st = quad_wrong_step(e->target, out);
        if (st >= 0) s->steps[e->kind][st]++;
        quad_dstats_add(&s->dst[e->kind], e->target, out);
    }
}

/* ---- printing ----------------------------------------------------------------- */

static cJSON *dstats_json(const quad_dstats *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)d->n);
    cJSON_AddNumberToObject(o, "has_value", (double)d->has_value);
    cJSON_AddNumberToObject(o, "right", (double)d->right);
    cJSON_AddNumberToObject(o, "sign_right", (double)d->sign_right);
    cJSON_AddNumberToObject(o, "same_digits", (double)d->same_digits);
    cJSON_AddNumberToObject(o, "leading_right", (double)d->leading);
    size_t places = 0;
    while (places < QUAD_D_PLACES && d->place_total[places]) places++;
    cJSON *r = cJSON_CreateArray(), *t = cJSON_CreateArray();
    for (size_t i = 0; i < places; i++) {
        cJSON_AddItemToArray(r, cJSON_CreateNumber((double)d->place_right[i]));
        cJSON_AddItemToArray(t, cJSON_CreateNumber((double)d->place_total[i]));
    }
    cJSON_AddItemToObject(o, "place_right", r);
    cJSON_AddItemToObject(o, "place_total", t);
    return o;
}

static void print_json(FILE *f, const eval_state *s)
{
    const eval_options *eo = s->o;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", eo->model_dir);
    cJSON_AddStringToObject(o, "data", eo->data);
    cJSON_AddNumberToObject(o, "examples", (double)s->ds.n);
    cJSON_AddNumberToObject(o, "decoded", (double)s->decoded);
    cJSON_AddNumberToObject(o, "max_len", (double)eo->max_len);
    cJSON_AddNumberToObject(o, "threads", s->nthreads);
    cJSON_AddNumberToObject(o, "seconds", s->secs);
    cJSON_AddItemToObject(o, "overall", quad_score_json(&s->sc.all, 1));
    cJSON *pk = cJSON_CreateObject();
    for (int k = 0; k < QUAD_N_KINDS; k++)
        cJSON_AddItemToObject(pk, quad_kind_key((quad_kind)k), quad_score_json(&s->sc.kind[k], 1));
    cJSON_AddItemToObject(o, "per_kind", pk);
    cJSON *ws = cJSON_CreateObject();
    for (int k = 0; k < QUAD_N_KINDS; k++) {
        cJSON *w = cJSON_CreateObject();
        int n_steps = k == QUAD_NO_ROOT ? 3 : QUAD_MAX_STEPS;
        for (int st = 0; st < n_steps; st++)
            cJSON_AddNumberToObject(w, quad_step_name((quad_kind)k, st), (double)s->steps[k][st]);
        cJSON_AddItemToObject(ws, quad_kind_key((quad_kind)k), w);
    }
    cJSON_AddItemToObject(o, "first_wrong_step", ws);
    cJSON *dj = cJSON_CreateObject();
    for (int k = 0; k < QUAD_N_KINDS; k++)
        cJSON_AddItemToObject(dj, quad_kind_key((quad_kind)k), dstats_json(&s->dst[k]));
    cJSON_AddItemToObject(o, "discriminant", dj);
    char *text = cJSON_Print(o);
    fprintf(f, "%s\n", text);
    free(text);
    cJSON_Delete(o);
}

static void print_row(FILE *f, const char *name, const quad_score *s)
{
    fprintf(f, "%-10s %9zu %10.2f %% %10.2f %% %10.2f %%\n", name, s->n, 100 * quad_score_full(s),
            100 * quad_score_chars(s), 100 * quad_score_answer(s));
}

/* How close the wrong values of D come, for the kinds that have any. */
static void print_dstats(FILE *f, const quad_dstats *dst)
{
    int header = 0;
    for (int k = 0; k < QUAD_N_KINDS; k++) {
        const quad_dstats *d = &dst[k];
        size_t wrong = d->has_value - d->right;
        if (!wrong) continue;
        if (!header)
            fprintf(f, "\nthe value of D = b^2-4ac: share right; of the wrong values with the "
                       "target's sign and\nnumber of digits, the share with the leading digit "
                       "right and right at each place (units first):\n");
        header = 1;
        fprintf(f, "%-10s  right %.1f %%  wrong %zu, %zu with sign and digits right: leading %.0f %%, "
                   "places", quad_kind_name((quad_kind)k), 100.0 * (double)d->right / (double)d->n,
                wrong, d->same_digits,
                d->same_digits ? 100.0 * (double)d->leading / (double)d->same_digits : 0.0);
        for (size_t i = 0; i < QUAD_D_PLACES && d->place_total[i]; i++)
            fprintf(f, " %.0f", 100.0 * (double)d->place_right[i] / (double)d->place_total[i]);
        fprintf(f, " %%\n");
    }
}

static void print_table(FILE *f, const eval_state *s)
{
    const quad_scores *sc = &s->sc;
    size_t n = s->ds.n;
    fprintf(f, "model  %s\ndata   %s (%zu examples)\n\n", s->o->model_dir, s->o->data, n);
    fprintf(f, "%-10s %9s %12s %12s %12s\n", "", "examples", "full solve", "char acc", "answer acc");
    print_row(f, "overall", &sc->all);
    for (int k = 0; k < QUAD_N_KINDS; k++) print_row(f, quad_kind_name((quad_kind)k), &sc->kind[k]);
    fprintf(f, "\nwhere wrong outputs first go wrong (share of each kind's wrong outputs):\n");
    for (int k = 0; k < QUAD_N_KINDS; k++) {
        size_t wrong = sc->kind[k].n - sc->kind[k].full;
        if (!wrong) continue;
        fprintf(f, "%-10s", quad_kind_name((quad_kind)k));
        int n_steps = k == QUAD_NO_ROOT ? 3 : QUAD_MAX_STEPS;
        for (int st = 0; st < n_steps; st++)
            if (s->steps[k][st])
                fprintf(f, "  %s %.1f %%", quad_step_name((quad_kind)k, st),
                        100.0 * (double)s->steps[k][st] / (double)wrong);
        fputc('\n', f);
    }
    print_dstats(f, s->dst);
    fprintf(f, "\n%zu examples, %zu distinct sources decoded in %.2f s (%.1f a second, "
               "%d thread%s)\n",
            n, s->decoded, s->secs, s->secs > 0 ? (double)s->decoded / s->secs : 0.0,
            s->nthreads, s->nthreads == 1 ? "" : "s");
}

int eval_run(const eval_options *o, as_err *err)
{
    eval_state *s = xcalloc(1, sizeof *s);
    s->o = o;
    int rc = eval_open(s, err);
    if (!rc) rc = eval_decode(s, err);
    if (!rc) {
        eval_tally(s);
        if (o->outputs_path) rc = write_outputs(o->outputs_path, &s->ds, s->outputs, s->stride, err);
    }
    if (!rc) {
        if (o->json) print_json(o->out ? o->out : stdout, s);
        else print_table(o->out ? o->out : stdout, s);
    }
    free(s->outputs);
    t5_free(&s->model);
    tok_free(s->tok);
    quad_ds_free(&s->ds);
    free(s);
    return rc;
}
