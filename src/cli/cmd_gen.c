/* cmd_gen.c - `attnscope gen`: generate a quadratic-equation data set
 * (../shared/spec/quadratic-task.md) and write DIR/train.tsv and
 * DIR/test.tsv, split by distinct equation; print the counts per kind.
 *
 * Deliberately thin: generation, split and writing live in src/task/. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "quad.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope gen [--preset seed|small] [--n N] [--seed S] [--test-share F] --out DIR\n"
            "\n"
            "Generate a quadratic-equation data set and write DIR/train.tsv and DIR/test.tsv\n"
            "(one 'source<TAB>target' a line). Shares: 50%% two roots, 30%% one root, 20%% no root.\n"
            "The split is by distinct equation: train and test never share one.\n"
            "\n"
            "  --preset NAME      seed (a 1..9, roots -300..300) or small (a 1..5, roots -20..20);\n"
            "                     default seed\n"
            "  --n N              number of examples (default 100000)\n"
            "  --seed S           the generator's seed, any 64-bit number (default 1)\n"
            "  --test-share F     share of examples for test, 0..1 (default 0.2)\n"
            "  --out DIR          the folder to write (created if needed)\n"
            "  -h, --help         this help\n");
}

static int cmp_eq(const void *x, const void *y)
{
    const quad_eq *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return p->c < q->c ? -1 : p->c > q->c;
}

/* Distinct equations among those with is_test == want. */
static size_t count_distinct(const quad_eq *eqs, size_t n, const unsigned char *is_test, int want)
{
    quad_eq *tmp = xmalloc((n ? n : 1) * sizeof *tmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (is_test[i] == want) tmp[k++] = eqs[i];
    qsort(tmp, k, sizeof *tmp, cmp_eq);
    size_t d = 0;
    for (size_t i = 0; i < k; i++)
        if (i == 0 || cmp_eq(&tmp[i], &tmp[i - 1])) d++;
    free(tmp);
    return d;
}

int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"preset", required_argument, 0, 'p'},
        {"n", required_argument, 0, 'n'},
        {"seed", required_argument, 0, 's'},
        {"test-share", required_argument, 0, 't'},
        {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *preset_name = "seed", *out = NULL;
    size_t n = 100000, seed = 1;
    double share = 0.2;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': preset_name = optarg; break;
        case 'n':
            if (cli_parse_size("gen", "--n", optarg, &n) < 0) return EXIT_USAGE;
            break;
        case 's':
            if (cli_parse_size("gen", "--seed", optarg, &seed) < 0) return EXIT_USAGE;
            break;
        case 't':
            if (cli_parse_double("gen", "--test-share", optarg, &share) < 0) return EXIT_USAGE;
            if (share < 0 || share > 1) {
                cli_error("gen", "--test-share must be between 0 and 1, got %s", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'o':
            if (cli_parse_path("gen", "--out", optarg, &out)) return EXIT_USAGE;
            break;
        default: return cli_usage_exit(c, usage);  /* -h too */
        }
    }
    if (cli_no_args("gen", argc, argv, NULL)) return EXIT_USAGE;
    const quad_preset *preset = quad_preset_find(preset_name);
    if (!preset) {
        cli_error("gen", "unknown preset '%s' (the presets are seed and small)", preset_name);
        return EXIT_USAGE;
    }
    if (cli_required("gen", out && *out ? out : NULL,
                     "--out DIR is required (the folder for train.tsv and test.tsv)", NULL))
        return EXIT_USAGE;
    if (n == 0) {
        cli_error("gen", "--n must be at least 1");
        return EXIT_USAGE;
    }
    if (n > (size_t)10000000) {  /* ~100 bytes of memory an example while splitting */
        cli_error("gen", "--n %zu is more than 10,000,000 examples; generate in parts", n);
        return EXIT_USAGE;
    }

    double t0 = util_now();
    quad_eq *eqs = xmalloc(n * sizeof *eqs);
    unsigned char *is_test = xmalloc(n);
    quad_generate(preset, n, (uint64_t)seed, eqs);
    quad_split(eqs, n, (uint64_t)seed, share, is_test);

    as_err err;
    size_t counts[2][QUAD_N_KINDS];
    char path[2][4096];
    int rc = EXIT_OK;
    if (util_mkdir_p(out, &err) < 0) {
        cli_error("gen", "%s", err.msg);
        rc = EXIT_FAIL;
        goto done;
    }
    for (int side = 0; side < 2; side++) {
        snprintf(path[side], sizeof path[side], "%s/%s", out, side ? "test.tsv" : "train.tsv");
        if (quad_ds_write(path[side], eqs, n, is_test, side, counts[side], &err) < 0) {
            cli_error("gen", "%s", err.msg);
            rc = EXIT_FAIL;
            goto done;
        }
    }
    double secs = util_now() - t0;

    printf("preset %s, %zu examples, seed %zu, test share %g (%.2f s)\n", preset->name, n, seed,
           share, secs);
    printf("%-*s %10s %10s %10s %10s %10s\n", 10, "", "two roots", "one root", "no root", "total",
           "distinct");
    for (int side = 0; side < 2; side++) {
        size_t tot = counts[side][0] + counts[side][1] + counts[side][2];
        printf("%-10s %10zu %10zu %10zu %10zu %10zu  %s\n", side ? "test" : "train",
               counts[side][0], counts[side][1], counts[side][2], tot,
               count_distinct(eqs, n, is_test, side), path[side]);
    }
done:
    free(eqs);
    free(is_test);
    return rc;
}
