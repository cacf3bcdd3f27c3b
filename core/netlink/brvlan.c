/*
 * brvlan.c - the VLANs of bridge ports, in vnet.link.core (vlan_change,
 * vlan_list): what `bridge vlan add/del/show` does.
 *
 * A change is an RTM_SETLINK (add) or RTM_DELLINK (del) of family
 * AF_BRIDGE for the port, whose IFLA_AF_SPEC nest holds one
 * IFLA_BRIDGE_VLAN_INFO {flags, vid} per VLAN (the kernel takes several in
 * one message) and, for the bridge device itself, IFLA_BRIDGE_FLAGS =
 * BRIDGE_FLAGS_SELF. The list is an RTM_GETLINK dump of family AF_BRIDGE
 * with IFLA_EXT_MASK = RTEXT_FILTER_BRVLAN: one message per port (and per
 * bridge), every VLAN in its own entry. lua/vnet/bridge.lua is the
 * friendly side (names, checks, the session's undo).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "netlink/nl.h"

/* vlan_change(ifindex, "add"|"del", { {vid =, pvid =, untagged =}, ... },
 * self, op, obj) -> true | nil, msg, errno. self: the bridge device itself
 * rather than a port. vid 1 to 4094 (raises otherwise); at most 512 a
 * message. */
static int k_vlan_change(lua_State *L)
{
    static const char *const cmds[] = {"add", "del", NULL};
    int ifindex = vnet_checkifindex(L, 1, luaL_optstring(L, 5, "bridge.vlan"));
    int del = luaL_checkoption(L, 2, NULL, cmds);
    luaL_checktype(L, 3, LUA_TTABLE);
    int self = lua_toboolean(L, 4);
    const char *op = luaL_checkstring(L, 5), *obj = luaL_checkstring(L, 6);
    lua_Integer n = luaL_len(L, 3);
    if (n < 1 || n > 512)
        return vnet_error(L, "%s %s: between 1 and 512 VLANs a change (got %d)",
                          op, obj, (int)n);
    struct bridge_vlan_info info[512];
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 3, i) != LUA_TTABLE)
            return vnet_error(L, "%s %s: VLAN %d must be a table", op, obj,
                              (int)i);
        int t = lua_gettop(L);
        info[i - 1].vid = (uint16_t)vnet_optfield(L, t, "vid", op, obj, 1,
                                                  4094, 0);
        if (info[i - 1].vid == 0)
            return vnet_error(L, "%s %s: VLAN %d has no vid", op, obj, (int)i);
        uint16_t flags = 0;
        if (lua_getfield(L, t, "pvid") != LUA_TNIL && lua_toboolean(L, -1))
            flags |= BRIDGE_VLAN_INFO_PVID;
        if (lua_getfield(L, t, "untagged") != LUA_TNIL && lua_toboolean(L, -1))
            flags |= BRIDGE_VLAN_INFO_UNTAGGED;
        info[i - 1].flags = flags;
        lua_settop(L, t - 1);
    }
    struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
    struct nl_msg *msg = nlmsg_alloc_simple(del ? RTM_DELLINK : RTM_SETLINK, 0);
    struct nlattr *spec = NULL;
    int r = msg && nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) == 0 &&
                    (spec = nla_nest_start(msg, IFLA_AF_SPEC)) != NULL ? 0 : -1;
    if (r == 0 && self)
        r = nla_put_u16(msg, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF);
    for (lua_Integer i = 0; r == 0 && i < n; i++)
        r = nla_put(msg, IFLA_BRIDGE_VLAN_INFO, sizeof info[i], &info[i]);
    if (r < 0) {
        nlmsg_free(msg);
        return vnet_pusherr(L, op, obj, ENOMEM, NULL);
    }
    nla_nest_end(msg, spec);
    char ext[256] = "";
    r = vnet_nl_request(msg, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    lua_pushboolean(L, 1);
    return 1;
}

static int keep_bridge(struct nlmsghdr *h, void *arg)
{
    (void)arg;
    if (h->nlmsg_type != RTM_NEWLINK ||
        h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
        return 0;
    return ((struct ifinfomsg *)nlmsg_data(h))->ifi_family == AF_BRIDGE;
}

/* { ifindex =, name =, master =, vlans = { {vid =, pvid =, untagged =}, ... } } */
static void push_bridge(lua_State *L, struct nlmsghdr *h)
{
    struct ifinfomsg *ifi = nlmsg_data(h);
    struct nlattr *tb[IFLA_MAX + 1];
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, ifi->ifi_index);
    lua_setfield(L, -2, "ifindex");
    lua_newtable(L);
    if (nlmsg_parse(h, sizeof *ifi, tb, IFLA_MAX, NULL) < 0) {
        lua_setfield(L, -2, "vlans");
        return;
    }
    if (tb[IFLA_IFNAME]) {
        lua_pushstring(L, nla_get_string(tb[IFLA_IFNAME]));
        lua_setfield(L, -3, "name");
    }
    if (tb[IFLA_MASTER]) {
        lua_pushinteger(L, nla_get_u32(tb[IFLA_MASTER]));
        lua_setfield(L, -3, "master");
    }
    if (tb[IFLA_AF_SPEC]) {
        struct nlattr *a;
        int rem, i = 0;
        nla_for_each_nested(a, tb[IFLA_AF_SPEC], rem) {
            if (nla_type(a) != IFLA_BRIDGE_VLAN_INFO ||
                nla_len(a) < (int)sizeof(struct bridge_vlan_info))
                continue;
            const struct bridge_vlan_info *v = nla_data(a);
            lua_createtable(L, 0, 3);
            lua_pushinteger(L, v->vid);
            lua_setfield(L, -2, "vid");
            lua_pushboolean(L, (v->flags & BRIDGE_VLAN_INFO_PVID) != 0);
            lua_setfield(L, -2, "pvid");
            lua_pushboolean(L, (v->flags & BRIDGE_VLAN_INFO_UNTAGGED) != 0);
            lua_setfield(L, -2, "untagged");
            lua_rawseti(L, -2, ++i);
        }
    }
    lua_setfield(L, -2, "vlans");
}

static const vnet_nl_list bridge_list = {keep_bridge, push_bridge, NULL};

/* vlan_list(op, obj) -> { {ifindex =, name =, master =, vlans = {...}}, ... }
 * for every bridge and bridge port of the namespace | nil, msg, errno */
static int k_vlan_list(lua_State *L)
{
    const char *op = luaL_optstring(L, 1, "bridge.vlans");
    const char *obj = luaL_optstring(L, 2, "");
    struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE};
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP);
    if (msg == NULL || nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
        nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN) < 0) {
        nlmsg_free(msg);
        return vnet_pusherr(L, op, obj, ENOMEM, NULL);
    }
    char ext[256] = "";
    int r = vnet_nl_collect(L, msg, &bridge_list, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    return 1;
}

void vnet_brvlan_funcs(lua_State *L)
{
    lua_pushcfunction(L, k_vlan_change);
    lua_setfield(L, -2, "vlan_change");
    lua_pushcfunction(L, k_vlan_list);
    lua_setfield(L, -2, "vlan_list");
}
