/* tokenizer.h - the vocabulary of a model folder, whatever it is: ByT5's
 * bytes, or a SentencePiece model (dir/spiece.model: T5, Flan-T5, mT5).
 * Commands that take free text go through it: encode (with eos), decode,
 * and a display label per token id for map axes and every output
 * (SentencePiece pieces as stored, e.g. "\xe2\x96\x81the" = "▁the").
 *
 * Deliberately not here: the byte arithmetic (byt5.h), the C++ library
 * (src/core/spm_shim.cc), special-token parsing in the text ("</s>" typed
 * by a user is text, as in SentencePiece itself). */
#ifndef ATTNSCOPE_TOKENIZER_H
#define ATTNSCOPE_TOKENIZER_H

#include <stddef.h>

#include "util.h"

typedef enum { TOK_BYT5, TOK_SPM } tok_kind;

typedef struct tok_vocab tok_vocab;

/* The tokenizer of model folder dir: SentencePiece when dir/spiece.model
 * exists, ByT5 bytes otherwise (dir may be NULL: ByT5). Returns NULL with a
 * message naming the file when spiece.model exists but cannot be loaded, or
 * when it is missing but dir/tokenizer.json is a fast T5 (Unigram)
 * tokenizer, whose ids bytes would not match. Free with tok_free. */
tok_vocab *tok_open(const char *dir, as_err *err);

/* The ByT5 byte tokenizer (never NULL; free with tok_free). */
tok_vocab *tok_byt5(void);

/* A SentencePiece tokenizer from a .model file; NULL with a message naming
 * path on failure. */
tok_vocab *tok_spm_open(const char *path, as_err *err);

/* Release t (NULL allowed); its pieces and labels stop being valid. */
void tok_free(tok_vocab *t);

/* TOK_BYT5 or TOK_SPM. */
tok_kind tok_kind_of(const tok_vocab *t);
/* "byt5" or "sentencepiece". */
const char *tok_name(const tok_vocab *t);

/* Ids the tokenizer can produce (ByT5 384; SentencePiece: its pieces plus
 * the 100 <extra_id_N> sentinels T5 adds). A model's vocab_size may be
 * larger (padding rows). */
size_t tok_size(const tok_vocab *t);
/* The end-of-sequence id and the padding id (SentencePiece without a pad
 * piece: 0, as T5 uses). */
int tok_eos(const tok_vocab *t);
int tok_pad(const tok_vocab *t);

/* Encode text and append eos. Writes at most cap ids and returns the full
 * count (so count > cap means the text did not fit, as with snprintf), or
 * 0 when the tokenizer refuses the text (never for valid UTF-8). */
size_t tok_encode(const tok_vocab *t, const char *text, int *ids, size_t cap);

/* Decode ids to text, stopping at eos and skipping pad, other control ids
 * and ids the vocabulary does not have. out gets at most cap-1 bytes and a
 * NUL (cap >= 1). Returns the length written. */
size_t tok_decode(const tok_vocab *t, const int *ids, size_t n, char *out, size_t cap);

/* A printable one-line label for one id, for axes and listings: ByT5 as
 * byt5_token_label ("a", "\x20", "</s>"), SentencePiece the piece
 * ("▁the", "</s>", "<0x0A>", "<extra_id_0>") with control bytes shown as
 * \xNN. Truncated to cap-1 bytes on a UTF-8 boundary. Returns buf. */
const char *tok_label(const tok_vocab *t, int id, char *buf, size_t cap);

/* How the end-of-sequence token reads wherever a person sees tokens: the
 * map's one-column headers had "$" first, so labels, status text and
 * figures say "$" too rather than a second spelling. */
#define TOK_EOS_SHOWN "$"

/* tok_label as a person reads it (the UI, render's terminal, PNG and SVG
 * labels, the report's figures): eos as TOK_EOS_SHOWN, every other id as
 * tok_label (pad and sentinels keep their names). t NULL: ByT5. Data meant
 * for programs (JSON, CSV, dump) keeps tok_label's "</s>", the name the
 * tokenizer itself uses. Returns buf. */
const char *tok_display_label(const tok_vocab *t, int id, char *buf, size_t cap);

#endif
