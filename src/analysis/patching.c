/* patching.c - activation patching between a clean and a corrupted
 * equation (see an_patch_run in probe.h): where does the model keep what
 * the changed coefficient contributes to D?
 *
 * Deliberately not here: the hooks (hidden.c), files (patching_write.c). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "byt5.h"
#include "hidden.h"
#include "probe.h"

static const char *const COMP_NAMES[AN_PCOMP_COUNT] = {"residual", "attention", "cross attention",
                                                       "MLP"};

const char *an_pcomp_name(int comp)
{
    return comp >= 0 && comp < AN_PCOMP_COUNT ? COMP_NAMES[comp] : "?";
}

static t5_state_kind comp_kind(int comp, size_t row)
{
    switch (comp) {
    case AN_PCOMP_RESID: return row == 0 ? T5_STATE_EMBED : T5_STATE_RESID;
    case AN_PCOMP_ATTN: return T5_STATE_ATTN;
    case AN_PCOMP_CROSS: return T5_STATE_CROSS;
    default: return T5_STATE_MLP;
    }
}

/* The layer index of a component's row (RESID: row 0 the embeddings). */
static size_t comp_layer(int comp, size_t row) { return comp == AN_PCOMP_RESID && row ? row - 1 : row; }

int an_patch_pair_check(const quad_eq *clean, const quad_eq *corrupt, char *changed, as_err *err)
{
    const int64_t x[3] = {clean->a, clean->b, clean->c}, y[3] = {corrupt->a, corrupt->b, corrupt->c};
    char names[8] = "", *p = names;
    for (int i = 0; i < 3; i++)
        if (x[i] != y[i]) *p++ = "abc"[i];
    *p = 0;
    if (!names[0]) return as_errf(err, "the clean and corrupted equations are the same");
    if (names[1])
        return as_errf(err, "the clean and corrupted equations differ in %s: change exactly one "
                            "coefficient", names[1] && names[2] ? "a, b and c" :
                            names[0] == 'a' && names[1] == 'b' ? "a and b" :
                            names[0] == 'a' ? "a and c" : "b and c");
    char s1[QUAD_SOURCE_MAX], s2[QUAD_SOURCE_MAX];
    quad_format_source(clean, s1, sizeof s1);
    quad_format_source(corrupt, s2, sizeof s2);
    if (strlen(s1) != strlen(s2))
        return as_errf(err, "the sources have different lengths (%s: %zu bytes, %s: %zu): the "
                            "positions would not line up; change %c to a value with as many "
                            "digits and the same sign", s1, strlen(s1), s2, strlen(s2), names[0]);
    *changed = names[0];
    return 0;
}

static double row_logprob(const float *row, size_t V, int tok)
{
    float mx = row[0];
    for (size_t j = 1; j < V; j++) mx = row[j] > mx ? row[j] : mx;
    double sum = 0.0;
    for (size_t j = 0; j < V; j++) sum += exp((double)row[j] - mx);
    return (double)row[tok] - mx - log(sum);
}

/* Summed log-probability of the clean target over the scored rows at or
 * after row from; logits hold rows from .. n-1. */
static double score_rows(const float *logits, size_t V, const int *dec, const unsigned char *scored,
                         size_t from, size_t n)
{
    double lp = 0.0;
    for (size_t r = from; r < n; r++)
        if (scored[r]) lp += row_logprob(logits + (r - from) * V, V, dec[r + 1]);
    return lp;
}

void an_patch_free(an_patch_result *r)
{
    if (!r) return;
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < AN_PCOMP_COUNT; c++) free(r->restored[s][c]);
    memset(r, 0, sizeof *r);
}

int an_patch_run(const t5_model *m, const quad_eq *clean, const quad_eq *corrupt,
                 an_patch_result *out, as_err *err)
{
    double t0 = util_now();
    memset(out, 0, sizeof *out);
    if (m->cfg.vocab_size < 259)
        return as_errf(err, "the model's vocabulary (%zu ids) is not byte-level (ByT5 needs 259+)",
                       m->cfg.vocab_size);
    if (an_patch_pair_check(clean, corrupt, &out->changed, err)) return -1;
    quad_solution sol;
    if (quad_solve(clean, &sol, err)) return -1;
    out->clean = *clean, out->corrupt = *corrupt;
    quad_format_source(clean, out->clean_src, sizeof out->clean_src);
    quad_format_source(corrupt, out->corrupt_src, sizeof out->corrupt_src);
    snprintf(out->clean_tgt, sizeof out->clean_tgt, "%s", sol.target);
    size_t tl = strlen(sol.target), S = strlen(out->clean_src) + 1, V = m->cfg.vocab_size;
    int *src_c = xmalloc(S * sizeof *src_c), *src_x = xmalloc(S * sizeof *src_x);
    int *dec = xmalloc((tl + 2) * sizeof *dec);
    byt5_encode_eos(out->clean_src, src_c, S);
    byt5_encode_eos(out->corrupt_src, src_x, S);
    dec[0] = m->cfg.decoder_start_token_id;
    byt5_encode(sol.target, dec + 1, tl + 1);
    /* Scored rows: row r predicts target[r]; those that write a digit of D. */
    an_pos_class *cls = xmalloc((tl + 1) * sizeof *cls);
    an_pc_target(sol.target, cls);
    unsigned char *scored = xcalloc(tl + 1, 1);
    size_t T = 0;
    for (size_t r = 0; r < tl; r++)
        if (cls[r + 1] == AN_PC_DVAL && sol.target[r] >= '0' && sol.target[r] <= '9')
            scored[r] = 1, out->n_scored++, T = r + 1;
    free(cls);
    out->n_src = S;
    out->n_dec = T;
    out->n_layers[T5_ENCODER] = m->cfg.num_layers;
    out->n_layers[T5_DECODER] = m->cfg.num_decoder_layers;

    /* One BLAS thread: one equation's products are small, and BLAS threads
     * that wait for a busy core stall each of the passes. */
    int blas = openblas_get_num_threads();
    openblas_set_num_threads(1);
    t5_run *run = t5_run_new(m, S, T);
    an_states st;
    an_states_init(&st, m, S, T);
    float *logits = xmalloc(T * V * sizeof *logits);
    int rc = 0;
    t5_run_set_state_hook(run, an_states_hook, &st);
    if (t5_teacher_forced(run, src_c, S, dec, T, logits, err)) rc = -1;
    t5_run_set_state_hook(run, NULL, NULL);
    out->lp_clean = score_rows(logits, V, dec, scored, 0, T);
    if (!rc && t5_teacher_forced(run, src_x, S, dec, T, logits, err)) rc = -1;
    out->lp_corrupt = score_rows(logits, V, dec, scored, 0, T);
    double span = out->lp_clean - out->lp_corrupt;
    if (!rc && !(fabs(span) >= 1e-3))
        rc = as_errf(err, "changing %c (%s -> %s) does not move the log-probability of D's digits "
                          "(%.4f and %.4f): there is nothing to restore",
                     out->changed, out->clean_src, out->corrupt_src, out->lp_clean,
                     out->lp_corrupt);
    /* The corrupted run's per-row scores, for decoder patches that rerun
     * only the rows from the patched position on. */
    double *lp_row = xcalloc(T + 1, sizeof *lp_row);
    for (size_t r = T; r-- > 0;)
        lp_row[r] = lp_row[r + 1] + (scored[r] ? row_logprob(logits + r * V, V, dec[r + 1]) : 0.0);
    for (int stack = 0; stack < 2 && !rc; stack++)
        for (int c = 0; c < AN_PCOMP_COUNT; c++) {
            if (stack == T5_ENCODER && c == AN_PCOMP_CROSS) continue;
            out->rows[stack][c] = out->n_layers[stack] + (c == AN_PCOMP_RESID);
            out->restored[stack][c] =
                xcalloc(out->rows[stack][c] * (stack == T5_ENCODER ? S : T), sizeof(double));
        }
    /* Encoder patches: a whole pass each. */
    for (int c = 0; c < AN_PCOMP_COUNT && !rc; c++)
        for (size_t row = 0; row < out->rows[T5_ENCODER][c] && !rc; row++)
            for (size_t pos = 0; pos < S && !rc; pos++) {
                an_patch p = {T5_ENCODER, comp_kind(c, row), comp_layer(c, row), pos, NULL, 0};
                p.row = an_states_row(&st, T5_ENCODER, p.kind, p.layer, pos);
                t5_run_set_state_hook(run, an_patch_hook, &p);
                if (t5_teacher_forced(run, src_x, S, dec, T, logits, err)) rc = -1;
                out->runs++;
                double lp = score_rows(logits, V, dec, scored, 0, T);
                out->restored[T5_ENCODER][c][row * S + pos] = (lp - out->lp_corrupt) / span;
            }
    /* Decoder patches: encode the corrupted source once; positions from the
     * last down, so that the cache before each patched position still
     * holds the unpatched corrupted run. */
    t5_run_set_state_hook(run, NULL, NULL);
    if (!rc && t5_teacher_forced(run, src_x, S, dec, T, NULL, err)) rc = -1;
    for (size_t pos = T; pos-- > 0 && !rc;)
        for (int c = 0; c < AN_PCOMP_COUNT && !rc; c++)
            for (size_t row = 0; row < out->rows[T5_DECODER][c] && !rc; row++) {
                an_patch p = {T5_DECODER, comp_kind(c, row), comp_layer(c, row), pos, NULL, 0};
                p.row = an_states_row(&st, T5_DECODER, p.kind, p.layer, pos);
                t5_run_set_state_hook(run, an_patch_hook, &p);
                if (t5_run_rewind(run, pos, err) ||
                    t5_decode_tokens(run, dec + pos, T - pos, logits, err))
                    rc = -1;
                out->runs++;
                double lp = (out->lp_corrupt - lp_row[pos]) +
                            score_rows(logits, V, dec, scored, pos, T);
                out->restored[T5_DECODER][c][row * T + pos] = (lp - out->lp_corrupt) / span;
            }
    free(lp_row);
    free(logits);
    an_states_free(&st);
    t5_run_free(run);
    openblas_set_num_threads(blas);
    free(src_c), free(src_x), free(dec), free(scored);
    out->seconds = util_now() - t0;
    if (rc) an_patch_free(out);
    return rc;
}
