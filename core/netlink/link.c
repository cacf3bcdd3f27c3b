/*
 * link.c - vnet.link.core: links through rtnetlink.
 *
 * get/list read links (RTM_GETLINK, a dump retried when interrupted) into
 * plain tables; create/set/delete build RTM_NEWLINK/RTM_DELLINK with
 * libnl-route (rtnl_link_build_*_request) and append the kind's
 * IFLA_LINKINFO from the item lists that lua/vnet/<kind>.lua describes.
 * lua/vnet/link.lua turns the tables into link objects.
 *
 * Every function takes the operation and object names to put in an error
 * and returns its result | nil, "op obj: reason (kernel's words)", errno.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/rtnl.h>

#include "netlink/nl.h"

#ifndef IFF_LOWER_UP /* <linux/if.h> has them, but clashes with <net/if.h> */
#define IFF_LOWER_UP 0x10000
#define IFF_DORMANT 0x20000
#define IFF_ECHO 0x40000
#endif

static int result(lua_State *L, int r, const char *op, const char *obj,
                  const char *ext)
{
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    lua_pushboolean(L, 1);
    return 1;
}

/* index(name, op) -> ifindex | nil, msg, errno */
static int k_index(lua_State *L)
{
    const char *op = luaL_optstring(L, 2, "link");
    const char *name = vnet_checkname(L, 1, IFNAMSIZ - 1, op, "name");
    unsigned idx = if_nametoindex(name);
    if (idx == 0)
        return vnet_pusherr(L, op, name, errno, NULL);
    lua_pushinteger(L, idx);
    return 1;
}

/* name(ifindex, op) -> name | nil, msg, errno */
static int k_name(lua_State *L)
{
    char buf[IF_NAMESIZE];
    const char *op = luaL_optstring(L, 2, "link");
    int idx = vnet_checkifindex(L, 1, op);
    if (if_indextoname((unsigned)idx, buf) == NULL) {
        int e = errno;
        lua_pushfstring(L, "#%d", idx);
        return vnet_pusherr(L, op, lua_tostring(L, -1), e, NULL);
    }
    lua_pushstring(L, buf);
    return 1;
}

/* mtu(name, op) -> mtu | nil, msg, errno (SIOCGIFMTU in this namespace) */
static int k_mtu(lua_State *L)
{
    const char *op = luaL_optstring(L, 2, "link.mtu");
    const char *name = vnet_checkname(L, 1, IFNAMSIZ - 1, op, "name");
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

/* ---- reading: one RTM_NEWLINK message -> a Lua table ------------------ */

static const struct { unsigned bit; const char *name; } flagnames[] = {
    {IFF_LOOPBACK, "LOOPBACK"}, {IFF_BROADCAST, "BROADCAST"},
    {IFF_POINTOPOINT, "POINTOPOINT"}, {IFF_MULTICAST, "MULTICAST"},
    {IFF_NOARP, "NOARP"}, {IFF_ALLMULTI, "ALLMULTI"},
    {IFF_PROMISC, "PROMISC"}, {IFF_MASTER, "MASTER"}, {IFF_SLAVE, "SLAVE"},
    {IFF_DEBUG, "DEBUG"}, {IFF_DYNAMIC, "DYNAMIC"},
    {IFF_AUTOMEDIA, "AUTOMEDIA"}, {IFF_PORTSEL, "PORTSEL"},
    {IFF_NOTRAILERS, "NOTRAILERS"}, {IFF_UP, "UP"},
    {IFF_LOWER_UP, "LOWER_UP"}, {IFF_DORMANT, "DORMANT"}, {IFF_ECHO, "ECHO"},
    {0, NULL}
};

static const char *const operstates[] = {
    "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT",
    "UP",
};

static void setint(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* A link-layer address as text: MAC-style, or dotted for IP tunnels. */
static void sethw(lua_State *L, const char *k, struct nlattr *a)
{
    int len = nla_len(a);
    char out[INET6_ADDRSTRLEN];
    if (len == 0)
        return;
    if ((len == 4 || len == 16) &&
        inet_ntop(len == 4 ? AF_INET : AF_INET6, nla_data(a), out, sizeof out))
        lua_pushstring(L, out);
    else
        vnet_nl_pushmac(L, nla_data(a), len);
    lua_setfield(L, -2, k);
}

static void setstats(lua_State *L, struct nlattr *a)
{
    struct rtnl_link_stats64 st;
    memset(&st, 0, sizeof st);
    memcpy(&st, nla_data(a),
           (size_t)nla_len(a) < sizeof st ? (size_t)nla_len(a) : sizeof st);
    lua_createtable(L, 0, 12);
    setint(L, "rx_packets", (lua_Integer)st.rx_packets);
    setint(L, "tx_packets", (lua_Integer)st.tx_packets);
    setint(L, "rx_bytes", (lua_Integer)st.rx_bytes);
    setint(L, "tx_bytes", (lua_Integer)st.tx_bytes);
    setint(L, "rx_errors", (lua_Integer)st.rx_errors);
    setint(L, "tx_errors", (lua_Integer)st.tx_errors);
    setint(L, "rx_dropped", (lua_Integer)st.rx_dropped);
    setint(L, "tx_dropped", (lua_Integer)st.tx_dropped);
    setint(L, "multicast", (lua_Integer)st.multicast);
    setint(L, "collisions", (lua_Integer)st.collisions);
    lua_setfield(L, -2, "stats");
}

static void setlinkinfo(lua_State *L, struct nlattr *li)
{
    struct nlattr *tb[IFLA_INFO_MAX + 1];
    if (nla_parse_nested(tb, IFLA_INFO_MAX, li, NULL) < 0)
        return;
    static const struct { int type; const char *key; int str; } f[] = {
        {IFLA_INFO_KIND, "kind", 1}, {IFLA_INFO_DATA, "info_data", 0},
        {IFLA_INFO_SLAVE_KIND, "slave_kind", 1},
        {IFLA_INFO_SLAVE_DATA, "slave_data", 0}, {0, NULL, 0}
    };
    for (int i = 0; f[i].key; i++) {
        struct nlattr *a = tb[f[i].type];
        if (a == NULL)
            continue;
        if (f[i].str)
            lua_pushstring(L, nla_get_string(a));
        else
            lua_pushlstring(L, nla_data(a), (size_t)nla_len(a));
        lua_setfield(L, -2, f[i].key);
    }
}

void vnet_link_push(lua_State *L, struct nlmsghdr *h)
{
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    struct nlattr *tb[IFLA_MAX + 1];
    lua_createtable(L, 0, 24);
    if (nlmsg_parse(h, sizeof *ifi, tb, IFLA_MAX, NULL) < 0)
        memset(tb, 0, sizeof tb);
    setint(L, "ifindex", ifi->ifi_index);
    if (tb[IFLA_IFNAME]) {
        lua_pushstring(L, nla_get_string(tb[IFLA_IFNAME]));
        lua_setfield(L, -2, "name");
    }
    lua_newtable(L);
    for (int i = 0, n = 0; flagnames[i].name; i++) {
        if (ifi->ifi_flags & flagnames[i].bit) {
            lua_pushstring(L, flagnames[i].name);
            lua_rawseti(L, -2, ++n);
        }
    }
    lua_setfield(L, -2, "flags");
    lua_pushboolean(L, (ifi->ifi_flags & IFF_UP) != 0);
    lua_setfield(L, -2, "up");
    char buf[32];
    /* iproute2's words where they differ from libnl's */
    lua_pushstring(L, ifi->ifi_type == ARPHRD_NONE ? "none"
                      : ifi->ifi_type == ARPHRD_IPGRE ? "gre"
                      : ifi->ifi_type == ARPHRD_IP6GRE ? "gre6"
                      : nl_llproto2str(ifi->ifi_type, buf, sizeof buf));
    lua_setfield(L, -2, "link_type");
    static const struct { int type; const char *key; } u32s[] = {
        {IFLA_MTU, "mtu"}, {IFLA_MIN_MTU, "min_mtu"}, {IFLA_MAX_MTU, "max_mtu"},
        {IFLA_TXQLEN, "txqueuelen"}, {IFLA_MASTER, "master"},
        {IFLA_LINK, "parent"}, {IFLA_PROMISCUITY, "promiscuity"},
        {IFLA_GROUP, "devgroup"}, {IFLA_NUM_TX_QUEUES, "numtxqueues"},
        {IFLA_NUM_RX_QUEUES, "numrxqueues"}, {0, NULL}
    };
    for (int i = 0; u32s[i].key; i++)
        if (tb[u32s[i].type])
            setint(L, u32s[i].key, nla_get_u32(tb[u32s[i].type]));
    if (tb[IFLA_LINK_NETNSID])
        setint(L, "netns_id", nla_get_s32(tb[IFLA_LINK_NETNSID]));
    if (tb[IFLA_ADDRESS]) sethw(L, "address", tb[IFLA_ADDRESS]);
    if (tb[IFLA_BROADCAST]) sethw(L, "broadcast", tb[IFLA_BROADCAST]);
    if (tb[IFLA_PERM_ADDRESS]) sethw(L, "perm_address", tb[IFLA_PERM_ADDRESS]);
    if (tb[IFLA_OPERSTATE]) {
        unsigned st = nla_get_u8(tb[IFLA_OPERSTATE]);
        lua_pushstring(L, st < sizeof operstates / sizeof operstates[0]
                              ? operstates[st] : "UNKNOWN");
        lua_setfield(L, -2, "operstate");
    }
    if (tb[IFLA_CARRIER]) {
        lua_pushboolean(L, nla_get_u8(tb[IFLA_CARRIER]) != 0);
        lua_setfield(L, -2, "carrier");
    }
    if (tb[IFLA_PARENT_DEV_NAME]) {
        lua_pushstring(L, nla_get_string(tb[IFLA_PARENT_DEV_NAME]));
        lua_setfield(L, -2, "parent_dev");
    }
    if (tb[IFLA_PHYS_PORT_NAME]) {
        lua_pushstring(L, nla_get_string(tb[IFLA_PHYS_PORT_NAME]));
        lua_setfield(L, -2, "port_name");
    }
    if (tb[IFLA_STATS64]) setstats(L, tb[IFLA_STATS64]);
    if (tb[IFLA_LINKINFO]) setlinkinfo(L, tb[IFLA_LINKINFO]);
}

static int keep_link(struct nlmsghdr *h, void *arg)
{
    (void)arg;
    return h->nlmsg_type == RTM_NEWLINK;
}

static const vnet_nl_list link_list = {keep_link, vnet_link_push, NULL};

/* get(ifindex | name, op, obj [, target_nsid]) -> table | nil, msg, errno */
static int k_get(lua_State *L)
{
    const char *op = luaL_checkstring(L, 2), *obj = luaL_checkstring(L, 3);
    int ifindex = lua_type(L, 1) == LUA_TNUMBER ? vnet_checkifindex(L, 1, op) : 0;
    const char *name = ifindex ? NULL
                               : vnet_checkname(L, 1, IFNAMSIZ - 1, op, "name");
    lua_Integer nsid = luaL_optinteger(L, 4, -1);
    struct nl_msg *msg = NULL;
    char ext[256] = "";
    if (rtnl_link_build_get_request(ifindex, name, &msg) < 0 ||
        (nsid >= 0 && nla_put_s32(msg, IFLA_TARGET_NETNSID, (int)nsid) < 0)) {
        nlmsg_free(msg);
        return vnet_pusherr(L, op, obj, ENOMEM, NULL);
    }
    int r = vnet_nl_collect(L, msg, &link_list, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    lua_rawgeti(L, -1, 1);
    if (lua_isnil(L, -1))
        return vnet_pusherr(L, op, obj, ENODEV, NULL);
    return 1;
}

/* list(op) -> { table, ... } | nil, msg, errno */
static int k_list(lua_State *L)
{
    const char *op = luaL_optstring(L, 1, "link.list");
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    return vnet_nl_dump(L, RTM_GETLINK, &ifi, sizeof ifi, &link_list, op, "");
}

/* ---- writing: a spec table -> RTM_NEWLINK ----------------------------- */

/* spec[key] in lo..hi into *out: 1, or 0 when nil (vnet_optfield). */
static int field(lua_State *L, int idx, const char *key, const char *op,
                 const char *obj, lua_Integer lo, lua_Integer hi,
                 lua_Integer *out)
{
    *out = vnet_optfield(L, idx, key, op, obj, lo, hi, lo - 1);
    return *out != lo - 1;
}

/* Fill the generic attributes of spec (at idx) into l; raises on a value
 * out of the range of what it becomes (u32 attributes, ifindexes). */
static void fill(lua_State *L, int idx, struct rtnl_link *l, const char *op,
                 const char *obj)
{
    lua_Integer v;
    const char *nm = NULL;
    if (lua_getfield(L, idx, "name") == LUA_TSTRING)
        nm = vnet_checkname(L, -1, IFNAMSIZ - 1, op,
                            "option 'name'");
    if (l && nm)
        rtnl_link_set_name(l, nm);
    lua_pop(L, 1);
    if (field(L, idx, "mtu", op, obj, 0, 0x7fffffff, &v) && l)
        rtnl_link_set_mtu(l, (unsigned)v);
    if (field(L, idx, "txqueuelen", op, obj, 0, 0xffffffff, &v) && l)
        rtnl_link_set_txqlen(l, (unsigned)v);
    if (field(L, idx, "parent", op, obj, 1, 0x7fffffff, &v) && l)
        rtnl_link_set_link(l, (int)v);
    if (field(L, idx, "master", op, obj, 0, 0x7fffffff, &v) && l) /* 0: none */
        rtnl_link_set_master(l, (int)v);
    if (field(L, idx, "netns_fd", op, obj, 0, 0x7fffffff, &v) && l)
        rtnl_link_set_ns_fd(l, (int)v);
    if (field(L, idx, "numtxqueues", op, obj, 1, 0xffffffff, &v) && l)
        rtnl_link_set_num_tx_queues(l, (uint32_t)v);
    if (field(L, idx, "numrxqueues", op, obj, 1, 0xffffffff, &v) && l)
        rtnl_link_set_num_rx_queues(l, (uint32_t)v);
    if (field(L, idx, "group", op, obj, 0, 0xffffffff, &v) && l) /* vnet.session's */
        rtnl_link_set_group(l, (uint32_t)v);
    if (l == NULL)
        return;
    if (lua_getfield(L, idx, "up") == LUA_TBOOLEAN) {
        if (lua_toboolean(L, -1)) rtnl_link_set_flags(l, IFF_UP);
        else rtnl_link_unset_flags(l, IFF_UP);
    }
    lua_pop(L, 1);
    size_t len;
    if (lua_getfield(L, idx, "address") == LUA_TSTRING) {
        const char *b = lua_tolstring(L, -1, &len);
        struct nl_addr *a = nl_addr_build(AF_UNSPEC, b, len);
        if (a) {
            rtnl_link_set_addr(l, a);
            nl_addr_put(a);
        }
    }
    lua_pop(L, 1);
}

/* Append IFLA_LINKINFO {kind, data, slave_kind, slave_data} from spec. */
static int linkinfo(lua_State *L, int idx, struct nl_msg *msg, char *err,
                    size_t n)
{
    int top = lua_gettop(L), r = 0;
    lua_getfield(L, idx, "kind");
    lua_getfield(L, idx, "data");
    lua_getfield(L, idx, "slave_kind");
    lua_getfield(L, idx, "slave_data");
    if (lua_isstring(L, top + 1) || lua_isstring(L, top + 3)) {
        struct nlattr *li = nla_nest_start(msg, IFLA_LINKINFO);
        r = li ? 0 : -1;
        if (r == 0 && lua_isstring(L, top + 1))
            r = nla_put_string(msg, IFLA_INFO_KIND, lua_tostring(L, top + 1));
        if (r == 0 && lua_istable(L, top + 2)) {
            struct nlattr *d = nla_nest_start(msg, IFLA_INFO_DATA);
            r = d && vnet_nla_put_items(L, top + 2, msg, err, n) == 0 ? 0 : -1;
            if (r == 0) nla_nest_end(msg, d);
        }
        if (r == 0 && lua_isstring(L, top + 3))
            r = nla_put_string(msg, IFLA_INFO_SLAVE_KIND,
                               lua_tostring(L, top + 3));
        if (r == 0 && lua_istable(L, top + 4)) {
            struct nlattr *d = nla_nest_start(msg, IFLA_INFO_SLAVE_DATA);
            r = d && vnet_nla_put_items(L, top + 4, msg, err, n) == 0 ? 0 : -1;
            if (r == 0) nla_nest_end(msg, d);
        }
        if (r == 0) nla_nest_end(msg, li);
    }
    lua_settop(L, top);
    if (r < 0 && err[0] == '\0')
        snprintf(err, n, "message too large");
    return r;
}

/* Build the RTM_NEWLINK for spec (at sp): a create when ifindex is 0, else
 * a change of ifindex. Call vnet_link_check first (it raises on a bad
 * field); this does not raise. 0 and *out, or -1 with the reason in err
 * (empty: out of memory). */
int vnet_link_build(lua_State *L, int sp, int ifindex, const char *op,
                    const char *obj, struct nl_msg **out, char *err, size_t n)
{
    struct rtnl_link *l = rtnl_link_alloc(), *orig = NULL;
    struct nl_msg *msg = NULL;
    int r = l ? 0 : -ENOMEM;
    err[0] = '\0';
    if (r == 0) {
        fill(L, sp, l, op, obj);
        if (ifindex == 0) {
            r = rtnl_link_build_add_request(l, NLM_F_CREATE | NLM_F_EXCL, &msg);
        } else if ((orig = rtnl_link_alloc()) == NULL) {
            r = -ENOMEM;
        } else {
            rtnl_link_set_ifindex(orig, ifindex);
            r = rtnl_link_build_change_request(orig, l, 0, &msg);
        }
        if (r < 0)
            snprintf(err, n, "cannot build the request: %s", nl_geterror(r));
    }
    rtnl_link_put(l);
    rtnl_link_put(orig);
    if (r == 0 && linkinfo(L, sp, msg, err, n) < 0)
        r = -1;
    if (r < 0) {
        nlmsg_free(msg);
        return -1;
    }
    *out = msg;
    return 0;
}

void vnet_link_check(lua_State *L, int sp, const char *op, const char *obj)
{
    luaL_checktype(L, sp, LUA_TTABLE);
    fill(L, sp, NULL, op, obj); /* raises on a bad field, nothing held */
}

/* Build (create or change), send, push the result. */
static int send_link(lua_State *L, int create)
{
    int sp = create ? 1 : 2;
    luaL_checktype(L, sp, LUA_TTABLE);
    const char *op = luaL_checkstring(L, sp + 1);
    const char *obj = luaL_checkstring(L, sp + 2);
    int ifindex = create ? 0 : vnet_checkifindex(L, 1, op);
    vnet_link_check(L, sp, op, obj);
    char ext[256] = "", err[128] = "";
    struct nl_msg *msg = NULL;
    if (vnet_link_build(L, sp, ifindex, op, obj, &msg, err, sizeof err) < 0) {
        if (err[0])
            return vnet_error(L, "%s %s: %s", op, obj, err);
        return vnet_pusherr(L, op, obj, ENOMEM, NULL);
    }
    int r = vnet_nl_request(msg, ext, sizeof ext);
    return result(L, r, op, obj, ext);
}

/* create(spec, op, obj) -> true | nil, msg, errno. spec: name, kind, mtu,
 * address (bytes), txqueuelen, parent, master, netns_fd, up, numtxqueues,
 * numrxqueues, data (items), slave_kind, slave_data (items). */
static int k_create(lua_State *L)
{
    return send_link(L, 1);
}

/* set(ifindex, spec, op, obj) -> true | nil, msg, errno; spec as create
 * (master = 0 releases the link from its master). */
static int k_set(lua_State *L)
{
    return send_link(L, 0);
}

/* delete(ifindex, op, obj) -> true | nil, msg, errno */
static int k_delete(lua_State *L)
{
    const char *op = luaL_checkstring(L, 2), *obj = luaL_checkstring(L, 3);
    int ifindex = vnet_checkifindex(L, 1, op);
    struct rtnl_link *l = rtnl_link_alloc();
    struct nl_msg *msg = NULL;
    char ext[256] = "";
    if (l == NULL)
        return vnet_pusherr(L, op, obj, ENOMEM, NULL);
    rtnl_link_set_ifindex(l, ifindex);
    int r = rtnl_link_build_delete_request(l, &msg);
    rtnl_link_put(l);
    if (r < 0)
        return vnet_pusherr(L, op, obj, ENOMEM, NULL);
    r = vnet_nl_request(msg, ext, sizeof ext);
    return result(L, r, op, obj, ext);
}

int luaopen_vnet_link_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"index", k_index}, {"name", k_name}, {"mtu", k_mtu},
        {"get", k_get}, {"list", k_list}, {"create", k_create},
        {"set", k_set}, {"delete", k_delete},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    vnet_brvlan_funcs(L); /* the VLANs of bridge ports */
    return 1;
}
