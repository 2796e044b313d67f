/* synth.c - a labelled set of synthetic attention maps that a person names
 * at a glance (see an_synth_maps in analysis.h), and the classifier's
 * confusion matrix on it, which the report prints in its method section and
 * tests/unit/test_classify.c checks.
 *
 * Deliberately not here: the classifier itself (stats.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"

#define N AN_SYNTH_N

static double noise(as_rng *r, double level) { return 1.0 + level * (2.0 * rng_uniform(r) - 1.0); }

static void normalise(float *row)
{
    double s = 0;
    for (size_t k = 0; k < N; k++) s += row[k];
    for (size_t k = 0; k < N; k++) row[k] = (float)(row[k] / s);
}

/* A line of mass w at offset off over a flat background. */
static void sharp(an_synth_map *m, as_rng *r, int off, double w, double nz)
{
    for (int q = 0; q < N; q++) {
        float *row = m->map + q * N;
        for (int k = 0; k < N; k++) row[k] = (float)((1.0 - w) / N * noise(r, nz));
        if (q + off >= 0 && q + off < N) row[q + off] += (float)w;
        normalise(row);
    }
    m->label = AN_CLASS_DIAG, m->offset = off;
    snprintf(m->name, sizeof m->name, "sharp %+d w %.2f noise %.1f", off, w, nz);
}

/* A Gaussian band of width sigma around offset off. */
static void blurred(an_synth_map *m, as_rng *r, int off, double sigma, double nz)
{
    for (int q = 0; q < N; q++) {
        float *row = m->map + q * N;
        for (int k = 0; k < N; k++) {
            double d = k - q - off;
            row[k] = (float)((exp(-d * d / (2 * sigma * sigma)) + 0.01) * noise(r, nz));
        }
        normalise(row);
    }
    m->label = AN_CLASS_BLUR, m->offset = off;
    snprintf(m->name, sizeof m->name, "blur %+d sigma %.1f noise %.1f", off, sigma, nz);
}

/* Two columns holding w of every row. */
static void stripes(an_synth_map *m, as_rng *r, int c1, int c2, double w, double nz)
{
    for (int q = 0; q < N; q++) {
        float *row = m->map + q * N;
        for (int k = 0; k < N; k++) row[k] = (float)((1.0 - w) / N * noise(r, nz));
        row[c1] += (float)(w / 2), row[c2] += (float)(w / 2);
        normalise(row);
    }
    m->label = AN_CLASS_STRIPES;
    snprintf(m->name, sizeof m->name, "stripes %d %d w %.2f noise %.1f", c1, c2, w, nz);
}

/* Squares of size keys along the diagonal holding `inside` of each row. */
static void blocks(an_synth_map *m, as_rng *r, int size, double inside, double nz)
{
    for (int q = 0; q < N; q++) {
        float *row = m->map + q * N;
        int b0 = q / size * size;
        for (int k = 0; k < N; k++) {
            int in = k >= b0 && k < b0 + size;
            row[k] = (float)((in ? inside / size : (1.0 - inside) / N) * noise(r, nz));
        }
        normalise(row);
    }
    m->label = AN_CLASS_BLOCK;
    snprintf(m->name, sizeof m->name, "squares %d inside %.2f noise %.1f", size, inside, nz);
}

/* Uniform rows with noise, or random rows (exponential weights). */
static void flat(an_synth_map *m, as_rng *r, double nz, int random_rows)
{
    for (int q = 0; q < N; q++) {
        float *row = m->map + q * N;
        for (int k = 0; k < N; k++)
            row[k] = (float)(random_rows ? -log(1.0 - rng_uniform(r)) : noise(r, nz));
        normalise(row);
    }
    m->label = AN_CLASS_HETERO;
    snprintf(m->name, sizeof m->name, random_rows ? "random rows" : "uniform noise %.1f", nz);
}

size_t an_synth_maps(an_synth_map *set)
{
    as_rng r;
    rng_seed(&r, 18);
    size_t n = 0;
    const int offs[] = {-2, 0, 1, 3};
    const double nzs[] = {0.0, 0.3, 0.6}, ws[] = {0.28, 0.4, 0.6, 0.9}, sg[] = {1.0, 1.5, 2.5};
    for (size_t o = 0; o < 4; o++)
        for (size_t z = 0; z < 3; z++) {
            for (size_t w = 0; w < 4; w++) sharp(&set[n++], &r, offs[o], ws[w], nzs[z]);
            for (size_t s = 0; s < 3; s++) blurred(&set[n++], &r, offs[o], sg[s], nzs[z]);
        }
    for (size_t z = 0; z < 3; z++) {
        stripes(&set[n++], &r, 0, 7, 0.6, nzs[z]);
        stripes(&set[n++], &r, 12, 19, 0.8, nzs[z]);
        stripes(&set[n++], &r, 3, 4, 0.7, nzs[z]);
        blocks(&set[n++], &r, 4, 0.9, nzs[z]);
        blocks(&set[n++], &r, 5, 0.8, nzs[z]);
        blocks(&set[n++], &r, 10, 0.9, nzs[z]);
        /* faint squares over a diffuse background: block < AN_BLOCK_MIN */
        blocks(&set[n++], &r, 4, 0.4, nzs[z]);
        blocks(&set[n++], &r, 5, 0.5, nzs[z]);
        blocks(&set[n++], &r, 3, 0.45, nzs[z]);
        flat(&set[n++], &r, nzs[z], 0);
        flat(&set[n++], &r, 0, 1);
        flat(&set[n++], &r, 0, 1);
    }
    return n;
}

int an_synth_right(const an_synth_map *m, const an_head_class *c)
{
    if (c->cls != m->label) return 0;
    /* A band cut by the map's edge leans inward: its centre may be one off. */
    if (m->label == AN_CLASS_DIAG) return c->offset == m->offset;
    if (m->label == AN_CLASS_BLUR) return c->offset - m->offset <= 1 && m->offset - c->offset <= 1;
    return 1;
}

void an_synth_classify(const an_synth_map *m, an_head_class *out)
{
    an_head_stats s;
    memset(&s, 0, sizeof s);
    an_stats_add_map(&s, T5_ATTN_ENC_SELF, m->map, N, N, N, NULL);
    an_classify(&s, out);
}

size_t an_synth_confusion(size_t conf[AN_CLASS_COUNT][AN_CLASS_COUNT], size_t *n_maps)
{
    static an_synth_map set[AN_SYNTH_MAX];
    size_t n = an_synth_maps(set), wrong = 0;
    memset(conf, 0, sizeof(size_t) * AN_CLASS_COUNT * AN_CLASS_COUNT);
    for (size_t i = 0; i < n; i++) {
        an_head_class c;
        an_synth_classify(&set[i], &c);
        conf[set[i].label][c.cls]++;
        wrong += !an_synth_right(&set[i], &c);
    }
    if (n_maps) *n_maps = n;
    return wrong;
}
