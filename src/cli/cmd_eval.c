/* cmd_eval.c - `attnscope eval`: parse the options, draw a progress bar on
 * stderr and hand over to eval_run (src/eval/).
 *
 * Deliberately not here: decoding and scoring (include/eval.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "eval.h"
#include "quad.h"

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

static void progress(void *user, size_t done, size_t total, double el, int last)
{
    (void)user;
    int width = 40, fill = total ? (int)((double)done / (double)total * width) : width;
    double eta = done ? el / (double)done * (double)(total - done) : 0;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu  %.1f s, %.0f s left ", fill,
            "########################################", width - fill, "", done, total, el, eta);
    if (last) fputc('\n', stderr);
    fflush(stderr);
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"data", required_argument, 0, 'd'},
        {"limit", required_argument, 0, 'l'},   {"json", no_argument, 0, 'j'},
        {"max-len", required_argument, 0, 'x'}, {"threads", required_argument, 0, 't'},
        {"outputs", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    eval_options o = {.max_len = QUAD_MAX_GEN, .out = stdout};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (cli_parse_path("eval", "--model", optarg, &o.model_dir)) return EXIT_USAGE;
            break;
        case 'd':
            if (cli_parse_path("eval", "--data", optarg, &o.data)) return EXIT_USAGE;
            break;
        case 'l':
            if (cli_parse_size("eval", "--limit", optarg, &o.limit) < 0) return EXIT_USAGE;
            break;
        case 'j': o.json = 1; break;
        case 'x':
            if (cli_parse_range("eval", "--max-len", optarg, 1, 4096, &o.max_len)) return EXIT_USAGE;
            break;
        case 't':
            if (cli_parse_range("eval", "--threads", optarg, 1, 256, &o.threads)) return EXIT_USAGE;
            break;
        case 'o':
            if (cli_parse_path("eval", "--outputs", optarg, &o.outputs_path)) return EXIT_USAGE;
            break;
        default: return cli_usage_exit(c, usage);  /* -h too */
        }
    }
    if (cli_no_args("eval", argc, argv, NULL) ||
        cli_required("eval", o.data, "--data FILE.tsv is required", usage))
        return EXIT_USAGE;
    o.model_dir = cli_model_dir(o.model_dir);
    if (isatty(2)) o.progress = progress;
    as_err err;
    if (eval_run(&o, &err)) {
        cli_error("eval", "%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
