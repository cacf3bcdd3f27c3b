/*
 * loop.c - vnet.loop.core: an epoll event loop.
 *
 * A watcher is a userdata ("vnet.watcher") with its callback in user value 1
 * and the object it watches in user value 2. While active it is anchored in
 * a registry table keyed by its address, and epoll carries that address;
 * dispatch looks the address up in the anchor table first, so an event for
 * a watcher stopped earlier in the same batch is skipped, never followed.
 *
 * Packet watchers (dev:on_packet) drain their device in C, up to BUDGET
 * packets a wake-up, and call fn(pkt, dev) with the device's one reused
 * packet: no allocation per packet.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "vnet.h"

#define WATCHER_T "vnet.watcher"
#define BUDGET 64  /* packets drained per device per wake-up */
#define MAXEV 64

enum { W_READ, W_WRITE, W_TIMER, W_SIGNAL, W_PACKET };
static const char *const wkinds[] = {"readable", "writable", "timer",
                                     "signal", "packet"};

typedef struct watcher {
    int kind;
    int fd;        /* the fd in epoll */
    int owned;     /* fd is ours to close (timerfd, signalfd) */
    int active;
    int signo;
    double after, every;
    vnet_dev *dev; /* W_PACKET */
} watcher;

typedef struct loop {
    int epfd;
    int running;
    int stop;
    int nactive;          /* active watchers: run() ends at 0 */
    int sigfd;            /* run()'s default INT/TERM signalfd, or -1 */
    int errh;             /* registry ref of on_error handler, or LUA_NOREF */
    int sigcount[_NSIG];  /* active signal watchers per signal */
    int quit_signo;
} loop;

static char LOOP_KEY, ANCHOR_KEY, ERR_KEY;
static char SIG_MARK; /* epoll cookie of run()'s default signalfd */

static loop *getloop(lua_State *L)
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

static void w_deactivate(lua_State *L, watcher *w)
{
    loop *lp = getloop(L);
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

static void unwatch_dev(lua_State *L, void *w)
{
    w_deactivate(L, w);
}

/* A new watcher on the stack, active in epoll; fn at index fnidx, target
 * (kept alive) at tidx or 0. Raises on failure after cleaning up. */
static watcher *w_start(lua_State *L, int kind, int fd, int owned,
                        uint32_t events, int fnidx, int tidx)
{
    loop *lp = getloop(L);
    luaL_checktype(L, fnidx, LUA_TFUNCTION);
    watcher *w = lua_newuserdatauv(L, sizeof *w, 2);
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
        return luaL_error(L, "loop: cannot watch fd %d: %s%s", fd,
                          strerror(e),
                          e == EEXIST ? " (it already has a watcher)" :
                          e == EPERM ? " (regular files are always ready; "
                                       "epoll refuses them)" : ""),
               NULL;
    }
    w->active = 1;
    lp->nactive++;
    anchor(L, -1, w);
    return w;
}

static int l_on_fd(lua_State *L, int kind)
{
    int fd = vnet_tofd(L, 1);
    w_start(L, kind, fd, 0, kind == W_READ ? EPOLLIN : EPOLLOUT, 2, 1);
    return 1;
}

static int l_on_readable(lua_State *L) { return l_on_fd(L, W_READ); }
static int l_on_writable(lua_State *L) { return l_on_fd(L, W_WRITE); }

static int l_on_packet(lua_State *L)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    if (d->watch)
        return luaL_error(L, "%s already has an on_packet callback; "
                          "stop its watcher first", d->name);
    watcher *w = w_start(L, W_PACKET, d->fd, 0, EPOLLIN, 2, 1);
    w->dev = d;
    d->watch = w;
    d->unwatch = unwatch_dev;
    return 1;
}

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
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0)
        return luaL_error(L, "loop: timerfd_create: %s", strerror(errno));
    struct itimerspec its = {.it_value = to_ts(s)};
    if (repeat)
        its.it_interval = to_ts(s);
    timerfd_settime(fd, 0, &its, NULL);
    watcher *w = w_start(L, W_TIMER, fd, 1, EPOLLIN, 2, 0);
    w->after = s;
    w->every = repeat ? s : 0;
    return 1;
}

static int l_after(lua_State *L) { return timer(L, 0); }
static int l_every(lua_State *L) { return timer(L, 1); }

static const struct { const char *name; int signo; } signames[] = {
    {"INT", SIGINT}, {"TERM", SIGTERM}, {"HUP", SIGHUP}, {"QUIT", SIGQUIT},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"CHLD", SIGCHLD},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"WINCH", SIGWINCH},
    {NULL, 0}
};

static const char *signame(int signo)
{
    for (int i = 0; signames[i].name; i++)
        if (signames[i].signo == signo) return signames[i].name;
    return "?";
}

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
    for (int i = 0; signames[i].name; i++)
        if (strcmp(signames[i].name, s) == 0)
            return signames[i].signo;
    return luaL_argerror(L, idx, lua_pushfstring(L, "unknown signal '%s'",
                                                 lua_tostring(L, idx)));
}

static int l_on_signal(lua_State *L)
{
    loop *lp = getloop(L);
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
        return luaL_error(L, "loop.on_signal: signalfd: %s", strerror(e));
    }
    lp->sigcount[signo]++;
    watcher *w = w_start(L, W_SIGNAL, fd, 1, EPOLLIN, 2, 0);
    w->signo = signo;
    return 1;
}

/* Call the function below `nargs` arguments at the top with the message
 * handler at index h; on error, route it to on_error or stop the loop. */
static int call(lua_State *L, loop *lp, int nargs, int h)
{
    if (lua_pcall(L, nargs, 0, h) == LUA_OK)
        return 0;
    if (lp->errh != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lp->errh);
        lua_insert(L, -2);
        if (lua_pcall(L, 1, 0, h) == LUA_OK)
            return 0;
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ERR_KEY); /* run() returns it */
    lp->stop = 1;
    return -1;
}

static void drain_packets(lua_State *L, loop *lp, watcher *w, int widx, int h)
{
    vnet_dev *d = w->dev;
    lua_getiuservalue(L, widx, 1); /* fn */
    lua_getiuservalue(L, widx, 2); /* dev */
    lua_getiuservalue(L, -1, 1);   /* its reused packet */
    lua_getiuservalue(L, -2, 3);   /* its reused segment (offload) or nil */
    int base = lua_gettop(L);      /* fn base-3, dev base-2, rx base-1, seg base */
    for (int i = 0; i < BUDGET && w->active && d->fd >= 0 && !lp->stop; i++) {
        int uv = vnet_dev_next(d);
        if (uv == 0)
            break;
        if (uv < 0) {
            vnet_pusherr(L, "read", d->name, -uv, NULL);
            lua_pop(L, 1);
            lua_remove(L, -2);
            lua_rawsetp(L, LUA_REGISTRYINDEX, &ERR_KEY);
            lp->stop = 1;
            w_deactivate(L, w);
            break;
        }
        do { /* every segment of a superpacket, within one budget step */
            lua_pushvalue(L, base - 3);
            lua_pushvalue(L, uv == 3 ? base : base - 1);
            lua_pushvalue(L, base - 2);
            if (call(L, lp, 2, h) < 0)
                goto out;
        } while (d->seg_next < d->seg_count && w->active && d->fd >= 0 &&
                 !lp->stop && (uv = vnet_dev_next(d)) > 0);
    }
out:
    lua_settop(L, base - 4);
}

/* Devices whose write coalescer holds data, flushed when the dispatch round
 * ends: one wake-up's segments leave as few superpackets as they can. */
#define MAXDEFER 64
static vnet_dev *deferred[MAXDEFER];
static int ndeferred;
static int dispatching;

void vnet_loop_defer_flush(vnet_dev *d)
{
    if (!dispatching) {
        vnet_gro_flush(d);
        return;
    }
    if (d->dirty)
        return;
    if (ndeferred == MAXDEFER) {
        vnet_gro_flush(d);
        return;
    }
    d->dirty = 1;
    deferred[ndeferred++] = d;
}

void vnet_loop_forget(vnet_dev *d)
{
    for (int i = 0; i < ndeferred; i++) {
        if (deferred[i] == d) {
            deferred[i] = deferred[--ndeferred];
            break;
        }
    }
    d->dirty = 0;
}

static void flush_deferred(void)
{
    while (ndeferred > 0) {
        vnet_dev *d = deferred[--ndeferred];
        d->dirty = 0;
        vnet_gro_flush(d);
    }
}

static void dispatch(lua_State *L, loop *lp, struct epoll_event *ev, int h)
{
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
        drain_packets(L, lp, w, widx, h);
        break;
    case W_TIMER: {
        uint64_t n;
        if (read(w->fd, &n, sizeof n) != sizeof n)
            break;
        if (w->every == 0)
            w_deactivate(L, w); /* one-shot: done before the call */
        lua_getiuservalue(L, widx, 1);
        lua_pushvalue(L, widx);
        call(L, lp, 1, h);
        break;
    }
    case W_SIGNAL: {
        struct signalfd_siginfo si;
        while (read(w->fd, &si, sizeof si) == sizeof si) {
            lua_getiuservalue(L, widx, 1);
            lua_pushstring(L, signame((int)si.ssi_signo));
            lua_pushvalue(L, widx);
            if (call(L, lp, 2, h) < 0 || !w->active)
                break;
        }
        break;
    }
    default:
        lua_getiuservalue(L, widx, 1);
        lua_pushvalue(L, widx);
        call(L, lp, 1, h);
        break;
    }
    lua_settop(L, widx - 1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
    loop *lp = getloop(L);
    double timeout = -1;
    if (lua_istable(L, 1)) {
        lua_getfield(L, 1, "timeout");
        if (!lua_isnil(L, -1)) {
            timeout = luaL_checknumber(L, -1);
            luaL_argcheck(L, timeout >= 0, 1, "timeout must be >= 0");
        }
        lua_pop(L, 1);
    } else if (!lua_isnoneornil(L, 1)) {
        timeout = luaL_checknumber(L, 1);
    }
    if (lp->running)
        return luaL_error(L, "loop.run: the loop is already running");
    double deadline = timeout >= 0 ? now() + timeout : -1;
    sigset_t old;
    lp->running = 1;
    lp->stop = 0;
    lp->quit_signo = 0;
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ERR_KEY);
    default_signals(lp, &old);
    lua_settop(L, 1);
    lua_pushcfunction(L, vnet_msghandler);
    int h = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
    const char *why = "empty";
    struct epoll_event evs[MAXEV];
    while (!lp->stop && lp->nactive > 0) {
        int ms = -1;
        if (deadline >= 0) {
            double left = deadline - now();
            if (left <= 0) { why = "timeout"; break; }
            ms = (int)ceil(left * 1000);
        }
        int n = epoll_wait(lp->epfd, evs, MAXEV, ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        dispatching = 1;
        for (int i = 0; i < n && !lp->stop; i++)
            dispatch(L, lp, &evs[i], h);
        dispatching = 0;
        flush_deferred();
    }
    if (lp->stop) why = "stopped";
    restore_signals(lp, &old);
    lp->running = 0;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ERR_KEY) != LUA_TNIL) {
        lua_pushnil(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &ERR_KEY);
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    if (lp->quit_signo)
        lua_pushfstring(L, "SIG%s", signame(lp->quit_signo));
    else
        lua_pushstring(L, why);
    return 2;
}

/* now() -> seconds on the monotonic clock, as a float */
static int l_now(lua_State *L)
{
    lua_pushnumber(L, now());
    return 1;
}

static int l_stop(lua_State *L)
{
    getloop(L)->stop = 1;
    return 0;
}

static int l_active(lua_State *L)
{
    lua_pushinteger(L, getloop(L)->nactive);
    return 1;
}

/* watchers() -> { watcher, ... }: the active ones, in no order */
static int l_watchers(lua_State *L)
{
    lua_newtable(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
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
    lua_pushboolean(L, getloop(L)->running);
    return 1;
}

/* on_error(fn | nil): fn(msg) gets errors raised in callbacks and the loop
 * goes on; nil restores the default (stop, run() returns nil, msg). */
static int l_on_error(lua_State *L)
{
    loop *lp = getloop(L);
    if (!lua_isnil(L, 1))
        luaL_checktype(L, 1, LUA_TFUNCTION);
    luaL_unref(L, LUA_REGISTRYINDEX, lp->errh);
    lua_settop(L, 1);
    lp->errh = lua_isnil(L, 1) ? LUA_NOREF : luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* ---- watcher methods -------------------------------------------------- */

static watcher *checkw(lua_State *L)
{
    return luaL_checkudata(L, 1, WATCHER_T);
}

static int w_stop(lua_State *L)
{
    w_deactivate(L, checkw(L));
    return 0;
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
        lua_pushstring(L, signame(w->signo));
    else if (strcmp(k, "target") == 0) lua_getiuservalue(L, 1, 2);
    else lua_pushnil(L);
    return 1;
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

int luaopen_vnet_loop_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"on_readable", l_on_readable}, {"on_writable", l_on_writable},
        {"on_packet", l_on_packet}, {"on_signal", l_on_signal},
        {"after", l_after}, {"every", l_every},
        {"run", l_run}, {"stop", l_stop}, {"on_error", l_on_error},
        {"active", l_active}, {"running", l_running}, {"now", l_now},
        {"watchers", l_watchers},
        {NULL, NULL}
    };
    static const luaL_Reg wmeta[] = {
        {"__gc", w_gc}, {"__tostring", w_tostring}, {NULL, NULL}
    };
    static const luaL_Reg wmethods[] = {{"stop", w_stop}, {NULL, NULL}};

    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &LOOP_KEY) == LUA_TNIL) {
        loop *lp = lua_newuserdatauv(L, sizeof *lp, 0);
        memset(lp, 0, sizeof *lp);
        lp->epfd = -1;
        lp->sigfd = -1;
        lp->errh = LUA_NOREF;
        lua_newtable(L);
        lua_pushcfunction(L, loop_gc);
        lua_setfield(L, -2, "__gc");
        lua_setmetatable(L, -2);
        lp->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (lp->epfd < 0)
            return luaL_error(L, "vnet.loop: epoll_create1: %s",
                              strerror(errno));
        lua_rawsetp(L, LUA_REGISTRYINDEX, &LOOP_KEY);
        lua_newtable(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &ANCHOR_KEY);
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    vnet_newclass(L, WATCHER_T, wmeta, wmethods, w_index);
    lua_setfield(L, -2, "watcher_methods");
    return 1;
}
