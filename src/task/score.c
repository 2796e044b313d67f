/* score.c - the three scores of the quadratic task (spec "Scores"): full
 * solve, character accuracy and answer accuracy, overall and per kind, where
 * an output first goes wrong, and how close its discriminant's value is.
 *
 * Deliberately not here: decoding the outputs (src/eval/, the trainer's
 * evaluation, src/analysis/ for ablation). */
#include <cJSON.h>
#include <string.h>

#include "quad.h"

/* The last `want` ';'-terminated segments of text (text after the last ';'
 * ignored): start[i], len[i] for i < *got, oldest first. */
static void last_segments(const char *text, size_t want, const char **start, size_t *len,
                          size_t *got)
{
    const char *end = strrchr(text, ';');
    *got = 0;
    if (!end) return;
    /* walk back from the last ';' */
    const char *seg_end = end;  /* points at the ';' closing the segment */
    const char *tmp_s[2];
    size_t tmp_l[2];
    while (*got < want) {
        const char *p = seg_end;
        while (p > text && p[-1] != ';') p--;
        tmp_s[*got] = p;
        tmp_l[*got] = (size_t)(seg_end - p);
        (*got)++;
        if (p == text) break;
        seg_end = p - 1;
    }
    for (size_t i = 0; i < *got; i++) {
        start[i] = tmp_s[*got - 1 - i];
        len[i] = tmp_l[*got - 1 - i];
    }
}

int quad_answer_right(const char *target, const char *output)
{
    const char *ts[2], *os[2];
    size_t tl[2], ol[2], tn, on;
    last_segments(target, 1, ts, tl, &tn);
    if (tn == 0) return 0;
    size_t want = (tl[0] >= 2 && !strncmp(ts[0], "x=", 2)) ? 2 : 1;
    last_segments(target, want, ts, tl, &tn);
    last_segments(output, want, os, ol, &on);
    if (on != tn) return 0;
    for (size_t i = 0; i < tn; i++)
        if (tl[i] != ol[i] || memcmp(ts[i], os[i], tl[i]) != 0) return 0;
    return 1;
}

long quad_first_diff(const char *target, const char *output)
{
    size_t i = 0;
    while (target[i] && target[i] == output[i]) i++;
    if (!target[i] && !output[i]) return -1;
    return (long)i;
}

static void add_one(quad_score *s, const char *target, const char *output)
{
    size_t tl = strlen(target);
    size_t right = 0;
    for (size_t i = 0; i < tl && output[i]; i++) right += output[i] == target[i];
    s->n++;
    s->full += strcmp(target, output) == 0;
    s->answer += (size_t)quad_answer_right(target, output);
    s->chars_right += right;
    s->chars_total += tl;
}

void quad_scores_add(quad_scores *s, quad_kind kind, const char *target, const char *output)
{
    add_one(&s->all, target, output);
    if ((unsigned)kind < QUAD_N_KINDS) add_one(&s->kind[kind], target, output);
}

double quad_score_full(const quad_score *s) { return s->n ? (double)s->full / (double)s->n : 0; }
double quad_score_answer(const quad_score *s) { return s->n ? (double)s->answer / (double)s->n : 0; }
double quad_score_chars(const quad_score *s)
{
    return s->chars_total ? (double)s->chars_right / (double)s->chars_total : 0;
}

cJSON *quad_score_json(const quad_score *s, int counts)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)s->n);
    cJSON_AddNumberToObject(o, "full_solve", quad_score_full(s));
    cJSON_AddNumberToObject(o, "char_accuracy", quad_score_chars(s));
    cJSON_AddNumberToObject(o, "answer_accuracy", quad_score_answer(s));
    if (counts) {
        cJSON_AddNumberToObject(o, "full", (double)s->full);
        cJSON_AddNumberToObject(o, "answer", (double)s->answer);
        cJSON_AddNumberToObject(o, "chars_right", (double)s->chars_right);
        cJSON_AddNumberToObject(o, "chars_total", (double)s->chars_total);
    }
    return o;
}

int quad_wrong_step(const char *target, const char *output)
{
    long d = quad_first_diff(target, output);
    if (d < 0) return -1;
    int step = 0;
    for (long i = 0; i < d && target[i]; i++) step += target[i] == ';';
    return step < QUAD_MAX_STEPS ? step : QUAD_MAX_STEPS - 1;
}

const char *quad_step_name(quad_kind kind, int step)
{
    static const char *roots[] = {"discriminant", "x1 working", "x2 working",
                                  "x1 answer",    "x2 answer",  "extra output"};
    static const char *none[] = {"discriminant", "D<0", "extra output"};
    if (step < 0) return "none";
    if (kind == QUAD_NO_ROOT) return step < 3 ? none[step] : "extra output";
    return step < QUAD_MAX_STEPS ? roots[step] : "extra output";
}

/* The digits of the value after "D=(...)=" in text (sign in *neg), or NULL
 * when text has none: the first ")=" then an optional '-' and a digit. */
static const char *d_value(const char *text, size_t *len, int *neg)
{
    if (strncmp(text, "D=(", 3) != 0) return NULL;
    const char *p = strstr(text, ")=");
    if (!p) return NULL;
    p += 2;
    *neg = *p == '-';
    p += *neg;
    size_t n = 0;
    while (p[n] >= '0' && p[n] <= '9') n++;
    *len = n;
    return n ? p : NULL;
}

void quad_dstats_add(quad_dstats *s, const char *target, const char *output)
{
    size_t tl, ol;
    int tneg, oneg;
    const char *t = d_value(target, &tl, &tneg), *o = d_value(output, &ol, &oneg);
    s->n++;
    if (!t || !o) return;
    s->has_value++;
    if (tneg == oneg && tl == ol && memcmp(t, o, tl) == 0) {
        s->right++;
        return;
    }
    if (tneg != oneg) return;
    s->sign_right++;
    if (tl != ol) return;
    s->same_digits++;
    s->leading += t[0] == o[0];
    for (size_t i = 0; i < tl && i < QUAD_D_PLACES; i++) {
        s->place_total[i]++;
        s->place_right[i] += t[tl - 1 - i] == o[tl - 1 - i];
    }
}
