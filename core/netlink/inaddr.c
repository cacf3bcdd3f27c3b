/*
 * inaddr.c - the one syntax of IP prefixes that vnet reads (addr, route,
 * neigh, kind options, nl.pton/nl.cidr). The addresses themselves, and MAC
 * addresses, are read by parse.c's parsers (vnet_parse_ip4/ip6/mac), the
 * ones the header views use: one parser of each for the whole project.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/addr.h>

#include "netlink/nl.h"

int vnet_parse_cidr(const char *s, size_t len, int *family,
                    unsigned char out[16], int *plen)
{
    char buf[INET6_ADDRSTRLEN];
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    if (strlen(s) != len || alen == 0 || alen >= sizeof buf)
        return -1;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    /* the address itself: the header views' parser (parse.c), so that
     * both read one syntax */
    if (vnet_parse_ip4(buf, out))
        *family = AF_INET;
    else if (vnet_parse_ip6(buf, out))
        *family = AF_INET6;
    else
        return -1;
    *plen = -1;
    if (slash) {
        const char *p = slash + 1, *end = s + len;
        int n = 0, max = *family == AF_INET ? 32 : 128;
        if (p == end || end - p > 3)
            return -1;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            n = n * 10 + (*p - '0');
        }
        if (n > max)
            return -1;
        *plen = n;
    }
    return 0;
}

struct nl_addr *vnet_nl_parse(const char *s, size_t len, int family,
                              int prefix_ok)
{
    unsigned char b[16];
    int fam, plen;
    if (vnet_parse_cidr(s, len, &fam, b, &plen) < 0 ||
        (family != AF_UNSPEC && fam != family) || (plen >= 0 && !prefix_ok))
        return NULL;
    int alen = fam == AF_INET ? 4 : 16;
    struct nl_addr *a = nl_addr_build(fam, b, (size_t)alen);
    if (a)
        nl_addr_set_prefixlen(a, plen < 0 ? alen * 8 : plen);
    return a;
}
