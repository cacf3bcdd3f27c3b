/*
 * task.c - the parts of vnet.loop.core that tasks and inspection use: the
 * hook through which a yielding callback becomes a task (lua/vnet/loop.lua
 * schedules tasks), per-device counters, and the packet ring's methods
 * (ring.c holds the ring). How the loop calls a callback, in a reused
 * thread so that it may yield, is loop.c's.
 *
 * Other event loops (luv, cqueues) drive this one through its epoll fd
 * (fileno, readable whenever a watcher's fd is ready: timers are timerfds
 * in it too), step() and timeout().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

#include "io/loop.h"

/* keep(dev, n [, snaplen]) -> true | nil, msg, errno: keep copies of the
 * last n packets read (n = 0: stop keeping; what was kept is dropped). */
static int l_keep(lua_State *L)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);
    lua_Integer snap = luaL_optinteger(L, 3, 2048);
    luaL_argcheck(L, n >= 0 && n <= 65536, 2, "must be 0..65536");
    luaL_argcheck(L, snap >= 1 && snap <= 65536, 3, "must be 1..65536");
    vnet_ring_free(d->ring);
    d->ring = NULL;
    if (n > 0) {
        struct vnet_ring *r = calloc(1, sizeof *r);
        if (r) {
            r->n = (size_t)n;
            r->snap = (size_t)snap;
            r->len = calloc(r->n, sizeof *r->len);
            r->when = calloc(r->n, sizeof *r->when);
            r->buf = malloc(r->n * r->snap);
        }
        if (!r || !r->len || !r->when || !r->buf) {
            vnet_ring_free(r);
            return vnet_pusherr(L, "dev.keep", d->name, ENOMEM, NULL);
        }
        d->ring = r;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* recent(dev) -> { packet, ... } oldest first (copies; each with fields
 * `time`, when it was read, and `len`, its length before snaplen cut it,
 * set in the table entry {packet = p, time = t, len = n}). */
static int l_recent(lua_State *L)
{
    vnet_dev *d = vnet_dev_arg(L, 1);
    struct vnet_ring *r = d->ring;
    lua_newtable(L);
    if (r == NULL)
        return 1;
    int link = d->kind == VNET_DEV_TAP ? VNET_LINK_ETH : VNET_LINK_RAW;
    for (size_t k = 0; k < r->count; k++) {
        size_t i = (r->next + r->n - r->count + k) % r->n;
        size_t kept = r->len[i] < r->snap ? r->len[i] : r->snap;
        lua_createtable(L, 0, 3);
        vnet_packet *p = vnet_packet_new(L, kept);
        memcpy(p->data, r->buf + i * r->snap, kept);
        p->len = kept;
        p->link = (uint8_t)link;
        lua_setfield(L, -2, "packet");
        lua_pushnumber(L, r->when[i]);
        lua_setfield(L, -2, "time");
        lua_pushinteger(L, (lua_Integer)r->len[i]);
        lua_setfield(L, -2, "len");
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    return 1;
}

static void setint(lua_State *L, const char *k, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

/* counters(dev) -> { rx_packets, rx_bytes, tx_packets, tx_bytes,
 * tx_dropped, handler_calls, handler_errors, handler_drops, handler_time
 * (s), kept } */
static int l_counters(lua_State *L)
{
    vnet_dev *d = vnet_dev_arg(L, 1);
    lua_createtable(L, 0, 10);
    setint(L, "rx_packets", d->rx_packets);
    setint(L, "rx_bytes", d->rx_bytes);
    setint(L, "tx_packets", d->tx_packets);
    setint(L, "tx_bytes", d->tx_bytes);
    setint(L, "tx_dropped", d->tx_dropped);
    setint(L, "handler_calls", d->handler_calls);
    setint(L, "handler_errors", d->handler_errors);
    setint(L, "handler_drops", d->handler_drops);
    lua_pushnumber(L, (double)d->handler_ns / 1e9);
    lua_setfield(L, -2, "handler_time");
    setint(L, "kept", d->ring ? d->ring->count : 0);
    return 1;
}

/* _set_adopt(fn): fn(thread, ...) takes a handler thread that yielded
 * (with what it yielded) and makes it a task. */
static int l_set_adopt(lua_State *L)
{
    loop *lp = vnet_loop_get(L);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    luaL_unref(L, LUA_REGISTRYINDEX, lp->adopt);
    lua_settop(L, 1);
    lp->adopt = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* _handler_thread() -> the thread loop callbacks run in now, or nil */
static int l_handler_thread(lua_State *L)
{
    loop *lp = vnet_loop_get(L);
    if (lp->co == NULL)
        return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->coref);
    return 1;
}

/* _fail(msg): report msg as a callback's error is reported (on_error, or
 * the loop stops and run() returns it). */
static int l_fail(lua_State *L)
{
    loop *lp = vnet_loop_get(L);
    lua_settop(L, 1);
    lua_pushcfunction(L, vnet_msghandler);
    lua_insert(L, 1);
    vnet_loop_fail(L, lp, 1);
    return 0;
}

/* ---- driving the loop from another event loop (luv, cqueues, ...) ---- */

/* step([timeout]) -> n, active [, "stopped"] | nil, message-with-traceback
 * Wait up to timeout seconds (default 0: do not block) for what is ready,
 * and run it: n events handled, active watchers left; "stopped" when a
 * callback called loop.stop(). */
static int l_step(lua_State *L)
{
    loop *lp = vnet_loop_get(L);
    double timeout = 0;
    if (!lua_isnoneornil(L, 1)) {
        if (lua_type(L, 1) != LUA_TNUMBER)
            return vnet_error(L, "loop.step: timeout must be a number of "
                              "seconds (got %s)", luaL_typename(L, 1));
        timeout = lua_tonumber(L, 1);
        if (!(timeout >= 0))
            return vnet_error(L, "loop.step: timeout must be 0 or more "
                              "seconds (got %s)",
                              timeout != timeout ? "nan" : lua_tostring(L, 1));
    }
    if (lp->running)
        return vnet_error(L, "loop.step: the loop is already turning (inside "
                          "loop.run, a callback or the REPL's wait); step() "
                          "is for driving it from another event loop");
    int ms = timeout > 86400 ? 86400000 : (int)ceil(timeout * 1000);
    lua_settop(L, 0);
    lp->running = 1;
    lp->stop = 0;
    int n = vnet_loop_step(L, lp, ms);
    int stopped = lp->stop;
    lp->running = 0;
    lp->stop = 0;
    if (n < 0) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushinteger(L, n);
    lua_pushinteger(L, lp->nactive);
    if (!stopped)
        return 2;
    lua_pushliteral(L, "stopped");
    return 3;
}

/* timeout() -> seconds until the next timer fires (0: one is due), or nil
 * when no timer runs: how long an outer loop may sleep. Ignores an
 * argument, so that cqueues.poll(vnet.loop) can call it as a method. */
static int l_timeout(lua_State *L)
{
    double best = -1;
    vnet_loop_push_anchors(L);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        watcher *w = lua_touserdata(L, -1);
        struct itimerspec its;
        if (w && w->active && w->kind == W_TIMER && w->fd >= 0 &&
            timerfd_gettime(w->fd, &its) == 0) {
            double left = (double)its.it_value.tv_sec +
                          (double)its.it_value.tv_nsec / 1e9;
            struct pollfd due = {w->fd, POLLIN, 0}; /* expired, unread */
            if (left > 0 && w->every > 0 && poll(&due, 1, 0) > 0)
                left = 0;
            if (best < 0 || left < best)
                best = left;
        }
        lua_pop(L, 1);
    }
    if (best < 0)
        lua_pushnil(L);
    else
        lua_pushnumber(L, best);
    return 1;
}

/* fileno() / pollfd() -> the loop's epoll fd: readable when step() has
 * something to run. events() -> "r" (cqueues' polling protocol). */
static int l_fileno(lua_State *L)
{
    lua_pushinteger(L, vnet_loop_get(L)->epfd);
    return 1;
}

static int l_events(lua_State *L)
{
    lua_pushliteral(L, "r");
    return 1;
}

/* active() -> the number of active watchers; watchers() and running()
 * below: what the loop holds, for inspection. */
static int l_active(lua_State *L)
{
    lua_pushinteger(L, vnet_loop_get(L)->nactive);
    return 1;
}

/* watchers() -> { watcher, ... }: the active ones, in no order */
static int l_watchers(lua_State *L)
{
    lua_newtable(L);
    vnet_loop_push_anchors(L);
    lua_Integer i = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_rawseti(L, -4, ++i);
    }
    lua_pop(L, 1);
    return 1;
}

static int l_running(lua_State *L)
{
    lua_pushboolean(L, vnet_loop_get(L)->running);
    return 1;
}

void vnet_task_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"keep", l_keep}, {"recent", l_recent}, {"counters", l_counters},
        {"_set_adopt", l_set_adopt}, {"_handler_thread", l_handler_thread},
        {"_fail", l_fail}, {"step", l_step}, {"timeout", l_timeout},
        {"active", l_active}, {"running", l_running}, {"watchers", l_watchers},
        {"fileno", l_fileno}, {"pollfd", l_fileno}, {"events", l_events},
        {NULL, NULL}
    };
    luaL_setfuncs(L, funcs, 0);
}
