/* fuzz_model_files.c - libFuzzer target for the model-file readers: the
 * input is written to an in-memory file and given to st_open (safetensors
 * header checks, then every tensor converted with st_to_f32 / st_to_int)
 * and to t5_config_read_json. Any crash, sanitizer report or leak is a bug;
 * a clean error return is the expected outcome for most inputs.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I/usr/include/cjson \
 *       tests/fuzz/fuzz_model_files.c src/core/{safetensors,config_json,model,util}.c \
 *       -lcjson -lm -o build/fuzz_model_files
 *   build/fuzz_model_files -max_total_time=60 tests/fuzz/corpus/model_files
 */
#include "fuzz_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "safetensors.h"
#include "t5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile("fuzz", data, size, path, sizeof path);
    if (fd < 0) return 0;
    as_err err;
    st_file f;
    if (st_open(&f, path, &err) == 0) {
        for (size_t i = 0; i < f.n_tensors; i++) {
            const st_tensor *t = &f.tensors[i];
            if (t->numel > (1u << 20)) continue;
            float *v = malloc((t->numel ? t->numel : 1) * sizeof *v);
            int *k = malloc((t->numel ? t->numel : 1) * sizeof *k);
            st_to_f32(t, v, &err);
            st_to_int(t, k, &err);
            free(v);
            free(k);
        }
        st_close(&f);
    }
    t5_config c;
    t5_config_read_json(&c, path, &err);
    close(fd);
    return 0;
}
