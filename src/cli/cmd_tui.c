/* cmd_tui.c - `attnscope [tui]`: load a model and open the terminal UI on
 * an equation (by default the example of the model's preset, quad.h).
 *
 * Deliberately not here: the UI itself (src/tui/). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "t5.h"
#include "theme.h"
#include "tui.h"
#include "util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope [tui] [--model DIR] [--theme NAME] [--color MODE] [EQUATION]\n\n"
            "Open the terminal UI: type an equation, watch the model decode its solution token\n"
            "by token, and walk every attention map (press ? inside for the keys).\n\n"
            "  -m, --model DIR    the model folder (default: the bundled model)\n"
            "  -t, --theme NAME   a theme in themes/ or a .cfg path (default: from the config\n"
            "                     file $XDG_CONFIG_HOME/attnscope/config.cfg, else 'default')\n"
            "  -c, --color MODE   auto, direct, 256, 8 or none (NO_COLOR=1 also means none)\n"
            "  -r, --raw          any text, no equation parser or right/wrong check (for models\n"
            "                     not trained on the quadratic task; guessed for HF checkpoints)\n"
            "  -a, --ascii        no Unicode half blocks (one map row per line)\n"
            "      --no-mouse     no clicks or wheel (also: mouse = false; in the config)\n"
            "      --max-len N    at most N output tokens when decoding greedily (1..511;\n"
            "                     default 128 for equations, 255 for raw text); O in the UI\n"
            "      --target TEXT  teacher forcing: feed TEXT (eos appended) to the decoder\n"
            "                     instead of its own output; T in the UI\n"
            "      --bench-ui[=KEYS] replay keys without a terminal and print redraw timings\n"
            "      --bench-reps N repetitions for --bench-ui (default 20)\n"
            "  -h, --help         this help\n\n"
            "EQUATION defaults to the example of the preset the model was trained on: the\n"
            "study's 7x^2+3556x+451612=0 (seed, and any other model), 2x^2-14x-36=0 (small).\n");
}

static const struct option opts[] = {
    {"model", required_argument, NULL, 'm'}, {"theme", required_argument, NULL, 't'},
    {"color", required_argument, NULL, 'c'}, {"raw", no_argument, NULL, 'r'},
    {"ascii", no_argument, NULL, 'a'},       {"bench-ui", optional_argument, NULL, 'B'},
    {"bench-reps", required_argument, NULL, 'R'}, {"help", no_argument, NULL, 'h'},
    {"max-len", required_argument, NULL, 'L'},    {"target", required_argument, NULL, 'T'},
    {"no-mouse", no_argument, NULL, 'N'},
    {NULL, 0, NULL, 0},
};

static int run(tui_options *op, int argc, char **argv);

int cmd_tui(int argc, char **argv)
{
    tui_options o = {0};
    /* An equation may start with '-' (-x^2+4=0): take an argument with an
       '=' that is not a long option as the equation before getopt sees it. */
    char **args = xcalloc((size_t)argc + 1, sizeof *args);
    int n_args = 0;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (i > 0 && s[0] == '-' && s[1] != '-' && strchr(s, '=') && !o.equation) o.equation = s;
        else args[n_args++] = argv[i];
    }
    int rc = run(&o, n_args, args);
    free(args);
    return rc;
}

static int run(tui_options *op, int argc, char **argv)
{
    tui_options o = *op;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:t:c:rah", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (cli_parse_path("tui", "--model", optarg, &o.model_dir)) return EXIT_USAGE;
            break;
        case 't':
            if (cli_parse_path("tui", "--theme", optarg, &o.theme)) return EXIT_USAGE;
            break;
        case 'c':
            if (theme_mode_parse(optarg) < 0) {
                cli_error("tui", "--color wants auto, direct, 256, 8 or none, not '%s'", optarg);
                return EXIT_USAGE;
            }
            o.color = optarg;
            break;
        case 'r': o.raw = 1; break;
        case 'a': o.ascii = 1; break;
        case 'N': o.no_mouse = 1; break;
        case 'B': o.bench_keys = optarg ? optarg : "default"; break;
        case 'R':
            if (cli_parse_size("tui", "--bench-reps", optarg, &o.bench_reps)) return EXIT_USAGE;
            break;
        case 'L':
            if (cli_parse_size("tui", "--max-len", optarg, &o.max_len)) return EXIT_USAGE;
            if (o.max_len == 0 || o.max_len > 511) {
                cli_error("tui", "--max-len must be 1..511, got %s", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'T': o.target = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':':
            cli_error("tui", "option '%s' needs a value", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            cli_error("tui", "unknown option '%s'", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc && !o.equation) o.equation = argv[optind++];
    if (optind < argc) {
        cli_error("tui", "one equation at a time (got '%s' too); quote it if it has spaces",
                  argv[optind]);
        return EXIT_USAGE;
    }
    o.model_dir = cli_model_dir(o.model_dir);
    struct stat st;
    if (stat(o.model_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("tui", "no model folder at %s; give one with --model DIR (a folder with "
                         "config.json and model.safetensors) or set ATTNSCOPE_MODEL",
                  o.model_dir);
        return EXIT_FAIL;
    }
    t5_model m;
    as_err err = {{0}};
    if (t5_load_mapped(&m, o.model_dir, &err)) {
        cli_error("tui", "%s", err.msg);
        return EXIT_FAIL;
    }
    o.data_dir = cli_data_dir();
    int sig = tui_run(&o, &m, &err), rc = EXIT_OK;
    if (sig < 0) {
        cli_error("tui", "%s", err.msg);
        rc = EXIT_FAIL;
    } else if (sig > 0) {  /* SIGINT or SIGTERM: the shell's convention */
        cli_error("tui", "quit on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
        rc = 128 + sig;
    }
    t5_free(&m);
    return rc;
}
