/* run.c - render_run: what `attnscope render` does between its options and
 * its exit status: take the equation (canonical, checked by the exact
 * solver) or raw text, tokenise it with the model folder's tokenizer,
 * decode (greedy or teacher forced), build the maps, resolve the looks
 * (the UI's theme chain, the terminal's colour depth) and write one format,
 * to a stream or atomically to a file.
 *
 * Deliberately not here: option parsing, the terminal's width and locale
 * (src/cli/cmd_render.c); drawing (build.c, term.c, figure_out.c, data.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>
#include <term.h>

#include "analysis.h"
#include "hidden.h"
#include "model_kind.h"
#include "quad.h"
#include "render.h"

#define MAX_SRC RENDER_MAX_TOKENS
#define MAX_RAW_GEN RENDER_MAX_RAW_GEN

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

/* A rejected equation, with a caret under the column. */
static int parse_error(const char *text, const quad_parse_error *pe, as_err *err)
{
    char shown[512];
    size_t n = 0;
    for (const unsigned char *u = (const unsigned char *)text; *u && n < sizeof shown - 1; u++)
        shown[n++] = *u < 0x20 || *u == 0x7f ? '?' : (char)*u;
    shown[n] = '\0';
    return as_errf(err, "not an equation: column %zu: %s\n  %s\n  %*s^\n"
                        "  (use --raw to feed it to the model as plain text)",
                   pe->column, pe->reason, shown, (int)(pe->column ? pe->column - 1 : 0), "");
}

/* The model's input text: the canonical equation, or the raw text. */
static int make_source(const char *input, int raw, char *source, size_t cap, as_err *err)
{
    if (raw) {
        if (!*input) return as_errf(err, "empty text: nothing to decode");
        if (strlen(input) >= cap)
            return as_errf(err, "the text is %zu bytes; at most %zu", strlen(input), cap - 1);
        snprintf(source, cap, "%s", input);
        return 0;
    }
    quad_eq eq;
    quad_parse_error pe;
    if (quad_parse(input, &eq, &pe)) return parse_error(input, &pe, err);
    quad_solution sol;
    if (quad_solve(&eq, &sol, err)) return -1;
    quad_format_source(&sol.eq, source, cap);
    return 0;
}

/* Write the doc in o->format to o->stream or, atomically, to o->out. */
static int write_doc(const render_options *o, const render_doc *doc, const theme *th,
                     const theme_settings *set, as_err *err)
{
    theme_color_mode want = set->color;
    if (o->color) want = (theme_color_mode)theme_mode_parse(o->color);
    int sgr = 1;
    theme_color_mode mode = ansi_mode(want, &sgr);
    if (th->mono) mode = THEME_COLOR_NONE;
    int half = !o->ascii && set->half_blocks != 0;

    atomic_file af = {0};
    FILE *f = o->stream ? o->stream : stdout;
    if (o->out) {
        if (atomic_open(&af, o->out, err)) return -1;
        f = af.f;
    }
    int w;
    err->msg[0] = '\0';
    switch (o->format) {
    case RENDER_ANSI: w = render_term(f, doc, th, mode, o->utf8, half, sgr, o->width); break;
    case RENDER_TEXT: w = render_term(f, doc, th, THEME_COLOR_NONE, 0, 0, 0, o->width); break;
    case RENDER_CSV: w = render_csv(f, doc); break;
    case RENDER_JSON: w = render_json(f, doc); break;
    default:
        w = render_cairo(f, doc, th, o->format, err);
        an_fig_cleanup();
        break;
    }
    if (w) {
        if (!err->msg[0]) snprintf(err->msg, sizeof err->msg, "write error");
        as_errprefix(err, "%s", o->out ? o->out : "stdout");
        if (o->out) atomic_abort(&af);
        return -1;
    }
    return o->out ? atomic_commit(&af, err) : 0;
}

/* The looks: the UI's theme chain (command line, user's file, system file,
 * built-in), problems told to o->warn. */
static void resolve_look(const render_options *o, theme *th, theme_settings *set)
{
    theme_diag diag = {{0}, 0};
    char user_cfg[512], user_themes[512], data_themes[4096];
    snprintf(data_themes, sizeof data_themes, "%s/themes", o->data_dir ? o->data_dir : ".");
    const char *dirs[2] = {theme_user_themes_dir(user_themes, sizeof user_themes), data_themes};
    theme_resolve(th, set, o->theme_name, theme_user_config_path(user_cfg, sizeof user_cfg),
                  o->sys_config ? o->sys_config : "/etc/attnscope/config.cfg", dirs, 2, &diag);
    if (diag.count && o->warn) o->warn(diag.text);
}

/* Decode src (and the target) and draw: the model is loaded here. */
static int decode_and_draw(const render_options *o, const tok_vocab *tok, const char *source,
                           const int *src, size_t n_src, const int *tgt, size_t n_tgt,
                           size_t max_len, as_err *err)
{
    t5_model m;
    if (t5_load_mapped(&m, o->model_dir, err)) return -1;
    render_request rq = o->rq;
    rq.tok = tok;
    t5_run *run = t5_run_new(&m, n_src, max_len + 1);
    attn_trace *tr = trace_new(&m, n_src, max_len + 1);
    attn_trace *nt = NULL; /* --measure norms: the value-weighted maps drawn instead */
    an_normcap nc;
    render_doc doc;
    memset(&doc, 0, sizeof doc);
    long n;
    if (rq.norms) {
        nt = trace_new(&m, n_src, max_len + 1);
        an_normcap_init(&nc, &m, nt);
        n = an_trace_run_norms(tr, &nc, run, src, n_src, tgt, n_tgt, max_len, err);
    } else {
        n = trace_run(tr, run, src, n_src, tgt, n_tgt, max_len, err);
    }
    const char *slash = strrchr(o->model_dir, '/');
    const char *mname = slash && slash[1] ? slash + 1 : o->model_dir;
    int rc = -1;
    if (n < 0) {
        as_errprefix(err, "decoding failed");
    } else if (!render_build(&doc, nt ? nt : tr, &rq, mname, o->input, source, err)) {
        theme th;
        theme_settings set;
        resolve_look(o, &th, &set);
        rc = write_doc(o, &doc, &th, &set, err);
    }
    render_doc_free(&doc);
    if (nt) {
        an_normcap_free(&nc);
        trace_free(nt);
    }
    trace_free(tr);
    t5_run_free(run);
    t5_free(&m);
    return rc;
}

int render_run(const render_options *o, as_err *err)
{
    int raw = o->raw || model_dir_guess_raw(o->model_dir);
    static char source[8 * MAX_SRC]; /* bytes: MAX_SRC tokens of any tokenizer */
    if (make_source(o->input, raw, source, sizeof source, err)) return -1;
    size_t max_len = o->max_len ? o->max_len : raw ? MAX_RAW_GEN : QUAD_MAX_GEN;
    tok_vocab *tok = tok_open(o->model_dir, err);
    if (!tok) return -1;
    int src[MAX_SRC + 1], tgt[MAX_SRC + 1];
    size_t n_src = tok_encode(tok, source, src, MAX_SRC + 1);
    size_t n_tgt = o->target ? tok_encode(tok, o->target, tgt, MAX_SRC + 1) : 0;
    int rc;
    if (n_src == 0 || n_src > MAX_SRC + 1 || (o->target && (n_tgt == 0 || n_tgt > MAX_SRC))) {
        rc = as_errf(err, "the %s is %zu tokens long (%s, with eos); at most %d",
                     n_tgt > MAX_SRC ? "target" : "text", n_tgt > MAX_SRC ? n_tgt : n_src,
                     tok_name(tok), n_tgt > MAX_SRC ? MAX_SRC : MAX_SRC + 1);
    } else {
        if (o->target) max_len = n_tgt;
        rc = decode_and_draw(o, tok, source, src, n_src, o->target ? tgt : NULL, n_tgt, max_len,
                             err);
    }
    tok_free(tok);
    return rc;
}
