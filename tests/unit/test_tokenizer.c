/* test_tokenizer.c - the tokenizer abstraction (tokenizer.h) against
 * python3-sentencepiece (tests/fixtures/spm-gated/tokenize.json, written by
 * tests/reference/make_fixtures.py from a model trained by spm_train): ids,
 * pieces and decoded text on a varied text set; ByT5 through the same
 * interface; errors for a broken spiece.model and for a folder with only a
 * fast T5 tokenizer.json. Then the random T5 of that
 * vocabulary (spm-gated) against the PyTorch reference: its source text
 * tokenised here gives the reference's ids, and the logits and every
 * attention map agree, teacher forced and greedy. */
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byt5.h"
#include "safetensors.h"
#include "t5.h"
#include "tokenizer.h"
#include "trace.h"

#define SPM_DIR FIXTURES "/spm-gated"
#define TOL_LOGIT 1e-4
#define TOL_PROB 1e-5

static cJSON *read_cases(void)
{
    as_err err;
    char *text = util_read_file(SPM_DIR "/tokenize.json", NULL, &err);
    if (!text) fail_msg("%s", err.msg);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    assert_non_null(doc);
    return doc;
}

static void test_spm_equals_python(void **state)
{
    (void)state;
    as_err err;
    tok_vocab *t = tok_open(SPM_DIR, &err);
    if (!t) fail_msg("%s", err.msg);
    assert_int_equal(tok_kind_of(t), TOK_SPM);
    assert_string_equal(tok_name(t), "sentencepiece");
    assert_int_equal(tok_size(t), 500);
    assert_int_equal(tok_eos(t), 1);
    assert_int_equal(tok_pad(t), 0);
    cJSON *doc = read_cases();
    const cJSON *c;
    size_t n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        const cJSON *ids = cJSON_GetObjectItem(c, "ids");
        const cJSON *pieces = cJSON_GetObjectItem(c, "pieces");
        size_t n = (size_t)cJSON_GetArraySize(ids);
        int got[256];
        size_t k = tok_encode(t, text, got, 256);
        if (k != n) fail_msg("\"%s\": %zu ids, python3-sentencepiece %zu", text, k, n);
        for (size_t i = 0; i < n; i++) {
            int want = cJSON_GetArrayItem(ids, (int)i)->valueint;
            if (got[i] != want) fail_msg("\"%s\" id %zu: %d, expected %d", text, i, got[i], want);
            char lab[64];
            const char *piece = cJSON_GetArrayItem(pieces, (int)i)->valuestring;
            assert_string_equal(tok_label(t, got[i], lab, sizeof lab), piece);
        }
        char out[512];
        tok_decode(t, got, n, out, sizeof out);
        assert_string_equal(out, cJSON_GetObjectItem(c, "decoded")->valuestring);
        /* A short buffer: the full count comes back, the prefix is written. */
        if (n > 2) {
            int few[2] = {-7, -7};
            assert_int_equal(tok_encode(t, text, few, 1), n);
            assert_int_equal(few[0], got[0]);
            assert_int_equal(few[1], -7);
        }
        n_cases++;
    }
    assert_true(n_cases >= 10);
    cJSON_Delete(doc);
    tok_free(t);
}

static void test_spm_labels_and_decode(void **state)
{
    (void)state;
    as_err err;
    tok_vocab *t = tok_open(SPM_DIR, &err);
    assert_non_null(t);
    char lab[32];
    assert_string_equal(tok_label(t, 0, lab, sizeof lab), "<pad>");
    assert_string_equal(tok_label(t, 1, lab, sizeof lab), "</s>");
    assert_string_equal(tok_label(t, 2, lab, sizeof lab), "<unk>");
    assert_string_equal(tok_label(t, 499, lab, sizeof lab), "<extra_id_0>");
    assert_string_equal(tok_label(t, 400, lab, sizeof lab), "<extra_id_99>");
    assert_string_equal(tok_label(t, 510, lab, sizeof lab), "<id 510>");
    assert_string_equal(tok_label(t, -3, lab, sizeof lab), "<id -3>");
    /* A person reads eos as "$" (the map's header); pad and sentinels keep
       their names; NULL is ByT5. */
    assert_string_equal(tok_display_label(t, 1, lab, sizeof lab), "$");
    assert_string_equal(tok_display_label(t, 0, lab, sizeof lab), "<pad>");
    assert_string_equal(tok_display_label(t, 499, lab, sizeof lab), "<extra_id_0>");
    assert_string_equal(tok_display_label(NULL, 1, lab, sizeof lab), "$");
    assert_string_equal(tok_display_label(NULL, 0, lab, sizeof lab), "<pad>");
    assert_string_equal(tok_display_label(NULL, 'x' + 3, lab, sizeof lab), "x");
    /* A label cut short never splits a UTF-8 character ("▁" is 3 bytes). */
    int ids[8];
    tok_encode(t, "a", ids, 8);
    assert_string_equal(tok_label(t, ids[0], lab, 3), "");
    assert_string_equal(tok_label(t, ids[0], lab, 4), "\xe2\x96\x81");
    /* Decoding stops at eos and skips ids the vocabulary does not have. */
    int mix[] = {ids[0], 499, 0, 777, -1, 1, ids[0]};
    char out[16];
    assert_int_equal(tok_decode(t, mix, 7, out, sizeof out), 1);
    assert_string_equal(out, "a");
    tok_free(t);
}

static void test_byt5_through_the_interface(void **state)
{
    (void)state;
    as_err err;
    /* A folder without spiece.model is ByT5; so is NULL. */
    tok_vocab *t = tok_open(FIXTURES "/tied-relu", &err);
    assert_non_null(t);
    assert_int_equal(tok_kind_of(t), TOK_BYT5);
    assert_int_equal(tok_size(t), BYT5_VOCAB);
    const char *text = "caf\xc3\xa9 1+2";
    int a[32], b[32];
    size_t n = tok_encode(t, text, a, 32);
    assert_int_equal(n, byt5_encode_eos(text, b, 32));
    assert_memory_equal(a, b, n * sizeof *a);
    assert_int_equal(a[n - 1], BYT5_EOS);
    assert_int_equal(tok_encode(t, text, a, 3), n);
    char l1[16], l2[16];
    for (int id = 0; id < BYT5_VOCAB; id++)
        assert_string_equal(tok_label(t, id, l1, sizeof l1), byt5_token_label(id, l2, sizeof l2));
    char out[32];
    tok_decode(t, b, n, out, sizeof out);
    assert_string_equal(out, text);
    tok_free(t);
    t = tok_open(NULL, &err);
    assert_int_equal(tok_kind_of(t), TOK_BYT5);
    tok_free(t);
}

static void test_bad_spiece_model(void **state)
{
    (void)state;
    char dir[] = "/tmp/attnscope_tok_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/spiece.model", dir);
    tu_write_text(path, "this is not a protobuf");
    as_err err = {{0}};
    assert_null(tok_open(dir, &err));
    assert_non_null(strstr(err.msg, "spiece.model"));
    assert_non_null(strstr(err.msg, "not a SentencePiece model"));
    unlink(path);
    rmdir(dir);
    assert_null(tok_spm_open("/nonexistent/spiece.model", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/spiece.model"));
}

/* A folder with a fast T5 tokenizer.json but no spiece.model is refused
 * (its ids are not ByT5 bytes); another tokenizer.json leaves ByT5. */
static void test_fast_tokenizer_only(void **state)
{
    (void)state;
    char dir[] = "/tmp/attnscope_tok_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    tu_write_text(path, "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
    as_err err = {{0}};
    assert_null(tok_open(dir, &err));
    assert_non_null(strstr(err.msg, "spiece.model is missing"));
    assert_non_null(strstr(err.msg, "tokenizer.json"));
    tu_write_text(path, "{\"model\": {\"type\": \"BPE\"}}");
    tok_vocab *t = tok_open(dir, &err);
    assert_non_null(t);
    assert_int_equal(tok_kind_of(t), TOK_BYT5);
    tok_free(t);
    unlink(path);
    rmdir(dir);
}

/* ---- the random T5 of that vocabulary against the reference ----------------- */

static void test_spm_model_equals_reference(void **state)
{
    (void)state;
    as_err err;
    t5_model m;
    st_file e = {0};
    if (t5_load(&m, SPM_DIR, &err)) fail_msg("%s", err.msg);
    if (st_open(&e, SPM_DIR "/expected.safetensors", &err)) fail_msg("%s", err.msg);
    tok_vocab *t = tok_open(SPM_DIR, &err);
    assert_non_null(t);
    cJSON *doc = read_cases();
    size_t S, T, n_gen, V = m.cfg.vocab_size;
    int *src = tu_expected_int(&e, "src_ids", &S);
    int *labels = tu_expected_int(&e, "tf_labels", &T);
    int *dec_in = tu_expected_int(&e, "tf_dec_in", NULL);
    int *gen = tu_expected_int(&e, "greedy_ids", &n_gen);
    int *max_len = tu_expected_int(&e, "greedy_max_len", NULL);

    /* The texts tokenised here are the reference's ids. */
    int ids[128];
    assert_int_equal(tok_encode(t, cJSON_GetObjectItem(doc, "source")->valuestring, ids, 128), S);
    assert_memory_equal(ids, src, S * sizeof *ids);
    assert_int_equal(tok_encode(t, cJSON_GetObjectItem(doc, "target")->valuestring, ids, 128), T);
    assert_memory_equal(ids, labels, T * sizeof *ids);

    /* Teacher forced: logits and maps. */
    t5_run *r = t5_run_new(&m, S, T > (size_t)max_len[0] ? T : (size_t)max_len[0]);
    attn_trace *tr = trace_new(&m, S, T + (size_t)max_len[0] + 1);
    float *want = tu_expected_f32(&e, "tf_logits", NULL);
    float *logits = malloc(T * V * sizeof *logits);
    if (t5_teacher_forced(r, src, S, dec_in, T, logits, &err)) fail_msg("%s", err.msg);
    assert_close_array(logits, want, T * V, TOL_LOGIT, 0.0);
    long n = trace_run(tr, r, src, S, labels, T, 0, &err);
    assert_int_equal(n, T);
    tu_check_maps(&e, tr, T5_ATTN_ENC_SELF, "enc_attn", TOL_PROB);
    tu_check_maps(&e, tr, T5_ATTN_DEC_SELF, "tf_dec_attn", TOL_PROB);
    tu_check_maps(&e, tr, T5_ATTN_CROSS, "tf_cross_attn", TOL_PROB);
    free(want);

    /* Greedy: tokens, logits of each step, maps. */
    trace_clear(tr);
    n = trace_run(tr, r, src, S, NULL, 0, (size_t)max_len[0], &err);
    if (n < 0) fail_msg("%s", err.msg);
    assert_int_equal(n, n_gen);
    for (size_t i = 0; i < n_gen; i++) assert_int_equal(tr->tgt[i + 1], gen[i]);
    tu_check_maps(&e, tr, T5_ATTN_DEC_SELF, "greedy_dec_attn", TOL_PROB);
    tu_check_maps(&e, tr, T5_ATTN_CROSS, "greedy_cross_attn", TOL_PROB);
    want = tu_expected_f32(&e, "greedy_logits", NULL);
    if (t5_encode(r, src, S, &err)) fail_msg("%s", err.msg);
    int tok = m.cfg.decoder_start_token_id;
    for (size_t i = 0; i < n_gen; i++) {
        if (t5_decode_step(r, tok, logits, &err)) fail_msg("%s", err.msg);
        assert_close_array(logits, want + i * V, V, TOL_LOGIT, 0.0);
        tok = gen[i];
    }
    /* The generated ids decode and label without trouble. */
    char text[256], lab[64];
    tok_decode(t, gen, n_gen, text, sizeof text);
    for (size_t i = 0; i < n_gen; i++) assert_true(strlen(tok_label(t, gen[i], lab, sizeof lab)) > 0);

    free(want), free(logits), free(src), free(labels), free(dec_in), free(gen), free(max_len);
    trace_free(tr);
    t5_run_free(r);
    cJSON_Delete(doc);
    tok_free(t);
    st_close(&e);
    t5_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spm_equals_python),
        cmocka_unit_test(test_spm_labels_and_decode),
        cmocka_unit_test(test_byt5_through_the_interface),
        cmocka_unit_test(test_bad_spiece_model),
        cmocka_unit_test(test_fast_tokenizer_only),
        cmocka_unit_test(test_spm_model_equals_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
