/* cmd_solve.c - `attnscope solve`: parse the options by hand (an equation
 * may start with '-') and hand over to solve_run (src/eval/solve.c), which
 * prints, for each equation, the canonical source, the model's greedy
 * output against the exact target and the roots.
 *
 * Deliberately not here: parsing, solving, decoding and showing the
 * equations (include/eval.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval.h"
#include "quad.h"
static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope solve [--model DIR] [--max-len N] [--no-model] EQUATION...\n"
            "\n"
            "Decode each equation with the model and check the solution against the exact one.\n"
            "Equations may be typed loosely: 'x^2 - 5x + 6 = 0', '-x^2+4=0', '3x^2=12', 'x²-1=0'.\n"
            "Quote each equation; an equation may start with '-'.\n"
            "\n"
            "  --model DIR     a Hugging Face T5 folder (default: the bundled model,\n"
            "                  %s)\n"
            "  --max-len N     at most N generated tokens (default %d)\n"
            "  --no-model      only the canonical form and the exact solution\n"
            "  -h, --help      this help\n"
            "\n"
            "Exit status: 0 when every equation was solved (rightly or not by the model), 1 when\n"
            "an equation is rejected or the model cannot be loaded, 2 on bad usage.\n",
            cli_default_model(), QUAD_MAX_GEN);
}

/* solve_run's problems as error messages on stderr; an unloadable model
 * gets a hint at the options that help. */
static void print_problem(void *user, solve_problem what, const char *msg)
{
    (void)user;
    cli_error("solve", "%s", msg);
    if (what == SOLVE_MODEL_UNLOADABLE)
        fprintf(stderr, "  (give one with --model DIR, or use --no-model for the exact "
                        "solutions only)\n");
}

int cmd_solve(int argc, char **argv)
{
    /* Options by hand rather than getopt_long: an equation may start with
     * '-' ("-x^2+4=0"), which getopt would take for options. */
    const char *model_dir = NULL;
    int no_model = 0, only_eqs = 0;
    const char **eqs = xcalloc((size_t)argc + 1, sizeof *eqs);
    solve_options o = {.equations = eqs, .max_len = QUAD_MAX_GEN, .out = stdout,
                       .problem = print_problem};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_eqs || a[0] != '-' || (a[1] != '-' && a[1] != 'h' && a[1] != '\0')) {
            eqs[o.n++] = a;
        } else if (!strcmp(a, "--")) {
            only_eqs = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(eqs);
            return EXIT_OK;
        } else if (!strcmp(a, "--no-model")) {
            no_model = 1;
        } else if (!strcmp(a, "--model") || !strncmp(a, "--model=", 8)) {
            const char *v = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) goto missing;
            if (cli_parse_path("solve", "--model", v, &model_dir)) goto usage_err;
        } else if (!strcmp(a, "--max-len") || !strncmp(a, "--max-len=", 10)) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) goto missing;
            if (cli_parse_range("solve", "--max-len", v, 1, 4096, &o.max_len)) goto usage_err;
        } else {
            cli_error("solve", "unknown option '%s'", a);
            usage(stderr);
            goto usage_err;
        }
        continue;
    missing:
        cli_error("solve", "%s needs a value", a);
        goto usage_err;
    }
    if (o.n == 0) {
        cli_error("solve", "no equation given (e.g. attnscope solve 'x^2-5x+6=0')");
        goto usage_err;
    }
    if (!no_model) o.model_dir = cli_model_dir(model_dir);
    int rc = solve_run(&o) ? EXIT_FAIL : EXIT_OK;
    free(eqs);
    return rc;

usage_err:
    free(eqs);
    return EXIT_USAGE;
}
