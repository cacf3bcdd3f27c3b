/*
 * nla.c - vnet.nl.core: netlink attributes between Lua and the wire.
 *
 * The link kinds are described in Lua (lua/vnet/<kind>.lua): each option
 * becomes an item {type, fmt, value}, and vnet_nla_put_items() writes the
 * items into a message with libnl's nla_put family. Reading back is the
 * other way round: attrs() splits an attribute blob (IFLA_INFO_DATA) into
 * {type, payload} pairs that the kind's Lua description decodes.
 *
 * Also here: address text <-> bytes (pton/ntop, MAC addresses), the
 * namespace id of a namespace fd (RTM_GETNSID), and the dump-interrupt test
 * hook of nl.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <net/if.h>

#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "netlink/nl.h"

static int put_items(lua_State *L, int idx, struct nl_msg *msg, char *err,
                     size_t n);

/* struct ifinfomsg plus name/address/mtu/txqueuelen/netns_fd, for a nested
 * link such as a veth's peer (VETH_INFO_PEER). */
static int put_ifinfo(lua_State *L, int idx, struct nl_msg *msg, char *err,
                      size_t n)
{
    int top = lua_gettop(L);
    struct ifinfomsg ifi;
    memset(&ifi, 0, sizeof ifi);
    if (lua_getfield(L, idx, "up") != LUA_TNIL && lua_toboolean(L, -1)) {
        ifi.ifi_flags = IFF_UP;
        ifi.ifi_change = IFF_UP;
    }
    lua_pop(L, 1);
    if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0)
        goto full;
    if (lua_getfield(L, idx, "name") == LUA_TSTRING &&
        nla_put_string(msg, IFLA_IFNAME, lua_tostring(L, -1)) < 0)
        goto full;
    lua_pop(L, 1);
    size_t alen;
    if (lua_getfield(L, idx, "address") == LUA_TSTRING) {
        const char *a = lua_tolstring(L, -1, &alen);
        if (nla_put(msg, IFLA_ADDRESS, (int)alen, a) < 0)
            goto full;
    }
    lua_pop(L, 1);
    static const struct { const char *key; int type; } u32s[] = {
        {"mtu", IFLA_MTU}, {"txqueuelen", IFLA_TXQLEN},
        {"netns_fd", IFLA_NET_NS_FD}, {"numtxqueues", IFLA_NUM_TX_QUEUES},
        {"numrxqueues", IFLA_NUM_RX_QUEUES}, {NULL, 0}
    };
    for (int i = 0; u32s[i].key; i++) {
        if (lua_getfield(L, idx, u32s[i].key) == LUA_TNUMBER &&
            nla_put_u32(msg, u32s[i].type, (uint32_t)lua_tointeger(L, -1)) < 0)
            goto full;
        lua_pop(L, 1);
    }
    return 0;
full:
    lua_settop(L, top);
    snprintf(err, n, "message too large");
    return -1;
}

/* One item {type, fmt, value} at the top of the stack. */
static int put_item(lua_State *L, struct nl_msg *msg, char *err, size_t n)
{
    int it = lua_gettop(L);
    lua_rawgeti(L, it, 1);
    lua_rawgeti(L, it, 2);
    lua_rawgeti(L, it, 3);
    int type = (int)lua_tointeger(L, it + 1);
    const char *fmt = lua_tostring(L, it + 2);
    int v = it + 3, r = 0;
    if (fmt == NULL) {
        snprintf(err, n, "attribute %d has no format", type);
        r = -1;
    } else if (strcmp(fmt, "u8") == 0) {
        r = nla_put_u8(msg, type, (uint8_t)lua_tointeger(L, v));
    } else if (strcmp(fmt, "u16") == 0) {
        r = nla_put_u16(msg, type, (uint16_t)lua_tointeger(L, v));
    } else if (strcmp(fmt, "u32") == 0) {
        r = nla_put_u32(msg, type, (uint32_t)lua_tointeger(L, v));
    } else if (strcmp(fmt, "s32") == 0) {
        r = nla_put_s32(msg, type, (int32_t)lua_tointeger(L, v));
    } else if (strcmp(fmt, "u64") == 0) {
        r = nla_put_u64(msg, type, (uint64_t)lua_tointeger(L, v));
    } else if (strcmp(fmt, "be16") == 0) {
        r = nla_put_u16(msg, type, htons((uint16_t)lua_tointeger(L, v)));
    } else if (strcmp(fmt, "be32") == 0) {
        r = nla_put_u32(msg, type, htonl((uint32_t)lua_tointeger(L, v)));
    } else if (strcmp(fmt, "flag") == 0) {
        r = nla_put_flag(msg, type);
    } else if (strcmp(fmt, "string") == 0) {
        r = nla_put_string(msg, type, luaL_optstring(L, v, ""));
    } else if (strcmp(fmt, "bytes") == 0) {
        size_t len = 0;
        const char *b = lua_tolstring(L, v, &len);
        r = nla_put(msg, type, (int)len, b ? b : "");
    } else if (strcmp(fmt, "nest") == 0 || strcmp(fmt, "ifinfo") == 0) {
        struct nlattr *nest = nla_nest_start(msg, type);
        if (nest == NULL)
            r = -1;
        else if (!lua_istable(L, v))
            r = (snprintf(err, n, "attribute %d: nested value must be a "
                          "table", type), -2);
        else if (fmt[0] == 'n')
            r = put_items(L, v, msg, err, n) < 0 ? -2 : 0;
        else
            r = put_ifinfo(L, v, msg, err, n) < 0 ? -2 : 0;
        if (r == 0)
            nla_nest_end(msg, nest);
    } else {
        snprintf(err, n, "attribute %d: unknown format '%s'", type, fmt);
        r = -2;
    }
    lua_settop(L, it - 1);
    if (r == -1)
        snprintf(err, n, "message too large");
    return r < 0 ? -1 : 0;
}

static int put_items(lua_State *L, int idx, struct nl_msg *msg, char *err,
                     size_t n)
{
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 8, "nested attributes");
    for (lua_Integer i = 1;; i++) {
        if (lua_rawgeti(L, idx, i) != LUA_TTABLE) {
            lua_pop(L, 1);
            return 0;
        }
        if (put_item(L, msg, err, n) < 0)
            return -1;
    }
}

int vnet_nla_put_items(lua_State *L, int idx, struct nl_msg *msg, char *err,
                       size_t n)
{
    err[0] = '\0';
    return put_items(L, idx, msg, err, n);
}

/* attrs(bytes [, offset]) -> { {type, payload}, ... } */
static int l_attrs(lua_State *L)
{
    size_t len;
    const char *b = luaL_checklstring(L, 1, &len);
    lua_Integer off = luaL_optinteger(L, 2, 0);
    luaL_argcheck(L, off >= 0 && (size_t)off <= len, 2, "offset out of range");
    lua_newtable(L);
    int rem = (int)(len - (size_t)off), i = 0;
    for (struct nlattr *a = (struct nlattr *)(b + off); nla_ok(a, rem);
         a = nla_next(a, &rem)) {
        lua_createtable(L, 2, 0);
        lua_pushinteger(L, nla_type(a));
        lua_rawseti(L, -2, 1);
        lua_pushlstring(L, nla_data(a), (size_t)nla_len(a));
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, ++i);
    }
    return 1;
}

/* pton("10.0.0.1" | "2001:db8::1") -> "inet"|"inet6", bytes | nil */
static int l_pton(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    unsigned char buf[16];
    int fam, plen;
    if (vnet_parse_cidr(s, len, &fam, buf, &plen) < 0 || plen >= 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, fam == AF_INET ? "inet" : "inet6");
    lua_pushlstring(L, (char *)buf, fam == AF_INET ? 4 : 16);
    return 2;
}

/* cidr("10.0.0.0/24" | "10.0.0.1" | v6...) -> "inet"|"inet6", bytes,
 * prefix length (nil without "/len") | nil: vnet_parse_cidr */
static int l_cidr(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    unsigned char buf[16];
    int fam, plen;
    if (vnet_parse_cidr(s, len, &fam, buf, &plen) < 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, fam == AF_INET ? "inet" : "inet6");
    lua_pushlstring(L, (char *)buf, fam == AF_INET ? 4 : 16);
    if (plen < 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, plen);
    return 3;
}

/* ntop(4 or 16 bytes) -> text | nil */
static int l_ntop(lua_State *L)
{
    size_t len;
    const char *b = luaL_checklstring(L, 1, &len);
    char out[INET6_ADDRSTRLEN];
    if ((len != 4 && len != 16) ||
        inet_ntop(len == 4 ? AF_INET : AF_INET6, b, out, sizeof out) == NULL) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, out);
    return 1;
}

/* mac("02:00:00:00:00:01" | "02-00-00-00-00-01") -> 6 bytes | nil: the
 * syntax of the header views (vnet_parse_mac) */
static int l_mac(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    unsigned char b[6];
    if (strlen(s) != len || !vnet_parse_mac(s, b)) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, (char *)b, 6);
    return 1;
}

/* hwaddr(bytes) -> "aa:bb:..." (any length) */
static int l_hwaddr(lua_State *L)
{
    size_t len;
    const unsigned char *b = (const unsigned char *)luaL_checklstring(L, 1, &len);
    vnet_nl_pushmac(L, b, (int)len);
    return 1;
}

static int got_nsid(struct nlmsghdr *h, void *arg)
{
    struct nlattr *tb[NETNSA_MAX + 1];
    if (nlmsg_parse(h, sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) == 0 &&
        tb[NETNSA_NSID])
        *(int *)arg = (int)nla_get_s32(tb[NETNSA_NSID]);
    return 0;
}

/* nsid(fd) -> the id the current namespace gives the namespace of fd (-1
 * when it has none) | nil, msg, errno */
static int l_nsid(lua_State *L)
{
    int fd = vnet_tofd(L, 1);
    struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNSID, 0);
    if (msg == NULL ||
        nlmsg_append(msg, &g, sizeof g, NLMSG_ALIGNTO) < 0 ||
        nla_put_u32(msg, NETNSA_FD, (uint32_t)fd) < 0) {
        nlmsg_free(msg);
        return vnet_pusherr(L, "netns.id", "", ENOMEM, NULL);
    }
    int id = -1;
    char ext[256];
    int r = vnet_nl_exchange(msg, got_nsid, NULL, &id, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, "netns.nsid", "", r, ext);
    lua_pushinteger(L, id);
    return 1;
}

static int l_inject(lua_State *L)
{
    vnet_nl_inject_intr((int)luaL_checkinteger(L, 1));
    return 0;
}

int luaopen_vnet_nl_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"attrs", l_attrs}, {"pton", l_pton}, {"cidr", l_cidr}, {"ntop", l_ntop},
        {"mac", l_mac}, {"hwaddr", l_hwaddr}, {"nsid", l_nsid},
        {"_inject_dump_intr", l_inject},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    vnet_err_funcs(L);
    /* errno: the names of the errno values vnet returns, for comparing
     * (eno == vnet.errno.EEXIST) instead of bare numbers */
    static const struct { const char *name; int v; } errs[] = {
#define E(x) {#x, x}
        E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
        E(EBADF), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY),
        E(EEXIST), E(ENODEV), E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE),
        E(EMFILE), E(ENOSPC), E(EPIPE), E(ERANGE), E(ENAMETOOLONG),
        E(ENOSYS), E(ENOTEMPTY), E(ENODATA), E(EPROTONOSUPPORT),
        E(EOPNOTSUPP), E(EAFNOSUPPORT), E(EADDRINUSE), E(EADDRNOTAVAIL),
        E(ENETDOWN), E(ENETUNREACH), E(ENOBUFS), E(EMSGSIZE), E(ENOTCONN),
        E(ETIMEDOUT), E(ECONNREFUSED), E(EHOSTUNREACH), E(EALREADY),
        E(EINPROGRESS), E(ENOTSUP), E(ENOTTY), E(EXDEV), E(ELOOP),
#undef E
    };
    lua_createtable(L, 0, (int)(sizeof errs / sizeof errs[0]));
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        lua_pushinteger(L, errs[i].v);
        lua_setfield(L, -2, errs[i].name);
    }
    lua_setfield(L, -2, "errno");
    return 1;
}
