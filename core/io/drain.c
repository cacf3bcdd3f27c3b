/*
 * drain.c - a packet watcher's drain (dev:on_packet): hand a device's
 * packets to its handler, up to BUDGET packets or BUDGET_NS a wake-up.
 *
 * The handler runs in the loop's handler thread so that it may wait (a
 * handler that yields becomes a task: call.c). A resume per packet cost
 * about a third of the Lua side of forwarding (bench/analysis.md), so the
 * whole drain runs in one resume: run() below is the thread's body, and it
 * calls the handler with lua_callk for each packet. The drain's state
 * lives in the dispatcher's C frame (struct drain), not in run()'s, which
 * a yield or an error unwinds: the dispatcher then resumes run() in a
 * fresh thread and it goes on with the next packet.
 */
#include <errno.h>
#include <string.h>

#include "io/loop.h"

/* Per wake-up a device drains up to BUDGET packets or BUDGET_NS (kernel's
 * netdev_budget: 300, 2 ms); 64 cost TCP forwarding kernel time: analysis.md */
#define BUDGET 256
#define BUDGET_NS 2000000u

typedef struct drain {
    loop *lp;
    watcher *w;
    vnet_dev *d;
    uint64_t t0;
    unsigned gen;   /* the handler's generation at [FN] */
    int i, limit;   /* packets taken from the device, and the most */
    int uv;         /* the user value of dev holding the packet */
    int done;       /* run() got to its end */
    int failed;     /* reading the device failed */
} drain;

/* run()'s stack: its arguments, then what it takes from them */
enum { DRAIN = 1, WATCHER, DEV, RX, SEG, FN };

/* The next packet into s->uv: a segment of the superpacket at hand, or a
 * new one within the budget. 0 when the drain is over. */
static int next(lua_State *co, drain *s)
{
    vnet_dev *d = s->d;
    if (!s->w->active || d->fd < 0 || s->lp->stop || vnet_loop_interrupted)
        return 0;
    if (s->i > 0 && d->seg_next < d->seg_count && (s->uv = vnet_dev_next(d)) > 0)
        return 1;
    if (s->i >= s->limit)
        return 0;
    /* out of time (checked every 16 and before a batched read): hand out
     * what was read ahead (epoll would not report it), no more */
    int held = vnet_iob_held(d);
    if (s->i > 0 && ((s->i & 15) == 0 || (!held && d->iob)) &&
        vnet_now_ns() - s->t0 > BUDGET_NS && (s->limit = s->i + held) == s->i)
        return 0;
    int uv = vnet_dev_next_ahead(d, s->limit - s->i);
    if (uv < 0) {
        vnet_pusherr(co, "read", d->name, -uv, NULL);
        lua_pop(co, 1);
        lua_remove(co, -2);
        vnet_loop_set_error(co, s->lp);
        s->failed = 1;
    }
    if (uv <= 0)
        return 0;
    s->i++;
    s->uv = uv;
    return 1;
}

/* The handler's result, at the top of co, says where its packet goes:
 * nil or true to the watcher's device `to`, false nowhere, a device to
 * that one. A write the kernel refuses counts in that device's
 * tx_dropped and last_error, as a batched write's does. */
static void verdict(lua_State *co, drain *s)
{
    vnet_dev *to = s->w->to;
    int t = lua_type(co, -1);
    if (t == LUA_TBOOLEAN && !lua_toboolean(co, -1)) {
        s->d->handler_drops++;
        lua_pop(co, 1);
        return;
    }
    if (t == LUA_TUSERDATA && (to = vnet_dev_test(co, -1)) == NULL)
        t = LUA_TNONE;
    if (t != LUA_TNIL && t != LUA_TBOOLEAN && t != LUA_TUSERDATA) {
        lua_Debug ar;
        const char *what = luaL_typename(co, -1);
        if (t == LUA_TNONE && luaL_getmetafield(co, -1, "__name") == LUA_TSTRING)
            what = lua_tostring(co, -1); /* left on the stack: the error unwinds it */
        lua_pushvalue(co, FN);
        lua_getinfo(co, ">S", &ar);
        luaL_error(co, "%s: its on_packet handler (%s:%d) returned %s %s; "
                   "expected nil, true, false or a packet device",
                   s->d->name, ar.short_src, ar.linedefined,
                   strchr("aeiou", what[0]) ? "an" : "a", what);
    }
    if (to != NULL) { /* NULL: the handler just took `to` away */
        vnet_packet *p = s->uv == 3 ? s->d->seg : s->d->rx;
        long r;
        if (to->fd < 0)
            r = -EBADF;
        else if (s->uv == 1 && vnet_dev_plain_write(to, p) && /* rx: in a slot */
                 vnet_iob_forward(s->d, to, p->data, p->len))
            r = 0; /* queued from the read slot it lies in */
        else
            r = vnet_dev_put(co, to, p, NULL, 0);
        if (r < 0) {
            to->tx_dropped++;
            to->tx_errno = (int)-r;
        }
    }
    lua_pop(co, 1); /* the verdict, which kept a device it named alive */
}

/* A handler that waited finished in its task: the task ends. */
static int resumed(lua_State *co, int status, lua_KContext ctx)
{
    (void)co; (void)status; (void)ctx;
    return 0;
}

/* The handler thread's body: run(drain, watcher). */
static int run(lua_State *co)
{
    drain *s = lua_touserdata(co, DRAIN);
    lua_getiuservalue(co, WATCHER, 2); /* dev */
    lua_getiuservalue(co, DEV, 1);     /* its reused packet */
    lua_getiuservalue(co, DEV, 3);     /* its reused segment (offload) or nil */
    lua_getiuservalue(co, WATCHER, 1); /* fn, of this generation */
    s->gen = s->w->gen;
    while (next(co, s)) {
        if (s->w->gen != s->gen) { /* swapped by the last call */
            s->gen = s->w->gen;
            lua_getiuservalue(co, WATCHER, 1);
            lua_replace(co, FN);
        }
        int verdicts = s->w->to != NULL; /* on_packet(fn, {to = dev}) */
        lua_pushvalue(co, FN);
        lua_pushvalue(co, s->uv == 3 ? SEG : RX);
        lua_pushvalue(co, DEV);
        s->d->handler_calls++;
        lua_callk(co, 2, verdicts, 0, resumed);
        vnet_loop_returned(co);
        if (verdicts)
            verdict(co, s);
    }
    s->done = 1;
    return 0;
}

int vnet_loop_drain(lua_State *L, loop *lp, watcher *w, int widx, int h)
{
    drain s = {.lp = lp, .w = w, .d = w->dev, .t0 = vnet_now_ns(),
               .limit = BUDGET};
    while (!s.done) {
        lua_pushcfunction(L, run);
        lua_pushlightuserdata(L, &s);
        lua_pushvalue(L, widx);
        int r = vnet_loop_call(L, lp, 2, h);
        if (r != 0)
            s.d->handler_errors++;
        if (r < 0 || vnet_loop_interrupted)
            break;
    }
    vnet_iob_done(s.d);
    s.d->handler_ns += vnet_now_ns() - s.t0;
    return s.failed ? -1 : 0;
}
