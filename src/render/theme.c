/* theme.c - colour roles, heat ramps, theme and config files (libconfig),
 * colour-depth detection and quantisation to 256/8 colours and shading
 * characters. See theme.h.
 *
 * Deliberately not here: anything that draws, ncurses colour pairs. */
#include "theme.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- the role table ---------------------------------------------------- */

static const struct {
    const char *key;
    theme_style def;
} role_table[THEME_N_ROLES] = {
#define THEME_ROLE_ROW(id, key, fg, bg, attr, mono) {key, {fg, bg, attr, mono}},
    THEME_ROLES(THEME_ROLE_ROW)
#undef THEME_ROLE_ROW
};

void theme_diag_add(theme_diag *d, const char *fmt, ...)
{
    if (!d) return;
    size_t len = strlen(d->text);
    if (len + 2 >= sizeof d->text) return;
    if (len) d->text[len++] = '\n', d->text[len] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->text + len, sizeof d->text - len, fmt, ap);
    va_end(ap);
    d->count++;
}

void theme_default(theme *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "default");
    for (size_t i = 0; i < THEME_N_ROLES; i++) t->style[i] = role_table[i].def;
    t->n_stops = 3;
    t->stops[0] = t->style[ROLE_HEAT_LOW].fg;
    t->stops[1] = t->style[ROLE_HEAT_MID].fg;
    t->stops[2] = t->style[ROLE_HEAT_HIGH].fg;
}

int theme_role_by_key(const char *key)
{
    for (size_t i = 0; i < THEME_N_ROLES; i++)
        if (!strcmp(role_table[i].key, key)) return (int)i;
    return -1;
}

const char *theme_role_key(theme_role r)
{
    return (size_t)r < THEME_N_ROLES ? role_table[r].key : "?";
}

/* ---- parsing values ---------------------------------------------------- */

static const struct {
    const char *name;
    theme_color rgb;
} named_colors[] = {
    {"black", 0x000000}, {"red", 0xcd0000},     {"green", 0x00cd00}, {"yellow", 0xcdcd00},
    {"blue", 0x0000ee},  {"magenta", 0xcd00cd}, {"cyan", 0x00cdcd},  {"white", 0xe5e5e5},
};

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int theme_parse_color(const char *s, theme_color *out)
{
    if (!s) return -1;
    if (!strcasecmp(s, "default") || !strcasecmp(s, "none")) {
        *out = THEME_DEFAULT;
        return 0;
    }
    for (size_t i = 0; i < sizeof named_colors / sizeof named_colors[0]; i++)
        if (!strcasecmp(s, named_colors[i].name)) {
            *out = named_colors[i].rgb;
            return 0;
        }
    if (s[0] != '#') return -1;
    size_t n = strlen(s + 1);
    if (n != 6 && n != 3) return -1;
    int v[6];
    for (size_t i = 0; i < n; i++)
        if ((v[i] = hexval((unsigned char)s[1 + i])) < 0) return -1;
    if (n == 6)
        *out = (v[0] << 20) | (v[1] << 16) | (v[2] << 12) | (v[3] << 8) | (v[4] << 4) | v[5];
    else
        *out = (v[0] * 17 << 16) | (v[1] * 17 << 8) | (v[2] * 17);
    return 0;
}

int theme_parse_attr(const char *s, unsigned *out)
{
    unsigned a = 0;
    char buf[128];
    if (!s || strlen(s) >= sizeof buf) return -1;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        if (!strcasecmp(tok, "bold")) a |= THEME_BOLD;
        else if (!strcasecmp(tok, "reverse")) a |= THEME_REVERSE;
        else if (!strcasecmp(tok, "underline")) a |= THEME_UNDERLINE;
        else if (!strcasecmp(tok, "dim")) a |= THEME_DIM;
        else if (!strcasecmp(tok, "none") || !strcasecmp(tok, "normal")) a |= 0;
        else return -1;
    }
    *out = a;
    return 0;
}

/* ---- reading files ----------------------------------------------------- */

/* Read a libconfig file; on failure report "file:line: reason" and return -1. */
static int read_cfg(config_t *cfg, const char *path, theme_diag *d)
{
    config_init(cfg);
    if (config_read_file(cfg, path) == CONFIG_TRUE) return 0;
    if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
        theme_diag_add(d, "%s: cannot read the file", path);
    else
        theme_diag_add(d, "%s:%d: %s", path, config_error_line(cfg), config_error_text(cfg));
    config_destroy(cfg);
    return -1;
}

static int line_of(const config_setting_t *s)
{
    return (int)config_setting_source_line(s);
}

/* A string member of group g, or NULL (reporting a non-string value). */
static const char *member_str(const config_setting_t *g, const char *key, const char *path,
                              theme_diag *d)
{
    config_setting_t *m = config_setting_get_member(g, key);
    if (!m) return NULL;
    if (config_setting_type(m) != CONFIG_TYPE_STRING) {
        theme_diag_add(d, "%s:%d: '%s' should be a string in quotes", path, line_of(m), key);
        return NULL;
    }
    return config_setting_get_string(m);
}

/* Apply a `colors` group: every member names a role and is a group with
 * fg/bg/attr. Unknown roles and bad values are reported and skipped. */
static void apply_colors(theme *t, const config_setting_t *colors, const char *path,
                         theme_diag *d)
{
    if (!config_setting_is_group(colors)) {
        theme_diag_add(d, "%s:%d: 'colors' should be a group { role = { fg = ...; }; }", path,
                       line_of(colors));
        return;
    }
    int n = config_setting_length(colors);
    for (int i = 0; i < n; i++) {
        config_setting_t *r = config_setting_get_elem(colors, (unsigned)i);
        const char *key = config_setting_name(r);
        int role = theme_role_by_key(key);
        if (role < 0) {
            theme_diag_add(d, "%s:%d: unknown colour role '%s'", path, line_of(r), key);
            continue;
        }
        if (!config_setting_is_group(r)) {
            theme_diag_add(d, "%s:%d: role '%s' should be a group { fg = \"#rrggbb\"; }", path,
                           line_of(r), key);
            continue;
        }
        theme_style st = t->style[role];
        const char *fg = member_str(r, "fg", path, d);
        const char *bg = member_str(r, "bg", path, d);
        const char *at = member_str(r, "attr", path, d);
        const char *mono = member_str(r, "mono", path, d);
        if (fg && theme_parse_color(fg, &st.fg))
            theme_diag_add(d, "%s:%d: %s.fg: bad colour '%s' (want #rrggbb or a colour name)",
                           path, line_of(config_setting_get_member(r, "fg")), key, fg);
        if (bg && theme_parse_color(bg, &st.bg))
            theme_diag_add(d, "%s:%d: %s.bg: bad colour '%s' (want #rrggbb or a colour name)",
                           path, line_of(config_setting_get_member(r, "bg")), key, bg);
        if (at && theme_parse_attr(at, &st.attr))
            theme_diag_add(d, "%s:%d: %s.attr: bad attribute list '%s'", path,
                           line_of(config_setting_get_member(r, "attr")), key, at);
        if (mono && theme_parse_attr(mono, &st.mono))
            theme_diag_add(d, "%s:%d: %s.mono: bad attribute list '%s'", path,
                           line_of(config_setting_get_member(r, "mono")), key, mono);
        t->style[role] = st;
        if (role == ROLE_HEAT_LOW || role == ROLE_HEAT_MID || role == ROLE_HEAT_HIGH) {
            /* Setting a heat role rebuilds the three-stop ramp from them. */
            t->n_stops = 3;
            t->stops[0] = t->style[ROLE_HEAT_LOW].fg;
            t->stops[1] = t->style[ROLE_HEAT_MID].fg;
            t->stops[2] = t->style[ROLE_HEAT_HIGH].fg;
        }
    }
}

static void apply_ramp(theme *t, const config_setting_t *ramp, const char *path, theme_diag *d)
{
    if (!config_setting_is_array(ramp) && !config_setting_is_list(ramp)) {
        theme_diag_add(d, "%s:%d: 'ramp' should be a list of colours [\"#000000\", ...]", path,
                       line_of(ramp));
        return;
    }
    int n = config_setting_length(ramp);
    if (n < 2 || n > THEME_MAX_STOPS) {
        theme_diag_add(d, "%s:%d: 'ramp' needs 2 to %d colours, has %d", path, line_of(ramp),
                       THEME_MAX_STOPS, n);
        return;
    }
    theme_color stops[THEME_MAX_STOPS];
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(ramp, (unsigned)i);
        const char *s = config_setting_type(e) == CONFIG_TYPE_STRING
                            ? config_setting_get_string(e) : NULL;
        if (!s || theme_parse_color(s, &stops[i]) || stops[i] == THEME_DEFAULT) {
            theme_diag_add(d, "%s:%d: ramp colour %d is not a \"#rrggbb\" colour", path,
                           line_of(ramp), i + 1);
            return;
        }
    }
    t->n_stops = (size_t)n;
    memcpy(t->stops, stops, (size_t)n * sizeof stops[0]);
}

int theme_load_file(theme *t, const char *path, theme_diag *d)
{
    config_t cfg;
    if (read_cfg(&cfg, path, d)) return -1;
    config_setting_t *root = config_root_setting(&cfg);
    theme nt = *t;
    const char *name = member_str(root, "name", path, d);
    if (name) snprintf(nt.name, sizeof nt.name, "%s", name);
    const char *bgk = member_str(root, "background", path, d);
    if (bgk) {
        if (!strcmp(bgk, "light")) nt.light = 1;
        else if (!strcmp(bgk, "dark")) nt.light = 0;
        else
            theme_diag_add(d, "%s:%d: background should be \"dark\" or \"light\", not '%s'", path,
                           line_of(config_setting_get_member(root, "background")), bgk);
    }
    config_setting_t *mono = config_setting_get_member(root, "mono");
    if (mono) {
        if (config_setting_type(mono) != CONFIG_TYPE_BOOL)
            theme_diag_add(d, "%s:%d: mono should be true or false", path, line_of(mono));
        else
            nt.mono = config_setting_get_bool(mono) ? 1 : 0;
    }
    config_setting_t *colors = config_setting_get_member(root, "colors");
    if (colors) apply_colors(&nt, colors, path, d);
    config_setting_t *ramp = config_setting_get_member(root, "ramp");
    if (ramp) apply_ramp(&nt, ramp, path, d);
    for (int i = 0; i < config_setting_length(root); i++) {
        config_setting_t *e = config_setting_get_elem(root, (unsigned)i);
        const char *k = config_setting_name(e);
        if (strcmp(k, "name") && strcmp(k, "background") && strcmp(k, "mono") &&
            strcmp(k, "ramp") && strcmp(k, "colors"))
            theme_diag_add(d, "%s:%d: unknown theme key '%s' (known: name, background, mono, "
                              "ramp, colors)", path, line_of(e), k);
    }
    *t = nt;
    config_destroy(&cfg);
    return 0;
}

void theme_settings_init(theme_settings *s)
{
    memset(s, 0, sizeof *s);
    s->color = THEME_COLOR_AUTO;
    s->half_blocks = -1;
    s->mouse = -1;
}

/* A true/false setting of root into *out (left alone when absent). */
static void member_bool(config_setting_t *root, const char *name, const char *path, int *out,
                        theme_diag *d)
{
    config_setting_t *e = config_setting_get_member(root, name);
    if (!e) return;
    if (config_setting_type(e) != CONFIG_TYPE_BOOL)
        theme_diag_add(d, "%s:%d: %s should be true or false", path, line_of(e), name);
    else
        *out = config_setting_get_bool(e) ? 1 : 0;
}

int theme_settings_load(theme_settings *s, const char *path, theme_diag *d)
{
    struct stat st;
    if (!path || stat(path, &st) != 0) return 1;
    config_t cfg;
    if (read_cfg(&cfg, path, d)) return -1;
    config_setting_t *root = config_root_setting(&cfg);
    const char *th = member_str(root, "theme", path, d);
    if (th && util_blank(th))
        theme_diag_add(d, "%s:%d: theme is empty (a theme name or a .cfg path); ignored", path,
                       line_of(config_setting_get_member(root, "theme")));
    else if (th)
        snprintf(s->theme, sizeof s->theme, "%s", th);
    const char *col = member_str(root, "color", path, d);
    if (col) {
        int m = theme_mode_parse(col);
        if (m < 0)
            theme_diag_add(d, "%s:%d: color should be auto, direct, 256, 8 or none, not '%s'",
                           path, line_of(config_setting_get_member(root, "color")), col);
        else
            s->color = (theme_color_mode)m;
    }
    member_bool(root, "half_blocks", path, &s->half_blocks, d);
    member_bool(root, "mouse", path, &s->mouse, d);
    config_setting_t *colors = config_setting_get_member(root, "colors");
    if (colors) {
        s->has_colors = 1;
        snprintf(s->colors_file, sizeof s->colors_file, "%s", path);
    }
    for (int i = 0; i < config_setting_length(root); i++) {
        config_setting_t *e = config_setting_get_elem(root, (unsigned)i);
        const char *k = config_setting_name(e);
        if (strcmp(k, "theme") && strcmp(k, "color") && strcmp(k, "half_blocks") &&
            strcmp(k, "mouse") && strcmp(k, "colors"))
            theme_diag_add(d, "%s:%d: unknown setting '%s' (known: theme, color, half_blocks, "
                              "mouse, colors)", path, line_of(e), k);
    }
    config_destroy(&cfg);
    return 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int theme_find(const char *name, const char *const *dirs, size_t n_dirs, char *out, size_t cap)
{
    if (!name || !*name) return -1;
    if (strchr(name, '/') || ends_with(name, ".cfg")) {
        snprintf(out, cap, "%s", name);
        return is_file(out) ? 0 : -1;
    }
    for (size_t i = 0; i < n_dirs; i++) {
        if (!dirs[i]) continue;
        snprintf(out, cap, "%s/%s.cfg", dirs[i], name);
        if (is_file(out)) return 0;
    }
    return -1;
}

/* Apply only the `colors` group of a config file on top of t. */
static void apply_config_colors(theme *t, const char *path, theme_diag *d)
{
    config_t cfg;
    theme_diag quiet = {0}; /* the file was already read once; its errors are reported */
    if (read_cfg(&cfg, path, &quiet)) return;
    config_setting_t *colors = config_setting_get_member(config_root_setting(&cfg), "colors");
    if (colors) apply_colors(t, colors, path, d);
    config_destroy(&cfg);
}

void theme_resolve(theme *t, theme_settings *s, const char *cli_theme, const char *user_cfg,
                   const char *sys_cfg, const char *const *themes_dirs, size_t n_dirs,
                   theme_diag *d)
{
    theme_settings sys, user;
    theme_settings_init(&sys);
    theme_settings_init(&user);
    theme_settings_load(&sys, sys_cfg, d);
    theme_settings_load(&user, user_cfg, d);

    theme_settings_init(s);
    s->color = user.color != THEME_COLOR_AUTO ? user.color : sys.color;
    s->half_blocks = user.half_blocks >= 0 ? user.half_blocks : sys.half_blocks;
    s->mouse = user.mouse >= 0 ? user.mouse : sys.mouse;
    const char *name = cli_theme && *cli_theme ? cli_theme
                       : user.theme[0]         ? user.theme
                       : sys.theme[0]          ? sys.theme
                                               : "default";
    theme_default(t);
    char path[1024];
    if (theme_find(name, themes_dirs, n_dirs, path, sizeof path) == 0) {
        /* The file's own `name` wins; a file without one is called by its name. */
        snprintf(t->name, sizeof t->name, "%.63s", name);
        if (theme_load_file(t, path, d)) theme_default(t);
    } else if (strcmp(name, "default")) {
        theme_diag_add(d, "theme '%s' not found; using the built-in default", name);
        name = "default";
    }
    snprintf(s->theme, sizeof s->theme, "%s", name);
    if (sys.has_colors) apply_config_colors(t, sys.colors_file, d);
    if (user.has_colors) apply_config_colors(t, user.colors_file, d);
}

const char *theme_user_config_path(char *out, size_t cap)
{
    const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
    if (x && *x) snprintf(out, cap, "%s/attnscope/config.cfg", x);
    else if (h && *h) snprintf(out, cap, "%s/.config/attnscope/config.cfg", h);
    else return NULL;
    return out;
}

const char *theme_user_themes_dir(char *out, size_t cap)
{
    const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
    if (x && *x) snprintf(out, cap, "%s/attnscope/themes", x);
    else if (h && *h) snprintf(out, cap, "%s/.config/attnscope/themes", h);
    else return NULL;
    return out;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

size_t theme_list(const char *const *dirs, size_t n_dirs, char (*names)[64], size_t max)
{
    size_t n = 0;
    if (max == 0) return 0;
    snprintf(names[n++], 64, "default");
    for (size_t i = 0; i < n_dirs; i++) {
        if (!dirs[i]) continue;
        DIR *dir = opendir(dirs[i]);
        if (!dir) continue;
        struct dirent *e;
        while ((e = readdir(dir)) && n < max) {
            size_t len = strlen(e->d_name);
            if (len <= 4 || len - 4 >= 64 || !ends_with(e->d_name, ".cfg")) continue;
            char nm[64];
            snprintf(nm, sizeof nm, "%.*s", (int)(len - 4), e->d_name);
            int dup = 0;
            for (size_t j = 0; j < n; j++) dup |= !strcmp(names[j], nm);
            if (!dup) snprintf(names[n++], 64, "%s", nm);
        }
        closedir(dir);
    }
    if (n > 2) qsort(names + 1, n - 1, 64, cmp_names);
    return n;
}

/* ---- ramps and quantisation --------------------------------------------- */

static int ch(theme_color c, int shift)
{
    return c == THEME_DEFAULT ? 0 : (c >> shift) & 0xff;
}

theme_color theme_mix(theme_color a, theme_color b, double f)
{
    if (!(f > 0)) f = 0;
    if (f > 1) f = 1;
    int out = 0;
    for (int sh = 16; sh >= 0; sh -= 8) {
        double v = (1 - f) * ch(a, sh) + f * ch(b, sh);
        out |= ((int)lround(v) & 0xff) << sh;
    }
    return out;
}

theme_color theme_ramp(const theme *t, double v)
{
    if (!(v > 0)) v = 0; /* also NaN */
    if (v > 1) v = 1;
    size_t n = t->n_stops >= 2 ? t->n_stops : 2;
    double pos = v * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i >= n - 1) i = n - 2;
    theme_color lo = t->n_stops >= 2 ? t->stops[i] : 0x000000;
    theme_color hi = t->n_stops >= 2 ? t->stops[i + 1] : 0xffffff;
    return theme_mix(lo, hi, pos - (double)i);
}

static long dist2(int r1, int g1, int b1, int r2, int g2, int b2)
{
    /* A cheap perceptual weighting (red 2, green 4, blue 3). */
    long dr = r1 - r2, dg = g1 - g2, db = b1 - b2;
    return 2 * dr * dr + 4 * dg * dg + 3 * db * db;
}

void theme_role_colors(const theme *t, theme_role r, theme_color *fg, theme_color *bg)
{
    const theme_style *s = &t->style[r], *n = &t->style[ROLE_NORMAL];
    *fg = s->fg != THEME_DEFAULT ? s->fg : n->fg;
    *bg = s->bg != THEME_DEFAULT ? s->bg : n->bg;
}

/* Relative luminance (WCAG 2): sRGB channels linearised, then weighted. */
static double luminance(theme_color c)
{
    double ch[3] = {(c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff}, w[3] = {0.2126, 0.7152, 0.0722};
    double y = 0;
    for (int i = 0; i < 3; i++) {
        double v = ch[i] / 255.0;
        y += w[i] * (v <= 0.03928 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4));
    }
    return y;
}

double theme_contrast(theme_color a, theme_color b)
{
    double la = luminance(a < 0 ? 0 : a), lb = luminance(b < 0 ? 0 : b);
    return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

static const int cube_levels[6] = {0, 95, 135, 175, 215, 255};

static int cube_index(int v)
{
    int best = 0;
    for (int i = 1; i < 6; i++)
        if (abs(cube_levels[i] - v) < abs(cube_levels[best] - v)) best = i;
    return best;
}

int theme_to_256(theme_color c)
{
    int r = ch(c, 16), g = ch(c, 8), b = ch(c, 0);
    int ri = cube_index(r), gi = cube_index(g), bi = cube_index(b);
    int cube = 16 + 36 * ri + 6 * gi + bi;
    long dc = dist2(r, g, b, cube_levels[ri], cube_levels[gi], cube_levels[bi]);
    int grey = (r + g + b) / 3;
    int gidx = grey < 8 ? 0 : grey > 238 ? 23 : (grey - 8 + 5) / 10;
    if (gidx > 23) gidx = 23;
    int gv = 8 + 10 * gidx;
    long dg = dist2(r, g, b, gv, gv, gv);
    return dg < dc ? 232 + gidx : cube;
}

int theme_to_8(theme_color c)
{
    static const int pal[8][3] = {{0, 0, 0},     {205, 0, 0},   {0, 205, 0},   {205, 205, 0},
                                  {0, 0, 238},   {205, 0, 205}, {0, 205, 205}, {229, 229, 229}};
    int r = ch(c, 16), g = ch(c, 8), b = ch(c, 0);
    int best = 0;
    long bd = -1;
    for (int i = 0; i < 8; i++) {
        long dd = dist2(r, g, b, pal[i][0], pal[i][1], pal[i][2]);
        if (bd < 0 || dd < bd) bd = dd, best = i;
    }
    return best;
}

char theme_shade(double v)
{
    if (!(v > 0)) v = 0;
    if (v > 1) v = 1;
    int n = (int)strlen(THEME_SHADES);
    int i = (int)(v * n);
    if (i >= n) i = n - 1;
    return THEME_SHADES[i];
}

/* ---- colour depth ------------------------------------------------------- */

theme_color_mode theme_detect_mode(const char *no_color, const char *colorterm, int n_colors,
                                   int has_rgb, theme_color_mode wanted)
{
    if (no_color && *no_color) return THEME_COLOR_NONE;
    int direct_ok = has_rgb || n_colors >= (1 << 24) ||
                    (colorterm && (!strcasecmp(colorterm, "truecolor") ||
                                   !strcasecmp(colorterm, "24bit")));
    theme_color_mode can = direct_ok && n_colors >= 8 ? THEME_COLOR_DIRECT
                           : n_colors >= 256          ? THEME_COLOR_256
                           : n_colors >= 8            ? THEME_COLOR_8
                                                      : THEME_COLOR_NONE;
    if (wanted == THEME_COLOR_AUTO) return can;
    return wanted < can ? wanted : can;
}

int theme_mode_parse(const char *s)
{
    if (!s) return -1;
    if (!strcmp(s, "none") || !strcmp(s, "mono")) return THEME_COLOR_NONE;
    if (!strcmp(s, "8")) return THEME_COLOR_8;
    if (!strcmp(s, "256")) return THEME_COLOR_256;
    if (!strcmp(s, "direct") || !strcmp(s, "truecolor") || !strcmp(s, "24bit"))
        return THEME_COLOR_DIRECT;
    if (!strcmp(s, "auto")) return THEME_COLOR_AUTO;
    return -1;
}

const char *theme_mode_name(theme_color_mode m)
{
    switch (m) {
    case THEME_COLOR_NONE: return "none";
    case THEME_COLOR_8: return "8";
    case THEME_COLOR_256: return "256";
    case THEME_COLOR_DIRECT: return "direct";
    default: return "auto";
    }
}
