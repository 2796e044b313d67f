/* spm_check.c - make sure a spiece.model cannot crash libsentencepiece.
 *
 * The library trusts the normaliser's precompiled character map stored in
 * the model file: a damaged double-array trie in it makes the library read
 * out of bounds as soon as it normalises text (tests/fuzz/fuzz_spiece.c
 * found such a file). spm_check_file walks the protobuf wire format just far
 * enough to find the maps (ModelProto field 3 normalizer_spec and field 5
 * denormalizer_spec, each with field 2 precompiled_charsmap) and checks
 * that every step of the trie and every replacement string stays inside
 * its map. Everything else in the file is the library's to judge.
 *
 * The map: a little-endian u32 byte size of the trie, the trie (u32 units
 * of a darts-clone double array), then the NUL-terminated replacement
 * strings. A unit with bit 31 set holds a value (an offset into the
 * strings); any other unit is a node: bits 0-7 its label, bit 8 "has a
 * value", bits 10-31 the offset to its children (shifted by 8 more when
 * bit 9 is set). A node at index i has its children at (i ^ offset) ^ c
 * for a byte c and its value at i ^ offset. */
#include "spm_shim.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *p, *end;
} pb_reader;

static int pb_varint(pb_reader *r, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        uint8_t b = *r->p++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return 0;
    }
    return -1;
}

/* The next field of r: its number in *field and, for a length-delimited
 * field, its bytes in *sub (empty for other types). Returns 1 for a field,
 * 0 at the end, -1 when the bytes are not protobuf. */
static int pb_next(pb_reader *r, uint64_t *field, pb_reader *sub)
{
    if (r->p >= r->end) return 0;
    uint64_t key, len = 0;
    if (pb_varint(r, &key)) return -1;
    *field = key >> 3;
    sub->p = sub->end = r->p;
    switch (key & 7) {
    case 0: return pb_varint(r, &len) ? -1 : 1;
    case 1: len = 8; break;
    case 5: len = 4; break;
    case 2:
        if (pb_varint(r, &len)) return -1;
        break;
    default: return -1;   /* groups (long deprecated) or garbage */
    }
    if (len > (uint64_t)(r->end - r->p)) return -1;
    if ((key & 7) == 2) {
        sub->p = r->p;
        sub->end = r->p + len;
    }
    r->p += len;
    return 1;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* NULL when the character map b (n bytes) is safe to use, else the problem. */
static const char *charsmap_problem(const uint8_t *b, size_t n)
{
    if (n == 0) return NULL;   /* no map: the library does not normalise */
    if (n < 4) return "its character map is shorter than its header";
    uint32_t trie = le32(b);
    if (trie == 0 || trie % 4 || trie > n - 4) return "its character map has a bad trie size";
    const uint8_t *units = b + 4, *strs = b + 4 + trie;
    size_t n_units = trie / 4, n_strs = n - 4 - trie;
    for (size_t i = 0; i < n_units; i++) {
        uint32_t u = le32(units + 4 * i);
        if (u >> 31) continue;   /* a value, not a node */
        size_t base = i ^ ((size_t)(u >> 10) << ((u & (1u << 9)) >> 6));
        if ((base | 0xff) >= n_units) return "a step of its character map's trie leaves the map";
        if ((u >> 8) & 1) {
            uint32_t v = le32(units + 4 * base) & 0x7fffffffu;
            if (v >= n_strs || !memchr(strs + v, 0, n_strs - v))
                return "its character map points outside its replacement strings";
        }
    }
    return NULL;
}

const char *spm_check_file(const void *data, size_t len)
{
    pb_reader r = {data, (const uint8_t *)data + len}, spec;
    uint64_t field;
    int rc;
    while ((rc = pb_next(&r, &field, &spec)) > 0) {
        if (field != 3 && field != 5) continue;   /* normalizer_spec, denormalizer_spec */
        pb_reader sub;
        uint64_t f;
        int rs;
        while ((rs = pb_next(&spec, &f, &sub)) > 0) {
            if (f != 2) continue;   /* precompiled_charsmap */
            const char *why = charsmap_problem(sub.p, (size_t)(sub.end - sub.p));
            if (why) return why;
        }
        if (rs < 0) return "a normaliser section is damaged";
    }
    return rc < 0 ? "it is not a protobuf message" : NULL;
}
