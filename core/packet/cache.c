/*
 * cache.c - what the header views, the checksum methods, nat and tostring
 * share: the parse of a packet argument (the packet's own link type, set
 * by the device that read it, p:linktype, build or pcap, or a guess; and
 * an optional network-header offset), and pointing a view at what the
 * parse found.
 */
#include <limits.h>

#include "packet/proto.h"

int vnet_parse_arg(lua_State *L, const vnet_packet *p, int arg, int want,
                   layers *ly)
{
    long l3off = -1;
    if (lua_gettop(L) >= arg && !lua_isnil(L, arg)) {
        lua_Integer o = luaL_checkinteger(L, arg);
        luaL_argcheck(L, o >= 0 && o <= LONG_MAX, arg,
                      "offset must be >= 0");
        l3off = (long)o;
    }
    int link = p->link != LINK_AUTO ? p->link
             : vnet_guess_link(p->data, p->len);
    return vnet_parse(p->data, p->len, link, l3off, want, ly);
}

int vnet_parsed(lua_State *L, const vnet_packet *p, int arg, int want,
                layers *ly)
{
    if (vnet_parse_arg(L, p, arg, want, ly))
        return 1;
    lua_pushnil(L);
    lua_pushstring(L, ly->why);
    return 0;
}

const char vnet_view_tag = 'v';

void vnet_view_point(view *v, vnet_packet *p, const layers *ly, int kind)
{
    v->p = p;
    v->end = ly->l3end;
    switch (kind) {
    case V_ETH:
        v->off = 0;
        v->hlen = ly->l2len;
        v->end = p->len;
        v->typeoff = ly->typeoff;
        v->ntags = ly->ntags;
        break;
    case V_ARP: case V_IPV4: case V_IPV6:
        v->off = ly->l3;
        v->hlen = ly->l3hlen;
        v->protooff = ly->protooff;
        v->pdst = ly->dstoff;
        v->l4kind = ly->l4kind == V_ICMP ? 0 : ly->l4kind;
        v->l4csum = ly->l4kind ? ly->l4 + vnet_csum_off(ly->l4kind) : 0;
        break;
    default:
        v->off = ly->l4;
        v->hlen = ly->l4hlen;
        v->fam = ly->l3kind == V_IPV4 ? 4 : 6;
        break;
    }
}
