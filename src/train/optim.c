/* optim.c - AdamW (PyTorch semantics), global gradient-norm clipping and the
 * learning-rate schedule (see train.h).
 *
 * Deliberately not here: gradients (trainer.c), when to step (loop.c). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

double lr_at(const lr_schedule *s, size_t step)
{
    if (step < s->warmup) return s->lr * (double)(step + 1) / (double)s->warmup;
    if (s->decay == SCHED_CONSTANT || s->total <= s->warmup) return s->lr;
    double p = (double)(step - s->warmup) / (double)(s->total - s->warmup);
    if (p > 1.0) p = 1.0;
    if (s->decay == SCHED_LINEAR) return s->lr - (s->lr - s->min_lr) * p;
    return s->min_lr + (s->lr - s->min_lr) * 0.5 * (1.0 + cos(M_PI * p));
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

void adamw_init(adamw_state *s, const t5_model *m)
{
    memset(s, 0, sizeof *s);
    s->n_params = m->n_params;
    s->m = xcalloc(m->n_params, sizeof(float));
    s->v = xcalloc(m->n_params, sizeof(float));
    s->n_tensors = m->n_tensors;
    s->decay = xcalloc(m->n_tensors, 1);
    for (size_t i = 0; i < m->n_tensors; i++)
        s->decay[i] = !ends_with(m->tensors[i].name, "layer_norm.weight");
}

void adamw_ema_start(adamw_state *s, const t5_model *m)
{
    if (!s->ema) s->ema = xmalloc(m->n_params * sizeof(float));
    memcpy(s->ema, m->params, m->n_params * sizeof(float));
}

void adamw_ema_swap(adamw_state *s, t5_model *m)
{
    if (!s->ema) return;
    float *a = s->ema, *b = m->params;
#pragma omp parallel for simd schedule(static) if (m->n_params > 65536)
    for (size_t i = 0; i < m->n_params; i++) {
        float t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

void adamw_free(adamw_state *s)
{
    if (!s) return;
    free(s->m);
    free(s->v);
    free(s->ema);
    free(s->decay);
    memset(s, 0, sizeof *s);
}

double grad_clip(float *g, size_t n, double max_norm)
{
    /* Per-thread partial sums added in thread order: the same bits every run. */
    double part[256] = {0};
    int nt = omp_get_max_threads() < 256 ? omp_get_max_threads() : 256;
#pragma omp parallel num_threads(nt) if (n > 65536)
    {
        double ss = 0.0;
        int k = omp_get_thread_num(), m = omp_get_num_threads();
        size_t i0 = n * (size_t)k / (size_t)m, i1 = n * (size_t)(k + 1) / (size_t)m;
#pragma omp simd reduction(+ : ss)
        for (size_t i = i0; i < i1; i++) ss += (double)g[i] * g[i];
        part[k] = ss;
    }
    double ss = 0.0;
    for (int k = 0; k < nt; k++) ss += part[k];
    double norm = sqrt(ss);
    if (max_norm > 0.0 && norm > max_norm) {
        float k = (float)(max_norm / (norm + 1e-6));
#pragma omp parallel for simd schedule(static) if (n > 65536)
        for (size_t i = 0; i < n; i++) g[i] *= k;
    }
    return norm;
}

void adamw_update_array(float *p, float *m, float *v, size_t *step, const float *g, size_t n,
                        double lr, const adamw_cfg *c, int decay)
{
    (*step)++;
    double bc1 = 1.0 - pow(c->beta1, (double)*step);
    double bc2 = 1.0 - pow(c->beta2, (double)*step);
    float b1 = (float)c->beta1, b2 = (float)c->beta2;
    float step_size = (float)(lr / bc1), rbc2 = (float)(1.0 / sqrt(bc2)), eps = (float)c->eps;
    float keep = decay ? (float)(1.0 - lr * c->weight_decay) : 1.0f;
    for (size_t i = 0; i < n; i++) {
        float mi = m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        float vi = v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] = p[i] * keep - step_size * mi / (sqrtf(vi) * rbc2 + eps);
    }
}

void adamw_update(adamw_state *s, t5_model *m, const float *g, double lr, const adamw_cfg *c)
{
    s->step++;
    double bc1 = 1.0 - pow(c->beta1, (double)s->step);
    double bc2 = 1.0 - pow(c->beta2, (double)s->step);
    float b1 = (float)c->beta1, b2 = (float)c->beta2;
    float step_size = (float)(lr / bc1);
    float rbc2 = (float)(1.0 / sqrt(bc2));
    float eps = (float)c->eps;
    float ed = (float)c->ema, ed1 = (float)(1.0 - c->ema);
    /* One parallel region; each tensor's elements split across the threads. */
#pragma omp parallel if (m->n_params > 65536)
    for (size_t ti = 0; ti < m->n_tensors; ti++) {
        const t5_tensor *t = &m->tensors[ti];
        float keep = s->decay[ti] ? (float)(1.0 - lr * c->weight_decay) : 1.0f;
        float *p = m->params + t->offset, *mm = s->m + t->offset, *vv = s->v + t->offset;
        const float *gg = g + t->offset;
        size_t n = t->numel;
#pragma omp for simd schedule(static) nowait
        for (size_t i = 0; i < n; i++) {
            float gi = gg[i];
            float mi = mm[i] = b1 * mm[i] + (1.0f - b1) * gi;
            float vi = vv[i] = b2 * vv[i] + (1.0f - b2) * gi * gi;
            p[i] = p[i] * keep - step_size * mi / (sqrtf(vi) * rbc2 + eps);
        }
        if (s->ema) {
            float *e = s->ema + t->offset;
#pragma omp for simd schedule(static) nowait
            for (size_t i = 0; i < n; i++) e[i] = ed * e[i] + ed1 * p[i];
        }
    }
}
