/*
 * route.c - vnet.route.core: routes (RTM_NEWROUTE/DELROUTE/GETROUTE).
 *
 * Messages are built with libnl-route's rtnl_route (one nexthop) and sent
 * through nl.c, so errors keep errno and the kernel's extended-ack text;
 * reading parses the replies directly. lua/vnet/route.lua checks options
 * and turns names (table, scope, protocol, type) into numbers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/route/rtnl.h>

#include "netlink/nl.h"

static void setint(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* Push the Lua table for an RTM_NEWROUTE message. */
void vnet_route_push(lua_State *L, struct nlmsghdr *h)
{
    struct rtmsg *rt = NLMSG_DATA(h);
    struct nlattr *tb[RTA_MAX + 1];
    char buf[64];
    lua_createtable(L, 0, 12);
    if (nlmsg_parse(h, sizeof *rt, tb, RTA_MAX, NULL) < 0)
        memset(tb, 0, sizeof tb);
    lua_pushstring(L, rt->rtm_family == AF_INET6 ? "inet6" : "inet");
    lua_setfield(L, -2, "family");
    if (tb[RTA_DST])
        vnet_nl_setip(L, "dst", tb[RTA_DST], rt->rtm_dst_len);
    else {
        lua_pushliteral(L, "default");
        lua_setfield(L, -2, "dst");
    }
    vnet_nl_setip(L, "via", tb[RTA_GATEWAY], -1);
    vnet_nl_setip(L, "src", tb[RTA_PREFSRC], -1);
    if (tb[RTA_OIF]) setint(L, "dev", nla_get_u32(tb[RTA_OIF]));
    setint(L, "table", tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE])
                                     : rt->rtm_table);
    if (tb[RTA_PRIORITY]) setint(L, "metric", nla_get_u32(tb[RTA_PRIORITY]));
    lua_pushstring(L, rtnl_scope2str(rt->rtm_scope, buf, sizeof buf));
    lua_setfield(L, -2, "scope");
    lua_pushstring(L, rtnl_route_proto2str(rt->rtm_protocol, buf, sizeof buf));
    lua_setfield(L, -2, "protocol");
    lua_pushstring(L, nl_rtntype2str(rt->rtm_type, buf, sizeof buf));
    lua_setfield(L, -2, "type");
}

/* a route of this table (arg: the table, 0 for all) */
static int keep_route(struct nlmsghdr *h, void *arg)
{
    int table = *(int *)arg;
    struct rtmsg *rt = NLMSG_DATA(h);
    if (h->nlmsg_type != RTM_NEWROUTE)
        return 0;
    if (table) {
        struct nlattr *tb[RTA_MAX + 1];
        int t = rt->rtm_table;
        if (nlmsg_parse(h, sizeof *rt, tb, RTA_MAX, NULL) == 0 && tb[RTA_TABLE])
            t = (int)nla_get_u32(tb[RTA_TABLE]);
        if (t != table)
            return 0;
    }
    return 1;
}

static struct nl_addr *addr_field(lua_State *L, int idx, const char *k,
                                  int family)
{
    struct nl_addr *a = NULL;
    size_t len;
    if (lua_getfield(L, idx, k) == LUA_TSTRING) {
        const char *s = lua_tolstring(L, -1, &len);
        if (strcmp(s, "default") == 0 && strcmp(k, "dst") == 0) {
            static const unsigned char zero[16];
            a = nl_addr_build(family, zero, family == AF_INET ? 4 : 16);
            if (a)
                nl_addr_set_prefixlen(a, 0);
        } else {
            a = vnet_nl_parse(s, len, family, strcmp(k, "dst") == 0);
        }
    }
    lua_pop(L, 1);
    return a;
}

/* spec[k] in lo..hi, or dflt (raises naming the option, vnet_optfield) */
#define intfield(L, idx, k, lo, hi, dflt) \
    ((int64_t)vnet_optfield(L, idx, k, op, obj, lo, hi, dflt))

/* send(cmd "add"|"del"|"replace", spec, op, obj) -> true | nil, msg, errno
 * spec (checked by route.lua): family ("inet"|"inet6"), dst (text, prefix
 * allowed), via, src, dev (ifindex), table, metric, scope, protocol, type
 * (numbers). */
static int r_send(lua_State *L)
{
    static const char *const cmds[] = {"add", "del", "replace", NULL};
    int cmd = luaL_checkoption(L, 1, NULL, cmds);
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *op = luaL_checkstring(L, 3), *obj = luaL_checkstring(L, 4);
    lua_getfield(L, 2, "family");
    int fam = strcmp(luaL_optstring(L, -1, "inet"), "inet6") == 0 ? AF_INET6
                                                                   : AF_INET;
    lua_pop(L, 1);
    /* the numbers first: a raise below would leak what is allocated */
    uint32_t table = (uint32_t)intfield(L, 2, "table", 0, 0xffffffff, RT_TABLE_MAIN);
    int64_t metric = intfield(L, 2, "metric", 0, 0xffffffff, -1);
    int scope = (int)intfield(L, 2, "scope", 0, 255, -1);
    /* deleting, what is not given matches anything (0), as iproute2 */
    int type = (int)intfield(L, 2, "type", 0, 255,
                             cmd == 1 ? RTN_UNSPEC : RTN_UNICAST);
    int proto = (int)intfield(L, 2, "protocol", 0, 255,
                              cmd == 1 ? RTPROT_UNSPEC : RTPROT_BOOT);
    int dev = (int)intfield(L, 2, "dev", 1, 0x7fffffff, 0);
    struct rtnl_route *r = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    struct nl_addr *dst = addr_field(L, 2, "dst", fam);
    struct nl_addr *via = addr_field(L, 2, "via", fam);
    struct nl_addr *src = addr_field(L, 2, "src", fam);
    struct nl_msg *msg = NULL;
    char ext[256] = "";
    int rr = -ENOMEM;
    if (r && nh && dst) {
        rtnl_route_set_family(r, (uint8_t)fam);
        rtnl_route_set_dst(r, dst);
        if (src) rtnl_route_set_pref_src(r, src);
        rtnl_route_set_table(r, table);
        if (metric >= 0) rtnl_route_set_priority(r, (uint32_t)metric);
        if (scope < 0) /* as iproute2: any scope matches when deleting; on
                          add, host for local routes, link without a
                          gateway, else universe */
            scope = cmd == 1 ? RT_SCOPE_NOWHERE
                  : type == RTN_LOCAL ? RT_SCOPE_HOST
                  : via || type != RTN_UNICAST ? RT_SCOPE_UNIVERSE
                  : RT_SCOPE_LINK;
        rtnl_route_set_scope(r, (uint8_t)scope);
        rtnl_route_set_protocol(r, (uint8_t)proto);
        rtnl_route_set_type(r, (uint8_t)type);
        if (dev || via) {
            if (dev) rtnl_route_nh_set_ifindex(nh, dev);
            if (via) rtnl_route_nh_set_gateway(nh, via);
            rtnl_route_add_nexthop(r, nh);
            nh = NULL; /* the route owns it now */
        }
        int flags = cmd == 0 ? NLM_F_CREATE | NLM_F_EXCL
                  : cmd == 2 ? NLM_F_CREATE | NLM_F_REPLACE : 0;
        rr = cmd == 1 ? rtnl_route_build_del_request(r, 0, &msg)
                      : rtnl_route_build_add_request(r, flags, &msg);
        rr = rr < 0 ? -EINVAL : 0;
    } else if (r && nh && !dst) {
        rr = -EINVAL;
    }
    if (nh) rtnl_route_nh_free(nh);
    rtnl_route_put(r);
    nl_addr_put(dst);
    nl_addr_put(via);
    nl_addr_put(src);
    if (rr == 0)
        rr = vnet_nl_request(msg, ext, sizeof ext);
    if (rr < 0)
        return vnet_nl_pusherr(L, op, obj, rr, ext);
    lua_pushboolean(L, 1);
    return 1;
}

/* list(family|nil, table (0 = all), op) -> { route, ... } | nil, msg, errno */
static int r_list(lua_State *L)
{
    const char *op = luaL_optstring(L, 3, "route.list");
    int fam = vnet_nl_optfamily(L, 1, op);
    int table = (int)luaL_optinteger(L, 2, RT_TABLE_MAIN); /* route.lua's */
    struct rtmsg rt = {.rtm_family = (unsigned char)fam};
    vnet_nl_list how = {keep_route, vnet_route_push, &table};
    return vnet_nl_dump(L, RTM_GETROUTE, &rt, sizeof rt, &how, op, "");
}

/* get(dst, src|nil, oif|nil, op) -> route the kernel would use | nil, msg, errno */
static int r_get(lua_State *L)
{
    size_t dlen, slen = 0;
    const char *dst = luaL_checklstring(L, 1, &dlen);
    const char *src = luaL_optlstring(L, 2, NULL, &slen);
    const char *op = luaL_optstring(L, 4, "route.get");
    int oif = lua_isnoneornil(L, 3) ? 0 : vnet_checkifindex(L, 3, op);
    unsigned char d[16], s[16];
    int fam, sfam, plen;
    if (vnet_parse_cidr(dst, dlen, &fam, d, &plen) < 0 || plen >= 0)
        return vnet_error(L, "%s: '%s' is not an IPv4 or IPv6 address", op,
                          vnet_shown(L, dst, dlen));
    int alen = fam == AF_INET ? 4 : 16;
    if (src && (vnet_parse_cidr(src, slen, &sfam, s, &plen) < 0 ||
                plen >= 0 || sfam != fam))
        return vnet_error(L, "%s %s: option 'src' '%s' is not an address of "
                          "the same family", op, dst, src);
    struct rtmsg rt = {.rtm_family = (unsigned char)fam,
                       .rtm_dst_len = (unsigned char)(alen * 8)};
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
    if (msg == NULL || nlmsg_append(msg, &rt, sizeof rt, NLMSG_ALIGNTO) < 0 ||
        nla_put(msg, RTA_DST, alen, d) < 0 ||
        (src && nla_put(msg, RTA_SRC, alen, s) < 0) ||
        (oif && nla_put_u32(msg, RTA_OIF, (uint32_t)oif) < 0)) {
        nlmsg_free(msg);
        return vnet_pusherr(L, op, dst, ENOMEM, NULL);
    }
    char ext[256] = "";
    int all = 0;
    vnet_nl_list how = {keep_route, vnet_route_push, &all};
    int r = vnet_nl_collect(L, msg, &how, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, dst, r, ext);
    lua_rawgeti(L, -1, 1);
    return 1;
}

/* names: table/scope/protocol/type name -> number, or nil */
static int r_number(lua_State *L)
{
    static const char *const what[] = {"table", "scope", "protocol", "type",
                                       NULL};
    int w = luaL_checkoption(L, 1, NULL, what);
    if (lua_isinteger(L, 2)) {
        lua_pushvalue(L, 2);
        return 1;
    }
    const char *s = luaL_checkstring(L, 2);
    int n = w == 0 ? rtnl_route_str2table(s)
          : w == 1 ? rtnl_str2scope(s)
          : w == 2 ? rtnl_route_str2proto(s)
          : nl_str2rtntype(s);
    if (n < 0) lua_pushnil(L);
    else lua_pushinteger(L, n);
    return 1;
}

int luaopen_vnet_route_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"send", r_send}, {"list", r_list}, {"get", r_get},
        {"number", r_number},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    return 1;
}
