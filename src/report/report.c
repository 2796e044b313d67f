/* report.c - `report_run`: load the model and the equations, then the stages
 * in order: trace every equation (accum.c), draw the class, example and
 * aggregate figures (figures.c), ablate each head, run the special-symbol
 * experiment, and write report.md and heads.tsv (write.c).
 *
 * Deliberately thin on computation: statistics, classes, aggregates and the
 * causal experiments live in src/analysis/. This module chooses what to
 * measure, draws it and writes the words. */
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

void report_options_init(report_options *o)
{
    memset(o, 0, sizeof *o);
    o->preset = "seed";
    o->example = REPORT_EXAMPLE_EQ;
    o->ablation = "zero";
    o->n = 100;
    o->seed = 1;
    o->imp_n = 20;
    o->hyp_n = 50;
    o->draws = 5;
    o->norm_n = 100;
    o->probe_n = 500;
    o->patch_n = 8;
    o->block_kinds = 0; /* both: every map, and the source only */
    o->max_len = QUAD_MAX_GEN;
}

int report_parse_kinds(const char *s, unsigned *out)
{
    unsigned bits = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 3 && !strncmp(s, "enc", 3)) bits |= 1u << T5_ATTN_ENC_SELF;
        else if (n == 3 && !strncmp(s, "dec", 3)) bits |= 1u << T5_ATTN_DEC_SELF;
        else if (n == 5 && !strncmp(s, "cross", 5)) bits |= 1u << T5_ATTN_CROSS;
        else return -1;
        s += n;
        if (*s == ',') s++;
    }
    if (!bits) return -1;
    *out = bits;
    return 0;
}

/* The example equation, canonical when it parses, into buf. */
static void example_text(const char *example, char *buf, size_t cap)
{
    quad_eq eq;
    if (quad_parse(example, &eq, NULL) == 0) quad_format_source(&eq, buf, cap);
    else snprintf(buf, cap, "%s", example);
}

int report_check(const report_options *o, as_err *err)
{
    if (o->n == 0 || o->n > 1000000)
        return as_errf(err, "--n must be between 1 and 1000000, got %zu", o->n);
    if (o->max_len == 0 || o->max_len > 4096)
        return as_errf(err, "--max-len must be between 1 and 4096, got %zu", o->max_len);
    if (o->draws < 2 || o->draws > 1000)
        return as_errf(err, "--draws must be 2..1000 (the baseline's spread needs two draws), got %zu",
                       o->draws);
    if (!o->ablation || (strcmp(o->ablation, "zero") && strcmp(o->ablation, "mean")))
        return as_errf(err, "--ablation must be zero or mean, got '%s'",
                       o->ablation ? o->ablation : "");
    if (o->norm_n > 1000000)
        return as_errf(err, "--norm-n must be 0..1000000, got %zu", o->norm_n);
    if (o->probe_n != 0 && (o->probe_n < 50 || o->probe_n > 100000))
        return as_errf(err, "--probe-n must be 0 or 50..100000 (a probe needs 50 equations), got %zu",
                       o->probe_n);
    if (o->patch_n > 10000) return as_errf(err, "--patch-n must be 0..10000, got %zu", o->patch_n);
    if (o->threads > 256) return as_errf(err, "--threads must be 1..256, got %zu", o->threads);
    if (o->raw && o->data) return as_errf(err, "give --raw or --data, not both");
    if (o->raw) return o->out && *o->out ? 0 : as_errf(err, "no output folder");
    if (!o->data && !quad_preset_find(o->preset ? o->preset : ""))
        return as_errf(err, "unknown preset '%s' (the presets are seed and small)",
                       o->preset ? o->preset : "");
    if (!o->out || !*o->out) return as_errf(err, "no output folder");
    char example[QUAD_SOURCE_MAX + 1024];
    example_text(o->example ? o->example : "", example, sizeof example);
    if (!o->example || (strlen(o->example) >= REPORT_MAX_SRC && strlen(example) >= REPORT_MAX_SRC))
        return as_errf(err, "--example of %zu bytes is longer than %d",
                       o->example ? strlen(o->example) : 0, REPORT_MAX_SRC - 1);
    return 0;
}

/* ---- progress --------------------------------------------------------------- */

typedef struct {
    const report_options *o;
    const char *stage;
    size_t total;
} stage_progress;

static void stage_cb(void *user, size_t done)
{
    stage_progress *p = user;
    if (p->o->progress) p->o->progress(p->o->progress_user, p->stage, done, p->total);
}

static void stage_start(stage_progress *p, const char *stage, size_t total)
{
    p->stage = stage;
    p->total = total;
    stage_cb(p, 0);
}

/* ---- the stages ---------------------------------------------------------- */

/* Everything one run holds. */
typedef struct {
    report_options o;        /* imp_n clamped to the equations there are */
    t5_model m;
    tok_vocab *tok;          /* the model folder's tokenizer */
    rp_examples es;
    char example[QUAD_SOURCE_MAX + 1024];
    size_t max_src, max_tgt;
    t5_run *run;
    attn_trace *t;
    rp_accum acc;
    an_examples ex;
    an_importance imp;
    int have_imp;
    an_hypothesis hy[2];
    size_t n_hy;
    rp_figs F;
    rp_beyond B;
    an_refs refs;            /* raw: what ablation is scored against */
    double raw_base[3];      /* raw: an_score_set's scores without ablation */
    an_trace_classes tc;
    stage_progress prog;
} run_state;

/* The tokens of text in the model's tokenizer, eos included; 0 with err
 * (what names the text) when it has more than cap. */
static size_t token_count(const tok_vocab *tok, const char *text, size_t cap, const char *what,
                          as_err *err)
{
    int *ids = xmalloc((cap + 1) * sizeof *ids);
    size_t n = tok_encode(tok, text, ids, cap);
    free(ids);
    if (n == 0 || n > cap)
        return as_errf(err, "%s: %zu tokens, more than the %zu the report takes", what, n, cap), 0;
    return n;
}

/* report --raw: the example and the run's sizes from the lines' tokens. */
static int raw_sizes(run_state *s, as_err *err)
{
    const rp_raw_set *r = &s->es.raw;
    s->max_src = 1;
    s->max_tgt = s->o.max_len + 1;
    char what[4200];
    for (size_t i = 0; i < r->n; i++) {
        snprintf(what, sizeof what, "%s:%zu: the input", s->o.raw, r->line[i]);
        size_t n = token_count(s->tok, r->input[i], REPORT_MAX_SRC, what, err);
        if (!n) return -1;
        if (n > s->max_src) s->max_src = n;
        if (!r->has_target) continue;
        snprintf(what, sizeof what, "%s:%zu: the target", s->o.raw, r->line[i]);
        n = token_count(s->tok, r->target[i], 4096, what, err);
        if (!n) return -1;
        if (n + 1 > s->max_tgt) s->max_tgt = n + 1;
    }
    const char *ex = s->o.example ? s->o.example : s->es.src[0];
    if (strlen(ex) >= sizeof s->example)
        return as_errf(err, "--example of %zu bytes is too long", strlen(ex));
    snprintf(s->example, sizeof s->example, "%s", ex);
    size_t n = token_count(s->tok, s->example, REPORT_MAX_SRC, "--example", err);
    if (!n) return -1;
    if (n > s->max_src) s->max_src = n;
    return 0;
}

/* Equations: the example and the sizes from their bytes (ByT5: a token a
 * byte). */
static int equation_sizes(run_state *s, as_err *err)
{
    example_text(s->o.example, s->example, sizeof s->example);
    s->max_src = strlen(s->example) + 1;
    for (size_t i = 0; i < s->es.n; i++)
        if (strlen(s->es.src[i]) + 1 > s->max_src) s->max_src = strlen(s->es.src[i]) + 1;
    if (s->max_src > REPORT_MAX_SRC)
        return as_errf(err, "a source of %zu bytes is longer than %d", s->max_src - 1,
                       REPORT_MAX_SRC - 1);
    s->max_tgt = s->o.max_len + 1;
    return 0;
}

/* Model, equations, sizes and buffers. */
static int setup(run_state *s, as_err *err)
{
    if (t5_load_mapped(&s->m, s->o.model_dir, err)) return -1;
    s->tok = tok_open(s->o.model_dir, err);
    if (!s->tok) return -1;
    if (rp_examples_load(&s->o, &s->es, err)) return -1;
    if (s->o.raw ? raw_sizes(s, err) : equation_sizes(s, err)) return -1;
    if (util_mkdir_p(s->o.out, err)) return -1;
    s->run = t5_run_new(&s->m, s->max_src, s->max_tgt);
    s->t = trace_new(&s->m, s->max_src, s->max_tgt);
    rp_accum_init(&s->acc, &s->m, s->tok, s->max_src, s->max_tgt);
    if (s->o.raw) s->acc.noun = "inputs";
    size_t threads = s->o.threads ? s->o.threads : (size_t)omp_get_max_threads();
    if (threads > 1) openblas_set_num_threads(1); /* threads are per equation */
    s->ex = (an_examples){(const char *const *)s->es.src, (const char *const *)s->es.tgt,
                          s->es.kind, s->es.n, threads, s->tok, NULL};
    return 0;
}

/* report --raw: the references ablation is scored against, and the scores
 * without ablation. */
static int raw_stage(run_state *s, as_err *err)
{
    stage_start(&s->prog, s->es.tgt ? "scoring the targets" : "greedy references", s->es.n);
    if (an_refs_make(s->run, &s->ex, &s->refs, err)) return -1;
    s->ex.refs = &s->refs;
    return an_score_examples(s->run, NULL, &s->ex, s->raw_base, stage_cb, &s->prog, err);
}

/* 1. every equation, captured; 2. the example's figures and the aggregates. */
static int trace_stage(run_state *s, as_err *err)
{
    stage_start(&s->prog, s->o.raw ? "tracing inputs" : "tracing equations", s->es.n);
    s->acc.ex = &s->ex;
    an_collector c = {NULL, rp_accum_trace, &s->acc, stage_cb, &s->prog};
    if (an_collect(s->run, &s->ex, s->t, &c, err)) return -1;
    an_stats_finish_all(s->acc.stats);
    rp_class_figure(&s->F, &s->acc);

    int ids[REPORT_MAX_SRC + 1];
    size_t ns = an_encode(s->tok, s->example, ids, s->max_src);
    int *gen = xmalloc((s->o.max_len + 1) * sizeof *gen);
    an_iv iv;
    an_iv_init(&iv, &s->m);
    iv.capture = s->t;
    long g = ns ? an_greedy(s->run, &iv, ids, ns, gen, s->o.max_len, err) : -1;
    an_iv_free(&iv);
    free(gen);
    if (g < 0) {
        if (!ns) as_errf(err, "the example '%s' does not fit", s->example);
        return -1;
    }
    an_classify_trace(s->t, &s->tc);
    rp_example_figures(&s->F, s->tok, s->t, &s->tc, s->example);
    if (s->F.failed) return -1;
    rp_aggregate_figures(&s->F, &s->acc);
    return s->F.failed ? -1 : 0;
}

/* 3. head importance. */
static int importance_stage(run_state *s, as_err *err)
{
    size_t n = s->o.imp_n < s->es.n ? s->o.imp_n : s->es.n;
    s->o.imp_n = n;
    an_examples sub = s->ex;
    sub.n = n;
    size_t heads = (s->acc.L[0] + s->acc.L[1] + s->acc.L[2]) * s->acc.H;
    stage_start(&s->prog, "ablating heads", n * (heads + 1));
    an_abl_mode mode = strcmp(s->o.ablation, "mean") ? AN_ABL_ZERO : AN_ABL_MEAN;
    if (an_head_importance(s->run, &sub, mode, &s->acc.means, &s->imp, stage_cb, &s->prog, err))
        return -1;
    s->have_imp = 1;
    rp_importance_figure(&s->F, &s->acc, &s->imp, s->o.ablation, n);
    return s->F.failed ? -1 : 0;
}

/* 4. the hypothesis: blocking in every map and in the source only, or where
 * block_kinds says. */
static int hypothesis_stage(run_state *s, as_err *err)
{
    size_t n = s->o.hyp_n < s->es.n ? s->o.hyp_n : s->es.n;
    an_examples sub = s->ex;
    sub.n = n;
    unsigned sets[2] = {7u, (1u << T5_ATTN_ENC_SELF) | (1u << T5_ATTN_CROSS)};
    size_t want = 2;
    if (s->o.block_kinds) sets[0] = s->o.block_kinds, want = 1;
    for (size_t i = 0; i < want; i++) {
        char stage[64];
        snprintf(stage, sizeof stage, "special vs digits (%zu/%zu)", i + 1, want);
        stage_start(&s->prog, stage, n * (2 + s->o.draws));
        if (an_hypothesis_run(s->run, &sub, sets[i], s->o.draws, (uint64_t)s->o.seed, &s->hy[i],
                              stage_cb, &s->prog, err))
            return -1;
        s->n_hy++;
    }
    return rp_hypothesis_figure(&s->F, s->hy, s->n_hy, n, s->o.draws, err);
}

/* 5. value norms, probes, patching (beyond.c). */
static int beyond_stage(run_state *s, as_err *err)
{
    stage_start(&s->prog, "value norms, probes, patching", 1);
    int rc = rp_beyond_run(&s->B, &s->o, &s->m, s->tok, &s->ex, s->run, s->max_src, s->max_tgt,
                           &s->F, err);
    stage_cb(&s->prog, 1);
    return rc;
}

static void teardown(run_state *s)
{
    rp_beyond_free(&s->B);
    an_refs_free(&s->refs);
    an_trace_classes_free(&s->tc);
    if (s->have_imp) an_importance_free(&s->imp);
    for (size_t i = 0; i < s->n_hy; i++) an_hypothesis_free(&s->hy[i]);
    free(s->F.f);
    if (s->run) {
        rp_accum_free(&s->acc);
        trace_free(s->t);
        t5_run_free(s->run);
    }
    rp_examples_free(&s->es);
    tok_free(s->tok);
    t5_free(&s->m);
    an_fig_cleanup();
}

int report_run(const report_options *opts, report_result *res, as_err *err)
{
    if (report_check(opts, err)) return -1;
    double t0 = util_now();
    run_state *s = xcalloc(1, sizeof *s);
    s->o = *opts;
    s->prog.o = &s->o;
    s->F = (rp_figs){s->o.out, NULL, 0, 0, err, 0};
    int rc = setup(s, err);
    if (!rc && s->o.raw) rc = raw_stage(s, err);
    if (!rc) rc = trace_stage(s, err);
    if (!rc && s->o.imp_n > 0) rc = importance_stage(s, err);
    if (!rc && s->o.hyp_n > 0 && !s->o.raw) rc = hypothesis_stage(s, err);
    if (!rc) rc = beyond_stage(s, err);
    if (!rc) {
        rp_results r = {&s->o, &s->m, &s->ex, &s->acc, s->have_imp ? &s->imp : NULL, s->o.imp_n,
                        s->hy, s->n_hy, &s->F, &s->B, util_now() - t0, s->raw_base};
        rc = rp_write(&r, err);
    }
    if (!rc && res) *res = (report_result){s->F.n, util_now() - t0};
    teardown(s);
    free(s);
    return rc;
}
