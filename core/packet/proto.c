/*
 * proto.c - vnet.proto.core: header views on a packet.
 *
 * p:ipv4() returns a view: a small userdata that is a window on the
 * packet's bytes at the IPv4 header, with fields read and set by name
 * (ip.ttl, ip.src = "10.0.0.1"). Setting a field keeps the checksums right
 * by incremental update (RFC 1624), the transport's pseudo-header included
 * when an address changes. Taking a view parses and checks the headers up
 * to it; a malformed packet gives nil, reason.
 *
 * Views allocate nothing in steady state: each packet caches one view per
 * kind in its user values (packet.h's VNET_PACKET_VIEWS); taking the view
 * again re-points it.
 * The fields themselves are in field.c.
 */
#include <limits.h>
#include <string.h>

#include "packet/proto.h"

/* ---- the view cache --------------------------------------------------- */

_Static_assert(V_NKINDS - 1 == VNET_PACKET_VIEWS,
               "a packet has a user value for each kind of view");

/* The cached view of `kind` for the packet p at 1, pushed. */
static view *getview(lua_State *L, vnet_packet *p, int kind)
{
    if (lua_getiuservalue(L, 1, kind) == LUA_TUSERDATA)
        return lua_touserdata(L, -1);
    lua_pop(L, 1);
    view *v = lua_newuserdatauv(L, sizeof *v, 1 + VIEW_TEXTS);
    memset(v, 0, sizeof *v);
    v->tag = &vnet_view_tag;
    v->p = p;
    v->kind = kind;
    luaL_setmetatable(L, vnet_view_tnames[kind]);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1); /* the view keeps its packet alive */
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, kind);
    return v;
}

/* p:eth(), p:ipv4([l3off]), ...: the view, or nil, why */
static int p_view(lua_State *L, int want)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    layers ly;
    if (!vnet_parsed(L, p, 2, want, &ly))
        return 2;
    int kind = want == V_IP ? ly.l3kind : want;
    vnet_view_point(getview(L, p, kind), p, &ly, kind);
    return 1;
}

static int p_eth(lua_State *L) { return p_view(L, V_ETH); }
static int p_arp(lua_State *L) { return p_view(L, V_ARP); }
static int p_ipv4(lua_State *L) { return p_view(L, V_IPV4); }
static int p_ipv6(lua_State *L) { return p_view(L, V_IPV6); }
static int p_ip(lua_State *L) { return p_view(L, V_IP); }
static int p_icmp(lua_State *L) { return p_view(L, V_ICMP); }
static int p_icmp6(lua_State *L) { return p_view(L, V_ICMP6); }
static int p_udp(lua_State *L) { return p_view(L, V_UDP); }
static int p_tcp(lua_State *L) { return p_view(L, V_TCP); }

/* p:linktype() -> "eth" | "raw", guessed;
 * p:linktype("eth" | "raw" | "auto") -> p */
static int p_linktype(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    static const char *const opts[] = {"auto", "raw", "eth", "ethernet",
                                       NULL};
    if (lua_gettop(L) >= 2) {
        int o = lua_isnil(L, 2) ? 0 : luaL_checkoption(L, 2, NULL, opts);
        p->link = (uint8_t)(o == 3 ? LINK_ETH : o);
        lua_settop(L, 1);
        return 1;
    }
    int link = p->link, guessed = link == LINK_AUTO;
    if (guessed)
        link = vnet_guess_link(p->data, p->len);
    lua_pushstring(L, link == LINK_ETH ? "eth" : "raw");
    lua_pushboolean(L, guessed);
    return 2;
}

/* proto.core.ip6ext: type -> { name, unit, bias, fixed } (parse.c's
 * vnet_ip6exts), so the builder writes the lengths the parser reads. */
static void ip6ext_table(lua_State *L)
{
    lua_newtable(L);
    for (const vnet_ip6ext *e = vnet_ip6exts; e->name; e++) {
        lua_createtable(L, 0, 4);
        lua_pushstring(L, e->name);
        lua_setfield(L, -2, "name");
        lua_pushinteger(L, e->unit);
        lua_setfield(L, -2, "unit");
        lua_pushinteger(L, e->bias);
        lua_setfield(L, -2, "bias");
        lua_pushinteger(L, e->fixed);
        lua_setfield(L, -2, "fixed");
        lua_rawseti(L, -2, e->type);
    }
}

/* proto.core.pton("ip4" | "ip6" | "mac", s) -> bytes | nil: the address
 * text the views accept, as the bytes they write. */
static int l_pton(lua_State *L)
{
    static const char *const types[] = {"ip4", "ip6", "mac", NULL};
    int t = luaL_checkoption(L, 1, NULL, types);
    const char *s = luaL_checkstring(L, 2);
    unsigned char b[16];
    int ok = t == 0 ? vnet_parse_ip4(s, b) : t == 1 ? vnet_parse_ip6(s, b)
           : vnet_parse_mac(s, b);
    if (!ok)
        return 0;
    lua_pushlstring(L, (const char *)b, t == 0 ? 4 : t == 1 ? 16 : 6);
    return 1;
}

int luaopen_vnet_proto_core(lua_State *L)
{
    static const luaL_Reg pm[] = {
        {"eth", p_eth}, {"arp", p_arp}, {"ipv4", p_ipv4}, {"ipv6", p_ipv6},
        {"ip", p_ip}, {"icmp", p_icmp}, {"icmp6", p_icmp6}, {"udp", p_udp},
        {"tcp", p_tcp}, {"linktype", p_linktype},
        {"fix_checksums", vnet_p_fix_checksums},
        {"checksums_ok", vnet_p_checksums_ok},
        {"swap", vnet_p_swap}, {"echo_reply", vnet_p_echo_reply},
        {"arp_reply", vnet_p_arp_reply},
        {NULL, NULL}
    };
    luaL_requiref(L, "vnet.packet.core", luaopen_vnet_packet_core, 0);
    lua_pop(L, 1);
    lua_newtable(L);                      /* the module */
    lua_newtable(L);
    int lists = lua_gettop(L);
    lua_newtable(L);
    int layouts = lua_gettop(L);
    for (int k = V_ETH; k < V_NKINDS; k++)
        vnet_view_class(L, k, lists, layouts);
    lua_setfield(L, -3, "layout");
    lua_setfield(L, -2, "fields");
    ip6ext_table(L);
    lua_setfield(L, -2, "ip6ext");
    lua_createtable(L, VNET_NVLAN_TPIDS, 0);
    for (int i = 0; i < VNET_NVLAN_TPIDS; i++) {
        lua_pushinteger(L, vnet_vlan_tpids[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "vlan_tpids");
    lua_pushcfunction(L, l_pton);
    lua_setfield(L, -2, "pton");
    vnet_nat_open(L);
    luaL_getmetatable(L, VNET_PACKET_T);
    lua_pushcfunction(L, vnet_p_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_getfield(L, -1, "methods");
    luaL_setfuncs(L, pm, 0);
    lua_pop(L, 2);
    return 1;
}
