/* model_io.c - Hugging Face model folders: dir/config.json plus
 * dir/model.safetensors with HF tensor names. Loading maps the file, checks
 * every tensor of the parameter table against the shape config.json implies,
 * converts F32/F16/BF16 to F32 (or, t5_load_mapped on an aligned F32 file,
 * keeps the weights in the mapping) and refuses non-finite weights; saving
 * writes both files atomically, F32, tied models with shared.weight only.
 *
 * Deliberately not here: the format itself (safetensors.c), the config keys
 * (config_json.c), the table (model.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "model_int.h"
#include "safetensors.h"
#include "t5.h"

/* The weight files of a folder: model.safetensors, or the shards a
 * model.safetensors.index.json names. A tensor is looked up in every file. */
typedef struct {
    st_file *f;   /* (n) */
    size_t n;
    size_t bytes; /* total mapped */
} st_set;

static const st_tensor *set_find(const st_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++) {
        const st_tensor *t = st_find(&s->f[i], name);
        if (t) return t;
    }
    return NULL;
}

static void set_close(st_set *s)
{
    for (size_t i = 0; i < s->n; i++) st_close(&s->f[i]);
    free(s->f);
    memset(s, 0, sizeof *s);
}

/* Open the shards index_path names in its "weight_map" (file names in dir,
 * each opened once). Returns 0, or -1 with a message naming the index. */
static int set_open_index(st_set *s, const char *dir, const char *index_path, as_err *err)
{
    memset(s, 0, sizeof *s);
    char *text = util_read_file(index_path, NULL, err);
    if (!text) return -1;
    cJSON *doc = cJSON_Parse(text);
    free(text);
    const cJSON *map = doc ? cJSON_GetObjectItemCaseSensitive(doc, "weight_map") : NULL;
    int rc = 0;
    if (!cJSON_IsObject(map)) {
        rc = as_errf(err, "%s: %s", index_path,
                     doc ? "no \"weight_map\" object" : "not valid JSON");
        cJSON_Delete(doc);
        return rc;
    }
    size_t cap = (size_t)cJSON_GetArraySize(map);
    const char **names = xcalloc(cap ? cap : 1, sizeof *names);
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, map)
    {
        const char *file = cJSON_GetStringValue(e);
        if (!file || !*file || strchr(file, '/') || !strcmp(file, ".") || !strcmp(file, "..")) {
            rc = as_errf(err, "%s: weight_map[\"%s\"] is not a file name in the folder",
                         index_path, e->string ? e->string : "");
            break;
        }
        size_t k = 0;
        while (k < n && strcmp(names[k], file)) k++;
        if (k == n) names[n++] = file;
    }
    if (rc == 0 && n == 0) rc = as_errf(err, "%s: weight_map names no file", index_path);
    s->f = xcalloc(n ? n : 1, sizeof *s->f);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *path = xmalloc(len);
        snprintf(path, len, "%s/%s", dir, names[i]);
        rc = st_open(&s->f[i], path, err);
        if (rc) as_errprefix(err, "%s names it", index_path);
        else s->n++, s->bytes += s->f[i].map_len;
        free(path);
    }
    free(names);
    cJSON_Delete(doc);
    if (rc) set_close(s);
    return rc;
}

/* The progress line on stderr while a large file is read: only on a
 * terminal and for files of at least PROGRESS_MIN bytes, redrawn at each
 * whole percent, erased at the end. */
#define PROGRESS_MIN ((size_t)64 << 20)

typedef struct {
    const char *path;
    size_t total, done;
    int shown;  /* the last percent drawn, -1 for none; 0 when inactive */
    int active;
} progress;

static void progress_start(progress *p, const char *path, size_t total)
{
    p->path = path;
    p->total = total;
    p->done = 0;
    p->shown = -1;
    p->active = total >= PROGRESS_MIN && isatty(STDERR_FILENO);
}

static void progress_add(progress *p, size_t bytes)
{
    p->done += bytes;
    if (!p->active) return;
    int pct = (int)(100.0 * (double)p->done / (double)p->total);
    if (pct == p->shown) return;
    p->shown = pct;
    fprintf(stderr, "\rloading %s: %3d%% of %.0f MB", p->path, pct, (double)p->total / 1e6);
    fflush(stderr);
}

static void progress_end(progress *p)
{
    if (p->active && p->shown >= 0) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
}

/* -1 with a message when p (n floats of tensor name) holds a NaN or inf. */
static int check_finite(const float *p, size_t n, const char *name, as_err *err)
{
    for (size_t j = 0; j < n; j++)
        if (!isfinite(p[j]))
            return as_errf(err, "tensor %s has %s at element %zu: the weights are corrupt", name,
                           isnan(p[j]) ? "a NaN" : "an infinite value", j);
    return 0;
}

/* Tensors HF checkpoints may carry that attnscope does not need: the tied
 * copies of shared.weight, and the cross-attention position bias of old
 * checkpoints (which transformers itself ignores on loading). */
static int is_ignorable(const t5_config *c, const char *name)
{
    if (!strcmp(name, "encoder.embed_tokens.weight") || !strcmp(name, "decoder.embed_tokens.weight"))
        return 1;
    if (c->tie_word_embeddings && !strcmp(name, "lm_head.weight")) return 1;
    if (!strcmp(name, "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"))
        return 1;
    return 0;
}

static void shape_text(char *buf, size_t n, const size_t *shape, size_t ndim)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (size_t d = 0; d < ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%s%zu", d ? ", " : "", shape[d]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static int is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The stored tensor for table entry t: its own name or, for shared.weight,
 * one of HF's tied copies. */
static const st_tensor *find_stored(const st_set *f, const t5_config *c, const char *name)
{
    const st_tensor *s = set_find(f, name);
    if (s || strcmp(name, "shared.weight")) return s;
    if ((s = set_find(f, "encoder.embed_tokens.weight"))) return s;
    if ((s = set_find(f, "decoder.embed_tokens.weight"))) return s;
    if (c->tie_word_embeddings) s = set_find(f, "lm_head.weight");
    return s;
}

static const t5_tensor *table_find(const t5_tensor *tab, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(tab[i].name, name)) return &tab[i];
    return NULL;
}

/* Check the open files f against the parameter table of cfg before
 * anything is allocated: every tensor present with its shape and a float
 * dtype, and nothing the table does not know (beyond HF's ignorable extras). */
static int check_tensors(const t5_config *cfg, const st_set *f, as_err *err)
{
    size_t n = 0, np = 0;
    t5_tensor *tab = t5_param_table(cfg, &n, &np);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const t5_tensor *t = &tab[i];
        const st_tensor *s = find_stored(f, cfg, t->name);
        if (!s) {
            rc = as_errf(err, "tensor %s is missing (config.json implies it)", t->name);
            break;
        }
        int same = s->ndim == t->ndim;
        for (size_t d = 0; same && d < t->ndim; d++) same = s->shape[d] == t->shape[d];
        if (!same) {
            char have[128], want[64];
            shape_text(have, sizeof have, s->shape, s->ndim);
            shape_text(want, sizeof want, t->shape, t->ndim);
            rc = as_errf(err, "tensor %s has shape %s but config.json implies %s", s->name, have,
                         want);
        } else if (s->dtype != ST_F32 && s->dtype != ST_F16 && s->dtype != ST_BF16) {
            rc = as_errf(err, "tensor %s is an integer tensor; weights must be F32, F16 or BF16",
                         s->name);
        }
    }
    /* Anything else in the files means they and config.json disagree. */
    for (size_t k = 0; k < f->n && rc == 0; k++)
        for (size_t i = 0; i < f->f[k].n_tensors && rc == 0; i++) {
            const char *name = f->f[k].tensors[i].name;
            if (!table_find(tab, n, name) && !is_ignorable(cfg, name))
                rc = as_errf(err,
                             "tensor %s is not part of the model config.json describes "
                             "(num_layers %zu, num_decoder_layers %zu, feed_forward_proj %s, "
                             "tie_word_embeddings %s)",
                             name, cfg->num_layers, cfg->num_decoder_layers,
                             cfg->ff == T5_FF_RELU ? "relu" : "gated-gelu",
                             cfg->tie_word_embeddings ? "true" : "false");
        }
    free(tab);
    return rc;
}

/* Fill m (allocated for its config, checked by check_tensors) from f. */
static int load_tensors(t5_model *m, const st_set *f, as_err *err)
{
    progress pr;
    progress_start(&pr, f->f[0].path, f->bytes);
    int rc = 0;
    for (size_t i = 0; i < m->n_tensors && rc == 0; i++) {
        const t5_tensor *t = &m->tensors[i];
        const st_tensor *s = find_stored(f, &m->cfg, t->name);
        float *p = m->params + t->offset;
        rc = st_to_f32(s, p, err) ? -1 : check_finite(p, t->numel, s->name, err);
        progress_add(&pr, s->nbytes);
    }
    progress_end(&pr);
    return rc;
}

/* 1 when every tensor of cfg's table is stored in f as F32 at an address a
 * float may be read from. */
static int all_mappable(const t5_config *cfg, const st_set *f)
{
    size_t n = 0;
    t5_tensor *tab = t5_param_table(cfg, &n, NULL);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        const st_tensor *s = find_stored(f, cfg, tab[i].name);
        ok = s && s->dtype == ST_F32 && (uintptr_t)s->data % sizeof(float) == 0;
    }
    free(tab);
    return ok;
}

/* Point m (t5_alloc_unbacked, checked by check_tensors and all_mappable)
 * into f's mappings and take the mappings over from f. */
static int map_tensors(t5_model *m, st_set *f, as_err *err)
{
    progress pr;
    progress_start(&pr, f->f[0].path, f->bytes);
    for (size_t k = 0; k < f->n; k++) madvise(f->f[k].map, f->f[k].map_len, MADV_WILLNEED);
    int rc = 0;
    for (size_t i = 0; i < m->n_tensors && rc == 0; i++) {
        t5_tensor *t = &m->tensors[i];
        const st_tensor *s = find_stored(f, &m->cfg, t->name);
        /* Never written through: the mapping is PROT_READ (see t5.h). */
        t->data = (float *)(uintptr_t)s->data;
        rc = check_finite(t->data, t->numel, s->name, err);
        progress_add(&pr, s->nbytes);
    }
    progress_end(&pr);
    if (rc) return -1;
    m->maps = xcalloc(f->n, sizeof *m->maps);
    for (size_t k = 0; k < f->n; k++) {
        m->maps[k].addr = f->f[k].map;
        m->maps[k].len = f->f[k].map_len;
        f->f[k].map = NULL;
    }
    m->n_maps = f->n;
    t5_bind_weights(m);
    return 0;
}

static int load_folder(t5_model *m, const char *dir, int mapped, as_err *err)
{
    memset(m, 0, sizeof *m);
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return as_errf(err, "model folder %s: %s", dir,
                        errno == ENOENT ? "does not exist" : strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return as_errf(err, "%s is not a folder (a model is a folder with config.json and "
                            "model.safetensors)", dir);
    if (access(dir, R_OK | X_OK) != 0)
        return as_errf(err, "model folder %s cannot be read: %s (expected a folder whose "
                            "config.json and model.safetensors can be opened)",
                       dir, strerror(errno));
    size_t n = strlen(dir) + 64;
    char *cfg_path = xmalloc(n), *st_path = xmalloc(n), *alt = xmalloc(n);
    snprintf(cfg_path, n, "%s/config.json", dir);
    snprintf(st_path, n, "%s/model.safetensors", dir);
    int rc = 0;
    t5_config cfg;
    st_set f = {0};
    const char *wpath = st_path; /* the weight file named in messages */
    int st_kind = 0;
    if (util_need_file(cfg_path, "a T5Config JSON file: a model folder holds config.json and "
                                 "model.safetensors", err)) {
        rc = -1;
    } else if (t5_config_read_json(&cfg, cfg_path, err)) {
        rc = -1;
    } else if ((st_kind = util_need_file(st_path, "a safetensors file", err)) < 0) {
        rc = -1;
    } else if (st_kind == 1) {
        snprintf(alt, n, "%s/model.safetensors.index.json", dir);
        if (is_file(alt)) {
            wpath = alt;
            rc = set_open_index(&f, dir, alt, err);
        } else {
            snprintf(alt, n, "%s/pytorch_model.bin", dir);
            rc = as_errf(err, "%s is missing%s", st_path,
                         is_file(alt) ? " (only pytorch_model.bin is there: save the model with "
                                        "safe_serialization=True)" : "");
        }
    } else {
        f.f = xcalloc(1, sizeof *f.f);
        if (st_open(&f.f[0], st_path, err)) rc = -1;
        else f.n = 1, f.bytes = f.f[0].map_len;
    }
    if (rc) {
        /* the message is complete */
    } else if (check_tensors(&cfg, &f, err)) {
        rc = as_errprefix(err, "%s", wpath);
    } else if (mapped && all_mappable(&cfg, &f)) {
        if (t5_alloc_unbacked(m, &cfg, err))
            rc = as_errprefix(err, "%s", cfg_path);
        else if (map_tensors(m, &f, err))
            rc = as_errprefix(err, "%s", wpath);
    } else if (t5_alloc(m, &cfg, err)) {
        rc = as_errprefix(err, "%s", cfg_path);
    } else if (load_tensors(m, &f, err)) {
        rc = as_errprefix(err, "%s", wpath);
    }
    set_close(&f);
    if (rc) t5_free(m);
    free(cfg_path);
    free(st_path);
    free(alt);
    return rc;
}

int t5_load(t5_model *m, const char *dir, as_err *err)
{
    return load_folder(m, dir, 0, err);
}

int t5_load_mapped(t5_model *m, const char *dir, as_err *err)
{
    return load_folder(m, dir, 1, err);
}

int t5_save(const t5_model *m, const char *dir, as_err *err)
{
    if (util_mkdir_p(dir, err)) return -1;
    size_t n = strlen(dir) + 64;
    char *path = xmalloc(n);
    st_out *out = xcalloc(m->n_tensors ? m->n_tensors : 1, sizeof *out);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const t5_tensor *t = &m->tensors[i];
        out[i].name = t->name;
        out[i].dtype = ST_F32;
        out[i].ndim = t->ndim;
        out[i].shape[0] = t->shape[0];
        out[i].shape[1] = t->shape[1];
        out[i].data = t->data;
    }
    /* config.json first: a crash between the two renames then never leaves
       weights without their configuration (a first save killed midway). */
    snprintf(path, n, "%s/config.json", dir);
    int rc = t5_config_write_json(&m->cfg, path, err);
    if (rc == 0) {
        snprintf(path, n, "%s/model.safetensors", dir);
        /* transformers refuses safetensors files whose metadata lacks a format. */
        rc = st_write(path, out, m->n_tensors, "{\"format\":\"pt\"}", err);
    }
    free(out);
    free(path);
    return rc;
}
