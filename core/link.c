/*
 * link.c - vnet.link.core: link and address operations through libnl-route.
 *
 * This is the small set the TUN/TAP devices need (up/down, MTU, addresses);
 * lua/vnet/link.lua builds the friendly surface. Every function takes an
 * ifindex plus the operation and object names to put in an error, and
 * returns true (or data) | nil, "op obj: reason (kernel's words)", errno.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/rtnl.h>

#include "vnet.h"

static int result(lua_State *L, int r, const char *op, const char *obj,
                  const char *ext)
{
    if (r < 0)
        return vnet_pusherr(L, op, obj, -r, ext);
    lua_pushboolean(L, 1);
    return 1;
}

/* index(name) -> ifindex | nil, msg, errno */
static int k_index(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    unsigned idx = if_nametoindex(name);
    if (idx == 0)
        return vnet_pusherr(L, luaL_optstring(L, 2, "link"), name, errno,
                            NULL);
    lua_pushinteger(L, idx);
    return 1;
}

/* name(ifindex) -> name | nil, msg, errno */
static int k_name(lua_State *L)
{
    char buf[IF_NAMESIZE];
    lua_Integer idx = luaL_checkinteger(L, 1);
    if (if_indextoname((unsigned)idx, buf) == NULL) {
        lua_pushfstring(L, "#%I", idx);
        return vnet_pusherr(L, luaL_optstring(L, 2, "link"),
                            lua_tostring(L, -1), errno, NULL);
    }
    lua_pushstring(L, buf);
    return 1;
}

/* mtu(name, op) -> mtu | nil, msg, errno (SIOCGIFMTU in this namespace) */
static int k_mtu(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *op = luaL_optstring(L, 2, "link.mtu");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vnet_pusherr(L, op, name, errno, NULL);
    int r = ioctl(fd, SIOCGIFMTU, &ifr), e = errno;
    close(fd);
    if (r < 0)
        return vnet_pusherr(L, op, name, e, NULL);
    lua_pushinteger(L, ifr.ifr_mtu);
    return 1;
}

/* change(ifindex, up|nil, mtu|nil, op, obj) */
static int k_change(lua_State *L)
{
    int ifindex = (int)luaL_checkinteger(L, 1);
    int has_up = !lua_isnil(L, 2), up = lua_toboolean(L, 2);
    lua_Integer mtu = luaL_optinteger(L, 3, -1);
    const char *op = luaL_checkstring(L, 4), *obj = luaL_checkstring(L, 5);
    char ext[256];
    struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
    struct nl_msg *msg = NULL;
    int r = -ENOMEM;
    if (orig && chg) {
        rtnl_link_set_ifindex(orig, ifindex);
        if (has_up) {
            if (up) rtnl_link_set_flags(chg, IFF_UP);
            else rtnl_link_unset_flags(chg, IFF_UP);
        }
        if (mtu >= 0)
            rtnl_link_set_mtu(chg, (unsigned)mtu);
        r = rtnl_link_build_change_request(orig, chg, 0, &msg) < 0 ? -EINVAL
                                                                   : 0;
    }
    rtnl_link_put(orig);
    rtnl_link_put(chg);
    if (r == 0)
        r = vnet_nl_request(msg, ext, sizeof ext);
    return result(L, r, op, obj, ext);
}

/* addr(cmd "add"|"del", ifindex, "a.b.c.d/len", peer|nil, op, obj) */
static int k_addr(lua_State *L)
{
    static const char *const cmds[] = {"add", "del", NULL};
    int del = luaL_checkoption(L, 1, NULL, cmds);
    int ifindex = (int)luaL_checkinteger(L, 2);
    const char *local = luaL_checkstring(L, 3);
    const char *peer = luaL_optstring(L, 4, NULL);
    const char *op = luaL_checkstring(L, 5), *obj = luaL_checkstring(L, 6);
    struct nl_addr *a = NULL, *p = NULL;
    if (nl_addr_parse(local, AF_UNSPEC, &a) < 0 ||
        (nl_addr_get_family(a) != AF_INET && nl_addr_get_family(a) != AF_INET6)) {
        nl_addr_put(a);
        return luaL_error(L, "%s %s: '%s' is not an IPv4 or IPv6 address",
                          op, obj, local);
    }
    if (peer && (nl_addr_parse(peer, nl_addr_get_family(a), &p) < 0)) {
        nl_addr_put(a);
        return luaL_error(L, "%s %s: peer '%s' is not an address of the same "
                          "family", op, obj, peer);
    }
    struct rtnl_addr *ra = rtnl_addr_alloc();
    struct nl_msg *msg = NULL;
    int r = -ENOMEM;
    char ext[256] = "";
    if (ra) {
        rtnl_addr_set_ifindex(ra, ifindex);
        rtnl_addr_set_family(ra, nl_addr_get_family(a));
        rtnl_addr_set_local(ra, a);
        if (p) rtnl_addr_set_peer(ra, p);
        r = del ? rtnl_addr_build_delete_request(ra, 0, &msg)
                : rtnl_addr_build_add_request(ra, NLM_F_CREATE | NLM_F_EXCL,
                                              &msg);
        r = r < 0 ? -EINVAL : vnet_nl_request(msg, ext, sizeof ext);
    }
    rtnl_addr_put(ra);
    nl_addr_put(a);
    nl_addr_put(p);
    return result(L, r, op, obj, ext);
}

static void setaddr(lua_State *L, const char *field, struct nl_addr *a,
                    int withlen)
{
    char buf[INET6_ADDRSTRLEN + 8];
    if (a == NULL)
        return;
    if (inet_ntop(nl_addr_get_family(a), nl_addr_get_binary_addr(a), buf,
                  sizeof buf) == NULL)
        return;
    if (withlen)
        lua_pushfstring(L, "%s/%d", buf, (int)nl_addr_get_prefixlen(a));
    else
        lua_pushstring(L, buf);
    lua_setfield(L, -2, field);
}

/* addrs(ifindex | 0 for all, op, obj) -> { {family=, address=, prefixlen=,
 * cidr=, peer=, broadcast=, scope=, label=, ifindex=}, ... } */
static int k_addrs(lua_State *L)
{
    int ifindex = (int)luaL_optinteger(L, 1, 0);
    const char *op = luaL_optstring(L, 2, "link.addrs");
    const char *obj = luaL_optstring(L, 3, "");
    int err = 0;
    struct nl_sock *s = vnet_nl_sock(&err);
    if (s == NULL)
        return vnet_pusherr(L, op, obj, err, NULL);
    struct nl_cache *cache = NULL;
    int r = -NLE_DUMP_INTR;
    for (int tries = 0; r == -NLE_DUMP_INTR && tries < 10; tries++)
        r = rtnl_addr_alloc_cache(s, &cache); /* retried if interrupted */
    if (r < 0)
        return vnet_pusherr(L, op, obj, EIO, nl_geterror(r));
    lua_newtable(L);
    int i = 0;
    for (struct nl_object *o = nl_cache_get_first(cache); o;
         o = nl_cache_get_next(o)) {
        struct rtnl_addr *a = (struct rtnl_addr *)o;
        if (ifindex && rtnl_addr_get_ifindex(a) != ifindex)
            continue;
        char sc[32];
        lua_createtable(L, 0, 9);
        int fam = rtnl_addr_get_family(a);
        lua_pushstring(L, fam == AF_INET6 ? "inet6" : "inet");
        lua_setfield(L, -2, "family");
        setaddr(L, "address", rtnl_addr_get_local(a), 0);
        setaddr(L, "cidr", rtnl_addr_get_local(a), 1);
        lua_pushinteger(L, rtnl_addr_get_prefixlen(a));
        lua_setfield(L, -2, "prefixlen");
        setaddr(L, "peer", rtnl_addr_get_peer(a), 0);
        setaddr(L, "broadcast", rtnl_addr_get_broadcast(a), 0);
        lua_pushstring(L, rtnl_scope2str(rtnl_addr_get_scope(a), sc, sizeof sc));
        lua_setfield(L, -2, "scope");
        if (rtnl_addr_get_label(a)) {
            lua_pushstring(L, rtnl_addr_get_label(a));
            lua_setfield(L, -2, "label");
        }
        lua_pushinteger(L, rtnl_addr_get_ifindex(a));
        lua_setfield(L, -2, "ifindex");
        lua_rawseti(L, -2, ++i);
    }
    nl_cache_free(cache);
    return 1;
}

int luaopen_vnet_link_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"index", k_index}, {"name", k_name}, {"mtu", k_mtu}, {"change", k_change},
        {"addr", k_addr}, {"addrs", k_addrs},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    return 1;
}
