/* report_int.h - what the files of src/report/ share: the sums collected over
 * the traced equations (accum.c), the list of figures written and the
 * drawing helpers (figures.c), and the writing of report.md and heads.tsv
 * (write.c). report.c runs the stages in order.
 *
 * Deliberately not here: anything another module may call (include/report.h). */
#ifndef ATTNSCOPE_REPORT_INT_H
#define ATTNSCOPE_REPORT_INT_H

#include <stdio.h>

#include "analysis.h"
#include "probe.h"
#include "quad.h"
#include "report.h"
#include "t5.h"
#include "trace.h"

/* ---- what is accumulated over the equations (accum.c) ------------------- */

typedef struct {
    const t5_model *m;
    size_t L[AN_N_KINDS], H, max_src, max_tgt;
    an_stats *stats;
    an_means means;                 /* per-head position-aligned means */
    an_grid **cls[AN_N_KINDS];      /* per layer: class x class, over heads and equations */
    an_grid *pos[AN_N_KINDS];       /* over layers, heads and equations, by position */
    an_grid *sum_pos[2], *sum_cls[2]; /* summary maps of ENC_SELF (0) and CROSS (1) */
    an_grid *roll[2];               /* rollout of ENC_SELF (0), DEC_SELF (1) */
    unsigned char seen_q[AN_N_KINDS][AN_TC_COUNT], seen_k[AN_N_KINDS][AN_TC_COUNT];
    float *buf;                     /* scratch, max(max_src, max_tgt)^2 */
    size_t traces;
    const an_examples *ex;          /* the equations, in the order they are traced */
    quad_scores scores;             /* of the traced (greedy) outputs; not for raw text */
    int byte_classes;               /* ids are ByT5 bytes: token classes mean something */
    const char *noun;               /* "equations", or "inputs" for raw text */
} rp_accum;

/* tok: the model's tokenizer (a SentencePiece model's ids have no token
 * classes: the by-class sums stay empty and their figures are not drawn). */
void rp_accum_init(rp_accum *a, const t5_model *m, const tok_vocab *tok, size_t max_src,
                   size_t max_tgt);
void rp_accum_free(rp_accum *a);
/* an_collect's callback: add one trace (user is the rp_accum). */
void rp_accum_trace(void *user, const attn_trace *t);

/* ---- the figures (figures.c) --------------------------------------------- */

typedef struct {
    char name[64];
    char caption[256];
} rp_figure;

/* The figures written so far, for report.md's list. After the first failure
 * failed is set, err holds why and no further figure is drawn. */
typedef struct {
    const char *dir;
    rp_figure *f;
    size_t n, cap;
    as_err *err;
    int failed;
} rp_figs;

const char *rp_kind_short(int k);  /* "enc", "dec", "cross" */

/* The three scores of an_score_set and the one that ranks heads: the
 * task's (full solve, character accuracy, answer accuracy; ranked by
 * characters) or raw text's (log-likelihood per token, next-token
 * agreement, exact match; ranked by the target's log-likelihood, or by
 * agreement with the greedy output when there is no target). */
typedef struct {
    const char *name[3];
    int main;
} rp_scores;
rp_scores rp_score_names(const an_examples *ex);
const char *rp_kind_long(int k);   /* "encoder self-attention", ... */

/* Record a figure written as dir/name.{png,svg}; the caption is made one line. */
void rp_fig_add(rp_figs *F, const char *name, const char *caption);
/* dir/name into buf. */
void rp_fig_base(const rp_figs *F, const char *name, char *buf, size_t cap);

/* The class of every head (after an_stats_finish_all). */
void rp_class_figure(rp_figs *F, rp_accum *a);
/* Every map type of one traced example (tc: its heads' classes), its tokens
 * labelled by tok. */
void rp_example_figures(rp_figs *F, const tok_vocab *tok, const attn_trace *t,
                        const an_trace_classes *tc, const char *eq);
/* Means over the traced equations: by position, by class, per head. */
void rp_aggregate_figures(rp_figs *F, rp_accum *a);
/* The character-accuracy drop of every head's ablation. */
void rp_importance_figure(rp_figs *F, const rp_accum *a, const an_importance *imp,
                          const char *ablation, size_t n);
/* The hypothesis bars of n_hy runs (1: --block-in, 2: every map and source). */
int rp_hypothesis_figure(rp_figs *F, const an_hypothesis *hy, size_t n_hy, size_t n,
                         size_t draws, as_err *err);

/* ---- beyond attention weights (beyond.c, beyond_write.c) ------------------- */

#define RP_PAIR_LIST 8
/* A pair is patched only when the corruption costs the clean answer at
 * least one nat: the restored share divides by lp_clean - lp_corrupt, and
 * a gap under one nat (a change the model hardly notices) turns noise into
 * shares of +-5 (seen on the bundled model). */
#define RP_PATCH_MIN_GAP 1.0
typedef struct {
    char clean[QUAD_SOURCE_MAX], corrupt[QUAD_SOURCE_MAX];
    double lp_clean, lp_corrupt;
} rp_pair;

/* What the sections beyond attention weights measured. */
typedef struct {
    int byte_level;           /* probes and patching need a ByT5 model */
    int raw;                  /* report --raw: any text, so no probes or patching */
    size_t norm_n;            /* equations of the value-norm pass (0: skipped) */
    an_stats *w, *nm;         /* the same greedy runs, on weights and on norms */
    int have_probe;
    an_probe_result probe;
    char probe_note[1024];    /* why the probes did not run, or "" */
    size_t n_pairs[2];        /* patched pairs with b (0) or c (1) changed */
    size_t pairs_tried;
    /* [changed][stack][comp]: sums and counts of the restored share by
     * (row, position class); rows as in an_patch_result */
    double *psum[2][2][AN_PCOMP_COUNT], *pcnt[2][2][AN_PCOMP_COUNT];
    size_t prows[2][AN_PCOMP_COUNT];
    rp_pair list[RP_PAIR_LIST];
    size_t n_list;
} rp_beyond;

/* Run the value-norm pass (o->norm_n greedy runs of the report's
 * equations), the probes (o->probe_n equations of the same data or preset)
 * and patching (o->patch_n pairs made from the report's equations, the last
 * digit of b or c moved by one), each skipped at 0; probes and patching
 * only on a byte-level model. Figures go to F. Returns 0 or -1 (err). */
int rp_beyond_run(rp_beyond *b, const report_options *o, const t5_model *m, const tok_vocab *tok,
                  const an_examples *ex, t5_run *run, size_t max_src, size_t max_tgt, rp_figs *F,
                  as_err *err);
void rp_beyond_free(rp_beyond *b);
/* The mass a head puts on special-symbol keys (x ^ = + - * ( ) ; D < /). */
double rp_special_mass(const an_head_stats *s);
/* The mean restored share of (changed, stack, comp, row, position class);
 * NaN when no pair had it. */
double rp_patch_mean(const rp_beyond *b, int which, int s, int c, size_t row, int pc);
/* report.md's sections on value norms, probes, patching and the verdict
 * (hys: the ablation experiments, n_hy of them). */
void rp_beyond_write(FILE *f, const rp_beyond *b, const an_hypothesis *hys, size_t n_hy);

/* ---- report --raw's input (raw_input.c) -------------------------------- */

typedef struct {
    char **input, **target;   /* (n) into buf; target NULL when the file has none */
    size_t *line;             /* (n) 1-based line numbers */
    size_t n;
    int has_target;
    char *buf;                /* the file's text, owned */
} rp_raw_set;
/* Read up to limit lines (0: all). Returns 0, or -1 with "FILE:LINE: what"
 * (invalid UTF-8, an empty input, two tabs, a target on some lines only, no
 * line at all). Free with rp_raw_free. */
int rp_raw_read(const char *path, size_t limit, rp_raw_set *r, as_err *err);
void rp_raw_free(rp_raw_set *r);

/* ---- the inputs (examples.c) ---------------------------------------------- */

typedef struct {
    char **src, **tgt;       /* tgt NULL: raw text without targets */
    int *kind;               /* NULL for raw text */
    size_t n;
    quad_dataset ds;         /* --data: the strings live here */
    rp_raw_set raw;          /* --raw: or here */
} rp_examples;

/* The equations of o->data, or o->n generated from o->preset with o->seed,
 * or the lines of o->raw (at most o->n). Returns 0, or -1 with err naming
 * the file and line. Free with rp_examples_free (also after a failure). */
int rp_examples_load(const report_options *o, rp_examples *e, as_err *err);
void rp_examples_free(rp_examples *e);

/* ---- report.md and heads.tsv (write.c) ----------------------------------- */

/* What the finished stages measured. imp NULL when importance was skipped;
 * imp_n is the number of equations it used. */
typedef struct {
    const report_options *o;
    const t5_model *m;
    const an_examples *ex;   /* ex->tok: the model's tokenizer */
    rp_accum *a;
    const an_importance *imp;
    size_t imp_n;
    const an_hypothesis *hys;
    size_t n_hy;
    const rp_figs *F;
    const rp_beyond *B;      /* NULL: nothing beyond attention weights */
    double seconds;
    const double *raw_base;  /* report --raw: the three scores without ablation */
} rp_results;

int rp_write(const rp_results *r, as_err *err);

#endif
