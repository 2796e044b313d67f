/* safetensors.c - the safetensors format: an 8-byte little-endian header
 * length N, N bytes of JSON ({"name": {"dtype", "shape", "data_offsets"}},
 * optionally "__metadata__"), then the tensor bytes. Reading maps the file
 * and checks every header field against the file's real size before any
 * byte of data is touched; writing pads the header with spaces to a multiple
 * of 8 (as Hugging Face's writer does) and goes through atomic_file.
 *
 * Deliberately not here: tensor names and their meaning (model_io.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "safetensors.h"

/* The reference implementation refuses headers above 100 MB; so do we. */
#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

static const struct {
    const char *name;
    st_dtype dtype;
    size_t size;
} dtypes[] = {
    {"F32", ST_F32, 4}, {"F16", ST_F16, 2}, {"BF16", ST_BF16, 2},
    {"I32", ST_I32, 4}, {"I64", ST_I64, 8},
};
#define N_DTYPES (sizeof dtypes / sizeof dtypes[0])

static size_t dtype_size(st_dtype d)
{
    for (size_t i = 0; i < N_DTYPES; i++)
        if (dtypes[i].dtype == d) return dtypes[i].size;
    return 0;
}

static const char *dtype_name(st_dtype d)
{
    for (size_t i = 0; i < N_DTYPES; i++)
        if (dtypes[i].dtype == d) return dtypes[i].name;
    return "?";
}

/* ---- reading ------------------------------------------------------------- */

/* A JSON number that is a whole number in [0, 2^53]; -1 otherwise. */
static int json_size(const cJSON *j, size_t *out)
{
    if (!cJSON_IsNumber(j)) return -1;
    double v = j->valuedouble;
    if (!(v >= 0.0) || v > 9007199254740992.0 || v != floor(v)) return -1;
    *out = (size_t)v;
    return 0;
}

static int cmp_offset(const void *a, const void *b)
{
    const st_tensor *x = a, *y = b;
    if (x->data != y->data) return x->data < y->data ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

static int cmp_name_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parse one tensor entry of the header into t. data is the start of the
 * byte buffer (after the header), data_len its length. */
static int parse_entry(st_tensor *t, const cJSON *e, const uint8_t *data, size_t data_len,
                       as_err *err)
{
    const char *name = e->string;
    if (!cJSON_IsObject(e)) return as_errf(err, "tensor %s: entry is not a JSON object", name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt)) return as_errf(err, "tensor %s: missing or non-string \"dtype\"", name);
    if (!cJSON_IsArray(sh)) return as_errf(err, "tensor %s: missing or non-array \"shape\"", name);
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2)
        return as_errf(err, "tensor %s: \"data_offsets\" must be an array [begin, end]", name);

    size_t esize = 0;
    for (size_t i = 0; i < N_DTYPES; i++)
        if (strcmp(dt->valuestring, dtypes[i].name) == 0) {
            t->dtype = dtypes[i].dtype;
            esize = dtypes[i].size;
        }
    if (!esize)
        return as_errf(err,
                       "tensor %s: unsupported dtype \"%.32s\" (attnscope reads F32, F16, BF16, "
                       "I32, I64)",
                       name, dt->valuestring);

    int nd = cJSON_GetArraySize(sh);
    if (nd > ST_MAX_DIMS)
        return as_errf(err, "tensor %s: %d dimensions (at most %d)", name, nd, ST_MAX_DIMS);
    t->ndim = (size_t)nd;
    size_t numel = 1;
    int overflow = 0;
    for (int i = 0; i < nd; i++) {
        size_t d;
        if (json_size(cJSON_GetArrayItem(sh, i), &d))
            return as_errf(err, "tensor %s: shape entry %d is not a non-negative integer", name, i);
        t->shape[i] = d;
        if (d && numel > SIZE_MAX / d) overflow = 1;
        numel *= d;
    }
    if (overflow || numel > SIZE_MAX / esize)
        return as_errf(err, "tensor %s: shape is impossibly large", name);
    t->numel = numel;

    size_t begin, end;
    if (json_size(cJSON_GetArrayItem(of, 0), &begin) || json_size(cJSON_GetArrayItem(of, 1), &end))
        return as_errf(err, "tensor %s: data_offsets are not non-negative integers", name);
    if (end < begin)
        return as_errf(err, "tensor %s: data_offsets reversed ([%zu, %zu])", name, begin, end);
    if (end > data_len)
        return as_errf(err,
                       "tensor %s: data_offsets [%zu, %zu] out of range (the data section has "
                       "%zu bytes; truncated file?)",
                       name, begin, end, data_len);
    if (end - begin != numel * esize)
        return as_errf(err,
                       "tensor %s: shape holds %zu bytes of %s but data_offsets span %zu bytes",
                       name, numel * esize, dt->valuestring, end - begin);
    t->data = data + begin;
    t->nbytes = end - begin;
    return 0;
}

/* Parse the JSON header; fills f->tensors. */
static int parse_header(st_file *f, const char *json, size_t json_len, const uint8_t *data,
                        size_t data_len, as_err *err)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, json_len, &end, 0);
    if (!root) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        size_t depth = util_json_depth(json, json_len, NULL);
        if (depth > CJSON_NESTING_LIMIT)
            return as_errf(err, "corrupted header: JSON nested %zu levels deep (the JSON reader "
                                "takes at most %d)",
                           depth, CJSON_NESTING_LIMIT);
        return as_errf(err, "corrupted header: invalid JSON near byte %zu of %zu", at, json_len);
    }
    /* Only trailing spaces (the writer's padding) may follow the object. */
    for (const char *p = end; p && p < json + json_len; p++)
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != '\0') {
            cJSON_Delete(root);
            return as_errf(err, "corrupted header: text after the JSON object at byte %zu",
                           (size_t)(p - json));
        }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return as_errf(err, "corrupted header: the JSON header is not an object");
    }
    size_t n = 0;
    for (const cJSON *e = root->child; e; e = e->next)
        if (strcmp(e->string, "__metadata__") != 0) n++;
    f->tensors = xcalloc(n ? n : 1, sizeof(st_tensor));
    int rc = 0;
    for (const cJSON *e = root->child; e && rc == 0; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(e)) rc = as_errf(err, "\"__metadata__\" is not a JSON object");
            continue;
        }
        st_tensor *t = &f->tensors[f->n_tensors];
        rc = parse_entry(t, e, data, data_len, err);
        if (rc == 0) {
            t->name = xstrdup(e->string);
            f->n_tensors++;
        }
    }
    cJSON_Delete(root);
    if (rc) return -1;

    /* Duplicate names. */
    char **names = xmalloc((n ? n : 1) * sizeof *names);
    for (size_t i = 0; i < n; i++) names[i] = f->tensors[i].name;
    qsort(names, n, sizeof *names, cmp_name_ptr);
    for (size_t i = 1; i < n && rc == 0; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            rc = as_errf(err, "tensor %s appears twice in the header", names[i]);
    free(names);
    if (rc) return -1;

    /* Overlapping byte ranges (gaps are tolerated). */
    st_tensor *by = xmalloc((n ? n : 1) * sizeof *by);
    memcpy(by, f->tensors, n * sizeof *by);
    qsort(by, n, sizeof *by, cmp_offset);
    size_t last = 0; /* the tensor reaching furthest so far */
    for (size_t i = 1; i < n && rc == 0; i++) {
        if (!by[i].nbytes) continue;
        if (by[last].data + by[last].nbytes > by[i].data)
            rc = as_errf(err, "tensors %s and %s overlap in the data section", by[last].name,
                         by[i].name);
        if (by[i].data + by[i].nbytes > by[last].data + by[last].nbytes) last = i;
    }
    free(by);
    return rc;
}

int st_open(st_file *f, const char *path, as_err *err)
{
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return as_errf(err, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return as_errf(err, "cannot read %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return as_errf(err, "%s is not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    if (size == 0) {
        close(fd);
        return as_errf(err, "%s is empty (0 bytes): not a safetensors file", path);
    }
    if (size < 8) {
        close(fd);
        return as_errf(err, "%s: truncated (%zu bytes, shorter than the 8-byte header length)",
                       path, size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return as_errf(err, "cannot map %s: %s", path, strerror(errno));
    f->path = xstrdup(path);
    f->map = map;
    f->map_len = size;

    const uint8_t *b = map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | b[i];
    int rc = 0;
    if (hlen == 0)
        rc = as_errf(err, "corrupted header: header length is 0");
    else if (hlen > size - 8)
        rc = as_errf(err,
                     "header length %llu runs past the end of the file (%zu bytes; truncated "
                     "or not a safetensors file)",
                     (unsigned long long)hlen, size);
    else if (hlen > ST_MAX_HEADER)
        rc = as_errf(err, "header length %llu is larger than the %llu bytes allowed",
                     (unsigned long long)hlen, (unsigned long long)ST_MAX_HEADER);
    else if (b[8] != '{')
        rc = as_errf(err, "corrupted header: it does not start with '{'");
    else
        rc = parse_header(f, (const char *)b + 8, (size_t)hlen, b + 8 + hlen,
                          size - 8 - (size_t)hlen, err);
    if (rc) {
        as_errprefix(err, "%s", path);
        st_close(f);
        return -1;
    }
    return 0;
}

void st_close(st_file *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    if (f->map) munmap(f->map, f->map_len);
    free(f->path);
    memset(f, 0, sizeof *f);
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    for (size_t i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

/* ---- conversion ----------------------------------------------------------- */

/* Little-endian loads that work whatever the alignment of p. */
static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32; }

static float bits_f32(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* IEEE half to float, exactly (subnormals, infinities and NaN included). */
static float half_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

int st_to_f32(const st_tensor *t, float *out, as_err *err)
{
    const uint8_t *p = t->data;
    size_t n = t->numel;
    switch (t->dtype) {
    case ST_F32:
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (n) memcpy(out, p, n * 4);
#else
        for (size_t i = 0; i < n; i++) out[i] = bits_f32(ld32(p + 4 * i));
#endif
        return 0;
    case ST_F16:
        for (size_t i = 0; i < n; i++) out[i] = half_to_f32(ld16(p + 2 * i));
        return 0;
    case ST_BF16:
        for (size_t i = 0; i < n; i++) out[i] = bits_f32((uint32_t)ld16(p + 2 * i) << 16);
        return 0;
    case ST_I32:
        for (size_t i = 0; i < n; i++) out[i] = (float)(int32_t)ld32(p + 4 * i);
        return 0;
    case ST_I64:
        for (size_t i = 0; i < n; i++) out[i] = (float)(int64_t)ld64(p + 8 * i);
        return 0;
    }
    return as_errf(err, "tensor %s: cannot convert dtype %d to F32", t->name, (int)t->dtype);
}

int st_to_int(const st_tensor *t, int *out, as_err *err)
{
    const uint8_t *p = t->data;
    for (size_t i = 0; i < t->numel; i++) {
        double v;
        switch (t->dtype) {
        case ST_I32: v = (int32_t)ld32(p + 4 * i); break;
        case ST_I64: {
            int64_t x = (int64_t)ld64(p + 8 * i);
            if (x < INT_MIN || x > INT_MAX)
                return as_errf(err, "tensor %s: element %zu = %lld does not fit an int", t->name,
                               i, (long long)x);
            v = (double)x;
            break;
        }
        case ST_F32: v = bits_f32(ld32(p + 4 * i)); break;
        case ST_F16: v = half_to_f32(ld16(p + 2 * i)); break;
        case ST_BF16: v = bits_f32((uint32_t)ld16(p + 2 * i) << 16); break;
        default: return as_errf(err, "tensor %s: unknown dtype %d", t->name, (int)t->dtype);
        }
        v = nearbyint(v);
        if (!(v >= INT_MIN && v <= INT_MAX))
            return as_errf(err, "tensor %s: element %zu is not an int-sized number", t->name, i);
        out[i] = (int)v;
    }
    return 0;
}

/* ---- writing -------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string literal for s. */
static void sb_json_string(strbuf *b, const char *s)
{
    sb_str(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            sb_put(b, e, 2);
        } else if (*p < 0x20) {
            sb_printf(b, "\\u%04x", *p);
        } else {
            sb_put(b, (const char *)p, 1);
        }
    }
    sb_str(b, "\"");
}

/* Bytes of one tensor to write, or SIZE_MAX when the shape overflows. */
static size_t out_nbytes(const st_out *t)
{
    size_t n = dtype_size(t->dtype);
    for (size_t d = 0; d < t->ndim; d++) {
        if (t->shape[d] && n > SIZE_MAX / t->shape[d]) return SIZE_MAX;
        n *= t->shape[d];
    }
    return n;
}

int st_write(const char *path, const st_out *tensors, size_t n, const char *metadata,
             as_err *err)
{
    if (metadata) {
        cJSON *m = cJSON_Parse(metadata);
        int ok = m && cJSON_IsObject(m);
        cJSON_Delete(m);
        if (!ok) return as_errf(err, "writing %s: metadata is not a JSON object", path);
    }
    strbuf h = {0};
    sb_str(&h, "{");
    if (metadata) {
        sb_str(&h, "\"__metadata__\":");
        sb_str(&h, metadata);
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const st_out *t = &tensors[i];
        size_t nb = out_nbytes(t);
        if (!dtype_size(t->dtype) || t->ndim > ST_MAX_DIMS || nb == SIZE_MAX) {
            free(h.s);
            return as_errf(err, "writing %s: tensor %s has a bad dtype or shape", path, t->name);
        }
        if (i || metadata) sb_str(&h, ",");
        sb_json_string(&h, t->name);
        sb_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", dtype_name(t->dtype));
        for (size_t d = 0; d < t->ndim; d++) sb_printf(&h, "%s%zu", d ? "," : "", t->shape[d]);
        sb_printf(&h, "],\"data_offsets\":[%zu,%zu]}", off, off + nb);
        off += nb;
    }
    sb_str(&h, "}");
    while (h.len % 8) sb_str(&h, " ");

    atomic_file af;
    if (atomic_open(&af, path, err) != 0) {
        free(h.s);
        return -1;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
    fwrite(len8, 1, 8, af.f);
    fwrite(h.s, 1, h.len, af.f);
    free(h.s);
    for (size_t i = 0; i < n; i++) {
        size_t nb = out_nbytes(&tensors[i]);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (nb) fwrite(tensors[i].data, 1, nb, af.f);
#else
#error "st_write assumes a little-endian host"
#endif
    }
    return atomic_commit(&af, err);
}
