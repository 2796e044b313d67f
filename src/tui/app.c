/* app.c - the UI's state around the session: setting it up from the
 * options and the configuration chain, themes, decoding the entry box or
 * the shown input again (keeping the cursors inside the new maps), the
 * decoding step and notes on the message line.
 *
 * Deliberately not here: drawing (chrome.c, the views), keys (keys.c), the
 * loop (loop.c), the run itself (session.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_kind.h"
#include "quad.h"
#include "tui_int.h"
#include "util.h"

size_t tui_n_layers(const tui_app *a, t5_attn_kind kind)
{
    return tui_session_layers(a->s, kind);
}

const char *tui_entry_label(const tui_app *a)
{
    return a->s->raw ? "text> " : "equation> ";
}

void tui_note(tui_app *a, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->s->msg, sizeof a->s->msg, fmt, ap);
    va_end(ap);
    a->s->msg_error = error;
    a->s->err_col = 0;
}

/* After a new run: the cursors inside the new maps, the shown decoder
   kind's query on the step (the last after a new input, the kept one after
   a rerun), so the map scrolls to rows that are drawn. */
static void after_run(tui_app *a)
{
    a->playing = 0;
    for (int k = 0; k < 3; k++) {
        size_t rows, cols;
        tui_session_map_size(a->s, (t5_attn_kind)k, &rows, &cols);
        if (a->cur_r[k] >= rows) a->cur_r[k] = rows ? rows - 1 : 0;
        if (a->cur_c[k] >= cols) a->cur_c[k] = cols ? cols - 1 : 0;
    }
    if (a->s->n_gen) tui_set_step(a, a->s->step);
}

int tui_submit(tui_app *a, int force_raw)
{
    if (tui_session_submit(a->s, a->input, force_raw)) {
        a->stale = a->s->have_run;
        return -1;
    }
    a->stale = 0;
    after_run(a);
    return 0;
}

void tui_rerun(tui_app *a)
{
    if (!a->s->have_run) {
        tui_submit(a, 0);
        return;
    }
    if (tui_session_rerun(a->s) == 0) after_run(a);
}

void tui_toggle_ablation(tui_app *a, t5_attn_kind kind, size_t layer, size_t head)
{
    if (!a->s->have_run) tui_submit(a, 0);
    if (tui_session_toggle_ablation(a->s, kind, layer, head) == 0) after_run(a);
}

void tui_clear_ablation(tui_app *a)
{
    if (!a->s->have_run) tui_submit(a, 0);
    if (tui_session_clear_ablation(a->s) == 0) after_run(a);
}

void tui_toggle_norms(tui_app *a)
{
    if (!a->s->have_run) tui_submit(a, 0);
    int on = !a->s->norms;
    if (tui_session_set_norms(a->s, on) == 0) after_run(a);
    tui_note(a, 0, "%s", on ? "value norms ||a_ij W_O v_j||: what key j adds to query i, "
                             "as a share of the row (V: weights)"
                           : "attention weights (V: value norms)");
}

const char *tui_cell_measure(const tui_app *a)
{
    return a->s->norms ? "value-norm share" : "weight";
}

void tui_set_step(tui_app *a, size_t step)
{
    tui_session *s = a->s;
    if (!s->n_gen) return;
    s->step = step < s->n_gen ? step : s->n_gen - 1;
    a->cur_r[T5_ATTN_DEC_SELF] = s->step;
    a->cur_r[T5_ATTN_CROSS] = s->step;
}

/* ---- setup ----------------------------------------------------------------- */

static void load_theme(tui_app *a, const char *name, theme_diag *d)
{
    theme_resolve(&a->th, &a->set, name, a->user_cfg[0] ? a->user_cfg : NULL, a->sys_cfg,
                  a->theme_dirs, 3, d);
}

/* The configuration chain's files and the theme folders. */
static void find_config(tui_app *a, const char *data_dir)
{
    if (!theme_user_config_path(a->user_cfg, sizeof a->user_cfg)) a->user_cfg[0] = '\0';
    /* The system's file: $ATTNSCOPE_SYSCONFIG, else /etc/attnscope/config.cfg,
       else config.cfg in the data folder (DATADIR when installed). */
    const char *sys = getenv("ATTNSCOPE_SYSCONFIG");
    if (sys && *sys) snprintf(a->sys_cfg, sizeof a->sys_cfg, "%s", sys);
    else if (access("/etc/attnscope/config.cfg", R_OK) == 0)
        snprintf(a->sys_cfg, sizeof a->sys_cfg, "/etc/attnscope/config.cfg");
    else snprintf(a->sys_cfg, sizeof a->sys_cfg, "%.400s/config.cfg", data_dir);
    snprintf(a->data_themes, sizeof a->data_themes, "%.4000s/themes", data_dir);
    a->theme_dirs[0] = theme_user_themes_dir(a->user_themes, sizeof a->user_themes);
    a->theme_dirs[1] = a->data_themes;
    a->theme_dirs[2] = NULL;
    a->n_themes = theme_list(a->theme_dirs, 2, a->themes, TUI_MAX_THEMES);
}

void tui_app_init(tui_app *a, const tui_options *o, const t5_model *m, tok_vocab *tok)
{
    memset(a, 0, sizeof *a);
    a->model_dir = o->model_dir;
    a->s = tui_session_new(m, tok, o->raw || model_dir_guess_raw(o->model_dir));
    a->s->max_len = o->max_len;
    a->s->preset = o->model_dir ? model_dir_preset(o->model_dir) : NULL;
    if (o->target) snprintf(a->s->target, sizeof a->s->target, "%s", o->target);
    a->kind = T5_ATTN_CROSS;
    find_config(a, o->data_dir ? o->data_dir : ".");
    theme_diag d = {{0}, 0};
    load_theme(a, o->theme, &d);
    a->want_mode = a->set.color;
    if (o->color) {
        int mm = theme_mode_parse(o->color);
        if (mm >= 0) a->want_mode = (theme_color_mode)mm;
    }
    a->half_ok = a->set.half_blocks != 0 && !o->ascii;
    if (d.count) {
        /* Show the first problem; the rest are in the same file usually. */
        char first[400];
        snprintf(first, sizeof first, "%.399s", d.text);
        char *nl = strchr(first, '\n');
        if (nl) *nl = '\0';
        snprintf(a->cfg_msg, sizeof a->cfg_msg, "config: %s%s", first,
                 d.count > 1 ? " (and more)" : "");
    }
    /* the first input: the example of the model's preset, one it can solve */
    const quad_preset *first = a->s->preset ? a->s->preset : quad_preset_find("seed");
    snprintf(a->input, sizeof a->input, "%s", o->equation ? o->equation : first->example);
    a->input_len = a->input_pos = strlen(a->input);
}

void tui_app_free(tui_app *a)
{
    tui_session_free(a->s);
    a->s = NULL;
}

void tui_cycle_theme(tui_app *a)
{
    if (a->n_themes == 0) return;
    size_t cur = 0;
    for (size_t i = 0; i < a->n_themes; i++)
        if (!strcmp(a->themes[i], a->set.theme)) cur = i;
    const char *next = a->themes[(cur + 1) % a->n_themes];
    theme_diag d = {{0}, 0};
    theme_color_mode keep = a->want_mode;
    load_theme(a, next, &d);
    a->want_mode = keep;
    tui_colors_init(a);
    if (d.count) tui_session_note(a->s, 1, 0, "theme: %s", d.text);
    else tui_session_note(a->s, 0, 0, "theme %s", a->th.name);
}
