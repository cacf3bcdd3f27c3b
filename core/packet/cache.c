/*
 * cache.c - the parse of a packet argument that the header views, the
 * checksum methods and tostring share: the packet's own link type (set by
 * the device that read it, p:linktype, build, pcap) or a guess, and an
 * optional network-header offset.
 */
#include <limits.h>

#include "packet/proto.h"

int vnet_parse_arg(lua_State *L, const vnet_packet *p, int arg, int want,
                   layers *ly)
{
    long l3off = -1;
    if (!lua_isnoneornil(L, arg)) {
        lua_Integer o = luaL_checkinteger(L, arg);
        luaL_argcheck(L, o >= 0 && o <= LONG_MAX, arg,
                      "offset must be >= 0");
        l3off = (long)o;
    }
    int link = p->link != LINK_AUTO ? p->link
             : vnet_guess_link(p->data, p->len);
    return vnet_parse(p->data, p->len, link, l3off, want, ly);
}
