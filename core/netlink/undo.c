/*
 * undo.c - one undo record of the session's journal, parsed and applied
 * with raw rtnetlink requests (no libnl: the guardian is a forked child
 * that must not share the parent's netlink state). Used by the guardian
 * after a SIGKILL and by session.apply in-process, so both undo the same
 * way (records: see session.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if_bridge.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include <lauxlib.h>

#include "netlink/nl.h"
#include "netlink/undo.h"


/* hex ("-": none) into out: its length, or -1 */
static int unhex(const char *h, unsigned char *out, int max)
{
    if (strcmp(h, "-") == 0)
        return 0;
    int n = (int)strlen(h);
    if (n % 2 || n / 2 > max)
        return -1;
    for (int i = 0; i < n / 2; i++) {
        unsigned b;
        if (sscanf(h + 2 * i, "%2x", &b) != 1) return -1;
        out[i] = (unsigned char)b;
    }
    return n / 2;
}

/* A record (see the top of this file) into e: 1 when it is well formed. */
int vnet_undo_parse(entry *e, const char *buf)
{
    char h1[80], h2[80];
    memset(e, 0, sizeof *e);
    e->type = buf[0];
    const char *s = buf[0] ? buf + 1 : buf;
    int alen, a, v;
    switch (e->type) {
    case 'L':
        return sscanf(s, "%ld %lu %lu %d %15s %255s", &e->id, &e->group,
                      &e->nsino, &e->ifindex, e->name, e->path) == 6;
    case 'N':
        return sscanf(s, "%ld %lu %255s", &e->id, &e->nsino, e->path) == 3;
    case 'R':
        if (sscanf(s, "%ld %lu %d %255s %ld %ld %ld %ld %15s %79s", &e->id,
                   &e->nsino, &e->ifindex, e->path, &e->mtu, &e->up,
                   &e->master, &e->txqlen, e->name, h1) != 10)
            return 0;
        if (strcmp(e->name, "-") == 0) e->name[0] = '\0';
        return (e->maclen = unhex(h1, e->mac, sizeof e->mac)) >= 0;
    case 'A':
    case 'H':
        if (sscanf(s, "%ld %lu %d %255s %d %d %79s", &e->id, &e->nsino,
                   &e->ifindex, e->path, &e->family,
                   e->type == 'A' ? &e->prefixlen : &e->flags, h1) != 7)
            return 0;
        alen = e->family == AF_INET6 ? 16 : 4;
        return unhex(h1, e->addr, 16) == alen;
    case 'T':
        if (sscanf(s, "%ld %lu %d %255s %d %d %ld %ld %79s %79s", &e->id,
                   &e->nsino, &e->ifindex, e->path, &e->family, &e->prefixlen,
                   &e->table, &e->metric, h1, h2) != 10)
            return 0;
        alen = e->family == AF_INET6 ? 16 : 4;
        a = unhex(h1, e->addr, 16);
        v = unhex(h2, e->via, 16);
        e->hasdst = a > 0;
        e->hasvia = v > 0;
        return (e->family == AF_INET || e->family == AF_INET6) &&
               (a == 0 || a == alen) && (v == 0 || v == alen);
    case 'P':
        return sscanf(s, "%ld %lu %d %255s %255s", &e->id, &e->nsino,
                      &e->ifindex, e->path, e->items) == 5;
    case 'V':
        return sscanf(s, "%ld %lu %d %255s %c %d %d %d", &e->id, &e->nsino,
                      &e->ifindex, e->path, &e->vcmd, &e->vid, &e->vflags,
                      &e->vself) == 8 && (e->vcmd == 'a' || e->vcmd == 'd') &&
               e->vid >= 1 && e->vid <= 4094;
    case 'M':
        return sscanf(s, "%ld %lu %d %255s %lu %255s %15s", &e->id, &e->nsino,
                      &e->ifindex, e->path, &e->toino, e->toref, e->name) == 7;
    }
    return 0;
}

/* One request, one ack, on a fresh socket of the current namespace. */
static int nl_do(struct nlmsghdr *h)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    int r = -EIO;
    h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) >= 0) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        struct nlmsghdr *a = (struct nlmsghdr *)buf;
        if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) &&
            a->nlmsg_type == NLMSG_ERROR)
            r = ((struct nlmsgerr *)NLMSG_DATA(a))->error;
    }
    close(fd);
    return r;
}

struct req {
    struct nlmsghdr h;
    union {
        struct ifinfomsg i;
        struct ifaddrmsg a;
        struct rtmsg r;
        struct ndmsg n;
    } u;
    char attrs[512];
};

static struct rtattr *put(struct req *m, int type, const void *data, size_t len)
{
    struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(m->h.nlmsg_len));
    if (NLMSG_ALIGN(m->h.nlmsg_len) + RTA_SPACE(len) > sizeof *m)
        return a; /* cannot be: records are bounded */
    a->rta_type = (unsigned short)type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len) memcpy(RTA_DATA(a), data, len);
    m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
    return a;
}

static void nest_end(struct req *m, struct rtattr *a)
{
    a->rta_len = (unsigned short)((char *)m + m->h.nlmsg_len - (char *)a);
}

static void start(struct req *m, int type, size_t hdr)
{
    memset(m, 0, sizeof *m);
    m->h.nlmsg_len = (unsigned)NLMSG_LENGTH(hdr);
    m->h.nlmsg_type = (unsigned short)type;
}

static void put32(struct req *m, int type, long v)
{
    uint32_t u = (uint32_t)v;
    put(m, type, &u, 4);
}

int vnet_undo_dellink(int ifindex, unsigned long group)
{
    struct req m;
    start(&m, RTM_DELLINK, sizeof m.u.i);
    m.u.i.ifi_index = ifindex;
    if (group) put32(&m, IFLA_GROUP, (long)group);
    return nl_do(&m.h);
}

/* Undo e in the current namespace (M: tofd is where the link goes back):
 * 0, or -errno. */
int vnet_undo_apply(const entry *e, int tofd)
{
    struct req m;
    int r;
    size_t alen = e->family == AF_INET6 ? 16 : 4;
    switch (e->type) {
    case 'R':
        start(&m, RTM_NEWLINK, sizeof m.u.i);
        m.u.i.ifi_index = e->ifindex;
        if (e->up == 0 && (e->name[0] || e->maclen > 0)) {
            m.u.i.ifi_change = IFF_UP; /* down first: the kernel renames */
            nl_do(&m.h);               /* before it applies the flags */
        }
        if (e->up >= 0) {
            m.u.i.ifi_change = IFF_UP;
            m.u.i.ifi_flags = e->up ? IFF_UP : 0;
        }
        if (e->mtu >= 0) put32(&m, IFLA_MTU, e->mtu);
        if (e->master >= 0) put32(&m, IFLA_MASTER, e->master);
        if (e->txqlen >= 0) put32(&m, IFLA_TXQLEN, e->txqlen);
        if (e->name[0]) put(&m, IFLA_IFNAME, e->name, strlen(e->name) + 1);
        if (e->maclen > 0) put(&m, IFLA_ADDRESS, e->mac, (size_t)e->maclen);
        return nl_do(&m.h);
    case 'A': /* IFA_LOCAL alone matches a peer address too */
        start(&m, RTM_DELADDR, sizeof m.u.a);
        m.u.a.ifa_family = (unsigned char)e->family;
        m.u.a.ifa_prefixlen = (unsigned char)e->prefixlen;
        m.u.a.ifa_index = (unsigned)e->ifindex;
        put(&m, IFA_LOCAL, e->addr, alen);
        return nl_do(&m.h);
    case 'T':
        start(&m, RTM_DELROUTE, sizeof m.u.r);
        m.u.r.rtm_family = (unsigned char)e->family;
        m.u.r.rtm_dst_len = (unsigned char)e->prefixlen;
        m.u.r.rtm_scope = RT_SCOPE_NOWHERE; /* any */
        long table = e->table >= 0 ? e->table : RT_TABLE_MAIN;
        m.u.r.rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
        put32(&m, RTA_TABLE, table);
        if (e->hasdst) put(&m, RTA_DST, e->addr, alen);
        if (e->hasvia) put(&m, RTA_GATEWAY, e->via, alen);
        if (e->ifindex > 0) put32(&m, RTA_OIF, e->ifindex);
        if (e->metric >= 0) put32(&m, RTA_PRIORITY, e->metric);
        return nl_do(&m.h);
    case 'H':
        start(&m, RTM_DELNEIGH, sizeof m.u.n);
        m.u.n.ndm_family = (unsigned char)e->family;
        m.u.n.ndm_ifindex = e->ifindex;
        m.u.n.ndm_flags = (unsigned char)e->flags;
        put(&m, NDA_DST, e->addr, alen);
        return nl_do(&m.h);
    case 'P': {
        start(&m, RTM_NEWLINK, sizeof m.u.i);
        m.u.i.ifi_index = e->ifindex;
        struct rtattr *li = put(&m, IFLA_LINKINFO, NULL, 0);
        put(&m, IFLA_INFO_SLAVE_KIND, "bridge", 7);
        struct rtattr *sd = put(&m, IFLA_INFO_SLAVE_DATA, NULL, 0);
        const char *p = e->items;
        unsigned attr, size;
        unsigned long v;
        int n;
        while (sscanf(p, "%u:%u:%lu%n", &attr, &size, &v, &n) == 3) {
            uint8_t u8 = (uint8_t)v;
            uint16_t u16 = (uint16_t)v;
            if (size == 1) put(&m, (int)attr, &u8, 1);
            else if (size == 2) put(&m, (int)attr, &u16, 2);
            else put32(&m, (int)attr, (long)v);
            p += n;
            if (*p == ',') p++;
        }
        nest_end(&m, sd);
        nest_end(&m, li);
        return nl_do(&m.h);
    }
    case 'V': { /* as `bridge vlan add|del dev ... vid ... [self]` */
        start(&m, e->vcmd == 'a' ? RTM_SETLINK : RTM_DELLINK, sizeof m.u.i);
        m.u.i.ifi_family = AF_BRIDGE;
        m.u.i.ifi_index = e->ifindex;
        struct rtattr *spec = put(&m, IFLA_AF_SPEC, NULL, 0);
        if (e->vself) {
            uint16_t self = BRIDGE_FLAGS_SELF;
            put(&m, IFLA_BRIDGE_FLAGS, &self, sizeof self);
        }
        struct bridge_vlan_info vi = {.flags = (uint16_t)e->vflags,
                                      .vid = (uint16_t)e->vid};
        put(&m, IFLA_BRIDGE_VLAN_INFO, &vi, sizeof vi);
        nest_end(&m, spec);
        return nl_do(&m.h);
    }
    case 'M': /* its name taken there now: it keeps the one it has */
        for (int named = 1; named >= 0; named--) {
            start(&m, RTM_NEWLINK, sizeof m.u.i);
            m.u.i.ifi_index = e->ifindex;
            put32(&m, IFLA_NET_NS_FD, tofd);
            if (named) put(&m, IFLA_IFNAME, e->name, strlen(e->name) + 1);
            if ((r = nl_do(&m.h)) != -EEXIST) break;
        }
        return r;
    }
    return -EINVAL;
}

