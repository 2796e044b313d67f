/* byt5.c - ByT5 byte-level tokenizer (see byt5.h). */
#include "byt5.h"

#include <stdio.h>
#include <string.h>

size_t byt5_encode(const char *text, int *ids, size_t cap)
{
    size_t n = strlen(text);
    for (size_t i = 0; i < n && i < cap; i++) ids[i] = (unsigned char)text[i] + BYT5_OFFSET;
    return n;
}

size_t byt5_encode_eos(const char *text, int *ids, size_t cap)
{
    size_t n = strlen(text);
    if (n + 1 > cap) return 0;
    byt5_encode(text, ids, cap);
    ids[n] = BYT5_EOS;
    return n + 1;
}

size_t byt5_decode(const int *ids, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == BYT5_EOS) break;
        if (ids[i] < BYT5_OFFSET || ids[i] >= BYT5_OFFSET + 256) continue;
        if (len + 1 < cap) out[len++] = (char)(ids[i] - BYT5_OFFSET);
    }
    if (cap) out[len < cap ? len : cap - 1] = '\0';
    return len;
}

const char *byt5_token_label(int id, char *buf, size_t cap)
{
    if (id == BYT5_PAD) snprintf(buf, cap, "<pad>");
    else if (id == BYT5_EOS) snprintf(buf, cap, "</s>");
    else if (id == BYT5_UNK) snprintf(buf, cap, "<unk>");
    else if (id >= BYT5_OFFSET && id < BYT5_OFFSET + 256) {
        int b = id - BYT5_OFFSET;
        if (b > 32 && b < 127) snprintf(buf, cap, "%c", b);
        else snprintf(buf, cap, "\\x%02X", b);
    } else snprintf(buf, cap, "<extra_%d>", id);
    return buf;
}
