/*
 * csum.c - the Internet checksum (RFC 1071) of IPv4 headers and of TCP,
 * UDP, ICMP and ICMPv6 with their pseudo-headers; incremental update (RFC
 * 1624) for the field setters of field.c. The packet methods built on them
 * are in rewrite.c.
 */
#include <stdio.h>
#include <string.h>

#include "packet/proto.h"

static uint32_t fold(uint64_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

uint32_t vnet_sum(const unsigned char *b, size_t n, uint32_t sum)
{
    uint64_t s = sum;
    size_t i = 0;
    for (; i + 1 < n; i += 2)
        s += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (i < n)
        s += (uint32_t)b[i] << 8;
    return fold(s);
}

uint32_t vnet_wsum(const unsigned char *base, size_t from, size_t to,
                   size_t lim)
{
    uint64_t s = 0;
    if (to + (to & 1) <= lim) { /* every word whole: no byte past lim */
        for (size_t i = from & ~(size_t)1; i < to; i += 2)
            s += (uint32_t)(base[i] << 8 | base[i + 1]);
        return fold(s);
    }
    for (size_t i = from & ~(size_t)1; i < to; i += 2) {
        unsigned hi = i < lim ? base[i] : 0;
        unsigned lo = i + 1 < lim ? base[i + 1] : 0;
        s += hi << 8 | lo;
    }
    return fold(s);
}

void vnet_csum_adjust(unsigned char *c, uint32_t oldsum, uint32_t newsum,
                      int times, int udp)
{
    uint32_t hc = (uint32_t)(c[0] << 8 | c[1]);
    if (udp == 1 && hc == 0)
        return; /* UDP over IPv4 without a checksum */
    uint64_t s = ~hc & 0xffff;
    for (int i = 0; i < times; i++)
        s += (~oldsum & 0xffff) + newsum;
    uint32_t r = ~fold(s) & 0xffff;
    if (udp && r == 0)
        r = 0xffff;
    c[0] = (unsigned char)(r >> 8);
    c[1] = (unsigned char)r;
}

void vnet_csum_adjust_partial(unsigned char *c, uint32_t oldsum,
                              uint32_t newsum)
{
    uint64_t s = (uint32_t)(c[0] << 8 | c[1]);
    s += (~oldsum & 0xffff) + newsum;
    uint32_t r = fold(s);
    c[0] = (unsigned char)(r >> 8);
    c[1] = (unsigned char)r;
}

uint32_t vnet_pseudo_sum(const unsigned char *b, const layers *ly, size_t n)
{
    uint64_t s = (unsigned)ly->proto;
    if (ly->l3kind == V_IPV4) {
        s += vnet_sum(b + ly->l3 + 12, 8, 0) + n; /* dstoff: l3 + 16 */
    } else {
        s += vnet_sum(b + ly->l3 + 8, 16, 0);
        s += vnet_sum(b + ly->dstoff, 16, 0);
        s += (n >> 16) + (n & 0xffff);
    }
    return fold(s);
}
