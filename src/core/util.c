/* util.c - error messages, checked allocation, file reads, atomic writes,
 * the project's PRNG. See util.h for the contracts. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int as_errf(as_err *err, const char *fmt, ...)
{
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int as_errprefix(as_err *err, const char *fmt, ...)
{
    if (!err) return -1;
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%.400s: %.600s", prefix, old);
    return -1;
}

static void out_of_memory(size_t n)
{
    fprintf(stderr, "attnscope: out of memory (asked for %zu bytes)\n", n);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = xmalloc(n);
    memcpy(d, s, n);
    return d;
}

char *util_read_file(const char *path, size_t *len, as_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        as_errf(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        as_errf(err, "%s is a folder, not a file", path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        as_errf(err, "%s: read error (%s)", path, strerror(errno));
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int atomic_open(atomic_file *af, const char *path, as_err *err)
{
    memset(af, 0, sizeof *af);
    struct stat st;
    int exists = stat(path, &st) == 0;
    char *real = exists ? realpath(path, NULL) : NULL;
    af->path = real ? real : xstrdup(path);
    if (exists && !S_ISREG(st.st_mode)) {
        af->f = fopen(af->path, "wb");
    } else {
        size_t n = strlen(af->path) + 32;
        af->tmp = xmalloc(n);
        snprintf(af->tmp, n, "%s.tmp.%ld", af->path, (long)getpid());
        af->f = fopen(af->tmp, "wb");
        if (af->f && exists) fchmod(fileno(af->f), st.st_mode & 07777);
    }
    if (!af->f) {
        as_errf(err, "cannot write %s: %s", path, strerror(errno));
        free(af->path);
        free(af->tmp);
        memset(af, 0, sizeof *af);
        return -1;
    }
    return 0;
}

static void fsync_dir_of(const char *path)
{
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

int atomic_commit(atomic_file *af, as_err *err)
{
    int rc = 0;
    if (fflush(af->f) != 0 || ferror(af->f)) {
        rc = as_errf(err, "cannot write %s: %s", af->path, strerror(errno));
    } else if (af->tmp && fsync(fileno(af->f)) != 0) {
        rc = as_errf(err, "cannot write %s (fsync): %s", af->path, strerror(errno));
    }
    if (fclose(af->f) != 0 && rc == 0)
        rc = as_errf(err, "cannot write %s: %s", af->path, strerror(errno));
    af->f = NULL;
    if (af->tmp) {
        if (rc == 0 && rename(af->tmp, af->path) != 0)
            rc = as_errf(err, "cannot rename %s to %s: %s", af->tmp, af->path,
                         strerror(errno));
        if (rc != 0)
            unlink(af->tmp);
        else
            fsync_dir_of(af->path);
    }
    free(af->path);
    free(af->tmp);
    memset(af, 0, sizeof *af);
    return rc;
}

void atomic_abort(atomic_file *af)
{
    if (af->f) fclose(af->f);
    if (af->tmp) unlink(af->tmp);
    free(af->path);
    free(af->tmp);
    memset(af, 0, sizeof *af);
}

int util_write_atomic(const char *path, const void *buf, size_t len, as_err *err)
{
    atomic_file af;
    if (atomic_open(&af, path, err) != 0) return -1;
    fwrite(buf, 1, len, af.f);
    return atomic_commit(&af, err);
}

int util_blank(const char *s)
{
    if (!s) return 1;
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return 0;
    return 1;
}

int util_need_file(const char *path, const char *expect, as_err *err)
{
    struct stat st, lst;
    if (stat(path, &st) == 0) {
        if (S_ISREG(st.st_mode)) return 0;
        const char *what = S_ISDIR(st.st_mode)    ? "a folder"
                           : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                           : S_ISCHR(st.st_mode)  ? "a character device"
                           : S_ISBLK(st.st_mode)  ? "a block device"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                                                  : "not a regular file";
        char target[512] = "";
        if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
            char *real = realpath(path, NULL);
            snprintf(target, sizeof target, "a symbolic link to %.400s, ", real ? real : "?");
            free(real);
        }
        as_errf(err, "%s is %s%s, not a regular file (expected %s)", path, target, what, expect);
        return -1;
    }
    int e = errno;
    if (e == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        as_errf(err, "%s is a broken symbolic link (expected %s)", path, expect);
        return -1;
    }
    if (e == ENOENT) {
        as_errf(err, "%s is missing (expected %s)", path, expect);
        return 1;
    }
    if (e == ELOOP)
        as_errf(err, "%s is a symbolic link loop (expected %s)", path, expect);
    else if (e == ENOTDIR)
        as_errf(err, "%s: a part of the path is not a folder (expected %s)", path, expect);
    else
        as_errf(err, "cannot look at %s: %s (expected %s)", path, strerror(e), expect);
    return -1;
}

size_t util_json_depth(const char *text, size_t len, size_t *line)
{
    size_t depth = 0, max = 0, ln = 1;
    int in_str = 0;
    if (line) *line = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n') ln++;
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max) {
                max = depth;
                if (line) *line = ln;
            }
        } else if ((c == ']' || c == '}') && depth) {
            depth--;
        }
    }
    return max;
}

int util_json_nul(const char *text, size_t len, size_t *line)
{
    size_t ln = 1;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\0') return *line = ln, 1;
        if (c == '\n') ln++;
        if (in_str) {
            if (c == '\\' && i + 1 < len) {
                if (text[i + 1] == 'u' && i + 5 < len && !memcmp(text + i + 2, "0000", 4))
                    return *line = ln, 1;
                i++;
            } else if (c == '"') {
                in_str = 0;
            }
        } else if (c == '"') {
            in_str = 1;
        }
    }
    return 0;
}

int util_mkdir_p(const char *path, as_err *err)
{
    if (!path || !*path) return as_errf(err, "an empty folder name");
    char *p = xstrdup(path);
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                as_errf(err, "cannot create folder %s: %s", p, strerror(errno));
                free(p);
                return -1;
            }
            *s = c;
            if (c == '\0') break;
        }
    }
    struct stat st;
    int ok = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    return ok ? 0 : as_errf(err, "%s exists and is not a folder", path);
}

double util_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(as_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(as_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

int64_t rng_range(as_rng *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;  /* 0 means the full 2^64 range */
    if (span == 0) return (int64_t)rng_next(r);
    uint64_t limit = UINT64_MAX - UINT64_MAX % span;  /* reject the biased tail */
    uint64_t x;
    do x = rng_next(r); while (x >= limit);
    return lo + (int64_t)(x % span);
}

double rng_uniform(as_rng *r)
{
    return (rng_next(r) >> 11) * 0x1.0p-53;
}

double rng_normal(as_rng *r)
{
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
