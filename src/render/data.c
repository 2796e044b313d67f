/* data.c - the numbers behind a rendered map: CSV (a matrix with labelled
 * rows and columns, or long form for the model view) and JSON (cJSON, so
 * every string is escaped properly).
 *
 * Deliberately not here: any drawing. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byt5.h"
#include "render.h"

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static const char *row_label(const render_doc *d, size_t r, char *buf, size_t cap)
{
    if (!d->row_tokens) {
        snprintf(buf, cap, "L%zu", r);
        return buf;
    }
    char t[64];
    snprintf(buf, cap, "%zu %s", r, render_token_name(d, d->row_tokens[r], t, sizeof t));
    return buf;
}

static const char *col_label(const render_doc *d, size_t c, char *buf, size_t cap)
{
    char t[64];
    snprintf(buf, cap, "%zu %s", c, render_token_name(d, d->col_tokens[c], t, sizeof t));
    return buf;
}

int render_csv(FILE *f, const render_doc *d)
{
    char a[64], b[64];
    if (d->view == RENDER_VIEW_MODEL) {
        fputs(d->norms ? "layer,head,query,key,norm\n" : "layer,head,query,key,weight\n", f);
        for (size_t p = 0; p < d->n_panels; p++)
            for (size_t r = 0; r < d->rows; r++)
                for (size_t c = 0; c < d->cols; c++) {
                    fprintf(f, "%zu,%zu,", d->panels[p].layer, d->panels[p].head);
                    csv_field(f, row_label(d, r, a, sizeof a));
                    fputc(',', f);
                    csv_field(f, col_label(d, c, b, sizeof b));
                    fprintf(f, ",%.6g\n", d->panels[p].data[r * d->cols + c]);
                }
    } else {
        csv_field(f, d->row_tokens ? "query\\key" : "layer\\key");
        for (size_t c = 0; c < d->cols; c++) {
            fputc(',', f);
            csv_field(f, col_label(d, c, b, sizeof b));
        }
        fputc('\n', f);
        for (size_t r = 0; r < d->rows; r++) {
            csv_field(f, row_label(d, r, a, sizeof a));
            for (size_t c = 0; c < d->cols; c++)
                fprintf(f, ",%.6g", d->panels[0].data[r * d->cols + c]);
            fputc('\n', f);
        }
    }
    fflush(f);
    return ferror(f) ? -1 : 0;
}

/* A number rounded to 6 significant digits (short JSON). */
static double short_num(double v)
{
    if (!isfinite(v)) return 0;
    char s[32];
    snprintf(s, sizeof s, "%.6g", v);
    return strtod(s, NULL);
}

static cJSON *matrix(const float *m, size_t rows, size_t cols)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t r = 0; r < rows; r++) {
        cJSON *row = cJSON_CreateArray();
        for (size_t c = 0; c < cols; c++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber(short_num(m[r * cols + c])));
        cJSON_AddItemToArray(a, row);
    }
    return a;
}

static cJSON *tokens(const render_doc *d, const int *ids, size_t n, int labels)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        char t[64];
        cJSON_AddItemToArray(a, labels ? cJSON_CreateString(render_token_name(d, ids[i], t,
                                                                               sizeof t))
                                       : cJSON_CreateNumber(ids[i]));
    }
    return a;
}

/* A string that is valid UTF-8 for JSON: invalid bytes become U+FFFD. */
static cJSON *utf8_string(const char *s)
{
    size_t n = strlen(s);
    char *o = xmalloc(n * 3 + 1), *w = o;
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        size_t want = *u < 0x80 ? 1 : *u >= 0xC2 && *u <= 0xDF ? 2 : *u >= 0xE0 && *u <= 0xEF ? 3
                    : *u >= 0xF0 && *u <= 0xF4 ? 4 : 0;
        for (size_t k = 1; k < want; k++)
            if ((u[k] & 0xC0) != 0x80) want = 0;
        if (want) {
            memcpy(w, u, want);
            w += want;
            u += want;
        } else {
            memcpy(w, "\xef\xbf\xbd", 3);
            w += 3;
            u++;
        }
    }
    *w = '\0';
    cJSON *j = cJSON_CreateString(o);
    free(o);
    return j;
}

int render_json(FILE *f, const render_doc *d)
{
    static const char *kinds[] = {"enc", "dec", "cross"};
    cJSON *o = cJSON_CreateObject();
    if (d->model_name) cJSON_AddItemToObject(o, "model", utf8_string(d->model_name));
    if (d->input) cJSON_AddItemToObject(o, "input", utf8_string(d->input));
    if (d->source) cJSON_AddItemToObject(o, "source", utf8_string(d->source));
    cJSON_AddItemToObject(o, "output", utf8_string(d->output));
    cJSON_AddStringToObject(o, "view", render_view_name(d->view));
    cJSON_AddStringToObject(o, "kind", kinds[d->kind]);
    if (d->layer >= 0) cJSON_AddNumberToObject(o, "layer", (double)d->layer);
    if (d->view <= RENDER_VIEW_CROSS) {
        if (d->head >= 0) cJSON_AddNumberToObject(o, "head", (double)d->head);
        else cJSON_AddStringToObject(o, "head", "avg");
    }
    cJSON_AddNumberToObject(o, "step", (double)d->step);
    cJSON_AddNumberToObject(o, "steps", (double)d->n_steps);
    cJSON_AddNumberToObject(o, "layers", (double)d->n_layers);
    cJSON_AddNumberToObject(o, "heads", (double)d->n_heads);
    cJSON_AddNumberToObject(o, "vmax", short_num(d->vmax));
    cJSON_AddStringToObject(o, "title", d->title);
    cJSON_AddStringToObject(o, "measure", d->norms ? "norms" : "weights");
    cJSON_AddNumberToObject(o, "rows", (double)d->rows);
    cJSON_AddNumberToObject(o, "cols", (double)d->cols);
    if (d->row_tokens) {
        cJSON_AddItemToObject(o, "row_tokens", tokens(d, d->row_tokens, d->rows, 1));
        cJSON_AddItemToObject(o, "row_ids", tokens(d, d->row_tokens, d->rows, 0));
        if (d->row_fed) {
            cJSON_AddItemToObject(o, "row_fed_tokens", tokens(d, d->row_fed, d->rows, 1));
            cJSON_AddItemToObject(o, "row_fed_ids", tokens(d, d->row_fed, d->rows, 0));
        }
    } else {
        cJSON *a = cJSON_CreateArray();
        for (size_t l = 0; l < d->rows; l++) {
            char s[24];
            snprintf(s, sizeof s, "L%zu", l);
            cJSON_AddItemToArray(a, cJSON_CreateString(s));
        }
        cJSON_AddItemToObject(o, "row_tokens", a);
    }
    cJSON_AddItemToObject(o, "col_tokens", tokens(d, d->col_tokens, d->cols, 1));
    cJSON_AddItemToObject(o, "col_ids", tokens(d, d->col_tokens, d->cols, 0));
    if (d->view == RENDER_VIEW_MODEL) {
        cJSON *maps = cJSON_CreateArray();
        for (size_t p = 0; p < d->n_panels; p++) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddNumberToObject(m, "layer", (double)d->panels[p].layer);
            cJSON_AddNumberToObject(m, "head", (double)d->panels[p].head);
            cJSON_AddItemToObject(m, "weights", matrix(d->panels[p].data, d->rows, d->cols));
            cJSON_AddItemToArray(maps, m);
        }
        cJSON_AddItemToObject(o, "maps", maps);
    } else {
        cJSON_AddItemToObject(o, "weights", matrix(d->panels[0].data, d->rows, d->cols));
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return -1;
    fputs(text, f);
    fputc('\n', f);
    free(text);
    fflush(f);
    return ferror(f) ? -1 : 0;
}
