/* eval.h - check a model against the exact solver.
 *
 * eval_run scores a model on a data set: greedy-decode every example (spread
 * over the cores, one t5_run per thread) and print the quadratic task's
 * three scores (full solve, character accuracy, answer accuracy) overall and
 * per kind, where the wrong outputs first go wrong and how close their
 * discriminant's value comes, as a table or as JSON; optionally every
 * example's output as TSV. solve_run does it for a few equations a person
 * types, one by one, showing each output beside its target.
 *
 * Deliberately not here: option parsing and exit codes (src/cli/cmd_eval.c,
 * src/cli/cmd_solve.c), the scores themselves (quad.h, src/task/score.c),
 * drawing a progress bar or printing error messages (the caller's
 * callbacks). */
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

/* ---- solve: equations a person types ------------------------------------ */

/* What went wrong, for solve_problem_fn. After the first two the equations
 * are still solved, without the model. */
typedef enum {
    SOLVE_MODEL_UNLOADABLE, /* the model folder cannot be loaded */
    SOLVE_TOKENIZER,        /* the model folder's tokenizer cannot be opened */
    SOLVE_EQUATION,         /* an equation is rejected, has no exact target, or its
                             * decoding failed ("equation N, ...") */
} solve_problem;

/* One problem, as it happens (between the equations' text on out): msg
 * says what and where, without a trailing newline; it is valid during the
 * call only. */
typedef void (*solve_problem_fn)(void *user, solve_problem what, const char *msg);

/* What to solve and where it goes. Strings are borrowed. */
typedef struct {
    const char *const *equations; /* (n) as typed: solve_run parses them (quad_parse) */
    size_t n;
    const char *model_dir;        /* a model folder (resolved); NULL: exact solutions only */
    size_t max_len;               /* generated tokens per equation (1..4096) */
    FILE *out;                    /* where each equation's lines go */
    solve_problem_fn problem;     /* NULL: problems are only counted */
    void *problem_user;
} solve_options;

/* For each equation, in order, print to o->out what was typed, its
 * canonical source and kind, the model's greedy output (when there is a
 * model) against the exact target (right, or the first wrong character
 * with a caret), and the roots; a rejected equation gets a caret under the
 * column the parser names. The model is loaded only when an equation
 * parses. Returns the number of problems told to o->problem (0: every
 * equation was solved, rightly or not by the model). */
size_t solve_run(const solve_options *o);

#endif
