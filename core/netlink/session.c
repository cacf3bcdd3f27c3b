/*
 * session.c - vnet.session.core: what lua/vnet/session.lua cannot do in Lua.
 *
 *   delete_group(group, op) -> true | nil, msg, errno
 *       RTM_DELLINK of every link of a device group in the current
 *       namespace: the kernel unregisters them together, one RCU grace
 *       period for all (`ip link delete group N`).
 *   guardian(homefd) -> fd | nil, msg, errno
 *       fork the guardian: a child that reads the journal's records from a
 *       SOCK_SEQPACKET socket whose other end only this process holds.
 *       "E" (the session ended and undid its work) makes it exit; EOF
 *       without "E" (the session was killed) makes it undo what it was
 *       told, newest first, and exit.
 *   send(fd, record [, nsfd]) -> true | nil, msg, errno
 *   apply(record [, tofd [, what]]) -> true | nil, msg, errno
 *       undo one record in the current namespace, as the guardian does
 *
 * Records (text, one per message): the journal entry's description of
 * its undo, read by both sides: apply() below undoes one in the guardian
 * after a SIGKILL, and session.apply(rec) in-process (lua/vnet/_journal.lua).
 *   L id group nsino ifindex name nsref   a link the session made
 *   N id nsino path                       a named namespace it made
 *   R id nsino ifindex nsref mtu up master txqlen name mac
 *                                         set back a link it did not make
 *                                         (-1, "-": that one unchanged)
 *   A id nsino ifindex nsref family prefixlen hexaddr  an address it added
 *   T id nsino ifindex nsref family dstlen table metric hexdst hexvia
 *                                         a route (ifindex 0: no device;
 *                                         "-": none; -1: unset)
 *   H id nsino ifindex nsref family flags hexdst  a neighbour
 *   P id nsino ifindex nsref attr:size:value,...  bridge-port options back
 *   M id nsino ifindex nsref toino toref name  a link it moved: back to
 *                                         namespace toino, named name
 *   F nsino   (with the namespace's fd, SCM_RIGHTS) hold it: nsref "@"
 *   X nsino                               let go of it
 *   D id                                  forget id (undone or let go)
 *   E                                     the session ended cleanly
 * nsref is "-" for the namespace of homefd, "@" for one held by F, else
 * the /run/netns path; the guardian enters it only while its inode is
 * still nsino.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include <lauxlib.h>

#include "netlink/nl.h"

volatile int vnet_session_held;

/* hold(): one more reason not to be interrupted; release(): one less */
static int s_hold(lua_State *L) { vnet_session_held++; return 0; }
static int s_release(lua_State *L) { vnet_session_held -= vnet_session_held > 0; return 0; }

/* ---- delete_group ----------------------------------------------------- */

static int s_delete_group(lua_State *L)
{
    lua_Integer g = luaL_checkinteger(L, 1);
    const char *op = luaL_optstring(L, 2, "session.undo");
    luaL_argcheck(L, g > 0 && g <= 0xffffffff, 1, "group out of range");
    char ext[256] = "", obj[32];
    snprintf(obj, sizeof obj, "group %lld", (long long)g);
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELLINK, 0);
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    if (msg == NULL || nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
        nla_put_u32(msg, IFLA_GROUP, (uint32_t)g) < 0) {
        nlmsg_free(msg);
        return vnet_pusherr(L, op, obj, ENOMEM, NULL);
    }
    int r = vnet_nl_request(msg, ext, sizeof ext);
    if (r < 0)
        return vnet_nl_pusherr(L, op, obj, r, ext);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- undoing one record (the guardian, and session.apply) ------------- */

typedef struct entry {
    char type;
    long id;
    unsigned long group, nsino, toino;
    int ifindex;
    char name[IFNAMSIZ];      /* L: its name; R, M: the name back ("": none) */
    char path[256], toref[256];
    long mtu, up, master, txqlen, table, metric;
    int family, prefixlen, flags, maclen, hasdst, hasvia;
    unsigned char addr[16], via[16], mac[32];
    char items[256];          /* P */
} entry;

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
static int parse(entry *e, const char *buf)
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

static int dellink(int ifindex, unsigned long group)
{
    struct req m;
    start(&m, RTM_DELLINK, sizeof m.u.i);
    m.u.i.ifi_index = ifindex;
    if (group) put32(&m, IFLA_GROUP, (long)group);
    return nl_do(&m.h);
}

/* Undo e in the current namespace (M: tofd is where the link goes back):
 * 0, or -errno. */
static int apply(const entry *e, int tofd)
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

/* ---- the guardian (the child) ----------------------------------------- */

/* The namespaces the session's process gave it (F): nsref "@" */
static struct { unsigned long ino; int fd; } held[256];
static int nheld;

static int held_fd(unsigned long ino)
{
    for (int i = 0; i < nheld; i++)
        if (held[i].ino == ino) return held[i].fd;
    return -1;
}

/* An fd of the namespace at ref ("-", "@" or a path) if its inode is still
 * ino, else -1; *opened: the caller closes it. */
static int ns_fd(const char *ref, unsigned long ino, int homefd, int *opened)
{
    struct stat st;
    int fd;
    *opened = 0;
    if (strcmp(ref, "-") == 0) fd = homefd;
    else if (strcmp(ref, "@") == 0) fd = held_fd(ino);
    else { fd = open(ref, O_RDONLY | O_CLOEXEC); *opened = fd >= 0; }
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == ino)
        return fd;
    if (*opened) close(fd);
    *opened = 0;
    return -1;
}

/* Enter the namespace of e if it is still the one recorded: 0 when in. */
static int enter(const entry *e, int homefd)
{
    int opened, fd = ns_fd(e->path, e->nsino, homefd, &opened);
    int r = fd >= 0 ? setns(fd, CLONE_NEWNET) : -1;
    if (opened) close(fd);
    return r;
}

static void undo(entry *es, int n, int homefd)
{
    struct stat st;
    /* changes to what it did not make, newest first */
    for (int i = n - 1; i >= 0; i--) {
        entry *e = &es[i];
        if (strchr("RATHPM", e->type) == NULL || enter(e, homefd) < 0)
            continue;
        int opened = 0, to = -1;
        if (e->type == 'M' && (to = ns_fd(e->toref, e->toino, homefd, &opened)) < 0)
            continue;
        apply(e, to);
        if (opened) close(to);
    }
    /* links: first one group delete per namespace, then one by one (the
     * ones outside the group), each only if its ifindex still has the
     * name we were told: a link made again by someone else is left */
    for (int i = n - 1; i >= 0; i--) {
        entry *e = &es[i];
        if (e->type != 'L' || !e->group || enter(e, homefd) < 0)
            continue;
        dellink(0, e->group);
    }
    for (int i = n - 1; i >= 0; i--) {
        entry *e = &es[i];
        if (e->type != 'L' || enter(e, homefd) < 0)
            continue;
        char name[IFNAMSIZ];
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = {.ifr_ifindex = e->ifindex};
        int ok = s >= 0 && ioctl(s, SIOCGIFNAME, &ifr) == 0;
        if (s >= 0) close(s);
        if (!ok) continue;
        memcpy(name, ifr.ifr_name, IFNAMSIZ);
        name[IFNAMSIZ - 1] = '\0';
        if (strcmp(name, e->name) == 0)
            dellink(e->ifindex, 0);
    }
    setns(homefd, CLONE_NEWNET);
    for (int i = n - 1; i >= 0; i--) {
        entry *e = &es[i];
        if (e->type != 'N' || stat(e->path, &st) < 0 || st.st_ino != e->nsino)
            continue;
        umount2(e->path, MNT_DETACH);
        unlink(e->path);
    }
}

/* One message, and the fd it carries (-1: none). */
static ssize_t recv_rec(int sock, char *buf, size_t size, int *fd)
{
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } c;
    struct iovec iov = {buf, size};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = c.b, .msg_controllen = sizeof c.b};
    *fd = -1;
    ssize_t r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    struct cmsghdr *cm = r > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(cm), sizeof(int));
    return r;
}

static void guardian(int sock, int homefd)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        signal(sigs[i], SIG_IGN);
    prctl(PR_SET_NAME, "vnet-guardian", 0, 0, 0);
    int devnull = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; fd++) dup2(devnull, fd);
    /* hold nothing else of the parent's: its TUN fds, sockets, pipes */
    int maxfd = (int)sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < maxfd && fd < 65536; fd++)
        if (fd != sock && fd != homefd) close(fd);
    entry *es = NULL;
    int n = 0, cap = 0;
    char buf[512];
    for (;;) {
        int fd;
        ssize_t r = recv_rec(sock, buf, sizeof buf - 1, &fd);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* EOF: the session died without undoing */
        buf[r] = '\0';
        if (buf[0] == 'E') _exit(0);
        if (buf[0] == 'F' || buf[0] == 'X') {
            unsigned long ino = strtoul(buf + 2, NULL, 10);
            for (int i = 0; i < nheld; i++)
                if (held[i].ino == ino) {
                    close(held[i].fd);
                    held[i] = held[--nheld];
                    break;
                }
            if (buf[0] == 'F' && fd >= 0 && nheld < (int)(sizeof held / sizeof *held)) {
                held[nheld].ino = ino;
                held[nheld++].fd = fd;
                fd = -1;
            }
        }
        if (fd >= 0) close(fd);
        if (buf[0] == 'D') {
            long id = strtol(buf + 2, NULL, 10);
            for (int i = n - 1; i >= 0; i--)
                if (es[i].id == id) {
                    memmove(&es[i], &es[i + 1], (size_t)(n - i - 1) * sizeof *es);
                    n--;
                    break;
                }
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            entry *ne = realloc(es, (size_t)cap * sizeof *es);
            if (ne == NULL) break;
            es = ne;
        }
        if (strchr("LNRATHPM", buf[0]) && parse(&es[n], buf))
            n++;
    }
    undo(es, n, homefd);
    _exit(0);
}

/* apply(record [, tofd [, what]]) -> true | nil, msg, errno: undo one
 * journal record in the current namespace, as the guardian would (tofd:
 * the namespace an M record's link goes back to). */
static int s_apply(lua_State *L)
{
    const char *rec = luaL_checkstring(L, 1);
    int tofd = (int)luaL_optinteger(L, 2, -1);
    const char *what = luaL_optstring(L, 3, rec);
    entry e;
    luaL_argcheck(L, strchr("RATHPM", rec[0]) && parse(&e, rec), 1,
                  "not an undo record");
    int r = apply(&e, tofd);
    if (r < 0)
        return vnet_nl_pusherr(L, "session.undo", what, r, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- the parent's side ------------------------------------------------ */

static int s_guardian(lua_State *L)
{
    int homefd = (int)luaL_checkinteger(L, 1);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return vnet_pusherr(L, "session.guardian", "socketpair", errno, NULL);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return vnet_pusherr(L, "session.guardian", "fork", e, NULL);
    }
    if (pid == 0) {
        close(sv[0]);
        guardian(sv[1], homefd);
    }
    close(sv[1]);
    lua_pushinteger(L, sv[0]);
    lua_pushinteger(L, pid);
    return 2;
}

static int s_send(lua_State *L)
{
    int fd = (int)luaL_checkinteger(L, 1);
    size_t len;
    const char *rec = luaL_checklstring(L, 2, &len);
    luaL_argcheck(L, len < 512, 2, "record too long");
    int nsfd = (int)luaL_optinteger(L, 3, -1);
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } c;
    struct iovec iov = {(void *)rec, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nsfd >= 0) { /* F: the guardian holds the namespace */
        memset(&c, 0, sizeof c);
        mh.msg_control = c.b;
        mh.msg_controllen = sizeof c.b;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &nsfd, sizeof(int));
    }
    while (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR)
            return vnet_pusherr(L, "session.guardian", "send", errno, NULL);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* group() -> the device group of this process's links: 0x56000000 + pid
 * (pids are below 2^22), unique among live sessions */
static int s_group(lua_State *L)
{
    lua_pushinteger(L, 0x56000000 | ((lua_Integer)getpid() & 0xffffff));
    return 1;
}

/* close(fd [, pid]): close the socket; reap the guardian (told "E", it
 * exits at once) so that it does not linger as a zombie */
static int s_close(lua_State *L)
{
    close((int)luaL_checkinteger(L, 1));
    if (lua_isinteger(L, 2))
        while (waitpid((pid_t)lua_tointeger(L, 2), NULL, 0) < 0 && errno == EINTR)
            ;
    return 0;
}

int luaopen_vnet_session_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"delete_group", s_delete_group}, {"guardian", s_guardian},
        {"send", s_send}, {"close", s_close}, {"group", s_group},
        {"apply", s_apply},
        {"hold", s_hold}, {"release", s_release},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    return 1;
}
