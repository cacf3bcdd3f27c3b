/*
 * addr.c - vnet.addr.core: IPv4 and IPv6 addresses (RTM_NEWADDR/DELADDR/
 * GETADDR). Messages are built with libnl-route's rtnl_addr and sent
 * through nl.c, so errors keep errno and the kernel's extended-ack text;
 * lua/vnet/addr.lua checks options and adds flush.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/rtnl.h>

#include "netlink/nl.h"

static const struct { unsigned bit; const char *name; } aflags[] = {
    {IFA_F_SECONDARY, "secondary"}, {IFA_F_NODAD, "nodad"},
    {IFA_F_OPTIMISTIC, "optimistic"}, {IFA_F_DADFAILED, "dadfailed"},
    {IFA_F_HOMEADDRESS, "home"}, {IFA_F_DEPRECATED, "deprecated"},
    {IFA_F_TENTATIVE, "tentative"}, {IFA_F_PERMANENT, "permanent"},
    {IFA_F_MANAGETEMPADDR, "mngtmpaddr"},
    {IFA_F_NOPREFIXROUTE, "noprefixroute"},
    {IFA_F_MCAUTOJOIN, "autojoin"}, {IFA_F_STABLE_PRIVACY, "stable-privacy"},
    {0, NULL}
};

void vnet_addr_push(lua_State *L, struct nlmsghdr *h)
{
    struct ifaddrmsg *ifa = NLMSG_DATA(h);
    struct nlattr *tb[IFA_MAX + 1];
    char buf[32];
    lua_createtable(L, 0, 12);
    if (nlmsg_parse(h, sizeof *ifa, tb, IFA_MAX, NULL) < 0)
        memset(tb, 0, sizeof tb);
    lua_pushstring(L, ifa->ifa_family == AF_INET6 ? "inet6" : "inet");
    lua_setfield(L, -2, "family");
    lua_pushinteger(L, (lua_Integer)ifa->ifa_index);
    lua_setfield(L, -2, "ifindex");
    lua_pushinteger(L, ifa->ifa_prefixlen);
    lua_setfield(L, -2, "prefixlen");
    lua_pushstring(L, rtnl_scope2str(ifa->ifa_scope, buf, sizeof buf));
    lua_setfield(L, -2, "scope");
    /* IFA_LOCAL is the address; IFA_ADDRESS differs from it only on a
     * point-to-point address, where it is the peer. */
    struct nlattr *local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
    vnet_nl_setip(L, "address", local, -1);
    if (lua_getfield(L, -1, "address") == LUA_TSTRING) {
        lua_pushfstring(L, "%s/%d", lua_tostring(L, -1), ifa->ifa_prefixlen);
        lua_setfield(L, -3, "cidr");
    }
    lua_pop(L, 1);
    if (tb[IFA_LOCAL] && tb[IFA_ADDRESS] &&
        nla_len(tb[IFA_LOCAL]) == nla_len(tb[IFA_ADDRESS]) &&
        memcmp(nla_data(tb[IFA_LOCAL]), nla_data(tb[IFA_ADDRESS]),
               (size_t)nla_len(tb[IFA_LOCAL])) != 0)
        vnet_nl_setip(L, "peer", tb[IFA_ADDRESS], -1);
    vnet_nl_setip(L, "broadcast", tb[IFA_BROADCAST], -1);
    if (tb[IFA_LABEL]) {
        lua_pushstring(L, nla_get_string(tb[IFA_LABEL]));
        lua_setfield(L, -2, "label");
    }
    unsigned flags = tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
    lua_newtable(L);
    for (int i = 0, n = 0; aflags[i].name; i++) {
        if (flags & aflags[i].bit) {
            lua_pushstring(L, aflags[i].name);
            lua_rawseti(L, -2, ++n);
        }
    }
    lua_setfield(L, -2, "flags");
    if (tb[IFA_CACHEINFO]) {
        struct ifa_cacheinfo *ci = nla_data(tb[IFA_CACHEINFO]);
        lua_pushinteger(L, ci->ifa_valid == 0xffffffffu ? -1
                                                      : (lua_Integer)ci->ifa_valid);
        lua_setfield(L, -2, "valid_lft");
        lua_pushinteger(L, ci->ifa_prefered == 0xffffffffu
                               ? -1 : (lua_Integer)ci->ifa_prefered);
        lua_setfield(L, -2, "preferred_lft");
    }
}

/* An address argument, or raise naming the option. */
static struct nl_addr *parse(lua_State *L, const char *s, size_t len,
                             int family, const char *op, const char *obj,
                             const char *what)
{
    struct nl_addr *a = vnet_nl_parse(s, len, family, 1);
    if (a == NULL) {
        if (family != AF_UNSPEC)
            vnet_error(L, "%s %s: %s '%s' is not an address of the same family",
                       op, obj, what, vnet_shown(L, s, len));
        vnet_error(L, "%s %s: '%s' is not an IPv4 or IPv6 address", op, obj,
                   vnet_shown(L, s, len));
    }
    return a;
}

/* Fill an rtnl_addr from spec at idx; raises on bad text (nothing held). */
static struct rtnl_addr *build(lua_State *L, int ifindex, int idx,
                               const char *op, const char *obj)
{
    /* the numbers and the label first: nothing is held yet */
    lua_Integer scope = vnet_optfield(L, idx, "scope", op, obj, 0, 255, -1);
    lua_Integer flags = vnet_optfield(L, idx, "flags", op, obj, 0, 0xffffffff, 0);
    lua_Integer vlft = vnet_optfield(L, idx, "valid_lft", op, obj, 0, 0xffffffff, -1);
    lua_Integer plft = vnet_optfield(L, idx, "preferred_lft", op, obj, 0,
                                     0xffffffff, -1);
    const char *label = NULL;
    if (lua_getfield(L, idx, "label") != LUA_TNIL)
        label = vnet_checkname(L, -1, IFNAMSIZ - 1, op, "option 'label'");
    lua_getfield(L, idx, "local");
    size_t slen, plen = 0, blen = 0;
    const char *s = luaL_checklstring(L, -1, &slen);
    struct nl_addr *local = parse(L, s, slen, AF_UNSPEC, op, obj, "address");
    int fam = nl_addr_get_family(local);
    struct nl_addr *peer = NULL, *brd = NULL;
    /* parse the rest before allocating, so a raise leaks nothing but local,
     * which is released through a guard below */
    const char *ps = (lua_getfield(L, idx, "peer") == LUA_TSTRING)
                         ? lua_tolstring(L, -1, &plen) : NULL;
    const char *bs = (lua_getfield(L, idx, "broadcast") == LUA_TSTRING)
                         ? lua_tolstring(L, -1, &blen) : NULL;
    if (ps && (peer = vnet_nl_parse(ps, plen, fam, 1)) == NULL) {
        nl_addr_put(local);
        vnet_error(L, "%s %s: peer '%s' is not an address of the same family",
                   op, obj, vnet_shown(L, ps, plen));
    }
    if (bs && (brd = vnet_nl_parse(bs, blen, fam, 0)) == NULL) {
        nl_addr_put(local);
        nl_addr_put(peer);
        vnet_error(L, "%s %s: broadcast '%s' is not an address of the same "
                   "family", op, obj, vnet_shown(L, bs, blen));
    }
    struct rtnl_addr *ra = rtnl_addr_alloc();
    if (ra) {
        rtnl_addr_set_ifindex(ra, ifindex);
        rtnl_addr_set_family(ra, fam);
        rtnl_addr_set_local(ra, local);
        if (peer) rtnl_addr_set_peer(ra, peer);
        if (brd) rtnl_addr_set_broadcast(ra, brd);
        if (scope >= 0) rtnl_addr_set_scope(ra, (int)scope);
        if (label) rtnl_addr_set_label(ra, label);
        if (flags) rtnl_addr_set_flags(ra, (unsigned)flags);
        if (vlft >= 0) rtnl_addr_set_valid_lifetime(ra, (uint32_t)vlft);
        if (plft >= 0) rtnl_addr_set_preferred_lifetime(ra, (uint32_t)plft);
    }
    lua_pop(L, 4);
    nl_addr_put(local);
    nl_addr_put(peer);
    nl_addr_put(brd);
    return ra;
}

/* add(ifindex, spec, op, obj) / del(...): spec {local=, peer=, broadcast=,
 * scope= (number), label=, flags= (IFA_F_* bits), valid_lft=,
 * preferred_lft=, replace=} -> true | nil, msg, errno */
static int a_send(lua_State *L, int del)
{
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *op = luaL_checkstring(L, 3), *obj = luaL_checkstring(L, 4);
    int ifindex = vnet_checkifindex(L, 1, op);
    int replace = (lua_getfield(L, 2, "replace"), lua_toboolean(L, -1));
    lua_pop(L, 1);
    struct rtnl_addr *ra = build(L, ifindex, 2, op, obj);
    struct nl_msg *msg = NULL;
    char ext[256] = "";
    if (ra == NULL)
        return vnet_pusherr(L, op, obj, ENOMEM, NULL);
    int r = del ? rtnl_addr_build_delete_request(ra, 0, &msg)
                : rtnl_addr_build_add_request(
                      ra, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL),
                      &msg);
    rtnl_addr_put(ra);
    if (r < 0)
        return vnet_pusherr(L, op, obj, EINVAL, nl_geterror(r));
    r = vnet_nl_request(msg, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    lua_pushboolean(L, 1);
    return 1;
}

static int a_add(lua_State *L) { return a_send(L, 0); }
static int a_del(lua_State *L) { return a_send(L, 1); }

static int keep_addr(struct nlmsghdr *h, void *arg)
{
    int ifindex = *(int *)arg;
    struct ifaddrmsg *ifa = NLMSG_DATA(h);
    return h->nlmsg_type == RTM_NEWADDR &&
           (!ifindex || (int)ifa->ifa_index == ifindex);
}

/* list(ifindex | 0, family "inet"|"inet6"|nil, op, obj) -> { addr, ... } */
static int a_list(lua_State *L)
{
    const char *op = luaL_optstring(L, 3, "addr.list");
    int ifindex = lua_isnoneornil(L, 1) || lua_tointeger(L, 1) == 0 /* all */
                      ? 0 : vnet_checkifindex(L, 1, op);
    int fam = vnet_nl_optfamily(L, 2, op);
    const char *obj = luaL_optstring(L, 4, "");
    struct ifaddrmsg ifa = {.ifa_family = (unsigned char)fam};
    vnet_nl_list how = {keep_addr, vnet_addr_push, &ifindex};
    return vnet_nl_dump(L, RTM_GETADDR, &ifa, sizeof ifa, &how, op, obj);
}

/* scope(name | number) -> number | nil */
static int a_scope(lua_State *L)
{
    if (lua_isinteger(L, 1)) {
        lua_pushvalue(L, 1);
        return 1;
    }
    int s = rtnl_str2scope(luaL_checkstring(L, 1));
    if (s < 0) lua_pushnil(L);
    else lua_pushinteger(L, s);
    return 1;
}

int luaopen_vnet_addr_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"add", a_add}, {"del", a_del}, {"list", a_list}, {"scope", a_scope},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    lua_createtable(L, 0, 12);
    for (int i = 0; aflags[i].name; i++) {
        lua_pushinteger(L, aflags[i].bit);
        lua_setfield(L, -2, aflags[i].name);
    }
    lua_setfield(L, -2, "flags");
    return 1;
}
