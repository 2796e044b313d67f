/* replay.c - the plain driver that `make test` links with each fuzz target
 * (gcc, no libFuzzer): every file of the target's seed corpus (or of the
 * files and folders given as arguments) is fed once to
 * LLVMFuzzerTestOneInput, the same entry point libFuzzer calls. A crash, a
 * sanitizer report (under SANITIZE=1) or an abort from the target's own
 * checks fails the test. FUZZ_CORPUS is compiled in by the Makefile.
 *
 * Deliberately not here: mutation or coverage (that is libFuzzer's, make fuzz).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_CORPUS
#define FUZZ_CORPUS "."
#endif

static int run_file(const char *path, size_t *count)
{
    as_err err;
    size_t len = 0;
    char *buf = util_read_file(path, &len, &err);
    if (!buf) {
        fprintf(stderr, "replay: %s\n", err.msg);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    free(buf);
    (*count)++;
    return 0;
}

static int run_path(const char *path, size_t *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s does not exist\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) return run_file(path, count);
    DIR *dir = opendir(path);
    if (!dir) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        if (run_path(p, count)) rc = -1;
    }
    closedir(dir);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;
    if (argc < 2) rc = run_path(FUZZ_CORPUS, &count);
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count)) rc = -1;
    /* An empty corpus proves nothing. */
    if (count == 0) {
        fprintf(stderr, "replay: no input files\n");
        return 1;
    }
    printf("replayed %zu inputs\n", count);
    return rc ? 1 : 0;
}
