/* safetensors.h - read and write the safetensors format (8-byte little-endian
 * header length, a JSON header naming each tensor's dtype, shape and byte
 * range, then the raw data). Files are memory-mapped for reading; every
 * header field is checked against the file's real size before use.
 *
 * Deliberately not here: what the tensors mean (t5_load maps HF names to the
 * parameter table). */
#ifndef ATTNSCOPE_SAFETENSORS_H
#define ATTNSCOPE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef enum { ST_F32, ST_F16, ST_BF16, ST_I32, ST_I64 } st_dtype;

#define ST_MAX_DIMS 8

typedef struct {
    char *name;
    st_dtype dtype;
    size_t ndim;
    size_t shape[ST_MAX_DIMS];
    size_t numel;
    const uint8_t *data;  /* into the mapping; valid until st_close */
    size_t nbytes;
} st_tensor;

typedef struct {
    char *path;
    void *map;
    size_t map_len;
    st_tensor *tensors;
    size_t n_tensors;
} st_file;

/* Map and parse path. Returns 0, or -1 with a message naming the file and
 * what is wrong (empty or truncated, header past the end, corrupted JSON,
 * offsets out of range or reversed, unknown dtype, shape and byte size that
 * disagree, a name given twice, tensors whose bytes overlap). Gaps between
 * tensors are accepted. Tensor data may be unaligned; use st_to_f32 /
 * st_to_int rather than casting t->data. */
int st_open(st_file *f, const char *path, as_err *err);
void st_close(st_file *f);

/* The tensor called name, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);

/* Convert a float tensor (F32, F16, BF16) or an integer one to F32 into out
 * (numel floats). Returns 0 or -1. */
int st_to_f32(const st_tensor *t, float *out, as_err *err);
/* Convert an integer or float tensor to int (I32/I64 exact; floats rounded). */
int st_to_int(const st_tensor *t, int *out, as_err *err);

/* One tensor to write: data points to numel elements of dtype. */
typedef struct {
    const char *name;
    st_dtype dtype;
    size_t ndim;
    size_t shape[ST_MAX_DIMS];
    const void *data;
} st_out;

/* Write n tensors to path atomically (a failure leaves an old file intact).
 * metadata may be NULL or a JSON object text for "__metadata__". */
int st_write(const char *path, const st_out *tensors, size_t n, const char *metadata,
             as_err *err);

#endif
