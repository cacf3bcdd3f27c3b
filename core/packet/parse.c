/*
 * parse.c - where the headers of a packet are: Ethernet (with 802.1Q and
 * 802.1ad tags), ARP, IPv4 (with options), IPv6 (walking the extension
 * headers), then UDP, TCP, ICMP or ICMPv6. Every length is checked against
 * the bytes present before anything is read; malformed input gives a
 * reason, never an access outside the packet. (Address text is in
 * util/addrtext.c.)
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "packet/proto.h"

#define U16(b, o) ((unsigned)((b)[o] << 8 | (b)[(o) + 1]))

static int fail(layers *ly, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(layers *ly, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ly->why, sizeof ly->why, fmt, ap);
    va_end(ap);
    return 0;
}

/* The VLAN tag types, read by the parser, gso.c's walk to the IP header
 * and (proto.core.vlan_tpids) the builder: 802.1Q, 802.1ad, and the older
 * QinQ 0x9100. The first is the builder's inner tag, the second its outer. */
const unsigned vnet_vlan_tpids[VNET_NVLAN_TPIDS] = {0x8100, 0x88a8, 0x9100};

int vnet_is_vlan_tpid(unsigned t)
{
    return t == vnet_vlan_tpids[0] || t == vnet_vlan_tpids[1] ||
           t == vnet_vlan_tpids[2];
}
#define is_vlan_tpid vnet_is_vlan_tpid

/* The IPv6 extension headers (proto.h's VNET_IP6EXTS) as an array, for
 * proto.core.ip6ext and so the builder. */
#define ROW(t, n, u, b, f) {t, n, u, b, f},
const vnet_ip6ext vnet_ip6exts[] = {VNET_IP6EXTS(ROW) {-1, NULL, 0, 0, 0}};

/* The row of next-header value nh, or NULL: a switch the compiler makes a
 * jump table of (this runs for every IPv6 packet), from the same list. */
static inline const vnet_ip6ext *ext_find(int nh)
{
#define CASE(t, n, u, b, f) \
    case t: { static const vnet_ip6ext e = {t, n, u, b, f}; return &e; }
    switch (nh) {
    VNET_IP6EXTS(CASE)
    }
    return NULL;
#undef CASE
}

const vnet_ip6ext *vnet_ip6ext_find(int nh)
{
    return ext_find(nh);
}

/* Ethernet at 0: sets l2len, ntags, ethertype, typeoff, l3. */
static int parse_eth(const unsigned char *b, size_t len, layers *ly)
{
    if (len < 14)
        return fail(ly, "ethernet: truncated header (%zu of 14 bytes)", len);
    size_t at = 12;
    unsigned t = U16(b, at);
    while (is_vlan_tpid(t)) {
        if (++ly->ntags > MAX_VLAN_TAGS)
            return fail(ly, "ethernet: more than %d VLAN tags",
                        MAX_VLAN_TAGS);
        at += 4;
        if (len < at + 2)
            return fail(ly, "ethernet: truncated VLAN tag (%zu of %zu bytes)",
                        len, at + 2);
        t = U16(b, at);
    }
    ly->typeoff = at;
    ly->ethertype = t;
    ly->l2len = at + 2;
    ly->l3 = at + 2;
    return 1;
}

static int parse_arp(const unsigned char *b, size_t len, layers *ly)
{
    size_t n = len - ly->l3;
    const unsigned char *a = b + ly->l3;
    if (n < 8)
        return fail(ly, "arp: truncated header (%zu of 8 bytes)", n);
    if (U16(a, 0) != 1 || U16(a, 2) != 0x0800)
        return fail(ly, "arp: hardware type %u, protocol type 0x%04x (only "
                    "Ethernet/IPv4, 1 and 0x0800, is supported)", U16(a, 0),
                    U16(a, 2));
    if (a[4] != 6 || a[5] != 4)
        return fail(ly, "arp: %u-byte hardware and %u-byte protocol "
                    "addresses (only Ethernet/IPv4, 6 and 4, are supported)",
                    a[4], a[5]);
    if (n < 28)
        return fail(ly, "arp: truncated (%zu of 28 bytes)", n);
    ly->l3kind = V_ARP;
    ly->l3hlen = 28;
    ly->l3end = ly->l3 + 28;
    return 1;
}

static int parse_ipv4(const unsigned char *b, size_t len, layers *ly)
{
    size_t n = len - ly->l3;
    const unsigned char *h = b + ly->l3;
    if (n < 20)
        return fail(ly, "ipv4: truncated header (%zu of 20 bytes)", n);
    if (h[0] >> 4 != 4)
        return fail(ly, "ipv4: version %u, not 4", h[0] >> 4);
    size_t ihl = (size_t)(h[0] & 15) * 4;
    if (ihl < 20)
        return fail(ly, "ipv4: bad IHL %u (header length %zu < 20)",
                    h[0] & 15, ihl);
    if (ihl > n)
        return fail(ly, "ipv4: header length %zu runs past the end "
                    "(%zu bytes)", ihl, n);
    size_t tot = U16(h, 2);
    if (tot < ihl)
        return fail(ly, "ipv4: total length %zu shorter than the header "
                    "(%zu)", tot, ihl);
    if (tot > n)
        return fail(ly, "ipv4: total length %zu runs past the end "
                    "(%zu bytes)", tot, n);
    unsigned fo = U16(h, 6);
    ly->l3kind = V_IPV4;
    ly->l3hlen = ihl;
    ly->l3end = ly->l3 + tot;
    ly->dstoff = ly->l3 + 16;
    ly->frag = (fo & 0x1fff) ? 2 : (fo & 0x2000) ? 1 : 0;
    ly->proto = h[9];
    ly->protooff = ly->l3 + 9;
    return 1;
}

/* A routing header at r (elen bytes) with segments left: where the final
 * destination is, which the transport's pseudo-header uses (RFC 8200 8.1);
 * 0 for a type whose addresses are not stored whole (RPL, type 3) or a
 * header too short to hold one. Type 0 (RFC 2460) lists the addresses in
 * order, the final one last; type 2 (RFC 6275) has one; a segment routing
 * header (type 4, RFC 8754) keeps them in reverse, Segment List[0] first. */
static size_t rt_final(const unsigned char *r, size_t elen)
{
    if (r[3] == 0)
        return 0;
    size_t n = (size_t)r[1] / 2; /* 16-byte addresses after 8 bytes */
    switch (r[2]) {
    case 0: return n ? 8 + 16 * (n - 1) : 0;
    case 2: return n == 1 ? 8 : 0;
    case 4: return n && elen >= 24 ? 8 : 0;
    }
    return 0;
}

size_t vnet_ip6_pseudo_dst(const unsigned char *ip, size_t n)
{
    size_t at = 40;
    int nh = n >= 40 ? ip[6] : -1;
    const vnet_ip6ext *e;
    for (int count = 0; count < MAX_IP6_EXT && at + 8 <= n &&
                        (e = ext_find(nh)) != NULL; count++) {
        size_t elen = e->fixed ? e->fixed
                    : ((size_t)ip[at + 1] + e->bias) * e->unit;
        if (elen > n - at)
            break;
        if (nh == 43) {
            size_t fin = rt_final(ip + at, elen);
            return fin ? at + fin : 24;
        }
        nh = ip[at];
        at += elen;
    }
    return 24;
}

static int parse_ipv6(const unsigned char *b, size_t len, layers *ly)
{
    size_t n = len - ly->l3;
    const unsigned char *h = b + ly->l3;
    if (n < 40)
        return fail(ly, "ipv6: truncated header (%zu of 40 bytes)", n);
    if (h[0] >> 4 != 6)
        return fail(ly, "ipv6: version %u, not 6", h[0] >> 4);
    size_t plen = U16(h, 4);
    if (plen == 0 && h[6] == 0) /* a jumbogram: the rest of the packet */
        plen = n - 40;
    if (40 + plen > n)
        return fail(ly, "ipv6: payload length %zu runs past the end "
                    "(%zu bytes after the header)", plen, n - 40);
    ly->l3kind = V_IPV6;
    ly->l3end = ly->l3 + 40 + plen;
    ly->dstoff = ly->l3 + 24;
    size_t at = ly->l3 + 40, nhoff = ly->l3 + 6;
    int nh = h[6], count = 0, seen_dst = 0;
    unsigned char seen[256] = {0};
    const vnet_ip6ext *e;
    while ((e = ext_find(nh)) != NULL) {
        if (++count > MAX_IP6_EXT)
            return fail(ly, "ipv6: more than %d extension headers",
                        MAX_IP6_EXT);
        if (nh == 0 && count != 1)
            return fail(ly, "ipv6: extension header loop (hop-by-hop "
                        "options after another header)");
        if (seen[nh] && !(nh == 60 && seen_dst < 2))
            return fail(ly, "ipv6: extension header loop (header %d "
                        "repeated)", nh);
        seen[nh] = 1;
        if (nh == 60)
            seen_dst++;
        if (ly->l3end - at < 8)
            return fail(ly, "ipv6: extension header %d truncated "
                        "(%zu of 8 bytes)", nh, ly->l3end - at);
        size_t elen = e->fixed ? e->fixed
                    : ((size_t)b[at + 1] + e->bias) * e->unit;
        if (elen > ly->l3end - at)
            return fail(ly, "ipv6: extension header %d length %zu runs past"
                        " the end (%zu bytes)", nh, elen, ly->l3end - at);
        if (nh == 44) {
            unsigned fo = U16(b, at + 2);
            ly->frag = (fo >> 3) ? 2 : (fo & 1) ? 1 : 0;
        } else if (nh == 43) {
            size_t fin = rt_final(b + at, elen);
            if (fin)
                ly->dstoff = at + fin;
        }
        nhoff = at;
        nh = b[at];
        at += elen;
    }
    ly->l3hlen = at - ly->l3;
    ly->proto = nh;
    ly->protooff = nhoff;
    return 1;
}

static const char *kname(int kind)
{
    static const char *const names[] = {
        "?", "ethernet", "arp", "ipv4", "ipv6", "icmp", "icmp6", "udp", "tcp"
    };
    return kind > 0 && kind < V_NKINDS ? names[kind] : "ip";
}

static int parse_l4(const unsigned char *b, layers *ly, int want)
{
    int kind = ly->proto == 17 ? V_UDP : ly->proto == 6 ? V_TCP
             : ly->proto == 1 && ly->l3kind == V_IPV4 ? V_ICMP
             : ly->proto == 58 && ly->l3kind == V_IPV6 ? V_ICMP6 : 0;
    if (kind == 0 || (want != V_IP && want != kind))
        return fail(ly, "%s: not %s (protocol %d)", kname(want),
                    kname(want), ly->proto);
    if (ly->frag == 2)
        return fail(ly, "%s: not the first fragment", kname(kind));
    size_t at = ly->l3 + ly->l3hlen, n = ly->l3end - at;
    size_t need = kind == V_TCP ? 20 : 8;
    if (n < need)
        return fail(ly, "%s: truncated header (%zu of %zu bytes)",
                    kname(kind), n, need);
    size_t hlen = need;
    if (kind == V_TCP) {
        hlen = (size_t)(b[at + 12] >> 4) * 4;
        if (hlen < 20)
            return fail(ly, "tcp: bad data offset %u (header length %zu < "
                        "20)", b[at + 12] >> 4, hlen);
        if (hlen > n)
            return fail(ly, "tcp: header length %zu runs past the end of "
                        "the IP payload (%zu bytes)", hlen, n);
    } else if (kind == V_UDP && ly->frag == 0) {
        size_t ulen = U16(b, at + 4);
        if (ulen < 8)
            return fail(ly, "udp: length %zu < 8", ulen);
        if (ulen > n)
            return fail(ly, "udp: length %zu runs past the end of the IP "
                        "payload (%zu bytes)", ulen, n);
    }
    ly->l4kind = kind;
    ly->l4 = at;
    ly->l4hlen = hlen;
    return 1;
}

int vnet_guess_link(const unsigned char *b, size_t len)
{
    int v = len ? b[0] >> 4 : 0;
    if (v == 4 && len >= 20 && (b[0] & 15) >= 5 && U16(b, 2) == len)
        return LINK_RAW;
    if (v == 6 && len >= 40 && (40 + U16(b, 4) == len || U16(b, 4) == 0))
        return LINK_RAW;
    if (len >= 14) {
        unsigned t = U16(b, 12);
        if (t == 0x0800 || t == 0x86dd || t == 0x0806 || is_vlan_tpid(t))
            return LINK_ETH;
    }
    return (v == 4 || v == 6) ? LINK_RAW : LINK_ETH;
}

int vnet_parse(const unsigned char *b, size_t len, int link, long l3off,
               int want, layers *ly)
{
    memset(ly, 0, offsetof(layers, why));
    ly->proto = -1;
    ly->why[0] = 0;
    ly->link = link;
    if (want == V_ETH || (l3off < 0 && link == LINK_ETH)) {
        if (link != LINK_ETH)
            return fail(ly, "ethernet: no Ethernet header (the packet "
                        "starts with an IP header; p:linktype(\"eth\") says "
                        "otherwise)");
        if (!parse_eth(b, len, ly))
            return 0;
        if (want == V_ETH)
            return 1;
    }
    if (l3off >= 0) {
        if ((size_t)l3off > len)
            return fail(ly, "%s: offset %ld past the end (%zu bytes)",
                        kname(want), l3off, len);
        ly->l3 = (size_t)l3off;
    }
    if (want == V_ARP) {
        if (l3off < 0 && link == LINK_RAW)
            return fail(ly, "arp: no ARP in a raw IP packet");
        if (l3off < 0 && ly->ethertype != 0x0806)
            return fail(ly, "arp: not ARP (ethertype 0x%04x)", ly->ethertype);
        return parse_arp(b, len, ly);
    }
    int v = ly->l3 < len ? b[ly->l3] >> 4 : -1;
    if (l3off >= 0 || link == LINK_RAW) {
        ly->ethertype = v == 4 ? 0x0800 : v == 6 ? 0x86dd : 0;
        if (v < 0)
            return fail(ly, "%s: truncated header (0 bytes)", kname(want));
        if (v != 4 && v != 6) {
            if (want == V_IPV4 || want == V_IPV6)
                return fail(ly, "%s: version %d, not %c", kname(want), v,
                            want == V_IPV4 ? '4' : '6');
            return fail(ly, "%s: no IP header (version %d)", kname(want), v);
        }
    }
    if (ly->ethertype == 0x0800) {
        if (want == V_IPV6 || want == V_ICMP6)
            return fail(ly, "%s: not IPv6 (IPv4)", kname(want));
        if (!parse_ipv4(b, len, ly))
            return 0;
    } else if (ly->ethertype == 0x86dd) {
        if (want == V_IPV4 || want == V_ICMP)
            return fail(ly, "%s: not IPv4 (IPv6)", kname(want));
        if (!parse_ipv6(b, len, ly))
            return 0;
    } else {
        return fail(ly, "%s: not IP (ethertype 0x%04x)", kname(want),
                    ly->ethertype);
    }
    if (want == V_IPV4 || want == V_IPV6 || want == V_IP) {
        /* the transport too, when it is there: IP views keep its checksum
         * right when addresses change (the IP header parsed: why is empty) */
        if (!parse_l4(b, ly, V_IP)) {
            ly->l4kind = 0;
            ly->why[0] = 0;
        }
        return 1;
    }
    return parse_l4(b, ly, want);
}
