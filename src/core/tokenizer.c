/* tokenizer.c - one interface over the ByT5 bytes (byt5.c) and a
 * SentencePiece model (spm_shim.cc), see tokenizer.h. SentencePiece follows
 * Hugging Face's T5Tokenizer: the model's pieces, eos appended, and the 100
 * <extra_id_N> sentinels after the pieces in reverse order (<extra_id_0> is
 * the last one).
 *
 * Deliberately not here: the C++ (spm_shim.cc), normalisation (the model
 * file's own rules, applied by SentencePiece). */
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "byt5.h"
#include "spm_shim.h"

enum { TOK_EXTRA_IDS = 100 };

struct tok_vocab {
    tok_kind kind;
    spm_model *spm; /* TOK_SPM: owned */
    int n_pieces;   /* TOK_SPM: spm_size */
};

tok_vocab *tok_byt5(void)
{
    tok_vocab *t = xcalloc(1, sizeof *t);
    t->kind = TOK_BYT5;
    return t;
}

tok_vocab *tok_spm_open(const char *path, as_err *err)
{
    char msg[256] = "";
    size_t len;
    char *bytes = util_read_file(path, &len, err);
    if (!bytes) return NULL;
    /* The bytes are read once: checked here, then parsed by the library. */
    const char *why = spm_check_file(bytes, len);
    spm_model *m = why ? NULL : spm_load(bytes, len, msg, sizeof msg);
    free(bytes);
    if (why) {
        as_errf(err, "%s: not a SentencePiece model (%s)", path, why);
        return NULL;
    }
    if (!m) {
        as_errf(err, "%s: not a SentencePiece model (%s)", path, msg);
        return NULL;
    }
    if (spm_size(m) < 1 || spm_eos_id(m) < 0) {
        as_errf(err, "%s: the SentencePiece model has no eos piece (T5 needs </s>)", path);
        spm_free(m);
        return NULL;
    }
    tok_vocab *t = xcalloc(1, sizeof *t);
    t->kind = TOK_SPM;
    t->spm = m;
    t->n_pieces = spm_size(m);
    return t;
}

/* 1 when dir/tokenizer.json is a fast T5 tokenizer (a Unigram model):
 * its folder needs spiece.model, which attnscope reads instead. */
static int fast_unigram_only(const char *dir)
{
    size_t n = strlen(dir) + 20;
    char *path = xmalloc(n);
    snprintf(path, n, "%s/tokenizer.json", dir);
    char *json = util_read_file(path, NULL, NULL);
    free(path);
    int unigram = json && strstr(json, "\"Unigram\"") != NULL;
    free(json);
    return unigram;
}

tok_vocab *tok_open(const char *dir, as_err *err)
{
    if (!dir) return tok_byt5();
    size_t n = strlen(dir) + 16;
    char *path = xmalloc(n);
    snprintf(path, n, "%s/spiece.model", dir);
    struct stat sb;
    tok_vocab *t = NULL;
    if (stat(path, &sb) == 0)
        t = tok_spm_open(path, err);
    else if (fast_unigram_only(dir))
        as_errf(err, "%s is missing: %s/tokenizer.json is a SentencePiece (Unigram) "
                     "vocabulary, which attnscope reads from spiece.model; copy the "
                     "checkpoint's spiece.model into the folder", path, dir);
    else
        t = tok_byt5();
    free(path);
    return t;
}

void tok_free(tok_vocab *t)
{
    if (!t) return;
    if (t->spm) spm_free(t->spm);
    free(t);
}

tok_kind tok_kind_of(const tok_vocab *t) { return t->kind; }

const char *tok_name(const tok_vocab *t)
{
    return t->kind == TOK_SPM ? "sentencepiece" : "byt5";
}

size_t tok_size(const tok_vocab *t)
{
    return t->kind == TOK_SPM ? (size_t)t->n_pieces + TOK_EXTRA_IDS : BYT5_VOCAB;
}

int tok_eos(const tok_vocab *t)
{
    return t->kind == TOK_SPM ? spm_eos_id(t->spm) : BYT5_EOS;
}

int tok_pad(const tok_vocab *t)
{
    if (t->kind == TOK_BYT5) return BYT5_PAD;
    int p = spm_pad_id(t->spm);
    return p >= 0 ? p : 0;
}

size_t tok_encode(const tok_vocab *t, const char *text, int *ids, size_t cap)
{
    size_t n;
    if (t->kind == TOK_BYT5) {
        n = byt5_encode(text, ids, cap);
    } else {
        long k = spm_encode(t->spm, text, ids, cap);
        if (k < 0) return 0;
        n = (size_t)k;
    }
    if (n < cap) ids[n] = tok_eos(t);
    return n + 1;
}

size_t tok_decode(const tok_vocab *t, const int *ids, size_t n, char *out, size_t cap)
{
    if (t->kind == TOK_BYT5) return byt5_decode(ids, n, out, cap);
    if (!cap) return 0;
    /* Keep the ordinary pieces up to eos; SentencePiece joins them (and
     * turns "▁" back into spaces, dropping the leading one). */
    int eos = spm_eos_id(t->spm);
    int *keep = xmalloc((n ? n : 1) * sizeof *keep);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == eos) break;
        if (ids[i] < 0 || ids[i] >= t->n_pieces || spm_is_control(t->spm, ids[i])) continue;
        keep[k++] = ids[i];
    }
    long len = spm_decode(t->spm, keep, k, out, cap);
    free(keep);
    if (len < 0) {
        if (cap) out[0] = '\0';
        return 0;
    }
    return strlen(out);
}

/* Copy s to buf (cap >= 1) with bytes below 0x20 and 0x7F as \xNN, cut on
 * a UTF-8 character boundary. */
static void copy_printable(char *buf, size_t cap, const char *s)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[5];
        size_t w;
        if (*p < 0x20 || *p == 0x7F) {
            snprintf(esc, sizeof esc, "\\x%02X", *p);
            w = 4;
        } else {
            /* the whole UTF-8 sequence, so a cut never splits it */
            w = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
            for (size_t j = 1; j < w; j++)
                if ((p[j] & 0xC0) != 0x80) { w = 1; break; }
            memcpy(esc, p, w);
            p += w - 1;
        }
        if (k + w + 1 > cap) break;
        memcpy(buf + k, esc, w);
        k += w;
    }
    buf[k] = '\0';
}

const char *tok_label(const tok_vocab *t, int id, char *buf, size_t cap)
{
    if (!cap) return buf;
    if (t->kind == TOK_BYT5) return byt5_token_label(id, buf, cap);
    const char *piece = spm_piece(t->spm, id);
    if (piece) {
        copy_printable(buf, cap, piece);
    } else if (id >= t->n_pieces && id < t->n_pieces + TOK_EXTRA_IDS) {
        snprintf(buf, cap, "<extra_id_%d>", t->n_pieces + TOK_EXTRA_IDS - 1 - id);
    } else {
        snprintf(buf, cap, "<id %d>", id);
    }
    return buf;
}

const char *tok_display_label(const tok_vocab *t, int id, char *buf, size_t cap)
{
    if (!cap) return buf;
    if (id == (t ? tok_eos(t) : BYT5_EOS)) {
        snprintf(buf, cap, "%s", TOK_EOS_SHOWN);
        return buf;
    }
    return t ? tok_label(t, id, buf, cap) : byt5_token_label(id, buf, cap);
}
