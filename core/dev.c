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

#include "vnet.h"

#define RX_ROOM 65536 /* any TUN/TAP packet up to the largest MTU */

static const char *kindname(const vnet_dev *d)
{
    return d->kind == VNET_DEV_TAP ? "tap" : "tun";
}

vnet_dev *vnet_dev_new(lua_State *L, int kind, size_t room)
{
    vnet_dev *d = lua_newuserdatauv(L, sizeof *d, 2);
    memset(d, 0, sizeof *d);
    d->fd = -1;
    d->kind = kind;
    luaL_setmetatable(L, VNET_DEV_T);
    d->rx = vnet_packet_new(L, room ? room : RX_ROOM);
    lua_setiuservalue(L, -2, 1);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 2);
    return d;
}

vnet_dev *vnet_dev_test(lua_State *L, int idx)
{
    return luaL_testudata(L, idx, VNET_DEV_T);
}

vnet_dev *vnet_dev_check(lua_State *L, int idx)
{
    vnet_dev *d = luaL_checkudata(L, idx, VNET_DEV_T);
    if (d->fd < 0)
        luaL_error(L, "attempt to use a closed %s", kindname(d));
    return d;
}

long vnet_dev_recv(vnet_dev *d)
{
    vnet_packet *p = d->rx;
    struct tun_pi pi;
    ssize_t n;
    if (d->pi) {
        struct iovec iov[2] = {{&pi, sizeof pi}, {p->data, p->cap}};
        n = readv(d->fd, iov, 2);
        if (n >= (ssize_t)sizeof pi) {
            n -= (ssize_t)sizeof pi;
            p->pi_flags = pi.flags;
            p->pi_proto = ntohs(pi.proto);
        }
    } else {
        n = read(d->fd, p->data, p->cap);
    }
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    p->len = (size_t)n;
    d->rx_packets++;
    return n > 0 ? n : 0;
}

/* dev:read() -> packet | nil (nothing waiting) | nil, msg, errno */
static int d_read(lua_State *L)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    long n = vnet_dev_recv(d);
    if (n < 0)
        return vnet_pusherr(L, "read", d->name, (int)-n, NULL);
    if (n == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_getiuservalue(L, 1, 1);
    return 1;
}

/* The protocol for a packet-information header when the packet has none:
 * guessed from the IP version nibble on a TUN, left 0 on a TAP. */
static uint16_t guess_proto(const vnet_dev *d, const unsigned char *b,
                            size_t n)
{
    if (d->kind != VNET_DEV_TUN || n == 0)
        return 0;
    switch (b[0] >> 4) {
    case 4: return 0x0800;
    case 6: return 0x86dd;
    default: return 0;
    }
}

/* dev:write(packet | string) -> bytes | nil, msg, errno */
static int d_write(lua_State *L)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    size_t n;
    const unsigned char *b = vnet_checkbytes(L, 2, &n);
    ssize_t w;
    if (d->pi) {
        vnet_packet *p = vnet_packet_test(L, 2);
        struct tun_pi pi;
        pi.flags = (uint16_t)(p && p->pi_flags >= 0 ? p->pi_flags : 0);
        pi.proto = htons(p && p->pi_proto >= 0 ? (uint16_t)p->pi_proto
                                                : guess_proto(d, b, n));
        struct iovec iov[2] = {{&pi, sizeof pi}, {(void *)b, n}};
        w = writev(d->fd, iov, 2);
        if (w >= (ssize_t)sizeof pi)
            w -= (ssize_t)sizeof pi;
    } else {
        w = write(d->fd, b, n);
    }
    if (w < 0)
        return vnet_pusherr(L, "write", d->name, errno, NULL);
    d->tx_packets++;
    lua_pushinteger(L, w);
    return 1;
}

static int d_fileno(lua_State *L)
{
    lua_pushinteger(L, vnet_dev_check(L, 1)->fd);
    return 1;
}

static int d_close(lua_State *L)
{
    vnet_dev *d = luaL_checkudata(L, 1, VNET_DEV_T);
    if (d->watch && d->unwatch)
        d->unwatch(L, d->watch);  /* a closed device ends its watcher */
    if (d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int d_tostring(lua_State *L)
{
    vnet_dev *d = luaL_checkudata(L, 1, VNET_DEV_T);
    if (d->fd < 0)
        lua_pushfstring(L, "vnet.%s: %s (closed)", kindname(d), d->name);
    else
        lua_pushfstring(L, "vnet.%s: %s (fd %d)", kindname(d), d->name, d->fd);
    return 1;
}

/* Fields: name, ifindex, kind, closed, pi, vnet_hdr, multi_queue, persist,
 * rx_packets, tx_packets; then anything Lua stored in user value 2. */
static int d_index(lua_State *L)
{
    vnet_dev *d = luaL_checkudata(L, 1, VNET_DEV_T);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
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
    luaL_checkudata(L, 1, VNET_DEV_T);
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
    {"close", d_close},
    {NULL, NULL}
};

int vnet_dev_open_methods(lua_State *L)
{
    if (luaL_getmetatable(L, VNET_DEV_T) == LUA_TNIL) {
        lua_pop(L, 1);
        vnet_newclass(L, VNET_DEV_T, meta, methods, d_index);
        return 1;
    }
    lua_getfield(L, -1, "methods");
    lua_remove(L, -2);
    return 1;
}
