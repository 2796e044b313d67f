/* config_json.c - config.json (Hugging Face T5Config) to and from
 * t5_config. Reading takes T5Config's keys with T5Config's defaults for
 * absent ones and refuses wrong types, non-positive sizes and feed-forward
 * kinds attnscope does not compute; writing produces a complete T5Config
 * that transformers' T5ForConditionalGeneration.from_pretrained accepts.
 *
 * Deliberately not here: the weights (model_io.c) and the semantic checks
 * shared with every other way of making a config (t5_config_check). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "t5.h"

static const char *json_type(const cJSON *j)
{
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsObject(j)) return "an object";
    return "a number";
}

/* A size key: absent or null -> def; else a whole number >= 1. */
static int get_size(const cJSON *root, const char *key, size_t def, size_t *out, as_err *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(j))
        return as_errf(err, "\"%s\" must be a positive integer, not %s", key, json_type(j));
    double v = j->valuedouble;
    if (v != floor(v)) return as_errf(err, "\"%s\" must be a positive integer (got %g)", key, v);
    if (v <= 0) return as_errf(err, "\"%s\" must be positive (got %g)", key, v);
    if (v > 1e12) return as_errf(err, "\"%s\" = %g is too large", key, v);
    *out = (size_t)v;
    return 0;
}

/* A token id key: absent or null -> def; else a whole number >= 0. */
static int get_token(const cJSON *root, const char *key, int def, int *out, as_err *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) {
        *out = def;
        return 0;
    }
    if (cJSON_IsArray(j) && cJSON_GetArraySize(j) >= 1) j = cJSON_GetArrayItem(j, 0);
    if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) || j->valuedouble < 0 ||
        j->valuedouble > 1e9)
        return as_errf(err, "\"%s\" must be a token id (an integer >= 0)%s", key,
                       cJSON_IsNumber(j) ? "" : cJSON_IsString(j) ? ", not a string" : "");
    *out = (int)j->valuedouble;
    return 0;
}

static int parse_config(t5_config *c, const cJSON *root, as_err *err)
{
    if (!cJSON_IsObject(root)) return as_errf(err, "the file is not a JSON object");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (mt && !cJSON_IsNull(mt)) {
        if (!cJSON_IsString(mt)) return as_errf(err, "\"model_type\" must be a string");
        if (strcmp(mt->valuestring, "t5") && strcmp(mt->valuestring, "mt5"))
            return as_errf(err, "\"model_type\" is \"%.64s\": attnscope runs T5 models (\"t5\")",
                           mt->valuestring);
    }
    /* Absent keys take T5Config's defaults, as transformers does. */
    memset(c, 0, sizeof *c);
    if (get_size(root, "vocab_size", 32128, &c->vocab_size, err) ||
        get_size(root, "d_model", 512, &c->d_model, err) ||
        get_size(root, "d_kv", 64, &c->d_kv, err) ||
        get_size(root, "d_ff", 2048, &c->d_ff, err) ||
        get_size(root, "num_layers", 6, &c->num_layers, err) ||
        get_size(root, "num_decoder_layers", c->num_layers, &c->num_decoder_layers, err) ||
        get_size(root, "num_heads", 8, &c->num_heads, err) ||
        get_size(root, "relative_attention_num_buckets", 32, &c->rel_buckets, err) ||
        get_size(root, "relative_attention_max_distance", 128, &c->rel_max_distance, err))
        return -1;

    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(root, "layer_norm_epsilon");
    c->layer_norm_eps = 1e-6f;
    if (eps && !cJSON_IsNull(eps)) {
        if (!cJSON_IsNumber(eps) || !(eps->valuedouble > 0) || eps->valuedouble > 1)
            return as_errf(err, "\"layer_norm_epsilon\" must be a small positive number");
        c->layer_norm_eps = (float)eps->valuedouble;
    }

    /* dropout_rate: kept for the round trip only (inference never drops);
     * anything but a rate in [0, 1) is left at HF's default. */
    const cJSON *dr = cJSON_GetObjectItemCaseSensitive(root, "dropout_rate");
    c->dropout_rate = 0.1f;
    if (cJSON_IsNumber(dr) && dr->valuedouble >= 0 && dr->valuedouble < 1)
        c->dropout_rate = (double)(float)dr->valuedouble;

    const cJSON *ff = cJSON_GetObjectItemCaseSensitive(root, "feed_forward_proj");
    c->ff = T5_FF_RELU;
    if (ff && !cJSON_IsNull(ff)) {
        if (!cJSON_IsString(ff)) return as_errf(err, "\"feed_forward_proj\" must be a string");
        if (strcmp(ff->valuestring, "relu") == 0)
            c->ff = T5_FF_RELU;
        else if (strcmp(ff->valuestring, "gated-gelu") == 0)
            c->ff = T5_FF_GATED_GELU;
        else
            return as_errf(err,
                           "\"feed_forward_proj\" is \"%.64s\": attnscope computes \"relu\" "
                           "(T5 v1.0) and \"gated-gelu\" (T5 v1.1, ByT5) only",
                           ff->valuestring);
    }

    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(root, "tie_word_embeddings");
    c->tie_word_embeddings = 1;
    if (tie && !cJSON_IsNull(tie)) {
        if (!cJSON_IsBool(tie)) return as_errf(err, "\"tie_word_embeddings\" must be true or false");
        c->tie_word_embeddings = cJSON_IsTrue(tie);
    }

    if (get_token(root, "pad_token_id", 0, &c->pad_token_id, err) ||
        get_token(root, "eos_token_id", 1, &c->eos_token_id, err) ||
        get_token(root, "decoder_start_token_id", c->pad_token_id, &c->decoder_start_token_id,
                  err))
        return -1;
    return t5_config_check(c, err);
}

int t5_config_read_json(t5_config *c, const char *path, as_err *err)
{
    size_t len = 0;
    char *text = util_read_file(path, &len, err);
    if (!text) return -1;
    if (len == 0) {
        free(text);
        return as_errf(err, "%s is empty (expected a T5Config JSON object)", path);
    }
    size_t at = 0;
    if (util_json_nul(text, len, &at)) {
        free(text);
        return as_errf(err, "%s:%zu: a NUL byte (raw or \\u0000) in a key or value; a "
                            "T5Config holds none, and a key cut short at it would be ignored",
                       path, at);
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t line = 1;
        for (const char *p = text; end && p < end && *p; p++) line += *p == '\n';
        size_t depth = util_json_depth(text, len, &at);
        free(text);
        if (depth > CJSON_NESTING_LIMIT)
            return as_errf(err, "%s:%zu: JSON nested %zu levels deep; the JSON reader takes at "
                                "most %d (a T5Config needs 1)",
                           path, at, depth, CJSON_NESTING_LIMIT);
        return as_errf(err, "%s: invalid JSON near line %zu", path, line);
    }
    free(text);
    int rc = parse_config(c, root, err);
    cJSON_Delete(root);
    if (rc) return as_errprefix(err, "%s", path);
    return 0;
}

/* The shortest decimal text that reads back as exactly the float x. */
static void float_text(float x, char *buf, size_t n)
{
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, n, "%.*g", prec, (double)x);
        if (strtof(buf, NULL) == x) return;
    }
}

int t5_config_write_json(const t5_config *c, const char *path, as_err *err)
{
    if (t5_config_check(c, err)) return as_errprefix(err, "not writing %s", path);
    int gated = c->ff == T5_FF_GATED_GELU;
    char eps[32], drop[32];
    float_text(c->layer_norm_eps, eps, sizeof eps);
    float_text((float)c->dropout_rate, drop, sizeof drop);

    cJSON *r = cJSON_CreateObject();
    cJSON *arch = cJSON_AddArrayToObject(r, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("T5ForConditionalGeneration"));
    cJSON_AddNumberToObject(r, "classifier_dropout", 0.0);
    cJSON_AddNumberToObject(r, "d_ff", (double)c->d_ff);
    cJSON_AddNumberToObject(r, "d_kv", (double)c->d_kv);
    cJSON_AddNumberToObject(r, "d_model", (double)c->d_model);
    cJSON_AddNumberToObject(r, "decoder_start_token_id", c->decoder_start_token_id);
    cJSON_AddStringToObject(r, "dense_act_fn", gated ? "gelu_new" : "relu");
    cJSON_AddRawToObject(r, "dropout_rate", drop);
    cJSON_AddNumberToObject(r, "eos_token_id", c->eos_token_id);
    cJSON_AddStringToObject(r, "feed_forward_proj", gated ? "gated-gelu" : "relu");
    cJSON_AddNumberToObject(r, "initializer_factor", 1.0);
    cJSON_AddBoolToObject(r, "is_encoder_decoder", 1);
    cJSON_AddBoolToObject(r, "is_gated_act", gated);
    cJSON_AddRawToObject(r, "layer_norm_epsilon", eps);
    cJSON_AddStringToObject(r, "model_type", "t5");
    cJSON_AddNumberToObject(r, "num_decoder_layers", (double)c->num_decoder_layers);
    cJSON_AddNumberToObject(r, "num_heads", (double)c->num_heads);
    cJSON_AddNumberToObject(r, "num_layers", (double)c->num_layers);
    cJSON_AddNumberToObject(r, "pad_token_id", c->pad_token_id);
    cJSON_AddNumberToObject(r, "relative_attention_max_distance", (double)c->rel_max_distance);
    cJSON_AddNumberToObject(r, "relative_attention_num_buckets", (double)c->rel_buckets);
    cJSON_AddBoolToObject(r, "tie_word_embeddings", c->tie_word_embeddings);
    /* attnscope's only tokenizer is ByT5's; say so when the vocabulary is its. */
    if (c->vocab_size == 384) cJSON_AddStringToObject(r, "tokenizer_class", "ByT5Tokenizer");
    cJSON_AddStringToObject(r, "torch_dtype", "float32");
    cJSON_AddBoolToObject(r, "use_cache", 1);
    cJSON_AddNumberToObject(r, "vocab_size", (double)c->vocab_size);

    char *text = cJSON_Print(r);
    cJSON_Delete(r);
    if (!text) return as_errf(err, "writing %s: out of memory", path);
    size_t n = strlen(text);
    char *buf = xmalloc(n + 2);
    memcpy(buf, text, n);
    buf[n] = '\n';
    cJSON_free(text);
    int rc = util_write_atomic(path, buf, n + 1, err);
    free(buf);
    return rc;
}
