/*
 * pcapfile.c - vnet.pcapfile.core: reading capture files through libpcap,
 * which knows both formats (classic pcap in either byte order, and pcapng:
 * what tshark and dumpcap write by default), both time stamp resolutions,
 * and applies a tcpdump filter to what it reads.
 *
 * Every record is copied into one reused packet per reader (no allocation
 * per packet), marked with the file's link type. Time stamps are asked of
 * libpcap in nanoseconds, whatever the file has.
 *
 * libpcap 1.10 reads a pcapng file whose interfaces all share one link
 * type; a file that mixes link types fails at the first packet of the odd
 * interface with libpcap's own message, passed on by read().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include "proto.h"

#define FILE_T "vnet.pcap.file"
#define LT_RAW 101
#define MAX_CAP (16u << 20)

typedef struct pfile {
    pcap_t *p;          /* NULL once closed */
    int nano;           /* the file's own resolution: 1 ns, 0 us, -1 pcapng */
    int dlt;
    vnet_packet *pkt;   /* user value 1 */
    char name[96];
    char filter[256];
} pfile;

static int linktype(int dlt)
{
    return dlt == DLT_RAW ? LT_RAW : dlt; /* DLT_RAW is 12 or 14 in memory */
}

/* open(path [, filter]) -> reader | nil, msg, errno */
static int f_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *expr = luaL_optstring(L, 2, NULL);
    pfile *r = lua_newuserdatauv(L, sizeof *r, 1);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, FILE_T);
    snprintf(r->name, sizeof r->name, "%s", path);
    FILE *f = fopen(path, "rbe");
    if (f == NULL)
        return vnet_pusherr(L, "pcap.open", path, errno, NULL);
    uint32_t m = 0;
    size_t got = fread(&m, 1, 4, f);
    rewind(f);
    r->nano = m == 0x0a0d0d0a ? -1
            : (m == 0xa1b23c4d || m == 0x4d3cb2a1) ? 1 : 0;
    char eb[PCAP_ERRBUF_SIZE] = "";
    r->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO,
                                                    eb);
    if (r->p == NULL) {
        fclose(f);
        lua_pushnil(L);
        lua_pushfstring(L, "pcap.open %s: %s", path,
                        got < 4 ? "shorter than a file header" : eb);
        lua_pushinteger(L, EINVAL);
        return 3;
    }
    r->dlt = pcap_datalink(r->p);
    if (expr && *expr) {
        struct bpf_program prog;
        if (pcap_compile(r->p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
            pcap_setfilter(r->p, &prog) < 0) {
            lua_pushnil(L);
            lua_pushfstring(L, "pcap.open %s: bad filter '%s': %s", path,
                            expr, pcap_geterr(r->p));
            lua_pushinteger(L, EINVAL);
            pcap_close(r->p);
            r->p = NULL;
            return 3;
        }
        pcap_freecode(&prog);
        snprintf(r->filter, sizeof r->filter, "%s", expr);
    }
    int snap = pcap_snapshot(r->p);
    size_t cap = snap > 262144 ? (size_t)snap : 262144;
    r->pkt = vnet_packet_new(L, cap > MAX_CAP ? MAX_CAP : cap);
    vnet_set_link(L, -1, r->dlt == DLT_EN10MB ? LINK_ETH
                  : (r->dlt == DLT_RAW || r->dlt == DLT_IPV4 ||
                     r->dlt == DLT_IPV6) ? LINK_RAW : LINK_AUTO);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static pfile *checkfile(lua_State *L, int idx)
{
    pfile *r = luaL_checkudata(L, idx, FILE_T);
    if (r->p == NULL)
        luaL_error(L, "attempt to use a closed pcap reader");
    return r;
}

/* The next record: pushes p, time, sec, nsec, orig_len (5), nothing at
 * the end (0), or a message (-1). */
static int next(lua_State *L, pfile *r, int ridx)
{
    struct pcap_pkthdr *h;
    const u_char *b;
    int rc = pcap_next_ex(r->p, &h, &b);
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    if (rc != 1) {
        lua_pushfstring(L, "pcap.read %s: %s", r->name, pcap_geterr(r->p));
        return -1;
    }
    if (h->caplen > r->pkt->cap) {
        lua_pushfstring(L, "pcap.read %s: record of %I bytes is larger than"
                        " %I", r->name, (lua_Integer)h->caplen,
                        (lua_Integer)r->pkt->cap);
        return -1;
    }
    memcpy(r->pkt->data, b, h->caplen);
    r->pkt->len = h->caplen;
    lua_getiuservalue(L, ridx, 1);
    lua_pushnumber(L, (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e9);
    lua_pushinteger(L, (lua_Integer)h->ts.tv_sec);
    lua_pushinteger(L, (lua_Integer)h->ts.tv_usec); /* nanoseconds, asked */
    lua_pushinteger(L, (lua_Integer)h->len);
    return 5;
}

/* r:read() -> p, time, sec, nsec, orig_len | nil (end) | nil, msg */
static int f_read(lua_State *L)
{
    pfile *r = checkfile(L, 1);
    int n = next(L, r, 1);
    if (n >= 0)
        return n ? n : (lua_pushnil(L), 1);
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static int f_iter(lua_State *L)
{
    pfile *r = checkfile(L, lua_upvalueindex(1));
    int n = next(L, r, lua_upvalueindex(1));
    if (n < 0)
        return lua_error(L);
    return n;
}

/* r:packets() -> iterator of p, time, sec, nsec, orig_len */
static int f_packets(lua_State *L)
{
    checkfile(L, 1);
    lua_settop(L, 1);
    lua_pushcclosure(L, f_iter, 1);
    return 1;
}

static int f_close(lua_State *L)
{
    pfile *r = luaL_checkudata(L, 1, FILE_T);
    if (r->p) {
        pcap_close(r->p);
        r->p = NULL;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int f_index(lua_State *L)
{
    pfile *r = luaL_checkudata(L, 1, FILE_T);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    const char *k = lua_tostring(L, 2);
    if (k == NULL) return 1;
    if (strcmp(k, "closed") == 0) lua_pushboolean(L, r->p == NULL);
    else if (r->p == NULL) lua_pushnil(L);
    else if (strcmp(k, "linktype") == 0) lua_pushinteger(L, linktype(r->dlt));
    else if (strcmp(k, "format") == 0)
        lua_pushstring(L, r->nano < 0 ? "pcapng" : "pcap");
    else if (strcmp(k, "nanosecond") == 0) {
        if (r->nano >= 0) lua_pushboolean(L, r->nano);
        else lua_pushnil(L); /* pcapng: per interface (if_tsresol) */
    }
    else if (strcmp(k, "snaplen") == 0) lua_pushinteger(L, pcap_snapshot(r->p));
    else if (strcmp(k, "swapped") == 0) lua_pushboolean(L, pcap_is_swapped(r->p));
    else if (strcmp(k, "filter") == 0 && r->filter[0]) lua_pushstring(L, r->filter);
    else lua_pushnil(L);
    return 1;
}

static int f_tostring(lua_State *L)
{
    pfile *r = luaL_checkudata(L, 1, FILE_T);
    lua_pushfstring(L, "vnet.pcap.reader: %s%s", r->name,
                    r->p ? "" : " (closed)");
    return 1;
}

int luaopen_vnet_pcapfile_core(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__gc", f_close}, {"__close", f_close}, {"__tostring", f_tostring},
        {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"read", f_read}, {"packets", f_packets}, {"close", f_close},
        {NULL, NULL}
    };
    static const luaL_Reg funcs[] = {{"open", f_open}, {NULL, NULL}};
    luaL_requiref(L, "vnet.proto.core", luaopen_vnet_proto_core, 0);
    lua_pop(L, 1);
    vnet_newclass(L, FILE_T, meta, methods, f_index);
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
