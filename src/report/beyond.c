/* beyond.c - the report's sections beyond attention weights (issue 18):
 * every head classified on its weights and on its value-weighted maps
 * (||a_ij W_O v_j||, hidden.h) with the stripe heads whose stripes survive
 * or vanish under the norm; linear probes over the report's equations
 * (which layers and positions hold b^2, 4ac and D); activation patching
 * over several clean/corrupted pairs, by position class; and the verdict
 * on the study's hypothesis from ablation, value norms and probes with
 * patching together.
 *
 * Deliberately not here: the measurements themselves (hidden.c, probe.c,
 * patching.c, stats.c); the weights-only sections (accum.c, write.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hidden.h"
#include "report_int.h"
#include "tokenizer.h"

/* ---- value norms ------------------------------------------------------------ */

static int norms_run(rp_beyond *b, const report_options *o, const t5_model *m,
                     const an_examples *ex, t5_run *run, size_t max_src, size_t max_tgt,
                     as_err *err)
{
    size_t n = o->norm_n < ex->n ? o->norm_n : ex->n;
    attn_trace *tw = trace_new(m, max_src, max_tgt), *tn = trace_new(m, max_src, max_tgt);
    an_normcap nc;
    an_normcap_init(&nc, m, tn);
    b->w = an_stats_new(m->cfg.num_layers, m->cfg.num_decoder_layers, m->cfg.num_heads);
    b->nm = an_stats_new(m->cfg.num_layers, m->cfg.num_decoder_layers, m->cfg.num_heads);
    b->w->no_key_classes = b->nm->no_key_classes = !b->byte_level;
    int *ids = xmalloc(max_src * sizeof *ids), rc = 0;
    t5_run_set_hook(run, NULL, NULL);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t ns = an_encode(ex->tok, ex->src[i], ids, max_src);
        if (!ns) {
            rc = as_errf(err, "%s %zu ('%s') does not fit", b->raw ? "input" : "equation", i + 1,
                         ex->src[i]);
            break;
        }
        if (an_trace_run_norms(tw, &nc, run, ids, ns, NULL, 0, max_tgt - 1, err) < 0) rc = -1;
        else an_stats_add_trace(b->w, tw), an_stats_add_trace(b->nm, tn);
    }
    t5_run_set_hook(run, NULL, NULL);
    free(ids);
    an_normcap_free(&nc);
    trace_free(tw);
    trace_free(tn);
    if (rc) return -1;
    an_stats_finish_all(b->w);
    an_stats_finish_all(b->nm);
    b->norm_n = n;
    return 0;
}

double rp_special_mass(const an_head_stats *s)
{
    double v = 0;
    for (int c = AN_TC_X; c <= AN_TC_SLASH; c++) v += s->class_mass[c];
    return v;
}

/* One panel per kind and measure: the special-symbol mass of each head
 * (raw text, which has no special symbols: its stripe score). */
static void norms_figure(rp_figs *F, const rp_beyond *b)
{
    const char *name = b->raw ? "norms_stripe" : "norms_special";
    float *data[6];
    an_panel p[6];
    char ptitle[6][64], base[4096];
    size_t np = 0;
    for (int k = 0; k < AN_N_KINDS; k++)
        for (int w = 0; w < 2; w++) {
            an_stats *st = w ? b->nm : b->w;
            size_t L = st->n_layers[k], H = st->n_heads;
            data[np] = xmalloc(L * H * sizeof(float));
            for (size_t i = 0; i < L * H; i++) {
                an_head_class c;
                if (b->raw) an_classify(&st->heads[k][i], &c);
                data[np][i] = (float)(b->raw ? c.stripe : rp_special_mass(&st->heads[k][i]));
            }
            snprintf(ptitle[np], sizeof ptitle[np], "%s, %s", rp_kind_short(k), w ? "norms" : "weights");
            p[np] = (an_panel){data[np], L, H, ptitle[np], NULL, NULL, NULL};
            np++;
        }
    rp_fig_base(F, name, base, sizeof base);
    char title[256];
    snprintf(title, sizeof title, "%s per head (rows: layers, columns: heads)\nattention weights "
                                  "vs value-weighted maps ||a W_O v||",
             b->raw ? "Stripe score (mass on the 3 heaviest key columns)"
                    : "Mass on special-symbol keys");
    if (!F->failed && an_fig_heatmaps(base, title, p, np, 2, 1.0f, 0, NULL, NULL, F->err) == 0)
        rp_fig_add(F, name, b->raw ? "The stripe score of each head, on its weights (left) and on "
                                     "its value-weighted maps (right)"
                                   : "The mass each head puts on special-symbol keys, on its "
                                     "weights (left) and on its value-weighted maps (right)");
    else
        F->failed = 1;
    for (size_t i = 0; i < np; i++) free(data[i]);
}

/* ---- probes ---------------------------------------------------------------- */

static int probe_run(rp_beyond *b, const report_options *o, const t5_model *m, rp_figs *F,
                     as_err *err)
{
    quad_eq *eqs = NULL;
    size_t n = o->probe_n;
    quad_dataset ds = {0};
    if (o->data) {
        if (quad_ds_read(o->data, n, &ds, err)) return -1;
        n = ds.n;
        eqs = xmalloc((n ? n : 1) * sizeof *eqs);
        for (size_t i = 0; i < n; i++) eqs[i] = ds.ex[i].eq;
        quad_ds_free(&ds);
    } else {
        eqs = xmalloc(n * sizeof *eqs);
        quad_generate(quad_preset_find(o->preset), n, (uint64_t)o->seed, eqs);
    }
    as_err pe = {{0}};
    int rc = an_probe_run(m, eqs, n, (uint64_t)o->seed, &b->probe, NULL, NULL, &pe);
    free(eqs);
    if (rc) { /* too few equations, say: the report says why and goes on */
        snprintf(b->probe_note, sizeof b->probe_note, "%s", pe.msg);
        return 0;
    }
    b->have_probe = 1;
    if (an_probe_write(&b->probe, o->out, o->model_dir, err)) return F->failed = 1, -1;
    rp_fig_add(F, "probe", "Probes: held-out R^2 (values) or accuracy (digits of |D|) of a ridge "
                           "probe from the residual stream at each slot (rows) and position "
                           "class (columns); details in probe.md");
    return 0;
}

/* ---- patching ---------------------------------------------------------------- */

/* The corrupted twin of e: the last digit of |b| (which = 'b') or |c| moved
 * by one, so the source keeps its length. */
static quad_eq corrupt_of(const quad_eq *e, char which)
{
    quad_eq x = *e;
    int64_t *v = which == 'b' ? &x.b : &x.c;
    int64_t mag = *v < 0 ? -*v : *v, d = mag % 10;
    int64_t nd = d == 9 ? 8 : d + 1;
    if (mag < 10 && nd == 0) nd = 1;
    mag = mag - d + nd;
    *v = *v < 0 ? -mag : mag;
    return x;
}

static void patch_add(rp_beyond *b, int which, const an_patch_result *r)
{
    an_pos_class cls[2][QUAD_TARGET_MAX + 1];
    an_pc_source(r->clean_src, cls[0]);
    an_pc_target(r->clean_tgt, cls[1]);
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < AN_PCOMP_COUNT; c++) {
            if (!r->restored[s][c]) continue;
            size_t rows = r->rows[s][c], np = s ? r->n_dec : r->n_src;
            if (!b->psum[which][s][c]) {
                b->prows[s][c] = rows;
                b->psum[which][s][c] = xcalloc(rows * AN_PC_COUNT, sizeof(double));
                b->pcnt[which][s][c] = xcalloc(rows * AN_PC_COUNT, sizeof(double));
            }
            for (size_t row = 0; row < rows && row < b->prows[s][c]; row++)
                for (size_t p = 0; p < np; p++) {
                    an_pos_class pc = cls[s][p];
                    if (pc >= AN_PC_COUNT) continue;
                    double v = r->restored[s][c][row * np + p];
                    if (!isfinite(v)) continue;
                    b->psum[which][s][c][row * AN_PC_COUNT + pc] += v;
                    b->pcnt[which][s][c][row * AN_PC_COUNT + pc] += 1;
                }
        }
}

double rp_patch_mean(const rp_beyond *b, int which, int s, int c, size_t row, int pc)
{
    if (!b->pcnt[which][s][c] || row >= b->prows[s][c]) return NAN;
    double n = b->pcnt[which][s][c][row * AN_PC_COUNT + pc];
    return n > 0 ? b->psum[which][s][c][row * AN_PC_COUNT + pc] / n : NAN;
}

static void patch_figure(rp_figs *F, const rp_beyond *b)
{
    float *data[4] = {0};
    an_panel p[4];
    char title[4][96], base[4096];
    const char *cols[2][AN_PC_COUNT], *rowl[2][64];
    static char rl[2][64][16];
    size_t np = 0;
    for (int s = 0; s < 2; s++) {
        size_t rows = b->prows[s][AN_PCOMP_RESID];
        for (size_t r = 0; r < rows && r < 64; r++) {
            if (r == 0) snprintf(rl[s][r], sizeof rl[s][r], "%s emb", s ? "dec" : "enc");
            else snprintf(rl[s][r], sizeof rl[s][r], "%s %zu", s ? "dec" : "enc", r);
            rowl[s][r] = rl[s][r];
        }
    }
    for (int w = 0; w < 2; w++)
        for (int s = 0; s < 2; s++) {
            size_t rows = b->prows[s][AN_PCOMP_RESID], c0 = s ? AN_PC_N_ENC : 0,
                   nc = s ? AN_PC_COUNT - AN_PC_N_ENC : AN_PC_N_ENC;
            if (!rows || !b->n_pairs[w]) continue;
            data[np] = xmalloc(rows * nc * sizeof(float));
            for (size_t r = 0; r < rows; r++)
                for (size_t c = 0; c < nc; c++) {
                    double v = rp_patch_mean(b, w, s, AN_PCOMP_RESID, r, (int)(c0 + c));
                    data[np][r * nc + c] = isnan(v) ? NAN : (float)(v < 0 ? 0 : v);
                }
            for (size_t c = 0; c < nc; c++) cols[s][c] = an_pc_name((an_pos_class)(c0 + c));
            snprintf(title[np], sizeof title[np], "%s, %c changed (%zu pairs)",
                     s ? "decoder" : "encoder", w ? 'c' : 'b', b->n_pairs[w]);
            p[np] = (an_panel){data[np], rows, nc, title[np], rowl[s], cols[s], NULL};
            np++;
        }
    if (!np) return;
    rp_fig_base(F, "patching", base, sizeof base);
    if (an_fig_heatmaps(base, "Activation patching, residual stream: mean restored share of "
                              "D's clean log-probability\nby layer (rows) and position class "
                              "(columns)", p, np, 2, 1.0f, 0, NULL, NULL, F->err) == 0)
        rp_fig_add(F, "patching", "Activation patching over the pairs: the share of the clean "
                                  "log-probability at D's digits that copying the residual "
                                  "stream at one layer and position class restores");
    else
        F->failed = 1;
    for (size_t i = 0; i < np; i++) free(data[i]);
}

static int patch_run(rp_beyond *b, const report_options *o, const t5_model *m,
                     const an_examples *ex, as_err *err)
{
    for (size_t i = 0; i < ex->n && b->n_pairs[0] + b->n_pairs[1] < o->patch_n; i++) {
        quad_eq clean;
        if (quad_parse(ex->src[i], &clean, NULL)) continue;
        int which = (int)(b->n_pairs[0] + b->n_pairs[1]) % 2; /* 0: b, 1: c */
        quad_eq bad = corrupt_of(&clean, which ? 'c' : 'b');
        char changed;
        as_err e2 = {{0}};
        if (an_patch_pair_check(&clean, &bad, &changed, &e2)) continue;
        an_patch_result r;
        b->pairs_tried++;
        if (an_patch_run(m, &clean, &bad, &r, &e2)) continue; /* the change moves nothing */
        if (r.lp_clean - r.lp_corrupt < RP_PATCH_MIN_GAP) { /* see RP_PATCH_MIN_GAP */
            an_patch_free(&r);
            continue;
        }
        patch_add(b, which, &r);
        if (b->n_list < RP_PAIR_LIST) {
            rp_pair *pl = &b->list[b->n_list++];
            snprintf(pl->clean, sizeof pl->clean, "%s", r.clean_src);
            snprintf(pl->corrupt, sizeof pl->corrupt, "%s", r.corrupt_src);
            pl->lp_clean = r.lp_clean, pl->lp_corrupt = r.lp_corrupt;
        }
        b->n_pairs[which]++;
        an_patch_free(&r);
    }
    (void)err;
    return 0;
}

/* ---- the stage ------------------------------------------------------------- */

int rp_beyond_run(rp_beyond *b, const report_options *o, const t5_model *m, const tok_vocab *tok,
                  const an_examples *ex, t5_run *run, size_t max_src, size_t max_tgt, rp_figs *F,
                  as_err *err)
{
    memset(b, 0, sizeof *b);
    b->byte_level = tok_kind_of(tok) == TOK_BYT5;
    b->raw = o->raw != NULL;
    if (o->norm_n > 0) {
        if (norms_run(b, o, m, ex, run, max_src, max_tgt, err)) return -1;
        norms_figure(F, b);
        if (F->failed) return -1;
    }
    if (!b->byte_level || b->raw) return 0; /* probes and patching read the task's characters */
    if (o->probe_n > 0 && probe_run(b, o, m, F, err)) return -1;
    if (o->patch_n > 0) {
        if (patch_run(b, o, m, ex, err)) return -1;
        patch_figure(F, b);
        if (F->failed) return -1;
    }
    return 0;
}

void rp_beyond_free(rp_beyond *b)
{
    if (b->w) an_stats_free(b->w);
    if (b->nm) an_stats_free(b->nm);
    if (b->have_probe) an_probe_free(&b->probe);
    for (int w = 0; w < 2; w++)
        for (int s = 0; s < 2; s++)
            for (int c = 0; c < AN_PCOMP_COUNT; c++) free(b->psum[w][s][c]), free(b->pcnt[w][s][c]);
    memset(b, 0, sizeof *b);
}
