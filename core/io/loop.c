/*
 * loop.c - vnet.loop.core: an epoll event loop.
 *
 * A watcher is a userdata ("vnet.watcher") with its callback in user value 1
 * and the object it watches in user value 2. While active it is anchored in
 * a registry table keyed by its address, and epoll carries that address;
 * dispatch looks the address up in the anchor table first, so an event for
 * a watcher stopped earlier in the same batch is skipped, never followed.
 *
 * Packet watchers (dev:on_packet) drain their device in C (drain.c) and
 * call fn(pkt, dev) with the device's one reused packet: no allocation per
 * packet. Callbacks are resumed in a reused thread (task.c) so that they
 * may wait. The watcher constructors and methods are in watcher.c.
 *
 * The loop turns in run(), and at the REPL's prompt (vnet_loop_wait_fd):
 * both go through turn().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "io/loop.h"

#define MAXEV 64

static char LOOP_KEY, ANCHOR_KEY;
static char SIG_MARK; /* epoll cookie of run()'s default signalfd */
static char FD_MARK;  /* epoll cookie of the fd vnet_loop_wait_fd waits for */
static char WAKE_MARK; /* and of vnet_loop_wake's eventfd */

loop *vnet_loop_get(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &LOOP_KEY);
    loop *lp = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return lp;
}

static void anchor(lua_State *L, int idx, watcher *w)
{
    idx = lua_absindex(L, idx);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
    lua_pushvalue(L, idx);
    lua_rawsetp(L, -2, w);
    lua_pop(L, 1);
}

void vnet_w_deactivate(lua_State *L, watcher *w)
{
    loop *lp = vnet_loop_get(L);
    if (!w->active)
        return;
    w->active = 0;
    if (lp && lp->epfd >= 0 && w->fd >= 0)
        epoll_ctl(lp->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    if (lp) lp->nactive--;
    if (w->kind == W_SIGNAL && lp && --lp->sigcount[w->signo] == 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, w->signo);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
    }
    if (w->owned && w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    if (w->dev) {
        w->dev->watch = NULL;
        w->dev = NULL;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
    lua_pushnil(L);
    lua_rawsetp(L, -2, w);
    lua_pop(L, 1);
}

/* Push the active watcher w (from the anchor table), or nil. */
void vnet_loop_push_watcher(lua_State *L, watcher *w)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
    lua_rawgetp(L, -1, w);
    lua_remove(L, -2);
}

/* A new watcher on the stack, active in epoll; fn at index fnidx, target
 * (kept alive) at tidx or 0. On failure, after cleaning up: raises for
 * misuse (the fd has a watcher, is a regular file, is no fd), or pushes
 * nil, "op fd N: reason", errno for a system failure (out of memory, the
 * epoll watch limit) and returns NULL. */
watcher *vnet_w_start(lua_State *L, const char *op, int kind, int fd,
                      int owned, uint32_t events, int fnidx, int tidx)
{
    loop *lp = vnet_loop_get(L);
    luaL_checktype(L, fnidx, LUA_TFUNCTION);
    watcher *w = lua_newuserdatauv(L, sizeof *w, 3);
    memset(w, 0, sizeof *w);
    w->kind = kind;
    w->fd = fd;
    w->owned = owned;
    luaL_setmetatable(L, WATCHER_T);
    lua_pushvalue(L, fnidx);
    lua_setiuservalue(L, -2, 1);
    if (tidx) {
        lua_pushvalue(L, tidx);
        lua_setiuservalue(L, -2, 2);
    }
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;
        if (owned) close(fd);
        w->fd = -1;
        if (e == EEXIST || e == EPERM || e == EBADF)
            return luaL_error(L, "loop: cannot watch fd %d: %s%s", fd,
                              strerror(e),
                              e == EEXIST ? " (it already has a watcher)" :
                              e == EPERM ? " (regular files are always ready; "
                                           "epoll refuses them)" : ""),
                   NULL;
        lua_pop(L, 1);
        char obj[32];
        snprintf(obj, sizeof obj, "fd %d", fd);
        vnet_pusherr(L, op, obj, e, e == ENOSPC
                     ? "the epoll watch limit, fs.epoll.max_user_watches"
                     : NULL);
        return NULL;
    }
    w->active = 1;
    lp->nactive++;
    anchor(L, -1, w);
    return w;
}

static void dispatch(lua_State *L, loop *lp, struct epoll_event *ev, int h)
{
    if (ev->data.ptr == &FD_MARK)
        return;
    if (ev->data.ptr == &WAKE_MARK) { /* take the wake: the count goes */
        uint64_t n;
        if (read(vnet_loop_wake_fd(), &n, sizeof n) < 0) {
            /* EAGAIN: taken already */
        }
        return;
    }
    if (ev->data.ptr == &SIG_MARK) {
        struct signalfd_siginfo si;
        while (read(lp->sigfd, &si, sizeof si) == sizeof si)
            lp->quit_signo = (int)si.ssi_signo;
        lp->stop = 1;
        return;
    }
    watcher *w = ev->data.ptr;
    if (lua_rawgetp(L, -1, w) == LUA_TNIL) { /* stopped meanwhile */
        lua_pop(L, 1);
        return;
    }
    int widx = lua_gettop(L);
    switch (w->kind) {
    case W_PACKET:
        if (vnet_loop_drain(L, lp, w, widx, h) < 0)
            vnet_w_deactivate(L, w); /* the device failed: run() says why */
        break;
    case W_TIMER: {
        uint64_t n;
        if (read(w->fd, &n, sizeof n) != sizeof n)
            break;
        if (w->every == 0)
            vnet_w_deactivate(L, w); /* one-shot: done before the call */
        lua_getiuservalue(L, widx, 1);
        lua_pushvalue(L, widx);
        vnet_loop_call(L, lp, 1, h);
        break;
    }
    case W_SIGNAL: {
        struct signalfd_siginfo si;
        while (read(w->fd, &si, sizeof si) == sizeof si) {
            lua_getiuservalue(L, widx, 1);
            lua_pushstring(L, vnet_signame((int)si.ssi_signo));
            lua_pushvalue(L, widx);
            if (vnet_loop_call(L, lp, 2, h) < 0 || !w->active)
                break;
        }
        break;
    }
    default:
        lua_getiuservalue(L, widx, 1);
        lua_pushvalue(L, widx);
        vnet_loop_call(L, lp, 1, h);
        break;
    }
    if (vnet_loop_interrupted) { /* Ctrl-C broke it: it would loop again */
        vnet_loop_interrupted = 0;
        vnet_w_deactivate(L, w);
    }
    lua_settop(L, widx - 1);
}

/* One round: wait up to ms (-1: no limit) and dispatch what is ready,
 * with the message handler at h and the anchor table on top. Returns the
 * number of events, -1 on EINTR; *marked gets 1 for the FD_MARK event,
 * 2 for the WAKE_MARK one. */
static int turn(lua_State *L, loop *lp, int h, int ms, int *marked)
{
    struct epoll_event evs[MAXEV];
    int n = epoll_wait(lp->epfd, evs, MAXEV, ms);
    if (n < 0)
        return -1;
    vnet_dev_round(L, 1);
    for (int i = 0; i < n && !lp->stop; i++) {
        if (evs[i].data.ptr == &FD_MARK)
            *marked |= 1;
        else if (evs[i].data.ptr == &WAKE_MARK)
            *marked |= 2;
        dispatch(L, lp, &evs[i], h);
    }
    vnet_dev_round(L, 0);
    return n;
}

/* For the REPL: turn the loop until fd is readable (1), a signal
 * interrupts the wait (0), or a callback's error, with no on_error to take
 * it, is left on the stack (-1) for the caller to show; after_turn runs
 * after every round. Runs with no watcher active too; loop.stop() at the
 * prompt stops nothing. */
int vnet_loop_wait_fd(lua_State *L, int fd, void (*after_turn)(void))
{
    loop *lp = vnet_loop_get(L);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &FD_MARK};
    if (lp == NULL || lp->running || lp->epfd < 0 ||
        epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        struct pollfd p = {fd, POLLIN, 0}; /* no loop (yet): just wait */
        return poll(&p, 1, -1) < 0 ? 0 : 1;
    }
    int wfd = vnet_loop_wake_fd();
    struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &WAKE_MARK};
    if (wfd >= 0 && epoll_ctl(lp->epfd, EPOLL_CTL_ADD, wfd, &wev) < 0)
        wfd = -1; /* no wake: a signal between two callbacks then waits
                   * for the next key, as it did before there was one */
    int top = lua_gettop(L), r = 0;
    lua_pushcfunction(L, vnet_msghandler);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
    lp->running = 1;
    for (;;) {
        int marked = 0;
        lp->stop = 0;
        int n = turn(L, lp, top + 1, -1, &marked);
        if (vnet_loop_take_error(L)) {
            lua_replace(L, top + 1);
            r = -1;
            break;
        }
        if (after_turn)
            after_turn();
        /* marked & 2: a signal for the prompt that came between two
         * callbacks (during epoll_wait it gives EINTR, n < 0) */
        if (marked || n < 0 || vnet_loop_unused_sigint) {
            r = marked & 1;
            break;
        }
    }
    lp->running = 0;
    lp->stop = 0;
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, NULL);
    if (wfd >= 0)
        epoll_ctl(lp->epfd, EPOLL_CTL_DEL, wfd, NULL);
    lua_settop(L, r < 0 ? top + 1 : top);
    return r;
}

/* Block SIGINT/SIGTERM/SIGHUP (those without a watcher of their own) into a
 * signalfd for the length of run(), so Ctrl-C ends run() cleanly and the
 * script's <close> variables and __gc still run. */
static void default_signals(loop *lp, sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    if (lp->sigcount[SIGINT] == 0) sigaddset(&set, SIGINT);
    if (lp->sigcount[SIGTERM] == 0) sigaddset(&set, SIGTERM);
    if (lp->sigcount[SIGHUP] == 0) sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, old);
    lp->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (lp->sigfd >= 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &SIG_MARK};
        epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->sigfd, &ev);
    }
}

static void restore_signals(loop *lp, sigset_t *old)
{
    if (lp->sigfd >= 0) {
        struct signalfd_siginfo si;
        while (read(lp->sigfd, &si, sizeof si) == sizeof si)
            lp->quit_signo = lp->quit_signo ? lp->quit_signo
                                            : (int)si.ssi_signo;
        epoll_ctl(lp->epfd, EPOLL_CTL_DEL, lp->sigfd, NULL);
        close(lp->sigfd);
        lp->sigfd = -1;
    }
    sigprocmask(SIG_SETMASK, old, NULL);
}

/* run([{timeout = s}]) -> true, why | nil, message-with-traceback
 * why: "empty" (no watchers left), "stopped", "timeout", "SIGINT", "SIGTERM",
 * "SIGHUP" */
static int l_run(lua_State *L)
{
    loop *lp = vnet_loop_get(L);
    double timeout = -1;
    if (lua_istable(L, 1))
        lua_getfield(L, 1, "timeout");
    else
        lua_settop(L, 1);
    if (!lua_isnil(L, -1)) { /* seconds, 0 or more (not NaN) */
        if (lua_type(L, -1) != LUA_TNUMBER)
            return vnet_error(L, "loop.run: option 'timeout' must be a number "
                              "of seconds (got %s)", luaL_typename(L, -1));
        timeout = lua_tonumber(L, -1);
        if (!(timeout >= 0))
            return vnet_error(L, "loop.run: option 'timeout' must be 0 or "
                              "more seconds (got %s)",
                              timeout != timeout ? "nan" : lua_tostring(L, -1));
    }
    lua_settop(L, 1);
    if (lp->running)
        return luaL_error(L, "loop.run: the loop is already running");
    double deadline = timeout >= 0 ? vnet_now() + timeout : -1;
    sigset_t old;
    lp->running = 1;
    lp->stop = 0;
    lp->quit_signo = 0;
    if (vnet_loop_take_error(L)) /* left by an earlier step() */
        lua_pop(L, 1);
    default_signals(lp, &old);
    lua_settop(L, 1);
    lua_pushcfunction(L, vnet_msghandler);
    int h = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
    const char *why = "empty";
    while (!lp->stop && lp->nactive > 0) {
        int ms = -1, marked;
        if (deadline >= 0) {
            double left = deadline - vnet_now();
            if (left <= 0) { why = "timeout"; break; }
            ms = left > 86400 ? 86400000 : (int)ceil(left * 1000); /* no overflow */
        }
        if (turn(L, lp, h, ms, &marked) < 0 && errno != EINTR)
            break;
    }
    if (lp->stop) why = "stopped";
    restore_signals(lp, &old);
    lp->running = 0;
    if (vnet_loop_take_error(L)) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    if (lp->quit_signo)
        lua_pushfstring(L, "SIG%s", vnet_signame(lp->quit_signo));
    else
        lua_pushstring(L, why);
    return 2;
}

/* One turn for step() (task.c): wait up to ms and run what is ready, as
 * run() does. Returns the events handled; -1 with the error of a callback
 * that on_error did not take on top of the stack. */
int vnet_loop_step(lua_State *L, loop *lp, int ms)
{
    int top = lua_gettop(L), marked = 0;
    if (vnet_loop_take_error(L))
        lua_pop(L, 1);
    lua_pushcfunction(L, vnet_msghandler);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
    int n = turn(L, lp, top + 1, ms, &marked);
    if (vnet_loop_take_error(L)) {
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
        return -1;
    }
    lua_settop(L, top);
    return n < 0 ? 0 : n;
}

/* Push the table of active watchers (address -> watcher). */
void vnet_loop_push_anchors(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
}

/* vnet_now() -> seconds on the monotonic clock, as a float */
static int l_now(lua_State *L)
{
    lua_pushnumber(L, vnet_now());
    return 1;
}

static int l_stop(lua_State *L)
{
    vnet_loop_get(L)->stop = 1;
    return 0;
}

/* on_error(fn | nil): fn(msg) gets errors raised in callbacks and the loop
 * goes on; nil restores the default (stop, run() returns nil, msg). */
static int l_on_error(lua_State *L)
{
    loop *lp = vnet_loop_get(L);
    if (!lua_isnil(L, 1))
        luaL_checktype(L, 1, LUA_TFUNCTION);
    luaL_unref(L, LUA_REGISTRYINDEX, lp->errh);
    lua_settop(L, 1);
    lp->errh = lua_isnil(L, 1) ? LUA_NOREF : luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int loop_gc(lua_State *L)
{
    loop *lp = lua_touserdata(L, 1);
    if (lp->epfd >= 0) {
        close(lp->epfd);
        lp->epfd = -1;
    }
    return 0;
}

void vnet_loop_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"run", l_run}, {"stop", l_stop}, {"on_error", l_on_error},
        {"now", l_now},
        {NULL, NULL}
    };

    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &LOOP_KEY) == LUA_TNIL) {
        loop *lp = lua_newuserdatauv(L, sizeof *lp, 0);
        memset(lp, 0, sizeof *lp);
        lp->epfd = -1;
        lp->sigfd = -1;
        lp->errh = LUA_NOREF;
        lp->adopt = LUA_NOREF;
        lp->coref = LUA_NOREF;
        lua_newtable(L);
        lua_pushcfunction(L, loop_gc);
        lua_setfield(L, -2, "__gc");
        lua_setmetatable(L, -2);
        lp->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (lp->epfd < 0)
            luaL_error(L, "vnet.loop: epoll_create1: %s",
                       strerror(errno));
        lua_rawsetp(L, LUA_REGISTRYINDEX, &LOOP_KEY);
        lua_newtable(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
}
