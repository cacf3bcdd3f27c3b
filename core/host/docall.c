/*
 * docall.c - how the host runs Lua code: a protected call with a traceback,
 * Ctrl-C turned into an "interrupted!" error, SIGTERM/SIGHUP into the end
 * of the session (lua.c's docall, laction and lstop). main.c and repl.c
 * both run code through it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

#include "host/host.h"

/* argv[0] of the host, for messages (process-wide: one program name) */
const char *vnet_progname = "vnet";
/* the state a signal interrupts (process-wide: signal handlers have no
 * argument, and the host runs one state) */
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
void vnet_end_session(lua_State *L)
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
            fprintf(stderr, "%s: undoing the session: %s\n", vnet_progname,
                    m ? m : "?");
        }
    }
    lua_settop(L, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* After a SIGTERM/SIGHUP: undo, then die of that signal. */
void vnet_end_by_signal(lua_State *L, int sig)
{
    vnet_end_session(L);
    fflush(NULL);
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
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
        vnet_end_by_signal(L, ending_signal);
    lua_remove(L, base);
    return status;
}
