/* patching_write.c - an activation-patching result as files (see
 * an_patch_write in probe.h): a TSV of every patch, a markdown summary,
 * JSON, and one heatmap figure per stack and component.
 *
 * Deliberately not here: computing anything (patching.c). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "byt5.h"
#include "probe.h"

static size_t n_pos(const an_patch_result *r, int stack)
{
    return stack == T5_ENCODER ? r->n_src : r->n_dec;
}

/* The label of position p of a stack: the clean source byte (what a patch
 * copies in), or the character a decoder row is fed ("<s>" for the start). */
static const char *pos_label(const an_patch_result *r, int stack, size_t p, char *buf, size_t cap)
{
    const char *s = stack == T5_ENCODER ? r->clean_src : r->clean_tgt;
    if (stack == T5_DECODER && p == 0) return snprintf(buf, cap, "<s>"), buf;
    size_t i = stack == T5_ENCODER ? p : p - 1;
    if (stack == T5_ENCODER && i >= strlen(s)) return snprintf(buf, cap, "eos"), buf;
    snprintf(buf, cap, "%c", s[i]);
    return buf;
}

static const char *row_label(int comp, size_t row, char *buf, size_t cap)
{
    if (comp == AN_PCOMP_RESID && row == 0) snprintf(buf, cap, "emb");
    else snprintf(buf, cap, "L%u", (unsigned)(comp == AN_PCOMP_RESID ? row - 1 : row));
    return buf;
}

static int write_tsv(const an_patch_result *r, const char *path, as_err *err)
{
    atomic_file af;
    if (atomic_open(&af, path, err)) return -1;
    fprintf(af.f, "stack\tcomponent\tlayer\tposition\ttoken\trestored\n");
    char a[16], b[16];
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < AN_PCOMP_COUNT; c++)
            for (size_t row = 0; row < r->rows[s][c]; row++)
                for (size_t p = 0; p < n_pos(r, s); p++)
                    fprintf(af.f, "%s\t%s\t%s\t%zu\t%s\t%.4f\n", s ? "decoder" : "encoder",
                            an_pcomp_name(c), row_label(c, row, a, sizeof a), p,
                            pos_label(r, s, p, b, sizeof b),
                            r->restored[s][c][row * n_pos(r, s) + p]);
    return atomic_commit(&af, err);
}

static int write_json(const an_patch_result *r, const char *path, as_err *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "clean", r->clean_src);
    cJSON_AddStringToObject(o, "corrupt", r->corrupt_src);
    char ch[2] = {r->changed, 0};
    cJSON_AddStringToObject(o, "changed", ch);
    cJSON_AddStringToObject(o, "target", r->clean_tgt);
    cJSON_AddNumberToObject(o, "scored_rows", (double)r->n_scored);
    cJSON_AddNumberToObject(o, "logprob_clean", r->lp_clean);
    cJSON_AddNumberToObject(o, "logprob_corrupt", r->lp_corrupt);
    for (int s = 0; s < 2; s++) {
        cJSON *so = cJSON_AddObjectToObject(o, s ? "decoder" : "encoder");
        for (int c = 0; c < AN_PCOMP_COUNT; c++) {
            if (!r->restored[s][c]) continue;
            cJSON *rows = cJSON_AddArrayToObject(so, an_pcomp_name(c));
            for (size_t row = 0; row < r->rows[s][c]; row++) {
                cJSON *a = cJSON_CreateArray();
                for (size_t p = 0; p < n_pos(r, s); p++)
                    cJSON_AddItemToArray(a, cJSON_CreateNumber(
                        round(r->restored[s][c][row * n_pos(r, s) + p] * 1e4) / 1e4));
                cJSON_AddItemToArray(rows, a);
            }
        }
    }
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    size_t len = strlen(text);
    text = realloc(text, len + 2);
    text[len] = '\n';
    int rc = util_write_atomic(path, text, len + 1, err);
    free(text);
    return rc;
}

static int write_md(const an_patch_result *r, const char *path, const char *model, as_err *err)
{
    atomic_file af;
    if (atomic_open(&af, path, err)) return -1;
    FILE *f = af.f;
    fprintf(f, "# Activation patching: %s -> %s\n\n", r->clean_src, r->corrupt_src);
    fprintf(f, "Model `%s`. The corrupted equation changes %c. Both runs are teacher-forced on "
               "the clean target `%s`; the score is the summed log-probability of its %zu "
               "characters that write D's digits: %.4f clean, %.4f corrupted. Each patch copies "
               "one row (one layer, one position) of one component from the clean run into the "
               "corrupted one; *restored* is (patched - corrupted) / (clean - corrupted): 1 "
               "brings the clean score back, 0 changes nothing.\n\n",
            model, r->changed, r->clean_tgt, r->n_scored, r->lp_clean, r->lp_corrupt);
    fprintf(f, "| stack | component | best layer | best position | restored |\n"
               "|---|---|---|---|---|\n");
    char a[16], b[16];
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < AN_PCOMP_COUNT; c++) {
            if (!r->restored[s][c]) continue;
            size_t n = r->rows[s][c] * n_pos(r, s), best = 0;
            for (size_t i = 1; i < n; i++)
                if (r->restored[s][c][i] > r->restored[s][c][best]) best = i;
            size_t row = best / n_pos(r, s), p = best % n_pos(r, s);
            fprintf(f, "| %s | %s | %s | %zu `%s` | %.3f |\n", s ? "decoder" : "encoder",
                    an_pcomp_name(c), row_label(c, row, a, sizeof a), p,
                    pos_label(r, s, p, b, sizeof b), r->restored[s][c][best]);
        }
    fprintf(f, "\n%zu forward passes in %.2f s. Every patch: patch.tsv, patch.json; the "
               "figure: patch.png / patch.svg (restored share, clipped to 0..1).\n",
            r->runs, r->seconds);
    return atomic_commit(&af, err);
}

static int write_figure(const an_patch_result *r, const char *base, as_err *err)
{
    an_panel panels[2 * AN_PCOMP_COUNT];
    float *data[2 * AN_PCOMP_COUNT] = {0};
    char titles[2 * AN_PCOMP_COUNT][48];
    size_t maxr = 0, maxp = r->n_src > r->n_dec ? r->n_src : r->n_dec, n = 0;
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < AN_PCOMP_COUNT; c++) maxr = r->rows[s][c] > maxr ? r->rows[s][c] : maxr;
    char (*rl)[AN_PCOMP_COUNT][16] = xcalloc(maxr ? maxr : 1, sizeof *rl);
    char (*pl)[2][16] = xcalloc(maxp ? maxp : 1, sizeof *pl);
    const char **rlab = xcalloc(AN_PCOMP_COUNT * (maxr + 1), sizeof *rlab);
    const char **plab = xcalloc(2 * (maxp + 1), sizeof *plab);
    for (int s = 0; s < 2; s++)
        for (size_t p = 0; p < n_pos(r, s); p++)
            plab[s * (maxp + 1) + p] = pos_label(r, s, p, pl[p][s], sizeof pl[p][s]);
    for (int c = 0; c < AN_PCOMP_COUNT; c++)
        for (size_t row = 0; row < maxr; row++)
            rlab[c * (maxr + 1) + row] = row_label(c, row, rl[row][c], sizeof rl[row][c]);
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < AN_PCOMP_COUNT; c++) {
            if (!r->restored[s][c]) continue;
            size_t cells = r->rows[s][c] * n_pos(r, s);
            data[n] = xmalloc(cells * sizeof(float));
            for (size_t i = 0; i < cells; i++) {
                double v = r->restored[s][c][i];
                data[n][i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
            }
            snprintf(titles[n], sizeof titles[n], "%s %s", s ? "decoder" : "encoder",
                     an_pcomp_name(c));
            panels[n] = (an_panel){data[n], r->rows[s][c], n_pos(r, s), titles[n],
                                   rlab + c * (maxr + 1), plab + s * (maxp + 1), NULL};
            n++;
        }
    char title[512];
    snprintf(title, sizeof title,
             "Activation patching %s -> %s: share of the clean log-probability of D's digits\n"
             "restored by copying one clean row (layer x position)", r->clean_src, r->corrupt_src);
    int rc = an_fig_heatmaps(base, title, panels, n, 3, 1.0f, 0, NULL, NULL, err);
    for (size_t i = 0; i < n; i++) free(data[i]);
    free(rl), free(pl), free(rlab), free(plab);
    return rc;
}

int an_patch_write(const an_patch_result *r, const char *dir, const char *model, as_err *err)
{
    if (util_mkdir_p(dir, err)) return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/patch.tsv", dir);
    if (write_tsv(r, path, err)) return -1;
    snprintf(path, sizeof path, "%s/patch.json", dir);
    if (write_json(r, path, err)) return -1;
    snprintf(path, sizeof path, "%s/patch.md", dir);
    if (write_md(r, path, model, err)) return -1;
    snprintf(path, sizeof path, "%s/patch", dir);
    return write_figure(r, path, err);
}
