/* experiment.c - the study's causal experiments on top of ablate.c:
 * collecting traces over a set of equations, mean patterns per head, the
 * head-importance table and the special-symbol hypothesis against a random
 * digit baseline.
 *
 * Deliberately not here: formatting the results (src/report/). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "byt5.h"
#include "quad.h"

int an_collect(t5_run *r, const an_examples *ex, attn_trace *t, const an_collector *c,
               as_err *err)
{
    size_t max_src = t->max_src < t5_run_max_src(r) ? t->max_src : t5_run_max_src(r);
    size_t max_tgt = t->max_tgt < t5_run_max_tgt(r) ? t->max_tgt : t5_run_max_tgt(r);
    size_t max_len = max_tgt - 1;
    an_iv local;
    an_iv *use = c ? c->iv : NULL;
    if (!use) {
        an_iv_init(&local, t5_run_model(r));
        use = &local;
    }
    attn_trace *old = use->capture;
    use->capture = t;
    int *src = xmalloc((max_src + 1) * sizeof *src), *gen = xmalloc((max_len + 1) * sizeof *gen);
    int rc = 0;
    for (size_t i = 0; i < ex->n; i++) {
        size_t ns = an_encode(ex->tok, ex->src[i], src, max_src);
        if (ns == 0) {
            rc = as_errf(err, "example %zu: source does not fit %zu tokens", i + 1, max_src);
            break;
        }
        if (an_greedy(r, use, src, ns, gen, max_len, err) < 0) {
            rc = as_errprefix(err, "example %zu", i + 1);
            break;
        }
        if (c && c->each) c->each(c->each_user, t);
        if (c && c->progress) c->progress(c->progress_user, i + 1);
    }
    use->capture = old;
    if (use == &local) an_iv_free(&local);
    free(src);
    free(gen);
    return rc;
}

void an_means_init(an_means *mm, const t5_model *m, size_t max_src, size_t max_tgt)
{
    memset(mm, 0, sizeof *mm);
    mm->n_layers[T5_ATTN_ENC_SELF] = m->cfg.num_layers;
    mm->n_layers[T5_ATTN_DEC_SELF] = m->cfg.num_decoder_layers;
    mm->n_layers[T5_ATTN_CROSS] = m->cfg.num_decoder_layers;
    mm->n_heads = m->cfg.num_heads;
    for (int k = 0; k < AN_N_KINDS; k++) {
        size_t n = mm->n_layers[k] * mm->n_heads;
        size_t rows = k == T5_ATTN_ENC_SELF ? max_src : max_tgt;
        size_t cols = k == T5_ATTN_DEC_SELF ? max_tgt : max_src;
        mm->g[k] = xcalloc(n + 1, sizeof *mm->g[k]);
        for (size_t i = 0; i < n; i++) mm->g[k][i] = an_grid_new(rows, cols);
    }
}

void an_means_add(an_means *mm, const attn_trace *t)
{
    for (int k = 0; k < AN_N_KINDS; k++)
        for (size_t l = 0; l < mm->n_layers[k]; l++)
            for (size_t h = 0; h < mm->n_heads; h++) {
                size_t rows, cols, stride;
                const float *m = trace_map(t, (t5_attn_kind)k, l, h, &rows, &cols, &stride);
                if (m) an_grid_add(mm->g[k][l * mm->n_heads + h], m, rows, cols, stride);
            }
}

void an_means_free(an_means *mm)
{
    for (int k = 0; k < AN_N_KINDS; k++) {
        for (size_t i = 0; mm->g[k] && i < mm->n_layers[k] * mm->n_heads; i++)
            an_grid_free(mm->g[k][i]);
        free(mm->g[k]);
    }
    memset(mm, 0, sizeof *mm);
}

/* Progress across several an_score_set calls: offset + done. */
typedef struct {
    an_progress_fn fn;
    void *user;
    size_t offset;
} prog_chain;

static void prog_step(void *user, size_t done)
{
    prog_chain *p = user;
    if (p->fn) p->fn(p->user, p->offset + done);
}

int an_head_importance(t5_run *r, const an_examples *ex, an_abl_mode mode, const an_means *means,
                       an_importance *out, an_progress_fn progress, void *puser, as_err *err)
{
    const t5_model *m = t5_run_model(r);
    memset(out, 0, sizeof *out);
    an_iv iv;
    an_iv_init(&iv, m);
    if (mode == AN_ABL_MEAN && means)
        for (int k = 0; k < AN_N_KINDS; k++) iv.means[k] = means->g[k];
    out->n_heads = iv.n_heads;
    for (int k = 0; k < AN_N_KINDS; k++) {
        out->n_layers[k] = iv.n_layers[k];
        out->drop[k] = xcalloc(iv.n_layers[k] * iv.n_heads * 3 + 1, sizeof(double));
    }
    prog_chain pc = {progress, puser, 0};
    int rc = an_score_examples(r, NULL, ex, out->base, prog_step, &pc, err);
    for (int k = 0; k < AN_N_KINDS && !rc; k++)
        for (size_t l = 0; l < iv.n_layers[k] && !rc; l++)
            for (size_t h = 0; h < iv.n_heads && !rc; h++) {
                pc.offset += ex->n;
                an_iv_clear_heads(&iv);
                an_iv_set_head(&iv, (t5_attn_kind)k, l, h, mode);
                double s[3];
                rc = an_score_examples(r, &iv, ex, s, prog_step, &pc, err);
                for (int j = 0; j < 3; j++) out->drop[k][(l * iv.n_heads + h) * 3 + j] = out->base[j] - s[j];
            }
    an_iv_free(&iv);
    if (rc) an_importance_free(out);
    return rc;
}

void an_importance_free(an_importance *imp)
{
    for (int k = 0; k < AN_N_KINDS; k++) free(imp->drop[k]), imp->drop[k] = NULL;
}

int an_hypothesis_run(t5_run *r, const an_examples *ex, unsigned kinds, size_t draws,
                      uint64_t seed, an_hypothesis *out, an_progress_fn progress, void *puser,
                      as_err *err)
{
    memset(out, 0, sizeof *out);
    out->n = ex->n;
    out->draws = draws;
    out->kinds = kinds;
    out->rnd = xcalloc(draws * 3 + 1, sizeof *out->rnd);
    for (size_t i = 0; i < ex->n; i++)
        for (const char *c = ex->src[i]; *c; c++) {
            int id = (unsigned char)*c + BYT5_OFFSET;
            out->src_special += an_is_special(id);
            out->src_digits += an_is_digit(id);
        }
    if (ex->n) out->src_special /= (double)ex->n, out->src_digits /= (double)ex->n;

    an_iv iv;
    an_iv_init(&iv, t5_run_model(r));
    iv.block_kinds = kinds;
    prog_chain pc = {progress, puser, 0};
    int rc = an_score_examples(r, NULL, ex, out->base, prog_step, &pc, err);
    if (!rc) {
        pc.offset += ex->n;
        iv.block = AN_BLOCK_SPECIAL;
        rc = an_score_examples(r, &iv, ex, out->special, prog_step, &pc, err);
    }
    for (size_t d = 0; d < draws && !rc; d++) {
        pc.offset += ex->n;
        iv.block = AN_BLOCK_RANDOM_DIGITS;
        iv.block_seed = seed + 1 + d;
        rc = an_score_examples(r, &iv, ex, out->rnd + d * 3, prog_step, &pc, err);
    }
    an_iv_free(&iv);
    if (rc) {
        an_hypothesis_free(out);
        return rc;
    }
    for (int j = 0; j < 3; j++) {
        double s = 0, ss = 0;
        for (size_t d = 0; d < draws; d++) s += out->rnd[d * 3 + j];
        out->rnd_mean[j] = draws ? s / (double)draws : 0;
        for (size_t d = 0; d < draws; d++) {
            double e = out->rnd[d * 3 + j] - out->rnd_mean[j];
            ss += e * e;
        }
        out->rnd_sd[j] = draws > 1 ? sqrt(ss / (double)(draws - 1)) : 0;
    }
    double gap = out->rnd_mean[1] - out->special[1];
    out->holds = draws > 0 && gap >= AN_HYP_MIN_GAP && gap > AN_HYP_SD * out->rnd_sd[1];
    return 0;
}

void an_hypothesis_free(an_hypothesis *h)
{
    free(h->rnd);
    h->rnd = NULL;
}
