/* cmd_probe.c - `attnscope probe`: parse the options, load the model and
 * the equations, then an_probe_run and an_probe_write (probe.h).
 *
 * Deliberately not here: the position classes, the fits and the files
 * (src/analysis/probe.c, probe_write.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "cli.h"
#include "model_kind.h"
#include "probe.h"

#define CMD "probe"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope probe [--model DIR] [--preset P | --data FILE] [--n N] --out DIR\n"
            "\n"
            "Which positions and layers hold which quantity: fit linear (ridge) probes from\n"
            "the residual stream at every slot (the embeddings, after each layer; encoder\n"
            "and decoder) and position class (x ^ 2 +- = 0 eos and the digits of a, b, c\n"
            "in the source; D=(..), the ')=' row, D's value and x=(..) in the target) to\n"
            "a, b, c, b^2, 4ac, D, sqrt(D), the roots and each digit of |D| (10 classes).\n"
            "Split 80/20 by equation; held-out R^2 and digit accuracy beside a probe fit\n"
            "on shuffled labels. Writes DIR/probe.md, probe.tsv, probe.json and the\n"
            "heatmap probe.png / probe.svg. Needs a byte-level (ByT5) model of the task.\n"
            "\n"
            "  -m, --model DIR     the model folder (default: the bundled model)\n"
            "  -d, --data FILE     equations from a data-set file (source<TAB>target; the\n"
            "                      target is taken from the exact solver)\n"
            "  -p, --preset P      or generate them: seed or small (default: the model's\n"
            "                      own, from its metrics.json; else seed)\n"
            "  -n, --n N           equations (default 2000; duplicates are dropped)\n"
            "      --seed S        generator seed and the split's seed (default 1)\n"
            "  -o, --out DIR       the folder to write (created if needed)\n"
            "  -q, --quiet         no progress line\n"
            "  -h, --help          this help\n");
}

static void progress(void *user, size_t done, size_t total)
{
    int *on = user;
    if (!*on || (done % 50 && done != total)) return;
    fprintf(stderr, "\rprobe: %zu/%zu equations", done, total);
    if (done == total) fputc('\n', stderr);
}

/* The equations: read from data, or generated from preset. */
static int load_equations(const char *data, const char *preset, size_t n, size_t seed,
                          quad_eq **out, size_t *n_out)
{
    as_err err = {{0}};
    if (data) {
        quad_dataset ds;
        if (quad_ds_read(data, n, &ds, &err)) {
            quad_ds_free(&ds);
            cli_error(CMD, "%s", err.msg);
            return EXIT_FAIL;
        }
        *out = xmalloc((ds.n ? ds.n : 1) * sizeof **out);
        for (size_t i = 0; i < ds.n; i++) (*out)[i] = ds.ex[i].eq;
        *n_out = ds.n;
        quad_ds_free(&ds);
        return EXIT_OK;
    }
    const quad_preset *p = quad_preset_find(preset);
    if (!p) {
        cli_error(CMD, "unknown preset '%s' (the presets are seed and small)", preset);
        return EXIT_USAGE;
    }
    *out = xmalloc(n * sizeof **out);
    quad_generate(p, n, (uint64_t)seed, *out);
    *n_out = n;
    return EXIT_OK;
}

int cmd_probe(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"data", required_argument, 0, 'd'},
        {"preset", required_argument, 0, 'p'}, {"n", required_argument, 0, 'n'},
        {"seed", required_argument, 0, 's'},  {"out", required_argument, 0, 'o'},
        {"quiet", no_argument, 0, 'q'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *model = NULL, *data = NULL, *preset = NULL, *out = NULL;
    size_t n = 2000, seed = 1;
    int quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:d:p:n:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return EXIT_OK;
        case 'm': model = optarg; break;
        case 'd': data = optarg; break;
        case 'p': preset = optarg; break;
        case 'n': if (cli_parse_size(CMD, "--n", optarg, &n)) return EXIT_USAGE; break;
        case 's': if (cli_parse_size(CMD, "--seed", optarg, &seed)) return EXIT_USAGE; break;
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        default: return cli_option_error(CMD, c, argv);
        }
    }
    if (cli_no_args(CMD, argc, argv, NULL)) return EXIT_USAGE;
    if (!out || !*out) {
        cli_error(CMD, "--out DIR is required (the folder for probe.md and the figure)");
        return EXIT_USAGE;
    }
    if (data && preset) {
        cli_error(CMD, "give either --data or --preset, not both");
        return EXIT_USAGE;
    }
    if (n == 0 || n > 1000000) {
        cli_error(CMD, "--n must be between 1 and 1000000, got %zu", n);
        return EXIT_USAGE;
    }
    const char *dir = cli_model_dir(model);
    as_err err = {{0}};
    quad_eq *eqs = NULL;
    size_t n_eq = 0;
    if (!preset && !data) {
        const quad_preset *own = model_dir_preset(dir);
        preset = own ? own->name : "seed";
    }
    int rc = load_equations(data, preset, n, seed, &eqs, &n_eq);
    if (rc) return free(eqs), rc;
    t5_model m;
    if (an_task_model_load(&m, dir, &err)) {
        free(eqs);
        cli_error(CMD, "%s", err.msg);
        return EXIT_FAIL;
    }
    int on = !quiet && isatty(2);
    an_probe_result res;
    rc = an_probe_run(&m, eqs, n_eq, (uint64_t)seed, &res, progress, &on, &err);
    free(eqs);
    t5_free(&m);
    if (rc) {
        cli_error(CMD, "%s", err.msg);
        return EXIT_FAIL;
    }
    rc = an_probe_write(&res, out, dir, &err);
    an_fig_cleanup();
    if (rc) {
        an_probe_free(&res);
        cli_error(CMD, "%s", err.msg);
        return EXIT_FAIL;
    }
    printf("probed %zu equations (%zu held out; %s %s) in %.1f s: wrote %s/probe.md, "
           "probe.tsv, probe.json, probe.png, probe.svg\n",
           res.n_eq, res.n_test, data ? "from" : "preset", data ? data : preset, res.seconds,
           out);
    an_probe_free(&res);
    return EXIT_OK;
}
