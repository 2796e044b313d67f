/* stats.c - token classes, per-head statistics of attention maps and the
 * classification of heads into the study's phenomena (see analysis.h for the
 * definitions and thresholds).
 *
 * Pure computation on float maps: no engine, no files. Deliberately not
 * here: aggregates over heads or equations (aggregate.c), interventions
 * (ablate.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "byt5.h"

/* ---- token classes ---------------------------------------------------- */

an_tclass an_token_class(int id)
{
    if (id == BYT5_PAD) return AN_TC_PAD;
    if (id == BYT5_EOS) return AN_TC_EOS;
    if (id < BYT5_OFFSET || id >= BYT5_OFFSET + 256) return AN_TC_OTHER;
    int b = id - BYT5_OFFSET;
    if (b >= '0' && b <= '9') return AN_TC_DIGIT;
    switch (b) {
    case 'x': return AN_TC_X;
    case '^': return AN_TC_CARET;
    case '=': return AN_TC_EQ;
    case '+': case '-': return AN_TC_SIGN;
    case '*': return AN_TC_STAR;
    case '(': case ')': return AN_TC_PAREN;
    case ';': return AN_TC_SEMI;
    case 'D': return AN_TC_D;
    case '<': return AN_TC_LT;
    case '/': return AN_TC_SLASH;
    default: return AN_TC_OTHER;
    }
}

const char *an_tclass_name(an_tclass c)
{
    static const char *names[AN_TC_COUNT] = {"digit", "x", "^", "=",   "+-",  "*",   "()",
                                             ";",     "D", "<", "/",   "eos", "pad", "other"};
    return (unsigned)c < AN_TC_COUNT ? names[c] : "?";
}

int an_is_digit(int id) { return an_token_class(id) == AN_TC_DIGIT; }

int an_is_special(int id)
{
    an_tclass c = an_token_class(id);
    return c >= AN_TC_X && c <= AN_TC_SLASH;
}

/* ---- per-head statistics --------------------------------------------- */

/* 1 - histogram overlap of two rows (0 identical, 1 disjoint). */
static double row_change(const float *a, const float *b, size_t n)
{
    double ov = 0;
    for (size_t k = 0; k < n; k++) ov += a[k] < b[k] ? a[k] : b[k];
    return 1.0 - ov;
}

static double row_sum(const float *p, size_t n)
{
    double s = 0;
    for (size_t k = 0; k < n; k++) s += p[k];
    return s;
}

/* Causal version: the later row b restricted to the earlier row's keys
 * 0..q and renormalised, against a. Disjoint (1) when b has no mass there. */
static double row_change_causal(const float *a, const float *b, size_t q, size_t n)
{
    size_t m = q + 1 < n ? q + 1 : n;
    double s = row_sum(b, m);
    if (s < 1e-6) return 1.0;
    double ov = 0;
    for (size_t k = 0; k < m; k++) {
        double bv = b[k] / s;
        ov += a[k] < bv ? a[k] : bv;
    }
    return 1.0 - ov;
}

/* The diagonal key position of query row q (a real number). */
static double diag_pos(t5_attn_kind kind, size_t q, size_t rows, size_t cols)
{
    if (kind != T5_ATTN_CROSS) return (double)q;
    if (rows <= 1 || cols == 0) return 0.0;
    return (double)q * (double)(cols - 1) / (double)(rows - 1);
}

/* The change from row q to a later row q2 of a map. */
static double change(t5_attn_kind kind, const float *map, size_t stride, size_t q, size_t q2,
                     size_t cols)
{
    if (kind == T5_ATTN_DEC_SELF)
        return row_change_causal(map + q * stride, map + q2 * stride, q, cols);
    return row_change(map + q * stride, map + q2 * stride, cols);
}

/* Rule 3's squares over a diffuse background (see analysis.h): runs of
 * valid rows that repeat, the density of each row's mass inside its square
 * against the keys beside the square, and the change at squares' edges over
 * that inside them. Fills contrast, cover, inside and edge. */
static void squares(t5_attn_kind kind, const float *map, size_t stride, const size_t *valid,
                    size_t n_valid, size_t rows, size_t cols, double *contrast, double *cover,
                    double *inside, double *edge)
{
    double dens_in = 0, dens_out = 0, mass_in = 0, d_in = 0, d_edge = 0;
    size_t covered = 0, n_in = 0, n_edge = 0;
    *contrast = *cover = *inside = *edge = 0;
    for (size_t i0 = 0; i0 < n_valid;) {
        size_t i1 = i0;
        double d;
        while (i1 + 1 < n_valid &&
               (d = change(kind, map, stride, valid[i1], valid[i1 + 1], cols)) <= AN_BLOCK_SAME)
            i1++, d_in += d, n_in++;
        if (i1 + 1 < n_valid) d_edge += d, n_edge++;
        long k0 = lround(diag_pos(kind, valid[i0], rows, cols));
        long k1 = lround(diag_pos(kind, valid[i1], rows, cols));
        long w = k1 - k0 + 1;
        if (i1 > i0 && 2 * (size_t)w <= cols) {
            for (size_t i = i0; i <= i1; i++) {
                const float *p = map + valid[i] * stride;
                long last = kind == T5_ATTN_DEC_SELF ? (long)valid[i] : (long)cols - 1;
                double in = 0, out = 0;
                long n_out = 0;
                for (long k = k0; k <= k1; k++) in += p[k];
                for (long k = k0 - w; k <= k1 + w; k++) {
                    if (k >= k0 && k <= k1) continue;
                    if (k < 0 || k > last || k >= (long)cols) continue;
                    out += p[k];
                    n_out++;
                }
                if (n_out == 0) continue;
                dens_in += in / (double)w;
                dens_out += out / (double)n_out;
                mass_in += in;
                covered++;
            }
        }
        i0 = i1 + 1;
    }
    if (covered == 0) return;
    /* the change at a square's edge over the change inside one */
    if (n_edge) *edge = n_in && d_in > 1e-9 ? (d_edge / n_edge) / (d_in / n_in) : 100;
    *contrast = dens_out > 1e-12 ? dens_in / dens_out : 1e9;
    *cover = (double)covered / (double)n_valid;
    *inside = mass_in / (double)covered;
}

void an_stats_add_map(an_head_stats *s, t5_attn_kind kind, const float *map, size_t rows,
                      size_t cols, size_t stride, const int *key_tokens)
{
    if (rows == 0 || cols == 0) return;
    s->finished = 0;
    double *colmass = xcalloc(cols, sizeof *colmass);
    size_t *valid = xmalloc(rows * sizeof *valid);
    size_t n_valid = 0, n_all = 0; /* rows for the block score; all valid rows */
    for (size_t q = 0; q < rows; q++) {
        const float *p = map + q * stride;
        size_t nk = kind == T5_ATTN_DEC_SELF ? (q + 1 < cols ? q + 1 : cols) : cols;
        if (row_sum(p, cols) < AN_ROW_MIN_SUM) continue;
        n_all++;
        int short_row = kind == T5_ATTN_DEC_SELF && nk < AN_CAUSAL_MIN_KEYS;
        if (!short_row) valid[n_valid++] = q;
        double a = diag_pos(kind, q, rows, cols);
        long ar = lround(a);
        double ent = 0, dist = 0;
        float top[AN_TOPK] = {0};
        size_t kmax = 0;
        for (size_t k = 0; k < cols; k++) {
            double v = p[k];
            if (v <= 0) continue;
            ent -= v * log(v);
            dist += v * fabs((double)k - a);
            long o = (long)k - ar;
            if (o < -AN_OFFSET_WIN) o = -AN_OFFSET_WIN;
            if (o > AN_OFFSET_WIN) o = AN_OFFSET_WIN;
            if (!short_row) s->offset[o + AN_OFFSET_WIN] += v;
            an_tclass c = key_tokens ? an_token_class(key_tokens[k]) : AN_TC_OTHER;
            s->class_mass[c] += v;
            colmass[k] += v;
            if (p[k] > p[kmax]) kmax = k;
            /* keep the AN_TOPK largest, sorted descending */
            if (p[k] > top[AN_TOPK - 1]) {
                size_t i = AN_TOPK - 1;
                while (i > 0 && top[i - 1] < p[k]) { top[i] = top[i - 1]; i--; }
                top[i] = p[k];
            }
        }
        double tk = 0;
        for (size_t i = 0; i < AN_TOPK; i++) tk += top[i];
        s->entropy += ent;
        s->entropy_uniform += log((double)nk);
        s->distance += dist;
        s->topk += tk;
        s->rows += 1;
        if (!short_row) {
            long o = (long)kmax - ar;
            o = o < -AN_OFFSET_WIN ? -AN_OFFSET_WIN : o > AN_OFFSET_WIN ? AN_OFFSET_WIN : o;
            s->argmax_offset[o + AN_OFFSET_WIN] += 1;
            s->offset_rows += 1;
        }
    }
    if (n_all == 0) {
        free(colmass);
        free(valid);
        return;
    }
    /* stripes: the heaviest columns */
    double stripe = 0;
    double stripe_class[AN_TC_COUNT] = {0};
    for (size_t i = 0; i < AN_STRIPE_COLS && i < cols; i++) {
        size_t best = 0;
        for (size_t k = 1; k < cols; k++)
            if (colmass[k] > colmass[best]) best = k;
        if (colmass[best] < 0) break;
        double m = colmass[best] / (double)n_all;
        stripe += m;
        if (key_tokens) stripe_class[an_token_class(key_tokens[best])] += m;
        colmass[best] = -1; /* taken */
    }
    /* blocks: changes between consecutive valid rows, overlap of far rows */
    double repeat = 0, jump = 0, far = 0, block = 0;
    if (n_valid >= 2) {
        size_t pairs = n_valid - 1;
        for (size_t i = 0; i + 1 < n_valid; i++) {
            double d = change(kind, map, stride, valid[i], valid[i + 1], cols);
            if (d <= AN_BLOCK_SAME) repeat += 1;
            if (d >= AN_BLOCK_JUMP) jump += 1;
        }
        repeat /= (double)pairs;
        jump /= (double)pairs;
        size_t half = n_valid / 2, nf = n_valid - half;
        for (size_t i = 0; i < nf; i++)
            far += 1.0 - change(kind, map, stride, valid[i], valid[i + half], cols);
        far /= (double)nf;
        block = jump > 0 ? repeat * (1.0 - far) : 0.0;
    }
    double sq_c, sq_v, sq_i, sq_e;
    squares(kind, map, stride, valid, n_valid, rows, cols, &sq_c, &sq_v, &sq_i, &sq_e);
    s->sq_edge += sq_e > 100 ? 100 : sq_e;
    /* a map without squares adds 0 contrast; a huge one (empty surroundings)
     * is capped so that one map cannot outweigh the others in the mean */
    s->sq_contrast += sq_c > 100 ? 100 : sq_c;
    s->sq_cover += sq_v;
    s->sq_inside += sq_i;
    s->stripe += stripe;
    for (size_t c = 0; c < AN_TC_COUNT; c++) s->stripe_class[c] += stripe_class[c];
    s->repeat += repeat;
    s->jump += jump;
    s->far_sim += far;
    s->block += block;
    s->maps += 1;
    free(colmass);
    free(valid);
}

void an_stats_finish(an_head_stats *s)
{
    if (s->finished) return;
    s->finished = 1;
    if (s->rows > 0) {
        double r = s->rows;
        s->entropy /= r;
        s->entropy_uniform /= r;
        s->distance /= r;
        s->topk /= r;
        if (s->offset_rows > 0)
            for (size_t i = 0; i < AN_N_OFFSETS; i++) {
                s->offset[i] /= s->offset_rows;
                s->argmax_offset[i] /= s->offset_rows;
            }
        for (size_t i = 0; i < AN_TC_COUNT; i++) s->class_mass[i] /= r;
    }
    if (s->maps > 0) {
        double m = s->maps;
        s->stripe /= m;
        for (size_t i = 0; i < AN_TC_COUNT; i++) s->stripe_class[i] /= m;
        s->repeat /= m;
        s->jump /= m;
        s->far_sim /= m;
        s->block /= m;
        s->sq_contrast /= m;
        s->sq_cover /= m;
        s->sq_inside /= m;
        s->sq_edge /= m;
    }
}

an_stats *an_stats_new(size_t n_enc_layers, size_t n_dec_layers, size_t n_heads)
{
    an_stats *s = xcalloc(1, sizeof *s);
    s->n_layers[T5_ATTN_ENC_SELF] = n_enc_layers;
    s->n_layers[T5_ATTN_DEC_SELF] = n_dec_layers;
    s->n_layers[T5_ATTN_CROSS] = n_dec_layers;
    s->n_heads = n_heads;
    for (int k = 0; k < AN_N_KINDS; k++)
        s->heads[k] = xcalloc(s->n_layers[k] * n_heads + 1, sizeof(an_head_stats));
    return s;
}

void an_stats_free(an_stats *s)
{
    if (!s) return;
    for (int k = 0; k < AN_N_KINDS; k++) free(s->heads[k]);
    free(s);
}

an_head_stats *an_stats_head(an_stats *s, t5_attn_kind kind, size_t layer, size_t head)
{
    if ((unsigned)kind >= AN_N_KINDS || layer >= s->n_layers[kind] || head >= s->n_heads)
        return NULL;
    return &s->heads[kind][layer * s->n_heads + head];
}

/* The key tokens of a kind's maps in a trace. */
static const int *key_tokens(const attn_trace *t, t5_attn_kind kind)
{
    return kind == T5_ATTN_DEC_SELF ? t->tgt : t->src;
}

void an_stats_add_trace(an_stats *s, const attn_trace *t)
{
    for (int kind = 0; kind < AN_N_KINDS; kind++) {
        size_t L = kind == T5_ATTN_ENC_SELF ? t->n_enc_layers : t->n_dec_layers;
        if (L > s->n_layers[kind]) L = s->n_layers[kind];
        for (size_t l = 0; l < L; l++)
            for (size_t h = 0; h < s->n_heads && h < t->n_heads; h++) {
                size_t rows, cols, stride;
                const float *m = trace_map(t, (t5_attn_kind)kind, l, h, &rows, &cols, &stride);
                an_stats_add_map(an_stats_head(s, (t5_attn_kind)kind, l, h), (t5_attn_kind)kind,
                                 m, rows, cols, stride,
                                 s->no_key_classes ? NULL : key_tokens(t, (t5_attn_kind)kind));
            }
    }
    s->n_traces++;
}

void an_stats_finish_all(an_stats *s)
{
    for (int k = 0; k < AN_N_KINDS; k++)
        for (size_t i = 0; i < s->n_layers[k] * s->n_heads; i++) an_stats_finish(&s->heads[k][i]);
}

/* ---- classification ---------------------------------------------------- */

const char *an_class_name(an_class c)
{
    static const char *names[AN_CLASS_COUNT] = {"clear diagonal", "blurred diagonal",
                                                "vertical stripes", "sparse squares",
                                                "heterogeneous"};
    return (unsigned)c < AN_CLASS_COUNT ? names[c] : "?";
}

char an_class_mark(an_class c)
{
    static const char marks[AN_CLASS_COUNT] = {'D', 'B', 'V', 'S', 'H'};
    return (unsigned)c < AN_CLASS_COUNT ? marks[c] : '?';
}

void an_classify(an_head_stats *s, an_head_class *out)
{
    an_stats_finish(s);
    memset(out, 0, sizeof *out);
    /* rule 1: the heaviest single offset, end bins excluded (they pool all
     * farther offsets) */
    int best = 0;
    double diag = -1;
    for (int o = -AN_OFFSET_WIN + 1; o <= AN_OFFSET_WIN - 1; o++)
        if (s->offset[o + AN_OFFSET_WIN] > diag) diag = s->offset[o + AN_OFFSET_WIN], best = o;
    /* rule 4: the heaviest band of 2*AN_BLUR_HALF+1 offsets inside the window */
    double band = -1;
    int centre = 0;
    for (int c = -AN_OFFSET_WIN + 1 + AN_BLUR_HALF; c <= AN_OFFSET_WIN - 1 - AN_BLUR_HALF; c++) {
        double m = 0;
        for (int o = c - AN_BLUR_HALF; o <= c + AN_BLUR_HALF; o++) m += s->offset[o + AN_OFFSET_WIN];
        if (m > band) band = m, centre = c;
    }
    out->diag = diag < 0 ? 0 : diag;
    /* rule 1's contrast: the other offsets of the best one's window */
    double around = 0;
    int n_around = 0;
    for (int o = best - AN_BLUR_HALF; o <= best + AN_BLUR_HALF; o++) {
        if (o == best || o <= -AN_OFFSET_WIN || o >= AN_OFFSET_WIN) continue;
        around += s->offset[o + AN_OFFSET_WIN];
        n_around++;
    }
    around = n_around ? around / n_around : 0;
    out->contrast = around > 1e-9 ? out->diag / around : out->diag > 0 ? 1e9 : 0;
    out->argmax = s->argmax_offset[best + AN_OFFSET_WIN];
    int sharp = out->diag >= AN_DIAG_SHARP_MASS && out->contrast >= AN_DIAG_CONTRAST &&
                out->argmax >= AN_DIAG_ARGMAX;
    out->band = band < 0 ? 0 : band;
    out->band_centre = centre;
    out->stripe = s->stripe;
    out->block = s->block;
    out->sq_contrast = s->sq_contrast;
    out->sq_cover = s->sq_cover;
    out->sq_inside = s->sq_inside;
    out->sq_edge = s->sq_edge;
    int sq = out->sq_contrast >= AN_SQ_CONTRAST && out->sq_cover >= AN_SQ_COVER &&
             out->sq_inside >= AN_SQ_INSIDE && out->sq_edge >= AN_SQ_EDGE;
    for (int c = 0; c < AN_TC_COUNT; c++)
        if (s->stripe > 0 && s->stripe_class[c] >= AN_STRIPE_TOKEN_SHARE * s->stripe)
            out->stripe_classes |= 1u << c;

    if (s->rows <= 0) {
        out->cls = AN_CLASS_HETERO;
        snprintf(out->label, sizeof out->label, "hetero (no data)");
    } else if (out->diag >= AN_DIAG_CLEAR || sharp) {
        out->cls = AN_CLASS_DIAG;
        out->offset = best;
        snprintf(out->label, sizeof out->label, "diag %+d", best);
    } else if (out->stripe >= AN_STRIPE_MIN) {
        out->cls = AN_CLASS_STRIPES;
        size_t len = (size_t)snprintf(out->label, sizeof out->label, "stripes");
        for (int c = 0; c < AN_TC_COUNT && len < sizeof out->label; c++)
            if (out->stripe_classes & (1u << c))
                len += (size_t)snprintf(out->label + len, sizeof out->label - len, " %s",
                                        an_tclass_name((an_tclass)c));
    } else if (out->block >= AN_BLOCK_MIN || sq) {
        out->cls = AN_CLASS_BLOCK;
        snprintf(out->label, sizeof out->label, "squares");
    } else if (out->band >= AN_BLUR_MIN) {
        out->cls = AN_CLASS_BLUR;
        out->offset = centre;
        snprintf(out->label, sizeof out->label, "blur %+d", centre);
    } else {
        out->cls = AN_CLASS_HETERO;
        snprintf(out->label, sizeof out->label, "hetero");
    }
}

void an_classify_trace(const attn_trace *t, an_trace_classes *out)
{
    an_stats *s = an_stats_new(t->n_enc_layers, t->n_dec_layers, t->n_heads);
    an_stats_add_trace(s, t);
    memset(out, 0, sizeof *out);
    out->n_heads = t->n_heads;
    for (int k = 0; k < AN_N_KINDS; k++) {
        out->n_layers[k] = s->n_layers[k];
        size_t n = s->n_layers[k] * s->n_heads;
        out->cls[k] = xcalloc(n + 1, sizeof(an_head_class));
        for (size_t i = 0; i < n; i++) an_classify(&s->heads[k][i], &out->cls[k][i]);
    }
    an_stats_free(s);
}

const an_head_class *an_trace_class(const an_trace_classes *c, t5_attn_kind kind, size_t layer,
                                    size_t head)
{
    if (!c || (unsigned)kind >= AN_N_KINDS || !c->cls[kind] || layer >= c->n_layers[kind] ||
        head >= c->n_heads)
        return NULL;
    return &c->cls[kind][layer * c->n_heads + head];
}

void an_trace_classes_free(an_trace_classes *c)
{
    if (!c) return;
    for (int k = 0; k < AN_N_KINDS; k++) free(c->cls[k]), c->cls[k] = NULL;
}
