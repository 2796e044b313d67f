/* fuzz_dataset.c - libFuzzer target for the data-set reader (quad_ds_read):
 * the input is a TSV file in memory. The reader must either load it (every
 * example then has a source that parses, a line number inside the file and
 * a kind that agrees with the equation) or fail with a message; with and
 * without a limit.
 *
 *   make fuzz            (clang, libFuzzer, ASan+UBSan; FUZZ_SECONDS each)
 *   make test            replays tests/fuzz/corpus/dataset with a plain driver
 */
#include "fuzz_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile("fuzz-dataset", data, size, path, sizeof path);
    if (fd < 0) return 0;
    for (size_t limit = 0; limit < 4; limit += 3) {
        quad_dataset ds;
        as_err err;
        memset(&ds, 0, sizeof ds);
        if (quad_ds_read(path, limit, &ds, &err) == 0) {
            if (limit && ds.n > limit) abort();
            for (size_t i = 0; i < ds.n; i++) {
                const quad_example *e = &ds.ex[i];
                quad_eq eq;
                if (quad_parse(e->source, &eq, NULL) != 0) abort();
                if (eq.a != e->eq.a || eq.b != e->eq.b || eq.c != e->eq.c) abort();
                if (e->kind != quad_kind_of(&e->eq)) abort();
                if (e->line < 1 || e->line > size) abort();
                if (!e->target[0]) abort();
            }
        } else if (!err.msg[0]) {
            abort(); /* a failure always says why */
        }
        quad_ds_free(&ds);
    }
    close(fd);
    return 0;
}
