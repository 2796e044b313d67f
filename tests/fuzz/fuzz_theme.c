/* fuzz_theme.c - libFuzzer target for the theme and configuration readers
 * (theme.h): the input is a libconfig file in memory, read as a theme
 * (theme_load_file) and as the user's config.cfg (theme_settings_load), then
 * through the whole chain (theme_resolve with the file as the user config
 * and as the theme). Problems must be reported, never fatal; the theme must
 * stay usable (at least two ramp stops, and the ramp gives colours).
 *
 *   make fuzz            (clang, libFuzzer, ASan+UBSan; FUZZ_SECONDS each)
 *   make test            replays tests/fuzz/corpus/theme with a plain driver
 */
#include "fuzz_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libconfig 1.5's own leaks are suppressed for LeakSanitizer in
 * src/cli/lsan_suppress.c, which this target links like the program. */

static void check(const theme *t)
{
    if (t->n_stops < 2 || t->n_stops > THEME_MAX_STOPS) abort();
    for (int i = 0; i <= 10; i++) {
        theme_color c = theme_ramp(t, i / 10.0);
        if (c != THEME_DEFAULT && (c < 0 || c > 0xffffff)) abort();
        theme_to_256(c);
        theme_to_8(c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile("fuzz-theme", data, size, path, sizeof path);
    if (fd < 0) return 0;
    theme t;
    theme_diag d;
    memset(&d, 0, sizeof d);
    theme_default(&t);
    theme_load_file(&t, path, &d);
    check(&t);
    theme_settings s;
    theme_settings_init(&s);
    theme_settings_load(&s, path, &d);
    theme_settings merged;
    memset(&d, 0, sizeof d);
    theme_resolve(&t, &merged, path, path, NULL, NULL, 0, &d);
    check(&t);
    close(fd);
    return 0;
}
