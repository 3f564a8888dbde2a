#pragma once
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <ncursesw/ncurses.h>

// Swift cannot see C macros with arguments nor some globals: wrap them.
static inline int kp2d_cols(void) { return COLS; }
static inline int kp2d_lines(void) { return LINES; }
static inline int kp2d_colors(void) { return COLORS; }
static inline int kp2d_color_pairs(void) { return COLOR_PAIRS; }
static inline WINDOW *kp2d_stdscr(void) { return stdscr; }
static inline int kp2d_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int kp2d_key_resize(void) { return KEY_RESIZE; }
static inline int kp2d_key_up(void) { return KEY_UP; }
static inline int kp2d_key_down(void) { return KEY_DOWN; }
static inline int kp2d_key_left(void) { return KEY_LEFT; }
static inline int kp2d_key_right(void) { return KEY_RIGHT; }
static inline int kp2d_key_enter(void) { return KEY_ENTER; }
static inline int kp2d_key_backspace(void) { return KEY_BACKSPACE; }
static inline int kp2d_key_home(void) { return KEY_HOME; }
static inline int kp2d_key_end(void) { return KEY_END; }
static inline int kp2d_key_npage(void) { return KEY_NPAGE; }
static inline int kp2d_key_ppage(void) { return KEY_PPAGE; }
static inline int kp2d_key_btab(void) { return KEY_BTAB; }
static inline int kp2d_key_f(int n) { return KEY_F(n); }
static inline int kp2d_err(void) { return ERR; }
static inline unsigned long kp2d_a_bold(void) { return A_BOLD; }
static inline unsigned long kp2d_a_reverse(void) { return A_REVERSE; }
static inline unsigned long kp2d_a_dim(void) { return A_DIM; }
static inline unsigned long kp2d_a_underline(void) { return A_UNDERLINE; }
static inline void kp2d_set_locale(void) { setlocale(LC_ALL, ""); }
static inline int kp2d_getch(void) { return getch(); }
// Put one wide character with attributes and a colour pair at (y, x).
static inline int kp2d_put_wch(int y, int x, wchar_t ch, attr_t attrs, short pair) {
    cchar_t c;
    wchar_t s[2] = { ch, 0 };
    setcchar(&c, s, attrs, pair, NULL);
    return mvadd_wch(y, x, &c);
}

// ---- added for the TUI terminal layer ----
#include <signal.h>
#include <string.h>
#include <langinfo.h>
static inline int kp2d_locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}
static inline void kp2d_timeout(int ms) { wtimeout(stdscr, ms); }
static inline int kp2d_key_dc(void) { return KEY_DC; }
static inline int kp2d_key_min(void) { return KEY_MIN; }
// On a fatal signal: give the terminal back, then die the default way (so core dumps and exit codes stay).
static inline void kp2d_fatal_signal(int sig) {
    endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}
// Signals that already have a handler (or are ignored) when the terminal starts are left alone: the command
// catches SIGINT/SIGTERM/SIGHUP itself to save the run before exiting (kp2d-tui/StopSignals.swift).
static inline void kp2d_install_crash_handlers(void) {
    int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_DFL) continue;
        signal(sigs[i], kp2d_fatal_signal);
    }
}
// Only the handlers installed above go back to the default (an ignored signal stays with its listener).
static inline void kp2d_restore_default_handlers(void) {
    int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == kp2d_fatal_signal) signal(sigs[i], SIG_DFL);
    }
}
#include <stdio.h>
#include <unistd.h>
// initscr() exits the process when the terminal cannot be opened; newterm() reports it instead.
static inline int kp2d_start_screen(void) {
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) return -2;
    SCREEN *s = newterm(NULL, stdout, stdin);
    if (!s) return -1;
    set_term(s);
    return 0;
}
