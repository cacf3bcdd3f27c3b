/*
 * nat.c - vnet.proto.nat: a one-to-one address map applied to packets in
 * one C call, for the rewriter that does it per packet.
 *
 *   local nat = vnet.proto.nat { ["10.200.0.99"] = "10.200.0.2" }
 *   nat:dst(p)  -- a destination that is a key becomes its value
 *   nat:src(p)  -- a source that is a value becomes its key (the replies)
 *
 * What the IPv4/IPv6 views do with ip.dst = "..." (the header checksum,
 * the TCP/UDP/ICMPv6 pseudo-header, an offload packet's partial checksum:
 * field.c's vnet_set_ipaddr), without a view, a string per address or a
 * metamethod: by callgrind about a fifth of the instructions of
 * `if ip.dst == VIRT then ip.dst = REAL end`. The pairs are kept sorted
 * both ways and found by binary search, so a map of a whole subnet costs
 * a few comparisons more than a map of one address.
 */
#include <stdlib.h>
#include <string.h>

#include "packet/proto.h"

#define NAT_T "vnet.proto.nat"
#define NAT_MAX 65536 /* pairs in one map */

typedef struct pair {
    unsigned char from[16], to[16];
} pair;

typedef struct nat {
    const void *tag;
    size_t n[2];        /* pairs of IPv4 (0) and IPv6 (1) addresses */
    pair *by_from[2];   /* sorted by from: nat:dst */
    pair *by_to[2];     /* the same pairs sorted by to: nat:src */
    pair store[];       /* the four arrays */
} nat;

static const char nat_tag;

static size_t alen(int v6) { return v6 ? 16 : 4; }

/* An IPv4 pair is zero after its 4 bytes: 16 compare as 4 do. */
static int cmp_from(const void *a, const void *b)
{ return memcmp(((const pair *)a)->from, ((const pair *)b)->from, 16); }
static int cmp_to(const void *a, const void *b)
{ return memcmp(((const pair *)a)->to, ((const pair *)b)->to, 16); }

/* The pair in t[0..n) sorted by `to` (or by from) whose address is a. */
static const pair *find(const pair *t, size_t n, const unsigned char *a,
                        size_t len, int to)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(to ? t[mid].to : t[mid].from, a, len);
        if (c == 0)
            return &t[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* An address of the map: its family (0 IPv4, 1 IPv6) and bytes. */
static int addr_arg(lua_State *L, int idx, unsigned char *out)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        return vnet_error(L, "vnet.proto.nat: the map's keys and values must "
                          "be IP address text (got %s)", luaL_typename(L, idx));
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    int whole = strlen(s) == n; /* no NUL inside */
    if (whole && vnet_parse_ip4(s, out))
        return 0;
    if (whole && vnet_parse_ip6(s, out))
        return 1;
    return vnet_error(L, "vnet.proto.nat: '%s' is not an IP address",
                      vnet_shown(L, s, n));
}

/* Two pairs with the same key or value: the map is not one-to-one. */
static void check_unique(lua_State *L, const pair *t, size_t n, int v6,
                         int to)
{
    size_t len = alen(v6);
    for (size_t i = 1; i < n; i++) {
        const unsigned char *a = to ? t[i - 1].to : t[i - 1].from;
        if (memcmp(a, to ? t[i].to : t[i].from, len) == 0) {
            char s[48];
            if (v6) vnet_fmt_ip6(s, a);
            else vnet_fmt_ip4(s, a);
            vnet_error(L, "vnet.proto.nat: %s is the value of two keys (a "
                       "reply from it could not be mapped back)", s);
        }
    }
}

/* vnet.proto.nat(map) -> nat */
static int l_nat(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TTABLE)
        return vnet_error(L, "vnet.proto.nat: the map must be a table of "
                          "address pairs (got %s)", luaL_typename(L, 1));
    size_t count[2] = {0, 0};
    unsigned char a[16], b[16];
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        int fa = addr_arg(L, -2, a), fb = addr_arg(L, -1, b);
        if (fa != fb)
            vnet_error(L, "vnet.proto.nat: %s -> %s maps between IPv4 and "
                       "IPv6", lua_tostring(L, -2), lua_tostring(L, -1));
        if (++count[fa] > NAT_MAX)
            vnet_error(L, "vnet.proto.nat: more than %d pairs", NAT_MAX);
        lua_pop(L, 1);
    }
    size_t total = count[0] + count[1];
    nat *t = lua_newuserdatauv(L, sizeof *t + 2 * total * sizeof(pair), 0);
    memset(t, 0, sizeof *t);
    t->tag = &nat_tag;
    t->by_from[0] = t->store;
    t->by_from[1] = t->store + count[0];
    t->by_to[0] = t->store + total;
    t->by_to[1] = t->store + total + count[0];
    luaL_setmetatable(L, NAT_T);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        int v6 = addr_arg(L, -2, a);
        addr_arg(L, -1, b);
        pair *e = &t->by_from[v6][t->n[v6]++];
        memset(e, 0, sizeof *e);
        memcpy(e->from, a, alen(v6));
        memcpy(e->to, b, alen(v6));
        lua_pop(L, 1);
    }
    for (int v6 = 0; v6 < 2; v6++) {
        size_t n = t->n[v6];
        if (n == 0)
            continue;
        memcpy(t->by_to[v6], t->by_from[v6], n * sizeof(pair));
        qsort(t->by_from[v6], n, sizeof(pair), cmp_from);
        qsort(t->by_to[v6], n, sizeof(pair), cmp_to);
        check_unique(L, t->by_to[v6], n, v6, 1);
    }
    return 1;
}

static nat *checknat(lua_State *L)
{
    return vnet_checkudata(L, 1, NAT_T, &nat_tag, sizeof(nat));
}

/* nat:dst(p [, l3off]) / nat:src(p [, l3off]) -> true (rewritten), false
 * (not in the map), or nil, why (not IP, or malformed) */
static int apply(lua_State *L, int dst)
{
    nat *t = checknat(L);
    vnet_packet *p = vnet_packet_check(L, 2);
    layers ly;
    if (!vnet_parsed(L, p, 3, V_IP, &ly))
        return 2;
    int v6 = ly.l3kind == V_IPV6;
    size_t len = alen(v6);
    const unsigned char *a = p->data + ly.l3 + (v6 ? 8 : 12) + (dst ? len : 0);
    const pair *e = dst ? find(t->by_from[v6], t->n[v6], a, len, 0)
                        : find(t->by_to[v6], t->n[v6], a, len, 1);
    if (e)
        vnet_set_ipaddr(p, &ly, dst, dst ? e->to : e->from);
    lua_pushboolean(L, e != NULL);
    return 1;
}

static int n_dst(lua_State *L) { return apply(L, 1); }
static int n_src(lua_State *L) { return apply(L, 0); }

static int n_len(lua_State *L)
{
    nat *t = checknat(L);
    lua_pushinteger(L, (lua_Integer)(t->n[0] + t->n[1]));
    return 1;
}

/* nat:pairs() -> { [from] = to, ... }: the map as text again */
static int n_pairs(lua_State *L)
{
    nat *t = checknat(L);
    lua_createtable(L, 0, (int)(t->n[0] + t->n[1]));
    for (int v6 = 0; v6 < 2; v6++) {
        for (size_t i = 0; i < t->n[v6]; i++) {
            char s[48];
            const pair *e = &t->by_from[v6][i];
            lua_pushlstring(L, s, v6 ? vnet_fmt_ip6(s, e->from)
                                     : vnet_fmt_ip4(s, e->from));
            lua_pushlstring(L, s, v6 ? vnet_fmt_ip6(s, e->to)
                                     : vnet_fmt_ip4(s, e->to));
            lua_rawset(L, -3);
        }
    }
    return 1;
}

static int n_tostring(lua_State *L)
{
    nat *t = checknat(L);
    lua_pushfstring(L, NAT_T ": %d IPv4 and %d IPv6 pairs", (int)t->n[0],
                    (int)t->n[1]);
    return 1;
}

/* Adds nat to the module table on top of the stack. */
void vnet_nat_open(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__len", n_len}, {"__tostring", n_tostring}, {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"dst", n_dst}, {"src", n_src}, {"pairs", n_pairs}, {NULL, NULL}
    };
    vnet_newclass(L, NAT_T, meta, methods, NULL);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_nat);
    lua_setfield(L, -2, "nat");
}
