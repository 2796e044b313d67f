/* run_dir.c - what a training run may do to its output folder: refuse a
 * folder that already holds a model, a checkpoint or other files unless
 * --resume or --force says what to do with them, never train into "/",
 * and open log.tsv so that a resumed run continues the log exactly where
 * its checkpoint left it (no row twice after a checkpoint that failed).
 *
 * Deliberately not here: the checkpoint files themselves (checkpoint.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_dir.h"

#define LOCK_NAME ".train.lock" /* run_dir_lock's file */

static int has(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lstat(path, &st) == 0;
}

int run_dir_check(const char *dir, int resume, int force, as_err *err)
{
    char *real = realpath(dir, NULL);
    int root = real && !strcmp(real, "/");
    free(real);
    if (root)
        return as_errf(err, "%s is the root folder: training writes config.json, "
                            "model.safetensors and more into its output folder; give a folder of "
                            "its own (--out DIR or train.out)", dir);
    if (resume) return 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;  /* created by the run */
        if (errno == ENOTDIR) return as_errf(err, "%s exists and is not a folder", dir);
        return as_errf(err, "cannot read the output folder %s: %s", dir, strerror(errno));
    }
    size_t n = 0;
    char first[256] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!strcmp(e->d_name, LOCK_NAME)) continue;  /* left by a killed run */
        if (!n++) snprintf(first, sizeof first, "%s", e->d_name);
    }
    closedir(d);
    if (n == 0 || force) return 0;
    int ckpt = has(dir, "optimizer.safetensors");
    int model = has(dir, "model.safetensors") || has(dir, "config.json");
    if (ckpt)
        return as_errf(err, "%s already holds a training checkpoint (optimizer.safetensors)%s; "
                            "give --resume to continue it, or --force to train a new model over "
                            "it (the old files stay until the new run's first checkpoint is "
                            "written)",
                       dir, model ? " and its model (model.safetensors)" : "");
    if (model)
        return as_errf(err, "%s already holds a model (config.json, model.safetensors) and no "
                            "training checkpoint to --resume; give --force to train a new model "
                            "over it (the old files stay until the new run's first checkpoint "
                            "is written), or another --out",
                       dir);
    return as_errf(err, "%s is not empty (%zu %s, e.g. %s); give an empty or new folder, or "
                        "--force to train into it anyway (--resume needs a checkpoint there)",
                   dir, n, n == 1 ? "entry" : "entries", first);
}

int run_dir_lock(const char *dir, as_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/" LOCK_NAME, dir);
    for (int tries = 0; tries < 8; tries++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return as_errf(err, "%s: cannot create the run's lock file (%s)", path,
                           strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char pid[32] = "";
            ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            close(fd);
            if (e != EWOULDBLOCK)
                return as_errf(err, "%s: cannot lock (%s)", path, strerror(e));
            return as_errf(err, "%s is being trained by another attnscope train%s%s%s (it holds "
                                "%s); wait for it to finish or stop it (Ctrl-C or kill -INT "
                                "writes its checkpoint), then --resume",
                           dir, *pid ? " (pid " : "", pid, *pid ? ")" : "", path);
        }
        /* The file may have been removed by a finishing run between our
         * open and flock: then the lock is on a name nobody else sees. */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
                /* the pid is only a courtesy to the refused run's message */
            }
            return fd;
        }
        close(fd);
    }
    return as_errf(err, "%s: the lock file keeps changing under this run; is another trainer "
                        "starting and stopping in %s?", path, dir);
}

void run_dir_unlock(const char *dir, int fd)
{
    if (fd < 0) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/" LOCK_NAME, dir);
    unlink(path);  /* while still held: a waiting run then sees a new file */
    close(fd);
}

void run_dir_drop_stale(const char *dir)
{
    /* A tokenizer left by the old model would be read with the new one's
     * ids (tokenizer.c): the new run's models are ByT5. */
    static const char *const stale[] = {"spiece.model", "tokenizer.json"};
    char path[4096];
    for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, stale[i]);
        unlink(path);
    }
}

/* The byte offset just past the last complete row of log text whose step
 * is at most step (the header always kept); 0 when there is no header. */
static size_t keep_upto(const char *text, size_t len, size_t step)
{
    size_t keep = 0, at = 0;
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        if (!nl) break;  /* a row cut short by a kill */
        size_t end = (size_t)(nl - text) + 1;
        if (at == 0) {
            if (strncmp(text, "step\t", 5)) return 0;
        } else {
            char *stop;
            unsigned long long s = strtoull(text + at, &stop, 10);
            if (stop == text + at || *stop != '\t' || s > step) break;
        }
        keep = end;
        at = end;
    }
    return keep;
}

FILE *run_dir_open_log(const char *dir, int resume, size_t step, const char *header,
                       as_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/log.tsv", dir);
    size_t len = 0, keep = 0;
    char *text = NULL;
    if (resume) {
        as_err ignored;
        text = util_read_file(path, &len, &ignored);
        if (text) keep = keep_upto(text, len, step);
        free(text);
    }
    FILE *f = fopen(path, keep ? "r+" : "w");
    if (!f) {
        as_errf(err, "%s: cannot write (%s)", path, strerror(errno));
        return NULL;
    }
    if (keep && (ftruncate(fileno(f), (off_t)keep) != 0 || fseek(f, 0, SEEK_END) != 0)) {
        as_errf(err, "%s: cannot cut the log back to step %zu (%s)", path, step,
                strerror(errno));
        fclose(f);
        return NULL;
    }
    if (!keep) fputs(header, f);
    return f;
}
