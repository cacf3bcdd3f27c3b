/*
 * pcapfile.c - vnet.pcapfile.core: reading capture files, classic pcap
 * through libpcap and pcapng here, with tcpdump filters compiled by
 * libpcap.
 *
 * Classic pcap (either byte order, micro- or nanosecond) goes through
 * pcap_fopen_offline, time stamps asked in nanoseconds, the filter set
 * with pcap_setfilter.
 *
 * pcapng is read block by block here (SHB, IDB, EPB, SPB, the obsolete
 * PB; other blocks skipped), because libpcap 1.10 refuses a file whose
 * interfaces have different link types, and that is what vnet's own
 * pcapng writer makes (Ethernet and raw IP interfaces side by side; tshark
 * makes them too). Each packet is marked with its own interface's link
 * type and time resolution (if_tsresol); the filter is compiled by libpcap
 * once per link type met and run with pcap_offline_filter.
 *
 * Every record is copied into one reused packet per reader (no allocation
 * per packet; a pcapng block buffer grows to the largest block once).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "io/io.h"

#define FILE_T "vnet.pcap.file"
#define LT_RAW 101
#define MAX_CAP (16u << 20)

#define NG_MAX_IF 16

/* A pcapng file read here: the interfaces of the current section. */
typedef struct ngfile {
    FILE *f;
    int swap, nif;
    int lt[NG_MAX_IF];          /* LINKTYPE_ of each interface */
    uint32_t snap[NG_MAX_IF];
    uint64_t units[NG_MAX_IF];  /* time stamp units per second */
    int compiled[NG_MAX_IF];
    struct bpf_program prog[NG_MAX_IF];
    unsigned char *buf;         /* one block's body, grown as needed */
    size_t bufcap;
} ngfile;

typedef struct pfile {
    pcap_t *p;          /* NULL once closed (a placeholder when ng is used) */
    ngfile *ng;         /* a mixed-link-type pcapng file, read here */
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

static uint32_t ng32(const ngfile *g, const unsigned char *b)
{
    uint32_t x;
    memcpy(&x, b, 4);
    return g->swap ? __builtin_bswap32(x) : x;
}

static uint16_t ng16(const ngfile *g, const unsigned char *b)
{
    uint16_t x;
    memcpy(&x, b, 2);
    return g->swap ? __builtin_bswap16(x) : x;
}

/* Read one block (its body after type and length) into g->buf: the type,
 * or -2 at the end, -1 on a truncated or oversized block. */
static long ng_block(ngfile *g, size_t *blen)
{
    unsigned char h[8];
    size_t got = fread(h, 1, 8, g->f);
    if (got == 0)
        return -2;
    if (got != 8)
        return -1;
    uint32_t type, len;
    memcpy(&type, h, 4);
    if (type == 0x0A0D0D0A) { /* a section: its byte order comes next */
        unsigned char bom[4];
        if (fread(bom, 1, 4, g->f) != 4)
            return -1;
        uint32_t m;
        memcpy(&m, bom, 4);
        if (m != 0x1A2B3C4D && m != 0x4D3C2B1A)
            return -1;
        g->swap = m != 0x1A2B3C4D;
        g->nif = 0;
        len = ng32(g, h + 4);
        if (len < 28 || len > (1u << 26))
            return -1;
        *blen = 0;
        return fseek(g->f, (long)len - 12, SEEK_CUR) == 0 ? (long)type : -1;
    }
    type = ng32(g, h);
    len = ng32(g, h + 4);
    if (len < 12 || len % 4 || len > MAX_CAP + 64)
        return -1;
    size_t n = len - 12; /* the body; the trailing length is skipped */
    if (n > g->bufcap) {
        unsigned char *nb = realloc(g->buf, n);
        if (nb == NULL)
            return -1;
        g->buf = nb;
        g->bufcap = n;
    }
    unsigned char tail[4];
    if (fread(g->buf, 1, n, g->f) != n || fread(tail, 1, 4, g->f) != 4 ||
        ng32(g, tail) != len) /* the trailing copy of the length */
        return -1;
    *blen = n;
    return (long)type;
}

/* An interface description: link type, snaplen, if_tsresol. */
static void ng_idb(ngfile *g, size_t n)
{
    if (n < 8 || g->nif == NG_MAX_IF)
        return;
    int i = g->nif++;
    g->lt[i] = ng16(g, g->buf);
    g->snap[i] = ng32(g, g->buf + 4);
    g->units[i] = 1000000;
    g->compiled[i] = 0;
    for (size_t o = 8; o + 4 <= n;) {
        uint16_t code = ng16(g, g->buf + o), olen = ng16(g, g->buf + o + 2);
        if (code == 0 || o + 4 + olen > n)
            break;
        if (code == 9 && olen >= 1) {
            unsigned r = g->buf[o + 4];
            uint64_t u = 1;
            for (unsigned k = 0; k < (r & 0x7f) && u < (1ull << 62); k++)
                u *= (r & 0x80) ? 2 : 10;
            g->units[i] = u;
        }
        o += 4 + ((olen + 3u) & ~3u);
    }
}

static void ng_free(ngfile *g)
{
    for (int i = 0; i < NG_MAX_IF; i++)
        if (g->compiled[i] > 0)
            pcap_freecode(&g->prog[i]);
    if (g->f)
        fclose(g->f);
    free(g->buf);
    free(g);
}

static int lt_to_dlt(int lt)
{
    return lt == LT_RAW ? DLT_RAW : lt;
}

/* The reader of a mixed-link-type pcapng file (see the top). */
static int ng_open(lua_State *L, pfile *r, FILE *f, const char *path,
                   const char *expr)
{
    ngfile *g = calloc(1, sizeof *g);
    if (g == NULL) {
        fclose(f);
        return vnet_pusherr(L, "pcap.open", path, ENOMEM, NULL);
    }
    g->f = f;
    r->ng = g;
    for (;;) { /* the head's interfaces, known from the start */
        long at = ftell(f);
        size_t n;
        long t = ng_block(g, &n);
        if (at == 0 && t != 0x0A0D0D0A) {
            ng_free(g);
            r->ng = NULL;
            lua_pushnil(L);
            lua_pushfstring(L, "pcap.open %s: not a pcapng file (bad section "
                            "header)", path);
            lua_pushinteger(L, EINVAL);
            return 3;
        }
        if (t == 1)
            ng_idb(g, n);
        else if (t != 0x0A0D0D0A || at != 0) {
            fseek(f, at, SEEK_SET);
            break;
        }
    }
    if (expr && *expr) { /* libpcap's verdict on the syntax, now */
        pcap_t *d = pcap_open_dead(DLT_EN10MB, 262144);
        struct bpf_program prog;
        if (d == NULL || pcap_compile(d, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            lua_pushnil(L);
            lua_pushfstring(L, "pcap.open %s: bad filter '%s': %s", path, expr,
                            d ? pcap_geterr(d) : "out of memory");
            lua_pushinteger(L, EINVAL);
            if (d) pcap_close(d);
            ng_free(g);
            r->ng = NULL;
            return 3;
        }
        pcap_freecode(&prog);
        pcap_close(d);
        snprintf(r->filter, sizeof r->filter, "%s", expr);
    }
    r->pkt = vnet_packet_reused(L, 262144);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

/* Does interface i's packet b match the filter? 1, 0, or -1 with a
 * message pushed (the expression does not apply to its link type). */
static int ng_match(lua_State *L, pfile *r, int i, const struct pcap_pkthdr *h,
                    const unsigned char *b)
{
    ngfile *g = r->ng;
    if (!r->filter[0])
        return 1;
    if (g->compiled[i] == 0) {
        pcap_t *d = pcap_open_dead(lt_to_dlt(g->lt[i]), 262144);
        if (d == NULL || pcap_compile(d, &g->prog[i], r->filter, 1,
                                      PCAP_NETMASK_UNKNOWN) < 0) {
            lua_pushfstring(L, "pcap.read %s: filter '%s' on link type %d: %s",
                            r->name, r->filter, g->lt[i],
                            d ? pcap_geterr(d) : "out of memory");
            if (d) pcap_close(d);
            return -1;
        }
        pcap_close(d);
        g->compiled[i] = 1;
    }
    return pcap_offline_filter(&g->prog[i], h, b) != 0;
}

/* next() for a file read here. */
static int ng_next(lua_State *L, pfile *r, int ridx)
{
    ngfile *g = r->ng;
    for (;;) {
        size_t n;
        long t = ng_block(g, &n);
        if (t == -2)
            return 0;
        if (t == -1) {
            lua_pushfstring(L, "pcap.read %s: truncated or corrupt pcapng block",
                            r->name);
            return -1;
        }
        if (t == 1) {
            ng_idb(g, n);
            continue;
        }
        uint32_t ifid = 0, tsh = 0, tsl = 0, caplen, len;
        const unsigned char *b;
        if (t == 6 && n >= 20) {          /* enhanced packet block */
            ifid = ng32(g, g->buf);
            tsh = ng32(g, g->buf + 4);
            tsl = ng32(g, g->buf + 8);
            caplen = ng32(g, g->buf + 12);
            len = ng32(g, g->buf + 16);
            b = g->buf + 20;
        } else if (t == 2 && n >= 20) {   /* the obsolete packet block */
            ifid = ng16(g, g->buf);
            tsh = ng32(g, g->buf + 4);
            tsl = ng32(g, g->buf + 8);
            caplen = ng32(g, g->buf + 12);
            len = ng32(g, g->buf + 16);
            b = g->buf + 20;
        } else if (t == 3 && n >= 4) {    /* simple packet block */
            len = ng32(g, g->buf);
            caplen = len < n - 4 ? len : (uint32_t)(n - 4);
            if (g->nif && g->snap[0] && caplen > g->snap[0])
                caplen = g->snap[0];
            b = g->buf + 4;
        } else {
            continue;                     /* statistics, names, ... */
        }
        if (ifid >= (uint32_t)g->nif || caplen > n - (size_t)(b - g->buf) ||
            caplen > r->pkt->cap) {
            lua_pushfstring(L, "pcap.read %s: packet of interface %d, which "
                            "is not described or too short", r->name, (int)ifid);
            return -1;
        }
        uint64_t ts = (uint64_t)tsh << 32 | tsl, u = g->units[ifid];
        uint64_t sec = ts / u;
        uint32_t nsec = (uint32_t)((unsigned __int128)(ts % u) * 1000000000u / u);
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)sec;
        h.ts.tv_usec = (suseconds_t)(nsec / 1000);
        h.caplen = caplen;
        h.len = len;
        int m = ng_match(L, r, (int)ifid, &h, b);
        if (m < 0)
            return -1;
        if (m == 0)
            continue;
        memcpy(r->pkt->data, b, caplen);
        r->pkt->len = caplen;
        int lt = g->lt[ifid];
        r->pkt->link = lt == DLT_EN10MB ? VNET_LINK_ETH
                     : (lt == LT_RAW || lt == 228 || lt == 229) ? VNET_LINK_RAW
                     : VNET_LINK_AUTO;
        lua_getiuservalue(L, ridx, 1); /* the packet */
        lua_pushnumber(L, (double)sec + (double)nsec / 1e9);
        lua_pushinteger(L, (lua_Integer)sec);
        lua_pushinteger(L, nsec);
        lua_pushinteger(L, len);
        return 5;
    }
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
    if (r->nano < 0)
        return ng_open(L, r, f, path, expr);
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
    r->pkt = vnet_packet_reused(L, cap > MAX_CAP ? MAX_CAP : cap);
    r->pkt->link = r->dlt == DLT_EN10MB ? VNET_LINK_ETH
                 : (r->dlt == DLT_RAW || r->dlt == DLT_IPV4 ||
                    r->dlt == DLT_IPV6) ? VNET_LINK_RAW : VNET_LINK_AUTO;
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static pfile *checkfile(lua_State *L, int idx)
{
    pfile *r = luaL_checkudata(L, idx, FILE_T);
    if (r->p == NULL && r->ng == NULL)
        luaL_error(L, "attempt to use a closed pcap reader");
    return r;
}

/* The next record: pushes p, time, sec, nsec, orig_len (5), nothing at
 * the end (0), or a message (-1). */
static int next(lua_State *L, pfile *r, int ridx)
{
    if (r->ng)
        return ng_next(L, r, ridx);
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
    if (r->ng) {
        ng_free(r->ng);
        r->ng = NULL;
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
    if (strcmp(k, "closed") == 0) lua_pushboolean(L, r->p == NULL && !r->ng);
    else if (r->ng) { /* several link types: per packet, p:linktype() */
        int same = r->ng->nif > 0;
        for (int i = 1; i < r->ng->nif; i++)
            same &= r->ng->lt[i] == r->ng->lt[0];
        if (strcmp(k, "format") == 0) lua_pushliteral(L, "pcapng");
        else if (strcmp(k, "linktype") == 0 && same)
            lua_pushinteger(L, r->ng->lt[0]); /* one type: as in pcap */
        else if (strcmp(k, "swapped") == 0) lua_pushboolean(L, r->ng->swap);
        else if (strcmp(k, "linktypes") == 0) {
            lua_createtable(L, r->ng->nif, 0);
            for (int i = 0; i < r->ng->nif; i++) {
                lua_pushinteger(L, r->ng->lt[i]);
                lua_rawseti(L, -2, i + 1);
            }
        }
        else if (strcmp(k, "filter") == 0 && r->filter[0])
            lua_pushstring(L, r->filter);
        else lua_pushnil(L);
    }
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
                    r->p || r->ng ? "" : " (closed)");
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
