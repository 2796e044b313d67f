/* util.h - small things every module uses: error messages, checked
 * allocation, whole-file reads and crash-safe (atomic) file writes.
 *
 * Deliberately not here: anything that knows about models, equations or
 * terminals. */
#ifndef ATTNSCOPE_UTIL_H
#define ATTNSCOPE_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* An error message filled by library code. Library functions return -1 (or
 * NULL) and fill *err; only main and the command layer decide to exit.
 * Every function that takes an as_err * accepts NULL (the message is
 * dropped). */
typedef struct {
    char msg[1024];
} as_err;

/* Fill err with a printf-style message; returns -1 so callers can write
 * `return as_errf(err, "...")`. */
int as_errf(as_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix an existing message: "what: <old message>". Returns -1. */
int as_errprefix(as_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* malloc/calloc/realloc that print a message and exit(1) when memory runs
 * out: a T5 of this size that cannot get its buffers has nothing to fall
 * back on. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Read a whole file into a NUL-terminated buffer (caller frees). *len gets
 * the byte count without the NUL. Returns NULL and fills err on failure. */
char *util_read_file(const char *path, size_t *len, as_err *err);

/* Crash-safe writes: data goes to "<path>.tmp.<pid>" in the same folder, is
 * flushed and fsync'ed, then renamed over path, and the folder is fsync'ed.
 * A failure (full disk, unwritable folder) removes the temporary file and
 * leaves any old file at path untouched. A symbolic link is followed (the
 * file it names is replaced, the link stays), an old file's permissions are
 * kept, and a path that is not a regular file (/dev/null, /dev/stdout, a
 * FIFO) is written directly: renaming over it would replace the device. */
typedef struct {
    FILE *f;
    char *path;  /* the file written (a link resolved) */
    char *tmp;   /* NULL when writing path directly */
} atomic_file;

/* Open a temporary file for path. Returns 0, or -1 with err filled. */
int atomic_open(atomic_file *af, const char *path, as_err *err);
/* Flush, fsync and rename into place. Always closes af; returns -1 and
 * removes the temporary when any write (including earlier fwrite calls)
 * failed. */
int atomic_commit(atomic_file *af, as_err *err);
/* Close and remove the temporary; the old file stays. */
void atomic_abort(atomic_file *af);
/* One call: write buf to path atomically. */
int util_write_atomic(const char *path, const void *buf, size_t len, as_err *err);

/* mkdir -p for one path; 0 on success or when it exists as a folder. An
 * empty path is an error. */
int util_mkdir_p(const char *path, as_err *err);

/* 1 when s is NULL, empty or only white space: never a usable path. */
int util_blank(const char *s);

/* Whether path is a regular file that can be opened. 0 when it is; 1 when
 * it does not exist ("PATH is missing (expected EXPECT)" in err); -1 with
 * what it is instead in err: a folder, a FIFO, a device (and the file a
 * symbolic link names), a symbolic link loop or a broken link, a path that
 * cannot be looked at (permission denied). expect says what should be
 * there, e.g. "a safetensors file". */
int util_need_file(const char *path, const char *expect, as_err *err);

/* The deepest nesting of arrays and objects in JSON text (strings
 * skipped), and in *line (may be NULL) the line where it is first reached:
 * how a message says that a text is nested deeper than the JSON reader
 * takes (cJSON: CJSON_NESTING_LIMIT levels). */
size_t util_json_depth(const char *text, size_t len, size_t *line);

/* 1 when JSON text holds a NUL byte, raw or as the escape \u0000 in a
 * string (a key or value C code would cut short), with its line in *line;
 * else 0. */
int util_json_nul(const char *text, size_t len, size_t *line);

/* Monotonic wall clock in seconds. */
double util_now(void);

/* The splitmix64 / xoshiro256** generator: specified, portable, seeded, the
 * same stream on every machine. Used wherever attnscope draws random
 * numbers (data sets, initialisation, dropout-free shuffles). */
typedef struct {
    uint64_t s[4];
} as_rng;
void rng_seed(as_rng *r, uint64_t seed);
uint64_t rng_next(as_rng *r);
/* Uniform integer in [lo, hi] (inclusive), without modulo bias. */
int64_t rng_range(as_rng *r, int64_t lo, int64_t hi);
/* Uniform float in [0, 1). */
double rng_uniform(as_rng *r);
/* Standard normal (Box-Muller). */
double rng_normal(as_rng *r);

#endif
