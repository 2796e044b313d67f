/* prompt.c - the one-line prompt on the message line (a search, a
 * teacher-forcing target, an output length) and the search it runs: find a
 * token by its text on the query or the key axis, next and previous match.
 *
 * Deliberately not here: the entry box (edit.c), the frame (chrome.c). */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui_int.h"
#include "util.h"

void tui_prompt_open(tui_app *a, tui_prompt_id id, const char *text)
{
    a->prompt = id;
    snprintf(a->pbuf, sizeof a->pbuf, "%s", text);
    a->plen = strlen(a->pbuf);
    if (id == PROMPT_SEARCH) a->prompt_rows = a->search_rows;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Move to the next (dir 1) or previous (-1) token on the searched axis
   whose text starts a match of a->search (ASCII case ignored; a match may
   run over several tokens, as a word does over ByT5 bytes), wrapping
   around. Tells where it landed on the message line. */
void tui_search_find(tui_app *a, int dir)
{
    if (!a->s->have_run) return;
    t5_attn_kind k = a->kind;
    size_t rows, cols;
    tui_session_map_size(a->s, k, &rows, &cols);
    int on_rows = a->search_rows;
    const int *tok = on_rows ? tui_session_row_tokens(a->s, k) : tui_session_col_tokens(a->s, k);
    size_t n = on_rows ? rows : cols;
    size_t cur = on_rows ? a->cur_r[k] : a->view == VIEW_SUMMARY ? a->sum_c : a->cur_c[k];
    /* The axis as one text, with the token each byte came from. */
    size_t cap = n * 24 + 1, len = 0;
    char *text = xcalloc(cap, 1);
    size_t *owner = xcalloc(cap, sizeof *owner);
    for (size_t i = 0; i < n; i++) {
        char t[96];
        tui_session_token_text(a->s, tok[i], t, sizeof t);
        for (const char *p = t; *p && len + 1 < cap; p++) {
            owner[len] = i;
            text[len++] = (char)lower((unsigned char)*p);
        }
    }
    char pat[TUI_INPUT_MAX];
    size_t pl = 0;
    for (const char *p = a->search; *p && pl + 1 < sizeof pat; p++) pat[pl++] = (char)lower((unsigned char)*p);
    pat[pl] = '\0';
    /* Tokens where a match starts, in order (one per token). */
    size_t n_hits = 0, first = n, last = n, next = n, prev = n, idx_next = 0, idx_prev = 0;
    long prev_tok = -1;
    for (size_t i = 0; pl && i + pl <= len; i++) {
        if (memcmp(text + i, pat, pl)) continue;
        size_t t = owner[i];
        if ((long)t == prev_tok) continue;
        prev_tok = (long)t;
        n_hits++;
        if (first == n) first = t;
        last = t;
        if (t > cur && next == n) next = t, idx_next = n_hits;
        if (t < cur) prev = t, idx_prev = n_hits;
    }
    free(text);
    free(owner);
    if (!n_hits) {
        tui_note(a, 1, "/%s: not on the %s axis", a->search, on_rows ? "query" : "key");
        return;
    }
    size_t to, idx;
    int wrapped = 0;
    if (dir > 0) {
        if (next < n) to = next, idx = idx_next;
        else to = first, idx = 1, wrapped = 1;
    } else {
        if (prev < n) to = prev, idx = idx_prev;
        else to = last, idx = n_hits, wrapped = 1;
    }
    if (on_rows) {
        a->cur_r[k] = to;
        if (k != T5_ATTN_ENC_SELF) { /* a decoder row: show the step that wrote it */
            tui_set_step(a, to);
            a->playing = 0;
        }
        if (a->view != VIEW_MAP) a->view = VIEW_MAP;
    } else {
        a->cur_c[k] = to;
        a->sum_c = to;
        if (a->view == VIEW_MODEL) a->view = VIEW_MAP;
    }
    char lab[64];
    tui_note(a, 0, "/%s: match %zu of %zu, %s %zu '%s'%s  (n/N next/previous)", a->search, idx,
             n_hits, on_rows ? "query" : "key", to, tui_session_label(a->s, tok[to], lab, sizeof lab),
             wrapped ? ", wrapped" : "");
}

/* Accept the prompt's text. */
static void prompt_accept(tui_app *a)
{
    tui_prompt_id id = a->prompt;
    a->prompt = PROMPT_NONE;
    switch (id) {
    case PROMPT_SEARCH:
        if (!a->plen) return; /* an empty search keeps the last one */
        snprintf(a->search, sizeof a->search, "%s", a->pbuf);
        a->search_rows = a->prompt_rows;
        tui_search_find(a, 1);
        return;
    case PROMPT_TARGET:
        snprintf(a->s->target, sizeof a->s->target, "%s", a->pbuf);
        tui_rerun(a);
        if (!a->s->target[0] && a->s->have_run) tui_note(a, 0, "no target: the model decodes greedily");
        return;
    case PROMPT_MAXLEN: {
        size_t v = 0;
        const char *p = a->pbuf;
        while (*p == ' ') p++;
        for (; *p >= '0' && *p <= '9' && v < 100000; p++) v = v * 10 + (size_t)(*p - '0');
        while (*p == ' ') p++;
        if (*p || v > TUI_MAX_GEN - 1) {
            tui_note(a, 1, "output length: a number of tokens from 1 to %d, not '%s'",
                     TUI_MAX_GEN - 1, a->pbuf);
            return;
        }
        a->s->max_len = v;
        if (a->s->forced) {
            tui_note(a, 0, "output length %s (used when there is no target: T clears it)",
                     a->pbuf[0] ? a->pbuf : "default");
            return;
        }
        tui_rerun(a);
        return;
    }
    default:
        return;
    }
}

tui_action tui_prompt_key(tui_app *a, int key)
{
    switch (key) {
    case '\r': case '\n': case TUI_FKEY | KEY_ENTER: prompt_accept(a); return TUI_REDRAW;
    case TUI_ESC: case TUI_CTRL('c'): case TUI_CTRL('g'): a->prompt = PROMPT_NONE; return TUI_REDRAW;
    case '\t':
        if (a->prompt == PROMPT_SEARCH) a->prompt_rows = !a->prompt_rows;
        return TUI_REDRAW;
    case TUI_CTRL('u'): a->plen = 0; a->pbuf[0] = '\0'; return TUI_REDRAW;
    case TUI_FKEY | KEY_BACKSPACE: case 127: case 8:
        if (a->plen) {
            size_t p = a->plen - 1;
            while (p > 0 && ((unsigned char)a->pbuf[p] & 0xC0) == 0x80) p--;
            a->plen = p;
            a->pbuf[p] = '\0';
        } else if (a->prompt == PROMPT_SEARCH) {
            a->prompt = PROMPT_NONE; /* backspace on an empty search leaves it, as in less */
        }
        return TUI_REDRAW;
    case TUI_CTRL('l'): clearok(curscr, TRUE); return TUI_REDRAW;
    }
    if (key & TUI_FKEY || key < 32 || key == 127) return TUI_HANDLED;
    char u[4];
    size_t n = 0;
    tui_utf8_put(u, key, &n);
    if (a->plen + n + 1 > sizeof a->pbuf) return TUI_HANDLED;
    memcpy(a->pbuf + a->plen, u, n);
    a->plen += n;
    a->pbuf[a->plen] = '\0';
    return TUI_REDRAW;
}


static const char *prompt_label(const tui_app *a)
{
    switch (a->prompt) {
    case PROMPT_SEARCH: return a->prompt_rows ? "find query (Tab: key)/" : "find key (Tab: query)/";
    case PROMPT_TARGET: return "target (empty: greedy)> ";
    case PROMPT_MAXLEN: return "output tokens at most (empty: default)> ";
    default: return "";
    }
}

/* The prompt on the message line; returns the cursor's column. */
int tui_prompt_draw(tui_app *a, int y, int w)
{
    const char *lab = prompt_label(a);
    int lw = (int)strlen(lab);
    tui_fill(a, y, 0, w, ROLE_ENTRY_FOCUS);
    tui_text(a, y, 0, lw, ROLE_ENTRY_FOCUS, lab);
    int box = w - lw - 1;
    size_t cols = tui_utf8_cols(a->pbuf, a->plen);
    size_t skip = box > 0 && cols >= (size_t)box ? cols - (size_t)box + 1 : 0;
    const char *s = a->pbuf;
    for (size_t i = 0; i < skip && *s; s++)
        if (((unsigned char)s[1] & 0xC0) != 0x80) i++;
    tui_text(a, y, lw, box, ROLE_ENTRY_FOCUS, s);
    return lw + (int)(cols - skip);
}

