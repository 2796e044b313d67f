/* checkpoint.c - a training run's checkpoints: optimizer.safetensors (the
 * checkpoint proper: weights, AdamW moments, the auxiliary head and the run
 * state in one file), trainer_state.json (the same state for people, with
 * the run's speed and last evaluation) and the model folder (config.json,
 * model.safetensors); the kept checkpoints of train.keep_checkpoints
 * (checkpoints/step-NNNNNN/); and reading them back for --resume.
 *
 * Deliberately not here: when checkpoints are written (loop.c), the output
 * folder's rules (run_dir.c). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "safetensors.h"

char *ckpt_path_in(const char *dir, const char *name)
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
void ckpt_speed_resume(train_speed *sp, const char *dir, size_t step)
{
    sp->since_step = step;
    char *path = ckpt_path_in(dir, "trainer_state.json");
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

static const char PREFIX[4][8] = {"param.", "m.", "v.", "ema."};
static const char *const AUX_NAMES[3] = {"aux.weight", "aux.m", "aux.v"};

/* The arrays a checkpoint keeps per tensor: the weights and the AdamW
 * moments, and the weights' moving average when the run keeps one. */
static int param_kinds(const adamw_state *opt) { return opt->ema ? 4 : 3; }

/* ts[0 .. kinds*n_tensors): each tensor of m as "param.<name>", its AdamW
 * moments as "m.<name>" and "v.<name>" and its moving average as
 * "ema.<name>" (optimizer.ema); names gets the allocated names. */
static void param_tensors(st_out *ts, char **names, const t5_model *m, const adamw_state *opt)
{
    const float *bases[4] = {m->params, opt->m, opt->v, opt->ema};
    size_t kinds = (size_t)param_kinds(opt);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const t5_tensor *t = &m->tensors[i];
        for (size_t k = 0; k < kinds; k++) {
            size_t j = kinds * i + k;
            size_t len = strlen(t->name) + 8;
            names[j] = xmalloc(len);
            snprintf(names[j], len, "%s%s", PREFIX[k], t->name);
            ts[j].name = names[j];
            ts[j].dtype = ST_F32;
            ts[j].ndim = t->ndim;
            ts[j].shape[0] = t->shape[0];
            ts[j].shape[1] = t->shape[1];
            ts[j].data = bases[k] + t->offset;
        }
    }
}

static void state_fill(int32_t state[ST_N], const run_state *rs)
{
    memset(state, 0, ST_N * sizeof *state);
    state[ST_VERSION] = 1;
    state[ST_STEP] = (int32_t)rs->step;
    state[ST_BATCH] = (int32_t)rs->batch;
    state[ST_THREADS] = rs->threads;
    for (int k = 0; k < 4; k++) state[ST_SEED0 + k] = (int32_t)((rs->seed >> (16 * k)) & 0xffff);
    state[ST_ELAPSED] = (int32_t)rs->elapsed;
}

/* ts[0 .. 4): the auxiliary head's weights, moments ("aux.*") and update
 * count (into *aux_step, which must live until the file is written). */
static void aux_tensors(st_out *ts, int32_t *aux_step, t5_trainer *tr, size_t d_model)
{
    float *am, *av;
    size_t *astep;
    const float *aw = trainer_aux_head(tr, &am, &av, &astep);
    *aux_step = (int32_t)*astep;
    const float *ad[3] = {aw, am, av};
    for (int k = 0; k < 3; k++)
        ts[k] = (st_out){AUX_NAMES[k], ST_F32, 2, {TRAIN_AUX_OUT, d_model}, ad[k]};
    ts[3] = (st_out){"aux.step", ST_I32, 1, {1}, aux_step};
}

/* dir/optimizer.safetensors: the checkpoint proper. tr with an auxiliary
 * head (loss.aux_weight): its weights, moments and update count go into the
 * same file ("aux.*"), never into the model. */
static int write_optimizer(const char *dir, const train_settings *s, const t5_model *m,
                           const adamw_state *opt, const run_state *rs, t5_trainer *tr,
                           as_err *err)
{
    int aux = tr && s->train.aux_weight > 0.0f;
    size_t np = (size_t)param_kinds(opt) * m->n_tensors, n_out = np + 1 + (aux ? 4 : 0);
    st_out *ts = xcalloc(n_out, sizeof *ts);
    char **names = xcalloc(np, sizeof(char *));
    param_tensors(ts, names, m, opt);
    int32_t state[ST_N];
    state_fill(state, rs);
    ts[np] = (st_out){"trainer.state", ST_I32, 1, {ST_N}, state};
    int32_t aux_step = 0;
    if (aux) aux_tensors(ts + np + 1, &aux_step, tr, m->cfg.d_model);
    char meta[160];
    snprintf(meta, sizeof meta,
             "{\"format\":\"attnscope training checkpoint\",\"step\":\"%zu\"}", rs->step);
    char *opath = ckpt_path_in(dir, "optimizer.safetensors");
    int rc = st_write(opath, ts, n_out, meta, err);
    for (size_t j = 0; j < np; j++) free(names[j]);
    free(names);
    free(ts);
    free(opath);
    return rc ? -1 : 0;
}

/* trainer_state.json's "data": the data as resolved, so that scripts need
 * not parse train.cfg. */
static void data_json(cJSON *o, const train_settings *s, size_t step)
{
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
    if (s->have_stream_range) {
        const quad_preset *w = &s->stream_range;
        cJSON *g = cJSON_AddObjectToObject(d, "stream_range");
        const int64_t lohi[4][2] = {{w->a_lo, w->a_hi}, {w->r_lo, w->r_hi}, {w->b_lo, w->b_hi},
                                    {w->c_lo, w->c_hi}};
        static const char *const keys[4] = {"a", "roots", "b", "c"};
        for (int k = 0; k < 4; k++) {
            cJSON *a = cJSON_AddArrayToObject(g, keys[k]);
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)lohi[k][0]));
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)lohi[k][1]));
        }
    }
    if (s->stepwise.n) {
        cJSON *w = cJSON_AddObjectToObject(d, "stepwise");
        cJSON *st = cJSON_AddArrayToObject(w, "stages");
        for (size_t k = 0; k < s->stepwise.n; k++)
            cJSON_AddItemToArray(st, cJSON_CreateNumber((double)s->stepwise.start[k]));
        cJSON_AddStringToObject(w, "drop_first",
                                s->stepwise.drop_first == QUAD_SHOW_B2 ? "b2" : "4ac");
        cJSON_AddNumberToObject(w, "stage", (double)train_stage_at(&s->stepwise, step) + 1);
    }
}

/* The last evaluation's scores, {"step", "all", one per kind}, as o's "eval". */
static void eval_json(cJSON *o, const run_state *rs)
{
    cJSON *e = cJSON_AddObjectToObject(o, "eval");
    cJSON_AddNumberToObject(e, "step", (double)rs->eval_step);
    cJSON_AddItemToObject(e, "all", quad_score_json(&rs->eval.all, 0));
    for (int k = 0; k < QUAD_N_KINDS; k++)
        cJSON_AddItemToObject(e, quad_kind_key((quad_kind)k),
                              quad_score_json(&rs->eval.kind[k], 0));
}

/* trainer_state.json: the run state for people (--resume reads only
 * optimizer.safetensors). */
static cJSON *state_json(const train_settings *s, const run_state *rs)
{
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
    data_json(o, s, rs->step);
    if (s->opt.ema > 0) {
        cJSON *e = cJSON_AddObjectToObject(o, "ema");
        cJSON_AddNumberToObject(e, "decay", s->opt.ema);
        cJSON_AddStringToObject(e, "model", "model.safetensors and the evaluations hold the "
                                            "moving average of the weights (optimizer.ema); "
                                            "training goes on from the weights themselves");
    }
    if (s->init_from) {
        cJSON *f = cJSON_AddObjectToObject(o, "init_from");
        cJSON_AddStringToObject(f, "folder", s->init_from);
        cJSON_AddNumberToObject(f, "steps_before", (double)rs->steps_before);
    }
    if (rs->speed && rs->speed->steps + rs->speed->base_steps) speed_json(o, rs->speed, rs->step);
    if (rs->have_eval) eval_json(o, rs);
    return o;
}

/* o (deleted here) as indented JSON with a final newline, written
 * atomically to dir/name. */
static int write_json(const char *dir, const char *name, cJSON *o, as_err *err)
{
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    char *path = ckpt_path_in(dir, name);
    size_t len = strlen(text);
    text = xrealloc(text, len + 2);
    text[len] = '\n';
    text[len + 1] = 0;
    int rc = util_write_atomic(path, text, len + 1, err);
    free(path);
    free(text);
    return rc;
}

/* One checkpoint. optimizer.safetensors is the checkpoint proper: the
 * weights ("param.<name>"), the AdamW moments ("m.<name>", "v.<name>"), the
 * weights' moving average ("ema.<name>", optimizer.ema) and the run state
 * ("trainer.state"), one file renamed into place at once, so a crash at any
 * moment leaves either the old or the new checkpoint, never a mixture. Then
 * trainer_state.json (the same state for people) and the model folder
 * (config.json, model.safetensors: the moving average when the run keeps
 * one) for every other command; a crash between those renames leaves them
 * one checkpoint behind, which --resume does not read. */
int ckpt_save(const char *dir, const train_settings *s, t5_model *m, adamw_state *opt,
              const run_state *rs, t5_trainer *tr, as_err *err)
{
    if (write_optimizer(dir, s, m, opt, rs, tr, err)) return -1;
    if (write_json(dir, "trainer_state.json", state_json(s, rs), err)) return -1;
    adamw_ema_swap(opt, m);
    int rc = t5_save(m, dir, err);
    adamw_ema_swap(opt, m);
    return rc;
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
int ckpt_load_aux(const char *dir, t5_trainer *tr, size_t d_model, as_err *err)
{
    char *opath = ckpt_path_in(dir, "optimizer.safetensors");
    st_file f;
    int rc = st_open(&f, opath, err);
    free(opath);
    if (rc) return -1;
    float *am, *av;
    size_t *astep;
    float *aw = trainer_aux_head(tr, &am, &av, &astep);
    float *ad[3] = {aw, am, av};
    for (int k = 0; k < 3 && rc == 0; k++) {
        const st_tensor *x = st_find(&f, AUX_NAMES[k]);
        if (!x) break;
        if (x->numel != TRAIN_AUX_OUT * d_model)
            rc = as_errf(err, "%s: %zu values, the head has %zu", AUX_NAMES[k], x->numel,
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
int ckpt_load(const char *dir, const train_settings *s, t5_model *m, adamw_state *opt,
              run_state *rs, as_err *err)
{
    char *opath = ckpt_path_in(dir, "optimizer.safetensors");
    char *cpath = ckpt_path_in(dir, "config.json");
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
    /* optimizer.ema: the average goes on from the checkpoint's, or starts
     * from its weights when it kept none (ema_resumed says which) */
    int kinds = 3;
    if (s->opt.ema > 0) {
        char name[128];
        snprintf(name, sizeof name, "%s%s", PREFIX[3], m->tensors[0].name);
        opt->ema = xcalloc(m->n_params, sizeof(float));
        if (st_find(&f, name)) kinds = 4;
    }
    rs->ema_resumed = kinds == 4;
    float *bases[4] = {m->params, opt->m, opt->v, opt->ema};
    for (size_t i = 0; i < m->n_tensors; i++) {
        const t5_tensor *t = &m->tensors[i];
        for (int k = 0; k < kinds; k++) {
            char name[128];
            snprintf(name, sizeof name, "%s%s", PREFIX[k], t->name);
            const st_tensor *x = st_find(&f, name);
            if (!x || x->numel != t->numel) {
                as_errf(err, "%s: tensor %s missing or of the wrong size (the configuration's "
                             "model differs from the checkpoint's?)",
                        opath, name);
                goto out;
            }
            if (st_to_f32(x, bases[k] + t->offset, err)) goto out;
        }
    }
    if (opt->ema && kinds == 3) adamw_ema_start(opt, m);
    opt->step = rs->step;
    rc = 0;
out:
    if (opened) st_close(&f);
    free(opath);
    free(cpath);
    return rc;
}

/* ---- kept checkpoints (train.keep_checkpoints) ------------------------------- */

/* The step of a kept checkpoint's folder name "step-NNNNNN", or -1 when
 * name is anything else. */
static long long kept_step(const char *name)
{
    if (strncmp(name, "step-", 5) || !isdigit((unsigned char)name[5])) return -1;
    char *end;
    unsigned long long v = strtoull(name + 5, &end, 10);
    return *end ? -1 : (long long)v;
}

/* Remove folder path and the files in it (a kept checkpoint holds no
 * folders); quietly, as far as it goes. */
static void remove_folder(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char *f = ckpt_path_in(path, e->d_name);
                unlink(f);
                free(f);
            }
        closedir(d);
    }
    rmdir(path);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Keep the newest keep of the step folders in kdir, remove the rest. */
static void kept_prune(const char *kdir, size_t keep)
{
    DIR *d = opendir(kdir);
    if (!d) return;
    size_t n = 0, cap = 16;
    long long *steps = xmalloc(cap * sizeof *steps);
    struct dirent *e;
    while ((e = readdir(d))) {
        long long s = kept_step(e->d_name);
        if (s < 0) continue;
        if (n == cap) steps = xrealloc(steps, (cap *= 2) * sizeof *steps);
        steps[n++] = s;
    }
    closedir(d);
    qsort(steps, n, sizeof *steps, cmp_ll);
    for (size_t i = 0; i + keep < n; i++) {
        char name[40];
        snprintf(name, sizeof name, "step-%06lld", steps[i]);
        char *path = ckpt_path_in(kdir, name);
        remove_folder(path);
        free(path);
    }
    free(steps);
}

/* checkpoint.json: the step, its training loss and, when that step
 * evaluated, the evaluation's scores. */
static cJSON *kept_json(const run_state *rs)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "step", (double)rs->step);
    cJSON_AddNumberToObject(o, "loss", rs->loss);
    if (rs->steps_before) cJSON_AddNumberToObject(o, "steps_before", (double)rs->steps_before);
    if (rs->have_eval && rs->eval_step == rs->step) eval_json(o, rs);
    return o;
}

int ckpt_keep(const char *dir, const t5_model *m, const run_state *rs, size_t keep, as_err *err)
{
    char *kdir = ckpt_path_in(dir, CKPT_KEPT_DIR);
    char name[48], tmpname[56];
    snprintf(name, sizeof name, "step-%06zu", rs->step);
    snprintf(tmpname, sizeof tmpname, ".%s.tmp", name);
    char *final = ckpt_path_in(kdir, name), *tmp = ckpt_path_in(kdir, tmpname);
    remove_folder(tmp);  /* left by a crash */
    int rc = -1;
    if (t5_save(m, tmp, err) || write_json(tmp, "checkpoint.json", kept_json(rs), err))
        goto out;
    remove_folder(final);  /* this step's, from a run resumed before it */
    if (rename(tmp, final) != 0) {
        as_errf(err, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
        goto out;
    }
    kept_prune(kdir, keep);
    rc = 0;
out:
    if (rc) remove_folder(tmp);
    free(final);
    free(tmp);
    free(kdir);
    return rc;
}

void ckpt_drop_kept(const char *dir)
{
    char *kdir = ckpt_path_in(dir, CKPT_KEPT_DIR);
    kept_prune(kdir, 0);
    rmdir(kdir);
    free(kdir);
}
