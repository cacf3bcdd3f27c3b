/*
 * packet.c - vnet.packet.core: a byte buffer for one packet.
 *
 * Offsets given to the accessors (u8, u16, u32 and their setters, put) are
 * 0-based byte offsets, as in protocol diagrams: p:u8(9) is the IPv4
 * protocol field. p:sub(i, j) follows string.sub exactly (1-based,
 * inclusive, negative from the end), so p:sub() == the bytes as a string.
 *
 * A packet owns its storage: HEADROOM spare bytes, then `cap` bytes. The
 * packet a device hands to a callback is one reused object per device,
 * whose data may point into the device's read-ahead slots instead
 * (io/iobatch.c: in place, until the next packet).
 */
#include <string.h>

#include "packet/packet.h"

static const char packet_tag; /* vnet_testudata's tag of the class */

/* The user values hold vnet.proto's header views (proto.c), one per kind,
 * made on first use and re-pointed after. */
vnet_packet *vnet_packet_new(lua_State *L, size_t cap)
{
    vnet_packet *p = lua_newuserdatauv(L, sizeof *p + VNET_HEADROOM + cap,
                                       VNET_PACKET_VIEWS);
    p->tag = &packet_tag;
    p->data = p->store + VNET_HEADROOM;
    p->len = 0;
    p->cap = cap;
    p->pi_flags = p->pi_proto = -1;
    p->vh_flags = p->gso_type = 0;
    p->hdr_len = p->gso_size = p->csum_start = p->csum_offset = 0;
    p->link = VNET_LINK_AUTO;
    p->lazy = 0;
    luaL_setmetatable(L, VNET_PACKET_T);
    return p;
}

vnet_packet *vnet_packet_reused(lua_State *L, size_t cap)
{
    vnet_packet *p = vnet_packet_new(L, cap);
    vnet_own_metatable(L, VNET_PACKET_T, &packet_tag);
    return p;
}

vnet_packet *vnet_packet_test(lua_State *L, int idx)
{
    return vnet_testudata(L, idx, &packet_tag, sizeof(vnet_packet));
}

/* A packet argument, as it is: for what reads none of its bytes */
static vnet_packet *packet_arg(lua_State *L, int idx)
{
    return vnet_checkudata(L, idx, VNET_PACKET_T, &packet_tag,
                           sizeof(vnet_packet));
}

vnet_packet *vnet_packet_check(lua_State *L, int idx)
{
    return vnet_packet_settle(packet_arg(L, idx));
}

void vnet_packet_finish(vnet_packet *p)
{
    if (p->vh_flags & VNET_NEEDS_CSUM)
        vnet_csum_complete(p->data, p->len, p->csum_start, p->csum_offset);
    p->vh_flags = VNET_DATA_VALID; /* computed just now */
    p->lazy = 0;
}

const unsigned char *vnet_checkbytes(lua_State *L, int idx, size_t *len)
{
    vnet_packet *p = vnet_packet_settle(vnet_packet_test(L, idx));
    if (p) {
        *len = p->len;
        return p->data;
    }
    if (lua_type(L, idx) != LUA_TSTRING)
        luaL_typeerror(L, idx, "packet or string");
    return (const unsigned char *)lua_tolstring(L, idx, len);
}

/* The method being called ("u8" for p:u8(...)), for errors: looked up only
 * when an argument is bad, so the accessors pay nothing for it. */
static const char *method(lua_State *L)
{
    lua_Debug ar;
    if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.name)
        return ar.name;
    return "?";
}

/* An integer argument, or an error naming the method and the argument,
 * raised at the caller's line (vnet_error). */
static lua_Integer checkint(lua_State *L, int arg, const char *what)
{
    int isint;
    lua_Integer v = lua_tointegerx(L, arg, &isint);
    if (!isint)
        vnet_error(L, "packet:%s: %s must be an integer (got %s)", method(L),
                   what, lua_type(L, arg) == LUA_TNUMBER
                             ? lua_tostring(L, arg) : luaL_typename(L, arg));
    return v;
}

/* Offset argument `arg` with `width` bytes readable in a packet of len. */
static size_t checkoff(lua_State *L, vnet_packet *p, int arg, size_t width,
                       size_t limit)
{
    lua_Integer off = checkint(L, arg, "offset");
    if (off < 0 || (size_t)off > limit || limit - (size_t)off < width)
        vnet_error(L, "packet:%s: offset %I out of range (%d-byte access, "
                   "packet length %I)", method(L), off, (int)width,
                   (lua_Integer)p->len);
    return (size_t)off;
}

static int p_u8(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    lua_pushinteger(L, p->data[checkoff(L, p, 2, 1, p->len)]);
    return 1;
}

static int p_u16(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    const unsigned char *b = p->data + checkoff(L, p, 2, 2, p->len);
    lua_pushinteger(L, (b[0] << 8) | b[1]);
    return 1;
}

static int p_u32(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    const unsigned char *b = p->data + checkoff(L, p, 2, 4, p->len);
    lua_pushinteger(L, ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
                           ((uint32_t)b[2] << 8) | b[3]);
    return 1;
}

static lua_Integer checkval(lua_State *L, int arg, lua_Integer max)
{
    lua_Integer v = checkint(L, arg, "value");
    if (v < 0 || v > max)
        vnet_error(L, "packet:%s: value %I out of range 0..%I", method(L),
                   v, max);
    return v;
}

static int p_set_u8(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    p->vh_flags &= (uint8_t)~VNET_DATA_VALID; /* bytes change */
    size_t off = checkoff(L, p, 2, 1, p->len);
    p->data[off] = (unsigned char)checkval(L, 3, 0xff);
    return 0;
}

static int p_set_u16(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    p->vh_flags &= (uint8_t)~VNET_DATA_VALID; /* bytes change */
    unsigned char *b = p->data + checkoff(L, p, 2, 2, p->len);
    lua_Integer v = checkval(L, 3, 0xffff);
    b[0] = (unsigned char)(v >> 8);
    b[1] = (unsigned char)v;
    return 0;
}

static int p_set_u32(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    p->vh_flags &= (uint8_t)~VNET_DATA_VALID; /* bytes change */
    unsigned char *b = p->data + checkoff(L, p, 2, 4, p->len);
    lua_Integer v = checkval(L, 3, 0xffffffff);
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
    return 0;
}

/* p:put(off, s): copy bytes (string or packet) in at off, growing the
 * packet when they run past its end (up to its capacity). */
static int p_put(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    p->vh_flags &= (uint8_t)~VNET_DATA_VALID; /* bytes change */
    size_t n;
    const unsigned char *s = vnet_checkbytes(L, 3, &n);
    size_t off = checkoff(L, p, 2, n, p->cap);
    if (off > p->len)
        memset(p->data + p->len, 0, off - p->len);
    memmove(p->data + off, s, n);
    if (off + n > p->len)
        p->len = off + n;
    return 0;
}

/* p:resize(n): set the length; new bytes are zero. */
static int p_resize(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    p->vh_flags &= (uint8_t)~VNET_DATA_VALID; /* bytes change */
    lua_Integer n = checkint(L, 2, "length");
    if (n < 0 || (size_t)n > p->cap)
        return vnet_error(L, "packet:resize: length %I out of range (0 to "
                          "the capacity, %I)", n, (lua_Integer)p->cap);
    if ((size_t)n > p->len)
        memset(p->data + p->len, 0, (size_t)n - p->len);
    p->len = (size_t)n;
    return 0;
}

/* string.sub's index rules */
static int p_sub(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    lua_Integer l = (lua_Integer)p->len;
    lua_Integer i = lua_isnoneornil(L, 2) ? 1 : checkint(L, 2, "start");
    lua_Integer j = lua_isnoneornil(L, 3) ? -1 : checkint(L, 3, "end");
    if (i < 0) i = (i < -l) ? 1 : l + i + 1;
    else if (i == 0) i = 1;
    if (j < 0) j = l + j + 1;
    else if (j > l) j = l;
    if (i > j)
        lua_pushliteral(L, "");
    else
        lua_pushlstring(L, (const char *)p->data + i - 1, (size_t)(j - i + 1));
    return 1;
}

/* A hexdump: offset, 16 bytes in hex, then the printable characters. */
static int p_hex(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    static const char hx[] = "0123456789abcdef";
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t row = 0; row < p->len; row += 16) {
        char line[80];
        int n = snprintf(line, sizeof line, "%04zx  ", row);
        for (size_t k = 0; k < 16; k++) {
            if (row + k < p->len) {
                unsigned char c = p->data[row + k];
                line[n++] = hx[c >> 4];
                line[n++] = hx[c & 15];
            } else {
                line[n++] = ' ';
                line[n++] = ' ';
            }
            line[n++] = ' ';
            if (k == 7) line[n++] = ' ';
        }
        line[n++] = ' ';
        for (size_t k = 0; k < 16 && row + k < p->len; k++) {
            unsigned char c = p->data[row + k];
            line[n++] = (c >= 32 && c < 127) ? (char)c : '.';
        }
        if (row + 16 < p->len) line[n++] = '\n';
        luaL_addlstring(&b, line, (size_t)n);
    }
    luaL_pushresult(&b);
    return 1;
}

/* p:csum(off, len) -> the Internet checksum (RFC 1071) of len bytes from
 * off, ready to store: a range holding its own correct checksum gives 0. */
static int p_csum(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    size_t off = checkoff(L, p, 2, 0, p->len);
    lua_Integer n = lua_isnoneornil(L, 3) ? (lua_Integer)(p->len - off)
                                          : checkint(L, 3, "length");
    if (n < 0 || (size_t)n > p->len - off)
        return vnet_error(L, "packet:csum: %I bytes from offset %I run past "
                          "the end (length %I)", n, (lua_Integer)off,
                          (lua_Integer)p->len);
    const unsigned char *b = p->data + off;
    uint64_t sum = 0;
    size_t i = 0;
    for (; i + 1 < (size_t)n; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (i < (size_t)n)
        sum += (uint32_t)(b[i] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    lua_pushinteger(L, (lua_Integer)(~sum & 0xffff));
    return 1;
}

static int p_copy(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    vnet_packet *q = vnet_packet_new(L, p->len > 2048 ? p->len : 2048);
    memcpy(q->data, p->data, p->len);
    q->len = p->len;
    q->link = p->link;
    q->pi_flags = p->pi_flags;
    q->pi_proto = p->pi_proto;
    q->vh_flags = p->vh_flags;
    q->gso_type = p->gso_type;
    q->hdr_len = p->hdr_len;
    q->gso_size = p->gso_size;
    q->csum_start = p->csum_start;
    q->csum_offset = p->csum_offset;
    return 1;
}

static int p_len(lua_State *L) /* reads no bytes: settles nothing */
{
    lua_pushinteger(L, (lua_Integer)packet_arg(L, 1)->len);
    return 1;
}

static int p_eq(lua_State *L)
{
    vnet_packet *a = vnet_packet_settle(vnet_packet_test(L, 1));
    vnet_packet *b = vnet_packet_settle(vnet_packet_test(L, 2));
    lua_pushboolean(L, a && b && a->len == b->len &&
                           memcmp(a->data, b->data, a->len) == 0);
    return 1;
}

static int p_tostring(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    lua_pushfstring(L, "vnet.packet: %I bytes", (lua_Integer)p->len);
    return 1;
}

/* Fields beside the methods: the packet-information header of a TUN/TAP
 * opened with pi = true (nil otherwise), and the capacity. */
static int p_index(lua_State *L)
{
    lua_pushvalue(L, 2); /* methods first: the hot path checks nothing */
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    vnet_packet *p = vnet_packet_check(L, 1);
    const char *k = lua_tostring(L, 2);
    if (k == NULL)
        return 1;
    if (strcmp(k, "pi_flags") == 0) {
        if (p->pi_flags >= 0) lua_pushinteger(L, p->pi_flags);
        else lua_pushnil(L);
    } else if (strcmp(k, "pi_proto") == 0) {
        if (p->pi_proto >= 0) lua_pushinteger(L, p->pi_proto);
        else lua_pushnil(L);
    } else if (strcmp(k, "capacity") == 0) {
        lua_pushinteger(L, (lua_Integer)p->cap);
    } else if (strcmp(k, "gso_type") == 0) {
        switch (p->gso_type & ~VNET_GSO_ECN) {
        case VNET_GSO_TCPV4: lua_pushliteral(L, "tcpv4"); break;
        case VNET_GSO_TCPV6: lua_pushliteral(L, "tcpv6"); break;
        case VNET_GSO_UDP_L4: lua_pushliteral(L, "udp"); break;
        default: lua_pushnil(L);
        }
    } else if (strcmp(k, "needs_csum") == 0) {
        lua_pushboolean(L, p->vh_flags & VNET_NEEDS_CSUM);
    } else if (p->gso_type || (p->vh_flags & VNET_NEEDS_CSUM)) {
        if (strcmp(k, "gso_size") == 0) lua_pushinteger(L, p->gso_size);
        else if (strcmp(k, "hdr_len") == 0) lua_pushinteger(L, p->hdr_len);
        else if (strcmp(k, "csum_start") == 0) lua_pushinteger(L, p->csum_start);
        else if (strcmp(k, "csum_offset") == 0) lua_pushinteger(L, p->csum_offset);
        else if (strcmp(k, "segments") == 0) lua_pushinteger(L, vnet_gso_count(p));
    }
    return 1;
}

/* The virtio_net_hdr fields are settable, to build superpackets by hand. */
static int set_vh(lua_State *L, vnet_packet *p, const char *k)
{
    if (strcmp(k, "gso_type") == 0) {
        static const char *const types[] = {"none", "tcpv4", "tcpv6", "udp", NULL};
        static const uint8_t codes[] = {0, VNET_GSO_TCPV4, VNET_GSO_TCPV6,
                                        VNET_GSO_UDP_L4};
        p->gso_type = lua_isnil(L, 3) ? 0 : codes[luaL_checkoption(L, 3, NULL, types)];
    } else if (strcmp(k, "needs_csum") == 0) {
        p->vh_flags = lua_toboolean(L, 3) ? VNET_NEEDS_CSUM : 0;
    } else if (strcmp(k, "gso_size") == 0) {
        p->gso_size = (uint16_t)checkval(L, 3, 0xffff);
    } else if (strcmp(k, "hdr_len") == 0) {
        p->hdr_len = (uint16_t)checkval(L, 3, 0xffff);
    } else if (strcmp(k, "csum_start") == 0) {
        p->csum_start = (uint16_t)checkval(L, 3, 0xffff);
    } else if (strcmp(k, "csum_offset") == 0) {
        p->csum_offset = (uint16_t)checkval(L, 3, 0xffff);
    } else {
        return 0;
    }
    return 1;
}

static int p_newindex(lua_State *L)
{
    vnet_packet *p = vnet_packet_check(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (set_vh(L, p, k))
        return 0;
    int *field = strcmp(k, "pi_flags") == 0 ? &p->pi_flags
               : strcmp(k, "pi_proto") == 0 ? &p->pi_proto : NULL;
    if (field == NULL)
        return vnet_error(L, "packet: no settable field '%s'", k);
    *field = lua_isnil(L, 3) ? -1 : (int)checkval(L, 3, 0xffff);
    return 0;
}

/* packet.new(s | size) */
static int p_new(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, 1, &n);
        vnet_packet *p = vnet_packet_new(L, n > 2048 ? n : 2048);
        memcpy(p->data, s, n);
        p->len = n;
        return 1;
    }
    int isint;
    lua_Integer n = lua_tointegerx(L, 1, &isint);
    if (!isint || n < 0 || n > 16 * 1024 * 1024)
        return vnet_error(L, "packet.new: size must be an integer from 0 to "
                          "16 MiB (got %s)", lua_type(L, 1) == LUA_TNUMBER
                          ? lua_tostring(L, 1) : luaL_typename(L, 1));
    vnet_packet *p = vnet_packet_new(L, n > 2048 ? (size_t)n : 2048);
    memset(p->data, 0, (size_t)n);
    p->len = (size_t)n;
    return 1;
}

static int p_is(lua_State *L)
{
    lua_pushboolean(L, vnet_packet_test(L, 1) != NULL);
    return 1;
}

static const luaL_Reg meta[] = {
    {"__len", p_len},
    {"__eq", p_eq},
    {"__tostring", p_tostring},
    {"__newindex", p_newindex},
    {NULL, NULL}
};

static const luaL_Reg methods[] = {
    {"u8", p_u8}, {"u16", p_u16}, {"u32", p_u32},
    {"set_u8", p_set_u8}, {"set_u16", p_set_u16}, {"set_u32", p_set_u32},
    {"put", p_put}, {"resize", p_resize},
    {"sub", p_sub}, {"hex", p_hex}, {"copy", p_copy}, {"csum", p_csum},
    {NULL, NULL}
};

int luaopen_vnet_packet_core(lua_State *L)
{
    luaL_Reg funcs[] = {{"new", p_new}, {"is", p_is}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    vnet_newclass(L, VNET_PACKET_T, meta, methods, p_index);
    vnet_proxy_class(L, VNET_PACKET_T, &packet_tag, p_index);
    lua_setfield(L, -2, "methods");
    lua_pushinteger(L, VNET_HEADROOM);
    lua_setfield(L, -2, "HEADROOM");
    return 1;
}
