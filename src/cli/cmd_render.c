/* cmd_render.c - `attnscope render`: decode one equation (or any text, for
 * models not trained on the task) and write the UI's maps without a UI: to
 * a terminal in colour, as plain text, as an SVG/PNG/PDF figure or as
 * CSV/JSON numbers, to stdout or a file (written atomically).
 *
 * Deliberately not here: drawing (src/render/), the model (src/core/). */
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curses.h>
#include <term.h>

#include "analysis.h"
#include "cli.h"
#include "model_kind.h"
#include "quad.h"
#include "render.h"
#include "t5.h"
#include "theme.h"
#include "tokenizer.h"
#include "trace.h"

#define CMD "render"
#define MAX_SRC 1024
#define MAX_RAW_GEN 255

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
            QUAD_MAX_GEN, MAX_RAW_GEN);
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

/* The colour depth of ansi output: the setting, capped by what terminfo
 * says about TERM (asked without touching the terminal). *sgr gets 0 when
 * terminfo knows the terminal and it has no attributes at all (TERM=dumb):
 * then no escape sequence is written. */
static theme_color_mode ansi_mode(theme_color_mode want, int *sgr)
{
    int n_colors = -1, rgb = 0, errret = 0;
    const char *term = getenv("TERM");
    *sgr = 1;
    if (term && *term && setupterm(term, -1, &errret) == OK) {
        n_colors = tigetnum("colors");
        int f = tigetflag("RGB");
        rgb = f > 0 || tigetnum("RGB") > 0;
        const char *sgr0 = tigetstr("sgr0");
        if (sgr0 == NULL || sgr0 == (char *)-1) *sgr = 0;
        del_curterm(cur_term);
        cur_term = NULL;
    }
    return theme_detect_mode(getenv("NO_COLOR"), getenv("COLORTERM"), n_colors, rgb, want);
}

static int parse_kind(const char *s)
{
    if (!strcmp(s, "enc")) return T5_ATTN_ENC_SELF;
    if (!strcmp(s, "dec")) return T5_ATTN_DEC_SELF;
    if (!strcmp(s, "cross")) return T5_ATTN_CROSS;
    return -1;
}

/* Print a rejected equation with a caret under the column. */
static void show_parse_error(const char *text, const quad_parse_error *pe)
{
    cli_error(CMD, "not an equation: column %zu: %s", pe->column, pe->reason);
    fputs("  ", stderr);
    for (const unsigned char *u = (const unsigned char *)text; *u; u++)
        fputc(*u < 0x20 || *u == 0x7f ? '?' : *u, stderr);
    fprintf(stderr, "\n  %*s^\n", (int)(pe->column ? pe->column - 1 : 0), "");
    fprintf(stderr, "  (use --raw to feed it to the model as plain text)\n");
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
        {"target", required_argument, NULL, 'T'},  {NULL, 0, NULL, 0},
    };
    /* An equation may start with '-' ("-x^2+4=0"): an argument that starts
       with a single '-' and holds '=' is the equation, not options. */
    char **av = xcalloc((size_t)argc + 1, sizeof *av);
    const char *dash_eq = NULL;
    int ac = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i > 0 && a[0] == '-' && a[1] != '-' && a[1] && strchr(a, '=') && !dash_eq &&
            !(i > 1 && argv[i - 1][0] == '-' && argv[i - 1][1] != '-' && strlen(argv[i - 1]) == 2 &&
              strchr("mvklHsfowtcM", argv[i - 1][1])))
            dash_eq = a;
        else av[ac++] = argv[i];
    }
    render_request rq = {.view = RENDER_VIEW_CROSS, .kind = T5_ATTN_CROSS, .head = 0};
    const char *model_dir = NULL, *out = NULL, *theme_name = NULL, *color = NULL;
    const char *target = NULL;
    tok_vocab *tok = NULL;
    int fmt = -1, raw = 0, ascii = 0, kind_set = 0;
    size_t width = 0, max_len = 0;
    int rc = EXIT_USAGE;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(ac, av, ":m:v:k:l:H:s:f:o:w:t:c:narh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_dir = optarg; break;
        case 'v':
            if (render_view_parse(optarg) < 0) {
                cli_error(CMD, "--view wants enc, dec, cross, summary or model, not '%s'", optarg);
                goto done;
            }
            rq.view = (render_view)render_view_parse(optarg);
            break;
        case 'k':
            if (parse_kind(optarg) < 0) {
                cli_error(CMD, "--kind wants enc, dec or cross, not '%s'", optarg);
                goto done;
            }
            rq.kind = (t5_attn_kind)parse_kind(optarg);
            kind_set = 1;
            break;
        case 'l':
            if (cli_parse_size(CMD, "--layer", optarg, &rq.layer)) goto done;
            break;
        case 'H':
            if (!strcmp(optarg, "avg") || !strcmp(optarg, "mean")) {
                rq.head = -1;
            } else {
                size_t h;
                if (cli_parse_size(CMD, "--head", optarg, &h)) goto done;
                rq.head = (long)h;
            }
            break;
        case 's':
            if (cli_parse_size(CMD, "--step", optarg, &rq.step)) goto done;
            if (rq.step == 0) {
                cli_error(CMD, "--step counts from 1, got 0");
                goto done;
            }
            break;
        case 'f':
            fmt = render_format_parse(optarg);
            if (fmt < 0) {
                cli_error(CMD, "--format wants ansi, text, svg, png, pdf, csv or json, not '%s'",
                          optarg);
                goto done;
            }
            break;
        case 'o': out = optarg; break;
        case 'w':
            if (cli_parse_size(CMD, "--width", optarg, &width)) goto done;
            if (width < 20 || width > 10000) {
                cli_error(CMD, "--width must be 20..10000, got %s", optarg);
                goto done;
            }
            break;
        case 't': theme_name = optarg; break;
        case 'c':
            if (theme_mode_parse(optarg) < 0) {
                cli_error(CMD, "--color wants auto, direct, 256, 8 or none, not '%s'", optarg);
                goto done;
            }
            color = optarg;
            break;
        case 'n': rq.normalize = 1; break;
        case 'a': ascii = 1; break;
        case 'r': raw = 1; break;
        case 'T': target = optarg; break;
        case 'M':
            if (cli_parse_size(CMD, "--max-len", optarg, &max_len)) goto done;
            if (max_len == 0 || max_len > 1000) {
                cli_error(CMD, "--max-len must be 1..1000, got %s", optarg);
                goto done;
            }
            break;
        case 'h':
            usage(stdout);
            rc = EXIT_OK;
            goto done;
        case ':': cli_error(CMD, "option '%s' needs a value", av[optind - 1]); goto done;
        default:
            cli_error(CMD, "unknown option '%s'", av[optind - 1]);
            usage(stderr);
            goto done;
        }
    }
    const char *input = dash_eq;
    if (optind < ac) {
        if (input) {
            cli_error(CMD, "one equation at a time (got '%s' and '%s')", input, av[optind]);
            goto done;
        }
        input = av[optind++];
    }
    if (optind < ac) {
        cli_error(CMD, "one equation at a time (got '%s' too); quote it if it has spaces",
                  av[optind]);
        goto done;
    }
    if (!input) {
        cli_error(CMD, "no equation given (e.g. attnscope render 'x^2-5x+6=0')");
        goto done;
    }
    if (kind_set && rq.view != RENDER_VIEW_SUMMARY && rq.view != RENDER_VIEW_MODEL) {
        cli_error(CMD, "--kind is for --view summary and model; a single map's view names its kind");
        goto done;
    }
    if (fmt < 0 && out) fmt = render_format_from_path(out);
    if (fmt < 0) fmt = isatty(STDOUT_FILENO) && !out ? RENDER_ANSI : RENDER_TEXT;
    if (!out && (fmt == RENDER_PNG || fmt == RENDER_PDF) && isatty(STDOUT_FILENO)) {
        cli_error(CMD, "a %s figure is binary: give --out FILE or redirect stdout",
                  render_format_name((render_format)fmt));
        goto done;
    }

    /* From here on problems are failed runs, not usage. */
    rc = EXIT_FAIL;
    model_dir = cli_model_dir(model_dir);
    struct stat st;
    if (stat(model_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error(CMD, "no model folder at %s; give one with --model DIR (a folder with "
                       "config.json and model.safetensors) or set ATTNSCOPE_MODEL",
                  model_dir);
        goto done;
    }
    if (!raw) raw = model_dir_guess_raw(model_dir);
    static char source[8 * MAX_SRC]; /* bytes: MAX_SRC tokens of any tokenizer */
    if (!raw) {
        quad_eq eq;
        quad_parse_error pe;
        if (quad_parse(input, &eq, &pe)) {
            show_parse_error(input, &pe);
            goto done;
        }
        as_err e = {{0}};
        quad_solution sol;
        if (quad_solve(&eq, &sol, &e)) {
            cli_error(CMD, "%s", e.msg);
            goto done;
        }
        quad_format_source(&sol.eq, source, sizeof source);
    } else {
        if (!*input) {
            cli_error(CMD, "empty text: nothing to decode");
            goto done;
        }
        if (strlen(input) >= sizeof source) {
            cli_error(CMD, "the text is %zu bytes; at most %zu", strlen(input), sizeof source - 1);
            goto done;
        }
        snprintf(source, sizeof source, "%s", input);
    }
    if (!max_len) max_len = raw ? MAX_RAW_GEN : QUAD_MAX_GEN;

    t5_model m;
    as_err err = {{0}};
    tok = tok_open(model_dir, &err);
    if (!tok) {
        cli_error(CMD, "%s", err.msg);
        goto done;
    }
    int src[MAX_SRC + 1], tgt[MAX_SRC + 1];
    size_t n_src = tok_encode(tok, source, src, MAX_SRC + 1);
    size_t n_tgt = target ? tok_encode(tok, target, tgt, MAX_SRC + 1) : 0;
    if (n_src == 0 || n_src > MAX_SRC + 1 || (target && (n_tgt == 0 || n_tgt > MAX_SRC))) {
        cli_error(CMD, "the %s is %zu tokens long (%s, with eos); at most %d",
                  n_tgt > MAX_SRC ? "target" : "text", n_tgt > MAX_SRC ? n_tgt : n_src,
                  tok_name(tok), n_tgt > MAX_SRC ? MAX_SRC : MAX_SRC + 1);
        goto done;
    }
    if (t5_load_mapped(&m, model_dir, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto done;
    }
    if (target) max_len = n_tgt;
    rq.tok = tok;
    t5_run *run = t5_run_new(&m, n_src, max_len + 1);
    attn_trace *tr = trace_new(&m, n_src, max_len + 1);
    render_doc doc;
    memset(&doc, 0, sizeof doc);
    long n = trace_run(tr, run, src, n_src, target ? tgt : NULL, n_tgt, max_len, &err);
    const char *slash = strrchr(model_dir, '/');
    const char *mname = slash && slash[1] ? slash + 1 : model_dir;
    if (n < 0) {
        cli_error(CMD, "decoding failed: %s", err.msg);
    } else if (render_build(&doc, tr, &rq, mname, input, source, &err)) {
        cli_error(CMD, "%s", err.msg);
    } else {
        /* the looks: the UI's theme chain */
        theme th;
        theme_settings set;
        theme_diag diag = {{0}, 0};
        char user_cfg[512], user_themes[512], data_themes[4096];
        const char *sys = getenv("ATTNSCOPE_SYSCONFIG");
        snprintf(data_themes, sizeof data_themes, "%s/themes", cli_data_dir());
        const char *dirs[2] = {theme_user_themes_dir(user_themes, sizeof user_themes),
                               data_themes};
        theme_resolve(&th, &set, theme_name,
                      theme_user_config_path(user_cfg, sizeof user_cfg),
                      sys && *sys ? sys : "/etc/attnscope/config.cfg", dirs, 2, &diag);
        if (diag.count) {
            fprintf(stderr, "attnscope %s: configuration problems (defaults used):\n%s", CMD,
                    diag.text);
            if (diag.text[0] && diag.text[strlen(diag.text) - 1] != '\n') fputc('\n', stderr);
        }
        setlocale(LC_CTYPE, "");
        const char *cs = nl_langinfo(CODESET);
        int utf8 = cs && !strcmp(cs, "UTF-8");
        theme_color_mode want = set.color;
        if (color) want = (theme_color_mode)theme_mode_parse(color);
        int sgr = 1;
        theme_color_mode mode = ansi_mode(want, &sgr);
        if (th.mono) mode = THEME_COLOR_NONE;
        int half = !ascii && set.half_blocks != 0;

        atomic_file af = {0};
        FILE *f = stdout;
        int ok = 1;
        if (out) {
            if (atomic_open(&af, out, &err)) {
                cli_error(CMD, "%s", err.msg);
                ok = 0;
            } else {
                f = af.f;
            }
        }
        if (ok) {
            int w;
            switch ((render_format)fmt) {
            case RENDER_ANSI:
                w = render_term(f, &doc, &th, mode, utf8, half, sgr, term_width(width));
                break;
            case RENDER_TEXT:
                w = render_term(f, &doc, &th, THEME_COLOR_NONE, 0, 0, 0, term_width(width));
                break;
            case RENDER_CSV: w = render_csv(f, &doc); break;
            case RENDER_JSON: w = render_json(f, &doc); break;
            default:
                w = render_cairo(f, &doc, &th, (render_format)fmt, &err);
                an_fig_cleanup();
                break;
            }
            if (w) {
                if (!err.msg[0]) snprintf(err.msg, sizeof err.msg, "write error");
                cli_error(CMD, "%s: %s", out ? out : "stdout", err.msg);
                if (out) atomic_abort(&af);
            } else if (out && atomic_commit(&af, &err)) {
                cli_error(CMD, "%s", err.msg);
            } else {
                rc = EXIT_OK;
            }
        }
    }
    render_doc_free(&doc);
    trace_free(tr);
    t5_run_free(run);
    t5_free(&m);
done:
    tok_free(tok);
    free(av);
    return rc;
}
