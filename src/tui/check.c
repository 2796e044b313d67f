/* check.c - the UI's check line: a model's output against the exact
 * solution, in words ("✓ right...", "✗ wrong from char 14..."), and the
 * ASCII spelling of the few non-ASCII characters the UI writes.
 *
 * Deliberately not here: ncurses (the chrome draws the text), solving
 * (quad.h). */
#include "tui.h"

#include <stdio.h>
#include <string.h>

#include "byt5.h"
#include "quad.h"
#include "tokenizer.h"

char *tui_ascii(const char *s, char *out, size_t cap)
{
    static const struct {
        const char *u, *a;
    } map[] = {{"\xe2\x88\x9a", "sqrt"}, {"\xc2\xb1", "+-"}, {"\xe2\x89\x88", "~"},
               {"\xe2\x88\x92", "-"},    {"\xe2\x9c\x93", "OK"}, {"\xe2\x9c\x97", "X"}};
    size_t n = 0;
    if (!cap) return out;
    while (*s && n + 1 < cap) {
        const char *rep = NULL;
        size_t skip = 1;
        if ((unsigned char)*s >= 0x80) {
            for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
                if (!strncmp(s, map[i].u, strlen(map[i].u))) {
                    rep = map[i].a;
                    skip = strlen(map[i].u);
                    break;
                }
            if (!rep) {
                rep = "?";
                /* one '?' per UTF-8 character */
                while ((s[skip] & 0xC0) == 0x80) skip++;
            }
        }
        if (rep) {
            for (const char *r = rep; *r && n + 1 < cap; r++) out[n++] = *r;
        } else {
            out[n++] = *s;
        }
        s += skip;
    }
    out[n] = '\0';
    return out;
}

tui_check_kind tui_check_text(const quad_solution *sol, const char *output, int utf8, char *out,
                              size_t cap)
{
    char text[768], lab[16], got[32], want[32];
    tui_check_kind kind;
    if (!sol->in_distribution) {
        snprintf(text, sizeof text, "roots not integers (outside the training form): %s",
                 sol->roots_text);
        kind = TUI_CHECK_OFF;
    } else {
        long i = quad_first_diff(sol->target, output);
        if (i < 0) {
            snprintf(text, sizeof text, "\xe2\x9c\x93 right: the exact solution (%s)",
                     sol->roots_text);
            kind = TUI_CHECK_RIGHT;
        } else {
            size_t tl = strlen(sol->target), ol = strlen(output);
            if ((size_t)i < ol)
                snprintf(got, sizeof got, "'%s'",
                         tok_display_label(NULL, (unsigned char)output[i] + BYT5_OFFSET, lab,
                                            sizeof lab));
            else
                snprintf(got, sizeof got, "the end");
            if ((size_t)i < tl)
                snprintf(want, sizeof want, "'%s'",
                         tok_display_label(NULL, (unsigned char)sol->target[i] + BYT5_OFFSET, lab,
                                           sizeof lab));
            else
                snprintf(want, sizeof want, "the end");
            snprintf(text, sizeof text, "\xe2\x9c\x97 wrong from char %ld: %s, want %s; answer %s (%s)",
                     i + 1, got, want, quad_answer_right(sol->target, output) ? "right" : "wrong",
                     sol->roots_text);
            kind = TUI_CHECK_WRONG;
        }
    }
    if (utf8) snprintf(out, cap, "%s", text);
    else tui_ascii(text, out, cap);
    return kind;
}
