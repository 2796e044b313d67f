/* score.c - scoring a set of examples under an intervention: the task's
 * three scores (quad.h) for equations, or, for any text (report --raw),
 * how well the model under the intervention still produces a reference
 * output: the target's tokens, or the unablated model's greedy output when
 * there is no target.
 *
 * Both go through one scorer (a thread's buffers and sums) so that the
 * sequential and the threaded loops are the same code. Deliberately not
 * here: the experiments that compare scores (experiment.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "quad.h"

/* One thread's buffers and sums. */
typedef struct {
    int *src, *gen, *dec_in;
    char *text;
    size_t text_cap, max_src, max_len;
    float *logits;    /* raw: (max_len + 1, V) */
    size_t vocab;
    quad_scores sc;   /* equations */
    double ll, right, tokens, exact, n; /* raw */
} scorer;

static void scorer_init(scorer *s, t5_run *r, const an_examples *ex)
{
    memset(s, 0, sizeof *s);
    s->max_src = t5_run_max_src(r);
    s->max_len = t5_run_max_tgt(r) - 1;
    s->src = xmalloc((s->max_src + 1) * sizeof *s->src);
    s->gen = xmalloc((s->max_len + 1) * sizeof *s->gen);
    s->text_cap = AN_TEXT_PER_TOKEN * s->max_len + 8;
    s->text = xmalloc(s->text_cap);
    if (ex->refs) {
        s->vocab = t5_run_model(r)->cfg.vocab_size;
        s->dec_in = xmalloc((s->max_len + 2) * sizeof *s->dec_in);
        s->logits = xmalloc((s->max_len + 1) * s->vocab * sizeof *s->logits);
    }
}

static void scorer_free(scorer *s)
{
    free(s->src);
    free(s->gen);
    free(s->dec_in);
    free(s->text);
    free(s->logits);
}

static void quad_merge(quad_score *a, const quad_score *b)
{
    a->n += b->n;
    a->full += b->full;
    a->answer += b->answer;
    a->chars_right += b->chars_right;
    a->chars_total += b->chars_total;
}

static void scorer_merge(scorer *into, const scorer *from)
{
    quad_merge(&into->sc.all, &from->sc.all);
    for (int k = 0; k < QUAD_N_KINDS; k++) quad_merge(&into->sc.kind[k], &from->sc.kind[k]);
    into->ll += from->ll;
    into->right += from->right;
    into->tokens += from->tokens;
    into->exact += from->exact;
    into->n += from->n;
}

static void scorer_out(const scorer *s, const an_examples *ex, double out[3])
{
    if (ex->refs) {
        out[0] = s->tokens > 0 ? s->ll / s->tokens : 0;
        out[1] = s->tokens > 0 ? s->right / s->tokens : 0;
        out[2] = s->n > 0 ? s->exact / s->n : 0;
        return;
    }
    out[0] = quad_score_full(&s->sc.all);
    out[1] = quad_score_chars(&s->sc.all);
    out[2] = quad_score_answer(&s->sc.all);
}

/* The log-probability of token y under logits row z (V entries), in double. */
static double log_prob(const float *z, size_t V, int y)
{
    double mx = z[0], sum = 0;
    for (size_t v = 1; v < V; v++)
        if (z[v] > mx) mx = z[v];
    for (size_t v = 0; v < V; v++) sum += exp((double)z[v] - mx);
    return (double)z[y] - mx - log(sum);
}

static size_t argmax(const float *z, size_t V)
{
    size_t best = 0;
    for (size_t v = 1; v < V; v++)
        if (z[v] > z[best]) best = v;
    return best;
}

/* Raw text: teacher-force the reference (log-likelihood, next-token
 * agreement), then decode greedily (exact match). */
static int score_raw(scorer *s, t5_run *r, an_iv *iv, const an_examples *ex, size_t i, size_t ns,
                     as_err *err)
{
    const int *ref = ex->refs->ids[i];
    size_t T = ex->refs->n[i];
    if (T == 0 || T > s->max_len)
        return as_errf(err, "example %zu: reference of %zu tokens does not fit the run (%zu)", i + 1,
                       T, s->max_len);
    s->dec_in[0] = t5_run_model(r)->cfg.decoder_start_token_id;
    memcpy(s->dec_in + 1, ref, (T - 1) * sizeof *ref);
    if (an_forced(r, iv, s->src, ns, s->dec_in, T, s->logits, err)) return -1;
    for (size_t t = 0; t < T; t++) {
        const float *z = s->logits + t * s->vocab;
        s->ll += log_prob(z, s->vocab, ref[t]);
        s->right += (int)argmax(z, s->vocab) == ref[t];
    }
    s->tokens += (double)T;
    long g = an_greedy(r, iv, s->src, ns, s->gen, s->max_len, err);
    if (g < 0) return -1;
    s->exact += (size_t)g == T && !memcmp(s->gen, ref, T * sizeof *ref);
    s->n += 1;
    return 0;
}

/* Example i of ex into s's sums. */
static int score_one(scorer *s, t5_run *r, an_iv *iv, const an_examples *ex, size_t i, as_err *err)
{
    size_t ns = an_encode(ex->tok, ex->src[i], s->src, s->max_src);
    if (ns == 0)
        return as_errf(err, "example %zu: source of %zu bytes does not fit the run (%zu tokens)",
                       i + 1, strlen(ex->src[i]), s->max_src);
    if (ex->refs) return score_raw(s, r, iv, ex, i, ns, err) ? as_errprefix(err, "example %zu", i + 1) : 0;
    long g = an_greedy(r, iv, s->src, ns, s->gen, s->max_len, err);
    if (g < 0) return as_errprefix(err, "example %zu", i + 1);
    an_decode(ex->tok, s->gen, (size_t)g, s->text, s->text_cap);
    quad_scores_add(&s->sc, (quad_kind)ex->kind[i], ex->tgt[i], s->text);
    return 0;
}

int an_score_set(t5_run *r, an_iv *iv, const an_examples *ex, double out[3],
                 an_progress_fn progress, void *puser, as_err *err)
{
    scorer s;
    scorer_init(&s, r, ex);
    int rc = 0;
    for (size_t i = 0; i < ex->n && !rc; i++) {
        rc = score_one(&s, r, iv, ex, i, err);
        if (!rc && progress) progress(puser, i + 1);
    }
    scorer_out(&s, ex, out);
    scorer_free(&s);
    return rc;
}

int an_score_examples(t5_run *r, an_iv *iv, const an_examples *ex, double out[3],
                      an_progress_fn progress, void *puser, as_err *err)
{
    size_t threads = ex->threads;
    if (threads > ex->n) threads = ex->n;
    if (threads <= 1) return an_score_set(r, iv, ex, out, progress, puser, err);
    const t5_model *m = t5_run_model(r);
    size_t max_src = t5_run_max_src(r), max_tgt = t5_run_max_tgt(r);
    scorer total;
    memset(&total, 0, sizeof total);
    size_t done = 0;
    int failed = 0;
    char msg[1200] = "";
#pragma omp parallel num_threads((int)threads)
    {
        t5_run *run = t5_run_new(m, max_src, max_tgt);
        an_iv mine;
        int have_iv = iv != NULL;
        if (have_iv) {
            mine = *iv; /* shares mode and means (read only) */
            mine.dec = NULL;
            mine.dec_cap = mine.n_dec = 0;
            mine.capture = NULL;
        }
        scorer s;
        scorer_init(&s, run, ex);
        as_err terr = {{0}};
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < ex->n; i++) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop) continue;
            if (score_one(&s, run, have_iv ? &mine : NULL, ex, i, &terr)) {
#pragma omp critical(an_score_fail)
                if (!failed) {
                    failed = 1;
                    snprintf(msg, sizeof msg, "%.1000s", terr.msg);
                }
                continue;
            }
#pragma omp critical(an_score_progress)
            {
                done++;
                if (progress) progress(puser, done);
            }
        }
#pragma omp critical(an_score_merge)
        scorer_merge(&total, &s);
        scorer_free(&s);
        if (have_iv) free(mine.dec);
        t5_run_free(run);
    }
    scorer_out(&total, ex, out);
    if (failed) return as_errf(err, "%.1000s", msg);
    return 0;
}

/* ---- references for raw text ---------------------------------------------- */

void an_refs_free(an_refs *refs)
{
    for (size_t i = 0; refs->ids && i < refs->count; i++) free(refs->ids[i]);
    free(refs->ids);
    free(refs->n);
    memset(refs, 0, sizeof *refs);
}

int an_refs_make(t5_run *r, const an_examples *ex, an_refs *out, as_err *err)
{
    memset(out, 0, sizeof *out);
    size_t max_src = t5_run_max_src(r), max_len = t5_run_max_tgt(r) - 1;
    out->count = ex->n;
    out->ids = xcalloc(ex->n + 1, sizeof *out->ids);
    out->n = xcalloc(ex->n + 1, sizeof *out->n);
    int *src = xmalloc((max_src + 1) * sizeof *src);
    int rc = 0;
    for (size_t i = 0; i < ex->n && !rc; i++) {
        out->ids[i] = xmalloc((max_len + 1) * sizeof *out->ids[i]);
        if (ex->tgt && ex->tgt[i]) {
            size_t n = an_encode(ex->tok, ex->tgt[i], out->ids[i], max_len);
            if (n == 0)
                rc = as_errf(err, "example %zu: target of %zu bytes does not fit %zu tokens", i + 1,
                             strlen(ex->tgt[i]), max_len);
            out->n[i] = n;
            continue;
        }
        size_t ns = an_encode(ex->tok, ex->src[i], src, max_src);
        if (ns == 0) {
            rc = as_errf(err, "example %zu: source of %zu bytes does not fit the run (%zu tokens)",
                         i + 1, strlen(ex->src[i]), max_src);
            break;
        }
        long g = an_greedy(r, NULL, src, ns, out->ids[i], max_len, err);
        if (g < 0) rc = as_errprefix(err, "example %zu", i + 1);
        else if (g == 0) rc = as_errf(err, "example %zu: the model generated nothing", i + 1);
        out->n[i] = g > 0 ? (size_t)g : 0;
    }
    free(src);
    if (rc) an_refs_free(out);
    return rc;
}
