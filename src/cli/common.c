/* common.c - what every subcommand shares: the default model and data
 * folders, error printing, option value parsing.
 *
 * Data (themes, the bundled model) is looked for, in order: in the source
 * tree holding the binary (a build that was not installed), in
 * ../share/attnscope beside the binary's bin folder (an install, also a
 * DESTDIR staging one or one moved to another prefix), and at the compiled-in
 * ATTNSCOPE_DATADIR ($(PREFIX)/share/attnscope).
 *
 * Deliberately not here: anything only one command needs. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#ifndef ATTNSCOPE_DATADIR
#define ATTNSCOPE_DATADIR "/usr/local/share/attnscope"
#endif

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder of the running binary, or "" when /proc is not there. */
static const char *exe_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0]) return dir;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) return dir[0] = '\0', dir;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    return dir;
}

/* The source tree holding the binary: its folder or, for build/<x>/attnscope,
 * two levels up. Empty when the binary is not in a source tree. */
static const char *source_tree(void)
{
    static char tree[PATH_MAX];
    static int done;
    if (done) return tree;
    done = 1;
    const char *ups[] = {"", "/../..", "/.."};
    for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++) {
        char probe[PATH_MAX + 32];
        snprintf(probe, sizeof probe, "%s%s/themes", exe_dir(), ups[i]);
        char sm[PATH_MAX + 32];
        snprintf(sm, sizeof sm, "%s%s/src/cli", exe_dir(), ups[i]);
        if (is_dir(probe) && is_dir(sm)) {
            snprintf(tree, sizeof tree, "%s%s", exe_dir(), ups[i]);
            return tree;
        }
    }
    return tree;
}

/* DATADIR relative to the binary: <exe>/../share/attnscope when it holds
 * themes/, else "". */
static const char *relocated_data(void)
{
    static char dir[PATH_MAX + 32];
    static int done;
    if (done) return dir;
    done = 1;
    if (!exe_dir()[0]) return dir;
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s/../share/attnscope/themes", exe_dir());
    if (is_dir(probe)) snprintf(dir, sizeof dir, "%s/../share/attnscope", exe_dir());
    return dir;
}

const char *cli_data_dir(void)
{
    const char *t = source_tree();
    if (t[0]) return t;
    const char *r = relocated_data();
    return r[0] ? r : ATTNSCOPE_DATADIR;
}

/* Where the bundled model called name lives: the source tree's
 * sample_models/NAME, else models/NAME of a (moved) install, else the
 * compiled-in DATADIR/models/NAME. path gets the first that exists, or the
 * last candidate when none does; returns 1 when one exists. */
static int bundled_model(const char *name, char *path, size_t cap)
{
    const char *t = source_tree();
    if (t[0]) {
        snprintf(path, cap, "%s/sample_models/%s", t, name);
        if (is_dir(path)) return 1;
    }
    const char *r = relocated_data();
    if (r[0]) {
        snprintf(path, cap, "%s/models/%s", r, name);
        if (is_dir(path)) return 1;
    }
    snprintf(path, cap, "%s/models/%s", ATTNSCOPE_DATADIR, name);
    return is_dir(path);
}

const char *cli_default_model(void)
{
    static char path[PATH_MAX + 64];
    const char *env = getenv("ATTNSCOPE_MODEL");
    if (env && *env) return env;
    bundled_model("quadratic-seed", path, sizeof path);
    return path;
}

const char *cli_model_dir(const char *arg)
{
    static char path[PATH_MAX + 64];
    if (!arg) return cli_default_model();
    if (!*arg || strchr(arg, '/') || is_dir(arg)) return arg;
    return bundled_model(arg, path, sizeof path) ? path : arg;
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "attnscope %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_parse_size(const char *cmd, const char *opt, const char *s, size_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') goto bad;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) goto bad;
    *out = (size_t)v;
    return 0;
bad:
    cli_error(cmd, "%s needs a non-negative whole number, got '%s'", opt, s ? s : "");
    return -1;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || errno || *end || !isfinite(v)) {
        cli_error(cmd, "%s needs a number, got '%s'", opt, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_range(const char *cmd, const char *opt, const char *s, size_t lo, size_t hi,
                    size_t *out)
{
    if (cli_parse_size(cmd, opt, s, out)) return -1;
    if (*out >= lo && *out <= hi) return 0;
    cli_error(cmd, "%s must be %zu..%zu, got %s", opt, lo, hi, s);
    return -1;
}

int cli_usage_exit(int c, void (*usage)(FILE *f))
{
    usage(c == 'h' ? stdout : stderr);
    return c == 'h' ? EXIT_OK : EXIT_USAGE;
}

int cli_option_error(const char *cmd, int c, char **argv)
{
    if (c == ':') cli_error(cmd, "option '%s' needs a value", argv[optind - 1]);
    else cli_error(cmd, "unknown option '%s' (see attnscope %s --help)", argv[optind - 1], cmd);
    return EXIT_USAGE;
}

int cli_no_args(const char *cmd, int argc, char **argv, const char *hint)
{
    if (optind >= argc) return 0;
    cli_error(cmd, "unexpected argument '%s'%s%s", argv[optind], hint ? " " : "", hint ? hint : "");
    return -1;
}

int cli_required(const char *cmd, const char *value, const char *msg, void (*usage)(FILE *f))
{
    if (value) return 0;
    cli_error(cmd, "%s", msg);
    if (usage) usage(stderr);
    return -1;
}

int cli_parse_path(const char *cmd, const char *opt, const char *s, const char **out)
{
    if (util_blank(s)) {
        cli_error(cmd, "%s needs a file or folder name, got an empty one ('%s')", opt,
                  s ? s : "");
        return -1;
    }
    *out = s;
    return 0;
}
