/*
 * macvtap.c - vnet.macvtap.core: the character device of a macvtap or
 * ipvtap link, opened as a vnet packet device (core/dev.c), so it reads
 * and writes Ethernet frames with the API of a TAP.
 *
 * The kernel names the node /dev/tap<ifindex> and gives its major:minor in
 * sysfs (/sys/class/net/<name>/{macvtap,ipvtap}/tap<ifindex>/dev). Two snags:
 * sysfs shows the devices of the namespace that mounted it, and ifindexes
 * are per namespace, so /dev/tap5 may belong to another namespace's
 * macvtap. So the number is read from a sysfs mounted in the link's own
 * namespace (a child process in a private mount namespace does that), and
 * when /dev/tap<ifindex> is missing or is another device, a private node
 * is made, opened and unlinked at once. TUNGETIFF then confirms the fd is
 * the link asked for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "io/io.h"

static int read_devt(const char *path, unsigned *maj, unsigned *min)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -errno;
    int n = fscanf(f, "%u:%u", maj, min);
    fclose(f);
    return n == 2 ? 0 : -EINVAL;
}

/* major:minor of tap<ifindex> as this namespace's sysfs shows it; the
 * node sits under the class directory of its kind (macvtap or ipvtap). */
static int devt_here(const char *name, int ifindex, dev_t *out)
{
    char path[256];
    unsigned maj, min;
    int r = -ENOENT;
    static const char *const classes[] = {"macvtap", "ipvtap", NULL};
    for (int i = 0; classes[i] && r == -ENOENT; i++) {
        snprintf(path, sizeof path, "/sys/class/net/%s/%s/tap%d/dev", name,
                 classes[i], ifindex);
        r = read_devt(path, &maj, &min);
    }
    if (r == 0)
        *out = makedev(maj, min);
    return r;
}

/* The same, from a sysfs mounted in the current network namespace by a
 * child process in a private mount namespace. */
static int devt_fresh(const char *name, int ifindex, dev_t *out)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid == 0) {
        dev_t d = 0;
        int r = -EPERM;
        if (unshare(CLONE_NEWNS) == 0 &&
            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
            mount("sysfs", "/sys", "sysfs", 0, NULL) == 0)
            r = devt_here(name, ifindex, &d);
        else
            r = -errno;
        struct { int r; dev_t d; } res = {r, d};
        if (write(p[1], &res, sizeof res) < 0) { /* parent sees EIO */ }
        _exit(0);
    }
    int e = errno;
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -e;
    }
    struct { int r; dev_t d; } res = {-EIO, 0};
    ssize_t n;
    while ((n = read(p[0], &res, sizeof res)) < 0 && errno == EINTR) {}
    close(p[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    if (n != (ssize_t)sizeof res)
        return -EIO;
    if (res.r == 0)
        *out = res.d;
    return res.r;
}

/* An fd on the character device devt: /dev/tap<ifindex> when that is it,
 * else a node of our own, unlinked once open. */
static int open_node(int ifindex, dev_t devt)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/dev/tap%d", ifindex);
    if (stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == devt)
        return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    snprintf(path, sizeof path, "/dev/.vnet-tap%d-%d", ifindex, (int)getpid());
    unlink(path);
    if (mknod(path, S_IFCHR | 0600, devt) < 0)
        return -1;
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    int e = errno;
    unlink(path);
    errno = e;
    return fd;
}

/* open(ifindex, name, op, vnet_hdr) -> dev | nil, msg, errno */
static int m_open(lua_State *L)
{
    const char *op = luaL_optstring(L, 3, "macvtap.open");
    int ifindex = vnet_checkifindex(L, 1, op);
    const char *name = vnet_checkname(L, 2, IFNAMSIZ - 1, op, "name");
    size_t nlen = strlen(name);
    int vhdr = lua_toboolean(L, 4);
    dev_t devt = 0;
    int r = devt_fresh(name, ifindex, &devt);
    if (r < 0) {
        /* no private sysfs (no CAP_SYS_ADMIN): trust /sys if it agrees */
        char path[256];
        unsigned idx = 0;
        snprintf(path, sizeof path, "/sys/class/net/%s/ifindex", name);
        FILE *f = fopen(path, "re");
        int ok = f && fscanf(f, "%u", &idx) == 1 && (int)idx == ifindex;
        if (f) fclose(f);
        r = ok ? devt_here(name, ifindex, &devt) : r;
    }
    if (r < 0)
        return vnet_pusherr(L, op, name, -r, -r == ENOENT
                            ? "not a macvtap or ipvtap link" : NULL);

    vnet_dev *d = vnet_dev_new(L, VNET_DEV_TAP, 0);
    int fd = open_node(ifindex, devt);
    if (fd < 0) {
        int e = errno;
        return vnet_pusherr(L, op, name, e, e == EPERM || e == EACCES
                            ? "opening the tap device needs root" : NULL);
    }
    d->fd = fd; /* from here on, __gc closes it */
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (vhdr ? IFF_VNET_HDR : 0));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
        (vhdr && ioctl(fd, TUNGETVNETHDRSZ, &d->vnet_hdr_sz) < 0) ||
        ioctl(fd, TUNGETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        d->fd = -1;
        return vnet_pusherr(L, op, name, e, NULL);
    }
    if (strncmp(ifr.ifr_name, name, IFNAMSIZ) != 0) {
        close(fd);
        d->fd = -1;
        return vnet_pusherr(L, op, name, ENXIO, "the tap node belongs to "
                            "another link");
    }
    memcpy(d->name, name, nlen + 1);
    d->ifindex = ifindex;
    d->vnet_hdr = vhdr;
    d->flags = (unsigned short)ifr.ifr_flags;
    return 1;
}

int luaopen_vnet_macvtap_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"open", m_open},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    vnet_dev_open_methods(L); /* the packet device class exists */
    lua_setfield(L, -2, "methods");
    return 1;
}
