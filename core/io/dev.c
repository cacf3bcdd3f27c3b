/*
 * dev.c - the packet device: an fd that carries one packet per read/write
 * (a TUN or TAP queue today, a macvtap/ipvtap /dev/tapN later).
 *
 * The userdata is created closed (fd -1) with its reused receive packet as
 * user value 1, and a table for Lua-side fields as user value 2; the opener
 * then fills in the fd, so a failure half-way leaks nothing. __gc, __close
 * and :close() share one idempotent close.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "io/io.h"

#define RX_ROOM (65536 + 256) /* a TUN/TAP packet or a 64 KiB superpacket */

static const char *kindname(const vnet_dev *d)
{
    return d->kind == VNET_DEV_TAP ? "tap"
         : d->kind == VNET_DEV_PSOCK ? "psock" : "tun";
}

static const char dev_tag; /* vnet_testudata's tag of the class */

vnet_dev *vnet_dev_new(lua_State *L, int kind, size_t room)
{
    vnet_dev *d = lua_newuserdatauv(L, sizeof *d, 3);
    memset(d, 0, sizeof *d);
    d->tag = &dev_tag;
    d->fd = -1;
    d->kind = kind;
    /* its own metatable: fb:write(p) finds "write" with a table hit */
    vnet_own_metatable(L, VNET_DEV_T, &dev_tag);
    d->rx = vnet_packet_reused(L, room ? room : RX_ROOM);
    d->rx->link = kind == VNET_DEV_TAP ? VNET_LINK_ETH : VNET_LINK_RAW;
    lua_setiuservalue(L, -2, 1);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 2);
    return d;
}

vnet_dev *vnet_dev_test(lua_State *L, int idx)
{
    return vnet_testudata(L, idx, &dev_tag, sizeof(vnet_dev));
}

vnet_dev *vnet_dev_arg(lua_State *L, int idx)
{
    return vnet_checkudata(L, idx, VNET_DEV_T, &dev_tag, sizeof(vnet_dev));
}

vnet_dev *vnet_dev_check(lua_State *L, int idx)
{
    vnet_dev *d = vnet_dev_arg(L, idx);
    if (d->fd < 0)
        vnet_error(L, "attempt to use a closed %s", kindname(d));
    return d;
}

/* n bytes of packet arrived in rx's data, with the headers pi and vh (as
 * the device has them): fill the fields and counters. */
static long got(vnet_dev *d, const struct tun_pi *pi,
                const vnet_wire_vhdr *vh, size_t n)
{
    vnet_packet *p = d->rx;
    if (d->pi) {
        p->pi_flags = pi->flags;
        p->pi_proto = ntohs(pi->proto);
    }
    if (d->vnet_hdr) {
        p->vh_flags = vh->flags;
        p->gso_type = vh->gso_type;
        p->hdr_len = vh->hdr_len;
        p->gso_size = vh->gso_size;
        p->csum_start = vh->csum_start;
        p->csum_offset = vh->csum_offset;
    }
    p->len = n;
    p->lazy = 0;
    d->rx_packets++;
    d->rx_bytes += (uint64_t)n;
    if (d->ring)
        vnet_ring_put(d->ring, p->data, n);
    if (d->capture && n > 0)
        d->capture(d->capture_ctx, p->data, n, 0, NULL);
    return n > 0 ? (long)n : 0;
}

/* got() for a packet whose headers came as bytes (a batched read) */
static long took(vnet_dev *d, const unsigned char *hdr, size_t n)
{
    struct tun_pi pi;
    vnet_wire_vhdr vh;
    if (d->pi) {
        memcpy(&pi, hdr, sizeof pi);
        hdr += sizeof pi;
    }
    if (d->vnet_hdr)
        memcpy(&vh, hdr, sizeof vh);
    return got(d, &pi, &vh, n);
}

long vnet_dev_recv(vnet_dev *d)
{
    vnet_packet *p = d->rx;
    struct tun_pi pi;
    vnet_wire_vhdr vh;
    struct iovec iov[3];
    int k = 0;
    size_t pre = 0;
    if (d->recv)
        return d->recv(d);
    if (d->iob || d->batch > 1) { /* read ahead in the loop's drain */
        const unsigned char *hdr;
        long r = vnet_iob_recv(d, &hdr);
        if (r != VNET_IOB_PASS)
            return hdr ? took(d, hdr, (size_t)r) : r;
    }
    if (d->pi) {
        iov[k++] = (struct iovec){&pi, sizeof pi};
        pre += sizeof pi;
    }
    if (d->vnet_hdr) {
        iov[k++] = (struct iovec){&vh, sizeof vh};
        pre += sizeof vh;
    }
    iov[k++] = (struct iovec){p->data, p->cap};
    ssize_t n = k == 1 ? read(d->fd, p->data, p->cap) : readv(d->fd, iov, k);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    if ((size_t)n < pre)
        return 0; /* a short read of the headers: nothing usable */
    return got(d, &pi, &vh, (size_t)n - pre);
}

int vnet_dev_next(vnet_dev *d)
{
    if (d->seg_next < d->seg_count) {
        vnet_gso_segment_lazy(d->rx, d->kind == VNET_DEV_TAP, d->seg_next++, d->seg);
        return 3;
    }
    d->seg_count = d->seg_next = 0;
    long n = vnet_dev_recv(d);
    if (n <= 0)
        return (int)n;
    vnet_packet *p = d->rx;
    if (!d->segments)
        return 1;
    if (p->gso_type) {
        d->seg_count = vnet_gso_count(p);
        d->seg_next = 1;
        vnet_gso_segment_lazy(p, d->kind == VNET_DEV_TAP, 0, d->seg);
        return 3;
    }
    /* Lua sees finished checksums: this one (as a segment above) is
     * finished when something reads the packet (vnet_packet_settle), and a
     * packet only written on leaves with its checksum partial, for the
     * kernel to finish, or merged again by the coalescer */
    p->lazy = (p->vh_flags & VNET_NEEDS_CSUM) != 0;
    return 1;
}

int vnet_dev_next_ahead(vnet_dev *d, int budget)
{
    d->batch = budget;
    int uv = vnet_dev_next(d);
    d->batch = 0;
    return uv;
}

/* dev:read() -> packet | nil (nothing waiting) | nil, msg, errno */
static int d_read(lua_State *L)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    int uv = vnet_dev_next(d);
    if (uv < 0)
        return vnet_pusherr(L, "read", d->name, -uv, NULL);
    if (uv == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_getiuservalue(L, 1, uv);
    return 1;
}

/* Write packet p (or the bytes b, n when p is NULL) to d, open: the body
 * of dev:write and of the drain's verdict (drain.c), which has the packet
 * at hand and skips the type tests. On an offload device (coalesce), runs
 * of TCP segments and UDP datagrams of one flow are coalesced and written
 * when the loop's dispatch round ends (or at once outside the loop); a
 * superpacket goes out with its virtio_net_hdr, split here when the device
 * cannot take it whole. Bytes taken, or -errno. */
long vnet_dev_put(lua_State *L, vnet_dev *d, vnet_packet *p,
                  const unsigned char *b, size_t n)
{
    if (p) {
        b = p->data;
        n = p->len;
        /* a packet whose checksum waits (read in segments mode): finished
         * here when a capture sees it or when the device has no
         * virtio_net_hdr to carry it partial (the coalescer merges it
         * partial) */
        if (p->lazy && (d->capture || !d->vnet_hdr))
            vnet_packet_finish(p);
        if (vnet_dev_plain_write(d, p))
            return vnet_dev_writev(d, NULL, b, n, p->pi_flags, p->pi_proto);
    }
    vnet_vhdr vh = {0, 0, 0, 0, 0, 0};
    if (p)
        vh = (vnet_vhdr){p->vh_flags, p->gso_type, p->hdr_len, p->gso_size,
                         p->csum_start, p->csum_offset};
    if (d->gro && d->gso_write && vnet_gro_add(d, b, n, p ? &vh : NULL)) {
        vnet_dev_defer_flush(L, d); /* it took the packet (and flushed
                                     * what it held, if it had to) */
        return (long)n;
    }
    if (vh.gso_type || (vh.flags & VNET_NEEDS_CSUM))
        return vnet_dev_write_gso(d, b, n, &vh); /* after what was held */
    return vnet_dev_writev(d, NULL, b, n, p ? p->pi_flags : -1,
                           p ? p->pi_proto : -1);
}

/* dev:write(packet | string) -> bytes | nil, msg, errno */
static int d_write(lua_State *L)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    size_t n = 0;
    vnet_packet *p = vnet_packet_test(L, 2); /* one type test per write */
    const unsigned char *b = p ? NULL : vnet_checkbytes(L, 2, &n);
    long w = vnet_dev_put(L, d, p, b, n);
    if (w < 0)
        return vnet_pusherr(L, "write", d->name, (int)-w, NULL);
    lua_pushinteger(L, w);
    return 1;
}

/* dev:last_error() -> msg, errno | nil: why the kernel refused the last
 * write that failed (a batched or coalesced one only counts in tx_dropped
 * when it fails); cleared by reading it. Works on a closed device too. */
static int d_last_error(lua_State *L)
{
    vnet_dev *d = vnet_dev_arg(L, 1);
    int err = d->tx_errno;
    if (err == 0) {
        lua_pushnil(L);
        return 1;
    }
    d->tx_errno = 0;
    vnet_pusherr(L, "write", d->name, err, NULL);
    return 2; /* msg, errno (not the leading nil) */
}

/* dev:set_gso_writes(bool): take GSO writes or split superpackets here,
 * as vnet does by itself when the kernel refuses one */
static int d_set_gso_writes(lua_State *L)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    if (!lua_toboolean(L, 2) && d->gro)
        vnet_gro_flush(d);
    d->gso_write = lua_toboolean(L, 2) && d->vnet_hdr;
    return 0;
}

/* dev:flush() -> true | nil, msg, errno: write what the coalescer holds */
static int d_flush(lua_State *L)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    int r = vnet_gro_flush(d);
    if (r < 0)
        return vnet_pusherr(L, "flush", d->name, -r, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int d_fileno(lua_State *L)
{
    lua_pushinteger(L, vnet_dev_check(L, 1)->fd);
    return 1;
}

/* cqueues' polling protocol: cqueues.poll(dev) waits until it is
 * readable (pollfd is fileno), with no timeout of its own. */
static int d_events(lua_State *L)
{
    vnet_dev_check(L, 1);
    lua_pushliteral(L, "r");
    return 1;
}

static int d_timeout(lua_State *L)
{
    vnet_dev_check(L, 1);
    lua_pushnil(L);
    return 1;
}

static int d_close(lua_State *L)
{
    vnet_dev *d = vnet_dev_arg(L, 1);
    if (d->watch && d->unwatch)
        d->unwatch(L, d->watch);  /* a closed device ends its watcher */
    if (d->gro) {
        if (d->fd >= 0)
            vnet_gro_flush(d);    /* what was written goes out */
        vnet_dev_forget(L, d);
        vnet_gro_free(d->gro);
        d->gro = NULL;
    }
    vnet_iob_release(d);          /* its queued writes leave first */
    if (d->release)
        d->release(d);            /* safe to call twice */
    if (d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
    }
    vnet_ring_free(d->ring);
    d->ring = NULL;
    lua_pushboolean(L, 1);
    return 1;
}

static int d_tostring(lua_State *L)
{
    vnet_dev *d = vnet_dev_arg(L, 1);
    if (d->fd < 0)
        lua_pushfstring(L, "vnet.%s: %s (closed)", kindname(d), d->name);
    else
        lua_pushfstring(L, "vnet.%s: %s (fd %d)", kindname(d), d->name, d->fd);
    return 1;
}

/* "csum tso4 tso6 ..." for the TUN_F_* bits the kernel accepted */
static void offload_string(lua_State *L, unsigned f)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        {TUN_F_CSUM, "csum"}, {TUN_F_TSO4, "tso4"}, {TUN_F_TSO6, "tso6"},
        {TUN_F_TSO_ECN, "tso_ecn"}, {TUN_F_USO4, "uso4"}, {TUN_F_USO6, "uso6"},
    };
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(f & names[i].bit)) continue;
        if (luaL_bufflen(&b)) luaL_addchar(&b, ' ');
        luaL_addstring(&b, names[i].name);
    }
    luaL_pushresult(&b);
}

/* Fields: name, ifindex, kind, closed, pi, vnet_hdr, multi_queue, persist,
 * rx_packets, tx_packets, tx_dropped, offload, segments, coalesce, io,
 * gso_writes, gso_write_error; then anything Lua stored in user value 2. */
static int d_index(lua_State *L)
{
    lua_pushvalue(L, 2); /* methods first: those added after the device opened */
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    vnet_dev *d = vnet_dev_arg(L, 1);
    const char *k = lua_tostring(L, 2);
    if (k == NULL)
        return 1;
    if (strcmp(k, "name") == 0) lua_pushstring(L, d->name);
    else if (strcmp(k, "ifindex") == 0) lua_pushinteger(L, d->ifindex);
    else if (strcmp(k, "kind") == 0) lua_pushstring(L, kindname(d));
    else if (strcmp(k, "closed") == 0) lua_pushboolean(L, d->fd < 0);
    else if (strcmp(k, "pi") == 0) lua_pushboolean(L, d->pi);
    else if (strcmp(k, "vnet_hdr") == 0) lua_pushboolean(L, d->vnet_hdr);
    else if (strcmp(k, "multi_queue") == 0)
        lua_pushboolean(L, (d->flags & IFF_MULTI_QUEUE) != 0);
    else if (strcmp(k, "persist") == 0) lua_pushboolean(L, d->persist);
    else if (strcmp(k, "rx_packets") == 0)
        lua_pushinteger(L, (lua_Integer)d->rx_packets);
    else if (strcmp(k, "tx_packets") == 0)
        lua_pushinteger(L, (lua_Integer)d->tx_packets);
    else if (strcmp(k, "tx_dropped") == 0)
        lua_pushinteger(L, (lua_Integer)d->tx_dropped);
    else if (strcmp(k, "offload") == 0) {
        if (d->offload) offload_string(L, d->offload);
        else lua_pushboolean(L, 0);
    }
    else if (strcmp(k, "segments") == 0) lua_pushboolean(L, d->segments);
    else if (strcmp(k, "coalesce") == 0) lua_pushboolean(L, d->gro != NULL);
    else if (strcmp(k, "io") == 0) lua_pushstring(L, vnet_iob_dev_mode(d));
    else if (strcmp(k, "gso_writes") == 0)
        lua_pushboolean(L, d->vnet_hdr && d->gso_write);
    else if (strcmp(k, "gso_write_error") == 0) {
        if (d->gso_write_err)
            lua_pushfstring(L, "%s (probe at open)", strerror(d->gso_write_err));
        else lua_pushnil(L);
    }
    else if (d->index && d->index(L, d, k))
        ;
    else {
        lua_getiuservalue(L, 1, 2);
        lua_pushvalue(L, 2);
        lua_rawget(L, -2);
    }
    return 1;
}

/* Lua layers and scripts may hang their own fields on a device. */
static int d_newindex(lua_State *L)
{
    vnet_dev_arg(L, 1);
    lua_getiuservalue(L, 1, 2);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_rawset(L, -3);
    return 0;
}

static const luaL_Reg meta[] = {
    {"__gc", d_close},
    {"__close", d_close},
    {"__tostring", d_tostring},
    {"__newindex", d_newindex},
    {NULL, NULL}
};

static const luaL_Reg methods[] = {
    {"read", d_read},
    {"write", d_write},
    {"fileno", d_fileno},
    {"pollfd", d_fileno},
    {"events", d_events},
    {"timeout", d_timeout},
    {"flush", d_flush},
    {"last_error", d_last_error},
    {"set_gso_writes", d_set_gso_writes},
    {"close", d_close},
    {NULL, NULL}
};

int vnet_dev_open_methods(lua_State *L)
{
    if (luaL_getmetatable(L, VNET_DEV_T) == LUA_TNIL) {
        lua_pop(L, 1);
        /* a template: each device's own metatable copies its entries */
        vnet_newclass(L, VNET_DEV_T, meta, methods, NULL);
        vnet_proxy_class(L, VNET_DEV_T, &dev_tag, d_index);
        return 1;
    }
    lua_getfield(L, -1, "methods");
    lua_remove(L, -2);
    return 1;
}
