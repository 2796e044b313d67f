/* tui.h - the terminal UI: type an equation, watch the model decode it,
 * walk every attention map.
 *
 * The program lives in src/tui/: a session without curses (tui_session.h:
 * the run, ablations, maps and labels), one loop, one file per view and the
 * chrome around them (src/tui/tui_int.h draws the picture). Maps are laid
 * out on the screen by the map grid (grid.h), which the renderer shares.
 * Here: the check line (pure, unit-tested) and the entry point.
 *
 * Deliberately not here: running the model (t5.h, trace.h), parsing
 * equations (quad.h), colours and themes (theme.h), the command line
 * (src/cli/cmd_tui.c). */
#ifndef ATTNSCOPE_TUI_H
#define ATTNSCOPE_TUI_H

#include <stddef.h>

#include "quad.h"
#include "t5.h"
#include "util.h"

/* ---- the check line ---------------------------------------------------- */

typedef enum {
    TUI_CHECK_RIGHT = 0, /* output == the exact target */
    TUI_CHECK_WRONG,     /* differs: from which character, got/want, answer right? */
    TUI_CHECK_OFF        /* roots not integers: no target in the training form */
} tui_check_kind;

/* The check of a model's output against the exact solution, as the UI
 * shows it: "✓ right: the exact solution (x = 2, x = 3)", "✗ wrong from
 * char 14: '4', want '5'; answer right (x = 2, x = 3)", or the roots of an
 * equation outside the training form. utf8 0 gives ASCII only ("OK", "X",
 * "sqrt", "+-", "~"). Writes at most cap bytes to out; returns the kind. */
tui_check_kind tui_check_text(const quad_solution *sol, const char *output, int utf8, char *out,
                              size_t cap);

/* Copy s to out (cap bytes) with the few non-ASCII characters the UI uses
 * spelled in ASCII (√ sqrt, ± +-, ≈ ~, − -, ✓ OK, ✗ X) and any other
 * non-ASCII byte as '?'. Returns out. */
char *tui_ascii(const char *s, char *out, size_t cap);

/* ---- the program ------------------------------------------------------- */

typedef struct {
    const char *model_dir;    /* a Hugging Face folder */
    const char *equation;     /* first input; NULL for the study's example */
    const char *theme;        /* --theme, may be NULL */
    const char *color;        /* --color auto|direct|256|8|none, may be NULL */
    int raw;                  /* 1: any text, no equation parser (non-quadratic models) */
    int ascii;                /* 1: no half blocks even under UTF-8 */
    int no_mouse;             /* 1: no mouse events (the terminal keeps its selection) */
    size_t max_len;           /* --max-len: output tokens at most (0: the default) */
    const char *target;       /* --target: teacher-forced target text, may be NULL */
    const char *bench_keys;   /* --bench-ui: replay these keys headless and print timings */
    size_t bench_reps;
    const char *data_dir;     /* themes/ and config.cfg of the installation; NULL: "." */
} tui_options;

/* Run the UI on a loaded model until the person quits. Returns 0; SIGINT or
 * SIGTERM when that signal ended it (the caller reports it: exit 128 +
 * signal); or -1 after a fatal error (no terminal, a terminal that cannot be
 * driven, an unreadable vocabulary, an equation longer than the entry takes)
 * with the message in err. The terminal is restored (endwin) before it
 * returns. The model must outlive the call. */
int tui_run(const tui_options *o, const t5_model *m, as_err *err);

#endif
