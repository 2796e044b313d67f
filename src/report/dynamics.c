/* dynamics.c - `report --checkpoints`: the training dynamics of a run.
 * Every checkpoint (a model folder: a training run's kept checkpoints,
 * OUT/checkpoints/step-NNNNNN/, or any folders given) decodes the same
 * equations; every head is classified at each step, and dynamics.md,
 * dynamics.tsv and the figures show when diagonals, stripes and squares
 * appear beside the scores of the same steps.
 *
 * Deliberately not here: the classes (src/analysis/), the inputs
 * (examples.c), the single-model report (report.c). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_int.h"

/* One checkpoint and what was measured on it. */
typedef struct {
    char *dir;
    long step;               /* -1: not known (sorted as given, after the known ones) */
    size_t order;            /* position in the expanded list */
    double eval[3];          /* the trainer's in-training evaluation (full, chars, answer) */
    size_t eval_n;           /* 0: none */
    double loss;             /* NaN: none */
    quad_scores scores;      /* of the traced equations */
    size_t L[AN_N_KINDS];    /* its layers of each kind (a grown run's differ) */
    an_head_class *cls[AN_N_KINDS]; /* L[k] x heads */
} ckpt;

typedef struct {
    ckpt *c;
    size_t n, cap;
} ckpt_list;

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_model(const char *dir)
{
    char p[4200];
    if (snprintf(p, sizeof p, "%s/config.json", dir) >= (int)sizeof p) return 0;
    return access(p, R_OK) == 0;
}

/* A score object ({"n", "full_solve", "char_accuracy", "answer_accuracy"})
 * as the held-out scores beside a checkpoint. */
static void read_scores(ckpt *c, const cJSON *all)
{
    const char *keys[3] = {"full_solve", "char_accuracy", "answer_accuracy"};
    const cJSON *n = cJSON_GetObjectItem(all, "n");
    if (!cJSON_IsNumber(n) || n->valuedouble <= 0) return;
    c->eval_n = (size_t)n->valuedouble;
    for (int j = 0; j < 3; j++) {
        const cJSON *v = cJSON_GetObjectItem(all, keys[j]);
        c->eval[j] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    }
}

/* eval.all of a JSON object as the trainer writes it (trainer_state.json,
 * checkpoint.json); step and loss beside it. */
static void read_json(ckpt *c, const char *path)
{
    as_err err;
    char *text = util_read_file(path, NULL, &err);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!doc) return;
    const cJSON *step = cJSON_GetObjectItem(doc, "step"), *loss = cJSON_GetObjectItem(doc, "loss");
    /* a run that started from a model (model.init_from) counts on from its steps */
    const cJSON *before = cJSON_GetObjectItem(doc, "steps_before");
    if (!before) before = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "init_from"), "steps_before");
    long add = cJSON_IsNumber(before) ? (long)before->valuedouble : 0;
    if (cJSON_IsNumber(step) && c->step < 0) c->step = (long)step->valuedouble + add;
    if (cJSON_IsNumber(loss)) c->loss = loss->valuedouble;
    /* an eval made at another step (a checkpoint written between two evals
     * carries the last one) does not describe this model */
    const cJSON *ev = cJSON_GetObjectItem(doc, "eval");
    const cJSON *ev_step = cJSON_GetObjectItem(ev, "step");
    if (cJSON_IsNumber(ev_step) && c->step >= 0 && (long)ev_step->valuedouble + add != c->step)
        ev = NULL;
    read_scores(c, cJSON_GetObjectItem(ev, "all"));
    cJSON_Delete(doc);
}

/* A bundled model's metrics.json (scripts/bundle-model.sh): how long it
 * trained, its last loss and its scores on the whole test split. */
static void read_metrics(ckpt *c, const char *path)
{
    as_err err;
    char *text = util_read_file(path, NULL, &err);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!doc) return;
    const cJSON *tr = cJSON_GetObjectItem(doc, "training");
    const cJSON *steps = cJSON_GetObjectItem(tr, "steps"), *loss = cJSON_GetObjectItem(tr, "final_loss");
    const cJSON *before = cJSON_GetObjectItem(tr, "steps_before");
    if (cJSON_IsNumber(steps))
        c->step = (long)steps->valuedouble +
                  (cJSON_IsNumber(before) ? (long)before->valuedouble : 0);
    if (cJSON_IsNumber(loss)) c->loss = loss->valuedouble;
    read_scores(c, cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "test_split"), "overall"));
    cJSON_Delete(doc);
}

static void list_add(ckpt_list *L, const char *dir)
{
    if (L->n == L->cap) {
        L->cap = L->cap ? 2 * L->cap : 16;
        L->c = xrealloc(L->c, L->cap * sizeof *L->c);
    }
    ckpt *c = &L->c[L->n];
    memset(c, 0, sizeof *c);
    c->dir = xstrdup(dir);
    c->step = -1;
    c->loss = NAN;
    c->order = L->n++;
    char p[4200];
    snprintf(p, sizeof p, "%s/checkpoint.json", dir);
    read_json(c, p);
    snprintf(p, sizeof p, "%s/trainer_state.json", dir);
    read_json(c, p);
    if (c->step < 0) { /* a bundled model: its metrics.json */
        snprintf(p, sizeof p, "%s/metrics.json", dir);
        if (access(p, R_OK) == 0) read_metrics(c, p);
    }
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    if (c->step < 0 && !strncmp(base, "step-", 5)) c->step = strtol(base + 5, NULL, 10);
}

/* The model folders inside dir (its checkpoints/ folder when it has one). */
static int list_scan(ckpt_list *L, const char *dir, as_err *err)
{
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/checkpoints", dir);
    const char *where = is_dir(sub) ? sub : dir;
    DIR *d = opendir(where);
    if (!d) return as_errf(err, "%s: cannot read the folder", where);
    size_t before = L->n;
    struct dirent *e;
    char **names = NULL;
    size_t nn = 0, cap = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4200];
        if (snprintf(p, sizeof p, "%s/%s", where, e->d_name) >= (int)sizeof p) continue;
        if (!is_dir(p) || !has_model(p)) continue;
        if (nn == cap) cap = cap ? 2 * cap : 16, names = xrealloc(names, cap * sizeof *names);
        names[nn++] = xstrdup(p);
    }
    closedir(d);
    for (size_t i = 0; i < nn; i++) {
        list_add(L, names[i]);
        free(names[i]);
    }
    free(names);
    /* the run's final model beside its checkpoints */
    if (where == sub && has_model(dir)) list_add(L, dir);
    if (L->n == before)
        return as_errf(err, "%s: no checkpoint in it (a folder with config.json, or one holding "
                            "such folders, e.g. a run's checkpoints/)", dir);
    return 0;
}

static int cmp_ckpt(const void *x, const void *y)
{
    const ckpt *a = x, *b = y;
    if ((a->step < 0) != (b->step < 0)) return a->step < 0 ? 1 : -1;
    if (a->step != b->step) return a->step < b->step ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* A step found twice (a folder given twice, or a run's final model that is
 * also its last checkpoint) is measured once, from the first folder. */
static void list_dedup(ckpt_list *L)
{
    size_t w = 0;
    for (size_t i = 0; i < L->n; i++) {
        if (w > 0 && L->c[i].step >= 0 && L->c[i].step == L->c[w - 1].step) {
            fprintf(stderr, "attnscope: report: %s is step %ld again (as %s); read once\n",
                    L->c[i].dir, L->c[i].step, L->c[w - 1].dir);
            free(L->c[i].dir);
            continue;
        }
        L->c[w++] = L->c[i];
    }
    L->n = w;
}

static void list_free(ckpt_list *L)
{
    for (size_t i = 0; i < L->n; i++) {
        free(L->c[i].dir);
        for (int k = 0; k < AN_N_KINDS; k++) free(L->c[i].cls[k]);
    }
    free(L->c);
}

/* ---- measuring one checkpoint ---------------------------------------------- */

typedef struct {
    an_stats *st;
    quad_scores *sc;
    const an_examples *ex;
    size_t i;
} collect_state;

static void each_trace(void *user, const attn_trace *t)
{
    collect_state *cs = user;
    an_stats_add_trace(cs->st, t);
    if (cs->ex->kind && cs->i < cs->ex->n) {
        char text[4 * 4096 + 8];
        size_t n = t->n_tgt > 0 ? t->n_tgt - 1 : 0;
        an_decode(cs->ex->tok, t->tgt + 1, n, text, sizeof text);
        quad_scores_add(cs->sc, (quad_kind)cs->ex->kind[cs->i], cs->ex->tgt[cs->i], text);
    }
    cs->i++;
}

/* The shape of the figures and tables: the most layers of each kind any
 * checkpoint has (a model grown during training, model.init_from, gains
 * layers; a checkpoint's missing layers stay blank) and the heads, which
 * every checkpoint shares. */
typedef struct {
    size_t L[AN_N_KINDS], H;
    size_t C;                /* d_model, which every checkpoint shares too */
    int grown;               /* the checkpoints' layers differ */
} shape;

/* Head i (layer i / H) of kind k at checkpoint c, or NULL when c lacks the layer. */
static const an_head_class *head_at(const ckpt *c, const shape *sh, int k, size_t i)
{
    return i < c->L[k] * sh->H ? &c->cls[k][i] : NULL;
}

static int measure(ckpt *c, const rp_examples *es, const report_options *o, shape *sh, int first,
                   as_err *err)
{
    t5_model m;
    if (t5_load_mapped(&m, c->dir, err)) return -1;
    size_t L[AN_N_KINDS] = {m.cfg.num_layers, m.cfg.num_decoder_layers, m.cfg.num_decoder_layers};
    if (first) {
        sh->H = m.cfg.num_heads;
        sh->C = m.cfg.d_model;
    } else if (sh->H != m.cfg.num_heads || sh->C != m.cfg.d_model) {
        as_errf(err, "%s: d_model %zu, %zu heads, but the first checkpoint has d_model %zu, %zu "
                     "heads (checkpoints of one run share them; only layers may be added)",
                c->dir, m.cfg.d_model, m.cfg.num_heads, sh->C, sh->H);
        t5_free(&m);
        return -1;
    }
    for (int k = 0; k < AN_N_KINDS; k++) {
        if (!first && L[k] != sh->L[k]) sh->grown = 1;
        if (L[k] > sh->L[k]) sh->L[k] = L[k];
        c->L[k] = L[k];
    }
    tok_vocab *tok = tok_open(c->dir, err);
    if (!tok) {
        t5_free(&m);
        return -1;
    }
    size_t max_src = 1;
    for (size_t i = 0; i < es->n; i++)
        if (strlen(es->src[i]) + 1 > max_src) max_src = strlen(es->src[i]) + 1;
    t5_run *run = t5_run_new(&m, max_src, o->max_len + 1);
    attn_trace *t = trace_new(&m, max_src, o->max_len + 1);
    an_stats *st = an_stats_new(L[0], L[1], m.cfg.num_heads);
    st->no_key_classes = tok_kind_of(tok) != TOK_BYT5;
    an_examples ex = {(const char *const *)es->src, (const char *const *)es->tgt, es->kind, es->n,
                      1, tok, NULL};
    collect_state cs = {st, &c->scores, &ex, 0};
    an_collector col = {NULL, each_trace, &cs, NULL, NULL};
    int rc = an_collect(run, &ex, t, &col, err);
    if (rc) as_errprefix(err, "%s", c->dir);
    an_stats_finish_all(st);
    for (int k = 0; k < AN_N_KINDS && !rc; k++) {
        c->cls[k] = xcalloc(L[k] * sh->H + 1, sizeof *c->cls[k]);
        for (size_t i = 0; i < L[k] * sh->H; i++) an_classify(&st->heads[k][i], &c->cls[k][i]);
    }
    an_stats_free(st);
    trace_free(t);
    t5_run_free(run);
    tok_free(tok);
    t5_free(&m);
    return rc;
}

/* ---- figures ------------------------------------------------------------------ */

static char **step_labels(const ckpt_list *C)
{
    char **l = xcalloc(C->n + 1, sizeof *l);
    for (size_t i = 0; i < C->n; i++) {
        char b[32];
        if (C->c[i].step >= 0) snprintf(b, sizeof b, "%ld", C->c[i].step);
        else snprintf(b, sizeof b, "#%zu", i + 1);
        l[i] = xstrdup(b);
    }
    return l;
}

static char **head_labels(size_t L, size_t H)
{
    char **l = xcalloc(L * H + 1, sizeof *l);
    for (size_t i = 0; i < L * H; i++) {
        char b[48];
        snprintf(b, sizeof b, "L%zu H%zu", i / H, i % H);
        l[i] = xstrdup(b);
    }
    return l;
}

static void free_strs(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

/* What a figure of heads x steps shows of each head's class. */
typedef enum { FIG_CLASS, FIG_DIAG, FIG_STRIPE, FIG_BLOCK, FIG_BAND } fig_value;

static int heads_figure(rp_figs *F, const ckpt_list *C, const shape *sh, fig_value what,
                        const char *name, const char *title)
{
    an_panel p[AN_N_KINDS];
    float *d[AN_N_KINDS];
    char **txt[AN_N_KINDS], **rl[AN_N_KINDS];
    char **cl = step_labels(C);
    for (int k = 0; k < AN_N_KINDS; k++) {
        size_t n = sh->L[k] * sh->H;
        d[k] = xcalloc(n * C->n + 1, sizeof *d[k]);
        txt[k] = what == FIG_CLASS ? xcalloc(n * C->n + 1, sizeof *txt[k]) : NULL;
        rl[k] = head_labels(sh->L[k], sh->H);
        for (size_t h = 0; h < n; h++)
            for (size_t s = 0; s < C->n; s++) {
                const an_head_class *c = head_at(&C->c[s], sh, k, h);
                if (!c) { /* a layer this checkpoint does not have yet */
                    d[k][h * C->n + s] = NAN;
                    if (txt[k]) txt[k][h * C->n + s] = xstrdup("");
                    continue;
                }
                float v = what == FIG_CLASS    ? (float)c->cls / (float)(AN_CLASS_COUNT - 1)
                          : what == FIG_DIAG   ? (float)c->diag
                          : what == FIG_STRIPE ? (float)c->stripe
                          : what == FIG_BLOCK  ? (float)c->block
                                               : (float)c->band;
                d[k][h * C->n + s] = v;
                if (txt[k]) {
                    char b[16];
                    if (c->cls == AN_CLASS_DIAG || c->cls == AN_CLASS_BLUR)
                        snprintf(b, sizeof b, "%c%+d", an_class_mark(c->cls), c->offset);
                    else snprintf(b, sizeof b, "%c", an_class_mark(c->cls));
                    txt[k][h * C->n + s] = xstrdup(b);
                }
            }
        p[k] = (an_panel){d[k], n, C->n, rp_kind_long(k), (const char *const *)rl[k],
                          (const char *const *)cl, (const char *const *)txt[k]};
    }
    char base[4096];
    rp_fig_base(F, name, base, sizeof base);
    int rc = an_fig_heatmaps(base, title, p, AN_N_KINDS, AN_N_KINDS,
                             what == FIG_CLASS ? -1.0f : 1.0f, what == FIG_CLASS ? 24 : 14, NULL,
                             NULL, F->err);
    if (!rc) rp_fig_add(F, name, title);
    for (int k = 0; k < AN_N_KINDS; k++) {
        free(d[k]);
        free_strs(txt[k], sh->L[k] * sh->H * C->n);
        free_strs(rl[k], sh->L[k] * sh->H);
    }
    free_strs(cl, C->n);
    return rc;
}

/* The scores at each step: the traced equations' and the trainer's. */
static int scores_figure(rp_figs *F, const ckpt_list *C, size_t n_eq)
{
    const char *rows[6] = {"full solve", "character accuracy", "answer accuracy",
                           "trainer: full solve", "trainer: characters", "trainer: answer"};
    int have_eval = 0;
    for (size_t s = 0; s < C->n; s++) have_eval |= C->c[s].eval_n > 0;
    size_t nr = have_eval ? 6 : 3;
    float *d = xcalloc(nr * C->n + 1, sizeof *d);
    char **txt = xcalloc(nr * C->n + 1, sizeof *txt);
    for (size_t s = 0; s < C->n; s++) {
        const quad_score *a = &C->c[s].scores.all;
        double v[6] = {quad_score_full(a), quad_score_chars(a), quad_score_answer(a),
                       C->c[s].eval[0], C->c[s].eval[1], C->c[s].eval[2]};
        for (size_t r = 0; r < nr; r++) {
            int none = r >= 3 && !C->c[s].eval_n;
            d[r * C->n + s] = none ? NAN : (float)v[r];
            char b[16] = "";
            if (!none) snprintf(b, sizeof b, "%.2f", v[r]);
            txt[r * C->n + s] = xstrdup(b[0] == '0' ? b + 1 : b);
        }
    }
    char **cl = step_labels(C);
    an_panel p = {d, nr, C->n, NULL, rows, (const char *const *)cl, (const char *const *)txt};
    char title[256], base[4096];
    snprintf(title, sizeof title, "scores at each checkpoint: %zu traced equations (greedy)%s",
             n_eq, have_eval ? "\nand the trainer's own evaluation at that step" : "");
    rp_fig_base(F, "dynamics_scores", base, sizeof base);
    int rc = an_fig_heatmaps(base, title, &p, 1, 1, 1.0f, 28, NULL, NULL, F->err);
    if (!rc) rp_fig_add(F, "dynamics_scores", title);
    free(d);
    free_strs(txt, nr * C->n);
    free_strs(cl, C->n);
    return rc;
}

/* ---- the words ----------------------------------------------------------------- */

static size_t class_count(const ckpt *c, const shape *sh, int k, an_class cl)
{
    size_t n = 0;
    for (size_t i = 0; i < c->L[k] * sh->H; i++) n += c->cls[k][i].cls == cl;
    return n;
}

static void step_text(const ckpt *c, size_t i, char *b, size_t cap)
{
    if (c->step >= 0) snprintf(b, cap, "%ld", c->step);
    else snprintf(b, cap, "#%zu", i + 1);
}

/* When each class first appears in each kind, with the scores of that step. */
static void md_appearance(FILE *f, const ckpt_list *C, const shape *sh)
{
    fprintf(f, "## When each pattern appears\n\n");
    for (int k = 0; k < AN_N_KINDS; k++) {
        fprintf(f, "- **%s**:", rp_kind_long(k));
        for (int cl = 0; cl < AN_CLASS_COUNT; cl++) {
            size_t first = C->n, last_n = class_count(&C->c[C->n - 1], sh, k, (an_class)cl);
            for (size_t s = 0; s < C->n && first == C->n; s++)
                if (class_count(&C->c[s], sh, k, (an_class)cl)) first = s;
            fprintf(f, "%s %s ", cl ? ";" : "", an_class_name((an_class)cl));
            if (first == C->n) {
                fprintf(f, "never");
                continue;
            }
            char st[32];
            step_text(&C->c[first], first, st, sizeof st);
            fprintf(f, "from step %s (full solve %.3f there), %zu head%s at the last", st,
                    quad_score_full(&C->c[first].scores.all), last_n, last_n == 1 ? "" : "s");
        }
        fprintf(f, ".\n");
    }
    /* heads that change class between consecutive checkpoints */
    size_t changes = 0, total = 0;
    for (int k = 0; k < AN_N_KINDS; k++)
        for (size_t i = 0; i < sh->L[k] * sh->H; i++)
            for (size_t s = 1; s < C->n; s++) {
                const an_head_class *a = head_at(&C->c[s - 1], sh, k, i),
                                    *b = head_at(&C->c[s], sh, k, i);
                if (!a || !b) continue;
                total++;
                changes += a->cls != b->cls;
            }
    fprintf(f, "- Between consecutive checkpoints a head changes class %zu times out of %zu "
               "(heads x intervals).\n\n",
            changes, total);
}

static void md_table(FILE *f, const ckpt_list *C, const shape *sh)
{
    fprintf(f, "## Scores and classes at each checkpoint\n\n"
               "Classes counted per kind as D/B/V/S/H (clear diagonal, blurred diagonal, vertical "
               "stripes, sparse squares, heterogeneous).\n\n"
               "| step | loss | full solve | characters | answer | recorded eval (n) | enc | dec | cross |\n"
               "|---|---|---|---|---|---|---|---|---|\n");
    for (size_t s = 0; s < C->n; s++) {
        const ckpt *c = &C->c[s];
        char st[32];
        step_text(c, s, st, sizeof st);
        fprintf(f, "| %s | ", st);
        if (c->loss == c->loss) fprintf(f, "%.4f", c->loss);
        fprintf(f, " | %.3f | %.3f | %.3f | ", quad_score_full(&c->scores.all),
                quad_score_chars(&c->scores.all), quad_score_answer(&c->scores.all));
        if (c->eval_n) fprintf(f, "%.3f / %.3f (%zu)", c->eval[0], c->eval[1], c->eval_n);
        for (int k = 0; k < AN_N_KINDS; k++) {
            fprintf(f, " | ");
            for (int cl = 0; cl < AN_CLASS_COUNT; cl++)
                fprintf(f, "%s%zu", cl ? "/" : "", class_count(c, sh, k, (an_class)cl));
        }
        fprintf(f, " |\n");
    }
    fprintf(f, "\n## Every head over the steps\n\n| head |");
    for (size_t s = 0; s < C->n; s++) {
        char st[32];
        step_text(&C->c[s], s, st, sizeof st);
        fprintf(f, " %s |", st);
    }
    fprintf(f, "\n|---|");
    for (size_t s = 0; s < C->n; s++) fprintf(f, "---|");
    fprintf(f, "\n");
    for (int k = 0; k < AN_N_KINDS; k++)
        for (size_t i = 0; i < sh->L[k] * sh->H; i++) {
            fprintf(f, "| %s L%zu H%zu |", rp_kind_short(k), i / sh->H, i % sh->H);
            for (size_t s = 0; s < C->n; s++) {
                const an_head_class *h = head_at(&C->c[s], sh, k, i);
                fprintf(f, " %s |", h ? h->label : "-");
            }
            fprintf(f, "\n");
        }
}

static int write_tsv(const char *out, const ckpt_list *C, const shape *sh, as_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/dynamics.tsv", out);
    atomic_file af;
    if (atomic_open(&af, path, err)) return -1;
    fprintf(af.f, "step\tcheckpoint\tkind\tlayer\thead\tclass\tlabel\toffset\tdiag\tstripe\tblock\t"
                  "band\tfull\tchars\tanswer\n");
    for (size_t s = 0; s < C->n; s++) {
        const ckpt *c = &C->c[s];
        for (int k = 0; k < AN_N_KINDS; k++)
            for (size_t i = 0; i < c->L[k] * sh->H; i++) {
                const an_head_class *h = &c->cls[k][i];
                fprintf(af.f, "%ld\t%s\t%s\t%zu\t%zu\t%s\t%s\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n",
                        c->step, c->dir, rp_kind_short(k), i / sh->H, i % sh->H,
                        an_class_name(h->cls), h->label, h->offset, h->diag, h->stripe, h->block,
                        h->band, quad_score_full(&c->scores.all), quad_score_chars(&c->scores.all),
                        quad_score_answer(&c->scores.all));
            }
    }
    return atomic_commit(&af, err);
}

static int write_md(const report_options *o, const ckpt_list *C, const shape *sh,
                    const rp_examples *es, const rp_figs *F, double seconds, as_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/dynamics.md", o->out);
    atomic_file af;
    if (atomic_open(&af, path, err)) return -1;
    FILE *f = af.f;
    fprintf(f, "# Training dynamics\n\n"
               "Written by `attnscope report --checkpoints`: %zu checkpoints, each decoding the "
               "same %zu equations ",
            C->n, es->n);
    if (o->data) fprintf(f, "(from `%s`)", o->data);
    else fprintf(f, "(generated from preset `%s`, seed %zu)", o->preset, o->seed);
    fprintf(f, " greedily, at most %zu tokens; every head classified at each step by the rules of "
               "report.md's \"How heads are classified\". Took %.1f s. \"recorded eval\" is the "
               "full solve / characters the checkpoint recorded: the trainer's in-training evaluation "
               "at that step (its own held-out equations), or a bundled model's metrics.json (its "
               "whole test split).\n\n",
            o->max_len, seconds);
    if (sh->grown) {
        fprintf(f, "The model grew during training (`model.init_from` with more layers): the "
                   "checkpoints have");
        for (size_t s = 0; s < C->n; s++) {
            char st[32];
            step_text(&C->c[s], s, st, sizeof st);
            fprintf(f, "%s %zu+%zu layers at step %s", s ? "," : "", C->c[s].L[0], C->c[s].L[1],
                    st);
        }
        fprintf(f, ". A layer a checkpoint does not have yet is blank in the figures and `-` in "
                   "the tables; the class counts are of the heads each checkpoint has.\n\n");
    }
    md_appearance(f, C, sh);
    md_table(f, C, sh);
    fprintf(f, "\n## Figures\n\n");
    for (size_t i = 0; i < F->n; i++)
        fprintf(f, "### %s\n\n![%s](%s.png)\n\n[SVG](%s.svg)\n\n", F->f[i].caption, F->f[i].name,
                F->f[i].name, F->f[i].name);
    fprintf(f, "Every head at every step is also in `dynamics.tsv`.\n");
    return atomic_commit(&af, err);
}

/* ---- the run ----------------------------------------------------------------------- */

int report_dynamics_run(const report_options *o, const char *const *dirs, size_t n_dirs,
                        report_result *res, as_err *err)
{
    if (o->raw) return as_errf(err, "--checkpoints works on equations; give --data or --preset");
    if (report_check(o, err)) return -1;
    if (n_dirs == 0) return as_errf(err, "no checkpoint folder");
    double t0 = util_now();
    ckpt_list C = {0};
    int rc = 0;
    for (size_t i = 0; i < n_dirs && !rc; i++) {
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/checkpoints", dirs[i]);
        if (!is_dir(dirs[i])) rc = as_errf(err, "%s: not a folder", dirs[i]);
        else if (has_model(dirs[i]) && !is_dir(sub)) list_add(&C, dirs[i]);
        else rc = list_scan(&C, dirs[i], err);
    }
    if (!rc && C.n < 2)
        rc = as_errf(err, "%s: one checkpoint; training dynamics need two or more",
                     C.n ? C.c[0].dir : dirs[0]);
    if (!rc) qsort(C.c, C.n, sizeof *C.c, cmp_ckpt);
    if (!rc) list_dedup(&C);
    if (!rc && C.n < 2)
        rc = as_errf(err, "%s: one checkpoint; training dynamics need two or more", C.c[0].dir);
    rp_examples es = {0};
    if (!rc) rc = rp_examples_load(o, &es, err);
    if (!rc) rc = util_mkdir_p(o->out, err);
    shape sh = {{0}, 0, 0, 0};
    for (size_t i = 0; i < C.n && !rc; i++) {
        if (o->progress) o->progress(o->progress_user, "classifying checkpoints", i, C.n);
        rc = measure(&C.c[i], &es, o, &sh, i == 0, err);
    }
    if (!rc && o->progress) o->progress(o->progress_user, "classifying checkpoints", C.n, C.n);
    rp_figs F = {o->out, NULL, 0, 0, err, 0};
    if (!rc) rc = scores_figure(&F, &C, es.n);
    if (!rc)
        rc = heads_figure(&F, &C, &sh, FIG_CLASS, "dynamics_classes",
                          "the class of every head at each checkpoint (rows: heads, columns: "
                          "steps)\nD clear diagonal (offset), B blurred diagonal (centre), V "
                          "vertical stripes, S sparse squares, H heterogeneous");
    if (!rc)
        rc = heads_figure(&F, &C, &sh, FIG_DIAG, "dynamics_diag",
                          "diagonal score (mass on the best offset) of every head at each checkpoint");
    if (!rc)
        rc = heads_figure(&F, &C, &sh, FIG_STRIPE, "dynamics_stripe",
                          "stripe score (mass on the 3 heaviest key columns) of every head at each "
                          "checkpoint");
    if (!rc)
        rc = heads_figure(&F, &C, &sh, FIG_BLOCK, "dynamics_block",
                          "block score (rows repeating within squares) of every head at each "
                          "checkpoint");
    if (!rc)
        rc = heads_figure(&F, &C, &sh, FIG_BAND, "dynamics_band",
                          "band score (mass on the best 7 consecutive offsets) of every head at each "
                          "checkpoint");
    if (!rc) rc = write_tsv(o->out, &C, &sh, err);
    if (!rc) rc = write_md(o, &C, &sh, &es, &F, util_now() - t0, err);
    if (!rc && res) *res = (report_result){F.n, util_now() - t0};
    free(F.f);
    rp_examples_free(&es);
    list_free(&C);
    an_fig_cleanup();
    return rc;
}
