/* loop.c - the UI program: the one loop that reads keys (and KEY_RESIZE)
 * and redraws, setting up and restoring the terminal, and the --bench-ui
 * replay that times redraws inside the program.
 *
 * Deliberately not here: what a key does (keys.c), drawing (chrome.c and
 * the views), the state (app.c, session.c). The fatal path calls endwin()
 * before any message; so does a quit on SIGINT or SIGTERM. */
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <unistd.h>

#include "tui_int.h"
#include "util.h"

/* ---- the loop ------------------------------------------------------------- */

/* Read one key: characters as code points, function keys with TUI_FKEY;
 * ERR on timeout. */
static int read_key(const tui_app *a)
{
    /* Bytes, decoded here: ncurses' get_wch waits for ever on a byte the
       locale cannot decode (and swallows the keys after it). A byte that
       does not make a character becomes '?'; outside UTF-8 every non-ASCII
       byte does. */
    int c = getch();
    if (c == ERR) return ERR;
    if (c >= KEY_MIN) return TUI_FKEY | c;
    if (c < 0x80) return c;
    if (!a->utf8) return '?';
    int need = c >= 0xF0 && c < 0xF5 ? 3 : c >= 0xE0 && c < 0xF0 ? 2 : c >= 0xC2 && c < 0xE0 ? 1 : 0;
    if (!need) return '?';
    int cp = c & (0x3F >> need);
    timeout(50);
    for (int i = 0; i < need; i++) {
        int d = getch();
        if (d == ERR || d >= KEY_MIN || (d & 0xC0) != 0x80) {
            if (d != ERR) ungetch(d);
            return '?';
        }
        cp = (cp << 6) | (d & 0x3F);
    }
    return cp;
}

/* Is the terminal able to show the UI at all? */
static const char *terminal_problem(void)
{
    const char *cup = tigetstr("cup");
    if (cup == NULL || cup == (char *)-1) return "cannot move the cursor";
    return NULL;
}

/* Pick a direct-colour terminfo entry when COLORTERM asks for 24-bit colour
 * and the terminal's own entry does not have it (xterm-256color ->
 * xterm-direct). Returns the name to use (a static buffer) or NULL. */
static const char *direct_term(const char *term)
{
    static char name[128];
    const char *ct = getenv("COLORTERM");
    const char *nc = getenv("NO_COLOR");
    if (!term || !ct || (nc && *nc)) return NULL;
    if (strcmp(ct, "truecolor") && strcmp(ct, "24bit")) return NULL;
    if (strstr(term, "direct")) return NULL;
    size_t base = strcspn(term, "-");
    snprintf(name, sizeof name, "%.*s-direct", (int)base, term);
    int err = 0;
    if (setupterm(name, -1, &err) != OK) return NULL;
    del_curterm(cur_term);
    return name;
}

/* Leave the terminal sane, then fill err; returns -1. */
static int fatal(as_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fatal(as_err *err, const char *fmt, ...)
{
    if (!isendwin()) endwin();
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return as_errf(err, "%s", msg);
}

static double median(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n ? (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])) : 0;
}

/* The keys --bench-ui replays: the default (cursor moves, layer/head/kind
 * switches, steps, model view, summary, average) or KEYS as typed, with
 * \\R \\L \\U \\D arrows, \\N \\P PgDn/PgUp, \\H \\E Home/End, \\n Enter, \\e
 * Escape (into custom, 256 at most). */
static const int *bench_keys(const char *keys, int *custom, size_t *nk)
{
    static const int default_keys[] = {
        TUI_FKEY | KEY_RIGHT, TUI_FKEY | KEY_DOWN, TUI_FKEY | KEY_LEFT, TUI_FKEY | KEY_UP,
        'l', 'h', 'a', 'a', '1', '2', '3', ',', '.', 'm', TUI_FKEY | KEY_RIGHT, 's', 'v',
        TUI_FKEY | KEY_DOWN, 'L', 'H'};
    if (!keys || !*keys || !strcmp(keys, "default")) {
        *nk = sizeof default_keys / sizeof default_keys[0];
        return default_keys;
    }
    size_t n = 0;
    for (const char *p = keys; *p && n < 256; p++) {
        int k = (unsigned char)*p;
        if (k == '\\' && p[1]) {
            switch (*++p) {
            case 'R': k = TUI_FKEY | KEY_RIGHT; break;
            case 'L': k = TUI_FKEY | KEY_LEFT; break;
            case 'U': k = TUI_FKEY | KEY_UP; break;
            case 'D': k = TUI_FKEY | KEY_DOWN; break;
            case 'N': k = TUI_FKEY | KEY_NPAGE; break;
            case 'P': k = TUI_FKEY | KEY_PPAGE; break;
            case 'H': k = TUI_FKEY | KEY_HOME; break;
            case 'E': k = TUI_FKEY | KEY_END; break;
            case 'n': k = '\r'; break;
            case 'e': k = TUI_ESC; break;
            default: k = (unsigned char)*p; break;
            }
        }
        custom[n++] = k;
    }
    *nk = n;
    return custom;
}

/* Replay keys into the loop with the screen going to /dev/null, timing each
 * key from handling to the end of doupdate(), and each new equation from
 * Enter to the first complete screen. Prints medians. */
static int bench(tui_app *a, const tui_options *o)
{
    static const char *eqs6[] = {"7x^2+3556x+451612=0", "1x^2-5x+6=0", "2x^2+0x-8=0",
                                 "3x^2+2x+5=0", "x^2-100=0", "5x^2+10x-75=0"};
    /* An input on the command line (a long text, say) is the only one. */
    const char *one[1] = {o->equation};
    const char **eqs = o->equation ? one : eqs6;
    size_t n_eq = o->equation ? 1 : 6;
    size_t reps = o->bench_reps ? o->bench_reps : 20;
    int custom[256];
    size_t nk;
    const int *seq = bench_keys(o->bench_keys, custom, &nk);
    double *tk = xcalloc(reps * nk, sizeof *tk), *te = xcalloc(reps * n_eq, sizeof *te);
    double *td = xcalloc(reps * n_eq, sizeof *td), n_tokens = 0;
    size_t ik = 0, ie = 0;
    for (size_t r = 0; r < reps; r++) {
        for (size_t i = 0; i < n_eq; i++) {
            snprintf(a->input, sizeof a->input, "%s", eqs[i]);
            a->input_len = a->input_pos = strlen(a->input);
            double t0 = util_now();
            tui_submit(a, 0);
            tui_draw(a);
            doupdate();
            td[ie] = a->s->decode_ms;
            n_tokens += (double)a->s->n_gen;
            te[ie++] = (util_now() - t0) * 1e3;
        }
        for (size_t i = 0; i < nk; i++) {
            double t0 = util_now();
            tui_action act = tui_handle_key(a, seq[i]);
            if (act != TUI_QUIT) {
                tui_draw(a);
                doupdate();
            }
            tk[ik++] = (util_now() - t0) * 1e3;
        }
    }
    double max_key = 0;
    size_t max_at = 0;
    for (size_t i = 0; i < ik; i++)
        if (tk[i] > max_key) max_key = tk[i], max_at = i % nk;
    size_t rows, cols;
    tui_session_map_size(a->s, T5_ATTN_ENC_SELF, &rows, &cols);
    double p_eq = median(te, ie), p_key = median(tk, ik), p_dec = median(td, ie);
    double p90 = ik ? tk[(ik * 9) / 10 < ik ? (ik * 9) / 10 : ik - 1] : 0; /* tk is sorted now */
    endwin();
    printf("ui: %dx%d terminal, %s colour, %zu key redraws, %zu new %s (%zu source tokens)\n",
           COLS, LINES, theme_mode_name(a->mode), ik, ie, a->s->raw ? "inputs" : "equations", rows);
    char slow[16];
    int sk = seq[max_at];
    if (sk & TUI_FKEY) snprintf(slow, sizeof slow, "%s", keyname(sk & ~TUI_FKEY));
    else snprintf(slow, sizeof slow, "%c", sk >= 32 && sk < 127 ? sk : '?');
    printf("ui: key press -> finished redraw   median %.3f ms (90%% %.3f, max %.3f ms at key %zu "
           "'%s')  goal < 16 ms\n", p_key, p90, max_key, max_at + 1, slow);
    printf("ui: Enter (new equation) -> screen median %.3f ms  goal < 100 ms\n", p_eq);
    printf("ui:   of which decoding (trace_run)  median %.3f ms, %.1f tokens per equation\n",
           p_dec, ie ? n_tokens / (double)ie : 0.0);
    free(td);
    free(tk);
    free(te);
    return 0;
}

/* Open the terminal (or /dev/null for --bench-ui) as the current screen;
   NULL after fatal(). */
static SCREEN *open_screen(const tui_options *o, FILE **devnull, as_err *err)
{
    const char *term = getenv("TERM");
    SCREEN *scr = NULL;
    *devnull = NULL;
    if (o->bench_keys) {
        *devnull = fopen("/dev/null", "w");
        /* A fixed terminal type, so numbers compare across machines. */
        scr = newterm("xterm-256color", *devnull, stdin);
    } else {
        if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
            fatal(err, "needs a terminal (for a picture without one: attnscope render)");
            return NULL;
        }
        const char *dt = direct_term(term);
        scr = newterm(dt ? dt : term, stdout, stdin);
        if (!scr && dt) scr = newterm(term, stdout, stdin);
    }
    if (!scr) {
        fatal(err, "cannot use the terminal '%s' (set TERM to your terminal's type)",
              term ? term : "");
        if (*devnull) fclose(*devnull);
        *devnull = NULL;
        return NULL;
    }
    set_term(scr);
    const char *problem = terminal_problem();
    if (problem) {
        fatal(err, "the terminal '%s' %s; the UI needs a full-screen terminal "
                   "(attnscope render draws maps without one)", term ? term : "", problem);
        delscreen(scr);
        if (*devnull) fclose(*devnull);
        *devnull = NULL;
        return NULL;
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    meta(stdscr, TRUE); /* all 8 bits of a byte, not a stripped ASCII letter */
    set_escdelay(25);
    curs_set(0);
    return scr;
}

/* 1 when another key is already waiting: a paste or a held key then redraws
 * once after its last key instead of after each (a 10,000-character paste
 * took 40 s of redraws in tmux). */
static int key_waiting(void)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* The signal that asked the UI to quit (0: none). Caught here rather than by
 * ncurses, whose handler exits 1 as if the run had failed: the loop leaves,
 * the terminal is restored and tui_run returns the signal. */
static volatile sig_atomic_t quit_signal;

static void on_quit_signal(int sig) { quit_signal = sig; }

/* Catch (on 1) or restore (on 0) SIGINT and SIGTERM; old keeps the actions
 * before. Set before newterm, which installs ncurses' handlers only where
 * none is set. No SA_RESTART: a signal interrupts the waiting getch. */
static void quit_signals(int on, struct sigaction old[2])
{
    if (!on) {
        sigaction(SIGINT, &old[0], NULL);
        sigaction(SIGTERM, &old[1], NULL);
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_quit_signal;
    sigemptyset(&sa.sa_mask);
    quit_signal = 0;
    sigaction(SIGINT, &sa, &old[0]);
    sigaction(SIGTERM, &sa, &old[1]);
}

/* The loop: keys, idle frames (work a frame left), playing, until quit (a
 * key, or SIGINT / SIGTERM). */
static void run_loop(tui_app *a)
{
    tui_draw(a);
    doupdate();
    for (;;) {
        timeout(a->playing ? 180 : a->more_work ? 0 : -1);
        int key = read_key(a);
        if (quit_signal) break;
        tui_action act;
        a->idle = 0;
        if (key == ERR && a->more_work && !a->playing) {
            act = TUI_REDRAW; /* an idle frame finishes what the last one left */
            a->idle = 1;
        } else if (key == ERR) {
            if (!a->playing) continue;
            if (a->s->step + 1 < a->s->n_gen) {
                a->s->step++;
                if (a->kind != T5_ATTN_ENC_SELF) a->cur_r[a->kind] = a->s->step;
            } else {
                a->playing = 0;
            }
            act = TUI_REDRAW;
        } else {
            act = tui_handle_key(a, key);
        }
        if (act == TUI_QUIT) break;
        if ((act == TUI_REDRAW || act == TUI_HANDLED) && !key_waiting()) {
            tui_draw(a);
            doupdate();
        }
    }
    endwin();
}

int tui_run(const tui_options *o, const t5_model *m, as_err *err)
{
    size_t eq_len = o->equation ? strlen(o->equation) : 0;
    if (eq_len >= TUI_INPUT_MAX)
        return as_errf(err, "the input is %zu bytes long; the UI's entry takes at most %d "
                            "(attnscope solve and render read longer ones)",
                       eq_len, TUI_INPUT_MAX - 1);
    tok_vocab *tok = tok_open(o->model_dir, err);
    if (!tok) return -1;
    tui_app *a = xcalloc(1, sizeof *a);
    tui_app_init(a, o, m, tok);
    for (int v = 0; v < VIEW_N; v++) a->vst[v] = tui_views[v]->open(a);

    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    a->utf8 = cs && !strcmp(cs, "UTF-8");
    FILE *devnull = NULL;
    struct sigaction old_sig[2];
    quit_signals(1, old_sig);
    SCREEN *scr = open_screen(o, &devnull, err);
    int rc = scr ? 0 : -1;
    if (scr) {
        tui_colors_init(a);
        /* Clicks and the wheel (xterm's protocol, which works over SSH);
           --no-mouse or `mouse = false;` leave the terminal's own. */
        a->mouse = !o->no_mouse && a->set.mouse != 0 && !o->bench_keys;
        if (a->mouse) {
            mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
            mouseinterval(0);
        }
        /* The first decode: a bad equation on the command line shows its
           message under the entry box like any other. */
        if (tui_submit(a, 0) != 0 && !a->s->have_run) a->editing = 1;
        else if (a->cfg_msg[0]) tui_note(a, 1, "%s", a->cfg_msg);
        if (o->bench_keys) bench(a, o);
        else run_loop(a);
        delscreen(scr);
    }
    quit_signals(0, old_sig);
    if (scr && quit_signal) rc = quit_signal;
    if (devnull) fclose(devnull);
    for (int v = 0; v < VIEW_N; v++) tui_views[v]->close(a->vst[v]);
    tui_app_free(a);
    free(a);
    return rc;
}
