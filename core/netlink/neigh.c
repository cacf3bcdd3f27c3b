/*
 * neigh.c - vnet.neigh.core: neighbours (ARP and NDP entries:
 * RTM_NEWNEIGH/DELNEIGH/GETNEIGH), so TAP and macvlan experiments can be
 * wired statically. Built with libnl-route's rtnl_neigh, sent through nl.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>

#include "netlink/nl.h"

static const struct { unsigned bit; const char *name; } states[] = {
    {NUD_INCOMPLETE, "INCOMPLETE"}, {NUD_REACHABLE, "REACHABLE"},
    {NUD_STALE, "STALE"}, {NUD_DELAY, "DELAY"}, {NUD_PROBE, "PROBE"},
    {NUD_FAILED, "FAILED"}, {NUD_NOARP, "NOARP"},
    {NUD_PERMANENT, "PERMANENT"}, {0, NULL}
};

void vnet_neigh_push(lua_State *L, struct nlmsghdr *h)
{
    struct ndmsg *nd = NLMSG_DATA(h);
    struct nlattr *tb[NDA_MAX + 1];
    lua_createtable(L, 0, 8);
    if (nlmsg_parse(h, sizeof *nd, tb, NDA_MAX, NULL) < 0)
        memset(tb, 0, sizeof tb);
    lua_pushstring(L, nd->ndm_family == AF_INET6 ? "inet6" : "inet");
    lua_setfield(L, -2, "family");
    lua_pushinteger(L, nd->ndm_ifindex);
    lua_setfield(L, -2, "dev");
    vnet_nl_setip(L, "dst", tb[NDA_DST], -1);
    if (tb[NDA_LLADDR]) {
        vnet_nl_pushmac(L, nla_data(tb[NDA_LLADDR]), nla_len(tb[NDA_LLADDR]));
        lua_setfield(L, -2, "lladdr");
    }
    lua_newtable(L);
    for (int i = 0, n = 0; states[i].name; i++) {
        if (nd->ndm_state & states[i].bit) {
            lua_pushstring(L, states[i].name);
            lua_rawseti(L, -2, ++n);
        }
    }
    lua_setfield(L, -2, "state");
    lua_pushboolean(L, (nd->ndm_flags & NTF_ROUTER) != 0);
    lua_setfield(L, -2, "router");
    lua_pushboolean(L, (nd->ndm_flags & NTF_PROXY) != 0);
    lua_setfield(L, -2, "proxy");
}

/* send(cmd "add"|"del"|"replace", ifindex, spec, op, obj): spec {dst =
 * text, lladdr = 6 bytes, state = NUD_* number, router =, proxy =}
 * -> true | nil, msg, errno */
static int n_send(lua_State *L)
{
    static const char *const cmds[] = {"add", "del", "replace", NULL};
    int cmd = luaL_checkoption(L, 1, NULL, cmds);
    luaL_checktype(L, 3, LUA_TTABLE);
    const char *op = luaL_checkstring(L, 4), *obj = luaL_checkstring(L, 5);
    int ifindex = vnet_checkifindex(L, 2, op);
    lua_getfield(L, 3, "dst");
    size_t dlen;
    const char *dst = luaL_checklstring(L, -1, &dlen);
    lua_getfield(L, 3, "lladdr");
    size_t lllen = 0;
    const char *ll = lua_tolstring(L, -1, &lllen);
    lua_getfield(L, 3, "state");
    int state = (int)luaL_optinteger(L, -1, NUD_PERMANENT);
    int router = (lua_getfield(L, 3, "router"), lua_toboolean(L, -1));
    int proxy = (lua_getfield(L, 3, "proxy"), lua_toboolean(L, -1));
    struct nl_addr *l = NULL, *d = vnet_nl_parse(dst, dlen, AF_UNSPEC, 0);
    if (d == NULL)
        return vnet_error(L, "%s %s: '%s' is not an IPv4 or IPv6 address", op,
                          obj, vnet_shown(L, dst, dlen));
    struct rtnl_neigh *n = rtnl_neigh_alloc();
    struct nl_msg *msg = NULL;
    char ext[256] = "";
    int r = -ENOMEM;
    if (n && (ll == NULL || (l = nl_addr_build(AF_LLC, ll, lllen)))) {
        rtnl_neigh_set_ifindex(n, ifindex);
        rtnl_neigh_set_family(n, nl_addr_get_family(d));
        rtnl_neigh_set_dst(n, d);
        if (l) rtnl_neigh_set_lladdr(n, l);
        if (cmd != 1) rtnl_neigh_set_state(n, state);
        if (router) rtnl_neigh_set_flags(n, NTF_ROUTER);
        if (proxy) rtnl_neigh_set_flags(n, NTF_PROXY);
        int flags = cmd == 0 ? NLM_F_CREATE | NLM_F_EXCL
                  : cmd == 2 ? NLM_F_CREATE | NLM_F_REPLACE : 0;
        r = cmd == 1 ? rtnl_neigh_build_delete_request(n, 0, &msg)
                     : rtnl_neigh_build_add_request(n, flags, &msg);
        r = r < 0 ? -EINVAL : 0;
    }
    rtnl_neigh_put(n);
    nl_addr_put(d);
    nl_addr_put(l);
    if (r == 0)
        r = vnet_nl_request(msg, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    lua_pushboolean(L, 1);
    return 1;
}

static int keep_neigh(struct nlmsghdr *h, void *arg)
{
    int ifindex = *(int *)arg;
    struct ndmsg *nd = NLMSG_DATA(h);
    return h->nlmsg_type == RTM_NEWNEIGH &&
           (!ifindex || nd->ndm_ifindex == ifindex) &&
           (nd->ndm_family == AF_INET || nd->ndm_family == AF_INET6);
}

/* list(ifindex | 0, family|nil, op, obj) -> { neigh, ... } | nil, msg, errno */
static int n_list(lua_State *L)
{
    const char *op = luaL_optstring(L, 3, "neigh.list");
    int ifindex = lua_isnoneornil(L, 1) || lua_tointeger(L, 1) == 0
                      ? 0 : vnet_checkifindex(L, 1, op);
    int fam = vnet_nl_optfamily(L, 2, op);
    const char *obj = luaL_optstring(L, 4, "");
    struct ndmsg nd = {.ndm_family = (unsigned char)fam};
    vnet_nl_list how = {keep_neigh, vnet_neigh_push, &ifindex};
    return vnet_nl_dump(L, RTM_GETNEIGH, &nd, sizeof nd, &how, op, obj);
}

int luaopen_vnet_neigh_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"send", n_send}, {"list", n_list},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    lua_createtable(L, 0, 8);
    for (int i = 0; states[i].name; i++) {
        lua_pushinteger(L, states[i].bit);
        lua_setfield(L, -2, states[i].name);
    }
    lua_setfield(L, -2, "states");
    return 1;
}
