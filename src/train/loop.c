/* loop.c - the training run: data (a generated preset or TSV files) as
 * ByT5 tokens, batches whose order depends only on the seed and the step,
 * the step (forward, backward, clipping, AdamW), periodic evaluation by
 * greedy decoding with the task's three scores, when checkpoints are
 * written, exact resume, SIGINT/SIGTERM and non-finite losses.
 *
 * The output folder is a model folder (config.json, model.safetensors)
 * plus optimizer.safetensors (the checkpoint proper: weights, AdamW moments
 * and run state in one file), trainer_state.json (the state for people:
 * step, data position, seeds, last evaluation), train.cfg and log.tsv.
 * Every file is written atomically (util.h); see ckpt_save (checkpoint.c)
 * for why a crash at any moment leaves a resumable folder.
 *
 * Deliberately not here: the numerics (trainer.c, optim.c), the
 * configuration file (settings.c), the checkpoint files (checkpoint.c). */
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
#include "checkpoint.h"
#include "run_dir.h"
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
        const quad_preset *p =
            s->have_stream_range ? &s->stream_range : quad_preset_find(s->preset);
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

/* One run: what its steps share, from the data to the log. */
typedef struct {
    const train_settings *s;
    const train_options *o;
    const char *dir;
    token_set train, test;
    batch_source bs;
    size_t cap_src, cap_tgt;     /* the longest source and target a batch holds */
    size_t total;                /* updates in the whole run */
    lr_schedule sched;
    t5_model m;
    adamw_state opt;
    t5_trainer *tr;
    train_batch b;
    FILE *logf;
    int lock_fd;                 /* run_dir_lock's claim on dir, or -1 */
    run_state rs;
    train_speed sp;
    int bar;                     /* a progress bar (else log lines) */
    int start;                   /* the decoder's start token */
    size_t step0, last_ckpt;     /* the session's first step, the last checkpoint's */
    double t_run, elapsed0, last_bar;
    size_t nan_at;               /* fault injection: the step whose loss is NaN */
} train_session;

/* What one update computed. */
typedef struct {
    double loss, lr, gnorm;
    size_t ntok;                 /* target tokens */
} step_result;

/* The training and test sets: the settings' TSV files, or their preset. */
static int session_data(train_session *ts, as_err *err)
{
    const train_settings *s = ts->s;
    if (s->train_tsv) {
        if (ts_from_tsv(&ts->train, s->train_tsv, 0, err)) return -1;
        return ts_from_tsv(&ts->test, s->test_tsv, 1, err);
    }
    return ts_from_preset(&ts->train, &ts->test, s, err);
}

/* The model and optimiser: fresh, or from the folder's checkpoint. */
static int session_model(train_session *ts, as_err *err)
{
    const train_settings *s = ts->s;
    const train_options *o = ts->o;
    run_state *rs = &ts->rs;
    rs->total = ts->total;
    rs->batch = s->batch;
    rs->seed = s->seed;
    rs->threads = s->threads;
    if (!o->resume) { /* the weights first: a folder that cannot start the run makes no output */
        if (s->init_from && train_init_check(s, err)) return -1;
        if (t5_alloc(&ts->m, &s->model, err)) return -1;
        t5_init_random(&ts->m, s->init_seed);
        if (s->init_from) {
            if (train_init_from(&ts->m, s->init_from, o->quiet ? NULL : stdout, err)) return -1;
            rs->steps_before = train_init_lineage_steps(s->init_from);
        }
        if (util_mkdir_p(ts->dir, err)) return -1;
        if ((ts->lock_fd = run_dir_lock(ts->dir, err)) < 0) return -1;
        adamw_init(&ts->opt, &ts->m);
        if (s->opt.ema > 0) adamw_ema_start(&ts->opt, &ts->m);
        return 0;
    }
    if ((ts->lock_fd = run_dir_lock(ts->dir, err)) < 0) return -1;
    if (ckpt_load(ts->dir, s, &ts->m, &ts->opt, rs, err)) return -1;
    rs->total = ts->total;
    rs->steps_before = train_init_steps_before(ts->dir);
    if (!o->quiet) printf("resuming %s at step %zu of %zu\n", ts->dir, rs->step, ts->total);
    if (!o->quiet && s->opt.ema > 0 && !rs->ema_resumed)
        printf("note: the checkpoint keeps no moving average of the weights; optimizer.ema "
               "starts one from its weights now\n");
    if (!o->quiet && rs->threads && rs->threads != s->threads)
        printf("note: the checkpoint ran on %d threads, this run on %d: the batch is split "
               "differently, so losses agree to rounding, not bit for bit\n",
               rs->threads, s->threads);
    rs->threads = s->threads;
    return 0;
}

/* The folder's first files. A fresh run starts with a checkpoint of step 0:
 * the folder is a loadable model folder (and resumable) from the first step
 * on, and a folder that cannot take the files fails here, before any
 * training. Only then are train.cfg and log.tsv replaced, so that a --force
 * over an old run keeps all of its files until this checkpoint is
 * complete. */
static int session_files(train_session *ts, as_err *err)
{
    const train_options *o = ts->o;
    if (!o->resume && ckpt_save(ts->dir, ts->s, &ts->m, &ts->opt, &ts->rs, NULL, err)) return -1;
    if (!o->resume && o->force) {
        run_dir_drop_stale(ts->dir);
        ckpt_drop_kept(ts->dir);
    }
    /* The configuration beside the model. */
    if (o->cfg_path) {
        size_t len;
        char *cfgtext = util_read_file(o->cfg_path, &len, err);
        char *dst = ckpt_path_in(ts->dir, "train.cfg");
        int wrc = cfgtext ? util_write_atomic(dst, cfgtext, len, err) : -1;
        free(cfgtext);
        free(dst);
        if (wrc) return -1;
    }
    ts->logf = run_dir_open_log(ts->dir, o->resume, ts->rs.step,
                                "step\tloss\tlr\tgrad_norm\ttarget_tokens\tseconds\t"
                                "tokens_per_s\ttokens_per_cpu_s\tcore_share\tsteal\n",
                                err);
    return ts->logf ? 0 : -1;
}

/* Everything before the first step: batches, model, files, trainer, and
 * what the run is about to do. */
static int session_open(train_session *ts, as_err *err)
{
    const train_settings *s = ts->s;
    const train_options *o = ts->o;
    if (ts->train.n == 0) return as_errf(err, "the training set is empty");
    if (source_open(&ts->bs, s, &ts->train, &ts->test, &ts->cap_src, &ts->cap_tgt, err))
        return -1;
    ts->total = s->steps ? s->steps : (s->epochs * ts->train.n + s->batch - 1) / s->batch;
    ts->sched = s->sched;
    ts->sched.total = ts->total;
    if (session_model(ts, err) || session_files(ts, err)) return -1;
    ts->tr = trainer_new(&ts->m, s->batch, ts->cap_src, ts->cap_tgt);
    trainer_set_opts(ts->tr, &s->train);
    if (o->resume && s->train.aux_weight > 0.0f &&
        ckpt_load_aux(ts->dir, ts->tr, ts->m.cfg.d_model, err))
        return as_errprefix(err, "cannot resume the auxiliary head");
    train_batch_init(&ts->b, s->batch, s->batch * ts->cap_src, s->batch * ts->cap_tgt);
    ts->bar = o->progress < 0 ? isatty(STDOUT_FILENO) : o->progress;
    if (!o->quiet)
        printf("training %zu parameters on %zu examples (%zu held out), batch %zu, %zu steps, "
               "%d threads -> %s\n",
               ts->m.n_params, ts->train.n, ts->test.n, s->batch, ts->total, s->threads, ts->dir);
    if (!o->quiet && s->stream)
        printf("data.stream: fresh %s equations at every step, never one of the %zu held out "
               "(the %zu examples above only size the epochs)\n",
               s->preset, ts->test.n, ts->train.n);
    if (!o->quiet && s->have_stream_range) {
        const quad_preset *w = &s->stream_range;
        printf("data.stream_range: drawn from a %lld..%lld, roots %lld..%lld, no-root b "
               "%lld..%lld and c %lld..%lld, around the %s preset's\n",
               (long long)w->a_lo, (long long)w->a_hi, (long long)w->r_lo, (long long)w->r_hi,
               (long long)w->b_lo, (long long)w->b_hi, (long long)w->c_lo, (long long)w->c_hi,
               s->preset);
    }
    fflush(stdout);
    return 0;
}

/* The clocks and counters of the steps. The speed of the steps, and what
 * of the machine they had (the columns of log.tsv and the progress line
 * are this session's averages so far; trainer_state.json's "machine" the
 * whole run's). */
static void session_clock(train_session *ts)
{
    ts->start = ts->m.cfg.decoder_start_token_id;
    ts->t_run = util_now();
    ts->elapsed0 = ts->rs.elapsed;
    ts->step0 = ts->rs.step;
    train_speed_begin(&ts->sp, ts->s->threads, ts->t_run);
    if (ts->o->resume) ckpt_speed_resume(&ts->sp, ts->dir, ts->rs.step);
    ts->rs.speed = &ts->sp;
    ts->last_ckpt = ts->rs.step;
    ts->last_bar = 0.0;
    /* ATTNSCOPE_TEST_NAN_AT=N makes step N's loss NaN: how tests/cli/train.sh
     * checks the non-finite-loss path without a diverging run. */
    const char *inj = getenv("ATTNSCOPE_TEST_NAN_AT");
    ts->nan_at = inj ? (size_t)strtoull(inj, NULL, 10) : 0;
}

static void session_close(train_session *ts)
{
    if (ts->logf) fclose(ts->logf);
    source_close(&ts->bs);
    train_batch_free(&ts->b);
    trainer_free(ts->tr);
    adamw_free(&ts->opt);
    t5_free(&ts->m);
    ts_free(&ts->train);
    ts_free(&ts->test);
    run_dir_unlock(ts->dir, ts->lock_fd);
}

/* data.stepwise: say when a stage begins (*shown: the stage said last). */
static void show_stage(const train_session *ts, size_t step, size_t *shown)
{
    const train_settings *s = ts->s;
    size_t stage = train_stage_at(&s->stepwise, step);
    if (s->stepwise.n && stage != *shown && !ts->o->quiet) {
        static const char *what[4] = {"the spec's", "b^2 written out", "4ac written out",
                                      "b^2 and 4ac written out"};
        if (ts->bar && step > ts->step0) printf("\n");
        printf("data.stepwise: stage %zu of %zu from step %zu: targets with %s\n", stage + 1,
               s->stepwise.n, s->stepwise.start[stage],
               what[train_stage_show(&s->stepwise, stage)]);
        fflush(stdout);
    }
    *shown = stage;
}

/* One update: the batch, forward, backward, clipping, AdamW. A loss or a
 * gradient norm that is not finite stops the run without saving. */
static int train_one_step(train_session *ts, step_result *r, as_err *err)
{
    const train_settings *s = ts->s;
    size_t step = ts->rs.step;
    if (make_batch(&ts->b, &ts->bs, step, s->batch, ts->start, err)) return -1;
    if (s->train.aux_weight > 0.0f) train_batch_aux(&ts->b);
    trainer_set_step(ts->tr, step);
    r->loss = train_forward(ts->tr, &ts->b);
    if (ts->nan_at && step + 1 == ts->nan_at) r->loss = NAN;  /* fault injection for the tests */
    if (!isfinite(r->loss)) {
        if (ts->bar) printf("\n");
        return as_errf(err, "the loss is %s at step %zu; stopped without saving. The last good "
                            "checkpoint (step %zu) is kept in %s; lower optimizer.lr or raise "
                            "schedule.warmup",
                       isnan(r->loss) ? "NaN" : "infinite", step + 1, ts->last_ckpt, ts->dir);
    }
    train_zero_grad(ts->tr);
    train_backward(ts->tr, &ts->b);
    r->gnorm = grad_clip(train_grads(ts->tr), ts->m.n_params, s->opt.clip);
    if (!isfinite(r->gnorm)) {
        if (ts->bar) printf("\n");
        return as_errf(err, "the gradient norm is not finite at step %zu; stopped without "
                            "saving. The last good checkpoint (step %zu) is kept in %s",
                       step + 1, ts->last_ckpt, ts->dir);
    }
    r->lr = lr_at(&ts->sched, step);
    adamw_update(&ts->opt, &ts->m, train_grads(ts->tr), r->lr, &s->opt);
    if (s->train.aux_weight > 0.0f) train_aux_update(ts->tr, r->lr, &s->opt);
    ts->rs.step++;
    ts->rs.loss = r->loss;
    ts->rs.lr = r->lr;
    r->ntok = train_batch_n_labels(&ts->b);
    return 0;
}

/* The progress bar, or a log line every log_every steps. */
static void show_progress(train_session *ts, const step_result *r, double now, double tps,
                          double tpcs, double share, double steal)
{
    const run_state *rs = &ts->rs;
    size_t total = ts->total;
    double eta = (now - ts->t_run) / (double)(rs->step - ts->step0) * (double)(total - rs->step);
    char etas[32];
    fmt_eta(etas, sizeof etas, eta);
    if (ts->o->quiet) return;
    if (ts->bar && (now - ts->last_bar >= 0.1 || rs->step == total)) {
        ts->last_bar = now;
        int w = 24, fill = (int)((double)w * (double)rs->step / (double)total);
        char barbuf[32];
        for (int i = 0; i < w; i++) barbuf[i] = i < fill ? '#' : '.';
        barbuf[w] = 0;
        printf("\rstep %zu/%zu [%s] loss %.4f lr %.2e %.0f tok/s (%.0f/CPU-s, cores "
               "%.0f%%) ETA %s   ",
               rs->step, total, barbuf, r->loss, r->lr, tps, tpcs, 100 * share, etas);
        fflush(stdout);
    } else if (!ts->bar && (rs->step % ts->s->log_every == 0 || rs->step == total)) {
        printf("step %zu/%zu loss %.6f lr %.4e grad_norm %.4f tok/s %.0f tok/cpu-s %.0f "
               "cores %.0f%% steal %.1f%% eta %s\n",
               rs->step, total, r->loss, r->lr, r->gnorm, tps, tpcs, 100 * share, 100 * steal,
               etas);
        fflush(stdout);
    }
}

/* After an update: its speed, its row of log.tsv, the low-share warning
 * and the progress (t_step, c_step: the wall and CPU clocks at its start). */
static void log_step(train_session *ts, const step_result *r, double t_step, double c_step)
{
    train_speed *sp = &ts->sp;
    run_state *rs = &ts->rs;
    double now = util_now();
    train_speed_add(sp, now - t_step, train_cpu_seconds() - c_step, r->ntok, now);
    rs->elapsed = ts->elapsed0 + (now - ts->t_run);
    double tps = train_speed_tps(sp, 0), tpcs = train_speed_tpcs(sp, 0),
           share = train_speed_share(sp, 0), steal = train_speed_steal(sp, 0);
    fprintf(ts->logf, "%zu\t%.6f\t%.6e\t%.6f\t%zu\t%.3f\t%.1f\t%.1f\t%.4f\t%.4f\n", rs->step,
            r->loss, r->lr, r->gnorm, r->ntok, rs->elapsed, tps, tpcs, share, steal);
    if (train_speed_should_warn(sp, rs->step == ts->total) && !ts->o->quiet) {
        fprintf(stderr,
                "%swarning: this run got %.0f %% of the %d cores it asked for (train.threads; "
                "CPU %.2f s in %.2f s of steps, the machine's steal %.1f %%): other load, "
                "steal or a CPU limit; its tokens/s understate the loop (%.0f target tokens "
                "per CPU-second)\n",
                ts->bar ? "\n" : "", 100 * share, ts->s->threads, sp->cpu, sp->wall, 100 * steal,
                tpcs);
        fflush(stderr);
    }
    show_progress(ts, r, now, tps, tpcs, share, steal);
}

/* Every eval_every steps and at the last: greedy decoding of the test set. */
static int evaluate_at_step(train_session *ts, as_err *err)
{
    const train_settings *s = ts->s;
    run_state *rs = &ts->rs;
    int last = rs->step == ts->total;
    if (!s->eval_every || !ts->test.n || (rs->step % s->eval_every != 0 && !last)) return 0;
    adamw_ema_swap(&ts->opt, &ts->m); /* optimizer.ema: the average is the run's model */
    int rc = evaluate(&ts->m, &ts->test, s->eval_n, &rs->eval, err);
    adamw_ema_swap(&ts->opt, &ts->m);
    if (rc) return -1;
    rs->have_eval = 1;
    rs->eval_step = rs->step;
    if (!ts->o->quiet) {
        if (ts->bar) printf("\n");
        print_eval(stdout, rs->step, &rs->eval);
    }
    return 0;
}

/* A checkpoint now; what (failed) prefixes the message when it fails. */
static int checkpoint_now(train_session *ts, const char *failed, as_err *err)
{
    fflush(ts->logf);
    if (ckpt_save(ts->dir, ts->s, &ts->m, &ts->opt, &ts->rs, ts->tr, err))
        return as_errprefix(err, "%s at step %zu failed (the previous one, step %zu, is intact)",
                            failed, ts->rs.step, ts->last_ckpt);
    ts->last_ckpt = ts->rs.step;
    return 0;
}

/* train.keep_checkpoints: the model of the checkpoint just written, kept. */
static int keep_now(train_session *ts, as_err *err)
{
    if (!ts->s->keep_checkpoints) return 0;
    adamw_ema_swap(&ts->opt, &ts->m); /* optimizer.ema: the average is the run's model */
    int rc = ckpt_keep(ts->dir, &ts->m, &ts->rs, ts->s->keep_checkpoints, err);
    adamw_ema_swap(&ts->opt, &ts->m);
    if (rc)
        return as_errprefix(err, "keeping the model of step %zu in %s/%s failed (the "
                                 "checkpoint itself is intact; --resume continues)",
                            ts->rs.step, ts->dir, CKPT_KEPT_DIR);
    return 0;
}

/* The steps up to the last, or up to a signal (*interrupted set). */
static int run_steps(train_session *ts, int *interrupted, as_err *err)
{
    size_t shown_stage = (size_t)-1;
    while (ts->rs.step < ts->total) {
        double t_step = util_now(), c_step = train_cpu_seconds();
        show_stage(ts, ts->rs.step, &shown_stage);
        step_result r = {0};
        if (train_one_step(ts, &r, err)) return -1;
        log_step(ts, &r, t_step, c_step);
        if (evaluate_at_step(ts, err)) return -1;
        if (stop_signal) {
            *interrupted = 1;
            return 0;
        }
        size_t every = ts->s->checkpoint_every;
        if ((ts->rs.step == ts->total || (every && ts->rs.step % every == 0)) &&
            (checkpoint_now(ts, "checkpoint", err) || keep_now(ts, err)))
            return -1;
    }
    return 0;
}

/* After the steps: the interrupted run's checkpoint and how to resume it,
 * or the done line; the speed for o->speed. */
static int session_finish(train_session *ts, int interrupted, as_err *err)
{
    const train_options *o = ts->o;
    const run_state *rs = &ts->rs;
    if (ts->bar && !o->quiet) printf("\n");
    if (interrupted) {
        if (checkpoint_now(ts, "interrupted, and the checkpoint", err)) return -1;
        printf("interrupted by %s at step %zu of %zu; checkpoint saved in %s\n"
               "resume with: attnscope train --config %s --resume%s%s\n",
               stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", rs->step, ts->total, ts->dir,
               o->cfg_path ? o->cfg_path : "FILE.cfg", ts->s->out_dir ? " --out " : "", ts->dir);
    } else if (!o->quiet) {
        printf("done: %zu steps, loss %.6f, %.0f s; model in %s\n", rs->step, rs->loss,
               rs->elapsed, ts->dir);
    }
    fflush(stdout);
    if (o->speed) {
        train_speed_finish(&ts->sp);
        *o->speed = ts->sp;
    }
    return 0;
}

int train_run(const train_settings *s, const train_options *o, as_err *err)
{
    if (!s->out_dir)
        return as_errf(err, "no output folder (train.out in the configuration, or --out)");
    if (run_dir_check(s->out_dir, o->resume, o->force, err)) return -1;
    omp_set_num_threads(s->threads);
    train_session ts = {.s = s, .o = o, .dir = s->out_dir, .lock_fd = -1};
    int rc = -1;
    if (session_data(&ts, err) == 0 && session_open(&ts, err) == 0) {
        struct sigaction sa, old_int, old_term;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        stop_signal = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        session_clock(&ts);
        int interrupted = 0;
        if (run_steps(&ts, &interrupted, err) == 0 && session_finish(&ts, interrupted, err) == 0)
            rc = 0;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    session_close(&ts);
    return rc;
}
