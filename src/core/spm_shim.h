/* spm_shim.h - the C face of the SentencePiece C++ library (Debian's
 * libsentencepiece), just what tokenizer.c needs: load a .model file,
 * encode text to ids, decode ids to text, name a piece.
 *
 * Deliberately not here: eos handling, ByT5, display labels (tokenizer.c).
 * Private to src/core: the public interface is tokenizer.h. */
#ifndef ATTNSCOPE_SPM_SHIM_H
#define ATTNSCOPE_SPM_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spm_model spm_model;

/* Load a SentencePiece model from the bytes of its file (len of them).
 * Returns NULL and writes a message (at most cap bytes, NUL-terminated) to
 * msg when they are not a model. Free with spm_free. */
spm_model *spm_load(const void *data, size_t len, char *msg, size_t cap);
/* NULL when a model file's bytes (len of them) are safe to give to
 * spm_load, else what is wrong with them: the library itself trusts the
 * normaliser's character maps in the file (spm_check.c). */
const char *spm_check_file(const void *data, size_t len);
void spm_free(spm_model *m);

/* Number of pieces, and the special ids (-1 when the model has none). */
int spm_size(const spm_model *m);
int spm_eos_id(const spm_model *m);
int spm_pad_id(const spm_model *m);
int spm_unk_id(const spm_model *m);
/* 1 when id is a control piece (<pad>, </s>...) or an unknown-piece id. */
int spm_is_control(const spm_model *m, int id);

/* Encode text (no eos added). Writes at most cap ids; returns the full
 * count, or -1 when SentencePiece refuses the input. */
long spm_encode(const spm_model *m, const char *text, int *ids, size_t cap);

/* Decode n ids (each in 0 .. spm_size-1) to text: out gets at most cap-1
 * bytes and a NUL. Returns the full length, or -1 on failure. */
long spm_decode(const spm_model *m, const int *ids, size_t n, char *out, size_t cap);

/* The piece of id (e.g. "\xe2\x96\x81the"), or NULL when id is out of
 * range. Valid until spm_free. */
const char *spm_piece(const spm_model *m, int id);

#ifdef __cplusplus
}
#endif

#endif
