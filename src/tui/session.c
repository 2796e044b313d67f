/* session.c - the UI's state without the terminal (tui_session.h): an
 * input decoded into a trace, its output text and check, ablations, head
 * classes, and the maps and labels the views read.
 *
 * Deliberately not here: ncurses, keys, cursors (app.c and the views). */
#include "tui_session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byt5.h"
#include "grid.h"
#include "util.h"

tui_session *tui_session_new(const t5_model *m, tok_vocab *tok, int raw)
{
    tui_session *s = xcalloc(1, sizeof *s);
    s->m = m;
    s->tok = tok;
    s->run = t5_run_new(m, TUI_MAX_SRC, TUI_MAX_GEN);
    s->tr = trace_new(m, TUI_MAX_SRC, TUI_MAX_GEN);
    s->tr_norms = trace_new(m, TUI_MAX_SRC, TUI_MAX_GEN);
    an_normcap_init(&s->nc, m, s->tr_norms);
    an_iv_init(&s->iv, m);
    for (int k = 0; k < 3; k++) {
        size_t n = tui_session_layers(s, (t5_attn_kind)k) * s->tr->n_heads;
        s->cls[k] = xcalloc(n, sizeof *s->cls[k]);
        s->cls_done[k] = xcalloc(n, 1);
    }
    t5_run_set_hook(s->run, an_hook, &s->iv);
    size_t big = TUI_MAX_SRC > TUI_MAX_GEN ? TUI_MAX_SRC : TUI_MAX_GEN;
    s->mean = xcalloc(big * big, sizeof(float));
    s->spm = tok_kind_of(tok) == TOK_SPM;
    s->raw = raw || s->spm;
    s->lab_src = xcalloc(TUI_MAX_SRC, sizeof *s->lab_src);
    s->lab_gen = xcalloc(TUI_MAX_GEN, sizeof *s->lab_gen);
    s->names_src = xcalloc(TUI_MAX_SRC, sizeof *s->names_src);
    s->names_gen = xcalloc(TUI_MAX_GEN, sizeof *s->names_gen);
    s->first_wrong = -2;
    return s;
}

void tui_session_free(tui_session *s)
{
    if (!s) return;
    for (int k = 0; k < 3; k++) {
        free(s->cls[k]);
        free(s->cls_done[k]);
    }
    free(s->lab_src);
    free(s->lab_gen);
    free(s->names_src);
    free(s->names_gen);
    tok_free(s->tok);
    an_iv_free(&s->iv);
    trace_free(s->tr);
    an_normcap_free(&s->nc);
    trace_free(s->tr_norms);
    free(s->lens_x);
    free(s->lens_scratch);
    t5_run_free(s->run);
    free(s->mean);
    free(s);
}

void tui_session_note(tui_session *s, int error, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof s->msg, fmt, ap);
    va_end(ap);
    s->msg_error = error;
    s->err_col = col;
}

/* ---- decoding -------------------------------------------------------------- */

/* The model's input text for text: the canonical form of an equation
   (solved into *sol, *quad_ok 1), or the text itself when raw. */
static int source_of(tui_session *s, const char *text, int raw, char *source, size_t cap,
                     quad_solution *sol, int *quad_ok)
{
    *quad_ok = 0;
    if (raw) {
        if (!*text) {
            tui_session_note(s, 1, 1, "column 1: type some text first");
            return -1;
        }
        snprintf(source, cap, "%s", text);
        return 0;
    }
    quad_eq eq;
    quad_parse_error pe;
    if (quad_parse(text, &eq, &pe)) {
        tui_session_note(s, 1, pe.column, "column %zu: %s  (Ctrl-R runs it as raw text)",
                         pe.column, pe.reason);
        return -1;
    }
    as_err err = {{0}};
    if (quad_solve(&eq, sol, &err)) {
        tui_session_note(s, 1, 0, "%s", err.msg);
        return -1;
    }
    quad_format_source(&sol->eq, source, cap);
    *quad_ok = 1;
    return 0;
}

/* The output text, where each generated token starts in it, and the
   SentencePiece row names. */
static void fill_output(tui_session *s)
{
    size_t len = 0;
    for (size_t i = 0; i < s->n_gen; i++) s->gen[i] = s->tr->tgt[i + 1];
    if (!s->spm) {
        for (size_t i = 0; i < s->n_gen; i++) {
            int id = s->gen[i];
            s->gen_off[i] = len;
            if (id >= BYT5_OFFSET && id < BYT5_OFFSET + 256 && len + 1 < sizeof s->output)
                s->output[len++] = (char)(id - BYT5_OFFSET);
        }
        s->output[len] = '\0';
    } else {
        /* Pieces: token i starts where the decoded prefix of i tokens ends. */
        for (size_t i = 0; i <= s->n_gen; i++)
            s->gen_off[i] = tok_decode(s->tok, s->gen, i, s->output, sizeof s->output);
        len = s->gen_off[s->n_gen];
        for (size_t i = 0; i < s->n_gen; i++)
            if (s->gen_off[i] > len) s->gen_off[i] = len;
        /* Row names "index piece" (the grid shows names as they are). */
        char piece[24];
        for (size_t i = 0; i < TUI_MAX_SRC && i < s->tr->n_src; i++) {
            snprintf(s->lab_src[i], sizeof s->lab_src[i], "%zu %s", i,
                     tui_session_label(s, s->tr->src[i], piece, sizeof piece));
            s->names_src[i] = s->lab_src[i];
        }
        for (size_t i = 0; i < s->n_gen; i++) {
            snprintf(s->lab_gen[i], sizeof s->lab_gen[i], "%zu %s", i,
                     tui_session_label(s, s->gen[i], piece, sizeof piece));
            s->names_gen[i] = s->lab_gen[i];
        }
    }
    s->gen_off[s->n_gen] = len;
}

/* The target's tokens into tgt (n_tgt 0 without one); -1 when refused. */
static int target_tokens(tui_session *s, int *tgt, size_t *n_tgt)
{
    *n_tgt = 0;
    if (!s->target[0]) return 0;
    *n_tgt = tok_encode(s->tok, s->target, tgt, TUI_MAX_GEN - 1);
    if (*n_tgt == 0 || *n_tgt > TUI_MAX_GEN - 1) {
        tui_session_note(s, 1, 0, "the target is %s (%d tokens at most; T changes it)",
                         *n_tgt ? "too long" : "refused by the tokenizer", TUI_MAX_GEN - 1);
        return -1;
    }
    return 0;
}

int tui_session_submit(tui_session *s, const char *text_in, int force_raw)
{
    char text[TUI_INPUT_MAX], source[TUI_INPUT_MAX];
    snprintf(text, sizeof text, "%s", text_in); /* text_in may be s->shown */
    quad_solution sol;
    int quad_ok = 0, raw = s->raw || force_raw;
    if (source_of(s, text, raw, source, sizeof source, &sol, &quad_ok)) return -1;
    int src[TUI_MAX_SRC];
    size_t n_src = tok_encode(s->tok, source, src, TUI_MAX_SRC);
    if (n_src == 0 || n_src > TUI_MAX_SRC) {
        if (n_src)
            tui_session_note(s, 1, 0, "the input is %zu tokens with eos; the UI takes %d at most",
                             n_src, TUI_MAX_SRC);
        else
            tui_session_note(s, 1, 0, "the tokenizer refused the text");
        return -1;
    }
    size_t def_len = raw ? TUI_DEFAULT_RAW_GEN : QUAD_MAX_GEN;
    size_t max_len = s->max_len ? s->max_len : def_len;
    if (max_len > TUI_MAX_GEN - 1) max_len = TUI_MAX_GEN - 1;
    /* A target: the decoder is fed it (teacher forcing) instead of its own
       output, every row predicting the target's next token. */
    int tgt[TUI_MAX_GEN];
    size_t n_tgt;
    if (target_tokens(s, tgt, &n_tgt)) return -1;
    as_err err = {{0}};
    double t0 = util_now();
    const int *tp = n_tgt ? tgt : NULL;
    long n = s->norms ? an_trace_run_norms(s->tr, &s->nc, s->run, src, n_src, tp, n_tgt, max_len,
                                           &err)
                      : trace_run(s->tr, s->run, src, n_src, tp, n_tgt, max_len, &err);
    s->decode_ms = (util_now() - t0) * 1e3;
    s->serial++;
    if (n < 0) {
        tui_session_note(s, 1, 0, "decoding failed: %s", err.msg);
        s->have_run = 0;
        return -1;
    }
    s->forced = n_tgt > 0;
    s->have_run = 1;
    for (int k = 0; k < 3; k++) /* classes of the new maps: computed when first shown */
        memset(s->cls_done[k], 0, tui_session_layers(s, (t5_attn_kind)k) * s->tr->n_heads);
    s->quad_ok = quad_ok;
    if (quad_ok) s->sol = sol;
    s->raw = raw;
    snprintf(s->shown, sizeof s->shown, "%s", text);
    snprintf(s->source, sizeof s->source, "%s", source);
    s->n_gen = (size_t)n;
    s->n_rows = s->tr->n_rows;
    fill_output(s);
    s->first_wrong = -2;
    if (quad_ok && sol.in_distribution && !s->forced)
        s->first_wrong = quad_first_diff(sol.target, s->output);
    s->step = s->n_gen ? s->n_gen - 1 : 0;
    /* first on the line, where a narrow terminal still shows it: an
       equation beyond the ranges the model was trained on */
    char outside[200] = "", why[160];
    if (quad_ok && s->preset && quad_preset_outside(s->preset, &sol, why, sizeof why))
        snprintf(outside, sizeof outside, "%s it was trained on; ", why);
    if (s->forced)
        tui_session_note(s, 0, 0,
                         "%steacher forced on a target of %zu tokens in %.0f ms, %zu source tokens",
                         outside, s->n_gen, s->decode_ms, n_src);
    else if (quad_ok && strcmp(text, source))
        tui_session_note(s, 0, 0, "%sread as %s   (decoded in %.0f ms)", outside, source,
                         s->decode_ms);
    else
        tui_session_note(s, 0, 0, "%sdecoded %zu tokens in %.0f ms from %zu source tokens%s",
                         outside, s->n_gen, s->decode_ms, n_src,
                         s->n_gen >= max_len ? " (the output length limit; O changes it)" : "");
    return 0;
}

int tui_session_rerun(tui_session *s)
{
    if (!s->have_run) return -1;
    size_t step = s->step;
    int was_last = s->step + 1 >= s->n_gen;
    int rc = tui_session_submit(s, s->shown, !s->quad_ok);
    if (!was_last && step < s->n_gen) s->step = step;
    return rc;
}

int tui_session_toggle_ablation(tui_session *s, t5_attn_kind kind, size_t layer, size_t head)
{
    an_abl_mode m = an_iv_toggle(&s->iv, kind, layer, head, AN_ABL_ZERO);
    int rc = tui_session_rerun(s);
    size_t n = an_iv_count(&s->iv);
    size_t nl = kind == T5_ATTN_ENC_SELF ? s->tr->n_enc_layers : s->tr->n_dec_layers;
    char ly[40], hd[40];
    tui_session_note(s, 0, 0, "%s %s %s %s; %zu head%s ablated (X clears)", tui_kind_name(kind),
                     trace_index_text("layer", layer, nl, ly, sizeof ly),
                     trace_index_text("head", head, s->tr->n_heads, hd, sizeof hd),
                     m ? "zeroed" : "restored", n, n == 1 ? "" : "s");
    return rc;
}

int tui_session_clear_ablation(tui_session *s)
{
    an_iv_clear_heads(&s->iv);
    int rc = tui_session_rerun(s);
    tui_session_note(s, 0, 0, "no head ablated");
    return rc;
}

int tui_session_set_norms(tui_session *s, int on)
{
    on = on != 0;
    if (on == s->norms) return 0;
    s->norms = on;
    if (on) return tui_session_rerun(s); /* the norms are captured by a run */
    s->serial++;
    for (int k = 0; k < 3; k++)
        memset(s->cls_done[k], 0, tui_session_layers(s, (t5_attn_kind)k) * s->tr->n_heads);
    return 0;
}

const char *tui_session_measure(const tui_session *s)
{
    return s->norms ? "value norms" : "weights";
}

/* ---- the logit lens ---------------------------------------------------------- */

/* The state hook of the lens pass: the decoder's residual after each layer. */
static void lens_capture(void *user, const t5_state_event *ev)
{
    tui_session *s = user;
    if (ev->stack != T5_DECODER || ev->kind != T5_STATE_RESID) return;
    size_t C = ev->d_model;
    for (size_t i = 0; i < ev->n && ev->pos0 + i < TUI_MAX_GEN; i++)
        memcpy(s->lens_x + (ev->layer * TUI_MAX_GEN + ev->pos0 + i) * C, ev->x + i * C,
               C * sizeof(float));
}

/* One teacher-forced pass on the run's decoder input (the ablations apply:
   the attention hook stays) with the state hook capturing the residuals.
   The trace is not touched; the run's cache is rebuilt by the next submit. */
static int lens_fill(tui_session *s)
{
    if (s->lens_serial == s->serial) return 0;
    const t5_config *c = &s->m->cfg;
    if (!s->lens_x) {
        s->lens_x = xcalloc(c->num_decoder_layers * TUI_MAX_GEN * c->d_model, sizeof(float));
        s->lens_scratch = xcalloc(c->vocab_size, sizeof(float));
    }
    as_err err = {{0}};
    t5_run_set_state_hook(s->run, lens_capture, s);
    int rc = t5_teacher_forced(s->run, s->tr->src, s->tr->n_src, s->tr->tgt, s->n_rows, NULL,
                               &err);
    t5_run_set_state_hook(s->run, NULL, NULL);
    if (rc) {
        tui_session_note(s, 1, 0, "the logit lens pass failed: %s", err.msg);
        return -1;
    }
    s->lens_serial = s->serial;
    return 0;
}

long tui_session_lens(tui_session *s, size_t row, size_t layer, size_t k, int *tok, float *prob)
{
    if (!s->have_run || row >= s->n_rows || layer >= s->m->cfg.num_decoder_layers) return -1;
    if (lens_fill(s)) return -1;
    const float *x = s->lens_x + (layer * TUI_MAX_GEN + row) * s->m->cfg.d_model;
    return (long)an_lens_top(s->m, x, k, tok, prob, s->lens_scratch);
}

/* ---- maps ------------------------------------------------------------------ */

/* The trace the maps are read from: the weights or the value-weighted maps. */
static const attn_trace *shown_trace(const tui_session *s)
{
    return s->norms ? s->tr_norms : s->tr;
}

const char *tui_kind_name(t5_attn_kind k)
{
    switch (k) {
    case T5_ATTN_ENC_SELF: return "encoder self";
    case T5_ATTN_DEC_SELF: return "decoder self";
    case T5_ATTN_CROSS: return "cross";
    }
    return "?";
}

size_t tui_session_layers(const tui_session *s, t5_attn_kind kind)
{
    return kind == T5_ATTN_ENC_SELF ? s->tr->n_enc_layers : s->tr->n_dec_layers;
}

void tui_session_map_size(const tui_session *s, t5_attn_kind kind, size_t *rows, size_t *cols)
{
    size_t stride;
    *rows = *cols = 0;
    if (!s->have_run) return;
    trace_map(s->tr, kind, 0, 0, rows, cols, &stride);
}

const float *tui_session_map(tui_session *s, t5_attn_kind kind, size_t layer, size_t head,
                             size_t *stride)
{
    size_t rows, cols, st;
    const attn_trace *t = shown_trace(s);
    if (!s->have_run) return NULL;
    if (head < t->n_heads) {
        const float *p = trace_map(t, kind, layer, head, &rows, &cols, &st);
        *stride = st;
        return p;
    }
    /* The mean over heads, into the scratch buffer (dense rows). */
    const float *h0 = trace_map(t, kind, layer, 0, &rows, &cols, &st);
    const float *h1 = t->n_heads > 1 ? trace_map(t, kind, layer, 1, &rows, &cols, &st) : h0;
    if (!h0) return NULL;
    grid_head_mean(h0, t->n_heads, (size_t)(h1 - h0), rows, cols, st, s->mean);
    *stride = cols;
    return s->mean;
}

size_t tui_session_live_rows(const tui_session *s, t5_attn_kind kind)
{
    size_t rows, cols;
    tui_session_map_size(s, kind, &rows, &cols);
    if (kind == T5_ATTN_ENC_SELF) return rows;
    return s->step + 1 < rows ? s->step + 1 : rows;
}

int tui_session_class_known(const tui_session *s, t5_attn_kind kind, size_t layer, size_t head)
{
    if (!s->have_run || (unsigned)kind > 2 || layer >= tui_session_layers(s, kind) ||
        head >= s->tr->n_heads)
        return 0;
    return s->cls_done[kind][layer * s->tr->n_heads + head];
}

/* Classifying every head at each Enter cost ~10 ms: a redraw asks for one
   head, the model view for one kind's. */
const an_head_class *tui_session_class(tui_session *s, t5_attn_kind kind, size_t layer,
                                       size_t head)
{
    if (!s->have_run || (unsigned)kind > 2 || layer >= tui_session_layers(s, kind) ||
        head >= s->tr->n_heads)
        return NULL;
    size_t i = layer * s->tr->n_heads + head;
    if (!s->cls_done[kind][i]) {
        size_t rows, cols, stride;
        const float *map = trace_map(shown_trace(s), kind, layer, head, &rows, &cols, &stride);
        if (!map) return NULL;
        an_head_stats st;
        memset(&st, 0, sizeof st);
        an_stats_add_map(&st, kind, map, rows, cols, stride, tui_session_col_tokens(s, kind));
        an_classify(&st, &s->cls[kind][i]);
        s->cls_done[kind][i] = 1;
    }
    return &s->cls[kind][i];
}

/* ---- labels ---------------------------------------------------------------- */

/* Decoder rows are labelled with the token they wrote (row i fed tgt[i]
   and produced gen[i]): "what the model attended to when writing this". */
const int *tui_session_row_tokens(const tui_session *s, t5_attn_kind kind)
{
    return kind == T5_ATTN_ENC_SELF ? s->tr->src : s->gen;
}

const int *tui_session_col_tokens(const tui_session *s, t5_attn_kind kind)
{
    return kind == T5_ATTN_DEC_SELF ? s->tr->tgt : s->tr->src;
}

const char *const *tui_session_row_names(const tui_session *s, t5_attn_kind kind)
{
    if (!s->spm) return NULL;
    return kind == T5_ATTN_ENC_SELF ? s->names_src : s->names_gen;
}

const char *tui_session_label(const tui_session *s, int id, char *buf, size_t cap)
{
    return tok_display_label(s->tok, id, buf, cap);
}

const char *tui_session_short_label(const tui_session *s, int id, char *buf, size_t cap)
{
    if (!s->spm) return grid_token_short(id, buf, cap);
    char piece[64];
    const char *p = tui_session_label(s, id, piece, sizeof piece);
    if (!strncmp(p, "\xe2\x96\x81", 3) && p[3]) p += 3; /* the word-start mark */
    size_t n = 1;
    while ((p[n] & 0xC0) == 0x80) n++;
    if (p[0] == '<' && p[1]) n = 1; /* <pad> <extra_id_N>: '<' */
    snprintf(buf, cap, "%.*s", (int)n, p);
    return buf;
}

const char *tui_session_token_text(const tui_session *s, int id, char *buf, size_t cap)
{
    if (!cap) return buf;
    if (!s->spm && id >= BYT5_OFFSET && id < BYT5_OFFSET + 256) {
        buf[0] = cap > 1 ? (char)(id - BYT5_OFFSET) : '\0';
        buf[cap > 1] = '\0';
        return buf;
    }
    char piece[96];
    const char *p = tui_session_label(s, id, piece, sizeof piece);
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
