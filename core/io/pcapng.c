/*
 * pcapng.c - vnet.pcapng.core: a small pcapng writer (section header,
 * interface descriptions, enhanced packet blocks), what tshark and
 * Wireshark write by default.
 *
 * Hand-written rather than libpcap's because libpcap 1.10 writes no
 * pcapng at all, and because vnet's packets carry their own link type:
 * the writer describes one interface per link type it meets (Ethernet
 * frames and raw IP packets side by side in one file, each tagged with
 * its own type, which classic pcap cannot say). Time stamps are in
 * nanoseconds (if_tsresol 9). One fwrite per block part, no allocation
 * per packet.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "io/io.h"

#define NGWRITER_T "vnet.pcapng.writer"
#define LT_ETHERNET 1
#define LT_RAW 101
#define MAX_IF 8

typedef struct ngwriter {
    FILE *f;                /* NULL once closed */
    uint32_t snaplen;
    int nif;
    int iflt[MAX_IF];       /* link type of each interface described */
    lua_Integer count;
    char ifname[64];        /* if_name of every interface, or "" */
    char name[96];
} ngwriter;

static int put(ngwriter *w, const void *b, size_t n)
{
    return n == 0 || fwrite(b, n, 1, w->f) == 1 ? 0 : (errno ? errno : EIO);
}

static const unsigned char zero[4];

static int put_shb(ngwriter *w)
{
    uint32_t h[7] = {0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0xffffffff, 0xffffffff, 28};
    return put(w, h, sizeof h);
}

/* The interface for link type lt: described at its first use. */
static int iface(ngwriter *w, int lt, int *err)
{
    for (int i = 0; i < w->nif; i++)
        if (w->iflt[i] == lt)
            return i;
    if (w->nif == MAX_IF) {
        *err = ENOSPC;
        return -1;
    }
    size_t nl = strlen(w->ifname), npad = (4 - nl % 4) % 4;
    uint32_t len = 20 + 8 /* tsresol */ + 4 /* end */ +
                   (nl ? 4 + (uint32_t)(nl + npad) : 0);
    uint32_t h[4] = {1, len, (uint32_t)lt, w->snaplen}; /* lt, reserved 0 */
    uint16_t tsres[2] = {9, 1};
    unsigned char tsval[4] = {9, 0, 0, 0};
    uint16_t name[2] = {2, (uint16_t)nl};
    uint32_t end = 0;
    int e = put(w, h, sizeof h);
    if (!e && nl) e = put(w, name, sizeof name);
    if (!e && nl) e = put(w, w->ifname, nl);
    if (!e && nl) e = put(w, zero, npad);
    if (!e) e = put(w, tsres, sizeof tsres);
    if (!e) e = put(w, tsval, sizeof tsval);
    if (!e) e = put(w, &end, sizeof end);
    if (!e) e = put(w, &len, sizeof len);
    if (e) {
        *err = e;
        return -1;
    }
    w->iflt[w->nif] = lt;
    return w->nif++;
}

static int put_epb(ngwriter *w, int ifid, const unsigned char *b, size_t n,
                   uint64_t ns)
{
    uint32_t incl = n > w->snaplen ? w->snaplen : (uint32_t)n;
    uint32_t pad = (4 - incl % 4) % 4, len = 32 + incl + pad;
    uint32_t h[7] = {6, len, (uint32_t)ifid, (uint32_t)(ns >> 32),
                     (uint32_t)ns, incl, (uint32_t)n};
    int e = put(w, h, sizeof h);
    if (!e) e = put(w, b, incl);
    if (!e) e = put(w, zero, pad);
    if (!e) e = put(w, &len, sizeof len);
    if (!e) w->count++;
    return e;
}

static ngwriter *checkw(lua_State *L, int idx)
{
    ngwriter *w = luaL_checkudata(L, idx, NGWRITER_T);
    if (w->f == NULL)
        luaL_error(L, "attempt to use a closed pcapng writer");
    return w;
}

/* writer(path [, snaplen [, ifname]]) -> writer | nil, msg, errno */
static int l_writer(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lua_Integer snap = luaL_optinteger(L, 2, 262144);
    size_t nl = 0;
    const char *ifname = luaL_optlstring(L, 3, "", &nl);
    luaL_argcheck(L, snap > 0 && snap <= 0x7fffffff, 2, "bad snaplen");
    luaL_argcheck(L, nl < 64, 3, "interface name too long");
    ngwriter *w = lua_newuserdatauv(L, sizeof *w, 0);
    memset(w, 0, sizeof *w);
    luaL_setmetatable(L, NGWRITER_T);
    w->snaplen = (uint32_t)snap;
    memcpy(w->ifname, ifname, nl);
    snprintf(w->name, sizeof w->name, "%s", path);
    if ((w->f = fopen(path, "wbe")) == NULL)
        return vnet_pusherr(L, "pcap.open", path, errno, NULL);
    int e = put_shb(w);
    if (e)
        return vnet_pusherr(L, "pcap.open", path, e, NULL);
    return 1;
}

/* w:write(p | string [, time | sec, nsec]) -> true | nil, msg, errno;
 * the packet's own link type picks (or describes) its interface */
static int w_write(lua_State *L)
{
    ngwriter *w = checkw(L, 1);
    size_t n;
    const unsigned char *b = vnet_checkbytes(L, 2, &n);
    uint64_t ns;
    if (lua_isnoneornil(L, 3)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    } else if (!lua_isnoneornil(L, 4)) {
        lua_Integer s = luaL_checkinteger(L, 3), f = luaL_checkinteger(L, 4);
        luaL_argcheck(L, s >= 0 && s < (1LL << 33), 3, "time out of range");
        luaL_argcheck(L, f >= 0 && f < 1000000000, 4,
                      "nanoseconds out of range 0..999999999");
        ns = (uint64_t)s * 1000000000u + (uint64_t)f;
    } else {
        double t = luaL_checknumber(L, 3);
        luaL_argcheck(L, t >= 0 && t < 8589934592.0, 3, "time out of range");
        ns = (uint64_t)llround(t * 1e9);
    }
    const vnet_packet *p = vnet_packet_test(L, 2);
    int link = p ? p->link : VNET_LINK_AUTO;
    if (link == VNET_LINK_AUTO)
        link = vnet_guess_link(b, n);
    int e = 0;
    int ifid = iface(w, link == VNET_LINK_ETH ? LT_ETHERNET : LT_RAW, &e);
    if (ifid >= 0)
        e = put_epb(w, ifid, b, n, ns);
    if (e)
        return vnet_pusherr(L, "pcap.write", w->name, e, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int w_flush(lua_State *L)
{
    ngwriter *w = checkw(L, 1);
    if (fflush(w->f) != 0)
        return vnet_pusherr(L, "pcap.flush", w->name, errno, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int w_close(lua_State *L)
{
    ngwriter *w = luaL_checkudata(L, 1, NGWRITER_T);
    if (w->f) {
        int r = fclose(w->f);
        w->f = NULL;
        if (r != 0)
            return vnet_pusherr(L, "pcap.close", w->name, errno, NULL);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int w_index(lua_State *L)
{
    ngwriter *w = luaL_checkudata(L, 1, NGWRITER_T);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    const char *k = lua_tostring(L, 2);
    if (k == NULL) return 1;
    if (strcmp(k, "count") == 0) lua_pushinteger(L, w->count);
    else if (strcmp(k, "format") == 0) lua_pushliteral(L, "pcapng");
    else if (strcmp(k, "nanosecond") == 0) lua_pushboolean(L, 1);
    else if (strcmp(k, "snaplen") == 0) lua_pushinteger(L, w->snaplen);
    else if (strcmp(k, "closed") == 0) lua_pushboolean(L, w->f == NULL);
    else if (strcmp(k, "linktypes") == 0) {
        lua_createtable(L, w->nif, 0);
        for (int i = 0; i < w->nif; i++) {
            lua_pushinteger(L, w->iflt[i]);
            lua_rawseti(L, -2, i + 1);
        }
    }
    return 1;
}

static int w_tostring(lua_State *L)
{
    ngwriter *w = luaL_checkudata(L, 1, NGWRITER_T);
    lua_pushfstring(L, "vnet.pcapng.writer: %s (%I packets%s)", w->name,
                    w->count, w->f ? "" : ", closed");
    return 1;
}

int luaopen_vnet_pcapng_core(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__gc", w_close}, {"__close", w_close}, {"__tostring", w_tostring},
        {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"write", w_write}, {"flush", w_flush}, {"close", w_close},
        {NULL, NULL}
    };
    static const luaL_Reg funcs[] = {{"writer", l_writer}, {NULL, NULL}};
    luaL_requiref(L, "vnet.proto.core", luaopen_vnet_proto_core, 0);
    lua_pop(L, 1);
    vnet_newclass(L, NGWRITER_T, meta, methods, w_index);
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
