/*
 * addrtext.c - the text of addresses: IPv4 and IPv6 (inet_pton/ntop) and
 * MAC ("02:00:00:00:00:01"). Used by the header views, the packet
 * builder's helpers, netlink attributes and the address syntax alike.
 */
#define _GNU_SOURCE
#include <string.h>
#include <arpa/inet.h>

#include "util/util.h"

/* By hand, not snprintf: a header view formats an address per packet
 * (ip.dst in a rewriter), and vfprintf cost ~2,500 instructions of it. */
size_t vnet_fmt_ip4(char *buf, const unsigned char *a)
{
    char *o = buf;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *o++ = (char)('0' + v / 100);
        if (v >= 10)
            *o++ = (char)('0' + v / 10 % 10);
        *o++ = (char)('0' + v % 10);
        *o++ = i < 3 ? '.' : '\0';
    }
    return (size_t)(o - buf - 1);
}

size_t vnet_fmt_ip6(char *buf, const unsigned char *a)
{
    inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
    return strlen(buf);
}

size_t vnet_fmt_mac(char *buf, const unsigned char *a)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 6; i++) {
        buf[3 * i] = hex[a[i] >> 4];
        buf[3 * i + 1] = hex[a[i] & 15];
        buf[3 * i + 2] = i < 5 ? ':' : '\0';
    }
    return 17;
}

/* By hand as well (ip.dst = "10.0.0.2" per packet; inet_pton took 220
 * instructions), with inet_pton's rules: four decimal parts of 0-255, no
 * leading zeros, nothing after; out is written only on success. */
int vnet_parse_ip4(const char *s, unsigned char *out)
{
    unsigned char a[4];
    for (int i = 0; i < 4; i++) {
        if (i > 0 && *s++ != '.')
            return 0;
        unsigned v = 0, n = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (n > 0 && v == 0)
                return 0; /* "01": a leading zero */
            v = v * 10 + (unsigned)(*s - '0');
            if (++n > 3 || v > 255)
                return 0;
        }
        if (n == 0)
            return 0;
        a[i] = (unsigned char)v;
    }
    if (*s != '\0')
        return 0;
    memcpy(out, a, 4);
    return 1;
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
