/* model_kind.h - what kind of model a folder holds, as far as the UI and
 * `render` need to know before loading it: one that attnscope trained on the
 * quadratic task, or a Hugging Face checkpoint taken as a general text model
 * (raw mode: any text, no equation parser).
 *
 * Deliberately not here: loading (t5.h) or tokenising (tokenizer.h). */
#ifndef ATTNSCOPE_MODEL_KIND_H
#define ATTNSCOPE_MODEL_KIND_H

#include <cJSON.h>

#include "quad.h"

/* 1 if the folder dir (not NULL) was written by Hugging Face - its
 * config.json names "transformers_version" or "_name_or_path" - and not
 * trained by attnscope (no train.cfg, metrics.json or trainer_state.json);
 * else 0, also when config.json cannot be read (the load reports that). */
int model_dir_guess_raw(const char *dir);

/* What the folder says of how its model was trained, parsed: its
 * metrics.json (a bundled model), else its trainer_state.json (a training
 * run, perhaps unfinished); both keep the data in "data". *file, when file
 * is not NULL, names the file read ("metrics.json" or "trainer_state.json"),
 * or is NULL when the folder has neither. NULL when there is none or the one
 * there does not parse (then *file names it). The caller frees the result
 * with cJSON_Delete. */
cJSON *model_dir_record(const char *dir, const char **file);

/* The task preset (quad.h) the folder's model was trained on: data.preset
 * of its record (model_dir_record). NULL when it names no known one (a
 * Hugging Face checkpoint, a model trained on data-set files, a file that
 * does not parse). */
const quad_preset *model_dir_preset(const char *dir);

#endif
