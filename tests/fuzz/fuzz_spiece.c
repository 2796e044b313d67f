/* fuzz_spiece.c - libFuzzer target for a model folder's spiece.model: the
 * input is written to an in-memory file and given to tok_spm_open (Debian's
 * libsentencepiece parses it through src/core/spm_shim.cc); when it loads,
 * every id gets a label, a few texts are encoded and decoded back, and the
 * ids outside the vocabulary are asked for too. Any crash, sanitizer report
 * or leak is a bug; a clean error (NULL and a message) is the expected
 * outcome for most inputs.
 *
 *   make fuzz FUZZ_SECONDS=60      (corpus: tests/fuzz/corpus/spiece)
 */
#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile("spiece", data, size, path, sizeof path);
    if (fd < 0) return 0;
    as_err err;
    tok_vocab *t = tok_spm_open(path, &err);
    close(fd);
    if (!t) {
        if (!strstr(err.msg, path)) abort();   /* the message names the file */
        return 0;
    }
    size_t n = tok_size(t);
    char label[64], text[256];
    for (int id = -2; id < (int)n + 2 && id < 70000; id++) tok_label(t, id, label, sizeof label);
    static const char *texts[] = {"", "x^2-5x+6=0", "The quick brown fox.", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac",
                                  "\n\t  two  spaces", "<extra_id_0> </s>"};
    int ids[128];
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        size_t k = tok_encode(t, texts[i], ids, 128);
        if (k > 128) k = 128;
        tok_decode(t, ids, k, text, sizeof text);
    }
    int odd[] = {-1, (int)n, (int)n + 1000, tok_eos(t), tok_pad(t), 0, 1, 2};
    tok_decode(t, odd, sizeof odd / sizeof *odd, text, sizeof text);
    tok_free(t);
    return 0;
}
