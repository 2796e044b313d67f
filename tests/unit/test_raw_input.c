/* test_raw_input.c - the input file of `report --raw` (rp_raw_read): plain
 * lines, TSV with targets, CRLF, and each bad file's message naming the
 * file and the line. */
#include <unistd.h>

#include "testutil.h"

#include "../../src/report/report_int.h"

static const char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/test_raw_input.%d.txt", (int)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void reads_lines(void **state)
{
    (void)state;
    rp_raw_set r;
    as_err err = {{0}};
    assert_int_equal(rp_raw_read(write_tmp("the cat\r\nsat on\nthe mat"), 0, &r, &err), 0);
    assert_int_equal(r.n, 3);
    assert_false(r.has_target);
    assert_string_equal(r.input[0], "the cat");
    assert_string_equal(r.input[2], "the mat");
    assert_null(r.target[1]);
    rp_raw_free(&r);
    assert_int_equal(rp_raw_read(write_tmp("translate: Haus\thouse\nzwei\ttwo\n"), 1, &r, &err), 0);
    assert_int_equal(r.n, 1);
    assert_true(r.has_target);
    assert_string_equal(r.target[0], "house");
    rp_raw_free(&r);
}

static void names_file_and_line(void **state)
{
    (void)state;
    static const struct { const char *text, *msg; } bad[] = {
        {"ok\n\nok\n", ":2: empty input"},
        {"a\tb\tc\n", ":1: more than one tab"},
        {"a\tb\nc\n", ":2: has no target, the lines before have one"},
        {"ok\n\xff\n", ":2: byte 1 is not valid UTF-8"},
        {"", ": no input lines"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rp_raw_set r;
        as_err err = {{0}};
        const char *path = write_tmp(bad[i].text);
        assert_int_equal(rp_raw_read(path, 0, &r, &err), -1);
        if (!strstr(err.msg, path) || !strstr(err.msg, bad[i].msg))
            fail_msg("case %zu: '%s' lacks '%s%s'", i, err.msg, path, bad[i].msg);
    }
    unlink(write_tmp(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_lines),
        cmocka_unit_test(names_file_and_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
