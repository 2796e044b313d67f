/* edit.c - the entry box's line editor: UTF-8 aware moves and deletes,
 * Enter decodes (Ctrl-R as raw text), Esc leaves.
 *
 * Deliberately not here: drawing the box (chrome.c), decoding (app.c). */
#include <curses.h>
#include <string.h>

#include "tui_int.h"

void tui_utf8_put(char *out, int cp, size_t *n)
{
    if (cp < 0x80) out[(*n)++] = (char)cp;
    else if (cp < 0x800) out[(*n)++] = (char)(0xC0 | (cp >> 6)), out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    else if (cp < 0x10000)
        out[(*n)++] = (char)(0xE0 | (cp >> 12)), out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    else
        out[(*n)++] = (char)(0xF0 | (cp >> 18)), out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F)), out[(*n)++] = (char)(0x80 | (cp & 0x3F));
}

/* A key that does not fit in the entry box: say so and how long it may be. */
static tui_action entry_full(tui_app *a)
{
    tui_note(a, 1, "too long: the entry takes at most %d,%03d bytes; the rest was not taken "
                   "(Ctrl-U clears it)",
             (TUI_INPUT_MAX - 1) / 1000, (TUI_INPUT_MAX - 1) % 1000);
    return TUI_REDRAW;
}

tui_action tui_edit_key(tui_app *a, int key)
{
    char *s = a->input;
    switch (key) {
    case '\r': case '\n': case TUI_FKEY | KEY_ENTER:
        if (tui_submit(a, 0) == 0) a->editing = 0;
        return TUI_REDRAW;
    case TUI_CTRL('r'):
        if (tui_submit(a, 1) == 0) a->editing = 0;
        return TUI_REDRAW;
    case TUI_ESC: case '\t':
        a->editing = 0;
        return TUI_REDRAW;
    case TUI_FKEY | KEY_BACKSPACE: case 127: case 8:
        if (a->input_pos > 0) {
            size_t p = a->input_pos - 1;
            while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80) p--;
            memmove(s + p, s + a->input_pos, a->input_len - a->input_pos + 1);
            a->input_len -= a->input_pos - p;
            a->input_pos = p;
        }
        return TUI_REDRAW;
    case TUI_FKEY | KEY_DC: case TUI_CTRL('d'):
        if (a->input_pos < a->input_len) {
            size_t p = a->input_pos + 1;
            while (p < a->input_len && ((unsigned char)s[p] & 0xC0) == 0x80) p++;
            memmove(s + a->input_pos, s + p, a->input_len - p + 1);
            a->input_len -= p - a->input_pos;
        }
        return TUI_REDRAW;
    case TUI_FKEY | KEY_LEFT: case TUI_CTRL('b'):
        while (a->input_pos > 0 && ((unsigned char)s[--a->input_pos] & 0xC0) == 0x80) {}
        return TUI_REDRAW;
    case TUI_FKEY | KEY_RIGHT: case TUI_CTRL('f'):
        if (a->input_pos < a->input_len)
            while (++a->input_pos < a->input_len && ((unsigned char)s[a->input_pos] & 0xC0) == 0x80) {}
        return TUI_REDRAW;
    case TUI_FKEY | KEY_HOME: case TUI_CTRL('a'):
        a->input_pos = 0;
        return TUI_REDRAW;
    case TUI_FKEY | KEY_END: case TUI_CTRL('e'):
        a->input_pos = a->input_len;
        return TUI_REDRAW;
    case TUI_CTRL('u'):
        a->input[0] = '\0';
        a->input_len = a->input_pos = 0;
        return TUI_REDRAW;
    case TUI_CTRL('l'):
        clearok(curscr, TRUE);
        return TUI_REDRAW;
    }
    if (key & TUI_FKEY || key < 32 || key == 127) return TUI_HANDLED;
    char u[4];
    size_t n = 0;
    tui_utf8_put(u, key, &n);
    if (a->input_len + n + 1 > sizeof a->input) return entry_full(a);
    memmove(s + a->input_pos + n, s + a->input_pos, a->input_len - a->input_pos + 1);
    memcpy(s + a->input_pos, u, n);
    a->input_len += n;
    a->input_pos += n;
    return TUI_REDRAW;
}

