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

/* Claim dir for this process: an exclusive flock(2) on dir/.train.lock,
 * which holds the claimant's pid. Two trainers writing one folder would
 * interleave their checkpoints and log rows; the second is refused with a
 * message naming the folder and the first one's pid. Returns the lock's
 * file descriptor (held until run_dir_unlock), or -1 with err filled. The
 * lock goes with the process, so a killed run never leaves a stale one. */
int run_dir_lock(const char *dir, as_err *err);

/* Release the claim of run_dir_lock (fd < 0: nothing) and remove the lock
 * file, which a finished run's folder need not show. */
void run_dir_unlock(const char *dir, int fd);

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
