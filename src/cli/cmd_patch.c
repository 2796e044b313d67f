/* cmd_patch.c - `attnscope patch`: parse the options and the two
 * equations, then an_patch_run, a summary on stdout and, with --out,
 * an_patch_write (probe.h).
 *
 * Deliberately not here: the patching and the files
 * (src/analysis/patching.c, patching_write.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cli.h"
#include "probe.h"

#define CMD "patch"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope patch [--model DIR] --clean EQ --corrupt EQ [--out DIR]\n"
            "\n"
            "Activation patching: run the clean equation and a corrupted one (one\n"
            "coefficient changed, sources of the same length), both teacher-forced on the\n"
            "clean target; copy the hidden state at one (layer, position) of one component\n"
            "(residual stream, attention output, cross-attention output, MLP output) from\n"
            "the clean run into the corrupted one, for every layer and position of both\n"
            "stacks, and measure how much of the clean log-probability of D's digits comes\n"
            "back: (patched - corrupted) / (clean - corrupted). Prints the best patch of\n"
            "each component; --out writes DIR/patch.md, patch.tsv, patch.json and the\n"
            "heatmaps patch.png / patch.svg. Needs a byte-level (ByT5) model of the task.\n"
            "\n"
            "  -m, --model DIR     the model folder (default: the bundled model)\n"
            "  -c, --clean EQ      the clean equation (as the UI takes it)\n"
            "  -x, --corrupt EQ    the corrupted equation\n"
            "  -o, --out DIR       the folder to write (created if needed)\n"
            "  -h, --help          this help\n");
}

static int parse_eq(const char *opt, const char *text, quad_eq *eq)
{
    quad_parse_error pe;
    if (!text) {
        cli_error(CMD, "%s EQ is required", opt);
        return EXIT_USAGE;
    }
    if (quad_parse(text, eq, &pe)) {
        cli_error(CMD, "%s '%s': column %zu: %s", opt, text, pe.column, pe.reason);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static void summary(const an_patch_result *r)
{
    printf("clean %s, corrupted %s (%c changed); log-probability of D's %zu digits: clean %.4f, "
           "corrupted %.4f\n",
           r->clean_src, r->corrupt_src, r->changed, r->n_scored, r->lp_clean, r->lp_corrupt);
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < AN_PCOMP_COUNT; c++) {
            if (!r->restored[s][c]) continue;
            size_t np = s ? r->n_dec : r->n_src, n = r->rows[s][c] * np, best = 0;
            for (size_t i = 1; i < n; i++)
                if (r->restored[s][c][i] > r->restored[s][c][best]) best = i;
            size_t row = best / np;
            char where[32];
            if (c == AN_PCOMP_RESID && row == 0) snprintf(where, sizeof where, "embeddings");
            else snprintf(where, sizeof where, "layer %zu", c == AN_PCOMP_RESID ? row - 1 : row);
            printf("  %-7s %-15s best: %s, position %zu: %.3f restored\n",
                   s ? "decoder" : "encoder", an_pcomp_name(c), where, best % np,
                   r->restored[s][c][best]);
        }
}

int cmd_patch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"clean", required_argument, 0, 'c'},
        {"corrupt", required_argument, 0, 'x'}, {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    const char *model = NULL, *clean = NULL, *corrupt = NULL, *out = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:c:x:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return EXIT_OK;
        case 'm': model = optarg; break;
        case 'c': clean = optarg; break;
        case 'x': corrupt = optarg; break;
        case 'o': out = optarg; break;
        default: return cli_option_error(CMD, c, argv);
        }
    }
    if (cli_no_args(CMD, argc, argv, NULL)) return EXIT_USAGE;
    quad_eq ec, ex;
    int rc;
    if ((rc = parse_eq("--clean", clean, &ec)) || (rc = parse_eq("--corrupt", corrupt, &ex)))
        return rc;
    as_err err = {{0}};
    char changed;
    if (an_patch_pair_check(&ec, &ex, &changed, &err)) {
        cli_error(CMD, "%s", err.msg);
        return EXIT_USAGE;
    }
    const char *dir = cli_model_dir(model);
    t5_model m;
    if (an_task_model_load(&m, dir, &err)) {
        cli_error(CMD, "%s", err.msg);
        return EXIT_FAIL;
    }
    an_patch_result res;
    rc = an_patch_run(&m, &ec, &ex, &res, &err);
    t5_free(&m);
    if (rc) {
        cli_error(CMD, "%s", err.msg);
        return EXIT_FAIL;
    }
    summary(&res);
    if (out) {
        rc = an_patch_write(&res, out, dir, &err);
        an_fig_cleanup();
        if (rc) {
            an_patch_free(&res);
            cli_error(CMD, "%s", err.msg);
            return EXIT_FAIL;
        }
        printf("wrote %s/patch.md, patch.tsv, patch.json, patch.png, patch.svg (%zu passes, "
               "%.2f s)\n", out, res.runs, res.seconds);
    }
    an_patch_free(&res);
    return EXIT_OK;
}
