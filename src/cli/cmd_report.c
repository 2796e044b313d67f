/* cmd_report.c - `attnscope report`: parse the options, show progress on
 * stderr and hand over to report_run (src/report/).
 *
 * Deliberately not here: what the report measures, draws and writes
 * (include/report.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "model_kind.h"
#include "quad.h"
#include "report.h"

#define CMD "report"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope report [--model DIR] [--data FILE | --preset P --n N] --out DIR\n"
            "       attnscope report --model DIR --raw FILE --out DIR\n"
            "       attnscope report --checkpoints DIR... [--data FILE | --preset P] --out DIR\n"
            "\n"
            "Run a model on a set of equations, measure every attention head and write\n"
            "DIR/report.md (per-head table, classes, importance, the findings with their\n"
            "numbers), DIR/heads.tsv and figures of every map type as PNG and SVG.\n"
            "With --raw the inputs are any text, for any T5 (SentencePiece or ByT5).\n"
            "With --checkpoints, the training dynamics of a run instead: DIR/dynamics.md,\n"
            "dynamics.tsv and figures of every head's class and scores at each checkpoint.\n"
            "\n"
            "  -m, --model DIR        the model folder (default: the bundled model)\n"
            "  -d, --data FILE        equations from a data-set file (source<TAB>target);\n"
            "                         a held-out test.tsv gives honest scores\n"
            "  -p, --preset P         or generate them: seed or small (default: the\n"
            "                         model's own, from its metrics.json; else seed)\n"
            "  -r, --raw FILE         or any text: one input a line, or input<TAB>target\n"
            "                         (teacher forcing); head classes, value norms,\n"
            "                         rollout and ablation scored by the target's\n"
            "                         log-likelihood, or by agreement with the unablated\n"
            "                         greedy output when there are no targets\n"
            "  -c, --checkpoints DIR...  model folders of one run's checkpoints, or a run's\n"
            "                         folder (its checkpoints/step-N/, train.keep_checkpoints,\n"
            "                         and its final model; a grown run's checkpoints may\n"
            "                         have fewer layers); each decodes the same equations\n"
            "  -n, --n N              equations (or --raw lines) for the statistics\n"
            "                         (default 100)\n"
            "      --seed S           generator seed for --preset, and for the random\n"
            "                         baseline (default 1)\n"
            "      --importance-n N   equations for head ablation (default 20; 0 skips it)\n"
            "      --ablation MODE    zero (default) or mean: what replaces an ablated head\n"
            "      --hypothesis-n N   equations for the special-symbol experiment\n"
            "                         (default 50; 0 skips it)\n"
            "      --draws K          random-digit baseline draws (default 5)\n"
            "      --block-in LIST    where the experiment blocks keys: enc,dec,cross\n"
            "                         (default: two runs, all three, then enc,cross)\n"
            "      --norm-n N         equations classified again on value-weighted maps\n"
            "                         ||a W_O v|| (default 100; 0 skips it)\n"
            "      --probe-n N        equations of the same data for the probes of b^2,\n"
            "                         4ac, D... (default 500; 0 skips them; ByT5 models)\n"
            "      --patch-n N        clean/corrupted pairs for activation patching\n"
            "                         (default 8; 0 skips it; ByT5 models)\n"
            "      --example EQ       the equation drawn in the per-example figures\n"
            "                         (default: the example of the model's preset,\n"
            "                         " REPORT_EXAMPLE_EQ " for seed, 2x^2-14x-36=0\n"
            "                         for small; --raw: the first line)\n"
            "      --max-len N        longest decoded output in tokens (default %d)\n"
            "      --threads N        decoding threads for ablation and the hypothesis,\n"
            "                         one equation each (default: all cores)\n"
            "  -o, --out DIR          the folder to write (created if needed)\n"
            "  -q, --quiet            no progress bar\n"
            "  -h, --help             this help\n"
            "\n"
            "Ablation decodes every --importance-n equation once per head (3 x layers x heads\n"
            "times), the hypothesis (2 + --draws) times: those two dominate the run time.\n",
            QUAD_MAX_GEN);
}

/* ---- progress bar on stderr ------------------------------------------------ */

typedef struct {
    int on;
    double last, start;
} progress;

static void prog_cb(void *user, const char *stage, size_t done, size_t total)
{
    progress *p = user;
    if (!p->on) return;
    double now = util_now();
    if (done == 0) p->last = 0, p->start = now;
    if (done < total && now - p->last < 0.1) return;
    p->last = now;
    int width = 30, fill = total ? (int)((double)width * (double)done / (double)total) : width;
    if (fill > width) fill = width;
    fprintf(stderr, "\r%-28s [", stage);
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : ' ', stderr);
    fprintf(stderr, "] %zu/%zu", done, total);
    if (done > 0 && done < total) {
        double left = (now - p->start) / (double)done * (double)(total - done);
        fprintf(stderr, "  %.0f s left  ", left);
    } else if (done >= total) {
        fprintf(stderr, "  %.1f s        ", now - p->start);
    }
    if (done >= total) fputc('\n', stderr);
    fflush(stderr);
}

/* One option of the table below; 0, or an exit status. */
/* What the options say beside report_options. */
typedef struct {
    int quiet, preset_given, example_given, checkpoints;
    const char **dirs;
    size_t n_dirs;
} cli_extra;

static void add_dir(cli_extra *x, const char *d)
{
    x->dirs = xrealloc(x->dirs, (x->n_dirs + 1) * sizeof *x->dirs);
    x->dirs[x->n_dirs++] = d;
}

static int report_option(int c, char **argv, report_options *o, cli_extra *x)
{
    unsigned bits;
    switch (c) {
    case 'c': x->checkpoints = 1, add_dir(x, optarg); return 0;
    case 'm': return cli_parse_path(CMD, "--model", optarg, &o->model_dir) ? EXIT_USAGE : 0;
    case 'd': return cli_parse_path(CMD, "--data", optarg, &o->data) ? EXIT_USAGE : 0;
    case 'r': return cli_parse_path(CMD, "--raw", optarg, &o->raw) ? EXIT_USAGE : 0;
    case 'p': o->preset = optarg, x->preset_given = 1; return 0;
    case 'n': return cli_parse_size(CMD, "--n", optarg, &o->n) ? EXIT_USAGE : 0;
    case 's': return cli_parse_size(CMD, "--seed", optarg, &o->seed) ? EXIT_USAGE : 0;
    case 'I': return cli_parse_size(CMD, "--importance-n", optarg, &o->imp_n) ? EXIT_USAGE : 0;
    case 'Y': return cli_parse_size(CMD, "--hypothesis-n", optarg, &o->hyp_n) ? EXIT_USAGE : 0;
    case 'K': return cli_parse_size(CMD, "--draws", optarg, &o->draws) ? EXIT_USAGE : 0;
    case 'V': return cli_parse_size(CMD, "--norm-n", optarg, &o->norm_n) ? EXIT_USAGE : 0;
    case 'P': return cli_parse_size(CMD, "--probe-n", optarg, &o->probe_n) ? EXIT_USAGE : 0;
    case 'X': return cli_parse_size(CMD, "--patch-n", optarg, &o->patch_n) ? EXIT_USAGE : 0;
    case 'L': return cli_parse_size(CMD, "--max-len", optarg, &o->max_len) ? EXIT_USAGE : 0;
    case 'T':
        return cli_parse_range(CMD, "--threads", optarg, 1, 256, &o->threads) ? EXIT_USAGE : 0;
    case 'A': o->ablation = optarg; return 0;
    case 'B':
        if (report_parse_kinds(optarg, &bits) == 0) return o->block_kinds = bits, 0;
        cli_error(CMD, "--block-in takes a comma-separated list of enc, dec, cross; got '%s'",
                  optarg);
        return EXIT_USAGE;
    case 'e': o->example = optarg, x->example_given = 1; return 0;
    case 'o': return cli_parse_path(CMD, "--out", optarg, &o->out) ? EXIT_USAGE : 0;
    case 'q': x->quiet = 1; return 0;
    case ':': cli_error(CMD, "option '%s' needs a value", argv[optind - 1]); return EXIT_USAGE;
    default:
        cli_error(CMD, "unknown option '%s' (see attnscope report --help)", argv[optind - 1]);
        return EXIT_USAGE;
    }
}

/* Parse argv into o and x: an exit status (help, a usage error), or -1 to
 * go on. With --checkpoints, the arguments left are more folders. */
static int cmd_report_parse(int argc, char **argv, const struct option *opts, report_options *o,
                            cli_extra *x)
{
    int c, rc;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:d:r:c:p:n:o:qh", opts, NULL)) != -1) {
        if (c == 'h') return usage(stdout), EXIT_OK;
        if ((rc = report_option(c, argv, o, x))) return rc;
    }
    for (; optind < argc && x->checkpoints; optind++) add_dir(x, argv[optind]);
    if (optind < argc) {
        cli_error(CMD, "unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!o->out || !*o->out) {
        cli_error(CMD, "--out DIR is required (the folder for report.md and the figures)");
        return EXIT_USAGE;
    }
    if ((o->data != NULL) + (o->raw != NULL) + x->preset_given > 1) {
        cli_error(CMD, "give one of --data, --raw and --preset, not two");
        return EXIT_USAGE;
    }
    if (x->checkpoints && (o->raw || o->model_dir)) {
        cli_error(CMD, "--checkpoints reads the models from its folders, on equations: not with %s",
                  o->raw ? "--raw" : "--model");
        return EXIT_USAGE;
    }
    if (o->raw && !x->example_given) o->example = NULL; /* the file's first line */
    as_err err = {{0}};
    if (report_check(o, &err)) {
        cli_error(CMD, "%s", err.msg);
        return EXIT_USAGE;
    }
    return -1;
}

/* What the model folder (dir) says its preset is, for the options the
 * command line left to it: the equations to generate and the example. */
static void model_defaults(report_options *o, const cli_extra *x, const char *dir)
{
    const quad_preset *p = model_dir_preset(dir);
    if (!p || o->raw) return;
    if (!x->preset_given && !o->data) o->preset = p->name;
    if (!x->example_given) o->example = p->example;
}

/* The report on one model, or with --checkpoints the training dynamics. */
static int run(report_options *o, const cli_extra *x)
{
    if (!x->checkpoints) o->model_dir = cli_model_dir(o->model_dir);
    model_defaults(o, x, x->checkpoints ? x->dirs[0] : o->model_dir);
    progress prog = {!x->quiet && isatty(2), 0, 0};
    o->progress = prog_cb;
    o->progress_user = &prog;
    report_result res;
    as_err err = {{0}};
    int rc = x->checkpoints ? report_dynamics_run(o, x->dirs, x->n_dirs, &res, &err)
                            : report_run(o, &res, &err);
    if (rc) {
        if (prog.on) fputc('\n', stderr);
        cli_error(CMD, "%s", err.msg);
        return EXIT_FAIL;
    }
    const char *what = x->checkpoints ? "dynamics" : "report", *tsv = x->checkpoints ? "dynamics" : "heads";
    printf("wrote %s/%s.md, %s/%s.tsv and %zu figures (PNG + SVG) in %.1f s\n", o->out, what,
           o->out, tsv, res.figures, res.seconds);
    return EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},  {"data", required_argument, 0, 'd'},
        {"raw", required_argument, 0, 'r'},    {"checkpoints", required_argument, 0, 'c'},
        {"preset", required_argument, 0, 'p'}, {"n", required_argument, 0, 'n'},
        {"seed", required_argument, 0, 's'},   {"importance-n", required_argument, 0, 'I'},
        {"ablation", required_argument, 0, 'A'}, {"hypothesis-n", required_argument, 0, 'Y'},
        {"draws", required_argument, 0, 'K'},  {"example", required_argument, 0, 'e'},
        {"max-len", required_argument, 0, 'L'}, {"out", required_argument, 0, 'o'},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {"block-in", required_argument, 0, 'B'},
        {"threads", required_argument, 0, 'T'},
        {"norm-n", required_argument, 0, 'V'}, {"probe-n", required_argument, 0, 'P'},
        {"patch-n", required_argument, 0, 'X'},
        {0, 0, 0, 0},
    };
    report_options o;
    report_options_init(&o);
    cli_extra x = {0};
    int rc = cmd_report_parse(argc, argv, opts, &o, &x);
    if (rc < 0) rc = run(&o, &x);
    free(x.dirs);
    return rc;
}
