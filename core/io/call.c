/*
 * call.c - calling a loop callback: in the handler thread, so that it may
 * wait, with its error routed to on_error or kept for run() to return.
 */
#include <string.h>

#include "io/loop.h"

static char ERR_KEY; /* the error run() returns, while pending */

/* Pop the error message on top: run() returns it; the loop stops. */
void vnet_loop_set_error(lua_State *L, loop *lp)
{
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ERR_KEY);
    lp->stop = 1;
}

int vnet_loop_take_error(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ERR_KEY) == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ERR_KEY);
    return 1;
}

int vnet_loop_fail(lua_State *L, loop *lp, int h)
{
    if (lp->errh != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lp->errh);
        lua_insert(L, -2);
        if (lua_pcall(L, 1, 0, h) == LUA_OK)
            return 1;
    }
    vnet_loop_set_error(L, lp); /* run() returns it */
    return -1;
}

/* Push the error of a dead thread with co's traceback (vnet_msghandler's
 * format: the message, then "stack traceback:"). */
static void thread_error(lua_State *L, lua_State *co)
{
    const char *msg = lua_tostring(co, -1);
    if (msg == NULL) {
        if (luaL_callmeta(co, -1, "__tostring") && lua_type(co, -1) == LUA_TSTRING)
            msg = lua_tostring(co, -1);
        else
            msg = lua_pushfstring(co, "(error object is a %s value)",
                                  luaL_typename(co, -1));
    }
    luaL_traceback(L, co, msg, 0);
    /* a thread whose body is a C function (drain.c's run) ends in a line
     * that names nothing: not the user's */
    size_t n;
    const char *tb = lua_tolstring(L, -1, &n);
    static const char body[] = "\n\t[C]: in ?";
    if (n >= sizeof body - 1 &&
        memcmp(tb + n - (sizeof body - 1), body, sizeof body - 1) == 0) {
        lua_pushlstring(L, tb, n - (sizeof body - 1));
        lua_remove(L, -2);
    }
}

/* Handlers run in one reused thread, resumed rather than pcalled, so a
 * handler may yield (wait for a packet, sleep): no allocation unless one
 * does, when the thread becomes a task and a new one takes its place. */
int vnet_loop_call(lua_State *L, loop *lp, int nargs, int h)
{
    if (lp->co == NULL) {
        lp->co = lua_newthread(L);
        lp->coref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_State *co = lp->co;
    lua_xmove(L, co, nargs + 1);
    lua_State *outer = vnet_loop_running;
    vnet_loop_running = co;
    int nres, st = lua_resume(co, L, nargs, &nres);
    vnet_loop_running = outer;
    vnet_loop_returned(co);
    if (st == LUA_OK) {
        lua_settop(co, 0);
        return 0;
    }
    int ref = lp->coref;    /* a task now, or dead: no longer the handler thread */
    lp->co = NULL;
    lp->coref = LUA_NOREF;
    if (st == LUA_YIELD && lp->adopt != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lp->adopt);
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        lua_xmove(co, L, nres);
        if (lua_pcall(L, nres + 1, 0, h) == LUA_OK)
            return 0;
    } else {
        if (st == LUA_YIELD)
            lua_pushliteral(co, "attempt to yield from a loop callback "
                            "without vnet.loop loaded");
        thread_error(L, co);
        /* A dead thread keeps its to-be-closed variables pending until it
         * is closed: close them now, as a pcall'd handler's would be when
         * its error unwinds (the traceback above was taken first). */
#if LUA_VERSION_RELEASE_NUM >= 50406
        lua_closethread(co, L);
#else
        lua_resetthread(co);
#endif
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
    }
    return vnet_loop_fail(L, lp, h);
}
