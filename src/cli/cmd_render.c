/* cmd_render.c - `attnscope render`: parse the options, settle what only
 * the command knows (the output format for stdout, the terminal's width and
 * locale, where themes live) and hand over to render_run (src/render/run.c).
 *
 * Deliberately not here: decoding and drawing (include/render.h). */
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "quad.h"
#include "render.h"

#define CMD "render"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope render EQUATION [--model DIR] [--view VIEW] [--layer L]\n"
            "                        [--head H|avg] [--step N] [--format FMT] [--out FILE]\n"
            "\n"
            "Decode EQUATION and draw the UI's attention maps without a UI: in colour for a\n"
            "terminal, as plain text for logs and e-mail, as an SVG, PNG or PDF figure, or the\n"
            "numbers as CSV or JSON. An equation starting with '-' is fine ('-x^2+4=0').\n"
            "\n"
            "  -m, --model DIR     the model folder (default: the bundled model)\n"
            "  -v, --view VIEW     enc, dec or cross: one map (default cross); summary: the\n"
            "                      attention each key receives per layer; model: every\n"
            "                      layer x head\n"
            "  -k, --kind KIND     the attention of the summary and model views: enc, dec or\n"
            "                      cross (default cross)\n"
            "  -l, --layer L       the layer of a single map (default 0)\n"
            "  -H, --head H|avg    a head, or avg for the mean over heads (default 0)\n"
            "  -s, --step N        the decoding step shown, 1..steps (default: the last);\n"
            "                      decoder rows after it are left out\n"
            "  -f, --format FMT    ansi, text, svg, png, pdf, csv or json (default: from the\n"
            "                      --out extension, else ansi on a terminal and text otherwise)\n"
            "  -o, --out FILE      write FILE (atomically) instead of stdout\n"
            "  -w, --width N       columns for ansi and text (default: the terminal's, from\n"
            "                      COLUMNS or the terminal itself, else 80)\n"
            "  -t, --theme NAME    a theme in themes/ or a .cfg path (default: the config file's)\n"
            "  -c, --color MODE    ansi colours: auto, direct, 256, 8 or none (default auto:\n"
            "                      NO_COLOR, COLORTERM and TERM decide)\n"
            "  -n, --normalize     scale a single map's colours to its maximum\n"
            "      --measure M     weights (default): the attention weights; norms: the\n"
            "                      value-weighted maps ||a_ij W_O v_j|| of each head, each\n"
            "                      row divided by its sum (what key j adds to query i)\n"
            "  -a, --ascii         no Unicode half blocks in ansi output\n"
            "  -r, --raw           any text, no equation parser (for models not trained on the\n"
            "                      quadratic task; guessed for Hugging Face checkpoints)\n"
            "      --max-len N     at most N generated tokens (default %d, raw text %d)\n"
            "      --target TEXT   teacher forcing: feed TEXT (eos appended) to the decoder\n"
            "                      instead of decoding greedily, and show its maps\n"
            "Text is tokenised by the model folder's spiece.model (SentencePiece) when it has\n"
            "one, else as ByT5 bytes; labels are the tokenizer's pieces.\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit status: 0 drawn, 1 a bad equation, model or file, 2 bad usage.\n",
            QUAD_MAX_GEN, RENDER_MAX_RAW_GEN);
}

/* The width for terminal output: --width, else COLUMNS, else the terminal's. */
static size_t term_width(size_t opt)
{
    if (opt) return opt;
    const char *c = getenv("COLUMNS");
    if (c && atoi(c) > 0) return (size_t)atoi(c);
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

static int parse_kind(const char *s)
{
    if (!strcmp(s, "enc")) return T5_ATTN_ENC_SELF;
    if (!strcmp(s, "dec")) return T5_ATTN_DEC_SELF;
    if (!strcmp(s, "cross")) return T5_ATTN_CROSS;
    return -1;
}

/* Options that are flags in render_options and not fields. */
typedef struct {
    int fmt, kind_set;
} parsed;

/* A usage error: the message, then EXIT_USAGE. */
#define BAD(...) return cli_error(CMD, __VA_ARGS__), EXIT_USAGE

/* One option; 0, or an exit status. */
static int render_option(int c, char **av, render_options *o, parsed *p)
{
    render_request *rq = &o->rq;
    size_t h;
    switch (c) {
    case 'm': return cli_parse_path(CMD, "--model", optarg, &o->model_dir) ? EXIT_USAGE : 0;
    case 'v':
        if (render_view_parse(optarg) < 0)
            BAD("--view wants enc, dec, cross, summary or model, not '%s'", optarg);
        rq->view = (render_view)render_view_parse(optarg);
        return 0;
    case 'k':
        if (parse_kind(optarg) < 0) BAD("--kind wants enc, dec or cross, not '%s'", optarg);
        rq->kind = (t5_attn_kind)parse_kind(optarg);
        p->kind_set = 1;
        return 0;
    case 'l': return cli_parse_size(CMD, "--layer", optarg, &rq->layer) ? EXIT_USAGE : 0;
    case 'H':
        if (!strcmp(optarg, "avg") || !strcmp(optarg, "mean")) return rq->head = -1, 0;
        if (cli_parse_size(CMD, "--head", optarg, &h)) return EXIT_USAGE;
        return rq->head = (long)h, 0;
    case 's':
        if (cli_parse_size(CMD, "--step", optarg, &rq->step)) return EXIT_USAGE;
        if (rq->step == 0) BAD("--step counts from 1, got 0");
        return 0;
    case 'f':
        p->fmt = render_format_parse(optarg);
        if (p->fmt < 0)
            BAD("--format wants ansi, text, svg, png, pdf, csv or json, not '%s'", optarg);
        return 0;
    case 'o': return cli_parse_path(CMD, "--out", optarg, &o->out) ? EXIT_USAGE : 0;
    case 'w': return cli_parse_range(CMD, "--width", optarg, 20, 10000, &o->width) ? EXIT_USAGE : 0;
    case 't': return cli_parse_path(CMD, "--theme", optarg, &o->theme_name) ? EXIT_USAGE : 0;
    case 'c':
        if (theme_mode_parse(optarg) < 0)
            BAD("--color wants auto, direct, 256, 8 or none, not '%s'", optarg);
        o->color = optarg;
        return 0;
    case 'n': rq->normalize = 1; return 0;
    case 'N':
        if (strcmp(optarg, "weights") && strcmp(optarg, "norms"))
            BAD("--measure wants weights or norms, not '%s'", optarg);
        rq->norms = !strcmp(optarg, "norms");
        return 0;
    case 'a': o->ascii = 1; return 0;
    case 'r': o->raw = 1; return 0;
    case 'T': o->target = optarg; return 0;
    case 'M':
        return cli_parse_range(CMD, "--max-len", optarg, 1, 1000, &o->max_len) ? EXIT_USAGE : 0;
    case 'h': usage(stdout); return -1; /* done: EXIT_OK */
    case ':': BAD("option '%s' needs a value", av[optind - 1]);
    default:
        cli_error(CMD, "unknown option '%s'", av[optind - 1]);
        usage(stderr);
        return EXIT_USAGE;
    }
}

/* Configuration problems of the theme chain, before the output. */
static void warn(const char *text)
{
    fprintf(stderr, "attnscope %s: configuration problems (defaults used):\n%s", CMD, text);
    if (text[0] && text[strlen(text) - 1] != '\n') fputc('\n', stderr);
}

/* An equation may start with '-' ("-x^2+4=0"): an argument that starts with
 * a single '-' and holds '=' is the equation, not options. The others go to
 * av (ac of them). */
static const char *split_dash_equation(int argc, char **argv, char **av, int *ac)
{
    const char *dash_eq = NULL;
    *ac = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i > 0 && a[0] == '-' && a[1] != '-' && a[1] && strchr(a, '=') && !dash_eq &&
            !(i > 1 && argv[i - 1][0] == '-' && argv[i - 1][1] != '-' && strlen(argv[i - 1]) == 2 &&
              strchr("mvklHsfowtcM", argv[i - 1][1])))
            dash_eq = a;
        else av[(*ac)++] = argv[i];
    }
    return dash_eq;
}

/* The equation and the format; 0, or an exit status. */
static int finish_options(render_options *o, parsed *p, int ac, char **av, const char *input)
{
    if (optind < ac) {
        if (input) BAD("one equation at a time (got '%s' and '%s')", input, av[optind]);
        input = av[optind++];
    }
    if (optind < ac)
        BAD("one equation at a time (got '%s' too); quote it if it has spaces", av[optind]);
    if (!input) BAD("no equation given (e.g. attnscope render 'x^2-5x+6=0')");
    if (p->kind_set && o->rq.view != RENDER_VIEW_SUMMARY && o->rq.view != RENDER_VIEW_MODEL)
        BAD("--kind is for --view summary and model; a single map's view names its kind");
    if (p->fmt < 0 && o->out) p->fmt = render_format_from_path(o->out);
    if (p->fmt < 0) p->fmt = isatty(STDOUT_FILENO) && !o->out ? RENDER_ANSI : RENDER_TEXT;
    if (!o->out && (p->fmt == RENDER_PNG || p->fmt == RENDER_PDF) && isatty(STDOUT_FILENO))
        BAD("a %s figure is binary: give --out FILE or redirect stdout",
            render_format_name((render_format)p->fmt));
    o->input = input;
    o->format = (render_format)p->fmt;
    return 0;
}

int cmd_render(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"view", required_argument, NULL, 'v'},
        {"kind", required_argument, NULL, 'k'},    {"layer", required_argument, NULL, 'l'},
        {"head", required_argument, NULL, 'H'},    {"step", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},  {"out", required_argument, NULL, 'o'},
        {"width", required_argument, NULL, 'w'},   {"theme", required_argument, NULL, 't'},
        {"color", required_argument, NULL, 'c'},   {"normalize", no_argument, NULL, 'n'},
        {"ascii", no_argument, NULL, 'a'},         {"raw", no_argument, NULL, 'r'},
        {"max-len", required_argument, NULL, 'M'}, {"help", no_argument, NULL, 'h'},
        {"target", required_argument, NULL, 'T'},  {"measure", required_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    char **av = xcalloc((size_t)argc + 1, sizeof *av);
    int ac, c, rc = 0;
    const char *dash_eq = split_dash_equation(argc, argv, av, &ac);
    render_options o = {.rq = {.view = RENDER_VIEW_CROSS, .kind = T5_ATTN_CROSS, .head = 0}};
    parsed p = {-1, 0};
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(ac, av, ":m:v:k:l:H:s:f:o:w:t:c:narh", opts, NULL)) != -1)
        rc = render_option(c, av, &o, &p);
    if (!rc) rc = finish_options(&o, &p, ac, av, dash_eq);
    if (rc) {
        free(av);
        return rc < 0 ? EXIT_OK : rc;
    }
    o.model_dir = cli_model_dir(o.model_dir);
    struct stat st;
    if (stat(o.model_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error(CMD, "no model folder at %s; give one with --model DIR (a folder with "
                       "config.json and model.safetensors) or set ATTNSCOPE_MODEL",
                  o.model_dir);
        free(av);
        return EXIT_FAIL;
    }
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    o.utf8 = cs && !strcmp(cs, "UTF-8");
    o.width = term_width(o.width);
    o.data_dir = cli_data_dir();
    const char *sys = getenv("ATTNSCOPE_SYSCONFIG");
    o.sys_config = sys && *sys ? sys : NULL;
    o.warn = warn;
    as_err err = {{0}};
    rc = render_run(&o, &err) ? EXIT_FAIL : EXIT_OK;
    if (rc && (o.out || !ferror(stdout)))  /* a failed write to stdout: main says so */
        cli_error(CMD, "%s", err.msg);
    free(av);
    return rc;
}
