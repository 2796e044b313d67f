/* model_kind.h - what kind of model a folder holds, as far as the UI and
 * `render` need to know before loading it: one that attnscope trained on the
 * quadratic task, or a Hugging Face checkpoint taken as a general text model
 * (raw mode: any text, no equation parser).
 *
 * Deliberately not here: loading (t5.h) or tokenising (tokenizer.h). */
#ifndef ATTNSCOPE_MODEL_KIND_H
#define ATTNSCOPE_MODEL_KIND_H

#include "quad.h"

/* 1 if the folder dir (not NULL) was written by Hugging Face - its
 * config.json names "transformers_version" or "_name_or_path" - and not
 * trained by attnscope (no train.cfg, metrics.json or trainer_state.json);
 * else 0, also when config.json cannot be read (the load reports that). */
int model_dir_guess_raw(const char *dir);

/* The task preset (quad.h) the folder's model was trained on: data.preset
 * of its metrics.json (a bundled model), else of its trainer_state.json (a
 * training run). NULL when neither names a known one (a Hugging Face
 * checkpoint, a model trained on data-set files, a file that does not
 * parse). */
const quad_preset *model_dir_preset(const char *dir);

#endif
