/* run_dir.h - the training run's output folder (run_dir.c): which folders a
 * run may write into, and log.tsv. Internal to src/train.
 *
 * Deliberately not here: the checkpoint files (checkpoint.c). */
#ifndef ATTNSCOPE_RUN_DIR_H
#define ATTNSCOPE_RUN_DIR_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

/* Whether a run may write into dir: never the root folder; with resume
 * anything else (the checkpoint is checked when read); else dir must be
 * missing or empty unless force is set. Returns 0, or -1 with a message
 * naming dir and what it holds and saying --resume or --force. */
int run_dir_check(const char *dir, int resume, int force, as_err *err);

/* After a forced run's first checkpoint: remove the old model's tokenizer
 * files (spiece.model, tokenizer.json), which the loader would otherwise
 * read with the new ByT5 model. */
void run_dir_drop_stale(const char *dir);

/* Open dir/log.tsv for appending rows. A fresh run (resume 0) starts it
 * anew with header (its first line, starting "step\t"); a resumed one keeps
 * the rows up to step (the checkpoint's) and cuts off the rest, so no step
 * appears twice (a log without that header starts anew). NULL with err
 * filled when it cannot be written. */
FILE *run_dir_open_log(const char *dir, int resume, size_t step, const char *header,
                       as_err *err);

#endif
