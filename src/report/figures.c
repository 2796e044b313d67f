/* figures.c - the report's figures: every map type of the example
 * equation, the means over all traced equations, the per-head statistics,
 * the class of every head, head importance and the hypothesis bars, each
 * written as PNG and SVG through an_fig_heatmaps / an_fig_bars.
 *
 * Deliberately not here: measuring (src/analysis/, accum.c), the words
 * (write.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

const char *rp_kind_short(int k)
{
    static const char *s[] = {"enc", "dec", "cross"};
    return s[k];
}

const char *rp_kind_long(int k)
{
    static const char *s[] = {"encoder self-attention", "decoder self-attention",
                              "cross-attention"};
    return s[k];
}

/* Token labels of ids as a person reads them (eos "$", as in the UI), into
   a table of strings (freed with free_labels). */
static char **token_labels(const tok_vocab *tok, const int *ids, size_t n)
{
    char **l = xcalloc(n + 1, sizeof *l);
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        l[i] = xstrdup(tok_display_label(tok, ids[i], buf, sizeof buf));
    }
    return l;
}

static char **number_labels(size_t n, const char *prefix)
{
    char **l = xcalloc(n + 1, sizeof *l);
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%s%zu", prefix, i);
        l[i] = xstrdup(buf);
    }
    return l;
}

static void free_labels(char **l, size_t n)
{
    for (size_t i = 0; l && i < n; i++) free(l[i]);
    free(l);
}

void rp_fig_add(rp_figs *F, const char *name, const char *caption)
{
    if (F->n == F->cap) {
        F->cap = F->cap ? 2 * F->cap : 32;
        F->f = xrealloc(F->f, F->cap * sizeof *F->f);
    }
    snprintf(F->f[F->n].name, sizeof F->f[F->n].name, "%s", name);
    /* one line for markdown: "a\nb" -> "a: b", "a\n(b)" -> "a (b)" */
    char *d = F->f[F->n].caption, *end = d + sizeof F->f[F->n].caption - 1;
    for (const char *c = caption; *c && d < end; c++) {
        if (*c != '\n') {
            *d++ = *c;
            continue;
        }
        if (c[1] != '(' && d < end) *d++ = ':';
        if (d < end) *d++ = ' ';
    }
    *d = '\0';
    F->n++;
}

void rp_fig_base(const rp_figs *F, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", F->dir, name);
}

static int heatmaps(rp_figs *F, const char *name, const char *title, const an_panel *p, size_t n,
                    size_t gcols, float vmax, size_t cell)
{
    if (F->failed) return -1;
    char base[4096];
    rp_fig_base(F, name, base, sizeof base);
    if (an_fig_heatmaps(base, title, p, n, gcols, vmax, cell, NULL, NULL, F->err)) {
        F->failed = 1;
        return -1;
    }
    rp_fig_add(F, name, title);
    return 0;
}

/* Keep the rows/cols of a (rows, cols) class grid whose classes were seen;
 * writes the compacted matrix into out and the label pointers. */
static void compact_classes(const float *in, size_t rows, size_t cols, const unsigned char *keep_r,
                            const unsigned char *keep_c, float *out, size_t *nr, size_t *nc,
                            const char **rl, const char **cl)
{
    size_t r2 = 0, c2 = 0;
    for (size_t c = 0; c < cols; c++)
        if (!keep_c || keep_c[c]) cl[c2++] = an_tclass_name((an_tclass)c);
    for (size_t r = 0; r < rows; r++) {
        if (keep_r && !keep_r[r]) continue;
        if (rl) rl[r2] = an_tclass_name((an_tclass)r);
        size_t j = 0;
        for (size_t c = 0; c < cols; c++)
            if (!keep_c || keep_c[c]) out[r2 * c2 + j++] = in[r * cols + c];
        r2++;
    }
    *nr = r2;
    *nc = c2;
}

/* ---- the figures -------------------------------------------------------- */

/* One kind of the example: every head, the mean over heads per layer and
 * the mean over everything. rl/cl: the query and key token labels. */
static void example_kind_figures(rp_figs *F, const attn_trace *t, const an_trace_classes *tc,
                                 int k, const char *const *rl, const char *const *cl,
                                 const char *eq)
{
    size_t L[3] = {t->n_enc_layers, t->n_dec_layers, t->n_dec_layers}, H = t->n_heads;
    char title[2048], name[64];
    /* every head */
    an_panel *p = xcalloc(L[k] * H, sizeof *p);
    char (*titles)[96] = xcalloc(L[k] * H, sizeof *titles);
    size_t rows = 0, cols = 0, stride = 0;
    float *data = NULL;
    for (size_t l = 0; l < L[k]; l++)
        for (size_t h = 0; h < H; h++) {
            const float *m = trace_map(t, (t5_attn_kind)k, l, h, &rows, &cols, &stride);
            if (!data) data = xcalloc(L[k] * H * (rows * cols + 1), sizeof *data);
            float *d = data + (l * H + h) * (rows * cols + 1);
            for (size_t q = 0; q < rows; q++) memcpy(d + q * cols, m + q * stride, cols * sizeof *d);
            snprintf(titles[l * H + h], 96, "L%zu H%zu %s", l, h, tc->cls[k][l * H + h].label);
            p[l * H + h] = (an_panel){d, rows, cols, titles[l * H + h], rl, cl, NULL};
        }
    snprintf(name, sizeof name, "example_%s_heads", rp_kind_short(k));
    snprintf(title, sizeof title, "%s, every layer (rows) and head\n%s", rp_kind_long(k), eq);
    if (rows && cols) heatmaps(F, name, title, p, L[k] * H, H, 0, rows > 40 || cols > 40 ? 4 : 7);
    free(data);
    free(titles);
    free(p);
    if (!rows || !cols) return;

    /* mean over heads, per layer */
    float *lay = xcalloc(L[k] * rows * cols + 1, sizeof *lay);
    an_panel *lp = xcalloc(L[k], sizeof *lp);
    char (*lt)[32] = xcalloc(L[k], sizeof *lt);
    for (size_t l = 0; l < L[k]; l++) {
        size_t r, c;
        an_mean_map(t, (t5_attn_kind)k, (long)l, -1, lay + l * rows * cols, &r, &c);
        trace_index_text("layer", l, L[k], lt[l], 32);
        lp[l] = (an_panel){lay + l * rows * cols, rows, cols, lt[l], rl, cl, NULL};
    }
    snprintf(name, sizeof name, "example_%s_layers", rp_kind_short(k));
    snprintf(title, sizeof title, "%s averaged over heads, per layer\n%s", rp_kind_long(k), eq);
    heatmaps(F, name, title, lp, L[k], L[k] > 4 ? 4 : L[k], 0, 9);
    /* mean over everything */
    size_t r, c;
    an_mean_map(t, (t5_attn_kind)k, -1, -1, lay, &r, &c);
    an_panel one = {lay, r, c, NULL, rl, cl, NULL};
    snprintf(name, sizeof name, "example_%s_mean", rp_kind_short(k));
    snprintf(title, sizeof title, "%s averaged over layers and heads\n%s", rp_kind_long(k), eq);
    heatmaps(F, name, title, &one, 1, 1, 0, 12);
    free(lay);
    free(lp);
    free(lt);
}

/* The example's summary maps and rollouts. */
static void example_flow_figures(rp_figs *F, const attn_trace *t, char **src_l, char **tgt_l,
                                 const char *eq)
{
    size_t L[3] = {t->n_enc_layers, t->n_dec_layers, t->n_dec_layers};
    char title[2048], name[64];
    for (int i = 0; i < 2; i++) {
        t5_attn_kind kind = i == 0 ? T5_ATTN_ENC_SELF : T5_ATTN_CROSS;
        size_t n = L[kind], cols;
        float *sm = xcalloc(n * t->n_src + 1, sizeof *sm);
        an_summary_map(t, kind, sm, &cols);
        char **ll = number_labels(n, "L");
        an_panel p = {sm, n, cols, NULL, (const char *const *)ll, (const char *const *)src_l, NULL};
        snprintf(name, sizeof name, "summary_%s", rp_kind_short(kind));
        snprintf(title, sizeof title,
                 "summary: attention each input token receives per layer (%s, sum over heads)\n%s",
                 rp_kind_long(kind), eq);
        heatmaps(F, name, title, &p, 1, 1, 0, 14);
        free_labels(ll, n);
        free(sm);
    }
    for (int i = 0; i < 2; i++) {
        size_t n = i == 0 ? t->n_src : t->n_rows, nn;
        if (!n) continue;
        float *ro = xcalloc(n * n + 1, sizeof *ro);
        an_rollout(t, i == 0 ? T5_ATTN_ENC_SELF : T5_ATTN_DEC_SELF, ro, &nn);
        const char *const *lab = (const char *const *)(i == 0 ? src_l : tgt_l);
        an_panel p = {ro, nn, nn, NULL, lab, lab, NULL};
        snprintf(name, sizeof name, "rollout_%s", i == 0 ? "enc" : "dec");
        snprintf(title, sizeof title, "attention rollout through the %s (0.5 I + 0.5 A)\n%s",
                 i == 0 ? "encoder" : "decoder self-attention", eq);
        heatmaps(F, name, title, &p, 1, 1, 0, nn > 40 ? 7 : 12);
        free(ro);
    }
    if (t->n_rows && t->n_src) {
        size_t rr, rc;
        float *ro = xcalloc(t->n_rows * t->n_src + 1, sizeof *ro);
        an_rollout_cross(t, ro, &rr, &rc);
        an_panel p = {ro, rr, rc, NULL, (const char *const *)tgt_l, (const char *const *)src_l, NULL};
        snprintf(title, sizeof title,
                 "rollout into the source (self + cross attention, 0.5 I + 0.5 A): how much "
                 "each decoder position draws on each input token\n%s",
                 eq);
        heatmaps(F, "rollout_cross", title, &p, 1, 1, 0, rr > 40 ? 7 : 12);
        free(ro);
    }
}

void rp_example_figures(rp_figs *F, const tok_vocab *tok, const attn_trace *t,
                        const an_trace_classes *tc, const char *eq)
{
    char **src_l = token_labels(tok, t->src, t->n_src);
    char **tgt_l = token_labels(tok, t->tgt, t->n_rows);
    for (int k = 0; k < AN_N_KINDS; k++)
        example_kind_figures(F, t, tc, k, (const char *const *)(k == 0 ? src_l : tgt_l),
                             (const char *const *)(k == 1 ? tgt_l : src_l), eq);
    example_flow_figures(F, t, src_l, tgt_l, eq);
    free_labels(src_l, t->n_src);
    free_labels(tgt_l, t->n_rows);
}

/* The used extent of a position grid: rows and cols with any count. */
static void grid_extent(const an_grid *g, size_t *rows, size_t *cols)
{
    size_t r = 0, c = 0;
    for (size_t i = 0; i < g->rows; i++)
        for (size_t j = 0; j < g->cols; j++)
            if (g->count[i * g->cols + j] > 0) {
                if (i + 1 > r) r = i + 1;
                if (j + 1 > c) c = j + 1;
            }
    *rows = r;
    *cols = c;
}

/* A position grid's used part as a dense matrix. */
static float *grid_dense(const an_grid *g, size_t rows, size_t cols)
{
    float *all = xcalloc(g->rows * g->cols + 1, sizeof *all), *out = xcalloc(rows * cols + 1, sizeof *out);
    an_grid_mean(g, all);
    for (size_t i = 0; i < rows; i++) memcpy(out + i * cols, all + i * g->cols, cols * sizeof *out);
    free(all);
    return out;
}

/* Per-head statistics as figures: for each kind, heads (rows "L0 H1") x
 * relative offsets, and heads x key token classes. */
static void head_stat_figures(rp_figs *F, rp_accum *a)
{
    char title[512], name[64];
    for (int k = 0; k < AN_N_KINDS; k++) {
        size_t n = a->L[k] * a->H;
        if (!n) continue;
        float *off = xcalloc(n * AN_N_OFFSETS + 1, sizeof *off);
        float *cls = xcalloc(n * AN_TC_COUNT + 1, sizeof *cls);
        char **rl = xcalloc(n, sizeof *rl);
        char **ol = xcalloc(AN_N_OFFSETS, sizeof *ol);
        const char *cl[AN_TC_COUNT];
        for (size_t l = 0; l < a->L[k]; l++)
            for (size_t h = 0; h < a->H; h++) {
                size_t i = l * a->H + h;
                an_head_stats *s = an_stats_head(a->stats, (t5_attn_kind)k, l, h);
                an_stats_finish(s);
                for (int o = 0; o < AN_N_OFFSETS; o++) off[i * AN_N_OFFSETS + o] = (float)s->offset[o];
                for (int c = 0; c < AN_TC_COUNT; c++) cls[i * AN_TC_COUNT + c] = (float)s->class_mass[c];
                char buf[48];
                snprintf(buf, sizeof buf, "L%zu H%zu", l, h);
                rl[i] = xstrdup(buf);
            }
        for (int o = 0; o < AN_N_OFFSETS; o++) {
            char buf[16];
            int v = o - AN_OFFSET_WIN;
            if (v == -AN_OFFSET_WIN) snprintf(buf, sizeof buf, "<=%d", v);
            else if (v == AN_OFFSET_WIN) snprintf(buf, sizeof buf, ">=+%d", v);
            else snprintf(buf, sizeof buf, "%+d", v);
            ol[o] = xstrdup(buf);
        }
        for (int c = 0; c < AN_TC_COUNT; c++) cl[c] = an_tclass_name((an_tclass)c);
        an_panel p = {off, n, AN_N_OFFSETS, NULL, (const char *const *)rl, (const char *const *)ol, NULL};
        snprintf(name, sizeof name, "offsets_%s", rp_kind_short(k));
        snprintf(title, sizeof title,
                 "%s: attention mass per relative offset%s, each head, %zu %s",
                 rp_kind_long(k), k == T5_ATTN_CROSS ? " (k - proportional diagonal)" : " (k - q)",
                 a->traces, a->noun);
        heatmaps(F, name, title, &p, 1, 1, 0, 12);
        an_panel pc = {cls, n, AN_TC_COUNT, NULL, (const char *const *)rl, cl, NULL};
        snprintf(name, sizeof name, "keyclass_%s", rp_kind_short(k));
        snprintf(title, sizeof title, "%s: attention mass per key token class, each head, %zu %s",
                 rp_kind_long(k), a->traces, a->noun);
        if (a->byte_classes) heatmaps(F, name, title, &pc, 1, 1, 0, 12);
        free_labels(rl, n);
        free_labels(ol, AN_N_OFFSETS);
        free(off);
        free(cls);
    }
}

/* The class of every head: one panel per kind, layers x heads, a colour
 * and a mark per class. */
void rp_class_figure(rp_figs *F, rp_accum *a)
{
    float *d[AN_N_KINDS];
    char **txt[AN_N_KINDS], **ll[AN_N_KINDS];
    an_panel p[AN_N_KINDS];
    char **hl = number_labels(a->H, "H");
    for (int k = 0; k < AN_N_KINDS; k++) {
        size_t n = a->L[k] * a->H;
        d[k] = xcalloc(n + 1, sizeof *d[k]);
        txt[k] = xcalloc(n + 1, sizeof *txt[k]);
        for (size_t l = 0; l < a->L[k]; l++)
            for (size_t h = 0; h < a->H; h++) {
                an_head_class c;
                an_classify(an_stats_head(a->stats, (t5_attn_kind)k, l, h), &c);
                char buf[16];
                if (c.cls == AN_CLASS_DIAG || c.cls == AN_CLASS_BLUR)
                    snprintf(buf, sizeof buf, "%c%+d", an_class_mark(c.cls), c.offset);
                else
                    snprintf(buf, sizeof buf, "%c", an_class_mark(c.cls));
                d[k][l * a->H + h] = (float)c.cls / (float)(AN_CLASS_COUNT - 1);
                txt[k][l * a->H + h] = xstrdup(buf);
            }
        ll[k] = number_labels(a->L[k], "L");
        p[k] = (an_panel){d[k], a->L[k], a->H, rp_kind_long(k), (const char *const *)ll[k],
                          (const char *const *)hl, (const char *const *)txt[k]};
    }
    char title[512];
    snprintf(title, sizeof title,
             "the class of every head, %zu %s\nD clear diagonal (offset), B blurred diagonal "
             "(centre), V vertical stripes, S sparse squares, H heterogeneous",
             a->traces, a->noun);
    heatmaps(F, "classes", title, p, AN_N_KINDS, AN_N_KINDS, -1, 26);
    for (int k = 0; k < AN_N_KINDS; k++) {
        free(d[k]);
        free_labels(txt[k], a->L[k] * a->H);
        free_labels(ll[k], a->L[k]);
    }
    free_labels(hl, a->H);
}

void rp_aggregate_figures(rp_figs *F, rp_accum *a)
{
    head_stat_figures(F, a);
    char title[2048], name[64];
    for (int k = 0; k < AN_N_KINDS; k++) {
        /* by position */
        size_t rows, cols;
        grid_extent(a->pos[k], &rows, &cols);
        if (rows && cols) {
            float *d = grid_dense(a->pos[k], rows, cols);
            char **rl = number_labels(rows, ""), **cl = number_labels(cols, "");
            an_panel p = {d, rows, cols, NULL, (const char *const *)rl, (const char *const *)cl, NULL};
            snprintf(name, sizeof name, "avg_%s_position", rp_kind_short(k));
            snprintf(title, sizeof title,
                     "%s averaged over layers, heads and %zu %s, aligned by position",
                     rp_kind_long(k), a->traces, a->noun);
            heatmaps(F, name, title, &p, 1, 1, 0, rows > 60 || cols > 60 ? 5 : 8);
            free_labels(rl, rows);
            free_labels(cl, cols);
            free(d);
        }
        /* by class, per layer */
        if (!a->byte_classes) continue;
        size_t L = a->L[k], C = AN_TC_COUNT;
        float *d = xcalloc(L * C * C + 1, sizeof *d), *full = xcalloc(C * C, sizeof *full);
        an_panel *p = xcalloc(L, sizeof *p);
        const char **rl = xcalloc(C, sizeof *rl), **cl = xcalloc(C, sizeof *cl);
        char (*lt)[32] = xcalloc(L, sizeof *lt);
        for (size_t l = 0; l < L; l++) {
            an_grid_mean(a->cls[k][l], full);
            size_t nr, nc;
            compact_classes(full, C, C, a->seen_q[k], a->seen_k[k], d + l * C * C, &nr, &nc, rl, cl);
            trace_index_text("layer", l, L, lt[l], 32);
            p[l] = (an_panel){d + l * C * C, nr, nc, lt[l], rl, cl, NULL};
        }
        snprintf(name, sizeof name, "avg_%s_class", rp_kind_short(k));
        snprintf(title, sizeof title,
                 "%s by token class, mean over heads and %zu %s\n(row: query class, column: key class)",
                 rp_kind_long(k), a->traces, a->noun);
        if (L && p[0].rows && p[0].cols) heatmaps(F, name, title, p, L, L > 4 ? 4 : L, 0, 14);
        free(d);
        free(full);
        free(p);
        free(rl);
        free(cl);
        free(lt);
    }
    for (int i = 0; i < 2 && a->byte_classes; i++) {
        t5_attn_kind kind = i == 0 ? T5_ATTN_ENC_SELF : T5_ATTN_CROSS;
        size_t L = a->L[kind], C = AN_TC_COUNT, nr, nc;
        float *full = xcalloc(L * C + 1, sizeof *full), *d = xcalloc(L * C + 1, sizeof *d);
        an_grid_mean(a->sum_cls[i], full);
        const char **cl = xcalloc(C, sizeof *cl);
        char **ll = number_labels(L, "L");
        compact_classes(full, L, C, NULL, a->seen_k[kind], d, &nr, &nc, NULL, cl);
        an_panel p = {d, nr, nc, NULL, (const char *const *)ll, cl, NULL};
        snprintf(name, sizeof name, "summary_%s_class", rp_kind_short(kind));
        snprintf(title, sizeof title,
                 "summary by class: attention one token of each class receives per layer\n(%s, sum over heads, %zu %s)",
                 rp_kind_long(kind), a->traces, a->noun);
        heatmaps(F, name, title, &p, 1, 1, 0, 16);
        free_labels(ll, L);
        free(cl);
        free(full);
        free(d);
    }
}

/* The drop, short: ".07", "-.01", "" when it rounds to zero. */
static char *drop_text(double v)
{
    char buf[24];
    buf[0] = '\0';
    if (fabs(v) >= 0.005) {
        char num[16];
        snprintf(num, sizeof num, "%.2f", fabs(v));
        snprintf(buf, sizeof buf, "%s%s", v < 0 ? "-" : "", num[0] == '0' ? num + 1 : num);
    }
    return xstrdup(buf);
}

rp_scores rp_score_names(const an_examples *ex)
{
    if (!ex->refs) return (rp_scores){{"full solve", "character accuracy", "answer accuracy"}, 1};
    return (rp_scores){{"log-likelihood per token", "next-token agreement", "exact match"},
                       ex->tgt ? 0 : 1};
}

void rp_importance_figure(rp_figs *F, const rp_accum *a, const an_importance *imp,
                          const char *ablation, size_t n)
{
    /* the main score's drop per kind, layers x heads */
    rp_scores sn = rp_score_names(a->ex);
    float *d[AN_N_KINDS];
    an_panel p[AN_N_KINDS];
    char **hl = number_labels(a->H, "H");
    char **ll[AN_N_KINDS], **it[AN_N_KINDS];
    char tt[AN_N_KINDS][64];
    for (int k = 0; k < AN_N_KINDS; k++) {
        d[k] = xcalloc(a->L[k] * a->H + 1, sizeof *d[k]);
        it[k] = xcalloc(a->L[k] * a->H + 1, sizeof *it[k]);
        for (size_t i = 0; i < a->L[k] * a->H; i++) {
            double v = imp->drop[k][i * 3 + sn.main];
            d[k][i] = v > 0 ? (float)v : 0;
            it[k][i] = drop_text(v);
        }
        ll[k] = number_labels(a->L[k], "L");
        snprintf(tt[k], sizeof tt[k], "%s", rp_kind_long(k));
        p[k] = (an_panel){d[k], a->L[k], a->H, tt[k], (const char *const *)ll[k],
                          (const char *const *)hl, (const char *const *)it[k]};
    }
    char title[256];
    snprintf(title, sizeof title,
             "head importance: %s lost when one head is ablated\n(%s ablation, %zu %s%s)",
             sn.name[sn.main], ablation, n, a->noun,
             !a->ex->refs ? "" : a->ex->tgt ? ", scored on the targets"
                                            : ", scored against the unablated greedy outputs");
    heatmaps(F, "importance", title, p, AN_N_KINDS, AN_N_KINDS, 0, 28);
    for (int k = 0; k < AN_N_KINDS; k++)
        free(d[k]), free_labels(ll[k], a->L[k]), free_labels(it[k], a->L[k] * a->H);
    free_labels(hl, a->H);
}

int rp_hypothesis_figure(rp_figs *F, const an_hypothesis *hy, size_t n_hy, size_t n,
                         size_t draws, as_err *err)
{
    const char *lab[5] = {"no blocking", "specials, all maps", "digits, all maps",
                          "specials, source", "digits, source"};
    if (n_hy == 1) lab[1] = "specials blocked", lab[2] = "random digits";
    double v[5] = {hy[0].base[1], hy[0].special[1], hy[0].rnd_mean[1], hy[1].special[1],
                   hy[1].rnd_mean[1]};
    double e[5] = {0, 0, hy[0].rnd_sd[1], 0, hy[1].rnd_sd[1]};
    char title[256];
    snprintf(title, sizeof title,
             "character accuracy with attention to keys blocked, %zu equations\n"
             "(specials: x ^ = + - * ( ) ; D < /; digits: as many random digits, mean +- sd of %zu draws)",
             n, draws);
    char base[4096];
    rp_fig_base(F, "hypothesis", base, sizeof base);
    if (an_fig_bars(base, title, lab, v, e, 1 + 2 * n_hy, 1.0, NULL, NULL, err)) return -1;
    rp_fig_add(F, "hypothesis", title);
    return 0;
}
