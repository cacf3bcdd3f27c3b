/*
 * repl.c - the interactive vnet: read a line, run it, show the results.
 *
 * On a terminal the line comes from GNU readline, with a history file
 * (history.c: VNET_HISTORY, else ~/.vnet_history; a chunk typed over
 * several lines is one entry) and Tab
 * completion; otherwise from plain getline(). The Lua half, vnet._repl,
 * finds the completions and pretty-prints results; this file is the glue.
 *
 * Evaluation follows Lua 5.4's lua.c: "return <line>" first, then the line
 * as a statement, reading more lines on _PROMPT2 while the chunk ends in
 * <eof>. Chunks run through vnet_docall (traceback, Ctrl-C -> error).
 *
 * Ctrl-C at the prompt clears the line (and any pending continuation
 * lines): our SIGINT handler only sets a flag, the wait for a key returns,
 * and a fresh prompt is drawn; loop callbacks and tasks go on.
 *
 * On a terminal the prompt waits on the event loop (readline's callback
 * interface, vnet_loop_wait_fd): watchers, timers and tasks run between
 * keystrokes. The global `reload` (vnet._repl.reload) re-runs a file;
 * the global `help` (vnet._repl.help) shows the API reference.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

#include <lauxlib.h>

#include "host/host.h"

#define PROMPT1 "vnet> "
#define PROMPT2 "vnet>> "

/* readline 8.2 ends the line itself when it reads EOF */
#if RL_VERSION_MAJOR > 8 || (RL_VERSION_MAJOR == 8 && RL_VERSION_MINOR >= 2)
#define RL_EOF_NEWLINE 1
#else
#define RL_EOF_NEWLINE 0
#endif

/* The REPL's state, process-wide: readline's callbacks and the SIGINT
 * handler take no argument to carry a context, and the host runs one REPL
 * on one Lua state. */
static lua_State *repl_L;     /* for the readline callbacks */
static int repl_mod;          /* stack index of vnet._repl, 0 without it */
static int use_rl;            /* stdin is a terminal: readline */
static const char *prompt1;   /* primary prompt, during a read */
static volatile sig_atomic_t got_sigint;
static int cancelled;         /* Ctrl-C dropped the pending input */

static volatile sig_atomic_t got_ending; /* SIGTERM or SIGHUP at the prompt */

/* Ctrl-C while the prompt waits: a handler stuck in a loop is broken (and
 * dropped, vnet_loop_interrupt) and the line stays; else the line goes.
 * Either way the wait for a key ends: a signal between two callbacks
 * interrupts no system call (vnet_loop_wake). */
static void on_sigint(int sig)
{
    (void)sig;
    if (!vnet_loop_interrupt()) {
        got_sigint = 1;
        vnet_loop_wake();
    }
}

static void on_ending(int sig)
{
    got_ending = sig;
    vnet_loop_wake();
}

/* on_sigint from each read to the next vnet_docall, which sets its own
 * handler and leaves SIG_DFL; SIG_DFL again when the REPL ends. */
static void set_sigint(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;        /* no SA_RESTART: reads get EINTR */
    if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        perror("vnet: SIGINT");
    /* SIGTERM, SIGHUP at the prompt: the REPL ends the session itself */
    sa.sa_handler = handler == SIG_DFL ? SIG_DFL : on_ending;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGHUP, &sa, NULL) != 0)
        perror("vnet: SIGTERM");
}

/* readline calls this after a signal interrupted its read. */
static int on_signal_event(void)
{
    if (!got_sigint)
        return 0;
    got_sigint = 0;
    cancelled = 1;
    rl_replace_line("", 0);
    rl_crlf();
    rl_set_prompt(prompt1);
    rl_on_new_line();
    rl_redisplay();
    return 0;
}

/* ---- the prompt on the event loop ---------------------------------- */
/* readline's callback interface: the loop turns (vnet_loop_wait_fd) until
 * a key is there, so handlers, timers and tasks run while the prompt
 * waits. Output of a callback (print, io.write: see _repl.patch_output)
 * first takes the prompt and the half-typed line off the screen; after
 * the round they are drawn again, intact, below it. */

static char *rl_got;          /* the line the callback handed over */
static int line_done;           /* it did (rl_got NULL: end of input) */
static int rl_waiting;        /* the prompt is on the screen */
static int prompt_hidden;

static void on_line(char *line)
{
    rl_got = line;
    line_done = 1;
    rl_callback_handler_remove(); /* the terminal as it was, for the run */
}

static void hide_prompt(void)
{
    if (!rl_waiting || prompt_hidden)
        return;
    prompt_hidden = 1;
    rl_clear_visible_line();
    fflush(rl_outstream);
}

static void show_prompt(void)
{
    if (!prompt_hidden)
        return;
    prompt_hidden = 0;
    fflush(stdout);
    fflush(stderr);
    rl_on_new_line();
    rl_redisplay();
}

static int l_hide_prompt(lua_State *L)
{
    (void)L;
    hide_prompt();
    return 0;
}

/* Ctrl-C at the prompt: drop what was typed, a fresh primary prompt. */
static void prompt_sigint(void)
{
    got_sigint = 0;
    cancelled = 1;
    rl_callback_sigcleanup();
    rl_free_line_state();
    rl_point = rl_end;
    rl_redisplay();
    fputs("^C", rl_outstream);
    rl_crlf();
    rl_replace_line("", 0);
    rl_set_prompt(prompt1);
    rl_on_new_line();
    rl_redisplay();
}

/* readline(prompt), with the loop turning while it waits. */
static char *loop_readline(lua_State *L, const char *prompt)
{
    rl_got = NULL;
    line_done = 0;
    rl_callback_handler_install(prompt, on_line);
    rl_waiting = 1;
    while (!line_done) {
        int r = vnet_loop_wait_fd(L, STDIN_FILENO, show_prompt);
        if (r < 0) {          /* a callback's error, no on_error to take it */
            hide_prompt();
            fprintf(stderr, "%s\n", lua_tostring(L, -1));
            lua_pop(L, 1);
            show_prompt();
        }
        if (got_ending)
            break;
        if (vnet_loop_unused_sigint) { /* a handler ran, and returned */
            vnet_loop_unused_sigint = 0;
            got_sigint = 1;
        }
        if (got_sigint)
            prompt_sigint();
        else if (r > 0)
            rl_callback_read_char();
    }
    rl_waiting = 0;
    return rl_got;
}


/* SIGTERM or SIGHUP came while the prompt waited: the terminal as it was,
 * the history saved, the session undone; then die of that signal. */
static void end_by_signal(lua_State *L, char *line)
{
    int sig = got_ending;
    free(line);
    if (use_rl) {
        if (!line_done)
            rl_callback_handler_remove();
        vnet_history_close();
    }
    fputc('\n', stdout);
    fflush(stdout);
    vnet_end_by_signal(L, sig);
}

/* ---- Tab completion ------------------------------------------------ */

static int l_complete(lua_State *L) /* (module, text) -> candidates, append */
{
    const char *text = lua_touserdata(L, 2);
    lua_getfield(L, 1, "complete");
    lua_pushstring(L, text);
    lua_call(L, 1, 2);
    luaL_checktype(L, -2, LUA_TTABLE);
    return 2;
}

static char **complete(const char *text, int start, int end)
{
    lua_State *L = repl_L;
    char **m = NULL;
    int top = lua_gettop(L);
    rl_attempted_completion_over = 1; /* never fall back to file names */
    if (!repl_mod || !lua_checkstack(L, 5))
        return NULL;
    lua_pushcfunction(L, l_complete);
    lua_pushvalue(L, repl_mod);
    lua_pushlightuserdata(L, (void *)text);
    if (lua_pcall(L, 2, 2, 0) != LUA_OK)
        goto done;
    size_t n = (size_t)lua_rawlen(L, top + 1);
    if (n == 0 || (m = calloc(n + 2, sizeof *m)) == NULL)
        goto done;
    size_t common = 0;
    for (size_t i = 1; i <= n; i++) {
        const char *s = lua_rawgeti(L, top + 1, (lua_Integer)i) == LUA_TSTRING
                        ? lua_tostring(L, -1) : "";
        m[i] = strdup(s);
        lua_pop(L, 1);
        if (m[i] == NULL)
            goto fail;
        if (i == 1)
            common = strlen(s);
        while (common > 0 && strncmp(m[i], m[1], common) != 0)
            common--;
    }
    m[0] = n == 1 ? m[1] : strndup(m[1], common);
    if (n == 1) {
        m[1] = NULL;
        const char *a = lua_tostring(L, top + 2);
        rl_completion_append_character = a ? a[0] : ' ';
    }
    if (m[0] == NULL)
        goto fail;
    goto done;
fail:
    for (size_t i = 0; i <= n; i++)
        free(m[i]);
    free(m);
    m = NULL;
done:
    lua_settop(L, top);
    return m;
}

/* List the candidates by their last name only: `open`, not `vnet.tun.open`. */
static void show_matches(char **matches, int n, int max)
{
    char **shown = calloc((size_t)n + 2, sizeof *shown);
    if (shown == NULL) {
        rl_display_match_list(matches, n, max);
    } else {
        max = 0;
        for (int i = 0; i <= n; i++) {
            const char *p = matches[i];
            for (const char *q = p; *q; q++)
                if (*q == '.' || *q == ':')
                    p = q + 1;
            shown[i] = (char *)p;
            if (i > 0 && (int)strlen(p) > max)
                max = (int)strlen(p);
        }
        rl_display_match_list(shown, n, max);
        free(shown);
    }
    rl_forced_update_display();
}

/* ---- reading lines ------------------------------------------------- */

/* The chunk as typed (stack index `typed`) goes into the history as one
 * entry, however many lines it took. */
static void history_add(lua_State *L, int typed)
{
    if (use_rl)
        vnet_history_save(lua_tostring(L, typed));
}

static int l_prompts(lua_State *L) /* -> _PROMPT, _PROMPT2 as strings */
{
    const char *name[2] = {"_PROMPT", "_PROMPT2"}, *dflt[2] = {PROMPT1, PROMPT2};
    for (int i = 0; i < 2; i++) {
        if (lua_getglobal(L, name[i]) == LUA_TNIL)
            lua_pushstring(L, dflt[i]);
        else
            luaL_tolstring(L, -1, NULL);
        lua_remove(L, -2);
    }
    return 2;
}

/* Push the next line, without its newline; 0 at end of input. Sets
 * `cancelled` when Ctrl-C dropped what was typed before it. */
static int pushline(lua_State *L, int firstline)
{
    lua_pushcfunction(L, l_prompts);
    if (vnet_docall(L, 0, 2) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        lua_pushstring(L, PROMPT1);
        lua_pushstring(L, PROMPT2);
    }
    prompt1 = lua_tostring(L, -2);
    const char *prompt = firstline ? prompt1 : lua_tostring(L, -1);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    got_sigint = 0;
    set_sigint(on_sigint);
    if (use_rl) {
        line = loop_readline(L, prompt);
        len = line ? (ssize_t)strlen(line) : -1;
    } else {
        for (;;) {
            fputs(prompt, stdout);
            fflush(stdout);
            errno = 0;
            len = getline(&line, &cap, stdin);
            if (len >= 0 || !got_sigint)
                break;
            got_sigint = 0;     /* Ctrl-C: drop the input, prompt again */
            cancelled = 1;
            clearerr(stdin);
            fputc('\n', stdout);
            prompt = prompt1;
        }
    }
    lua_pop(L, 2);
    prompt1 = NULL;
    if (got_ending)
        end_by_signal(L, line);
    if (len < 0) {
        if (!use_rl && ferror(stdin))
            fprintf(stderr, "vnet: stdin: %s\n", strerror(errno));
        free(line);
        return 0;
    }
    if (len > 0 && line[len - 1] == '\n')
        line[--len] = '\0';
    lua_pushlstring(L, line, (size_t)len);
    free(line);
    return 1;
}

/* ---- read-eval-print ----------------------------------------------- */

static int incomplete(lua_State *L, int status)
{
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    const char *eof = "<eof>";
    size_t n = strlen(eof);
    if (status != LUA_ERRSYNTAX || msg == NULL || len < n
        || strcmp(msg + len - n, eof) != 0)
        return 0;
    lua_pop(L, 1);
    return 1;
}

/* Push the compiled chunk of the next complete input, or its syntax error;
 * return the load status, or -1 at end of input (also in mid-chunk). */
static int loadline(lua_State *L)
{
    int base = lua_gettop(L), status;
    if (!pushline(L, 1))
        return -1;
    int typed = base + 1;       /* the lines as typed, for the history */
    lua_pushvalue(L, typed);
    if (lua_tostring(L, -1)[0] == '=') { /* lua.c compatibility: "=x" */
        lua_pushfstring(L, "return %s", lua_tostring(L, -1) + 1);
        lua_remove(L, -2);
    }
    for (;;) {                  /* the input so far is on top */
        cancelled = 0;
        const char *ret = lua_pushfstring(L, "return %s;", lua_tostring(L, -1));
        status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
        lua_remove(L, -2);
        if (status == LUA_OK)
            break;
        lua_pop(L, 1);
        for (;;) {
            size_t len;
            const char *src = lua_tolstring(L, -1, &len);
            status = luaL_loadbuffer(L, src, len, "=stdin");
            if (!incomplete(L, status))
                goto loaded;
            if (!pushline(L, 0)) {
                history_add(L, typed);
                lua_settop(L, base);
                return -1;
            }
            if (cancelled) {    /* Ctrl-C: start over from the new line */
                history_add(L, typed);  /* what was entered before it */
                lua_pushvalue(L, -1);
                lua_replace(L, typed);
                break;
            }
            lua_pushvalue(L, typed);
            lua_pushliteral(L, "\n");
            lua_pushvalue(L, -3);
            lua_concat(L, 3);
            lua_replace(L, typed);
            lua_pushliteral(L, "\n");
            lua_insert(L, -2);
            lua_concat(L, 3);
        }
        lua_remove(L, -2);
    }
loaded:
    history_add(L, typed);
    lua_remove(L, -2);          /* the source */
    lua_remove(L, typed);
    return status;
}

static void print_results(lua_State *L, int base)
{
    int n = lua_gettop(L) - base;
    if (n == 0)
        return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    if (repl_mod) {
        lua_getfield(L, repl_mod, "show");
        lua_insert(L, base + 1);
        if (vnet_docall(L, n, 1) != LUA_OK) {
            fprintf(stderr, "error printing the result (%s)\n", lua_tostring(L, -1));
            lua_pop(L, 1);
            return;
        }
        n = 1;
    }
    for (int i = base + 1; i <= base + n; i++)
        printf("%s%s", luaL_tolstring(L, i, NULL), i < base + n ? "\t" : "\n");
    fflush(stdout);
    lua_settop(L, base);
}

void vnet_repl(lua_State *L)
{
    int top = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "vnet._repl");
    if (vnet_docall(L, 1, 1) != LUA_OK || !lua_istable(L, -1)) {
        fprintf(stderr, "vnet: no completion or pretty-printing: %s\n",
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "vnet._repl is no table");
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    repl_mod = lua_istable(L, -1) ? lua_gettop(L) : 0;
    /* globals for the prompt, unless a script already set them */
    static const char *const globals[] = {"reload", "help"};
    for (size_t i = 0; repl_mod && i < sizeof globals / sizeof *globals; i++) {
        if (lua_getglobal(L, globals[i]) == LUA_TNIL) {
            lua_getfield(L, repl_mod, globals[i]);
            lua_setglobal(L, globals[i]);
        }
        lua_pop(L, 1);
    }
    repl_L = L;
    use_rl = isatty(STDIN_FILENO);
    if (use_rl) {
        rl_readline_name = "vnet";
        rl_attempted_completion_function = complete;
        rl_completion_display_matches_hook = show_matches;
        rl_completer_word_break_characters = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^~#";
        rl_signal_event_hook = on_signal_event;
        rl_catch_signals = 0; /* ours, also while a key is read */
        vnet_history_open();
        if (repl_mod) {
            lua_getfield(L, repl_mod, "patch_output");
            lua_pushcfunction(L, l_hide_prompt);
            if (vnet_docall(L, 1, 0) != LUA_OK) {
                fprintf(stderr, "vnet: %s\n", lua_tostring(L, -1));
                lua_pop(L, 1);
            }
        }
    }
    int base = lua_gettop(L), status;
    while ((status = loadline(L)) != -1) {
        if (status == LUA_OK)
            status = vnet_docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) {
            print_results(L, base);
        } else {
            const char *msg = lua_tostring(L, -1);
            fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
            fflush(stderr);
        }
        lua_settop(L, base);
    }
    set_sigint(SIG_DFL);
    if (use_rl) {
        vnet_history_close();
        rl_signal_event_hook = NULL;
        rl_attempted_completion_function = NULL;
        rl_completion_display_matches_hook = NULL;
    }
    lua_settop(L, top);
    repl_mod = 0;
    repl_L = NULL;
    if (!use_rl || !RL_EOF_NEWLINE)
        fputc('\n', stdout);
    fflush(stdout);
}
