/* accum.c - the report's sums over the traced equations: per-head
 * statistics and means, maps by class and by position, summary maps,
 * rollouts, and the scores of the greedy outputs.
 *
 * Deliberately not here: the statistics themselves (src/analysis/), drawing
 * or writing them (figures.c, write.c). */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

void rp_accum_init(rp_accum *a, const t5_model *m, const tok_vocab *tok, size_t max_src,
                   size_t max_tgt)
{
    memset(a, 0, sizeof *a);
    a->m = m;
    a->byte_classes = tok_kind_of(tok) == TOK_BYT5;
    a->noun = "equations";
    a->L[0] = m->cfg.num_layers;
    a->L[1] = a->L[2] = m->cfg.num_decoder_layers;
    a->H = m->cfg.num_heads;
    a->max_src = max_src;
    a->max_tgt = max_tgt;
    a->stats = an_stats_new(a->L[0], a->L[1], a->H);
    a->stats->no_key_classes = !a->byte_classes;
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

void rp_accum_free(rp_accum *a)
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

void rp_accum_trace(void *user, const attn_trace *t)
{
    rp_accum *a = user;
    an_stats_add_trace(a->stats, t);
    an_means_add(&a->means, t);
    for (int k = 0; k < AN_N_KINDS; k++) {
        size_t rows, cols, stride;
        for (size_t l = 0; l < a->L[k]; l++)
            for (size_t h = 0; h < a->H; h++) {
                const float *m = trace_map(t, (t5_attn_kind)k, l, h, &rows, &cols, &stride);
                if (a->byte_classes)
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
        for (size_t l = 0; l < L && a->byte_classes; l++) {
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
    if (a->ex && !a->ex->refs && a->ex->kind && a->traces < a->ex->n) {
        char text[4 * 4096 + 8];
        size_t n = t->n_tgt > 0 ? t->n_tgt - 1 : 0;
        an_decode(a->ex->tok, t->tgt + 1, n, text, sizeof text);
        quad_scores_add(&a->scores, (quad_kind)a->ex->kind[a->traces], a->ex->tgt[a->traces], text);
    }
    a->traces++;
}
