/* cmd_solve.c - `attnscope solve`: for each equation a person types, the
 * canonical source, the model's greedy-decoded solution, the true target,
 * right or wrong and where it first goes wrong (with a caret), and the
 * exact roots (also for equations outside the training distribution).
 *
 * Deliberately not here: attention (that is the UI's and dump's job). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "quad.h"
#include "t5.h"
#include "tokenizer.h"

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

/* Length of a valid UTF-8 sequence at s, 0 when invalid. */
static size_t u8len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return n;
}

/* Print prefix, then text[from..to) with control bytes and invalid UTF-8
 * shown as '?' (each one column), "..." marking cut ends. Returns the
 * number of columns printed before byte mark (when mark is in range). */
static size_t print_safe(const char *prefix, const char *text, size_t from, size_t to,
                         size_t mark, size_t *mark_col)
{
    size_t len = strlen(text), col = 0;
    fputs(prefix, stdout);
    if (from > 0) fputs("...", stdout), col += 3;
    for (size_t i = from; i < to;) {
        if (i <= mark && mark_col) *mark_col = col;
        const unsigned char *u = (const unsigned char *)text + i;
        size_t n = u8len(u);
        if (n == 0 || *u < 0x20 || *u == 0x7F || (n == 2 && u[0] == 0xC2 && u[1] < 0xA0)) {
            putchar('?');
            i += n ? n : 1;
        } else {
            fwrite(u, 1, n, stdout);
            i += n;
        }
        col++;
    }
    if (mark >= to && mark_col) *mark_col = col;
    if (to < len) fputs("...", stdout);
    putchar('\n');
    return col;
}

/* Characters (UTF-8 lead bytes; invalid bytes count) in the first n bytes. */
static size_t count_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n && s[i]; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Byte offset of the character `count` characters before / after byte at
 * (by UTF-8 lead bytes; invalid bytes count as characters). */
static size_t chars_back(const char *s, size_t at, size_t count)
{
    while (at > 0 && count > 0) {
        at--;
        if (((unsigned char)s[at] & 0xC0) != 0x80) count--;
    }
    return at;
}

static size_t chars_fwd(const char *s, size_t at, size_t count)
{
    size_t len = strlen(s);
    while (at < len && count > 0) {
        at++;
        while (at < len && ((unsigned char)s[at] & 0xC0) == 0x80) at++;
        count--;
    }
    return at;
}

/* A line of text (made safe; a long one cut to a window of about 140
 * characters around byte mark) and a caret line under mark. */
static void show_with_caret(const char *prefix, const char *text, size_t mark, const char *note)
{
    size_t from = 0, to = strlen(text), col = 0;
    if (to > 150) {  /* a window around the mark */
        from = chars_back(text, mark, 70);
        to = chars_fwd(text, mark, 70);
    }
    print_safe(prefix, text, from, to, mark, &col);
    printf("%*s^%s%s\n", (int)(strlen(prefix) + col), "", note ? " " : "", note ? note : "");
}

typedef struct {
    const char *input;
    quad_eq eq;
    int parsed;
    int solved;
    char source[QUAD_SOURCE_MAX];
    quad_solution sol;
    quad_parse_error perr;
    as_err serr;
} item;

int cmd_solve(int argc, char **argv)
{
    /* Options by hand rather than getopt_long: an equation may start with
     * '-' ("-x^2+4=0"), which getopt would take for options. */
    const char *model_dir = NULL;
    size_t max_len = QUAD_MAX_GEN;
    int no_model = 0;
    item *items = xcalloc((size_t)argc + 1, sizeof *items);
    size_t n = 0;
    int rc = EXIT_OK, only_eqs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_eqs || a[0] != '-' || (a[1] != '-' && a[1] != 'h' && a[1] != '\0')) {
            items[n++].input = a;
        } else if (!strcmp(a, "--")) {
            only_eqs = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(items);
            return EXIT_OK;
        } else if (!strcmp(a, "--no-model")) {
            no_model = 1;
        } else if (!strcmp(a, "--model") || !strncmp(a, "--model=", 8)) {
            if (a[7] == '=') model_dir = a + 8;
            else if (i + 1 < argc) model_dir = argv[++i];
            else goto missing;
        } else if (!strcmp(a, "--max-len") || !strncmp(a, "--max-len=", 10)) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) goto missing;
            if (cli_parse_size("solve", "--max-len", v, &max_len) < 0) goto usage_err;
            if (max_len == 0 || max_len > 4096) {
                cli_error("solve", "--max-len must be 1..4096, got %s", v);
                goto usage_err;
            }
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
    if (n == 0) {
        cli_error("solve", "no equation given (e.g. attnscope solve 'x^2-5x+6=0')");
        goto usage_err;
    }

    /* Parse and solve every equation first; the model is loaded only when
     * at least one is worth decoding. */
    size_t n_ok = 0, max_src = 1;
    for (size_t i = 0; i < n; i++) {
        item *it = &items[i];
        if (quad_parse(it->input, &it->eq, &it->perr) < 0) continue;
        it->parsed = 1;
        quad_format_source(&it->eq, it->source, sizeof it->source);
        it->solved = quad_solve(&it->eq, &it->sol, &it->serr) == 0;
        n_ok++;
        if (strlen(it->source) + 1 > max_src) max_src = strlen(it->source) + 1;
    }

    t5_model model;
    t5_run *run = NULL;
    tok_vocab *tok = NULL;
    int have_model = 0;
    if (!no_model && n_ok > 0) {
        as_err err;
        const char *dir = cli_model_dir(model_dir);
        if (t5_load_mapped(&model, dir, &err) < 0) {
            cli_error("solve", "cannot load the model: %s", err.msg);
            fprintf(stderr, "  (give one with --model DIR, or use --no-model for the exact "
                            "solutions only)\n");
            rc = EXIT_FAIL;
        } else if (!(tok = tok_open(dir, &err))) {
            /* a task model is ByT5 (no spiece.model); the interface keeps it general */
            cli_error("solve", "%s", err.msg);
            t5_free(&model);
            rc = EXIT_FAIL;
        } else {
            have_model = 1;
            run = t5_run_new(&model, max_src, max_len + 1);
        }
    }

    int *src_ids = xmalloc(max_src * sizeof *src_ids);
    int *out_ids = xmalloc((max_len + 1) * sizeof *out_ids);
    char *output = xmalloc(max_len + 1);
    for (size_t i = 0; i < n; i++) {
        item *it = &items[i];
        if (i) putchar('\n');
        if (!it->parsed) {
            size_t from = chars_back(it->input, it->perr.byte, 35);
            size_t to = chars_fwd(it->input, it->perr.byte, 35);
            size_t col = 0;
            print_safe("", it->input, from, to, it->perr.byte, &col);
            printf("%*s^\n", (int)col, "");
            printf("  rejected  column %zu: %s\n", it->perr.column, it->perr.reason);
            cli_error("solve", "equation %zu, column %zu: %s", i + 1, it->perr.column,
                      it->perr.reason);
            rc = EXIT_FAIL;
            continue;
        }
        print_safe("", it->input, 0, strlen(it->input) > 200 ? 200 : strlen(it->input), 0, NULL);
        printf("  source  %s", it->source);
        if (it->solved) printf("   (%s)\n", quad_kind_name(it->sol.kind));
        else putchar('\n');

        int have_out = 0, ended = 0;
        if (have_model) {
            as_err err;
            size_t ns = tok_encode(tok, it->source, src_ids, max_src);
            if (ns > max_src) ns = 0;
            long got = ns ? t5_greedy(run, src_ids, ns, out_ids, max_len, &err) : -1;
            if (got < 0) {
                cli_error("solve", "equation %zu: decoding failed: %s", i + 1,
                          ns ? err.msg : "source too long");
                rc = EXIT_FAIL;
            } else {
                tok_decode(tok, out_ids, (size_t)got, output, max_len + 1);
                ended = got > 0 && out_ids[got - 1] == tok_eos(tok);
                have_out = 1;
            }
        }
        if (!it->solved) {
            if (have_out) print_safe("  model   ", output, 0, strlen(output), 0, NULL);
            printf("  target  none: %s\n", it->serr.msg);
            cli_error("solve", "equation %zu: %s", i + 1, it->serr.msg);
            rc = EXIT_FAIL;
            continue;
        }
        const quad_solution *s = &it->sol;
        if (have_out) {
            long d = quad_first_diff(s->target, output);
            if (d < 0) {
                print_safe("  model   ", output, 0, strlen(output), 0, NULL);
                printf("  target  %s\n", s->target);
                printf("  right   solved exactly\n");
            } else {
                /* positions in characters: an out-of-distribution target
                 * holds multi-byte '√' */
                size_t pos = count_chars(output, (size_t)d) + 1;
                char note[96];
                snprintf(note, sizeof note, "first wrong character: %zu", pos);
                show_with_caret("  model   ", output, (size_t)d, note);
                printf("  target  %s\n", s->target);
                printf("  wrong   at character %zu of %zu; answer %s\n", pos,
                       count_chars(s->target, strlen(s->target)),
                       quad_answer_right(s->target, output) ? "right" : "wrong");
            }
        } else {
            printf("  target  %s\n", s->target);
        }
        if (have_out && !ended) printf("  note    the model did not stop within %zu tokens\n", max_len);
        printf("  roots   %s\n", s->roots_text);
        if (!s->in_distribution)
            printf("  note    outside the training distribution (%s): the target above is the\n"
                   "          exact solution written in the target's shape, not a training target\n",
                   s->d_square ? "roots are not integers" : "D is not a perfect square");
    }
    free(src_ids);
    free(out_ids);
    free(output);
    if (run) t5_run_free(run);
    if (have_model) t5_free(&model);
    tok_free(tok);
    free(items);
    return rc;

usage_err:
    free(items);
    return EXIT_USAGE;
}
