/*
 * proto.h - what the packet layer's protocol files share (parse.c,
 * cache.c, csum.c, rewrite.c, proto.c, field.c, describe.c; and the
 * fuzzer): where the headers of a packet are, header views, the Internet
 * checksum. The layer's own header; packet/packet.h has what the layers
 * above use.
 */
#ifndef VNET_PROTO_H
#define VNET_PROTO_H

#include "packet/packet.h"

/* How a packet starts: at an IP (or ARP) header, or an Ethernet header.
 * LINK_AUTO: not known, guessed from the bytes (vnet_guess_link). */
enum { LINK_AUTO = VNET_LINK_AUTO, LINK_RAW = VNET_LINK_RAW,
       LINK_ETH = VNET_LINK_ETH };

/* The kinds of header view, also the slots of the view cache. */
enum { V_ETH = 1, V_ARP, V_IPV4, V_IPV6, V_ICMP, V_ICMP6, V_UDP, V_TCP,
       V_NKINDS, V_IP = 100 /* either IPv4 or IPv6, for vnet_parse */ };

#define MAX_VLAN_TAGS 8   /* more stacked 802.1Q/802.1ad tags: malformed */
#define MAX_IP6_EXT 16    /* longer IPv6 extension header chains: malformed */

/* Where the headers of one packet are; offsets are from p->data. */
typedef struct layers {
    int link;           /* LINK_RAW or LINK_ETH, as used */
    size_t l2len;       /* Ethernet header bytes incl. tags (0: none) */
    int ntags;          /* VLAN tags */
    unsigned ethertype; /* the inner ethertype (raw: from the IP version) */
    size_t typeoff;     /* offset of the inner ethertype field */
    int l3kind;         /* V_ARP, V_IPV4, V_IPV6, or 0 */
    size_t l3, l3hlen;  /* network header; IPv6: 40 + extension headers */
    size_t l3end;       /* end of the datagram (total/payload length) */
    size_t dstoff;      /* the destination the transport's pseudo-header
                         * uses: IPv6 with a routing header that has
                         * segments left, the final one (RFC 8200 8.1) */
    int frag;           /* 0 whole, 1 first fragment, 2 later fragment */
    int proto;          /* transport protocol number, -1 none */
    size_t protooff;    /* byte naming it (IPv4 9, or the last next-header) */
    int l4kind;         /* V_UDP, V_TCP, V_ICMP, V_ICMP6, or 0 */
    size_t l4, l4hlen;  /* transport header */
    char why[128];      /* why the wanted layer is missing or malformed */
} layers;

/* The IPv6 extension headers vnet walks, with how each gives its length:
 * `fixed` bytes, or (byte 1 + bias) * unit (RFC 8200 4; RFC 4302 2.2: AH
 * counts 4-byte units minus 2). One row per header: the parser walks by
 * it, the builder writes lengths by it (proto.core.ip6ext). Others (ESP,
 * no-next-header, upper layers) end the chain. X(type, name, unit, bias,
 * fixed) */
#define VNET_IP6EXTS(X) \
    X(0, "hop-by-hop", 8, 1, 0) X(43, "routing", 8, 1, 0) \
    X(44, "fragment", 0, 0, 8) X(51, "ah", 4, 2, 0) \
    X(60, "dstopts", 8, 1, 0) X(135, "mobility", 8, 1, 0) \
    X(139, "hip", 8, 1, 0) X(140, "shim6", 8, 1, 0) \
    X(253, "experimental", 8, 1, 0) X(254, "experimental", 8, 1, 0)

/* An IPv6 extension header kind; vnet_ip6exts ends with a NULL name. */
typedef struct vnet_ip6ext {
    int type;
    const char *name;
    unsigned char unit, bias, fixed;
} vnet_ip6ext;
extern const vnet_ip6ext vnet_ip6exts[];
const vnet_ip6ext *vnet_ip6ext_find(int nh);

/* Find the headers of b[0..len). link: LINK_RAW or LINK_ETH (resolve
 * LINK_AUTO first). l3off >= 0 puts the network header there instead.
 * want: the V_* kind (or V_IP) the caller needs. Returns 1 when it is
 * there and well formed; 0 with ly->why saying why not. Never reads
 * outside b[0..len). */
int vnet_parse(const unsigned char *b, size_t len, int link, long l3off,
               int want, layers *ly);
/* ---- views (proto.c, field.c) ----------------------------------------- */

/* A header view: a window on a packet's bytes (user value 1 keeps the
 * packet alive). proto.c points it; field.c reads and sets its fields. */
#define VIEW_TEXTS 4 /* address fields of one kind at most (ARP's) */
#define VIEW_NAMES 4 /* field names a view remembers (a power of 2) */
typedef struct view {
    const void *tag;       /* vnet_view_tag (vnet_testudata) */
    vnet_packet *p;
    int kind;
    size_t off, hlen, end; /* header at off; its message ends at end */
    int fam;               /* transport views: 4 or 6 */
    int l4kind;            /* IP views: transport with a pseudo-header */
    size_t l4csum;         /* ... and where its checksum is */
    size_t protooff;       /* IPv6: the byte naming the transport */
    size_t pdst;           /* IP: the pseudo-header's destination */
    size_t typeoff;        /* Ethernet: the inner ethertype */
    int ntags;
    /* the text of the last addresses read (a rewriter reads ip.dst per
     * packet): user value 2 + slot holds the string made from the tlen[slot]
     * bytes in tb[slot]; the bytes are compared before it is used again */
    unsigned char tb[VIEW_TEXTS][16], tlen[VIEW_TEXTS];
    /* the field names this view was last asked for and their fields
     * (field.c's named): a rewriter reads and sets the same few fields of
     * every packet. Only keys of the kind's name table are kept, which
     * that table keeps alive, so no other string has their addresses. */
    struct { const char *name; const void *f; } names[VIEW_NAMES];
} view;

/* Point v (of `kind`) at the headers ly found in p. */
void vnet_view_point(view *v, vnet_packet *p, const layers *ly, int kind);
/* Set the IP source (dst 0) or destination (dst 1) of p, whose headers ly
 * found, to the 4 or 16 bytes at nb, keeping the checksums right as the
 * views' setters do (field.c). */
void vnet_set_ipaddr(vnet_packet *p, const layers *ly, int dst,
                     const unsigned char *nb);

/* Offset of a kind's own checksum in its header: IPv4 10, UDP 6, TCP 16,
 * ICMP and ICMPv6 2; -1 for a kind without one. */
static inline int vnet_csum_off(int kind)
{
    static const signed char off[V_NKINDS] = {-1, -1, -1, 10, -1, 2, 2, 6,
                                              16};
    return off[kind];
}

/* Every view's tag, the same for all kinds: field.c's check compares the
 * view's kind with its own. */
extern const char vnet_view_tag;
/* Metatable names, "vnet.ipv4" and so on, by kind. */
extern const char *const vnet_view_tnames[V_NKINDS];
/* Make the metatable of one kind of view; its field names, in header
 * order, go in the table at index lists (proto.core.fields), its layout
 * in the table at index layouts (proto.core.layout). */
void vnet_view_class(lua_State *L, int kind, int lists, int layouts);

/* ---- checksums (csum.c; the small ones here, inline: a field setter
 * runs them for every packet a rewriter changes) --------------------- */

/* Ones'-complement sum of b[0..n), folded to 16 bits, added to `sum`. */
uint32_t vnet_sum(const unsigned char *b, size_t n, uint32_t sum);

/* Sum of the 16-bit words of the region starting at base that cover
 * bytes [from, to) (rounded out to whole words; bytes at or past lim
 * count as zero). */
static inline uint32_t vnet_wsum(const unsigned char *base, size_t from,
                                 size_t to, size_t lim)
{
    uint64_t s = 0;
    if (to + (to & 1) <= lim) { /* every word whole: no byte past lim */
        for (size_t i = from & ~(size_t)1; i < to; i += 2)
            s += (uint32_t)(base[i] << 8 | base[i + 1]);
        return vnet_csum_fold(s);
    }
    for (size_t i = from & ~(size_t)1; i < to; i += 2) {
        unsigned hi = i < lim ? base[i] : 0;
        unsigned lo = i + 1 < lim ? base[i + 1] : 0;
        s += hi << 8 | lo;
    }
    return vnet_csum_fold(s);
}

/* RFC 1624 eqn. 3: fix the checksum at c after words summing to oldsum
 * became newsum, `times` times over. udp: 1 for UDP over IPv4 (a zero
 * checksum means none and stays zero), 2 for UDP over IPv6; a result of
 * zero is then sent as 0xffff. */
static inline void vnet_csum_adjust(unsigned char *c, uint32_t oldsum,
                                    uint32_t newsum, int times, int udp)
{
    uint32_t hc = (uint32_t)(c[0] << 8 | c[1]);
    if (udp == 1 && hc == 0)
        return; /* UDP over IPv4 without a checksum */
    uint64_t s = ~hc & 0xffff;
    for (int i = 0; i < times; i++)
        s += (~oldsum & 0xffff) + newsum;
    uint32_t r = ~vnet_csum_fold(s) & 0xffff;
    if (udp && r == 0)
        r = 0xffff;
    c[0] = (unsigned char)(r >> 8);
    c[1] = (unsigned char)r;
}

/* The same for a partial checksum (offload, VNET_NEEDS_CSUM): the field
 * holds the pseudo-header sum itself, not its complement. */
static inline void vnet_csum_adjust_partial(unsigned char *c,
                                            uint32_t oldsum, uint32_t newsum)
{
    uint64_t s = (uint32_t)(c[0] << 8 | c[1]);
    s += (~oldsum & 0xffff) + newsum;
    uint32_t r = vnet_csum_fold(s);
    c[0] = (unsigned char)(r >> 8);
    c[1] = (unsigned char)r;
}
/* Pseudo-header sum for the transport of ly with upper-layer length n. */
uint32_t vnet_pseudo_sum(const unsigned char *b, const layers *ly, size_t n);

/* Packet methods in rewrite.c, registered by proto.c. */
int vnet_p_fix_checksums(lua_State *L);
int vnet_p_checksums_ok(lua_State *L);
int vnet_p_swap(lua_State *L);
int vnet_p_echo_reply(lua_State *L);
int vnet_p_arp_reply(lua_State *L);
/* cache.c: parse p (link from the packet, or l3off at arg) into ly. */
int vnet_parse_arg(lua_State *L, const vnet_packet *p, int arg, int want,
                   layers *ly);
/* vnet_parse_arg, or nil, why pushed and 0: `if (!vnet_parsed(...)) return 2;` */
int vnet_parsed(lua_State *L, const vnet_packet *p, int arg, int want,
                layers *ly);

/* nat.c: adds vnet.proto.nat to the module table on top of the stack. */
void vnet_nat_open(lua_State *L);

/* ---- tostring (describe.c) -------------------------------------------- */
int vnet_p_tostring(lua_State *L);

#endif
