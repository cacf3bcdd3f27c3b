/*
 * field.c - the fields of the header views (proto.c): a table per kind of
 * header naming each field's offset, width, bits and checksum duties, and
 * the view metamethods that read and set them by name. Every access is
 * checked against the view's message and the packet's length; setting a
 * field keeps the header's own checksum and, for an address, the
 * transport's pseudo-header checksum right (RFC 1624, csum.c).
 */
#include <string.h>

#include "packet/proto.h"

enum { T_U8, T_U16, T_U32, T_IP4, T_IP6, T_MAC, T_SPECIAL };
/* F_KEEP: setting it moves no header and keeps every checksum right (the
 * fuzzer checks that it does) */
enum { F_RO = 1, F_PSEUDO = 2, F_CSUM = 4, F_BOOL = 8, F_TWICE = 16,
       F_DST = 32, F_KEEP = 64 };
enum { S_OFFSET = 1, S_HLEN, S_ETYPE, S_TAGS, S_VLAN, S_PCP, S_OPTIONS,
       S_PAYLOAD, S_FAMILY, S_PROTO6, S_LEN6, S_MSS, S_WSCALE, S_SACKOK,
       S_TSVAL, S_TSECR };

typedef struct field {
    const char *name;
    unsigned char type, off, flags, special;
    uint32_t mask; /* the bits of a U8/U16/U32 field; 0: all of them */
} field;

#define U(n, t, o, fl, m) {n, t, o, fl, 0, m}
#define S(n, s, fl) {n, T_SPECIAL, 0, fl, s, 0}
#define COMMON S("offset", S_OFFSET, F_RO), S("hlen", S_HLEN, F_RO)

static const field eth_f[] = {
    U("dst", T_MAC, 0, F_KEEP, 0), U("src", T_MAC, 6, F_KEEP, 0),
    S("type", S_ETYPE, 0), S("tags", S_TAGS, F_RO), S("vlan", S_VLAN, 0),
    S("pcp", S_PCP, F_KEEP), COMMON, {0}
};
static const field arp_f[] = {
    U("htype", T_U16, 0, 0, 0), U("ptype", T_U16, 2, 0, 0),
    U("hsize", T_U8, 4, F_RO, 0), U("psize", T_U8, 5, F_RO, 0),
    U("op", T_U16, 6, F_KEEP, 0), U("sha", T_MAC, 8, F_KEEP, 0),
    U("spa", T_IP4, 14, F_KEEP, 0), U("tha", T_MAC, 18, F_KEEP, 0),
    U("tpa", T_IP4, 24, F_KEEP, 0), COMMON, {0}
};
static const field ipv4_f[] = {
    U("version", T_U8, 0, F_RO, 0xf0), U("ihl", T_U8, 0, 0, 0x0f),
    U("tos", T_U8, 1, F_KEEP, 0), U("dscp", T_U8, 1, F_KEEP, 0xfc),
    U("ecn", T_U8, 1, F_KEEP, 0x03), U("len", T_U16, 2, 0, 0),
    U("id", T_U16, 4, F_KEEP, 0), U("flags", T_U16, 6, 0, 0xe000),
    U("df", T_U16, 6, F_BOOL | F_KEEP, 0x4000),
    U("mf", T_U16, 6, F_BOOL, 0x2000),
    U("frag", T_U16, 6, 0, 0x1fff), U("ttl", T_U8, 8, F_KEEP, 0),
    U("proto", T_U8, 9, 0, 0), U("csum", T_U16, 10, F_CSUM, 0),
    U("src", T_IP4, 12, F_PSEUDO | F_KEEP, 0),
    U("dst", T_IP4, 16, F_PSEUDO | F_DST | F_KEEP, 0),
    S("options", S_OPTIONS, F_RO), S("family", S_FAMILY, F_RO), COMMON, {0}
};
static const field ipv6_f[] = {
    U("version", T_U32, 0, F_RO, 0xf0000000),
    U("tc", T_U32, 0, F_KEEP, 0x0ff00000),
    U("flow", T_U32, 0, F_KEEP, 0x000fffff),
    U("plen", T_U16, 4, 0, 0), U("nh", T_U8, 6, 0, 0),
    U("hlim", T_U8, 7, F_KEEP, 0), U("ttl", T_U8, 7, F_KEEP, 0),
    U("src", T_IP6, 8, F_PSEUDO | F_KEEP, 0),
    U("dst", T_IP6, 24, F_PSEUDO | F_DST | F_KEEP, 0),
    S("proto", S_PROTO6, 0), S("len", S_LEN6, F_RO),
    S("family", S_FAMILY, F_RO), COMMON, {0}
};
static const field icmp_f[] = {
    U("type", T_U8, 0, F_KEEP, 0), U("code", T_U8, 1, F_KEEP, 0),
    U("csum", T_U16, 2, F_CSUM, 0), U("id", T_U16, 4, F_KEEP, 0),
    U("seq", T_U16, 6, F_KEEP, 0), U("rest", T_U32, 4, F_KEEP, 0),
    S("payload", S_PAYLOAD, F_RO), COMMON, {0}
};
static const field icmp6_f[] = {
    U("type", T_U8, 0, F_KEEP, 0), U("code", T_U8, 1, F_KEEP, 0),
    U("csum", T_U16, 2, F_CSUM, 0), U("id", T_U16, 4, F_KEEP, 0),
    U("seq", T_U16, 6, F_KEEP, 0), U("rest", T_U32, 4, F_KEEP, 0),
    U("target", T_IP6, 8, F_KEEP, 0), S("payload", S_PAYLOAD, F_RO), COMMON, {0}
};
static const field udp_f[] = {
    U("sport", T_U16, 0, F_KEEP, 0), U("dport", T_U16, 2, F_KEEP, 0),
    U("len", T_U16, 4, F_TWICE, 0), U("csum", T_U16, 6, F_CSUM, 0),
    S("payload", S_PAYLOAD, F_RO), COMMON, {0}
};
static const field tcp_f[] = {
    U("sport", T_U16, 0, F_KEEP, 0), U("dport", T_U16, 2, F_KEEP, 0),
    U("seq", T_U32, 4, F_KEEP, 0), U("ack", T_U32, 8, F_KEEP, 0),
    U("doff", T_U8, 12, 0, 0xf0), U("flags", T_U16, 12, F_KEEP, 0x01ff),
    U("FIN", T_U8, 13, F_BOOL | F_KEEP, 0x01),
    U("SYN", T_U8, 13, F_BOOL | F_KEEP, 0x02),
    U("RST", T_U8, 13, F_BOOL | F_KEEP, 0x04),
    U("PSH", T_U8, 13, F_BOOL | F_KEEP, 0x08),
    U("ACK", T_U8, 13, F_BOOL | F_KEEP, 0x10),
    U("URG", T_U8, 13, F_BOOL | F_KEEP, 0x20),
    U("ECE", T_U8, 13, F_BOOL | F_KEEP, 0x40),
    U("CWR", T_U8, 13, F_BOOL | F_KEEP, 0x80),
    U("win", T_U16, 14, F_KEEP, 0), U("csum", T_U16, 16, F_CSUM, 0),
    U("urp", T_U16, 18, F_KEEP, 0), S("options", S_OPTIONS, F_RO),
    S("mss", S_MSS, F_KEEP), S("wscale", S_WSCALE, F_KEEP),
    S("sack_ok", S_SACKOK, F_RO), S("tsval", S_TSVAL, F_RO),
    S("tsecr", S_TSECR, F_RO), S("payload", S_PAYLOAD, F_RO), COMMON, {0}
};

static const field *const kfields[V_NKINDS] = {
    NULL, eth_f, arp_f, ipv4_f, ipv6_f, icmp_f, icmp6_f, udp_f, tcp_f
};
/* Each address field's text slot in its view (view.tb), by kind and field
 * index: vnet_view_class numbers them. */
static unsigned char kslot[V_NKINDS][32];

static const char *const knames[V_NKINDS] = {
    NULL, "eth", "arp", "ipv4", "ipv6", "icmp", "icmp6", "udp", "tcp"
};
const char *const vnet_view_tnames[V_NKINDS] = {
    NULL, "vnet.eth", "vnet.arp", "vnet.ipv4", "vnet.ipv6", "vnet.icmp",
    "vnet.icmp6", "vnet.udp", "vnet.tcp"
};
/* The TCP options with a field, in S_MSS order: kind and length. */
static const struct { const char *name; unsigned char kind, len; } topt[] = {
    {"mss", 2, 4}, {"wscale", 3, 3}, {"sack_ok", 4, 2}, {"ts", 8, 10},
    {"ts", 8, 10}
};
/* each kind's fixed header: the bytes before options, tags or extension
 * headers (the builder starts from these) */
static const unsigned char ksize[V_NKINDS] = {0, 14, 28, 20, 40, 8, 8, 8, 20};

static view *checkview(lua_State *L)
{
    view *v = vnet_checkudata(L, 1, "header view", &vnet_view_tag,
                              sizeof(view));
    vnet_packet_settle(v->p); /* a view kept from the packet before */
    return v;
}

/* A kind's name table maps each field name to kind << 8 | its index, so
 * that a view handed to another kind's metamethod is refused. */
static const field *fieldof(lua_State *L, view *v)
{
    lua_Integer x = lua_tointeger(L, -1);
    if (x >> 8 != v->kind)
        luaL_typeerror(L, 1, lua_pushfstring(L, "%s view", knames[x >> 8]));
    return &kfields[v->kind][x & 0xff];
}

static size_t width(const field *f)
{
    static const unsigned char w[] = {1, 2, 4, 4, 16, 6, 0};
    return w[f->type];
}

static int past_end(lua_State *L, view *v, const field *f, size_t at,
                    size_t n)
{
    return luaL_error(L, "%s.%s: bytes %d-%d are past the end of the %s "
                      "(take a new view after changing the packet)",
                      knames[v->kind], f->name, (int)at, (int)(at + n) - 1,
                      v->end > v->p->len ? "packet" : "message");
}

/* Absolute offset of n bytes at rel in the view, checked. (Inline, with
 * its error apart: every field read and set passes here.) */
static inline size_t span(lua_State *L, view *v, const field *f, size_t rel,
                          size_t n)
{
    size_t at = v->off + rel;
    if (at + n > v->end || v->end > v->p->len)
        past_end(L, v, f, at, n);
    return at;
}

static uint32_t rd(const unsigned char *b, size_t n)
{
    uint32_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = x << 8 | b[i];
    return x;
}

static void wr(unsigned char *b, size_t n, uint32_t x)
{
    for (size_t i = n; i-- > 0; x >>= 8)
        b[i] = (unsigned char)x;
}

/* Write n bytes at absolute `at`, keeping the view's checksum and, for
 * an address, the transport's pseudo-header checksum right. */
static void put(view *v, const field *f, size_t at, const unsigned char *nb,
                size_t n)
{
    unsigned char *b = v->p->data, *base = b + v->off;
    size_t lim = v->p->len - v->off, rel = at - v->off;
    int co = vnet_csum_off(v->kind);
    int own = co >= 0 && !(f->flags & F_CSUM) && v->off + co + 2 <= v->p->len;
    /* the destination is in the pseudo-header unless a routing header
     * names another final one */
    int ps = (f->flags & F_PSEUDO) && v->l4kind &&
             v->l4csum + 2 <= v->p->len &&
             (!(f->flags & F_DST) || v->pdst == at);
    /* An offload packet's partial L4 checksum covers only the pseudo-header
     * (the kernel sums the rest): a port change leaves it, an address change
     * adjusts it without the complement. */
    int partial = (v->p->vh_flags & VNET_NEEDS_CSUM) != 0;
    if (partial && (v->kind == V_TCP || v->kind == V_UDP))
        own = 0;
    if (!own && !ps) {
        memcpy(b + at, nb, n);
        return;
    }
    uint32_t o, s;
    if (n == 4 && !(rel & 1) && rel + 4 <= lim) {
        /* two whole words (an IPv4 address, a sequence number): the path
         * of every packet a NAT rewrites */
        unsigned char *w = b + at;
        o = vnet_csum_fold((uint32_t)(w[0] << 8 | w[1]) +
                           (w[2] << 8 | w[3]));
        s = vnet_csum_fold((uint32_t)(nb[0] << 8 | nb[1]) +
                           (nb[2] << 8 | nb[3]));
        memcpy(w, nb, 4);
    } else {
        o = vnet_wsum(base, rel, rel + n, lim);
        memcpy(b + at, nb, n);
        s = vnet_wsum(base, rel, rel + n, lim);
    }
    if (own)
        vnet_csum_adjust(base + co, o, s, f->flags & F_TWICE ? 2 : 1,
                         v->kind == V_UDP ? (v->fam == 4 ? 1 : 2) : 0);
    if (ps && partial && (v->l4kind == V_TCP || v->l4kind == V_UDP))
        vnet_csum_adjust_partial(b + v->l4csum, o, s); /* ICMPv6: full */
    else if (ps)
        vnet_csum_adjust(b + v->l4csum, o, s, 1, v->l4kind == V_UDP
                         ? (v->kind == V_IPV4 ? 1 : 2) : 0);
}

/* The address field of an IP header kind: src (dst 0) or dst. */
static const field *addrfield(int kind, int dst)
{
    static const field *f[2][2];
    int i = kind == V_IPV6;
    if (f[i][dst] == NULL) {
        const field *t = i ? ipv6_f : ipv4_f;
        while (strcmp(t->name, dst ? "dst" : "src") != 0)
            t++;
        f[i][dst] = t;
    }
    return f[i][dst];
}

void vnet_set_ipaddr(vnet_packet *p, const layers *ly, int dst,
                     const unsigned char *nb)
{
    view v;
    memset(&v, 0, sizeof v);
    v.kind = ly->l3kind;
    vnet_view_point(&v, p, ly, v.kind);
    const field *f = addrfield(v.kind, dst);
    put(&v, f, v.off + f->off, nb, width(f));
}

/* Offset of the data of TCP option `kind` (of total length olen), or 0. */
static size_t tcp_opt(lua_State *L, view *v, const field *f, int kind,
                      size_t olen)
{
    const unsigned char *b = v->p->data;
    size_t i = span(L, v, f, 20, v->hlen - 20), e = v->off + v->hlen;
    while (i < e && b[i] != 0) {
        if (b[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= e || b[i + 1] < 2 || b[i + 1] > e - i)
            break;
        if (b[i] == kind && b[i + 1] == olen)
            return i + 2;
        i += b[i + 1];
    }
    return 0;
}

static int get_special(lua_State *L, view *v, const field *f)
{
    const unsigned char *b = v->p->data;
    size_t at;
    switch (f->special) {
    case S_OFFSET: lua_pushinteger(L, (lua_Integer)v->off); break;
    case S_HLEN: lua_pushinteger(L, (lua_Integer)v->hlen); break;
    case S_FAMILY: lua_pushinteger(L, v->kind == V_IPV4 ? 4 : 6); break;
    case S_TAGS: lua_pushinteger(L, v->ntags); break;
    case S_ETYPE:
        lua_pushinteger(L, rd(b + span(L, v, f, v->typeoff, 2), 2));
        break;
    case S_VLAN: case S_PCP:
        if (v->ntags == 0)
            return 0;
        at = span(L, v, f, 14, 2);
        lua_pushinteger(L, f->special == S_VLAN ? rd(b + at, 2) & 0xfff
                                                : b[at] >> 5);
        break;
    case S_PROTO6: lua_pushinteger(L, b[span(L, v, f, v->protooff - v->off,
                                             1)]); break;
    case S_LEN6:
        lua_pushinteger(L, 40 + rd(b + span(L, v, f, 4, 2), 2));
        break;
    case S_OPTIONS: {
        at = span(L, v, f, 20, v->hlen - 20); /* IPv4 and TCP alike */
        lua_pushlstring(L, (const char *)b + at, v->hlen - 20);
        break;
    }
    case S_PAYLOAD: {
        size_t end = v->end;
        if (v->kind == V_UDP) {
            size_t ulen = rd(b + span(L, v, f, 4, 2), 2);
            if (ulen >= 8 && v->off + ulen < end)
                end = v->off + ulen;
        }
        at = span(L, v, f, v->hlen, end - v->off - v->hlen);
        lua_pushlstring(L, (const char *)b + at, end - at);
        break;
    }
    case S_MSS: case S_WSCALE: case S_SACKOK: case S_TSVAL: case S_TSECR: {
        int i = f->special - S_MSS;
        at = tcp_opt(L, v, f, topt[i].kind, topt[i].len);
        if (at == 0)
            return 0;
        if (f->special == S_SACKOK) lua_pushboolean(L, 1);
        else if (f->special == S_MSS) lua_pushinteger(L, rd(b + at, 2));
        else if (f->special == S_WSCALE) lua_pushinteger(L, b[at]);
        else lua_pushinteger(L, rd(b + at + (f->special == S_TSECR) * 4, 4));
        break;
    }
    }
    return 1;
}

static int getfield(lua_State *L, view *v, const field *f)
{
    if (f->type == T_SPECIAL)
        return get_special(L, v, f) ? 1 : (lua_pushnil(L), 1);
    size_t n = width(f);
    if (v->end <= v->p->len && v->off + f->off + n > v->end) {
        lua_pushnil(L); /* a field this (short) message does not have */
        return 1;
    }
    size_t at = span(L, v, f, f->off, n);
    const unsigned char *b = v->p->data + at;
    char s[48];
    switch (f->type) {
    case T_IP4: case T_IP6: case T_MAC: {
        int slot = kslot[v->kind][f - kfields[v->kind]];
        if (v->tlen[slot] == n && (n == 4 ? memcmp(v->tb[slot], b, 4)
                                   : memcmp(v->tb[slot], b, n)) == 0) {
            lua_getiuservalue(L, 1, 2 + slot); /* the same text as last time */
            return 1;
        }
        lua_pushlstring(L, s, f->type == T_IP4 ? vnet_fmt_ip4(s, b)
                            : f->type == T_IP6 ? vnet_fmt_ip6(s, b)
                            : vnet_fmt_mac(s, b));
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, 1, 2 + slot);
        memcpy(v->tb[slot], b, n);
        v->tlen[slot] = (unsigned char)n;
        break;
    }
    default: {
        uint32_t x = rd(b, n);
        if (f->mask) {
            x &= f->mask;
            x >>= __builtin_ctz(f->mask);
        }
        if (f->flags & F_BOOL) lua_pushboolean(L, x != 0);
        else lua_pushinteger(L, x);
    }
    }
    return 1;
}

static uint32_t checkint(lua_State *L, view *v, const field *f, uint32_t max)
{
    if (f->flags & F_BOOL) {
        luaL_checktype(L, 3, LUA_TBOOLEAN);
        return (uint32_t)lua_toboolean(L, 3);
    }
    int ok;
    lua_Integer x = lua_tointegerx(L, 3, &ok);
    if (!ok)
        luaL_error(L, "%s.%s must be an integer (got %s)", knames[v->kind],
                   f->name, luaL_typename(L, 3));
    if (x < 0 || (lua_Unsigned)x > max)
        luaL_error(L, "%s.%s: value %I out of range 0..%I", knames[v->kind],
                   f->name, x, (lua_Integer)max);
    return (uint32_t)x;
}

/* Address texts parsed lately and their bytes, for each address type in
 * the slots the texts' addresses pick: a rewrite sets the same few
 * addresses on every packet (a NAT's two directions: ip.dst = REAL,
 * ip.src = VIRT), and comparing the text costs a tenth of parsing it.
 * Per thread, as each Lua state is. */
#define ADDR_SLOTS 4 /* a power of 2 */
static _Thread_local struct addrtext {
    unsigned char n;                 /* bytes of text; 0: empty */
    char text[47];
    unsigned char b[16];
} parsed[3][ADDR_SLOTS];

/* a[0..n) == b[0..n), 8 bytes at a time: an address text is 7-45 bytes,
 * and a call of memcmp cost as much as the rest of a cache hit */
static inline int same_text(const char *a, const char *b, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            return 0;
    }
    for (; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static int parse_addr(const field *f, const char *s, size_t n,
                      unsigned char *nb)
{
    int type = f->type;
    size_t w = width(f);
    struct addrtext *c = &parsed[type - T_IP4]
                                [((uintptr_t)s >> 4) & (ADDR_SLOTS - 1)];
    /* (an empty slot has n 0, and "" is no address: it never hits) */
    if (c->n && n == c->n && same_text(s, c->text, n)) { /* (no NUL in text) */
        if (w == 4)
            memcpy(nb, c->b, 4); /* (a constant size: no call) */
        else
            memcpy(nb, c->b, w);
        return 1;
    }
    if (strlen(s) != n)
        return 0; /* a NUL inside the text */
    int ok = type == T_IP4 ? vnet_parse_ip4(s, nb)
           : type == T_IP6 ? vnet_parse_ip6(s, nb) : vnet_parse_mac(s, nb);
    if (ok && n > 0 && n < sizeof c->text) {
        c->n = (unsigned char)n;
        memcpy(c->text, s, n);
        memcpy(c->b, nb, w);
    }
    return ok;
}

static void addr(lua_State *L, view *v, const field *f, unsigned char *nb)
{
    size_t n = 0;
    const char *s = lua_type(L, 3) == LUA_TSTRING ? lua_tolstring(L, 3, &n)
                                                  : NULL;
    int ok = 0;
    if (s) {
        ok = parse_addr(f, s, n, nb);
    } else if (f->type == T_IP4 && lua_isinteger(L, 3)) {
        lua_Integer x = lua_tointeger(L, 3);
        if ((ok = x >= 0 && x <= 0xffffffff))
            wr(nb, 4, (uint32_t)x);
    }
    if (!ok)
        luaL_error(L, "%s.%s: %s is not %s", knames[v->kind], f->name,
                   s ? lua_pushfstring(L, "'%s'", vnet_shown(L, s, n))
                     : lua_isinteger(L, 3) ? lua_pushfstring(L, "%I",
                                                lua_tointeger(L, 3))
                     : luaL_typename(L, 3),
                   f->type == T_IP4 ? "an IPv4 address"
                   : f->type == T_IP6 ? "an IPv6 address" : "a MAC address");
}

static void setfield(lua_State *L, view *v, const field *f)
{
    if (f->flags & F_RO)
        luaL_error(L, "%s.%s is read-only", knames[v->kind], f->name);
    unsigned char nb[16];
    size_t n = width(f), at;
    const unsigned char *b = v->p->data;
    if (f->type == T_SPECIAL) {
        switch (f->special) {
        case S_ETYPE: at = v->typeoff; n = 2; break;
        case S_VLAN: case S_PCP:
            if (v->ntags == 0)
                luaL_error(L, "eth.%s: the frame has no VLAN tag", f->name);
            at = 14; n = 2; break;
        case S_PROTO6: at = v->protooff - v->off; n = 1; break;
        default:
            at = tcp_opt(L, v, f, topt[f->special - S_MSS].kind,
                         topt[f->special - S_MSS].len);
            if (at == 0)
                luaL_error(L, "tcp.%s: the segment has no such option",
                           f->name);
            at -= v->off;
            n = f->special == S_MSS ? 2 : 1;
        }
        at = span(L, v, f, at, n);
        uint32_t x;
        if (f->special == S_VLAN)
            x = (rd(b + at, 2) & 0xf000) | checkint(L, v, f, 0xfff);
        else if (f->special == S_PCP)
            x = (rd(b + at, 2) & 0x1fff) | checkint(L, v, f, 7) << 13;
        else
            x = checkint(L, v, f, n == 2 ? 0xffff : 0xff);
        wr(nb, n, x);
    } else if (f->type >= T_IP4) {
        at = span(L, v, f, f->off, n);
        addr(L, v, f, nb);
    } else {
        at = span(L, v, f, f->off, n);
        uint32_t max = f->mask ? f->mask >> __builtin_ctz(f->mask)
                     : (uint32_t)(((uint64_t)1 << (8 * n)) - 1);
        uint32_t x = checkint(L, v, f, max);
        if (f->mask)
            x = (rd(b + at, n) & ~f->mask) | (x << __builtin_ctz(f->mask));
        wr(nb, n, x);
    }
    put(v, f, at, nb, n);
}

/* The field argument 2 names, or NULL with what the name table holds for
 * it (nil, or a method) on top. Upvalue 1: name -> the field (kind << 8 |
 * index) or a method. `kind` is the class's: a view of another kind,
 * handed to this class's metamethod, never hits the view's cache and is
 * refused by fieldof. A name found is remembered in the view, in the slot
 * its address picks (field names are short strings, so each name has one
 * address while its table keeps it). */
static const field *named(lua_State *L, view *v, int kind)
{
    /* (a number key becomes its text in place: no field has such a name,
     * and the error shows it as luaL_tolstring would) */
    const char *k = lua_tostring(L, 2);
    unsigned slot = (unsigned)((uintptr_t)k >> 5) & (VIEW_NAMES - 1);
    if (k && v->names[slot].name == k && v->kind == kind)
        return v->names[slot].f;
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNUMBER)
        return NULL;
    const field *f = fieldof(L, v);
    lua_pop(L, 1);
    if (k) { /* fieldof refused a view of another kind */
        v->names[slot].name = k;
        v->names[slot].f = f;
    }
    return f;
}

static int v_index(lua_State *L, int kind)
{
    view *v = checkview(L);
    const field *f = named(L, v, kind);
    if (f)
        return getfield(L, v, f);
    if (lua_isnil(L, -1)) /* as setting does: a typo is not a nil field */
        return vnet_error(L, "%s has no field '%s'", knames[v->kind],
                          luaL_tolstring(L, 2, NULL));
    return 1; /* a method */
}

static int v_newindex(lua_State *L, int kind)
{
    view *v = checkview(L);
    const field *f = named(L, v, kind);
    if (f == NULL)
        return vnet_error(L, "%s has no field '%s'", knames[v->kind],
                          luaL_tolstring(L, 2, NULL));
    setfield(L, v, f);
    return 0;
}

/* Each kind's __index and __newindex: the kind is known without an
 * upvalue lookup, on the path of every field a rewriter touches. */
#define KIND_MM(k) \
    static int index_##k(lua_State *L) { return v_index(L, k); } \
    static int newindex_##k(lua_State *L) { return v_newindex(L, k); }
KIND_MM(1) KIND_MM(2) KIND_MM(3) KIND_MM(4) KIND_MM(5) KIND_MM(6)
KIND_MM(7) KIND_MM(8)
_Static_assert(V_NKINDS == 9, "a KIND_MM for each kind of view");
static const lua_CFunction kindex[V_NKINDS] = {
    NULL, index_1, index_2, index_3, index_4, index_5, index_6, index_7,
    index_8
};
static const lua_CFunction knewindex[V_NKINDS] = {
    NULL, newindex_1, newindex_2, newindex_3, newindex_4, newindex_5,
    newindex_6, newindex_7, newindex_8
};

static int v_tostring(lua_State *L)
{
    view *v = checkview(L);
    lua_pushfstring(L, "vnet.%s: header at offset %d, %d bytes",
                    knames[v->kind], (int)v->off, (int)v->hlen);
    return 1;
}

/* eth:tag(i) -> tpid, pcp, dei, vid of VLAN tag i (1 = outermost) */
static int eth_tag(lua_State *L)
{
    view *v = vnet_testudata(L, 1, &vnet_view_tag, sizeof(view));
    luaL_argcheck(L, v && v->kind == V_ETH, 1, "eth view expected");
    lua_Integer i = luaL_checkinteger(L, 2);
    if (i < 1 || i > v->ntags)
        return 0;
    size_t at = 12 + 4 * (size_t)(i - 1);
    if (at + 4 > v->p->len)
        return luaL_error(L, "eth:tag: past the end of the packet");
    const unsigned char *b = v->p->data + at;
    lua_pushinteger(L, rd(b, 2));
    lua_pushinteger(L, b[2] >> 5);
    lua_pushboolean(L, b[2] & 0x10);
    lua_pushinteger(L, rd(b + 2, 2) & 0xfff);
    return 4;
}

/* proto.core.layout.<kind>: the field table above as Lua sees it, for
 * the builder (lua/vnet/build.lua) and the fuzzer (fuzz/driver.lua):
 * { size = fixed header bytes, csum = its checksum's offset,
 *   fields = { <name> = { name, off, width, mask, shift, max, type = "u8" |
 *              "u16" | "u32" | "ip4" | "ip6" | "mac" | "special", ro, keep,
 *              bool }, [i] = the same, in header order },
 *   options = (tcp) { mss = { kind = 2, len = 4 }, ... } } */
static void layout(lua_State *L, int kind, int layouts)
{
    static const char *const tn[] = {"u8", "u16", "u32", "ip4", "ip6", "mac",
                                     "special"};
    lua_newtable(L);
    lua_pushinteger(L, ksize[kind]);
    lua_setfield(L, -2, "size");
    if (vnet_csum_off(kind) >= 0) {
        lua_pushinteger(L, vnet_csum_off(kind));
        lua_setfield(L, -2, "csum");
    }
    lua_newtable(L);
    for (int i = 0; kfields[kind][i].name; i++) {
        const field *f = &kfields[kind][i];
        lua_createtable(L, 0, 10);
        lua_pushstring(L, f->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, tn[f->type]);
        lua_setfield(L, -2, "type");
        if (f->type != T_SPECIAL) {
            size_t n = width(f);
            lua_pushinteger(L, f->off);
            lua_setfield(L, -2, "off");
            lua_pushinteger(L, (lua_Integer)n);
            lua_setfield(L, -2, "width");
            if (f->type <= T_U32) { /* n <= 4 */
                uint32_t mask = f->mask ? f->mask
                              : (uint32_t)(((uint64_t)1 << (8 * n)) - 1);
                int shift = f->mask ? __builtin_ctz(f->mask) : 0;
                lua_pushinteger(L, mask);
                lua_setfield(L, -2, "mask");
                lua_pushinteger(L, shift);
                lua_setfield(L, -2, "shift");
                lua_pushinteger(L, mask >> shift);
                lua_setfield(L, -2, "max");
            }
        }
        lua_pushboolean(L, f->flags & F_RO);
        lua_setfield(L, -2, "ro");
        lua_pushboolean(L, f->flags & F_KEEP);
        lua_setfield(L, -2, "keep");
        lua_pushboolean(L, f->flags & F_BOOL);
        lua_setfield(L, -2, "bool");
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, f->name);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "fields");
    if (kind == V_TCP) { /* options = { mss = { kind = 2, len = 4 }, ... } */
        lua_newtable(L);
        for (size_t i = 0; i < sizeof topt / sizeof *topt; i++) {
            lua_createtable(L, 0, 2);
            lua_pushinteger(L, topt[i].kind);
            lua_setfield(L, -2, "kind");
            lua_pushinteger(L, topt[i].len);
            lua_setfield(L, -2, "len");
            lua_setfield(L, -2, topt[i].name);
        }
        lua_setfield(L, -2, "options");
    }
    lua_setfield(L, layouts, knames[kind]);
}

void vnet_view_class(lua_State *L, int kind, int lists, int layouts)
{
    layout(L, kind, layouts);
    luaL_newmetatable(L, vnet_view_tnames[kind]);
    lua_newtable(L);                       /* name -> index, and methods */
    lua_newtable(L);                       /* the ordered list of names */
    int slots = 0;
    for (int i = 0; kfields[kind][i].name; i++) {
        int t = kfields[kind][i].type;
        if (i >= 32 || (slots == VIEW_TEXTS && t >= T_IP4 && t <= T_MAC))
            luaL_error(L, "field.c: %s has more fields than kslot holds",
                       knames[kind]);
        if (t == T_IP4 || t == T_IP6 || t == T_MAC)
            kslot[kind][i] = (unsigned char)slots++;
        lua_pushinteger(L, kind << 8 | i);
        lua_setfield(L, -3, kfields[kind][i].name);
        lua_pushstring(L, kfields[kind][i].name);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, lists, knames[kind]);
    if (kind == V_ETH) {
        lua_pushcfunction(L, eth_tag);
        lua_setfield(L, -2, "tag");
    }
    int mt = lua_absindex(L, -2), fm = lua_absindex(L, -1);
    const struct { const char *name; lua_CFunction fn; } mm[] = {
        {"__index", kindex[kind]}, {"__newindex", knewindex[kind]},
        {"__tostring", v_tostring}
    };
    for (int i = 0; i < 3; i++) {
        lua_pushvalue(L, fm);
        lua_pushcclosure(L, mm[i].fn, 1);
        lua_setfield(L, mt, mm[i].name);
    }
    lua_pop(L, 2);
}
