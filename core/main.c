/*
 * main.c - the vnet host: a drop-in for the lua5.4 command line with every
 * vnet module preloaded and `vnet` set as a global.
 *
 * The option handling follows Lua 5.4's lua.c so that `vnet` can stand in
 * for `lua5.4` anywhere (busted --lua=build/vnet runs specs inside it):
 *   vnet [options] [script [args]]
 * With no script and a terminal on stdin it is the REPL of repl.c.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "host.h"
#include "vnet.h"

static const char *progname = "vnet";
static lua_State *globalL = NULL;
/* SIGTERM or SIGHUP while Lua code ran: the session ends (process-wide:
 * a signal is for the process, and there is one host state) */
static volatile sig_atomic_t ending_signal;

/* ---- Ctrl-C while Lua code runs: raise "interrupted!" (lua.c) -------- */

static void lstop(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (vnet_session_held) /* something made, not yet journaled: wait */
        return;
    if (ending_signal) /* stays armed: pcalls in the script cannot catch it */
        luaL_error(L, "terminated by %s",
                   ending_signal == SIGTERM ? "SIGTERM" : "SIGHUP");
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void laction(int i)
{
    int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    signal(i, SIG_DFL); /* a second one kills (the guardian undoes) */
    if (i != SIGINT) ending_signal = i;
    lua_sethook(globalL, lstop, flag, 1);
}

/* End the session: undo what it made (vnet.session, if it was loaded),
 * with the ending signals held off so the undo is not cut short. */
static void end_session(lua_State *L)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &old);
    lua_sethook(L, NULL, 0, 0);
    if (lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE) == LUA_TTABLE &&
        lua_getfield(L, -1, "vnet.session") == LUA_TTABLE &&
        lua_getfield(L, -1, "finish") == LUA_TFUNCTION) {
        if (lua_pcall(L, 0, 2, 0) != LUA_OK || !lua_toboolean(L, -2)) {
            const char *m = lua_tostring(L, -1);
            fprintf(stderr, "%s: undoing the session: %s\n", progname,
                    m ? m : "?");
        }
    }
    lua_settop(L, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* After a SIGTERM/SIGHUP: undo, then die of that signal. */
static void end_by_signal(lua_State *L)
{
    int sig = ending_signal;
    end_session(L);
    fflush(NULL);
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

static void print_usage(const char *badoption)
{
    FILE *f = badoption ? stderr : stdout;
    if (badoption) {
        if (badoption[1] == 'e' || badoption[1] == 'l' ||
            strcmp(badoption, "--netns") == 0)
            fprintf(f, "%s: '%s' needs argument\n", progname, badoption);
        else
            fprintf(f, "%s: unrecognized option '%s'\n", progname, badoption);
    }
    fprintf(f,
        "usage: %s [options] [script [args]]\n"
        "Runs Lua scripts that build and drive Linux virtual network devices.\n"
        "Available options are:\n"
        "  -e stat   execute string 'stat'\n"
        "  -i        enter interactive mode after executing 'script'\n"
        "  -l mod    require library 'mod' into global 'mod'\n"
        "  -l g=mod  require library 'mod' into global 'g'\n"
        "  -v        show version information\n"
        "  -E        ignore environment variables\n"
        "  -W        turn warnings on\n"
        "  -h --help show this help\n"
        "  --netns NAME  run inside the named network namespace (ip netns)\n"
        "  --sandbox     run inside a fresh private network namespace (in a\n"
        "                fresh user namespace when not root): explore freely\n"
        "  --keep        keep what the script makes (by default the session\n"
        "                undoes it when it ends, however it ends)\n"
        "  --        stop handling options\n"
        "  -         stop handling options and execute stdin\n"
        "With no script and a terminal, starts the REPL (history in\n"
        "~/.vnet_history, Tab completes globals and fields).\n"
        "\n"
        "Preloaded modules (the global 'vnet' holds them all):\n", progname);
    for (const char *const *m = vnet_module_names(); *m; m++)
        fprintf(f, "  %s\n", *m);
    fprintf(f,
        "\nCreating devices needs root or CAP_NET_ADMIN.\n");
    fflush(f);
}

static void l_message(const char *pname, const char *msg)
{
    if (pname) fprintf(stderr, "%s: ", pname);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (msg == NULL) msg = "(error object is not a string)";
        l_message(progname, msg);
        lua_pop(L, 1);
    }
    return status;
}

int vnet_docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, vnet_msghandler);
    lua_insert(L, base);
    globalL = L;
    struct sigaction sa = {.sa_handler = laction, .sa_flags = SA_RESTART},
                     oint, oterm, ohup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &oint);
    sigaction(SIGTERM, &sa, &oterm);
    sigaction(SIGHUP, &sa, &ohup);
    int status = lua_pcall(L, narg, nres, base);
    sigaction(SIGINT, &oint, NULL); /* the REPL's own */
    sigaction(SIGTERM, &oterm, NULL);
    sigaction(SIGHUP, &ohup, NULL);
    if (ending_signal)
        end_by_signal(L);
    lua_remove(L, base);
    return status;
}

static void print_version(void)
{
    printf("vnet %s (%s)\n", VNET_VERSION, LUA_COPYRIGHT);
    fflush(stdout);
}

static void createargtable(lua_State *L, char **argv, int argc, int script)
{
    if (script == argc) script = 0;
    lua_createtable(L, argc - (script + 1), script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status)
{
    if (status == LUA_OK) status = vnet_docall(L, 0, 0);
    return report(L, status);
}

static int dofile(lua_State *L, const char *name)
{
    return dochunk(L, luaL_loadfile(L, name));
}

static int dostring(lua_State *L, const char *s, const char *name)
{
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

static int dolibrary(lua_State *L, char *globname)
{
    char *modname = strchr(globname, '=');
    if (modname == NULL) {
        modname = globname;
        globname = strrchr(modname, '.');
        globname = globname ? globname + 1 : modname;
    } else {
        *modname++ = '\0';
    }
    lua_getglobal(L, "require");
    lua_pushstring(L, modname);
    int status = vnet_docall(L, 1, 1);
    if (status == LUA_OK)
        lua_setglobal(L, globname);
    return report(L, status);
}

static int pushargs(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE)
        luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    int i;
    for (i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -i);
    return n;
}

static int handle_script(lua_State *L, char **argv)
{
    const char *fname = argv[0];
    if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
        fname = NULL; /* stdin */
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = pushargs(L);
        status = vnet_docall(L, n, LUA_MULTRET);
    }
    return report(L, status);
}

#define has_error 1
#define has_i 2
#define has_v 4
#define has_e 8
#define has_E 16
#define has_h 32
#define has_sandbox 64
#define has_keep 128

static const char *netns_opt; /* --netns NAME */

static int collectargs(char **argv, int *first)
{
    int args = 0;
    int i;
    if (argv[0] != NULL) {
        if (argv[0][0]) progname = argv[0];
    } else {
        *first = -1;
        return 0;
    }
    for (i = 1; argv[i] != NULL; i++) {
        *first = i;
        if (argv[i][0] != '-')
            return args;
        switch (argv[i][1]) {
        case '-':
            if (strcmp(argv[i], "--help") == 0) {
                args |= has_h;
                break;
            }
            if (strcmp(argv[i], "--sandbox") == 0) {
                args |= has_sandbox;
                break;
            }
            if (strcmp(argv[i], "--keep") == 0) {
                args |= has_keep;
                break;
            }
            if (strcmp(argv[i], "--netns") == 0) {
                if (argv[++i] == NULL)
                    return has_error;
                netns_opt = argv[i];
                break;
            }
            if (argv[i][2] != '\0') return has_error;
            *first = argv[i + 1] != NULL ? i + 1 : 0;
            return args;
        case '\0':
            return args;
        case 'E':
            if (argv[i][2] != '\0') return has_error;
            args |= has_E;
            break;
        case 'W':
            if (argv[i][2] != '\0') return has_error;
            break;
        case 'h':
            if (argv[i][2] != '\0') return has_error;
            args |= has_h;
            break;
        case 'i':
            args |= has_i; /* -i implies -v */
            /* FALLTHROUGH */
        case 'v':
            if (argv[i][2] != '\0') return has_error;
            args |= has_v;
            break;
        case 'e':
            args |= has_e;
            /* FALLTHROUGH */
        case 'l':
            if (argv[i][2] == '\0') {
                i++;
                if (argv[i] == NULL || argv[i][0] == '-')
                    return has_error;
            }
            break;
        default:
            return has_error;
        }
    }
    *first = 0; /* no script */
    return args;
}

static int runargs(lua_State *L, char **argv, int n)
{
    for (int i = 1; i < n; i++) {
        if (strcmp(argv[i], "--netns") == 0) { /* done before, in pmain */
            i++;
            continue;
        }
        int option = argv[i][1];
        switch (option) {
        case 'e':
        case 'l': {
            char *extra = argv[i] + 2;
            if (*extra == '\0') extra = argv[++i];
            int status = option == 'e' ? dostring(L, extra, "=(command line)")
                                       : dolibrary(L, extra);
            if (status != LUA_OK) return 0;
            break;
        }
        case 'W':
            lua_warning(L, "@on", 0);
            break;
        }
    }
    return 1;
}

static int handle_luainit(lua_State *L)
{
    const char *name = "=LUA_INIT_5_4";
    const char *init = getenv(name + 1);
    if (init == NULL) {
        name = "=LUA_INIT";
        init = getenv(name + 1);
    }
    if (init == NULL) return LUA_OK;
    if (init[0] == '@') return dofile(L, init + 1);
    return dostring(L, init, name);
}

static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    int script;
    int args = collectargs(argv, &script);
    luaL_checkversion(L);
    if (args == has_error) {
        print_usage(argv[script]);
        return 0;
    }
    if (args & has_h) {
        print_usage(NULL);
        lua_pushboolean(L, 1);
        return 1;
    }
    if (netns_opt || (args & has_sandbox)) { /* before any script runs */
        char err[512];
        if (vnet_netns_host_option(netns_opt, args & has_sandbox, err,
                                   sizeof err) < 0) {
            l_message(progname, err);
            return 0;
        }
    }
    if (args & has_v) print_version();
    if (args & has_E) {
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    vnet_preload(L);
    createargtable(L, argv, argc, script);
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0);
    if (!(args & has_E) && handle_luainit(L) != LUA_OK)
        return 0;
    /* the vnet global: every module, loaded on first use */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "vnet");
    if (report(L, vnet_docall(L, 1, 1)) != LUA_OK)
        return 0;
    lua_setglobal(L, "vnet");
    if (args & has_keep) {
        lua_getglobal(L, "require");
        lua_pushliteral(L, "vnet.session");
        if (report(L, vnet_docall(L, 1, 1)) != LUA_OK)
            return 0;
        lua_getfield(L, -1, "keep");
        lua_call(L, 0, 0);
        lua_pop(L, 1);
    }
    if (!runargs(L, argv, script > 0 ? script : argc))
        return 0;
    if (script > 0 && handle_script(L, argv + script) != LUA_OK)
        return 0;
    if (args & has_i) {
        vnet_repl(L);
    } else if (script < 1 && !(args & (has_e | has_v))) {
        if (isatty(0)) {
            print_version();
            vnet_repl(L);
        } else {
            dofile(L, NULL);
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv)
{
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        l_message(argv[0], "cannot create state: not enough memory");
        return EXIT_FAILURE;
    }
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int result = lua_toboolean(L, -1);
    report(L, status);
    end_session(L); /* normal end, error, REPL closed */
    lua_close(L); /* runs every __gc: devices the script made go away */
    return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
