/* cmd_eval.c - `attnscope eval`: greedy-decode every example of a data set
 * with a model and print the three scores of the quadratic task (full
 * solve, character accuracy, answer accuracy), overall and per kind, and
 * in which step of the solution the wrong outputs first go wrong and how
 * close their discriminant's value comes, as a table or as JSON.
 *
 * The examples are spread over the cores with OpenMP, one t5_run per
 * thread (OpenBLAS is then kept to one thread so the two do not fight).
 * Deliberately not here: the scores themselves (src/task/score.c). */
#include <cJSON.h>
#include <cblas.h>
#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "quad.h"
#include "t5.h"
#include "tokenizer.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope eval [--model DIR] --data FILE.tsv [--limit N] [--json] [--max-len N]\n"
            "                      [--threads N] [--outputs FILE]\n"
            "\n"
            "Greedy-decode every example of a data set (one 'source<TAB>target' a line) and print\n"
            "full solve, character accuracy and answer accuracy, overall and per kind, where the\n"
            "wrong outputs first go wrong and how close their discriminant's value comes.\n"
            "\n"
            "  --model DIR     a Hugging Face T5 folder (default: the bundled model)\n"
            "  --data FILE     the data set (e.g. the test.tsv of 'attnscope gen')\n"
            "  --limit N       only the first N examples\n"
            "  --json          print the scores as one JSON object\n"
            "  --max-len N     at most N generated tokens per example (default %d)\n"
            "  --threads N     decoding threads (default: all cores)\n"
            "  --outputs FILE  also write every example's output: line, kind, source, target,\n"
            "                  output (tab, newline, backslash and control bytes escaped),\n"
            "                  full, answer, first wrong character (1-based, 0 when right), step\n"
            "  -h, --help      this help\n",
            QUAD_MAX_GEN);
}

static void progress(size_t done, size_t total, double t0)
{
    int width = 40, fill = total ? (int)((double)done / (double)total * width) : width;
    double el = util_now() - t0;
    double eta = done ? el / (double)done * (double)(total - done) : 0;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu  %.1f s, %.0f s left ", fill,
            "########################################", width - fill, "", done, total, el, eta);
    fflush(stderr);
}

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

/* The per-example file of --outputs, written atomically. */
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

static cJSON *score_json(const quad_score *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)s->n);
    cJSON_AddNumberToObject(o, "full_solve", quad_score_full(s));
    cJSON_AddNumberToObject(o, "char_accuracy", quad_score_chars(s));
    cJSON_AddNumberToObject(o, "answer_accuracy", quad_score_answer(s));
    cJSON_AddNumberToObject(o, "full", (double)s->full);
    cJSON_AddNumberToObject(o, "answer", (double)s->answer);
    cJSON_AddNumberToObject(o, "chars_right", (double)s->chars_right);
    cJSON_AddNumberToObject(o, "chars_total", (double)s->chars_total);
    return o;
}

static void print_row(const char *name, const quad_score *s)
{
    printf("%-10s %9zu %10.2f %% %10.2f %% %10.2f %%\n", name, s->n, 100 * quad_score_full(s),
           100 * quad_score_chars(s), 100 * quad_score_answer(s));
}

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

/* How close the wrong values of D come, for the kinds that have any. */
static void print_dstats(const quad_dstats *dst)
{
    int header = 0;
    for (int k = 0; k < QUAD_N_KINDS; k++) {
        const quad_dstats *d = &dst[k];
        size_t wrong = d->has_value - d->right;
        if (!wrong) continue;
        if (!header)
            printf("\nthe value of D = b^2-4ac: share right; of the wrong values with the "
                   "target's sign and\nnumber of digits, the share with the leading digit "
                   "right and right at each place (units first):\n");
        header = 1;
        printf("%-10s  right %.1f %%  wrong %zu, %zu with sign and digits right: leading %.0f %%, "
               "places", quad_kind_name((quad_kind)k), 100.0 * (double)d->right / (double)d->n,
               wrong, d->same_digits,
               d->same_digits ? 100.0 * (double)d->leading / (double)d->same_digits : 0.0);
        for (size_t i = 0; i < QUAD_D_PLACES && d->place_total[i]; i++)
            printf(" %.0f", 100.0 * (double)d->place_right[i] / (double)d->place_total[i]);
        printf(" %%\n");
    }
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},
        {"data", required_argument, 0, 'd'},
        {"limit", required_argument, 0, 'l'},
        {"json", no_argument, 0, 'j'},
        {"max-len", required_argument, 0, 'x'},
        {"threads", required_argument, 0, 't'},
        {"outputs", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *model_dir = NULL, *data = NULL, *outputs_path = NULL;
    size_t limit = 0, max_len = QUAD_MAX_GEN, threads = 0;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_dir = optarg; break;
        case 'd': data = optarg; break;
        case 'l':
            if (cli_parse_size("eval", "--limit", optarg, &limit) < 0) return EXIT_USAGE;
            break;
        case 'j': json = 1; break;
        case 'x':
            if (cli_parse_size("eval", "--max-len", optarg, &max_len) < 0) return EXIT_USAGE;
            if (max_len == 0 || max_len > 4096) {
                cli_error("eval", "--max-len must be 1..4096, got %s", optarg);
                return EXIT_USAGE;
            }
            break;
        case 't':
            if (cli_parse_size("eval", "--threads", optarg, &threads) < 0) return EXIT_USAGE;
            if (threads == 0 || threads > 256) {
                cli_error("eval", "--threads must be 1..256, got %s", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'o': outputs_path = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("eval", "unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!data) {
        cli_error("eval", "--data FILE.tsv is required");
        usage(stderr);
        return EXIT_USAGE;
    }
    model_dir = cli_model_dir(model_dir);

    as_err err;
    quad_dataset ds;
    if (quad_ds_read(data, limit, &ds, &err) < 0) {
        cli_error("eval", "%s", err.msg);
        quad_ds_free(&ds);
        return EXIT_FAIL;
    }
    t5_model model;
    if (t5_load_mapped(&model, model_dir, &err) < 0) {
        cli_error("eval", "cannot load the model: %s", err.msg);
        quad_ds_free(&ds);
        return EXIT_FAIL;
    }
    /* A task model is ByT5 (no spiece.model); the interface keeps it general. */
    tok_vocab *tok = tok_open(model_dir, &err);
    if (!tok) {
        cli_error("eval", "%s", err.msg);
        t5_free(&model);
        quad_ds_free(&ds);
        return EXIT_FAIL;
    }

    /* A source that parses may still be long ("x^2" and 10,000 spaces);
     * the attention buffers grow with its square, so cap it. */
    enum { MAX_SOURCE = 1024 };
    size_t n = ds.n, max_src = 1;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(ds.ex[i].source) + 1;
        if (l > MAX_SOURCE) {
            cli_error("eval", "%s:%zu: source of %zu bytes is longer than %d", data, ds.ex[i].line,
                      l - 1, MAX_SOURCE - 1);
            t5_free(&model);
            tok_free(tok);
            quad_ds_free(&ds);
            return EXIT_FAIL;
        }
        if (l > max_src) max_src = l;
    }
    size_t stride = max_len + 1;
    char *outputs = xcalloc(n, stride);
    int nthreads = threads ? (int)threads : omp_get_max_threads();
    if ((size_t)nthreads > n) nthreads = (int)n;
    if (nthreads > 1) openblas_set_num_threads(1);
    int tty = isatty(2);
    size_t done = 0;
    int failed = 0;
    char fail_msg[1200] = "";
    double t0 = util_now(), last = 0;

#pragma omp parallel num_threads(nthreads)
    {
        t5_run *run = t5_run_new(&model, max_src, max_len + 1);
        int *src = xmalloc(max_src * sizeof *src);
        int *out = xmalloc(stride * sizeof *out);
        as_err terr;
#pragma omp for schedule(dynamic, 4)
        for (size_t i = 0; i < n; i++) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop) continue;
            size_t ns = tok_encode(tok, ds.ex[i].source, src, max_src);
            if (ns > max_src) ns = max_src; /* cannot happen: at most one id per byte */
            long got = t5_greedy(run, src, ns, out, max_len, &terr);
            if (got < 0) {
#pragma omp critical(eval_fail)
                if (!failed) {
                    failed = 1;
                    snprintf(fail_msg, sizeof fail_msg, "%s:%zu: decoding failed: %s", data,
                             ds.ex[i].line, terr.msg);
                }
                continue;
            }
            tok_decode(tok, out, (size_t)got, outputs + i * stride, stride);
            size_t d;
#pragma omp atomic capture
            d = ++done;
            if (tty && omp_get_thread_num() == 0) {
                double now = util_now();
                if (now - last > 0.2) {
                    last = now;
                    progress(d, n, t0);
                }
            }
        }
        free(src);
        free(out);
        t5_run_free(run);
    }
    double secs = util_now() - t0;
    if (tty) {
        progress(done, n, t0);
        fputc('\n', stderr);
    }
    if (failed) {
        cli_error("eval", "%s", fail_msg);
        free(outputs);
        t5_free(&model);
        tok_free(tok);
        quad_ds_free(&ds);
        return EXIT_FAIL;
    }

    quad_scores sc;
    memset(&sc, 0, sizeof sc);
    size_t steps[QUAD_N_KINDS][QUAD_MAX_STEPS] = {{0}};
    quad_dstats dst[QUAD_N_KINDS];
    memset(dst, 0, sizeof dst);
    for (size_t i = 0; i < n; i++) {
        const quad_example *e = &ds.ex[i];
        quad_scores_add(&sc, e->kind, e->target, outputs + i * stride);
        int st = quad_wrong_step(e->target, outputs + i * stride);
        if (st >= 0) steps[e->kind][st]++;
        quad_dstats_add(&dst[e->kind], e->target, outputs + i * stride);
    }

    if (outputs_path && write_outputs(outputs_path, &ds, outputs, stride, &err) < 0) {
        cli_error("eval", "%s", err.msg);
        free(outputs);
        t5_free(&model);
        tok_free(tok);
        quad_ds_free(&ds);
        return EXIT_FAIL;
    }

    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", model_dir);
        cJSON_AddStringToObject(o, "data", data);
        cJSON_AddNumberToObject(o, "examples", (double)n);
        cJSON_AddNumberToObject(o, "max_len", (double)max_len);
        cJSON_AddNumberToObject(o, "threads", nthreads);
        cJSON_AddNumberToObject(o, "seconds", secs);
        cJSON_AddItemToObject(o, "overall", score_json(&sc.all));
        cJSON *pk = cJSON_CreateObject();
        for (int k = 0; k < QUAD_N_KINDS; k++)
            cJSON_AddItemToObject(pk, quad_kind_key((quad_kind)k), score_json(&sc.kind[k]));
        cJSON_AddItemToObject(o, "per_kind", pk);
        cJSON *ws = cJSON_CreateObject();
        for (int k = 0; k < QUAD_N_KINDS; k++) {
            cJSON *w = cJSON_CreateObject();
            int n_steps = k == QUAD_NO_ROOT ? 3 : QUAD_MAX_STEPS;
            for (int st = 0; st < n_steps; st++)
                cJSON_AddNumberToObject(w, quad_step_name((quad_kind)k, st), (double)steps[k][st]);
            cJSON_AddItemToObject(ws, quad_kind_key((quad_kind)k), w);
        }
        cJSON_AddItemToObject(o, "first_wrong_step", ws);
        cJSON *dj = cJSON_CreateObject();
        for (int k = 0; k < QUAD_N_KINDS; k++)
            cJSON_AddItemToObject(dj, quad_kind_key((quad_kind)k), dstats_json(&dst[k]));
        cJSON_AddItemToObject(o, "discriminant", dj);
        char *text = cJSON_Print(o);
        puts(text);
        free(text);
        cJSON_Delete(o);
    } else {
        printf("model  %s\ndata   %s (%zu examples)\n\n", model_dir, data, n);
        printf("%-10s %9s %12s %12s %12s\n", "", "examples", "full solve", "char acc", "answer acc");
        print_row("overall", &sc.all);
        for (int k = 0; k < QUAD_N_KINDS; k++) print_row(quad_kind_name((quad_kind)k), &sc.kind[k]);
        printf("\nwhere wrong outputs first go wrong (share of each kind's wrong outputs):\n");
        for (int k = 0; k < QUAD_N_KINDS; k++) {
            size_t wrong = sc.kind[k].n - sc.kind[k].full;
            if (!wrong) continue;
            printf("%-10s", quad_kind_name((quad_kind)k));
            int n_steps = k == QUAD_NO_ROOT ? 3 : QUAD_MAX_STEPS;
            for (int st = 0; st < n_steps; st++)
                if (steps[k][st])
                    printf("  %s %.1f %%", quad_step_name((quad_kind)k, st),
                           100.0 * (double)steps[k][st] / (double)wrong);
            putchar('\n');
        }
        print_dstats(dst);
        printf("\n%zu examples in %.2f s (%.1f a second, %d thread%s)\n", n, secs,
               secs > 0 ? (double)n / secs : 0.0, nthreads, nthreads == 1 ? "" : "s");
    }
    free(outputs);
    t5_free(&model);
    tok_free(tok);
    quad_ds_free(&ds);
    return EXIT_OK;
}
