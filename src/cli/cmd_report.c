/* cmd_report.c - `attnscope report`: run a model on a set of equations and
 * write what the analysis module measures: figures of every map type (PNG
 * and SVG), report.md with the per-head table, the findings with their
 * numbers, and heads.tsv.
 *
 * Deliberately thin on computation: statistics, classes, aggregates and the
 * causal experiments live in src/analysis/. This file chooses what to
 * measure, draws it and writes the words. */
#include <cblas.h>
#include <getopt.h>
#include <omp.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "byt5.h"
#include "cli.h"
#include "quad.h"
#include "t5.h"
#include "trace.h"

#define CMD "report"
#define EXAMPLE_EQ "7x^2+3556x+451612=0"
#define MAX_SRC_CAP 512

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope report [--model DIR] [--data FILE | --preset P --n N] --out DIR\n"
            "\n"
            "Run a model on a set of equations, measure every attention head and write\n"
            "DIR/report.md (per-head table, classes, importance, the findings with their\n"
            "numbers), DIR/heads.tsv and figures of every map type as PNG and SVG.\n"
            "\n"
            "  -m, --model DIR        the model folder (default: the bundled model)\n"
            "  -d, --data FILE        equations from a data-set file (source<TAB>target);\n"
            "                         a held-out test.tsv gives honest scores\n"
            "  -p, --preset P         or generate them: seed or small (default seed)\n"
            "  -n, --n N              equations for the statistics (default 100)\n"
            "      --seed S           generator seed for --preset, and for the random\n"
            "                         baseline (default 1)\n"
            "      --importance-n N   equations for head ablation (default 20; 0 skips it)\n"
            "      --ablation MODE    zero (default) or mean: what replaces an ablated head\n"
            "      --hypothesis-n N   equations for the special-symbol experiment\n"
            "                         (default 50; 0 skips it)\n"
            "      --draws K          random-digit baseline draws (default 5)\n"
            "      --block-in LIST    where the experiment blocks keys: enc,dec,cross\n"
            "                         (default: two runs, all three, then enc,cross)\n"
            "      --example EQ       the equation drawn in the per-example figures\n"
            "                         (default " EXAMPLE_EQ ")\n"
            "      --max-len N        longest decoded output in tokens (default %d)\n"
            "      --threads N        decoding threads for ablation and the hypothesis,\n"
            "                         one equation each (default: all cores)\n"
            "  -o, --out DIR          the folder to write (created if needed)\n"
            "  -q, --quiet            no progress bar\n"
            "  -h, --help             this help\n"
            "\n"
            "Ablation decodes every --importance-n equation once per head (3 x layers x heads\n"
            "times), the hypothesis (2 + --draws) times: those two dominate the run time.\n",
            QUAD_MAX_GEN);
}

/* ---- progress bar on stderr ------------------------------------------------ */

typedef struct {
    int on;
    const char *stage;
    size_t total;
    double last, start;
} progress;

static void prog_cb(void *user, size_t done)
{
    progress *p = user;
    if (!p->on) return;
    double now = util_now();
    if (done < p->total && now - p->last < 0.1) return;
    p->last = now;
    int width = 30, fill = p->total ? (int)((double)width * (double)done / (double)p->total) : width;
    if (fill > width) fill = width;
    fprintf(stderr, "\r%-28s [", p->stage);
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : ' ', stderr);
    fprintf(stderr, "] %zu/%zu", done, p->total);
    if (done > 0 && done < p->total) {
        double left = (now - p->start) / (double)done * (double)(p->total - done);
        fprintf(stderr, "  %.0f s left  ", left);
    } else if (done >= p->total) {
        fprintf(stderr, "  %.1f s        ", now - p->start);
    }
    if (done >= p->total) fputc('\n', stderr);
    fflush(stderr);
}

static void prog_start(progress *p, const char *stage, size_t total)
{
    p->stage = stage;
    p->total = total;
    p->last = 0;
    p->start = util_now();
    prog_cb(p, 0);
}

/* ---- what is accumulated over the equations ----------------------------- */

typedef struct {
    const t5_model *m;
    size_t L[AN_N_KINDS], H, max_src, max_tgt;
    an_stats *stats;
    an_means means;                 /* per-head position-aligned means */
    an_grid **cls[AN_N_KINDS];      /* per layer: class x class, over heads and equations */
    an_grid *pos[AN_N_KINDS];       /* over layers, heads and equations, by position */
    an_grid *sum_pos[2], *sum_cls[2]; /* summary maps of ENC_SELF (0) and CROSS (1) */
    an_grid *roll[2];               /* rollout of ENC_SELF (0), DEC_SELF (1) */
    unsigned char seen_q[AN_N_KINDS][AN_TC_COUNT], seen_k[AN_N_KINDS][AN_TC_COUNT];
    float *buf;                     /* scratch, max(max_src, max_tgt)^2 */
    size_t traces;
    const an_examples *ex;          /* the equations, in the order they are traced */
    quad_scores scores;             /* of the traced (greedy) outputs */
} accum;

static void accum_init(accum *a, const t5_model *m, size_t max_src, size_t max_tgt)
{
    memset(a, 0, sizeof *a);
    a->m = m;
    a->L[0] = m->cfg.num_layers;
    a->L[1] = a->L[2] = m->cfg.num_decoder_layers;
    a->H = m->cfg.num_heads;
    a->max_src = max_src;
    a->max_tgt = max_tgt;
    a->stats = an_stats_new(a->L[0], a->L[1], a->H);
    an_means_init(&a->means, m, max_src, max_tgt);
    for (int k = 0; k < AN_N_KINDS; k++) {
        a->cls[k] = xcalloc(a->L[k], sizeof *a->cls[k]);
        for (size_t l = 0; l < a->L[k]; l++) a->cls[k][l] = an_grid_new(AN_TC_COUNT, AN_TC_COUNT);
        a->pos[k] = an_grid_new(k == T5_ATTN_ENC_SELF ? max_src : max_tgt,
                                k == T5_ATTN_DEC_SELF ? max_tgt : max_src);
    }
    a->sum_pos[0] = an_grid_new(a->L[0], max_src);
    a->sum_pos[1] = an_grid_new(a->L[2], max_src);
    a->sum_cls[0] = an_grid_new(a->L[0], AN_TC_COUNT);
    a->sum_cls[1] = an_grid_new(a->L[2], AN_TC_COUNT);
    a->roll[0] = an_grid_new(max_src, max_src);
    a->roll[1] = an_grid_new(max_tgt, max_tgt);
    size_t mx = max_src > max_tgt ? max_src : max_tgt;
    a->buf = xmalloc((mx * mx + AN_TC_COUNT * 64) * sizeof *a->buf);
}

static void accum_free(accum *a)
{
    an_stats_free(a->stats);
    an_means_free(&a->means);
    for (int k = 0; k < AN_N_KINDS; k++) {
        for (size_t l = 0; l < a->L[k]; l++) an_grid_free(a->cls[k][l]);
        free(a->cls[k]);
        an_grid_free(a->pos[k]);
    }
    for (int i = 0; i < 2; i++) {
        an_grid_free(a->sum_pos[i]);
        an_grid_free(a->sum_cls[i]);
        an_grid_free(a->roll[i]);
    }
    free(a->buf);
}

static const int *qtok(const attn_trace *t, int kind) { return kind == T5_ATTN_ENC_SELF ? t->src : t->tgt; }
static const int *ktok(const attn_trace *t, int kind) { return kind == T5_ATTN_DEC_SELF ? t->tgt : t->src; }

static void accum_trace(void *user, const attn_trace *t)
{
    accum *a = user;
    an_stats_add_trace(a->stats, t);
    an_means_add(&a->means, t);
    for (int k = 0; k < AN_N_KINDS; k++) {
        size_t rows, cols, stride;
        for (size_t l = 0; l < a->L[k]; l++)
            for (size_t h = 0; h < a->H; h++) {
                const float *m = trace_map(t, (t5_attn_kind)k, l, h, &rows, &cols, &stride);
                an_grid_add_by_class(a->cls[k][l], m, rows, cols, stride, qtok(t, k), ktok(t, k));
                an_grid_add(a->pos[k], m, rows, cols, stride);
            }
        trace_map(t, (t5_attn_kind)k, 0, 0, &rows, &cols, &stride);
        for (size_t i = 0; i < rows; i++) a->seen_q[k][an_token_class(qtok(t, k)[i])] = 1;
        for (size_t i = 0; i < cols; i++) a->seen_k[k][an_token_class(ktok(t, k)[i])] = 1;
    }
    for (int i = 0; i < 2; i++) {
        t5_attn_kind kind = i == 0 ? T5_ATTN_ENC_SELF : T5_ATTN_CROSS;
        size_t L = a->L[kind], cols;
        an_summary_map(t, kind, a->buf, &cols);
        an_grid_add(a->sum_pos[i], a->buf, L, cols, cols);
        /* by class: the mean attention one token of the class receives */
        for (size_t l = 0; l < L; l++) {
            double s[AN_TC_COUNT] = {0}, c[AN_TC_COUNT] = {0};
            for (size_t k = 0; k < cols; k++) {
                an_tclass tc = an_token_class(t->src[k]);
                s[tc] += a->buf[l * cols + k];
                c[tc] += 1;
            }
            for (int tc = 0; tc < AN_TC_COUNT; tc++)
                if (c[tc] > 0) {
                    a->sum_cls[i]->sum[l * AN_TC_COUNT + tc] += s[tc] / c[tc];
                    a->sum_cls[i]->count[l * AN_TC_COUNT + tc] += 1;
                }
        }
        size_t n;
        an_rollout(t, i == 0 ? T5_ATTN_ENC_SELF : T5_ATTN_DEC_SELF, a->buf, &n);
        an_grid_add(a->roll[i], a->buf, n, n, n);
    }
    if (a->ex && a->traces < a->ex->n) {
        char text[4 * 4096 + 8];
        size_t n = t->n_tgt > 0 ? t->n_tgt - 1 : 0;
        byt5_decode(t->tgt + 1, n, text, sizeof text);
        quad_scores_add(&a->scores, (quad_kind)a->ex->kind[a->traces], a->ex->tgt[a->traces], text);
    }
    a->traces++;
}

/* ---- output helpers ------------------------------------------------------ */

static const char *kind_short(int k)
{
    static const char *s[] = {"enc", "dec", "cross"};
    return s[k];
}

static const char *kind_long(int k)
{
    static const char *s[] = {"encoder self-attention", "decoder self-attention",
                              "cross-attention"};
    return s[k];
}

/* Token labels of ids into a table of strings (freed with free_labels). */
static char **token_labels(const int *ids, size_t n)
{
    char **l = xcalloc(n + 1, sizeof *l);
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        l[i] = xstrdup(byt5_token_label(ids[i], buf, sizeof buf));
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

/* The list of figures written, for report.md. */
typedef struct {
    char name[64];
    char caption[256];
} figure;

typedef struct {
    const char *dir;
    figure *f;
    size_t n, cap;
    as_err *err;
    int failed;
} figs;

static int fig_add(figs *F, const char *name, const char *caption)
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
    return 0;
}

static void fig_base(const figs *F, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", F->dir, name);
}

static int heatmaps(figs *F, const char *name, const char *title, const an_panel *p, size_t n,
                    size_t gcols, float vmax, size_t cell)
{
    if (F->failed) return -1;
    char base[4096];
    fig_base(F, name, base, sizeof base);
    if (an_fig_heatmaps(base, title, p, n, gcols, vmax, cell, NULL, NULL, F->err)) {
        F->failed = 1;
        return -1;
    }
    return fig_add(F, name, title);
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

static void example_figures(figs *F, const attn_trace *t, const an_trace_classes *tc,
                            const char *eq)
{
    size_t L[3] = {t->n_enc_layers, t->n_dec_layers, t->n_dec_layers}, H = t->n_heads;
    char **src_l = token_labels(t->src, t->n_src);
    char **tgt_l = token_labels(t->tgt, t->n_rows);
    char title[2048], name[64];
    for (int k = 0; k < AN_N_KINDS; k++) {
        const char *const *rl = (const char *const *)(k == 0 ? src_l : tgt_l);
        const char *const *cl = (const char *const *)(k == 1 ? tgt_l : src_l);
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
        snprintf(name, sizeof name, "example_%s_heads", kind_short(k));
        snprintf(title, sizeof title, "%s, every layer (rows) and head\n%s", kind_long(k), eq);
        if (rows && cols) heatmaps(F, name, title, p, L[k] * H, H, 0, rows > 40 || cols > 40 ? 4 : 7);
        free(data);
        free(titles);
        free(p);
        if (!rows || !cols) continue;

        /* mean over heads, per layer */
        float *lay = xcalloc(L[k] * rows * cols + 1, sizeof *lay);
        an_panel *lp = xcalloc(L[k], sizeof *lp);
        char (*lt)[32] = xcalloc(L[k], sizeof *lt);
        for (size_t l = 0; l < L[k]; l++) {
            size_t r, c;
            an_mean_map(t, (t5_attn_kind)k, (long)l, -1, lay + l * rows * cols, &r, &c);
            snprintf(lt[l], 32, "layer %zu", l);
            lp[l] = (an_panel){lay + l * rows * cols, rows, cols, lt[l], rl, cl, NULL};
        }
        snprintf(name, sizeof name, "example_%s_layers", kind_short(k));
        snprintf(title, sizeof title, "%s averaged over heads, per layer\n%s", kind_long(k), eq);
        heatmaps(F, name, title, lp, L[k], L[k] > 4 ? 4 : L[k], 0, 9);
        /* mean over everything */
        size_t r, c;
        an_mean_map(t, (t5_attn_kind)k, -1, -1, lay, &r, &c);
        an_panel one = {lay, r, c, NULL, rl, cl, NULL};
        snprintf(name, sizeof name, "example_%s_mean", kind_short(k));
        snprintf(title, sizeof title, "%s averaged over layers and heads\n%s", kind_long(k), eq);
        heatmaps(F, name, title, &one, 1, 1, 0, 12);
        free(lay);
        free(lp);
        free(lt);
    }
    /* summary maps and rollouts */
    for (int i = 0; i < 2; i++) {
        t5_attn_kind kind = i == 0 ? T5_ATTN_ENC_SELF : T5_ATTN_CROSS;
        size_t n = L[kind], cols;
        float *sm = xcalloc(n * t->n_src + 1, sizeof *sm);
        an_summary_map(t, kind, sm, &cols);
        char **ll = number_labels(n, "L");
        an_panel p = {sm, n, cols, NULL, (const char *const *)ll, (const char *const *)src_l, NULL};
        snprintf(name, sizeof name, "summary_%s", kind_short(kind));
        snprintf(title, sizeof title,
                 "summary: attention each input token receives per layer (%s, sum over heads)\n%s",
                 kind_long(kind), eq);
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
static void head_stat_figures(figs *F, accum *a)
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
        snprintf(name, sizeof name, "offsets_%s", kind_short(k));
        snprintf(title, sizeof title,
                 "%s: attention mass per relative offset%s, each head, %zu equations",
                 kind_long(k), k == T5_ATTN_CROSS ? " (k - proportional diagonal)" : " (k - q)",
                 a->traces);
        heatmaps(F, name, title, &p, 1, 1, 0, 12);
        an_panel pc = {cls, n, AN_TC_COUNT, NULL, (const char *const *)rl, cl, NULL};
        snprintf(name, sizeof name, "keyclass_%s", kind_short(k));
        snprintf(title, sizeof title, "%s: attention mass per key token class, each head, %zu equations",
                 kind_long(k), a->traces);
        heatmaps(F, name, title, &pc, 1, 1, 0, 12);
        free_labels(rl, n);
        free_labels(ol, AN_N_OFFSETS);
        free(off);
        free(cls);
    }
}

/* The class of every head: one panel per kind, layers x heads, a colour
 * and a mark per class. */
static void class_figure(figs *F, accum *a)
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
        p[k] = (an_panel){d[k], a->L[k], a->H, kind_long(k), (const char *const *)ll[k],
                          (const char *const *)hl, (const char *const *)txt[k]};
    }
    char title[512];
    snprintf(title, sizeof title,
             "the class of every head, %zu equations\nD clear diagonal (offset), B blurred diagonal "
             "(centre), V vertical stripes, S sparse squares, H heterogeneous",
             a->traces);
    heatmaps(F, "classes", title, p, AN_N_KINDS, AN_N_KINDS, -1, 26);
    for (int k = 0; k < AN_N_KINDS; k++) {
        free(d[k]);
        free_labels(txt[k], a->L[k] * a->H);
        free_labels(ll[k], a->L[k]);
    }
    free_labels(hl, a->H);
}

static void aggregate_figures(figs *F, accum *a)
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
            snprintf(name, sizeof name, "avg_%s_position", kind_short(k));
            snprintf(title, sizeof title,
                     "%s averaged over layers, heads and %zu equations, aligned by position",
                     kind_long(k), a->traces);
            heatmaps(F, name, title, &p, 1, 1, 0, rows > 60 || cols > 60 ? 5 : 8);
            free_labels(rl, rows);
            free_labels(cl, cols);
            free(d);
        }
        /* by class, per layer */
        size_t L = a->L[k], C = AN_TC_COUNT;
        float *d = xcalloc(L * C * C + 1, sizeof *d), *full = xcalloc(C * C, sizeof *full);
        an_panel *p = xcalloc(L, sizeof *p);
        const char **rl = xcalloc(C, sizeof *rl), **cl = xcalloc(C, sizeof *cl);
        char (*lt)[32] = xcalloc(L, sizeof *lt);
        for (size_t l = 0; l < L; l++) {
            an_grid_mean(a->cls[k][l], full);
            size_t nr, nc;
            compact_classes(full, C, C, a->seen_q[k], a->seen_k[k], d + l * C * C, &nr, &nc, rl, cl);
            snprintf(lt[l], 32, "layer %zu", l);
            p[l] = (an_panel){d + l * C * C, nr, nc, lt[l], rl, cl, NULL};
        }
        snprintf(name, sizeof name, "avg_%s_class", kind_short(k));
        snprintf(title, sizeof title,
                 "%s by token class, mean over heads and %zu equations\n(row: query class, column: key class)",
                 kind_long(k), a->traces);
        if (L && p[0].rows && p[0].cols) heatmaps(F, name, title, p, L, L > 4 ? 4 : L, 0, 14);
        free(d);
        free(full);
        free(p);
        free(rl);
        free(cl);
        free(lt);
    }
    for (int i = 0; i < 2; i++) {
        t5_attn_kind kind = i == 0 ? T5_ATTN_ENC_SELF : T5_ATTN_CROSS;
        size_t L = a->L[kind], C = AN_TC_COUNT, nr, nc;
        float *full = xcalloc(L * C + 1, sizeof *full), *d = xcalloc(L * C + 1, sizeof *d);
        an_grid_mean(a->sum_cls[i], full);
        const char **cl = xcalloc(C, sizeof *cl);
        char **ll = number_labels(L, "L");
        compact_classes(full, L, C, NULL, a->seen_k[kind], d, &nr, &nc, NULL, cl);
        an_panel p = {d, nr, nc, NULL, (const char *const *)ll, cl, NULL};
        snprintf(name, sizeof name, "summary_%s_class", kind_short(kind));
        snprintf(title, sizeof title,
                 "summary by class: attention one token of each class receives per layer\n(%s, sum over heads, %zu equations)",
                 kind_long(kind), a->traces);
        heatmaps(F, name, title, &p, 1, 1, 0, 16);
        free_labels(ll, L);
        free(cl);
        free(full);
        free(d);
    }
}

/* ---- the report ----------------------------------------------------------- */

typedef struct {
    const char *model_dir, *data, *preset, *out, *example, *ablation;
    size_t n, seed, imp_n, hyp_n, draws, max_len, threads;
    unsigned block_kinds;   /* bit per t5_attn_kind */
    int quiet;
} options;

/* Per-head record for the tables and findings. */
typedef struct {
    int kind;
    size_t layer, head;
    an_head_class c;
    an_head_stats *s;
    double drop[3];
    int have_drop;
} head_rec;

static int cmp_drop(const void *x, const void *y)
{
    const head_rec *a = *(const head_rec *const *)x, *b = *(const head_rec *const *)y;
    if (a->drop[1] != b->drop[1]) return a->drop[1] < b->drop[1] ? 1 : -1;
    return 0;
}

/* A score change for people: no "-0.000". */
static double chg(double v) { return fabs(v) < 5e-4 ? 0.0 : v; }

/* Top token classes of a head's key mass, as "x 0.41, = 0.22". */
static void top_classes(const an_head_stats *s, char *buf, size_t cap)
{
    int used[AN_TC_COUNT] = {0};
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < 2; i++) {
        int best = -1;
        for (int c = 0; c < AN_TC_COUNT; c++)
            if (!used[c] && (best < 0 || s->class_mass[c] > s->class_mass[best])) best = c;
        if (best < 0 || s->class_mass[best] <= 0) break;
        used[best] = 1;
        len += (size_t)snprintf(buf + len, cap - len, "%s`%s` %.2f", i ? ", " : "",
                                an_tclass_name((an_tclass)best), s->class_mass[best]);
        if (len >= cap) break;
    }
}

/* "encoder self-attention, cross-attention" for a bit set of kinds. */
static const char *kinds_text(unsigned bits)
{
    static char buf[128];
    if (bits == 7u) return "every attention map (encoder self, decoder self and cross)";
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < AN_N_KINDS; k++)
        if (bits & (1u << k))
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? " and " : "",
                                    kind_long(k));
    return buf;
}

static void write_findings(FILE *f, head_rec *recs, size_t nrec, const an_stats *st,
                           const an_importance *imp, const an_hypothesis *hys, size_t n_hy,
                           const options *o)
{
    fprintf(f, "## Findings\n\n");
    for (int k = 0; k < AN_N_KINDS; k++) {
        size_t L = st->n_layers[k];
        fprintf(f, "- **%s** (%zu layers x %zu heads):", kind_long(k), L, st->n_heads);
        int first = 1;
        for (int cl = 0; cl < AN_CLASS_COUNT; cl++) {
            size_t count = 0, per_layer[256] = {0};
            double layer_sum = 0;
            int off_count[2 * AN_OFFSET_WIN + 1] = {0};
            unsigned stripe_cls = 0;
            for (size_t i = 0; i < nrec; i++) {
                head_rec *r = &recs[i];
                if (r->kind != k || (int)r->c.cls != cl) continue;
                count++;
                if (r->layer < 256) per_layer[r->layer]++;
                layer_sum += (double)r->layer;
                if (cl == AN_CLASS_DIAG || cl == AN_CLASS_BLUR) {
                    int o2 = r->c.offset + AN_OFFSET_WIN;
                    if (o2 >= 0 && o2 < 2 * AN_OFFSET_WIN + 1) off_count[o2]++;
                }
                if (cl == AN_CLASS_STRIPES) stripe_cls |= r->c.stripe_classes;
            }
            if (!count) continue;
            fprintf(f, "%s %s: %zu head%s (", first ? "" : ";", an_class_name((an_class)cl), count,
                    count == 1 ? "" : "s");
            first = 0;
            int lf = 1;
            for (size_t l = 0; l < L && l < 256; l++)
                if (per_layer[l]) {
                    fprintf(f, "%slayer %zu: %zu", lf ? "" : ", ", l, per_layer[l]);
                    lf = 0;
                }
            fprintf(f, "; mean layer %.1f)", layer_sum / (double)count);
            if (cl == AN_CLASS_DIAG || cl == AN_CLASS_BLUR) {
                fprintf(f, ", offsets");
                int of = 1;
                for (int o2 = 0; o2 < 2 * AN_OFFSET_WIN + 1; o2++)
                    if (off_count[o2]) {
                        fprintf(f, "%s %+d (%d)", of ? "" : ",", o2 - AN_OFFSET_WIN, off_count[o2]);
                        of = 0;
                    }
            }
            if (cl == AN_CLASS_STRIPES && stripe_cls) {
                fprintf(f, ", on");
                for (int c = 0; c < AN_TC_COUNT; c++)
                    if (stripe_cls & (1u << c)) fprintf(f, " `%s`", an_tclass_name((an_tclass)c));
            }
        }
        fprintf(f, ".\n");
    }
    /* the study's four observations, counted (first half of a stack's layers
     * vs the deeper half) */
    {
        size_t first[AN_CLASS_COUNT] = {0}, deep[AN_CLASS_COUNT] = {0}, stripe_special = 0;
        unsigned special_bits = 0;
        for (int c = AN_TC_X; c <= AN_TC_SLASH; c++) special_bits |= 1u << c;
        for (size_t i = 0; i < nrec; i++) {
            head_rec *r = &recs[i];
            size_t L = st->n_layers[r->kind];
            if (2 * r->layer < L) first[r->c.cls]++;
            else deep[r->c.cls]++;
            if (r->c.cls == AN_CLASS_STRIPES && (r->c.stripe_classes & special_bits)) stripe_special++;
        }
        fprintf(f, "- **Against the study's observations** (all three kinds; \"first\" = the first half "
                   "of a stack's layers): clear diagonals on the first layers: %zu heads on the first "
                   "layers, %zu on the deeper ones; blurred diagonals: %zu + %zu; vertical stripes on "
                   "special symbols: %zu of the %zu stripe heads have a special symbol among their "
                   "stripes; sparse squares on deeper layers: %zu heads on the deeper layers, %zu on "
                   "the first ones; heterogeneous: %zu + %zu.\n",
                first[AN_CLASS_DIAG], deep[AN_CLASS_DIAG], first[AN_CLASS_BLUR], deep[AN_CLASS_BLUR],
                stripe_special, first[AN_CLASS_STRIPES] + deep[AN_CLASS_STRIPES],
                deep[AN_CLASS_BLOCK], first[AN_CLASS_BLOCK], first[AN_CLASS_HETERO],
                deep[AN_CLASS_HETERO]);
    }
    /* where the special symbols stand in the attention */
    double spec = 0, dig = 0;
    size_t nh = 0;
    for (size_t i = 0; i < nrec; i++) {
        if (recs[i].kind == T5_ATTN_DEC_SELF) continue;
        const an_head_stats *s = recs[i].s;
        for (int c = AN_TC_X; c <= AN_TC_SLASH; c++) spec += s->class_mass[c];
        dig += s->class_mass[AN_TC_DIGIT];
        nh++;
    }
    if (nh)
        fprintf(f,
                "- Over the heads that read the source (encoder self and cross), the special symbols "
                "receive %.3f of the attention on average and the digits %.3f",
                spec / (double)nh, dig / (double)nh);
    if (nh && n_hy && hys[0].n)
        fprintf(f, ", while a source holds %.1f special symbols and %.1f digits",
                hys[0].src_special, hys[0].src_digits);
    if (nh) fprintf(f, ".\n");

    if (imp) {
        head_rec **order = xmalloc(nrec * sizeof *order);
        for (size_t i = 0; i < nrec; i++) order[i] = &recs[i];
        qsort(order, nrec, sizeof *order, cmp_drop);
        size_t big = 0;
        for (size_t i = 0; i < nrec; i++) big += order[i]->drop[1] > 0.01;
        fprintf(f,
                "- **Heads that matter** (%s ablation of one head at a time, %zu equations; "
                "without ablation: full solve %.3f, character accuracy %.3f, answer accuracy %.3f): "
                "%zu of %zu heads lower character accuracy by more than 0.01.",
                o->ablation, o->imp_n, imp->base[0], imp->base[1], imp->base[2], big, nrec);
        size_t shown = 0;
        for (size_t i = 0; i < nrec && i < 5; i++)
            shown += order[i]->drop[1] >= 5e-4;
        if (shown) fprintf(f, " The largest drops:");
        else fprintf(f, " No single head's ablation lowers character accuracy");
        for (size_t i = 0; i < shown; i++) {
            head_rec *r = order[i];
            fprintf(f, "%s %s L%zu H%zu (%s) chars %+.3f, full %+.3f, answer %+.3f", i ? ";" : "",
                    kind_short(r->kind), r->layer, r->head, r->c.label, chg(-r->drop[1]),
                    chg(-r->drop[0]), chg(-r->drop[2]));
        }
        fprintf(f, ".\n");
        free(order);
    }
    for (size_t hi = 0; hi < n_hy; hi++) {
        const an_hypothesis *hy = &hys[hi];
        fprintf(f,
                "- **Hypothesis, %s** (the special symbols store the results of the computation): "
                "blocking attention to the special-symbol keys in %s, over %zu "
                "equations, moves character accuracy from %.3f to %.3f (full solve %.3f -> %.3f, "
                "answer %.3f -> %.3f); blocking as many random digit keys instead gives %.3f +- %.3f "
                "(mean +- sd over %zu draws; full solve %.3f +- %.3f, answer %.3f +- %.3f). ",
                hy->kinds == 7u ? "every map" : hy->kinds == 5u ? "source keys only" : "chosen maps",
                kinds_text(hy->kinds), hy->n, hy->base[1], hy->special[1], hy->base[0], hy->special[0], hy->base[2],
                hy->special[2], hy->rnd_mean[1], hy->rnd_sd[1], hy->draws, hy->rnd_mean[0],
                hy->rnd_sd[0], hy->rnd_mean[2], hy->rnd_sd[2]);
        if (hy->base[1] < 0.2)
            fprintf(f, "The model gets only %.3f of the characters right without any blocking, so "
                       "this experiment says little about it. ",
                    hy->base[1]);
        if (hy->holds)
            fprintf(f, "By the rule below the hypothesis **holds** on this model: blocking the "
                       "specials costs %.3f more character accuracy than blocking digits.\n",
                    hy->rnd_mean[1] - hy->special[1]);
        else
            fprintf(f, "By the rule below the hypothesis is **not supported** on this model "
                       "(difference to the random baseline %.3f).\n",
                    hy->rnd_mean[1] - hy->special[1]);
    }
    fprintf(f, "\n");
}

static int write_report(const options *o, const t5_model *m, const an_examples *ex, accum *a,
                        const an_importance *imp, const an_hypothesis *hys, size_t n_hy,
                        const figs *F,
                        double seconds, as_err *err)
{
    const t5_config *c = &m->cfg;
    size_t nrec = 0;
    for (int k = 0; k < AN_N_KINDS; k++) nrec += a->L[k] * a->H;
    head_rec *recs = xcalloc(nrec + 1, sizeof *recs);
    size_t i = 0;
    for (int k = 0; k < AN_N_KINDS; k++)
        for (size_t l = 0; l < a->L[k]; l++)
            for (size_t h = 0; h < a->H; h++, i++) {
                recs[i].kind = k;
                recs[i].layer = l;
                recs[i].head = h;
                recs[i].s = an_stats_head(a->stats, (t5_attn_kind)k, l, h);
                an_classify(recs[i].s, &recs[i].c);
                if (imp) {
                    for (int j = 0; j < 3; j++) recs[i].drop[j] = imp->drop[k][(l * a->H + h) * 3 + j];
                    recs[i].have_drop = 1;
                }
            }

    char path[4096];
    /* heads.tsv */
    snprintf(path, sizeof path, "%s/heads.tsv", o->out);
    atomic_file af;
    if (atomic_open(&af, path, err)) goto fail;
    fprintf(af.f, "kind\tlayer\thead\tclass\tlabel\toffset\tdiag\tstripe\tblock\tband\tentropy\t"
                  "entropy_uniform\tdistance\ttopk\tdrop_full\tdrop_chars\tdrop_answer");
    static const char *cls_key[AN_TC_COUNT] = {"digit", "x",  "caret", "eq",    "sign",
                                               "star",  "paren", "semi", "D",   "lt",
                                               "slash", "eos", "pad",   "other"};
    for (int c = 0; c < AN_TC_COUNT; c++) fprintf(af.f, "\tmass_%s", cls_key[c]);
    for (int o = 0; o < AN_N_OFFSETS; o++) fprintf(af.f, "\toffset_%+d", o - AN_OFFSET_WIN);
    fputc('\n', af.f);
    for (i = 0; i < nrec; i++) {
        head_rec *r = &recs[i];
        fprintf(af.f, "%s\t%zu\t%zu\t%s\t%s\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t",
                kind_short(r->kind), r->layer, r->head, an_class_name(r->c.cls), r->c.label,
                r->c.offset, r->c.diag, r->c.stripe, r->c.block, r->c.band, r->s->entropy,
                r->s->entropy_uniform, r->s->distance, r->s->topk);
        if (r->have_drop) fprintf(af.f, "%.4f\t%.4f\t%.4f", r->drop[0], r->drop[1], r->drop[2]);
        else fprintf(af.f, "\t\t");
        for (int c = 0; c < AN_TC_COUNT; c++) fprintf(af.f, "\t%.4f", r->s->class_mass[c]);
        for (int o = 0; o < AN_N_OFFSETS; o++) fprintf(af.f, "\t%.4f", r->s->offset[o]);
        fputc('\n', af.f);
    }
    if (atomic_commit(&af, err)) goto fail;

    snprintf(path, sizeof path, "%s/report.md", o->out);
    if (atomic_open(&af, path, err)) goto fail;
    FILE *f = af.f;
    fprintf(f, "# Attention report\n\n");
    fprintf(f, "Written by `attnscope report` %s. Model `%s`: d_model %zu, %zu encoder + %zu decoder "
               "layers, %zu heads of d_kv %zu, d_ff %zu, %s. ",
            ATTNSCOPE_VERSION, o->model_dir, c->d_model, c->num_layers, c->num_decoder_layers,
            c->num_heads, c->d_kv, c->d_ff, c->ff == T5_FF_RELU ? "relu" : "gated-gelu");
    if (o->data) fprintf(f, "Equations: the first %zu of `%s`. ", ex->n, o->data);
    else fprintf(f, "Equations: %zu generated from preset `%s`, seed %zu (they may overlap the "
                    "training data; pass a held-out `--data test.tsv` for honest scores). ",
                 ex->n, o->preset, o->seed);
    fprintf(f, "Greedy decoding, at most %zu tokens. Took %.1f s.\n\n", o->max_len, seconds);

    fprintf(f, "## Scores of the traced equations\n\n"
               "| kind | equations | full solve | character accuracy | answer accuracy |\n"
               "|---|---|---|---|---|\n");
    fprintf(f, "| all | %zu | %.3f | %.3f | %.3f |\n", a->scores.all.n,
            quad_score_full(&a->scores.all), quad_score_chars(&a->scores.all),
            quad_score_answer(&a->scores.all));
    for (int k = 0; k < QUAD_N_KINDS; k++)
        if (a->scores.kind[k].n)
            fprintf(f, "| %s | %zu | %.3f | %.3f | %.3f |\n", quad_kind_name((quad_kind)k),
                    a->scores.kind[k].n, quad_score_full(&a->scores.kind[k]),
                    quad_score_chars(&a->scores.kind[k]), quad_score_answer(&a->scores.kind[k]));
    fprintf(f, "\n");

    write_findings(f, recs, nrec, a->stats, imp, hys, n_hy, o);

    fprintf(f, "## How heads are classified\n\n"
               "Each head's maps are pooled over the %zu equations (rows: query tokens, columns: key "
               "tokens; rows that were not computed are skipped). Offsets are k - q; cross-attention "
               "has no natural diagonal, so its diagonal is the proportional alignment "
               "a(q) = q (n_k-1)/(n_q-1). The first rule that holds gives the class (after Kovaleva "
               "et al. 2019):\n\n",
            a->traces);
    fprintf(f, "1. **clear diagonal**: the mean mass on one offset (window -%d..+%d) is at least %.2f (`diag`).\n",
            AN_OFFSET_WIN - 1, AN_OFFSET_WIN - 1, AN_DIAG_CLEAR);
    fprintf(f, "2. **vertical stripes**: the %d columns that receive the most attention hold at least "
               "%.2f of a row's mass (`stripe`); the stripes' token classes are those with at least "
               "%.0f%% of that mass.\n",
            AN_STRIPE_COLS, AN_STRIPE_MIN, 100 * AN_STRIPE_TOKEN_SHARE);
    fprintf(f, "3. **sparse squares**: `block` = repeat x (1 - far) is at least %.2f, where repeat is the "
               "share of consecutive rows that change by at most %.2f (1 - histogram overlap), far "
               "the overlap of rows half the map apart, and at least one pair of consecutive rows "
               "changes by %.2f or more.\n",
            AN_BLOCK_MIN, AN_BLOCK_SAME, AN_BLOCK_JUMP);
    fprintf(f, "4. **blurred diagonal**: some band of %d consecutive offsets holds at least %.2f (`band`).\n",
            2 * AN_BLUR_HALF + 1, AN_BLUR_MIN);
    fprintf(f, "5. **heterogeneous**: none of the above.\n\n");
    fprintf(f, "The hypothesis rule: it holds when blocking the special symbols lowers character "
               "accuracy below the random-digit baseline's mean by more than %.0f standard "
               "deviations of that baseline and by at least %.2f. Blocking sets a key's "
               "probability to 0 and renormalises the row (the same as masking it before the "
               "softmax); the random baseline blocks, in each row, as many digit keys as there "
               "are special-symbol keys among the keys that row sees (all its digits when it sees fewer), chosen by a fixed random priority per draw.\n\n",
            AN_HYP_SD, AN_HYP_MIN_GAP);

    fprintf(f, "## Every head\n\n"
               "`H/Hu`: mean row entropy over the entropy of a uniform row (Clark et al. 2019); "
               "`dist`: mean attended distance; `top%d`: mass on the %d largest keys; `keys`: the "
               "token classes receiving the most mass; `d chars` etc.: the score lost when the head "
               "alone is ablated.\n\n",
            AN_TOPK, AN_TOPK);
    fprintf(f, "| head | class | diag | stripe | block | band | H/Hu | dist | top%d | keys | d full | d chars | d answer |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            AN_TOPK);
    for (i = 0; i < nrec; i++) {
        head_rec *r = &recs[i];
        char keys[128];
        top_classes(r->s, keys, sizeof keys);
        fprintf(f, "| %s L%zu H%zu | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s |",
                kind_short(r->kind), r->layer, r->head, r->c.label, r->c.diag, r->c.stripe,
                r->c.block, r->c.band,
                r->s->entropy_uniform > 0 ? r->s->entropy / r->s->entropy_uniform : 0,
                r->s->distance, r->s->topk, keys);
        if (r->have_drop)
            fprintf(f, " %+.3f | %+.3f | %+.3f |\n", chg(-r->drop[0]), chg(-r->drop[1]), chg(-r->drop[2]));
        else fprintf(f, " | | |\n");
    }
    fprintf(f, "\n## Figures\n\nEach figure is written as PNG and SVG.\n\n");
    for (i = 0; i < F->n; i++)
        fprintf(f, "### %s\n\n![%s](%s.png)\n\n[SVG](%s.svg)\n\n", F->f[i].caption, F->f[i].name,
                F->f[i].name, F->f[i].name);
    fprintf(f, "The per-head table is also in `heads.tsv`.\n");
    if (atomic_commit(&af, err)) goto fail;
    free(recs);
    return 0;
fail:
    free(recs);
    return -1;
}

/* ---- the command ---------------------------------------------------------- */

typedef struct {
    char **src, **tgt;
    int *kind;
    size_t n;
    quad_dataset ds;
} example_set;

static void examples_free(example_set *e)
{
    if (e->src && !e->ds.ex) {
        for (size_t i = 0; i < e->n; i++) free(e->src[i]), free(e->tgt[i]);
    }
    free(e->src);
    free(e->tgt);
    free(e->kind);
    quad_ds_free(&e->ds);
}

static int load_examples(const options *o, example_set *e, as_err *err)
{
    memset(e, 0, sizeof *e);
    if (o->data) {
        if (quad_ds_read(o->data, o->n, &e->ds, err)) return -1;
        if (e->ds.n == 0) return as_errf(err, "%s: no examples", o->data);
        e->n = e->ds.n;
        e->src = xcalloc(e->n, sizeof *e->src);
        e->tgt = xcalloc(e->n, sizeof *e->tgt);
        e->kind = xcalloc(e->n, sizeof *e->kind);
        for (size_t i = 0; i < e->n; i++) {
            e->src[i] = (char *)e->ds.ex[i].source;
            e->tgt[i] = (char *)e->ds.ex[i].target;
            e->kind[i] = (int)e->ds.ex[i].kind;
        }
        return 0;
    }
    const quad_preset *p = quad_preset_find(o->preset);
    if (!p) return as_errf(err, "unknown preset '%s' (the presets are seed and small)", o->preset);
    quad_eq *eqs = xmalloc(o->n * sizeof *eqs);
    quad_generate(p, o->n, (uint64_t)o->seed, eqs);
    e->n = o->n;
    e->src = xcalloc(e->n, sizeof *e->src);
    e->tgt = xcalloc(e->n, sizeof *e->tgt);
    e->kind = xcalloc(e->n, sizeof *e->kind);
    for (size_t i = 0; i < e->n; i++) {
        char s[QUAD_SOURCE_MAX], t[QUAD_TARGET_MAX];
        quad_format_source(&eqs[i], s, sizeof s);
        if (quad_format_target(&eqs[i], t, sizeof t, err) < 0) {
            free(eqs);
            return -1;
        }
        e->src[i] = xstrdup(s);
        e->tgt[i] = xstrdup(t);
        e->kind[i] = (int)quad_kind_of(&eqs[i]);
    }
    free(eqs);
    return 0;
}

/* "enc,cross" -> bits of t5_attn_kind. */
static int parse_kinds(const char *s, unsigned *out)
{
    unsigned bits = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 3 && !strncmp(s, "enc", 3)) bits |= 1u << T5_ATTN_ENC_SELF;
        else if (n == 3 && !strncmp(s, "dec", 3)) bits |= 1u << T5_ATTN_DEC_SELF;
        else if (n == 5 && !strncmp(s, "cross", 5)) bits |= 1u << T5_ATTN_CROSS;
        else return -1;
        s += n;
        if (*s == ',') s++;
    }
    if (!bits) return -1;
    *out = bits;
    return 0;
}

static int parse_size(const char *opt, size_t *out)
{
    return cli_parse_size(CMD, opt, optarg, out) < 0 ? -1 : 0;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},  {"data", required_argument, 0, 'd'},
        {"preset", required_argument, 0, 'p'}, {"n", required_argument, 0, 'n'},
        {"seed", required_argument, 0, 's'},   {"importance-n", required_argument, 0, 'I'},
        {"ablation", required_argument, 0, 'A'}, {"hypothesis-n", required_argument, 0, 'Y'},
        {"draws", required_argument, 0, 'K'},  {"example", required_argument, 0, 'e'},
        {"max-len", required_argument, 0, 'L'}, {"out", required_argument, 0, 'o'},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {"block-in", required_argument, 0, 'B'},
        {"threads", required_argument, 0, 'T'},
        {0, 0, 0, 0},
    };
    options o = {0};
    o.preset = "seed";
    o.example = EXAMPLE_EQ;
    o.ablation = "zero";
    o.n = 100;
    o.seed = 1;
    o.imp_n = 20;
    o.hyp_n = 50;
    o.draws = 5;
    o.block_kinds = 0; /* both: every map, and the source only */
    o.max_len = QUAD_MAX_GEN;
    int preset_given = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:d:p:n:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o.model_dir = optarg; break;
        case 'd': o.data = optarg; break;
        case 'p': o.preset = optarg, preset_given = 1; break;
        case 'n': if (parse_size("--n", &o.n)) return EXIT_USAGE; break;
        case 's': if (parse_size("--seed", &o.seed)) return EXIT_USAGE; break;
        case 'I': if (parse_size("--importance-n", &o.imp_n)) return EXIT_USAGE; break;
        case 'Y': if (parse_size("--hypothesis-n", &o.hyp_n)) return EXIT_USAGE; break;
        case 'K': if (parse_size("--draws", &o.draws)) return EXIT_USAGE; break;
        case 'L': if (parse_size("--max-len", &o.max_len)) return EXIT_USAGE; break;
        case 'T':
            if (parse_size("--threads", &o.threads)) return EXIT_USAGE;
            if (o.threads == 0 || o.threads > 256) {
                cli_error(CMD, "--threads must be 1..256, got %s", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'A': o.ablation = optarg; break;
        case 'B':
            if (parse_kinds(optarg, &o.block_kinds)) {
                cli_error(CMD, "--block-in takes a comma-separated list of enc, dec, cross; got '%s'",
                          optarg);
                return EXIT_USAGE;
            }
            break;
        case 'e': o.example = optarg; break;
        case 'o': o.out = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':':
            cli_error(CMD, "option '%s' needs a value", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            cli_error(CMD, "unknown option '%s' (see attnscope report --help)", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error(CMD, "unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!o.out || !*o.out) {
        cli_error(CMD, "--out DIR is required (the folder for report.md and the figures)");
        return EXIT_USAGE;
    }
    if (o.data && preset_given) {
        cli_error(CMD, "give either --data or --preset, not both");
        return EXIT_USAGE;
    }
    if (o.n == 0 || o.n > 1000000) {
        cli_error(CMD, "--n must be between 1 and 1000000, got %zu", o.n);
        return EXIT_USAGE;
    }
    if (o.max_len == 0 || o.max_len > 4096) {
        cli_error(CMD, "--max-len must be between 1 and 4096, got %zu", o.max_len);
        return EXIT_USAGE;
    }
    if (o.draws < 2 || o.draws > 1000) {
        cli_error(CMD, "--draws must be 2..1000 (the baseline's spread needs two draws), got %zu",
                  o.draws);
        return EXIT_USAGE;
    }
    an_abl_mode mode;
    if (!strcmp(o.ablation, "zero")) mode = AN_ABL_ZERO;
    else if (!strcmp(o.ablation, "mean")) mode = AN_ABL_MEAN;
    else {
        cli_error(CMD, "--ablation must be zero or mean, got '%s'", o.ablation);
        return EXIT_USAGE;
    }
    if (!o.data && !quad_preset_find(o.preset)) {
        cli_error(CMD, "unknown preset '%s' (the presets are seed and small)", o.preset);
        return EXIT_USAGE;
    }
    o.model_dir = cli_model_dir(o.model_dir);

    double t0 = util_now();
    as_err err = {{0}};
    t5_model m;
    if (t5_load_mapped(&m, o.model_dir, &err)) {
        cli_error(CMD, "%s", err.msg);
        return EXIT_FAIL;
    }
    example_set es;
    if (load_examples(&o, &es, &err)) {
        cli_error(CMD, "%s", err.msg);
        examples_free(&es);
        t5_free(&m);
        return EXIT_FAIL;
    }
    /* the example equation, canonical when it parses */
    char example[QUAD_SOURCE_MAX + 1024];
    quad_eq eq;
    if (quad_parse(o.example, &eq, NULL) == 0) quad_format_source(&eq, example, sizeof example);
    else snprintf(example, sizeof example, "%s", o.example);

    if (strlen(o.example) >= MAX_SRC_CAP && strlen(example) >= MAX_SRC_CAP) {
        cli_error(CMD, "--example of %zu bytes is longer than %d", strlen(o.example), MAX_SRC_CAP - 1);
        examples_free(&es);
        t5_free(&m);
        return EXIT_USAGE;
    }
    size_t max_src = strlen(example) + 1;
    for (size_t i = 0; i < es.n; i++)
        if (strlen(es.src[i]) + 1 > max_src) max_src = strlen(es.src[i]) + 1;
    if (max_src > MAX_SRC_CAP) {
        cli_error(CMD, "a source of %zu bytes is longer than %d", max_src - 1, MAX_SRC_CAP - 1);
        examples_free(&es);
        t5_free(&m);
        return EXIT_FAIL;
    }
    size_t max_tgt = o.max_len + 1;
    if (util_mkdir_p(o.out, &err)) {
        cli_error(CMD, "%s", err.msg);
        examples_free(&es);
        t5_free(&m);
        return EXIT_FAIL;
    }

    int rc = EXIT_FAIL;
    progress prog = {!o.quiet && isatty(2), NULL, 0, 0, 0};
    t5_run *run = t5_run_new(&m, max_src, max_tgt);
    attn_trace *t = trace_new(&m, max_src, max_tgt);
    accum acc;
    accum_init(&acc, &m, max_src, max_tgt);
    size_t threads = o.threads ? o.threads : (size_t)omp_get_max_threads();
    if (threads > 1) openblas_set_num_threads(1); /* threads are per equation */
    an_examples ex = {(const char *const *)es.src, (const char *const *)es.tgt, es.kind, es.n,
                      threads};
    an_importance imp = {0};
    an_hypothesis hy[2];
    memset(hy, 0, sizeof hy);
    int have_imp = 0;
    size_t n_hy = 0;
    figs F = {o.out, NULL, 0, 0, &err, 0};
    an_trace_classes tc = {0};

    /* 1. every equation, captured */
    prog_start(&prog, "tracing equations", es.n);
    acc.ex = &ex;
    if (an_collect(run, NULL, &ex, t, accum_trace, &acc, prog_cb, &prog, &err)) goto out;
    an_stats_finish_all(acc.stats);
    class_figure(&F, &acc);

    /* 2. the example's figures */
    {
        int ids[MAX_SRC_CAP + 1];
        size_t ns = byt5_encode_eos(example, ids, max_src);
        int *gen = xmalloc((o.max_len + 1) * sizeof *gen);
        an_iv iv;
        an_iv_init(&iv, &m);
        iv.capture = t;
        long g = ns ? an_greedy(run, &iv, ids, ns, gen, o.max_len, &err) : -1;
        an_iv_free(&iv);
        free(gen);
        if (g < 0) {
            if (!ns) as_errf(&err, "the example '%s' does not fit", example);
            goto out;
        }
        an_classify_trace(t, &tc);
        example_figures(&F, t, &tc, example);
        if (F.failed) goto out;
    }
    aggregate_figures(&F, &acc);
    if (F.failed) goto out;

    /* 3. head importance */
    if (o.imp_n > 0) {
        size_t n = o.imp_n < es.n ? o.imp_n : es.n;
        o.imp_n = n;
        an_examples sub = {ex.src, ex.tgt, ex.kind, n, threads};
        size_t heads = (acc.L[0] + acc.L[1] + acc.L[2]) * acc.H;
        prog_start(&prog, "ablating heads", n * (heads + 1));
        if (an_head_importance(run, &sub, mode, &acc.means, &imp, prog_cb, &prog, &err)) goto out;
        have_imp = 1;
        /* figure: character-accuracy drop per kind, layers x heads */
        float *d[AN_N_KINDS];
        an_panel p[AN_N_KINDS];
        char **hl = number_labels(acc.H, "H");
        char **ll[AN_N_KINDS], **it[AN_N_KINDS];
        char tt[AN_N_KINDS][64];
        for (int k = 0; k < AN_N_KINDS; k++) {
            d[k] = xcalloc(acc.L[k] * acc.H + 1, sizeof *d[k]);
            for (size_t i = 0; i < acc.L[k] * acc.H; i++) {
                double v = imp.drop[k][i * 3 + 1];
                d[k][i] = v > 0 ? (float)v : 0;
            }
            ll[k] = number_labels(acc.L[k], "L");
            snprintf(tt[k], sizeof tt[k], "%s", kind_long(k));
            it[k] = xcalloc(acc.L[k] * acc.H + 1, sizeof *it[k]);
            for (size_t i = 0; i < acc.L[k] * acc.H; i++) {
                char buf[24];
                double v = imp.drop[k][i * 3 + 1];
                /* the drop, short: ".07", "-.01" */
                buf[0] = '\0';
                if (fabs(v) >= 0.005) {
                    char num[16];
                    snprintf(num, sizeof num, "%.2f", fabs(v));
                    snprintf(buf, sizeof buf, "%s%s", v < 0 ? "-" : "", num[0] == '0' ? num + 1 : num);
                }
                it[k][i] = xstrdup(buf);
            }
            p[k] = (an_panel){d[k], acc.L[k], acc.H, tt[k], (const char *const *)ll[k],
                              (const char *const *)hl, (const char *const *)it[k]};
        }
        char title[256];
        snprintf(title, sizeof title,
                 "head importance: character accuracy lost when one head is ablated\n(%s ablation, %zu equations)",
                 o.ablation, n);
        heatmaps(&F, "importance", title, p, AN_N_KINDS, AN_N_KINDS, 0, 28);
        for (int k = 0; k < AN_N_KINDS; k++)
            free(d[k]), free_labels(ll[k], acc.L[k]), free_labels(it[k], acc.L[k] * acc.H);
        free_labels(hl, acc.H);
        if (F.failed) goto out;
    }

    /* 4. the hypothesis: blocking in every map and in the source only, or
     * where --block-in says */
    if (o.hyp_n > 0) {
        size_t n = o.hyp_n < es.n ? o.hyp_n : es.n;
        an_examples sub = {ex.src, ex.tgt, ex.kind, n, threads};
        unsigned sets[2] = {7u, (1u << T5_ATTN_ENC_SELF) | (1u << T5_ATTN_CROSS)};
        size_t want = 2;
        if (o.block_kinds) sets[0] = o.block_kinds, want = 1;
        for (size_t i = 0; i < want; i++) {
            char stage[64];
            snprintf(stage, sizeof stage, "special vs digits (%zu/%zu)", i + 1, want);
            prog_start(&prog, stage, n * (2 + o.draws));
            if (an_hypothesis_run(run, &sub, sets[i], o.draws, (uint64_t)o.seed, &hy[i], prog_cb,
                                  &prog, &err))
                goto out;
            n_hy++;
        }
        const char *lab[5] = {"no blocking", "specials, all maps", "digits, all maps",
                              "specials, source", "digits, source"};
        if (want == 1) lab[1] = "specials blocked", lab[2] = "random digits";
        double v[5] = {hy[0].base[1], hy[0].special[1], hy[0].rnd_mean[1], hy[1].special[1],
                       hy[1].rnd_mean[1]};
        double e[5] = {0, 0, hy[0].rnd_sd[1], 0, hy[1].rnd_sd[1]};
        char title[256];
        snprintf(title, sizeof title,
                 "character accuracy with attention to keys blocked, %zu equations\n"
                 "(specials: x ^ = + - * ( ) ; D < /; digits: as many random digits, mean +- sd of %zu draws)",
                 n, o.draws);
        char base[4096];
        fig_base(&F, "hypothesis", base, sizeof base);
        if (an_fig_bars(base, title, lab, v, e, 1 + 2 * want, 1.0, NULL, NULL, &err)) goto out;
        fig_add(&F, "hypothesis", title);
    }

    if (write_report(&o, &m, &ex, &acc, have_imp ? &imp : NULL, hy, n_hy, &F, util_now() - t0,
                     &err))
        goto out;
    printf("wrote %s/report.md, %s/heads.tsv and %zu figures (PNG + SVG) in %.1f s\n", o.out, o.out,
           F.n, util_now() - t0);
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK) {
        if (prog.on) fputc('\n', stderr);
        cli_error(CMD, "%s", err.msg);
    }
    an_trace_classes_free(&tc);
    if (have_imp) an_importance_free(&imp);
    for (size_t i = 0; i < n_hy; i++) an_hypothesis_free(&hy[i]);
    free(F.f);
    accum_free(&acc);
    trace_free(t);
    t5_run_free(run);
    examples_free(&es);
    t5_free(&m);
    an_fig_cleanup();
    return rc;
}
