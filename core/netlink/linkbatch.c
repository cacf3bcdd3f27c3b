/*
 * linkbatch.c - vnet.link.core's bulk requests: create_many, get_many and
 * delete_many. Each builds its n requests as link.c does one, sends them
 * VNET_NL_BATCH to a send (vnet_nl_batch) and reads their acks together.
 * Creates carry NLM_F_ECHO, so the kernel answers each with the new link's
 * RTM_NEWLINK and no read-back is needed. A failure names its request:
 * "op name (request k of n): reason (kernel's words)", errno, k - and what
 * the batch made so far comes back too, for the caller to undo.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "netlink/nl.h"

#define BATCH_MAX 1000000 /* a bound on n, so that the arrays below fit */

struct batch {
    lua_State *L;
    int res; /* stack index of the results table */
};

static int push_echo(int k, struct nlmsghdr *h, void *arg)
{
    struct batch *b = arg;
    if (h->nlmsg_type != RTM_NEWLINK)
        return 0;
    vnet_link_push(b->L, h);
    lua_rawseti(b->L, b->res, k + 1);
    return 0;
}

/* The list at idx: its length, raising unless a table of 0..BATCH_MAX. */
static int checklist(lua_State *L, int idx, const char *op, const char *what)
{
    if (!lua_istable(L, idx))
        return vnet_error(L, "%s: %s must be a list (got %s)", op, what,
                          luaL_typename(L, idx));
    lua_Integer n = luaL_len(L, idx);
    if (n > BATCH_MAX)
        return vnet_error(L, "%s: %d requests at most in one batch (got %d)",
                          op, BATCH_MAX, (int)n);
    return (int)n;
}

/* The arrays a batch needs, in a userdata so that a raise frees them. */
static void arrays(lua_State *L, int n, struct nl_msg ***msgs, int **errs)
{
    size_t cnt = n > 0 && n <= BATCH_MAX ? (size_t)n : 1;
    size_t ptrs = sizeof(struct nl_msg *) * cnt;
    char *p = lua_newuserdatauv(L, ptrs + sizeof(int) * cnt, 0);
    memset(p, 0, ptrs);
    *msgs = (struct nl_msg **)p;
    *errs = (int *)(p + ptrs);
}

static void freemsgs(struct nl_msg **msgs, int n)
{
    for (int i = 0; i < n; i++) {
        nlmsg_free(msgs[i]);
        msgs[i] = NULL;
    }
}

/* After vnet_nl_batch returned ret: true, or pushes nil, msg, errno, k (and
 * leaves the results table as the fifth value). obj(k) names request k. */
static int finish(lua_State *L, int ret, int n, int res, const char *op,
                  int *errs, void (*obj)(lua_State *, int, int),
                  int objarg, const char *ext)
{
    if (ret == n) {
        lua_pushvalue(L, res);
        return 1;
    }
    int k = ret >= 0 ? ret : 0, e = ret >= 0 ? errs[ret] : ret;
    obj(L, objarg, k + 1); /* pushed: kept while the label is made */
    lua_pushfstring(L, "%s (request %d of %d)", lua_tostring(L, -1), k + 1, n);
    const char *label = lua_tostring(L, -1);
    vnet_nl_pusherr(L, op, label, e, ext);
    lua_pushinteger(L, ret >= 0 ? k + 1 : 0);
    lua_pushvalue(L, res);
    return 5;
}

static const char *name_at(lua_State *L, int names, int k)
{
    lua_rawgeti(L, names, k);
    const char *s = lua_tostring(L, -1);
    lua_pop(L, 1); /* the list keeps the string alive */
    return s ? s : "?";
}

/* push the name of request k: its name, or "#ifindex" */
static void pushname(lua_State *L, int names, int k)
{
    lua_pushstring(L, name_at(L, names, k));
}

static void pushindex(lua_State *L, int list, int k)
{
    lua_rawgeti(L, list, k);
    lua_Integer i = lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_pushfstring(L, "#%d", (int)i);
}

/* create_many(specs, op, names) -> results | nil, msg, errno, k, results.
 * specs: spec tables as create takes; names: what to call request k in an
 * error. results[k]: the new link's table (from the echo), true when it
 * was made but not echoed (made in another namespace), false when not made.
 * Requests after a failed one's chunk are not sent. */
static int k_create_many(lua_State *L)
{
    const char *op = luaL_checkstring(L, 2);
    int n = checklist(L, 1, op, "specs");
    luaL_checktype(L, 3, LUA_TTABLE);
    for (int k = 1; k <= n; k++) {
        lua_rawgeti(L, 1, k);
        vnet_link_check(L, lua_gettop(L), op, name_at(L, 3, k));
        lua_pop(L, 1);
    }
    struct nl_msg **msgs;
    int *errs;
    arrays(L, n, &msgs, &errs);
    char err[128] = "", ext[256] = "";
    for (int k = 0; k < n; k++) {
        lua_rawgeti(L, 1, k + 1);
        int r = vnet_link_build(L, lua_gettop(L), 0, op, name_at(L, 3, k + 1),
                                &msgs[k], err, sizeof err);
        lua_pop(L, 1);
        if (r < 0) {
            freemsgs(msgs, k);
            if (err[0])
                return vnet_error(L, "%s %s: %s", op, name_at(L, 3, k + 1), err);
            return vnet_pusherr(L, op, name_at(L, 3, k + 1), ENOMEM, NULL);
        }
        nlmsg_hdr(msgs[k])->nlmsg_flags |= NLM_F_ECHO;
    }
    lua_createtable(L, n, 0);
    struct batch b = {L, lua_gettop(L)};
    int seen;
    int ret = vnet_nl_batch(msgs, n, push_echo, &b, errs, ext, sizeof ext, &seen);
    for (int k = 0; k < n; k++) {
        if (lua_rawgeti(L, b.res, k + 1) == LUA_TNIL) {
            /* unsent or refused: false; acked without an echo: true; an
             * exchange that broke off: unknown, left nil */
            if (errs[k] != 1 || k >= seen) {
                lua_pushboolean(L, errs[k] == 0);
                lua_rawseti(L, b.res, k + 1);
            }
        }
        lua_pop(L, 1);
    }
    return finish(L, ret, n, b.res, op, errs, pushname, 3, ext);
}

/* get_many(ifindexes, op [, nsids]) -> { table, ... } | nil, msg, errno, k.
 * nsids[k] >= 0: read link k in that peer namespace (IFLA_TARGET_NETNSID). */
static int k_get_many(lua_State *L)
{
    const char *op = luaL_checkstring(L, 2);
    int n = checklist(L, 1, op, "ifindexes");
    int nsids = lua_istable(L, 3) ? 3 : 0;
    for (int k = 1; k <= n; k++) {
        lua_rawgeti(L, 1, k);
        vnet_checkifindex(L, -1, op);
        lua_pop(L, 1);
        if (nsids) {
            lua_rawgeti(L, nsids, k);
            if (!lua_isnil(L, -1))
                vnet_checkrange(L, -1, op, "nsid", -1, 0x7fffffff);
            lua_pop(L, 1);
        }
    }
    struct nl_msg **msgs;
    int *errs;
    arrays(L, n, &msgs, &errs);
    char ext[256] = "";
    for (int k = 0; k < n; k++) {
        lua_rawgeti(L, 1, k + 1);
        int idx = (int)lua_tointeger(L, -1);
        lua_Integer nsid = -1;
        if (nsids) {
            lua_rawgeti(L, nsids, k + 1);
            nsid = luaL_optinteger(L, -1, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        if (rtnl_link_build_get_request(idx, NULL, &msgs[k]) < 0 ||
            (nsid >= 0 && nla_put_s32(msgs[k], IFLA_TARGET_NETNSID, (int)nsid) < 0)) {
            freemsgs(msgs, k + 1);
            return vnet_pusherr(L, op, "", ENOMEM, NULL);
        }
    }
    lua_createtable(L, n, 0);
    struct batch b = {L, lua_gettop(L)};
    int seen;
    int ret = vnet_nl_batch(msgs, n, push_echo, &b, errs, ext, sizeof ext, &seen);
    for (int k = 0; ret == n && k < n; k++) {
        if (lua_rawgeti(L, b.res, k + 1) == LUA_TNIL) { /* acked, no answer */
            errs[k] = -ENODEV;
            ret = k;
        }
        lua_pop(L, 1);
    }
    int r = finish(L, ret, n, b.res, op, errs, pushindex, 1, ext);
    if (r == 5) lua_pop(L, 1); /* what a failed get read is of no use */
    return r == 5 ? 4 : r;
}

/* delete_many(ifindexes, op, names) -> true | nil, msg, errno, k. A link
 * already gone (ENODEV: a veth's other end went with it) counts as done. */
static int k_delete_many(lua_State *L)
{
    const char *op = luaL_checkstring(L, 2);
    int n = checklist(L, 1, op, "ifindexes");
    luaL_checktype(L, 3, LUA_TTABLE);
    for (int k = 1; k <= n; k++) {
        lua_rawgeti(L, 1, k);
        vnet_checkifindex(L, -1, op);
        lua_pop(L, 1);
    }
    struct nl_msg **msgs;
    int *errs;
    arrays(L, n, &msgs, &errs);
    char ext[256] = "";
    for (int from = 0; from < n;) {
        int m = n - from;
        for (int k = 0; k < m; k++) {
            lua_rawgeti(L, 1, from + k + 1);
            struct rtnl_link *l = rtnl_link_alloc();
            if (l) rtnl_link_set_ifindex(l, (int)lua_tointeger(L, -1));
            lua_pop(L, 1);
            int r = l ? rtnl_link_build_delete_request(l, &msgs[k]) : -1;
            rtnl_link_put(l);
            if (r < 0) {
                freemsgs(msgs, k);
                return vnet_pusherr(L, op, name_at(L, 3, from + k + 1), ENOMEM, NULL);
            }
        }
        int seen;
        int ret = vnet_nl_batch(msgs, m, NULL, NULL, errs, ext, sizeof ext, &seen);
        if (ret < 0)
            return vnet_nl_pusherr(L, op, name_at(L, 3, from + 1), ret, ext);
        for (int k = 0; k < seen; k++) {
            if (errs[k] < 0 && errs[k] != -ENODEV) {
                lua_pushfstring(L, "%s (request %d of %d)",
                                name_at(L, 3, from + k + 1), from + k + 1, n);
                vnet_nl_pusherr(L, op, lua_tostring(L, -1), errs[k],
                                k == ret ? ext : NULL);
                lua_pushinteger(L, from + k + 1);
                return 4;
            }
        }
        from += seen;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* vnet.batch.core: its own opener (not link.core's), as it builds on
 * link.c's request builder: the dependency goes one way. */
int luaopen_vnet_batch_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"create_many", k_create_many}, {"get_many", k_get_many},
        {"delete_many", k_delete_many}, {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    return 1;
}
