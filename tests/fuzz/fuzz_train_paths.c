/* fuzz_train_paths.c - libFuzzer target for the paths of a training
 * configuration (train.out, data.train, data.test) and what a run does with
 * the output folder before training: the input is a train.cfg written into a
 * private sandbox folder, so that relative paths resolve inside it. An
 * accepted configuration must have no empty or blank path and data files
 * that are regular files; an output folder inside the sandbox then goes
 * through run_dir_check (fresh, --force, --resume) and util_mkdir_p, which
 * must agree with the file system (a folder exists afterwards, or an error
 * says why). Paths outside the sandbox are never created. Issue 16 found a
 * heap overflow in util_mkdir_p on `out = "";`.
 *
 *   make fuzz            (clang, libFuzzer, ASan+UBSan; FUZZ_SECONDS each)
 *   make test            replays tests/fuzz/corpus/train_paths with a plain driver
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/train/run_dir.h"
#include "train.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char sandbox[64];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag;
    if (ftw->level > 0) remove(p);
    return 0;
}

static int rm_all(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(p);
    return 0;
}

static void remove_sandbox(void)
{
    nftw(sandbox, rm_all, 16, FTW_DEPTH | FTW_PHYS);
}

/* The sandbox emptied, with data files a configuration may name. */
static void reset_sandbox(void)
{
    if (!sandbox[0]) {
        snprintf(sandbox, sizeof sandbox, "/tmp/attnscope-fuzz-paths-XXXXXX");
        if (!mkdtemp(sandbox)) abort();
        atexit(remove_sandbox);
    }
    nftw(sandbox, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    static const char *const files[] = {"train.tsv", "test.tsv"};
    for (size_t i = 0; i < 2; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", sandbox, files[i]);
        if (util_write_atomic(p, "x^2=0\tD=(0^2-4*1*0)=0;\n", 24, NULL)) abort();
    }
    char p[128];
    snprintf(p, sizeof p, "%s/folder", sandbox);
    mkdir(p, 0700);
}

/* 1 when path names something inside the sandbox: its prefix, and no ".."
 * component that could climb out. */
static int inside(const char *path)
{
    size_t n = strlen(sandbox);
    if (strncmp(path, sandbox, n) || (path[n] != '/' && path[n] != '\0')) return 0;
    for (const char *s = path; (s = strstr(s, "..")); s += 2)
        if ((s == path || s[-1] == '/') && (s[2] == '/' || s[2] == '\0')) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reset_sandbox();
    char cfg[128];
    snprintf(cfg, sizeof cfg, "%s/train.cfg", sandbox);
    if (util_write_atomic(cfg, data, size, NULL)) return 0;
    train_settings s;
    as_err err;
    err.msg[0] = '\0';
    if (train_settings_read(&s, cfg, &err) != 0) {
        if (!err.msg[0]) abort(); /* a rejection always says why */
        return 0;
    }
    /* relative names resolve to "<sandbox>/NAME": NAME must not be blank */
    size_t n = strlen(sandbox);
    if (s.out_dir && (util_blank(s.out_dir) ||
                      (!strncmp(s.out_dir, sandbox, n) && s.out_dir[n] == '/' &&
                       util_blank(s.out_dir + n + 1))))
        abort();
    if (s.train_tsv && (util_need_file(s.train_tsv, "", NULL) || util_need_file(s.test_tsv, "", NULL)))
        abort();
    if (s.out_dir && inside(s.out_dir)) {
        as_err e;
        for (int mode = 0; mode < 3; mode++) {
            e.msg[0] = '\0';
            if (run_dir_check(s.out_dir, mode == 2, mode == 1, &e) && !e.msg[0]) abort();
        }
        e.msg[0] = '\0';
        int rc = util_mkdir_p(s.out_dir, &e);
        struct stat st;
        int is_dir = stat(s.out_dir, &st) == 0 && S_ISDIR(st.st_mode);
        if (rc == 0 && !is_dir) abort();  /* success means a folder is there */
        if (rc != 0 && !e.msg[0]) abort();
        if (rc == 0) {
            /* a fresh run now accepts it, and its log opens */
            e.msg[0] = '\0';
            if (run_dir_check(s.out_dir, 0, 0, &e) == 0) {
                FILE *f = run_dir_open_log(s.out_dir, 1, 3, "step\tloss\n", &e);
                if (f) fclose(f);
                else if (!e.msg[0]) abort();
            }
        }
    }
    train_settings_free(&s);
    return 0;
}
