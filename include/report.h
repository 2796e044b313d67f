/* report.h - the attention report as a module: run a model on a set of
 * equations, measure every head (src/analysis/) and write report.md, heads.tsv
 * and figures of every map type (PNG + SVG) into a folder.
 *
 *   report_options o; report_options_init(&o);   defaults of `attnscope report`
 *   o.model_dir = ...; o.out = ...;               what the caller wants
 *   if (report_check(&o, &err)) ...               a bad option: usage error
 *   report_result res;
 *   if (report_run(&o, &res, &err)) ...           a failed run
 *
 * Deliberately not here: option parsing, exit codes and where the bundled
 * model lives (src/cli/cmd_report.c); the statistics, classes and experiments
 * themselves (analysis.h); progress display (the caller's callback). */
#ifndef ATTNSCOPE_REPORT_H
#define ATTNSCOPE_REPORT_H

#include <stddef.h>

#include "analysis.h"
#include "util.h"

/* The equation drawn in the per-example figures unless options say another. */
#define REPORT_EXAMPLE_EQ "7x^2+3556x+451612=0"
/* Longest source (example or data set), in bytes with eos. */
#define REPORT_MAX_SRC 512

/* Progress of one stage ("tracing equations", "ablating heads", ...): called
 * with done = 0 when the stage starts and then as equations finish, done
 * rising to total. */
typedef void (*report_progress_fn)(void *user, const char *stage, size_t done, size_t total);

/* What to measure and where to write it. Strings are borrowed: they must stay
 * valid during report_run. */
typedef struct {
    const char *model_dir;  /* the model folder (resolved: no bundled-name lookup here) */
    const char *data;       /* a data-set file (source<TAB>target), or NULL: generate */
    const char *raw;        /* or any text (report --raw): one input a line, or
                               input<TAB>target; no task scores, no hypothesis,
                               probes or patching; ablation scored against the
                               target or the unablated greedy output */
    const char *preset;     /* with data NULL: the generator preset (seed, small) */
    const char *out;        /* the folder to write (created if needed) */
    const char *example;    /* the equation of the per-example figures (raw: the
                               input; NULL: the file's first line) */
    const char *ablation;   /* "zero" or "mean": what replaces an ablated head */
    size_t n;               /* equations for the statistics (1..1000000) */
    size_t seed;            /* generator seed and the random baseline's seed */
    size_t imp_n;           /* equations for head importance (0: skip) */
    size_t hyp_n;           /* equations for the special-symbol experiment (0: skip) */
    size_t draws;           /* random-digit baseline draws (2..1000) */
    size_t norm_n;          /* equations for the value-weighted maps (0: skip) */
    size_t probe_n;         /* equations for the probes (0 or 50..100000; ByT5 models) */
    size_t patch_n;         /* clean/corrupted pairs for activation patching (0: skip) */
    size_t max_len;         /* longest decoded output in tokens (1..4096) */
    size_t threads;         /* decoding threads for ablation and the hypothesis; 0: all cores */
    unsigned block_kinds;   /* bit per t5_attn_kind where keys are blocked; 0: both default runs */
    report_progress_fn progress; /* NULL: no progress */
    void *progress_user;
} report_options;

/* What a finished run wrote. */
typedef struct {
    size_t figures;  /* figures written (each as PNG and SVG) */
    double seconds;  /* wall time of the whole run */
} report_result;

/* The defaults of `attnscope report` (no model_dir, no out, no progress). */
void report_options_init(report_options *o);

/* Check the options without touching a file: ranges, the ablation mode, the
 * preset, the example's length. Returns 0, or -1 with err saying which option
 * is wrong and why (a usage error for a command). */
int report_check(const report_options *o, as_err *err);

/* Load the model, trace the equations, run the experiments and write
 * o->out/report.md, o->out/heads.tsv and the figures. Files are written
 * atomically (each file is either the old one or the new one). Returns 0 and
 * fills *res (NULL allowed), or -1 with err filled; report_check's checks are
 * repeated. */
int report_run(const report_options *o, report_result *res, as_err *err);

/* report --checkpoints: the training dynamics of a run. dirs are model
 * folders (checkpoints) or folders holding them (a training run's folder,
 * whose checkpoints/step-NNNNNN/ are read, with the run's final model); the
 * steps come from each folder's checkpoint.json or trainer_state.json, else
 * from a step-N name. Every checkpoint decodes the equations of o (data or
 * preset, n, max_len) and has every head classified; writes
 * o->out/dynamics.md, dynamics.tsv and figures (the scores and each head's
 * class, diagonal, stripe, block and band scores over the steps). At least
 * two checkpoints of one shape. Returns 0 (fills *res) or -1 with err
 * naming the folder. */
int report_dynamics_run(const report_options *o, const char *const *dirs, size_t n_dirs,
                        report_result *res, as_err *err);

/* "enc,cross" -> bits of t5_attn_kind (enc, dec, cross). Returns 0, or -1
 * when a name is unknown or the list is empty. */
int report_parse_kinds(const char *s, unsigned *out);

#endif
