/* examples.c - the report's inputs: equations from a data-set file or a
 * preset, or raw text lines (report --raw), as parallel arrays.
 *
 * Deliberately not here: tokenising and sizes (report.c). */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

void rp_examples_free(rp_examples *e)
{
    if (e->src && !e->ds.ex && !e->raw.n) {
        for (size_t i = 0; i < e->n; i++) free(e->src[i]), free(e->tgt[i]);
    }
    free(e->src);
    free(e->tgt);
    free(e->kind);
    quad_ds_free(&e->ds);
    rp_raw_free(&e->raw);
}

static void examples_alloc(rp_examples *e, size_t n)
{
    e->n = n;
    e->src = xcalloc(n, sizeof *e->src);
    e->tgt = xcalloc(n, sizeof *e->tgt);
    e->kind = xcalloc(n, sizeof *e->kind);
}

/* report --raw: the file's lines, borrowed from e->raw. */
static int load_raw(const report_options *o, rp_examples *e, as_err *err)
{
    if (rp_raw_read(o->raw, o->n, &e->raw, err)) return -1;
    e->n = e->raw.n;
    e->src = xcalloc(e->n, sizeof *e->src);
    memcpy(e->src, e->raw.input, e->n * sizeof *e->src);
    if (e->raw.has_target) {
        e->tgt = xcalloc(e->n, sizeof *e->tgt);
        memcpy(e->tgt, e->raw.target, e->n * sizeof *e->tgt);
    }
    return 0;
}

int rp_examples_load(const report_options *o, rp_examples *e, as_err *err)
{
    memset(e, 0, sizeof *e);
    if (o->raw) return load_raw(o, e, err);
    if (o->data) {
        if (quad_ds_read(o->data, o->n, &e->ds, err)) return -1;
        if (e->ds.n == 0) return as_errf(err, "%s: no examples", o->data);
        examples_alloc(e, e->ds.n);
        for (size_t i = 0; i < e->n; i++) {
            e->src[i] = (char *)e->ds.ex[i].source;
            e->tgt[i] = (char *)e->ds.ex[i].target;
            e->kind[i] = (int)e->ds.ex[i].kind;
        }
        return 0;
    }
    const quad_preset *p = quad_preset_find(o->preset);
    if (!p) return as_errf(err, "unknown preset '%s' (the presets are seed and small)", o->preset);
    quad_eq *eqs = xmalloc(o->n * sizeof *eqs);
    quad_generate(p, o->n, (uint64_t)o->seed, eqs);
    examples_alloc(e, o->n);
    for (size_t i = 0; i < e->n; i++) {
        char s[QUAD_SOURCE_MAX], t[QUAD_TARGET_MAX];
        quad_format_source(&eqs[i], s, sizeof s);
        if (quad_format_target(&eqs[i], t, sizeof t, err) < 0) {
            free(eqs);
            return -1;
        }
        e->src[i] = xstrdup(s);
        e->tgt[i] = xstrdup(t);
        e->kind[i] = (int)quad_kind_of(&eqs[i]);
    }
    free(eqs);
    return 0;
}
