/* test_tui_session.c - the UI's session without a terminal, driven as the
 * UI drives it: raw text and a teacher-forcing target on the tied-relu
 * fixture give the PyTorch reference's tokens and maps (tests/reference/
 * make_fixtures.py), the mean over heads, live rows at a step, a rerun that
 * keeps the step, an ablated head whose map is zero until restored,
 * equations read in canonical form, errors that keep the old maps, labels;
 * and the check line's words. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "byt5.h"
#include "quad.h"
#include "tokenizer.h"
#include "tui.h"
#include "tui_session.h"

#define DIR FIXTURES "/tied-relu"
#define TOL_PROB 1e-5

typedef struct {
    t5_model m;
    st_file e;
    tui_session *s;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    as_err err = {{0}};
    if (t5_load(&fx->m, DIR, &err)) fail_msg("%s", err.msg);
    if (st_open(&fx->e, DIR "/expected.safetensors", &err)) fail_msg("%s", err.msg);
    tok_vocab *tok = tok_open(DIR, &err);
    assert_non_null(tok);
    fx->s = tui_session_new(&fx->m, tok, 1);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tui_session_free(fx->s);
    st_close(&fx->e);
    t5_free(&fx->m);
    free(fx);
    return 0;
}

/* The text of a token list (ByT5 bytes, eos dropped). */
static void ids_text(const int *ids, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= BYT5_OFFSET) out[k++] = (char)(ids[i] - BYT5_OFFSET);
    out[k] = '\0';
}

/* Greedy decoding of the reference's source: its tokens and maps; the mean
   over heads; live rows; the step kept by a rerun. */
static void test_greedy_matches_reference(void **state)
{
    fixture *fx = *state;
    tui_session *s = fx->s;
    size_t S, n_gen;
    int *src = tu_expected_int(&fx->e, "src_ids", &S);
    int *gen = tu_expected_int(&fx->e, "greedy_ids", &n_gen);
    int *max_len = tu_expected_int(&fx->e, "greedy_max_len", NULL);
    char text[256];
    ids_text(src, S, text);
    s->max_len = (size_t)max_len[0];
    s->target[0] = '\0';
    assert_int_equal(tui_session_submit(s, text, 0), 0);
    assert_true(s->have_run);
    assert_int_equal(s->n_gen, n_gen);
    for (size_t i = 0; i < n_gen; i++) assert_int_equal(s->gen[i], gen[i]);
    assert_int_equal(s->step, n_gen - 1);
    assert_non_null(strstr(s->msg, "decoded 12 tokens"));
    assert_non_null(strstr(s->msg, "the output length limit"));
    tu_check_maps(&fx->e, s->tr, T5_ATTN_ENC_SELF, "enc_attn", TOL_PROB);
    tu_check_maps(&fx->e, s->tr, T5_ATTN_CROSS, "greedy_cross_attn", TOL_PROB);
    tu_check_maps(&fx->e, s->tr, T5_ATTN_DEC_SELF, "greedy_dec_attn", TOL_PROB);

    /* The mean over heads of cross layer 2 against the reference's heads. */
    size_t rows, cols, stride;
    tui_session_map_size(s, T5_ATTN_CROSS, &rows, &cols);
    assert_int_equal(rows, n_gen);
    assert_int_equal(cols, S);
    assert_int_equal(tui_session_layers(s, T5_ATTN_ENC_SELF), 2);
    assert_int_equal(tui_session_layers(s, T5_ATTN_CROSS), 3);
    const float *mean = tui_session_map(s, T5_ATTN_CROSS, 2, fx->m.cfg.num_heads, &stride);
    float *want = tu_expected_f32(&fx->e, "greedy_cross_attn", NULL);
    size_t H = fx->m.cfg.num_heads;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double w = 0;
            for (size_t h = 0; h < H; h++) w += want[((2 * H + h) * rows + i) * cols + j];
            assert_true(fabs(mean[i * stride + j] - w / (double)H) < TOL_PROB);
        }

    /* Live rows follow the step; the encoder's are all live. */
    assert_int_equal(tui_session_live_rows(s, T5_ATTN_CROSS), n_gen);
    s->step = 4;
    assert_int_equal(tui_session_live_rows(s, T5_ATTN_CROSS), 5);
    assert_int_equal(tui_session_live_rows(s, T5_ATTN_ENC_SELF), S);
    unsigned long serial = s->serial;
    assert_int_equal(tui_session_rerun(s), 0);
    assert_int_equal(s->serial, serial + 1);
    assert_int_equal(s->step, 4); /* kept: it was not the last */
    s->step = n_gen - 1;
    assert_int_equal(tui_session_rerun(s), 0);
    assert_int_equal(s->step, n_gen - 1);

    /* Labels: decoder rows carry the token they wrote, columns the source. */
    assert_ptr_equal(tui_session_row_tokens(s, T5_ATTN_CROSS), s->gen);
    assert_ptr_equal(tui_session_col_tokens(s, T5_ATTN_CROSS), s->tr->src);
    assert_ptr_equal(tui_session_col_tokens(s, T5_ATTN_DEC_SELF), s->tr->tgt);
    assert_null(tui_session_row_names(s, T5_ATTN_CROSS));
    char b[32];
    assert_string_equal(tui_session_label(s, BYT5_EOS, b, sizeof b), "$");
    assert_string_equal(tui_session_token_text(s, BYT5_EOS, b, sizeof b), "$");
    assert_string_equal(tui_session_short_label(s, BYT5_EOS, b, sizeof b), "$");
    assert_string_equal(tui_session_token_text(s, 'x' + BYT5_OFFSET, b, sizeof b), "x");
    assert_string_equal(tui_kind_name(T5_ATTN_DEC_SELF), "decoder self");
    free(src);
    free(gen);
    free(max_len);
    free(want);
}

/* A target: teacher forced maps equal the reference's. */
static void test_target_matches_reference(void **state)
{
    fixture *fx = *state;
    tui_session *s = fx->s;
    size_t S, T;
    int *src = tu_expected_int(&fx->e, "src_ids", &S);
    int *labels = tu_expected_int(&fx->e, "tf_labels", &T);
    char text[256];
    ids_text(src, S, text);
    ids_text(labels, T, s->target);
    assert_int_equal(tui_session_submit(s, text, 0), 0);
    assert_true(s->forced);
    assert_int_equal(s->n_gen, T);
    for (size_t i = 0; i < T; i++) assert_int_equal(s->gen[i], labels[i]);
    assert_non_null(strstr(s->msg, "teacher forced on a target of 14 tokens"));
    tu_check_maps(&fx->e, s->tr, T5_ATTN_DEC_SELF, "tf_dec_attn", TOL_PROB);
    tu_check_maps(&fx->e, s->tr, T5_ATTN_CROSS, "tf_cross_attn", TOL_PROB);
    s->target[0] = '\0';
    free(src);
    free(labels);
}

/* Ablating a head zeroes its map (and changes the run); restoring and
   clearing give the reference's maps again. */
static void test_ablation(void **state)
{
    fixture *fx = *state;
    tui_session *s = fx->s;
    size_t S;
    int *src = tu_expected_int(&fx->e, "src_ids", &S);
    int *max_len = tu_expected_int(&fx->e, "greedy_max_len", NULL);
    char text[256];
    ids_text(src, S, text);
    s->max_len = (size_t)max_len[0];
    assert_int_equal(tui_session_submit(s, text, 0), 0);
    assert_int_equal(tui_session_toggle_ablation(s, T5_ATTN_CROSS, 1, 2), 0);
    assert_int_equal(an_iv_count(&s->iv), 1);
    assert_string_equal(s->msg, "cross layer 1 (0-2) head 2 (0-3) zeroed; 1 head ablated (X clears)");
    size_t rows, cols, stride;
    tui_session_map_size(s, T5_ATTN_CROSS, &rows, &cols);
    const float *map = tui_session_map(s, T5_ATTN_CROSS, 1, 2, &stride);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) assert_true(map[i * stride + j] == 0.0f);
    assert_int_equal(tui_session_toggle_ablation(s, T5_ATTN_CROSS, 1, 2), 0);
    assert_string_equal(s->msg, "cross layer 1 (0-2) head 2 (0-3) restored; 0 heads ablated (X clears)");
    tu_check_maps(&fx->e, s->tr, T5_ATTN_CROSS, "greedy_cross_attn", TOL_PROB);
    tui_session_toggle_ablation(s, T5_ATTN_ENC_SELF, 0, 0);
    assert_int_equal(tui_session_clear_ablation(s), 0);
    assert_int_equal(an_iv_count(&s->iv), 0);
    assert_string_equal(s->msg, "no head ablated");
    tu_check_maps(&fx->e, s->tr, T5_ATTN_ENC_SELF, "enc_attn", TOL_PROB);
    /* A class for a head of the run, none out of range. */
    assert_false(tui_session_class_known(s, T5_ATTN_CROSS, 0, 0));
    assert_non_null(tui_session_class(s, T5_ATTN_CROSS, 0, 0));
    assert_true(tui_session_class_known(s, T5_ATTN_CROSS, 0, 0));
    assert_null(tui_session_class(s, T5_ATTN_CROSS, 3, 0));
    free(src);
    free(max_len);
}

/* Equations: the canonical form is decoded and checked; a parse error or
   an empty raw text keeps the old maps, with the column. */
static void test_equations_and_errors(void **state)
{
    fixture *fx = *state;
    tui_session *s = fx->s;
    s->raw = 0;
    s->max_len = 0;
    assert_int_equal(tui_session_submit(s, "x^2-5x+6=0", 0), 0);
    assert_true(s->quad_ok);
    assert_string_equal(s->source, "1x^2-5x+6=0");
    assert_string_equal(s->shown, "x^2-5x+6=0");
    assert_non_null(strstr(s->msg, "read as 1x^2-5x+6=0"));
    assert_true(s->first_wrong >= -1); /* compared with the exact target */
    assert_int_equal(s->tr->n_src, strlen("1x^2-5x+6=0") + 1);
    unsigned long serial = s->serial;
    assert_int_equal(tui_session_submit(s, "x^2+y=0", 0), -1);
    assert_true(s->msg_error);
    assert_true(s->err_col > 0);
    assert_int_equal(s->serial, serial);
    assert_true(s->have_run);
    assert_string_equal(s->shown, "x^2-5x+6=0");
    assert_int_equal(tui_session_submit(s, "", 1), -1);
    assert_string_equal(s->msg, "column 1: type some text first");
    /* force_raw decodes the text itself, and stays raw */
    assert_int_equal(tui_session_submit(s, "hello", 1), 0);
    assert_true(s->raw);
    assert_false(s->quad_ok);
    assert_string_equal(s->source, "hello");
}

/* The check line: right, wrong (first wrong character, got/want, answer),
 * off the training form; ASCII outside UTF-8. */
static void test_check_text(void **state)
{
    (void)state;
    quad_eq e = {1, -5, 6};
    quad_solution sol;
    assert_int_equal(quad_solve(&e, &sol, NULL), 0);
    char out[512], bad[QUAD_TARGET_MAX];
    assert_int_equal(tui_check_text(&sol, sol.target, 1, out, sizeof out), TUI_CHECK_RIGHT);
    assert_string_equal(out, "\xe2\x9c\x93 right: the exact solution (x = 2, x = 3)");
    assert_int_equal(tui_check_text(&sol, sol.target, 0, out, sizeof out), TUI_CHECK_RIGHT);
    assert_string_equal(out, "OK right: the exact solution (x = 2, x = 3)");
    /* D=((-5)^2-4*1*6)=1;...  one digit of D wrong: answer still right */
    snprintf(bad, sizeof bad, "%s", sol.target);
    char *d = strstr(bad, ")=1;");
    assert_non_null(d);
    d[2] = '7';
    assert_int_equal(tui_check_text(&sol, bad, 1, out, sizeof out), TUI_CHECK_WRONG);
    char want[200];
    snprintf(want, sizeof want,
             "\xe2\x9c\x97 wrong from char %ld: '7', want '1'; answer right (x = 2, x = 3)",
             (long)(d - bad) + 3);
    assert_string_equal(out, want);
    /* a truncated output: the end instead of a character, answer wrong */
    snprintf(bad, sizeof bad, "%.10s", sol.target);
    assert_int_equal(tui_check_text(&sol, bad, 0, out, sizeof out), TUI_CHECK_WRONG);
    assert_string_equal(out, "X wrong from char 11: the end, want '4'; answer wrong (x = 2, x = 3)");
    /* non-printing output bytes are labelled */
    assert_int_equal(tui_check_text(&sol, "\xa9", 1, out, sizeof out), TUI_CHECK_WRONG);
    assert_non_null(strstr(out, "from char 1: '\\xA9', want 'D'"));
    /* roots that are not integers: no target to compare with */
    quad_eq f = {1, 0, -2};
    assert_int_equal(quad_solve(&f, &sol, NULL), 0);
    assert_int_equal(tui_check_text(&sol, "x", 1, out, sizeof out), TUI_CHECK_OFF);
    assert_non_null(strstr(out, "roots not integers"));
    assert_int_equal(tui_check_text(&sol, "x", 0, out, sizeof out), TUI_CHECK_OFF);
    for (const char *p = out; *p; p++) assert_true((unsigned char)*p < 0x80);
    assert_non_null(strstr(out, "sqrt"));

    char a[64];
    assert_string_equal(tui_ascii("x = (5 \xc2\xb1 \xe2\x88\x9a" "13)/2 \xe2\x89\x88 0.7", a, sizeof a),
                        "x = (5 +- sqrt13)/2 ~ 0.7");
    assert_string_equal(tui_ascii("caf\xc3\xa9 \xe2\x96\x80!", a, sizeof a), "caf? ?!");
    assert_string_equal(tui_ascii("\xe2\x88\x9a\xe2\x88\x9a", a, 5), "sqrt");
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_matches_reference),
        cmocka_unit_test(test_target_matches_reference),
        cmocka_unit_test(test_ablation),
        cmocka_unit_test(test_equations_and_errors),
        cmocka_unit_test(test_check_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
