/* byt5.h - the ByT5 byte-level vocabulary: token = UTF-8 byte + 3; pad 0,
 * eos 1, unk 2 (384 ids: 3 specials, 256 bytes, 125 extra ids unused here).
 * The decoder starts with pad (0).
 *
 * Deliberately not here: SentencePiece vocabularies. */
#ifndef ATTNSCOPE_BYT5_H
#define ATTNSCOPE_BYT5_H

#include <stddef.h>

enum { BYT5_PAD = 0, BYT5_EOS = 1, BYT5_UNK = 2, BYT5_OFFSET = 3, BYT5_VOCAB = 384 };

/* Encode text bytes to ids (no eos added). Writes at most cap ids; returns
 * the number of bytes in text (so truncation is visible to the caller). */
size_t byt5_encode(const char *text, int *ids, size_t cap);

/* Encode and append eos; returns the count or 0 when cap is too small. */
size_t byt5_encode_eos(const char *text, int *ids, size_t cap);

/* Decode ids to text, stopping at eos, skipping pad; ids that are not bytes
 * are dropped. out gets at most cap-1 bytes and a NUL. Returns the length. */
size_t byt5_decode(const int *ids, size_t n, char *out, size_t cap);

/* A printable label for one token (for map axes): "a", "<pad>", "</s>",
 * "<unk>", "\xNN" for non-printing bytes. Returns buf. */
const char *byt5_token_label(int id, char *buf, size_t cap);

#endif
