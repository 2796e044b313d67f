/* model_kind.c - what a model folder's files say before it is loaded (see
 * model_kind.h): whether it is a general text model (a guess from names
 * only: config.json is not parsed) and which task preset trained it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

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

cJSON *model_dir_record(const char *dir, const char **file)
{
    static const char *const files[] = {"metrics.json", "trainer_state.json"};
    if (file) *file = NULL;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        char *text = util_read_file(path, NULL, NULL);
        if (!text) continue;
        if (file) *file = files[i];
        cJSON *root = cJSON_Parse(text);
        free(text);
        return root;
    }
    return NULL;
}

const quad_preset *model_dir_preset(const char *dir)
{
    cJSON *root = model_dir_record(dir, NULL);
    const cJSON *preset =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "data"), "preset");
    const quad_preset *p = cJSON_IsString(preset) ? quad_preset_find(preset->valuestring) : NULL;
    cJSON_Delete(root);
    return p;
}
