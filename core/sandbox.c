/*
 * sandbox.c - `vnet --sandbox`: move the host process, before any script
 * runs, into namespaces of its own where it can make devices freely and
 * cannot see or touch the machine's.
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
 * forked first writes the maps, as newuidmap(1) does for shadow-utils.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vnet.h"

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

/* The helper's half: wait until the parent has unshared its user
 * namespace, then map root in it to `outside`. Exits 0 or an errno. */
static void map_from_outside(pid_t parent, int go, unsigned outside)
{
    char c, path[64], map[64];
    if (read(go, &c, 1) != 1)
        _exit(0); /* the parent gave up */
    snprintf(map, sizeof map, "0 %u 1\n", outside);
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)parent);
    int r = write_file(path, map);
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)parent);
    if (r == 0)
        r = write_file(path, map);
    _exit(r < 0 ? -r : 0);
}

/* Root: new namespaces with root inside mapped to nobody outside, then
 * become that root (until setresuid the process is still uid 0 outside). */
static int enter_as_root(int flags, char *err, size_t n)
{
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0) {
        snprintf(err, n, "--sandbox: pipe: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid(), helper = fork();
    if (helper == 0) {
        close(go[1]);
        map_from_outside(parent, go[0], NOBODY);
    }
    close(go[0]);
    if (helper < 0) {
        snprintf(err, n, "--sandbox: fork: %s", strerror(errno));
        close(go[1]);
        return -1;
    }
    int e = unshare(flags) < 0 ? errno : 0;
    if (e == 0 && write(go[1], "x", 1) != 1)
        e = errno;
    close(go[1]);
    int st = 0;
    while (waitpid(helper, &st, 0) < 0 && errno == EINTR) {}
    if (e) {
        snprintf(err, n, "--sandbox: %s (making the sandbox's namespaces; "
                 "see the sysctl user.max_user_namespaces)", strerror(e));
        return -1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(err, n, "--sandbox: cannot map root to uid %d outside the "
                 "sandbox: %s", NOBODY, WIFEXITED(st)
                 ? strerror(WEXITSTATUS(st)) : "the helper died");
        return -1;
    }
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

int vnet_sandbox_enter(char *err, size_t n)
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
