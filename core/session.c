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
 *   send(fd, record) -> true | nil, msg, errno
 *
 * Records (text, one or more per message, one per line):
 *   L id group nsino ifindex name nsref   a link the session made
 *   N id nsino path                       a named namespace it made
 *   R id nsino ifindex nsref mtu up master  set back a link it did not
 *                                         make (-1: that one unchanged)
 *   A id nsino ifindex nsref family prefixlen hexaddr  an address it added
 *   D id                                  forget id (undone or let go)
 *   E                                     the session ended cleanly
 * nsref is "-" for the namespace of homefd, else the /run/netns path.
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include <lauxlib.h>

#include "vnet.h"

/* the largest message to the guardian: records joined by newlines */
#define VNET_SESSION_MSG 4096

volatile int vnet_session_held;

/* hold(): one more reason not to be interrupted; release(): one less */
static int s_hold(lua_State *L)
{
    vnet_session_held++;
    return 0;
}

static int s_release(lua_State *L)
{
    if (vnet_session_held > 0) vnet_session_held--;
    return 0;
}

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

/* ---- the guardian (the child) ----------------------------------------- */

typedef struct entry {
    char type; /* 'L', 'N', 'R' or 'A' */
    long id;
    unsigned long group, nsino;
    int ifindex;
    char name[IFNAMSIZ];
    char path[256];
    long mtu, up, master;     /* R */
    int family, prefixlen;    /* A */
    unsigned char addr[16];
} entry;

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

static int dellink(int ifindex, unsigned long group)
{
    struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
        struct rtattr a;
        uint32_t g;
    } m = {0};
    m.h.nlmsg_len = NLMSG_LENGTH(sizeof m.i);
    m.h.nlmsg_type = RTM_DELLINK;
    m.i.ifi_family = AF_UNSPEC;
    m.i.ifi_index = ifindex;
    if (group) {
        m.a.rta_type = IFLA_GROUP;
        m.a.rta_len = RTA_LENGTH(sizeof m.g);
        m.g = (uint32_t)group;
        m.h.nlmsg_len = sizeof m;
    }
    return nl_do(&m.h);
}

struct req {
    struct nlmsghdr h;
    union {
        struct ifinfomsg i;
        struct ifaddrmsg a;
    } u;
    char attrs[64];
};

static void put(struct req *m, int type, const void *data, size_t len)
{
    struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(m->h.nlmsg_len));
    a->rta_type = (unsigned short)type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(a), data, len);
    m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* R: mtu, up, master back as they were */
static int setlink(const entry *e)
{
    struct req m = {0};
    m.h.nlmsg_len = NLMSG_LENGTH(sizeof m.u.i);
    m.h.nlmsg_type = RTM_NEWLINK;
    m.u.i.ifi_family = AF_UNSPEC;
    m.u.i.ifi_index = e->ifindex;
    if (e->up >= 0) {
        m.u.i.ifi_change = IFF_UP;
        m.u.i.ifi_flags = e->up ? IFF_UP : 0;
    }
    uint32_t v;
    if (e->mtu >= 0) { v = (uint32_t)e->mtu; put(&m, IFLA_MTU, &v, 4); }
    if (e->master >= 0) { v = (uint32_t)e->master; put(&m, IFLA_MASTER, &v, 4); }
    return nl_do(&m.h);
}

/* A: the address it added */
static int deladdr(const entry *e)
{
    struct req m = {0};
    size_t len = e->family == AF_INET6 ? 16 : 4;
    m.h.nlmsg_len = NLMSG_LENGTH(sizeof m.u.a);
    m.h.nlmsg_type = RTM_DELADDR;
    m.u.a.ifa_family = (unsigned char)e->family;
    m.u.a.ifa_prefixlen = (unsigned char)e->prefixlen;
    m.u.a.ifa_index = (unsigned)e->ifindex;
    put(&m, IFA_LOCAL, e->addr, len);
    put(&m, IFA_ADDRESS, e->addr, len);
    return nl_do(&m.h);
}

/* Enter the namespace of e: home, or the named one if it is still the
 * namespace the session made (same inode). 0 when entered. */
static int enter(const entry *e, int homefd, unsigned long homeino)
{
    if (e->path[0] == '\0' || strcmp(e->path, "-") == 0)
        return e->nsino == homeino ? setns(homefd, CLONE_NEWNET) : -1;
    int fd = open(e->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    int r = -1;
    if (fstat(fd, &st) == 0 && st.st_ino == e->nsino)
        r = setns(fd, CLONE_NEWNET);
    close(fd);
    return r;
}

static void undo(entry *es, int n, int homefd)
{
    struct stat st;
    unsigned long homeino = fstat(homefd, &st) == 0 ? st.st_ino : 0;
    /* changes to what it did not make, newest first */
    for (int i = n - 1; i >= 0; i--) {
        entry *e = &es[i];
        if ((e->type != 'R' && e->type != 'A') || enter(e, homefd, homeino) < 0)
            continue;
        if (e->type == 'R') setlink(e);
        else deladdr(e);
    }
    /* links: first one group delete per namespace, then one by one (the
     * ones outside the group), each only if its ifindex still has the
     * name we were told: a link made again by someone else is left */
    for (int i = n - 1; i >= 0; i--) {
        entry *e = &es[i];
        if (e->type != 'L' || !e->group || enter(e, homefd, homeino) < 0)
            continue;
        dellink(0, e->group);
    }
    for (int i = n - 1; i >= 0; i--) {
        entry *e = &es[i];
        if (e->type != 'L' || enter(e, homefd, homeino) < 0)
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

static int addr_record(entry *e, const char *s)
{
    char hex[40];
    if (sscanf(s, "%ld %lu %d %255s %d %d %39s", &e->id, &e->nsino,
               &e->ifindex, e->path, &e->family, &e->prefixlen, hex) != 7)
        return 0;
    size_t len = strlen(hex) / 2;
    if (len != (e->family == AF_INET6 ? 16u : 4u))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1) return 0;
        e->addr[i] = (unsigned char)b;
    }
    return 1;
}


/* One record into es (see the top of this file). -1: "E", the session
 * ended; *cap = -1 when memory ran out. */
static int take(entry **es, int *n, int *cap, const char *buf)
{
    if (buf[0] == 'E') return -1;
    if (buf[0] == 'D') {
        long id = strtol(buf + 1, NULL, 10);
        for (int i = *n - 1; i >= 0; i--)
            if ((*es)[i].id == id) {
                memmove(&(*es)[i], &(*es)[i + 1],
                        (size_t)(*n - i - 1) * sizeof **es);
                (*n)--;
                break;
            }
        return 0;
    }
    if (*cap < 0) return 0;
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        entry *ne = realloc(*es, (size_t)nc * sizeof **es);
        if (ne == NULL) { *cap = -1; return 0; }
        *es = ne;
        *cap = nc;
    }
    entry *e = &(*es)[*n];
    memset(e, 0, sizeof *e);
    e->type = buf[0];
    if (buf[1] != ' ') return 0;
    if (e->type == 'L' &&
        sscanf(buf + 2, "%ld %lu %lu %d %15s %255s", &e->id, &e->group,
               &e->nsino, &e->ifindex, e->name, e->path) == 6)
        (*n)++;
    else if (e->type == 'R' &&
             sscanf(buf + 2, "%ld %lu %d %255s %ld %ld %ld", &e->id,
                    &e->nsino, &e->ifindex, e->path, &e->mtu, &e->up,
                    &e->master) == 7)
        (*n)++;
    else if (e->type == 'A' && addr_record(e, buf + 2))
        (*n)++;
    else if (e->type == 'N' &&
             sscanf(buf + 2, "%ld %lu %255s", &e->id, &e->nsino,
                    e->path) == 3)
        (*n)++;
    return 0;
}


/* close_range(2) of [first, last] (nothing when empty): 1, or 0 when the
 * kernel lacks it. One call instead of a close() per possible fd (20,000
 * of them here), in the child that a batch's first record forks. */
static int closerange(unsigned first, unsigned last)
{
#ifdef SYS_close_range
    if (first > last || syscall(SYS_close_range, first, last, 0) == 0)
        return 1;
#else
    (void)first; (void)last;
#endif
    return 0;
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
    int lo = sock < homefd ? sock : homefd, hi = sock < homefd ? homefd : sock;
    if (!closerange(3, lo - 1) || !closerange(lo + 1, hi - 1) ||
        !closerange(hi + 1, ~0U)) {
        int maxfd = (int)sysconf(_SC_OPEN_MAX); /* no close_range (< 5.9) */
        for (int fd = 3; fd < maxfd && fd < 65536; fd++)
            if (fd != sock && fd != homefd) close(fd);
    }
    entry *es = NULL;
    int n = 0, cap = 0;
    static char buf[VNET_SESSION_MSG + 1];
    for (;;) {
        ssize_t r = recv(sock, buf, sizeof buf - 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* EOF: the session died without undoing */
        buf[r] = '\0';
        for (char *line = buf, *nl; line && *line; line = nl) {
            nl = strchr(line, '\n');
            if (nl) *nl++ = '\0';
            if (take(&es, &n, &cap, line) < 0) _exit(0);
        }
        if (cap < 0) break; /* out of memory: undo what it holds */
    }
    undo(es, n, homefd);
    _exit(0);
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
    luaL_argcheck(L, len <= VNET_SESSION_MSG, 2, "record too long");
    while (send(fd, rec, len, MSG_NOSIGNAL) < 0) {
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
        {"hold", s_hold}, {"release", s_release},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    return 1;
}
