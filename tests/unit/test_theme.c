/* test_theme.c - colour roles, ramps, quantisation, colour-depth detection,
 * theme and config files (the shipped themes, bad values reported with file
 * and line, the fallback chain). Files are written to a temporary folder. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "theme.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    return tu_tmpdir(tmpdir, sizeof tmpdir, "theme");
}

static int teardown(void **state)
{
    (void)state;
    return tu_rm_rf(tmpdir);
}

static const char *write_tmp(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    tu_write_text(path, text);
    return path;
}

static void test_roles_and_values(void **state)
{
    (void)state;
    theme t;
    theme_default(&t);
    assert_string_equal(t.name, "default");
    assert_int_equal(theme_role_by_key("cursor"), ROLE_CURSOR);
    assert_int_equal(theme_role_by_key("token_special"), ROLE_TOKEN_SPECIAL);
    assert_int_equal(theme_role_by_key("nope"), -1);
    assert_string_equal(theme_role_key(ROLE_WRONG), "wrong");
    for (int r = 0; r < THEME_N_ROLES; r++)
        assert_int_equal(theme_role_by_key(theme_role_key((theme_role)r)), r);

    theme_color c;
    assert_int_equal(theme_parse_color("#12ab3F", &c), 0);
    assert_int_equal(c, 0x12ab3f);
    assert_int_equal(theme_parse_color("#fff", &c), 0);
    assert_int_equal(c, 0xffffff);
    assert_int_equal(theme_parse_color("default", &c), 0);
    assert_int_equal(c, THEME_DEFAULT);
    assert_int_equal(theme_parse_color("red", &c), 0);
    assert_int_equal(theme_parse_color("#12345", &c), -1);
    assert_int_equal(theme_parse_color("#12345g", &c), -1);
    assert_int_equal(theme_parse_color("purple", &c), -1);
    assert_int_equal(theme_parse_color(NULL, &c), -1);
    unsigned a;
    assert_int_equal(theme_parse_attr("bold, reverse", &a), 0);
    assert_int_equal(a, THEME_BOLD | THEME_REVERSE);
    assert_int_equal(theme_parse_attr("none", &a), 0);
    assert_int_equal(a, 0);
    assert_int_equal(theme_parse_attr("blink", &a), -1);
}

static void test_ramp_and_quantise(void **state)
{
    (void)state;
    theme t;
    theme_default(&t);
    t.n_stops = 2;
    t.stops[0] = 0x000000;
    t.stops[1] = 0xff8000;
    assert_int_equal(theme_ramp(&t, 0), 0x000000);
    assert_int_equal(theme_ramp(&t, 1), 0xff8000);
    assert_int_equal(theme_ramp(&t, 0.5), 0x804000);
    assert_int_equal(theme_ramp(&t, -3), 0x000000);  /* clamped */
    assert_int_equal(theme_ramp(&t, 7), 0xff8000);
    assert_int_equal(theme_ramp(&t, NAN), 0x000000);
    t.n_stops = 3;
    t.stops[2] = 0xffffff;
    assert_int_equal(theme_ramp(&t, 0.5), 0xff8000); /* exactly the middle stop */
    assert_int_equal(theme_ramp(&t, 0.75), 0xffc080);
    assert_int_equal(theme_mix(0x000000, 0xffffff, 0.5), 0x808080);

    assert_int_equal(theme_to_256(0x000000), 16);
    assert_int_equal(theme_to_256(0xffffff), 231);
    assert_int_equal(theme_to_256(0xff0000), 196);
    assert_int_equal(theme_to_256(0x5fafd7), 16 + 36 * 1 + 6 * 3 + 4);
    assert_int_equal(theme_to_256(0x808080), 244); /* grey ramp */
    assert_int_equal(theme_to_8(0x000000), 0);
    assert_int_equal(theme_to_8(0xff0000), 1);
    assert_int_equal(theme_to_8(0x00ff00), 2);
    assert_int_equal(theme_to_8(0x0000ff), 4);
    assert_int_equal(theme_to_8(0xffffff), 7);

    assert_int_equal(theme_shade(0), ' ');
    assert_int_equal(theme_shade(1), '@');
    assert_int_equal(theme_shade(0.5), '+');
    assert_int_equal(theme_shade(NAN), ' ');
    /* shading is monotone over [0, 1] */
    const char *sh = THEME_SHADES;
    long prev = 0;
    for (int i = 0; i <= 100; i++) {
        long pos = strchr(sh, theme_shade(i / 100.0)) - sh;
        assert_true(pos >= prev);
        prev = pos;
    }
    assert_int_equal(prev, 9);
}

static void test_detect_mode(void **state)
{
    (void)state;
    assert_int_equal(theme_detect_mode("1", "truecolor", 256, 1, THEME_COLOR_AUTO), THEME_COLOR_NONE);
    assert_int_equal(theme_detect_mode("", NULL, 256, 0, THEME_COLOR_AUTO), THEME_COLOR_256);
    assert_int_equal(theme_detect_mode(NULL, "truecolor", 256, 0, THEME_COLOR_AUTO), THEME_COLOR_DIRECT);
    assert_int_equal(theme_detect_mode(NULL, "24bit", 8, 0, THEME_COLOR_AUTO), THEME_COLOR_DIRECT);
    assert_int_equal(theme_detect_mode(NULL, NULL, 1 << 24, 1, THEME_COLOR_AUTO), THEME_COLOR_DIRECT);
    assert_int_equal(theme_detect_mode(NULL, NULL, 8, 0, THEME_COLOR_AUTO), THEME_COLOR_8);
    assert_int_equal(theme_detect_mode(NULL, "truecolor", -1, 0, THEME_COLOR_AUTO), THEME_COLOR_NONE);
    assert_int_equal(theme_detect_mode(NULL, NULL, 2, 0, THEME_COLOR_AUTO), THEME_COLOR_NONE);
    /* a setting is capped by the terminal */
    assert_int_equal(theme_detect_mode(NULL, NULL, 256, 0, THEME_COLOR_8), THEME_COLOR_8);
    assert_int_equal(theme_detect_mode(NULL, NULL, 8, 0, THEME_COLOR_256), THEME_COLOR_8);
    assert_int_equal(theme_detect_mode(NULL, NULL, 256, 0, THEME_COLOR_DIRECT), THEME_COLOR_256);
    assert_int_equal(theme_detect_mode(NULL, NULL, 256, 0, THEME_COLOR_NONE), THEME_COLOR_NONE);
    assert_int_equal(theme_mode_parse("256"), THEME_COLOR_256);
    assert_int_equal(theme_mode_parse("truecolor"), THEME_COLOR_DIRECT);
    assert_int_equal(theme_mode_parse("16"), -1);
    assert_string_equal(theme_mode_name(THEME_COLOR_8), "8");
}

/* Every shipped theme loads without a single complaint. */
static void test_shipped_themes(void **state)
{
    (void)state;
    const char *names[] = {"default", "viridis", "light", "mono"};
    const char *dirs[] = {"themes"};
    for (size_t i = 0; i < 4; i++) {
        char path[512];
        assert_int_equal(theme_find(names[i], dirs, 1, path, sizeof path), 0);
        theme t;
        theme_default(&t);
        theme_diag d = {0};
        assert_int_equal(theme_load_file(&t, path, &d), 0);
        if (d.count) fail_msg("%s: %s", path, d.text);
        assert_string_equal(t.name, names[i]);
        assert_true(t.n_stops >= 2);
    }
    /* the built-in default and themes/default.cfg agree */
    theme a, b;
    theme_default(&a);
    theme_default(&b);
    assert_int_equal(theme_load_file(&b, "themes/default.cfg", NULL), 0);
    assert_int_equal(a.n_stops, b.n_stops);
    for (size_t i = 0; i < a.n_stops; i++) assert_int_equal(a.stops[i], b.stops[i]);
    for (int r = 0; r < THEME_N_ROLES; r++) {
        assert_int_equal(a.style[r].fg, b.style[r].fg);
        assert_int_equal(a.style[r].bg, b.style[r].bg);
        assert_int_equal(a.style[r].attr, b.style[r].attr);
    }
    theme v;
    theme_default(&v);
    assert_int_equal(theme_load_file(&v, "themes/viridis.cfg", NULL), 0);
    assert_int_equal(v.stops[0], 0x440154);
    assert_int_equal(v.stops[v.n_stops - 1], 0xfde725);
    theme l;
    theme_default(&l);
    assert_int_equal(theme_load_file(&l, "themes/light.cfg", NULL), 0);
    assert_int_equal(l.light, 1);
    theme m;
    theme_default(&m);
    assert_int_equal(theme_load_file(&m, "themes/mono.cfg", NULL), 0);
    assert_int_equal(m.mono, 1);

    char list[16][64];
    size_t n = theme_list(dirs, 1, list, 16);
    assert_int_equal(n, 4);
    assert_string_equal(list[0], "default");
    assert_string_equal(list[1], "light");
    assert_string_equal(list[2], "mono");
    assert_string_equal(list[3], "viridis");
}

/* Every shipped theme's text is readable: WCAG 2's 4.5:1 for text roles and
 * 3:1 for the non-text marks (the frame, the crosshair's markers), against the
 * role's background, else the theme's normal one, else the terminal's as the
 * theme declares it (a dark terminal taken as #1c1c1c, a light one as white). */
static void test_contrast(void **state)
{
    (void)state;
    assert_true(fabs(theme_contrast(0x000000, 0xffffff) - 21.0) < 1e-9);
    assert_true(fabs(theme_contrast(0x777777, 0x777777) - 1.0) < 1e-9);
    assert_true(fabs(theme_contrast(0xffffff, 0x767676) - 4.54) < 0.01);
    const char *names[] = {"default", "viridis", "light", "mono"};
    const theme_role marks[] = {ROLE_FRAME, ROLE_CROSSHAIR};
    for (size_t i = 0; i < 4; i++) {
        char path[512];
        const char *dirs[] = {"themes"};
        assert_int_equal(theme_find(names[i], dirs, 1, path, sizeof path), 0);
        theme t;
        theme_default(&t);
        assert_int_equal(theme_load_file(&t, path, NULL), 0);
        theme_color term_bg = t.light ? 0xffffff : 0x1c1c1c, term_fg = t.light ? 0 : 0xe4e4e4;
        for (int r = 0; r < ROLE_HEAT_LOW; r++) {
            if (r == ROLE_CURSOR) continue; /* a block of one colour, no text */
            theme_color fg, bg;
            theme_role_colors(&t, (theme_role)r, &fg, &bg);
            if (fg == THEME_DEFAULT) fg = term_fg;
            if (bg == THEME_DEFAULT) bg = term_bg;
            double need = 4.5;
            for (size_t m = 0; m < 2; m++)
                if (r == (int)marks[m]) need = 3.0;
            double c = theme_contrast(fg, bg);
            if (c < need)
                fail_msg("theme %s: %s #%06x on #%06x has contrast %.2f, below %.1f", names[i],
                         theme_role_key((theme_role)r), fg, bg, c, need);
        }
    }
    /* the light theme paints its page: dark text never meets a dark terminal */
    theme l;
    theme_default(&l);
    assert_int_equal(theme_load_file(&l, "themes/light.cfg", NULL), 0);
    assert_int_equal(l.style[ROLE_NORMAL].bg, 0xffffff);
}

static void test_bad_values_reported(void **state)
{
    (void)state;
    const char *p = write_tmp("bad.cfg",
                              "name = \"bad\";\n"
                              "colors = {\n"
                              "  cursor = { fg = \"#12\"; };\n"
                              "  wrong = { bg = \"#00ff00\"; attr = \"blink\"; };\n"
                              "  nosuch = { fg = \"#000000\"; };\n"
                              "  status = { fg = 7; };\n"
                              "};\n"
                              "ramp = [\"#000000\"];\n"
                              "sparkle = true;\n");
    theme t;
    theme_default(&t);
    theme_color cursor_before = t.style[ROLE_CURSOR].fg;
    theme_diag d = {0};
    assert_int_equal(theme_load_file(&t, p, &d), 0);
    assert_string_equal(t.name, "bad");
    assert_int_equal(t.style[ROLE_CURSOR].fg, cursor_before); /* bad value skipped */
    assert_int_equal(t.style[ROLE_WRONG].bg, 0x00ff00);        /* good value kept */
    assert_int_equal(t.n_stops, 3);                             /* bad ramp skipped */
    assert_int_equal(d.count, 6);
    char want[600];
    snprintf(want, sizeof want, "%s:3: cursor.fg: bad colour '#12'", p);
    assert_non_null(strstr(d.text, want));
    snprintf(want, sizeof want, "%s:4: wrong.attr", p);
    assert_non_null(strstr(d.text, want));
    snprintf(want, sizeof want, "%s:5: unknown colour role 'nosuch'", p);
    assert_non_null(strstr(d.text, want));
    snprintf(want, sizeof want, "%s:6: 'fg' should be a string", p);
    assert_non_null(strstr(d.text, want));
    snprintf(want, sizeof want, "%s:8: 'ramp' needs 2 to", p);
    assert_non_null(strstr(d.text, want));
    snprintf(want, sizeof want, "%s:9: unknown theme key 'sparkle'", p);
    assert_non_null(strstr(d.text, want));

    /* a syntax error: the file is not used, the message has the line */
    p = write_tmp("broken.cfg", "name = \"x\";\ncolors = {\n  cursor = { fg = ; };\n};\n");
    theme_default(&t);
    memset(&d, 0, sizeof d);
    assert_int_equal(theme_load_file(&t, p, &d), -1);
    assert_string_equal(t.name, "default");
    snprintf(want, sizeof want, "%s:3: ", p);
    assert_non_null(strstr(d.text, want));
    /* a missing file */
    memset(&d, 0, sizeof d);
    assert_int_equal(theme_load_file(&t, "/nonexistent/x.cfg", &d), -1);
    assert_non_null(strstr(d.text, "/nonexistent/x.cfg: cannot read"));
    /* the settings file: bad values, unknown keys */
    p = write_tmp("settings.cfg", "theme = \"light\";\ncolor = \"16\";\nhalf_blocks = 1;\nfoo = 2;\n");
    theme_settings s;
    theme_settings_init(&s);
    memset(&d, 0, sizeof d);
    assert_int_equal(theme_settings_load(&s, p, &d), 0);
    assert_string_equal(s.theme, "light");
    assert_int_equal(s.color, THEME_COLOR_AUTO);
    assert_int_equal(s.half_blocks, -1);
    assert_int_equal(d.count, 3);
    snprintf(want, sizeof want, "%s:2: color should be", p);
    assert_non_null(strstr(d.text, want));
    snprintf(want, sizeof want, "%s:4: unknown setting 'foo'", p);
    assert_non_null(strstr(d.text, want));
    assert_int_equal(theme_settings_load(&s, "/nonexistent/config.cfg", &d), 1);
}

static void test_chain(void **state)
{
    (void)state;
    char sys[512], user[512];
    snprintf(sys, sizeof sys, "%s", write_tmp("sys.cfg",
             "theme = \"viridis\";\ncolor = \"256\";\nhalf_blocks = false;\n"
             "colors = { error = { fg = \"#010203\"; }; right = { fg = \"#0a0b0c\"; }; };\n"));
    snprintf(user, sizeof user, "%s", write_tmp("user.cfg",
             "theme = \"light\";\ncolors = { error = { fg = \"#040506\"; }; };\n"));
    const char *dirs[] = {tmpdir, "themes"};
    theme t;
    theme_settings s;
    theme_diag d = {0};
    /* the command line wins */
    theme_resolve(&t, &s, "mono", user, sys, dirs, 2, &d);
    assert_int_equal(d.count, 0);
    assert_string_equal(s.theme, "mono");
    assert_int_equal(t.mono, 1);
    assert_int_equal(s.color, THEME_COLOR_256);       /* from the system file */
    assert_int_equal(s.half_blocks, 0);
    assert_int_equal(t.style[ROLE_ERROR].fg, 0x040506); /* user beats system */
    assert_int_equal(t.style[ROLE_RIGHT].fg, 0x0a0b0c); /* system override stays */
    /* then the user's file */
    theme_resolve(&t, &s, NULL, user, sys, dirs, 2, &d);
    assert_string_equal(s.theme, "light");
    assert_int_equal(t.light, 1);
    /* then the system's */
    theme_resolve(&t, &s, NULL, "/nonexistent", sys, dirs, 2, &d);
    assert_string_equal(t.name, "viridis");
    /* then the built-in default */
    theme_resolve(&t, &s, NULL, NULL, NULL, dirs, 2, &d);
    assert_string_equal(t.name, "default");
    assert_int_equal(s.color, THEME_COLOR_AUTO);
    assert_int_equal(d.count, 0);
    /* an unknown theme name is reported and the default used */
    theme_resolve(&t, &s, "plaid", NULL, NULL, dirs, 2, &d);
    assert_string_equal(t.name, "default");
    assert_int_equal(d.count, 1);
    assert_non_null(strstr(d.text, "theme 'plaid' not found"));
    /* a theme given as a path; a user themes folder shadows the shipped one */
    write_tmp("light.cfg", "name = \"my-light\";\nbackground = \"light\";\n");
    theme_resolve(&t, &s, NULL, user, NULL, dirs, 2, &d);
    assert_string_equal(t.name, "my-light");
    char path[600];
    snprintf(path, sizeof path, "%s/light.cfg", tmpdir);
    theme_resolve(&t, &s, path, NULL, NULL, NULL, 0, &d);
    assert_string_equal(t.name, "my-light");
    /* a broken config does not stop anything */
    const char *broken = write_tmp("broken-user.cfg", "theme = ;\n");
    memset(&d, 0, sizeof d);
    theme_resolve(&t, &s, NULL, broken, sys, dirs, 2, &d);
    assert_string_equal(t.name, "viridis");
    assert_int_equal(d.count, 1);
    assert_non_null(strstr(d.text, "broken-user.cfg:1:"));

    /* the user's config path follows XDG_CONFIG_HOME, then HOME */
    char out[512];
    setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
    assert_string_equal(theme_user_config_path(out, sizeof out), "/x/cfg/attnscope/config.cfg");
    assert_string_equal(theme_user_themes_dir(out, sizeof out), "/x/cfg/attnscope/themes");
    unsetenv("XDG_CONFIG_HOME");
    setenv("HOME", "/home/u", 1);
    assert_string_equal(theme_user_config_path(out, sizeof out), "/home/u/.config/attnscope/config.cfg");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_and_values),
        cmocka_unit_test(test_ramp_and_quantise),
        cmocka_unit_test(test_detect_mode),
        cmocka_unit_test(test_shipped_themes),
        cmocka_unit_test(test_contrast),
        cmocka_unit_test(test_bad_values_reported),
        cmocka_unit_test(test_chain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
