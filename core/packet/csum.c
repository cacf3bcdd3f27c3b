/*
 * csum.c - the Internet checksum (RFC 1071) of IPv4 headers and of TCP,
 * UDP, ICMP and ICMPv6 with their pseudo-headers. The incremental update
 * (RFC 1624) the field setters of field.c use per packet is inline in
 * proto.h. The packet methods built on them are in rewrite.c.
 */
#include <stdio.h>
#include <string.h>

#include "packet/proto.h"

uint32_t vnet_sum(const unsigned char *b, size_t n, uint32_t sum)
{
    uint64_t s = sum;
    size_t i = 0;
    for (; i + 1 < n; i += 2)
        s += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (i < n)
        s += (uint32_t)b[i] << 8;
    return vnet_csum_fold(s);
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
    return vnet_csum_fold(s);
}
