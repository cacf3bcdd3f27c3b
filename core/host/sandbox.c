/*
 * sandbox.c - the host's `--netns NAME` and `--sandbox`. The sandbox moves
 * the process, before any script runs, into namespaces of its own where it
 * can make devices freely and cannot see or touch the machine's.
 *
 *   user    a fresh user namespace. Root inside (so creating TUNs, veths
 *           and namespaces works) is an unprivileged uid outside: the
 *           caller's own uid, or nobody (65534) when the caller is root.
 *           Its capabilities hold only over namespaces this one owns, so
 *           it cannot setns(2) back into the machine's network namespace,
 *           move a link there or change anything the kernel guards with a
 *           capability over the machine; and outside it is nobody, so root
 *           owned files (/etc, /proc/sys, daemons' sockets) are closed to
 *           it, as they would not be if root stayed uid 0 outside.
 *   network a fresh network namespace, owned by that user namespace, with
 *           lo up.
 *   mount   a private mount namespace (nothing mounted in it propagates
 *           out) with a tmpfs on /run/netns, so the machine's named
 *           namespaces are not seen and the sandbox's are not seen out
 *           there, and a sysfs for the new network namespace on /sys, so
 *           /sys/class/net shows the sandbox's links, not the machine's.
 *
 * Mapping root to another uid needs a process outside the new user
 * namespace (a process may map only its own uid from inside): a child
 * forked first writes the maps, as newuidmap(1) does for shadow-utils,
 * and stays to open /dev/net/tun for the sandbox (see helper()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/close_range.h>
#include <linux/magic.h>
#include <linux/nsfs.h>

#include "host/host.h"


#define NOBODY 65534 /* who root in a sandbox is outside it */

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    return w < 0 ? -e : 0;
}

/* Bring lo up in the current namespace (ioctl: no netlink needed). */
static int lo_up(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (r == 0) {
        ifr.ifr_flags |= IFF_UP;
        r = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    r = r < 0 ? -errno : 0;
    close(fd);
    return r;
}

/* ---- the helper outside (root's sandbox only) ----------------------
 * Forked before the unshare, it stays root in the machine's namespaces:
 * it writes the id maps, then serves one request, "a /dev/net/tun fd in
 * this network namespace", for namespaces the sandbox's user namespace
 * owns, so TUN/TAP work in the sandbox even where the node is mode 0600
 * (the sandbox's root is nobody outside). That fd is all it ever hands
 * out: what a user gets where the node is 0666. It ends when the sandboxed
 * process closes its end of the socket, or dies. */

/* the sandboxed process's end of the socket (process-wide: the sandbox is
 * the process's, made once before any Lua state runs a script) */
static int sandbox_fd = -1;

/* Send an int, and an fd with it when fd >= 0. */
static int send_fd(int sock, int value, int fd)
{
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct iovec iov = { &value, sizeof value };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&u, 0, sizeof u);
        m.msg_control = u.buf;
        m.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    return sendmsg(sock, &m, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* Receive an int and maybe an fd (-1 when none came). 0 at end of file,
 * 1 for a message, -1 on error. */
static int recv_fd(int sock, int *value, int *fd)
{
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct iovec iov = { value, sizeof *value };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    *fd = -1;
    ssize_t n;
    while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
    if (n <= 0)
        return (int)n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(fd, CMSG_DATA(c), sizeof *fd);
    return n == (ssize_t)sizeof *value ? 1 : -1;
}

/* Is fd a network namespace owned by the user namespace `user` (dev,
 * ino) or one below it? Asked of nsfs only: no ioctl goes to whatever
 * other file the sandbox might send. */
static int sandbox_owns(int fd, const struct stat *user)
{
    struct statfs fs;
    if (fstatfs(fd, &fs) < 0 || fs.f_type != NSFS_MAGIC ||
        ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
        return 0;
    int u = ioctl(fd, NS_GET_USERNS), found = 0;
    while (u >= 0 && !found) {
        struct stat st;
        found = fstat(u, &st) == 0 && st.st_dev == user->st_dev &&
                st.st_ino == user->st_ino;
        int up = found ? -1 : ioctl(u, NS_GET_PARENT); /* EPERM at the top */
        close(u);
        u = up;
    }
    return found;
}

static void helper(pid_t parent, int sock, unsigned outside)
{
    char path[64], map[64];
    int go, fd;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* nothing of the parent's but the socket: a pipe the caller reads to
     * its end must not stay open here */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int i = 0; i < 3 && null >= 0; i++)
        dup2(null, i);
    if (sock != 3 && (dup2(sock, 3) < 0 || (sock = 3, 0)))
        _exit(1);
    syscall(SYS_close_range, 4U, ~0U, 0U);
    if (getppid() != parent || recv_fd(sock, &go, &fd) != 1)
        _exit(0); /* the parent gave up */
    snprintf(map, sizeof map, "0 %u 1\n", outside);
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)parent);
    int r = write_file(path, map);
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)parent);
    if (r == 0)
        r = write_file(path, map);
    struct stat user;
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)parent);
    if (r == 0 && stat(path, &user) < 0)
        r = -errno;
    if (send_fd(sock, -r, -1) < 0 || r < 0)
        _exit(1);
    for (int req; recv_fd(sock, &req, &fd) == 1;) {
        int e = EPERM, tun = -1;
        if (fd >= 0 && sandbox_owns(fd, &user)) {
            e = setns(fd, CLONE_NEWNET) < 0 ? errno : 0;
            if (e == 0 && (tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0)
                e = errno;
        }
        if (fd >= 0)
            close(fd);
        r = send_fd(sock, e, tun);
        if (tun >= 0)
            close(tun);
        if (r < 0)
            break;
    }
    _exit(0);
}

/* vnet_tun_opener in root's sandbox: ask the helper. */
static int tun_from_helper(int flags)
{
    int ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), e, fd;
    if (ns < 0)
        return -1;
    int r = send_fd(sandbox_fd, 0, ns);
    close(ns);
    if (r < 0 || recv_fd(sandbox_fd, &e, &fd) != 1) {
        errno = EACCES; /* no helper: the error the open had */
        return -1;
    }
    if (fd < 0) {
        errno = e ? e : EACCES;
        return -1;
    }
    if ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
        e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Root: new namespaces with root inside mapped to nobody outside, then
 * become that root (until setresuid the process is still uid 0 outside). */
static int enter_as_root(int flags, char *err, size_t n)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, n, "--sandbox: socketpair: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        close(sv[0]);
        helper(parent, sv[1], NOBODY);
    }
    close(sv[1]);
    if (pid < 0) {
        snprintf(err, n, "--sandbox: fork: %s", strerror(errno));
        close(sv[0]);
        return -1;
    }
    int e = unshare(flags) < 0 ? errno : 0, mapped = EPIPE, none;
    if (e == 0 && send_fd(sv[0], 0, -1) < 0)
        e = errno;
    if (e == 0 && recv_fd(sv[0], &mapped, &none) != 1)
        mapped = EPIPE;
    if (e) {
        close(sv[0]);
        snprintf(err, n, "--sandbox: %s (making the sandbox's namespaces; "
                 "see the sysctl user.max_user_namespaces)", strerror(e));
        return -1;
    }
    if (mapped) {
        close(sv[0]);
        snprintf(err, n, "--sandbox: cannot map root to uid %d outside the "
                 "sandbox: %s", NOBODY, strerror(mapped));
        return -1;
    }
    sandbox_fd = sv[0];
    vnet_tun_opener = tun_from_helper;
    /* supplementary groups (root's gid 0 among them) would still count
     * outside: drop them before the uid change drops the right to */
    if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 ||
        setresuid(0, 0, 0) < 0) {
        snprintf(err, n, "--sandbox: cannot become the sandbox's root: %s",
                 strerror(errno));
        return -1;
    }
    /* a uid change makes the process undumpable, which makes its /proc
     * files root's: it is unprivileged now, so undo that */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    return 0;
}

/* A user: map it to root inside, from inside (allowed for one's own uid
 * once setgroups is denied). */
static int enter_as_user(int flags, char *err, size_t n)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(flags) < 0) {
        snprintf(err, n, "--sandbox: %s (this system does not let users "
                 "make user namespaces: see the sysctls "
                 "kernel.unprivileged_userns_clone and "
                 "user.max_user_namespaces, or run as root)", strerror(errno));
        return -1;
    }
    char map[64];
    write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
    int r = write_file("/proc/self/uid_map", map);
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
    if (r == 0)
        r = write_file("/proc/self/gid_map", map);
    if (r < 0) {
        snprintf(err, n, "--sandbox: cannot map the user into the new "
                 "user namespace: %s", strerror(-r));
        return -1;
    }
    return 0;
}

/* The sandbox's own /run/netns and /sys, in its private mount namespace. */
static int private_mounts(char *err, size_t n)
{
    const char *what = "/";
    struct stat st;
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        goto fail;
    what = "/run/netns";
    if (stat("/run/netns", &st) == 0 && S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", "/run/netns", "tmpfs", MS_NOSUID | MS_NODEV |
                  MS_NOEXEC, "mode=0755") < 0)
            goto fail;
    } else {
        /* none on the machine, and making one would change it: an empty
         * private /run, with an empty /run/netns in it */
        what = "/run";
        if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV,
                  "mode=0755") < 0 || mkdir("/run/netns", 0755) < 0)
            goto fail;
    }
    what = "/sys";
    if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              NULL) < 0)
        goto fail;
    return 0;
fail:
    snprintf(err, n, "--sandbox: cannot mount the sandbox's own %s: %s",
             what, strerror(errno));
    return -1;
}

static int vnet_sandbox_enter(char *err, size_t n)
{
    int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET;
    vnet_netns_moved();
    if ((geteuid() == 0 ? enter_as_root : enter_as_user)(flags, err, n) < 0)
        return -1;
    if (private_mounts(err, n) < 0)
        return -1;
    int r = lo_up();
    if (r < 0) {
        snprintf(err, n, "--sandbox: cannot bring lo up: %s", strerror(-r));
        return -1;
    }
    return 0;
}

/* --netns NAME: enter it; --sandbox: see above. */
int vnet_netns_host_option(const char *name, int sandbox, char *err, size_t n)
{
    if (name) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, strchr(name, '/') ? "%s" : "/run/netns/%s",
                     name) >= (int)sizeof path) {
            snprintf(err, n, "--netns: the name is longer than %d bytes",
                     PATH_MAX - 1);
            return -1;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        vnet_netns_moved();
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
            int e = errno;
            snprintf(err, n, "--netns %s: %s (%s)", name, strerror(e),
                     e == ENOENT ? "no namespace of that name; see `ip netns "
                                   "list`, or make one with `ip netns add`"
                     : e == EPERM ? "entering a namespace needs "
                                    "CAP_SYS_ADMIN: run as root"
                     : "not a network namespace");
            if (fd >= 0) close(fd);
            return -1;
        }
        close(fd);
        return 0;
    }
    return sandbox ? vnet_sandbox_enter(err, n) : 0;
}
