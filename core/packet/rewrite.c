/*
 * rewrite.c - the packet methods that check and rewrite checksums and
 * headers in place: p:fix_checksums(), p:checksums_ok(), p:swap(),
 * p:echo_reply(), p:arp_reply(mac); they allocate nothing. Registered on
 * packets by proto.c; the checksum arithmetic is csum.c's.
 */
#include <stdio.h>
#include <string.h>

#include "packet/proto.h"

#define csum_at vnet_csum_off

/* Bytes the transport checksum of ly covers (the UDP length, or to the
 * end of the datagram). */
static size_t l4_span(const unsigned char *b, const layers *ly)
{
    if (ly->l4kind == V_UDP)
        return (size_t)(b[ly->l4 + 4] << 8 | b[ly->l4 + 5]);
    return ly->l3end - ly->l4;
}

/* The transport kind protocol `proto` names under ly's IP version. */
static int l4kind_of(const layers *ly)
{
    int p = ly->proto;
    return p == 17 ? V_UDP : p == 6 ? V_TCP
         : p == 1 && ly->l3kind == V_IPV4 ? V_ICMP
         : p == 58 && ly->l3kind == V_IPV6 ? V_ICMP6 : 0;
}

/* The transport checksum of ly as fix_checksums writes it: the full one
 * (a computed zero sent as 0xffff for UDP), or for an offload packet the
 * partial one, the pseudo-header sum (the kernel sums the rest). The
 * field counts as zero; the packet is left as it was. */
static uint32_t l4_csum(vnet_packet *p, const layers *ly)
{
    unsigned char *b = p->data, *c = b + ly->l4 + csum_at(ly->l4kind);
    size_t n = l4_span(b, ly);
    if ((p->vh_flags & VNET_NEEDS_CSUM) &&
        (ly->l4kind == V_TCP || ly->l4kind == V_UDP))
        return vnet_pseudo_sum(b, ly, n);
    unsigned char keep[2] = {c[0], c[1]};
    c[0] = c[1] = 0;
    uint32_t s = ly->l4kind == V_ICMP ? 0 : vnet_pseudo_sum(b, ly, n);
    s = ~vnet_sum(b + ly->l4, n, s) & 0xffff;
    c[0] = keep[0];
    c[1] = keep[1];
    return ly->l4kind == V_UDP && s == 0 ? 0xffff : s;
}

/* Parse for the checksum methods; 1 = go on, 0 = nothing to do (not IP),
 * -1 = malformed (nil, why pushed), also when the transport header that
 * the IP header announces is malformed. */
static int parse_ip(lua_State *L, const vnet_packet *p, layers *ly)
{
    if (vnet_parse_arg(L, p, 2, V_IP, ly)) {
        layers why;
        int kind = l4kind_of(ly);
        return ly->l4kind || ly->frag == 2 || kind == 0 ||
               vnet_parsed(L, p, 2, kind, &why) ? 1 : -1;
    }
    if (ly->ethertype == 0x0800 || ly->ethertype == 0x86dd ||
        (ly->link == LINK_ETH && ly->l2len == 0)) {
        lua_pushnil(L);
        lua_pushstring(L, ly->why);
        return -1;
    }
    return 0;
}

/* p:fix_checksums([l3off]) -> true | nil, why: recompute the IPv4 header
 * checksum and the TCP/UDP/ICMP/ICMPv6 checksum. A fragment's transport
 * checksum covers bytes not in this packet and is left alone; an offload
 * packet's partial checksum (p.needs_csum) is set to the pseudo-header
 * sum, as the kernel expects it. */
int vnet_p_fix_checksums(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    layers ly;
    int r = parse_ip(L, p, &ly);
    if (r == 0 || (r < 0 && ly.l3kind == 0))
        return r < 0 ? 2 : (lua_pushboolean(L, 1), 1);
    unsigned char *b = p->data;
    if (ly.l3kind == V_IPV4) { /* even when the transport is malformed */
        unsigned char *c = b + ly.l3 + 10;
        c[0] = c[1] = 0;
        uint32_t s = ~vnet_sum(b + ly.l3, ly.l3hlen, 0) & 0xffff;
        c[0] = (unsigned char)(s >> 8);
        c[1] = (unsigned char)s;
    }
    if (ly.l4kind && ly.frag == 0) {
        unsigned char *c = b + ly.l4 + csum_at(ly.l4kind);
        uint32_t s = l4_csum(p, &ly);
        c[0] = (unsigned char)(s >> 8);
        c[1] = (unsigned char)s;
    }
    if (r < 0)
        return 2; /* nil, why about the transport */
    lua_pushboolean(L, 1);
    return 1;
}

static const char *const l4names[] = {
    [V_UDP] = "udp", [V_TCP] = "tcp", [V_ICMP] = "icmp", [V_ICMP6] = "icmp6"
};

/* p:checksums_ok([l3off]) -> true | false, which | nil, why */
int vnet_p_checksums_ok(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    layers ly;
    int r = parse_ip(L, p, &ly);
    if (r <= 0)
        return r < 0 ? 2 : (lua_pushboolean(L, 1), 1);
    const unsigned char *b = p->data;
    if (ly.l3kind == V_IPV4) {
        uint32_t s = vnet_sum(b + ly.l3, ly.l3hlen, 0);
        if (s != 0xffff) {
            unsigned f = (unsigned)(b[ly.l3 + 10] << 8 | b[ly.l3 + 11]);
            char m[80];
            snprintf(m, sizeof m, "ipv4 header checksum 0x%04X is wrong "
                     "(should be 0x%04X)", f,
                     ~vnet_csum_fold((uint64_t)s + (~f & 0xffff)) & 0xffff);
            lua_pushboolean(L, 0);
            lua_pushstring(L, m);
            return 2;
        }
    }
    if (ly.l4kind && ly.frag == 0) {
        size_t n = l4_span(b, &ly);
        const unsigned char *c = b + ly.l4 + csum_at(ly.l4kind);
        unsigned f = (unsigned)(c[0] << 8 | c[1]);
        /* a partial checksum is never zero (the pseudo-header sum has the
         * protocol and length in it): zero there is wrong, not "none" */
        if ((p->vh_flags & VNET_NEEDS_CSUM) &&
            (ly.l4kind == V_TCP || ly.l4kind == V_UDP)) {
            uint32_t want = vnet_pseudo_sum(b, &ly, n); /* partial */
            if (f == want) {
                lua_pushboolean(L, 1);
                return 1;
            }
            char m[96];
            snprintf(m, sizeof m, "%s partial checksum 0x%04X is wrong "
                     "(should be 0x%04X)", l4names[ly.l4kind], f, want);
            lua_pushboolean(L, 0);
            lua_pushstring(L, m);
            return 2;
        }
        if (ly.l4kind == V_UDP && f == 0 && ly.l3kind == V_IPV4) {
            lua_pushboolean(L, 1); /* no checksum */
            return 1;
        }
        uint32_t s = ly.l4kind == V_ICMP ? 0 : vnet_pseudo_sum(b, &ly, n);
        s = vnet_sum(b + ly.l4, n, s);
        if (s != 0xffff || (ly.l4kind == V_UDP && f == 0)) {
            uint32_t want = ~vnet_csum_fold((uint64_t)s + (~f & 0xffff)) & 0xffff;
            if (ly.l4kind == V_UDP && want == 0)
                want = 0xffff;
            char m[80];
            snprintf(m, sizeof m, "%s checksum 0x%04X is wrong (should be "
                     "0x%04X)", l4names[ly.l4kind], f, want);
            lua_pushboolean(L, 0);
            lua_pushstring(L, m);
            return 2;
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

static void swapn(unsigned char *a, unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

/* Swap source and destination at every layer found; the checksums stay
 * right because their sums do not change. */
static void swap_layers(vnet_packet *p, const layers *ly)
{
    unsigned char *b = p->data;
    if (ly->link == LINK_ETH && ly->l2len)
        swapn(b, b + 6, 6);
    if (ly->l3kind == V_IPV4)
        swapn(b + ly->l3 + 12, b + ly->l3 + 16, 4);
    else if (ly->l3kind == V_IPV6 && ly->dstoff != ly->l3 + 24 &&
             ly->l4kind && ly->frag == 0) {
        /* a routing header names the final destination: the source in
         * the pseudo-header changes (to the fixed header's destination).
         * The checksum right before (r1) becomes the one right after (r2)
         * and the other way round, anything else stays: a right checksum
         * stays right, a wrong one wrong, and swapping twice gives the
         * same bytes back (an incremental update cannot: it loses which
         * of 0x0000 and 0xffff a wrong field held). */
        unsigned char *c = b + ly->l4 + csum_at(ly->l4kind);
        uint32_t f = (uint32_t)(c[0] << 8 | c[1]), r1 = l4_csum(p, ly);
        swapn(b + ly->l3 + 8, b + ly->l3 + 24, 16);
        uint32_t r2 = l4_csum(p, ly);
        f = f == r1 ? r2 : f == r2 ? r1 : f;
        c[0] = (unsigned char)(f >> 8);
        c[1] = (unsigned char)f;
    } else if (ly->l3kind == V_IPV6)
        swapn(b + ly->l3 + 8, b + ly->l3 + 24, 16);
    if (ly->l4kind == V_UDP || ly->l4kind == V_TCP)
        swapn(b + ly->l4, b + ly->l4 + 2, 2);
}

/* p:swap([l3off]) -> true | nil, why: swap Ethernet and IP addresses and
 * TCP/UDP ports, in place. */
int vnet_p_swap(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    layers ly;
    int r = parse_ip(L, p, &ly);
    if (r < 0)
        return 2;
    if (r == 0 && !(ly.link == LINK_ETH && ly.l2len)) {
        lua_pushnil(L);
        lua_pushstring(L, ly.why);
        return 2;
    }
    swap_layers(p, &ly);
    lua_pushboolean(L, 1);
    return 1;
}

/* p:echo_reply([l3off]) -> true | nil, why: turn an ICMP or ICMPv6 echo
 * request into its reply, in place: type, checksum, addresses. */
int vnet_p_echo_reply(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    layers ly;
    int r = parse_ip(L, p, &ly);
    if (r < 0)
        return 2;
    unsigned char *b = p->data;
    int req = ly.l4kind == V_ICMP ? 8 : 128;
    if (r == 0 || (ly.l4kind != V_ICMP && ly.l4kind != V_ICMP6) ||
        b[ly.l4] != req) {
        lua_pushnil(L);
        if (r == 0 || (ly.l4kind != V_ICMP && ly.l4kind != V_ICMP6))
            lua_pushstring(L, "echo_reply: not an ICMP or ICMPv6 packet");
        else
            lua_pushfstring(L, "echo_reply: not an echo request (%s type "
                            "%d)", l4names[ly.l4kind], b[ly.l4]);
        return 2;
    }
    unsigned char *h = b + ly.l4;
    uint32_t old = (uint32_t)(h[0] << 8 | h[1]);
    h[0] = ly.l4kind == V_ICMP ? 0 : 129;
    vnet_csum_adjust(h + 2, old, (uint32_t)(h[0] << 8 | h[1]), 1, 0);
    swap_layers(p, &ly);
    lua_pushboolean(L, 1);
    return 1;
}

/* p:arp_reply(mac [, l3off]) -> true | nil, why: turn an ARP request
 * into the reply saying that the target address is at `mac`, in place. */
int vnet_p_arp_reply(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    const char *ms = luaL_checkstring(L, 2);
    unsigned char mac[6];
    if (!vnet_parse_mac(ms, mac))
        return luaL_argerror(L, 2, lua_pushfstring(L, "'%s' is not a MAC "
                             "address", ms));
    layers ly;
    if (!vnet_parsed(L, p, 3, V_ARP, &ly))
        return 2;
    unsigned char *b = p->data, *a = b + ly.l3;
    if (a[6] != 0 || a[7] != 1) {
        lua_pushnil(L);
        lua_pushfstring(L, "arp_reply: not an ARP request (op %d)",
                        a[6] << 8 | a[7]);
        return 2;
    }
    a[7] = 2;
    memcpy(a + 18, a + 8, 6);     /* tha = the asker's sha */
    swapn(a + 14, a + 24, 4);     /* spa <-> tpa */
    memcpy(a + 8, mac, 6);        /* sha = the answer */
    if (ly.link == LINK_ETH && ly.l2len && ly.l3 >= 14) {
        memcpy(b, b + 6, 6);
        memcpy(b + 6, mac, 6);
    }
    lua_pushboolean(L, 1);
    return 1;
}
