/* theme.h - colours as roles, heat ramps, themes and the colour depth of an
 * output. Shared by the terminal UI (tui) and the headless renderer (render):
 * both ask "what colour is role R" or "what colour is weight v", then turn the
 * answer into whatever the output can show (24-bit, 256 colours, 8 colours or
 * shading characters).
 *
 * Themes and the user's settings are libconfig files:
 *
 *     # themes/viridis.cfg
 *     name = "viridis";
 *     background = "dark";                  # or "light"
 *     mono = false;                         # true: shading characters, no colour
 *     ramp = ["#440154", "#31688e", "#35b779", "#fde725"];
 *     colors = {
 *       cursor = { fg = "#000000"; bg = "#ff4040"; attr = "bold"; };
 *       status = { fg = "#000000"; bg = "#5fafd7"; };
 *     };
 *
 *     # $XDG_CONFIG_HOME/attnscope/config.cfg
 *     theme = "viridis";                    # a name in themes/ or a path
 *     color = "auto";                       # auto | direct | 256 | 8 | none
 *     half_blocks = true;
 *     mouse = true;                         # clicks and the wheel in the UI
 *     colors = { error = { fg = "#ff0000"; }; };   # overrides on top of the theme
 *
 * Colour values: "#rrggbb", "#rgb", "default" (the terminal's own), or one of
 * black red green yellow blue magenta cyan white. attr: a comma list of
 * bold, reverse, underline, dim (or "none").
 *
 * Deliberately not here: ncurses (colour pairs live in the UI), drawing. */
#ifndef ATTNSCOPE_THEME_H
#define ATTNSCOPE_THEME_H

#include <stddef.h>
#include <stdint.h>

/* A colour: 0xRRGGBB, or THEME_DEFAULT for the terminal's own colour. */
typedef int32_t theme_color;
#define THEME_DEFAULT ((theme_color)-1)

/* Attribute bits (independent of any terminal library). */
enum { THEME_BOLD = 1, THEME_REVERSE = 2, THEME_UNDERLINE = 4, THEME_DIM = 8 };

/* The roles: X(ID, config key, default fg, default bg, default attributes,
 * attributes used when there is no colour at all). This table is the list of
 * keys a theme's `colors` group may set. HEAT_LOW/MID/HIGH are the stops of
 * the default heat ramp (a theme's `ramp` list replaces them). */
#define THEME_ROLES(X)                                                                        \
    X(NORMAL,        "normal",        THEME_DEFAULT, THEME_DEFAULT, 0,           0)             \
    X(TITLE,         "title",         0x000000,      0x5fafd7,      THEME_BOLD,  THEME_REVERSE) \
    X(STATUS,        "status",        0xffffd7,      0x303030,      0,           THEME_BOLD)    \
    X(HINT,          "hint",          0x8a8a8a,      THEME_DEFAULT, 0,           0)             \
    X(ENTRY,         "entry",         0xffffff,      0x262626,      0,           THEME_UNDERLINE) \
    X(ENTRY_FOCUS,   "entry_focus",   0xffffff,      0x005f87,      THEME_BOLD,  THEME_REVERSE) \
    X(ERROR,         "error",         0xff5f5f,      THEME_DEFAULT, THEME_BOLD,  THEME_BOLD)    \
    X(RIGHT,         "right",         0x5fd75f,      THEME_DEFAULT, THEME_BOLD,  THEME_BOLD)    \
    X(WRONG,         "wrong",         0xffffff,      0xd70000,      THEME_BOLD,  THEME_REVERSE) \
    X(STEP,          "step",          0x000000,      0xffd75f,      THEME_BOLD,  THEME_REVERSE) \
    X(SOLUTION,      "solution",      0xe4e4e4,      THEME_DEFAULT, 0,           0)             \
    X(PENDING,       "pending",       0x8a8a8a,      THEME_DEFAULT, 0,           THEME_DIM)     \
    X(LABEL,         "label",         0xbcbcbc,      THEME_DEFAULT, 0,           0)             \
    X(TOKEN_SPECIAL, "token_special", 0xffaf5f,      THEME_DEFAULT, THEME_BOLD,  THEME_BOLD)    \
    X(LABEL_CURSOR,  "label_cursor",  0x000000,      0xff5fd7,      THEME_BOLD,  THEME_REVERSE) \
    X(CURSOR,        "cursor",        0xff5fd7,      0xff5fd7,      0,           THEME_REVERSE) \
    X(CROSSHAIR,     "crosshair",     0xff87d7,      THEME_DEFAULT, 0,           THEME_BOLD)    \
    X(SELECTED,      "selected",      0x000000,      0xffd75f,      THEME_BOLD,  THEME_REVERSE) \
    X(FRAME,         "frame",         0x5f87af,      THEME_DEFAULT, 0,           0)             \
    X(HELP,          "help",          0xeeeeee,      0x1c1c1c,      0,           0)             \
    X(HEAT_LOW,      "heat_low",      0x000000,      THEME_DEFAULT, 0,           0)             \
    X(HEAT_MID,      "heat_mid",      0xd75f00,      THEME_DEFAULT, 0,           0)             \
    X(HEAT_HIGH,     "heat_high",     0xffffaf,      THEME_DEFAULT, 0,           0)

typedef enum {
#define THEME_ROLE_ENUM(id, key, fg, bg, attr, mono) ROLE_##id,
    THEME_ROLES(THEME_ROLE_ENUM)
#undef THEME_ROLE_ENUM
    THEME_N_ROLES
} theme_role;

typedef struct {
    theme_color fg, bg;
    unsigned attr;       /* THEME_* bits, used with colour */
    unsigned mono;       /* THEME_* bits, used without colour */
} theme_style;

#define THEME_MAX_STOPS 16

typedef struct {
    char name[64];
    int light;                          /* 1: made for a light background */
    int mono;                           /* 1: never use colour (`mono = true;`) */
    theme_style style[THEME_N_ROLES];
    size_t n_stops;                     /* >= 2 */
    theme_color stops[THEME_MAX_STOPS]; /* the heat ramp, low to high */
} theme;

/* How many colours an output can show. */
typedef enum {
    THEME_COLOR_NONE = 0, /* shading characters only */
    THEME_COLOR_8,
    THEME_COLOR_256,
    THEME_COLOR_DIRECT,   /* 24-bit */
    THEME_COLOR_AUTO      /* only as a setting: detect */
} theme_color_mode;

/* Messages about configuration problems, one per line, "file:line: what".
 * Never fatal: the caller shows them and goes on with the defaults. */
typedef struct {
    char text[2048];
    int count;
} theme_diag;

/* Append one printf-formatted line to d (NULL: ignored); lines past the
 * buffer are dropped. */
void theme_diag_add(theme_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The built-in theme (the same as themes/default.cfg). */
void theme_default(theme *t);

/* Role name <-> role; -1 for an unknown name. */
int theme_role_by_key(const char *key);
const char *theme_role_key(theme_role r);

/* Parse a colour value (see the header comment). Returns 0 or -1. */
int theme_parse_color(const char *s, theme_color *out);
/* Parse an attribute list ("bold,reverse"). Returns 0 or -1. */
int theme_parse_attr(const char *s, unsigned *out);

/* Apply a theme file on top of t (keys it does not set stay as they were).
 * Returns 0 when the file was read (bad values inside are reported in d and
 * skipped), -1 when it cannot be read or parsed at all (reported in d; t is
 * unchanged). d may be NULL. */
int theme_load_file(theme *t, const char *path, theme_diag *d);

/* The settings a person writes in config.cfg. */
typedef struct {
    char theme[256];           /* "" = not set */
    theme_color_mode color;    /* THEME_COLOR_AUTO unless set */
    int half_blocks;           /* -1 not set, 0 off, 1 on */
    int mouse;                 /* -1 not set, 0 off, 1 on */
    int has_colors;            /* the file has a `colors` group */
    char colors_file[512];     /* ... in this file (applied by theme_resolve) */
} theme_settings;

/* Nothing set: colour depth auto, half blocks unset, no theme or colours. */
void theme_settings_init(theme_settings *s);

/* Read a config file into s (keys it does not set stay as they were).
 * A missing file is not an error (returns 1); a file that does not parse
 * returns -1 with the message in d; 0 otherwise. */
int theme_settings_load(theme_settings *s, const char *path, theme_diag *d);

/* Find a theme by name: a name with a '/' or ending in ".cfg" is a path;
 * otherwise NAME.cfg in each of dirs (n_dirs, entries may be NULL) in order.
 * Writes the path to out (cap bytes); returns 0, or -1 when not found. */
int theme_find(const char *name, const char *const *dirs, size_t n_dirs, char *out, size_t cap);

/* The whole chain: theme name from cli_theme (may be NULL), else the user's
 * config, else the system's, else "default"; colour overrides of the system
 * then the user config on top. user_cfg/sys_cfg may be NULL or name missing
 * files. themes_dirs as in theme_find. Fills t and the merged settings s
 * (s->theme holds the chosen name). Never fails: every problem goes to d and
 * the built-in value is used. */
void theme_resolve(theme *t, theme_settings *s, const char *cli_theme, const char *user_cfg,
                   const char *sys_cfg, const char *const *themes_dirs, size_t n_dirs,
                   theme_diag *d);

/* The user's config path: $XDG_CONFIG_HOME/attnscope/config.cfg, else
 * $HOME/.config/attnscope/config.cfg. Writes to out; returns out, or NULL
 * when neither variable is set. The themes folder beside it likewise. */
const char *theme_user_config_path(char *out, size_t cap);
const char *theme_user_themes_dir(char *out, size_t cap);

/* The theme names (file names without .cfg) found in dirs, sorted, without
 * duplicates, "default" always first. Returns the count (at most max); each
 * name is copied into names[i] (64 bytes each). */
size_t theme_list(const char *const *dirs, size_t n_dirs, char (*names)[64], size_t max);

/* ---- ramps and colour depth ------------------------------------------- */

/* The heat colour of a weight v in [0, 1] (clamped; NaN counts as 0):
 * linear interpolation between the theme's ramp stops. */
theme_color theme_ramp(const theme *t, double v);

/* Mix a and b: (1-f)*a + f*b per channel (THEME_DEFAULT taken as black). */
theme_color theme_mix(theme_color a, theme_color b, double f);

/* The colours role r is drawn in: its own, and where one is "default" the
 * theme's normal one (the UI paints unset colours in the normal pair). Either
 * may still be THEME_DEFAULT: the terminal's own. */
void theme_role_colors(const theme *t, theme_role r, theme_color *fg, theme_color *bg);

/* WCAG 2 contrast ratio of two colours, 1 (none) to 21 (black on white). */
double theme_contrast(theme_color a, theme_color b);

/* The nearest xterm-256 palette index (16..255: the 6x6x6 cube and the grey
 * ramp) and the nearest of the 8 ANSI colours (0 black .. 7 white). */
int theme_to_256(theme_color c);
int theme_to_8(theme_color c);

/* The shading character for v in [0, 1]: one of " .:-=+*#%@". */
char theme_shade(double v);
#define THEME_SHADES " .:-=+*#%@"

/* Decide the colour depth of an output from its environment:
 *   no_color     the NO_COLOR variable (set and non-empty: none)
 *   colorterm    COLORTERM ("truecolor" or "24bit": direct)
 *   n_colors     what terminfo says (colors capability; < 0 unknown)
 *   has_rgb      terminfo's RGB capability (direct colour support)
 *   wanted       a setting (THEME_COLOR_AUTO to detect)
 * Returns the mode to use. A wanted mode is capped by what terminfo knows
 * the terminal can show, except direct, which COLORTERM may vouch for. */
theme_color_mode theme_detect_mode(const char *no_color, const char *colorterm, int n_colors,
                                   int has_rgb, theme_color_mode wanted);

/* "none" "8" "256" "direct" "auto" <-> mode; -1 for anything else. */
int theme_mode_parse(const char *s);
const char *theme_mode_name(theme_color_mode m);

#endif
