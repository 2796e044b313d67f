/* settings.c - the training configuration file (libconfig): every key, its
 * type and range, checked before training starts. Every message names the
 * file and line ("train.cfg:12: optimizer.lr must be positive").
 *
 *   model     = { d_model; d_ff; num_layers; num_decoder_layers; num_heads;
 *                 d_kv (default d_model / num_heads); feed_forward_proj;
 *                 tie_word_embeddings; relative_attention_num_buckets;
 *                 relative_attention_max_distance; init_seed; dropout_rate;
 *                 init_from; };
 *   data      = { preset; n; seed; test_share; }  or  { train; test; },
 *               with weights = { two_roots; one_root; no_root; },
 *               stepwise = { stages = [...]; drop_first; } and (preset only)
 *               stream, stream_range = { a; roots; b; c; } ([lo, hi] each);
 *   optimizer = { lr; beta1; beta2; eps; weight_decay; clip; ema; };
 *   schedule  = { warmup; decay ("cosine" | "linear" | "constant"); min_lr; };
 *   train     = { batch; steps | epochs; threads; seed; eval_every; eval_n;
 *                 checkpoint_every; keep_checkpoints; log_every; out; };
 *   loss      = { label_smoothing; aux_weight; };
 *
 * Relative paths (data files, out) are relative to the configuration file's
 * folder. eval_every = 0: no evaluation; eval_n = 0: the whole test split;
 * checkpoint_every = 0: a checkpoint only at the end (and on a signal);
 * keep_checkpoints = N > 0 (needs checkpoint_every): also keep the model of
 * the last N checkpoints (loop.c).
 *
 * Deliberately not here: using the settings (loop.c). */
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "quad.h"
#include "train.h"

typedef enum { K_INT, K_FLOAT, K_STR, K_BOOL, K_GROUP, K_INTS } ktype;

typedef struct {
    const char *group, *key;
    ktype type;
} keydef;

static const keydef KEYS[] = {
    {"model", "d_model", K_INT},
    {"model", "d_ff", K_INT},
    {"model", "num_layers", K_INT},
    {"model", "num_decoder_layers", K_INT},
    {"model", "num_heads", K_INT},
    {"model", "d_kv", K_INT},
    {"model", "feed_forward_proj", K_STR},
    {"model", "tie_word_embeddings", K_BOOL},
    {"model", "relative_attention_num_buckets", K_INT},
    {"model", "relative_attention_max_distance", K_INT},
    {"model", "init_seed", K_INT},
    {"model", "dropout_rate", K_FLOAT},
    {"model", "init_from", K_STR},
    {"data", "preset", K_STR},
    {"data", "n", K_INT},
    {"data", "seed", K_INT},
    {"data", "test_share", K_FLOAT},
    {"data", "train", K_STR},
    {"data", "test", K_STR},
    {"data", "weights", K_GROUP},
    {"data.weights", "two_roots", K_FLOAT},
    {"data.weights", "one_root", K_FLOAT},
    {"data.weights", "no_root", K_FLOAT},
    {"data", "stream", K_BOOL},
    {"data", "stream_range", K_GROUP},
    {"data.stream_range", "a", K_INTS},
    {"data.stream_range", "roots", K_INTS},
    {"data.stream_range", "b", K_INTS},
    {"data.stream_range", "c", K_INTS},
    {"data", "stepwise", K_GROUP},
    {"data.stepwise", "stages", K_INTS},
    {"data.stepwise", "drop_first", K_STR},
    {"optimizer", "lr", K_FLOAT},
    {"optimizer", "beta1", K_FLOAT},
    {"optimizer", "beta2", K_FLOAT},
    {"optimizer", "eps", K_FLOAT},
    {"optimizer", "weight_decay", K_FLOAT},
    {"optimizer", "clip", K_FLOAT},
    {"optimizer", "ema", K_FLOAT},
    {"schedule", "warmup", K_INT},
    {"schedule", "decay", K_STR},
    {"schedule", "min_lr", K_FLOAT},
    {"train", "batch", K_INT},
    {"train", "steps", K_INT},
    {"train", "epochs", K_INT},
    {"train", "threads", K_INT},
    {"train", "seed", K_INT},
    {"train", "eval_every", K_INT},
    {"train", "eval_n", K_INT},
    {"train", "checkpoint_every", K_INT},
    {"train", "keep_checkpoints", K_INT},
    {"train", "log_every", K_INT},
    {"train", "out", K_STR},
    {"loss", "label_smoothing", K_FLOAT},
    {"loss", "aux_weight", K_FLOAT},
};
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

static const char *GROUPS[] = {"model", "data", "optimizer", "schedule", "train", "loss"};

static const char *type_name(ktype t)
{
    switch (t) {
    case K_INT: return "an integer";
    case K_FLOAT: return "a number";
    case K_STR: return "a string in double quotes";
    case K_GROUP: return "a group { ... }";
    case K_INTS: return "a list of integers [ ... ]";
    default: return "true or false";
    }
}

typedef struct {
    config_t cfg;
    const char *path;
    as_err *err;
} reader;

static int line_of(const config_setting_t *s) { return s ? (int)config_setting_source_line(s) : 0; }

static int fail_at(reader *r, const config_setting_t *s, const char *fmt, const char *a,
                   const char *b)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a, b);
    if (s)
        return as_errf(r->err, "%s:%d: %s", r->path, line_of(s), msg);
    return as_errf(r->err, "%s: %s", r->path, msg);
}

static config_setting_t *find(reader *r, const char *group, const char *key)
{
    config_setting_t *g = config_lookup(&r->cfg, group);
    return g ? config_setting_get_member(g, key) : NULL;
}

/* Integer key: 0 when absent (then *out keeps its default), 1 found, -1 bad. */
static int get_int(reader *r, const char *group, const char *key, long long lo, long long *out)
{
    config_setting_t *s = find(r, group, key);
    if (!s) return 0;
    long long v = config_setting_get_int64(s);
    if (v < lo) {
        char buf[64], full[96];
        snprintf(buf, sizeof buf, "%lld (got %lld)", lo, v);
        snprintf(full, sizeof full, "%s.%s", group, key);
        return fail_at(r, s, "%s must be at least %s", full, buf);
    }
    *out = v;
    return 1;
}

static int get_size(reader *r, const char *group, const char *key, long long lo, size_t *out)
{
    long long v;
    int k = get_int(r, group, key, lo, &v);
    if (k == 1) *out = (size_t)v;
    return k;
}

static int get_float(reader *r, const char *group, const char *key, double lo, double hi,
                     double *out)
{
    config_setting_t *s = find(r, group, key);
    if (!s) return 0;
    double v = config_setting_type(s) == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                                            : (double)config_setting_get_int64(s);
    if (!(v >= lo && v <= hi)) {
        char buf[96], full[96];
        snprintf(buf, sizeof buf, "%g .. %g (got %g)", lo, hi, v);
        snprintf(full, sizeof full, "%s.%s", group, key);
        return fail_at(r, s, "%s must be in %s", full, buf);
    }
    *out = v;
    return 1;
}

static const char *get_str(reader *r, const char *group, const char *key)
{
    config_setting_t *s = find(r, group, key);
    return s ? config_setting_get_string(s) : NULL;
}

/* dir of path + rel, unless rel is absolute. */
static char *resolve(const char *cfg_path, const char *rel)
{
    if (rel[0] == '/') return xstrdup(rel);
    const char *slash = strrchr(cfg_path, '/');
    if (!slash) return xstrdup(rel);
    size_t n = (size_t)(slash - cfg_path) + 1;
    char *out = xmalloc(n + strlen(rel) + 1);
    memcpy(out, cfg_path, n);
    strcpy(out + n, rel);
    return out;
}

/* The keys of group g (named gname, e.g. "data" or "data.weights"): each
 * known and of the right type; subgroups are checked the same way. */
static int check_group(reader *r, config_setting_t *g, const char *gname)
{
    for (int j = 0; j < config_setting_length(g); j++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)j);
        const char *name = config_setting_name(s);
        const keydef *d = NULL;
        for (size_t q = 0; q < N_KEYS; q++)
            if (!strcmp(KEYS[q].group, gname) && !strcmp(KEYS[q].key, name)) d = &KEYS[q];
        char full[160];
        snprintf(full, sizeof full, "%s.%s", gname, name);
        if (!d) return fail_at(r, s, "unknown key '%s'%s", full, "");
        int t = config_setting_type(s), ok;
        switch (d->type) {
        case K_INT: ok = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64; break;
        case K_FLOAT:
            ok = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
            break;
        case K_STR: ok = t == CONFIG_TYPE_STRING; break;
        case K_GROUP: ok = t == CONFIG_TYPE_GROUP; break;
        case K_INTS:
            ok = t == CONFIG_TYPE_ARRAY &&
                 (config_setting_length(s) == 0 ||
                  config_setting_type(config_setting_get_elem(s, 0)) == CONFIG_TYPE_INT ||
                  config_setting_type(config_setting_get_elem(s, 0)) == CONFIG_TYPE_INT64);
            break;
        default: ok = t == CONFIG_TYPE_BOOL; break;
        }
        if (!ok) return fail_at(r, s, "%s must be %s", full, type_name(d->type));
        if (d->type == K_GROUP && check_group(r, s, full)) return -1;
    }
    return 0;
}

/* The structure: known groups and keys, each of the right type. */
static int check_structure(reader *r)
{
    config_setting_t *root = config_root_setting(&r->cfg);
    for (int i = 0; i < config_setting_length(root); i++) {
        config_setting_t *g = config_setting_get_elem(root, (unsigned)i);
        const char *gname = config_setting_name(g);
        size_t k;
        for (k = 0; k < sizeof GROUPS / sizeof GROUPS[0]; k++)
            if (!strcmp(gname, GROUPS[k])) break;
        if (k == sizeof GROUPS / sizeof GROUPS[0])
            return fail_at(r, g,
                           "unknown section '%s'%s (known: model, data, optimizer, schedule, "
                           "train, loss)",
                           gname, "");
        if (config_setting_type(g) != CONFIG_TYPE_GROUP)
            return fail_at(r, g, "'%s' must be a group: %s = { ... };", gname, gname);
        if (check_group(r, g, gname)) return -1;
    }
    return 0;
}

/* The built-in defaults, before the file is read. */
static void settings_defaults(train_settings *s)
{
    memset(s, 0, sizeof *s);
    t5_config_default(&s->model);
    s->init_seed = 1;
    snprintf(s->preset, sizeof s->preset, "small");
    s->data_n = 10000;
    s->data_seed = 1;
    s->test_share = 0.2;
    s->opt = (adamw_cfg){0.9, 0.999, 1e-8, 0.01, 1.0, 0.0};
    s->sched = (lr_schedule){1e-3, 0.0, 100, 0, SCHED_COSINE};
    s->batch = 32;
    s->threads = 2;
    s->seed = 1;
    s->eval_n = 200;
    s->log_every = 50;
}

/* model.d_kv, or d_model / num_heads when it is not given (heads_given:
 * whether num_heads was, to name the key at fault). */
static int read_d_kv(reader *r, t5_config *c, int heads_given)
{
    int dk = get_size(r, "model", "d_kv", 1, &c->d_kv);
    if (dk < 0) return -1;
    if (dk) return 0;
    if (c->d_model % c->num_heads) {
        config_setting_t *at = find(r, "model", heads_given ? "num_heads" : "d_model");
        char buf[128];
        snprintf(buf, sizeof buf, "%zu is not divisible by num_heads = %zu", c->d_model,
                 c->num_heads);
        return fail_at(r, at, "d_model = %s; set d_kv or choose d_model as a multiple%s", buf,
                       " of num_heads");
    }
    c->d_kv = c->d_model / c->num_heads;
    return 0;
}

/* model.init_from: a model folder, resolved against the file's folder. Its
 * shape is checked when a fresh run starts (train_init_check), not here: a
 * --resume never reads it again. */
static int read_init_from(reader *r, train_settings *s)
{
    const char *from = get_str(r, "model", "init_from");
    if (!from) return 0;
    config_setting_t *at = find(r, "model", "init_from");
    if (util_blank(from)) return fail_at(r, at, "model.init_from: an empty folder name%s%s", "", "");
    s->init_from = resolve(r->path, from);
    char where[64];
    snprintf(where, sizeof where, ":%d", line_of(at));
    s->init_from_at = xmalloc(strlen(r->path) + strlen(where) + 1);
    sprintf(s->init_from_at, "%s%s", r->path, where);
    return 0;
}

/* The model section: the T5 shape (checked by t5_config_check), init_seed
 * and dropout_rate. */
static int read_model(reader *r, train_settings *s)
{
    t5_config *c = &s->model;
    long long v;
    if (get_size(r, "model", "d_model", 1, &c->d_model) < 0 ||
        get_size(r, "model", "d_ff", 1, &c->d_ff) < 0 ||
        get_size(r, "model", "num_layers", 1, &c->num_layers) < 0 ||
        get_size(r, "model", "relative_attention_num_buckets", 4, &c->rel_buckets) < 0 ||
        get_size(r, "model", "relative_attention_max_distance", 1, &c->rel_max_distance) < 0)
        return -1;
    c->num_decoder_layers = c->num_layers;
    if (get_size(r, "model", "num_decoder_layers", 1, &c->num_decoder_layers) < 0) return -1;
    int hk = get_size(r, "model", "num_heads", 1, &c->num_heads);
    if (hk < 0 || read_d_kv(r, c, hk)) return -1;
    const char *ff = get_str(r, "model", "feed_forward_proj");
    if (ff) {
        if (!strcmp(ff, "relu")) c->ff = T5_FF_RELU;
        else if (!strcmp(ff, "gated-gelu")) c->ff = T5_FF_GATED_GELU;
        else
            return fail_at(r, find(r, "model", "feed_forward_proj"),
                           "model.feed_forward_proj must be \"relu\" or \"gated-gelu\" (got "
                           "\"%s\")%s",
                           ff, "");
    }
    config_setting_t *tie = find(r, "model", "tie_word_embeddings");
    if (tie) c->tie_word_embeddings = config_setting_get_bool(tie);
    int ki = get_int(r, "model", "init_seed", 0, &v);
    if (ki < 0) return -1;
    if (ki) s->init_seed = (uint64_t)v;
    double dr = 0.0;
    int dk_rate = get_float(r, "model", "dropout_rate", 0.0, 0.9, &dr);
    if (dk_rate < 0) return -1;
    if (dk_rate) c->dropout_rate = (double)(float)dr; /* else config.json keeps HF's 0.1, as before */
    s->train.dropout = (float)dr;
    if (t5_config_check(c, r->err)) {
        config_setting_t *g = config_lookup(&r->cfg, "model");
        return as_errprefix(r->err, "%s:%d: model", r->path, line_of(g));
    }
    return read_init_from(r, s);
}

/* data.train and data.test (trn, tst as given; either may be NULL): both,
 * not blank, resolved against the file's folder, existing. */
static int read_data_files(reader *r, train_settings *s, const char *trn, const char *tst)
{
    if (get_str(r, "data", "preset"))
        return fail_at(r, find(r, "data", "preset"),
                       "data: give either preset%s or train/test files%s, not both", "", "");
    if (!trn || !tst)
        return fail_at(r, find(r, "data", trn ? "train" : "test"),
                       "data: both train and test files are needed%s%s", "", "");
    if (util_blank(trn) || util_blank(tst))
        return fail_at(r, find(r, "data", util_blank(trn) ? "train" : "test"),
                       "data.%s: an empty file name%s", util_blank(trn) ? "train" : "test", "");
    s->train_tsv = resolve(r->path, trn);
    s->test_tsv = resolve(r->path, tst);
    as_err fe;
    if (util_need_file(s->train_tsv, "a TSV file of source<TAB>target lines", &fe))
        return fail_at(r, find(r, "data", "train"), "data.train: %s%s", fe.msg, "");
    if (util_need_file(s->test_tsv, "a TSV file of source<TAB>target lines", &fe))
        return fail_at(r, find(r, "data", "test"), "data.test: %s%s", fe.msg, "");
    return 0;
}

/* data.preset, n, seed and test_share: the generated data set. */
static int read_data_preset(reader *r, train_settings *s)
{
    const char *preset = get_str(r, "data", "preset");
    long long v;
    if (preset) {
        if (!quad_preset_find(preset))
            return fail_at(r, find(r, "data", "preset"),
                           "data.preset: unknown preset \"%s\" (known: seed, small)%s", preset,
                           "");
        snprintf(s->preset, sizeof s->preset, "%s", preset);
    }
    if (get_size(r, "data", "n", 10, &s->data_n) < 0) return -1;
    if (get_int(r, "data", "seed", 0, &v) < 0) return -1;
    if (find(r, "data", "seed")) s->data_seed = (uint64_t)v;
    if (get_float(r, "data", "test_share", 0.0, 0.9, &s->test_share) < 0) return -1;
    return 0;
}

/* data.weights: all three kinds, each >= 0, not all 0. */
static int read_weights(reader *r, train_settings *s)
{
    if (!find(r, "data", "weights")) return 0;
    double sum = 0;
    for (int k = 0; k < QUAD_N_KINDS; k++) {
        const char *key = quad_kind_key((quad_kind)k);
        if (!find(r, "data.weights", key))
            return fail_at(r, find(r, "data", "weights"),
                           "data.weights: give all three kinds (two_roots, one_root, no_root; "
                           "0 leaves one out); %s is missing%s",
                           key, "");
        if (get_float(r, "data.weights", key, 0.0, 1e6, &s->kind_weight[k]) < 0) return -1;
        sum += s->kind_weight[k];
    }
    if (!(sum > 0))
        return fail_at(r, find(r, "data", "weights"),
                       "data.weights: at least one kind needs a weight above 0%s%s", "", "");
    s->have_weights = 1;
    return 0;
}

/* data.stream: needs a preset's distribution. */
static int read_stream(reader *r, train_settings *s)
{
    config_setting_t *stream = find(r, "data", "stream");
    if (!stream || !config_setting_get_bool(stream)) return 0;
    if (s->train_tsv)
        return fail_at(r, stream,
                       "data.stream draws fresh equations from a preset: give data.preset, not "
                       "train/test files%s%s",
                       "", "");
    s->stream = 1;
    return 0;
}

/* One range of data.stream_range: [lo, hi] with lo <= hi, containing the
 * preset's [*lo, *hi] and within [min, max] (the seed preset's, whose
 * targets every buffer holds); *lo, *hi become the range. */
static int read_range(reader *r, const char *key, int64_t min, int64_t max, int64_t *lo,
                      int64_t *hi, const char *preset)
{
    config_setting_t *st = find(r, "data.stream_range", key);
    if (!st) return 0;
    char buf[200];
    if (config_setting_length(st) != 2) {
        snprintf(buf, sizeof buf, "data.stream_range.%s", key);
        return fail_at(r, st, "%s: give [lo, hi], two integers%s", buf, "");
    }
    long long a = config_setting_get_int64_elem(st, 0), b = config_setting_get_int64_elem(st, 1);
    if (a > b || a > *lo || b < *hi || a < min || b > max) {
        snprintf(buf, sizeof buf,
                 "data.stream_range.%s = [%lld, %lld] must contain the %s preset's %lld..%lld "
                 "and lie within %lld..%lld",
                 key, a, b, preset, (long long)*lo, (long long)*hi, (long long)min,
                 (long long)max);
        return fail_at(r, st, "%s%s", buf, " (the seed preset's, the longest targets)");
    }
    *lo = a;
    *hi = b;
    return 0;
}

/* data.stream_range: the stream draws from these ranges instead of the
 * preset's (wider only: more distinct equations than a model can recall);
 * the test split stays the preset's data set's. */
static int read_stream_range(reader *r, train_settings *s)
{
    config_setting_t *g = find(r, "data", "stream_range");
    if (!g) return 0;
    if (!s->stream)
        return fail_at(r, g, "data.stream_range widens data.stream: set stream = true%s%s", "",
                       "");
    const quad_preset *p = quad_preset_find(s->preset), *big = quad_preset_find("seed");
    quad_preset *w = &s->stream_range;
    *w = *p;
    if (read_range(r, "a", 1, big->a_hi, &w->a_lo, &w->a_hi, p->name) ||
        read_range(r, "roots", big->r_lo, big->r_hi, &w->r_lo, &w->r_hi, p->name) ||
        read_range(r, "b", big->b_lo, big->b_hi, &w->b_lo, &w->b_hi, p->name) ||
        read_range(r, "c", 1, big->c_hi, &w->c_lo, &w->c_hi, p->name))
        return -1;
    s->have_stream_range = 1;
    return 0;
}

/* data.stepwise: stages = [0, s1(, s2)], increasing; drop_first. */
static int read_stepwise(reader *r, train_settings *s)
{
    config_setting_t *sw = find(r, "data", "stepwise");
    if (!sw) return 0;
    config_setting_t *st = config_setting_get_member(sw, "stages");
    int n = st ? config_setting_length(st) : 0;
    if (n < 2 || n > TRAIN_MAX_STAGES)
        return fail_at(r, st ? st : sw,
                       "data.stepwise.stages: give the first step of each stage, 2 or 3 of them "
                       "starting at 0 (e.g. [0, 4000, 8000]; the last stage writes the spec's "
                       "targets)%s%s",
                       "", "");
    for (int i = 0; i < n; i++) {
        long long at = config_setting_get_int64_elem(st, i);
        if ((i == 0 && at != 0) || (i > 0 && at <= (long long)s->stepwise.start[i - 1])) {
            char buf[96];
            snprintf(buf, sizeof buf, "%d is %lld", i + 1, at);
            return fail_at(r, st,
                           "data.stepwise.stages: entry %s; the stages start at 0 and increase "
                           "strictly%s",
                           buf, "");
        }
        s->stepwise.start[i] = (size_t)at;
    }
    s->stepwise.n = (size_t)n;
    s->stepwise.drop_first = QUAD_SHOW_4AC;
    const char *df = get_str(r, "data.stepwise", "drop_first");
    if (!df || !strcmp(df, "4ac")) return 0;
    if (!strcmp(df, "b2")) {
        s->stepwise.drop_first = QUAD_SHOW_B2;
        return 0;
    }
    return fail_at(r, find(r, "data.stepwise", "drop_first"),
                   "data.stepwise.drop_first must be \"4ac\" or \"b2\" (got \"%s\")%s", df, "");
}

/* The data section: a preset or two files, then weights, stream, stepwise. */
static int read_data(reader *r, train_settings *s)
{
    const char *trn = get_str(r, "data", "train"), *tst = get_str(r, "data", "test");
    if (trn || tst ? read_data_files(r, s, trn, tst) : read_data_preset(r, s)) return -1;
    if (read_weights(r, s) || read_stream(r, s) || read_stream_range(r, s) || read_stepwise(r, s))
        return -1;
    return 0;
}

/* The optimizer and schedule sections. */
static int read_optimizer(reader *r, train_settings *s)
{
    if (get_float(r, "optimizer", "lr", 1e-12, 10.0, &s->sched.lr) < 0 ||
        get_float(r, "optimizer", "beta1", 0.0, 0.999999, &s->opt.beta1) < 0 ||
        get_float(r, "optimizer", "beta2", 0.0, 0.99999999, &s->opt.beta2) < 0 ||
        get_float(r, "optimizer", "eps", 1e-30, 1.0, &s->opt.eps) < 0 ||
        get_float(r, "optimizer", "weight_decay", 0.0, 10.0, &s->opt.weight_decay) < 0 ||
        get_float(r, "optimizer", "clip", 0.0, 1e9, &s->opt.clip) < 0 ||
        get_float(r, "optimizer", "ema", 0.0, 0.999999, &s->opt.ema) < 0 ||
        get_size(r, "schedule", "warmup", 0, &s->sched.warmup) < 0 ||
        get_float(r, "schedule", "min_lr", 0.0, 10.0, &s->sched.min_lr) < 0)
        return -1;
    const char *decay = get_str(r, "schedule", "decay");
    if (!decay) return 0;
    if (!strcmp(decay, "cosine")) s->sched.decay = SCHED_COSINE;
    else if (!strcmp(decay, "linear")) s->sched.decay = SCHED_LINEAR;
    else if (!strcmp(decay, "constant")) s->sched.decay = SCHED_CONSTANT;
    else
        return fail_at(r, find(r, "schedule", "decay"),
                       "schedule.decay must be \"cosine\", \"linear\" or \"constant\" (got "
                       "\"%s\")%s",
                       decay, "");
    return 0;
}

/* The train section's loop: batch, threads, intervals, seed, and steps or
 * epochs (exactly one). */
static int read_loop(reader *r, train_settings *s)
{
    long long th = s->threads, v;
    if (get_size(r, "train", "batch", 1, &s->batch) < 0 ||
        get_int(r, "train", "threads", 1, &th) < 0 ||
        get_size(r, "train", "eval_every", 0, &s->eval_every) < 0 ||
        get_size(r, "train", "eval_n", 0, &s->eval_n) < 0 ||
        get_size(r, "train", "checkpoint_every", 0, &s->checkpoint_every) < 0 ||
        get_size(r, "train", "log_every", 1, &s->log_every) < 0)
        return -1;
    if (th > 256)
        return fail_at(r, find(r, "train", "threads"), "train.threads: at most 256%s%s", "", "");
    s->threads = (int)th;
    int ks = get_int(r, "train", "seed", 0, &v);
    if (ks < 0) return -1;
    if (ks) s->seed = (uint64_t)v;
    s->train.dropout_seed = s->seed;
    int kn = get_size(r, "train", "steps", 1, &s->steps);
    int ke = get_size(r, "train", "epochs", 1, &s->epochs);
    if (kn < 0 || ke < 0) return -1;
    if (kn && ke)
        return fail_at(r, find(r, "train", "epochs"), "train: give steps%s or epochs%s, not both",
                       "", "");
    if (!kn && !ke)
        return fail_at(r, config_lookup(&r->cfg, "train"),
                       "train: steps or epochs is required%s%s", "", "");
    return 0;
}

/* train.keep_checkpoints: 0 (the default, one rolling checkpoint) or N > 0
 * kept models, which needs checkpoint_every. */
static int read_keep(reader *r, train_settings *s)
{
    if (get_size(r, "train", "keep_checkpoints", 0, &s->keep_checkpoints) < 0) return -1;
    if (!s->keep_checkpoints || s->checkpoint_every) return 0;
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", s->keep_checkpoints);
    return fail_at(r, find(r, "train", "keep_checkpoints"),
                   "train.keep_checkpoints = %s keeps the model of every checkpoint_every "
                   "steps: set train.checkpoint_every above 0 too%s",
                   buf, "");
}

/* The loss section (training-only options of the trainer) and train.out. */
static int read_loss_and_out(reader *r, train_settings *s)
{
    double ls = 0.0;
    if (get_float(r, "loss", "label_smoothing", 0.0, 0.999, &ls) < 0) return -1;
    s->train.label_smoothing = (float)ls;
    double aw = 0.0;
    if (get_float(r, "loss", "aux_weight", 0.0, 100.0, &aw) < 0) return -1;
    s->train.aux_weight = (float)aw;
    const char *out = get_str(r, "train", "out");
    if (out && util_blank(out))
        return fail_at(r, find(r, "train", "out"), "train.out: an empty folder name%s%s", "", "");
    if (out) s->out_dir = resolve(r->path, out);
    return 0;
}

int train_settings_read(train_settings *s, const char *path, as_err *err)
{
    settings_defaults(s);
    reader r = {.path = path, .err = err};
    if (util_blank(path)) return as_errf(err, "the configuration file name is empty");
    if (util_need_file(path, "a libconfig training configuration, FILE.cfg", err)) return -1;
    config_init(&r.cfg);
    int rc = -1;
    if (config_read_file(&r.cfg, path) != CONFIG_TRUE)
        as_errf(err, "%s:%d: %s", path, config_error_line(&r.cfg), config_error_text(&r.cfg));
    else if (!check_structure(&r) && !read_model(&r, s) && !read_data(&r, s) &&
             !read_optimizer(&r, s) && !read_loop(&r, s) && !read_keep(&r, s) &&
             !read_loss_and_out(&r, s))
        rc = 0;
    config_destroy(&r.cfg);
    if (rc) train_settings_free(s);
    return rc;
}

void train_settings_free(train_settings *s)
{
    if (!s) return;
    free(s->train_tsv);
    free(s->test_tsv);
    free(s->out_dir);
    free(s->init_from);
    free(s->init_from_at);
    s->train_tsv = s->test_tsv = s->out_dir = s->init_from = s->init_from_at = NULL;
}
