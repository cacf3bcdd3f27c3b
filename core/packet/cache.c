/*
 * cache.c - what a packet keeps beside its bytes, in its user value 1 (a
 * table made on first use): its link type at [0] and one cached header
 * view per kind (proto.c), and the parse of a packet argument that the
 * views, the checksum methods and tostring share.
 */
#include <limits.h>

#include "packet/proto.h"

/* Push the packet's cache table (user value 1), making it when `make`. */
int vnet_packet_cache(lua_State *L, int idx, int make)
{
    if (lua_getiuservalue(L, idx, 1) == LUA_TTABLE)
        return 1;
    lua_pop(L, 1);
    if (!make)
        return 0;
    lua_createtable(L, V_NKINDS, 1);
    lua_pushvalue(L, -1);
    if (!lua_setiuservalue(L, idx, 1))
        lua_pop(L, 1); /* a packet without user values: no cache */
    return 1;
}

int vnet_get_link(lua_State *L, int idx)
{
    int link = LINK_AUTO;
    if (vnet_packet_cache(L, idx, 0)) {
        if (lua_rawgeti(L, -1, 0) == LUA_TNUMBER)
            link = (int)lua_tointeger(L, -1);
        lua_pop(L, 2);
    }
    return link;
}

void vnet_set_link(lua_State *L, int idx, int link)
{
    idx = lua_absindex(L, idx);
    if (link == LINK_AUTO && !vnet_packet_cache(L, idx, 0))
        return;
    if (link != LINK_AUTO)
        vnet_packet_cache(L, idx, 1);
    if (link == LINK_AUTO) lua_pushnil(L);
    else lua_pushinteger(L, link);
    lua_rawseti(L, -2, 0);
    lua_pop(L, 1);
}

void vnet_packet_set_link(lua_State *L, int idx, int link)
{
    vnet_set_link(L, idx, link);
}

int vnet_parse_arg(lua_State *L, int arg, int want, layers *ly)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    long l3off = -1;
    if (!lua_isnoneornil(L, arg)) {
        lua_Integer o = luaL_checkinteger(L, arg);
        luaL_argcheck(L, o >= 0 && o <= LONG_MAX, arg,
                      "offset must be >= 0");
        l3off = (long)o;
    }
    int link = vnet_get_link(L, 1);
    if (link == LINK_AUTO)
        link = vnet_guess_link(p->data, p->len);
    return vnet_parse(p->data, p->len, link, l3off, want, ly);
}
