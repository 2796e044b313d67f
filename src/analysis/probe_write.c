/* probe_write.c - the probe results as files (see an_probe_write in
 * probe.h): a TSV of every cell, JSON, a markdown summary that answers
 * "where is each quantity best read, at a special symbol or at a digit",
 * and one heatmap figure (a panel per target, slots x position classes).
 *
 * Deliberately not here: computing anything (probe.c). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "probe.h"

static double cell(const double *a, const an_probe_result *r, size_t t, size_t slot, size_t c)
{
    return a[(t * r->n_slots + slot) * AN_PC_COUNT + c];
}

static int write_tsv(const an_probe_result *r, const char *path, as_err *err)
{
    atomic_file af;
    if (atomic_open(&af, path, err)) return -1;
    fprintf(af.f, "target\tmeasure\tslot\tclass\tscore\tshuffled\n");
    char sl[32];
    for (size_t t = 0; t < r->n_targets; t++)
        for (size_t s = 0; s < r->n_slots; s++)
            for (size_t c = 0; c < AN_PC_COUNT; c++) {
                double v = cell(r->score, r, t, s, c);
                if (isnan(v)) continue;
                fprintf(af.f, "%s\t%s\t%s\t%s\t%.4f\t%.4f\n", r->target_name[t],
                        an_probe_is_digit(r, t) ? "accuracy" : "R2",
                        an_probe_slot_name(r, s, sl, sizeof sl), an_pc_name((an_pos_class)c), v,
                        cell(r->shuffled, r, t, s, c));
            }
    return atomic_commit(&af, err);
}

static int write_json(const an_probe_result *r, const char *path, const char *model, as_err *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddNumberToObject(o, "equations", (double)r->n_eq);
    cJSON_AddNumberToObject(o, "train", (double)r->n_train);
    cJSON_AddNumberToObject(o, "test", (double)r->n_test);
    cJSON *slots = cJSON_AddArrayToObject(o, "slots"), *classes = cJSON_AddArrayToObject(o, "classes");
    char sl[32];
    for (size_t s = 0; s < r->n_slots; s++)
        cJSON_AddItemToArray(slots, cJSON_CreateString(an_probe_slot_name(r, s, sl, sizeof sl)));
    for (size_t c = 0; c < AN_PC_COUNT; c++)
        cJSON_AddItemToArray(classes, cJSON_CreateString(an_pc_name((an_pos_class)c)));
    cJSON *targets = cJSON_AddArrayToObject(o, "targets");
    for (size_t t = 0; t < r->n_targets; t++) {
        cJSON *to = cJSON_CreateObject();
        cJSON_AddStringToObject(to, "name", r->target_name[t]);
        cJSON_AddStringToObject(to, "measure", an_probe_is_digit(r, t) ? "accuracy" : "R2");
        if (an_probe_is_digit(r, t))
            cJSON_AddNumberToObject(to, "majority", r->chance[t - AN_PQ_N_VALUES]);
        const double *arr[2] = {r->score, r->shuffled};
        const char *key[2] = {"score", "shuffled"};
        for (int k = 0; k < 2; k++) {
            cJSON *rows = cJSON_AddArrayToObject(to, key[k]);
            for (size_t s = 0; s < r->n_slots; s++) {
                cJSON *row = cJSON_CreateArray();
                for (size_t c = 0; c < AN_PC_COUNT; c++) {
                    double v = cell(arr[k], r, t, s, c);
                    cJSON_AddItemToArray(row, isnan(v) ? cJSON_CreateNull()
                                                       : cJSON_CreateNumber(round(v * 1e4) / 1e4));
                }
                cJSON_AddItemToArray(rows, row);
            }
        }
        cJSON_AddItemToArray(targets, to);
    }
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    size_t len = strlen(text);
    char *buf = xmalloc(len + 2);
    memcpy(buf, text, len);
    buf[len] = '\n';
    free(text);
    int rc = util_write_atomic(path, buf, len + 1, err);
    free(buf);
    return rc;
}

double an_probe_best(const an_probe_result *r, size_t t, int special, int stack, size_t *bs,
                     size_t *bc)
{
    double best = NAN;
    size_t s0 = stack == 1 ? r->n_enc_slots : 0, s1 = stack == 0 ? r->n_enc_slots : r->n_slots;
    for (size_t s = s0; s < s1; s++)
        for (size_t c = 0; c < AN_PC_COUNT; c++) {
            double v = cell(r->score, r, t, s, c);
            if (isnan(v)) continue;
            /* The comparison keeps to the positions before D is written:
             * from D's value on, teacher forcing feeds the answer itself. */
            if (special >= 0 && (c >= AN_PC_DVAL || an_pc_special((an_pos_class)c) != special))
                continue;
            if (isnan(best) || v > best) best = v, *bs = s, *bc = c;
        }
    return best;
}

static int write_md(const an_probe_result *r, const char *path, const char *model, as_err *err)
{
    atomic_file af;
    if (atomic_open(&af, path, err)) return -1;
    FILE *f = af.f;
    fprintf(f, "# Probes: which positions and layers hold which quantity\n\n");
    fprintf(f, "Model `%s`, %zu distinct equations (%zu to fit, %zu held out, split by "
               "equation). Each probe is a ridge regression (digits: ridge on one-hot labels, "
               "argmax) from the residual stream at one slot (the embeddings, or after a layer) "
               "averaged over the positions of one class, to one quantity; the penalty is chosen "
               "on a fifth of the fitting equations. Scores are held-out R^2 (values) or accuracy "
               "(digits of |D|, units first); *shuffled* fits the same probe on permuted "
               "training labels.\n\n",
            model, r->n_eq, r->n_train, r->n_test);
    fprintf(f, "| quantity | measure | best place | score | shuffled | best at a special symbol "
               "| best at a digit |\n|---|---|---|---|---|---|---|\n");
    char sl[32], a[64], b[64];
    for (size_t t = 0; t < r->n_targets; t++) {
        size_t s = 0, c = 0, s1 = 0, c1 = 0, s0 = 0, c0 = 0;
        double v = an_probe_best(r, t, -1, -1, &s, &c);
        if (isnan(v)) continue;
        double vs = an_probe_best(r, t, 1, -1, &s1, &c1), vd = an_probe_best(r, t, 0, -1, &s0, &c0);
        snprintf(a, sizeof a, "%.3f (%s, %s)", vs, an_probe_slot_name(r, s1, sl, sizeof sl),
                 an_pc_name((an_pos_class)c1));
        snprintf(b, sizeof b, "%.3f (%s, %s)", vd, an_probe_slot_name(r, s0, sl, sizeof sl),
                 an_pc_name((an_pos_class)c0));
        int digit = an_probe_is_digit(r, t);
        fprintf(f, "| %s | %s | %s, %s | %.3f | %.3f | %s | %s |\n", r->target_name[t],
                digit ? "accuracy" : "R^2", an_probe_slot_name(r, s, sl, sizeof sl),
                an_pc_name((an_pos_class)c), v, cell(r->shuffled, r, t, s, c),
                isnan(vs) ? "-" : a, isnan(vd) ? "-" : b);
    }
    fprintf(f, "\nThe last two columns compare the places a model has before it writes D: "
               "special symbols (x ^ +- = eos in the source, the `)=` row of the target) "
               "against digits (of a, b, c, the exponent 2, the 0 after =, and the target's "
               "`D=(..)` expression). The decoder rows from D's value on (`D`, `x=(..)`) are "
               "fed D's characters by teacher forcing, so their probes read the answer from "
               "the input. Majority-digit share of the held-out equations, per place:");
    for (size_t p = 0; p < r->places; p++) fprintf(f, " 10^%zu %.3f", p, r->chance[p]);
    fprintf(f, ".\n\nEvery cell: probe.tsv and probe.json; the figure: probe.png / probe.svg "
               "(R^2 below 0 drawn as 0, grey: the class is not in that stack).\n");
    return atomic_commit(&af, err);
}

static int write_figure(const an_probe_result *r, const char *base, const char *model, as_err *err)
{
    size_t S = r->n_slots, K = AN_PC_COUNT, n = r->n_targets;
    float *data = xmalloc(n * S * K * sizeof *data);
    char (*rl)[32] = xmalloc(S * sizeof *rl);
    const char **rows = xmalloc(S * sizeof *rows), **cols = xmalloc(K * sizeof *cols);
    an_panel *panels = xcalloc(n, sizeof *panels);
    char (*titles)[48] = xmalloc(n * sizeof *titles);
    for (size_t s = 0; s < S; s++) rows[s] = an_probe_slot_name(r, s, rl[s], sizeof rl[s]);
    for (size_t c = 0; c < K; c++) cols[c] = an_pc_name((an_pos_class)c);
    for (size_t t = 0; t < n; t++) {
        for (size_t i = 0; i < S * K; i++) {
            double v = r->score[t * S * K + i];
            data[t * S * K + i] = isnan(v) ? NAN : (float)(v < 0 ? 0 : v);
        }
        snprintf(titles[t], sizeof titles[t], "%s (%s)", r->target_name[t],
                 an_probe_is_digit(r, t) ? "accuracy" : "R^2");
        panels[t] = (an_panel){data + t * S * K, S, K, titles[t], rows, cols, NULL};
    }
    char title[256];
    snprintf(title, sizeof title,
             "Linear probes on %s: held-out score by slot (rows) and position class (columns)\n"
             "%zu equations, %zu held out", model, r->n_eq, r->n_test);
    int rc = an_fig_heatmaps(base, title, panels, n, 3, 1.0f, 0, NULL, NULL, err);
    free(data), free(rl), free(rows), free(cols), free(panels), free(titles);
    return rc;
}

int an_probe_write(const an_probe_result *r, const char *dir, const char *model, as_err *err)
{
    if (util_mkdir_p(dir, err)) return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/probe.tsv", dir);
    if (write_tsv(r, path, err)) return -1;
    snprintf(path, sizeof path, "%s/probe.json", dir);
    if (write_json(r, path, model, err)) return -1;
    snprintf(path, sizeof path, "%s/probe.md", dir);
    if (write_md(r, path, model, err)) return -1;
    snprintf(path, sizeof path, "%s/probe", dir);
    return write_figure(r, path, model, err);
}
