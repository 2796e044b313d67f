/* test_util.c - crash-safe writes (atomic_open / atomic_commit /
 * atomic_abort): a new file, an old file replaced with its permissions kept,
 * an aborted write leaving the old file, a symbolic link followed, and a path
 * that is not a regular file (a FIFO here; /dev/null in use) written directly
 * instead of being replaced by a regular file. Also util_mkdir_p on an empty
 * path (a heap overflow under ASan once), util_need_file's words for what a
 * path is instead of a file, and the JSON depth and NUL scans. */
#include "testutil.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static char dir[64];

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static void expect_text(const char *path, const char *want)
{
    as_err err;
    char *got = util_read_file(path, NULL, &err);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* No "<name>.tmp.*" is left in the folder. */
static void expect_no_temporaries(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q '\\.tmp\\.'", dir);
    assert_int_not_equal(system(cmd), 0);
}

static void test_new_and_replace(void **state)
{
    (void)state;
    char p[128];
    as_err err;
    path_in(p, sizeof p, "a.txt");
    assert_int_equal(util_write_atomic(p, "one\n", 4, &err), 0);
    expect_text(p, "one\n");
    assert_int_equal(chmod(p, 0600), 0);
    assert_int_equal(util_write_atomic(p, "two\n", 4, &err), 0);
    expect_text(p, "two\n");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    atomic_file af;
    assert_int_equal(atomic_open(&af, p, &err), 0);
    fputs("half of thr", af.f);
    atomic_abort(&af);
    expect_text(p, "two\n");
    expect_no_temporaries();

    /* an unwritable place: an error naming the path, nothing made */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/a.txt/sub", dir);
    assert_int_equal(util_write_atomic(bad, "x", 1, &err), -1);
    assert_non_null(strstr(err.msg, bad));
    expect_text(p, "two\n");
}

static void test_symlink_followed(void **state)
{
    (void)state;
    char target[128], link[128];
    as_err err;
    path_in(target, sizeof target, "target.txt");
    path_in(link, sizeof link, "link.txt");
    assert_int_equal(util_write_atomic(target, "old\n", 4, &err), 0);
    assert_int_equal(symlink("target.txt", link), 0);
    assert_int_equal(util_write_atomic(link, "new\n", 4, &err), 0);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    expect_text(target, "new\n");
    expect_no_temporaries();
}

static void test_not_a_regular_file(void **state)
{
    (void)state;
    char fifo[128];
    as_err err;
    path_in(fifo, sizeof fifo, "pipe");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    /* holding it open read-write gives the writer a reader */
    int fd = open(fifo, O_RDWR | O_NONBLOCK);
    assert_true(fd >= 0);
    assert_int_equal(util_write_atomic(fifo, "through\n", 8, &err), 0);
    char buf[16] = {0};
    assert_int_equal(read(fd, buf, sizeof buf - 1), 8);
    assert_string_equal(buf, "through\n");
    close(fd);
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    expect_no_temporaries();
}

static void test_mkdir_p(void **state)
{
    (void)state;
    as_err err;
    err.msg[0] = 0;
    assert_int_equal(util_mkdir_p("", &err), -1);
    assert_non_null(strstr(err.msg, "empty"));
    char p[128];
    path_in(p, sizeof p, "a/b/c");
    assert_int_equal(util_mkdir_p(p, &err), 0);
    assert_int_equal(util_mkdir_p(p, &err), 0);
    assert_int_equal(util_mkdir_p("/", &err), 0);
    assert_true(util_blank(NULL) && util_blank("") && util_blank(" \t\n"));
    assert_false(util_blank(" a "));
}

/* util_need_file on path: its return value and a part of the message. */
static void expect_need(const char *name, int want_rc, const char *want_msg)
{
    char p[128];
    as_err err = {{0}};
    path_in(p, sizeof p, name);
    int rc = util_need_file(p, "a test file", &err);
    if (rc != want_rc || (want_msg && !strstr(err.msg, want_msg)))
        fail_msg("%s: rc %d '%s', expected rc %d and '%s'", name, rc, err.msg, want_rc,
                 want_msg ? want_msg : "");
}

static void test_need_file(void **state)
{
    (void)state;
    char p[128], q[128];
    path_in(p, sizeof p, "regular");
    assert_int_equal(util_write_atomic(p, "x", 1, NULL), 0);
    expect_need("regular", 0, NULL);
    expect_need("absent", 1, "is missing (expected a test file)");
    path_in(p, sizeof p, "folder");
    assert_int_equal(mkdir(p, 0700), 0);
    expect_need("folder", -1, "is a folder, not a regular file (expected a test file)");
    path_in(p, sizeof p, "fifo");
    assert_int_equal(mkfifo(p, 0600), 0);
    expect_need("fifo", -1, "is a FIFO");
    path_in(p, sizeof p, "loop");
    assert_int_equal(symlink(p, p), 0);
    expect_need("loop", -1, "is a symbolic link loop");
    path_in(p, sizeof p, "zero");
    assert_int_equal(symlink("/dev/zero", p), 0);
    expect_need("zero", -1, "is a symbolic link to /dev/zero, a character device");
    path_in(p, sizeof p, "dangling");
    path_in(q, sizeof q, "nowhere");
    assert_int_equal(symlink(q, p), 0);
    expect_need("dangling", -1, "is a broken symbolic link");
    expect_need("regular/below", -1, "not a folder");
}

static void test_json_scans(void **state)
{
    (void)state;
    size_t line = 0;
    const char *t = "{\n \"a\": [[1], {\"b\": \"[[[\"}]\n}";
    assert_int_equal(util_json_depth(t, strlen(t), &line), 3);
    assert_int_equal(line, 2);
    assert_int_equal(util_json_nul(t, strlen(t), &line), 0);
    const char *esc = "{\"d_m\\u0000odel\": 1}", *ok = "{\"a\\\\u0000\": 1}";
    assert_int_equal(util_json_nul(esc, strlen(esc), &line), 1);
    assert_int_equal(util_json_nul(ok, strlen(ok), &line), 0);  /* an escaped backslash */
    const char raw[] = "{\"a\0" "b\": 1}";
    assert_int_equal(util_json_nul(raw, sizeof raw - 1, &line), 1);
}

int main(void)
{
    if (tu_tmpdir(dir, sizeof dir, "util") != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_replace),
        cmocka_unit_test(test_symlink_followed),
        cmocka_unit_test(test_not_a_regular_file),
        cmocka_unit_test(test_mkdir_p),
        cmocka_unit_test(test_need_file),
        cmocka_unit_test(test_json_scans),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_rm_rf(dir);
    return rc;
}
