/*
 * pcap.c - vnet.pcap.core: pcap files (the classic format libpcap,
 * tcpdump and Wireshark read), with microsecond (magic 0xa1b2c3d4) or
 * nanosecond (0xa1b23c4d) time stamps, in either byte order on reading.
 *
 * A writer writes straight from the packet's bytes (no Lua string per
 * packet); a reader reads every record into one reused packet, as a device
 * does. dev:capture hangs a writer on a device so that every packet read
 * or written is recorded, through the device's C capture hook.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "io/io.h"

#define WRITER_T "vnet.pcap.writer"
#define READER_T "vnet.pcap.reader"
#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du
#define LT_ETHERNET 1
#define LT_RAW 101
#define MAX_CAP (16u << 20)

typedef struct writer {
    FILE *f;          /* NULL once closed */
    int linktype;     /* -1: decided by the first packet */
    int nano;
    uint32_t snaplen;
    lua_Integer count;
    int err;          /* errno of a failed write from the capture hook */
    char name[96];
} writer;

typedef struct reader {
    FILE *f;
    int swap, nano, linktype;
    uint32_t snaplen;
    uint32_t limit;   /* the largest record read: the snaplen, at least
                       * 256 KiB (some writers ignore theirs), <= MAX_CAP */
    lua_Integer count; /* records read */
    vnet_packet *p;   /* user value 1: the reused packet, grown to the
                       * largest record so far (not to the snaplen claimed) */
    char name[96];
} reader;

static void setname(char *dst, const char *path)
{
    snprintf(dst, 96, "%s", path);
}

static int put_header(writer *w)
{
    uint32_t h[6] = {w->nano ? MAGIC_NS : MAGIC_US, 2 | 4u << 16, 0, 0,
                     w->snaplen, (uint32_t)w->linktype};
    return fwrite(h, sizeof h, 1, w->f) == 1 ? 0 : (errno ? errno : EIO);
}

static int put_record(writer *w, const unsigned char *b, size_t n,
                      int64_t sec, long nsec)
{
    uint32_t incl = n > w->snaplen ? w->snaplen : (uint32_t)n;
    uint32_t r[4] = {(uint32_t)sec,
                     (uint32_t)(w->nano ? nsec : nsec / 1000), incl,
                     (uint32_t)n};
    if (fwrite(r, sizeof r, 1, w->f) != 1 ||
        (incl && fwrite(b, incl, 1, w->f) != 1))
        return errno ? errno : EIO;
    w->count++;
    return 0;
}

static writer *checkwriter(lua_State *L, int idx)
{
    writer *w = luaL_checkudata(L, idx, WRITER_T);
    if (w->f == NULL)
        luaL_error(L, "attempt to use a closed pcap writer");
    return w;
}

/* core.writer(path, linktype|-1, nano, snaplen) -> writer | nil, msg, errno */
static int l_writer(lua_State *L)
{
    const char *path = vnet_checkname(L, 1, PATH_MAX - 1, "pcap.open", "path");
    lua_Integer lt = luaL_checkinteger(L, 2);
    int nano = lua_toboolean(L, 3);
    lua_Integer snap = luaL_optinteger(L, 4, 262144);
    luaL_argcheck(L, lt >= -1 && lt <= 0xffff, 2, "bad link type");
    luaL_argcheck(L, snap > 0 && snap <= 0x7fffffff, 4, "bad snaplen");
    writer *w = lua_newuserdatauv(L, sizeof *w, 0);
    memset(w, 0, sizeof *w);
    luaL_setmetatable(L, WRITER_T);
    w->linktype = (int)lt;
    w->nano = nano;
    w->snaplen = (uint32_t)snap;
    setname(w->name, path);
    if ((w->f = fopen(path, "wbe")) == NULL)
        return vnet_pusherr(L, "pcap.open", path, errno, NULL);
    int e = w->linktype >= 0 ? put_header(w) : 0;
    if (e)
        return vnet_pusherr(L, "pcap.open", path, e, NULL);
    return 1;
}

/* The time of arg idx (float seconds, or sec and nsec), or now. */
static void gettime(lua_State *L, int idx, int64_t *sec, long *nsec)
{
    if (lua_isnoneornil(L, idx)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        *sec = ts.tv_sec;
        *nsec = ts.tv_nsec;
    } else if (!lua_isnoneornil(L, idx + 1)) {
        *sec = luaL_checkinteger(L, idx);
        lua_Integer ns = luaL_checkinteger(L, idx + 1);
        luaL_argcheck(L, ns >= 0 && ns < 1000000000, idx + 1,
                      "nanoseconds out of range 0..999999999");
        *nsec = (long)ns;
    } else {
        double t = luaL_checknumber(L, idx);
        luaL_argcheck(L, t >= 0 && t < 4294967296.0, idx,
                      "time out of range");
        double s = floor(t);
        *sec = (int64_t)s;
        *nsec = lround((t - s) * 1e9);
        if (*nsec >= 1000000000) {
            (*sec)++;
            *nsec -= 1000000000;
        }
    }
    luaL_argcheck(L, *sec >= 0 && *sec <= 0xffffffff, idx,
                  "time out of range");
}

/* w:write(p | string [, time | sec, nsec]) -> true | nil, msg, errno */
static int w_write(lua_State *L)
{
    writer *w = checkwriter(L, 1);
    size_t n;
    const unsigned char *b = vnet_checkbytes(L, 2, &n);
    int64_t sec;
    long nsec;
    gettime(L, 3, &sec, &nsec);
    int e = 0;
    if (w->linktype < 0) {
        const vnet_packet *p = vnet_packet_test(L, 2);
        int link = p ? p->link : VNET_LINK_AUTO;
        if (link == VNET_LINK_AUTO)
            link = vnet_guess_link(b, n);
        w->linktype = link == VNET_LINK_ETH ? LT_ETHERNET : LT_RAW;
        e = put_header(w);
    }
    if (e == 0)
        e = put_record(w, b, n, sec, nsec);
    if (e)
        return vnet_pusherr(L, "pcap.write", w->name, e, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int w_flush(lua_State *L)
{
    writer *w = checkwriter(L, 1);
    if (fflush(w->f) != 0)
        return vnet_pusherr(L, "pcap.flush", w->name, errno, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int w_close(lua_State *L)
{
    writer *w = luaL_checkudata(L, 1, WRITER_T);
    int e = 0;
    if (w->f) {
        if (w->linktype < 0) { /* nothing written: an empty Ethernet file */
            w->linktype = LT_ETHERNET;
            e = put_header(w);
        }
        if (fclose(w->f) != 0 && e == 0)
            e = errno;
        w->f = NULL;
        if (e == 0)
            e = w->err;
    }
    if (e)
        return vnet_pusherr(L, "pcap.close", w->name, e, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int w_index(lua_State *L)
{
    writer *w = luaL_checkudata(L, 1, WRITER_T);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    const char *k = lua_tostring(L, 2);
    if (k == NULL) return 1;
    if (strcmp(k, "count") == 0) lua_pushinteger(L, w->count);
    else if (strcmp(k, "linktype") == 0) {
        if (w->linktype >= 0) lua_pushinteger(L, w->linktype);
        else lua_pushnil(L);
    } else if (strcmp(k, "nanosecond") == 0) lua_pushboolean(L, w->nano);
    else if (strcmp(k, "snaplen") == 0) lua_pushinteger(L, w->snaplen);
    else if (strcmp(k, "closed") == 0) lua_pushboolean(L, w->f == NULL);
    return 1;
}

static int w_tostring(lua_State *L)
{
    writer *w = luaL_checkudata(L, 1, WRITER_T);
    lua_pushfstring(L, "vnet.pcap.writer: %s (%I packets%s)", w->name,
                    w->count, w->f ? "" : ", closed");
    return 1;
}

/* ---- reading --------------------------------------------------------- */

static uint32_t get32(const reader *r, const unsigned char *b)
{
    uint32_t x;
    memcpy(&x, b, 4);
    return r->swap ? __builtin_bswap32(x) : x;
}

/* core.reader(path) -> reader | nil, msg, errno */
#define INITIAL_CAP 2048 /* an Ethernet frame with room; grown on demand */

/* Give the reader at ridx a new packet of cap bytes (its user value 1),
 * with the link type of the file. */
static void newpacket(lua_State *L, reader *r, uint32_t cap, int ridx)
{
    ridx = lua_absindex(L, ridx);
    r->p = vnet_packet_reused(L, cap);
    int lt = r->linktype;
    r->p->link = lt == LT_ETHERNET ? VNET_LINK_ETH
               : (lt == LT_RAW || lt == 228 || lt == 229 || lt == 12 ||
                  lt == 14) ? VNET_LINK_RAW : VNET_LINK_AUTO;
    lua_setiuservalue(L, ridx, 1);
}

static int l_reader(lua_State *L)
{
    const char *path = vnet_checkname(L, 1, PATH_MAX - 1, "pcap.open", "path");
    reader *r = lua_newuserdatauv(L, sizeof *r, 1);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, READER_T);
    setname(r->name, path);
    if ((r->f = fopen(path, "rbe")) == NULL)
        return vnet_pusherr(L, "pcap.open", path, errno, NULL);
    unsigned char h[24];
    size_t got = fread(h, 1, sizeof h, r->f);
    if (got != sizeof h) {
        int e = ferror(r->f) ? errno : 0;
        fclose(r->f);
        r->f = NULL;
        return vnet_pusherr(L, "pcap.open", path, e ? e : EINVAL,
                            e ? NULL : "not a pcap file: shorter than its "
                            "header");
    }
    uint32_t m;
    memcpy(&m, h, 4);
    if (m == MAGIC_US || m == MAGIC_NS) {
        r->nano = m == MAGIC_NS;
    } else if (__builtin_bswap32(m) == MAGIC_US ||
               __builtin_bswap32(m) == MAGIC_NS) {
        r->swap = 1;
        r->nano = __builtin_bswap32(m) == MAGIC_NS;
    } else {
        char d[80];
        snprintf(d, sizeof d, "not a pcap file: magic 0x%08x%s",
                 (unsigned)m, m == 0x0a0d0d0a ? " is pcapng, not read" : "");
        fclose(r->f);
        r->f = NULL;
        return vnet_pusherr(L, "pcap.open", path, EINVAL, d);
    }
    r->snaplen = get32(r, h + 16);
    r->linktype = (int)(get32(r, h + 20) & 0xffff);
    r->limit = r->snaplen < 262144 ? 262144 : r->snaplen;
    if (r->limit > MAX_CAP)
        r->limit = MAX_CAP;
    newpacket(L, r, INITIAL_CAP, -1);
    return 1;
}

/* Read the next record into the packet: pushes p, t, sec, nsec, orig_len
 * (5), or nothing at the end (0), or a message (-1). */
static int next(lua_State *L, reader *r, int ridx)
{
    unsigned char h[16];
    size_t got = fread(h, 1, sizeof h, r->f);
    if (got == 0 && !ferror(r->f))
        return 0;
    if (got != sizeof h) {
        lua_pushfstring(L, "pcap.read %s: truncated record header",
                        r->name);
        return -1;
    }
    uint32_t sec = get32(r, h), frac = get32(r, h + 4);
    uint32_t incl = get32(r, h + 8), orig = get32(r, h + 12);
    r->count++;
    if (incl > r->limit) {
        lua_pushfstring(L, "pcap.read %s: record of %I bytes is larger than"
                        " the snaplen (%I)", r->name, (lua_Integer)incl,
                        (lua_Integer)r->snaplen);
        return -1;
    }
    if (frac >= (r->nano ? 1000000000u : 1000000u)) {
        lua_pushfstring(L, "pcap.read %s: record %I: %s %I out of range "
                        "(0..%s)", r->name, r->count, r->nano ?
                        "nanoseconds" : "microseconds", (lua_Integer)frac,
                        r->nano ? "999999999" : "999999");
        return -1;
    }
    if (incl > r->p->cap) { /* grow by what the file holds, not its claim */
        struct stat st;
        long at = ftell(r->f);
        if (fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode) && at >= 0 &&
            st.st_size - at < (off_t)incl) {
            lua_pushfstring(L, "pcap.read %s: truncated record (%I bytes "
                            "expected)", r->name, (lua_Integer)incl);
            return -1;
        }
        uint32_t cap = (uint32_t)r->p->cap * 2;
        newpacket(L, r, incl > cap ? incl : cap > r->limit ? r->limit : cap,
                  ridx);
    }
    if (incl && fread(r->p->data, incl, 1, r->f) != 1) {
        lua_pushfstring(L, "pcap.read %s: truncated record (%I bytes "
                        "expected)", r->name, (lua_Integer)incl);
        return -1;
    }
    r->p->len = incl;
    long nsec = r->nano ? (long)frac : (long)frac * 1000;
    lua_getiuservalue(L, ridx, 1);
    lua_pushnumber(L, (double)sec + (double)nsec / 1e9);
    lua_pushinteger(L, sec);
    lua_pushinteger(L, nsec);
    lua_pushinteger(L, orig);
    return 5;
}

static reader *checkreader(lua_State *L, int idx)
{
    reader *r = luaL_checkudata(L, idx, READER_T);
    if (r->f == NULL)
        luaL_error(L, "attempt to use a closed pcap reader");
    return r;
}

/* r:read() -> p, time, sec, nsec, orig_len | nil (end) | nil, msg */
static int r_read(lua_State *L)
{
    reader *r = checkreader(L, 1);
    int n = next(L, r, 1);
    if (n >= 0)
        return n ? n : (lua_pushnil(L), 1);
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static int r_iter(lua_State *L)
{
    reader *r = checkreader(L, lua_upvalueindex(1));
    int n = next(L, r, lua_upvalueindex(1));
    if (n < 0)
        return lua_error(L);
    return n;
}

/* r:packets() -> iterator of p, time, sec, nsec, orig_len; raises on a
 * corrupt file. */
static int r_packets(lua_State *L)
{
    checkreader(L, 1);
    lua_settop(L, 1);
    lua_pushcclosure(L, r_iter, 1);
    return 1;
}

static int r_close(lua_State *L)
{
    reader *r = luaL_checkudata(L, 1, READER_T);
    if (r->f) {
        fclose(r->f);
        r->f = NULL;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int r_index(lua_State *L)
{
    reader *r = luaL_checkudata(L, 1, READER_T);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    const char *k = lua_tostring(L, 2);
    if (k == NULL) return 1;
    if (strcmp(k, "linktype") == 0) lua_pushinteger(L, r->linktype);
    else if (strcmp(k, "nanosecond") == 0) lua_pushboolean(L, r->nano);
    else if (strcmp(k, "snaplen") == 0) lua_pushinteger(L, r->snaplen);
    else if (strcmp(k, "swapped") == 0) lua_pushboolean(L, r->swap);
    else if (strcmp(k, "closed") == 0) lua_pushboolean(L, r->f == NULL);
    return 1;
}

static int r_tostring(lua_State *L)
{
    reader *r = luaL_checkudata(L, 1, READER_T);
    lua_pushfstring(L, "vnet.pcap.reader: %s%s", r->name,
                    r->f ? "" : " (closed)");
    return 1;
}

/* ---- device capture -------------------------------------------------- */

static const char CAPS_KEY = 'c'; /* registry: weak-keyed dev -> writer */

static void capture_hook(void *ctx, const unsigned char *b, size_t n,
                         int out, const struct timespec *when)
{
    writer *w = ctx;
    (void)out;
    if (w->f == NULL || w->err)
        return;
    struct timespec ts;
    if (when)
        ts = *when;
    else
        clock_gettime(CLOCK_REALTIME, &ts);
    w->err = put_record(w, b, n, ts.tv_sec, ts.tv_nsec);
}

/* core.capture(dev, writer | nil): record every packet dev reads or
 * writes into writer (whose link type follows the device), or stop. */
static int l_capture(lua_State *L)
{
    vnet_dev *d = vnet_dev_check(L, 1);
    writer *w = lua_isnoneornil(L, 2) ? NULL : checkwriter(L, 2);
    if (w && w->linktype < 0) {
        w->linktype = d->kind == VNET_DEV_TAP ? LT_ETHERNET : LT_RAW;
        int e = put_header(w);
        if (e)
            return vnet_pusherr(L, "pcap.write", w->name, e, NULL);
    }
    d->capture = w ? capture_hook : NULL;
    d->capture_ctx = w;
    /* the writer lives as long as the device uses it */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &CAPS_KEY);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_rawset(L, -3);
    lua_pushboolean(L, 1);
    return 1;
}

/* core.capturing(dev) -> the writer dev records into, or nil */
static int l_capturing(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &CAPS_KEY);
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    return 1;
}

static void newclass(lua_State *L, const char *name, const luaL_Reg *meta,
                     const luaL_Reg *methods, lua_CFunction index)
{
    vnet_newclass(L, name, meta, methods, index);
    lua_pop(L, 1);
}

int luaopen_vnet_pcap_core(lua_State *L)
{
    static const luaL_Reg wmeta[] = {
        {"__gc", w_close}, {"__close", w_close}, {"__tostring", w_tostring},
        {NULL, NULL}
    };
    static const luaL_Reg wmethods[] = {
        {"write", w_write}, {"flush", w_flush}, {"close", w_close},
        {NULL, NULL}
    };
    static const luaL_Reg rmeta[] = {
        {"__gc", r_close}, {"__close", r_close}, {"__tostring", r_tostring},
        {NULL, NULL}
    };
    static const luaL_Reg rmethods[] = {
        {"read", r_read}, {"packets", r_packets}, {"close", r_close},
        {NULL, NULL}
    };
    static const luaL_Reg funcs[] = {
        {"writer", l_writer}, {"reader", l_reader}, {"capture", l_capture},
        {"capturing", l_capturing}, {NULL, NULL}
    };
    luaL_requiref(L, "vnet.proto.core", luaopen_vnet_proto_core, 0);
    lua_pop(L, 1);
    newclass(L, WRITER_T, wmeta, wmethods, w_index);
    newclass(L, READER_T, rmeta, rmethods, r_index);
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &CAPS_KEY) != LUA_TTABLE) {
        lua_newtable(L);
        lua_newtable(L);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &CAPS_KEY);
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    lua_pushinteger(L, LT_ETHERNET);
    lua_setfield(L, -2, "ETHERNET");
    lua_pushinteger(L, LT_RAW);
    lua_setfield(L, -2, "RAW");
    return 1;
}
