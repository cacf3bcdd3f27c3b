/*
 * tun.c - vnet.tun.core: TUN and TAP devices through /dev/net/tun.
 *
 * The kernel refuses to create tun devices over rtnetlink, so this stays on
 * the ioctls of the seed program: open /dev/net/tun, TUNSETIFF, and for a
 * persistent device TUNSETOWNER/TUNSETGROUP/TUNSETPERSIST. Everything else
 * about the link (addresses, MTU, up/down) goes through vnet.link.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <pwd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "io/io.h"

#define TUN_PATH "/dev/net/tun"

/* Who opens /dev/net/tun when this process may not: in `vnet --sandbox`
 * run as root, the sandbox's root is nobody outside and the node may be
 * mode 0600, so sandbox.c sets this to ask its helper outside, which opens
 * it in the caller's namespace. NULL elsewhere. Process-wide, as the
 * sandbox is. Returns an fd, or -1 with errno. */
int (*vnet_tun_opener)(int flags);

static int open_tun(int flags)
{
    int fd = open(TUN_PATH, O_RDWR | O_CLOEXEC | flags);
    if (fd < 0 && errno == EACCES && vnet_tun_opener)
        fd = vnet_tun_opener(flags);
    return fd;
}

/* Why an open or TUNSETIFF failed, in words a user can act on. stage 0:
 * opening TUN_PATH; 1: TUNSETIFF and the rest, of a device that existed
 * before (exists) or that we create. */
static const char *hint(int err, int stage, unsigned flags, int exists)
{
    switch (err) {
    case EACCES:
        if (stage == 0)
            return "the mode of " TUN_PATH " does not let this user open it "
                   "for reading and writing (see ls -l " TUN_PATH ")";
        /* fall through */
    case EPERM:
        if (stage == 0)
            return "opening " TUN_PATH " is not permitted here (a device "
                   "cgroup, seccomp or security module refuses it)";
        return exists
            ? "the device exists and belongs to another user or group: "
              "attaching to it needs its owner's uid or group, or "
              "CAP_NET_ADMIN"
            : "creating a tun/tap device needs CAP_NET_ADMIN; "
              "run with sudo or grant the capability";
    case ENOENT:
    case ENODEV:
    case ENXIO:
        return stage == 0 ? TUN_PATH " is missing: load the tun module "
                            "(modprobe tun) or create the node "
                            "(mknod /dev/net/tun c 10 200)" : NULL;
    case EBUSY:
        return (flags & IFF_MULTI_QUEUE)
            ? "the device is already attached to this many queues"
            : "a device of that name is already open; "
              "use multi_queue = true to open more queues";
    case EINVAL:
        return "a device of that name exists but is not a matching tun/tap: "
               "another kind, or multi_queue differs";
    default:
        return NULL;
    }
}

static long getid(lua_State *L, int idx, int group, const char *op)
{
    const char *what = group ? "option 'group'" : "option 'owner'";
    if (lua_isnoneornil(L, idx))
        return -1;
    if (lua_type(L, idx) == LUA_TNUMBER)
        return (long)vnet_checkid(L, idx, op, what);
    const char *s = vnet_checkname(L, idx, 255, op, what);
    if (group) {
        struct group *g = getgrnam(s);
        if (g) return (long)g->gr_gid;
    } else {
        struct passwd *p = getpwnam(s);
        if (p) return (long)p->pw_uid;
    }
    return vnet_error(L, "%s: no such %s '%s'", op, group ? "group" : "user", s);
}

/* Ask for the offloads, dropping what this kernel refuses: UDP
 * segmentation first (6.2+), then ECN, then TSO. Returns the accepted set;
 * 0 when not even checksum offload is taken. */
static unsigned set_offload(int fd)
{
    static const unsigned tries[] = {
        TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6,
        TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
        TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
        TUN_F_CSUM,
    };
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
        if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tries[i]) == 0)
            return tries[i];
    return 0;
}

/* Does this kernel take GSO writes? Write a two-segment TCP superpacket
 * from and to 0.0.0.0 (which the stack drops as a martian if the device is
 * up): the kernel checks the virtio_net_hdr first and answers EINVAL when
 * it refuses it, before it answers EIO for a device that is down. Returns
 * 0, or the errno that means "no GSO writes". */
static int probe_gso_write(vnet_dev *d)
{
    unsigned char pkt[14 + 42] = {0};
    int l3 = d->kind == VNET_DEV_TAP ? 14 : 0;
    if (l3)
        pkt[12] = 0x08; /* ethertype IPv4 */
    unsigned char *ip = pkt + l3;
    ip[0] = 0x45;
    ip[3] = 42;      /* total length: 20 + 20 + 2 */
    ip[8] = 1;       /* TTL */
    ip[9] = 6;       /* TCP */
    ip[20 + 12] = 5 << 4;
    ip[20 + 13] = 0x10; /* ACK */
    vnet_vhdr vh = {VNET_NEEDS_CSUM, VNET_GSO_TCPV4, (uint16_t)(l3 + 40), 1,
                    (uint16_t)(l3 + 20), 16};
    long r = vnet_dev_writev(d, &vh, pkt, (size_t)l3 + 42, -1, -1);
    d->tx_packets = 0;
    d->tx_bytes = 0;
    return r == -EINVAL ? EINVAL : 0;
}

/* open(kind, name|nil, pi, vnet_hdr, multi_queue, persist, owner, group,
 * offload, segments, coalesce) -> dev | nil, msg, errno. Option checking
 * is done by lua/vnet/tun.lua; offload implies vnet_hdr. */
static int t_open(lua_State *L)
{
    static const char *const kinds[] = {"tun", "tap", NULL};
    int kind = luaL_checkoption(L, 1, NULL, kinds) == 0 ? VNET_DEV_TUN
                                                         : VNET_DEV_TAP;
    size_t nlen = 0;
    const char *name = luaL_optlstring(L, 2, "", &nlen);
    int pi = lua_toboolean(L, 3), vhdr = lua_toboolean(L, 4);
    int mq = lua_toboolean(L, 5), persist = lua_toboolean(L, 6);
    const char *op = kind == VNET_DEV_TUN ? "tun.open" : "tap.open";
    if (nlen)
        name = vnet_checkname(L, 2, IFNAMSIZ - 1, op, "name");
    long owner = getid(L, 7, 0, op), group = getid(L, 8, 1, op);
    int offload = lua_toboolean(L, 9), segments = lua_toboolean(L, 10);
    int coalesce = lua_toboolean(L, 11);
    if (offload)
        vhdr = 1;
    const char *obj = nlen ? name : TUN_PATH;

    vnet_dev *d = vnet_dev_new(L, kind, 0);
    int fd = open_tun(O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return vnet_pusherr(L, op, obj, e, hint(e, 0, 0, 0));
    }
    d->fd = fd; /* from here on, __gc closes it whatever happens */

    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (short)((kind == VNET_DEV_TUN ? IFF_TUN : IFF_TAP) |
                            (pi ? 0 : IFF_NO_PI) | (vhdr ? IFF_VNET_HDR : 0) |
                            (mq ? IFF_MULTI_QUEUE : 0));
    memcpy(ifr.ifr_name, name, nlen);
    int exists = nlen && !strchr(name, '%') && if_nametoindex(name) != 0;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        goto fail;
    memcpy(d->name, ifr.ifr_name, IFNAMSIZ);
    d->name[IFNAMSIZ - 1] = '\0';
    d->flags = (unsigned short)ifr.ifr_flags;
    d->pi = pi;
    d->vnet_hdr = vhdr;
    if (vhdr && ioctl(fd, TUNGETVNETHDRSZ, &d->vnet_hdr_sz) < 0)
        goto fail;
    if (vhdr && d->vnet_hdr_sz != 10) { /* we speak struct virtio_net_hdr */
        int sz = 10;
        if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
            goto fail;
        d->vnet_hdr_sz = sz;
    }
    d->gso_write = vhdr; /* until the kernel refuses one */
    if (offload) {
        d->offload = set_offload(fd);
        d->gso_write_err = probe_gso_write(d);
        d->gso_write = d->gso_write_err == 0;
        d->segments = segments;
        if (coalesce && (d->gro = vnet_gro_new()) == NULL) {
            errno = ENOMEM;
            goto fail;
        }
        if (segments) {
            d->seg = vnet_packet_reused(L, 65536 + 256);
            d->seg->link = kind == VNET_DEV_TAP ? VNET_LINK_ETH
                                                : VNET_LINK_RAW;
            lua_setiuservalue(L, -2, 3);
        }
    }
    if (owner >= 0 && ioctl(fd, TUNSETOWNER, (unsigned long)owner) < 0)
        goto fail;
    if (group >= 0 && ioctl(fd, TUNSETGROUP, (unsigned long)group) < 0)
        goto fail;
    if (persist) {
        if (ioctl(fd, TUNSETPERSIST, 1UL) < 0)
            goto fail;
        d->persist = 1;
    }
    d->ifindex = (int)if_nametoindex(d->name);
    return 1;

fail:;
    int e = errno;
    close(fd);  /* a device we just made goes with the fd */
    d->fd = -1;
    vnet_gro_free(d->gro);
    d->gro = NULL;
    return vnet_pusherr(L, op, obj, e,
                        hint(e, 1, (unsigned)ifr.ifr_flags, exists));
}

/* delete(name) -> true | nil, msg, errno: clear the persist flag of a
 * persistent tun/tap that no process holds open, which removes it. */
static int t_delete(lua_State *L)
{
    static const short tries[] = {
        IFF_TUN, IFF_TAP, IFF_TUN | IFF_MULTI_QUEUE, IFF_TAP | IFF_MULTI_QUEUE,
    };
    const char *op = luaL_optstring(L, 2, "tun.delete");
    const char *name = vnet_checkname(L, 1, IFNAMSIZ - 1, op, "name");
    size_t nlen = strlen(name);
    if (if_nametoindex(name) == 0)
        return vnet_pusherr(L, op, name, ENODEV, NULL);
    int fd = open_tun(0);
    if (fd < 0) {
        int e = errno;
        return vnet_pusherr(L, op, name, e, hint(e, 0, 0, 0));
    }
    int err = EINVAL;
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        ifr.ifr_flags = tries[i] | IFF_NO_PI;
        memcpy(ifr.ifr_name, name, nlen);
        if (ioctl(fd, TUNSETIFF, &ifr) == 0) {
            err = ioctl(fd, TUNSETPERSIST, 0UL) < 0 ? errno : 0;
            break;
        }
        err = errno;
        if (err != EINVAL)
            break;
    }
    close(fd);
    if (err == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    return vnet_pusherr(L, op, name, err,
                        err == EBUSY ? "a process still has it open"
                        : err == EINVAL ? "not a tun/tap device"
                        : hint(err, 1, 0, 1));
}

static int t_features(lua_State *L)
{
    unsigned feat = 0;
    int fd = open_tun(0);
    if (fd < 0)
        return vnet_pusherr(L, "tun.features", TUN_PATH, errno, NULL);
    int r = ioctl(fd, TUNGETFEATURES, &feat);
    int e = errno;
    close(fd);
    if (r < 0)
        return vnet_pusherr(L, "tun.features", TUN_PATH, e, NULL);
    lua_pushinteger(L, feat);
    return 1;
}

/* io_batching([on]) -> mode, reason, calls, ops, registered: turn the
 * loop's batched reads and writes (iobatch.c) off (false) or on again
 * (true), and say which is in use: "io_uring", or "read/write" with why
 * (nil when turned off); then the io_uring calls made so far, the reads
 * and writes they carried, and how many open devices have their fd and
 * read buffers registered with the ring (READ_FIXED/WRITE_FIXED). */
static int t_io_batching(lua_State *L)
{
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TBOOLEAN);
        vnet_iob_enable(lua_toboolean(L, 1));
    }
    int err;
    lua_pushstring(L, vnet_iob_mode(&err));
    if (err)
        lua_pushfstring(L, "io_uring: %s", strerror(err));
    else
        lua_pushnil(L);
    uint64_t calls, ops;
    int fixed;
    vnet_iob_counts(&calls, &ops, &fixed);
    lua_pushinteger(L, (lua_Integer)calls);
    lua_pushinteger(L, (lua_Integer)ops);
    lua_pushinteger(L, fixed);
    return 5;
}

int luaopen_vnet_tun_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"open", t_open},
        {"delete", t_delete},
        {"features", t_features},
        {"io_batching", t_io_batching},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    vnet_dev_open_methods(L);
    lua_setfield(L, -2, "methods");
    lua_pushinteger(L, IFNAMSIZ - 1);
    lua_setfield(L, -2, "NAME_MAX");
    return 1;
}
