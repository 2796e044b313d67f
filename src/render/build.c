/* build.c - the maps `attnscope render` draws, taken from a trace the same
 * way the UI takes them: one head or the mean over heads (grid_head_mean),
 * the summary of attention received (grid_received), every layer x head, and
 * decoder rows cut at the decoding step shown.
 *
 * Deliberately not here: drawing (term.c, figure.c, data.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byt5.h"
#include "render.h"
#include "grid.h"

static const char *const format_names[RENDER_N_FORMATS] = {"ansi", "text", "svg", "png",
                                                            "pdf",  "csv",  "json"};
static const char *const view_names[RENDER_N_VIEWS] = {"enc", "dec", "cross", "summary",
                                                        "model"};

int render_format_parse(const char *s)
{
    for (int i = 0; s && i < RENDER_N_FORMATS; i++)
        if (!strcmp(s, format_names[i])) return i;
    return -1;
}

const char *render_format_name(render_format f)
{
    return (unsigned)f < RENDER_N_FORMATS ? format_names[f] : "?";
}

int render_format_from_path(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/')) return -1;
    static const struct {
        const char *ext;
        render_format f;
    } exts[] = {{".txt", RENDER_TEXT}, {".ans", RENDER_ANSI}, {".svg", RENDER_SVG},
                {".png", RENDER_PNG},  {".pdf", RENDER_PDF},  {".csv", RENDER_CSV},
                {".json", RENDER_JSON}};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(dot, exts[i].ext)) return (int)exts[i].f;
    return -1;
}

int render_view_parse(const char *s)
{
    for (int i = 0; s && i < RENDER_N_VIEWS; i++)
        if (!strcmp(s, view_names[i])) return i;
    return -1;
}

const char *render_view_name(render_view v)
{
    return (unsigned)v < RENDER_N_VIEWS ? view_names[v] : "?";
}

static const char *kind_name(t5_attn_kind k)
{
    return k == T5_ATTN_ENC_SELF ? "encoder self" : k == T5_ATTN_DEC_SELF ? "decoder self"
                                                                          : "cross";
}

/* A map of one head, or the mean over heads, copied dense into out
 * (rows x cols of the map's rows). */
static void head_map(const attn_trace *t, t5_attn_kind kind, size_t layer, long head, size_t rows,
                     size_t cols, float *out)
{
    size_t r, c, stride;
    if (head >= 0) {
        const float *m = trace_map(t, kind, layer, (size_t)head, &r, &c, &stride);
        for (size_t i = 0; i < rows; i++) memcpy(out + i * cols, m + i * stride, cols * sizeof *out);
        return;
    }
    const float *h0 = trace_map(t, kind, layer, 0, &r, &c, &stride);
    const float *h1 = t->n_heads > 1 ? trace_map(t, kind, layer, 1, &r, &c, &stride) : h0;
    grid_head_mean(h0, t->n_heads, (size_t)(h1 - h0), rows, cols, stride, out);
}

const char *render_token_label(const render_doc *d, int id, char *buf, size_t cap)
{
    return tok_display_label(d->tok, id, buf, cap);
}

const char *render_token_name(const render_doc *d, int id, char *buf, size_t cap)
{
    return d->tok ? tok_label(d->tok, id, buf, cap) : byt5_token_label(id, buf, cap);
}

/* The summary view: layers x keys, what each key receives. */
static int build_summary(render_doc *d, const attn_trace *t, size_t rows, size_t cols,
                         const char *step_txt)
{
    t5_attn_kind k = d->kind;
    d->rows = d->n_layers;
    d->layer = d->head = -1;
    d->n_panels = d->grid_cols = 1;
    d->panels = xcalloc(1, sizeof *d->panels);
    float *s = d->panels[0].data = xcalloc(d->rows * cols, sizeof(float));
    float mx = 1e-9f;
    for (size_t l = 0; l < d->n_layers; l++) {
        size_t st;
        size_t r0, c0;
        const float *h0 = trace_map(t, k, l, 0, &r0, &c0, &st);
        const float *h1 = t->n_heads > 1 ? trace_map(t, k, l, 1, &r0, &c0, &st) : h0;
        size_t live = rows;
        grid_received(h0, t->n_heads, (size_t)(h1 - h0), live, cols, st, s + l * cols);
        for (size_t c = 0; c < cols; c++) mx = s[l * cols + c] > mx ? s[l * cols + c] : mx;
    }
    d->vmax = mx;
    snprintf(d->row_axis, sizeof d->row_axis, "layer");
    snprintf(d->title, sizeof d->title,
             "summary of %s attention: what each key receives per layer (summed over "
             "heads, mean over queries)%s",
             kind_name(k), step_txt);
    return 0;
}

/* The model view: every layer x head. */
static int build_model(render_doc *d, const attn_trace *t, size_t rows, size_t cols,
                       const char *step_txt)
{
    t5_attn_kind k = d->kind;
    d->layer = d->head = -1;
    d->n_panels = d->n_layers * t->n_heads;
    d->grid_cols = t->n_heads;
    d->panels = xcalloc(d->n_panels, sizeof *d->panels);
    for (size_t l = 0; l < d->n_layers; l++)
        for (size_t h = 0; h < t->n_heads; h++) {
            render_panel *p = &d->panels[l * t->n_heads + h];
            p->layer = l;
            p->head = h;
            snprintf(p->title, sizeof p->title, "L%zu H%zu", l, h);
            p->data = xcalloc(rows * cols, sizeof(float));
            head_map(t, k, l, (long)h, rows, cols, p->data);
        }
    snprintf(d->title, sizeof d->title, "%s attention, %zu layers x %zu heads%s",
             kind_name(k), d->n_layers, t->n_heads, step_txt);
    return 0;
}

/* One map: a layer's head, or the mean over its heads. */
static int build_single(render_doc *d, const attn_trace *t, const render_request *rq,
                        size_t rows, size_t cols, const char *step_txt, as_err *err)
{
    t5_attn_kind k = d->kind;
    if (rq->layer >= d->n_layers)
        return as_errf(err, "--layer %zu is out of range: the %s stack has layers 0..%zu",
                       rq->layer, kind_name(k), d->n_layers - 1);
    if (rq->head >= (long)t->n_heads)
        return as_errf(err, "--head %ld is out of range: the model has heads 0..%zu", rq->head,
                       t->n_heads - 1);
    d->layer = (long)rq->layer;
    d->head = rq->head;
    d->n_panels = d->grid_cols = 1;
    d->panels = xcalloc(1, sizeof *d->panels);
    d->panels[0].layer = rq->layer;
    d->panels[0].head = rq->head < 0 ? 0 : (size_t)rq->head;
    float *m = d->panels[0].data = xcalloc(rows * cols, sizeof(float));
    head_map(t, k, rq->layer, rq->head, rows, cols, m);
    if (rq->normalize) {
        float mx = 1e-9f;
        for (size_t i = 0; i < rows * cols; i++) mx = m[i] > mx ? m[i] : mx;
        d->vmax = mx;
    }
    char head_txt[48], ly[40];
    if (rq->head < 0) snprintf(head_txt, sizeof head_txt, "mean of %zu heads", t->n_heads);
    else trace_index_text("head", (size_t)rq->head, t->n_heads, head_txt, sizeof head_txt);
    snprintf(d->title, sizeof d->title, "%s attention, %s, %s%s", kind_name(k),
             trace_index_text("layer", rq->layer, d->n_layers, ly, sizeof ly), head_txt,
             step_txt);
    return 0;
}

int render_build(render_doc *d, const attn_trace *t, const render_request *rq,
                 const char *model_name, const char *input, const char *source, as_err *err)
{
    memset(d, 0, sizeof *d);
    d->view = rq->view;
    d->model_name = model_name;
    d->input = input;
    d->source = source;
    d->n_heads = t->n_heads;
    d->normalize = rq->normalize;
    d->kind = rq->view == RENDER_VIEW_ENC     ? T5_ATTN_ENC_SELF
              : rq->view == RENDER_VIEW_DEC   ? T5_ATTN_DEC_SELF
              : rq->view == RENDER_VIEW_CROSS ? T5_ATTN_CROSS
                                              : rq->kind;
    t5_attn_kind k = d->kind;
    d->n_layers = k == T5_ATTN_ENC_SELF ? t->n_enc_layers : t->n_dec_layers;
    d->n_steps = t->n_rows;
    d->tok = rq->tok;
    /* a SentencePiece piece is a few dozen bytes at most */
    size_t out_cap = t->n_tgt * (d->tok ? 64 : 4) + 1;
    d->output = xcalloc(out_cap, 1);
    if (d->tok)
        tok_decode(d->tok, t->tgt + (t->n_tgt ? 1 : 0), t->n_tgt ? t->n_tgt - 1 : 0, d->output,
                   out_cap);
    else
        byt5_decode(t->tgt + (t->n_tgt ? 1 : 0), t->n_tgt ? t->n_tgt - 1 : 0, d->output,
                    out_cap);
    if (d->n_steps == 0)
        return as_errf(err, "the model produced no token, so there is no decoder map to draw");
    if (rq->step > d->n_steps)
        return as_errf(err, "--step %zu is past the decoding (%zu steps)", rq->step, d->n_steps);
    d->step = rq->step ? rq->step : d->n_steps;

    size_t rows, cols, stride;
    trace_map(t, k, 0, 0, &rows, &cols, &stride);
    /* Decoder rows after the step are not decoded yet: leave them out. */
    if (k != T5_ATTN_ENC_SELF && rows > d->step) rows = d->step;
    if (k == T5_ATTN_DEC_SELF) cols = rows; /* keys are the decoder positions fed so far */
    d->cols = cols;
    d->col_tokens = xmalloc(cols * sizeof *d->col_tokens);
    memcpy(d->col_tokens, k == T5_ATTN_DEC_SELF ? t->tgt : t->src, cols * sizeof(int));
    snprintf(d->col_axis, sizeof d->col_axis, "key");

    char step_txt[64] = "";
    if (k != T5_ATTN_ENC_SELF || rq->view == RENDER_VIEW_MODEL)
        snprintf(step_txt, sizeof step_txt, ", step %zu/%zu", d->step, d->n_steps);

    d->norms = rq->norms;
    if (rq->norms) /* every title says which measure it shows */
        snprintf(step_txt + strlen(step_txt), sizeof step_txt - strlen(step_txt),
                 "; value norms");
    if (rq->view == RENDER_VIEW_SUMMARY) return build_summary(d, t, rows, cols, step_txt);
    d->rows = rows;
    /* Rows are labelled as in the UI: encoder rows by their source token,
       decoder rows by the token they wrote (row i is fed tgt[i] and writes
       tgt[i+1]); the fed tokens are kept too. */
    d->row_tokens = xmalloc(rows * sizeof *d->row_tokens);
    memcpy(d->row_tokens, k == T5_ATTN_ENC_SELF ? t->src : t->tgt + 1, rows * sizeof(int));
    if (k != T5_ATTN_ENC_SELF) {
        d->row_fed = xmalloc(rows * sizeof *d->row_fed);
        memcpy(d->row_fed, t->tgt, rows * sizeof(int));
    }
    snprintf(d->row_axis, sizeof d->row_axis, "query");
    d->vmax = 1.0f;

    if (rq->view == RENDER_VIEW_MODEL) return build_model(d, t, rows, cols, step_txt);
    return build_single(d, t, rq, rows, cols, step_txt, err);
}

void render_doc_free(render_doc *d)
{
    for (size_t i = 0; d->panels && i < d->n_panels; i++) free(d->panels[i].data);
    free(d->panels);
    free(d->row_tokens);
    free(d->row_fed);
    free(d->col_tokens);
    free(d->output);
    memset(d, 0, sizeof *d);
}
