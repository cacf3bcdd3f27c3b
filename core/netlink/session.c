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
 * Records (text, one or more per message, one per line): the journal
 * entry's description of its undo, read by both sides: vnet_undo_apply()
 * (undo.c) undoes one in the guardian after a SIGKILL, and
 * session.core.apply(rec) in-process (lua/vnet/_journal.lua).
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
 *   V id nsino ifindex nsref a|d vid flags self  a port VLAN back (a: add
 *                                         with BRIDGE_VLAN_INFO_* flags) or
 *                                         gone (d); self: on the bridge
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
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include <lauxlib.h>

#include "netlink/nl.h"
#include "netlink/undo.h"

/* the largest message to the guardian: records joined by newlines */
#define VNET_SESSION_MSG 4096

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
        vnet_undo_apply(e, to);
        if (opened) close(to);
    }
    /* links: first one group delete per namespace, then one by one (the
     * ones outside the group), each only if its ifindex still has the
     * name we were told: a link made again by someone else is left */
    for (int i = n - 1; i >= 0; i--) {
        entry *e = &es[i];
        if (e->type != 'L' || !e->group || enter(e, homefd) < 0)
            continue;
        vnet_undo_dellink(0, e->group);
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
            vnet_undo_dellink(e->ifindex, 0);
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

/* One record (a line of a message; fd: the namespace an F record carries,
 * or -1) into es. -1: "E", the session ended; 0 otherwise. */
static int take(entry **es, int *n, int *cap, char *buf, int fd)
{
    if (buf[0] == 'E') return -1;
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
        for (int i = *n - 1; i >= 0; i--)
            if ((*es)[i].id == id) {
                memmove(&(*es)[i], &(*es)[i + 1], (size_t)(*n - i - 1) * sizeof **es);
                (*n)--;
                break;
            }
        return 0;
    }
    if (*n == *cap) {
        entry *ne = realloc(*es, (size_t)(*cap ? *cap * 2 : 64) * sizeof **es);
        if (ne == NULL) return 0; /* out of memory: undo what it has */
        *es = ne;
        *cap = *cap ? *cap * 2 : 64;
    }
    if (strchr("LNRATHPVM", buf[0]) && vnet_undo_parse(&(*es)[*n], buf))
        (*n)++;
    return 0;
}

/* Close every fd from 3 up but keep1 and keep2: close_range(2) in three
 * calls (one instead of 20,000 close()s), a loop on kernels before 5.9. */
static void close_all_but(int keep1, int keep2)
{
    unsigned lo = (unsigned)(keep1 < keep2 ? keep1 : keep2);
    unsigned hi = (unsigned)(keep1 < keep2 ? keep2 : keep1);
#ifdef SYS_close_range
    if ((3 > lo - 1 || syscall(SYS_close_range, 3u, lo - 1, 0) == 0) &&
        (lo + 1 > hi - 1 || syscall(SYS_close_range, lo + 1, hi - 1, 0) == 0) &&
        syscall(SYS_close_range, hi + 1, ~0u, 0) == 0)
        return;
#endif
    int maxfd = (int)sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < maxfd && fd < 65536; fd++)
        if (fd != keep1 && fd != keep2) close(fd);
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
    close_all_but(sock, homefd);
    entry *es = NULL;
    int n = 0, cap = 0;
    static char buf[VNET_SESSION_MSG + 1]; /* records, one per line */
    for (;;) {
        int fd;
        ssize_t r = recv_rec(sock, buf, sizeof buf - 1, &fd);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* EOF: the session died without undoing */
        buf[r] = '\0';
        for (char *line = buf, *next; line && *line; line = next, fd = -1) {
            next = strchr(line, '\n');
            if (next) *next++ = '\0';
            if (take(&es, &n, &cap, line, fd) < 0) _exit(0);
        }
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
    luaL_argcheck(L, strchr("RATHPVM", rec[0]) && vnet_undo_parse(&e, rec), 1,
                  "not an undo record");
    int r = vnet_undo_apply(&e, tofd);
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
    luaL_argcheck(L, len <= VNET_SESSION_MSG, 2, "record too long");
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
