/* model_kind.c - guess from a model folder's files whether it is a general
 * text model (see model_kind.h). A guess from names only: it neither parses
 * config.json nor loads weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_kind.h"
#include "util.h"

int model_dir_guess_raw(const char *dir)
{
    char path[4096];
    const char *ours[] = {"train.cfg", "metrics.json", "trainer_state.json"};
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, ours[i]);
        if (access(path, R_OK) == 0) return 0;
    }
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *json = util_read_file(path, NULL, NULL);
    if (!json) return 0;
    int hf = strstr(json, "\"transformers_version\"") || strstr(json, "\"_name_or_path\"");
    free(json);
    return hf;
}
