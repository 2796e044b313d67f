/* fuzz_train_config.c - libFuzzer target for the training configuration
 * reader (train_settings_read, libconfig): the input is a train.cfg in
 * memory. It must either be accepted (then the settings are sane: sizes
 * positive, steps or epochs set) or rejected with a message; never crash or leak.
 *
 *   make fuzz            (clang, libFuzzer, ASan+UBSan; FUZZ_SECONDS each)
 *   make test            replays tests/fuzz/corpus/train_config with a plain driver
 */
#include "fuzz_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libconfig 1.5's own leaks are suppressed for LeakSanitizer in
 * src/cli/lsan_suppress.c, which this target links like the program. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile("fuzz-train-config", data, size, path, sizeof path);
    if (fd < 0) return 0;
    train_settings s;
    as_err err;
    memset(&s, 0, sizeof s);
    err.msg[0] = '\0';
    if (train_settings_read(&s, path, &err) == 0) {
        if (s.batch < 1 || (s.steps < 1 && s.epochs < 1) || s.threads < 1 || s.model.d_model < 1 ||
            s.model.num_heads < 1 || s.log_every < 1)
            abort();
        train_settings_free(&s);
    } else if (!err.msg[0]) {
        abort(); /* a rejection always says why */
    }
    close(fd);
    return 0;
}
