/*
 * task.c - the parts of vnet.loop.core that tasks and inspection use:
 * how the loop calls a callback (resumed in a reused thread, so that it may
 * yield), the hook through which a yielding one becomes a task
 * (lua/vnet/loop.lua schedules tasks), per-device counters, and the
 * packet ring.
 *
 * The ring (dev:keep(n)) holds copies of the last n packets a device read,
 * each cut at snaplen bytes: one allocation when it is switched on, a
 * memcpy per packet while it is, nothing while it is off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop.h"

struct vnet_ring {
    size_t n, snap;      /* slots, bytes kept of each packet */
    size_t next, count;  /* slot written next, slots filled */
    size_t *len;         /* original length of each packet */
    double *when;        /* its arrival, on the monotonic clock */
    unsigned char *buf;  /* n * snap bytes */
};

void vnet_ring_put(struct vnet_ring *r, const unsigned char *b, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    size_t i = r->next;
    memcpy(r->buf + i * r->snap, b, n < r->snap ? n : r->snap);
    r->len[i] = n;
    r->when[i] = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    r->next = (i + 1) % r->n;
    if (r->count < r->n)
        r->count++;
}

void vnet_ring_free(struct vnet_ring *r)
{
    if (r == NULL)
        return;
    free(r->len);
    free(r->when);
    free(r->buf);
    free(r);
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
}

/* The thread a callback runs in right now (NULL between callbacks), and
 * the state of a Ctrl-C aimed at it: process-wide, as a signal is (set by
 * the REPL's SIGINT handler through vnet_loop_interrupt). */
static lua_State *volatile running;
static volatile int armed;        /* a Ctrl-C came while it ran */
static volatile double armed_at;  /* when */
volatile int vnet_loop_interrupted;
volatile int vnet_loop_unused_sigint;

#define STUCK 0.25 /* s: a callback still running this long after Ctrl-C is stuck */

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (vnet_session_held || mono() - armed_at < STUCK)
        return; /* something made, not yet journaled; or it may yet return */
    lua_sethook(L, NULL, 0, 0);
    armed = 0;
    vnet_loop_interrupted = 1;
    luaL_error(L, "interrupted by Ctrl-C: the handler is dropped "
               "(set it again to restart it)");
}

/* From a signal handler (clock_gettime and lua_sethook are safe there):
 * break the callback running now if it is still running STUCK seconds
 * later; one that returns before leaves the Ctrl-C to the prompt
 * (vnet_loop_unused_sigint). 1 if a callback was running. */
int vnet_loop_interrupt(void)
{
    lua_State *co = running;
    if (co == NULL)
        return 0;
    armed_at = mono();
    armed = 1;
    lua_sethook(co, interrupt_hook, LUA_MASKCOUNT, 1000);
    return 1;
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
    lua_State *outer = running;
    running = co;
    int nres, st = lua_resume(co, L, nargs, &nres);
    running = outer;
    if (armed) { /* it returned by itself: the Ctrl-C was for the prompt */
        armed = 0;
        lua_sethook(co, NULL, 0, 0);
        vnet_loop_unused_sigint = 1;
    }
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
    vnet_dev *d = luaL_checkudata(L, 1, VNET_DEV_T);
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
        vnet_packet_set_link(L, -1, link);
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
 * tx_dropped, handler_calls, handler_errors, handler_time (s), kept } */
static int l_counters(lua_State *L)
{
    vnet_dev *d = luaL_checkudata(L, 1, VNET_DEV_T);
    lua_createtable(L, 0, 9);
    setint(L, "rx_packets", d->rx_packets);
    setint(L, "rx_bytes", d->rx_bytes);
    setint(L, "tx_packets", d->tx_packets);
    setint(L, "tx_bytes", d->tx_bytes);
    setint(L, "tx_dropped", d->tx_dropped);
    setint(L, "handler_calls", d->handler_calls);
    setint(L, "handler_errors", d->handler_errors);
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

void vnet_task_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"keep", l_keep}, {"recent", l_recent}, {"counters", l_counters},
        {"_set_adopt", l_set_adopt}, {"_handler_thread", l_handler_thread},
        {"_fail", l_fail}, {NULL, NULL}
    };
    luaL_setfuncs(L, funcs, 0);
}
