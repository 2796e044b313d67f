/* test_model_io.c - Hugging Face model folders: config.json reading and
 * writing, t5_save / t5_load round trips (bit-exact), F16 and BF16
 * checkpoints, HF's tied duplicates, and every broken model of issue 2 with
 * the message it must produce. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "safetensors.h"
#include "t5.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    return tu_tmpdir(tmpdir, sizeof tmpdir, "io");
}

static int teardown(void **state)
{
    (void)state;
    return tu_rm_rf(tmpdir);
}

/* tmpdir/a[/b]; a static buffer per call site is enough (rotating). */
static const char *tp(const char *a, const char *b)
{
    static char bufs[4][512];
    static int k;
    char *p = bufs[k++ % 4];
    if (b)
        snprintf(p, 512, "%s/%s/%s", tmpdir, a, b);
    else
        snprintf(p, 512, "%s/%s", tmpdir, a);
    return p;
}

static t5_config small_cfg(t5_ff_kind ff, int tied)
{
    t5_config c = tu_config((tu_shape){.vocab = 40, .d_model = 8, .d_kv = 3, .d_ff = 10, .heads = 2,
                                       .enc_layers = 2, .dec_layers = 3, .buckets = 8,
                                       .max_distance = 20, .ff = ff, .untied = !tied});
    c.layer_norm_eps = 1e-5f;
    c.eos_token_id = 2;
    return c;
}

/* A saved random model in tmpdir/name. */
static void make_model(const char *name, t5_ff_kind ff, int tied, t5_model *keep)
{
    t5_config c = small_cfg(ff, tied);
    t5_model m;
    as_err err = {0};
    tu_model(&m, &c, 7);
    if (t5_save(&m, tp(name, NULL), &err)) fail_msg("%s", err.msg);
    if (keep)
        *keep = m;
    else
        t5_free(&m);
}

static char *slurp(const char *path, size_t *n)
{
    as_err err = {0};
    char *s = util_read_file(path, n, &err);
    if (!s) fail_msg("%s", err.msg);
    return s;
}

/* Replace the first occurrence of from by to in a text file. */
static void edit_text(const char *path, const char *from, const char *to)
{
    size_t n;
    char *s = slurp(path, &n);
    char *at = strstr(s, from);
    if (!at) fail_msg("'%s' not found in %s", from, path);
    size_t a = (size_t)(at - s), lf = strlen(from), lt = strlen(to);
    char *o = xmalloc(n - lf + lt + 1);
    memcpy(o, s, a);
    memcpy(o + a, to, lt);
    memcpy(o + a + lt, at + lf, n - a - lf);
    tu_write_file(path, o, n - lf + lt);
    free(o);
    free(s);
}

/* Replace text in a safetensors header, keeping the data bytes. */
static void edit_header(const char *path, const char *from, const char *to)
{
    size_t n;
    char *s = slurp(path, &n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | (uint8_t)s[i];
    char *hdr = xmalloc(hlen + 1);
    memcpy(hdr, s + 8, hlen);
    hdr[hlen] = '\0';
    char *at = strstr(hdr, from);
    if (!at) fail_msg("'%s' not found in the header of %s", from, path);
    size_t a = (size_t)(at - hdr), lf = strlen(from), lt = strlen(to);
    size_t nh = hlen - lf + lt, total = 8 + nh + (n - 8 - hlen);
    uint8_t *o = xmalloc(total);
    for (int i = 0; i < 8; i++) o[i] = (uint8_t)((uint64_t)nh >> (8 * i));
    memcpy(o + 8, hdr, a);
    memcpy(o + 8 + a, to, lt);
    memcpy(o + 8 + a + lt, at + lf, hlen - a - lf);
    memcpy(o + 8 + nh, s + 8 + hlen, n - 8 - hlen);
    tu_write_file(path, o, total);
    free(o);
    free(hdr);
    free(s);
}

static void expect_load_fails(const char *dir, const char *needle1, const char *needle2)
{
    t5_model m;
    as_err err = {0};
    assert_int_equal(t5_load(&m, dir, &err), -1);
    if (!strstr(err.msg, needle1)) fail_msg("message '%s' lacks '%s'", err.msg, needle1);
    if (needle2 && !strstr(err.msg, needle2)) fail_msg("message '%s' lacks '%s'", err.msg, needle2);
    assert_null(m.params); /* left freed */
}

/* ---- config.json ---------------------------------------------------------- */

static void test_config_round_trip(void **state)
{
    (void)state;
    t5_config c = small_cfg(T5_FF_GATED_GELU, 0), r;
    as_err err = {0};
    mkdir(tp("cfg", NULL), 0777);
    const char *p = tp("cfg", "config.json");
    assert_int_equal(t5_config_write_json(&c, p, &err), 0);
    assert_int_equal(t5_config_read_json(&r, p, &err), 0);
    assert_memory_equal(&c, &r, sizeof c);
    size_t n;
    char *s = slurp(p, &n);
    const char *want[] = {"\"T5ForConditionalGeneration\"", "\"model_type\":\t\"t5\"",
                          "\"is_encoder_decoder\":\ttrue", "\"dense_act_fn\":\t\"gelu_new\"",
                          "\"is_gated_act\":\ttrue", "\"layer_norm_epsilon\":\t1e-05",
                          "\"feed_forward_proj\":\t\"gated-gelu\"", "\"tie_word_embeddings\":\tfalse"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(s, want[i])) fail_msg("config.json lacks %s:\n%s", want[i], s);
    free(s);
}

static void test_config_defaults(void **state)
{
    (void)state;
    const char *p = tp("defaults.json", NULL);
    const char *txt = "{\"d_model\": 16, \"num_layers\": 3, \"num_heads\": 2, \"d_kv\": 8,"
                      " \"d_ff\": 32, \"vocab_size\": 384, \"unknown_key\": [1, 2]}";
    tu_write_file(p, txt, strlen(txt));
    t5_config c;
    as_err err = {0};
    if (t5_config_read_json(&c, p, &err)) fail_msg("%s", err.msg);
    assert_int_equal(c.num_decoder_layers, 3);
    assert_int_equal(c.rel_buckets, 32);
    assert_int_equal(c.rel_max_distance, 128);
    assert_true(c.tie_word_embeddings);
    assert_int_equal(c.ff, T5_FF_RELU);
    assert_true(c.layer_norm_eps == 1e-6f);
    assert_int_equal(c.eos_token_id, 1);
    assert_int_equal(c.decoder_start_token_id, 0);
}

/* config.json files as the Hugging Face Hub serves them (ByT5-small,
 * t5-small): extra keys, nested objects, no num_decoder_layers. */
static void test_config_hub_files(void **state)
{
    (void)state;
    const char *byt5 =
        "{\n  \"_name_or_path\": \"/home/patrick/t5/byt5-small\",\n"
        "  \"architectures\": [\"T5ForConditionalGeneration\"],\n  \"d_ff\": 3584,\n"
        "  \"d_kv\": 64,\n  \"d_model\": 1472,\n  \"decoder_start_token_id\": 0,\n"
        "  \"dropout_rate\": 0.1,\n  \"eos_token_id\": 1,\n"
        "  \"feed_forward_proj\": \"gated-gelu\",\n  \"gradient_checkpointing\": false,\n"
        "  \"initializer_factor\": 1.0,\n  \"is_encoder_decoder\": true,\n"
        "  \"layer_norm_epsilon\": 1e-06,\n  \"model_type\": \"t5\",\n"
        "  \"num_decoder_layers\": 4,\n  \"num_heads\": 6,\n  \"num_layers\": 12,\n"
        "  \"pad_token_id\": 0,\n  \"relative_attention_num_buckets\": 32,\n"
        "  \"tie_word_embeddings\": false,\n  \"tokenizer_class\": \"ByT5Tokenizer\",\n"
        "  \"transformers_version\": \"4.7.0.dev0\",\n  \"use_cache\": true,\n"
        "  \"vocab_size\": 384\n}\n";
    const char *t5small =
        "{\"architectures\": [\"T5WithLMHeadModel\"], \"d_ff\": 2048, \"d_kv\": 64,"
        " \"d_model\": 512, \"decoder_start_token_id\": 0, \"dropout_rate\": 0.1,"
        " \"eos_token_id\": 1, \"initializer_factor\": 1.0, \"is_encoder_decoder\": true,"
        " \"layer_norm_epsilon\": 1e-06, \"model_type\": \"t5\", \"n_positions\": 512,"
        " \"num_heads\": 8, \"num_layers\": 6, \"output_past\": true, \"pad_token_id\": 0,"
        " \"relative_attention_num_buckets\": 32, \"task_specific_params\": {\"summarization\":"
        " {\"early_stopping\": true, \"max_length\": 200, \"prefix\": \"summarize: \"}},"
        " \"vocab_size\": 32128}";
    const char *p = tp("hub.json", NULL);
    t5_config c;
    as_err err = {0};
    tu_write_file(p, byt5, strlen(byt5));
    if (t5_config_read_json(&c, p, &err)) fail_msg("%s", err.msg);
    assert_int_equal(c.d_model, 1472);
    assert_int_equal(c.num_layers, 12);
    assert_int_equal(c.num_decoder_layers, 4);
    assert_int_equal(c.ff, T5_FF_GATED_GELU);
    assert_false(c.tie_word_embeddings);
    assert_int_equal(c.rel_max_distance, 128);
    tu_write_file(p, t5small, strlen(t5small));
    if (t5_config_read_json(&c, p, &err)) fail_msg("%s", err.msg);
    assert_int_equal(c.vocab_size, 32128);
    assert_int_equal(c.num_decoder_layers, 6);
    assert_int_equal(c.ff, T5_FF_RELU);
    assert_true(c.tie_word_embeddings);
}

static void expect_config_fails(const char *txt, const char *n1, const char *n2)
{
    const char *p = tp("bad.json", NULL);
    tu_write_file(p, txt, strlen(txt));
    t5_config c;
    as_err err = {0};
    assert_int_equal(t5_config_read_json(&c, p, &err), -1);
    if (!strstr(err.msg, n1)) fail_msg("message '%s' lacks '%s'", err.msg, n1);
    if (n2 && !strstr(err.msg, n2)) fail_msg("message '%s' lacks '%s'", err.msg, n2);
    if (!strstr(err.msg, "bad.json")) fail_msg("message '%s' does not name the file", err.msg);
}

static void test_config_invalid(void **state)
{
    (void)state;
    expect_config_fails("{\"num_heads\": 0}", "num_heads", "positive");
    expect_config_fails("{\"d_ff\": -5}", "d_ff", "positive (got -5)");
    expect_config_fails("{\"d_model\": \"512\"}", "d_model", "not a string");
    expect_config_fails("{\"d_kv\": 2.5}", "d_kv", "integer");
    expect_config_fails("{\"vocab_size\": true}", "vocab_size", "not a boolean");
    expect_config_fails("{\"feed_forward_proj\": \"gated-silu\"}", "gated-silu", "relu");
    expect_config_fails("{\"tie_word_embeddings\": 1}", "tie_word_embeddings", NULL);
    expect_config_fails("{\"layer_norm_epsilon\": -1}", "layer_norm_epsilon", NULL);
    expect_config_fails("{\"eos_token_id\": 40000}", "eos_token_id", "vocabulary");
    expect_config_fails("{\"model_type\": \"bart\"}", "bart", NULL);
    expect_config_fails("[1, 2]", "not a JSON object", NULL);
    expect_config_fails("{\"d_model\": 512,\n\"d_kv\": }", "invalid JSON", "line 2");
    expect_config_fails("", "empty", NULL);
}

/* ---- round trips ------------------------------------------------------------ */

static void check_same(const t5_model *a, const t5_model *b)
{
    assert_memory_equal(&a->cfg, &b->cfg, sizeof a->cfg);
    assert_int_equal(a->n_params, b->n_params);
    assert_int_equal(a->n_tensors, b->n_tensors);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
}

static void test_round_trip(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        const char *name = v ? "rt-gated" : "rt-relu";
        t5_model m, r;
        as_err err = {0};
        make_model(name, v ? T5_FF_GATED_GELU : T5_FF_RELU, !v, &m);
        if (t5_load(&r, tp(name, NULL), &err)) fail_msg("%s", err.msg);
        check_same(&m, &r);
        assert_int_equal(r.w.lm_head != NULL, v);
        /* the file holds exactly the table, F32, HF names */
        st_file f;
        assert_int_equal(st_open(&f, tp(name, "model.safetensors"), &err), 0);
        assert_int_equal(f.n_tensors, m.n_tensors);
        assert_int_equal(st_find(&f, "lm_head.weight") != NULL, v);
        assert_int_equal(st_find(&f, "shared.weight")->dtype, ST_F32);
        st_close(&f);
        /* saving over an existing model works and leaves no temporary */
        assert_int_equal(t5_save(&r, tp(name, NULL), &err), 0);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 2", tp(name, NULL));
        assert_int_equal(system(cmd), 0);
        t5_free(&m);
        t5_free(&r);
    }
}

/* Exact float -> half for values that are representable (normal range). */
static uint16_t f32_to_f16_exact(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffff) == 0) return (uint16_t)(u >> 16);
    uint32_t sign = (u >> 16) & 0x8000, exp = (u >> 23) & 0xff, man = u & 0x7fffff;
    assert_true(exp >= 113 && exp <= 142 && (man & 0x1fff) == 0);
    return (uint16_t)(sign | ((exp - 112) << 10) | (man >> 13));
}

/* Write the model's tensors as F16 or BF16 (after rounding the model's
 * values so the conversion is exact). */
static void write_half(t5_model *m, const char *dir, st_dtype dt)
{
    uint16_t *h = xmalloc(m->n_params * sizeof *h);
    for (size_t i = 0; i < m->n_params; i++) {
        float x = m->params[i];
        if (dt == ST_BF16) {
            uint32_t u;
            memcpy(&u, &x, 4);
            u &= 0xffff0000u;
            memcpy(&m->params[i], &u, 4);
            h[i] = (uint16_t)(u >> 16);
        } else {
            /* k/1024 with |k| < 2048: exact in half */
            float q = roundf(x * 256.0f) / 1024.0f;
            if (fabsf(q) > 1.99f) q = q > 0 ? 1.5f : -1.5f;
            if (fabsf(q) < 1.0f / 1024) q = 0.0f;
            m->params[i] = q;
            h[i] = f32_to_f16_exact(q);
        }
    }
    st_out *out = xcalloc(m->n_tensors, sizeof *out);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const t5_tensor *t = &m->tensors[i];
        out[i] = (st_out){.name = t->name, .dtype = dt, .ndim = t->ndim,
                          .shape = {t->shape[0], t->shape[1]}, .data = h + t->offset};
    }
    as_err err = {0};
    char p[512];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    if (st_write(p, out, m->n_tensors, NULL, &err)) fail_msg("%s", err.msg);
    free(out);
    free(h);
}

static void test_half_precision(void **state)
{
    (void)state;
    st_dtype kinds[2] = {ST_F16, ST_BF16};
    for (int k = 0; k < 2; k++) {
        const char *name = k ? "bf16" : "f16";
        t5_model m, r;
        as_err err = {0};
        make_model(name, T5_FF_GATED_GELU, 0, &m);
        write_half(&m, tp(name, NULL), kinds[k]);
        if (t5_load(&r, tp(name, NULL), &err)) fail_msg("%s", err.msg);
        check_same(&m, &r);
        t5_free(&m);
        t5_free(&r);
    }
}

static void test_hf_tied_duplicates(void **state)
{
    (void)state;
    t5_model m, r;
    as_err err = {0};
    make_model("dups", T5_FF_RELU, 1, &m);
    /* shared.weight plus the three tied copies an HF checkpoint may hold,
     * and the old cross-attention bias transformers ignores */
    size_t n = m.n_tensors;
    st_out *out = xcalloc(n + 4, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const t5_tensor *t = &m.tensors[i];
        out[i] = (st_out){.name = t->name, .dtype = ST_F32, .ndim = t->ndim,
                          .shape = {t->shape[0], t->shape[1]}, .data = m.params + t->offset};
    }
    const char *dup[3] = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight",
                          "lm_head.weight"};
    for (int i = 0; i < 3; i++) {
        out[n + i] = out[0];
        out[n + i].name = dup[i];
    }
    out[n + 3] = (st_out){.name = "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight",
                          .dtype = ST_F32, .ndim = 2, .shape = {8, 2}, .data = m.params};
    assert_int_equal(st_write(tp("dups", "model.safetensors"), out, n + 4, NULL, &err), 0);
    if (t5_load(&r, tp("dups", NULL), &err)) fail_msg("%s", err.msg);
    check_same(&m, &r);
    t5_free(&r);
    /* only encoder.embed_tokens.weight standing in for shared.weight */
    out[0].name = "encoder.embed_tokens.weight";
    assert_int_equal(st_write(tp("dups", "model.safetensors"), out, n, NULL, &err), 0);
    if (t5_load(&r, tp("dups", NULL), &err)) fail_msg("%s", err.msg);
    check_same(&m, &r);
    t5_free(&r);
    free(out);
    t5_free(&m);
}

/* ---- broken models ------------------------------------------------------------ */

static void test_save_errors(void **state)
{
    (void)state;
    t5_model m;
    as_err err = {0};
    make_model("saveerr", T5_FF_RELU, 1, &m);
    tu_write_file(tp("afile", NULL), "x", 1);
    assert_int_equal(t5_save(&m, tp("afile", NULL), &err), -1);
    assert_non_null(strstr(err.msg, "not a folder"));
    assert_int_equal(t5_save(&m, tp("afile", "sub"), &err), -1);
    assert_non_null(strstr(err.msg, "afile"));
    /* a nested folder that does not exist yet is created */
    assert_int_equal(t5_save(&m, tp("deep/er", NULL), &err), 0);
    t5_model r;
    assert_int_equal(t5_load(&r, tp("deep/er", NULL), &err), 0);
    check_same(&m, &r);
    t5_free(&r);
    t5_free(&m);
}

static void test_missing_files(void **state)
{
    (void)state;
    expect_load_fails(tp("no-such-model", NULL), "no-such-model", "does not exist");
    make_model("nocfg", T5_FF_RELU, 1, NULL);
    unlink(tp("nocfg", "config.json"));
    expect_load_fails(tp("nocfg", NULL), "config.json is missing", NULL);
    make_model("nost", T5_FF_RELU, 1, NULL);
    unlink(tp("nost", "model.safetensors"));
    expect_load_fails(tp("nost", NULL), "model.safetensors is missing", NULL);
    tu_write_file(tp("notdir", NULL), "x", 1);
    expect_load_fails(tp("notdir", NULL), "not a folder", NULL);
}

static void test_empty_and_truncated(void **state)
{
    (void)state;
    make_model("empty", T5_FF_RELU, 1, NULL);
    tu_write_file(tp("empty", "model.safetensors"), "", 0);
    expect_load_fails(tp("empty", NULL), "empty", "model.safetensors");
    tu_write_file(tp("empty", "config.json"), "", 0);
    expect_load_fails(tp("empty", NULL), "config.json is empty", NULL);

    make_model("trunc", T5_FF_RELU, 1, NULL);
    size_t n;
    char *s = slurp(tp("trunc", "model.safetensors"), &n);
    tu_write_file(tp("trunc", "model.safetensors"), s, n - 100);
    expect_load_fails(tp("trunc", NULL), "out of range", "truncated");
    tu_write_file(tp("trunc", "model.safetensors"), s, 200); /* inside the header */
    expect_load_fails(tp("trunc", NULL), "past the end", NULL);
    tu_write_file(tp("trunc", "model.safetensors"), s, 5);
    expect_load_fails(tp("trunc", NULL), "truncated", NULL);
    free(s);
}

static void test_corrupt_header(void **state)
{
    (void)state;
    make_model("corrupt", T5_FF_RELU, 1, NULL);
    const char *p = tp("corrupt", "model.safetensors");
    edit_header(p, "\"shared.weight\":{", "\"shared.weight\":{{");
    expect_load_fails(tp("corrupt", NULL), "corrupted header", "model.safetensors");

    make_model("hlen", T5_FF_RELU, 1, NULL);
    size_t n;
    char *s = slurp(tp("hlen", "model.safetensors"), &n);
    s[5] = 0x01; /* header length ~ 2^40 */
    tu_write_file(tp("hlen", "model.safetensors"), s, n);
    free(s);
    expect_load_fails(tp("hlen", NULL), "past the end", NULL);
}

static void test_bad_offsets_and_dtype(void **state)
{
    (void)state;
    /* shared.weight is (40, 8) F32: bytes [0, 1280] */
    make_model("range", T5_FF_RELU, 1, NULL);
    edit_header(tp("range", "model.safetensors"), "\"data_offsets\":[0,1280]",
                "\"data_offsets\":[0,99991280]");
    expect_load_fails(tp("range", NULL), "shared.weight", "out of range");

    make_model("rev", T5_FF_RELU, 1, NULL);
    edit_header(tp("rev", "model.safetensors"), "\"data_offsets\":[0,1280]",
                "\"data_offsets\":[1280,0]");
    expect_load_fails(tp("rev", NULL), "shared.weight", "reversed");

    make_model("dtype", T5_FF_RELU, 1, NULL);
    edit_header(tp("dtype", "model.safetensors"), "\"dtype\":\"F32\"", "\"dtype\":\"Q8\"");
    expect_load_fails(tp("dtype", NULL), "unsupported dtype \"Q8\"", "shared.weight");

    make_model("itype", T5_FF_RELU, 1, NULL);
    edit_header(tp("itype", "model.safetensors"), "\"dtype\":\"F32\"", "\"dtype\":\"I32\"");
    expect_load_fails(tp("itype", NULL), "shared.weight", "integer");
}

static void test_shape_and_missing_tensor(void **state)
{
    (void)state;
    make_model("shape", T5_FF_RELU, 1, NULL);
    edit_text(tp("shape", "config.json"), "\"d_ff\":\t10", "\"d_ff\":\t12");
    expect_load_fails(tp("shape", NULL),
                      "tensor encoder.block.0.layer.1.DenseReluDense.wi.weight has shape [10, 8]",
                      "config.json implies [12, 8]");

    make_model("missing", T5_FF_RELU, 1, NULL);
    edit_header(tp("missing", "model.safetensors"), "\"encoder.final_layer_norm.weight\"",
                "\"encoder.final_layer_norm.weigh_\"");
    expect_load_fails(tp("missing", NULL), "tensor encoder.final_layer_norm.weight is missing",
                      NULL);

    /* config says relu, the file is gated-gelu */
    make_model("kind", T5_FF_GATED_GELU, 1, NULL);
    edit_text(tp("kind", "config.json"), "\"feed_forward_proj\":\t\"gated-gelu\"",
              "\"feed_forward_proj\":\t\"relu\"");
    expect_load_fails(tp("kind", NULL), "DenseReluDense.wi.weight is missing", NULL);

    /* config says 1 decoder layer, the file has 3 */
    make_model("extra", T5_FF_RELU, 1, NULL);
    edit_text(tp("extra", "config.json"), "\"num_decoder_layers\":\t3",
              "\"num_decoder_layers\":\t1");
    expect_load_fails(tp("extra", NULL), "decoder.block.1.", "not part of the model");

    /* untied config, file without lm_head.weight */
    make_model("nohead", T5_FF_RELU, 1, NULL);
    edit_text(tp("nohead", "config.json"), "\"tie_word_embeddings\":\ttrue",
              "\"tie_word_embeddings\":\tfalse");
    expect_load_fails(tp("nohead", NULL), "tensor lm_head.weight is missing", NULL);
}

static void test_invalid_config_in_folder(void **state)
{
    (void)state;
    struct { const char *from, *to, *n1, *n2; } cases[] = {
        {"\"num_heads\":\t2", "\"num_heads\":\t0", "num_heads", "positive"},
        {"\"d_model\":\t8", "\"d_model\":\t-8", "d_model", "positive"},
        {"\"d_kv\":\t3", "\"d_kv\":\t\"3\"", "d_kv", "not a string"},
        {"\"num_layers\":\t2", "\"num_layers\":\tnull, \"x\": [", "config.json", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_model("badcfg", T5_FF_RELU, 1, NULL);
        edit_text(tp("badcfg", "config.json"), cases[i].from, cases[i].to);
        expect_load_fails(tp("badcfg", NULL), cases[i].n1, cases[i].n2);
        expect_load_fails(tp("badcfg", NULL), "config.json", NULL);
    }
}

static void test_nonfinite_weights(void **state)
{
    (void)state;
    float bad[2] = {NAN, INFINITY};
    const char *what[2] = {"a NaN", "an infinite value"};
    for (int k = 0; k < 2; k++) {
        t5_model m;
        make_model("nonfinite", T5_FF_GATED_GELU, 0, &m);
        const t5_tensor *t = t5_find_tensor(&m, "decoder.block.1.layer.1.EncDecAttention.k.weight");
        m.params[t->offset + 5] = bad[k];
        as_err err = {0};
        assert_int_equal(t5_save(&m, tp("nonfinite", NULL), &err), 0);
        t5_free(&m);
        expect_load_fails(tp("nonfinite", NULL),
                          "tensor decoder.block.1.layer.1.EncDecAttention.k.weight", what[k]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_round_trip),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_invalid),
        cmocka_unit_test(test_config_hub_files),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_half_precision),
        cmocka_unit_test(test_hf_tied_duplicates),
        cmocka_unit_test(test_save_errors),
        cmocka_unit_test(test_missing_files),
        cmocka_unit_test(test_empty_and_truncated),
        cmocka_unit_test(test_corrupt_header),
        cmocka_unit_test(test_bad_offsets_and_dtype),
        cmocka_unit_test(test_shape_and_missing_tensor),
        cmocka_unit_test(test_invalid_config_in_folder),
        cmocka_unit_test(test_nonfinite_weights),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
