/* app.c - the UI program: its state, decoding an entry into a trace, the
 * one loop that reads keys (and KEY_RESIZE) and hands them to the views, and
 * the --bench-ui replay that times redraws inside the program.
 *
 * Deliberately not here: drawing (views.c), colours (screen.c), the pure
 * layout (layout.c). The fatal path calls endwin() before any message. */
#include <curses.h>
#include <errno.h>
#include <stdarg.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <unistd.h>

#include "byt5.h"
#include "cli.h"
#include "model_kind.h"
#include "tui_int.h"

#define EXAMPLE_EQUATION "7x^2+3556x+451612=0"

/* ---- maps ------------------------------------------------------------------ */

const char *tui_kind_name(t5_attn_kind k)
{
    switch (k) {
    case T5_ATTN_ENC_SELF: return "encoder self";
    case T5_ATTN_DEC_SELF: return "decoder self";
    case T5_ATTN_CROSS: return "cross";
    }
    return "?";
}

size_t tui_n_layers(const tui_app *a, t5_attn_kind kind)
{
    return kind == T5_ATTN_ENC_SELF ? a->tr->n_enc_layers : a->tr->n_dec_layers;
}

void tui_map_size(const tui_app *a, t5_attn_kind kind, size_t *rows, size_t *cols)
{
    size_t stride;
    *rows = *cols = 0;
    if (!a->have_run) return;
    trace_map(a->tr, kind, 0, 0, rows, cols, &stride);
}

const float *tui_map(tui_app *a, t5_attn_kind kind, size_t layer, size_t head, size_t *stride)
{
    size_t rows, cols, st;
    const attn_trace *t = a->tr;
    if (head < t->n_heads) {
        const float *p = trace_map(t, kind, layer, head, &rows, &cols, &st);
        *stride = st;
        return p;
    }
    /* The mean over heads, into the scratch buffer (dense rows). */
    const float *h0 = trace_map(t, kind, layer, 0, &rows, &cols, &st);
    const float *h1 = t->n_heads > 1 ? trace_map(t, kind, layer, 1, &rows, &cols, &st) : h0;
    if (!h0) return NULL;
    tui_head_mean(h0, t->n_heads, (size_t)(h1 - h0), rows, cols, st, a->buf);
    *stride = cols;
    return a->buf;
}

size_t tui_live_rows(const tui_app *a, t5_attn_kind kind)
{
    size_t rows, cols;
    tui_map_size(a, kind, &rows, &cols);
    if (kind == T5_ATTN_ENC_SELF) return rows;
    return a->step + 1 < rows ? a->step + 1 : rows;
}

const char *tui_label(const tui_app *a, int id, char *buf, size_t cap)
{
    return tok_label(a->tok, id, buf, cap);
}

const char *tui_short_label(const tui_app *a, int id, char *buf, size_t cap)
{
    if (!a->spm) return tui_token_short(id, buf, cap);
    char piece[64];
    const char *p = tok_label(a->tok, id, piece, sizeof piece);
    if (!strncmp(p, "\xe2\x96\x81", 3) && p[3]) p += 3; /* the word-start mark */
    size_t n = 1;
    while ((p[n] & 0xC0) == 0x80) n++;
    if (p[0] == '<' && p[1]) n = 1; /* <pad> </s> <extra_id_N>: '<' */
    snprintf(buf, cap, "%.*s", (int)n, p);
    return buf;
}

const char *const *tui_row_names(const tui_app *a, t5_attn_kind kind)
{
    if (!a->spm) return NULL;
    return kind == T5_ATTN_ENC_SELF ? a->names_src : a->names_gen;
}

const char *tui_token_text(const tui_app *a, int id, char *buf, size_t cap)
{
    if (!cap) return buf;
    if (!a->spm && id >= BYT5_OFFSET && id < BYT5_OFFSET + 256) {
        buf[0] = cap > 1 ? (char)(id - BYT5_OFFSET) : '\0';
        buf[cap > 1] = '\0';
        return buf;
    }
    char piece[96];
    const char *p = tok_label(a->tok, id, piece, sizeof piece);
    size_t n = 0;
    while (*p && n + 1 < cap) {
        if (!strncmp(p, "\xe2\x96\x81", 3)) { /* '▁' reads as a space */
            buf[n++] = ' ';
            p += 3;
        } else {
            buf[n++] = *p++;
        }
    }
    buf[n] = '\0';
    return buf;
}

/* Decoder rows are labelled with the token they wrote (row i fed tgt[i]
   and produced gen[i]): "what the model attended to when writing this". */
const int *tui_row_tokens(const tui_app *a, t5_attn_kind kind)
{
    return kind == T5_ATTN_ENC_SELF ? a->tr->src : a->gen;
}

const int *tui_col_tokens(const tui_app *a, t5_attn_kind kind)
{
    return kind == T5_ATTN_DEC_SELF ? a->tr->tgt : a->tr->src;
}

/* ---- decoding -------------------------------------------------------------- */

static void set_msg(tui_app *a, int error, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_msg(tui_app *a, int error, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    a->msg_error = error;
    a->err_col = col;
}

int tui_submit(tui_app *a, int force_raw)
{
    const char *text = a->input;
    char source[TUI_INPUT_MAX];
    quad_solution sol;
    int quad_ok = 0;
    int raw = a->raw || force_raw;
    if (!raw) {
        quad_eq eq;
        quad_parse_error pe;
        if (quad_parse(text, &eq, &pe)) {
            set_msg(a, 1, pe.column, "column %zu: %s  (Ctrl-R runs it as raw text)", pe.column,
                    pe.reason);
            return -1;
        }
        as_err err = {{0}};
        if (quad_solve(&eq, &sol, &err)) {
            set_msg(a, 1, 0, "%s", err.msg);
            return -1;
        }
        quad_format_source(&sol.eq, source, sizeof source);
        quad_ok = 1;
    } else {
        if (!*text) {
            set_msg(a, 1, 1, "column 1: type some text first");
            return -1;
        }
        snprintf(source, sizeof source, "%s", text);
    }
    int src[TUI_MAX_SRC];
    size_t n_src = tok_encode(a->tok, source, src, TUI_MAX_SRC);
    if (n_src == 0 || n_src > TUI_MAX_SRC) {
        if (n_src)
            set_msg(a, 1, 0, "the input is %zu tokens with eos; the UI takes %d at most", n_src,
                    TUI_MAX_SRC);
        else
            set_msg(a, 1, 0, "the tokenizer refused the text");
        return -1;
    }
    size_t def_len = raw ? TUI_DEFAULT_RAW_GEN : QUAD_MAX_GEN;
    size_t max_len = a->max_len ? a->max_len : def_len;
    if (max_len > TUI_MAX_GEN - 1) max_len = TUI_MAX_GEN - 1;
    /* A target: the decoder is fed it (teacher forcing) instead of its own
       output, every row predicting the target's next token. */
    int tgt[TUI_MAX_GEN];
    size_t n_tgt = 0;
    if (a->target[0]) {
        n_tgt = tok_encode(a->tok, a->target, tgt, TUI_MAX_GEN - 1);
        if (n_tgt == 0 || n_tgt > TUI_MAX_GEN - 1) {
            set_msg(a, 1, 0, "the target is %s (%d tokens at most; T changes it)",
                    n_tgt ? "too long" : "refused by the tokenizer", TUI_MAX_GEN - 1);
            return -1;
        }
    }
    as_err err = {{0}};
    double t0 = util_now();
    long n = trace_run(a->tr, a->run, src, n_src, n_tgt ? tgt : NULL, n_tgt, max_len, &err);
    a->decode_ms = (util_now() - t0) * 1e3;
    a->serial++;
    if (n < 0) {
        set_msg(a, 1, 0, "decoding failed: %s", err.msg);
        a->have_run = 0;
        return -1;
    }
    a->forced = n_tgt > 0;
    a->have_run = 1;
    for (int k = 0; k < 3; k++) /* classes of the new maps: computed when first shown */
        memset(a->cls_done[k], 0, tui_n_layers(a, (t5_attn_kind)k) * a->tr->n_heads);
    a->quad_ok = quad_ok;
    if (quad_ok) a->sol = sol;
    a->raw = raw;
    snprintf(a->shown, sizeof a->shown, "%s", text);
    snprintf(a->source, sizeof a->source, "%s", source);
    a->n_gen = (size_t)n;
    a->n_rows = a->tr->n_rows;
    /* The output text, and where each generated token starts in it. */
    size_t len = 0;
    for (size_t i = 0; i < a->n_gen; i++) a->gen[i] = a->tr->tgt[i + 1];
    if (!a->spm) {
        for (size_t i = 0; i < a->n_gen; i++) {
            int id = a->gen[i];
            a->gen_off[i] = len;
            if (id >= BYT5_OFFSET && id < BYT5_OFFSET + 256 && len + 1 < sizeof a->output)
                a->output[len++] = (char)(id - BYT5_OFFSET);
        }
        a->output[len] = '\0';
    } else {
        /* Pieces: token i starts where the decoded prefix of i tokens ends. */
        for (size_t i = 0; i <= a->n_gen; i++)
            a->gen_off[i] = tok_decode(a->tok, a->gen, i, a->output, sizeof a->output);
        len = a->gen_off[a->n_gen];
        for (size_t i = 0; i < a->n_gen; i++)
            if (a->gen_off[i] > len) a->gen_off[i] = len;
        /* Row names "index piece" (the grid shows names as they are). */
        char piece[24];
        for (size_t i = 0; i < TUI_MAX_SRC && i < a->tr->n_src; i++) {
            snprintf(a->lab_src[i], sizeof a->lab_src[i], "%zu %s", i,
                     tok_label(a->tok, a->tr->src[i], piece, sizeof piece));
            a->names_src[i] = a->lab_src[i];
        }
        for (size_t i = 0; i < a->n_gen; i++) {
            snprintf(a->lab_gen[i], sizeof a->lab_gen[i], "%zu %s", i,
                     tok_label(a->tok, a->gen[i], piece, sizeof piece));
            a->names_gen[i] = a->lab_gen[i];
        }
    }
    a->gen_off[a->n_gen] = len;
    a->first_wrong = -2;
    if (quad_ok && sol.in_distribution && !a->forced)
        a->first_wrong = quad_first_diff(sol.target, a->output);
    a->step = a->n_gen ? a->n_gen - 1 : 0;
    a->playing = 0;
    if (a->forced)
        set_msg(a, 0, 0, "teacher forced on a target of %zu tokens in %.0f ms, %zu source tokens",
                a->n_gen, a->decode_ms, n_src);
    else if (quad_ok && strcmp(text, source))
        set_msg(a, 0, 0, "read as %s   (decoded in %.0f ms)", source, a->decode_ms);
    else
        set_msg(a, 0, 0, "decoded %zu tokens in %.0f ms from %zu source tokens%s", a->n_gen,
                a->decode_ms, n_src,
                a->n_gen >= max_len ? " (the output length limit; O changes it)" : "");
    /* Keep the cursors inside the new maps. */
    for (int k = 0; k < 3; k++) {
        size_t rows, cols;
        tui_map_size(a, (t5_attn_kind)k, &rows, &cols);
        if (a->cur_r[k] >= rows) a->cur_r[k] = rows ? rows - 1 : 0;
        if (a->cur_c[k] >= cols) a->cur_c[k] = cols ? cols - 1 : 0;
    }
    if (a->kind != T5_ATTN_ENC_SELF) a->cur_r[a->kind] = a->step;
    return 0;
}

/* One head's class, as an_classify_trace would give it, computed the first
   time it is asked for after a decode (a redraw asks for one head, the model
   view for one kind's; classifying every head at each Enter cost ~10 ms). */
const an_head_class *tui_head_class(tui_app *a, t5_attn_kind kind, size_t layer, size_t head)
{
    if (!a->have_run || (unsigned)kind > 2 || layer >= tui_n_layers(a, kind) ||
        head >= a->tr->n_heads)
        return NULL;
    size_t i = layer * a->tr->n_heads + head;
    if (!a->cls_done[kind][i]) {
        size_t rows, cols, stride;
        const float *map = trace_map(a->tr, kind, layer, head, &rows, &cols, &stride);
        if (!map) return NULL;
        an_head_stats st;
        memset(&st, 0, sizeof st);
        an_stats_add_map(&st, kind, map, rows, cols, stride, tui_col_tokens(a, kind));
        an_classify(&st, &a->cls[kind][i]);
        a->cls_done[kind][i] = 1;
    }
    return &a->cls[kind][i];
}

void tui_rerun(tui_app *a)
{
    if (!a->have_run) {
        tui_submit(a, 0);
        return;
    }
    char keep[TUI_INPUT_MAX];
    size_t keep_len = a->input_len, keep_pos = a->input_pos;
    snprintf(keep, sizeof keep, "%s", a->input);
    snprintf(a->input, sizeof a->input, "%s", a->shown);
    size_t step = a->step;
    int was_last = a->step + 1 >= a->n_gen;
    tui_submit(a, !a->quad_ok);
    if (!was_last && step < a->n_gen) a->step = step;
    snprintf(a->input, sizeof a->input, "%s", keep);
    a->input_len = keep_len;
    a->input_pos = keep_pos;
}

void tui_toggle_ablation(tui_app *a, t5_attn_kind kind, size_t layer, size_t head)
{
    an_abl_mode m = an_iv_toggle(&a->iv, kind, layer, head, AN_ABL_ZERO);
    tui_rerun(a);
    set_msg(a, 0, 0, "%s layer %zu head %zu %s; %zu head%s ablated (X clears)",
            tui_kind_name(kind), layer, head, m ? "zeroed" : "restored", an_iv_count(&a->iv),
            an_iv_count(&a->iv) == 1 ? "" : "s");
}

void tui_clear_ablation(tui_app *a)
{
    an_iv_clear_heads(&a->iv);
    tui_rerun(a);
    set_msg(a, 0, 0, "no head ablated");
}

/* ---- setup ---------------------------------------------------------------- */

static void load_theme(tui_app *a, const char *name, theme_diag *d)
{
    theme_resolve(&a->th, &a->set, name, a->user_cfg[0] ? a->user_cfg : NULL, a->sys_cfg,
                  a->theme_dirs, 3, d);
}

static void app_init(tui_app *a, const tui_options *o, const t5_model *m, tok_vocab *tok)
{
    memset(a, 0, sizeof *a);
    a->m = m;
    a->tok = tok;
    a->model_dir = o->model_dir;
    a->run = t5_run_new(m, TUI_MAX_SRC, TUI_MAX_GEN);
    a->tr = trace_new(m, TUI_MAX_SRC, TUI_MAX_GEN);
    an_iv_init(&a->iv, m);
    for (int k = 0; k < 3; k++) {
        size_t n = tui_n_layers(a, (t5_attn_kind)k) * a->tr->n_heads;
        a->cls[k] = xcalloc(n, sizeof *a->cls[k]);
        a->cls_done[k] = xcalloc(n, 1);
    }
    t5_run_set_hook(a->run, an_hook, &a->iv);
    size_t big = TUI_MAX_SRC > TUI_MAX_GEN ? TUI_MAX_SRC : TUI_MAX_GEN;
    a->buf = xcalloc(big * big, sizeof(float));
    a->buf2 = xcalloc(big * big, sizeof(float));
    a->spm = tok_kind_of(a->tok) == TOK_SPM;
    a->raw = o->raw || a->spm || model_dir_guess_raw(o->model_dir);
    a->lab_src = xcalloc(TUI_MAX_SRC, sizeof *a->lab_src);
    a->lab_gen = xcalloc(TUI_MAX_GEN, sizeof *a->lab_gen);
    a->names_src = xcalloc(TUI_MAX_SRC, sizeof *a->names_src);
    a->names_gen = xcalloc(TUI_MAX_GEN, sizeof *a->names_gen);
    a->kind = T5_ATTN_CROSS;
    a->normalize = 0;
    for (int k = 0; k < 3; k++) a->zoom[k] = 1;
    a->zbuf = xcalloc(big * big, sizeof(float));
    size_t max_layers = a->tr->n_enc_layers > a->tr->n_dec_layers ? a->tr->n_enc_layers
                                                                  : a->tr->n_dec_layers;
    a->sumbuf = xcalloc(max_layers * big, sizeof(float));
    a->thumb_max = xcalloc(max_layers * a->tr->n_heads, sizeof(float));
    a->thumb_done = xcalloc(max_layers * a->tr->n_heads, 1);
    a->ztok_r = xcalloc(big, sizeof(int));
    a->ztok_c = xcalloc(big, sizeof(int));
    a->zlab = xcalloc(big, sizeof *a->zlab);
    a->znames = xcalloc(big, sizeof *a->znames);
    a->max_len = o->max_len;
    if (o->target) snprintf(a->target, sizeof a->target, "%s", o->target);

    if (!theme_user_config_path(a->user_cfg, sizeof a->user_cfg)) a->user_cfg[0] = '\0';
    /* The system's file: $ATTNSCOPE_SYSCONFIG, else /etc/attnscope/config.cfg,
       else config.cfg in the data folder (DATADIR when installed). */
    const char *sys = getenv("ATTNSCOPE_SYSCONFIG");
    if (sys && *sys) snprintf(a->sys_cfg, sizeof a->sys_cfg, "%s", sys);
    else if (access("/etc/attnscope/config.cfg", R_OK) == 0)
        snprintf(a->sys_cfg, sizeof a->sys_cfg, "/etc/attnscope/config.cfg");
    else snprintf(a->sys_cfg, sizeof a->sys_cfg, "%.400s/config.cfg", cli_data_dir());
    static char data_themes[4096];
    snprintf(data_themes, sizeof data_themes, "%s/themes", cli_data_dir());
    a->theme_dirs[0] = theme_user_themes_dir(a->user_themes, sizeof a->user_themes);
    a->theme_dirs[1] = data_themes;
    a->theme_dirs[2] = NULL;
    a->n_themes = theme_list(a->theme_dirs, 2, a->themes, TUI_MAX_THEMES);

    theme_diag d = {{0}, 0};
    load_theme(a, o->theme, &d);
    a->want_mode = a->set.color;
    if (o->color) {
        int mm = theme_mode_parse(o->color);
        if (mm >= 0) a->want_mode = (theme_color_mode)mm;
    }
    a->half_ok = a->set.half_blocks != 0 && !o->ascii;
    if (d.count) {
        /* Show the first problem; the rest are in the same file usually. */
        char first[400];
        snprintf(first, sizeof first, "%.399s", d.text);
        char *nl = strchr(first, '\n');
        if (nl) *nl = '\0';
        snprintf(a->cfg_msg, sizeof a->cfg_msg, "config: %s%s", first,
                 d.count > 1 ? " (and more)" : "");
    }
    snprintf(a->input, sizeof a->input, "%s", o->equation ? o->equation : EXAMPLE_EQUATION);
    a->input_len = a->input_pos = strlen(a->input);
}

static void app_free(tui_app *a)
{
    for (int k = 0; k < 3; k++) {
        free(a->cls[k]);
        free(a->cls_done[k]);
    }
    free(a->lab_src);
    free(a->lab_gen);
    free(a->names_src);
    free(a->names_gen);
    tok_free(a->tok);
    an_iv_free(&a->iv);
    trace_free(a->tr);
    t5_run_free(a->run);
    free(a->buf);
    free(a->buf2);
    free(a->zbuf);
    free(a->sumbuf);
    free(a->thumbs);
    free(a->thumb_max);
    free(a->thumb_done);
    free(a->ztok_r);
    free(a->ztok_c);
    free(a->zlab);
    free(a->znames);
}

void tui_cycle_theme(tui_app *a)
{
    if (a->n_themes == 0) return;
    size_t cur = 0;
    for (size_t i = 0; i < a->n_themes; i++)
        if (!strcmp(a->themes[i], a->set.theme)) cur = i;
    const char *next = a->themes[(cur + 1) % a->n_themes];
    theme_diag d = {{0}, 0};
    theme_color_mode keep = a->want_mode;
    load_theme(a, next, &d);
    a->want_mode = keep;
    tui_colors_init(a);
    if (d.count) set_msg(a, 1, 0, "theme: %s", d.text);
    else set_msg(a, 0, 0, "theme %s", a->th.name);
}

/* ---- the loop ------------------------------------------------------------- */

/* Read one key: characters as code points, function keys with TUI_FKEY;
 * ERR on timeout. */
static int read_key(const tui_app *a)
{
    /* Bytes, decoded here: ncurses' get_wch waits for ever on a byte the
       locale cannot decode (and swallows the keys after it). A byte that
       does not make a character becomes '?'; outside UTF-8 every non-ASCII
       byte does. */
    int c = getch();
    if (c == ERR) return ERR;
    if (c >= KEY_MIN) return TUI_FKEY | c;
    if (c < 0x80) return c;
    if (!a->utf8) return '?';
    int need = c >= 0xF0 && c < 0xF5 ? 3 : c >= 0xE0 && c < 0xF0 ? 2 : c >= 0xC2 && c < 0xE0 ? 1 : 0;
    if (!need) return '?';
    int cp = c & (0x3F >> need);
    timeout(50);
    for (int i = 0; i < need; i++) {
        int d = getch();
        if (d == ERR || d >= KEY_MIN || (d & 0xC0) != 0x80) {
            if (d != ERR) ungetch(d);
            return '?';
        }
        cp = (cp << 6) | (d & 0x3F);
    }
    return cp;
}

static tui_action handle_key(tui_app *a, int key)
{
    if (key == (TUI_FKEY | KEY_RESIZE)) return TUI_REDRAW;
    if (a->help) { /* any key closes the help */
        a->help = 0;
        return TUI_REDRAW;
    }
    tui_action r = TUI_IGNORED;
    if (!a->editing && !a->prompt && !a->too_small) r = tui_views[a->view].key(a, key);
    if (r == TUI_IGNORED) r = tui_common_key(a, key);
    return r;
}

/* Is the terminal able to show the UI at all? */
static const char *terminal_problem(void)
{
    const char *cup = tigetstr("cup");
    if (cup == NULL || cup == (char *)-1) return "cannot move the cursor";
    return NULL;
}

/* Pick a direct-colour terminfo entry when COLORTERM asks for 24-bit colour
 * and the terminal's own entry does not have it (xterm-256color ->
 * xterm-direct). Returns the name to use (a static buffer) or NULL. */
static const char *direct_term(const char *term)
{
    static char name[128];
    const char *ct = getenv("COLORTERM");
    const char *nc = getenv("NO_COLOR");
    if (!term || !ct || (nc && *nc)) return NULL;
    if (strcmp(ct, "truecolor") && strcmp(ct, "24bit")) return NULL;
    if (strstr(term, "direct")) return NULL;
    size_t base = strcspn(term, "-");
    snprintf(name, sizeof name, "%.*s-direct", (int)base, term);
    int err = 0;
    if (setupterm(name, -1, &err) != OK) return NULL;
    del_curterm(cur_term);
    return name;
}

static int fatal(tui_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fatal(tui_app *a, const char *fmt, ...)
{
    (void)a;
    if (!isendwin()) endwin();
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "attnscope tui: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_FAIL;
}

static double median(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n ? (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])) : 0;
}

/* Replay keys into the loop with the screen going to /dev/null, timing each
 * key from handling to the end of doupdate(), and each new equation from
 * Enter to the first complete screen. Prints medians. */
static int bench(tui_app *a, const tui_options *o)
{
    static const char *eqs6[] = {"7x^2+3556x+451612=0", "1x^2-5x+6=0", "2x^2+0x-8=0",
                                 "3x^2+2x+5=0", "x^2-100=0", "5x^2+10x-75=0"};
    /* An input on the command line (a long text, say) is the only one. */
    const char *one[1] = {o->equation};
    const char **eqs = o->equation ? one : eqs6;
    size_t n_eq = o->equation ? 1 : 6;
    size_t reps = o->bench_reps ? o->bench_reps : 20;
    const char *keys = o->bench_keys && *o->bench_keys ? o->bench_keys : "default";
    /* The default replay: cursor moves, layer/head/kind switches, steps,
       model view, summary, average. */
    static const int default_keys[] = {
        TUI_FKEY | KEY_RIGHT, TUI_FKEY | KEY_DOWN, TUI_FKEY | KEY_LEFT, TUI_FKEY | KEY_UP,
        'l', 'h', 'a', 'a', '1', '2', '3', ',', '.', 'm', TUI_FKEY | KEY_RIGHT, 's', 'v',
        TUI_FKEY | KEY_DOWN, 'L', 'H'};
    size_t nk = sizeof default_keys / sizeof default_keys[0];
    int custom[256];
    const int *seq = default_keys;
    if (strcmp(keys, "default")) {
        nk = 0;
        /* Characters as typed; \\R \\L \\U \\D arrows, \\N \\P PgDn/PgUp, \\H \\E
           Home/End, \\n Enter, \\e Escape. */
        for (const char *p = keys; *p && nk < 256; p++) {
            int k = (unsigned char)*p;
            if (k == '\\' && p[1]) {
                switch (*++p) {
                case 'R': k = TUI_FKEY | KEY_RIGHT; break;
                case 'L': k = TUI_FKEY | KEY_LEFT; break;
                case 'U': k = TUI_FKEY | KEY_UP; break;
                case 'D': k = TUI_FKEY | KEY_DOWN; break;
                case 'N': k = TUI_FKEY | KEY_NPAGE; break;
                case 'P': k = TUI_FKEY | KEY_PPAGE; break;
                case 'H': k = TUI_FKEY | KEY_HOME; break;
                case 'E': k = TUI_FKEY | KEY_END; break;
                case 'n': k = '\r'; break;
                case 'e': k = TUI_ESC; break;
                default: k = (unsigned char)*p; break;
                }
            }
            custom[nk++] = k;
        }
        seq = custom;
    }
    double *tk = xcalloc(reps * nk, sizeof *tk), *te = xcalloc(reps * n_eq, sizeof *te);
    double *td = xcalloc(reps * n_eq, sizeof *td), n_tokens = 0;
    size_t ik = 0, ie = 0;
    for (size_t r = 0; r < reps; r++) {
        for (size_t i = 0; i < n_eq; i++) {
            snprintf(a->input, sizeof a->input, "%s", eqs[i]);
            a->input_len = a->input_pos = strlen(a->input);
            double t0 = util_now();
            tui_submit(a, 0);
            tui_draw(a);
            doupdate();
            td[ie] = a->decode_ms;
            n_tokens += (double)a->n_gen;
            te[ie++] = (util_now() - t0) * 1e3;
        }
        for (size_t i = 0; i < nk; i++) {
            double t0 = util_now();
            tui_action act = handle_key(a, seq[i]);
            if (act != TUI_QUIT) {
                tui_draw(a);
                doupdate();
            }
            tk[ik++] = (util_now() - t0) * 1e3;
        }
    }
    double max_key = 0;
    size_t max_at = 0;
    for (size_t i = 0; i < ik; i++)
        if (tk[i] > max_key) max_key = tk[i], max_at = i % nk;
    size_t rows, cols;
    tui_map_size(a, T5_ATTN_ENC_SELF, &rows, &cols);
    double p_eq = median(te, ie), p_key = median(tk, ik), p_dec = median(td, ie);
    double p90 = ik ? tk[(ik * 9) / 10 < ik ? (ik * 9) / 10 : ik - 1] : 0; /* tk is sorted now */
    endwin();
    printf("ui: %dx%d terminal, %s colour, %zu key redraws, %zu new %s (%zu source tokens)\n",
           COLS, LINES, theme_mode_name(a->mode), ik, ie, a->raw ? "inputs" : "equations", rows);
    char slow[16];
    int sk = seq[max_at];
    if (sk & TUI_FKEY) snprintf(slow, sizeof slow, "%s", keyname(sk & ~TUI_FKEY));
    else snprintf(slow, sizeof slow, "%c", sk >= 32 && sk < 127 ? sk : '?');
    printf("ui: key press -> finished redraw   median %.3f ms (90%% %.3f, max %.3f ms at key %zu "
           "'%s')  goal < 16 ms\n", p_key, p90, max_key, max_at + 1, slow);
    printf("ui: Enter (new equation) -> screen median %.3f ms  goal < 100 ms\n", p_eq);
    printf("ui:   of which decoding (trace_run)  median %.3f ms, %.1f tokens per equation\n",
           p_dec, ie ? n_tokens / (double)ie : 0.0);
    free(td);
    free(tk);
    free(te);
    return EXIT_OK;
}

int tui_run(const tui_options *o, const t5_model *m)
{
    as_err terr = {{0}};
    tok_vocab *tok = tok_open(o->model_dir, &terr);
    if (!tok) return fatal(NULL, "%s", terr.msg);
    tui_app *a = xcalloc(1, sizeof *a);
    app_init(a, o, m, tok);

    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    a->utf8 = cs && !strcmp(cs, "UTF-8");

    const char *term = getenv("TERM");
    SCREEN *scr = NULL;
    FILE *devnull = NULL;
    if (o->bench_keys) {
        devnull = fopen("/dev/null", "w");
        /* A fixed terminal type, so numbers compare across machines. */
        const char *bt = "xterm-256color";
        scr = newterm(bt, devnull, stdin);
    } else {
        if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
            app_free(a);
            free(a);
            return fatal(NULL, "needs a terminal (for a picture without one: attnscope render)");
        }
        const char *dt = direct_term(term);
        scr = newterm(dt ? dt : term, stdout, stdin);
        if (!scr && dt) scr = newterm(term, stdout, stdin);
    }
    if (!scr) {
        int rc = fatal(NULL, "cannot use the terminal '%s' (set TERM to your terminal's type)",
                       term ? term : "");
        app_free(a);
        free(a);
        if (devnull) fclose(devnull);
        return rc;
    }
    set_term(scr);
    const char *problem = terminal_problem();
    if (problem) {
        int rc = fatal(a, "the terminal '%s' %s; the UI needs a full-screen terminal "
                          "(attnscope render draws maps without one)", term ? term : "", problem);
        delscreen(scr);
        app_free(a);
        free(a);
        if (devnull) fclose(devnull);
        return rc;
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    meta(stdscr, TRUE); /* all 8 bits of a byte, not a stripped ASCII letter */
    set_escdelay(25);
    curs_set(0);
    tui_colors_init(a);

    /* The first decode: a bad equation on the command line shows its message
       under the entry box like any other. */
    if (tui_submit(a, 0) != 0 && !a->have_run) a->editing = 1;
    else if (a->cfg_msg[0]) set_msg(a, 1, 0, "%s", a->cfg_msg);

    int rc = EXIT_OK;
    if (o->bench_keys) {
        rc = bench(a, o);
    } else {
        tui_draw(a);
        doupdate();
        for (;;) {
            timeout(a->playing ? 180 : a->more_work ? 0 : -1);
            int key = read_key(a);
            tui_action act;
            a->idle = 0;
            if (key == ERR && a->more_work && !a->playing) {
                act = TUI_REDRAW; /* an idle frame finishes what the last one left */
                a->idle = 1;
            } else if (key == ERR) {
                if (!a->playing) continue;
                if (a->step + 1 < a->n_gen) {
                    a->step++;
                    if (a->kind != T5_ATTN_ENC_SELF) a->cur_r[a->kind] = a->step;
                } else {
                    a->playing = 0;
                }
                act = TUI_REDRAW;
            } else {
                act = handle_key(a, key);
            }
            if (act == TUI_QUIT) break;
            if (act == TUI_REDRAW || act == TUI_HANDLED) {
                tui_draw(a);
                doupdate();
            }
        }
        endwin();
    }
    delscreen(scr);
    if (devnull) fclose(devnull);
    app_free(a);
    free(a);
    return rc;
}
