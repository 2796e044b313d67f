/* keys.c - what a key does: the help closes on any key, a prompt or the
 * entry box takes keys while open, then the current view, then the keys
 * every view shares (layer, head, kind, step, ablation, theme...).
 *
 * Deliberately not here: the loop (loop.c), any view's own keys. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tui_int.h"

static tui_action common_key(tui_app *a, int key)
{
    if (a->prompt) return tui_prompt_key(a, key);
    if (a->editing) return tui_edit_key(a, key);
    size_t nl = tui_n_layers(a, a->kind), nh = a->s->tr->n_heads;
    switch (key) {
    case 'q': case 'Q': return TUI_QUIT;
    case '?': case TUI_FKEY | KEY_F(1): a->help = 1; return TUI_REDRAW;
    case 'e': case '\t': case '\r': case '\n': case TUI_FKEY | KEY_ENTER:
        a->editing = 1; /* (the model and summary views take Enter first) */
        return TUI_REDRAW;
    case TUI_CTRL('l'): clearok(curscr, TRUE); return TUI_REDRAW;
    }
    if (a->too_small) return TUI_HANDLED;
    switch (key) {
    case 'l': a->layer = (a->layer + 1) % nl; return TUI_REDRAW;
    case 'L': a->layer = (a->layer + nl - 1) % nl; return TUI_REDRAW;
    case 'h': a->head = (a->head + 1) % nh; a->avg = 0; return TUI_REDRAW;
    case 'H': a->head = (a->head + nh - 1) % nh; a->avg = 0; return TUI_REDRAW;
    case 'a': a->avg = !a->avg; return TUI_REDRAW;
    case '1': a->kind = T5_ATTN_ENC_SELF; return TUI_REDRAW;
    case '2': a->kind = T5_ATTN_DEC_SELF; return TUI_REDRAW;
    case '3': a->kind = T5_ATTN_CROSS; return TUI_REDRAW;
    case 'k': a->kind = (t5_attn_kind)((a->kind + 1) % 3); return TUI_REDRAW;
    case 'v': a->view = VIEW_MAP; return TUI_REDRAW;
    case 'm': a->view = a->view == VIEW_MODEL ? VIEW_MAP : VIEW_MODEL; return TUI_REDRAW;
    case 's': a->view = a->view == VIEW_SUMMARY ? VIEW_MAP : VIEW_SUMMARY; return TUI_REDRAW;
    case ',': case '<': if (a->s->step > 0) tui_set_step(a, a->s->step - 1); a->playing = 0; return TUI_REDRAW;
    case '.': case '>': tui_set_step(a, a->s->step + 1); a->playing = 0; return TUI_REDRAW;
    case 'g': tui_set_step(a, 0); a->playing = 0; return TUI_REDRAW;
    case 'G': tui_set_step(a, a->s->n_gen); a->playing = 0; return TUI_REDRAW;
    case ' ': case 'p':
        if (!a->playing && a->s->step + 1 >= a->s->n_gen) tui_set_step(a, 0);
        a->playing = !a->playing;
        return TUI_REDRAW;
    case 'x':
        if (a->avg && a->view == VIEW_MAP) {
            tui_note(a, 1, "pick one head to ablate (a leaves the average)");
            return TUI_REDRAW;
        }
        tui_toggle_ablation(a, a->kind, a->layer, a->head);
        return TUI_REDRAW;
    case 'X': tui_clear_ablation(a); return TUI_REDRAW;
    case 'c': a->normalize = !a->normalize; return TUI_REDRAW;
    case 'w': a->tokens = !a->tokens; return TUI_REDRAW;
    case 'V': tui_toggle_norms(a); return TUI_REDRAW;
    case 'u': a->view = a->view == VIEW_LENS ? VIEW_MAP : VIEW_LENS; return TUI_REDRAW;
    case '/':
        tui_prompt_open(a, PROMPT_SEARCH, "");
        return TUI_REDRAW;
    case 'n': case 'N':
        if (!a->search[0]) {
            tui_note(a, 1, "no search yet: / finds a token by its text");
            return TUI_REDRAW;
        }
        tui_search_find(a, key == 'n' ? 1 : -1);
        return TUI_REDRAW;
    case 'T':
        tui_prompt_open(a, PROMPT_TARGET, a->s->target);
        return TUI_REDRAW;
    case 'O': {
        char cur[32] = "";
        if (a->s->max_len) snprintf(cur, sizeof cur, "%zu", a->s->max_len);
        tui_prompt_open(a, PROMPT_MAXLEN, cur);
        return TUI_REDRAW;
    }
    case 'b': a->half_ok = !a->half_ok; return TUI_REDRAW;
    case 't': tui_cycle_theme(a); return TUI_REDRAW;
    case 'r':
        a->s->raw = !a->s->raw;
        if (tui_submit(a, 0) != 0) a->editing = 1;
        return TUI_REDRAW;
    }
    return TUI_IGNORED;
}


/* A mouse event: a click or the wheel in the view's area goes to the view
   (the keyboard's state wins: the help, a prompt or the entry take none). */
static tui_action mouse_event(tui_app *a)
{
    MEVENT ev;
    if (getmouse(&ev) != OK) return TUI_HANDLED;
    if (a->help) {
        a->help = 0;
        return TUI_REDRAW;
    }
    if (a->prompt || a->editing || a->too_small || !a->s->have_run) return TUI_HANDLED;
    tui_mouse m = {ev.y - a->view_y, ev.x - a->view_x, 0};
    if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) m.button = 1;
    else if (ev.bstate & BUTTON4_PRESSED) m.button = 4;
    else if (ev.bstate & BUTTON5_PRESSED) m.button = 5;
    if (!m.button || m.y < 0 || m.x < 0 || m.y >= a->view_h || m.x >= a->view_w)
        return TUI_HANDLED;
    const tui_view *v = tui_views[a->view];
    return v->mouse ? v->mouse(a, a->vst[a->view], &m) : TUI_HANDLED;
}

tui_action tui_handle_key(tui_app *a, int key)
{
    if (key == (TUI_FKEY | KEY_RESIZE)) return TUI_REDRAW;
    if (key == (TUI_FKEY | KEY_MOUSE)) return mouse_event(a);
    if (a->help) { /* any key closes the help */
        a->help = 0;
        return TUI_REDRAW;
    }
    tui_action r = TUI_IGNORED;
    if (!a->editing && !a->prompt && !a->too_small)
        r = tui_views[a->view]->key(a, a->vst[a->view], key);
    if (r == TUI_IGNORED) r = common_key(a, key);
    return r;
}
