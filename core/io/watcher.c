/*
 * watcher.c - the watchers of vnet.loop.core: on_readable, on_writable,
 * on_packet (and the packet waiter of a task), after, every, on_signal,
 * and the methods of a watcher (stop, set, fields). loop.c keeps them in
 * epoll and dispatches their events.
 *
 * Hot swap: on_packet on a device that has a handler, or w:set(fn), puts
 * fn in the watcher's user value 1 and bumps w->gen; the drain loop reads
 * the callback again when gen changed, so the next packet goes to fn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "io/loop.h"

static const char *const wkinds[] = {"readable", "writable", "timer",
                                     "signal", "packet"};

/* dev:close() ends the device's watcher; a task waiting for a packet of
 * it is woken with nil, so that it does not wait for ever. */
static void unwatch_dev(lua_State *L, void *wp)
{
    watcher *w = wp;
    if (!w->waiter || !lua_checkstack(L, 4)) {
        vnet_w_deactivate(L, w);
        return;
    }
    vnet_loop_push_watcher(L, w);
    lua_getiuservalue(L, -1, 1);
    vnet_w_deactivate(L, w);
    lua_pushnil(L);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK)
        lua_pop(L, 1); /* the waker only schedules: nothing to report */
    lua_pop(L, 1);
}

static int l_on_fd(lua_State *L, int kind)
{
    int fd = vnet_tofd(L, 1);
    if (!vnet_w_start(L, kind == W_READ ? "loop.on_readable" : "loop.on_writable",
                      kind, fd, 0, kind == W_READ ? EPOLLIN : EPOLLOUT, 2, 1))
        return 3;
    return 1;
}

static int l_on_readable(lua_State *L) { return l_on_fd(L, W_READ); }
static int l_on_writable(lua_State *L) { return l_on_fd(L, W_WRITE); }

/* Hot swap: the next packet goes to fn; one being handled finishes with
 * the old one. Nothing is lost or handled twice: the drain loop reads the
 * callback again when gen changed. */
static void w_swap(lua_State *L, int widx, watcher *w, int fnidx)
{
    lua_pushvalue(L, fnidx);
    lua_setiuservalue(L, widx, 1);
    w->gen++;
}

/* Where the packets of w's handler go (dev:on_packet's option `to`): the
 * device at idx, none (false), or as it was (none, nil). */
static void set_to(lua_State *L, int widx, watcher *w, int idx)
{
    if (lua_isnoneornil(L, idx))
        return;
    w->to = lua_toboolean(L, idx) ? vnet_dev_check(L, idx) : NULL;
    if (w->to)
        lua_pushvalue(L, idx);
    else
        lua_pushnil(L);
    lua_setiuservalue(L, widx, 3); /* keeps it alive while w is */
}

/* on_packet(dev, fn [, to]) -> watcher; a device that has one already
 * keeps it (and its place in epoll) with fn as the new callback. to: see
 * set_to. */
static int on_packet(lua_State *L, int waiter)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (lua_toboolean(L, 3))
        vnet_dev_check(L, 3); /* before anything changes */
    watcher *w = d->watch;
    if (w != NULL && w->waiter)
        return luaL_error(L, "%s: a task is waiting for its packets "
                          "(loop.wait_packet); a device has one reader", d->name);
    if (w != NULL && waiter)
        return luaL_error(L, "%s has an on_packet handler; a device has one "
                          "reader (stop it, or wait in the handler)", d->name);
    if (w != NULL) {
        vnet_loop_push_watcher(L, w);
        set_to(L, lua_gettop(L), w, 3);
        w_swap(L, lua_gettop(L), w, 2);
        return 1;
    }
    w = vnet_w_start(L, waiter ? "loop.wait_packet" : "loop.on_packet",
                     W_PACKET, d->fd, 0, EPOLLIN, 2, 1);
    if (w == NULL)
        return 3;
    w->dev = d;
    w->waiter = waiter;
    if (!waiter)
        set_to(L, lua_gettop(L), w, 3);
    d->watch = w;
    d->unwatch = unwatch_dev;
    return 1;
}

static int l_on_packet(lua_State *L) { return on_packet(L, 0); }
static int l_wait_packet(lua_State *L) { return on_packet(L, 1); }

static struct timespec to_ts(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    if (ts.tv_sec == 0 && ts.tv_nsec == 0)
        ts.tv_nsec = 1; /* zero would disarm the timer */
    return ts;
}

static int timer(lua_State *L, int repeat)
{
    double s = luaL_checknumber(L, 1);
    luaL_argcheck(L, s >= 0 && s < 1e9 && !isnan(s), 1,
                  "seconds must be >= 0");
    luaL_checktype(L, 2, LUA_TFUNCTION);
    const char *op = repeat ? "loop.every" : "loop.after";
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0)
        return vnet_pusherr(L, op, "(timerfd)", errno, NULL);
    struct itimerspec its = {.it_value = to_ts(s)};
    if (repeat)
        its.it_interval = to_ts(s);
    timerfd_settime(fd, 0, &its, NULL);
    watcher *w = vnet_w_start(L, op, W_TIMER, fd, 1, EPOLLIN, 2, 0);
    if (w == NULL)
        return 3;
    w->after = s;
    w->every = repeat ? s : 0;
    return 1;
}

static int l_after(lua_State *L) { return timer(L, 0); }
static int l_every(lua_State *L) { return timer(L, 1); }

static int checksig(lua_State *L, int idx)
{
    if (lua_isinteger(L, idx)) {
        lua_Integer n = lua_tointeger(L, idx);
        luaL_argcheck(L, n > 0 && n < _NSIG && n != SIGKILL && n != SIGSTOP,
                      idx, "not a signal that can be caught");
        return (int)n;
    }
    const char *s = luaL_checkstring(L, idx);
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    int signo = vnet_signo(s);
    if (signo > 0)
        return signo;
    return luaL_argerror(L, idx, lua_pushfstring(L, "unknown signal '%s'",
                                                 lua_tostring(L, idx)));
}

static int l_on_signal(lua_State *L)
{
    loop *lp = vnet_loop_get(L);
    int signo = checksig(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (lp->sigcount[signo] == 0)
            sigprocmask(SIG_UNBLOCK, &set, NULL);
        return vnet_pusherr(L, "loop.on_signal", vnet_signame(signo), e, NULL);
    }
    watcher *w = vnet_w_start(L, "loop.on_signal", W_SIGNAL, fd, 1, EPOLLIN,
                              2, 0);
    if (w == NULL) {
        if (lp->sigcount[signo] == 0)
            sigprocmask(SIG_UNBLOCK, &set, NULL);
        return 3;
    }
    lp->sigcount[signo]++;
    w->signo = signo;
    return 1;
}

/* ---- watcher methods -------------------------------------------------- */

static watcher *checkw(lua_State *L)
{
    return luaL_checkudata(L, 1, WATCHER_T);
}

static int w_stop(lua_State *L)
{
    vnet_w_deactivate(L, checkw(L));
    return 0;
}

/* w:set(fn) -> w: fn handles the next event (hot swap) */
static int w_set(lua_State *L)
{
    watcher *w = checkw(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (w->waiter)
        return luaL_error(L, "watcher.set: this watcher belongs to a waiting task");
    w_swap(L, 1, w, 2);
    lua_settop(L, 1);
    return 1;
}

static int w_gc(lua_State *L)
{
    watcher *w = checkw(L);
    if (w->owned && w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    return 0;
}

static int w_tostring(lua_State *L)
{
    watcher *w = checkw(L);
    lua_pushfstring(L, "vnet.watcher: %s%s", wkinds[w->kind],
                    w->active ? "" : " (stopped)");
    return 1;
}

static int w_index(lua_State *L)
{
    watcher *w = checkw(L);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    const char *k = lua_tostring(L, 2);
    if (k == NULL)
        return 1;
    if (strcmp(k, "active") == 0) lua_pushboolean(L, w->active);
    else if (strcmp(k, "kind") == 0) lua_pushstring(L, wkinds[w->kind]);
    else if (strcmp(k, "fd") == 0 && w->fd >= 0) lua_pushinteger(L, w->fd);
    else if (strcmp(k, "signal") == 0 && w->kind == W_SIGNAL)
        lua_pushstring(L, vnet_signame(w->signo));
    else if (strcmp(k, "target") == 0) lua_getiuservalue(L, 1, 2);
    else if (strcmp(k, "fn") == 0) lua_getiuservalue(L, 1, 1);
    else if (strcmp(k, "to") == 0 && w->kind == W_PACKET) lua_getiuservalue(L, 1, 3);
    else lua_pushnil(L);
    return 1;
}

void vnet_watcher_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"on_readable", l_on_readable}, {"on_writable", l_on_writable},
        {"on_packet", l_on_packet}, {"_packet_waiter", l_wait_packet},
        {"on_signal", l_on_signal}, {"after", l_after}, {"every", l_every},
        {NULL, NULL}
    };
    static const luaL_Reg wmeta[] = {
        {"__gc", w_gc}, {"__tostring", w_tostring}, {NULL, NULL}
    };
    static const luaL_Reg wmethods[] = {{"stop", w_stop}, {"set", w_set},
                                         {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
    vnet_newclass(L, WATCHER_T, wmeta, wmethods, w_index);
    lua_setfield(L, -2, "watcher_methods");
}
