/* loop.c - the training run: data (a generated preset or TSV files) as
 * ByT5 tokens, batches whose order depends only on the seed and the step,
 * the step (forward, backward, clipping, AdamW), periodic evaluation by
 * greedy decoding with the task's three scores, crash-safe checkpoints,
 * exact resume, SIGINT/SIGTERM and non-finite losses.
 *
 * The output folder is a model folder (config.json, model.safetensors)
 * plus optimizer.safetensors (the checkpoint proper: weights, AdamW moments
 * and run state in one file), trainer_state.json (the state for people:
 * step, data position, seeds, last evaluation), train.cfg and log.tsv.
 * Every file is written atomically (util.h); see save_checkpoint for why a
 * crash at any moment leaves a resumable folder.
 *
 * Deliberately not here: the numerics (trainer.c, optim.c), the
 * configuration file (settings.c). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byt5.h"
#include "quad.h"
#include "run_dir.h"
#include "safetensors.h"
#include "train.h"

/* ---- data ----------------------------------------------------------------- */

typedef struct {
    size_t n;
    int *tok;                   /* token pool */
    size_t n_tok, cap_tok;
    size_t *src_off, *src_len;  /* (n) into tok */
    size_t *tgt_off, *tgt_len;
    char **src_text, **tgt_text; /* (n) kept for evaluation sets only */
    quad_kind *kind;
    quad_eq *eq;                /* (n) each example's equation */
    size_t max_src, max_tgt;
} token_set;

static void ts_init(token_set *s, size_t cap, int keep_text)
{
    memset(s, 0, sizeof *s);
    s->src_off = xcalloc(cap, sizeof(size_t));
    s->src_len = xcalloc(cap, sizeof(size_t));
    s->tgt_off = xcalloc(cap, sizeof(size_t));
    s->tgt_len = xcalloc(cap, sizeof(size_t));
    s->kind = xcalloc(cap, sizeof(quad_kind));
    s->eq = xcalloc(cap, sizeof(quad_eq));
    if (keep_text) {
        s->src_text = xcalloc(cap, sizeof(char *));
        s->tgt_text = xcalloc(cap, sizeof(char *));
    }
}

static void ts_free(token_set *s)
{
    if (s->src_text)
        for (size_t i = 0; i < s->n; i++) {
            free(s->src_text[i]);
            free(s->tgt_text[i]);
        }
    free(s->src_text);
    free(s->tgt_text);
    free(s->tok);
    free(s->src_off);
    free(s->src_len);
    free(s->tgt_off);
    free(s->tgt_len);
    free(s->kind);
    free(s->eq);
    memset(s, 0, sizeof *s);
}

static size_t ts_push_text(token_set *s, const char *text)
{
    size_t need = strlen(text) + 1;
    if (s->n_tok + need > s->cap_tok) {
        s->cap_tok = (s->n_tok + need) * 2 + 1024;
        s->tok = xrealloc(s->tok, s->cap_tok * sizeof(int));
    }
    size_t n = byt5_encode_eos(text, s->tok + s->n_tok, s->cap_tok - s->n_tok);
    s->n_tok += n;
    return n;
}

static void ts_add(token_set *s, const char *src, const char *tgt, const quad_eq *eq,
                   quad_kind kind)
{
    size_t i = s->n++;
    s->eq[i] = *eq;
    s->src_off[i] = s->n_tok;
    s->src_len[i] = ts_push_text(s, src);
    s->tgt_off[i] = s->n_tok;
    s->tgt_len[i] = ts_push_text(s, tgt);
    s->kind[i] = kind;
    if (s->src_len[i] > s->max_src) s->max_src = s->src_len[i];
    if (s->tgt_len[i] > s->max_tgt) s->max_tgt = s->tgt_len[i];
    if (s->src_text) {
        s->src_text[i] = xstrdup(src);
        s->tgt_text[i] = xstrdup(tgt);
    }
}

static int ts_from_tsv(token_set *s, const char *path, int keep_text, as_err *err)
{
    quad_dataset ds;
    if (quad_ds_read(path, 0, &ds, err)) {
        quad_ds_free(&ds);
        return -1;
    }
    if (ds.n == 0) {
        quad_ds_free(&ds);
        return as_errf(err, "%s: no examples", path);
    }
    ts_init(s, ds.n, keep_text);
    for (size_t i = 0; i < ds.n; i++) ts_add(s, ds.ex[i].source, ds.ex[i].target, &ds.ex[i].eq, ds.ex[i].kind);
    quad_ds_free(&ds);
    return 0;
}

static int ts_from_preset(token_set *train, token_set *test, const train_settings *st,
                          as_err *err)
{
    const quad_preset *p = quad_preset_find(st->preset);
    if (!p) return as_errf(err, "unknown preset '%s'", st->preset);
    size_t n = st->data_n;
    quad_eq *eqs = xmalloc(n * sizeof *eqs);
    unsigned char *is_test = xmalloc(n);
    quad_generate(p, n, st->data_seed, eqs);
    quad_split(eqs, n, st->data_seed, st->test_share, is_test);
    ts_init(train, n, 0);
    ts_init(test, n, 1);
    char src[QUAD_SOURCE_MAX], tgt[QUAD_TARGET_MAX];
    for (size_t i = 0; i < n; i++) {
        if (quad_format_source(&eqs[i], src, sizeof src) < 0 ||
            quad_format_target(&eqs[i], tgt, sizeof tgt, err) < 0) {
            free(eqs);
            free(is_test);
            return as_errprefix(err, "preset %s, example %zu", st->preset, i);
        }
        ts_add(is_test[i] ? test : train, src, tgt, &eqs[i], quad_kind_of(&eqs[i]));
    }
    free(eqs);
    free(is_test);
    return 0;
}

/* ---- batches ---------------------------------------------------------------- */

/* Whether tokens tok (ByT5 ids) spell text's n bytes. */
static int memcmp_tokens(const int *tok, const char *text, size_t n)
{
    int ids[QUAD_TARGET_MAX + 1];
    if (n > QUAD_TARGET_MAX) return 1;
    size_t k = byt5_encode_eos(text, ids, QUAD_TARGET_MAX + 1);
    if (k != n + 1) return 1;
    return memcmp(tok, ids, n * sizeof(int)) != 0;
}

/* Where a step's examples come from. */
typedef struct {
    const token_set *d;              /* the training examples */
    train_sampler *smp;              /* their order (NULL when streaming) */
    train_stream *stream;            /* fresh equations, or NULL */
    const train_stepwise *stepwise;  /* worked targets by stage */
    size_t *idx;                     /* (B) scratch: example indices */
    quad_eq *eqs;                    /* (B) scratch: equations */
    int *tok;                        /* (cap_tok) scratch: one sequence's tokens */
    size_t cap_tok;
    size_t cap_src, cap_tgt;         /* the longest sequences the trainer takes */
} batch_source;

/* Fill b with the examples of update number step: the training set's in the
 * sampler's order, or fresh equations; the targets are the data's, or the
 * worked ones of the step's stage. */
static int make_batch(train_batch *b, batch_source *bs, size_t step, size_t B, int start,
                      as_err *err)
{
    const token_set *d = bs->d;
    train_batch_clear(b);
    unsigned show = train_stage_show(bs->stepwise, train_stage_at(bs->stepwise, step));
    if (bs->stream) {
        if (train_stream_step(bs->stream, step, B, bs->eqs, err)) return -1;
    } else {
        train_sampler_step(bs->smp, step, B, bs->idx);
        if (!show) {  /* the plain path of every run before streams and stages */
            for (size_t k = 0; k < B; k++) {
                size_t i = bs->idx[k];
                train_batch_add(b, d->tok + d->src_off[i], d->src_len[i],
                                d->tok + d->tgt_off[i], d->tgt_len[i], start);
            }
            return 0;
        }
        for (size_t k = 0; k < B; k++) bs->eqs[k] = d->eq[bs->idx[k]];
    }
    char src[QUAD_SOURCE_MAX], tgt[QUAD_TARGET_MAX];
    int *st = bs->tok, *tt = bs->tok + QUAD_SOURCE_MAX;
    for (size_t k = 0; k < B; k++) {
        if (quad_format_source(&bs->eqs[k], src, sizeof src) < 0 ||
            quad_format_target_worked(&bs->eqs[k], show, tgt, sizeof tgt, err) < 0)
            return as_errprefix(err, "step %zu, example %zu", step + 1, k + 1);
        size_t ns = byt5_encode_eos(src, st, QUAD_SOURCE_MAX);
        size_t nt = byt5_encode_eos(tgt, tt, bs->cap_tok - QUAD_SOURCE_MAX);
        if (ns > bs->cap_src || nt > bs->cap_tgt || train_batch_add(b, st, ns, tt, nt, start))
            return as_errf(err, "step %zu: example %s does not fit the batch", step + 1, src);
    }
    return 0;
}

/* Set bs up for settings s: the sampler or the stream (which excludes the
 * test split's sources), the worked targets' check, and the longest source
 * and target a batch can hold (*cap_src, *cap_tgt, tokens with eos). */
static int source_open(batch_source *bs, const train_settings *s, const token_set *train,
                       const token_set *test, size_t *cap_src, size_t *cap_tgt, as_err *err)
{
    memset(bs, 0, sizeof *bs);
    bs->d = train;
    bs->stepwise = &s->stepwise;
    const double *w = s->have_weights ? s->kind_weight : NULL;
    *cap_src = train->max_src;
    *cap_tgt = train->max_tgt;
    size_t extra = 0;
    if (s->stream) {
        const quad_preset *p = quad_preset_find(s->preset);
        bs->stream = train_stream_new(p, w, s->seed, test->src_text, test->n, err);
        if (!bs->stream) return -1;
        size_t bsrc, btgt;
        quad_preset_bounds(p, &bsrc, &btgt, &extra);
        if (bsrc + 1 > *cap_src) *cap_src = bsrc + 1;
        if (btgt + 1 > *cap_tgt) *cap_tgt = btgt + 1;
        if (!s->stepwise.n) extra = 0;
    } else {
        bs->smp = train_sampler_new(train->n, train->kind, w, s->seed, err);
        if (!bs->smp) return -1;
    }
    if (s->stepwise.n && !s->stream) {
        /* The worked targets extend the data's own: the data must hold the
         * spec's targets. Any stage's may be the longest ("4*9*810000" is
         * longer than its value "29160000"). */
        char tgt[QUAD_TARGET_MAX];
        size_t t0 = 0;
        for (size_t i = 0; i < train->n; i++) {
            int n0 = quad_format_target(&train->eq[i], tgt, sizeof tgt, err);
            if (n0 < 0) return as_errprefix(err, "data.stepwise: training example %zu", i + 1);
            if ((size_t)n0 + 1 != train->tgt_len[i] ||
                memcmp_tokens(train->tok + train->tgt_off[i], tgt, (size_t)n0))
                return as_errf(err, "data.stepwise: training example %zu (%s...) has a target "
                                    "other than the spec's; worked targets extend the spec's",
                               i + 1, tgt);
            for (size_t k = 0; k + 1 < s->stepwise.n; k++) {
                int nw = quad_format_target_worked(
                    &train->eq[i], train_stage_show(&s->stepwise, k), tgt, sizeof tgt, err);
                if (nw < 0)
                    return as_errprefix(err, "data.stepwise: training example %zu", i + 1);
                if ((size_t)nw + 1 > t0) t0 = (size_t)nw + 1;
            }
        }
        if (t0 > *cap_tgt) *cap_tgt = t0;
    }
    *cap_tgt += extra;
    bs->cap_src = *cap_src;
    bs->cap_tgt = *cap_tgt;
    bs->idx = xmalloc(s->batch * sizeof(size_t));
    bs->eqs = xmalloc(s->batch * sizeof(quad_eq));
    bs->cap_tok = QUAD_SOURCE_MAX + QUAD_TARGET_MAX;
    bs->tok = xmalloc(bs->cap_tok * sizeof(int));
    return 0;
}

static void source_close(batch_source *bs)
{
    train_sampler_free(bs->smp);
    train_stream_free(bs->stream);
    free(bs->idx);
    free(bs->eqs);
    free(bs->tok);
    memset(bs, 0, sizeof *bs);
}

/* ---- evaluation ------------------------------------------------------------- */

static void score_sum(quad_score *a, const quad_score *b)
{
    a->n += b->n;
    a->full += b->full;
    a->answer += b->answer;
    a->chars_right += b->chars_right;
    a->chars_total += b->chars_total;
}

/* Greedy-decode the first n examples of d (all when n is 0 or larger). */
static int evaluate(const t5_model *m, const token_set *d, size_t n, quad_scores *out,
                    as_err *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0 || n > d->n) n = d->n;
    size_t max_len = d->max_tgt + 8;
    int nt = omp_get_max_threads();
    quad_scores *part = xcalloc((size_t)nt, sizeof *part);
    int failed = 0;
#pragma omp parallel num_threads(nt)
    {
        t5_run *run = t5_run_new(m, d->max_src, max_len + 1);
        int *ids = xmalloc(max_len * sizeof(int));
        char *text = xmalloc(4 * max_len + 1);
        as_err e;
#pragma omp for schedule(dynamic, 4)
        for (size_t i = 0; i < n; i++) {
            long k = t5_greedy(run, d->tok + d->src_off[i], d->src_len[i], ids, max_len, &e);
            if (k < 0) {
#pragma omp critical(train_eval_fail)
                if (!failed) {
                    failed = 1;
                    as_errf(err, "evaluation: %s", e.msg);
                }
                continue;
            }
            byt5_decode(ids, (size_t)k, text, 4 * max_len + 1);
            quad_scores_add(&part[omp_get_thread_num()], d->kind[i], d->tgt_text[i], text);
        }
        free(text);
        free(ids);
        t5_run_free(run);
    }
    for (int k = 0; k < nt; k++) {
        score_sum(&out->all, &part[k].all);
        for (int q = 0; q < QUAD_N_KINDS; q++) score_sum(&out->kind[q], &part[k].kind[q]);
    }
    free(part);
    return failed ? -1 : 0;
}

/* ---- checkpoints ------------------------------------------------------------ */

typedef struct {
    size_t step, total, batch;
    int threads;
    uint64_t seed;
    double loss, lr, elapsed;
    int have_eval;
    size_t eval_step;
    quad_scores eval;
    train_speed *speed;      /* the run's speed so far (trainer_state.json "machine") */
} run_state;

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* trainer_state.json's "machine": the whole run's speed (every session
 * since since_step), the totals a --resume adds to, and its averages. */
static void speed_json(cJSON *o, train_speed *sp, size_t step)
{
    train_speed_finish(sp);
    cJSON *m = cJSON_AddObjectToObject(o, "machine");
    cJSON_AddNumberToObject(m, "step", (double)step);
    cJSON_AddNumberToObject(m, "since_step", (double)sp->since_step);
    cJSON_AddNumberToObject(m, "threads", sp->threads);
    cJSON_AddNumberToObject(m, "tokens_per_second", train_speed_tps(sp, 1));
    cJSON_AddNumberToObject(m, "tokens_per_cpu_second", train_speed_tpcs(sp, 1));
    cJSON_AddNumberToObject(m, "core_share", train_speed_share(sp, 1));
    cJSON_AddNumberToObject(m, "steal_share", train_speed_steal(sp, 1));
    cJSON_AddBoolToObject(m, "low_core_share_warning", sp->warned || sp->base_warned);
    cJSON_AddNumberToObject(m, "steps", (double)(sp->steps + sp->base_steps));
    cJSON_AddNumberToObject(m, "target_tokens", (double)(sp->tokens + sp->base_tokens));
    cJSON_AddNumberToObject(m, "step_seconds", sp->wall + sp->base_wall);
    cJSON_AddNumberToObject(m, "cpu_seconds", sp->cpu + sp->base_cpu);
    cJSON_AddNumberToObject(m, "asked_core_seconds", sp->asked + sp->base_asked);
    unsigned long long st = sp->have_stat ? sp->steal1 - sp->steal0 : 0,
                       tot = sp->have_stat ? sp->total1 - sp->total0 : 0;
    cJSON_AddNumberToObject(m, "steal_ticks", (double)(st + sp->base_steal));
    cJSON_AddNumberToObject(m, "total_ticks", (double)(tot + sp->base_total));
}

/* On --resume: the totals of the sessions before, from the trainer_state.json
 * of the checkpoint's step (an older one, left by a crash between the two
 * renames, or none: the speed is counted from this session on). */
static void speed_resume(train_speed *sp, const char *dir, size_t step)
{
    sp->since_step = step;
    char *path = path_in(dir, "trainer_state.json");
    size_t len;
    char *text = util_read_file(path, &len, NULL);
    free(path);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *m = cJSON_GetObjectItem(o, "machine");
    cJSON *at = cJSON_GetObjectItem(m, "step");
    if (cJSON_IsNumber(at) && (size_t)at->valuedouble == step) {
#define NUM(key) (cJSON_IsNumber(cJSON_GetObjectItem(m, key)) ? cJSON_GetObjectItem(m, key)->valuedouble : 0)
        sp->since_step = (size_t)NUM("since_step");
        sp->base_steps = (size_t)NUM("steps");
        sp->base_tokens = (size_t)NUM("target_tokens");
        sp->base_wall = NUM("step_seconds");
        sp->base_cpu = NUM("cpu_seconds");
        sp->base_asked = NUM("asked_core_seconds");
        sp->base_steal = (unsigned long long)NUM("steal_ticks");
        sp->base_total = (unsigned long long)NUM("total_ticks");
        sp->base_warned = cJSON_IsTrue(cJSON_GetObjectItem(m, "low_core_share_warning"));
#undef NUM
    }
    cJSON_Delete(o);
}

/* The numbers of a run state that resume needs, as one I32 tensor
 * ("trainer.state" in optimizer.safetensors). */
enum { ST_VERSION, ST_STEP, ST_BATCH, ST_THREADS, ST_SEED0, ST_SEED1, ST_SEED2, ST_SEED3,
       ST_ELAPSED, ST_N };

/* One checkpoint. optimizer.safetensors is the checkpoint proper: the
 * weights ("param.<name>"), the AdamW moments ("m.<name>", "v.<name>") and
 * the run state ("trainer.state"), one file renamed into place at once, so
 * a crash at any moment leaves either the old or the new checkpoint, never
 * a mixture. Then trainer_state.json (the same state for people) and the
 * model folder (config.json, model.safetensors) for every other command;
 * a crash between those renames leaves them one checkpoint behind, which
 * --resume does not read. */
static int save_checkpoint(const char *dir, const train_settings *s, const t5_model *m,
                           const adamw_state *opt, const run_state *rs, t5_trainer *tr,
                           as_err *err)
{
    /* tr with an auxiliary head (loss.aux_weight): its weights, moments and
     * update count go into the same file ("aux.*"), never into the model */
    int aux = tr && s->train.aux_weight > 0.0f;
    size_t nt = m->n_tensors, n_out = 3 * nt + 1 + (aux ? 4 : 0);
    st_out *ts = xcalloc(n_out, sizeof *ts);
    char **names = xcalloc(3 * nt, sizeof(char *));
    static const char prefix[3][8] = {"param.", "m.", "v."};
    for (size_t i = 0; i < nt; i++) {
        const t5_tensor *t = &m->tensors[i];
        for (int k = 0; k < 3; k++) {
            size_t j = 3 * i + (size_t)k;
            size_t len = strlen(t->name) + 8;
            names[j] = xmalloc(len);
            snprintf(names[j], len, "%s%s", prefix[k], t->name);
            ts[j].name = names[j];
            ts[j].dtype = ST_F32;
            ts[j].ndim = t->ndim;
            ts[j].shape[0] = t->shape[0];
            ts[j].shape[1] = t->shape[1];
            const float *base = k == 0 ? m->params : k == 1 ? opt->m : opt->v;
            ts[j].data = base + t->offset;
        }
    }
    int32_t state[ST_N] = {0};
    state[ST_VERSION] = 1;
    state[ST_STEP] = (int32_t)rs->step;
    state[ST_BATCH] = (int32_t)rs->batch;
    state[ST_THREADS] = rs->threads;
    for (int k = 0; k < 4; k++) state[ST_SEED0 + k] = (int32_t)((rs->seed >> (16 * k)) & 0xffff);
    state[ST_ELAPSED] = (int32_t)rs->elapsed;
    ts[3 * nt] = (st_out){"trainer.state", ST_I32, 1, {ST_N}, state};
    int32_t aux_step = 0;
    if (aux) {
        float *am, *av;
        size_t *astep;
        const float *aw = trainer_aux_head(tr, &am, &av, &astep);
        aux_step = (int32_t)*astep;
        static const char *an[3] = {"aux.weight", "aux.m", "aux.v"};
        const float *ad[3] = {aw, am, av};
        for (int k = 0; k < 3; k++)
            ts[3 * nt + 1 + k] = (st_out){an[k], ST_F32, 2, {TRAIN_AUX_OUT, m->cfg.d_model}, ad[k]};
        ts[3 * nt + 4] = (st_out){"aux.step", ST_I32, 1, {1}, &aux_step};
    }
    char meta[160];
    snprintf(meta, sizeof meta,
             "{\"format\":\"attnscope training checkpoint\",\"step\":\"%zu\"}", rs->step);
    char *opath = path_in(dir, "optimizer.safetensors");
    int rc = st_write(opath, ts, n_out, meta, err);
    for (size_t j = 0; j < 3 * nt; j++) free(names[j]);
    free(names);
    free(ts);
    free(opath);
    if (rc) return -1;

    /* trainer_state.json */
    cJSON *o = cJSON_CreateObject();
    char hex[32];
    cJSON_AddNumberToObject(o, "step", (double)rs->step);
    cJSON_AddNumberToObject(o, "total_steps", (double)rs->total);
    cJSON_AddNumberToObject(o, "batch", (double)rs->batch);
    cJSON_AddNumberToObject(o, "threads", (double)rs->threads);
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)rs->seed);
    cJSON_AddStringToObject(o, "data_order_seed", hex);
    cJSON_AddNumberToObject(o, "data_position", (double)(rs->step * rs->batch));
    cJSON_AddStringToObject(o, "rng", "data order = xoshiro256** seeded by (data_order_seed, "
                                      "epoch); no other random state");
    cJSON_AddStringToObject(o, "checkpoint", "optimizer.safetensors holds the weights, the AdamW "
                                             "moments and this state; --resume reads only it");
    cJSON_AddNumberToObject(o, "loss", rs->loss);
    cJSON_AddNumberToObject(o, "lr", rs->lr);
    cJSON_AddNumberToObject(o, "elapsed_seconds", rs->elapsed);
    /* The data as resolved, so that scripts need not parse train.cfg. */
    cJSON *d = cJSON_AddObjectToObject(o, "data");
    if (s->train_tsv) {
        cJSON_AddStringToObject(d, "train", s->train_tsv);
        if (s->test_tsv) cJSON_AddStringToObject(d, "test", s->test_tsv);
    } else {
        cJSON_AddStringToObject(d, "preset", s->preset);
        cJSON_AddNumberToObject(d, "n", (double)s->data_n);
        cJSON_AddNumberToObject(d, "seed", (double)s->data_seed);
        cJSON_AddNumberToObject(d, "test_share", s->test_share);
    }
    if (s->have_weights) {
        cJSON *w = cJSON_AddObjectToObject(d, "weights");
        for (int k = 0; k < QUAD_N_KINDS; k++)
            cJSON_AddNumberToObject(w, quad_kind_key((quad_kind)k), s->kind_weight[k]);
    }
    if (s->stream) cJSON_AddBoolToObject(d, "stream", 1);
    if (s->stepwise.n) {
        cJSON *w = cJSON_AddObjectToObject(d, "stepwise");
        cJSON *st = cJSON_AddArrayToObject(w, "stages");
        for (size_t k = 0; k < s->stepwise.n; k++)
            cJSON_AddItemToArray(st, cJSON_CreateNumber((double)s->stepwise.start[k]));
        cJSON_AddStringToObject(w, "drop_first",
                                s->stepwise.drop_first == QUAD_SHOW_B2 ? "b2" : "4ac");
        cJSON_AddNumberToObject(w, "stage", (double)train_stage_at(&s->stepwise, rs->step) + 1);
    }
    if (rs->speed && rs->speed->steps + rs->speed->base_steps) speed_json(o, rs->speed, rs->step);
    if (rs->have_eval) {
        cJSON *e = cJSON_AddObjectToObject(o, "eval");
        cJSON_AddNumberToObject(e, "step", (double)rs->eval_step);
        cJSON_AddItemToObject(e, "all", quad_score_json(&rs->eval.all, 0));
        for (int k = 0; k < QUAD_N_KINDS; k++)
            cJSON_AddItemToObject(e, quad_kind_key((quad_kind)k),
                                  quad_score_json(&rs->eval.kind[k], 0));
    }
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    char *spath = path_in(dir, "trainer_state.json");
    size_t len = strlen(text);
    text = xrealloc(text, len + 2);
    text[len] = '\n';
    text[len + 1] = 0;
    rc = util_write_atomic(spath, text, len + 1, err);
    free(spath);
    free(text);
    if (rc) return -1;
    return t5_save(m, dir, err);
}

static int config_equal(const t5_config *a, const t5_config *b)
{
    return a->vocab_size == b->vocab_size && a->d_model == b->d_model && a->d_kv == b->d_kv &&
           a->d_ff == b->d_ff && a->num_heads == b->num_heads &&
           a->num_layers == b->num_layers && a->num_decoder_layers == b->num_decoder_layers &&
           a->rel_buckets == b->rel_buckets && a->rel_max_distance == b->rel_max_distance &&
           a->ff == b->ff && a->tie_word_embeddings == b->tie_word_embeddings;
}

/* The auxiliary head of dir/optimizer.safetensors into tr; a checkpoint
 * without one (a run that started without loss.aux_weight) leaves it at
 * zero, where a new head starts. */
static int load_aux(const char *dir, t5_trainer *tr, size_t d_model, as_err *err)
{
    char *opath = path_in(dir, "optimizer.safetensors");
    st_file f;
    int rc = st_open(&f, opath, err);
    free(opath);
    if (rc) return -1;
    float *am, *av;
    size_t *astep;
    float *aw = trainer_aux_head(tr, &am, &av, &astep);
    static const char *an[3] = {"aux.weight", "aux.m", "aux.v"};
    float *ad[3] = {aw, am, av};
    for (int k = 0; k < 3 && rc == 0; k++) {
        const st_tensor *x = st_find(&f, an[k]);
        if (!x) break;
        if (x->numel != TRAIN_AUX_OUT * d_model)
            rc = as_errf(err, "%s: %zu values, the head has %zu", an[k], x->numel,
                         (size_t)TRAIN_AUX_OUT * d_model);
        else rc = st_to_f32(x, ad[k], err);
    }
    const st_tensor *x = st_find(&f, "aux.step");
    int32_t step = 0;
    if (rc == 0 && x && x->numel == 1 && st_to_int(x, &step, err) == 0) *astep = (size_t)step;
    st_close(&f);
    return rc;
}

/* Resume from dir/optimizer.safetensors: allocate m for the settings'
 * model, fill its weights, opt's moments and rs's step from the file. */
static int load_checkpoint(const char *dir, const train_settings *s, t5_model *m,
                           adamw_state *opt, run_state *rs, as_err *err)
{
    char *opath = path_in(dir, "optimizer.safetensors");
    char *cpath = path_in(dir, "config.json");
    st_file f;
    int rc = -1, opened = 0;
    memset(&f, 0, sizeof f);
    if (st_open(&f, opath, err)) {
        as_errprefix(err, "cannot resume (no checkpoint in %s)", dir);
        goto out;
    }
    opened = 1;
    /* The configuration file must describe the checkpoint's model. */
    t5_config have;
    if (t5_config_read_json(&have, cpath, NULL) == 0 && !config_equal(&have, &s->model)) {
        as_errf(err, "%s: the model in the checkpoint differs from the configuration's model "
                     "section",
                cpath);
        goto out;
    }
    const st_tensor *st = st_find(&f, "trainer.state");
    int32_t state[ST_N];
    if (!st || st->numel != ST_N || st_to_int(st, (int *)state, err) || state[ST_VERSION] != 1) {
        as_errf(err, "%s: no trainer.state tensor (not an attnscope training checkpoint)", opath);
        goto out;
    }
    uint64_t seed = 0;
    for (int k = 0; k < 4; k++) seed |= (uint64_t)(uint16_t)state[ST_SEED0 + k] << (16 * k);
    rs->step = (size_t)state[ST_STEP];
    rs->threads = state[ST_THREADS];
    rs->elapsed = (double)state[ST_ELAPSED];
    if ((size_t)state[ST_BATCH] != s->batch || seed != s->seed) {
        as_errf(err,
                "%s: the checkpoint was trained with batch %d and seed %llu, the configuration "
                "says batch %zu and seed %llu; resume needs the same data order",
                opath, state[ST_BATCH], (unsigned long long)seed, s->batch,
                (unsigned long long)s->seed);
        goto out;
    }
    if (t5_alloc(m, &s->model, err)) goto out;
    adamw_init(opt, m);
    size_t n_param_tensors = 0;
    for (size_t i = 0; i < f.n_tensors; i++)
        n_param_tensors += strncmp(f.tensors[i].name, "param.", 6) == 0;
    if (n_param_tensors != m->n_tensors) {
        as_errf(err, "%s: %zu weight tensors, the configuration's model has %zu", opath,
                n_param_tensors, m->n_tensors);
        goto out;
    }
    static const char prefix[3][8] = {"param.", "m.", "v."};
    for (size_t i = 0; i < m->n_tensors; i++) {
        const t5_tensor *t = &m->tensors[i];
        for (int k = 0; k < 3; k++) {
            char name[128];
            snprintf(name, sizeof name, "%s%s", prefix[k], t->name);
            const st_tensor *x = st_find(&f, name);
            if (!x || x->numel != t->numel) {
                as_errf(err, "%s: tensor %s missing or of the wrong size (the configuration's "
                             "model differs from the checkpoint's?)",
                        opath, name);
                goto out;
            }
            float *base = k == 0 ? m->params : k == 1 ? opt->m : opt->v;
            if (st_to_f32(x, base + t->offset, err)) goto out;
        }
    }
    opt->step = rs->step;
    rc = 0;
out:
    if (opened) st_close(&f);
    free(opath);
    free(cpath);
    return rc;
}

/* ---- signals ------------------------------------------------------------------ */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

/* ---- the run ------------------------------------------------------------------ */

static void fmt_eta(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 1e7) snprintf(buf, cap, "?");
    else if (s >= 3600) snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static void print_eval(FILE *f, size_t step, const quad_scores *sc)
{
    fprintf(f, "eval step %zu: full solve %.2f%%, char accuracy %.2f%%, answer %.2f%% (n %zu)",
            step, 100 * quad_score_full(&sc->all), 100 * quad_score_chars(&sc->all),
            100 * quad_score_answer(&sc->all), sc->all.n);
    for (int k = 0; k < QUAD_N_KINDS; k++)
        if (sc->kind[k].n)
            fprintf(f, "; %s %.1f/%.1f/%.1f", quad_kind_name((quad_kind)k),
                    100 * quad_score_full(&sc->kind[k]), 100 * quad_score_chars(&sc->kind[k]),
                    100 * quad_score_answer(&sc->kind[k]));
    fprintf(f, "\n");
    fflush(f);
}

int train_run(const train_settings *s, const train_options *o, as_err *err)
{
    const char *dir = s->out_dir;
    if (!dir) return as_errf(err, "no output folder (train.out in the configuration, or --out)");
    if (run_dir_check(dir, o->resume, o->force, err)) return -1;
    omp_set_num_threads(s->threads);

    /* data */
    token_set train = {0}, test = {0};
    if (s->train_tsv) {
        if (ts_from_tsv(&train, s->train_tsv, 0, err)) return -1;
        if (ts_from_tsv(&test, s->test_tsv, 1, err)) {
            ts_free(&train);
            return -1;
        }
    } else if (ts_from_preset(&train, &test, s, err)) {
        ts_free(&train);
        ts_free(&test);
        return -1;
    }
    int rc = -1;
    t5_model m = {0};
    adamw_state opt = {0};
    t5_trainer *tr = NULL;
    train_batch b = {0};
    batch_source bs = {0};
    size_t cap_src, cap_tgt;
    FILE *logf = NULL;
    if (train.n == 0) {
        as_errf(err, "the training set is empty");
        goto out;
    }
    if (source_open(&bs, s, &train, &test, &cap_src, &cap_tgt, err)) goto out;
    size_t total = s->steps ? s->steps : (s->epochs * train.n + s->batch - 1) / s->batch;
    lr_schedule sched = s->sched;
    sched.total = total;

    /* model and optimiser: fresh or from the checkpoint */
    run_state rs = {0};
    rs.total = total;
    rs.batch = s->batch;
    rs.seed = s->seed;
    rs.threads = s->threads;
    if (!o->resume && util_mkdir_p(dir, err)) goto out;
    if (o->resume) {
        if (load_checkpoint(dir, s, &m, &opt, &rs, err)) goto out;
        rs.total = total;
        if (!o->quiet)
            printf("resuming %s at step %zu of %zu\n", dir, rs.step, total);
        if (!o->quiet && rs.threads && rs.threads != s->threads)
            printf("note: the checkpoint ran on %d threads, this run on %d: the batch is split "
                   "differently, so losses agree to rounding, not bit for bit\n",
                   rs.threads, s->threads);
        rs.threads = s->threads;
    } else {
        if (t5_alloc(&m, &s->model, err)) goto out;
        t5_init_random(&m, s->init_seed);
        adamw_init(&opt, &m);
    }
    /* A fresh run starts with a checkpoint of step 0: the folder is a loadable
     * model folder (and resumable) from the first step on, and a folder that
     * cannot take the files fails here, before any training. Only then are
     * train.cfg and log.tsv replaced, so that a --force over an old run keeps
     * all of its files until this checkpoint is complete. */
    if (!o->resume && save_checkpoint(dir, s, &m, &opt, &rs, NULL, err)) goto out;
    if (!o->resume && o->force) run_dir_drop_stale(dir);
    /* The configuration beside the model. */
    if (o->cfg_path) {
        size_t len;
        char *cfgtext = util_read_file(o->cfg_path, &len, err);
        char *dst = path_in(dir, "train.cfg");
        int wrc = cfgtext ? util_write_atomic(dst, cfgtext, len, err) : -1;
        free(cfgtext);
        free(dst);
        if (wrc) goto out;
    }
    if (!(logf = run_dir_open_log(dir, o->resume, rs.step,
                                  "step\tloss\tlr\tgrad_norm\ttarget_tokens\tseconds\t"
                                  "tokens_per_s\ttokens_per_cpu_s\tcore_share\tsteal\n",
                                  err)))
        goto out;

    tr = trainer_new(&m, s->batch, cap_src, cap_tgt);
    trainer_set_opts(tr, &s->train);
    if (o->resume && s->train.aux_weight > 0.0f && load_aux(dir, tr, m.cfg.d_model, err)) {
        as_errprefix(err, "cannot resume the auxiliary head");
        goto out;
    }
    train_batch_init(&b, s->batch, s->batch * cap_src, s->batch * cap_tgt);
    int bar = o->progress < 0 ? isatty(STDOUT_FILENO) : o->progress;
    if (!o->quiet)
        printf("training %zu parameters on %zu examples (%zu held out), batch %zu, %zu steps, "
               "%d threads -> %s\n",
               m.n_params, train.n, test.n, s->batch, total, s->threads, dir);
    if (!o->quiet && s->stream)
        printf("data.stream: fresh %s equations at every step, never one of the %zu held out "
               "(the %zu examples above only size the epochs)\n",
               s->preset, test.n, train.n);
    fflush(stdout);

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    stop_signal = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    int start = m.cfg.decoder_start_token_id;
    double t_run = util_now(), elapsed0 = rs.elapsed;
    size_t step0 = rs.step;
    /* The speed of the steps, and what of the machine they had (the
     * columns of log.tsv and the progress line are this session's averages
     * so far; trainer_state.json's "machine" the whole run's). */
    train_speed sp;
    train_speed_begin(&sp, s->threads, t_run);
    if (o->resume) speed_resume(&sp, dir, rs.step);
    rs.speed = &sp;
    size_t last_ckpt = rs.step;
    int interrupted = 0;
    double last_bar = 0.0;
    /* ATTNSCOPE_TEST_NAN_AT=N makes step N's loss NaN: how tests/cli/train.sh
     * checks the non-finite-loss path without a diverging run. */
    const char *inj = getenv("ATTNSCOPE_TEST_NAN_AT");
    size_t nan_at = inj ? (size_t)strtoull(inj, NULL, 10) : 0;
    size_t shown_stage = (size_t)-1;
    while (rs.step < total) {
        size_t step = rs.step;
        double t_step = util_now(), c_step = train_cpu_seconds();
        size_t stage = train_stage_at(&s->stepwise, step);
        if (s->stepwise.n && stage != shown_stage && !o->quiet) {
            static const char *what[4] = {"the spec's", "b^2 written out", "4ac written out",
                                          "b^2 and 4ac written out"};
            if (bar && step > step0) printf("\n");
            printf("data.stepwise: stage %zu of %zu from step %zu: targets with %s\n", stage + 1,
                   s->stepwise.n, s->stepwise.start[stage],
                   what[train_stage_show(&s->stepwise, stage)]);
            fflush(stdout);
        }
        shown_stage = stage;
        if (make_batch(&b, &bs, step, s->batch, start, err)) goto restore;
        if (s->train.aux_weight > 0.0f) train_batch_aux(&b);
        trainer_set_step(tr, step);
        double loss = train_forward(tr, &b);
        if (nan_at && step + 1 == nan_at) loss = NAN;  /* fault injection for the tests */
        if (!isfinite(loss)) {
            if (bar) printf("\n");
            as_errf(err, "the loss is %s at step %zu; stopped without saving. The last good "
                         "checkpoint (step %zu) is kept in %s; lower optimizer.lr or raise "
                         "schedule.warmup",
                    isnan(loss) ? "NaN" : "infinite", step + 1, last_ckpt, dir);
            goto restore;
        }
        train_zero_grad(tr);
        train_backward(tr, &b);
        double gnorm = grad_clip(train_grads(tr), m.n_params, s->opt.clip);
        if (!isfinite(gnorm)) {
            if (bar) printf("\n");
            as_errf(err, "the gradient norm is not finite at step %zu; stopped without saving. "
                         "The last good checkpoint (step %zu) is kept in %s",
                    step + 1, last_ckpt, dir);
            goto restore;
        }
        double lr = lr_at(&sched, step);
        adamw_update(&opt, &m, train_grads(tr), lr, &s->opt);
        if (s->train.aux_weight > 0.0f) train_aux_update(tr, lr, &s->opt);
        rs.step++;
        rs.loss = loss;
        rs.lr = lr;
        size_t ntok = train_batch_n_labels(&b);
        double now = util_now();
        train_speed_add(&sp, now - t_step, train_cpu_seconds() - c_step, ntok, now);
        rs.elapsed = elapsed0 + (now - t_run);
        double tps = train_speed_tps(&sp, 0), tpcs = train_speed_tpcs(&sp, 0),
               share = train_speed_share(&sp, 0), steal = train_speed_steal(&sp, 0);
        double eta = (now - t_run) / (double)(rs.step - step0) * (double)(total - rs.step);
        fprintf(logf, "%zu\t%.6f\t%.6e\t%.6f\t%zu\t%.3f\t%.1f\t%.1f\t%.4f\t%.4f\n", rs.step,
                loss, lr, gnorm, ntok, rs.elapsed, tps, tpcs, share, steal);
        if (train_speed_should_warn(&sp, rs.step == total) && !o->quiet) {
            fprintf(stderr,
                    "%swarning: this run got %.0f %% of the %d cores it asked for (train.threads; "
                    "CPU %.2f s in %.2f s of steps, the machine's steal %.1f %%): other load, "
                    "steal or a CPU limit; its tokens/s understate the loop (%.0f target tokens "
                    "per CPU-second)\n",
                    bar ? "\n" : "", 100 * share, s->threads, sp.cpu, sp.wall, 100 * steal, tpcs);
            fflush(stderr);
        }
        char etas[32];
        fmt_eta(etas, sizeof etas, eta);
        if (!o->quiet) {
            if (bar && (now - last_bar >= 0.1 || rs.step == total)) {
                last_bar = now;
                int w = 24, fill = (int)((double)w * (double)rs.step / (double)total);
                char barbuf[32];
                for (int i = 0; i < w; i++) barbuf[i] = i < fill ? '#' : '.';
                barbuf[w] = 0;
                printf("\rstep %zu/%zu [%s] loss %.4f lr %.2e %.0f tok/s (%.0f/CPU-s, cores "
                       "%.0f%%) ETA %s   ",
                       rs.step, total, barbuf, loss, lr, tps, tpcs, 100 * share, etas);
                fflush(stdout);
            } else if (!bar && (rs.step % s->log_every == 0 || rs.step == total)) {
                printf("step %zu/%zu loss %.6f lr %.4e grad_norm %.4f tok/s %.0f tok/cpu-s %.0f "
                       "cores %.0f%% steal %.1f%% eta %s\n",
                       rs.step, total, loss, lr, gnorm, tps, tpcs, 100 * share, 100 * steal, etas);
                fflush(stdout);
            }
        }
        int last = rs.step == total;
        if (s->eval_every && test.n && (rs.step % s->eval_every == 0 || last)) {
            if (evaluate(&m, &test, s->eval_n, &rs.eval, err)) goto restore;
            rs.have_eval = 1;
            rs.eval_step = rs.step;
            if (!o->quiet) {
                if (bar) printf("\n");
                print_eval(stdout, rs.step, &rs.eval);
            }
        }
        if (stop_signal) {
            interrupted = 1;
            break;
        }
        if (last || (s->checkpoint_every && rs.step % s->checkpoint_every == 0)) {
            fflush(logf);
            if (save_checkpoint(dir, s, &m, &opt, &rs, tr, err)) {
                as_errprefix(err, "checkpoint at step %zu failed (the previous one, step %zu, "
                                  "is intact)",
                             rs.step, last_ckpt);
                goto restore;
            }
            last_ckpt = rs.step;
        }
    }
    if (bar && !o->quiet) printf("\n");
    if (interrupted) {
        fflush(logf);
        if (save_checkpoint(dir, s, &m, &opt, &rs, tr, err)) {
            as_errprefix(err, "interrupted, and the checkpoint at step %zu failed (the previous "
                              "one, step %zu, is intact)",
                         rs.step, last_ckpt);
            goto restore;
        }
        printf("interrupted by %s at step %zu of %zu; checkpoint saved in %s\n"
               "resume with: attnscope train --config %s --resume%s%s\n",
               stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", rs.step, total, dir,
               o->cfg_path ? o->cfg_path : "FILE.cfg", s->out_dir ? " --out " : "", dir);
    } else if (!o->quiet) {
        printf("done: %zu steps, loss %.6f, %.0f s; model in %s\n", rs.step, rs.loss, rs.elapsed,
               dir);
    }
    fflush(stdout);
    if (o->speed) {
        train_speed_finish(&sp);
        *o->speed = sp;
    }
    rc = 0;
restore:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    if (logf) fclose(logf);
    source_close(&bs);
    train_batch_free(&b);
    trainer_free(tr);
    adamw_free(&opt);
    t5_free(&m);
    ts_free(&train);
    ts_free(&test);
    return rc;
}
