/* eval.h - score a model on a data set: greedy-decode every example (spread
 * over the cores, one t5_run per thread) and print the quadratic task's
 * three scores (full solve, character accuracy, answer accuracy) overall and
 * per kind, where the wrong outputs first go wrong and how close their
 * discriminant's value comes, as a table or as JSON; optionally every
 * example's output as TSV.
 *
 * Deliberately not here: option parsing and exit codes (src/cli/cmd_eval.c),
 * the scores themselves (quad.h, src/task/score.c), drawing a progress bar
 * (the caller's callback). */
#ifndef ATTNSCOPE_EVAL_H
#define ATTNSCOPE_EVAL_H

#include <stdio.h>

#include "util.h"

/* Progress of the decoding: done of total examples after elapsed seconds.
 * Called from one thread at most every 0.2 s, then once with last = 1 when
 * the decoding ends (also when it failed, done < total then). */
typedef void (*eval_progress_fn)(void *user, size_t done, size_t total, double elapsed, int last);

/* What to score and how to print it. Strings are borrowed. */
typedef struct {
    const char *model_dir;     /* a model folder (resolved) */
    const char *data;          /* the data set (source<TAB>target) */
    const char *outputs_path;  /* NULL, or where every example's output goes (atomically) */
    size_t limit;              /* only the first N examples; 0: all */
    size_t max_len;            /* generated tokens per example (1..4096) */
    size_t threads;            /* decoding threads; 0: all cores */
    int json;                  /* print one JSON object instead of the table */
    FILE *out;                 /* where the table or JSON goes */
    eval_progress_fn progress; /* NULL: none */
    void *progress_user;
} eval_options;

/* Read the data, load the model, decode, score and print. Returns 0, or -1
 * with err filled (a bad data file, model or source, a failed decode, an
 * unwritable outputs file); nothing is printed to o->out then. */
int eval_run(const eval_options *o, as_err *err);

#endif
