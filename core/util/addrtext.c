/*
 * addrtext.c - the text of addresses: IPv4 and IPv6 (inet_pton/ntop) and
 * MAC ("02:00:00:00:00:01"). Used by the header views, the packet
 * builder's helpers, netlink attributes and the address syntax alike.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "util/util.h"

size_t vnet_fmt_ip4(char *buf, const unsigned char *a)
{
    return (size_t)snprintf(buf, 16, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

size_t vnet_fmt_ip6(char *buf, const unsigned char *a)
{
    inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
    return strlen(buf);
}

size_t vnet_fmt_mac(char *buf, const unsigned char *a)
{
    return (size_t)snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", a[0],
                            a[1], a[2], a[3], a[4], a[5]);
}

int vnet_parse_ip4(const char *s, unsigned char *out)
{
    return inet_pton(AF_INET, s, out) == 1;
}

int vnet_parse_ip6(const char *s, unsigned char *out)
{
    return inet_pton(AF_INET6, s, out) == 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "02:00:00:00:00:01" (or with '-'): six two-digit hex bytes */
int vnet_parse_mac(const char *s, unsigned char *out)
{
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
        if (lo < 0)
            return 0;
        out[i] = (unsigned char)(hi << 4 | lo);
        s += 2;
        if (i < 5 && *s != ':' && *s != '-')
            return 0;
        if (i < 5)
            s++;
    }
    return *s == 0;
}
