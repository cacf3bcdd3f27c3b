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

#include "host/host.h"

#define progname vnet_progname

/* The options collectargs knows, for the closest-match suggestion. */
static const char *const known_options[] = {
    "-e", "-i", "-j", "-l", "-v", "-E", "-W", "-h", "--help", "--netns",
    "--sandbox", "--topo", "--keep", "--", "-", NULL
};

/* Edit distance with adjacent transpositions counted as one edit (optimal
 * string alignment): "--sandbx" is 1 from "--sandbox", "--hlep" 1 from
 * "--help". Options are short; longer strings are not compared. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    enum { MAXLEN = 32 };
    if (n >= MAXLEN || m >= MAXLEN)
        return (size_t)-1;
    size_t d[MAXLEN + 1][MAXLEN + 1];
    for (size_t i = 0; i <= n; i++) d[i][0] = i;
    for (size_t j = 0; j <= m; j++) d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
                && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

/* The known option closest to `bad`, or NULL when none is close enough to
 * be the one meant (at most one edit per three characters typed, so "-x"
 * suggests nothing and "--bogus" is not taken for "--help"). */
static const char *closest_option(const char *bad)
{
    const char *best = NULL;
    size_t bestd = strlen(bad) / 3;
    for (const char *const *o = known_options; *o; o++) {
        size_t d = edit_distance(bad, *o);
        if (d <= bestd && (best == NULL || d < bestd)) {
            best = *o;
            bestd = d;
        }
    }
    return best;
}

/* A bad command line: one line saying what is wrong, not the whole help. */
static void print_bad_option(const char *bad)
{
    if (((bad[1] == 'e' || bad[1] == 'l') && bad[2] == '\0') ||
        strcmp(bad, "--netns") == 0 || strcmp(bad, "--topo") == 0)
        fprintf(stderr, "%s: '%s' needs argument (%s --help)\n", progname,
                bad, progname);
    else {
        const char *near = closest_option(bad);
        if (near)
            fprintf(stderr, "%s: unknown option '%s'; did you mean '%s'? "
                    "(%s --help)\n", progname, bad, near, progname);
        else
            fprintf(stderr, "%s: unknown option '%s' (%s --help)\n",
                    progname, bad, progname);
    }
    fflush(stderr);
}

/* The public modules: the fields of the vnet table that are modules
 * (lua/vnet/init.lua says which), sorted, and vnet itself. Not the
 * helpers that only other modules load (vnet.dev, vnet._opts...). */
static int l_public_modules(lua_State *L)
{
    luaL_openlibs(L);
    vnet_preload(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "vnet");
    lua_call(L, 1, 1);
    int vnet = lua_gettop(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_newtable(L);
    int n = 0;
    lua_pushliteral(L, "vnet");
    lua_rawseti(L, -2, ++n);
    for (lua_pushnil(L); lua_next(L, vnet); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING || !lua_istable(L, -1))
            continue;
        lua_pushfstring(L, "vnet.%s", lua_tostring(L, -2));
        lua_pushvalue(L, -1);
        int same = lua_rawget(L, vnet + 1) == LUA_TTABLE &&
                   lua_rawequal(L, -1, -3);
        lua_pop(L, 1);
        if (same)
            lua_rawseti(L, vnet + 2, ++n);
        else
            lua_pop(L, 1);
    }
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, vnet + 2);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    return 1;
}

static void print_usage(lua_State *L)
{
    printf(
        "usage: %s [options] [script [args]]\n"
        "Runs Lua scripts that build and drive Linux virtual network devices.\n"
        "Available options are:\n"
        "  -e stat   execute string 'stat'; print what it returns (links,\n"
        "            addresses, routes, neighbours as ip -br does)\n"
        "  -i        enter interactive mode after executing 'script'\n"
        "  -j        print what -e and the script return as JSON (as ip -j)\n"
        "  -l mod    require library 'mod' into global 'mod'\n"
        "  -l g=mod  require library 'mod' into global 'g'\n"
        "  -v        show version information\n"
        "  -E        ignore environment variables\n"
        "  -W        turn warnings on\n"
        "  -h --help show this help\n"
        "  --netns NAME  run inside the named network namespace (ip netns)\n"
        "  --sandbox     run in fresh private user, network and mount\n"
        "                namespaces, confined even when run as root:\n"
        "                explore freely (man vnet: SANDBOX)\n"
        "  --topo FILE   build the topology FILE describes (vnet.topo), its\n"
        "                nodes as globals, then run the script or the REPL;\n"
        "                destroyed when they end\n"
        "  --keep        keep what the script makes (by default the session\n"
        "                undoes it when it ends, however it ends)\n"
        "  --        stop handling options\n"
        "  -         stop handling options and execute stdin\n"
        "With no script and a terminal, starts the REPL (history in\n"
        "~/.vnet_history, Tab completes globals and fields).\n"
        "\n"
        "Modules (the global 'vnet' holds them all):\n", progname);
    lua_pushcfunction(L, l_public_modules);
    if (lua_pcall(L, 0, 1, 0) == LUA_OK) {
        int n = (int)lua_rawlen(L, -1);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, i);
            printf("  %s\n", lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    } else {
        printf("  (cannot list them: %s)\n", lua_tostring(L, -1));
    }
    lua_pop(L, 1);
    printf("\nCreating devices needs root or CAP_NET_ADMIN.\n");
    fflush(stdout);
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

static int json_opt; /* -j */

/* Print the values above `base` (what a chunk returned), as text or, with
 * -j, JSON: vnet.show._print says how (ip -br / ip -j shapes). */
static int print_results(lua_State *L, int base)
{
    int n = lua_gettop(L) - base;
    if (n == 0) return LUA_OK;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "vnet.show");
    int status = vnet_docall(L, 1, 1);
    if (status == LUA_OK) {
        lua_getfield(L, -1, "_print");
        lua_remove(L, -2);
        lua_insert(L, base + 1);
        lua_pushboolean(L, json_opt);
        lua_insert(L, base + 2);
        status = vnet_docall(L, n + 1, 0);
    }
    lua_settop(L, base);
    return report(L, status);
}

/* -e stat: run it and print what it returns */
static int doexpr(lua_State *L, const char *s)
{
    int base = lua_gettop(L);
    int status = luaL_loadbuffer(L, s, strlen(s), "=(command line)");
    if (status == LUA_OK) status = vnet_docall(L, 0, LUA_MULTRET);
    if (status != LUA_OK) return report(L, status);
    return print_results(L, base);
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

/* The script's file name, NULL for stdin ("-" not after "--"). */
static const char *script_name(char **argv)
{
    if (strcmp(argv[0], "-") == 0 && strcmp(argv[-1], "--") != 0)
        return NULL;
    return argv[0];
}

/* chunk: the stack index of the script compiled already (--sandbox reads
 * it before it drops the caller's rights), or 0 to load it now. */
static int handle_script(lua_State *L, char **argv, int chunk)
{
    int status = LUA_OK, base = lua_gettop(L);
    if (chunk)
        lua_pushvalue(L, chunk);
    else
        status = luaL_loadfile(L, script_name(argv));
    if (status == LUA_OK) {
        int n = pushargs(L);
        status = vnet_docall(L, n, LUA_MULTRET);
    }
    if (status == LUA_OK && json_opt) /* -j: what the script returns */
        return print_results(L, base);
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
static const char *topo_opt;  /* --topo FILE */

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
            if (strcmp(argv[i], "--topo") == 0) {
                if (argv[++i] == NULL)
                    return has_error;
                topo_opt = argv[i];
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
        case 'j':
            if (argv[i][2] != '\0') return has_error;
            json_opt = 1;
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
        if (strcmp(argv[i], "--netns") == 0 || strcmp(argv[i], "--topo") == 0) {
            /* done in pmain */
            i++;
            continue;
        }
        int option = argv[i][1];
        switch (option) {
        case 'e':
        case 'l': {
            char *extra = argv[i] + 2;
            if (*extra == '\0') extra = argv[++i];
            int status = option == 'e' ? doexpr(L, extra) : dolibrary(L, extra);
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

/* vnet.topo._host_begin/_host_end(path): --topo builds the topology,
 * sets its nodes as globals, and destroys it when the script or REPL ends */
static int topo_hook(lua_State *L, const char *fn, const char *path)
{
    lua_getglobal(L, "vnet");
    lua_getfield(L, -1, "topo");
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    lua_remove(L, -2);
    lua_pushstring(L, path);
    return report(L, vnet_docall(L, 1, 0));
}

static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    int script;
    int args = collectargs(argv, &script);
    luaL_checkversion(L);
    if (args == has_error) {
        print_bad_option(argv[script]);
        return 0;
    }
    if (args & has_h) {
        print_usage(L);
        lua_pushboolean(L, 1);
        return 1;
    }
    int chunk = 0;
    if ((args & has_sandbox) && script > 0 && script_name(argv + script)) {
        /* the script named on the command line is read with the caller's
         * rights; what it opens itself, it opens as the sandbox's user */
        if (report(L, luaL_loadfile(L, argv[script])) != LUA_OK)
            return 0;
        chunk = lua_gettop(L);
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
    if (topo_opt && topo_hook(L, "_host_begin", topo_opt) != LUA_OK)
        return 0;
    int ok = 1;
    if (script > 0 && handle_script(L, argv + script, chunk) != LUA_OK) {
        ok = 0;
    } else if (args & has_i) {
        vnet_repl(L);
    } else if (script < 1 && !(args & (has_e | has_v))) {
        if (isatty(0)) {
            print_version();
            vnet_repl(L);
        } else {
            dofile(L, NULL);
        }
    }
    if (topo_opt && topo_hook(L, "_host_end", topo_opt) != LUA_OK) /* even after an error */
        ok = 0;
    lua_pushboolean(L, ok);
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
    /* Ctrl-C breaks a stuck handler only when nothing is half-journaled */
    vnet_loop_hold = &vnet_session_held;
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int result = lua_toboolean(L, -1);
    report(L, status);
    vnet_end_session(L); /* normal end, error, REPL closed */
    lua_close(L); /* runs every __gc: devices the script made go away */
    return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
