/* checkpoint.h - a training run's checkpoints (checkpoint.c): what of a run
 * a checkpoint keeps, writing one and reading one back for --resume.
 * Internal to src/train.
 *
 * Deliberately not here: when a checkpoint is written (loop.c), the output
 * folder's rules and log.tsv (run_dir.h). */
#ifndef ATTNSCOPE_CHECKPOINT_H
#define ATTNSCOPE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "quad.h"
#include "train.h"

/* What of a run a checkpoint keeps beside the weights and moments. */
typedef struct {
    size_t step, total, batch;
    int threads;
    uint64_t seed;
    double loss, lr, elapsed;
    int have_eval;
    size_t eval_step;
    quad_scores eval;
    train_speed *speed;      /* the run's speed so far (trainer_state.json "machine") */
    size_t steps_before;     /* model.init_from's steps (checkpoint.json "steps_before") */
    int ema_resumed;         /* ckpt_load: the checkpoint kept a moving average (optimizer.ema) */
} run_state;

/* dir/name, newly allocated (the caller frees it). */
char *ckpt_path_in(const char *dir, const char *name);

/* Write the checkpoint of run state rs into dir (see checkpoint.c for the
 * order of the files and why a crash leaves a resumable folder). tr may be
 * NULL (the step-0 checkpoint, before the trainer exists); with an
 * auxiliary head (loss.aux_weight) its state is kept too. With a moving
 * average (opt->ema) model.safetensors holds it (m's weights and the average
 * are exchanged while it is written, and back). Returns 0, or -1 with err
 * filled; the previous checkpoint then stays intact. */
int ckpt_save(const char *dir, const train_settings *s, t5_model *m, adamw_state *opt,
              const run_state *rs, t5_trainer *tr, as_err *err);

/* Resume from dir/optimizer.safetensors: allocate m for the settings'
 * model, fill its weights, opt's moments and rs's step, threads and elapsed
 * time from the file; with optimizer.ema, opt's moving average too (from
 * the weights when the checkpoint has none: rs->ema_resumed 0). -1 with
 * err filled when there is no checkpoint, or it is of another model, batch
 * or seed. */
int ckpt_load(const char *dir, const train_settings *s, t5_model *m, adamw_state *opt,
              run_state *rs, as_err *err);

/* The auxiliary head of dir/optimizer.safetensors into tr; a checkpoint
 * without one (a run that started without loss.aux_weight) leaves it at
 * zero, where a new head starts. */
int ckpt_load_aux(const char *dir, t5_trainer *tr, size_t d_model, as_err *err);

/* The kept checkpoints (train.keep_checkpoints) live in dir/CKPT_KEPT_DIR,
 * one folder per step, step-NNNNNN (the step, 6 digits at least): a model
 * folder (config.json, model.safetensors; no optimizer state) plus
 * checkpoint.json {"step": N, "loss": the step's training loss,
 * "steps_before": model.init_from's training steps (absent when none), "eval": the
 * scores of the evaluation at that step, as trainer_state.json's "eval";
 * absent when the step did not evaluate}. */
#define CKPT_KEPT_DIR "checkpoints"

/* Keep m as the kept checkpoint of rs's step: written into a temporary
 * folder (.step-NNNNNN.tmp) and renamed into place, then the oldest step
 * folders removed until keep (>= 1) are left. Returns 0, or -1 with err
 * filled (the folders there before stay, no temporary one is left). */
int ckpt_keep(const char *dir, const t5_model *m, const run_state *rs, size_t keep, as_err *err);

/* Remove every kept checkpoint of dir (a --force run over an old run's
 * folder: they belong to the old model). */
void ckpt_drop_kept(const char *dir);

/* On --resume: sp's totals of the sessions before, from dir's
 * trainer_state.json when it is the checkpoint's (of step step). */
void ckpt_speed_resume(train_speed *sp, const char *dir, size_t step);

#endif
