/*
 * util.c - the error convention and small helpers every core module uses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

int vnet_pusherr(lua_State *L, const char *op, const char *obj, int err,
                 const char *detail)
{
    luaL_Buffer b;
    lua_pushnil(L);
    luaL_buffinit(L, &b);
    luaL_addstring(&b, op);
    if (obj && *obj) {
        luaL_addchar(&b, ' ');
        luaL_addstring(&b, obj);
    }
    luaL_addstring(&b, ": ");
    luaL_addstring(&b, strerror(err));
    if (detail && *detail) {
        luaL_addstring(&b, " (");
        luaL_addstring(&b, detail);
        luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
    lua_pushinteger(L, err);
    return 3;
}

int vnet_msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)",
                              luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int vnet_tofd(lua_State *L, int idx)
{
    int fd;
    idx = lua_absindex(L, idx);
    if (lua_isinteger(L, idx)) {
        lua_Integer n = lua_tointeger(L, idx);
        luaL_argcheck(L, n >= 0 && n <= 0x7fffffff, idx, "not a valid fd");
        return (int)n;
    }
    luaL_Stream *s = luaL_testudata(L, idx, LUA_FILEHANDLE);
    if (s) {
        luaL_argcheck(L, s->closef != NULL && s->f != NULL, idx,
                      "attempt to use a closed file");
        return fileno(s->f);
    }
    if (luaL_getmetafield(L, idx, "__index") != LUA_TNIL) {
        lua_pop(L, 1);
        lua_getfield(L, idx, "fileno");
        if (lua_isfunction(L, -1)) {
            lua_pushvalue(L, idx);
            lua_call(L, 1, 1);
            if (!lua_isinteger(L, -1))
                luaL_argerror(L, idx, ":fileno() did not return an integer");
            fd = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
            return fd;
        }
        lua_pop(L, 1);
    }
    return luaL_typeerror(L, idx, "fd, file or object with :fileno()");
}

void vnet_newclass(lua_State *L, const char *tname, const luaL_Reg *meta,
                   const luaL_Reg *methods, lua_CFunction index_fn)
{
    luaL_newmetatable(L, tname);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);                   /* the method table */
    luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "methods");    /* metatable.methods */
    lua_pushvalue(L, -1);
    if (index_fn)                      /* fields as well as methods */
        lua_pushcclosure(L, index_fn, 1);
    lua_setfield(L, -3, "__index");
    lua_remove(L, -2);                 /* leave the method table */
}

/* A proxy's __index: the class's index function, with the object in place
 * of the proxy. Upvalues: the method table (index_fn's upvalue 1), the
 * tag, index_fn. */
static int proxied(lua_State *L)
{
    lua_rawgetp(L, 1, lua_touserdata(L, lua_upvalueindex(2)));
    lua_replace(L, 1);
    return lua_tocfunction(L, lua_upvalueindex(3))(L);
}

/* The class's proxy metatable lives in the registry under its tag. */
void vnet_proxy_class(lua_State *L, const char *tname, const void *tag,
                      lua_CFunction index_fn)
{
    lua_createtable(L, 0, 1);
    luaL_getmetatable(L, tname);
    lua_getfield(L, -1, "methods");
    lua_remove(L, -2);
    lua_pushlightuserdata(L, (void *)tag);
    lua_pushcfunction(L, index_fn);
    lua_pushcclosure(L, proxied, 3);
    lua_setfield(L, -2, "__index");
    lua_rawsetp(L, LUA_REGISTRYINDEX, tag);
}

/* Pop the table on top into the table at t: t[k] = v for its pairs. */
static void merge(lua_State *L, int t)
{
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, t);
    }
    lua_pop(L, 1);
}

void vnet_own_metatable(lua_State *L, const char *tname, const void *tag)
{
    int obj = lua_gettop(L);
    lua_createtable(L, 0, 8);                  /* obj+1: its metatable */
    luaL_getmetatable(L, tname);
    lua_getfield(L, -1, "methods");
    lua_insert(L, -2);
    merge(L, obj + 1);                         /* the class's entries */
    lua_createtable(L, 0, 32);                 /* the proxy */
    lua_insert(L, -2);
    merge(L, obj + 2);                         /* the methods */
    lua_pushvalue(L, obj);
    lua_rawsetp(L, -2, tag);
    lua_rawgetp(L, LUA_REGISTRYINDEX, tag);
    lua_setmetatable(L, -2);
    lua_setfield(L, obj + 1, "__index");
    lua_setmetatable(L, obj);
}

/* ---- misuse errors at the user's line, and range checks ------------- */

/* A chunk of vnet's own Lua modules: "@.../vnet/<ident>.lua" (embedded as
 * "@lua/vnet/tun.lua", installed as "@/usr/share/lua/5.4/vnet/tun.lua")
 * whose module vnet.<ident> (vnet for init) is loaded, so that a user's
 * own scripts/vnet/x.lua is not taken for one. */
static int own_chunk(lua_State *L, const char *src)
{
    size_t n = strlen(src);
    if (src[0] != '@' || n < 10 || strcmp(src + n - 4, ".lua") != 0)
        return 0;
    const char *base = strrchr(src, '/');
    if (base == NULL || base - src < 5 || memcmp(base - 4, "vnet", 4) != 0 ||
        (base[-5] != '/' && base[-5] != '@'))
        return 0;
    for (const char *p = base + 1; p < src + n - 4; p++)
        if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return 0;
    size_t len = (size_t)(src + n - 4 - (base + 1));
    int top = lua_gettop(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (len == 4 && memcmp(base + 1, "init", 4) == 0) {
        lua_pushliteral(L, "vnet");
    } else {
        lua_pushliteral(L, "vnet.");
        lua_pushlstring(L, base + 1, len);
        lua_concat(L, 2);
    }
    int own = lua_rawget(L, top + 1) != LUA_TNIL;
    lua_settop(L, top);
    return own;
}

void vnet_where(lua_State *L)
{
    lua_Debug ar;
    for (int lvl = 1; lua_getstack(L, lvl, &ar); lvl++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0 && !own_chunk(L, ar.source)) {
            lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
    }
    lua_pushliteral(L, "");
}

int vnet_error(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    vnet_where(L);
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 2);
    return lua_error(L);
}

lua_Integer vnet_checkrange(lua_State *L, int idx, const char *op,
                            const char *what, lua_Integer lo, lua_Integer hi)
{
    int isint;
    lua_Integer v = lua_tointegerx(L, idx, &isint);
    if (!isint) {
        if (lua_type(L, idx) == LUA_TNUMBER)
            vnet_error(L, "%s: %s must be an integer (got %s)", op, what,
                       lua_tostring(L, idx));
        vnet_error(L, "%s: %s must be an integer (got %s)", op, what,
                   luaL_typename(L, idx));
    }
    if (v < lo || v > hi)
        vnet_error(L, "%s: %s %I out of range (%I to %I)", op, what, v, lo, hi);
    return v;
}

lua_Integer vnet_optfield(lua_State *L, int idx, const char *key,
                          const char *op, const char *obj, lua_Integer lo,
                          lua_Integer hi, lua_Integer dflt)
{
    if (lua_getfield(L, idx, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return dflt;
    }
    lua_pushfstring(L, obj && *obj ? "%s %s" : "%s", op, obj);
    lua_pushfstring(L, "option '%s'", key);
    lua_Integer v = vnet_checkrange(L, -3, lua_tostring(L, -2),
                                    lua_tostring(L, -1), lo, hi);
    lua_pop(L, 3);
    return v;
}

int vnet_checkifindex(lua_State *L, int idx, const char *op)
{
    return (int)vnet_checkrange(L, idx, op, "ifindex", 1, 0x7fffffff);
}

uint32_t vnet_checkid(lua_State *L, int idx, const char *op, const char *what)
{
    /* (uid_t)-1 means "unchanged" to chown and TUNSETOWNER: refuse it too */
    return (uint32_t)vnet_checkrange(L, idx, op, what, 0, 0xfffffffe);
}

const char *vnet_checkname(lua_State *L, int idx, size_t maxlen,
                           const char *op, const char *what)
{
    size_t len;
    if (lua_type(L, idx) != LUA_TSTRING)
        vnet_error(L, "%s: %s must be a string (got %s)", op, what,
                   luaL_typename(L, idx));
    const char *s = lua_tolstring(L, idx, &len);
    if (strlen(s) != len)
        vnet_error(L, "%s: %s '%s' contains a NUL byte", op, what,
                   vnet_shown(L, s, len));
    if (len == 0 || len > maxlen)
        vnet_error(L, "%s: %s '%s' is %d bytes (1 to %d allowed)", op, what,
                   s, (int)len, (int)maxlen);
    return s;
}

const char *vnet_shown(lua_State *L, const char *s, size_t len)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0')
            luaL_addstring(&b, "\\0");
        else
            luaL_addchar(&b, s[i]);
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

static int l_raise(lua_State *L)
{
    luaL_checkstring(L, 1);
    vnet_where(L);
    lua_pushvalue(L, 1);
    lua_concat(L, 2);
    return lua_error(L);
}

static int l_where(lua_State *L)
{
    vnet_where(L);
    return 1;
}

void vnet_err_funcs(lua_State *L)
{
    lua_pushcfunction(L, l_raise);
    lua_setfield(L, -2, "raise");
    lua_pushcfunction(L, l_where);
    lua_setfield(L, -2, "where");
}

uint64_t vnet_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double vnet_now(void)
{
    return (double)vnet_now_ns() / 1e9;
}
