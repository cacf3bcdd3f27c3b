/*
 * watch.c - vnet.watch.core: the kernel's rtnetlink events.
 *
 * An event socket ("vnet.watchsock") is a netlink socket joined to the
 * multicast groups asked for (links, IPv4/IPv6 addresses, routes,
 * neighbours). It is non-blocking and has :fileno(), so vnet.loop (or any
 * other loop) can wait on it; :read() drains what is queued, up to a
 * bound, into event tables. When the socket's buffer overflowed (ENOBUFS)
 * events were lost: :read() says so, and lua/vnet/watch.lua dumps the
 * tables again and tells the watcher, instead of going on as if nothing
 * happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netlink/nl.h"

#define WATCH_T "vnet.watchsock"
#define MAX_BATCH 256   /* messages handed out by one :read() */
#define BUFSZ 32768

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

typedef struct wsock {
    int fd;
    char buf[BUFSZ]; /* one receive buffer per socket, reused */
} wsock;

static wsock *checkw(lua_State *L, int idx)
{
    wsock *w = luaL_checkudata(L, idx, WATCH_T);
    if (w->fd < 0)
        vnet_error(L, "attempt to use a closed watch");
    return w;
}

/* open({"link", "addr", "route", "neigh"}, rcvbuf|nil) -> sock | nil, msg, errno */
static int w_open(lua_State *L)
{
    static const char *const names[] = {"link", "addr", "route", "neigh",
                                        NULL};
    static const int groups[][2] = {
        {RTNLGRP_LINK, 0}, {RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR},
        {RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE}, {RTNLGRP_NEIGH, 0},
    };
    luaL_checktype(L, 1, LUA_TTABLE);
    int rcvbuf = lua_isnoneornil(L, 2) ? 0
               : (int)vnet_checkrange(L, 2, "link.watch", "option 'rcvbuf'", 0,
                                      0x7fffffff);
    int want[4] = {0, 0, 0, 0};
    for (lua_Integer i = 1; lua_rawgeti(L, 1, i) != LUA_TNIL; i++) {
        want[luaL_checkoption(L, -1, NULL, names)] = 1;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    wsock *w = lua_newuserdatauv(L, sizeof *w, 0);
    w->fd = -1;
    luaL_setmetatable(L, WATCH_T);
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    NETLINK_ROUTE);
    if (fd < 0)
        return vnet_pusherr(L, "link.watch", "", errno, NULL);
    w->fd = fd;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        goto fail;
    for (int g = 0; g < 4; g++) {
        for (int k = 0; k < 2 && want[g]; k++) {
            int grp = groups[g][k];
            if (grp && setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
                                  &grp, sizeof grp) < 0)
                goto fail;
        }
    }
    if (rcvbuf > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0)
        goto fail;
    return 1;
fail:;
    int e = errno;
    close(fd);
    w->fd = -1;
    return vnet_pusherr(L, "link.watch", "", e, NULL);
}

/* One message -> an event table {type=, action=, <type>=table}, or
 * nothing for messages of no interest. */
static int push_event(lua_State *L, struct nlmsghdr *h)
{
    const char *type, *action;
    void (*push)(lua_State *, struct nlmsghdr *);
    switch (h->nlmsg_type) {
    case RTM_NEWLINK: type = "link"; action = "new"; push = vnet_link_push; break;
    case RTM_DELLINK: type = "link"; action = "delete"; push = vnet_link_push; break;
    case RTM_NEWADDR: type = "addr"; action = "add"; push = vnet_addr_push; break;
    case RTM_DELADDR: type = "addr"; action = "delete"; push = vnet_addr_push; break;
    case RTM_NEWROUTE: type = "route"; action = "add"; push = vnet_route_push; break;
    case RTM_DELROUTE: type = "route"; action = "delete"; push = vnet_route_push; break;
    case RTM_NEWNEIGH: type = "neigh"; action = "add"; push = vnet_neigh_push; break;
    case RTM_DELNEIGH: type = "neigh"; action = "delete"; push = vnet_neigh_push; break;
    default: return 0;
    }
    lua_createtable(L, 0, 3);
    lua_pushstring(L, type);
    lua_setfield(L, -2, "type");
    lua_pushstring(L, action);
    lua_setfield(L, -2, "action");
    push(L, h);
    lua_setfield(L, -2, type);
    return 1;
}

/* sock:read() -> { event, ... }, overflowed (boolean) | nil, msg, errno
 * Drains at most MAX_BATCH messages; an empty list when nothing waits. */
static int w_read(lua_State *L)
{
    wsock *w = checkw(L, 1);
    lua_newtable(L);
    int n = 0, msgs = 0, overflow = 0;
    char *buf = w->buf;
    int t = lua_gettop(L);
    while (msgs < MAX_BATCH) {
        ssize_t len = recv(w->fd, buf, BUFSZ, 0);
        if (len < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == ENOBUFS) { overflow = 1; continue; }
            return vnet_pusherr(L, "link.watch", "", errno, NULL);
        }
        if (len == 0)
            break;
        int rem = (int)len;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, rem);
             h = NLMSG_NEXT(h, rem)) {
            msgs++;
            if (push_event(L, h))
                lua_rawseti(L, t, ++n);
        }
    }
    lua_settop(L, t);
    lua_pushboolean(L, overflow);
    return 2;
}

static int w_fileno(lua_State *L)
{
    lua_pushinteger(L, checkw(L, 1)->fd);
    return 1;
}

/* cqueues' polling protocol: readable, no timeout of its own */
static int w_events(lua_State *L)
{
    checkw(L, 1);
    lua_pushliteral(L, "r");
    return 1;
}

static int w_timeout(lua_State *L)
{
    checkw(L, 1);
    lua_pushnil(L);
    return 1;
}

static int w_close(lua_State *L)
{
    wsock *w = luaL_checkudata(L, 1, WATCH_T);
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    return 0;
}

static int w_tostring(lua_State *L)
{
    wsock *w = luaL_checkudata(L, 1, WATCH_T);
    if (w->fd < 0)
        lua_pushliteral(L, "vnet.watchsock (closed)");
    else
        lua_pushfstring(L, "vnet.watchsock (fd %d)", w->fd);
    return 1;
}

int luaopen_vnet_watch_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"open", w_open},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", w_close}, {"__close", w_close}, {"__tostring", w_tostring},
        {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"read", w_read}, {"fileno", w_fileno}, {"close", w_close},
        {"pollfd", w_fileno}, {"events", w_events}, {"timeout", w_timeout},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    vnet_newclass(L, WATCH_T, meta, methods, NULL);
    lua_setfield(L, -2, "methods");
    return 1;
}
