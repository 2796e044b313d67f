/* init_from.c - a fresh run's weights from a trained model folder
 * (model.init_from in train.cfg): fine-tuning, or growing a model.
 *
 * The folder's model must have the run's shape, except that either stack
 * may gain layers. Every tensor of the folder is copied by its Hugging Face
 * name. A layer the folder lacks starts as the identity: its attention and
 * feed-forward output projections (o, and in the decoder EncDecAttention.o,
 * and wo) are zero, so the pre-norm residual stream passes it unchanged and
 * the grown model computes exactly what the folder's model computes. Its
 * other weights keep their random initialisation, so the zeroed outputs get
 * gradients from the first step and the layer starts to learn at once.
 *
 * Deliberately not here: reading the setting (settings.c); the optimiser,
 * whose moments start at zero as in any fresh run (loop.c). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "train.h"

/* A number at a path of keys in the JSON file dir/name; 0 when the file, a
 * key or the number is missing. */
static double json_number(const char *dir, const char *name, const char *k1, const char *k2)
{
    char *path = ckpt_path_in(dir, name);
    char *text = util_read_file(path, NULL, NULL);
    free(path);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *v = cJSON_GetObjectItem(doc, k1);
    if (k2) v = cJSON_GetObjectItem(v, k2);
    double x = cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : 0.0;
    cJSON_Delete(doc);
    return x;
}

size_t train_init_steps_before(const char *run_dir)
{
    return (size_t)json_number(run_dir, "trainer_state.json", "init_from", "steps_before");
}

size_t train_init_lineage_steps(const char *dir)
{
    double run = json_number(dir, "trainer_state.json", "step", NULL);
    if (run > 0) return (size_t)run + train_init_steps_before(dir);
    return (size_t)(json_number(dir, "metrics.json", "training", "steps") +
                    json_number(dir, "metrics.json", "training", "steps_before"));
}

int train_init_compatible(const t5_config *from, const t5_config *to, char *why, size_t n)
{
    struct {
        const char *name;
        size_t a, b;
    } same[] = {
        {"vocab_size", from->vocab_size, to->vocab_size},
        {"d_model", from->d_model, to->d_model},
        {"d_ff", from->d_ff, to->d_ff},
        {"num_heads", from->num_heads, to->num_heads},
        {"d_kv", from->d_kv, to->d_kv},
        {"relative_attention_num_buckets", from->rel_buckets, to->rel_buckets},
        {"relative_attention_max_distance", from->rel_max_distance, to->rel_max_distance},
        {"feed_forward_proj (0 relu, 1 gated-gelu)", (size_t)from->ff, (size_t)to->ff},
        {"tie_word_embeddings", (size_t)from->tie_word_embeddings,
         (size_t)to->tie_word_embeddings},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (same[i].a != same[i].b) {
            snprintf(why, n, "%s is %zu there and %zu here", same[i].name, same[i].a, same[i].b);
            return -1;
        }
    if (from->num_layers > to->num_layers || from->num_decoder_layers > to->num_decoder_layers) {
        snprintf(why, n,
                 "it has %zu+%zu layers and this run %zu+%zu (layers may be added, not removed)",
                 from->num_layers, from->num_decoder_layers, to->num_layers,
                 to->num_decoder_layers);
        return -1;
    }
    return 0;
}

int train_init_check(const train_settings *s, as_err *err)
{
    char *cj = ckpt_path_in(s->init_from, "config.json");
    t5_config fc;
    char why[512];
    int rc = 0;
    if (t5_config_read_json(&fc, cj, err))
        rc = as_errprefix(err, "%s: model.init_from", s->init_from_at);
    else if (train_init_compatible(&fc, &s->model, why, sizeof why))
        rc = as_errf(err, "%s: model.init_from: that model does not fit the model section: %s",
                     s->init_from_at, why);
    free(cj);
    return rc;
}

/* Zero the output projections of blocks [first, n) of one stack. */
static void identity_blocks(t5_block *b, size_t first, size_t n, size_t out_floats,
                            size_t ff_floats, int decoder)
{
    for (size_t i = first; i < n; i++) {
        memset(b[i].o, 0, out_floats * sizeof(float));
        if (decoder) memset(b[i].co, 0, out_floats * sizeof(float));
        memset(b[i].wo, 0, ff_floats * sizeof(float));
    }
}

int train_init_from(t5_model *m, const char *dir, FILE *note, as_err *err)
{
    t5_model src = {0};
    if (t5_load(&src, dir, err)) return as_errprefix(err, "model.init_from");
    char why[256];
    if (train_init_compatible(&src.cfg, &m->cfg, why, sizeof why)) {
        t5_free(&src);
        return as_errf(err, "model.init_from: %s does not fit this run's model: %s", dir, why);
    }
    for (size_t i = 0; i < src.n_tensors; i++) {
        const t5_tensor *from = &src.tensors[i];
        const t5_tensor *to = t5_find_tensor(m, from->name);
        /* Same shape by construction: the configurations agree on every size. */
        memcpy(m->params + to->offset, src.params + from->offset, from->numel * sizeof(float));
    }
    const t5_config *c = &m->cfg;
    size_t out_floats = c->d_model * c->num_heads * c->d_kv, ff_floats = c->d_model * c->d_ff;
    identity_blocks(m->w.enc, src.cfg.num_layers, c->num_layers, out_floats, ff_floats, 0);
    identity_blocks(m->w.dec, src.cfg.num_decoder_layers, c->num_decoder_layers, out_floats,
                    ff_floats, 1);
    if (note) {
        fprintf(note, "weights from %s (%zu+%zu layers)", dir, src.cfg.num_layers,
                src.cfg.num_decoder_layers);
        size_t ne = c->num_layers - src.cfg.num_layers;
        size_t nd = c->num_decoder_layers - src.cfg.num_decoder_layers;
        if (ne || nd)
            fprintf(note, "; %zu+%zu new layers start as the identity", ne, nd);
        fprintf(note, "\n");
    }
    t5_free(&src);
    return 0;
}
