/* model_int.h - what model.c lends model_io.c for loading a model whose
 * weights are not in its own params array (t5_load_mapped). Private to
 * src/core.
 *
 * Deliberately not here: anything public (t5.h). */
#ifndef ATTNSCOPE_MODEL_INT_H
#define ATTNSCOPE_MODEL_INT_H

#include "t5.h"

/* As t5_alloc but without params: the table (every tensors[i].data NULL)
 * and the block arrays. The caller points each tensors[i].data somewhere,
 * then calls t5_bind_weights. Free with t5_free. */
int t5_alloc_unbacked(t5_model *m, const t5_config *cfg, as_err *err);

/* Set the weight pointers (m->w) from tensors[i].data. */
void t5_bind_weights(t5_model *m);

#endif
